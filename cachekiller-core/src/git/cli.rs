//! The reader of last resort: the `git` executable, which reads every repository git can make
//! (reftable, SHA-256) and honours every variable git honours. A handful of short processes,
//! once per crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{GitCheckout, GitHead, ReadFailure};
use crate::environment::GitEnvironment;

/// Runs `git args…` in `start` with the repository variables of `environment` (absolute) and
/// messages in English, so that they can be recognised.
fn git(start: &Path, environment: &GitEnvironment, args: &[&str]) -> Result<Output, ReadFailure> {
    let mut command = Command::new("git");
    command.args(args).current_dir(start).env("LC_ALL", "C");
    for name in crate::environment::GIT_VARIABLES {
        command.env_remove(name);
    }
    command.envs(environment.variables());
    command.output().map_err(|error| {
        ReadFailure::Unreadable(format!(
            "cannot run the `git` executable ({error}); install git, or set CACHEKILLER_TAG"
        ))
    })
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn failure(output: &Output) -> ReadFailure {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .lines()
        .map(|line| line.trim_start_matches("fatal: ").trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if message.contains("not a git repository (or any") {
        return ReadFailure::NotFound;
    }
    // "detected dubious ownership in repository at '/path'"
    if let Some(rest) = message.split("dubious ownership in repository at '").nth(1) {
        if let Some(path) = rest.split('\'').next() {
            return ReadFailure::NotOwned {
                path: PathBuf::from(path),
            };
        }
    }
    ReadFailure::Unreadable(message)
}

/// Reads the checkout enclosing `start`, or the one the variables name.
pub(super) fn read(start: &Path, environment: &GitEnvironment) -> Result<GitCheckout, ReadFailure> {
    // One process for the directories; `--show-toplevel` fails (after printing the rest) where
    // there is no work tree, as in a bare repository.
    let directories = git(
        start,
        environment,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
            "--show-toplevel",
        ],
    )?;
    let lines = stdout_lines(&directories);
    let no_work_tree = !directories.status.success()
        && String::from_utf8_lossy(&directories.stderr).contains("must be run in a work tree");
    let (git_dir, common_dir, work_tree) = match &lines[..] {
        [git_dir, common_dir, top] if directories.status.success() => {
            (git_dir, common_dir, Some(PathBuf::from(top)))
        }
        [git_dir, common_dir] if no_work_tree => {
            (git_dir, common_dir, environment.work_tree.clone())
        }
        _ if !directories.status.success() => return Err(failure(&directories)),
        _ => {
            return Err(ReadFailure::Unreadable(format!(
                "unexpected output of `git rev-parse`: {lines:?}"
            )))
        }
    };

    // Exit status 1: HEAD is detached (symbolic-ref) or has no commit yet (rev-parse).
    let branch = git(start, environment, &["symbolic-ref", "-q", "HEAD"])?;
    let ref_name = match branch.status.code() {
        Some(0) => stdout_lines(&branch).into_iter().next(),
        Some(1) => None,
        _ => return Err(failure(&branch)),
    };
    let commit = git(
        start,
        environment,
        &["rev-parse", "-q", "--verify", "HEAD^{commit}"],
    )?;
    let id_hex = match commit.status.code() {
        Some(0) => stdout_lines(&commit).into_iter().next(),
        Some(1) => None,
        _ => return Err(failure(&commit)),
    };
    let head = match (ref_name, id_hex) {
        (Some(ref_name), id_hex) => GitHead::Branch { ref_name, id_hex },
        (None, Some(id_hex)) => GitHead::Detached { id_hex },
        (None, None) => {
            return Err(ReadFailure::Unreadable(
                "HEAD does not resolve to a commit".to_owned(),
            ))
        }
    };
    Ok(GitCheckout {
        git_dir: PathBuf::from(git_dir),
        common_dir: PathBuf::from(common_dir),
        work_tree,
        head,
    })
}

/// `core.logAllRefUpdates` as written, `None` if unset.
pub(super) fn log_all_ref_updates(
    start: &Path,
    environment: &GitEnvironment,
) -> Result<Option<String>, String> {
    let output = git(
        start,
        environment,
        &["config", "--get", "core.logAllRefUpdates"],
    )
    .map_err(|failure| format!("{failure:?}"))?;
    match output.status.code() {
        Some(0) => Ok(stdout_lines(&output).into_iter().next()),
        Some(1) => Ok(None),
        _ => Err(String::from_utf8_lossy(&output.stderr).trim().to_owned()),
    }
}
