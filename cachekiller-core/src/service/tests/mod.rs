//! The service's promise, item by item, one file per step of a request: what is checked is
//! what is sent. Oracles: `sha1sum` for tags and `ETag`s, `gzip -dc` for gzip bodies, the bytes
//! the test wrote.

pub(super) use std::io::Write as _;
pub(super) use std::path::Path;
pub(super) use std::process::Command;
pub(super) use std::time::{Duration, Instant};

pub(super) use http::header::CACHE_CONTROL;
pub(super) use http::{Method, Request, StatusCode};
pub(super) use http_body_util::BodyExt as _;
pub(super) use tower::ServiceExt as _;

pub(super) use super::*;
pub(super) use crate::test_support::{gunzip, sha1sum, sha1sum_of_bytes, with_revision_manifest};
pub(super) use crate::{TagIn, TagMode};
pub(super) use requests::{get, request, runtime};

pub(super) const REVISION: &str = "4b400e3aeb0426";
pub(super) const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub(super) const NO_CACHE: &str = "no-cache";

/// `static/` with a stylesheet, an image with a space in its name, a real file whose name
/// looks tagged, a link inside and links out, and a secret beside it.
pub(super) fn site() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    for (path, bytes) in [
        ("css/app.css", &b"body { color: red }\n"[..]),
        ("css/app.abc123.css", b"/* a file of its own */\n"),
        ("img/team photo.png", &[0x89, b'P', b'N', b'G', 0, 7]),
        ("LICENSE", b"MIT\n"),
        ("js/app.js", b"document.title = 'app';\n"),
    ] {
        write(&static_dir.join(path), bytes);
    }
    std::fs::write(root.path().join("secret.txt"), "secret\n").unwrap();
    std::os::unix::fs::symlink("css/app.css", static_dir.join("alias.css")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", static_dir.join("leak.css")).unwrap();
    std::os::unix::fs::symlink("/etc", static_dir.join("etc")).unwrap();
    root
}

pub(super) fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The service of `root/static` for a build that saw its files as they are now (a revision
/// that names every file, as `CACHEKILLER_TAG` does).
pub(super) fn service(root: &Path, release_build: bool) -> StaticFiles {
    StaticFiles::new(
        root.join("static"),
        with_revision_manifest(
            SiteSettings::new("tag", REVISION, 6).release_build(release_build),
            root,
        ),
    )
    .unwrap()
}

mod compression;
mod open_file;
pub(crate) mod requests;
mod response;
mod revision;
mod stylesheets;
mod url_rule;
mod verdicts;
mod versions;
