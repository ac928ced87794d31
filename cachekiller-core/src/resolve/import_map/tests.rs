//! The import map and the preloads, against `sha1sum`, `openssl` and node's `URL`.

use super::json::write_json_string;
use super::specifiers::specifier_for;
use super::*;
use crate::resolve::config::{TagIn, TagMode};
use crate::resolve::manifest::LoadedConfig;
use crate::resolve::tag::{NamedFiles, ResolvedTag, TagSource};
use crate::test_support::{expected_import_map, openssl_integrity, sha1sum};
use std::path::Path;

const REVISION: &str = "89abcdef0123456789abcdef0123456789abcdef";

/// A crate whose `static/` holds `files`, configured by `config`, in a git revision (an
/// input here, not an oracle).
fn crate_with(files: &[(&str, &str)], config: Config) -> (tempfile::TempDir, CrateContext) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join("static").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let tag = ResolvedTag {
        value: REVISION.into(),
        source: TagSource::Git,
        tracked_files: vec![PathBuf::from("/w/.git/HEAD")],
        tracked_environment: vec!["CACHEKILLER_TAG"],
        rebuild_always: false,
        names: NamedFiles::Every,
    };
    let loaded = LoadedConfig {
        config,
        manifest_files: vec![PathBuf::from("/w/Cargo.toml")],
        static_url_from_environment: false,
    };
    let context = CrateContext::new(dir.path(), loaded, Ok(tag));
    (dir, context)
}

fn content_config() -> Config {
    Config {
        mode: TagMode::Content,
        tag_in: TagIn::Name,
        imports: [("lit".to_owned(), "vendor/lit.js".to_owned())].into(),
        ..Config::default()
    }
}

const GRAPH: &[(&str, &str)] = &[
    (
        "js/app.js",
        "import { ui } from './ui.js';\nimport { html } from 'lit';\n\
         const later = () => import('./lazy/panel.js');\nimport(name);\n",
    ),
    (
        "js/ui.js",
        "export * from \"./util.js\";\nexport const ui = 1;\n",
    ),
    (
        "js/util.js",
        "// import './not-imported.js'\nexport const u = `${'import(\"x\")'}`;\n",
    ),
    (
        "js/lazy/panel.js",
        "import { ui } from '../ui.js';\nexport default ui;\n",
    ),
    (
        "vendor/lit.js",
        "import './lit-core.js';\nexport const html = 1;\n",
    ),
    ("vendor/lit-core.js", "export const core = 1;\n"),
    ("js/unrelated.js", "import './missing.js';\n"),
];

/// The name-form URL of `path` with the first 6 hex digits of `sha1sum` of its file.
fn tagged(dir: &Path, path: &str) -> String {
    let tag = sha1sum(&dir.join("static").join(path), 6);
    let (stem, extension) = path.rsplit_once('.').unwrap();
    format!("/static/{stem}.{tag}.{extension}")
}

#[test]
fn every_reachable_module_is_mapped_to_its_tagged_url_with_its_integrity() {
    let (dir, context) = crate_with(GRAPH, content_config());
    let expansion = expand_import_map_in(&context, &["js/app.js".to_owned()]).unwrap();
    let reachable = [
        "js/app.js",
        "js/lazy/panel.js",
        "js/ui.js",
        "js/util.js",
        "vendor/lit-core.js",
        "vendor/lit.js",
    ];
    let mut imports: Vec<(String, String)> = reachable
        .iter()
        .map(|path| (format!("/static/{path}"), tagged(dir.path(), path)))
        .collect();
    imports.push(("lit".into(), tagged(dir.path(), "vendor/lit.js")));
    let integrity: Vec<(String, String)> = reachable
        .iter()
        .map(|path| {
            (
                tagged(dir.path(), path),
                openssl_integrity(&dir.path().join("static").join(path), "sha384"),
            )
        })
        .collect();
    assert_eq!(expansion.value, expected_import_map(imports, integrity));
    // The graph's files are tracked, whatever the mode; a module outside it is not.
    let mut tracked: Vec<String> = expansion
        .own_files
        .iter()
        .map(|file| {
            file.strip_prefix(dir.path().join("static"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    tracked.sort();
    assert_eq!(tracked, reachable);
}

#[test]
fn a_prefix_key_of_the_table_reaches_the_map_for_computed_imports() {
    let mut config = content_config();
    config.imports.insert("lib/".into(), "vendor/lib/".into());
    config
        .imports
        .insert("cdn/".into(), "https://cdn.example.com/pkg".into());
    let files = [
        (
            "js/app.js",
            "import { a } from 'lib/a.js';\nconst b = await import('lib/' + name);\n",
        ),
        ("vendor/lib/a.js", "export const a = 1;\n"),
        ("vendor/lib/sub/y.js", "export const y = 1;\n"),
    ];
    let (dir, context) = crate_with(&files, config);
    let value = expand_import_map_in(&context, &["js/app.js".to_owned()])
        .unwrap()
        .value;
    // The literal specifier gets its tagged URL; the prefixes, their untagged directory
    // (with the `/` an import map requires of a prefix's target).
    let literal = format!("\"lib/a.js\":\"{}\"", tagged(dir.path(), "vendor/lib/a.js"));
    assert!(value.contains(&literal), "{value}");
    assert!(
        value.contains("\"lib/\":\"/static/vendor/lib/\""),
        "{value}"
    );
    assert!(
        value.contains("\"cdn/\":\"https://cdn.example.com/pkg/\""),
        "{value}"
    );
}

#[test]
fn a_module_imported_with_a_query_is_preloaded_at_the_url_the_import_fetches() {
    let files = [
        ("js/app.js", "import { a } from './a.js?v=2';\n"),
        ("js/a.js", "export const a = 1;\n"),
    ];
    let (dir, context) = crate_with(&files, content_config());
    let preloads = expand_module_preloads_in(&context, &["js/app.js".to_owned()])
        .unwrap()
        .value;
    let integrity = openssl_integrity(&dir.path().join("static/js/a.js"), "sha384");
    let lines: Vec<&str> = preloads.lines().collect();
    assert_eq!(lines.len(), 2, "{preloads}");
    assert_eq!(
        lines[1],
        format!(
            "<link rel=\"modulepreload\" href=\"{}?v=2\" integrity=\"{integrity}\">",
            tagged(dir.path(), "js/a.js")
        )
    );
    // And the map sends that URL to the same one.
    let map = expand_import_map_in(&context, &["js/app.js".to_owned()])
        .unwrap()
        .value;
    assert!(
        map.contains(&format!(
            "\"/static/js/a.js?v=2\":\"{}?v=2\"",
            tagged(dir.path(), "js/a.js")
        )),
        "{map}"
    );
}

#[test]
fn preloads_follow_static_imports_only_entries_first() {
    let (dir, context) = crate_with(GRAPH, content_config());
    let expansion = expand_module_preloads_in(&context, &["js/app.js".to_owned()]).unwrap();
    let expected: Vec<String> = [
        "js/app.js",
        "js/ui.js",
        "vendor/lit.js",
        "js/util.js",
        "vendor/lit-core.js",
    ]
    .iter()
    .map(|path| {
        format!(
            "<link rel=\"modulepreload\" href=\"{}\" integrity=\"{}\">",
            tagged(dir.path(), path),
            openssl_integrity(&dir.path().join("static").join(path), "sha384")
        )
    })
    .collect();
    assert_eq!(expansion.value, expected.join("\n"));
}

#[test]
fn revision_tags_in_the_query_form_map_the_same_graph() {
    let config = Config {
        imports: [("lit".to_owned(), "vendor/lit.js".to_owned())].into(),
        ..Config::default()
    };
    let (_dir, context) = crate_with(GRAPH, config);
    let value = expand_import_map_in(&context, &["js/app.js".to_owned()])
        .unwrap()
        .value;
    let tag = &REVISION[..14];
    assert!(
        value.contains(&format!(
            "\"/static/js/ui.js\":\"/static/js/ui.js?tag={tag}\""
        )),
        "{value}"
    );
    assert!(
        value.contains(&format!("\"lit\":\"/static/vendor/lit.js?tag={tag}\"")),
        "{value}"
    );
}

#[test]
fn a_missing_module_or_an_unknown_bare_specifier_names_the_module_and_the_line() {
    let (_dir, context) = crate_with(
        &[
            ("js/app.js", "import './ui.js';\nimport './b.js';\n"),
            ("js/ui.js", "\n\nimport { x } from './utils.js';\n"),
            ("js/util.js", ""),
            ("js/b.js", "import { html } from 'lits';\n"),
        ],
        content_config(),
    );
    let error = expand_import_map_in(&context, &["js/app.js".to_owned()]).unwrap_err();
    assert_eq!(error.entry, 0);
    match &error.error {
        Error::ModuleImportNotFound {
            module,
            line,
            specifier,
            suggestion,
            ..
        } => {
            assert_eq!(
                (module.as_str(), *line, specifier.as_str()),
                ("js/ui.js", 3, "./utils.js")
            );
            assert_eq!(suggestion.as_deref(), Some("./util.js"));
        }
        other => panic!("{other:?}"),
    }
    let error = expand_import_map_in(&context, &["js/util.js".to_owned(), "js/b.js".to_owned()])
        .unwrap_err();
    assert_eq!(error.entry, 1);
    assert!(
        matches!(
            &error.error,
            Error::BareModuleSpecifierUnknown { module, line: 1, specifier, suggestion: Some(suggestion) }
                if module == "js/b.js" && specifier == "lits" && suggestion == "lit"
        ),
        "{error:?}"
    );
    let message = error.error.to_string();
    assert!(
        message.contains("[package.metadata.cachekiller.imports]"),
        "{message}"
    );
}

#[test]
fn imports_that_climb_or_are_urls() {
    let (_dir, context) = crate_with(
        &[
            (
                "app.js",
                "import 'https://esm.sh/preact';\nimport '//cdn.example.com/a.js';\n\
                 import '/other/x.js';\nimport '/static/ok.js';\n",
            ),
            ("ok.js", ""),
            ("climb.js", "import '../../etc/passwd.js';\n"),
        ],
        content_config(),
    );
    let value = expand_import_map_in(&context, &["app.js".to_owned()])
        .unwrap()
        .value;
    assert!(value.contains("\"/static/ok.js\""), "{value}");
    assert!(
        !value.contains("esm.sh") && !value.contains("/other/"),
        "{value}"
    );
    let error = expand_import_map_in(&context, &["climb.js".to_owned()]).unwrap_err();
    assert!(
        matches!(&error.error, Error::ModuleImportNotFound { cause, .. } if matches!(**cause, Error::StaticPathEscapes { .. })),
        "{error:?}"
    );
}

/// What a browser resolves `specifier` to in a module at `base`, by node's WHATWG `URL`
/// (the oracle), as a rooted URL.
fn browser_resolves(specifier: &str, base: &str) -> String {
    let script = "const u = new URL(process.argv[1], process.argv[2]); \
                  console.log(u.pathname + u.search + u.hash)";
    crate::test_support::run(
        "node",
        Path::new("/"),
        &[
            "-e",
            script,
            specifier,
            &format!("http://example.test{base}"),
        ],
    )
}

#[test]
fn keys_are_the_urls_the_browser_resolves_with_their_query() {
    let specifiers = [
        "./it's.js",
        "./x&y.js",
        "./a%41.js",
        "./b.js?v=1#top",
        "./dir/../caret^.js",
        "./日本 語.js",
        "/static/js/{curly}.js",
    ];
    let mut app = String::new();
    for specifier in specifiers {
        use std::fmt::Write as _;
        let _ = writeln!(app, "import {specifier:?};");
    }
    app.push_str("import 'lit/directives/class-map.js';\n");
    let files = [
        ("js/app.js", app.as_str()),
        ("js/it's.js", ""),
        ("js/x&y.js", ""),
        ("js/aA.js", ""),
        ("js/b.js", ""),
        ("js/caret^.js", ""),
        ("js/日本 語.js", ""),
        ("js/{curly}.js", ""),
        ("vendor/lit/directives/class-map.js", ""),
    ];
    let config = Config {
        imports: [("lit/".to_owned(), "vendor/lit/".to_owned())].into(),
        ..Config::default()
    };
    let (_dir, context) = crate_with(&files, config);
    let value = expand_import_map_in(&context, &["js/app.js".to_owned()])
        .unwrap()
        .value;
    for specifier in specifiers {
        let key = browser_resolves(specifier, "/static/js/app.js");
        assert!(
            value.contains(&format!("\"{key}\":\"")),
            "{specifier} -> {key}: {value}"
        );
    }
    let tag = &REVISION[..14];
    assert!(
        value.contains(&format!(
            "\"/static/js/b.js?v=1#top\":\"/static/js/b.js?v=1&tag={tag}#top\""
        )),
        "{value}"
    );
    assert!(
        value.contains(&format!(
            "\"lit/directives/class-map.js\":\"/static/vendor/lit/directives/class-map.js?tag={tag}\""
        )),
        "{value}"
    );
}

#[test]
fn an_absolute_import_under_an_absolute_static_url_is_ours() {
    let config = Config {
        static_url: "https://cdn.example.com/assets/".into(),
        ..Config::default()
    };
    let (_dir, context) = crate_with(
        &[
            (
                "app.js",
                "import 'https://cdn.example.com/assets/q/a.js';\nimport './q/b.js';\n",
            ),
            ("q/a.js", ""),
            ("q/b.js", ""),
        ],
        config,
    );
    let value = expand_import_map_in(&context, &["app.js".to_owned()])
        .unwrap()
        .value;
    let tag = &REVISION[..14];
    for module in ["q/a.js", "q/b.js"] {
        assert!(
            value.contains(&format!(
                "\"https://cdn.example.com/assets/{module}\":\"https://cdn.example.com/assets/{module}?tag={tag}\""
            )),
            "{value}"
        );
    }
}

#[test]
fn css_and_json_modules_are_mapped_but_not_preloaded() {
    let (_dir, context) = crate_with(
        &[
            (
                "app.js",
                "import sheet from './a.css' with { type: 'css' };\nimport data from './d.json' with { type: 'json' };\n",
            ),
            ("a.css", "a { color: red }\n"),
            ("d.json", "{}\n"),
        ],
        content_config(),
    );
    let map = expand_import_map_in(&context, &["app.js".to_owned()])
        .unwrap()
        .value;
    assert!(
        map.contains("\"/static/a.css\"") && map.contains("\"/static/d.json\""),
        "{map}"
    );
    let preloads = expand_module_preloads_in(&context, &["app.js".to_owned()])
        .unwrap()
        .value;
    assert_eq!(preloads.lines().count(), 1, "{preloads}");
    assert!(preloads.contains("/static/app."), "{preloads}");
}

#[test]
fn a_module_with_a_stray_byte_is_read_as_a_browser_reads_it() {
    let dir_and_context = crate_with(&[("b.js", "")], content_config());
    let app = dir_and_context.0.path().join("static/app.js");
    std::fs::write(&app, b"// caf\xe9 (Latin-1)\nimport './b.js';\n").unwrap();
    let value = expand_import_map_in(&dir_and_context.1, &["app.js".to_owned()])
        .unwrap()
        .value;
    assert!(value.contains("\"/static/b.js\""), "{value}");
}

#[test]
fn a_bare_specifier_of_the_table_can_be_an_entry() {
    let (dir, context) = crate_with(GRAPH, content_config());
    let value = expand_import_map_in(&context, &["lit".to_owned()])
        .unwrap()
        .value;
    for path in ["vendor/lit.js", "vendor/lit-core.js"] {
        assert!(value.contains(&tagged(dir.path(), path)), "{path}: {value}");
    }
    assert!(
        value.contains(&format!(
            "\"lit\":\"{}\"",
            tagged(dir.path(), "vendor/lit.js")
        )),
        "{value}"
    );
    // Not in the table: a static path, as before.
    let error = expand_import_map_in(&context, &["preact".to_owned()]).unwrap_err();
    assert!(
        matches!(error.error, Error::StaticFileNotFound { .. }),
        "{error:?}"
    );
}

#[test]
fn a_cycle_is_mapped_once() {
    let (_dir, context) = crate_with(
        &[
            ("a.js", "import './b.js';\n"),
            ("b.js", "import './a.js';\n"),
        ],
        content_config(),
    );
    let value = expand_import_map_in(&context, &["a.js".to_owned()])
        .unwrap()
        .value;
    assert_eq!(value.matches("\"/static/a.js\"").count(), 1, "{value}");
    assert_eq!(value.matches("\"/static/b.js\"").count(), 1, "{value}");
}

#[test]
fn the_specifier_a_module_writes_for_a_path() {
    for (importer, target, expected) in [
        ("js/app.js", "js/ui.js", "./ui.js"),
        ("js/app.js", "js/lib/a.js", "./lib/a.js"),
        ("js/lib/a.js", "js/ui.js", "../ui.js"),
        ("app.js", "js/ui.js", "./js/ui.js"),
        ("js/a/b/c.js", "vendor/lit.js", "../../../vendor/lit.js"),
    ] {
        assert_eq!(
            specifier_for(importer, target),
            expected,
            "{importer} -> {target}"
        );
    }
}

#[test]
fn json_that_no_script_element_can_end() {
    let mut output = String::new();
    write_json_string("</script><!-- \"a\\b\"\n", &mut output);
    assert_eq!(
        output,
        "\"\\u003c/script>\\u003c!-- \\\"a\\\\b\\\"\\u000a\""
    );
}
