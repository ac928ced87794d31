//! The verdict: which tags make a response `immutable` (a content tag of the bytes sent, the
//! revision for the bytes its manifest names, in a release build), and which do not.

use super::*;

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
        SiteSettings::new("tag", "20261128101500", 6).release_build(true),
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
