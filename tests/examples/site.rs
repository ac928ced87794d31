//! The demo: renders a small site with Askama and Maud, using `cdnstatic!` and `cdntag!`,
//! into a folder (default `target/site`, or the first argument), copies the static files next
//! to it, and prints where it wrote and which URLs it used.
//!
//! `cargo run --example site`

use std::path::{Path, PathBuf};

use askama::Template;
use cachekiller_macros::{cdnstatic, cdntag};
use maud::{html, Markup, DOCTYPE};

/// The home page, an Askama template (`tests/templates/page.html`).
#[derive(Template)]
#[template(path = "page.html")]
struct HomePage<'a> {
    title: &'a str,
}

/// The about page, Maud markup.
fn about_page() -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                title { "About" }
                link rel="stylesheet" href=(cdnstatic!("css/app.css"));
            }
            body {
                img src=(cdnstatic!("img/logo.svg#mark")) alt="logo";
                p { "Built from revision " code { (cdntag!()) } "." }
                a href={ "/index.html?tag=" (cdntag!()) } { "Home" }
            }
        }
    }
}

/// The URLs the pages use, listed for the report.
const URLS: &[&str] = &[
    cdnstatic!("css/app.css"),
    cdnstatic!("js/app.js?v=2"),
    cdnstatic!("img/logo.svg#mark"),
    cdnstatic!("img/team photo.png"),
];

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
    let home = output.join("index.html");
    std::fs::write(
        &home,
        HomePage {
            title: "cachekiller demo",
        }
        .render()?,
    )?;
    let about = output.join("about.html");
    std::fs::write(&about, about_page().into_string())?;
    copy_dir(&crate_dir.join("static"), &output.join("static"))?;

    println!("cachekiller demo, tag {}", cdntag!());
    println!("wrote {} (Askama)", home.display());
    println!("wrote {} (Maud)", about.display());
    println!("static files in {}", output.join("static").display());
    println!("URLs used:");
    for url in URLS {
        println!("  {url}");
    }
    println!(
        "serve it with: python3 -m http.server -d {}",
        output.display()
    );
    Ok(())
}
