//! The demo: both halves of cachekiller in one run that exits by itself.
//!
//! 1. Renders a page with Askama and the same page with Maud, both using `cdnstatic!`,
//!    `cdntag!` and `cdnintegrity!`, into a folder (default `site/` in the target dir, or the
//!    first argument), and prints what each call expanded to at compile time and where the
//!    tag came from.
//! 2. Serves the pages, and the static files through `StaticFiles`, on a free loopback port;
//!    asks for each page, every asset it links and the images its stylesheet names as a
//!    browser does, then for content-tagged URLs, an older tag and a wrong one; prints each
//!    answer's status, `Cache-Control`, encoding, and whether the bytes are the ones the tag
//!    names (checked against the files and `git show`, not against the service). Exits with 1
//!    if any answer breaks the promise.
//!
//! `cargo run --example site` (`-- --serve` keeps the server up).

use std::path::{Path, PathBuf};
use std::process::Command;

use askama::Template;
use axum::response::Html;
use axum::routing::get;
use cachekiller_core::service::export::Destination;
use cachekiller_core::service::StaticFiles;
use cachekiller_core::{TagIn, TagMode};
use cachekiller_macros::{cdnintegrity, cdnsettings, cdnstatic, cdntag};
use maud::{html, Markup, DOCTYPE};

use cachekiller_demo as check;
use check::{Answer, Bytes, Site};

/// Each call the pages make, what it demonstrates, and what it expanded to at compile time.
const CALLS: &[(&str, &str, &str)] = &[
    (
        "cdnstatic!(\"css/app.css\")",
        "the revision tags the file",
        cdnstatic!("css/app.css"),
    ),
    (
        "cdnstatic!(\"js/app.js?v=2\")",
        "an existing query is kept",
        cdnstatic!("js/app.js?v=2"),
    ),
    (
        "cdnstatic!(\"img/logo.svg#mark\")",
        "the fragment stays last",
        cdnstatic!("img/logo.svg#mark"),
    ),
    (
        "cdnstatic!(\"img/team photo.png\")",
        "unsafe characters are percent-encoded",
        cdnstatic!("img/team photo.png"),
    ),
    (
        "cdnstatic!(\"js/app.js\", mode = \"content\")",
        "content mode: the SHA-1 of the file's bytes, so only changed files get new URLs",
        cdnstatic!("js/app.js", mode = "content"),
    ),
    (
        "cdnintegrity!(\"js/app.js\")",
        "subresource integrity of the file, for integrity=\"…\"",
        cdnintegrity!("js/app.js"),
    ),
    (
        "cdntag!()",
        "the tag alone, for links made by hand",
        cdntag!(),
    ),
];

/// Where the tag came from, in words: decided as the macros decide, and checked against the
/// tool that made the revision.
fn tag_source(crate_dir: &Path) -> String {
    if let Some(tag) = option_env!("CACHEKILLER_TAG").filter(|tag| !tag.is_empty()) {
        return format!("CACHEKILLER_TAG was {tag:?} at build time");
    }
    let ask = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(crate_dir)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    if let Some(head) = ask("git", &["rev-parse", "HEAD"]) {
        let agrees = if head.starts_with(cdntag!()) {
            "it starts with the tag"
        } else {
            "the tag is an older commit's: committed since this was built?"
        };
        return format!("the checked-out git commit, cut to 14 characters (`git rev-parse HEAD` says {head}: {agrees})");
    }
    if let Some(parent) = ask("hg", &["id", "-i", "--debug"]) {
        return format!("the Mercurial working parent ({parent}), cut to 14 characters");
    }
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        return format!("SOURCE_DATE_EPOCH ({epoch}) as a date, if it was set at build time too");
    }
    "a digest of the static files (no repository was found)".to_owned()
}

/// The page, an Askama template (`demo/templates/demo.html`).
#[derive(Template)]
#[template(path = "demo.html")]
struct AskamaPage<'a> {
    title: &'a str,
    tag_source: &'a str,
    calls: &'a [(&'a str, &'a str, &'a str)],
}

/// The same page, Maud markup.
fn maud_page(title: &str, tag_source: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                link rel="stylesheet" href=(cdnstatic!("css/app.css"));
                script src=(cdnstatic!("js/app.js?v=2")) integrity=(cdnintegrity!("js/app.js")) crossorigin="anonymous" defer {}
            }
            body {
                h1 { (title) ", rendered by Maud" }
                p { "The tag is " code { (cdntag!()) } ": " (tag_source) "." }
                img src=(cdnstatic!("img/logo.svg#mark")) alt="logo";
                img src=(cdnstatic!("img/team photo.png")) alt="team";
                table {
                    tr { th { "call" } th { "what it shows" } th { "expands to" } }
                    @for (call, what, value) in CALLS {
                        tr { td { code { (call) } } td { (what) } td { code { (value) } } }
                    }
                }
                a href={ "/?tag=" (cdntag!()) } { "The same, rendered by Askama" }
            }
        }
    }
}

/// The page's assets, content-tagged (`mode = "content"`): the SHA-1 of their bytes names
/// them in every build, so these are `immutable` in a debug build too.
const CONTENT_TAGGED: &[&str] = &[
    cdnstatic!("css/app.css", mode = "content"),
    cdnstatic!("js/app.js", mode = "content"),
    cdnstatic!("img/logo.svg", mode = "content"),
    cdnstatic!("img/team photo.png", mode = "content"),
];

/// One line of the table: status, caching, encoding, the bytes' verdict, the URL.
fn print_answer(answer: &Answer) {
    let caching = if answer.immutable() {
        "immutable"
    } else {
        answer.cache_control.as_str()
    };
    let bytes = match &answer.bytes {
        Bytes::Page => "a page (not a static file)".to_owned(),
        Bytes::Current => "current bytes".to_owned(),
        Bytes::AsTagged(how) => format!("bytes {how}"),
        Bytes::Wrong(what) => format!("WRONG BYTES: {what}"),
    };
    println!(
        "  {} {caching:<9} {:<8} {:<48} {bytes}",
        answer.status, answer.encoding, answer.url
    );
}

/// What breaks the promise in an answer: a status other than `200`, other bytes than its URL
/// names, bytes the tag does not name cached at all, or (for a tag that names bytes here: a
/// content tag, or the revision in a release build) no `immutable`.
fn broken(answer: &Answer, should_be_immutable: bool) -> Option<String> {
    if let Bytes::Wrong(what) = &answer.bytes {
        return Some(format!("{}: {what}", answer.url));
    }
    if answer.status != 200 {
        return Some(format!("{}: status {}", answer.url, answer.status));
    }
    let tagged_bytes = matches!(answer.bytes, Bytes::AsTagged(_));
    let static_file = !matches!(answer.bytes, Bytes::Page);
    if static_file && !tagged_bytes && answer.cache_control != "no-cache" {
        return Some(format!(
            "{}: the tag names other bytes, yet cached ({})",
            answer.url, answer.cache_control
        ));
    }
    (should_be_immutable && tagged_bytes && !answer.immutable())
        .then(|| {
            format!(
                "{}: the tag names these bytes, yet not immutable",
                answer.url
            )
        })
        .or_else(|| {
            (answer.immutable() && !tagged_bytes)
                .then(|| format!("{}: immutable, yet the tag names other bytes", answer.url))
        })
}

/// The page of the static export, linking `urls` (the stylesheet, the script, two images).
fn exported_page(title: &str, urls: &[String]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) ", exported" }
                link rel="stylesheet" href=(urls[0]);
                script src=(urls[1]) defer {}
            }
            body {
                h1 { (title) ", exported for a static host" }
                img src=(urls[2]) alt="logo";
                img src=(urls[3]) alt="team";
            }
        }
    }
}

/// Writes the static export into `folder` (the exported page, then every static file under
/// its tagged name with its `.br` and `.gz` siblings, its plain name, a manifest, `_headers`
/// and nginx snippets), and checks every URL of the page against the files written: each
/// exists, its SHA-1 begins with the tag in its name, its siblings decode to it, and a
/// stylesheet's references were exported too. Returns what broke the promise.
fn export(
    runtime: &tokio::runtime::Runtime,
    crate_dir: &Path,
    folder: &Path,
    title: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    // A static site sets `tag_in = "name"` and `mode = "content"` in
    // `[package.metadata.cachekiller]`, and its `cdnstatic!` calls link what the export
    // writes. The demo is a query-form site: its page for the export takes the URLs of the
    // same settings at run time (`StaticFiles::url`, what `cdnstatic!` gives for them).
    let settings = cdnsettings!().tag_in(TagIn::Name).mode(TagMode::Content);
    let static_files = StaticFiles::in_root(crate_dir, settings)?;
    let linked = [
        "css/app.css",
        "js/app.js",
        "img/logo.svg",
        "img/team photo.png",
    ]
    .map(|path| static_files.url(path))
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(folder)?;
    std::fs::write(
        folder.join("index.html"),
        exported_page(title, &linked).into_string(),
    )?;
    let report = runtime.block_on(static_files.export().write(&Destination::dir(folder)))?;
    println!("  {report}");
    let mut broken = Vec::new();
    let mut urls = linked;
    urls.reverse();
    while let Some(url) = urls.pop() {
        let file = folder.join(check::percent_decoded(url.trim_start_matches('/')));
        let verdict = check::exported_file(&file);
        println!("  {url:<48} {}", verdict.as_ref().unwrap_or_else(|why| why));
        match verdict {
            Ok(_) if check::is_stylesheet(&url) => {
                let css = std::fs::read_to_string(&file)?;
                urls.extend(check::stylesheet_references(&css, &url));
            }
            Ok(_) => {}
            Err(why) => broken.push(format!("{url}: {why}")),
        }
    }
    Ok(broken)
}

/// Serves the pages and the static files, asks for each URL as a browser does, prints the
/// answers; returns the port and what broke the promise.
fn visit(
    runtime: &tokio::runtime::Runtime,
    crate_dir: &Path,
    askama: String,
    maud: String,
) -> Result<(u16, Vec<String>), Box<dyn std::error::Error>> {
    let static_files = StaticFiles::in_root(crate_dir, cdnsettings!())?;
    let app = axum::Router::new()
        .route("/", get(move || async move { Html(askama) }))
        .route("/maud.html", get(move || async move { Html(maud) }))
        .nest_service("/static", static_files);
    let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))?;
    let port = listener.local_addr()?.port();
    runtime.spawn(async move { axum::serve(listener, app).await });

    let static_dir = crate_dir.join("static");
    let site = Site {
        port,
        static_dir: &static_dir,
        static_url: "/static/",
        revision: cdntag!(),
    };
    let release = !cfg!(debug_assertions);
    let mut broken_promises = Vec::new();
    let mut ask = |url: &str, should_be_immutable: bool| {
        let answer = site.ask(url);
        print_answer(&answer);
        broken_promises.extend(broken(&answer, should_be_immutable));
        answer.references
    };

    println!(
        "served on http://127.0.0.1:{port}/; asked as a browser asks (Accept-Encoding: br, gzip):"
    );
    if !release {
        println!(
            "  (a debug build: the revision tag is no-cache by design, the working tree may hold"
        );
        println!("  edits; `cargo run --release --example site` shows it immutable)");
    }
    println!(
        "      caching   encoding URL                                              what the bytes are"
    );
    let mut asked = Vec::new();
    let mut pages = vec!["/".to_owned()];
    let mut visited = Vec::new();
    while let Some(page) = pages.pop() {
        if visited.contains(&page) {
            continue;
        }
        visited.push(page.clone());
        ask(&page, false);
        let body = cachekiller_tests::serving::http_get(port, &page).body;
        let body = String::from_utf8_lossy(&body);
        // The pages link each other: each is asked for once (its tag is no static tag).
        for link in check::linked_urls(&body, "/") {
            let path = link.split(['?', '#']).next().unwrap_or_default();
            if !link.starts_with(site.static_url) && path != "/" && path != page {
                pages.push(path.to_owned());
            }
        }
        let linked = check::linked_urls(&body, site.static_url);
        if !linked.is_empty() && linked.iter().all(|url| asked.contains(url)) {
            println!("  (it links the same {} URLs)", linked.len());
            continue;
        }
        for url in linked {
            // A stylesheet's fonts and images are asked for next, as a browser does.
            let references = ask(&url, release);
            asked.push(url);
            for reference in references {
                if !asked.contains(&reference) {
                    ask(&reference, release);
                    asked.push(reference);
                }
            }
        }
    }
    println!("the same assets, content-tagged (immutable in every build):");
    for url in CONTENT_TAGGED {
        ask(url, true);
    }
    println!("the previous commit's tag and a wrong one get the current bytes, never cached:");
    let stylesheet = cdnstatic!("css/app.css");
    let untagged = stylesheet.split('?').next().unwrap_or(stylesheet);
    match check::previous_commit_tag(crate_dir, cdntag!()) {
        Some(previous) => {
            ask(&format!("{untagged}?tag={previous}"), false);
        }
        None => println!(
            "  (no earlier commit to ask with: the tag is not a commit of a repository with history here)"
        ),
    }
    ask(&format!("{untagged}?tag=0000000"), false);
    Ok((port, broken_promises))
}

/// What `--help` prints, and an unknown option.
const USAGE: &str = "usage: cargo run --example site [-- [OUTPUT_FOLDER] [--serve]]
  OUTPUT_FOLDER  where the pages and a copy of the static files go (default: site/ in the
                 target dir, target/site unless CARGO_TARGET_DIR is set)
  --serve        keep the server up after the checks, for a browser";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("site: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut keep_serving = false;
    let mut output = None;
    for argument in std::env::args_os().skip(1) {
        match argument.to_str() {
            Some("--serve") => keep_serving = true,
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return Ok(std::process::ExitCode::SUCCESS);
            }
            Some(flag) if flag.starts_with('-') => {
                return Err(format!("unknown option {flag}\n{USAGE}").into());
            }
            Some("") => return Err(format!("an empty output folder\n{USAGE}").into()),
            _ if output.is_none() => output = Some(PathBuf::from(argument)),
            _ => return Err(format!("one output folder at most\n{USAGE}").into()),
        }
    }
    // `site/` in the target dir it was built in (`<target>/<profile>/examples/site`): the
    // checkout's `target/`, or wherever `CARGO_TARGET_DIR` puts it.
    let output = output.unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|binary| Some(binary.ancestors().nth(3)?.join("site")))
            .unwrap_or_else(|| crate_dir.join("site"))
    });
    let cannot = |what: &str, path: &Path| {
        let path = path.display().to_string();
        let what = what.to_owned();
        move |error: std::io::Error| format!("cannot {what} {path}: {error}")
    };
    std::fs::create_dir_all(&output).map_err(cannot("create the folder", &output))?;
    let title = "cachekiller demo";
    let source = tag_source(crate_dir);
    let askama_page = AskamaPage {
        title,
        tag_source: &source,
        calls: CALLS,
    }
    .render()?;
    let maud_page = maud_page(title, &source).into_string();
    for (name, page) in [("index.html", &askama_page), ("maud.html", &maud_page)] {
        let path = output.join(name);
        std::fs::write(&path, page).map_err(cannot("write", &path))?;
    }

    println!("cachekiller demo: the tag is {}, {source}.", cdntag!());
    println!();
    for (call, what, value) in CALLS {
        println!("{call}\n    {what}\n    = {value}");
        // A file the revision does not name (edited, not committed) gets a content tag even
        // in revision mode: say so where the line above says otherwise.
        let revision_url = !call.contains("mode =") && value.contains("?tag=");
        if revision_url && !value.contains(&format!("tag={}", cdntag!())) {
            println!("    (a content tag: the file is not as committed; see the build warning)");
        }
    }
    println!();
    println!(
        "wrote index.html (Askama) and maud.html (Maud) into {}",
        output.display()
    );
    println!();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (port, mut broken_promises) = visit(&runtime, crate_dir, askama_page, maud_page)?;
    println!();
    let exported = output.join("export");
    println!(
        "a static export, for a static host (tags in file names, by content), into {}:",
        exported.display()
    );
    broken_promises.extend(export(&runtime, crate_dir, &exported, title)?);
    println!(
        "  (upload it with its _headers file, or serve it with nginx and the snippets in \
         .cachekiller/: immutable for exactly the tagged names)"
    );
    println!();
    if broken_promises.is_empty() {
        println!(
            "every answer carried the bytes its URL names; immutable only where the tag names them"
        );
    } else {
        for broken in &broken_promises {
            println!("BROKEN: {broken}");
        }
        return Ok(std::process::ExitCode::FAILURE);
    }
    if keep_serving {
        println!("serving on http://127.0.0.1:{port}/ until interrupted (Ctrl-C)");
        runtime.block_on(std::future::pending::<()>());
    } else {
        println!("`cargo run --example site -- --serve` keeps the server up for a browser");
    }
    Ok(std::process::ExitCode::SUCCESS)
}
