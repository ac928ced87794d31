//! Stylesheets whose fonts, images and `@import`s are tagged: the bytes the service sends for
//! every stylesheet of `tests/fixtures/stylesheets`, compared with an independent oracle
//! (`tests/oracle/css_oracle.py`: tinycss2 tokenizes both sides, hashlib makes the tags), and
//! the URLs and integrity the macros compute for them, compared with the served bytes.

use std::path::{Path, PathBuf};

use cachekiller_core::__private::expand::{
    expand_integrity, expand_site_settings, expand_static_url,
};
use cachekiller_core::service::StaticFiles;
use cachekiller_core::{TagIn, TagMode};
use cachekiller_tests::oracle::{git, git_head, openssl_integrity, run, sha1sum};
use cachekiller_tests::scratch::{copy_fixture, workspace_root};
use cachekiller_tests::setup::python;
use http::header::CACHE_CONTROL;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn fixture() -> PathBuf {
    workspace_root().join("tests/fixtures/stylesheets")
}

/// Every `.css` file below `dir`, relative to it.
fn stylesheets(dir: &Path) -> Vec<String> {
    let listing = run("find", dir, &[".", "-name", "*.css", "-type", "f"]);
    let mut found: Vec<String> = listing
        .lines()
        .map(|line| line.trim_start_matches("./").to_owned())
        .collect();
    found.sort();
    found
}

/// `GET uri` from the service: status, `Cache-Control`, body.
fn get(service: &StaticFiles, uri: &str) -> (u16, Option<String>, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let request = http::Request::get(uri).body(String::new()).unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        let cache_control = response
            .headers()
            .get(CACHE_CONTROL)
            .map(|value| value.to_str().unwrap().to_owned());
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, cache_control, body.to_vec())
    })
}

fn tag_in_name(tag_in: TagIn) -> &'static str {
    match tag_in {
        TagIn::Query => "query",
        TagIn::Name => "name",
    }
}

fn mode_name(mode: TagMode) -> &'static str {
    match mode {
        TagMode::Vcs => "vcs",
        TagMode::Content => "content",
    }
}

/// A crate holding the fixture's `static/`, configured with these settings, committed.
fn site_crate(root: &Path, tag_in: TagIn, mode: TagMode, param: &str) -> PathBuf {
    let site = root.join("site");
    copy_fixture(&fixture(), &site);
    std::fs::write(
        site.join("Cargo.toml"),
        format!(
            "[package]\nname = \"stylesheets\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [package.metadata.cachekiller]\ntag_in = \"{}\"\nmode = \"{}\"\nparam = \"{param}\"\n",
            tag_in_name(tag_in),
            mode_name(mode)
        ),
    )
    .unwrap();
    git(&site, &["init", "-q"]);
    git(&site, &["add", "-A"]);
    git(&site, &["commit", "-q", "-m", "stylesheets"]);
    site
}

#[test]
fn served_stylesheets_match_the_oracle_and_the_macros() {
    let cases = [
        (TagIn::Name, TagMode::Content, "tag"),
        (TagIn::Query, TagMode::Vcs, "tag"),
        (TagIn::Query, TagMode::Content, ""),
        (TagIn::Name, TagMode::Vcs, "tag"),
    ];
    for (tag_in, mode, param) in cases {
        let case = format!(
            "tag_in = {}, mode = {}, param = {param:?}",
            tag_in_name(tag_in),
            mode_name(mode)
        );
        let root = tempfile::tempdir().unwrap();
        let site = site_crate(root.path(), tag_in, mode, param);
        let static_dir = site.join("static");
        let revision: &'static str = git_head(&site)[..14].to_owned().leak();
        let param: &'static str = param.to_owned().leak();
        // What `cdnsettings!()` gives the site's server, the revision's manifest with it.
        let settings = expand_site_settings(&site)
            .unwrap()
            .settings
            .release_build(true);
        assert_eq!(settings.revision_tag(), revision);
        let service = StaticFiles::new(&static_dir, settings).unwrap();

        // What the service sends, written where the oracle reads it.
        let served = root.path().join("served");
        let names = stylesheets(&static_dir);
        assert_eq!(names.len(), 4, "{names:?}");
        for name in &names {
            let (status, _, body) = get(&service, &format!("/{}", name.replace(' ', "%20")));
            assert_eq!(status, 200, "{case}: {name}");
            let target = served.join(name);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, body).unwrap();
        }
        let oracle = workspace_root().join("tests/oracle/css_oracle.py");
        let report = run(
            &python(),
            root.path(),
            &[
                oracle.to_str().unwrap(),
                static_dir.to_str().unwrap(),
                served.to_str().unwrap(),
                tag_in_name(tag_in),
                param,
                mode_name(mode),
                revision,
                "6",
            ],
        );
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert!(
            report["references"].as_u64().unwrap() >= 20,
            "{case}: {report}"
        );

        for name in &names {
            // hashlib's tag of the served bytes is sha1sum's too.
            let served_file = served.join(name);
            let content_tag = sha1sum(&served_file, 6);
            assert_eq!(report["tags"][name], content_tag.as_str(), "{case}: {name}");

            // The macros' URL and integrity, computed at compile time, name those bytes.
            let url = expand_static_url(&site, name, &[]).unwrap().value;
            let tag = match mode {
                TagMode::Content => content_tag.as_str(),
                TagMode::Vcs => revision,
            };
            let tagged = match (tag_in, param.is_empty()) {
                (TagIn::Name, _) => {
                    format!("/static/{}.{tag}.css", name.trim_end_matches(".css"))
                }
                (TagIn::Query, true) => format!("/static/{name}?{tag}"),
                (TagIn::Query, false) => format!("/static/{name}?{param}={tag}"),
            };
            assert_eq!(url, tagged, "{case}");
            let integrity = expand_integrity(&site, name, &[]).unwrap().value;
            assert_eq!(
                integrity,
                openssl_integrity(&served_file, "sha384"),
                "{case}: {name}"
            );

            // And the service calls that URL current.
            let (status, cache_control, body) = get(&service, tagged.trim_start_matches("/static"));
            assert_eq!(status, 200, "{case}: {tagged}");
            assert_eq!(
                cache_control.as_deref(),
                Some(IMMUTABLE),
                "{case}: {tagged}"
            );
            assert_eq!(
                body,
                std::fs::read(&served_file).unwrap(),
                "{case}: {tagged}"
            );
        }
    }
}
