//! Askama 0.12 with `<< … >>` delimiters (`askama.toml`), as the request spells the macros:
//! built as a scratch crate (it needs askama 0.12 under the name `askama`) inside a git
//! repository and compared with the HTML expected from `git rev-parse HEAD`.

use std::fs;

use cachekiller_tests::oracle::{git, git_head};
use cachekiller_tests::scratch::{copy_fixture, workspace_root, ScratchCrate};

#[test]
fn renders_angle_bracket_delimiters() {
    let fixture = workspace_root().join("tests/fixtures/askama-012-custom-syntax");
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    fs::create_dir_all(&site).unwrap();
    copy_fixture(&fixture, &site);
    let main_rs = fs::read_to_string(fixture.join("src/main.rs")).unwrap();
    let scratch =
        ScratchCrate::standalone(&site, "askama_012_angle", &main_rs, "askama = \"0.12\"\n");
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let tag = &git_head(repo.path())[..14];

    let _ = scratch.build();
    assert_eq!(
        scratch.run().join("\n"),
        format!(
            "<link rel=\"stylesheet\" href=\"/static/css/app.css?tag={tag}\">\n\
             <script src=\"/static/js/app.js?v=2&amp;tag={tag}\"></script>\n\
             <a href=\"/about.html?tag={tag}\">About</a>\n\
             <p>Built from {tag}.</p>"
        )
    );

    // In askama 0.12 `>>` is also the shift operator, and the expression parser takes what
    // follows as its operand when it can: a word (`>> is the tag`), or a string literal that
    // runs to the next quote (`>>">…<a href="` then `<< cdntag!()` as a left shift). The
    // first does not parse, the second parses as shifts of strings and does not type-check;
    // `+>>` (whitespace control, a no-op by default) always ends the expression.
    let ambiguous_templates = [
        (
            "<p><< cdntag!() >> is the tag</p>\n",
            "problems parsing template source",
        ),
        (
            "<link href=\"<< cdnstatic!(\"a.css\") >>\">\n<a href=\"<< cdntag!() >>\">About</a>\n",
            "no implementation for `&str >> &str`",
        ),
    ];
    for (template, error) in ambiguous_templates {
        fs::write(site.join("templates/page.html"), template).unwrap();
        let message = scratch.build_failure(&[]);
        assert!(message.contains(error), "{template}: {message}");
    }
}
