//! The real parts the serving tests start: the axum example's server (with its request log),
//! headless Chromium, nginx as a CDN, and a plain HTTP/1.0 client to ask them.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::setup::cannot_run;

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `condition` holds, failing the test after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The example server, with the lines it logs (one per request: method, URI, status,
/// `Cache-Control`).
pub struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `binary --port <port>` and waits until it listens.
    #[must_use]
    pub fn start(binary: &Path, port: u16) -> Self {
        Self::start_with_env(binary, &[], port)
    }

    /// [`Server::start`] with environment variables (`ADDRESS` for the quickstart).
    #[must_use]
    pub fn start_with_env(binary: &Path, variables: &[(&str, &str)], port: u16) -> Self {
        Self::start_in(binary, None, variables, &[], port)
    }

    /// [`Server::start`] in the working directory `directory` (the binary's own, for one
    /// copied alone), with environment variables and further arguments.
    #[must_use]
    pub fn start_in(
        binary: &Path,
        directory: Option<&Path>,
        variables: &[(&str, &str)],
        arguments: &[&str],
        port: u16,
    ) -> Self {
        let mut command = Command::new(binary);
        if let Some(directory) = directory {
            command.current_dir(directory);
        }
        let mut child = command
            .args(["--port", &port.to_string()])
            .args(arguments)
            .envs(variables.iter().copied())
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

    /// The server's process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line logged so far.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until no line has been logged for half a second (at most 10 s): a server logs a
    /// request after it answers it, so a client can hold the response before the line is
    /// read. Before counting what a single request did.
    pub fn wait_for_a_quiet_log(&self) {
        let started = Instant::now();
        let mut seen = self.lines().len();
        while started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(500));
            let now = self.lines().len();
            if now == seen {
                return;
            }
            seen = now;
        }
    }

    /// How many requests were logged as `request_line` (such as `GET /static/a.css?tag=…`).
    #[must_use]
    pub fn count(&self, request_line: &str) -> usize {
        let prefix = format!("{request_line} ");
        self.lines()
            .iter()
            .filter(|line| line.starts_with(&prefix))
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
pub struct Chromium {
    child: Child,
    debugging_port: u16,
}

impl Chromium {
    /// Starts Chromium with the profile at `profile` and waits for its endpoint.
    #[must_use]
    pub fn start(profile: &Path) -> Self {
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
            .unwrap_or_else(|error| panic!("{}", cannot_run("chromium", &error)));
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
    pub fn open(&self, url: &str) {
        let response = self.devtools("PUT", &format!("/json/new?{url}"));
        assert!(response.is_some(), "Chromium did not open {url}");
    }

    /// The titles of the open tabs, as their pages (and scripts) have set them now.
    #[must_use]
    pub fn titles(&self) -> Vec<String> {
        let Some(listed) = self.devtools("GET", "/json/list") else {
            return Vec::new();
        };
        let targets: serde_json::Value = serde_json::from_str(&listed).unwrap_or_default();
        targets
            .as_array()
            .into_iter()
            .flatten()
            .filter(|target| target["type"] == "page")
            .filter_map(|target| target["title"].as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response as read off the wire.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of header `name` (lower case), if present.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// `GET path` on `127.0.0.1:port` as HTTP/1.0 (the server closes the connection after the
/// body: no chunked encoding to undo).
#[must_use]
pub fn http_get(port: u16, path: &str) -> HttpResponse {
    http_get_with(port, path, &[])
}

/// [`http_get`] with request headers (`("Accept-Encoding", "gzip")`).
#[must_use]
pub fn http_get_with(port: u16, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|error| panic!("connect to 127.0.0.1:{port}: {error}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a response head");
    let (status, headers) = response_head(&String::from_utf8_lossy(&raw[..split]));
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// The status and the headers (names in lower case, values trimmed) of a response's head, its
/// lines up to the blank one.
///
/// # Panics
/// Without a status line.
#[must_use]
pub fn response_head(head: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers)
}

/// nginx (Debian's package) as a CDN in front of one or more upstream servers: a caching
/// reverse proxy with its own config, cache and temporary dirs, on a free loopback port,
/// honouring the upstreams' `Cache-Control` as CDNs do. Each response carries
/// `X-Cache-Status` (`MISS`, `HIT`, …).
pub struct Nginx {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    dir: PathBuf,
}

impl Nginx {
    /// Starts nginx in `dir` with the cache key `cache_key` (such as `$scheme$proxy_host$uri`,
    /// which ignores the query string as `CloudFront` does by default) in front of
    /// `upstreams`, balanced round robin in that order.
    #[must_use]
    pub fn start(dir: &Path, cache_key: &str, upstreams: &[u16]) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let mut servers = String::new();
        for upstream in upstreams {
            let _ = writeln!(servers, "    server 127.0.0.1:{upstream};");
        }
        let d = dir.display();
        let config = format!(
            "master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
             \x20 access_log off;\n\
             \x20 client_body_temp_path {d}/client_body;\n\
             \x20 proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n\
             \x20 uwsgi_temp_path {d}/uwsgi;\n\
             \x20 scgi_temp_path {d}/scgi;\n\
             \x20 proxy_cache_path {d}/cache levels=1:2 keys_zone=assets:1m inactive=1d;\n\
             \x20 upstream app {{\n{servers}  }}\n\
             \x20 server {{\n\
             \x20   listen 127.0.0.1:{port};\n\
             \x20   location / {{\n\
             \x20     proxy_pass http://app;\n\
             \x20     proxy_cache assets;\n\
             \x20     proxy_cache_key {cache_key};\n\
             \x20     add_header X-Cache-Status $upstream_cache_status always;\n\
             \x20   }}\n\
             \x20 }}\n\
             }}\n"
        );
        let config_path = dir.join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&config_path)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{}", cannot_run("nginx", &error)));
        let nginx = Nginx {
            child,
            port,
            dir: dir.to_owned(),
        };
        wait_until("nginx to listen", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        nginx
    }

    /// `GET path` through nginx.
    #[must_use]
    pub fn get(&self, path: &str) -> HttpResponse {
        http_get(self.port, path)
    }

    /// nginx's error log, for failure messages.
    #[must_use]
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `attribute` of the first tag of `page` that holds `marker` (a page's
/// `rel="stylesheet"` link, its `<script`).
#[must_use]
pub fn attribute<'a>(page: &'a str, marker: &str, attribute: &str) -> &'a str {
    let tag_start = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {page}"));
    let tag_end = tag_start + page[tag_start..].find('>').expect("the tag ends");
    let tag = &page[tag_start..tag_end];
    let value_start = tag
        .find(&format!("{attribute}=\""))
        .unwrap_or_else(|| panic!("{attribute} in {tag}"))
        + attribute.len()
        + 2;
    &tag[value_start..value_start + tag[value_start..].find('"').expect("the value ends")]
}

/// A script of `length` bytes that compresses about four to one, its lines marked with `mark`
/// (so that two marks give two files of one size).
#[must_use]
pub fn compressible_script(mark: &str, length: usize) -> Vec<u8> {
    let mut script = String::with_capacity(length + 64);
    let mut line = 0u64;
    while script.len() < length {
        let _ = writeln!(
            script,
            "globalThis.v{line} = \"{mark}:{:016x}\";",
            line.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        );
        line += 1;
    }
    script.truncate(length);
    script.into_bytes()
}
