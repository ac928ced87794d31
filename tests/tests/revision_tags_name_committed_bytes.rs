//! A revision tag names the bytes its commit holds, and a release server never sends other
//! bytes under it as `immutable`, whatever happens to its files while it runs. The axum
//! example, built in release at two commits (`tests/src/deploys.rs`: R1 = A, R2 = B) with
//! `static_dirs = ["override", "static"]` and a 3 MiB script, and asked over HTTP while the
//! files under it change the way deploys change them:
//!
//! 1. a script rewritten in place, slowly, and overwritten with other bytes of the same size,
//!    while it is requested under the revision tag, in both URL forms, with and without
//!    `Accept-Encoding`;
//! 2. R2's files copied over a running R1, then R1's tags asked for files it never sent;
//! 3. a file created in an earlier static dir after start, shadowing the committed one;
//! 4. a build of the same revision from a dirty work tree (an uncommitted edit of the
//!    stylesheet) next to the clean build, both publishing to one archive, and R1 asked for
//!    R2's URLs: the dirty bytes are never `immutable` under R2's tag, on any instance.
//!
//! Every `immutable` response is checked against the oracle of the commit's bytes, `git show
//! <commit>:<file> | sha1sum`; compressed bodies are decoded by `gzip -dc` and Google's Brotli
//! decoder first.

use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cachekiller_tests::deploys::{sha1_of, TwoDeploys};
use cachekiller_tests::oracle::{git, gunzip, unbrotli};
use cachekiller_tests::serving::{
    compressible_script, free_port, http_get, http_get_with, HttpResponse, Server,
};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const BIG_SCRIPT: &str = "js/big.js";

/// A 3 MiB script that compresses, different in each commit.
fn big_script(commit: &str) -> Vec<u8> {
    compressible_script(commit, 3 << 20)
}

fn deploys() -> TwoDeploys {
    TwoDeploys::build(
        "revision_bytes",
        &["archive"],
        "[package.metadata.cachekiller]\nstatic_dirs = [\"override\", \"static\"]\n",
        |site| {
            std::fs::create_dir_all(site.join("override")).unwrap();
            std::fs::write(site.join("override/robots.txt"), "User-agent: *\n").unwrap();
            std::fs::write(site.join("static").join(BIG_SCRIPT), big_script("A")).unwrap();
        },
        |site| std::fs::write(site.join("static").join(BIG_SCRIPT), big_script("B")).unwrap(),
    )
}

/// The body as the client reads it, decoded.
fn decoded(response: &HttpResponse) -> Vec<u8> {
    match response.header("content-encoding") {
        Some("gzip") => gunzip(&response.body),
        Some("br") => unbrotli(&response.body),
        None | Some("identity") => response.body.clone(),
        Some(other) => panic!("an unexpected content coding {other}"),
    }
}

/// Asserts that if `response` is `immutable`, its bytes are `committed` (a SHA-1); returns
/// whether it was.
fn immutable_only_with(committed: &str, url: &str, response: &HttpResponse) -> bool {
    let immutable = response.header("cache-control") == Some(IMMUTABLE);
    if immutable {
        assert_eq!(response.status, 200, "{url}");
        let body = decoded(response);
        assert_eq!(
            sha1_of(&body),
            committed,
            "{url} was answered `immutable` with {} bytes that are not the commit's",
            body.len()
        );
    }
    immutable
}

/// The URLs of `path` under `tag`: the query form and the file-name form.
fn both_forms(path: &str, tag: &str) -> [String; 2] {
    let (stem, extension) = path.rsplit_once('.').unwrap();
    [
        format!("/static/{path}?tag={tag}"),
        format!("/static/{stem}.{tag}.{extension}"),
    ]
}

/// Restores the work tree of the checkout holding `site` to its commit.
fn restore(site: &Path) {
    git(site, &["checkout", "-q", "--", "."]);
    git(site, &["clean", "-q", "-f", "-d", "--", "."]);
}

/// 1. A writer that keeps rewriting the big script in place while it is requested under the
///    revision tag: slowly from the start (a prefix that never existed as a whole file), and
///    over the old bytes without truncating (a mix of two versions of one size).
fn a_file_being_written_is_never_immutable_under_the_revision(deploys: &TwoDeploys) {
    let site = &deploys.b.dir;
    let committed = deploys.committed_sha1(&deploys.commit_b, BIG_SCRIPT);
    let port = free_port();
    let _server = Server::start(&deploys.b.binary(), port);
    let path = site.join("static").join(BIG_SCRIPT);
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let writing = Arc::clone(&writing);
        let path = path.clone();
        std::thread::spawn(move || {
            let versions = [big_script("B"), big_script("X")];
            let mut round = 0;
            while writing.load(Ordering::Relaxed) {
                let bytes = &versions[round % 2];
                let truncate = round % 4 < 2;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(truncate)
                    .open(&path)
                    .unwrap();
                file.seek(SeekFrom::Start(0)).unwrap();
                for chunk in bytes.chunks(64 * 1024) {
                    file.write_all(chunk).unwrap();
                    std::thread::sleep(Duration::from_millis(3));
                }
                round += 1;
            }
            std::fs::write(&path, &versions[0]).unwrap();
        })
    };
    // The first request comes while a write is under way: a server that trusts the first
    // bytes it reads under its revision gets them here.
    std::thread::sleep(Duration::from_millis(30));
    let started = Instant::now();
    let mut answered = 0;
    let urls = both_forms(BIG_SCRIPT, deploys.tag_b());
    while started.elapsed() < Duration::from_secs(5) {
        // Mostly without `Accept-Encoding`: every write is a new version, compressed anew.
        let encoding = [None, None, None, Some("gzip"), None, Some("br, gzip")][answered % 6];
        let url = &urls[answered % 2];
        let headers: Vec<(&str, &str)> = encoding
            .map(|value| ("Accept-Encoding", value))
            .into_iter()
            .collect();
        let response = http_get_with(port, url, &headers);
        immutable_only_with(&committed, url, &response);
        answered += 1;
    }
    writing.store(false, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        answered >= 4,
        "only {answered} answers while the file was written"
    );
    // The committed bytes back, settled: the same URLs are `immutable` again, with them.
    std::thread::sleep(Duration::from_millis(2_100));
    for url in both_forms(BIG_SCRIPT, deploys.tag_b()) {
        for encoding in [None, Some("br")] {
            let headers: Vec<(&str, &str)> = encoding
                .map(|value| ("Accept-Encoding", value))
                .into_iter()
                .collect();
            let response = http_get_with(port, &url, &headers);
            assert!(
                immutable_only_with(&committed, &url, &response),
                "{url} with {encoding:?}: {:?}",
                response.header("cache-control")
            );
        }
    }
    restore(site);
}

/// 2. R2's static files copied over a running R1: R1's tag never makes R2's bytes
///    `immutable`, for a file asked for before the copy or not.
fn files_copied_over_a_running_server_are_not_its_revision(deploys: &TwoDeploys) {
    let site = &deploys.a.dir;
    let port = free_port();
    let _server = Server::start(&deploys.a.binary(), port);
    let stylesheet = &both_forms("css/site.css", deploys.tag_a())[0];
    let before = http_get(port, stylesheet);
    assert!(immutable_only_with(
        &deploys.committed_sha1(&deploys.commit_a, "css/site.css"),
        stylesheet,
        &before
    ));
    copy_tree(&deploys.b.dir.join("static"), &site.join("static"));
    for path in ["css/site.css", "js/greeting.js", BIG_SCRIPT] {
        let committed = deploys.committed_sha1(&deploys.commit_a, path);
        for url in both_forms(path, deploys.tag_a()) {
            let response = http_get(port, &url);
            assert_eq!(response.status, 200, "{url}");
            assert_ne!(
                sha1_of(&response.body),
                committed,
                "{url}: the copy did not change the file"
            );
            assert!(
                !immutable_only_with(&committed, &url, &response),
                "{url}: R2's bytes under R1's tag"
            );
        }
    }
    restore(site);
}

/// 3. A file created in the earlier static dir after start shadows the committed one: its
///    bytes are not the revision's; removed again, the committed file is `immutable` again.
fn a_file_shadowing_the_committed_one_is_not_the_revision(deploys: &TwoDeploys) {
    let site = &deploys.b.dir;
    let committed = deploys.committed_sha1(&deploys.commit_b, "css/site.css");
    let port = free_port();
    let _server = Server::start(&deploys.b.binary(), port);
    let urls = both_forms("css/site.css", deploys.tag_b());
    for url in &urls {
        assert!(
            immutable_only_with(&committed, url, &http_get(port, url)),
            "{url}"
        );
    }
    let shadow = site.join("override/css/site.css");
    std::fs::create_dir_all(shadow.parent().unwrap()).unwrap();
    std::fs::write(&shadow, "body { color: red } /* shadow */\n").unwrap();
    for url in &urls {
        let response = http_get(port, url);
        assert_eq!(
            response.body, b"body { color: red } /* shadow */\n",
            "{url}"
        );
        assert!(!immutable_only_with(&committed, url, &response), "{url}");
    }
    std::fs::remove_file(&shadow).unwrap();
    for url in &urls {
        assert!(
            immutable_only_with(&committed, url, &http_get(port, url)),
            "{url}"
        );
    }
    restore(site);
}

/// 4 and 6. A build of R2 from a dirty work tree: the build says so, its page links the edited
/// stylesheet by its content, and with the clean build of R2 and R1 sharing an archive, no
/// instance answers R2's tag with the dirty bytes `immutable`.
fn a_dirty_build_never_speaks_for_its_revision(deploys: &TwoDeploys) {
    let root = deploys.repository.path();
    git(
        root,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            "dirty",
            &deploys.commit_b,
        ],
    );
    let mut dirty = deploys.b.checked_out_at(&root.join("dirty/site"));
    "revision_bytes_dirty".clone_into(&mut dirty.name);
    let manifest = dirty.dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        // The committed name (each checkout renames its package in its work tree only).
        text.replacen(
            "name = \"revision_bytes\"",
            "name = \"revision_bytes_dirty\"",
            1,
        ),
    )
    .unwrap();
    let edited = "body { color: #fdf6e3; } /* deploy B, edited, not committed */\n";
    std::fs::write(dirty.dir.join("static/css/site.css"), edited).unwrap();
    let built = dirty.build();
    assert!(
        built.diagnostics.contains("differ from commit")
            && built.diagnostics.contains("css/site.css"),
        "the dirty build says nothing of its edit:\n{}",
        built.diagnostics
    );

    let archive = deploys.archive_dir();
    let archive = archive.to_str().unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let start = |binary: &Path, port| {
        Server::start_with_env(binary, &[("CACHEKILLER_ARCHIVE", archive)], port)
    };
    let _clean = start(&deploys.b.binary(), ports[0]);
    let _dirty = start(&dirty.binary(), ports[1]);
    let _old = start(&deploys.a.binary(), ports[2]);

    let page = String::from_utf8(http_get(ports[1], "/").body).unwrap();
    let dirty_url = cachekiller_tests::serving::attribute(&page, "rel=\"stylesheet\"", "href");
    assert!(
        !dirty_url.contains(deploys.tag_b()),
        "the dirty build links its edit under the revision tag: {dirty_url}"
    );
    let response = http_get(ports[1], dirty_url);
    assert_eq!(response.body, edited.as_bytes());
    assert_eq!(
        response.header("cache-control"),
        Some(IMMUTABLE),
        "{dirty_url}"
    );

    let committed = deploys.committed_sha1(&deploys.commit_b, "css/site.css");
    for port in ports {
        for url in both_forms("css/site.css", deploys.tag_b()) {
            let response = http_get(port, &url);
            immutable_only_with(&committed, &url, &response);
        }
    }
    // The clean instance's own bytes stay `immutable` under its tag.
    let url = &both_forms("css/site.css", deploys.tag_b())[0];
    assert!(immutable_only_with(
        &committed,
        url,
        &http_get(ports[0], url)
    ));
}

/// Copies the files below `from` over those below `to`.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_revision_tag_is_immutable_only_for_the_bytes_its_commit_holds() {
    let deploys = deploys();
    a_file_being_written_is_never_immutable_under_the_revision(&deploys);
    files_copied_over_a_running_server_are_not_its_revision(&deploys);
    a_file_shadowing_the_committed_one_is_not_the_revision(&deploys);
    a_dirty_build_never_speaks_for_its_revision(&deploys);
}
