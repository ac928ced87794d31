//! The real tools the unit tests compare against, run the same way everywhere. (The
//! integration tests have their own in `tests/src/oracle.rs`: core cannot depend on them.)

use std::path::Path;
use std::process::Command;

/// Runs `program args…` in `directory`, with Mercurial's user configuration off, and returns
/// its trimmed standard output; panics with its standard error if it fails.
pub fn run(program: &str, directory: &Path, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(directory)
        .env("HGPLAIN", "1")
        .env("HGRCPATH", "")
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `git args…` with an identity and settings fixed, whatever the machine's configuration.
pub fn git(directory: &Path, args: &[&str]) -> String {
    let mut full = vec!["-c", "user.name=Test", "-c", "user.email=test@example.com"];
    full.extend_from_slice(&[
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgsign=false",
    ]);
    full.extend_from_slice(args);
    run("git", directory, &full)
}

/// `git args…` as [`git`], with `GIT_DIR` and friends set as in `environment`.
pub fn git_with_env(
    directory: &Path,
    environment: &crate::environment::GitEnvironment,
    args: &[&str],
) -> String {
    let mut command = Command::new("git");
    command
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(directory)
        .envs(environment.variables());
    let output = command.output().expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Fails the test unless neither git nor Mercurial finds a repository enclosing `directory`:
/// a test of "no repository" must not pass by accident on a machine whose temporary
/// directory lies inside one.
pub fn assert_outside_any_repository(directory: &Path) {
    let in_git = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .current_dir(directory)
        .output()
        .expect("git runs")
        .status
        .success();
    let in_mercurial = crate::mercurial::find_mercurial_root(directory).is_some();
    assert!(
        !in_git && !in_mercurial,
        "{} lies inside a repository; set TMPDIR to a directory outside any repository",
        directory.display()
    );
}

/// Fails the test unless `git --version` is at least `major.minor`: a test that needs a newer
/// git says so rather than skip.
pub fn assert_git_at_least(major: u32, minor: u32, for_what: &str) {
    let version = run("git", Path::new("/"), &["--version"]);
    let found: Vec<u32> = version
        .trim_start_matches("git version ")
        .split(|character: char| !character.is_ascii_digit())
        .take(2)
        .map(|number| number.parse().unwrap_or(0))
        .collect();
    assert!(
        found[..] >= [major, minor][..],
        "{for_what} need git {major}.{minor} or later; found {version}"
    );
}

/// The full hex SHA-1 of `file`, from `sha1sum`.
pub fn sha1sum(file: &Path) -> String {
    let output = run(
        "sha1sum",
        Path::new("/"),
        &[file.to_str().expect("a UTF-8 test path")],
    );
    output[..40].to_owned()
}

/// Subresource integrity metadata from openssl: `<algorithm>-<base64 of the digest>`.
pub fn openssl_integrity(file: &Path, algorithm: &str) -> String {
    let script = format!("openssl dgst -{algorithm} -binary \"$1\" | base64 -w0");
    let file = file.to_str().expect("a UTF-8 test path");
    format!(
        "{algorithm}-{}",
        run("sh", Path::new("/"), &["-c", &script, "sh", file])
    )
}

/// `hg args…` with a fixed user name.
pub fn hg(directory: &Path, args: &[&str]) -> String {
    let mut full = vec!["--config", "ui.username=Test <test@example.com>"];
    full.extend_from_slice(args);
    run("hg", directory, &full)
}

/// `hg id -i --debug` without the `+` of a dirty working directory: the working parent.
pub fn hg_working_parent(directory: &Path) -> String {
    hg(directory, &["id", "-i", "--debug"])
        .trim_end_matches('+')
        .to_owned()
}
