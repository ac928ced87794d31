//! One conformance suite for every server `StaticFiles` is mounted in: the same list of cases
//! (`CASES`), one harness, each server a row (`servers::Row`), each row its own test. The
//! rows share the serving core and only convert types; these cases prove the conversions lose
//! nothing of the promise: exact bytes under races, verdicts in both URL forms, `304` only for
//! matching validators, `Range` and `HEAD`, compression variants and `Vary`, hidden files,
//! confinement, the directory index and its redirect under the mount prefix, the revision
//! endpoint and header, and old tags from the archive.
//!
//! Oracles: the bytes the test wrote, `sha1sum` for tags and `ETag`s, `gzip -dc` and Google's
//! Brotli decoder for compressed bodies; the revision and its manifest are what
//! `cdnsettings!()` compiled in for this crate's committed `static/`.

mod servers;

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cachekiller_core::service::archive::Archive;
use cachekiller_core::service::{StaticFiles, REVISION_ENDPOINT, REVISION_HEADER};
use cachekiller_core::SiteSettings;
use cachekiller_macros::{cdnembed, cdnsettings};
use cachekiller_tests::oracle::{gunzip, sha1sum, unbrotli};
use cachekiller_tests::serving::compressible_script;
use servers::Row;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// A case: what it checks, and the check.
struct Case {
    name: &'static str,
    check: fn(&Target),
    /// Rows this case does not apply to, with why.
    not_for: &'static [(Row, &'static str)],
}

/// Every case, in the order they run against each row.
const CASES: &[Case] = &[
    Case {
        name: "exact bytes and validators",
        check: exact_bytes_and_validators,
        not_for: &[],
    },
    Case {
        name: "a file larger than the in-memory limit, sent from disk",
        check: a_file_sent_from_disk,
        not_for: &[],
    },
    Case {
        name: "a file sent from disk to many clients at once",
        check: many_downloads_at_once,
        not_for: &[],
    },
    Case {
        name: "content tags in both URL forms",
        check: content_tags_in_both_forms,
        not_for: &[],
    },
    Case {
        name: "the revision names the committed bytes",
        check: revision_names_committed_bytes,
        not_for: &[],
    },
    Case {
        name: "304 only for these bytes",
        check: not_modified_only_for_these_bytes,
        not_for: &[],
    },
    Case {
        name: "Range and HEAD",
        check: range_and_head,
        not_for: &[],
    },
    Case {
        name: "compression variants and Vary",
        check: compression_variants,
        not_for: &[],
    },
    Case {
        name: "hidden files and the revision endpoint",
        check: hidden_files_and_the_revision_endpoint,
        not_for: &[],
    },
    Case {
        name: "confinement",
        check: confinement,
        not_for: &[],
    },
    Case {
        name: "directory index and redirect under the mount",
        check: directory_index_and_redirect,
        not_for: &[],
    },
    Case {
        name: "old tags from the archive",
        check: old_tags_from_the_archive,
        not_for: &[],
    },
    Case {
        name: "methods other than GET and HEAD",
        check: other_methods,
        not_for: &[(
            Row::Rocket,
            "Rocket routes by method: the service is mounted for GET and HEAD, so a POST \
             matches no route and gets Rocket's own 404",
        )],
    },
    Case {
        name: "exact bytes while the file is rewritten",
        check: exact_bytes_under_writes,
        not_for: &[],
    },
];

#[test]
fn axum() {
    run_suite(Row::Axum);
}

#[test]
fn axum_embedded() {
    run_suite(Row::AxumEmbedded);
}

#[test]
fn actix_web() {
    run_suite(Row::ActixWeb);
}

#[test]
fn actix_web_default_service() {
    run_suite(Row::ActixWebDefaultService);
}

#[test]
fn rocket() {
    run_suite(Row::Rocket);
}

#[test]
fn poem() {
    run_suite(Row::Poem);
}

#[test]
fn salvo() {
    run_suite(Row::Salvo);
}

/// Runs every case that applies to `row` against a fresh site served by it.
fn run_suite(row: Row) {
    let site = Site::new();
    let service = if row == Row::AxumEmbedded {
        site.embedded_service()
    } else {
        site.service()
    };
    let port = row.start(service);
    let target = Target { row, port, site };
    for case in CASES {
        if let Some((_, why)) = case.not_for.iter().find(|(not_for, _)| *not_for == row) {
            eprintln!("{row:?}: {}: does not apply: {why}", case.name);
            continue;
        }
        eprintln!("{row:?}: {}", case.name);
        (case.check)(&target);
    }
}

/// The site every row serves: this crate's committed `static/` copied (what the revision
/// names), and files of the test's own.
struct Site {
    root: tempfile::TempDir,
    archive: tempfile::TempDir,
    settings: SiteSettings,
}

/// A file whose real name looks like `js/app.js` tagged in its name: it is itself (on disk
/// beside an embedded `js/app.js` too).
const LOOKS_TAGGED: &str = "js/app.0a1b2c3d4e.js";
const LOOKS_TAGGED_BYTES: &[u8] = b"globalThis.named = 'like a tagged app.js';\n";

/// The bytes of `js/late.js` in the older deploy (in the archive) and in this one.
const LATE_OLD: &[u8] = b"globalThis.late = 'the older deploy';\n";
const LATE_NEW: &[u8] = b"globalThis.late = 'this deploy';\n";

impl Site {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let static_dir = root.path().join("static");
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("static"),
            &static_dir,
        );
        for (path, bytes) in [
            ("js/big.js", compressible_script("conformance", 64 * 1024)),
            ("js/late.js", LATE_NEW.to_vec()),
            ("js/race.js", race_version(0)),
            ("img/large.bin", pseudo_random(LARGE_FILE_BYTES)),
            ("docs/index.html", b"<p>the docs</p>\n".to_vec()),
            (LOOKS_TAGGED, LOOKS_TAGGED_BYTES.to_vec()),
            (".env", b"SECRET=1\n".to_vec()),
        ] {
            write(&static_dir.join(path), &bytes);
        }
        std::fs::write(root.path().join("secret.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink("../secret.txt", static_dir.join("leak.txt")).unwrap();

        // The older deploy published its `js/late.js` to the archive the rows read.
        let archive = tempfile::tempdir().unwrap();
        let older = tempfile::tempdir().unwrap();
        write(&older.path().join("static/js/late.js"), LATE_OLD);
        let older_service = StaticFiles::new(
            older.path().join("static"),
            SiteSettings::new("tag", "older-deploy", 8),
        )
        .unwrap()
        .archive(Archive::local(archive.path()).unwrap());
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(older_service.publish())
            .unwrap();

        Site {
            root,
            archive,
            settings: cdnsettings!().release_build(true),
        }
    }

    /// The service of this deploy, with the shared archive, within a small memory bound:
    /// chunks of files sent from disk may hold a quarter of it (8 of 256 KiB), so that a few
    /// downloads at once reach that bound.
    fn service(&self) -> StaticFiles {
        StaticFiles::in_root(self.root.path(), self.settings.clone())
            .unwrap()
            .cache_limits(MEMORY_BOUND, 10_000)
            .archive(Archive::local(self.archive.path()).unwrap())
    }

    /// The same service with this crate's `static/` compiled in (as committed: what the
    /// revision names), the files the test writes read from disk below the site's root.
    fn embedded_service(&self) -> StaticFiles {
        let embedded = cdnembed!(embed = "always").with_disk_root(self.root.path());
        assert!(embedded.carried());
        StaticFiles::embedded(embedded, self.settings.clone())
            .unwrap()
            .cache_limits(MEMORY_BOUND, 10_000)
            .archive(Archive::local(self.archive.path()).unwrap())
    }

    fn file(&self, relative: &str) -> PathBuf {
        self.root.path().join("static").join(relative)
    }

    fn bytes(&self, relative: &str) -> Vec<u8> {
        std::fs::read(self.file(relative)).unwrap()
    }

    fn revision(&self) -> &str {
        self.settings.revision_tag()
    }
}

/// The memory bound of every row's service.
const MEMORY_BOUND: usize = 8 * 1024 * 1024;

/// Past the service's in-memory limit (4 MiB): sent from the open file in checked chunks.
const LARGE_FILE_BYTES: usize = 5 * 1024 * 1024 + 123;

/// `length` bytes that do not compress.
fn pseudo_random(length: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// `js/race.js` as its writer writes it: versions of two sizes.
fn race_version(version: usize) -> Vec<u8> {
    format!(
        "globalThis.race = {version};\n{}",
        "/* pad */\n".repeat(version % 2 * 50)
    )
    .into_bytes()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A row's server, started, and the site it serves.
struct Target {
    row: Row,
    port: u16,
    site: Site,
}

/// A response as the client received it (a chunked body undone).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }

    fn cache_control(&self) -> &str {
        self.header("cache-control").unwrap_or("-")
    }
}

impl Target {
    /// `GET` of `path` below the mount (`/js/app.js?tag=…`).
    fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[])
    }

    /// `method` of `path` below the mount, with `headers`, as HTTP/1.1 on a connection of its
    /// own.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let target = format!("{}{path}", self.row.prefix());
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut request = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for (name, value) in headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{:?}: no response head for {target}", self.row));
        let (status, headers) =
            cachekiller_tests::serving::response_head(&String::from_utf8_lossy(&raw[..split]));
        let mut body = raw[split + 4..].to_vec();
        let chunked = headers
            .iter()
            .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
        if chunked {
            body = dechunk(&body);
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The first `length` hex digits of the SHA-1 of the static file `relative`, by `sha1sum`.
    fn content_tag(&self, relative: &str, length: usize) -> String {
        sha1sum(&self.site.file(relative), length)
    }

    fn context(&self, what: &str) -> String {
        format!("{:?}: {what}", self.row)
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size");
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("a hex chunk size");
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// The SHA-1 of `bytes`, by `sha1sum`.
/// The response's content coding: `None` for its bytes as they are (no `Content-Encoding`,
/// or actix-web's `identity`, which keeps its `Compress` middleware away).
fn content_coding(answer: &Answer) -> Option<&str> {
    answer
        .header("content-encoding")
        .filter(|coding| *coding != "identity")
}

fn sha1_of(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    sha1sum(file.path(), 40)
}

fn exact_bytes_and_validators(target: &Target) {
    for (relative, url, content_type) in [
        ("js/app.js", "/js/app.js", "text/javascript"),
        ("img/team photo.png", "/img/team%20photo.png", "image/png"),
        ("img/logo.svg", "/img/logo.svg", "image/svg+xml"),
    ] {
        let answer = target.get(url);
        let what = target.context(url);
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(
            answer.body,
            target.site.bytes(relative),
            "{what}: the file's bytes"
        );
        assert_eq!(
            answer.header("etag"),
            Some(format!("\"{}\"", target.content_tag(relative, 40)).as_str()),
            "{what}: the ETag is the SHA-1 of the bytes sent"
        );
        assert_eq!(answer.cache_control(), NO_CACHE, "{what}: untagged");
        assert!(
            answer
                .header("content-type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{what}: {:?}",
            answer.header("content-type")
        );
        assert_eq!(
            answer.header(REVISION_HEADER),
            Some(target.site.revision()),
            "{what}: the revision header"
        );
    }
    let missing = target.get("/js/no-such-file.js");
    assert_eq!(missing.status, 404, "{}", target.context("a missing file"));
}

fn a_file_sent_from_disk(target: &Target) {
    let bytes = target.site.bytes("img/large.bin");
    let sha1 = target.content_tag("img/large.bin", 40);
    let answer = target.get(&format!("/img/large.bin?tag={}", &sha1[..10]));
    let what = target.context("a 5 MiB file");
    assert_eq!(answer.status, 200, "{what}");
    assert!(
        answer.body == bytes,
        "{what}: other bytes ({} of {})",
        answer.body.len(),
        bytes.len()
    );
    assert_eq!(
        answer.header("etag"),
        Some(format!("\"{sha1}\"").as_str()),
        "{what}"
    );
    // Not compressed by the service (too large to hold): sent as it is to a client that
    // accepts gzip too, under the ETag of these bytes (an actix-web `Compress` around the
    // service left it alone).
    let gzip_accepted = target.send(
        "GET",
        &format!("/img/large.bin?tag={}", &sha1[..10]),
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(
        content_coding(&gzip_accepted),
        None,
        "{what}: gzip accepted"
    );
    assert!(gzip_accepted.body == bytes, "{what}: gzip accepted");
    assert_eq!(
        gzip_accepted.header("etag"),
        Some(format!("\"{sha1}\"").as_str()),
        "{what}: gzip accepted"
    );
    // A range across the boundary of two of its 256 KiB chunks.
    let (start, end) = (4 * 1024 * 1024 - 100, 4 * 1024 * 1024 + 100);
    let part = target.send(
        "GET",
        "/img/large.bin",
        &[("Range", &format!("bytes={start}-{end}"))],
    );
    assert_eq!(part.status, 206, "{what}: a range");
    assert!(part.body == bytes[start..=end], "{what}: the range's bytes");
}

/// More downloads of a file sent from disk than the chunks the memory bound admits at once:
/// each must finish with the file's bytes (a body that kept a spent chunk's charge while it
/// waited for the next one stalled them all for good).
fn many_downloads_at_once(target: &Target) {
    const DOWNLOADS: usize = 24;
    let bytes = Arc::new(target.site.bytes("img/large.bin"));
    let what = target.context("downloads at once");
    std::thread::scope(|scope| {
        let downloads: Vec<_> = (0..DOWNLOADS)
            .map(|download| {
                let bytes = Arc::clone(&bytes);
                scope.spawn(move || {
                    let answer = target.get(&format!("/img/large.bin?download={download}"));
                    answer.status == 200 && answer.body == *bytes
                })
            })
            .collect();
        let whole = downloads
            .into_iter()
            .map(|download| download.join().unwrap_or(false))
            .filter(|whole| *whole)
            .count();
        assert_eq!(whole, DOWNLOADS, "{what}: downloads with the whole file");
    });
}

fn content_tags_in_both_forms(target: &Target) {
    let bytes = target.site.bytes("js/app.js");
    let tag = target.content_tag("js/app.js", 10);
    for url in [format!("/js/app.js?tag={tag}"), format!("/js/app.{tag}.js")] {
        let answer = target.get(&url);
        let what = target.context(&url);
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(answer.cache_control(), IMMUTABLE, "{what}");
        assert_eq!(answer.body, bytes, "{what}");
    }
    let looks_tagged = target.get(&format!("/{LOOKS_TAGGED}"));
    assert_eq!(
        looks_tagged.body,
        LOOKS_TAGGED_BYTES,
        "{}: a real file whose name looks tagged is itself",
        target.context(LOOKS_TAGGED)
    );
    for url in ["/js/app.js?tag=0123456789", "/js/app.0123456789.js"] {
        let answer = target.get(url);
        let what = target.context(url);
        assert_eq!(answer.status, 200, "{what}: the current bytes");
        assert_eq!(
            answer.cache_control(),
            NO_CACHE,
            "{what}: a tag that names other bytes"
        );
        assert_eq!(answer.body, bytes, "{what}");
    }
}

fn revision_names_committed_bytes(target: &Target) {
    let revision = target.site.revision();
    for url in [
        format!("/js/app.js?tag={revision}"),
        format!("/js/app.{revision}.js"),
        format!("/img/team%20photo.png?tag={revision}"),
    ] {
        let answer = target.get(&url);
        let what = target.context(&url);
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(
            answer.cache_control(),
            IMMUTABLE,
            "{what}: a committed file"
        );
    }
    // A stylesheet is sent rewritten: immutable under the revision, its ETag the rewrite's.
    let stylesheet = target.get(&format!("/css/app.css?tag={revision}"));
    assert_eq!(
        stylesheet.cache_control(),
        IMMUTABLE,
        "{}",
        target.context("css")
    );
    assert_eq!(
        stylesheet.header("etag"),
        Some(format!("\"{}\"", sha1_of(&stylesheet.body)).as_str()),
        "{}",
        target.context("the stylesheet's ETag names the bytes sent")
    );
    // A file the build did not see is not what the revision names.
    let late = target.get(&format!("/js/late.js?tag={revision}"));
    assert_eq!(late.status, 200, "{}", target.context("late.js"));
    assert_eq!(
        late.cache_control(),
        NO_CACHE,
        "{}",
        target.context("late.js")
    );
    assert_eq!(late.body, LATE_NEW, "{}", target.context("late.js"));
}

fn not_modified_only_for_these_bytes(target: &Target) {
    let tag = target.content_tag("js/app.js", 10);
    let url = format!("/js/app.js?tag={tag}");
    let etag = format!("\"{}\"", target.content_tag("js/app.js", 40));
    for validator in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
    ] {
        let answer = target.send("GET", &url, &[("If-None-Match", &validator)]);
        let what = target.context(&format!("If-None-Match: {validator}"));
        assert_eq!(answer.status, 304, "{what}");
        assert!(answer.body.is_empty(), "{what}");
        assert_eq!(answer.header("etag"), Some(etag.as_str()), "{what}");
        assert_eq!(answer.cache_control(), IMMUTABLE, "{what}");
    }
    let other = target.send("GET", &url, &[("If-None-Match", "\"0123456789abcdef\"")]);
    assert_eq!(other.status, 200, "{}", target.context("another validator"));
    assert_eq!(other.body, target.site.bytes("js/app.js"));
    // No Last-Modified: a date would validate other bytes of the same mtime.
    let dated = target.send(
        "GET",
        &url,
        &[("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")],
    );
    assert_eq!(dated.status, 200, "{}", target.context("If-Modified-Since"));
    assert_eq!(dated.header("last-modified"), None);
}

fn range_and_head(target: &Target) {
    let bytes = target.site.bytes("img/team photo.png");
    let length = bytes.len();
    let url = "/img/team%20photo.png";
    let part = target.send("GET", url, &[("Range", "bytes=2-9")]);
    let what = target.context("Range: bytes=2-9");
    assert_eq!(part.status, 206, "{what}");
    assert_eq!(part.body, bytes[2..=9], "{what}");
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 2-9/{length}").as_str()),
        "{what}"
    );
    let etag = format!("\"{}\"", sha1_of(&bytes));
    let same = target.send("GET", url, &[("Range", "bytes=-4"), ("If-Range", &etag)]);
    assert_eq!(
        same.status,
        206,
        "{}",
        target.context("If-Range: these bytes")
    );
    assert_eq!(same.body, bytes[length - 4..]);
    let stale = target.send(
        "GET",
        url,
        &[("Range", "bytes=-4"), ("If-Range", "\"old\"")],
    );
    assert_eq!(
        stale.status,
        200,
        "{}",
        target.context("If-Range: other bytes")
    );
    assert_eq!(stale.body, bytes);
    let beyond = target.send("GET", url, &[("Range", &format!("bytes={}-", length + 10))]);
    assert_eq!(
        beyond.status,
        416,
        "{}",
        target.context("a range beyond the end")
    );
    assert_eq!(
        beyond.header("content-range"),
        Some(format!("bytes */{length}").as_str())
    );
    let head = target.send("HEAD", url, &[]);
    let what = target.context("HEAD");
    assert_eq!(head.status, 200, "{what}");
    assert!(head.body.is_empty(), "{what}: no body");
    assert_eq!(
        head.header("content-length"),
        Some(length.to_string().as_str()),
        "{what}: the length a GET would send"
    );
    assert_eq!(head.header("etag"), Some(etag.as_str()), "{what}");
}

fn compression_variants(target: &Target) {
    let bytes = target.site.bytes("js/big.js");
    let sha1 = sha1_of(&bytes);
    let tag = &sha1[..10];
    let url = format!("/js/big.js?tag={tag}");
    for (accept, coding) in [
        ("br, gzip", Some("br")),
        ("gzip", Some("gzip")),
        ("identity", None),
    ] {
        let answer = target.send("GET", &url, &[("Accept-Encoding", accept)]);
        let what = target.context(&format!("Accept-Encoding: {accept}"));
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(answer.cache_control(), IMMUTABLE, "{what}");
        assert_eq!(answer.header("vary"), Some("accept-encoding"), "{what}");
        assert_eq!(content_coding(&answer), coding, "{what}");
        let decoded = match coding {
            Some("br") => unbrotli(&answer.body),
            Some(_) => gunzip(&answer.body),
            None => answer.body.clone(),
        };
        assert_eq!(decoded, bytes, "{what}: decodes to the tagged bytes");
        let etag = match coding {
            Some(coding) => format!("\"{sha1}-{coding}\""),
            None => format!("\"{sha1}\""),
        };
        assert_eq!(answer.header("etag"), Some(etag.as_str()), "{what}");
        if coding.is_some() {
            assert!(answer.body.len() < bytes.len() / 2, "{what}: compressed");
        }
    }
}

fn hidden_files_and_the_revision_endpoint(target: &Target) {
    for url in ["/.env", "/js/../.env", "/%2eenv"] {
        let answer = target.get(url);
        assert!(
            (400..500).contains(&answer.status),
            "{}: {}",
            target.context(url),
            answer.status
        );
        assert!(!String::from_utf8_lossy(&answer.body).contains("SECRET"));
    }
    let endpoint = target.get(&format!("/{REVISION_ENDPOINT}"));
    let what = target.context("the revision endpoint");
    assert_eq!(endpoint.status, 200, "{what}");
    assert_eq!(endpoint.body, target.site.revision().as_bytes(), "{what}");
    assert_eq!(endpoint.cache_control(), NO_CACHE, "{what}");
}

fn confinement(target: &Target) {
    for url in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/js/%2e%2e/%2e%2e/secret.txt",
        "/js%2F..%2F..%2Fsecret.txt",
        "/leak.txt",
        "/js/app.js%00.png",
        "/js\\..\\..\\secret.txt",
    ] {
        let answer = target.get(url);
        let what = target.context(url);
        assert!(
            (400..500).contains(&answer.status),
            "{what}: {}",
            answer.status
        );
        assert!(
            !String::from_utf8_lossy(&answer.body).contains("secret\n"),
            "{what}: the secret was sent"
        );
    }
}

fn directory_index_and_redirect(target: &Target) {
    let redirect = target.get("/docs?x=1");
    let what = target.context("a directory without its slash");
    assert_eq!(redirect.status, 307, "{what}");
    let location = redirect.header("location").expect("a Location");
    assert_eq!(
        location, "./docs/?x=1",
        "{what}: relative, so the mount survives"
    );
    // Resolved against the request's URL, as a browser does, it is the index.
    let index = target.get("/docs/");
    let what = target.context("the index");
    assert_eq!(index.status, 200, "{what}");
    assert_eq!(index.body, target.site.bytes("docs/index.html"), "{what}");
    assert!(index
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
}

fn old_tags_from_the_archive(target: &Target) {
    let old_sha1 = sha1_of(LATE_OLD);
    for url in [
        format!("/js/late.js?tag={}", &old_sha1[..10]),
        format!("/js/late.{}.js", &old_sha1[..10]),
    ] {
        let answer = target.get(&url);
        let what = target.context(&url);
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(answer.body, LATE_OLD, "{what}: the older deploy's bytes");
        assert_eq!(answer.cache_control(), IMMUTABLE, "{what}");
        assert_eq!(
            answer.header("etag"),
            Some(format!("\"{old_sha1}\"").as_str()),
            "{what}"
        );
    }
    let current = target.get(&format!("/js/late.js?tag={}", &sha1_of(LATE_NEW)[..10]));
    assert_eq!(
        current.body,
        LATE_NEW,
        "{}",
        target.context("the current tag")
    );
    assert_eq!(current.cache_control(), IMMUTABLE);
}

fn other_methods(target: &Target) {
    let answer = target.send("POST", "/js/app.js", &[("Content-Length", "0")]);
    let what = target.context("POST");
    assert_eq!(answer.status, 405, "{what}");
    assert_eq!(answer.header("allow"), Some("GET, HEAD"), "{what}");
}

/// A writer rewrites `js/race.js` in place (two sizes, and versions of equal size) while the
/// client asks for it under one version's content tag: no `immutable` response carries other
/// bytes; once the writes stop, the tag's version is `immutable`.
fn exact_bytes_under_writes(target: &Target) {
    let path = target.site.file("js/race.js");
    let tagged = race_version(0);
    let tag = sha1_of(&tagged)[..10].to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut version = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&path)
                    .unwrap();
                let bytes = race_version(version % 4);
                // Half now, half after a pause: a reader may see a file half written.
                file.write_all(&bytes[..bytes.len() / 2]).unwrap();
                std::thread::sleep(Duration::from_millis(2));
                file.write_all(&bytes[bytes.len() / 2..]).unwrap();
                // Whole for a moment, so that some requests find the tagged version whole.
                std::thread::sleep(Duration::from_millis(5));
                version += 1;
            }
        })
    };
    let started = Instant::now();
    let mut immutable = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        let answer = target.get(&format!("/js/race.js?tag={tag}"));
        if answer.cache_control() == IMMUTABLE {
            immutable += 1;
            assert_eq!(
                answer.body,
                tagged,
                "{}: immutable with other bytes",
                target.context("race")
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    write(&path, &tagged);
    let settled = target.get(&format!("/js/race.js?tag={tag}"));
    assert_eq!(
        settled.body,
        tagged,
        "{}",
        target.context("after the writes")
    );
    assert_eq!(
        settled.cache_control(),
        IMMUTABLE,
        "{}",
        target.context("after")
    );
    eprintln!(
        "{:?}: {immutable} immutable answers during the writes, each with the tagged bytes",
        target.row
    );
}
