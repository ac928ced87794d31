//! Content mode end to end: an edit of a static file changes its hash and integrity on the
//! next `cargo build`; a commit does not rebuild a content-mode crate (its tags do not depend
//! on the revision); an edit of a static file does not rebuild a VCS-mode crate.

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
fn an_edit_does_not_rebuild_a_vcs_mode_crate() {
    let (repo, scratch) = repository_with("content_vcs_mode", PRINT_TAG_AND_URL, "");
    let tag = git_head(repo.path())[..14].to_owned();
    assert_rebuilt_printing(
        &scratch,
        &[&tag, &format!("/static/css/app.css?tag={tag}")],
        &[],
    );
    fs::write(
        scratch.dir.join("static/css/app.css"),
        "body { color: red; }\n",
    )
    .unwrap();
    assert!(
        scratch.build().fresh,
        "a static file cannot change a revision tag"
    );
}
