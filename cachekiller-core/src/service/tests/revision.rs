//! A revision tag names the bytes its commit holds, and a release server sends no other bytes
//! under it as `immutable`, whatever happens to its files while it runs. Each test makes a real
//! git repository, compiles the manifest with the build side as `cdnsettings!()` does, and
//! serves it as a release build would. The oracle of the commit's bytes is `git show
//! <commit>:<file> | sha1sum`; compressed bodies are decoded by `gzip -dc` and Google's Brotli
//! decoder.

use std::fmt::Write as _;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::requests::{fetch_partial, get, runtime, Answer};
use super::*;
use crate::resolve::expand::expand_site_settings;
use crate::test_support::{git, gunzip, run, sha1sum_of_bytes, unbrotli};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A crate in a new git repository with `files` below `static/` (and `manifest_extra` in its
/// `Cargo.toml`), committed.
fn repository(files: &[(&str, &[u8])], manifest_extra: &str) -> tempfile::TempDir {
    let repository = tempfile::tempdir().unwrap();
    let dir = repository.path();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[package]\nname = \"site\"\nversion = \"0.1.0\"\n{manifest_extra}"),
    )
    .unwrap();
    for (path, bytes) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "one"]);
    repository
}

/// The service of the crate at `dir` as its release build serves it: the settings (and the
/// manifest) `cdnsettings!()` makes there now.
fn release_service(dir: &Path) -> StaticFiles {
    let settings = expand_site_settings(dir)
        .unwrap()
        .settings
        .release_build(true);
    StaticFiles::in_root(dir, settings).unwrap()
}

/// `git show HEAD:<path> | sha1sum`.
fn committed_sha1(dir: &Path, path: &str) -> String {
    run(
        "sh",
        dir,
        &["-c", &format!("git show HEAD:{path} | sha1sum")],
    )[..40]
        .to_owned()
}

fn revision(dir: &Path) -> String {
    git(dir, &["rev-parse", "HEAD"])[..14].to_owned()
}

/// The URLs of `path` (below `static/`) under `tag`: the query form, then the name form.
fn both_forms(path: &str, tag: &str) -> [String; 2] {
    let (stem, extension) = path.rsplit_once('.').unwrap();
    [
        format!("/{path}?tag={tag}"),
        format!("/{stem}.{tag}.{extension}"),
    ]
}

/// The body as the client decodes it.
fn decoded(answer: &Answer) -> Vec<u8> {
    match answer.header("content-encoding") {
        "gzip" => gunzip(&answer.body),
        "br" => unbrotli(&answer.body),
        "-" | "identity" => answer.body.clone(),
        other => panic!("an unexpected content coding {other}"),
    }
}

/// Asserts that `answer` (to `uri`), if it is a whole `immutable` response, carries the
/// bytes whose SHA-1 is `committed`; true if it was `immutable`.
fn immutable_only_with(committed: &str, uri: &str, answer: &Answer) -> bool {
    let immutable = answer.header(http::header::CACHE_CONTROL) == IMMUTABLE;
    if immutable && answer.error.is_none() {
        let body = decoded(answer);
        assert_eq!(
            sha1sum_of_bytes(&body),
            committed,
            "{uri} answered `immutable` with {} bytes that are not the commit's",
            body.len()
        );
    }
    immutable
}

/// A script of `length` bytes that compresses, its lines marked with `mark`.
fn script(mark: &str, length: usize) -> Vec<u8> {
    let mut script = String::with_capacity(length + 64);
    let mut line = 0u64;
    while script.len() < length {
        let _ = writeln!(
            script,
            "globalThis.v{line} = \"{mark}:{:016x}\";",
            line.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        );
        line += 1;
    }
    script.truncate(length);
    script.into_bytes()
}

/// Item 1: a file rewritten in place, slowly (a prefix that never existed as a whole file),
/// and overwritten with other bytes of the same size (a mix of two versions), while it is
/// requested under the revision tag in both URL forms, with and without `Accept-Encoding`:
/// no `immutable` response carries other bytes than the commit's. Both a file held in memory
/// and one sent from disk.
#[test]
fn a_file_written_while_it_is_requested_is_never_immutable_under_the_revision() {
    let held = script("committed", 1 << 20);
    let sent_from_disk = script("committed", 5 << 20);
    let repository = repository(
        &[
            ("static/js/held.js", &held),
            ("static/js/from-disk.js", &sent_from_disk),
        ],
        "",
    );
    let dir = repository.path();
    let tag = revision(dir);
    let service = release_service(dir);
    for (path, committed_bytes) in [("js/held.js", &held), ("js/from-disk.js", &sent_from_disk)] {
        let committed = committed_sha1(dir, &format!("static/{path}"));
        let file = dir.join("static").join(path);
        let writing = Arc::new(AtomicBool::new(true));
        let writer = {
            let writing = Arc::clone(&writing);
            let file = file.clone();
            let versions = [
                committed_bytes.clone(),
                script("other", committed_bytes.len()),
            ];
            std::thread::spawn(move || {
                let mut round = 0;
                while writing.load(Ordering::Relaxed) {
                    let mut open = std::fs::OpenOptions::new()
                        .write(true)
                        .truncate(round % 4 < 2)
                        .open(&file)
                        .unwrap();
                    open.seek(SeekFrom::Start(0)).unwrap();
                    for chunk in versions[round % 2].chunks(64 * 1024) {
                        open.write_all(chunk).unwrap();
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    round += 1;
                }
                std::fs::write(&file, &versions[0]).unwrap();
            })
        };
        runtime().block_on(async {
            let started = Instant::now();
            let mut answered = 0;
            while started.elapsed() < Duration::from_secs(3) {
                for uri in both_forms(path, &tag) {
                    for headers in [
                        &[][..],
                        &[("accept-encoding", "gzip")],
                        &[("accept-encoding", "br, gzip")],
                    ] {
                        let answer = fetch_partial(&service, &uri, headers).await;
                        immutable_only_with(&committed, &uri, &answer);
                        answered += 1;
                    }
                }
            }
            assert!(
                answered >= 3,
                "only {answered} answers while the file was written"
            );
        });
        writing.store(false, Ordering::Relaxed);
        writer.join().unwrap();
        // The commit's bytes back and settled: `immutable` again, with them.
        std::thread::sleep(Duration::from_millis(2_100));
        runtime().block_on(async {
            for uri in both_forms(path, &tag) {
                let answer = fetch_partial(&service, &uri, &[("accept-encoding", "br")]).await;
                assert!(immutable_only_with(&committed, &uri, &answer), "{uri}");
            }
        });
    }
}

/// Item 2: R2's files copied over a server of R1, after it sent only the stylesheet: R1's tag
/// never makes R2's bytes `immutable`, for a file it sent before the copy or not.
#[test]
fn files_copied_over_a_running_server_are_not_its_revision() {
    let repository = repository(
        &[
            ("static/css/site.css", b"body { color: #111 } /* R1 */\n"),
            ("static/js/greeting.js", b"export const greeting = 'R1';\n"),
        ],
        "",
    );
    let dir = repository.path();
    let tag = revision(dir);
    let service = release_service(dir);
    runtime().block_on(async {
        let first = get(&service, &format!("/css/site.css?tag={tag}")).await;
        assert_eq!(first.cache_control(), IMMUTABLE);
        std::fs::write(
            dir.join("static/css/site.css"),
            "body { color: #eee } /* R2 */\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("static/js/greeting.js"),
            "export const greeting = 'R2';\n",
        )
        .unwrap();
        for path in ["css/site.css", "js/greeting.js"] {
            for uri in both_forms(path, &tag) {
                let answer = get(&service, &uri).await;
                assert!(
                    String::from_utf8_lossy(&answer.body).contains("R2"),
                    "{uri}"
                );
                assert_eq!(answer.cache_control(), "no-cache", "{uri}");
            }
        }
    });
}

/// Item 3: a file created in an earlier static dir after start shadows the committed one: not
/// the revision's bytes; removed again, the committed file is `immutable` again.
#[test]
fn a_file_shadowing_the_committed_one_is_not_the_revision() {
    let repository = repository(
        &[
            ("static/css/site.css", b"body { color: #111 }\n"),
            ("override/robots.txt", b"User-agent: *\n"),
        ],
        "[package.metadata.cachekiller]\nstatic_dirs = [\"override\", \"static\"]\n",
    );
    let dir = repository.path();
    let tag = revision(dir);
    let committed = committed_sha1(dir, "static/css/site.css");
    let service = release_service(dir);
    let shadow = dir.join("override/css/site.css");
    runtime().block_on(async {
        for uri in both_forms("css/site.css", &tag) {
            let answer = fetch_partial(&service, &uri, &[]).await;
            assert!(immutable_only_with(&committed, &uri, &answer), "{uri}");
        }
        std::fs::create_dir_all(shadow.parent().unwrap()).unwrap();
        std::fs::write(&shadow, "body { color: red } /* shadow */\n").unwrap();
        for uri in both_forms("css/site.css", &tag) {
            let answer = get(&service, &uri).await;
            assert_eq!(answer.body, b"body { color: red } /* shadow */\n", "{uri}");
            assert_eq!(answer.cache_control(), "no-cache", "{uri}");
        }
        std::fs::remove_file(&shadow).unwrap();
        for uri in both_forms("css/site.css", &tag) {
            let answer = fetch_partial(&service, &uri, &[]).await;
            assert!(immutable_only_with(&committed, &uri, &answer), "{uri}");
        }
    });
}

/// Item 7: a file sent from disk changed through a shared `mmap` while a response of it is
/// under way (a write that need not change its timestamps): the response ends before its last
/// byte, with only bytes of the checked version before that, and the next complete response
/// is the new bytes with their own validator, not under the revision.
#[test]
fn a_file_written_through_mmap_ends_its_response_before_its_last_byte() {
    let committed_bytes = script("committed", 5 << 20);
    let repository = repository(&[("static/js/big.js", &committed_bytes)], "");
    let dir = repository.path();
    let tag = revision(dir);
    let service = release_service(dir);
    let uri = format!("/js/big.js?tag={tag}");
    // A file sent from disk is `immutable` once it has settled (a write in the same
    // timestamp granule could leave its stamp as it is).
    std::thread::sleep(Duration::from_millis(2_100));
    runtime().block_on(async {
        // The version is checked (its chunk digests taken) and `immutable`.
        let first = fetch_partial(&service, &uri, &[]).await;
        assert!(first.error.is_none());
        assert!(immutable_only_with(
            &committed_sha1(dir, "static/js/big.js"),
            &uri,
            &first
        ));
        // A response under way: its first chunk read, then the file written through mmap.
        let response = service
            .clone()
            .oneshot(http::Request::get(&uri).body(String::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.headers()[http::header::CACHE_CONTROL], IMMUTABLE);
        let mut body = response.into_body();
        let mut received = body
            .frame()
            .await
            .unwrap()
            .unwrap()
            .into_data()
            .unwrap()
            .to_vec();
        let script = "import mmap, sys\n\
                      with open(sys.argv[1], 'r+b') as f:\n\
                      \x20   m = mmap.mmap(f.fileno(), 0)\n\
                      \x20   m[3 << 20] = ord('!')\n\
                      \x20   m.flush()\n";
        let file = dir.join("static/js/big.js");
        run("python3", dir, &["-c", script, file.to_str().unwrap()]);
        let mut error = None;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => received.extend_from_slice(frame.data_ref().unwrap()),
                Err(failure) => {
                    error = Some(failure.to_string());
                    break;
                }
            }
        }
        assert!(
            error.is_some(),
            "the response was completed with other bytes"
        );
        assert!(received.len() < committed_bytes.len());
        assert_eq!(
            received,
            committed_bytes[..received.len()],
            "only checked bytes went out"
        );
        // The version was dropped: the next response that completes has the new bytes, with
        // their own validator, and the revision does not name them.
        let mut changed = committed_bytes.clone();
        changed[3 << 20] = b'!';
        let mut next = fetch_partial(&service, &uri, &[]).await;
        if next.error.is_some() {
            next = fetch_partial(&service, &uri, &[]).await;
        }
        assert!(next.error.is_none());
        assert_eq!(next.body, changed);
        assert_eq!(
            next.header(http::header::ETAG),
            format!("\"{}\"", sha1sum_of_bytes(&changed))
        );
        assert_eq!(next.header(http::header::CACHE_CONTROL), "no-cache");
    });
}

/// Item 9: an empty file asked for a range is answered whole (`200`), not with a
/// `Content-Range` of `bytes 0-0/0`; the revision endpoint is the service's in both URL forms,
/// whatever file has its name.
#[test]
fn an_empty_range_and_the_endpoint_in_the_name_form() {
    let repository = repository(
        &[
            ("static/empty.txt", b""),
            (
                "static/.well-known/cachekiller-revision",
                b"a file of that name\n",
            ),
        ],
        "",
    );
    let dir = repository.path();
    let tag = revision(dir);
    let service = release_service(dir).serve_hidden_files();
    runtime().block_on(async {
        for range in ["bytes=0-", "bytes=0-0", "bytes=-1"] {
            let answer = fetch_partial(
                &service,
                &format!("/empty.txt?tag={tag}"),
                &[("range", range)],
            )
            .await;
            assert_eq!(answer.status, http::StatusCode::OK, "{range}");
            assert!(answer.body.is_empty());
            assert_eq!(answer.header(http::header::CONTENT_RANGE), "-", "{range}");
        }
        for uri in [
            format!("/{REVISION_ENDPOINT}"),
            format!("/{REVISION_ENDPOINT}.{tag}"),
            format!("/{REVISION_ENDPOINT}?tag={tag}"),
        ] {
            let answer = get(&service, &uri).await;
            assert_eq!(answer.body, tag.as_bytes(), "{uri}");
            assert_eq!(answer.cache_control(), "no-cache", "{uri}");
        }
    });
}
