//! The rebuild marker of a repository before its first commit lives in the shared temporary
//! directory. Another local user who prepares `$TMPDIR/cachekiller-<uid>` first (mode 0777,
//! with a link where the marker goes) must not make a root build overwrite the file the link
//! names: the build fails with a compile error that names the directory and its owner, the
//! file is untouched, and once the directory is removed the build makes its own (mode 0700,
//! owned by the builder) and is rebuilt on every build as before.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;

use cachekiller_tests::oracle::{git, run};
use cachekiller_tests::scratch::{ScratchCrate, PRINT_TAG_AND_URL};

/// The other user: `nobody`.
const OTHER_USER: &str = "65534";

/// Runs `sh -c script sh args…` as [`OTHER_USER`], with `setpriv`.
fn as_other_user(script: &str, args: &[&Path]) {
    let status = Command::new("setpriv")
        .args([
            &format!("--reuid={OTHER_USER}"),
            &format!("--regid={OTHER_USER}"),
            "--clear-groups",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .args(args)
        .status()
        .expect("setpriv runs (util-linux)");
    assert!(status.success(), "as user {OTHER_USER}: {script}");
}

#[test]
fn a_directory_prepared_by_another_user_is_refused_and_nothing_is_overwritten() {
    let builder = run("id", Path::new("/"), &["-u"]);
    assert_eq!(
        builder, "0",
        "this test prepares a directory as another user for a root build: run it as root, as CI does"
    );
    // A temporary directory like /tmp: anyone may create in it, sticky.
    let temporary = tempfile::tempdir().unwrap();
    std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = temporary.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let victim_modified = std::fs::metadata(&victim).unwrap().modified().unwrap();
    let hostile = temporary.path().join(format!("cachekiller-{builder}"));
    as_other_user(
        "mkdir -m 0777 \"$1\" && ln -s \"$2\" \"$1/rebuild-until-a-revision\"",
        &[&hostile, &victim],
    );
    assert_eq!(
        std::fs::symlink_metadata(&hostile)
            .unwrap()
            .uid()
            .to_string(),
        OTHER_USER
    );

    // What `cargo new` leaves: a repository with no commit, so the marker is needed.
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let scratch =
        ScratchCrate::standalone(repo.path(), "marker_of_another_user", PRINT_TAG_AND_URL, "");
    let temporary_text = temporary.path().display().to_string();
    let variables = [("TMPDIR", temporary_text.as_str())];
    let message = scratch.build_failure(&variables);
    assert!(
        message.contains(&hostile.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&format!("belongs to user {OTHER_USER}")),
        "{message}"
    );
    assert!(message.contains("TMPDIR"), "{message}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        std::fs::metadata(&victim).unwrap().modified().unwrap(),
        victim_modified,
        "the file the link names was touched"
    );

    // The way out the message gives: remove the directory; the build makes its own.
    std::fs::remove_dir_all(&hostile).unwrap();
    for build in ["first", "second"] {
        let report = scratch.build_with(&variables);
        assert!(
            !report.fresh,
            "{build} build: rebuilt until the first commit"
        );
    }
    let own = std::fs::symlink_metadata(&hostile).unwrap();
    assert!(own.is_dir());
    assert_eq!(own.uid().to_string(), builder);
    assert_eq!(own.mode() & 0o7777, 0o700);
    let marker = std::fs::symlink_metadata(hostile.join("rebuild-until-a-revision")).unwrap();
    assert!(marker.file_type().is_file());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}
