//! The axum example (`tests/fixtures/axum-site`) in a real browser: headless Chromium, driven
//! through its `DevTools` HTTP endpoint, one profile (so one HTTP cache) for every load. Every
//! claim is read from the server's own request log:
//!
//! 1. the first load requests the tagged CSS once;
//! 2. a second load does not request it again (cached, `immutable`);
//! 3. after an edit of the CSS, a commit, a rebuild and a restart, the page references the new
//!    tag and the browser requests the new CSS.
//!
//! Chromium must be installed (`apt-get install -y chromium`, done by `.ci/run`): without it
//! this test fails, it does not skip.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cachekiller_tests::oracle::{git, git_head};
use cachekiller_tests::scratch::{copy_fixture, workspace_root, ScratchCrate};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The example server, with the lines it logs (one per request).
struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(binary: &Path, port: u16) -> Self {
        let mut child = Command::new(binary)
            .args(["--port", &port.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let server = Server { child, log };
        wait_until("the server to listen", Duration::from_secs(30), || {
            server
                .lines()
                .iter()
                .any(|line| line.starts_with("listening on"))
        });
        server
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn count(&self, request_line: &str) -> usize {
        self.lines()
            .iter()
            .filter(|line| *line == request_line)
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium with its own profile and a `DevTools` HTTP endpoint.
struct Chromium {
    child: Child,
    debugging_port: u16,
}

impl Chromium {
    fn start(profile: &Path) -> Self {
        let debugging_port = free_port();
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                &format!("--user-data-dir={}", profile.display()),
                &format!("--remote-debugging-port={debugging_port}"),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start chromium ({error}): install it with `apt-get install -y chromium`")
            });
        let chromium = Chromium {
            child,
            debugging_port,
        };
        wait_until(
            "Chromium's DevTools endpoint",
            Duration::from_secs(60),
            || chromium.devtools("GET", "/json/version").is_some(),
        );
        chromium
    }

    /// One HTTP request to the `DevTools` endpoint; the body if it answered 200. The endpoint
    /// keeps the connection open whatever the request says, so the body is read by its
    /// `Content-Length`.
    fn devtools(&self, method: &str, path: &str) -> Option<String> {
        let stream = TcpStream::connect(("127.0.0.1", self.debugging_port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .ok()?;
        write!(
            &stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.debugging_port
        )
        .ok()?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).ok()?;
        let mut content_length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().ok()?;
                }
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).ok()?;
        status
            .starts_with("HTTP/1.1 200")
            .then(|| String::from_utf8_lossy(&body).into_owned())
    }

    /// Opens `url` in a new tab of the same browser (same profile, same HTTP cache).
    fn open(&self, url: &str) {
        let response = self.devtools("PUT", &format!("/json/new?{url}"));
        assert!(response.is_some(), "Chromium did not open {url}");
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tagged_assets_are_cached_until_a_commit_changes_the_tag() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    copy_fixture(&workspace_root().join("tests/fixtures/axum-site"), &site);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let scratch = ScratchCrate {
        dir: site.clone(),
        name: "axum-site".into(),
        workspace_dir: site.clone(),
        target_dir: cachekiller_tests::scratch::shared_target_dir(),
    };
    let _ = scratch.build();
    let binary = scratch.target_dir.join("debug/axum-site");
    let port = free_port();
    let page = format!("http://127.0.0.1:{port}/");
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());

    // 1. First load: the tagged CSS is requested once.
    let tag = git_head(repo.path())[..14].to_owned();
    let css = format!("GET /static/css/site.css?tag={tag}");
    let server = Server::start(&binary, port);
    chromium.open(&page);
    wait_until(&css, Duration::from_secs(30), || server.count(&css) == 1);
    let js = format!("GET /static/js/site.js?tag={tag}");
    wait_until(&js, Duration::from_secs(30), || server.count(&js) == 1);

    // 2. Second load: the page is requested again, the CSS and JS are not.
    chromium.open(&page);
    wait_until("the second page load", Duration::from_secs(30), || {
        server.count("GET /") == 2
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        server.count(&css),
        1,
        "the CSS was requested again:\n{:#?}",
        server.lines()
    );
    assert_eq!(
        server.count(&js),
        1,
        "the JS was requested again:\n{:#?}",
        server.lines()
    );
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
    let new_css = format!("GET /static/css/site.css?tag={new_tag}");
    let server = Server::start(&binary, port);
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
