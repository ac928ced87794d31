//! The service's promise over real HTTP: the axum example, a release build in a git
//! repository, asked with a plain HTTP/1.0 client. What is checked is what is sent: the
//! compressed stylesheet decodes (`gzip -dc`) to the bytes sent uncompressed, the page's
//! integrity is the SHA-384 (`openssl`) of the script as sent, and a 500 MB file being hashed
//! holds up no other request.

use std::path::Path;
use std::time::{Duration, Instant};

use cachekiller_tests::oracle::{git, gunzip};
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{attribute, free_port, http_get, http_get_with, Server};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn sha384_integrity(bytes: &[u8], scratch_dir: &Path) -> String {
    let file = scratch_dir.join("sent.bin");
    std::fs::write(&file, bytes).unwrap();
    cachekiller_tests::oracle::openssl_integrity(&file, "sha384")
}

#[test]
fn compressed_and_integrity_checked_bytes_and_no_request_held_up_by_a_hash() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch = ScratchCrate::fixture_copy("axum-site", &site, "exact_bytes_site").in_release();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    // Sparse: 500 MB that take no disk but a full SHA-1 to check. Not committed.
    std::fs::File::create(site.join("static/big.bin"))
        .unwrap()
        .set_len(500 * 1024 * 1024)
        .unwrap();
    let _ = scratch.build();
    let port = free_port();
    let _server = Server::start(&scratch.binary(), port);

    let page = String::from_utf8(http_get(port, "/").body).unwrap();
    let stylesheet = attribute(&page, "rel=\"stylesheet\"", "href");
    let plain = http_get(port, stylesheet);
    assert_eq!(plain.header("cache-control"), Some(IMMUTABLE));
    let gzipped = http_get_with(port, stylesheet, &[("Accept-Encoding", "gzip")]);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(gzipped.header("vary"), Some("accept-encoding"));
    assert_eq!(gunzip(&gzipped.body), plain.body);
    let brotli = http_get_with(port, stylesheet, &[("Accept-Encoding", "br, gzip")]);
    assert_eq!(brotli.header("content-encoding"), Some("br"));

    let script = attribute(&page, "<script type=\"module\"", "src");
    let integrity = attribute(&page, "<script type=\"module\"", "integrity");
    let sent = http_get(port, script);
    assert_eq!(sha384_integrity(&sent.body, repo.path()), integrity);

    // While the big file is hashed (off the async workers), the page keeps answering.
    let big = std::thread::spawn(move || {
        let started = Instant::now();
        let response = http_get_with(
            port,
            "/static/big.bin?tag=0000000",
            &[("Range", "bytes=0-15")],
        );
        (response, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(20));
    let mut latencies = Vec::new();
    while !big.is_finished() {
        let started = Instant::now();
        assert_eq!(http_get(port, "/").status, 200);
        latencies.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(5));
    }
    let (response, hashing) = big.join().unwrap();
    assert_eq!(response.status, 206);
    assert_eq!(response.body, vec![0; 16]);
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    assert!(
        latencies.len() >= 3,
        "the hash ({hashing:?}) ended before the page was asked thrice"
    );
    // Not a time limit (this machine is shared and noisy) but a ratio in one run: a hash that
    // held the page up would make some page wait for most of the hash; the slowest page must
    // stay an order of magnitude below it.
    let slowest = latencies.iter().max().unwrap();
    assert!(
        *slowest * 10 < hashing,
        "the page waited {slowest:?} while a 500 MB file was hashed ({hashing:?}): {latencies:?}"
    );
}
