//! The repository formats of git 2.45+, which git 3 plans as defaults and no released libgit2
//! reads: the reftable ref format and SHA-256 object ids. The tag is `git rev-parse HEAD` cut
//! to the tag length (a SHA-256 id has 64 hex digits), after a commit, an amend, a branch
//! switch and a detached checkout, and an unchanged repository rebuilds nothing. The same
//! holds with libgit2 turned off, where the `git` executable reads every repository.

use std::path::Path;

use cachekiller_tests::oracle::{assert_git_at_least, git, git_head};
use cachekiller_tests::scratch::{
    assert_rebuilt_printing, assert_rebuilt_with_tag, commit_crate_in_new_repository_with,
    ScratchCrate, PRINT_TAG_AND_URL,
};

fn short_head(directory: &Path, length: usize) -> String {
    git_head(directory)[..length].to_owned()
}

/// Every move of HEAD a user makes, each followed by the build that must show it.
fn assert_every_head_move_rebuilds(repo: &Path, scratch: &ScratchCrate) {
    assert_rebuilt_with_tag(scratch, &short_head(repo, 14), &[]);
    git(repo, &["commit", "-q", "--allow-empty", "-m", "two"]);
    assert_rebuilt_with_tag(scratch, &short_head(repo, 14), &[]);
    git(
        repo,
        &[
            "commit",
            "-q",
            "--amend",
            "--allow-empty",
            "-m",
            "two, amended",
        ],
    );
    assert_rebuilt_with_tag(scratch, &short_head(repo, 14), &[]);
    git(repo, &["switch", "-q", "-c", "older", "HEAD~1"]);
    assert_rebuilt_with_tag(scratch, &short_head(repo, 14), &[]);
    git(repo, &["checkout", "-q", "--detach", "main"]);
    assert_rebuilt_with_tag(scratch, &short_head(repo, 14), &[]);
    git(repo, &["checkout", "-q", "older"]);
    assert_rebuilt_with_tag(scratch, &short_head(repo, 14), &[]);
}

fn repository_in_format(root: &Path, name: &str, format: &[&str]) -> ScratchCrate {
    assert_git_at_least(2, 45, "reftable and SHA-256 repositories");
    commit_crate_in_new_repository_with(root, format, name, PRINT_TAG_AND_URL, "", |_| {})
}

#[test]
fn reftable() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = repository_in_format(repo.path(), "fresh_reftable", &["--ref-format=reftable"]);
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".git/HEAD")).unwrap(),
        "ref: refs/heads/.invalid\n",
        "a reftable repository's HEAD file never changes"
    );
    assert_every_head_move_rebuilds(repo.path(), &scratch);
}

#[test]
fn sha256_with_a_64_character_tag() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = repository_in_format(repo.path(), "fresh_sha256", &["--object-format=sha256"]);
    assert_every_head_move_rebuilds(repo.path(), &scratch);

    // The whole id, with `tag_length = 64`.
    let long = ScratchCrate::standalone(
        &repo.path().join("long"),
        "fresh_sha256_long",
        PRINT_TAG_AND_URL,
        "[package.metadata.cachekiller]\ntag_length = 64\n",
    );
    let head = git_head(repo.path());
    assert_eq!(head.len(), 64);
    assert_rebuilt_printing(
        &long,
        &[&head, &format!("/static/css/app.css?tag={head}")],
        &[],
    );
}

#[test]
fn reftable_and_sha256_in_a_linked_worktree() {
    let root = tempfile::tempdir().unwrap();
    let main = root.path().join("main");
    let in_main = repository_in_format(
        &main,
        "fresh_git3_worktree",
        &["--ref-format=reftable", "--object-format=sha256"],
    );
    git(
        &main,
        &["worktree", "add", "-q", "-b", "feature", "../feature"],
    );
    let worktree = root.path().join("feature");
    let scratch = in_main.checked_out_at(&worktree.join("site"));
    assert_rebuilt_with_tag(&scratch, &short_head(&worktree, 14), &[]);
    git(
        &worktree,
        &["commit", "-q", "--allow-empty", "-m", "on feature"],
    );
    assert_rebuilt_with_tag(&scratch, &short_head(&worktree, 14), &[]);
    // A commit in the main worktree rewrites the shared table list: the crate may be rebuilt,
    // but its tag stays the worktree's.
    git(&main, &["commit", "-q", "--allow-empty", "-m", "on main"]);
    let _ = scratch.build();
    assert_eq!(scratch.run()[0], short_head(&worktree, 14));
    assert!(scratch.build().fresh);
}

#[test]
fn without_libgit2_the_git_executable_reads_every_layout() {
    let root = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("fresh_nolibgit2_files", &[][..]),
        ("fresh_nolibgit2_reftable", &["--ref-format=reftable"][..]),
    ] {
        let repo = root.path().join(name);
        let scratch = repository_in_format(&repo, name, format).without_libgit2();
        assert_every_head_move_rebuilds(&repo, &scratch);
    }
}
