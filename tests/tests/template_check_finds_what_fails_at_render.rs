//! `check_templates` reports exactly the asset calls that fail when the engine renders the
//! template: each engine (`MiniJinja`, Tera, Handlebars) renders every template of its table
//! with the asset helpers registered, and the templates whose render fails, with the line the
//! engine gives, must be those the check reports. Each table says what its templates hold and
//! whether they fail, so that the two cannot agree by both finding nothing: calls nested in
//! filters, conditions, loops, macros, subexpressions and partials' hashes, whitespace
//! control, a space, a tab or a line break before the argument (issue 30), escaped quotes,
//! percent-encoded paths, and look-alikes in comments and raw blocks. Templates reached
//! through symbolic links are checked too, once per path, and a loop of links ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cachekiller_core::__private::expand::expand_site_settings;
use cachekiller_core::service::StaticFiles;
use cachekiller_core::templates::{check_templates, handlebars, minijinja, tera, MissingAsset};
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::{copy_fixture, workspace_root};

/// A template: its file name, its text, and whether rendering it fails (an asset call of it
/// names no file, or an unknown integrity algorithm).
type Case = (&'static str, &'static str, bool);

const MINIJINJA: &[Case] = &[
    (
        "typo.html",
        "<link href=\"{{ static('css/ap.css') }}\">",
        true,
    ),
    (
        "existing.html",
        "<link href=\"{{ static('css/app.css') }}\">",
        false,
    ),
    (
        "third_line.html",
        "<p>\n\n{{ static('css/ap.css') }}</p>",
        true,
    ),
    (
        "space_before_parenthesis.html",
        "{{ static ('css/ap.css') }}",
        true,
    ),
    (
        "line_break_before_parenthesis.html",
        "{{ static\n('css/ap.css') }}",
        true,
    ),
    (
        "escaped_quote.html",
        "{{ static(\"css/it\\\"s.css\") }}",
        false,
    ),
    (
        "escaped_quote_typo.html",
        "{{ static(\"css/it\\\"s.cs\") }}",
        true,
    ),
    (
        "percent_encoded.html",
        "{{ static('img/team%20photo.png') }}",
        false,
    ),
    (
        "percent_encoded_typo.html",
        "{{ static('img/team%20fotos.png') }}",
        true,
    ),
    (
        "in_a_filter.html",
        "{{ static('css/ap.css') | upper }}",
        true,
    ),
    (
        "as_a_filter_argument.html",
        "{{ 'x' | replace('x', static('css/ap.css')) }}",
        true,
    ),
    (
        "in_a_condition.html",
        "{% if true %}{{ static('css/ap.css') }}{% endif %}",
        true,
    ),
    (
        "in_a_loop.html",
        "{% for item in list %}{{ static('css/ap.css') }}{% endfor %}",
        true,
    ),
    (
        "in_a_set.html",
        "{% set url = static('css/ap.css') %}{{ url }}",
        true,
    ),
    (
        "in_a_macro.html",
        "{% macro link() %}\n{{ static('css/ap.css') }}{% endmacro %}{{ link() }}",
        true,
    ),
    (
        "in_a_list.html",
        "{{ [static('css/ap.css')] | first }}",
        true,
    ),
    ("concatenated.html", "{{ static('css/' ~ 'ap.css') }}", true),
    (
        "whitespace_control.html",
        "<p>\n  {{- static('css/ap.css') -}}\n</p>",
        true,
    ),
    ("integrity.html", "{{ integrity('vendor/reset.cs') }}", true),
    (
        "integrity_existing.html",
        "{{ integrity('vendor/reset.css', 'sha512') }}",
        false,
    ),
    (
        "integrity_algorithm.html",
        "{{ integrity('vendor/reset.css', 'sha999') }}",
        true,
    ),
    (
        "raw.html",
        "{% raw %}{{ static('css/ap.css') }}{% endraw %}",
        false,
    ),
    ("comment.html", "{# {{ static('css/ap.css') }} #}", false),
    ("computed.html", "{{ static(name) }}", false),
];

const TERA: &[Case] = &[
    (
        "typo.html",
        "<link href=\"{{ static(path='css/ap.css') }}\">",
        true,
    ),
    (
        "existing.html",
        "<link href=\"{{ static(path='css/app.css') }}\">",
        false,
    ),
    (
        "third_line.html",
        "<p>\n\n{{ static(path=\"css/ap.css\") }}</p>",
        true,
    ),
    (
        "spaces_and_line_breaks.html",
        "{{ static(\n  path = 'css/ap.css'\n) }}",
        true,
    ),
    ("backticks.html", "{{ static(path=`css/ap.css`) }}", true),
    (
        "percent_encoded.html",
        "{{ static(path='img/team%20photo.png') }}",
        false,
    ),
    (
        "percent_encoded_typo.html",
        "{{ static(path='img/team%20fotos.png') }}",
        true,
    ),
    (
        "in_a_filter.html",
        "{{ static(path='css/ap.css') | upper }}",
        true,
    ),
    (
        "in_a_condition.html",
        "{% if true %}{{ static(path='css/ap.css') }}{% endif %}",
        true,
    ),
    (
        "in_a_loop.html",
        "{% for item in list %}{{ static(path='css/ap.css') }}{% endfor %}",
        true,
    ),
    (
        "in_a_set.html",
        "{% set url = static(path='css/ap.css') %}{{ url }}",
        true,
    ),
    (
        "in_a_macro.html",
        "{% macro link() %}{{ static(path='css/ap.css') }}{% endmacro link %}\n\
         {{ self::link() }}",
        true,
    ),
    (
        "integrity.html",
        "{{ integrity(path='vendor/reset.cs') }}",
        true,
    ),
    (
        "integrity_existing.html",
        "{{ integrity(path='vendor/reset.css', algorithm='sha512') }}",
        false,
    ),
    (
        "integrity_algorithm.html",
        "{{ integrity(path='vendor/reset.css', algorithm='sha999') }}",
        true,
    ),
    (
        "raw.html",
        "{% raw %}{{ static(path='css/ap.css') }}{% endraw %}",
        false,
    ),
    (
        "comment.html",
        "{# {{ static(path='css/ap.css') }} #}",
        false,
    ),
    ("computed.html", "{{ static(path=name) }}", false),
];

const HANDLEBARS: &[Case] = &[
    (
        "typo.html",
        "<link href=\"{{static \"css/ap.css\"}}\">",
        true,
    ),
    (
        "existing.html",
        "<link href=\"{{static \"css/app.css\"}}\">",
        false,
    ),
    (
        "third_line.html",
        "<p>\n\n{{static \"css/ap.css\"}}</p>",
        true,
    ),
    (
        "whitespace_control.html",
        "<p>\n  {{~static \"css/ap.css\"~}}\n</p>",
        true,
    ),
    ("tab.html", "{{static\t\"css/ap.css\"}}", true),
    ("triple_braces.html", "{{{static \"css/ap.css\"}}}", true),
    (
        "subexpression.html",
        "{{#if (static \"css/ap.css\")}}yes{{/if}}",
        true,
    ),
    (
        "partial_hash.html",
        "{{> partial src=(static \"css/ap.css\")}}",
        true,
    ),
    (
        "in_a_block.html",
        "<p>\n{{#each list}}\n  {{static \"css/ap.css\"}}\n{{/each}}</p>",
        true,
    ),
    (
        "percent_encoded.html",
        "{{static \"img/team%20photo.png\"}}",
        false,
    ),
    (
        "percent_encoded_typo.html",
        "{{static \"img/team%20fotos.png\"}}",
        true,
    ),
    ("integrity.html", "{{integrity \"vendor/reset.cs\"}}", true),
    (
        "integrity_existing.html",
        "{{integrity \"vendor/reset.css\" \"sha512\"}}",
        false,
    ),
    (
        "integrity_algorithm.html",
        "{{integrity \"vendor/reset.css\" \"sha999\"}}",
        true,
    ),
    (
        "comment.html",
        "{{!-- {{static \"css/ap.css\"}} --}}",
        false,
    ),
    ("escaped.html", "\\{{static \"css/ap.css\"}}", false),
    ("computed.html", "{{static name}}", false),
    // The partial the partial hash case renders.
    ("partial.html", "<link href=\"{{src}}\">", false),
];

/// A site of the stylesheet fixture in content mode, with a file whose name holds a quote.
fn site(root: &Path) -> StaticFiles {
    let site = root.join("site");
    copy_fixture(&workspace_root().join("tests/fixtures/stylesheets"), &site);
    std::fs::write(site.join("static/css/it\"s.css"), "p { color: red }\n").unwrap();
    std::fs::write(
        site.join("Cargo.toml"),
        "[package]\nname = \"templates\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [package.metadata.cachekiller]\nmode = \"content\"\ntag_in = \"name\"\n",
    )
    .unwrap();
    git(&site, &["init", "-q"]);
    git(&site, &["add", "-A"]);
    git(&site, &["commit", "-q", "-m", "the site"]);
    let settings = expand_site_settings(&site).unwrap().settings;
    StaticFiles::new(site.join("static"), settings).unwrap()
}

/// Writes `cases` into `directory`.
fn write_cases(directory: &Path, cases: &[Case]) {
    std::fs::create_dir_all(directory).unwrap();
    for (name, text, _) in cases {
        std::fs::write(directory.join(name), text).unwrap();
    }
}

/// The templates of `directory` the check reports, with the lines of their reports.
fn reported(missing: &[MissingAsset], directory: &Path) -> BTreeMap<String, Vec<usize>> {
    let mut reported: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for miss in missing {
        if let Ok(name) = miss.template.strip_prefix(directory) {
            reported
                .entry(name.display().to_string())
                .or_default()
                .push(miss.line);
        }
    }
    reported
}

/// Renders each case with `render`, which gives the line of the failure when the engine
/// says it, and compares with the table and with the check's reports.
fn compare(
    engine: &str,
    cases: &[Case],
    missing: &[MissingAsset],
    directory: &Path,
    mut render: impl FnMut(&str) -> Result<(), Option<usize>>,
) {
    let reported = reported(missing, directory);
    let mut differences = Vec::new();
    for (name, text, fails) in cases {
        let rendered = render(name);
        if rendered.is_err() != *fails {
            differences.push(format!(
                "{name}: the table says it fails: {fails}, {engine} renders it: {rendered:?}\n{text}"
            ));
        }
        match (rendered, reported.get(*name)) {
            (Ok(()), None) => {}
            (Err(line), Some(lines)) => {
                if let Some(line) = line {
                    if lines != &[line] {
                        differences.push(format!(
                            "{name}: {engine} fails on line {line}, the check reports lines \
                             {lines:?}\n{text}"
                        ));
                    }
                }
            }
            (Ok(()), Some(lines)) => differences.push(format!(
                "{name}: {engine} renders it, the check reports lines {lines:?}\n{text}"
            )),
            (Err(line), None) => differences.push(format!(
                "{name}: {engine} fails (line {line:?}), the check reports nothing\n{text}"
            )),
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(
        cases.iter().filter(|(_, _, fails)| *fails).count() >= 10,
        "{engine}: enough failing templates that the comparison means something"
    );
}

/// The three engines' templates in one directory, checked at once: each file is read by the
/// engines that parse it.
struct Checked {
    _root: tempfile::TempDir,
    static_files: StaticFiles,
    templates: PathBuf,
    missing: Vec<MissingAsset>,
}

fn checked() -> Checked {
    let root = tempfile::tempdir().unwrap();
    let static_files = site(root.path());
    let templates = root.path().join("templates");
    write_cases(&templates.join("minijinja"), MINIJINJA);
    write_cases(&templates.join("tera"), TERA);
    write_cases(&templates.join("handlebars"), HANDLEBARS);
    let missing = check_templates(&templates, &static_files).unwrap();
    Checked {
        _root: root,
        static_files,
        templates,
        missing,
    }
}

#[test]
fn minijinja_fails_to_render_what_the_check_reports() {
    let checked = checked();
    let mut environment = ::minijinja::Environment::new();
    minijinja::add_asset_functions(&mut environment, checked.static_files.clone());
    for (name, text, _) in MINIJINJA {
        environment.add_template(name, text).unwrap();
    }
    let context = ::minijinja::context! { name => "css/app.css", list => vec![1] };
    compare(
        "MiniJinja",
        MINIJINJA,
        &checked.missing,
        &checked.templates.join("minijinja"),
        |name| {
            environment
                .get_template(name)
                .unwrap()
                .render(&context)
                .map(drop)
                .map_err(|error| error.line())
        },
    );
}

#[test]
fn tera_fails_to_render_what_the_check_reports() {
    let checked = checked();
    let mut templates = ::tera::Tera::default();
    tera::register_asset_functions(&mut templates, &checked.static_files);
    templates
        .add_raw_templates(TERA.iter().map(|(name, text, _)| (*name, *text)))
        .unwrap();
    let mut context = ::tera::Context::new();
    context.insert("name", "css/app.css");
    context.insert("list", &[1]);
    // Tera's errors name no line: the template alone is compared.
    compare(
        "Tera",
        TERA,
        &checked.missing,
        &checked.templates.join("tera"),
        |name| templates.render(name, &context).map(drop).map_err(|_| None),
    );
}

#[test]
fn handlebars_fails_to_render_what_the_check_reports() {
    let checked = checked();
    let mut templates = ::handlebars::Handlebars::new();
    handlebars::register_asset_helpers(&mut templates, &checked.static_files);
    for (name, text, _) in HANDLEBARS {
        templates.register_template_string(name, text).unwrap();
    }
    templates
        .register_partial("partial", HANDLEBARS.last().unwrap().1)
        .unwrap();
    let context = serde_json::json!({ "name": "css/app.css", "list": [1] });
    compare(
        "Handlebars",
        HANDLEBARS,
        &checked.missing,
        &checked.templates.join("handlebars"),
        |name| {
            templates
                .render(name, &context)
                .map(drop)
                .map_err(|error| error.line_no)
        },
    );
}

/// Templates reached through symbolic links are checked under the path they are reached by
/// (the name an engine loads them by), a link to a directory included; a loop of links and a
/// dangling link end the walk rather than the test.
#[cfg(unix)]
#[test]
fn templates_reached_through_symbolic_links_are_checked() {
    use std::os::unix::fs::symlink;

    let root = tempfile::tempdir().unwrap();
    let static_files = site(root.path());
    let shared = root.path().join("shared");
    std::fs::create_dir_all(shared.join("partials")).unwrap();
    std::fs::write(shared.join("page.html"), "\n{{ static('css/ap.css') }}").unwrap();
    std::fs::write(
        shared.join("partials/footer.html"),
        "{{ static('img/logo.svgg') }}",
    )
    .unwrap();
    let templates = root.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("own.html"),
        "{{ static('vendor/reset.cs') }}",
    )
    .unwrap();
    symlink(shared.join("page.html"), templates.join("linked.html")).unwrap();
    symlink(shared.join("partials"), templates.join("partials")).unwrap();
    symlink(&templates, templates.join("partials-loop")).unwrap();
    symlink(
        root.path().join("nowhere.html"),
        templates.join("dangling.html"),
    )
    .unwrap();

    let missing = check_templates(&templates, &static_files).unwrap();
    let found: Vec<(String, usize, &str)> = missing
        .iter()
        .map(|miss| {
            let name = miss.template.strip_prefix(&templates).unwrap();
            (name.display().to_string(), miss.line, miss.path.as_str())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("linked.html".to_owned(), 2, "css/ap.css"),
            ("own.html".to_owned(), 1, "vendor/reset.cs"),
            ("partials/footer.html".to_owned(), 1, "img/logo.svgg"),
        ]
    );
}
