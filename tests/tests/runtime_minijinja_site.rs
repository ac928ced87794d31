//! The `MiniJinja` example (`tests/fixtures/minijinja-site`, a debug build, content mode): its
//! page, a template read at run time, links the stylesheet, script and image through
//! `static()`; the service answers each URL `immutable` with the bytes the page's integrity
//! names (`openssl`); and after an edit of the stylesheet's font alone, without a restart, the
//! next page (a second later, when the URL's memo expires) links the stylesheet under a new
//! URL whose bytes name the new font's tag (`sha1sum`).

use cachekiller_tests::oracle::{git, openssl_integrity, sha1sum};
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{attribute, free_port, http_get, Server};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[test]
fn static_urls_from_a_run_time_template_are_immutable_and_follow_an_edit() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch = ScratchCrate::fixture_copy("minijinja-site", &site, "minijinja_site");
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    let port = free_port();
    let _server = Server::start(&scratch.binary(), port);

    let page = String::from_utf8(http_get(port, "/").body).unwrap();
    for (marker, attribute_name) in [
        ("rel=\"stylesheet\"", "href"),
        ("<script", "src"),
        ("<img", "src"),
    ] {
        let url = attribute(&page, marker, attribute_name);
        let response = http_get(port, url);
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(response.header("cache-control"), Some(IMMUTABLE), "{url}");
        if marker != "<img" {
            let sent = repo.path().join("sent");
            std::fs::write(&sent, &response.body).unwrap();
            let integrity = attribute(&page, marker, "integrity");
            assert_eq!(openssl_integrity(&sent, "sha384"), integrity, "{url}");
        }
    }

    let old_stylesheet = attribute(&page, "rel=\"stylesheet\"", "href").to_owned();
    let font = site.join("static/fonts/blocks.woff2");
    let mut bytes = std::fs::read(&font).unwrap();
    bytes.extend_from_slice(b"another version");
    std::fs::write(&font, bytes).unwrap();
    let font_tag = sha1sum(&font, 6);
    // The page's URLs are remembered for a second.
    std::thread::sleep(std::time::Duration::from_millis(1_200));
    let page = String::from_utf8(http_get(port, "/").body).unwrap();
    let new_stylesheet = attribute(&page, "rel=\"stylesheet\"", "href");
    assert_ne!(new_stylesheet, old_stylesheet);
    let response = http_get(port, new_stylesheet);
    assert_eq!(response.header("cache-control"), Some(IMMUTABLE));
    let css = String::from_utf8(response.body).unwrap();
    assert!(
        css.contains(&format!("blocks.woff2?tag={font_tag}")),
        "{css}"
    );
    // The old URL names bytes the service no longer has: revalidated.
    assert_eq!(
        http_get(port, &old_stylesheet).header("cache-control"),
        Some("no-cache")
    );
}
