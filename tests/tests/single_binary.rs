//! One binary: the axum example (`tests/fixtures/axum-site`) built with `--release --features
//! embed,archive` carries its static files (`cdnembed!()`). Copied alone into an empty
//! directory and started there, with the crate's `static/` moved away (nothing on disk to
//! read), it serves the page and every asset in headless Chromium:
//!
//! 1. every asset the page links (stylesheet, modules through the import map, image, the
//!    stylesheet's font) is fetched once under its tagged URL and answered `immutable`; the
//!    stylesheet and the modules compressed (the server logs each encoding); the modules ran,
//!    which Chromium allows only when their bytes match the page's integrity (the entry module
//!    reports it by fetching `/ran?<greeting>`);
//! 2. the bytes: the module is `git show HEAD:static/js/…` byte for byte, the stylesheet its
//!    committed text with the font's reference tagged (`sha1sum` of each);
//! 3. after a commit that changes the stylesheet, the rebuilt binary (copied alone again, the
//!    same archive) links the new stylesheet URL and Chromium fetches it, and the old URL still
//!    gets the old bytes from the archive (which the first binary published from memory).
//!
//! Chromium must be installed (`tests/run` installs it): without it this test fails.

use std::path::Path;
use std::time::Duration;

use cachekiller_tests::oracle::{git, git_head};
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{
    free_port, http_get, http_get_with, wait_until, Chromium, Server,
};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// An entry module that reports that it ran: only after the browser checked its bytes (and
/// its import's) against the page's integrity.
const SITE_JS: &str = "import { greeting } from \"./greeting.js\";\n\
                       document.documentElement.dataset.loaded = \"yes\";\n\
                       await fetch(`/ran?${encodeURIComponent(greeting)}`);\n";

/// The binary copied alone into a new empty directory, started there with the archive
/// `archive`; the directory is returned to keep it alive.
fn start_alone(binary: &Path, archive: &Path, port: u16) -> (tempfile::TempDir, Server) {
    let alone = tempfile::tempdir().unwrap();
    let copy = alone.path().join("site");
    std::fs::copy(binary, &copy).unwrap();
    let archive = archive.to_str().unwrap();
    let server = Server::start_in(
        &copy,
        Some(alone.path()),
        &[
            ("CACHEKILLER_ARCHIVE_KEY", "single-binary-test-key"),
            ("CACHEKILLER_STATIC_ROOT", alone.path().to_str().unwrap()),
        ],
        &["--archive", archive],
        port,
    );
    assert!(
        server
            .lines()
            .iter()
            .any(|line| line.ends_with("compiled in")),
        "the binary does not carry its files:\n{:#?}",
        server.lines()
    );
    (alone, server)
}

/// `git show <commit>:site/static/<path>`, byte for byte.
fn committed(repo: &Path, commit: &str, path: &str) -> Vec<u8> {
    let output = std::process::Command::new("git")
        .current_dir(repo)
        .args(["show", &format!("{commit}:site/static/{path}")])
        .output()
        .unwrap();
    assert!(output.status.success(), "git show {commit}:{path}");
    output.stdout
}

/// The committed stylesheet at `commit` as the service sends it: its font reference tagged.
fn committed_stylesheet_as_sent(repo: &Path, commit: &str, tag: &str) -> Vec<u8> {
    String::from_utf8(committed(repo, commit, "css/site.css"))
        .unwrap()
        .replace(
            "url(../fonts/blocks.woff2)",
            &format!("url(../fonts/blocks.woff2?tag={tag})"),
        )
        .into_bytes()
}

fn sha1_hex(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    cachekiller_tests::oracle::sha1sum(file.path(), 40)
}

#[test]
fn the_binary_alone_serves_every_asset_immutable_and_the_archive_keeps_old_ones() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch = ScratchCrate::fixture_copy("axum-site", &site, "single_binary_site").in_release();
    scratch.enable_features(&["embed", "archive"]);
    std::fs::write(site.join("static/js/site.js"), SITE_JS).unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    let first = git_head(repo.path());
    let tag = first[..14].to_owned();
    let archive = tempfile::tempdir().unwrap();

    // Nothing on disk: the crate's static dir moved away while the binary runs.
    let static_dir = site.join("static");
    let moved = site.join("static-away");
    std::fs::rename(&static_dir, &moved).unwrap();
    let port = free_port();
    let (_alone, server) = start_alone(&scratch.binary(), archive.path(), port);
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());
    chromium.open(&format!("http://127.0.0.1:{port}/"));
    let ran = format!(
        "GET /ran?{}",
        "Assets%20cached%20for%20a%20year%2C%20fresh%20after%20every%20commit"
    );
    wait_until("the modules to run", Duration::from_secs(30), || {
        server.count(&ran) == 1
    });
    server.wait_for_a_quiet_log();
    let lines = server.lines();
    for asset in [
        "css/site.css",
        "js/site.js",
        "js/greeting.js",
        "img/logo.svg",
        "fonts/blocks.woff2",
    ] {
        let request = format!("GET /static/{asset}?tag={tag}");
        assert_eq!(server.count(&request), 1, "{request}:\n{lines:#?}");
        assert!(
            lines.contains(&format!("{request} 200 {IMMUTABLE}")),
            "{request} was not immutable:\n{lines:#?}"
        );
    }
    for compressed in ["css/site.css", "js/site.js"] {
        let request = format!("GET /static/{compressed}?tag={tag}");
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(&format!("encoded {request} "))),
            "{request} was not compressed:\n{lines:#?}"
        );
    }

    // The bytes, against the committed files.
    let module = http_get(port, &format!("/static/js/site.js?tag={tag}"));
    assert_eq!(
        sha1_hex(&module.body),
        sha1_hex(&committed(repo.path(), &first, "js/site.js"))
    );
    let first_css = committed_stylesheet_as_sent(repo.path(), &first, &tag);
    let served_css = http_get_with(
        port,
        &format!("/static/css/site.css?tag={tag}"),
        &[("accept-encoding", "identity")],
    );
    assert_eq!(sha1_hex(&served_css.body), sha1_hex(&first_css));
    drop(server);

    // A commit that changes the stylesheet; the rebuilt binary, alone, with the same archive.
    std::fs::rename(&moved, &static_dir).unwrap();
    std::fs::write(
        static_dir.join("css/site.css"),
        "body { background: #fdf6e3; }\n@font-face { font-family: B; src: url(../fonts/blocks.woff2); }\n",
    )
    .unwrap();
    git(repo.path(), &["commit", "-q", "-am", "a new stylesheet"]);
    assert!(!scratch.build().fresh, "the commit must rebuild the binary");
    let second = git_head(repo.path());
    let new_tag = second[..14].to_owned();
    std::fs::rename(&static_dir, &moved).unwrap();
    let (_alone, server) = start_alone(&scratch.binary(), archive.path(), port);
    chromium.open(&format!("http://127.0.0.1:{port}/"));
    let new_css = format!("GET /static/css/site.css?tag={new_tag}");
    wait_until(&new_css, Duration::from_secs(30), || {
        server.count(&new_css) == 1
    });
    let new_sent = http_get(port, &format!("/static/css/site.css?tag={new_tag}"));
    assert_eq!(
        sha1_hex(&new_sent.body),
        sha1_hex(&committed_stylesheet_as_sent(
            repo.path(),
            &second,
            &new_tag
        ))
    );
    assert_eq!(new_sent.header("cache-control"), Some(IMMUTABLE));
    // The old page's URL: the old bytes, from the archive the first binary published to.
    let old = http_get(port, &format!("/static/css/site.css?tag={tag}"));
    assert_eq!(old.status, 200);
    assert_eq!(sha1_hex(&old.body), sha1_hex(&first_css));
    assert_eq!(old.header("cache-control"), Some(IMMUTABLE));
    drop(server);
    std::fs::rename(&moved, &static_dir).unwrap();
}

/// A debug build carries nothing (this test crate is one): `StaticFiles::embedded` serves the
/// static dirs below the disk root, so an edit is seen at the next request, as
/// `StaticFiles::in_root` would see it; `embed = "always"` carries the files in every build.
#[test]
#[cfg(debug_assertions)]
fn a_debug_build_reads_the_static_dirs() {
    use cachekiller_core::service::{StaticFiles, StaticRequest};
    use cachekiller_macros::{cdnembed, cdnsettings};

    let debug = cdnembed!();
    assert!(!debug.carried());
    assert!(debug.files().is_empty());
    let always = cdnembed!(embed = "always");
    assert!(always.carried());
    let committed = committed_in_this_checkout("tests/static/js/app.js");
    let carried = always
        .files()
        .iter()
        .find(|file| file.path() == "js/app.js")
        .expect("js/app.js is carried");
    assert_eq!(sha1_hex(carried.bytes()), sha1_hex(&committed));

    let root = tempfile::tempdir().unwrap();
    let script = root.path().join("static/js/app.js");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, "export const version = 1;\n").unwrap();
    let files = StaticFiles::embedded(debug.with_disk_root(root.path()), cdnsettings!()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let headers = http::HeaderMap::new();
    let body = |files: &StaticFiles| {
        runtime.block_on(async {
            let request = StaticRequest {
                method: &http::Method::GET,
                path: "/js/app.js",
                query: None,
                headers: &headers,
            };
            let response = files.respond_to(&request).await;
            http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes()
        })
    };
    assert_eq!(&body(&files)[..], b"export const version = 1;\n");
    std::fs::write(&script, "export const version = 2;\n").unwrap();
    assert_eq!(&body(&files)[..], b"export const version = 2;\n");
}

/// `git show HEAD:<path>` of this checkout, byte for byte.
#[cfg(debug_assertions)]
fn committed_in_this_checkout(path: &str) -> Vec<u8> {
    let root = cachekiller_tests::scratch::workspace_root();
    let output = std::process::Command::new("git")
        .current_dir(&root)
        .args(["show", &format!("HEAD:{path}")])
        .output()
        .unwrap();
    assert!(output.status.success(), "git show HEAD:{path}");
    output.stdout
}
