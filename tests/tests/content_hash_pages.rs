//! Content mode and subresource integrity in real Askama and Maud renders, compared with
//! `sha1sum` and `openssl dgst` of the files in `tests/static/`.

use askama::Template;
use cachekiller_macros::{cdnintegrity, cdnstatic};
use cachekiller_tests::oracle::{openssl_integrity, sha1sum, static_file};
use maud::html;

#[derive(Template)]
#[template(
    source = r#"<link rel="stylesheet" href="{{ cdnstatic!("css/app.css", mode = "content") }}">
<script src="{{ cdnstatic!("js/app.js", mode = "content") }}" integrity="{{ cdnintegrity!("js/app.js") }}" crossorigin="anonymous"></script>
<img src="{{ cdnstatic!("img/team photo.png", mode = "content", param = "") }}" alt="team">"#,
    ext = "html"
)]
struct ContentPage;

#[test]
fn askama_renders_content_hashes_and_integrity() {
    let css = sha1sum(&static_file("css/app.css"), 6);
    let js = sha1sum(&static_file("js/app.js"), 6);
    let png = sha1sum(&static_file("img/team photo.png"), 6);
    let integrity = openssl_integrity(&static_file("js/app.js"), "sha384");
    // Askama escapes the `+` and `/` of base64 only if they were HTML-special: they are not.
    assert_eq!(
        ContentPage.render().unwrap(),
        format!(
            r#"<link rel="stylesheet" href="/static/css/app.css?tag={css}">
<script src="/static/js/app.js?tag={js}" integrity="{integrity}" crossorigin="anonymous"></script>
<img src="/static/img/team%20photo.png?{png}" alt="team">"#
        )
    );
}

#[test]
fn maud_renders_content_hashes_and_integrity() {
    let markup = html! {
        script
            src=(cdnstatic!("js/app.js", mode = "content", hash_length = 99))
            integrity=(cdnintegrity!("js/app.js", algorithm = "sha512"))
            crossorigin="anonymous" {}
        link rel="icon" href=(cdnstatic!("img/logo.svg", mode = "content", hash_length = 12, param = "h"));
    };
    let js = sha1sum(&static_file("js/app.js"), 40);
    let integrity = openssl_integrity(&static_file("js/app.js"), "sha512");
    let svg = sha1sum(&static_file("img/logo.svg"), 12);
    assert_eq!(
        markup.into_string(),
        format!(
            r#"<script src="/static/js/app.js?tag={js}" integrity="{integrity}" crossorigin="anonymous"></script><link rel="icon" href="/static/img/logo.svg?h={svg}">"#
        )
    );
    assert_eq!(
        cdnintegrity!("img/team photo.png", algorithm = "sha256"),
        openssl_integrity(&static_file("img/team photo.png"), "sha256")
    );
}
