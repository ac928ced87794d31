//! The export to a folder, against `sha1sum`, `gzip -dc` and the bytes the test wrote.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::*;
use crate::test_support::{gunzip, sha1sum, unbrotli};
use crate::SiteSettings;

const REVISION: &str = "4b400e3aeb0426";

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// `static/` of a small site: a stylesheet naming an image, a script, an image, and a link
/// leading out.
fn site() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    write(
        &static_dir.join("css/app.css"),
        format!(
            "body {{ background: url(../img/logo.png) }}\n{}",
            ".rule { color: red }\n".repeat(50)
        )
        .as_bytes(),
    );
    write(
        &static_dir.join("js/app.js"),
        "console.log('app');\n".repeat(40).as_bytes(),
    );
    write(
        &static_dir.join("img/logo.png"),
        &[0x89, b'P', b'N', b'G', 1, 2],
    );
    std::fs::write(root.path().join("secret.txt"), "secret\n").unwrap();
    std::os::unix::fs::symlink("../secret.txt", static_dir.join("leak.css")).unwrap();
    root
}

fn content_settings() -> SiteSettings {
    SiteSettings::new("tag", REVISION, 8)
        .release_build(true)
        .mode(TagMode::Content)
        .tag_in(TagIn::Name)
}

fn service(root: &Path, settings: SiteSettings) -> StaticFiles {
    StaticFiles::new(root.join("static"), settings).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The tagged name of `relative` in `out`, found by the tag `sha1sum` gives its bytes.
fn tagged_name(out: &Path, relative: &str, served: &Path) -> std::path::PathBuf {
    let tag = &sha1sum(served, 8);
    let (stem, extension) = relative.rsplit_once('.').unwrap();
    out.join(format!("static/{stem}.{tag}.{extension}"))
}

#[test]
fn every_file_is_written_under_the_url_the_service_gives_with_its_siblings() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let files = service(root.path(), content_settings());
    let destination = Destination::dir(out.path());
    let report = runtime()
        .block_on(files.export().write(&destination))
        .unwrap();
    assert_eq!(report.files, 3, "{report}");
    assert_eq!(report.tagged_written, 3);
    assert_eq!(report.plain_written, 3);
    assert_eq!(report.skipped.len(), 1, "the link leading out: {report}");
    assert!(report.skipped[0].starts_with("leak.css"), "{report}");
    assert!(!out.path().join("static/leak.css").exists());

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join(&report.manifest)).unwrap()).unwrap();
    for relative in ["js/app.js", "img/logo.png", "css/app.css"] {
        // The URL `StaticFiles::url` (and `cdnstatic!`) gives is where the bytes are.
        let url = files.url(relative).unwrap();
        let key = url.trim_start_matches('/');
        let written = out.path().join(key);
        let entry = &manifest["files"][&url];
        assert_eq!(entry["tagged"], true, "{url}");
        assert_eq!(entry["sha1"].as_str().unwrap(), sha1sum(&written, 40));
        assert_eq!(
            entry["size"].as_u64().unwrap(),
            std::fs::metadata(&written).unwrap().len()
        );
        assert_eq!(written, tagged_name(out.path(), relative, &written));
        // The plain name holds the same bytes, as the manifest says.
        let plain = out.path().join("static").join(relative);
        assert_eq!(
            std::fs::read(&plain).unwrap(),
            std::fs::read(&written).unwrap()
        );
        assert_eq!(
            manifest["files"][format!("/static/{relative}")]["tagged"],
            false
        );
    }
    // Not a stylesheet: the bytes on disk. The stylesheet: its rewrite, naming the image's
    // tagged name, which the export wrote.
    let script = files.url("js/app.js").unwrap();
    assert_eq!(
        std::fs::read(out.path().join(script.trim_start_matches('/'))).unwrap(),
        std::fs::read(root.path().join("static/js/app.js")).unwrap()
    );
    let stylesheet = files.url("css/app.css").unwrap();
    let stylesheet_path = out.path().join(stylesheet.trim_start_matches('/'));
    let rewritten = std::fs::read_to_string(&stylesheet_path).unwrap();
    let image = files.url("img/logo.png").unwrap();
    let image_name = image.rsplit('/').next().unwrap();
    assert!(
        rewritten.contains(&format!("url(../img/{image_name})")),
        "{rewritten}"
    );
    assert!(out.path().join(image.trim_start_matches('/')).is_file());
    // Siblings of the text files, decoding (by `gzip -dc` and `brotli -dc`) to the bytes.
    for url in [&script, &stylesheet] {
        let path = out.path().join(url.trim_start_matches('/'));
        let bytes = std::fs::read(&path).unwrap();
        let gz = std::fs::read(format!("{}.gz", path.display())).unwrap();
        assert_eq!(gunzip(&gz), bytes, "{url}");
        let br = std::fs::read(format!("{}.br", path.display())).unwrap();
        assert_eq!(unbrotli(&br), bytes, "{url}");
    }
    // An image is not compressed.
    let image_path = out.path().join(image.trim_start_matches('/'));
    assert!(!Path::new(&format!("{}.gz", image_path.display())).exists());

    // The headers: `immutable` for exactly the tagged names and siblings.
    let headers = std::fs::read_to_string(out.path().join("_headers")).unwrap();
    assert_eq!(headers.matches("immutable").count(), 3 + 4 + 1, "{headers}");
    assert!(headers.contains(&format!(
        "{script}\n  Cache-Control: public, max-age=31536000, immutable\n"
    )));
    assert!(headers.contains("/static/js/app.js\n  Cache-Control: no-cache\n"));
    let nginx = std::fs::read_to_string(out.path().join(".cachekiller/nginx.conf")).unwrap();
    assert!(nginx.contains(&format!(
        "location = \"{stylesheet}\" {{ add_header Cache-Control \"public, max-age=31536000, immutable\"; }}"
    )));
    assert!(nginx.contains(&format!("root \"{}\";", out.path().display())));
}

#[test]
fn a_query_form_site_is_refused_naming_the_key_to_set() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let settings = content_settings().tag_in(TagIn::Query);
    let refused = runtime()
        .block_on(
            service(root.path(), settings)
                .export()
                .write(&Destination::dir(out.path())),
        )
        .unwrap_err();
    assert_eq!(refused, ExportError::NeedsNameForm);
    assert!(
        refused.to_string().contains("tag_in = \"name\""),
        "{refused}"
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn a_second_export_writes_and_compresses_only_the_changed_file() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    runtime
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&destination),
        )
        .unwrap();
    write(
        &root.path().join("static/js/app.js"),
        "console.log('changed');\n".repeat(40).as_bytes(),
    );
    let report = runtime
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&destination),
        )
        .unwrap();
    assert_eq!(report.tagged_written, 1, "{report}");
    assert_eq!(report.plain_written, 1, "{report}");
    assert_eq!(report.files_compressed, 1, "{report}");
    assert_eq!(report.siblings_written, 2, "{report}");
    // Both versions' names are there: the old pages' and the new.
    assert_eq!(
        std::fs::read_dir(out.path().join("static/js"))
            .unwrap()
            .filter(|entry| entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".js"))
            .count(),
        3,
        "two tagged names and the plain one"
    );
}

#[test]
fn a_tagged_name_holding_other_bytes_is_an_error_naming_it() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    let files = service(root.path(), content_settings());
    runtime
        .block_on(files.export().write(&destination))
        .unwrap();
    let url = files.url("js/app.js").unwrap();
    let tagged = out.path().join(url.trim_start_matches('/'));
    std::fs::write(&tagged, "tampered").unwrap();
    let refused = runtime
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&destination),
        )
        .unwrap_err();
    assert!(
        matches!(&refused, ExportError::Conflict { key, .. } if *key == url[1..]),
        "{refused}"
    );
    assert_eq!(
        std::fs::read(&tagged).unwrap(),
        b"tampered",
        "not overwritten"
    );
    // A sibling that decodes to other bytes, the same.
    std::fs::write(
        &tagged,
        std::fs::read(root.path().join("static/js/app.js")).unwrap(),
    )
    .unwrap();
    let gz = format!("{}.gz", tagged.display());
    let other = crate::rules::compression::compress_at(b"other bytes", Encoding::Gzip, 0);
    std::fs::write(&gz, other.unwrap_or_else(|| b"\x1f\x8b".to_vec())).unwrap();
    let refused = runtime
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&destination),
        )
        .unwrap_err();
    assert!(refused.to_string().contains("does not decode"), "{refused}");
}

#[test]
fn a_collection_keeps_what_retained_exports_name_and_deletes_the_rest() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    let day = Duration::from_secs(24 * 3600);
    let start = SystemTime::now() - 30 * day;
    let mut scripts = Vec::new();
    for (export, text) in ["one", "two", "three"].iter().enumerate() {
        write(
            &root.path().join("static/js/app.js"),
            format!("console.log('{text}');\n").repeat(40).as_bytes(),
        );
        let files = service(root.path(), content_settings());
        scripts.push(out.path().join(&files.url("js/app.js").unwrap()[1..]));
        runtime
            .block_on(
                files
                    .export()
                    .at(start + u32::try_from(export).unwrap() * day)
                    .write(&destination),
            )
            .unwrap();
    }
    // A page, and a file of the user's: no manifest names them.
    write(&out.path().join("index.html"), b"<html>");
    write(&out.path().join("static/robots.txt"), b"user's");
    let policy = RetentionPolicy {
        revisions: 2,
        max_age: day,
        grace: Duration::ZERO,
    };
    let report = runtime
        .block_on(destination.collect(&policy, SystemTime::now()))
        .unwrap();
    assert_eq!((report.exports_kept, report.exports_deleted), (2, 1));
    assert_eq!(
        report.objects_deleted, 3,
        "the first script and its two siblings"
    );
    assert!(!scripts[0].exists());
    assert!(scripts[1].exists() && scripts[2].exists());
    assert!(Path::new(&format!("{}.br", scripts[1].display())).exists());
    assert!(out.path().join("index.html").exists());
    assert!(out.path().join("static/robots.txt").exists());
    assert!(out.path().join("static/js/app.js").exists());
    let headers = std::fs::read_to_string(out.path().join("_headers")).unwrap();
    let first = scripts[0].file_name().unwrap().to_str().unwrap();
    assert!(!headers.contains(first), "{headers}");
    // Everything retained by a policy that keeps all: nothing more goes.
    let report = runtime
        .block_on(destination.collect(&RetentionPolicy::default(), SystemTime::now()))
        .unwrap();
    assert_eq!(report.objects_deleted, 0);
}

#[test]
fn a_headers_file_of_the_users_is_never_overwritten() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    write(
        &out.path().join("_headers"),
        b"/*\n  X-Frame-Options: DENY\n",
    );
    let refused = runtime()
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&Destination::dir(out.path())),
        )
        .unwrap_err();
    assert!(
        matches!(refused, ExportError::ForeignHeadersFile { .. }),
        "{refused}"
    );
    assert_eq!(
        std::fs::read(out.path().join("_headers")).unwrap(),
        b"/*\n  X-Frame-Options: DENY\n"
    );
}

#[cfg(feature = "resolve")]
#[test]
fn in_revision_mode_a_file_edited_since_the_build_is_refused() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let settings = crate::test_support::with_revision_manifest(
        SiteSettings::new("tag", REVISION, 8)
            .release_build(true)
            .tag_in(TagIn::Name),
        root.path(),
    );
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    let report = runtime
        .block_on(
            service(root.path(), settings.clone())
                .export()
                .write(&destination),
        )
        .unwrap();
    assert_eq!(report.tagged_written, 3);
    let revision_tag = &REVISION[..REVISION.len().min(14)];
    assert!(out
        .path()
        .join(format!("static/js/app.{revision_tag}.js"))
        .is_file());
    write(
        &root.path().join("static/js/app.js"),
        b"edited after the build\n",
    );
    let refused = runtime
        .block_on(service(root.path(), settings).export().write(&destination))
        .unwrap_err();
    assert!(
        matches!(&refused, ExportError::NotTheRevisionsBytes { path, .. } if path == "js/app.js"),
        "{refused}"
    );
}

#[test]
fn a_revision_that_names_no_files_is_refused() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let settings = SiteSettings::new("tag", "20261207120000", 8).tag_in(TagIn::Name);
    let refused = runtime()
        .block_on(
            service(root.path(), settings)
                .export()
                .write(&Destination::dir(out.path())),
        )
        .unwrap_err();
    assert!(
        matches!(refused, ExportError::RevisionNamesNoFiles { .. }),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("mode = \"content\""),
        "{refused}"
    );
}

#[test]
fn static_url_paths_become_key_prefixes() {
    assert_eq!(key_prefix("/static/").unwrap(), "static/");
    assert_eq!(key_prefix("/").unwrap(), "");
    assert_eq!(
        key_prefix("https://cdn.example.com/assets/v/").unwrap(),
        "assets/v/"
    );
    assert_eq!(key_prefix("//cdn.example.com/s/").unwrap(), "s/");
    for refused in ["/a/../b/", "/a%2F/", "/static"] {
        assert!(key_prefix(refused).is_err(), "{refused}");
    }
}

#[test]
fn a_destination_overlapping_a_static_dir_is_refused() {
    let root = site();
    for destination in [root.path().to_owned(), root.path().join("static/out")] {
        let refused = runtime()
            .block_on(
                service(root.path(), content_settings())
                    .export()
                    .write(&Destination::dir(&destination)),
            )
            .unwrap_err();
        assert!(
            matches!(refused, ExportError::InsideStaticDir { .. }),
            "{refused}"
        );
    }
    assert!(!root.path().join("static/out").exists());
    assert!(!root.path().join("_headers").exists());
}

#[test]
fn pages_are_written_whole_and_revalidated() {
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    runtime
        .block_on(destination.write_page("blog/index.html", "<p>one", "text/html"))
        .unwrap();
    runtime
        .block_on(destination.write_page("blog/index.html", "<p>two", "text/html"))
        .unwrap();
    assert_eq!(
        std::fs::read(out.path().join("blog/index.html")).unwrap(),
        b"<p>two"
    );
    for outside in ["../index.html", "/etc/x", "a//b"] {
        assert!(runtime
            .block_on(destination.write_page(outside, "x", "text/html"))
            .is_err());
    }
}

/// Two texts whose SHA-1s begin with the same 8 hex digits (a content tag's length here),
/// found by a birthday search: 32 bits collide within about 2^16 tries.
fn colliding_scripts() -> (String, String) {
    use sha1::Digest as _;
    let mut seen = std::collections::HashMap::new();
    for i in 0..1_000_000_u32 {
        let text = format!("window.build = {i};\n");
        let tag = to_hex(&sha1::Sha1::digest(text.as_bytes()))[..8].to_owned();
        if let Some(other) = seen.insert(tag, text.clone()) {
            return (other, text);
        }
    }
    panic!("no collision in a million tries");
}

#[test]
fn a_collected_tagged_name_is_never_written_again_with_other_bytes() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    let (first, second) = colliding_scripts();
    let day = Duration::from_secs(24 * 3600);
    let export = |text: &str, at: SystemTime| {
        write(&root.path().join("static/js/app.js"), text.as_bytes());
        let files = service(root.path(), content_settings());
        let url = files.url("js/app.js").unwrap();
        (
            url,
            runtime.block_on(files.export().at(at).write(&destination)),
        )
    };
    let (first_url, written) = export(&first, SystemTime::now() - 30 * day);
    written.unwrap();
    export("window.build = 'other';\n", SystemTime::now() - 20 * day)
        .1
        .unwrap();
    // While the first name is there, the full SHA-1 comparison refuses the second bytes.
    let (second_url, refused) = export(&second, SystemTime::now() - 20 * day);
    assert_eq!(first_url, second_url, "the same tag");
    assert!(matches!(refused, Err(ExportError::Conflict { .. })));
    // Collected, the name stays reserved for the bytes caches were told to keep a year.
    let policy = RetentionPolicy {
        revisions: 1,
        max_age: day,
        grace: Duration::ZERO,
    };
    let collected = runtime
        .block_on(destination.collect(&policy, SystemTime::now()))
        .unwrap();
    assert!(collected.objects_deleted > 0);
    assert!(!out.path().join(&first_url[1..]).exists());
    let (_, refused) = export(&second, SystemTime::now());
    let refused = refused.unwrap_err();
    assert!(
        refused.to_string().contains("a collection deleted it"),
        "{refused}"
    );
    assert!(!out.path().join(&first_url[1..]).exists());
    // The bytes it held may come back under it.
    export(&first, SystemTime::now()).1.unwrap();
}

#[test]
fn a_destination_not_there_yet_inside_a_static_dir_is_refused() {
    let root = site();
    std::fs::create_dir(root.path().join("site")).unwrap();
    std::os::unix::fs::symlink(root.path().join("static"), root.path().join("s")).unwrap();
    for destination in [
        root.path().join("site/../static/out"),
        root.path().join("s/out2"),
        root.path().join("missing/../static/deeper/out"),
    ] {
        let refused = runtime()
            .block_on(
                service(root.path(), content_settings())
                    .export()
                    .write(&Destination::dir(&destination)),
            )
            .unwrap_err();
        assert!(
            matches!(refused, ExportError::InsideStaticDir { .. }),
            "{}: {refused}",
            destination.display()
        );
    }
    assert!(!root.path().join("static/out").exists());
    assert!(!root.path().join("static/out2").exists());
}

#[test]
fn the_last_export_written_is_kept_whatever_its_time_and_the_policy() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    let now = SystemTime::now();
    let mut scripts = Vec::new();
    // Three exports at the same millisecond, then one whose clock went back ten days.
    for (text, at) in [
        ("one", now),
        ("two", now),
        ("three", now),
        ("four", now - Duration::from_secs(10 * 24 * 3600)),
    ] {
        write(
            &root.path().join("static/js/app.js"),
            format!("console.log('{text}');\n").repeat(40).as_bytes(),
        );
        let files = service(root.path(), content_settings());
        scripts.push(out.path().join(&files.url("js/app.js").unwrap()[1..]));
        runtime
            .block_on(files.export().at(at).write(&destination))
            .unwrap();
    }
    let nothing = RetentionPolicy {
        revisions: 0,
        max_age: Duration::ZERO,
        grace: Duration::ZERO,
    };
    let report = runtime
        .block_on(destination.collect(&nothing, now + Duration::from_secs(1)))
        .unwrap();
    // Kept: the last written (its clock went back) and the newest by time (of three exports
    // in one millisecond, the last written of them); at least one however the policy reads.
    assert_eq!(report.exports_kept, 2);
    assert!(scripts[3].is_file(), "the last export's script");
    assert!(scripts[2].is_file(), "the newest by time");
    assert!(out.path().join("static/js/app.js").is_file());
    assert!(!scripts[0].exists() && !scripts[1].exists());
    let headers = std::fs::read_to_string(out.path().join("_headers")).unwrap();
    assert!(headers.contains(scripts[3].file_name().unwrap().to_str().unwrap()));
}

#[test]
fn an_export_never_writes_through_a_link_in_the_destination() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), out.path().join("static")).unwrap();
    let refused = runtime()
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&Destination::dir(out.path())),
        )
        .unwrap_err();
    assert!(refused.to_string().contains("symbolic link"), "{refused}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn siblings_are_checked_and_made_whether_the_last_export_compressed_or_not() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    let export = |compression: bool| {
        runtime.block_on(
            service(root.path(), content_settings())
                .export()
                .compression(compression)
                .write(&destination),
        )
    };
    let uncompressed = export(false).unwrap();
    assert_eq!(uncompressed.siblings_written, 0);
    // An export without compression says nothing of which siblings are worth it.
    let compressed = export(true).unwrap();
    assert_eq!(compressed.files_compressed, 2, "{compressed}");
    assert_eq!(compressed.siblings_written, 4, "{compressed}");
    // A sibling of other bytes stops an export without compression too.
    let url = service(root.path(), content_settings())
        .url("js/app.js")
        .unwrap();
    let gz = out.path().join(format!("{}.gz", &url[1..]));
    // Two bytes: smaller than the file, so worth sending, and no gzip stream of its bytes.
    std::fs::write(&gz, b"\x1f\x8b").unwrap();
    let refused = export(false).unwrap_err();
    assert!(refused.to_string().contains("does not decode"), "{refused}");
}

#[cfg(feature = "archive")]
#[test]
fn an_object_store_gets_each_object_with_its_headers_and_no_escaped_names() {
    use futures_util::TryStreamExt as _;
    use object_store::{Attribute, ObjectStore as _, ObjectStoreExt as _};
    let root = site();
    let store = std::sync::Arc::new(object_store::memory::InMemory::new());
    let destination = Destination::store(store.clone());
    let runtime = runtime();
    let files = service(root.path(), content_settings());
    runtime
        .block_on(files.export().write(&destination))
        .unwrap();
    let script = files.url("js/app.js").unwrap();
    let head = |key: &str| {
        runtime
            .block_on(async { store.get(&key.into()).await })
            .unwrap()
            .attributes
    };
    let tagged = head(&script[1..]);
    assert_eq!(
        tagged.get(&Attribute::CacheControl).map(AsRef::as_ref),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        tagged.get(&Attribute::ContentType).map(AsRef::as_ref),
        Some("text/javascript")
    );
    let sibling = head(&format!("{}.br", &script[1..]));
    assert_eq!(
        sibling.get(&Attribute::ContentEncoding).map(AsRef::as_ref),
        Some("br")
    );
    assert_eq!(
        sibling.get(&Attribute::ContentType).map(AsRef::as_ref),
        Some("text/javascript")
    );
    let plain = head("static/js/app.js");
    assert_eq!(
        plain.get(&Attribute::CacheControl).map(AsRef::as_ref),
        Some("no-cache")
    );
    // A bucket gets no `_headers`: its objects carry their headers.
    assert!(runtime
        .block_on(async { store.get(&"_headers".into()).await })
        .is_err());
    // A name the store would escape is refused, not stored under another name.
    write(&root.path().join("static/100%.css"), b"a { }\n");
    let refused = runtime
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&destination),
        )
        .unwrap_err();
    assert!(refused.to_string().contains("rename the file"), "{refused}");
    // Refused before anything of it was written.
    assert_eq!(
        runtime
            .block_on(async { store.list(None).try_collect::<Vec<_>>().await })
            .unwrap()
            .iter()
            .filter(|meta| meta.location.as_ref().contains("100"))
            .count(),
        0
    );
}

#[test]
fn no_file_is_written_where_nginx_would_send_it_as_a_tagged_names_body() {
    let root = site();
    let out = tempfile::tempdir().unwrap();
    let destination = Destination::dir(out.path());
    let runtime = runtime();
    let files = service(root.path(), content_settings());
    runtime
        .block_on(files.export().write(&destination))
        .unwrap();
    // An image has no siblings; a static file named as its `.gz` would be sent by nginx's
    // `gzip_static` to every client that accepts gzip, under the image's tagged URL.
    let image = files.url("img/logo.png").unwrap();
    let planted = format!("{}.gz", image.trim_start_matches("/static/"));
    write(&root.path().join("static").join(&planted), b"other bytes");
    let refused = runtime
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&destination),
        )
        .unwrap_err();
    assert!(refused.to_string().contains("compressed body"), "{refused}");
    assert!(!out.path().join("static").join(&planted).exists());
    std::fs::remove_file(root.path().join("static").join(&planted)).unwrap();
    // Nor a plain name over a tagged name a retained export names, when that file is gone.
    let tagged = out.path().join(&image[1..]);
    std::fs::remove_file(&tagged).unwrap();
    write(
        &root.path().join("static").join(&image["/static/".len()..]),
        b"a file named like the tag",
    );
    let refused = runtime
        .block_on(
            service(root.path(), content_settings())
                .export()
                .write(&destination),
        )
        .unwrap_err();
    assert!(
        refused.to_string().contains("wrote it as a tagged name"),
        "{refused}"
    );
    assert!(!tagged.exists());
}
