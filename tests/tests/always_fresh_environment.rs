//! `CACHEKILLER_TAG`, `CACHEKILLER_STATIC_URL` and `SOURCE_DATE_EPOCH` are tracked: setting,
//! changing or unsetting one rebuilds the crate with the new value on the next `cargo build`.

use cachekiller_tests::oracle::{
    assert_outside_any_repository, git_head, gnu_date, static_files_digest,
};
use cachekiller_tests::scratch::{
    assert_rebuilt_printing, assert_rebuilt_with_tag, commit_crate_in_new_repository, ScratchCrate,
    PRINT_TAG_AND_URL,
};

#[test]
fn cachekiller_tag_set_changed_and_unset() {
    let repo = tempfile::tempdir().unwrap();
    let scratch =
        commit_crate_in_new_repository(repo.path(), "fresh_env_tag", PRINT_TAG_AND_URL, "", |_| {});
    let head = git_head(repo.path())[..14].to_owned();
    assert_rebuilt_with_tag(&scratch, &head, &[]);

    assert_rebuilt_with_tag(&scratch, "build-41", &[("CACHEKILLER_TAG", "build-41")]);
    assert_rebuilt_with_tag(&scratch, "build-42", &[("CACHEKILLER_TAG", "build-42")]);
    assert_rebuilt_with_tag(&scratch, &head, &[]);

    assert_rebuilt_printing(
        &scratch,
        &[
            &head,
            &format!("https://cdn.example.com/s/css/app.css?tag={head}"),
        ],
        &[("CACHEKILLER_STATIC_URL", "https://cdn.example.com/s/")],
    );
    assert_rebuilt_with_tag(&scratch, &head, &[]);

    let message = scratch.build_failure(&[("CACHEKILLER_TAG", "a tag with spaces")]);
    assert!(
        message.contains(r#"CACHEKILLER_TAG="a tag with spaces" cannot be used as a tag"#),
        "{message}"
    );
}

#[test]
fn source_date_epoch_without_any_vcs() {
    let directory = tempfile::tempdir().unwrap();
    assert_outside_any_repository(directory.path());
    let scratch = ScratchCrate::standalone(
        &directory.path().join("site"),
        "fresh_env_date",
        PRINT_TAG_AND_URL,
        "",
    )
    // No repository here, so libgit2 reads nothing: built without it, the crate's dependencies
    // have no build script that reruns when SOURCE_DATE_EPOCH changes (libgit2-sys and
    // libz-sys compile their C again for each value), and each build below recompiles the
    // crate alone. Its own target dir all the same: dependencies built with one
    // SOURCE_DATE_EPOCH stay out of the other tests' target dirs.
    .without_libgit2()
    .with_own_target_dir("source-date-epoch");
    assert_rebuilt_with_tag(
        &scratch,
        &gnu_date(Some("1700000000")),
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    );
    assert_rebuilt_with_tag(
        &scratch,
        &gnu_date(Some("1800000000")),
        &[("SOURCE_DATE_EPOCH", "1800000000")],
    );

    // Without SOURCE_DATE_EPOCH the static files' digest (of none: the crate has no
    // `static/`), never the clock.
    let report = scratch.build();
    assert!(!report.fresh);
    assert_eq!(
        scratch.run()[0],
        static_files_digest(&scratch.dir.join("static"))[..14]
    );
}
