//! Configuration from `[package.metadata.cachekiller]`: applied, tracked (an edit rebuilds),
//! and refused with the key and the manifest named when it is wrong. A broken repository is
//! a compile error that says how to build anyway.

use std::fs;

use cachekiller_tests::oracle::git_head;
use cachekiller_tests::scratch::{
    assert_rebuilt_printing, assert_rebuilt_with_tag, commit_crate_in_new_repository, ScratchCrate,
    PRINT_TAG_AND_URL,
};

fn committed_crate(name: &str, metadata: &str) -> (tempfile::TempDir, ScratchCrate) {
    let repo = tempfile::tempdir().unwrap();
    let scratch =
        commit_crate_in_new_repository(repo.path(), name, PRINT_TAG_AND_URL, metadata, |_| {});
    (repo, scratch)
}

#[test]
fn package_metadata_applies_and_an_edit_rebuilds() {
    let (repo, scratch) = committed_crate(
        "config_metadata",
        "\n[package.metadata.cachekiller]\nstatic_url = \"https://cdn.example.com/assets/\"\nparam = \"v\"\ntag_length = 8\n",
    );
    let head = git_head(repo.path());
    assert_rebuilt_printing(
        &scratch,
        &[
            &head[..8],
            &format!(
                "https://cdn.example.com/assets/css/app.css?v={}",
                &head[..8]
            ),
        ],
        &[],
    );

    let manifest = scratch.dir.join("Cargo.toml");
    let edited = fs::read_to_string(&manifest)
        .unwrap()
        .replace("tag_length = 8", "tag_length = 12");
    fs::write(&manifest, edited).unwrap();
    assert_rebuilt_printing(
        &scratch,
        &[
            &head[..12],
            &format!(
                "https://cdn.example.com/assets/css/app.css?v={}",
                &head[..12]
            ),
        ],
        &[],
    );
}

#[test]
fn a_bad_value_names_the_key_and_the_manifest() {
    let (_repo, scratch) = committed_crate(
        "config_bad_value",
        "\n[package.metadata.cachekiller]\ntag_length = 2\n",
    );
    let message = scratch.build_failure(&[]);
    let manifest = scratch.dir.join("Cargo.toml");
    assert!(
        message.contains(&format!(
            "invalid cachekiller `tag_length` in [package.metadata.cachekiller] of {}: \
             expected an integer from 8 to 64, found the integer 2",
            manifest.display()
        )),
        "{message}"
    );
    // Reported at the macro call that needed it.
    assert!(message.contains("src/main.rs:4:20"), "{message}");

    let edited = fs::read_to_string(&manifest)
        .unwrap()
        .replace("tag_length = 2", "tag-length = 8");
    fs::write(&manifest, edited).unwrap();
    let message = scratch.build_failure(&[]);
    assert!(
        message.contains("unknown cachekiller option `tag-length`"),
        "{message}"
    );
    assert!(message.contains("did you mean `tag_length`?"), "{message}");
    // One mistake, one error: not one per call that reads the manifest (the crate has two).
    assert_eq!(
        message.matches("unknown cachekiller option").count(),
        1,
        "{message}"
    );
    assert!(
        message.contains("expected one of `static_url`, `param`, `tag_length`, `static_dirs`, `check_files`, `mode`, `tag_in`, `hash_length`"),
        "{message}"
    );
}

#[test]
fn a_broken_repository_says_how_to_build_anyway() {
    let (repo, scratch) = committed_crate("config_broken_repository", "");
    let head = git_head(repo.path());
    fs::write(
        repo.path().join(".git/refs/heads/main"),
        "not a commit id\n",
    )
    .unwrap();
    let message = scratch.build_failure(&[]);
    assert!(
        message.contains("found a git repository above"),
        "{message}"
    );
    assert!(message.contains("corrupted loose reference"), "{message}");
    assert!(message.contains("set CACHEKILLER_TAG"), "{message}");
    assert!(message.contains("src/main.rs:4:20"), "{message}");

    assert_rebuilt_with_tag(&scratch, "from-ci-1", &[("CACHEKILLER_TAG", "from-ci-1")]);
    fs::write(
        repo.path().join(".git/refs/heads/main"),
        format!("{head}\n"),
    )
    .unwrap();
    assert_rebuilt_with_tag(&scratch, &head[..14], &[]);
}
