//! An Askama template using `cdnstatic!` and `cdntag!`, rendered by the latest askama and
//! compared byte for byte with the HTML expected from `git rev-parse HEAD`.

use askama::Template;
use cachekiller_macros::{cdnstatic, cdntag};
use cachekiller_tests::oracle::workspace_tag;

#[derive(Template)]
#[template(path = "page.html")]
struct Page<'a> {
    title: &'a str,
}

#[test]
fn renders_busted_urls() {
    let tag = workspace_tag();
    let html = Page { title: "Home" }.render().unwrap();
    // Askama escapes `&` in the query as `&amp;`, which the browser reads back as `&`.
    let expected = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<title>Home</title>
<link rel="stylesheet" href="/static/css/app.css?tag={tag}">
<script src="/static/js/app.js?v=2&#38;tag={tag}" defer></script>
</head>
<body>
<img src="/static/img/logo.svg?tag={tag}#mark" alt="logo">
<img src="/static/img/team%20photo.png?tag={tag}" alt="team">
<a href="/about.html?tag={tag}">About</a>
</body>
</html>"#
    );
    assert_eq!(html, expected);
}

#[derive(Template)]
#[template(
    source = r#"<link rel="icon" href="{{ cdnstatic!("img/logo.svg", tag_length = 8) }}">"#,
    ext = "html"
)]
struct InlineOptions;

#[test]
fn renders_call_options_in_inline_templates() {
    let tag = workspace_tag();
    assert_eq!(
        InlineOptions.render().unwrap(),
        format!(
            r#"<link rel="icon" href="/static/img/logo.svg?tag={}">"#,
            &tag[..8]
        )
    );
    assert_eq!(cdntag!(tag_length = 8), &tag[..8]);
}
