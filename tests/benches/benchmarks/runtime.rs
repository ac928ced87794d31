//! The `runtime` section (see the list in `main.rs`).

use std::fmt::Write as _;
use std::fs;

use crate::common::{work_dir, write, Report};
use crate::render::time_renders;

/// The run-time API for templates read at run time: a cached `StaticFiles::url` call against
/// formatting the same URL by hand, and a `MiniJinja` page with 20 `static()` calls against the
/// same page with 20 literal URLs.
pub(crate) fn runtime(report: &mut Report, rounds: usize) {
    use cachekiller_core::{service::StaticFiles, SiteSettings};

    let root = work_dir("runtime");
    let _ = fs::remove_dir_all(&root);
    for index in 0..20 {
        write(
            &root.join(format!("static/css/page{index}.css")),
            "body { margin: 0 }\n",
        );
    }
    let settings = SiteSettings::new("tag", "0123456789abcd", 6)
        .release_build(true)
        .mode(cachekiller_core::TagMode::Content);
    let static_files = StaticFiles::new(root.join("static"), settings).unwrap();
    let url = static_files.url("css/page0.css").unwrap();
    let (mut calls, mut literals, mut lookups) = (String::new(), String::new(), String::new());
    // The workaround users had: a hand-kept map of URLs made beforehand, passed in the context.
    let mut hand_kept = std::collections::BTreeMap::new();
    for index in 0..20 {
        let path = format!("css/page{index}.css");
        let _ = writeln!(
            calls,
            "<link rel=\"stylesheet\" href=\"{{{{ static('{path}') }}}}\">"
        );
        let url = static_files.url(&path).unwrap();
        let _ = writeln!(literals, "<link rel=\"stylesheet\" href=\"{url}\">");
        let _ = writeln!(
            lookups,
            "<link rel=\"stylesheet\" href=\"{{{{ urls['{path}'] }}}}\">"
        );
        hand_kept.insert(path, minijinja::Value::from_safe_string(url));
    }
    let hand_kept = minijinja::context! { urls => hand_kept };
    let mut environment = minijinja::Environment::new();
    cachekiller_core::templates::minijinja::add_asset_functions(
        &mut environment,
        static_files.clone(),
    );
    environment.add_template("calls.html", &calls).unwrap();
    environment.add_template("lookups.html", &lookups).unwrap();
    environment
        .add_template("literals.html", &literals)
        .unwrap();
    let (with_calls, with_literals) = (
        environment.get_template("calls.html").unwrap(),
        environment.get_template("literals.html").unwrap(),
    );
    let with_lookups = environment.get_template("lookups.html").unwrap();
    assert_eq!(
        with_calls.render(()).unwrap(),
        with_literals.render(()).unwrap()
    );
    assert_eq!(
        with_lookups.render(&hand_kept).unwrap(),
        with_literals.render(()).unwrap()
    );
    // The memo keeps a URL for a second: each round asks again within it, as a busy server does.
    let times = time_renders(
        rounds,
        &[
            &|| format!("/static/css/page0.css?tag={}", &url[url.len() - 6..]).len(),
            &|| static_files.url("css/page0.css").unwrap().len(),
            &|| with_literals.render(()).unwrap().len(),
            &|| with_calls.render(()).unwrap().len(),
            &|| with_lookups.render(&hand_kept).unwrap().len(),
        ],
    );
    println!("runtime, release:");
    report.row(
        "run-time `StaticFiles::url`, a cached call",
        format!("{} ns", times[1].as_nanos()),
        format!("`format!` of the URL {} ns", times[0].as_nanos()),
        format!("{:.2}x", times[1].as_secs_f64() / times[0].as_secs_f64()),
    );
    report.row(
        "`MiniJinja` page, 20 `static()` calls",
        format!("{} ns", times[3].as_nanos()),
        format!("20 literal URLs {} ns", times[2].as_nanos()),
        format!("{:.2}x", times[3].as_secs_f64() / times[2].as_secs_f64()),
    );
    report.row(
        "`MiniJinja` page, 20 `static()` calls, against the hand-kept map of URLs it replaces",
        format!("{} ns", times[3].as_nanos()),
        format!("20 `urls['…']` lookups {} ns", times[4].as_nanos()),
        format!("{:.2}x", times[3].as_secs_f64() / times[4].as_secs_f64()),
    );
}

// ---------------------------------------------------------------------------------------
// typos
