//! Templates read at run time: `MiniJinja`'s, Tera's and Handlebars' `static` and `integrity`
//! give the macros' URL and integrity (the expansion is the oracle), unescaped; a missing file
//! is a render error naming the template, the path and the closest file; and
//! `check_templates` finds a planted typo in a `MiniJinja` and a Tera template, with its line.

use std::path::Path;

use cachekiller_core::__private::expand::{
    expand_integrity, expand_site_settings, expand_static_url,
};
use cachekiller_core::service::StaticFiles;
use cachekiller_core::templates::{
    check_templates, handlebars, minijinja::add_asset_functions, tera,
};
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::{copy_fixture, workspace_root};

fn site(root: &Path) -> (std::path::PathBuf, StaticFiles) {
    let site = root.join("site");
    copy_fixture(&workspace_root().join("tests/fixtures/stylesheets"), &site);
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
    let static_files = StaticFiles::new(site.join("static"), settings).unwrap();
    (site, static_files)
}

#[test]
fn minijinja_static_and_integrity_give_the_macros_values_unescaped() {
    let root = tempfile::tempdir().unwrap();
    let (site, static_files) = site(root.path());
    let mut environment = minijinja::Environment::new();
    add_asset_functions(&mut environment, static_files);
    environment
        .add_template(
            "page.html",
            "<link rel=\"stylesheet\" href=\"{{ static('css/app.css') }}\" integrity=\"{{ integrity('css/app.css') }}\">\n\
             <img src=\"{{ static('img/team photo.png') }}\">",
        )
        .unwrap();
    let page = environment
        .get_template("page.html")
        .unwrap()
        .render(())
        .unwrap();
    let css = expand_static_url(&site, "css/app.css", &[]).unwrap().value;
    let integrity = expand_integrity(&site, "css/app.css", &[]).unwrap().value;
    let photo = expand_static_url(&site, "img/team photo.png", &[])
        .unwrap()
        .value;
    assert_eq!(
        page,
        format!("<link rel=\"stylesheet\" href=\"{css}\" integrity=\"{integrity}\">\n<img src=\"{photo}\">")
    );
    assert!(!page.contains("&#x2f;"), "auto-escaped: {page}");

    environment
        .add_template("typo.html", "<p>\n{{ static('css/ap.css') }}</p>")
        .unwrap();
    let error = environment
        .get_template("typo.html")
        .unwrap()
        .render(())
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("typo.html"), "{message}");
    assert!(message.contains("\"css/ap.css\""), "{message}");
    assert!(
        message.contains("did you mean \"css/app.css\"?"),
        "{message}"
    );
}

#[test]
fn the_template_check_finds_a_planted_typo_with_its_line() {
    let root = tempfile::tempdir().unwrap();
    let (_site, static_files) = site(root.path());
    let templates = root.path().join("templates");
    std::fs::create_dir_all(templates.join("tera")).unwrap();
    std::fs::write(
        templates.join("base.html"),
        "<!doctype html>\n<link href=\"{{ static('css/app.css') }}\">\n\n<img src=\"{{ static(\"img/logo.svgg\") }}\">\n",
    )
    .unwrap();
    std::fs::write(
        templates.join("tera/page.html"),
        "{% extends \"base.html\" %}\n{{ static(path=\"img/logo.svg\") }}\n{{ integrity(path=\"vendor/reset.cs\") }}\n",
    )
    .unwrap();
    let missing = check_templates(&templates, &static_files).unwrap();
    let found: Vec<(String, usize, String)> = missing
        .iter()
        .map(|miss| {
            let template = miss
                .template
                .strip_prefix(&templates)
                .unwrap()
                .display()
                .to_string();
            (template, miss.line, miss.path.clone())
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("base.html".to_owned(), 4, "img/logo.svgg".to_owned()),
            ("tera/page.html".to_owned(), 3, "vendor/reset.cs".to_owned()),
        ]
    );
    assert!(
        missing[0].reason.contains("did you mean \"img/logo.svg\"?"),
        "{}",
        missing[0]
    );
    assert!(
        missing[1].to_string().contains("tera/page.html:3"),
        "{}",
        missing[1]
    );
}

/// The page each engine must render, from the macros' values.
fn expected_page(site: &Path) -> String {
    let css = expand_static_url(site, "css/app.css", &[]).unwrap().value;
    let integrity = expand_integrity(site, "css/app.css", &[]).unwrap().value;
    let photo = expand_static_url(site, "img/team photo.png", &[])
        .unwrap()
        .value;
    format!(
        "<link rel=\"stylesheet\" href=\"{css}\" integrity=\"{integrity}\">\n<img src=\"{photo}\">"
    )
}

#[test]
fn tera_functions_give_the_macros_values_unescaped() {
    let root = tempfile::tempdir().unwrap();
    let (site, static_files) = site(root.path());
    let mut templates = ::tera::Tera::default();
    tera::register_asset_functions(&mut templates, &static_files);
    templates
        .add_raw_template(
            "page.html",
            "<link rel=\"stylesheet\" href=\"{{ static(path='css/app.css') }}\" integrity=\"{{ integrity(path='css/app.css') }}\">\n\
             <img src=\"{{ static(path='img/team photo.png') }}\">",
        )
        .unwrap();
    let page = templates
        .render("page.html", &::tera::Context::new())
        .unwrap();
    assert_eq!(page, expected_page(&site));
    templates
        .add_raw_template("typo.html", "{{ static(path='css/ap.css') }}")
        .unwrap();
    let error = templates
        .render("typo.html", &::tera::Context::new())
        .unwrap_err();
    let message = std::iter::successors(Some(&error as &dyn std::error::Error), |error| {
        error.source()
    })
    .map(ToString::to_string)
    .collect::<Vec<_>>()
    .join(": ");
    assert!(message.contains("typo.html"), "{message}");
    assert!(
        message.contains("did you mean \"css/app.css\"?"),
        "{message}"
    );
}

#[test]
fn handlebars_helpers_give_the_macros_values_unescaped() {
    let root = tempfile::tempdir().unwrap();
    let (site, static_files) = site(root.path());
    let mut templates = ::handlebars::Handlebars::new();
    handlebars::register_asset_helpers(&mut templates, &static_files);
    templates
        .register_template_string(
            "page.html",
            "<link rel=\"stylesheet\" href=\"{{static \"css/app.css\"}}\" integrity=\"{{integrity \"css/app.css\"}}\">\n\
             <img src=\"{{static \"img/team photo.png\"}}\">",
        )
        .unwrap();
    let page = templates.render("page.html", &()).unwrap();
    assert_eq!(page, expected_page(&site));
    templates
        .register_template_string("typo.html", "<p>\n{{static \"css/ap.css\"}}</p>")
        .unwrap();
    let message = templates.render("typo.html", &()).unwrap_err().to_string();
    assert!(message.contains("typo.html"), "{message}");
    assert!(
        message.contains("did you mean \"css/app.css\"?"),
        "{message}"
    );
}
