//! The axum example (`tests/fixtures/axum-site`, a release build: only a release build trusts
//! a revision tag) in a real browser: headless Chromium, driven through its `DevTools` HTTP
//! endpoint, one profile (so one HTTP cache) for every load. Every claim is read from the
//! server's own request log, for the tag in the query and for the tag in the file name:
//!
//! 1. the first load requests the tagged CSS and JS once;
//! 2. a second load does not request them again (cached, `immutable`);
//! 3. after an edit of the CSS, a commit, a rebuild and a restart, the page references the new
//!    tag and the browser requests the new CSS.
//!
//! And with content tags in file names, the stylesheet's font: fetched once under its tagged
//! URL; after an edit of the font alone and a commit, the stylesheet's URL changes (its
//! rewritten bytes hold the font's new tag) and the browser fetches the new font.
//!
//! The font case runs against the actix-web example (`tests/fixtures/actix-site`) as well.
//!
//! Chromium must be installed (`tests/run` installs it, as it does in CI): without it
//! this test fails, it does not skip.

use std::time::Duration;

use cachekiller_tests::oracle::{git, git_head, sha1sum};
use cachekiller_tests::scratch::{workspace_root, ScratchCrate};
use cachekiller_tests::serving::{free_port, http_get, wait_until, Chromium, Server};

/// The request line of the example's asset `path` (`css/site.css`) tagged with `tag`.
fn asset_request(path: &str, tag: &str, tag_in_name: bool) -> String {
    if tag_in_name {
        let (stem, extension) = path.rsplit_once('.').unwrap();
        format!("GET /static/{stem}.{tag}.{extension}")
    } else {
        format!("GET /static/{path}?tag={tag}")
    }
}

fn assets_are_cached_until_a_commit_changes_the_tag(name: &str, tag_in_name: bool) {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch = ScratchCrate::fixture_copy("axum-site", &site, name).in_release();
    if tag_in_name {
        scratch.append_to_manifest("[package.metadata.cachekiller]\ntag_in = \"name\"\n");
    }
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    let port = free_port();
    let page = format!("http://127.0.0.1:{port}/");
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());

    // 1. First load: the tagged CSS and JS are requested once.
    let tag = git_head(repo.path())[..14].to_owned();
    let css = asset_request("css/site.css", &tag, tag_in_name);
    let js = asset_request("js/site.js", &tag, tag_in_name);
    let server = Server::start(&scratch.binary(), port);
    chromium.open(&page);
    wait_until(&css, Duration::from_secs(30), || server.count(&css) == 1);
    wait_until(&js, Duration::from_secs(30), || server.count(&js) == 1);
    let immutable = format!("{css} 200 public, max-age=31536000, immutable");
    assert!(
        server.lines().contains(&immutable),
        "the CSS was not served as immutable:\n{:#?}",
        server.lines()
    );

    // 2. Second load: the page is requested again, the CSS and JS are not.
    chromium.open(&page);
    wait_until("the second page load", Duration::from_secs(30), || {
        server.count("GET /") == 2
    });
    std::thread::sleep(Duration::from_secs(3));
    for asset in [&css, &js] {
        assert_eq!(
            server.count(asset),
            1,
            "{asset} was requested again:\n{:#?}",
            server.lines()
        );
    }
    drop(server);

    // 3. Edit, commit, rebuild, restart: the new tag, and the new CSS is requested.
    std::fs::write(
        site.join("static/css/site.css"),
        "body { background: #fdf6e3; }\n",
    )
    .unwrap();
    git(repo.path(), &["commit", "-q", "-am", "a new stylesheet"]);
    assert!(!scratch.build().fresh, "the commit must rebuild the site");
    let new_tag = git_head(repo.path())[..14].to_owned();
    assert_ne!(new_tag, tag);
    let new_css = asset_request("css/site.css", &new_tag, tag_in_name);
    let server = Server::start(&scratch.binary(), port);
    chromium.open(&page);
    wait_until(&new_css, Duration::from_secs(30), || {
        server.count(&new_css) == 1
    });
    assert_eq!(
        server.count(&css),
        0,
        "the old CSS URL was requested:\n{:#?}",
        server.lines()
    );
}

#[test]
fn tag_in_the_query_cached_until_a_commit() {
    assets_are_cached_until_a_commit_changes_the_tag("browser_query_site", false);
}

#[test]
fn tag_in_the_file_name_cached_until_a_commit() {
    assets_are_cached_until_a_commit_changes_the_tag("browser_name_site", true);
}

/// The stylesheet as the running site serves it (fetched untagged), and its content tag
/// (`sha1sum` of those bytes).
fn served_stylesheet(port: u16, scratch_dir: &std::path::Path) -> (String, String) {
    let response = http_get(port, "/static/css/site.css");
    assert_eq!(response.status, 200);
    let file = scratch_dir.join("served-site.css");
    std::fs::write(&file, &response.body).unwrap();
    (String::from_utf8(response.body).unwrap(), sha1sum(&file, 6))
}

#[test]
fn a_font_edit_changes_the_stylesheet_url_and_the_font_is_fetched_anew() {
    font_edit("axum-site", "browser_font_site");
}

/// The same with the actix-web example: its adapter loses nothing of the promise.
#[test]
fn with_actix_web_a_font_edit_changes_the_stylesheet_url_and_the_font_is_fetched_anew() {
    font_edit("actix-site", "browser_font_actix_site");
}

/// The example `fixture` (whose pages and request log are the axum example's) as the crate
/// `name`, content tags in file names: the font and the stylesheet naming it are each
/// fetched once, and again only after the font changes.
fn font_edit(fixture: &str, name: &str) {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch = ScratchCrate::fixture_copy(fixture, &site, name).in_release();
    scratch.append_to_manifest(
        "[package.metadata.cachekiller]\ntag_in = \"name\"\nmode = \"content\"\n",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    let port = free_port();
    let page = format!("http://127.0.0.1:{port}/");
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());
    let font_file = site.join("static/fonts/blocks.woff2");

    // 1. The page links the stylesheet by the hash of its served bytes, which name the font
    //    by its hash; the browser fetches the font once, under that name.
    let server = Server::start(&scratch.binary(), port);
    let (stylesheet, css_tag) = served_stylesheet(port, repo.path());
    let font_tag = sha1sum(&font_file, 6);
    assert!(
        stylesheet.contains(&format!("url(../fonts/blocks.{font_tag}.woff2)")),
        "{stylesheet}"
    );
    let home = String::from_utf8(http_get(port, "/").body).unwrap();
    assert!(
        home.contains(&format!("/static/css/site.{css_tag}.css")),
        "{home}"
    );
    let css = format!("GET /static/css/site.{css_tag}.css");
    let font = format!("GET /static/fonts/blocks.{font_tag}.woff2");
    chromium.open(&page);
    wait_until(&font, Duration::from_secs(30), || server.count(&font) == 1);
    assert!(
        server
            .lines()
            .contains(&format!("{font} 200 public, max-age=31536000, immutable")),
        "the font was not served as immutable:\n{:#?}",
        server.lines()
    );
    // A second load fetches neither again.
    chromium.open(&page);
    wait_until("the second page load", Duration::from_secs(30), || {
        server.count("GET /") == 3
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.count(&font), 1, "{:#?}", server.lines());
    assert_eq!(server.count(&css), 1, "{:#?}", server.lines());
    drop(server);

    // 2. Only the font changes: the stylesheet's bytes and URL change with it.
    let wide = workspace_root().join("tests/fixtures/fonts/blocks-wide.woff2");
    std::fs::copy(&wide, &font_file).unwrap();
    git(repo.path(), &["commit", "-q", "-am", "a wider font"]);
    assert!(
        !scratch.build().fresh,
        "the font edit must rebuild the site"
    );
    let server = Server::start(&scratch.binary(), port);
    let (stylesheet, new_css_tag) = served_stylesheet(port, repo.path());
    let new_font_tag = sha1sum(&font_file, 6);
    assert_ne!(new_font_tag, font_tag);
    assert_ne!(
        new_css_tag, css_tag,
        "the stylesheet's URL must change with its font"
    );
    assert!(
        stylesheet.contains(&format!("blocks.{new_font_tag}.woff2")),
        "{stylesheet}"
    );
    let new_css = format!("GET /static/css/site.{new_css_tag}.css");
    let new_font = format!("GET /static/fonts/blocks.{new_font_tag}.woff2");
    chromium.open(&page);
    wait_until(&new_font, Duration::from_secs(30), || {
        server.count(&new_font) == 1
    });
    assert_eq!(server.count(&new_css), 1, "{:#?}", server.lines());
    assert_eq!(server.count(&font), 0, "{:#?}", server.lines());
}
