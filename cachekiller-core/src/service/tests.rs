//! The service's promise, item by item: what is checked is what is sent. Oracles: `sha1sum`
//! for tags and `ETag`s, `gzip -dc` for gzip bodies, the bytes the test wrote.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::test_requests::{get, request, runtime};
use super::*;
use crate::test_support::{gunzip, sha1sum, sha1sum_of_bytes, with_revision_manifest};
use crate::{TagIn, TagMode};

const REVISION: &str = "4b400e3aeb0426";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// `static/` with a stylesheet, an image with a space in its name, a real file whose name
/// looks tagged, a link inside and links out, and a secret beside it.
fn site() -> tempfile::TempDir {
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

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The service of `root/static` for a build that saw its files as they are now (a revision
/// that names every file, as `CACHEKILLER_TAG` does).
fn service(root: &Path, release_build: bool) -> StaticFiles {
    StaticFiles::new(
        root.join("static"),
        with_revision_manifest(SiteSettings::new("tag", REVISION, 6, release_build), root),
    )
    .unwrap()
}

#[test]
fn only_the_tag_of_the_bytes_served_is_immutable() {
    let root = site();
    let css = root.path().join("static/css/app.css");
    let css_bytes = std::fs::read(&css).unwrap();
    let content = sha1sum(&css, 40)[..6].to_owned();
    let long_content = sha1sum(&css, 40)[..8].to_owned();
    let image = root.path().join("static/img/team photo.png");
    let image_content = sha1sum(&image, 40)[..6].to_owned();
    let old = if content == "000000" {
        "111111"
    } else {
        "000000"
    };
    let release = service(root.path(), true);
    let png: &[u8] = &[0x89, b'P', b'N', b'G', 0, 7];
    // (uri, cache-control, body)
    let cases: Vec<(String, &str, &[u8])> = vec![
        (format!("/css/app.css?tag={content}"), IMMUTABLE, &css_bytes),
        (format!("/css/app.{content}.css"), IMMUTABLE, &css_bytes),
        (
            format!("/css/app.css?v=2&tag={content}"),
            IMMUTABLE,
            &css_bytes,
        ),
        // A per-call `hash_length = 8` makes longer content tags: any length the macros make.
        (
            format!("/css/app.{long_content}.css"),
            IMMUTABLE,
            &css_bytes,
        ),
        (
            format!("/css/app.css?tag={REVISION}"),
            IMMUTABLE,
            &css_bytes,
        ),
        (format!("/css/app.{REVISION}.css"), IMMUTABLE, &css_bytes),
        (format!("/LICENSE.{REVISION}"), IMMUTABLE, b"MIT\n"),
        // An older or a newer deploy's tag, or a typo: the current bytes, revalidated.
        (format!("/css/app.css?tag={old}"), NO_CACHE, &css_bytes),
        (format!("/css/app.{old}.css"), NO_CACHE, &css_bytes),
        (
            "/css/app.css?tag=0000000000deadbeef".into(),
            NO_CACHE,
            &css_bytes,
        ),
        ("/css/app.css?tag=nextdeploy".into(), NO_CACHE, &css_bytes),
        ("/css/app.nextdeploy.css".into(), NO_CACHE, &css_bytes),
        // Two hex digits could be a guess.
        (
            format!("/css/app.css?tag={}", &content[..2]),
            NO_CACHE,
            &css_bytes,
        ),
        (
            format!("/css/app.css?tag={}", content.to_uppercase()),
            NO_CACHE,
            &css_bytes,
        ),
        // Malformed tags count as none; no tag: revalidated.
        ("/css/app.css?tag=a%20b".into(), NO_CACHE, &css_bytes),
        ("/css/app.css?tag=".into(), NO_CACHE, &css_bytes),
        ("/css/app.css".into(), NO_CACHE, &css_bytes),
        // A real file whose name looks tagged is itself, untagged.
        (
            "/css/app.abc123.css".into(),
            NO_CACHE,
            b"/* a file of its own */\n",
        ),
        // Percent-encoded names, in both forms.
        (
            format!("/img/team%20photo.png?tag={image_content}"),
            IMMUTABLE,
            png,
        ),
        (
            format!("/img/team%20photo.{image_content}.png"),
            IMMUTABLE,
            png,
        ),
        // A link that stays inside is served.
        (format!("/alias.css?tag={content}"), IMMUTABLE, &css_bytes),
    ];
    runtime().block_on(async {
        for (uri, cache_control, body) in &cases {
            let answer = get(&release, uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}");
            assert_eq!(answer.cache_control(), *cache_control, "{uri}");
            assert_eq!(answer.body, *body, "{uri}");
            // The validator names the bytes sent.
            assert_eq!(
                answer.header("etag"),
                format!("\"{}\"", sha1sum_of_bytes(body)),
                "{uri}"
            );
        }
    });
}

#[test]
fn a_revision_is_trusted_only_in_a_release_build_and_only_when_it_names_files() {
    let root = site();
    let content = sha1sum(&root.path().join("static/css/app.css"), 40)[..6].to_owned();
    let debug = service(root.path(), false);
    let dated = StaticFiles::new(
        root.path().join("static"),
        // No manifest: the revision names no files.
        SiteSettings::new("tag", "20261128101500", 6, true),
    )
    .unwrap();
    runtime().block_on(async {
        for uri in [
            format!("/css/app.css?tag={REVISION}"),
            format!("/css/app.{REVISION}.css"),
        ] {
            assert_eq!(get(&debug, &uri).await.cache_control(), NO_CACHE, "{uri}");
        }
        // A `SOURCE_DATE_EPOCH` date is shared by two builds of different files.
        let answer = get(&dated, "/css/app.css?tag=20261128101500").await;
        assert_eq!(answer.cache_control(), NO_CACHE);
        // A content tag is proven by the bytes themselves, in any build.
        for served in [&debug, &dated] {
            let uri = format!("/css/app.{content}.css");
            assert_eq!(get(served, &uri).await.cache_control(), IMMUTABLE);
        }
    });
}

#[test]
fn paths_out_of_the_directory_hidden_files_and_refused_names_are_not_found() {
    let root = site();
    let static_dir = root.path().join("static");
    write(&static_dir.join(".env"), b"SECRET=1\n");
    let env_tag = sha1sum(&static_dir.join(".env"), 40)[..6].to_owned();
    write(
        &static_dir.join(".well-known/security.txt"),
        b"Contact: x\n",
    );
    std::os::unix::fs::symlink("loop", static_dir.join("loop")).unwrap();
    let release = service(root.path(), true);
    let long_name = format!("/{}.css", "x".repeat(300));
    let long_path = format!("/{}", "abcdefg/".repeat(512));
    let loops = format!("/{}a.css", "loop/".repeat(40));
    runtime().block_on(async {
        for uri in [
            "/../secret.txt",
            "/css/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/css/%2E%2E/%2E%2E/secret.txt",
            "/leak.css",
            &format!("/leak.{REVISION}.css"),
            "/etc/passwd",
            "/etc/hostname?tag=4b400e3aeb0426",
            "/a%00.css",
            "/.env",
            "/%2Eenv",
            &format!("/.env.{env_tag}"),
            &format!("/.env?tag={env_tag}"),
            &long_name,
            &long_path,
            &loops,
            "/css/app.css/more",
            "/css/missing.css?tag=4b400e3aeb0426",
            // An encoded slash: one segment to the browser, two to the disk.
            "/css%2Fapp.css",
            "/img%2fteam%20photo.png",
        ] {
            let answer = get(&release, uri).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
            assert!(answer.body.is_empty(), "{uri}");
            assert_eq!(answer.cache_control(), "-", "{uri}");
        }
        let answer = get(&release, "/.well-known/security.txt").await;
        assert_eq!(answer.status, StatusCode::OK);
        let opted_in = service(root.path(), true).serve_hidden_files();
        assert_eq!(get(&opted_in, "/.env").await.body, b"SECRET=1\n");
    });
}

#[test]
fn names_ending_in_any_character_answer_without_panicking() {
    let root = site();
    write(&root.path().join("static/img/日本"), b"nihon");
    let release = service(root.path(), true);
    runtime().block_on(async {
        assert_eq!(
            get(&release, "/img/%E6%97%A5%E6%9C%AC").await.body,
            b"nihon"
        );
        assert_eq!(
            get(&release, "/img/%E2%82%AC%E2%82%AC").await.status,
            StatusCode::NOT_FOUND
        );
        // A raw UTF-8 request line, as some clients send it.
        if let Ok(request) = Request::get("/img/日本").body(String::new()) {
            let response = release.clone().oneshot(request).await.unwrap();
            assert!(
                response.status() == StatusCode::OK || response.status() == StatusCode::NOT_FOUND
            );
        }
    });
}

#[test]
fn directories_serve_their_checked_index_and_redirect_keeping_the_mount_prefix() {
    let root = site();
    let static_dir = root.path().join("static");
    write(&static_dir.join("docs/index.html"), b"<h1>docs</h1>\n");
    write(&root.path().join("outside/secret.txt"), b"secret\n");
    std::fs::create_dir_all(static_dir.join("private")).unwrap();
    std::os::unix::fs::symlink(
        root.path().join("outside/secret.txt"),
        static_dir.join("private/index.html"),
    )
    .unwrap();
    let release = service(root.path(), true);
    runtime().block_on(async {
        let answer = get(&release, "/docs/").await;
        assert_eq!(answer.body, b"<h1>docs</h1>\n");
        assert_eq!(answer.header("content-type"), "text/html");
        // Relative, so that `/static/docs` goes to `/static/docs/` under any mount point.
        let answer = get(&release, "/docs?x=1").await;
        assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(answer.header("location"), "./docs/?x=1");
        for uri in ["/private/", "/private/index.html", "/private/."] {
            assert_eq!(
                get(&release, uri).await.status,
                StatusCode::NOT_FOUND,
                "{uri}"
            );
        }
    });
}

#[test]
fn a_directory_swapped_for_a_link_out_is_refused_at_once() {
    let root = site();
    let static_dir = root.path().join("static");
    write(&static_dir.join("sub/hostname"), b"inside\n");
    let release = service(root.path(), true);
    runtime().block_on(async {
        assert_eq!(get(&release, "/sub/hostname").await.body, b"inside\n");
        std::fs::rename(static_dir.join("sub"), static_dir.join("sub.old")).unwrap();
        std::os::unix::fs::symlink("/etc", static_dir.join("sub")).unwrap();
        assert_eq!(
            get(&release, "/sub/hostname").await.status,
            StatusCode::NOT_FOUND
        );
    });
}

#[test]
fn a_deploy_that_swaps_a_symbolic_link_is_followed_at_once() {
    let root = tempfile::tempdir().unwrap();
    for (release, css) in [("1", "one {}\n"), ("2", "two {}\n")] {
        write(
            &root
                .path()
                .join(format!("releases/{release}/static/app.css")),
            css.as_bytes(),
        );
    }
    let current = root.path().join("current");
    std::os::unix::fs::symlink("releases/1", &current).unwrap();
    let served = StaticFiles::new(
        current.join("static"),
        SiteSettings::new("tag", REVISION, 6, true),
    )
    .unwrap();
    runtime().block_on(async {
        assert_eq!(get(&served, "/app.css").await.body, b"one {}\n");
        let next = root.path().join("current.next");
        std::os::unix::fs::symlink("releases/2", &next).unwrap();
        std::fs::rename(&next, &current).unwrap();
        assert_eq!(get(&served, "/app.css").await.body, b"two {}\n");
    });
}

#[test]
fn ranges_head_methods_and_conditional_requests_on_content_validators() {
    let root = site();
    let release = service(root.path(), true);
    let script = root.path().join("static/js/app.js");
    let content = sha1sum(&script, 40)[..6].to_owned();
    let etag = format!("\"{}\"", sha1sum(&script, 40));
    runtime().block_on(async {
        let uri = format!("/js/app.{content}.js");
        let first = get(&release, &uri).await;
        assert_eq!(first.header("content-type"), "text/javascript");
        assert_eq!(first.header("etag"), etag);
        assert_eq!(
            first.header("last-modified"),
            "-",
            "mtime is no validator here"
        );

        let not_modified = request(&release, Method::GET, &uri, &[("if-none-match", &etag)]).await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
        assert_eq!(not_modified.cache_control(), IMMUTABLE);
        assert!(not_modified.body.is_empty());
        let weak = format!("W/{etag}, \"other\"");
        let not_modified = request(&release, Method::GET, &uri, &[("if-none-match", &weak)]).await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);

        // If-Modified-Since alone is never a 304.
        let since = [("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")];
        assert_eq!(
            request(&release, Method::GET, &uri, &since).await.status,
            StatusCode::OK
        );

        let partial = request(&release, Method::GET, &uri, &[("range", "bytes=0-3")]).await;
        assert_eq!(partial.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(partial.body, b"docu");
        assert_eq!(partial.header("content-range"), "bytes 0-3/24");
        assert_eq!(partial.cache_control(), IMMUTABLE);
        let other_version = [("range", "bytes=0-3"), ("if-range", "\"0000\"")];
        let whole = request(&release, Method::GET, &uri, &other_version).await;
        assert_eq!(whole.status, StatusCode::OK);
        assert_eq!(whole.body.len(), 24);
        let other_unit = request(&release, Method::GET, &uri, &[("range", "items=0-3")]).await;
        assert_eq!(other_unit.status, StatusCode::OK);
        assert_eq!(other_unit.body.len(), 24);
        let beyond = request(&release, Method::GET, &uri, &[("range", "bytes=100-")]).await;
        assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(beyond.header("content-range"), "bytes */24");

        let head = request(&release, Method::HEAD, &uri, &[]).await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.cache_control(), IMMUTABLE);
        assert_eq!(head.header("content-length"), "24");
        assert!(head.body.is_empty());
        let post = request(&release, Method::POST, &uri, &[]).await;
        assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.header("allow"), "GET, HEAD");
    });
}

/// Item 2: the old and the new `app.js` of a rolling deploy, of equal size and mtime. The old
/// instance's validator, sent to the new one, is not a `304`.
#[test]
fn a_validator_from_another_deploy_with_equal_size_and_mtime_is_not_a_304() {
    let root = tempfile::tempdir().unwrap();
    let old_dir = root.path().join("old/static");
    let new_dir = root.path().join("new/static");
    write(&old_dir.join("js/app.js"), b"console.log('v1');\n");
    write(&new_dir.join("js/app.js"), b"console.log('v2');\n");
    let mtime = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for dir in [&old_dir, &new_dir] {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join("js/app.js"))
            .unwrap();
        file.set_modified(mtime).unwrap();
    }
    let settings = SiteSettings::new("tag", REVISION, 6, true);
    let old = StaticFiles::new(&old_dir, settings.clone()).unwrap();
    let new = StaticFiles::new(&new_dir, settings).unwrap();
    let new_tag = sha1sum(&new_dir.join("js/app.js"), 40)[..6].to_owned();
    let uri = format!("/js/app.js?tag={new_tag}");
    runtime().block_on(async {
        let from_old = get(&old, &uri).await;
        assert_eq!(from_old.cache_control(), NO_CACHE);
        assert_eq!(from_old.body, b"console.log('v1');\n");
        let etag = from_old.header("etag").to_owned();
        let from_new = request(&new, Method::GET, &uri, &[("if-none-match", &etag)]).await;
        assert_eq!(from_new.status, StatusCode::OK);
        assert_eq!(from_new.cache_control(), IMMUTABLE);
        assert_eq!(from_new.body, b"console.log('v2');\n");
    });
}

/// Item 4: `cp -p app.js ref; printf … > app.js; touch -r ref app.js`: the size, mtime and
/// inode are the old file's; the ctime is not.
#[test]
fn an_in_place_edit_with_size_mtime_and_inode_kept_is_seen() {
    let root = site();
    let script = root.path().join("static/js/app.js");
    std::fs::write(&script, "console.log(\"v1\");\n").unwrap();
    let old_tag = sha1sum(&script, 40)[..6].to_owned();
    let release = service(root.path(), true);
    let uri = format!("/js/app.js?tag={old_tag}");
    runtime().block_on(async {
        assert_eq!(get(&release, &uri).await.cache_control(), IMMUTABLE);
        let modified = std::fs::metadata(&script).unwrap().modified().unwrap();
        std::fs::write(&script, "console.log(\"v2\");\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&script)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let answer = get(&release, &uri).await;
        assert_eq!(answer.body, b"console.log(\"v2\");\n");
        assert_eq!(answer.cache_control(), NO_CACHE);
    });
}

/// Item 3: a writer swapping two versions (renames of different sizes, and in-place writes of
/// the same size) while a client asks for version 1's tag: never `immutable` with bytes the
/// tag does not name.
#[test]
fn a_file_replaced_while_requests_run_is_never_immutable_with_other_bytes() {
    let root = site();
    let static_dir = root.path().join("static");
    let race = static_dir.join("js/race.js");
    let version_one = b"console.log('version one');\n".repeat(50);
    let version_two = b"console.log('version two, longer');\n".repeat(70);
    let version_one_prime = b"console.log('version ONE');\n".repeat(50);
    assert_eq!(version_one.len(), version_one_prime.len());
    std::fs::write(&race, &version_one).unwrap();
    let tag = sha1sum(&race, 40)[..6].to_owned();
    let release = service(root.path(), true);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        let (race, staging) = (race.clone(), static_dir.join("js/.staging"));
        let (one, two, prime) = (version_one.clone(), version_two.clone(), version_one_prime);
        std::thread::spawn(move || {
            let mut round = 0_u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if round.is_multiple_of(2) {
                    // os.replace of two versions of different sizes.
                    for bytes in [&two, &one] {
                        std::fs::write(&staging, bytes).unwrap();
                        std::fs::rename(&staging, &race).unwrap();
                        std::thread::sleep(Duration::from_millis(1));
                    }
                } else {
                    // In place, the same size.
                    for bytes in [&prime, &one] {
                        let mut file = std::fs::File::options().write(true).open(&race).unwrap();
                        file.write_all(bytes).unwrap();
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                round += 1;
            }
        })
    };
    let uri = format!("/js/race.js?tag={tag}");
    let (mut immutable, mut total) = (0, 0);
    runtime().block_on(async {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            let answer = get(&release, &uri).await;
            total += 1;
            if answer.cache_control() == IMMUTABLE {
                immutable += 1;
                assert_eq!(answer.body, version_one, "immutable with other bytes");
            }
            // Whatever the verdict, the validator names the bytes sent.
            assert_eq!(
                answer.header("etag"),
                format!("\"{}\"", sha1sum_of_bytes(&answer.body))
            );
        }
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(total > 50, "only {total} requests ran");
    assert!(
        immutable > 0,
        "version one was never served as itself in {total} requests"
    );
}

/// Item 1: a stale `.gz` sibling is never sent; a fresh one is.
#[test]
fn compression_comes_from_the_checked_bytes_and_only_matching_siblings_are_used() {
    let root = site();
    let static_dir = root.path().join("static");
    let script = static_dir.join("js/big.js");
    let old = "console.log('old version');\n".repeat(400);
    let new = "console.log('new version!');\n".repeat(400);
    std::fs::write(&script, &old).unwrap();
    gzip_file(&script, &static_dir.join("js/big.js.gz"));
    std::fs::write(&script, &new).unwrap();
    let tag = sha1sum(&script, 40)[..6].to_owned();
    let served = service(root.path(), true).precompressed_gzip();
    let uri = format!("/js/big.js?tag={tag}");
    runtime().block_on(async {
        let answer = request(&served, Method::GET, &uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(answer.header("content-encoding"), "gzip");
        assert_eq!(answer.cache_control(), IMMUTABLE);
        assert_eq!(answer.header("vary"), "accept-encoding");
        assert_eq!(
            gunzip(&answer.body),
            new.as_bytes(),
            "the stale sibling was sent"
        );
        assert_eq!(
            answer.header("etag"),
            format!("\"{}-gzip\"", sha1sum(&script, 40))
        );

        // A fresh sibling of the next version is sent as it is, once checked.
        let newer = "console.log('newer one!!');\n".repeat(400);
        std::fs::write(&script, &newer).unwrap();
        let fresh = static_dir.join("js/big.js.gz");
        gzip_file(&script, &fresh);
        let newer_uri = format!("/js/big.js?tag={}", &sha1sum(&script, 40)[..6]);
        let answer = request(
            &served,
            Method::GET,
            &newer_uri,
            &[("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(answer.body, std::fs::read(&fresh).unwrap());
        assert_eq!(answer.cache_control(), IMMUTABLE);
        // The old URL is now revalidated.
        let answer = request(&served, Method::GET, &uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(answer.cache_control(), NO_CACHE);
        std::fs::write(&script, &new).unwrap();
        // Every Accept-Encoding line counts.
        let two_lines = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "identity"), ("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(two_lines.header("content-encoding"), "gzip");
        // Brotli first when both are accepted; the body decodes to the checked bytes.
        let answer = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "gzip, br")],
        )
        .await;
        assert_eq!(answer.header("content-encoding"), "br");
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(
            &mut brotli::Decompressor::new(answer.body.as_slice(), 4096),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, new.as_bytes());
        // Any coding's validator names the bytes: a 304.
        let etag = answer.header("etag").to_owned();
        let answer = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
        // Images are not compressed; ranges are of the identity bytes.
        let answer = request(
            &served,
            Method::GET,
            "/img/team%20photo.png",
            &[("accept-encoding", "br")],
        )
        .await;
        assert_eq!(answer.header("content-encoding"), "-");
        let answer = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "br"), ("range", "bytes=0-6")],
        )
        .await;
        assert_eq!(answer.body, b"console");
    });
}

fn gzip_file(source: &Path, target: &Path) {
    let output = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(source)
        .output()
        .unwrap();
    assert!(output.status.success());
    std::fs::write(target, output.stdout).unwrap();
}

/// Item 5: a first request through another spelling does not decide what the canonical URL
/// gets: the stylesheet is rewritten against its canonical location.
#[test]
fn every_spelling_of_a_stylesheet_gets_the_same_rewritten_bytes() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    write(
        &static_dir.join("css/app.css"),
        b"@font-face { src: url(../fonts/a.woff2) }\n",
    );
    write(&static_dir.join("fonts/a.woff2"), b"wOF2 a");
    let settings = SiteSettings::new("tag", REVISION, 6, true).mode(TagMode::Content);
    let served = StaticFiles::new(&static_dir, settings).unwrap();
    let font = sha1sum(&static_dir.join("fonts/a.woff2"), 40)[..6].to_owned();
    let expected = format!("@font-face {{ src: url(../fonts/a.woff2?tag={font}) }}\n");
    let raw_tag = sha1sum(&static_dir.join("css/app.css"), 40)[..6].to_owned();
    runtime().block_on(async {
        for uri in [
            "/css/./app.css",
            "/css//app.css",
            "/css/app%2Ecss",
            "/css/app.css",
        ] {
            let answer = get(&served, uri).await;
            assert_eq!(String::from_utf8(answer.body).unwrap(), expected, "{uri}");
        }
        let tag = &sha1sum_of_bytes(expected.as_bytes())[..6];
        for uri in [
            format!("/css/app%2Ecss?tag={tag}"),
            format!("/css/app.{tag}.css"),
        ] {
            assert_eq!(get(&served, &uri).await.cache_control(), IMMUTABLE, "{uri}");
        }
        // The unrewritten file's hash names no bytes the service sends.
        let uri = format!("/css/app%2Ecss?tag={raw_tag}");
        assert_eq!(get(&served, &uri).await.cache_control(), NO_CACHE);
        assert_eq!(served.cache_usage().entries, 1);
    });
}

#[test]
fn stylesheets_are_served_with_tagged_references_and_checked_against_those_bytes() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    let source = "@font-face { src: url(../fonts/inter.woff2) }\n/* url(../fonts/inter.woff2) */\n";
    write(&static_dir.join("css/app.css"), source.as_bytes());
    write(&static_dir.join("fonts/inter.woff2"), b"wOF2 one");
    let font = sha1sum(&static_dir.join("fonts/inter.woff2"), 40)[..6].to_owned();
    let served = StaticFiles::new(
        &static_dir,
        SiteSettings::new("tag", REVISION, 6, true)
            .tag_in(TagIn::Name)
            .mode(TagMode::Content),
    )
    .unwrap();
    runtime().block_on(async {
        let answer = get(&served, "/css/app.css").await;
        let expected = format!(
            "@font-face {{ src: url(../fonts/inter.{font}.woff2) }}\n/* url(../fonts/inter.woff2) */\n"
        );
        assert_eq!(String::from_utf8(answer.body.clone()).unwrap(), expected);
        assert_eq!(answer.headers[CONTENT_TYPE], "text/css");
        assert_eq!(answer.cache_control(), NO_CACHE);
        let etag = format!("\"{}\"", sha1sum_of_bytes(&answer.body));
        assert_eq!(answer.headers[ETAG], etag.as_str());
        let served_tag = &sha1sum_of_bytes(&answer.body)[..6];
        let uri = format!("/css/app.{served_tag}.css");
        assert_eq!(get(&served, &uri).await.cache_control(), IMMUTABLE);
        let not_modified = request(&served, Method::GET, &uri, &[("if-none-match", &etag)]).await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
        assert_eq!(not_modified.cache_control(), IMMUTABLE);

        // A new font: a new stylesheet, whose old tag is no longer immutable, nor a 304.
        std::fs::write(static_dir.join("fonts/inter.woff2"), "wOF2 two, longer").unwrap();
        let new_font = sha1sum(&static_dir.join("fonts/inter.woff2"), 40)[..6].to_owned();
        let answer = request(&served, Method::GET, &uri, &[("if-none-match", &etag)]).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.cache_control(), NO_CACHE);
        assert!(String::from_utf8(answer.body).unwrap().contains(&format!("inter.{new_font}.woff2")));
    });
}

/// Item 6: 5,000 nested imports: an error logged, the stylesheet revalidated, the server up.
#[test]
fn a_deep_import_chain_is_answered_and_the_server_keeps_serving() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    let depth = 5_000;
    for level in 0..depth {
        write(
            &static_dir.join(format!("s{level}.css")),
            format!("@import 's{}.css';\n", level + 1).as_bytes(),
        );
    }
    write(&static_dir.join(format!("s{depth}.css")), b"a {}\n");
    let served = StaticFiles::new(
        &static_dir,
        with_revision_manifest(SiteSettings::new("tag", REVISION, 6, true), root.path()),
    )
    .unwrap();
    let raw_tag = sha1sum(&static_dir.join("s0.css"), 40)[..6].to_owned();
    runtime().block_on(async {
        let answer = get(&served, &format!("/s0.css?tag={REVISION}")).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, b"@import 's1.css';\n");
        assert_eq!(answer.cache_control(), NO_CACHE);
        let answer = get(&served, &format!("/s0.css?tag={raw_tag}")).await;
        assert_eq!(answer.cache_control(), NO_CACHE);
        let last = get(&served, &format!("/s{depth}.css?tag={REVISION}")).await;
        assert_eq!(last.cache_control(), IMMUTABLE);
    });
}

/// Item 7: 20,000 spellings of one file with 20,000 tags: one cache entry, read once.
#[test]
fn spellings_and_tags_do_not_grow_the_cache() {
    let root = site();
    let release = service(root.path(), true);
    runtime().block_on(async {
        for index in 0..20_000 {
            let spelling = format!(
                "/{}{}js/app.js?tag={index:06x}",
                "./".repeat(index % 37),
                "/".repeat(index / 37 % 29)
            );
            assert_eq!(get(&release, &spelling).await.status, StatusCode::OK);
        }
        let usage = release.cache_usage();
        assert_eq!(usage.entries, 1);
        assert!(usage.bytes < 4096, "{usage:?}");
    });
}

#[test]
fn the_cache_stays_within_its_bounds() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    for index in 0..200 {
        write(
            &static_dir.join(format!("f{index}.txt")),
            &vec![b"abcdefghijklmnopqrstuvwxyz"[index % 26]; 8 * 1024],
        );
    }
    let limit = 100 * 1024;
    let served = StaticFiles::new(&static_dir, SiteSettings::new("tag", REVISION, 6, true))
        .unwrap()
        .cache_limits(limit, 50);
    runtime().block_on(async {
        for round in 0..2 {
            for index in 0..200 {
                let answer = request(
                    &served,
                    Method::GET,
                    &format!("/f{index}.txt"),
                    &[("accept-encoding", "gzip")],
                )
                .await;
                assert_eq!(answer.status, StatusCode::OK, "{round} {index}");
                let usage = served.cache_usage();
                assert!(usage.bytes <= limit && usage.entries <= 50, "{usage:?}");
            }
        }
    });
}

/// A large file is sent from its one open, with its digest checked off the async workers:
/// while it is hashed, other requests are answered.
#[test]
fn a_large_file_is_hashed_off_the_async_workers_and_sent_from_its_open() {
    let root = site();
    let big = root.path().join("static/big.bin");
    // Sparse: 300 MB that cost no disk, but a full SHA-1 to check.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let served = service(root.path(), true).in_memory_file_limit(1024 * 1024);
    let small_tag = sha1sum(&root.path().join("static/LICENSE"), 40)[..6].to_owned();
    runtime().block_on(async {
        let hashing = tokio::spawn({
            let served = served.clone();
            async move {
                request(
                    &served,
                    Method::GET,
                    "/big.bin?tag=000000",
                    &[("range", "bytes=0-9")],
                )
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let answer = get(&served, &format!("/LICENSE?tag={small_tag}")).await;
        let waited = started.elapsed();
        assert_eq!(answer.body, b"MIT\n");
        let big_answer = hashing.await.unwrap();
        assert_eq!(big_answer.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(big_answer.body, vec![0; 10]);
        // Generous for a shared machine: the hash itself takes about a second.
        assert!(
            waited < Duration::from_millis(500),
            "a small file waited {waited:?}"
        );
    });
}

/// A large file edited while it is sent is cut short: the last chunk is not sent.
#[test]
fn a_large_file_changed_while_sent_fails_the_body() {
    let root = site();
    let big = root.path().join("static/big.txt");
    std::fs::write(&big, "a".repeat(2 * 1024 * 1024)).unwrap();
    let served = service(root.path(), true).in_memory_file_limit(1024);
    runtime().block_on(async {
        let response = served
            .clone()
            .oneshot(Request::get("/big.txt").body(String::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        std::fs::write(&big, "b".repeat(2 * 1024 * 1024)).unwrap();
        assert!(response.into_body().collect().await.is_err());
    });
}

#[test]
fn a_missing_static_dir_is_an_error_naming_where_it_looked() {
    let error = StaticFiles::new(
        "no-such-static-dir",
        SiteSettings::new("tag", REVISION, 6, true),
    )
    .unwrap_err();
    let message = error.to_string();
    let working_directory = std::env::current_dir().unwrap();
    assert!(
        message.contains(
            &working_directory
                .join("no-such-static-dir")
                .display()
                .to_string()
        ),
        "{message}"
    );
    assert!(message.contains("does not exist"), "{message}");
    assert!(message.contains("working directory"), "{message}");
    let file = tempfile::NamedTempFile::new().unwrap();
    let error =
        StaticFiles::new(file.path(), SiteSettings::new("tag", REVISION, 6, true)).unwrap_err();
    assert!(error.to_string().contains("is not a directory"), "{error}");
    let several = SiteSettings::new("tag", REVISION, 6, true).static_dirs(&["assets", "vendor"]);
    let error = StaticFiles::new(file.path().parent().unwrap(), several).unwrap_err();
    assert!(
        error.to_string().contains("StaticFiles::in_root"),
        "{error}"
    );
}

/// The static dirs of the macros, in their order: a stylesheet's reference found only in the
/// second gets the same tag at both ends.
#[test]
fn several_static_dirs_are_searched_in_order_for_requests_and_references() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("assets/css/app.css"),
        b"a { b: url(../img/logo.svg) }\n",
    );
    write(&root.path().join("assets/shared.txt"), b"assets\n");
    write(&root.path().join("vendor/shared.txt"), b"vendor\n");
    write(&root.path().join("vendor/img/logo.svg"), b"<svg/>");
    let logo = sha1sum(&root.path().join("vendor/img/logo.svg"), 40)[..6].to_owned();
    let settings = SiteSettings::new("tag", REVISION, 6, true)
        .mode(TagMode::Content)
        .static_dirs(&["assets", "vendor"]);
    let served = StaticFiles::in_root(root.path(), settings.clone()).unwrap();
    runtime().block_on(async {
        assert_eq!(get(&served, "/shared.txt").await.body, b"assets\n");
        assert_eq!(get(&served, "/img/logo.svg").await.body, b"<svg/>");
        let css = get(&served, "/css/app.css").await;
        assert_eq!(
            String::from_utf8(css.body).unwrap(),
            format!("a {{ b: url(../img/logo.svg?tag={logo}) }}\n")
        );
    });
    let missing = StaticFiles::in_root(root.path().join("assets"), settings).unwrap_err();
    assert!(missing.to_string().contains("assets/assets"), "{missing}");
}

#[test]
fn a_missing_reference_is_looked_for_again_after_a_second() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    write(
        &static_dir.join("css/app.css"),
        b"a { b: url(../img/late.png) }\n",
    );
    let served =
        StaticFiles::new(&static_dir, SiteSettings::new("tag", REVISION, 6, true)).unwrap();
    runtime().block_on(async {
        assert_eq!(
            get(&served, "/css/app.css").await.body,
            b"a { b: url(../img/late.png) }\n"
        );
        write(&static_dir.join("img/late.png"), b"png");
        let started = Instant::now();
        loop {
            let body = get(&served, "/css/app.css").await.body;
            if body == format!("a {{ b: url(../img/late.png?tag={REVISION}) }}\n").as_bytes() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the new file was never seen"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

#[test]
fn compression_layers_on_top_stay_harmless() {
    let root = site();
    let big = root.path().join("static/css/big.css");
    std::fs::write(&big, ".rule { color: blue }\n".repeat(200)).unwrap();
    let content = sha1sum(&big, 40)[..6].to_owned();
    let layered = tower::ServiceBuilder::new()
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::compression::CompressionLayer::new())
        .service(service(root.path(), true));
    runtime().block_on(async {
        let request = Request::get(format!("/css/big.{content}.css"))
            .header("accept-encoding", "gzip")
            .body(String::new())
            .unwrap();
        let response = layered.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert_eq!(response.headers()[CACHE_CONTROL], IMMUTABLE);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(gunzip(&body), std::fs::read(&big).unwrap());
    });
}

/// A file edited under a running release server: its revision tag named the bytes it first
/// sent, so the new bytes are revalidated under it, not cached for a year.
#[test]
fn a_file_edited_under_a_running_server_is_not_immutable_under_its_revision() {
    let root = site();
    let release = service(root.path(), true);
    let script = root.path().join("static/js/app.js");
    let uri = format!("/js/app.js?tag={REVISION}");
    runtime().block_on(async {
        assert_eq!(get(&release, &uri).await.cache_control(), IMMUTABLE);
        std::fs::write(&script, "alert('a hot fix');\n").unwrap();
        let answer = get(&release, &uri).await;
        assert_eq!(answer.body, b"alert('a hot fix');\n");
        assert_eq!(answer.cache_control(), NO_CACHE);
        let name_form = get(&release, &format!("/js/app.{REVISION}.js")).await;
        assert_eq!(name_form.cache_control(), NO_CACHE);
        // The content tag of the new bytes is proven by the bytes.
        let content = sha1sum(&script, 40)[..6].to_owned();
        let answer = get(&release, &format!("/js/app.js?tag={content}")).await;
        assert_eq!(answer.cache_control(), IMMUTABLE);
    });
}

/// Links inside the static dir that spell one file many ways (`a -> .`) share one entry.
#[test]
fn links_spelling_one_file_many_ways_share_one_entry() {
    let root = site();
    let static_dir = root.path().join("static");
    std::os::unix::fs::symlink(".", static_dir.join("a")).unwrap();
    std::os::unix::fs::symlink(".", static_dir.join("b")).unwrap();
    let release = service(root.path(), true);
    runtime().block_on(async {
        for spelling in [
            "/js/app.js",
            "/a/js/app.js",
            "/a/b/a/js/app.js",
            "/b/b/b/b/js/app.js",
        ] {
            let answer = get(&release, spelling).await;
            assert_eq!(answer.body, b"document.title = 'app';\n", "{spelling}");
        }
        assert_eq!(release.cache_usage().entries, 1);
    });
}

/// A stylesheet larger than the in-memory limit is sent as it is, revalidated, never read
/// whole on every request.
#[test]
fn a_stylesheet_too_large_to_hold_is_sent_as_it_is_and_revalidated() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    let css = format!("a {{ b: url(x.png) }}\n{}", "/* padding */\n".repeat(2_000));
    write(&static_dir.join("big.css"), css.as_bytes());
    write(&static_dir.join("x.png"), b"png");
    let served = StaticFiles::new(&static_dir, SiteSettings::new("tag", REVISION, 6, true))
        .unwrap()
        .in_memory_file_limit(1024);
    let raw_tag = sha1sum(&static_dir.join("big.css"), 40)[..6].to_owned();
    runtime().block_on(async {
        for uri in [
            format!("/big.css?tag={REVISION}"),
            format!("/big.css?tag={raw_tag}"),
        ] {
            let answer = get(&served, &uri).await;
            assert_eq!(answer.body, css.as_bytes(), "{uri}");
            assert_eq!(answer.cache_control(), NO_CACHE, "{uri}");
        }
    });
}

/// The one path rule, seen from its three users: a path the macros accept (`cdnstatic!` in
/// content mode compiles), the run-time API accepts (`url()` gives a URL) and the service
/// serves (200) are the same paths, over two static dirs with every odd file in them.
#[cfg(feature = "resolve")]
#[tokio::test]
async fn the_macros_the_run_time_api_and_the_service_agree_on_every_path() {
    use crate::build::static_files::{static_file_relative_path, FilePurpose, StaticDirs};

    let root = tempfile::tempdir().unwrap();
    let (first, second) = (root.path().join("static"), root.path().join("vendor"));
    write(&first.join("css/app.css"), b"a {}\n");
    write(&first.join(".well-known/security.txt"), b"contact\n");
    write(&second.join("fonts/a.woff2"), b"font");
    write(&second.join("only/there.js"), b"1;\n");
    write(&second.join("shadowed.js"), b"second\n");
    write(&first.join("shadowed.js"), b"first\n");
    write(&root.path().join("secret.txt"), b"secret\n");
    // Escapes: `a%41.txt` is `aA.txt` to every user of the rule, never the file named so.
    write(&first.join("aA.txt"), b"capital\n");
    write(&first.join("a%41.txt"), b"literal\n");
    write(&first.join("sub/x.txt"), b"x\n");
    write(&first.join("sp ace.txt"), b"space\n");
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, first.join(name)).unwrap();
    };
    link("css/app.css", "alias.css");
    link("../secret.txt", "leak.css");
    link("../vendor/fonts", "fonts");
    link("gone.js", "dangling.js");
    link("/etc", "etc");
    write(&second.join("dangling.js"), b"second\n");
    assert!(Command::new("mkfifo")
        .arg(first.join("pipe.css"))
        .status()
        .unwrap()
        .success());
    write(&second.join("pipe.css"), b"a {}\n");

    let settings = SiteSettings::new("tag", REVISION, 6, true)
        .mode(TagMode::Content)
        .static_dirs(&["static", "vendor"]);
    let served = StaticFiles::in_root(root.path(), settings.clone()).unwrap();
    let by_name = StaticFiles::in_root(root.path(), settings.tag_in(TagIn::Name)).unwrap();
    let macros = StaticDirs::new(root.path(), &["static".to_owned(), "vendor".to_owned()]);
    // (path, whether it names a file we use)
    let cases = [
        ("css/app.css", true),
        ("css//./app.css", true),
        ("alias.css", true),
        ("shadowed.js", true),
        ("only/there.js", true),
        (".well-known/security.txt", true),
        // A link into another static dir: the file is used only inside its own dir.
        ("fonts/a.woff2", false),
        ("leak.css", false),
        ("etc/passwd", false),
        // A broken link decides, as a FIFO does: the later dir's file does not stand in.
        ("dangling.js", false),
        ("pipe.css", false),
        ("css", false),
        ("missing.css", false),
        ("../secret.txt", false),
        ("css/../../secret.txt", false),
        ("css\\app.css", false),
        ("css/app.css%00", false),
        ("a%41.txt", true),
        ("sub/x%2Etxt", true),
        ("sp%20ace.txt", true),
        ("sp ace.txt", true),
        ("sub%2Fx.txt", false),
    ];
    for (path, usable) in cases {
        let by_macros = static_file_relative_path(path)
            .ok()
            .flatten()
            .is_some_and(|relative| macros.find(&relative, FilePurpose::Hash).is_ok());
        let by_run_time = served.url(path).is_ok();
        // As a browser sends it: a space is escaped in the request line.
        let request_path = format!("/{}", path.replace(' ', "%20"));
        let by_service = request(&served, Method::GET, &request_path, &[])
            .await
            .status
            == StatusCode::OK;
        assert_eq!(
            (by_macros, by_run_time, by_service),
            (usable, usable, usable),
            "{path}: (macros, run-time API, service)"
        );
        // And the URL made for it names the bytes sent under it, in both forms.
        for served in [&served, &by_name] {
            let Ok(url) = served.url(path) else { continue };
            let answer = request(served, Method::GET, url.trim_start_matches("/static"), &[]).await;
            assert_eq!(
                (answer.status, answer.cache_control()),
                (StatusCode::OK, IMMUTABLE),
                "{path} -> {url}"
            );
            let decoded = crate::rules::url::percent_decode(path.split('?').next().unwrap())
                .unwrap()
                .replace("//./", "/");
            let on_disk = ["static", "vendor"]
                .iter()
                .map(|dir| root.path().join(dir).join(&decoded))
                .find(|file| file.is_file() && std::fs::symlink_metadata(file).is_ok())
                .unwrap();
            assert_eq!(
                answer.body,
                std::fs::read(&on_disk).unwrap(),
                "{path} -> {url}"
            );
        }
    }
}
