//! One URL rule, every caller: a reference written in a module (an import), in a stylesheet
//! (a `url()`), a path given to `cdnstatic!` and to the run-time `url()`, and the request a
//! browser then sends, for the same inputs (escapes that name `%`, `#` and `?` in file names,
//! `%2e` and `%2e%2e` segments, `.`, `//`, a backslash, `%2F`, a query and a fragment). The
//! oracles: node's `new URL(reference, base)` for where a browser goes, and the service itself
//! asked for every URL the build made, whose answer must be the bytes of the file the browser
//! meant (read from disk), never what the macro says.

use std::fmt::Write as _;
use std::path::Path;

use super::requests::{get, runtime};
use super::*;
use crate::resolve::context::{load_crate_context, CrateContext};
use crate::resolve::environment::BuildEnvironment;
use crate::resolve::expand::expand_static_url_in;
use crate::resolve::import_map::expand_import_map_in;
use crate::test_support::{run, with_revision_manifest};

/// Files whose names hold what a URL must escape, and the module and stylesheet that name
/// them.
const FILES: &[&str] = &[
    "js/a%41.js",
    "js/aA.js",
    "js/a#b.js",
    "js/a?b.js",
    "js/sub/c.js",
    "top.js",
    "img/a%41.png",
    "img/a#b.png",
    "img/a?b.png",
    "img/aA.png",
    "img/top.png",
];

/// (a reference as `img/app.css` writes it in a `url()`, the file a browser gets). No
/// backslash: CSS reads it as an escape of its own.
const STYLESHEET_REFERENCES: &[(&str, &str)] = &[
    ("./a%2541.png", "img/a%41.png"),
    ("./a%41.png", "img/aA.png"),
    ("./a%23b.png", "img/a#b.png"),
    ("./a%3Fb.png", "img/a?b.png"),
    ("./%2e%2e/img/aA.png", "img/aA.png"),
    ("%2e/a%23b.png", "img/a#b.png"),
    (".//aA.png", "img/aA.png"),
    ("./aA.png?v=2#x", "img/aA.png"),
    ("/static/img/top.png", "img/top.png"),
];

/// (a reference as `js/app.js` writes it in an import, the file a browser gets).
const REFERENCES: &[(&str, &str)] = &[
    ("./a%2541.js", "js/a%41.js"),
    ("./a%41.js", "js/aA.js"),
    ("./a%23b.js", "js/a#b.js"),
    ("./a%3Fb.js", "js/a?b.js"),
    ("./%2e%2e/top.js", "top.js"),
    ("./%2E%2E/top.js", "top.js"),
    ("./sub/.%2e/a%41.js", "js/aA.js"),
    ("./%2e/sub/c.js", "js/sub/c.js"),
    (".//sub/c.js", "js/sub/c.js"),
    ("./sub\\c.js", "js/sub/c.js"),
    ("./sub/c.js?v=2#top", "js/sub/c.js"),
    ("/static/js/sub/c.js", "js/sub/c.js"),
];

fn crate_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"site\"\nversion = \"0.1.0\"\n\
         [package.metadata.cachekiller]\nmode = \"content\"\n",
    )
    .unwrap();
    for file in FILES {
        let path = dir.path().join("static").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("/* {file} */\n")).unwrap();
    }
    let mut imports = String::new();
    for (reference, _) in REFERENCES {
        let _ = writeln!(imports, "import {reference:?};");
    }
    std::fs::write(dir.path().join("static/js/app.js"), imports).unwrap();
    let mut urls = String::new();
    for (index, (reference, _)) in STYLESHEET_REFERENCES.iter().enumerate() {
        let _ = writeln!(urls, ".r{index} {{ background: url(\"{reference}\") }}");
    }
    std::fs::write(dir.path().join("static/img/app.css"), urls).unwrap();
    dir
}

/// node's resolution of `reference` against `base`: the path, query and fragment.
fn node_resolves(base: &str, reference: &str) -> String {
    let script = "const url = new URL(process.argv[1], process.argv[2]); \
                  console.log(url.pathname + url.search + url.hash)";
    run("node", Path::new("/"), &["-e", script, reference, base])
}

fn context(dir: &Path) -> CrateContext {
    load_crate_context(dir, &BuildEnvironment::default()).unwrap()
}

/// The static file a URL path (as the service gets it) names, by the service's own decoding.
fn bytes_of(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join("static").join(file)).unwrap()
}

#[test]
fn every_caller_resolves_a_reference_as_a_browser_does_and_the_service_answers_it() {
    let dir = crate_dir();
    let dir = dir.path();
    let context = context(dir);
    let settings = with_revision_manifest(
        SiteSettings::new("tag", "4b400e3aeb0426", 6)
            .release_build(true)
            .mode(crate::TagMode::Content),
        dir,
    );
    let service = StaticFiles::new(dir.join("static"), settings).unwrap();
    let map = expand_import_map_in(&context, &["js/app.js".to_owned()])
        .unwrap()
        .value;
    let json = map
        .strip_prefix("<script type=\"importmap\">")
        .and_then(|rest| rest.strip_suffix("</script>"))
        .unwrap();
    let map: serde_json::Value = serde_json::from_str(json).unwrap();
    runtime().block_on(async {
        for (reference, file) in REFERENCES {
            // Where the browser goes, by node.
            let requested = node_resolves("http://site.test/static/js/app.js", reference);
            // The service answers that URL with the file's bytes.
            let untagged = requested.strip_prefix("/static").unwrap();
            let plain = get(&service, untagged).await;
            assert_eq!(
                plain.body,
                bytes_of(dir, file),
                "{reference} -> {requested}"
            );
            // The import map maps that URL (without its query and fragment, as the browser
            // looks it up with them) to a tagged URL the service answers with the same bytes.
            let tagged = map["imports"][&requested]
                .as_str()
                .unwrap_or_else(|| panic!("no key {requested} for {reference}: {map}"));
            let answer = get(&service, tagged.strip_prefix("/static").unwrap()).await;
            assert_eq!(answer.body, bytes_of(dir, file), "{reference} -> {tagged}");
            assert_eq!(
                answer.cache_control(),
                "public, max-age=31536000, immutable",
                "{tagged}"
            );
        }

        // The stylesheet's references, as the service sends them rewritten: each, resolved by
        // node against the stylesheet's URL, is answered with the file's bytes.
        let css = String::from_utf8(get(&service, "/img/app.css").await.body).unwrap();
        for (index, (reference, file)) in STYLESHEET_REFERENCES.iter().enumerate() {
            let line = css
                .lines()
                .find(|line| line.starts_with(&format!(".r{index} ")))
                .unwrap();
            let written = line
                .split_once("url(\"")
                .and_then(|(_, rest)| rest.split_once("\")"))
                .map(|(url, _)| url)
                .unwrap();
            assert!(
                written.contains("tag="),
                "{reference} was not tagged: {written}"
            );
            let resolved = node_resolves("http://site.test/static/img/app.css", written);
            let answer = get(&service, resolved.strip_prefix("/static").unwrap()).await;
            assert_eq!(answer.body, bytes_of(dir, file), "{reference} -> {written}");
            assert_eq!(
                answer.cache_control(),
                "public, max-age=31536000, immutable",
                "{written}"
            );
        }

        // A path given to `cdnstatic!` and to `url()`: escapes decoded once, the canonical
        // file named, the URL the service answers with its bytes.
        for (path, file) in [
            ("js/a%2541.js", "js/a%41.js"),
            ("js/a%23b.js", "js/a#b.js"),
            ("js/a%3Fb.js", "js/a?b.js"),
            ("js//./sub/c.js?v=2#top", "js/sub/c.js"),
            ("img/a%2541.png", "img/a%41.png"),
        ] {
            let by_macro = expand_static_url_in(&context, path, &[]).unwrap().value;
            let by_url = service.url(path).unwrap();
            assert_eq!(by_macro, by_url, "{path}");
            let requested = node_resolves("http://site.test/", &by_macro);
            let answer = get(&service, requested.strip_prefix("/static").unwrap()).await;
            assert_eq!(answer.body, bytes_of(dir, file), "{path} -> {by_macro}");
            assert_eq!(
                answer.cache_control(),
                "public, max-age=31536000, immutable",
                "{by_macro}"
            );
        }
        // `%2F` is one segment to the browser and two to the disk: refused everywhere.
        assert!(expand_static_url_in(&context, "js%2Fsub/c.js", &[]).is_err());
        assert!(service.url("js%2Fsub/c.js").is_err());
        assert_eq!(
            get(&service, "/js%2Fsub/c.js").await.status,
            http::StatusCode::NOT_FOUND
        );
    });
}
