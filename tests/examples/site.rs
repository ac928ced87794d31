//! The demo: renders a page with Askama and the same page with Maud, both using `cdnstatic!`,
//! `cdntag!` and `cdnintegrity!`, into a folder (default `target/site`, or the first argument),
//! copies the static files next to them, and prints what each call expanded to and where the
//! tag came from.
//!
//! `cargo run --example site`

use std::path::{Path, PathBuf};
use std::process::Command;

use askama::Template;
use cachekiller_macros::{cdnintegrity, cdnstatic, cdntag};
use maud::{html, Markup, DOCTYPE};

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
        "cdnstatic!(\"css/app.css\", mode = \"content\")",
        "content mode: the SHA-1 of the file's bytes, so only changed files get new URLs",
        cdnstatic!("css/app.css", mode = "content"),
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
            "it starts"
        } else {
            "it no longer starts: commit since the build?"
        };
        return format!("the checked-out git commit, cut to 14 characters (`git rev-parse HEAD` says {head}: {agrees} with the tag)");
    }
    if let Some(parent) = ask("hg", &["id", "-i", "--debug"]) {
        return format!("the Mercurial working parent ({parent}), cut to 14 characters");
    }
    "the build date (no repository was found)".to_owned()
}

/// The page, an Askama template (`tests/templates/demo.html`).
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
                a href={ "/index.html?tag=" (cdntag!()) } { "The same, rendered by Askama" }
            }
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = std::env::args_os().nth(1).map_or_else(
        || {
            crate_dir
                .parent()
                .unwrap_or(crate_dir)
                .join("target")
                .join("site")
        },
        PathBuf::from,
    );
    std::fs::create_dir_all(&output)?;
    let title = "cachekiller demo";
    let source = tag_source(crate_dir);
    let askama = output.join("index.html");
    let page = AskamaPage {
        title,
        tag_source: &source,
        calls: CALLS,
    };
    std::fs::write(&askama, page.render()?)?;
    let maud = output.join("maud.html");
    std::fs::write(&maud, maud_page(title, &source).into_string())?;
    copy_dir(&crate_dir.join("static"), &output.join("static"))?;

    println!("cachekiller demo: the tag is {}, {source}.", cdntag!());
    println!();
    for (call, what, value) in CALLS {
        println!("{call}\n    {what}\n    = {value}");
    }
    println!();
    println!(
        "wrote {} (Askama) and {} (Maud)",
        askama.display(),
        maud.display()
    );
    println!("static files in {}", output.join("static").display());
    println!(
        "serve it with: python3 -m http.server -d {}",
        output.display()
    );
    Ok(())
}
