//! Content mode end to end: an edit of a static file changes its hash and integrity on the
//! next `cargo build`; a commit does not rebuild a content-mode crate (its tags do not depend
//! on the revision); an edit of a static file does not rebuild a VCS-mode crate, but an edit
//! of a stylesheet does, so that its references are checked again.

use std::fs;

use cachekiller_tests::oracle::{git, git_head, openssl_integrity, sha1sum};
use cachekiller_tests::scratch::{
    assert_rebuilt_printing, commit_crate_in_new_repository, ScratchCrate, PRINT_TAG_AND_URL,
};

const PRINT_HASHED_URL_AND_INTEGRITY: &str = r#"use cachekiller_macros::{cdnintegrity, cdnstatic};

fn main() {
    println!("{}", cdnstatic!("css/app.css"));
    println!("{}", cdnintegrity!("css/app.css"));
}
"#;

fn repository_with(name: &str, main_rs: &str, metadata: &str) -> (tempfile::TempDir, ScratchCrate) {
    let repo = tempfile::tempdir().unwrap();
    let scratch = commit_crate_in_new_repository(repo.path(), name, main_rs, metadata, |scratch| {
        fs::create_dir_all(scratch.dir.join("static/css")).unwrap();
        fs::write(
            scratch.dir.join("static/css/app.css"),
            "body { color: black; }\n",
        )
        .unwrap();
    });
    (repo, scratch)
}

#[test]
fn an_edit_changes_the_hash_and_a_commit_does_not_rebuild() {
    let (repo, scratch) = repository_with(
        "content_rebuild",
        PRINT_HASHED_URL_AND_INTEGRITY,
        "\n[package.metadata.cachekiller]\nmode = \"content\"\n",
    );
    let css = scratch.dir.join("static/css/app.css");
    let expected = || {
        [
            format!("/static/css/app.css?tag={}", sha1sum(&css, 6)),
            openssl_integrity(&css, "sha384"),
        ]
    };
    let [url, integrity] = expected();
    assert_rebuilt_printing(&scratch, &[&url, &integrity], &[]);

    fs::write(&css, "body { color: rebeccapurple; }\n").unwrap();
    let [new_url, new_integrity] = expected();
    assert_ne!(new_url, url);
    assert_rebuilt_printing(&scratch, &[&new_url, &new_integrity], &[]);

    git(repo.path(), &["commit", "-q", "-am", "purple"]);
    assert!(
        scratch.build().fresh,
        "a commit must not rebuild a content-mode crate"
    );
}

#[test]
fn an_edit_does_not_rebuild_a_vcs_mode_crate_but_a_stylesheet_is_checked_again() {
    let (repo, scratch) = repository_with("content_vcs_mode", PRINT_TAG_AND_URL, "");
    fs::create_dir_all(scratch.dir.join("static/img")).unwrap();
    fs::write(scratch.dir.join("static/img/logo.svg"), "<svg/>\n").unwrap();
    fs::write(
        scratch.dir.join("static/css/app.css"),
        "body { background: url(../img/logo.svg); }\n",
    )
    .unwrap();
    git(repo.path(), &["add", "-A"]);
    git(
        repo.path(),
        &["commit", "-q", "-m", "a stylesheet with an image"],
    );
    let tag = git_head(repo.path())[..14].to_owned();
    let printed = [tag.clone(), format!("/static/css/app.css?tag={tag}")];
    let printed: Vec<&str> = printed.iter().map(String::as_str).collect();
    assert_rebuilt_printing(&scratch, &printed, &[]);
    // The image's bytes cannot change a revision tag: not tracked.
    fs::write(scratch.dir.join("static/img/logo.svg"), "<svg id='new'/>\n").unwrap();
    assert!(
        scratch.build().fresh,
        "a static file cannot change a revision tag"
    );
    // The stylesheet is tracked, so that the references it gains are checked: a typo fails
    // the build at the call, naming the stylesheet and line.
    fs::write(
        scratch.dir.join("static/css/app.css"),
        "body { background: url(../img/logo.svg); }\n.x { background: url(../img/logo.sgv); }\n",
    )
    .unwrap();
    let failure = scratch.build_failure(&[]);
    assert!(
        failure.contains(
            "stylesheet \"css/app.css\", line 2: `url(../img/logo.sgv)`: static file \"img/logo.sgv\" not found"
        ) && failure.contains("did you mean \"img/logo.svg\"?"),
        "{failure}"
    );
    // Fixed, and the image as committed again (an edited image is no commit's: the
    // stylesheet naming it would get a content tag): built again, with the same tag.
    fs::write(scratch.dir.join("static/img/logo.svg"), "<svg/>\n").unwrap();
    fs::write(
        scratch.dir.join("static/css/app.css"),
        "body { background: url(../img/logo.svg); }\n",
    )
    .unwrap();
    assert_rebuilt_printing(&scratch, &printed, &[]);
}
