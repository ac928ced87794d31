//! A repository before its first revision: `cargo new` makes a `.git` with no commit, and
//! `hg init` writes no dirstate. The tag is the static files' digest until then (as without any
//! repository), the crate is rebuilt on
//! every build meanwhile, and the build after the first commit shows the revision (nothing
//! that existed before that commit had to change for it). Nothing is written in the
//! repository.

use std::fs;
use std::path::Path;

use cachekiller_tests::oracle::{git, git_head, hg, hg_settled_working_parent};
use cachekiller_tests::scratch::{
    assert_rebuilt_until_a_revision, assert_rebuilt_with_tag, ScratchCrate, PRINT_TAG_AND_URL,
};

fn short(revision: &str) -> String {
    revision[..14].to_owned()
}

/// The files of the repository, to check that building did not add or change any.
fn repository_snapshot(repository_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![repository_dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                files.push((
                    path.display().to_string(),
                    fs::read(&path).unwrap_or_default(),
                ));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn git_the_first_commit_of_a_new_crate() {
    let repo = tempfile::tempdir().unwrap();
    // What `cargo new` leaves: a repository with no commit, the crate in its work tree.
    git(repo.path(), &["init", "-q"]);
    let scratch =
        ScratchCrate::standalone(repo.path(), "fresh_first_commit_git", PRINT_TAG_AND_URL, "");
    let git_dir_before = repository_snapshot(&repo.path().join(".git"));
    assert_rebuilt_until_a_revision(&scratch);
    assert_eq!(
        repository_snapshot(&repo.path().join(".git")),
        git_dir_before,
        "building wrote into the repository"
    );

    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "first"]);
    assert_rebuilt_with_tag(&scratch, &short(&git_head(repo.path())), &[]);
    git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "second"],
    );
    assert_rebuilt_with_tag(&scratch, &short(&git_head(repo.path())), &[]);
}

#[test]
fn git_the_first_commit_when_the_index_exists_before_the_build() {
    // `git add` before the first build: the index exists and `git commit` need not rewrite it.
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let scratch = ScratchCrate::standalone(
        repo.path(),
        "fresh_first_commit_indexed",
        PRINT_TAG_AND_URL,
        "",
    );
    git(repo.path(), &["add", "-A"]);
    assert_rebuilt_until_a_revision(&scratch);
    git(repo.path(), &["commit", "-q", "-m", "first"]);
    assert_rebuilt_with_tag(&scratch, &short(&git_head(repo.path())), &[]);
}

#[test]
fn git_an_orphan_branch() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let scratch = ScratchCrate::standalone(
        repo.path(),
        "fresh_first_commit_orphan",
        PRINT_TAG_AND_URL,
        "",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "on main"]);
    assert_rebuilt_with_tag(&scratch, &short(&git_head(repo.path())), &[]);

    git(repo.path(), &["checkout", "-q", "--orphan", "pages"]);
    assert_rebuilt_until_a_revision(&scratch);
    git(repo.path(), &["commit", "-q", "-m", "first on pages"]);
    let pages = git_head(repo.path());
    assert_rebuilt_with_tag(&scratch, &short(&pages), &[]);
    assert_ne!(pages, git(repo.path(), &["rev-parse", "main"]));
}

#[test]
fn mercurial_the_first_commit() {
    let repo = tempfile::tempdir().unwrap();
    hg(repo.path(), &["init"]);
    assert!(
        !repo.path().join(".hg/dirstate").exists(),
        "hg init writes no dirstate"
    );
    let scratch =
        ScratchCrate::standalone(repo.path(), "fresh_first_commit_hg", PRINT_TAG_AND_URL, "");
    let hg_dir_before = repository_snapshot(&repo.path().join(".hg"));
    assert_rebuilt_until_a_revision(&scratch);
    assert_eq!(
        repository_snapshot(&repo.path().join(".hg")),
        hg_dir_before,
        "building wrote into the repository"
    );

    hg(repo.path(), &["commit", "-q", "-A", "-m", "first"]);
    assert_rebuilt_with_tag(
        &scratch,
        &short(&hg_settled_working_parent(repo.path())),
        &[],
    );
}
