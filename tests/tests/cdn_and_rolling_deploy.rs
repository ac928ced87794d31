//! The serving half with real parts: the axum example (release builds) behind nginx as a CDN
//! (Debian's package, started here on a free loopback port, honouring `Cache-Control` as CDNs
//! do). Every claim is read from nginx's responses (body, `Cache-Control`, `X-Cache-Status`)
//! and from the app's request log.
//!
//! - A CDN that ignores the query string (nginx keyed on `$uri`, as `CloudFront` by default):
//!   with the tag in the query, the stylesheet of the next deploy is answered with the cached
//!   old bytes (the problem exists); with the tag in the file name, with the new bytes.
//! - A rolling deploy: builds of two commits live at once behind one nginx (round robin,
//!   cache keyed with the query). The new page's stylesheet URL reaches the old instance too,
//!   and no response ever pairs the new tag with the old bytes and a cacheable header; once
//!   the old instance is gone, the new URL gives the new bytes. In both URL forms.
//!
//! Each runs against the actix-web example (`tests/fixtures/actix-site`) too (the rolling
//! deploy in the file-name form).
//!
//! nginx must be installed (`tests/run` installs it, as it does in CI): without it this test
//! fails, it does not skip.

use std::path::Path;

use cachekiller_tests::oracle::{git, git_head};
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{free_port, HttpResponse, Nginx, Server};

const OLD_CSS: &str = "body { color: #1b1b1f; } /* before */\n";
const NEW_CSS: &str = "body { color: #fdf6e3; } /* after */\n";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The URL of the example's stylesheet with `tag`.
fn stylesheet_url(tag: &str, tag_in_name: bool) -> String {
    if tag_in_name {
        format!("/static/css/site.{tag}.css")
    } else {
        format!("/static/css/site.css?tag={tag}")
    }
}

/// A repository at `root` whose first commit holds the example `fixture` at `root/site`,
/// named `name`, with `OLD_CSS` as its stylesheet and the tag in the file name if asked.
fn site_repository(root: &Path, fixture: &str, name: &str, tag_in_name: bool) -> ScratchCrate {
    git(root, &["init", "-q"]);
    let site = root.join("site");
    let scratch = ScratchCrate::fixture_copy(fixture, &site, name).in_release();
    std::fs::write(site.join("static/css/site.css"), OLD_CSS).unwrap();
    if tag_in_name {
        scratch.append_to_manifest("[package.metadata.cachekiller]\ntag_in = \"name\"\n");
    }
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "the site"]);
    scratch
}

/// Commits `NEW_CSS` as the stylesheet and returns the new short tag.
fn commit_new_stylesheet(root: &Path) -> String {
    std::fs::write(root.join("site/static/css/site.css"), NEW_CSS).unwrap();
    git(root, &["commit", "-q", "-am", "a new stylesheet"]);
    git_head(root)[..14].to_owned()
}

fn describe(response: &HttpResponse) -> String {
    format!(
        "{} {:?} {:?} {:?}",
        response.status,
        response.header("cache-control"),
        response.header("x-cache-status"),
        String::from_utf8_lossy(&response.body)
    )
}

/// One deploy after another behind a CDN keyed on the path alone.
fn behind_a_cdn_that_ignores_the_query(
    fixture: &str,
    name: &str,
    tag_in_name: bool,
) -> (HttpResponse, usize) {
    let repo = tempfile::tempdir().unwrap();
    let scratch = site_repository(repo.path(), fixture, name, tag_in_name);
    let _ = scratch.build();
    let app_port = free_port();
    let cdn_dir = tempfile::tempdir().unwrap();
    let cdn = Nginx::start(cdn_dir.path(), "$scheme$proxy_host$uri", &[app_port]);

    let server = Server::start(&scratch.binary(), app_port);
    let old_url = stylesheet_url(&git_head(repo.path())[..14], tag_in_name);
    let first = cdn.get(&old_url);
    assert_eq!(first.body, OLD_CSS.as_bytes(), "{}", describe(&first));
    assert_eq!(first.header("cache-control"), Some(IMMUTABLE));
    let again = cdn.get(&old_url);
    assert_eq!(
        again.header("x-cache-status"),
        Some("HIT"),
        "{}",
        describe(&again)
    );
    drop(server);

    let new_tag = commit_new_stylesheet(repo.path());
    assert!(!scratch.build().fresh);
    let server = Server::start(&scratch.binary(), app_port);
    let new_url = stylesheet_url(&new_tag, tag_in_name);
    let page = cdn.get("/");
    assert!(
        String::from_utf8_lossy(&page.body).contains(&new_url),
        "the new page refers to {new_url}"
    );
    let response = cdn.get(&new_url);
    server.wait_for_a_quiet_log();
    let reached_the_app = server.count(&format!("GET {new_url}"));
    (response, reached_the_app)
}

#[test]
fn a_cdn_that_ignores_the_query_string_needs_the_tag_in_the_file_name() {
    cdn_that_ignores_the_query("axum-site", "cdn");
}

/// The same with the actix-web example: its adapter loses nothing of the promise.
#[test]
fn with_actix_web_a_cdn_that_ignores_the_query_string_needs_the_tag_in_the_file_name() {
    cdn_that_ignores_the_query("actix-site", "cdn_actix");
}

fn cdn_that_ignores_the_query(fixture: &str, name: &str) {
    let (query, reached) =
        behind_a_cdn_that_ignores_the_query(fixture, &format!("{name}_query_site"), false);
    assert_eq!(
        (
            query.body.as_slice(),
            query.header("x-cache-status"),
            reached
        ),
        (OLD_CSS.as_bytes(), Some("HIT"), 0),
        "with the tag in the query, such a CDN answers the new URL with the old bytes: {}",
        describe(&query)
    );

    let (name, reached) =
        behind_a_cdn_that_ignores_the_query(fixture, &format!("{name}_name_site"), true);
    assert_eq!(
        (name.body.as_slice(), name.header("x-cache-status"), reached),
        (NEW_CSS.as_bytes(), Some("MISS"), 1),
        "with the tag in the file name, the new URL reaches the app: {}",
        describe(&name)
    );
    assert_eq!(name.header("cache-control"), Some(IMMUTABLE));
}

/// Two builds at two commits live at once behind one caching nginx.
fn rolling_deploy(fixture: &str, name: &str, tag_in_name: bool) {
    let repo = tempfile::tempdir().unwrap();
    let in_repo = site_repository(repo.path(), fixture, name, tag_in_name);
    let old_tag = git_head(repo.path())[..14].to_owned();
    // The old deploy: a checkout of the first commit, with files of its own.
    let old_checkout = repo.path().join("old");
    git(
        repo.path(),
        &["worktree", "add", "-q", "--detach", "old", "HEAD"],
    );
    let new_tag = commit_new_stylesheet(repo.path());
    let old = in_repo
        .checked_out_at(&old_checkout.join("site"))
        .renamed_and_built(format!("{name}_old"));
    let new = in_repo.renamed_and_built(format!("{name}_new"));
    assert_ne!(
        std::fs::read(old.dir.join("static/css/site.css")).unwrap(),
        std::fs::read(new.dir.join("static/css/site.css")).unwrap()
    );

    let (old_port, new_port) = (free_port(), free_port());
    let old_server = Server::start(&old.binary(), old_port);
    let new_server = Server::start(&new.binary(), new_port);
    let cdn_dir = tempfile::tempdir().unwrap();
    let cdn = Nginx::start(
        cdn_dir.path(),
        "$scheme$proxy_host$request_uri",
        &[old_port, new_port],
    );

    let new_url = stylesheet_url(&new_tag, tag_in_name);
    let old_url = stylesheet_url(&old_tag, tag_in_name);
    let mut served_new_bytes = false;
    // Round robin alternates between the instances; three requests in a row for each URL
    // reach both for both (cache hits aside).
    let requests = [(&new_url, true), (&old_url, false)]
        .into_iter()
        .flat_map(|request| [request; 3])
        .cycle()
        .take(24);
    for (round, (url, tag_is_new)) in requests.enumerate() {
        {
            let response = cdn.get(url);
            assert_eq!(response.status, 200, "{url}: {}", describe(&response));
            let old_bytes = response.body == OLD_CSS.as_bytes();
            let cacheable = response.header("cache-control") == Some(IMMUTABLE)
                || response.header("x-cache-status") == Some("HIT");
            assert!(
                !(cacheable && old_bytes == tag_is_new),
                "round {round}: {url} paired with the other deploy's bytes in a cacheable \
                 response: {}\nold instance: {:#?}\nnew instance: {:#?}\n{}",
                describe(&response),
                old_server.lines(),
                new_server.lines(),
                cdn.error_log()
            );
            served_new_bytes |= tag_is_new && response.body == NEW_CSS.as_bytes();
        }
    }
    assert!(
        old_server.count(&format!("GET {new_url}")) >= 1,
        "the new URL never reached the old instance: {:#?}",
        old_server.lines()
    );
    assert!(served_new_bytes, "the new URL never gave the new bytes");

    // The old instance is gone: the new URL gives the new bytes.
    drop(old_server);
    for _ in 0..3 {
        let response = cdn.get(&new_url);
        assert_eq!(response.body, NEW_CSS.as_bytes(), "{}", describe(&response));
    }
}

#[test]
fn a_rolling_deploy_never_caches_old_bytes_under_the_new_tag() {
    rolling_deploy("axum-site", "rolling_name_site", true);
    rolling_deploy("axum-site", "rolling_query_site", false);
}

/// The same with the actix-web example, the tag in the file name.
#[test]
fn with_actix_web_a_rolling_deploy_never_caches_old_bytes_under_the_new_tag() {
    rolling_deploy("actix-site", "rolling_actix_site", true);
}
