//! A Maud page using `cdnstatic!` and `cdntag!`, rendered and compared byte for byte with the
//! HTML expected from `git rev-parse HEAD`.

use cachekiller_macros::{cdnstatic, cdntag};
use cachekiller_tests::oracle::workspace_tag;
use maud::{html, DOCTYPE};

#[test]
fn renders_busted_urls() {
    let tag = workspace_tag();
    let page = html! {
        (DOCTYPE)
        html {
            head {
                link rel="stylesheet" href=(cdnstatic!("css/app.css"));
                script src=(cdnstatic!("js/app.js?v=2")) defer {}
            }
            body {
                img src=(cdnstatic!("img/logo.svg#mark")) alt="logo";
                a href={ "/about.html?tag=" (cdntag!()) } { "About" }
            }
        }
    };
    let expected = format!(
        concat!(
            "<!DOCTYPE html><html><head>",
            r#"<link rel="stylesheet" href="/static/css/app.css?tag={tag}">"#,
            r#"<script src="/static/js/app.js?v=2&amp;tag={tag}" defer></script>"#,
            "</head><body>",
            r#"<img src="/static/img/logo.svg?tag={tag}#mark" alt="logo">"#,
            r#"<a href="/about.html?tag={tag}">About</a>"#,
            "</body></html>"
        ),
        tag = tag
    );
    assert_eq!(page.into_string(), expected);
}
