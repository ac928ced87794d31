//! In a Mercurial repository, the tag is the working directory's parent (`hg id -i --debug`),
//! and `hg commit` or `hg update` rebuilds the crate on the next `cargo build`.

use std::path::Path;
use std::time::{Duration, SystemTime};

use cachekiller_tests::oracle::{hg, hg_working_parent};
use cachekiller_tests::scratch::{assert_rebuilt_with_tag, ScratchCrate, PRINT_TAG_AND_URL};

/// Mercurial avoids "ambiguous" mtimes: when it rewrites `.hg/dirstate` within the second of
/// the previous write it sets the mtime one second ahead, so after quick successive commands
/// the file's mtime lies up to a few seconds in the future. Until the clock passes it, cargo
/// sees a file newer than its last build and rebuilds (with the same tag). A user only meets
/// this in the seconds after an `hg` command; the test waits it out so that its no-change
/// check measures cachekiller, not that clock skew.
fn wait_until_dirstate_mtime_is_past(repository: &Path) {
    let modified = std::fs::metadata(repository.join(".hg/dirstate"))
        .unwrap()
        .modified()
        .unwrap();
    while SystemTime::now() <= modified + Duration::from_millis(50) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn commit_and_update_to_an_older_revision() {
    let repo = tempfile::tempdir().unwrap();
    hg(repo.path(), &["init"]);
    let scratch =
        ScratchCrate::standalone(&repo.path().join("site"), "fresh_hg", PRINT_TAG_AND_URL, "");
    hg(repo.path(), &["commit", "-q", "-A", "-m", "the crate"]);
    // The oracle runs `hg`, which may rewrite the dirstate too: wait after it.
    let short_parent = || {
        let parent = hg_working_parent(repo.path())[..14].to_owned();
        wait_until_dirstate_mtime_is_past(repo.path());
        parent
    };
    assert_rebuilt_with_tag(&scratch, &short_parent(), &[]);

    std::fs::write(repo.path().join("notes.txt"), "one").unwrap();
    hg(repo.path(), &["commit", "-q", "-A", "-m", "a commit"]);
    assert_rebuilt_with_tag(&scratch, &short_parent(), &[]);

    hg(repo.path(), &["update", "-q", "-r", "0"]);
    assert_rebuilt_with_tag(&scratch, &short_parent(), &[]);
}
