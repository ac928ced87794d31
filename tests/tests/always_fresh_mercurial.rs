//! In a Mercurial repository, the tag is the working directory's parent (`hg id -i --debug`),
//! and `hg commit` or `hg update` rebuilds the crate on the next `cargo build`.

use cachekiller_tests::oracle::{hg, hg_settled_working_parent};
use cachekiller_tests::scratch::{assert_rebuilt_with_tag, ScratchCrate, PRINT_TAG_AND_URL};

#[test]
fn commit_and_update_to_an_older_revision() {
    let repo = tempfile::tempdir().unwrap();
    hg(repo.path(), &["init"]);
    let scratch =
        ScratchCrate::standalone(&repo.path().join("site"), "fresh_hg", PRINT_TAG_AND_URL, "");
    hg(repo.path(), &["commit", "-q", "-A", "-m", "the crate"]);
    // The oracle runs `hg`, which may rewrite the dirstate too: it waits after it.
    let short_parent = || hg_settled_working_parent(repo.path())[..14].to_owned();
    assert_rebuilt_with_tag(&scratch, &short_parent(), &[]);

    std::fs::write(repo.path().join("notes.txt"), "one").unwrap();
    hg(repo.path(), &["commit", "-q", "-A", "-m", "a commit"]);
    assert_rebuilt_with_tag(&scratch, &short_parent(), &[]);

    hg(repo.path(), &["update", "-q", "-r", "0"]);
    assert_rebuilt_with_tag(&scratch, &short_parent(), &[]);
}
