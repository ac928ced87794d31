//! Stylesheets served rewritten: every spelling one rewrite, references tagged and checked,
//! deep chains, missing references, stylesheets too large to hold.

use super::*;
use http::header::{CONTENT_TYPE, ETAG};

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
    let settings = SiteSettings::new("tag", REVISION, 6)
        .release_build(true)
        .mode(TagMode::Content);
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
        SiteSettings::new("tag", REVISION, 6)
            .release_build(true)
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
        with_revision_manifest(
            SiteSettings::new("tag", REVISION, 6).release_build(true),
            root.path(),
        ),
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

#[test]
fn a_missing_reference_is_looked_for_again_after_a_second() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    write(
        &static_dir.join("css/app.css"),
        b"a { b: url(../img/late.png) }\n",
    );
    let served = StaticFiles::new(
        &static_dir,
        SiteSettings::new("tag", REVISION, 6).release_build(true),
    )
    .unwrap();
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

/// A stylesheet larger than the in-memory limit is sent as it is, revalidated, never read
/// whole on every request.
#[test]
fn a_stylesheet_too_large_to_hold_is_sent_as_it_is_and_revalidated() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    let css = format!("a {{ b: url(x.png) }}\n{}", "/* padding */\n".repeat(2_000));
    write(&static_dir.join("big.css"), css.as_bytes());
    write(&static_dir.join("x.png"), b"png");
    let served = StaticFiles::new(
        &static_dir,
        SiteSettings::new("tag", REVISION, 6).release_build(true),
    )
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
