//! The run-time API (`StaticFiles::url` and `::integrity`, for templates read at run time)
//! gives exactly what the macros give, for the same settings and files: the macros' expansion
//! (`cachekiller_core::__private::expand`, what `cdnstatic!`/`cdnintegrity!` call) is the oracle, in every
//! combination of `mode` x `tag_in` x `param`, over a tree with nested dirs, stylesheets with
//! references, unicode and space names, and paths with a query and a fragment. The service
//! then answers each URL `immutable` with bytes whose SHA-384 (`openssl`) is the integrity.

use std::path::{Path, PathBuf};

use cachekiller_core::__private::expand::{
    expand_integrity, expand_site_settings, expand_static_url,
};
use cachekiller_core::IntegrityAlgorithm;
use cachekiller_core::{service::StaticFiles, SiteSettings};
use cachekiller_core::{TagIn, TagMode};
use cachekiller_tests::oracle::{git, openssl_integrity};
use cachekiller_tests::scratch::{copy_fixture, workspace_root};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// The settings `cdnsettings!()` would give the crate at `site`.
fn site_settings(site: &Path) -> SiteSettings {
    expand_site_settings(site)
        .unwrap()
        .settings
        .release_build(true)
}

fn site_crate(root: &Path, metadata: &str) -> PathBuf {
    let site = root.join("site");
    copy_fixture(&workspace_root().join("tests/fixtures/stylesheets"), &site);
    std::fs::write(site.join("static/img/日本 語.svg"), "<svg id='nihongo'/>").unwrap();
    std::fs::write(
        site.join("Cargo.toml"),
        format!(
            "[package]\nname = \"runtime-urls\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [package.metadata.cachekiller]\n{metadata}"
        ),
    )
    .unwrap();
    git(&site, &["init", "-q"]);
    git(&site, &["add", "-A"]);
    git(&site, &["commit", "-q", "-m", "the site"]);
    site
}

const PATHS: &[&str] = &[
    "css/app.css",
    "css/theme/dark.css",
    "vendor/reset.css",
    "img/logo.svg",
    "img/team photo.png",
    "img/it's.png",
    "img/日本 語.svg",
    "img/icons.svg#home",
    "fonts/inter.woff2?v=4#x",
];

#[test]
fn the_run_time_api_gives_what_the_macros_give() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (mode, tag_in, param) in [
        (TagMode::Vcs, TagIn::Query, "tag"),
        (TagMode::Vcs, TagIn::Name, "tag"),
        (TagMode::Content, TagIn::Query, "v"),
        (TagMode::Content, TagIn::Name, "tag"),
        (TagMode::Content, TagIn::Query, ""),
        (TagMode::Vcs, TagIn::Query, ""),
    ] {
        let mode_name = if mode == TagMode::Vcs {
            "vcs"
        } else {
            "content"
        };
        let tag_in_name = if tag_in == TagIn::Query {
            "query"
        } else {
            "name"
        };
        let case = format!("mode = {mode_name}, tag_in = {tag_in_name}, param = {param:?}");
        let root = tempfile::tempdir().unwrap();
        let site = site_crate(
            root.path(),
            &format!("mode = \"{mode_name}\"\ntag_in = \"{tag_in_name}\"\nparam = \"{param}\"\n"),
        );
        let service = StaticFiles::in_root(&site, site_settings(&site)).unwrap();
        for path in PATHS {
            let expected = expand_static_url(&site, path, &[]).unwrap().value;
            assert_eq!(service.url(path).unwrap(), expected, "{case}: {path}");
            // Twice: the memo gives the same.
            assert_eq!(service.url(path).unwrap(), expected, "{case}: {path}");
            let location = path.split(['?', '#']).next().unwrap();
            let integrity = expand_integrity(&site, location, &[]).unwrap().value;
            assert_eq!(
                service
                    .integrity(location, IntegrityAlgorithm::Sha384)
                    .unwrap(),
                integrity,
                "{case}: {path}"
            );

            // The service answers that URL immutable, with the bytes the integrity names.
            let request_path = expected
                .trim_start_matches("/static")
                .split('#')
                .next()
                .unwrap()
                .to_owned();
            let (status, cache_control, body) = runtime.block_on(async {
                let request = http::Request::get(&request_path)
                    .body(String::new())
                    .unwrap();
                let response = service.clone().oneshot(request).await.unwrap();
                let cache_control = response.headers()["cache-control"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let status = response.status();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                (status, cache_control, body)
            });
            assert_eq!(status, 200, "{case}: {request_path}");
            assert_eq!(
                cache_control, "public, max-age=31536000, immutable",
                "{case}: {request_path}"
            );
            let sent = root.path().join("sent");
            std::fs::write(&sent, &body).unwrap();
            assert_eq!(
                openssl_integrity(&sent, "sha384"),
                integrity,
                "{case}: {path}"
            );
        }
        let error = service.url("img/logo.svgg").unwrap_err().to_string();
        assert!(error.contains("did you mean \"img/logo.svg\"?"), "{error}");
    }
}
