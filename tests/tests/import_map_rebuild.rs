//! The import map is never stale: editing, adding or removing an import in any module of the
//! graph expands `cdnimportmap!` again on the next `cargo build`, in both modes, and a module
//! outside the graph costs nothing (its edit rebuilds nothing). Real `cargo build`s of a
//! scratch crate; the expected map is made from `sha1sum`/`openssl` of the files and
//! `git rev-parse HEAD`, never from the code under test.

use std::fs;
use std::path::Path;

use cachekiller_tests::oracle::{expected_import_map, git, git_head, openssl_integrity, sha1sum};
use cachekiller_tests::scratch::{commit_crate_in_new_repository, ScratchCrate};

const PRINT_MAP: &str = r#"use cachekiller_macros::cdnimportmap;

fn main() {
    println!("{}", cdnimportmap!("js/app.js"));
}
"#;

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join("static").join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// The map the crate must print for the modules `paths`: each module's untagged URL mapped to
/// its URL tagged by `tag_of`, with `openssl`'s sha384.
fn expected_map(dir: &Path, paths: &[&str], tag_of: &dyn Fn(&Path) -> String) -> String {
    let mut imports = Vec::new();
    let mut integrity = Vec::new();
    for path in paths {
        let file = dir.join("static").join(path);
        let tagged = format!("/static/{path}?tag={}", tag_of(&file));
        imports.push((format!("/static/{path}"), tagged.clone()));
        integrity.push((tagged, openssl_integrity(&file, "sha384")));
    }
    expected_import_map(imports, integrity)
}

/// True if `file` holds the bytes HEAD of the repository at `repo` holds at its path: `git
/// hash-object` of it is `git rev-parse HEAD:<path>`.
fn committed_unchanged(repo: &Path, file: &Path) -> bool {
    let path = file.strip_prefix(repo).unwrap().to_str().unwrap();
    let committed = std::process::Command::new("git")
        .args(["rev-parse", "-q", "--verify", &format!("HEAD:{path}")])
        .current_dir(repo)
        .output()
        .unwrap();
    committed.status.success()
        && String::from_utf8_lossy(&committed.stdout).trim()
            == git(repo, &["hash-object", file.to_str().unwrap()])
}

fn assert_prints_after_a_rebuild(scratch: &ScratchCrate, expected: &str, what: &str) {
    assert!(!scratch.build().fresh, "{what}: the crate was not rebuilt");
    assert_eq!(scratch.run(), [expected], "{what}");
    assert!(
        scratch.build().fresh,
        "{what}: rebuilt although nothing changed"
    );
}

fn graph_edits_re_expand_the_map(name: &str, metadata: &str, content: bool) {
    let repo = tempfile::tempdir().unwrap();
    let scratch =
        commit_crate_in_new_repository(repo.path(), name, PRINT_MAP, metadata, |scratch| {
            write(&scratch.dir, "js/app.js", "import { ui } from './ui.js';\n");
            write(&scratch.dir, "js/ui.js", "export const ui = 1;\n");
            write(&scratch.dir, "js/chart.js", "export const chart = 1;\n");
            write(&scratch.dir, "js/outside.js", "export const outside = 1;\n");
        });
    let dir = scratch.dir.clone();
    let head = || git_head(repo.path())[..14].to_owned();
    // In revision mode, a module whose bytes are not HEAD's (edited, not committed) gets its
    // content tag: the revision does not name it.
    let tag_of = |file: &Path| {
        if content || !committed_unchanged(repo.path(), file) {
            sha1sum(file, 6)
        } else {
            head()
        }
    };
    assert_prints_after_a_rebuild(
        &scratch,
        &expected_map(&dir, &["js/app.js", "js/ui.js"], &tag_of),
        "the first build",
    );

    // An import added deep in the graph: the new module is mapped.
    write(
        &dir,
        "js/ui.js",
        "export { chart } from \"./chart.js\";\nexport const ui = 1;\n",
    );
    assert_prints_after_a_rebuild(
        &scratch,
        &expected_map(&dir, &["js/app.js", "js/chart.js", "js/ui.js"], &tag_of),
        "an import added to ui.js",
    );

    // A module of the graph edited: in content mode its URL changes; in both modes the map
    // is expanded again (its integrity changes).
    write(&dir, "js/chart.js", "export const chart = 2;\n");
    assert_prints_after_a_rebuild(
        &scratch,
        &expected_map(&dir, &["js/app.js", "js/chart.js", "js/ui.js"], &tag_of),
        "chart.js edited",
    );

    // The import removed: the module leaves the map.
    write(&dir, "js/ui.js", "export const ui = 2;\n");
    assert_prints_after_a_rebuild(
        &scratch,
        &expected_map(&dir, &["js/app.js", "js/ui.js"], &tag_of),
        "the import removed from ui.js",
    );

    // A module outside the graph (now chart.js too) costs nothing.
    write(&dir, "js/outside.js", "export const outside = 2;\n");
    write(&dir, "js/chart.js", "export const chart = 3;\n");
    assert!(
        scratch.build().fresh,
        "an edit outside the graph rebuilt the crate"
    );

    // A commit: a revision-tagged map changes with it; a content-tagged one does not.
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "edits"]);
    if content {
        assert!(scratch.build().fresh, "a commit rebuilt a content-mode map");
    } else {
        assert_prints_after_a_rebuild(
            &scratch,
            &expected_map(&dir, &["js/app.js", "js/ui.js"], &tag_of),
            "a commit",
        );
    }
}

#[test]
fn revision_mode() {
    graph_edits_re_expand_the_map("import_map_vcs", "", false);
}

#[test]
fn content_mode() {
    graph_edits_re_expand_the_map(
        "import_map_content",
        "\n[package.metadata.cachekiller]\nmode = \"content\"\n",
        true,
    );
}
