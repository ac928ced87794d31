//! Deploy skew with real parts: the axum example built at two commits (A, then B with another
//! stylesheet and another JS module, `tests/src/deploys.rs`) in release with its `archive`
//! feature, both publishing to one archive before they listen, behind nginx as a caching CDN
//! (round robin, cache keyed with the query), as `cdn_and_rolling_deploy.rs` sets it up.
//!
//! While both are live, every URL of either page, whichever instance nginx picks and whether
//! nginx's cache answers, gives the bytes of that page's commit with `immutable`. Once A is
//! stopped, B answers every URL of A's page (read from A's page) with A's bytes, `immutable`,
//! in both tag forms and with content tags too, directly and through nginx. The oracle of
//! every body is `git show <commit>:<file> | sha1sum`. The store is a local directory here,
//! and moto's S3 server (from `tests/oracle/requirements.txt`) in the second test, where two
//! instances of B publish at once.
//!
//! nginx and moto must be installed (`tests/run` installs them): without them these tests
//! fail, they do not skip.

use std::time::Duration;

use cachekiller_tests::deploys::{sha1_of, static_path, static_urls, TwoDeploys};
use cachekiller_tests::s3::S3Server;
use cachekiller_tests::serving::{free_port, http_get, HttpResponse, Nginx, Server};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn describe(response: &HttpResponse) -> String {
    format!(
        "{} {:?} {:?} {:?}",
        response.status,
        response.header("cache-control"),
        response.header("x-cache-status"),
        String::from_utf8_lossy(&response.body)
    )
}

/// Asserts that `response` to `url` carries the file `path` as committed at `commit`,
/// `immutable` (or a hit of nginx's cache, which keeps the header it stored).
fn assert_bytes_of(
    deploys: &TwoDeploys,
    commit: &str,
    path: &str,
    url: &str,
    response: &HttpResponse,
) {
    assert_eq!(response.status, 200, "{url}: {}", describe(response));
    assert_eq!(
        sha1_of(&response.body),
        deploys.committed_sha1(commit, path),
        "{url} answered with other bytes than {path} at {commit}: {}",
        describe(response)
    );
    assert_eq!(
        response.header("cache-control"),
        Some(IMMUTABLE),
        "{url}: {}",
        describe(response)
    );
}

/// The URLs of A's file `path` that old pages can hold: A's page's URL (the revision tag in
/// the query), the revision tag in the file name, and the content tag of A's bytes in both
/// forms.
fn urls_of_a(deploys: &TwoDeploys, path: &str) -> Vec<String> {
    let content = &deploys.committed_sha1(&deploys.commit_a, path)[..6];
    let (stem, extension) = path.rsplit_once('.').unwrap();
    let mut urls = Vec::new();
    for tag in [deploys.tag_a(), content] {
        urls.push(format!("/static/{path}?tag={tag}"));
        urls.push(format!("/static/{stem}.{tag}.{extension}"));
    }
    urls
}

/// Every URL of A's page (`urls_a`), in each form `urls_of_a` gives, answered by each of B's
/// instances (`ports_b`) and through `cdn` with A's bytes, `immutable`.
fn assert_b_answers_a(deploys: &TwoDeploys, urls_a: &[String], ports_b: &[u16], cdn: &Nginx) {
    for url in urls_a {
        let path = static_path(url, None);
        for url in urls_of_a(deploys, &path) {
            for &port in ports_b {
                let response = http_get(port, &url);
                assert_bytes_of(deploys, &deploys.commit_a, &path, &url, &response);
                assert_eq!(
                    response.header("x-cachekiller-revision"),
                    Some(deploys.tag_b())
                );
            }
            for _ in 0..2 {
                let response = cdn.get(&url);
                assert_bytes_of(deploys, &deploys.commit_a, &path, &url, &response);
            }
        }
    }
}

/// A and B live at once behind nginx, then A stopped; `archive` is the store's location as
/// `CACHEKILLER_ARCHIVE` names it, `environment` the rest of the servers' environment; B runs
/// as `instances_of_b` instances started together.
fn rolling_deploy(
    deploys: &TwoDeploys,
    environment: &[(&str, &str)],
    instances_of_b: usize,
) -> Vec<Server> {
    let port_a = free_port();
    let a = Server::start_with_env(&deploys.a.binary(), environment, port_a);
    let page_a = String::from_utf8(http_get(port_a, "/").body).unwrap();
    // B's instances start (and publish) at once.
    let ports_b: Vec<u16> = (0..instances_of_b).map(|_| free_port()).collect();
    let bs: Vec<Server> = std::thread::scope(|scope| {
        let starting: Vec<_> = ports_b
            .iter()
            .map(|&port| {
                scope.spawn(move || Server::start_with_env(&deploys.b.binary(), environment, port))
            })
            .collect();
        starting
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    for b in &bs {
        assert!(
            b.lines()
                .iter()
                .any(|line| line.starts_with("archive ") && line.contains(" published ")),
            "B published before it listened: {:#?}",
            b.lines()
        );
    }
    let page_b = String::from_utf8(http_get(ports_b[0], "/").body).unwrap();
    // The tagged URLs (an import map's keys are the untagged ones, which no browser fetches).
    let tagged = |page: &str, tag: &str| -> Vec<String> {
        static_urls(page)
            .into_iter()
            .filter(|url| url.contains(tag))
            .collect()
    };
    let urls_a = tagged(&page_a, deploys.tag_a());
    let urls_b = tagged(&page_b, deploys.tag_b());
    for changed in ["css/site.css", "js/greeting.js"] {
        assert!(
            urls_a.iter().any(|url| static_path(url, None) == changed),
            "A's page links {changed}: {urls_a:?}"
        );
    }

    // Both live: every URL of both pages, four times (round robin and nginx's cache).
    let cdn_dir = tempfile::tempdir().unwrap();
    let mut upstreams = vec![port_a];
    upstreams.extend(&ports_b);
    let cdn = Nginx::start(cdn_dir.path(), "$scheme$proxy_host$request_uri", &upstreams);
    for _ in 0..4 {
        for (urls, commit) in [(&urls_a, &deploys.commit_a), (&urls_b, &deploys.commit_b)] {
            for url in urls {
                let response = cdn.get(url);
                assert_bytes_of(deploys, commit, &static_path(url, None), url, &response);
            }
        }
    }
    let new_stylesheet = urls_b
        .iter()
        .find(|url| static_path(url, None) == "css/site.css")
        .unwrap();
    // A, still up, answers B's page from the archive too (B published before it listened).
    let response = http_get(port_a, new_stylesheet);
    assert_bytes_of(
        deploys,
        &deploys.commit_b,
        "css/site.css",
        new_stylesheet,
        &response,
    );

    // A is gone: B answers A's URLs with A's bytes, directly and through nginx.
    drop(a);
    assert_b_answers_a(deploys, &urls_a, &ports_b, &cdn);
    for url in &urls_b {
        let response = cdn.get(url);
        assert_bytes_of(
            deploys,
            &deploys.commit_b,
            &static_path(url, None),
            url,
            &response,
        );
    }
    let old_stylesheet = urls_a
        .iter()
        .find(|url| static_path(url, None) == "css/site.css")
        .unwrap();
    let answered = format!("GET {old_stylesheet} 200 {IMMUTABLE}");
    assert!(
        bs.iter()
            .any(|b| b.lines().iter().any(|line| line == &answered)),
        "B's log shows `{answered}`"
    );
    let revision = http_get(ports_b[0], "/static/.well-known/cachekiller-revision");
    assert_eq!(revision.body, deploys.tag_b().as_bytes());
    bs
}

#[test]
fn a_rolling_deploy_answers_old_pages_with_their_own_bytes() {
    let deploys = TwoDeploys::build("skew_local_site", &["archive"], "", |_| {}, |_| {});
    let archive = deploys.archive_dir();
    let environment = [("CACHEKILLER_ARCHIVE", archive.to_str().unwrap())];
    let _ = rolling_deploy(&deploys, &environment, 1);
    // The archive holds A's and B's stylesheets, by the SHA-1 sha1sum gives them.
    for commit in [&deploys.commit_a, &deploys.commit_b] {
        let sha1 = deploys.committed_sha1(commit, "css/site.css");
        assert!(archive.join("blobs").join(&sha1).is_file(), "blob {sha1}");
    }
}

#[test]
fn a_rolling_deploy_with_an_s3_archive_and_two_instances_publishing_at_once() {
    let store = S3Server::start();
    let deploys = TwoDeploys::build("skew_s3_site", &["aws"], "", |_| {}, |_| {});
    let endpoint = store.endpoint();
    let environment = [
        ("CACHEKILLER_ARCHIVE", "s3://cachekiller-archive/site"),
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let bs = rolling_deploy(&deploys, &environment, 2);
    // A's manifest, and B's (one per instance at most: they published at once).
    let manifests = store.keys("site/revisions/");
    for (tag, most) in [(deploys.tag_a(), 1), (deploys.tag_b(), 2)] {
        let of_tag = manifests
            .iter()
            .filter(|key| key.starts_with(&format!("site/revisions/{tag}/")))
            .count();
        assert!((1..=most).contains(&of_tag), "{tag}: {manifests:?}");
    }
    // The store stops: old tags get B's bytes, revalidated, within the lookup timeout.
    drop(store);
    std::thread::sleep(Duration::from_millis(100));
    let port = free_port();
    let fresh_b = Server::start_with_env(&deploys.b.binary(), &environment, port);
    assert!(
        fresh_b
            .lines()
            .iter()
            .any(|line| line.contains("not published")),
        "{:#?}",
        fresh_b.lines()
    );
    let started = std::time::Instant::now();
    let response = http_get(
        port,
        &format!("/static/css/site.css?tag={}", deploys.tag_a()),
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        sha1_of(&response.body),
        deploys.committed_sha1(&deploys.commit_b, "css/site.css")
    );
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    drop(bs);
}
