//! Repositories inside repositories of the other kind (a git-tracked home directory holding an
//! hg project, a monorepo vendoring one, an hg repository holding a git checkout): the nearest
//! repository enclosing the crate decides, whatever its kind, as git and hg each use the
//! nearest of their own. A commit in the outer one neither changes the tag nor rebuilds.

use std::path::Path;

use cachekiller_tests::oracle::{git, git_head, hg, hg_settled_working_parent};
use cachekiller_tests::scratch::{assert_rebuilt_with_tag, ScratchCrate, PRINT_TAG_AND_URL};

fn short(revision: &str) -> String {
    revision[..14].to_owned()
}

/// A crate in an hg repository at `root/vendored`, committed; `root` is left to the caller.
fn crate_in_mercurial(root: &Path, name: &str) -> (ScratchCrate, std::path::PathBuf) {
    let hg_root = root.join("vendored");
    std::fs::create_dir_all(&hg_root).unwrap();
    hg(&hg_root, &["init"]);
    let scratch = ScratchCrate::standalone(&hg_root.join("site"), name, PRINT_TAG_AND_URL, "");
    hg(&hg_root, &["commit", "-q", "-A", "-m", "the crate"]);
    (scratch, hg_root)
}

#[test]
fn mercurial_inside_git() {
    let root = tempfile::tempdir().unwrap();
    git(root.path(), &["init", "-q"]);
    git(
        root.path(),
        &["commit", "-q", "--allow-empty", "-m", "outer"],
    );
    let (scratch, hg_root) = crate_in_mercurial(root.path(), "nearest_hg_in_git");
    assert_rebuilt_with_tag(&scratch, &short(&hg_settled_working_parent(&hg_root)), &[]);

    std::fs::write(hg_root.join("notes.txt"), "one").unwrap();
    hg(&hg_root, &["commit", "-q", "-A", "-m", "inner"]);
    assert_rebuilt_with_tag(&scratch, &short(&hg_settled_working_parent(&hg_root)), &[]);

    git(
        root.path(),
        &["commit", "-q", "--allow-empty", "-m", "outer again"],
    );
    assert!(
        scratch.build().fresh,
        "a commit of the outer git repository rebuilt the crate"
    );
}

#[test]
fn mercurial_inside_a_git_repository_without_commits() {
    let root = tempfile::tempdir().unwrap();
    git(root.path(), &["init", "-q"]);
    let (scratch, hg_root) = crate_in_mercurial(root.path(), "nearest_hg_in_new_git");
    // Not rebuilt on every build as before a first commit: the outer repository does not count.
    assert_rebuilt_with_tag(&scratch, &short(&hg_settled_working_parent(&hg_root)), &[]);
}

#[test]
fn git_inside_mercurial() {
    let root = tempfile::tempdir().unwrap();
    hg(root.path(), &["init"]);
    std::fs::write(root.path().join("outer.txt"), "outer").unwrap();
    hg(root.path(), &["commit", "-q", "-A", "-m", "outer"]);
    let git_root = root.path().join("checkout");
    std::fs::create_dir_all(&git_root).unwrap();
    git(&git_root, &["init", "-q"]);
    let scratch = ScratchCrate::standalone(
        &git_root.join("site"),
        "nearest_git_in_hg",
        PRINT_TAG_AND_URL,
        "",
    );
    git(&git_root, &["add", "-A"]);
    git(&git_root, &["commit", "-q", "-m", "the crate"]);
    assert_rebuilt_with_tag(&scratch, &short(&git_head(&git_root)), &[]);

    git(&git_root, &["commit", "-q", "--allow-empty", "-m", "inner"]);
    assert_rebuilt_with_tag(&scratch, &short(&git_head(&git_root)), &[]);

    std::fs::write(root.path().join("outer.txt"), "outer again").unwrap();
    hg(root.path(), &["commit", "-q", "-m", "outer again"]);
    let _ = hg_settled_working_parent(root.path());
    assert!(
        scratch.build().fresh,
        "a commit of the outer Mercurial repository rebuilt the crate"
    );
}
