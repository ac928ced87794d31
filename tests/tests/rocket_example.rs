//! The Rocket example (`tests/fixtures/rocket-site`, a Maud page, a release build in a
//! repository of its own) serves every URL its page links, with its revision tag, `immutable`
//! and with the committed bytes (`git show HEAD:<path>`; a stylesheet's rewritten bytes named
//! by their `ETag`), compressed for a client that accepts it (`gzip -dc`), and answers an
//! older tag `no-cache`: the Rocket adapter loses nothing of the promise.

use cachekiller_tests::oracle::{git, git_head, gunzip, run};
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{free_port, http_get, http_get_with, Server};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The tagged `/static/…` URLs in `page`'s attributes and import map (whose keys are the
/// untagged URLs the browser resolves), in order, each once.
fn static_urls(page: &str) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for piece in page
        .split('"')
        .filter(|piece| piece.starts_with("/static/") && piece.contains("?tag="))
    {
        if !urls.iter().any(|url| url == piece) {
            urls.push(piece.to_owned());
        }
    }
    urls
}

#[test]
fn the_rocket_example_serves_its_pages_urls_immutable_with_the_committed_bytes() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch =
        ScratchCrate::fixture_copy("rocket-site", &site, "rocket_example_site").in_release();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    let tag = git_head(repo.path())[..14].to_owned();
    let port = free_port();
    let server = Server::start(&scratch.binary(), port);

    let page = String::from_utf8(http_get(port, "/").body).unwrap();
    let urls = static_urls(&page);
    // The stylesheet, the import map's two modules, the image.
    assert!(urls.len() >= 4, "{urls:#?}\n{page}");
    for url in &urls {
        let (path, url_tag) = url.split_once("?tag=").expect("a tagged URL");
        assert_eq!(url_tag, tag, "{url}: the revision");
        let answer = http_get_with(port, url, &[("Accept-Encoding", "gzip")]);
        assert_eq!(answer.status, 200, "{url}");
        assert_eq!(answer.header("cache-control"), Some(IMMUTABLE), "{url}");
        let body = match answer.header("content-encoding") {
            Some("gzip") => gunzip(&answer.body),
            None | Some("identity") => answer.body.clone(),
            Some(other) => panic!("{url}: {other}"),
        };
        let relative = path.trim_start_matches("/static/");
        if std::path::Path::new(relative)
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("css"))
        {
            let sent = repo.path().join("sent.css");
            std::fs::write(&sent, &body).unwrap();
            let sha1 = run("sha1sum", repo.path(), &["sent.css"]);
            let etag = answer.header("etag").unwrap();
            assert!(
                etag.starts_with(&format!("\"{}", &sha1[..40])),
                "{url}: {etag}"
            );
        } else {
            let committed = run(
                "git",
                repo.path(),
                &["show", &format!("HEAD:site/static/{relative}")],
            );
            assert_eq!(String::from_utf8_lossy(&body).trim(), committed, "{url}");
        }
        assert!(
            server
                .lines()
                .contains(&format!("GET {url} 200 {IMMUTABLE}")),
            "{url}: {:#?}",
            server.lines()
        );
    }
    let older = http_get(port, "/static/css/site.css?tag=0123456789abcd");
    assert_eq!(older.status, 200);
    assert_eq!(older.header("cache-control"), Some("no-cache"));
}
