//! The quickstart (`quickstart/`) is what the README shows, file for file, and it works: built
//! in release from a git repository against this checkout's crates (its manifest names them
//! by version, as a user's does; the test patches crates.io to this checkout), run, and asked
//! over HTTP: the page's stylesheet URL is answered `immutable` and compressed, and its bytes
//! are the ones the page's integrity names (`openssl`).

use std::path::Path;

use cachekiller_tests::oracle::{git, gunzip, openssl_integrity};
use cachekiller_tests::scratch::{copy_fixture, workspace_root, ScratchCrate};
use cachekiller_tests::serving::{attribute, free_port, http_get, http_get_with, Server};

/// The files of the quickstart the README shows, in its order.
const FILES: &[&str] = &[
    "Cargo.toml",
    "src/main.rs",
    "templates/index.html",
    "static/css/app.css",
    "Dockerfile",
];

/// The fenced block that follows `<!-- quickstart/<file> -->` in the README.
fn readme_copy<'a>(readme: &'a str, file: &str) -> &'a str {
    let marker = format!("<!-- quickstart/{file} -->\n");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("the README shows quickstart/{file} after {marker:?}"))
        + marker.len();
    let block = &readme[start..];
    let body_start = block.find('\n').expect("a fence line") + 1;
    let body_end = block[body_start..]
        .find("\n```\n")
        .expect("a closing fence")
        + body_start
        + 1;
    &block[body_start..body_end]
}

#[test]
fn the_readme_shows_the_quickstart_files_verbatim() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    for file in FILES {
        let on_disk =
            std::fs::read_to_string(workspace_root().join("quickstart").join(file)).unwrap();
        assert_eq!(
            readme_copy(&readme, file),
            on_disk,
            "quickstart/{file} differs in the README"
        );
    }
}

fn quickstart_copy(repo: &Path) -> ScratchCrate {
    let site = repo.join("quickstart");
    copy_fixture(&workspace_root().join("quickstart"), &site);
    let scratch = ScratchCrate {
        dir: site.clone(),
        name: "quickstart".to_owned(),
        workspace_dir: site.clone(),
        target_dir: cachekiller_tests::scratch::shared_target_dir(),
        release: true,
    };
    let root = workspace_root();
    scratch.append_to_manifest(&format!(
        "[patch.crates-io]\ncachekiller-macros = {{ path = {:?} }}\ncachekiller-core = {{ path = {:?} }}\n",
        root.join("cachekiller-macros").display().to_string(),
        root.join("cachekiller-core").display().to_string(),
    ));
    // The versions the other examples are tested with.
    std::fs::copy(
        root.join("tests/fixtures/axum-site/Cargo.lock"),
        site.join("Cargo.lock"),
    )
    .unwrap();
    scratch
}

#[test]
fn the_quickstart_serves_its_assets_immutable_and_compressed() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let scratch = quickstart_copy(repo.path());
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the quickstart"]);
    let _ = scratch.build();
    let port = free_port();
    let _server = Server::start_with_env(
        &scratch.binary(),
        &[("ADDRESS", &format!("127.0.0.1:{port}"))],
        port,
    );

    let page = String::from_utf8(http_get(port, "/").body).unwrap();
    let stylesheet = attribute(&page, "rel=\"stylesheet\"", "href");
    let integrity = attribute(&page, "rel=\"stylesheet\"", "integrity");
    let plain = http_get(port, stylesheet);
    assert_eq!(plain.status, 200, "{stylesheet}");
    assert_eq!(
        plain.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let sent = repo.path().join("sent.css");
    std::fs::write(&sent, &plain.body).unwrap();
    assert_eq!(openssl_integrity(&sent, "sha384"), integrity);
    let compressed = http_get_with(port, stylesheet, &[("Accept-Encoding", "gzip")]);
    assert_eq!(compressed.header("content-encoding"), Some("gzip"));
    assert_eq!(
        compressed.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(gunzip(&compressed.body), plain.body);
    let logo = attribute(&page, "<img", "src");
    assert_eq!(
        http_get(port, logo).header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
}
