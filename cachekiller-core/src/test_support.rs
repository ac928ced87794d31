//! The real tools the unit tests compare against: the one oracle module of the whole test
//! suite (`tests/src/oracle.rs`, with the `tests/run` hints of `tests/src/setup.rs`), compiled
//! into core's unit tests too, as core cannot depend on the tests crate.

#![allow(dead_code, unused_imports)]

#[path = "../../tests/src/oracle.rs"]
mod oracle;
#[path = "../../tests/src/setup.rs"]
mod setup;

use std::path::Path;
use std::process::Command;

pub use oracle::*;

#[cfg(feature = "resolve")]
/// `git args…` as [`git`], with `GIT_DIR` and friends set as in `environment`.
pub fn git_with_env(
    directory: &Path,
    environment: &crate::build::environment::GitEnvironment,
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

/// The full hex SHA-1 of `bytes`, from `sha1sum` (through a temporary file).
pub fn sha1sum_of_bytes(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), bytes).expect("the bytes are written");
    sha1sum(file.path(), 40)
}
