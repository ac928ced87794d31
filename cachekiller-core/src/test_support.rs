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
