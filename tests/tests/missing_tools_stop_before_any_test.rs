//! `tests/run`, the one command that sets up and runs every test, on a fresh clone of a machine
//! where the tools the tests use are missing: with a `PATH` that lacks `hg`, `chromium`,
//! `nginx`, `sccache` and `node`, it installs their packages (as root, or through sudo), or,
//! where it may not (`--check`, another user without sudo), stops with the exact install line.
//! Either way it never reaches `cargo test`: a newcomer's first run is not a red test run.
//!
//! The `apt-get`, `sudo` and `cargo` on that `PATH` are stand-ins that only say they were
//! called, so nothing is installed on this machine and no test suite starts inside this one.

use std::collections::HashSet;
use std::os::unix::fs::{symlink, PermissionsExt as _};
use std::path::PathBuf;
use std::process::Command;

use cachekiller_tests::scratch::workspace_root;

/// The commands hidden from `PATH`, and the Debian packages that bring them back.
const HIDDEN: [(&str, &str); 5] = [
    ("hg", "mercurial"),
    ("chromium", "chromium"),
    ("nginx", "nginx"),
    ("sccache", "sccache"),
    ("node", "nodejs"),
];

/// What `tests/run` reads, copied to a directory any user may read: a clean clone, with no
/// `target/` and so no virtual environment or npm packages yet.
const CLONED: [&str; 4] = [
    "tests/run",
    "tests/package.json",
    "tests/package-lock.json",
    "tests/oracle/requirements.txt",
];

const NOBODY: &str = "65534";

struct Machine {
    root: tempfile::TempDir,
}

impl Machine {
    /// A clone and a `bin/` of symlinks to every command on this `PATH` but the hidden ones,
    /// `sudo`, `apt-get` and `cargo`; `stand_ins` adds those of the latter three it names.
    fn new(stand_ins: &[&str]) -> Self {
        let root = tempfile::tempdir().unwrap();
        let machine = Machine { root };
        let bin = machine.bin();
        std::fs::create_dir_all(&bin).unwrap();
        for name in stand_ins {
            let exit = if *name == "cargo" { 97 } else { 0 };
            let script = bin.join(name);
            std::fs::write(
                &script,
                format!("#!/bin/sh\necho \"STAND-IN {name} $*\" >&2\nexit {exit}\n"),
            )
            .unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let left_out: HashSet<&str> = HIDDEN
            .iter()
            .map(|(command, _)| *command)
            .chain(["sudo", "apt-get", "cargo"])
            .collect();
        let path = std::env::var_os("PATH").expect("a PATH");
        for directory in std::env::split_paths(&path) {
            let Ok(entries) = std::fs::read_dir(&directory) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let link = bin.join(&name);
                if left_out.contains(name.to_string_lossy().as_ref())
                    || link.symlink_metadata().is_ok()
                {
                    continue;
                }
                symlink(entry.path(), link).unwrap();
            }
        }
        for (command, _) in HIDDEN {
            assert!(!bin.join(command).exists(), "{command} is hidden");
        }
        let checkout = machine.checkout();
        for file in CLONED {
            let copy = checkout.join(file);
            std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
            std::fs::copy(workspace_root().join(file), copy).unwrap();
        }
        // Another user must reach the clone and the commands.
        for directory in [machine.root.path(), &checkout, &checkout.join("tests")] {
            std::fs::set_permissions(directory, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        machine
    }

    fn bin(&self) -> PathBuf {
        self.root.path().join("bin")
    }

    fn checkout(&self) -> PathBuf {
        self.root.path().join("clone")
    }

    /// Runs `tests/run args…` of the clone with the hidden `PATH`, as this user or as nobody;
    /// returns whether it succeeded and what it printed.
    fn run(&self, args: &[&str], as_nobody: bool) -> (bool, String) {
        let script = self.checkout().join("tests/run");
        let mut command = if as_nobody && is_root() {
            let mut setpriv = Command::new("setpriv");
            setpriv
                .args([
                    &format!("--reuid={NOBODY}"),
                    &format!("--regid={NOBODY}"),
                    "--clear-groups",
                    "--",
                ])
                .arg(&script);
            setpriv
        } else {
            Command::new(&script)
        };
        let output = command
            .args(args)
            .current_dir(self.root.path())
            .env_clear()
            .env("PATH", self.bin())
            .env("HOME", self.root.path())
            .env("LANG", "C.UTF-8")
            .output()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", script.display()));
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), printed)
    }
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// The line of `printed` that contains `command`, which must name every hidden command's
/// package as a word.
fn install_line<'a>(printed: &'a str, command: &str) -> &'a str {
    let line = printed
        .lines()
        .find(|line| line.contains(command))
        .unwrap_or_else(|| panic!("no `{command}` line in:\n{printed}"));
    let words: HashSet<&str> = line.split_whitespace().collect();
    for (_, package) in HIDDEN {
        assert!(words.contains(package), "{package} not in `{line}`");
    }
    line
}

fn assert_no_test_ran(printed: &str) {
    assert!(
        !printed.contains("STAND-IN cargo"),
        "cargo test ran:\n{printed}"
    );
}

#[test]
fn check_mode_installs_nothing_and_prints_the_install_line() {
    let machine = Machine::new(&["apt-get", "sudo", "cargo"]);
    let (succeeded, printed) = machine.run(&["--check"], false);
    assert!(!succeeded, "{printed}");
    let line = install_line(&printed, "apt-get update && apt-get install -y ");
    assert!(line.contains("tests/run --setup"), "{line}");
    assert!(
        !printed.contains("STAND-IN"),
        "--check installed:\n{printed}"
    );
    assert_no_test_ran(&printed);
}

#[test]
fn a_user_who_may_not_install_gets_the_exact_line_and_no_test_run() {
    // No sudo on the PATH, and not root.
    let machine = Machine::new(&["apt-get", "cargo"]);
    let (succeeded, printed) = machine.run(&[], true);
    assert!(!succeeded, "{printed}");
    let line = install_line(&printed, "apt-get install -y ");
    // Alone on its line, so that it can be copied as it stands.
    assert!(
        line.starts_with("apt-get update && apt-get install -y "),
        "{line}"
    );
    assert!(printed.contains("as root"), "{printed}");
    assert!(!printed.contains("STAND-IN"), "{printed}");
    assert_no_test_ran(&printed);
}

#[test]
fn who_may_install_installs_the_missing_packages_before_any_test() {
    // Root runs apt-get; another user goes through sudo.
    let machine = Machine::new(&["apt-get", "sudo", "cargo"]);
    let (succeeded, printed) = machine.run(&[], false);
    let installer = if is_root() {
        "STAND-IN apt-get install -y"
    } else {
        "STAND-IN sudo DEBIAN_FRONTEND=noninteractive apt-get install -y"
    };
    install_line(&printed, installer);
    // The stand-in installed nothing, so tests/run stops rather than run the tests without them.
    assert!(!succeeded, "{printed}");
    assert!(printed.contains("still missing"), "{printed}");
    assert_no_test_ran(&printed);
}

#[test]
fn another_user_with_sudo_installs_through_it_before_any_test() {
    let machine = Machine::new(&["apt-get", "sudo", "cargo"]);
    let (succeeded, printed) = machine.run(&[], true);
    install_line(
        &printed,
        "STAND-IN sudo DEBIAN_FRONTEND=noninteractive apt-get install -y",
    );
    assert!(!printed.contains("STAND-IN apt-get"), "{printed}");
    assert!(!succeeded, "{printed}");
    assert_no_test_ran(&printed);
}
