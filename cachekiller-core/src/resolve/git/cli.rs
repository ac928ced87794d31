//! The reader of last resort: the `git` executable, which reads every repository git can make
//! (reftable, SHA-256) and honours every variable git honours. One `git rev-parse` per crate
//! in the common case.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{CommittedEntries, GitCheckout, GitHead, ReadFailure};
use crate::resolve::environment::GitEnvironment;
use crate::rules::hash::from_hex;

/// Runs `git args…` in `start` with the repository variables of `environment` (absolute) and
/// messages in English, so that they can be recognised.
fn git(start: &Path, environment: &GitEnvironment, args: &[&str]) -> Result<Output, ReadFailure> {
    let mut command = Command::new("git");
    command.args(args).current_dir(start).env("LC_ALL", "C");
    for name in crate::resolve::environment::GIT_VARIABLES {
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

/// Reads the checkout enclosing `start`, or the one the variables name: one process in the
/// common case (a work tree and a commit), two before the first commit or without a work tree.
pub(super) fn read(start: &Path, environment: &GitEnvironment) -> Result<GitCheckout, ReadFailure> {
    let mut with_work_tree = true;
    loop {
        // The options print in order: the directories, the commit, then HEAD's ref name
        // (`HEAD` itself when detached). A failing part fails the whole but what came before
        // it is printed.
        let mut args = vec![
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
        ];
        if with_work_tree {
            args.push("--show-toplevel");
        }
        args.extend(["HEAD^{commit}", "--symbolic-full-name", "HEAD"]);
        let output = git(start, environment, &args)?;
        let lines = stdout_lines(&output);
        let directories = if with_work_tree { 3 } else { 2 };
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() && stderr.contains("must be run in a work tree") {
            with_work_tree = false;
            continue;
        }
        let (Some(git_dir), Some(common_dir)) = (lines.first(), lines.get(1)) else {
            return Err(failure(&output));
        };
        let work_tree = if with_work_tree {
            lines.get(2).map(PathBuf::from)
        } else {
            environment.work_tree.clone()
        };
        let head = if output.status.success() {
            match &lines[directories..] {
                [id_hex, ref_name] if ref_name == "HEAD" => GitHead::Detached {
                    id_hex: id_hex.clone(),
                },
                [id_hex, ref_name] => GitHead::Branch {
                    ref_name: ref_name.clone(),
                    id_hex: Some(id_hex.clone()),
                },
                _ => {
                    return Err(ReadFailure::Unreadable(format!(
                        "unexpected output of `git rev-parse`: {lines:?}"
                    )))
                }
            }
        } else if stderr.contains("ambiguous argument 'HEAD^{commit}'") {
            unborn_head(start, environment)?
        } else {
            return Err(failure(&output));
        };
        return Ok(GitCheckout {
            git_dir: PathBuf::from(git_dir),
            common_dir: PathBuf::from(common_dir),
            work_tree,
            head,
        });
    }
}

/// HEAD when it resolves to no commit: a branch before its first commit, or a broken ref
/// (which `symbolic-ref` reports).
fn unborn_head(start: &Path, environment: &GitEnvironment) -> Result<GitHead, ReadFailure> {
    let branch = git(start, environment, &["symbolic-ref", "-q", "HEAD"])?;
    match (
        branch.status.code(),
        stdout_lines(&branch).into_iter().next(),
    ) {
        (Some(0), Some(ref_name)) => Ok(GitHead::Branch {
            ref_name,
            id_hex: None,
        }),
        (Some(1), _) => Err(ReadFailure::Unreadable(
            "HEAD does not resolve to a commit".to_owned(),
        )),
        _ => Err(failure(&branch)),
    }
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

/// The regular files of `commit_hex` at or below `paths` with their blob ids, and every path
/// it holds something at (`git ls-tree`); what git said if it cannot.
pub(super) fn committed_tree(
    start: &Path,
    environment: &GitEnvironment,
    work_tree: Option<&Path>,
    commit_hex: &str,
    paths: &[String],
) -> Result<CommittedEntries, String> {
    let said = |failure: ReadFailure| match failure {
        ReadFailure::Unreadable(message) => message,
        other => format!("{other:?}"),
    };
    // Paths from the top of the work tree, whatever the directory git runs in.
    let directory = work_tree.unwrap_or(start);
    let mut args = vec![
        "--literal-pathspecs",
        "ls-tree",
        "-r",
        "-z",
        "--full-tree",
        commit_hex,
        "--",
    ];
    args.extend(
        paths
            .iter()
            .map(|path| if path.is_empty() { "." } else { path.as_str() }),
    );
    let listing = git(directory, environment, &args).map_err(said)?;
    if !listing.status.success() {
        return Err(said(failure(&listing)));
    }
    let mut blobs = HashMap::new();
    let mut held_paths = HashSet::new();
    for record in listing.stdout.split(|&byte| byte == 0) {
        // `<mode> SP <type> SP <object> TAB <path>`
        let Some(tab) = record.iter().position(|&byte| byte == b'\t') else {
            continue;
        };
        let (Ok(head), Ok(path)) = (
            std::str::from_utf8(&record[..tab]),
            std::str::from_utf8(&record[tab + 1..]),
        ) else {
            continue;
        };
        held_paths.insert(path.to_owned());
        let mut fields = head.split(' ');
        let (Some(mode), Some("blob"), Some(id)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        // Regular files only: a link's blob is its target's name.
        if matches!(mode, "100644" | "100755") {
            if let Some(id) = from_hex(id) {
                blobs.insert(path.to_owned(), id);
            }
        }
    }
    Ok((blobs, held_paths))
}
