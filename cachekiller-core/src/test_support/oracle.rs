//! The real tools the tests compare against: `git`, `hg`, `sha1sum`, `openssl`, GNU `date`,
//! `find`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use super::setup::{cannot_run, SETUP_COMMAND};

/// Runs `program args…` in `directory` and returns its trimmed standard output; panics with
/// its standard error if it fails.
pub fn run<S: AsRef<OsStr>>(program: &str, directory: &Path, args: &[S]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(directory)
        // Mercurial: no user configuration, stable output.
        .env("HGPLAIN", "1")
        .env("HGRCPATH", "")
        .output()
        .unwrap_or_else(|error| panic!("{}", cannot_run(program, &error)));
    let describe = || {
        let args: Vec<_> = args
            .iter()
            .map(|arg| arg.as_ref().to_string_lossy())
            .collect();
        format!("{program} {} in {}", args.join(" "), directory.display())
    };
    assert!(
        output.status.success(),
        "{} failed: {}{}",
        describe(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .trim()
        .to_owned()
}

/// `git args…` with an identity and settings fixed, whatever the machine's configuration.
pub fn git(directory: &Path, args: &[&str]) -> String {
    let mut full = vec![
        "-c",
        "user.name=Cachekiller Test",
        "-c",
        "user.email=test@example.com",
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgsign=false",
        "-c",
        "protocol.file.allow=always",
        "-c",
        "advice.detachedHead=false",
    ];
    full.extend_from_slice(args);
    run("git", directory, &full)
}

/// Fails the test unless `git --version` is at least `major.minor`: the tests that need a
/// feature of a newer git say so rather than skip.
pub fn assert_git_at_least(major: u32, minor: u32, for_what: &str) {
    let version = git(Path::new("/"), &["--version"]);
    let found: Vec<u32> = version
        .trim_start_matches("git version ")
        .split(|character: char| !character.is_ascii_digit())
        .take(2)
        .map(|number| number.parse().unwrap_or(0))
        .collect();
    assert!(
        found[..] >= [major, minor][..],
        "{for_what} need git {major}.{minor} or later; found {version} (`{SETUP_COMMAND}` checks \
         this before any test)"
    );
}

/// `hg args…` with a fixed user name.
pub fn hg(directory: &Path, args: &[&str]) -> String {
    let mut full = vec![
        "--config",
        "ui.username=Cachekiller Test <test@example.com>",
    ];
    full.extend_from_slice(args);
    run("hg", directory, &full)
}

/// `git rev-parse HEAD`.
#[must_use]
pub fn git_head(directory: &Path) -> String {
    git(directory, &["rev-parse", "HEAD"])
}

/// `hg id -i --debug` without the `+` of a dirty working directory: the working parent.
#[must_use]
pub fn hg_working_parent(directory: &Path) -> String {
    hg(directory, &["id", "-i", "--debug"])
        .trim_end_matches('+')
        .to_owned()
}

/// [`hg_working_parent`], then a wait until `.hg/dirstate`'s mtime is in the past.
///
/// Mercurial avoids "ambiguous" mtimes: when it rewrites `.hg/dirstate` within the second of
/// the previous write it sets the mtime up to a second ahead, and a later `hg` command (even
/// `hg id`) may rewrite it again. Until the clock passes that mtime, cargo sees a file newer
/// than its last build and rebuilds (with the same tag). A user only meets this in the
/// seconds after an `hg` command; the tests wait it out so that their no-change checks
/// measure cachekiller, not that clock skew.
#[must_use]
pub fn hg_settled_working_parent(directory: &Path) -> String {
    let parent = hg_working_parent(directory);
    let modified = std::fs::metadata(directory.join(".hg/dirstate"))
        .expect("the dirstate exists after a commit")
        .modified()
        .expect("an mtime");
    while std::time::SystemTime::now() <= modified + std::time::Duration::from_millis(50) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    parent
}

/// GNU `date`'s UTC `YYYYMMDDHHMMSS`, of `@epoch` when given, else of the clock.
#[must_use]
pub fn gnu_date(epoch: Option<&str>) -> String {
    let mut args = vec!["-u".to_owned()];
    if let Some(epoch) = epoch {
        args.extend(["-d".to_owned(), format!("@{epoch}")]);
    }
    args.push("+%Y%m%d%H%M%S".to_owned());
    run("date", Path::new("/"), &args)
}

/// The tag of a build without version control, from `find`, `sort` and `sha1sum`: the SHA-1
/// of the lines `sha1sum` prints for every file below `static_dir` (links to files included,
/// linked directories not entered), sorted by path bytes; of no lines if there is no such dir.
#[must_use]
pub fn static_files_digest(static_dir: &Path) -> String {
    let script = "if [ -d \"$1\" ]; then cd \"$1\" && find . -xtype f -printf '%P\\n' \
                  | LC_ALL=C sort | xargs -r -d '\\n' sha1sum; fi | sha1sum";
    let output = run(
        "sh",
        Path::new("/"),
        &[
            OsStr::new("-c"),
            OsStr::new(script),
            OsStr::new("sh"),
            static_dir.as_os_str(),
        ],
    );
    output[..40].to_owned()
}

/// Fails the test unless neither git nor Mercurial finds a repository enclosing `directory`:
/// a test of "no repository" must not pass by accident where the temporary directory lies
/// inside one.
pub fn assert_outside_any_repository(directory: &Path) {
    let found_by = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(directory)
            .env("HGPLAIN", "1")
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"))
            .status
            .success()
    };
    assert!(
        !found_by("git", &["rev-parse", "--git-dir"]) && !found_by("hg", &["root"]),
        "{} lies inside a repository; set TMPDIR to a directory outside any repository",
        directory.display()
    );
}

/// The first `length` hex characters of `sha1sum <file>`.
#[must_use]
pub fn sha1sum(file: &Path, length: usize) -> String {
    let output = run("sha1sum", Path::new("/"), &[file]);
    output[..length].to_owned()
}

/// Subresource integrity metadata from openssl: `<algorithm>-<base64 of the digest>`.
#[must_use]
pub fn openssl_integrity(file: &Path, algorithm: &str) -> String {
    let script = format!("openssl dgst -{algorithm} -binary \"$1\" | base64 -w0");
    let base64 = run(
        "sh",
        Path::new("/"),
        &[
            OsStr::new("-c"),
            OsStr::new(&script),
            OsStr::new("sh"),
            file.as_os_str(),
        ],
    );
    format!("{algorithm}-{base64}")
}

/// `gzip -dc` of `bytes`: what a client decodes from a gzip body.
#[must_use]
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{}", super::setup::cannot_run("gzip", &error)));
    let output = feed_and_wait(child, bytes);
    assert!(output.status.success(), "gzip -dc failed: not a gzip body");
    output.stdout
}

/// What a client decodes from a Brotli body: Google's own decoder (the `Brotli` package of
/// `tests/oracle/requirements.txt`, in the tests' Python), not the encoder's crate.
#[must_use]
pub fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let python = super::setup::python();
    let child = Command::new(&python)
        .args([
            "-c",
            "import sys, brotli; sys.stdout.buffer.write(brotli.decompress(sys.stdin.buffer.read()))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{}", super::setup::cannot_run(&python, &error)));
    let output = feed_and_wait(child, bytes);
    assert!(
        output.status.success(),
        "the Brotli oracle failed (run `{}`): {}",
        super::setup::SETUP_COMMAND,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Writes `bytes` to `child`'s input from another thread while its output is read (writing
/// all of a large body first would wait forever on a decoder waiting for its output to be
/// read), and waits for it.
fn feed_and_wait(mut child: std::process::Child, bytes: &[u8]) -> std::process::Output {
    use std::io::Write as _;
    let mut input = child.stdin.take().expect("the child's input");
    let bytes = bytes.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&bytes));
    let output = child.wait_with_output().expect("the child ends");
    let written = writer.join().expect("the writer thread");
    // A child that failed (a missing tool, a bad stream) may stop reading: its status and
    // stderr, which the caller reports, say why. One that succeeded must have read it all.
    if output.status.success() {
        written.expect("the child reads all its input");
    }
    output
}

/// The `<script type="importmap">` element a map of `imports` and `integrity` must be, written
/// independently of the code under test: each object's members sorted by key, as
/// `"key":"value"` (the tests' URLs need no JSON escape).
#[must_use]
pub fn expected_import_map(
    mut imports: Vec<(String, String)>,
    mut integrity: Vec<(String, String)>,
) -> String {
    imports.sort();
    integrity.sort();
    let object = |entries: &[(String, String)]| {
        entries
            .iter()
            .map(|(key, value)| format!("\"{key}\":\"{value}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "<script type=\"importmap\">{{\"imports\":{{{}}},\"integrity\":{{{}}}}}</script>",
        object(&imports),
        object(&integrity)
    )
}

/// Gives `path` and everything below it to another user (uid 65534, `nobody`), as a
/// repository cloned by someone else is: the test must run as root, as CI does.
pub fn give_to_another_user(path: &Path) {
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(path)
        .status()
        .expect("chown runs");
    assert!(
        chown.success(),
        "this test gives {} to another user (uid 65534): run it as root, as CI does",
        path.display()
    );
}
