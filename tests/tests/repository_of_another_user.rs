//! A checkout owned by another user (a root build of a bind-mounted checkout in Docker): git
//! and libgit2 refuse to read it (`safe.directory`), and so do we, with a message that names
//! the two ways out. Following the first makes the build work.

use cachekiller_tests::oracle::{git_head, give_to_another_user, run};
use cachekiller_tests::scratch::{commit_crate_in_new_repository, PRINT_TAG_AND_URL};

#[test]
fn refused_with_the_ways_out_and_built_once_trusted() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = commit_crate_in_new_repository(
        repo.path(),
        "refused_not_owned",
        PRINT_TAG_AND_URL,
        "",
        |_| {},
    );
    let head = git_head(repo.path())[..14].to_owned();
    give_to_another_user(repo.path());
    // A HOME of its own, so that the trust given below stays in this test.
    let home = tempfile::tempdir().unwrap();
    let home_text = home.path().display().to_string();
    let variables = [("HOME", home_text.as_str())];

    let message = scratch.build_failure(&variables);
    assert!(message.contains("belongs to another user"), "{message}");
    assert!(
        message.contains("git config --global --add safe.directory"),
        "{message}"
    );
    assert!(message.contains("CACHEKILLER_TAG"), "{message}");
    assert!(
        scratch
            .build_failure(&variables)
            .contains("belongs to another user"),
        "refused again on the next build, not cached"
    );

    // The first way out, as the message says it.
    let oracle = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo.path())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&oracle.stderr).contains("dubious ownership"),
        "the oracle: git refuses it too"
    );
    let trusted = std::process::Command::new("git")
        .args(["config", "--global", "--add", "safe.directory"])
        .arg(repo.path())
        .env("HOME", home.path())
        .status()
        .unwrap();
    assert!(trusted.success());
    assert!(
        run("cat", home.path(), &[".gitconfig"]).contains("safe"),
        "the trust went to this test's HOME"
    );
    let report = scratch.build_with(&variables);
    assert!(!report.fresh);
    assert_eq!(scratch.run()[0], head);
}
