//! Deploy skew in a real browser: a tab of headless Chromium opened on revision A of the axum
//! example (release, feature `archive`); then A stops and B, another commit whose lazily
//! imported module and late stylesheet differ, starts on the same port with the same archive.
//! The old tab polls the reload signal (`/static/.well-known/cachekiller-revision`); once it
//! reports B, the tab does what an old page does later on: `import("./lazy.js")` (mapped by
//! A's import map, with A's integrity) and appends a `<link rel="stylesheet">` of A's URL. It
//! reports what it got by requesting `/ran?…` from the server. The claims are read from B's
//! request log: A's tags answered `200` `immutable`, and the tab ran A's module (the browser
//! checks its bytes against A's integrity) with A's stylesheet applied.
//!
//! Chromium must be installed (`tests/run` installs it): without it this test fails.

use std::path::Path;
use std::time::Duration;

use cachekiller_tests::deploys::TwoDeploys;
use cachekiller_tests::serving::{free_port, wait_until, Chromium, Server};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The files a deploy's page uses later: `js/lazy.js` and `css/late.css`, marked `deploy`.
fn write_late_files(site: &Path, deploy: &str) {
    let static_dir = site.join("static");
    std::fs::write(
        static_dir.join("js/lazy.js"),
        format!("export const lazy = \"lazy-{deploy}\";\n"),
    )
    .unwrap();
    std::fs::write(
        static_dir.join("css/late.css"),
        format!("html {{ --late: late-{deploy}; }}\n"),
    )
    .unwrap();
}

/// A's page: it keeps its revision, waits for the reload signal to name another one, then
/// loads its lazy module and late stylesheet and reports.
fn write_page_a(site: &Path) {
    write_late_files(site, "a");
    let template = site.join("templates/index.html");
    let page = std::fs::read_to_string(&template).unwrap().replace(
        "</head>",
        "<meta name=\"late-css\" content=\"{{ cdnstatic!(\"css/late.css\")|safe }}\">\n\
         <meta name=\"revision\" content=\"{{ cdntag!() }}\">\n</head>",
    );
    std::fs::write(&template, page).unwrap();
    std::fs::write(
        site.join("static/js/site.js"),
        "import { greeting } from \"./greeting.js\";\n\
         const meta = (name) => document.querySelector(`meta[name=${name}]`).content;\n\
         const rendered = meta(\"revision\");\n\
         document.documentElement.dataset.greeting = greeting;\n\
         await fetch(`/ran?loaded-${rendered}`);\n\
         for (;;) {\n\
         \x20 await new Promise((resolve) => setTimeout(resolve, 300));\n\
         \x20 let now;\n\
         \x20 try {\n\
         \x20   const response = await fetch(\"/static/.well-known/cachekiller-revision\", { cache: \"no-cache\" });\n\
         \x20   if (!response.ok) continue;\n\
         \x20   now = await response.text();\n\
         \x20 } catch { continue; }\n\
         \x20 if (now === rendered) continue;\n\
         \x20 const { lazy } = await import(\"./lazy.js\");\n\
         \x20 const link = document.createElement(\"link\");\n\
         \x20 link.rel = \"stylesheet\";\n\
         \x20 link.href = meta(\"late-css\");\n\
         \x20 await new Promise((resolve, reject) => {\n\
         \x20   link.onload = resolve;\n\
         \x20   link.onerror = reject;\n\
         \x20   document.head.append(link);\n\
         \x20 });\n\
         \x20 const late = getComputedStyle(document.documentElement).getPropertyValue(\"--late\").trim();\n\
         \x20 await fetch(`/ran?${lazy}-${late}-${now}`);\n\
         \x20 break;\n\
         }\n",
    )
    .unwrap();
}

#[test]
fn an_old_tab_loads_its_own_module_and_stylesheet_after_the_deploy() {
    let deploys = TwoDeploys::build(
        "skew_browser_site",
        &["archive"],
        "",
        write_page_a,
        |site| {
            write_late_files(site, "b");
        },
    );
    let archive = deploys.archive_dir();
    let environment = [("CACHEKILLER_ARCHIVE", archive.to_str().unwrap())];
    let port = free_port();
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());

    let a = Server::start_with_env(&deploys.a.binary(), &environment, port);
    chromium.open(&format!("http://127.0.0.1:{port}/"));
    let loaded = format!("GET /ran?loaded-{}", deploys.tag_a());
    wait_until(&loaded, Duration::from_secs(30), || a.count(&loaded) == 1);
    assert_eq!(
        a.lines()
            .iter()
            .filter(|line| line.contains("lazy.js") || line.contains("late.css"))
            .count(),
        0,
        "A's page loads its lazy module and late stylesheet only later: {:#?}",
        a.lines()
    );
    drop(a);

    let b = Server::start_with_env(&deploys.b.binary(), &environment, port);
    let ran = format!("GET /ran?lazy-a-late-a-{}", deploys.tag_b());
    wait_until(&ran, Duration::from_secs(30), || {
        b.count(&ran) == 1
            || b.lines()
                .iter()
                .any(|line| line.starts_with("GET /ran?lazy"))
    });
    let tag_a = deploys.tag_a();
    for path in ["js/lazy.js", "css/late.css"] {
        let (stem, extension) = path.rsplit_once('.').unwrap();
        let answered = b.lines().into_iter().find(|line| {
            line.starts_with(&format!("GET /static/{path}?tag={tag_a} "))
                || line.starts_with(&format!("GET /static/{stem}.{tag_a}.{extension} "))
        });
        assert!(
            answered
                .as_ref()
                .is_some_and(|line| line.ends_with(&format!(" 200 {IMMUTABLE}"))),
            "B answered A's {path} with A's bytes, immutable: {:#?}",
            b.lines()
        );
    }
    assert_eq!(
        b.count(&ran),
        1,
        "the old tab ran A's module with A's stylesheet and saw B's revision: {:#?}",
        b.lines()
    );
}
