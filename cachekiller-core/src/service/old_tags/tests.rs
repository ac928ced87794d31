//! Old tags answered from the archive, one promise per test: two deploys (A, then B with
//! other bytes) share an archive directory; B answers A's URLs. Oracles: `sha1sum` for every
//! tag and `ETag`, `gzip -dc` for gzip bodies, the bytes each deploy's files were written with.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
#[cfg(feature = "aws")]
use std::time::{Duration, Instant};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use http::StatusCode;
use sha1::Digest as _;

use crate::service::archive::{Archive, ArchiveError, RetentionPolicy, ServedFile, SigningKey};
use crate::service::tests::requests::fetch;
use crate::service::*;
use crate::test_support::{gunzip, sha1sum_of_bytes, with_revision_manifest_of_dir};
use crate::TagMode;

const REVISION_A: &str = "aaaa0000aaaa00";
const REVISION_B: &str = "bbbb1111bbbb11";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// A stylesheet large enough that gzip shrinks it, different in each deploy.
fn stylesheet(deploy: &str) -> Vec<u8> {
    let mut css = format!("/* deploy {deploy} */\n");
    for index in 0..60 {
        let _ = writeln!(
            css,
            ".rule-{index} {{ color: #{index:06x}; margin: {index}px; }}"
        );
    }
    css.into_bytes()
}

/// A deploy's static dir below `root`: `css/app.css`, `js/app.js`, `js/only-<deploy>.js`
/// and a hidden `.env`.
fn deploy(root: &Path, name: &str) -> std::path::PathBuf {
    let dir = root.join(name);
    for (path, bytes) in [
        ("css/app.css", stylesheet(name)),
        (
            "js/app.js",
            format!("console.log('deploy {name}');\n").into_bytes(),
        ),
        (
            &format!("js/only-{name}.js"),
            format!("export const deploy = '{name}';\n").into_bytes(),
        ),
        (".env", b"SECRET=1\n".to_vec()),
    ] {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

fn settings(revision: &'static str, mode: TagMode) -> SiteSettings {
    SiteSettings::new("tag", revision, 6)
        .release_build(true)
        .mode(mode)
}

/// Deploys A and B in `root`, both published to the archive in `root/archive`, in `mode`.
async fn two_deploys(root: &Path, mode: TagMode) -> (StaticFiles, StaticFiles) {
    let publish = |name: &'static str, revision: &'static str| async move {
        let dir = deploy(root, name);
        let deployed = StaticFiles::new(
            &dir,
            with_revision_manifest_of_dir(settings(revision, mode), &dir),
        )
        .unwrap()
        .archive(Archive::local(root.join("archive")).unwrap());
        deployed.publish().await.unwrap();
        deployed
    };
    let a = publish("a", REVISION_A).await;
    let b = publish("b", REVISION_B).await;
    (a, b)
}

fn tag_of(bytes: &[u8]) -> String {
    sha1sum_of_bytes(bytes)[..6].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_content_tag_gets_the_old_bytes_immutable() {
    let root = tempfile::tempdir().unwrap();
    let (_, b) = two_deploys(root.path(), TagMode::Content).await;
    let old = stylesheet("a");
    let old_sha1 = sha1sum_of_bytes(&old);
    let tag = tag_of(&old);
    for uri in [
        format!("/css/app.css?tag={tag}"),
        format!("/css/app.{tag}.css"),
        format!("/css/app.css?tag={old_sha1}"),
    ] {
        let answer = fetch(&b, &uri, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(answer.body, old, "{uri}: A's bytes");
        assert_eq!(answer.header(CACHE_CONTROL), IMMUTABLE, "{uri}");
        assert_eq!(answer.header(ETAG), format!("\"{old_sha1}\""), "{uri}");
        assert_eq!(answer.header(CONTENT_TYPE), "text/css", "{uri}");
        assert_eq!(answer.header(REVISION_HEADER), REVISION_B, "{uri}");

        let gzip = fetch(&b, &uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(gzip.header("content-encoding"), "gzip", "{uri}");
        assert_eq!(gzip.header(ETAG), format!("\"{old_sha1}-gzip\""), "{uri}");
        assert_eq!(gzip.header(CACHE_CONTROL), IMMUTABLE, "{uri}");
        assert_eq!(gunzip(&gzip.body), old, "{uri}: gzip of A's bytes");

        let revalidated = fetch(&b, &uri, &[("if-none-match", &format!("\"{old_sha1}\""))]).await;
        assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED, "{uri}");
    }
    // The current bytes are untouched by it.
    let new = stylesheet("b");
    let current = fetch(&b, &format!("/css/app.css?tag={}", tag_of(&new)), &[]).await;
    assert_eq!(current.body, new);
    assert_eq!(current.header(CACHE_CONTROL), IMMUTABLE);
    assert_eq!(
        current.header(ETAG),
        format!("\"{}\"", sha1sum_of_bytes(&new))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_revision_tag_gets_what_its_manifest_names() {
    let root = tempfile::tempdir().unwrap();
    let (_, b) = two_deploys(root.path(), TagMode::Vcs).await;
    let old_js = b"console.log('deploy a');\n";
    for (uri, body, cache_control) in [
        (
            format!("/js/app.js?tag={REVISION_A}"),
            old_js.to_vec(),
            IMMUTABLE,
        ),
        (
            format!("/js/app.{REVISION_A}.js"),
            old_js.to_vec(),
            IMMUTABLE,
        ),
        (
            format!("/css/app.css?tag={REVISION_A}"),
            stylesheet("a"),
            IMMUTABLE,
        ),
        (
            format!("/js/app.js?tag={REVISION_B}"),
            b"console.log('deploy b');\n".to_vec(),
            IMMUTABLE,
        ),
        // A's manifest does not name B's new file: B's bytes, revalidated.
        (
            format!("/js/only-b.js?tag={REVISION_A}"),
            b"export const deploy = 'b';\n".to_vec(),
            NO_CACHE,
        ),
        // A revision no deploy published.
        (
            "/js/app.js?tag=cccc2222cccc22".to_owned(),
            b"console.log('deploy b');\n".to_vec(),
            NO_CACHE,
        ),
    ] {
        let answer = fetch(&b, &uri, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(answer.body, body, "{uri}");
        assert_eq!(answer.header(CACHE_CONTROL), cache_control, "{uri}");
        assert_eq!(
            answer.header(ETAG),
            format!("\"{}\"", sha1sum_of_bytes(&body)),
            "{uri}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_ambiguous_tags_get_the_current_bytes_revalidated() {
    let root = tempfile::tempdir().unwrap();
    let (_, b) = two_deploys(root.path(), TagMode::Content).await;
    // Two more versions of `css/app.css` whose SHA-1s begin alike, published by two other
    // revisions: a tag of that prefix names neither.
    let (first, second) = two_contents_with_one_prefix(6);
    let archive = Archive::local(root.path().join("archive")).unwrap();
    archive
        .publish("other-1", [ServedFile::new("css/app.css", first.clone())])
        .await
        .unwrap();
    archive
        .publish("other-2", [ServedFile::new("css/app.css", second.clone())])
        .await
        .unwrap();
    let shared = tag_of(&first);
    assert_eq!(shared, tag_of(&second), "sha1sum: one prefix");
    let new = stylesheet("b");
    let unknown = ["000000", "ffffff"]
        .into_iter()
        .find(|tag| !sha1sum_of_bytes(&new).starts_with(tag))
        .unwrap();
    for tag in [shared.as_str(), unknown, "zzzzzz"] {
        let answer = fetch(&b, &format!("/css/app.css?tag={tag}"), &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{tag}");
        assert_eq!(answer.body, new, "{tag}: the current bytes");
        assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE, "{tag}");
    }
    // A longer tag tells them apart.
    let longer = sha1sum_of_bytes(&first)[..12].to_owned();
    let answer = fetch(&b, &format!("/css/app.css?tag={longer}"), &[]).await;
    assert_eq!(answer.body, first);
    assert_eq!(answer.header(CACHE_CONTROL), IMMUTABLE);
}

/// Two stylesheets whose SHA-1s begin with the same `digits` hex digits (found by trying;
/// the test checks them with `sha1sum`).
fn two_contents_with_one_prefix(digits: usize) -> (Vec<u8>, Vec<u8>) {
    let mut seen = std::collections::HashMap::new();
    for index in 0u64.. {
        let bytes = format!("/* version {index} */\n").into_bytes();
        let prefix = crate::rules::hash::to_hex(&sha1::Sha1::digest(&bytes))[..digits].to_owned();
        if let Some(earlier) = seen.insert(prefix, bytes.clone()) {
            return (earlier, bytes);
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_of_another_path_is_never_served() {
    let root = tempfile::tempdir().unwrap();
    let (_, b) = two_deploys(root.path(), TagMode::Content).await;
    // A's `js/app.js` is in the archive, as a version of `js/app.js` only.
    let other = b"console.log('deploy a');\n";
    let tag = tag_of(other);
    let answer = fetch(&b, &format!("/css/app.css?tag={tag}"), &[]).await;
    assert_eq!(answer.body, stylesheet("b"));
    assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE);
    let answer = fetch(&b, &format!("/js/app.js?tag={tag}"), &[]).await;
    assert_eq!(answer.body, other);
    assert_eq!(answer.header(CACHE_CONTROL), IMMUTABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_takes_what_the_service_sends_and_no_hidden_file() {
    let root = tempfile::tempdir().unwrap();
    let dir = deploy(root.path(), "a");
    // A stylesheet that references an image: published with its rewritten bytes.
    std::fs::write(dir.join("img.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(
        dir.join("css/logo.css"),
        "a { background: url(../img.png) }\n",
    )
    .unwrap();
    let archive_dir = root.path().join("archive");
    let service = StaticFiles::new(&dir, settings(REVISION_A, TagMode::Content))
        .unwrap()
        .archive(Archive::local(&archive_dir).unwrap());
    let report = service.publish().await.unwrap();
    assert_eq!(report.files, 5, "{report:?}");
    assert!(report.manifest_written);
    let sent = fetch(&service, "/css/logo.css", &[]).await.body;
    assert_ne!(
        sent,
        std::fs::read(dir.join("css/logo.css")).unwrap(),
        "rewritten"
    );
    let blobs: BTreeSet<String> = std::fs::read_dir(archive_dir.join("blobs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(blobs.contains(&sha1sum_of_bytes(&sent)), "the bytes sent");
    assert!(
        !blobs.contains(&sha1sum_of_bytes(b"SECRET=1\n")),
        "no hidden file"
    );
    assert_eq!(blobs.len(), 5);
    let again = service.publish().await.unwrap();
    assert_eq!(
        (
            again.blobs_uploaded,
            again.records_written,
            again.manifest_written
        ),
        (0, 0, false),
        "nothing changed: {again:?}"
    );
    let unarchived = StaticFiles::new(&dir, settings(REVISION_A, TagMode::Content)).unwrap();
    assert!(matches!(
        unarchived.publish().await,
        Err(ArchiveError::NoArchive)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debug_build_publishes_for_content_tags_only() {
    let root = tempfile::tempdir().unwrap();
    let archive = || Archive::local(root.path().join("archive")).unwrap();
    let debug = StaticFiles::new(
        deploy(root.path(), "a"),
        settings(REVISION_A, TagMode::Vcs).release_build(false),
    )
    .unwrap()
    .archive(archive());
    debug.publish().await.unwrap();
    let b = StaticFiles::new(deploy(root.path(), "b"), settings(REVISION_B, TagMode::Vcs))
        .unwrap()
        .archive(archive());
    let by_revision = fetch(&b, &format!("/js/app.js?tag={REVISION_A}"), &[]).await;
    assert_eq!(by_revision.body, b"console.log('deploy b');\n");
    assert_eq!(by_revision.header(CACHE_CONTROL), NO_CACHE);
    let old = b"console.log('deploy a');\n";
    let by_content = fetch(&b, &format!("/js/app.js?tag={}", tag_of(old)), &[]).await;
    assert_eq!(by_content.body, old);
    assert_eq!(by_content.header(CACHE_CONTROL), IMMUTABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_names_the_revision_and_the_endpoint_answers_it() {
    let root = tempfile::tempdir().unwrap();
    let service =
        StaticFiles::new(deploy(root.path(), "a"), settings(REVISION_A, TagMode::Vcs)).unwrap();
    for uri in ["/css/app.css", "/missing.css", "/.env"] {
        let answer = fetch(&service, uri, &[]).await;
        assert_eq!(answer.header(REVISION_HEADER), REVISION_A, "{uri}");
    }
    for uri in [
        format!("/{REVISION_ENDPOINT}"),
        format!("/./{REVISION_ENDPOINT}?x=1"),
    ] {
        let answer = fetch(&service, &uri, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(answer.body, REVISION_A.as_bytes(), "{uri}");
        assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE, "{uri}");
        assert_eq!(answer.header(CONTENT_TYPE), "text/plain; charset=utf-8");
    }
}

#[cfg(feature = "aws")]
mod store_down {
    use super::*;

    use crate::service::archive::tests::unreachable::s3_at;

    /// Old tags on a service whose store is at `port`: the current bytes, revalidated, the
    /// first within the lookup timeout and the next at once; the current tag never waits.
    async fn falls_back_within_the_timeout(port: u16) {
        let root = tempfile::tempdir().unwrap();
        let service = StaticFiles::new(
            deploy(root.path(), "b"),
            settings(REVISION_B, TagMode::Content),
        )
        .unwrap()
        .archive(s3_at(port, Duration::from_millis(400)));
        let new = stylesheet("b");
        let old_tag = tag_of(&stylesheet("a"));
        let started = Instant::now();
        let answer = fetch(&service, &format!("/css/app.css?tag={old_tag}"), &[]).await;
        let first = started.elapsed();
        assert_eq!(answer.body, new);
        assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE);
        assert!(first < Duration::from_millis(1200), "first: {first:?}");
        let started = Instant::now();
        for revision in ["1111111", "2222222", REVISION_A] {
            let answer = fetch(&service, &format!("/js/app.js?tag={revision}"), &[]).await;
            assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE);
        }
        let next = started.elapsed();
        assert!(next < Duration::from_millis(200), "next, resting: {next:?}");
        let current = fetch(&service, &format!("/css/app.css?tag={}", tag_of(&new)), &[]).await;
        assert_eq!(current.header(CACHE_CONTROL), IMMUTABLE);
        assert!(
            service.publish().await.is_err(),
            "publish reports the store"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        falls_back_within_the_timeout(port).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_that_never_answers() {
        // Accepts connections and never says a word.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        falls_back_within_the_timeout(port).await;
        drop(listener);
    }
}

/// One damaged object (a blob whose bytes no longer hash to its name) is refused for its own
/// tag, and the archive keeps answering every other old tag: a damaged blob is not a store
/// that is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_blob_fails_its_tag_only() {
    let root = tempfile::tempdir().unwrap();
    let (_, b) = two_deploys(root.path(), TagMode::Content).await;
    let old_js = b"console.log('deploy a');\n";
    let blob = root
        .path()
        .join("archive/blobs")
        .join(sha1sum_of_bytes(old_js));
    assert!(blob.is_file(), "{}", blob.display());
    std::fs::write(&blob, b"console.log('tampered');\n").unwrap();
    let damaged = fetch(&b, &format!("/js/app.js?tag={}", tag_of(old_js)), &[]).await;
    assert_eq!(damaged.body, b"console.log('deploy b');\n");
    assert_eq!(damaged.header(CACHE_CONTROL), NO_CACHE);
    let old_css = stylesheet("a");
    let intact = fetch(&b, &format!("/css/app.css?tag={}", tag_of(&old_css)), &[]).await;
    assert_eq!(intact.body, old_css, "the store is not put to rest");
    assert_eq!(intact.header(CACHE_CONTROL), IMMUTABLE);
}

/// A burst of cold old tags holds at most a few lookups at once: the rest get the current
/// bytes, revalidated, rather than one blob in memory each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_old_tags_is_answered_within_the_lookup_bound() {
    let root = tempfile::tempdir().unwrap();
    let (_, b) = two_deploys(root.path(), TagMode::Content).await;
    let old_css = stylesheet("a");
    let uri = format!("/css/app.css?tag={}", tag_of(&old_css));
    let answers = futures_join_all((0..64).map(|_| {
        let (b, uri) = (b.clone(), uri.clone());
        async move { fetch(&b, &uri, &[]).await }
    }))
    .await;
    let mut old = 0;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK);
        if answer.header(CACHE_CONTROL) == IMMUTABLE {
            assert_eq!(answer.body, old_css, "immutable only with A's bytes");
            old += 1;
        } else {
            assert_eq!(answer.body, stylesheet("b"));
            assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE);
        }
    }
    assert!(old >= 1, "the archive answered none of the burst");
    // Once found, the answer is remembered: the next request needs no lookup.
    let again = fetch(&b, &uri, &[]).await;
    assert_eq!(again.header(CACHE_CONTROL), IMMUTABLE);
    assert_eq!(again.body, old_css);
}

/// Runs the futures at once on the test's runtime and collects their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

fn site_key() -> SigningKey {
    SigningKey::new("the site's own key, shared by its instances").unwrap()
}

/// A release service of the deploy `name` below `root` for `revision`, its archive at
/// `root/archive` signed with `key` (if any).
fn service_with(
    root: &Path,
    name: &str,
    revision: &'static str,
    key: Option<SigningKey>,
) -> StaticFiles {
    let dir = root.join(name);
    let archive = Archive::local(root.join("archive")).unwrap();
    let archive = match key {
        Some(key) => archive.signing_key(key),
        None => archive,
    };
    StaticFiles::new(
        &dir,
        with_revision_manifest_of_dir(settings(revision, TagMode::Vcs), &dir),
    )
    .unwrap()
    .archive(archive)
}

/// Item 5: a writer to the store without the site's key records injected bytes as a version
/// of `js/app.js`, under a made-up revision and by a path record: no instance with the key
/// ever serves them, under any tag. (An instance without a key does: what the key is for.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_not_signed_with_the_sites_key_are_never_served() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    deploy(root, "b");
    let b = service_with(root, "b", REVISION_B, Some(site_key()));
    b.publish().await.unwrap();
    let injected = b"alert(\"injected\");\n";
    let archive_dir = root.join("archive");
    Archive::local(&archive_dir)
        .unwrap()
        .publish(
            "deadbeefcafe00",
            [ServedFile::new("js/app.js", &injected[..])],
        )
        .await
        .unwrap();
    let made_up_key = SigningKey::new("a key the forger made up, not the site's").unwrap();
    Archive::local(&archive_dir)
        .unwrap()
        .signing_key(made_up_key)
        .publish(
            "deadbeefcafe01",
            [ServedFile::new("js/app.js", &injected[..])],
        )
        .await
        .unwrap();
    let current = b"console.log('deploy b');\n";
    for uri in [
        "/js/app.js?tag=deadbeefcafe00".to_owned(),
        "/js/app.deadbeefcafe00.js".to_owned(),
        "/js/app.js?tag=deadbeefcafe01".to_owned(),
        format!("/js/app.js?tag={}", tag_of(injected)),
        format!("/js/app.{}.js", tag_of(injected)),
    ] {
        let answer = fetch(&b, &uri, &[]).await;
        assert_eq!(answer.body, current, "{uri}");
        assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE, "{uri}");
    }
    let without_key = service_with(root, "b", REVISION_B, None);
    let answer = fetch(&without_key, "/js/app.js?tag=deadbeefcafe00", &[]).await;
    assert_eq!(answer.body, injected, "the threat the key removes");
    assert_eq!(answer.header(CACHE_CONTROL), IMMUTABLE);
}

/// Item 9: a manifest cut short in the store: lookups and the collector skip it (and say
/// so) instead of failing, and the revision's next publication replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_manifest_is_skipped_and_the_next_publication_repairs_it() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    deploy(root, "a");
    deploy(root, "b");
    let a = service_with(root, "a", REVISION_A, None);
    a.publish().await.unwrap();
    let manifests = root.join("archive/revisions").join(REVISION_A);
    let manifest = std::fs::read_dir(&manifests)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&manifest).unwrap();
    std::fs::write(&manifest, &bytes[..bytes.len() / 2]).unwrap();

    let b = service_with(root, "b", REVISION_B, None);
    b.publish().await.unwrap();
    let by_revision = fetch(&b, &format!("/js/app.js?tag={REVISION_A}"), &[]).await;
    assert_eq!(by_revision.body, b"console.log('deploy b');\n");
    assert_eq!(by_revision.header(CACHE_CONTROL), NO_CACHE);
    // The store is not resting for it: A's content tag is still answered.
    let old = b"console.log('deploy a');\n";
    let by_content = fetch(&b, &format!("/js/app.js?tag={}", tag_of(old)), &[]).await;
    assert_eq!(by_content.body, old);
    assert_eq!(by_content.header(CACHE_CONTROL), IMMUTABLE);

    let report = Archive::local(root.join("archive"))
        .unwrap()
        .collect_garbage(&RetentionPolicy::default(), std::time::SystemTime::now())
        .await
        .unwrap();
    assert_eq!(report.manifests_damaged, 1, "{report:?}");

    let again = a.publish().await.unwrap();
    assert_eq!(again.manifests_repaired, 1, "{again:?}");
    assert!(again.manifest_written);
    let fresh = service_with(root, "b", REVISION_B, None);
    let repaired = fetch(&fresh, &format!("/js/app.js?tag={REVISION_A}"), &[]).await;
    assert_eq!(repaired.body, old);
    assert_eq!(repaired.header(CACHE_CONTROL), IMMUTABLE);
}

/// Item 9: an old page's tags of a file the current deploy removed (a renamed or split
/// module) are answered from the archive, in both forms and by both kinds of tag; a path
/// the archive never held stays a `404`, without a request to the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_tags_of_a_file_this_deploy_removed_are_answered_from_the_archive() {
    let root = tempfile::tempdir().unwrap();
    let (_, b) = two_deploys(root.path(), TagMode::Vcs).await;
    let removed = b"export const deploy = 'a';\n";
    let content = tag_of(removed);
    for uri in [
        format!("/js/only-a.js?tag={content}"),
        format!("/js/only-a.{content}.js"),
        format!("/js/only-a.js?tag={REVISION_A}"),
        format!("/js/only-a.{REVISION_A}.js"),
    ] {
        let answer = fetch(&b, &uri, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert_eq!(answer.body, removed, "{uri}");
        assert_eq!(answer.header(CACHE_CONTROL), IMMUTABLE, "{uri}");
    }
    for uri in [
        format!("/js/only-a.js?tag={}", tag_of(b"other bytes")),
        format!("/js/never-there.js?tag={content}"),
        format!("/js/never-there.js?tag={REVISION_A}"),
        "/js/only-a.js".to_owned(),
    ] {
        assert_eq!(
            fetch(&b, &uri, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}

/// Item 4: two builds of one revision whose bytes differ for a path (a dirty build, a
/// generated file, another configuration) both publish: the conflict is reported, and no
/// instance answers that path `immutable` under the revision any more, whichever published
/// first; the paths they agree on stay `immutable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_builds_of_one_revision_that_disagree_are_neither_immutable() {
    const REVISION: &str = "cccc3333cccc33";
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let first = deploy(root, "first");
    let second = root.join("second");
    for path in ["css/app.css", "js/app.js", "js/only-first.js"] {
        let target = second.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(first.join(path), target).unwrap();
    }
    std::fs::write(second.join("css/app.css"), stylesheet("second")).unwrap();
    let earlier = service_with(root, "first", REVISION, Some(site_key()));
    let later = service_with(root, "second", REVISION, Some(site_key()));
    let css = format!("/css/app.css?tag={REVISION}");
    let js = format!("/js/app.js?tag={REVISION}");
    assert!(earlier.publish().await.unwrap().conflicts.is_empty());
    assert_eq!(
        fetch(&earlier, &css, &[]).await.header(CACHE_CONTROL),
        IMMUTABLE
    );
    let report = later.publish().await.unwrap();
    let disputed: Vec<&str> = report.conflicts.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(disputed, ["css/app.css"]);
    assert_eq!(
        fetch(&later, &css, &[]).await.header(CACHE_CONTROL),
        NO_CACHE
    );
    assert_eq!(
        fetch(&later, &js, &[]).await.header(CACHE_CONTROL),
        IMMUTABLE
    );
    // The earlier instance learns of it at its next check (a request under its revision
    // starts one, at most once a minute; shorter in tests).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let answer = fetch(&earlier, &css, &[]).await;
        if answer.header(CACHE_CONTROL) == NO_CACHE {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the earlier instance never saw the conflict"
        );
    }
    assert_eq!(
        fetch(&earlier, &js, &[]).await.header(CACHE_CONTROL),
        IMMUTABLE
    );
    // A third instance asked for the revision's stylesheet gets neither.
    deploy(root, "b");
    let other = service_with(root, "b", REVISION_B, Some(site_key()));
    let answer = fetch(&other, &css, &[]).await;
    assert_eq!(answer.body, stylesheet("b"));
    assert_eq!(answer.header(CACHE_CONTROL), NO_CACHE);
}
