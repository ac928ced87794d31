//! `cdnembed!()` is always fresh: each operation below is followed by a real `cargo build` of
//! a scratch crate that prints what its binary carries, compared with the files on disk.
//!
//! In a git repository (the revision tags): an edit of an embedded file, a new file
//! committed, a file removed rebuild the crate and change the embedded set; a file added
//! without a commit is not seen (cargo watches files, never a directory's listing) until the
//! crate is rebuilt for another reason. After a one-file edit, the variants of the other
//! files are not made again. Without a repository: an edit and a removal rebuild it.
//!
//! What is carried is selected as configured: `embed_exclude` patterns and hidden files
//! stay out, a file over `embed_max_bytes` stays on disk (named, with a build warning).

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use cachekiller_tests::oracle::{git, sha1sum};
use cachekiller_tests::scratch::{commit_crate_in_new_repository, workspace_root, ScratchCrate};

/// Prints each embedded file as `<path> <bytes, escaped>`, then the files left on disk.
const PRINT_EMBEDDED: &str = r#"fn main() {
    let embedded = cachekiller_macros::cdnembed!(
        embed = "always",
        embed_exclude = ["*.map"],
        embed_max_bytes = 1000,
    );
    for file in embedded.files() {
        println!("{} {}", file.path(), String::from_utf8_lossy(file.bytes()).escape_debug());
    }
    for path in embedded.left_on_disk() {
        println!("on disk {path}");
    }
}
"#;

fn manifest_extra() -> String {
    let core = workspace_root().join("cachekiller-core");
    format!(
        "cachekiller-core = {{ path = {:?} }}\n",
        core.display().to_string()
    )
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// The static files of the crate's first test, as an author leaves them.
fn prepare(scratch: &ScratchCrate) {
    let static_dir = scratch.dir.join("static");
    write(&static_dir.join("css/app.css"), "body { color: black; }\n");
    write(
        &static_dir.join("js/app.js"),
        &"console.log('app');\n".repeat(20),
    );
    write(&static_dir.join("js/app.js.map"), "{\"version\":3}\n");
    write(&static_dir.join(".env"), "SECRET=1\n");
    write(
        &static_dir.join("img/big.svg"),
        &"<!-- big -->\n".repeat(100),
    );
}

/// What the binary must print for the static dir `static_dir` as it is: every file but the
/// hidden ones and the source maps, sorted by path, with its bytes; the one over 1,000
/// bytes on disk.
fn expected(static_dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    collect(static_dir, static_dir, &mut found);
    found.sort();
    let mut embedded = Vec::new();
    let mut on_disk = Vec::new();
    for relative in found {
        let hidden = relative.split('/').any(|segment| segment.starts_with('.'));
        // `*.map` is matched as written: globs are case-sensitive, as file names are.
        let source_map = Path::new(&relative)
            .extension()
            .is_some_and(|extension| extension == "map");
        if hidden || source_map {
            continue;
        }
        let bytes = fs::read(static_dir.join(&relative)).unwrap();
        if bytes.len() > 1000 {
            on_disk.push(format!("on disk {relative}"));
        } else {
            let text = String::from_utf8(bytes).unwrap();
            embedded.push(format!("{relative} {}", text.escape_debug()));
        }
    }
    embedded.extend(on_disk);
    embedded
}

fn collect(root: &Path, dir: &Path, found: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, found);
        } else {
            let relative = path.strip_prefix(root).unwrap().to_str().unwrap();
            found.push(relative.to_owned());
        }
    }
}

/// Builds, asserting that the crate was rebuilt (or not, `fresh`), and that it carries what
/// the static dir holds now.
fn assert_built(scratch: &ScratchCrate, fresh: bool, why: &str) {
    let report = scratch.build();
    assert_eq!(report.fresh, fresh, "{why}:\n{}", report.diagnostics);
    assert_eq!(
        scratch.run(),
        expected(&scratch.dir.join("static")),
        "{why}"
    );
}

/// When the store's variant of the bytes of `file` was last written (or its mark that the
/// variant is not smaller).
fn variant_written_at(scratch: &ScratchCrate, file: &Path, extension: &str) -> SystemTime {
    let store = scratch.target_dir.join("debug/deps/cachekiller-embed");
    let name = format!("{}{extension}", sha1sum(file, 40));
    fs::metadata(store.join(&name))
        .or_else(|_| fs::metadata(store.join(format!("{name}.none"))))
        .unwrap_or_else(|error| panic!("{name} in the store: {error}"))
        .modified()
        .unwrap()
}

#[test]
fn in_a_repository_edits_commits_and_removals_change_what_is_embedded() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = commit_crate_in_new_repository(
        repo.path(),
        "embed_rebuild_git",
        PRINT_EMBEDDED,
        &manifest_extra(),
        prepare,
    );
    let static_dir = scratch.dir.join("static");
    let report = scratch.build();
    assert!(
        report
            .diagnostics
            .contains("larger than embed_max_bytes (1000) are not embedded (img/big.svg)"),
        "no warning naming the file left on disk:\n{}",
        report.diagnostics
    );
    assert_eq!(scratch.run(), expected(&static_dir));
    let script = static_dir.join("js/app.js");
    let script_variant = variant_written_at(&scratch, &script, ".br");

    fs::write(
        static_dir.join("css/app.css"),
        "body { color: rebeccapurple; }\n",
    )
    .unwrap();
    assert_built(&scratch, false, "an edit without a commit");
    assert_eq!(
        variant_written_at(&scratch, &script, ".br"),
        script_variant,
        "a one-file edit made the variants of another file again"
    );
    variant_written_at(&scratch, &static_dir.join("css/app.css"), ".gz");

    write(&static_dir.join("css/print.css"), "body { color: gray; }\n");
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "a print stylesheet"]);
    assert_built(&scratch, false, "a commit that adds a file");

    fs::remove_file(static_dir.join("css/print.css")).unwrap();
    assert_built(&scratch, false, "a removal");

    // Not seen: cargo watches the files it was told of, never a directory's listing.
    write(&static_dir.join("js/new.js"), "export const x = 1;\n");
    let report = scratch.build();
    assert!(
        report.fresh,
        "a new file without a commit rebuilt the crate"
    );
    assert!(!scratch
        .run()
        .iter()
        .any(|line| line.starts_with("js/new.js ")));
    // Seen at the next rebuild, whatever its cause.
    let main_rs = scratch.dir.join("src/main.rs");
    fs::write(&main_rs, fs::read_to_string(&main_rs).unwrap()).unwrap();
    assert_built(&scratch, false, "a rebuild after a new file");
    assert_built(&scratch, true, "nothing changed");
}

#[test]
fn without_a_repository_edits_and_removals_change_what_is_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = ScratchCrate::standalone(
        &dir.path().join("site"),
        "embed_rebuild_plain",
        PRINT_EMBEDDED,
        &manifest_extra(),
    );
    prepare(&scratch);
    let static_dir = scratch.dir.join("static");
    assert_built(&scratch, false, "the first build");
    fs::write(static_dir.join("js/app.js"), "console.log('edited');\n").unwrap();
    assert_built(&scratch, false, "an edit");
    fs::remove_file(static_dir.join("css/app.css")).unwrap();
    assert_built(&scratch, false, "a removal");
    assert_built(&scratch, true, "nothing changed");
}

/// The one case cargo cannot see without help, a file added without a commit, is seen with
/// the one-line `build.rs` the guide offers: cargo then watches the static dir's listing.
#[test]
fn a_build_script_watching_the_static_dir_sees_a_new_file() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = commit_crate_in_new_repository(
        repo.path(),
        "embed_rebuild_build_rs",
        PRINT_EMBEDDED,
        &manifest_extra(),
        |scratch| {
            prepare(scratch);
            write(
                &scratch.dir.join("build.rs"),
                "fn main() {\n    println!(\"cargo::rerun-if-changed=static\");\n}\n",
            );
        },
    );
    let static_dir = scratch.dir.join("static");
    assert_built(&scratch, false, "the first build");
    write(&static_dir.join("js/new.js"), "export const x = 1;\n");
    assert_built(
        &scratch,
        false,
        "a new file without a commit, with the build script",
    );
    assert_built(&scratch, true, "nothing changed");
}

/// A release profile with debug assertions carries nothing, and says so; with a file left on
/// disk too, both warnings are given and the build succeeds.
#[test]
fn a_release_profile_with_debug_assertions_says_it_carries_nothing() {
    let repo = tempfile::tempdir().unwrap();
    let name = "embed_rebuild_checked_release";
    let main_rs = r#"fn main() {
    let embedded = cachekiller_macros::cdnembed!(embed_max_bytes = 1000);
    println!("{} carried", embedded.files().len());
}
"#;
    let scratch = commit_crate_in_new_repository(
        repo.path(),
        name,
        main_rs,
        &format!(
            "{}\n[profile.release.package.{name}]\ndebug-assertions = true\n",
            manifest_extra()
        ),
        prepare,
    )
    .in_release();
    let report = scratch.build();
    for warning in [
        "has debug assertions on",
        "larger than embed_max_bytes (1000) are not embedded (img/big.svg)",
    ] {
        assert!(
            report.diagnostics.contains(warning),
            "no warning saying {warning:?}:\n{}",
            report.diagnostics
        );
    }
    assert_eq!(scratch.run(), ["0 carried"]);
}
