//! The static export with real parts: the static site generator `tests/fixtures/static-site`
//! (an Askama page linking, by `cdnstatic!`, a stylesheet whose `url()`s name a font and an
//! image, a script with `integrity` from `cdnintegrity!`, and an image; `tag_in = "name"`,
//! `mode = "content"`), built in release in a scratch git repository, exports its static files
//! into a folder and writes its page there, and exports to an S3 bucket when asked.
//!
//! 1. Debian's nginx serves the folder with the export's snippet included in a `server` block
//!    (the `brotli_static` module loaded), and `nginx -t` passes with it; with a file name of
//!    47 bytes and more too (which a `map`'s keys would not hold), and behind a shared cache
//!    the Brotli body never reaches a client that did not ask for it (`Vary`).
//! 2. Headless Chromium loads the page from it. nginx's access log: every asset the page and
//!    its stylesheet name was answered 200 `immutable`, the stylesheet and the script
//!    compressed, the page `no-cache`. The script ran (it marks the page's title, which
//!    `DevTools` reads), which Chromium allows only when its bytes match the page's integrity.
//!    The bytes nginx sends: every asset but the stylesheet is `git show HEAD:<path> |
//!    sha1sum`, its name's tag the start of that SHA-1; the stylesheet's tag starts the
//!    `sha1sum` of the bytes sent, which are the committed stylesheet with each reference
//!    tagged, each naming a file of the export; every `.br` and `.gz` answer (curl) decodes,
//!    by Google's Brotli decoder and `gzip -dc`, to the bytes sent without one.
//! 3. S3 (moto's server): boto3, an independent client, lists the bucket and reads every
//!    object's headers and bytes. Tagged names are `immutable` with their type, their `.br`
//!    and `.gz` siblings carry the encoding and the original's type and decode to its bytes,
//!    plain names are `no-cache`, the page too; the tagged script is `git show HEAD:<path>`.
//! 4. Old pages keep working behind a CDN (nginx caching in front of the static nginx): after
//!    a commit that changes the stylesheet, a rebuild and an export into the same folder (and
//!    nginx reloaded for the new snippet), the first page's stylesheet URL still gives the bytes it
//!    gave, `immutable`, from the CDN and from the folder; the new page links a new stylesheet
//!    URL that gives the new commit's stylesheet, and the script's and the image's URLs are
//!    unchanged. The second export wrote one tagged name: its report says so, and in the
//!    folder every other static file keeps its inode and modification time.
//!
//! A site that tags in the query is refused by the export: core's unit test covers it
//! (building a second crate here would cost minutes).
//!
//! nginx with `libnginx-mod-http-brotli-static`, Chromium, curl and moto must be installed
//! (`tests/run` installs them): without them this test fails, it does not skip.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use cachekiller_tests::deploys::{sha1_of, static_urls};
use cachekiller_tests::oracle::{git, gunzip, unbrotli};
use cachekiller_tests::s3::{S3Server, BUCKET};
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{
    attribute, free_port, http_get, http_get_with, response_head, wait_until, Chromium,
    HttpResponse, Nginx,
};
use cachekiller_tests::setup::{cannot_run, SETUP_COMMAND};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";
/// Where the S3 export goes: below this prefix of the bucket.
const S3_PREFIX: &str = "site";

/// A scratch repository whose first commit holds the fixture at `site/`, named `name`, with
/// what `prepare` adds to it; built in release.
fn built_site(name: &str, prepare: impl FnOnce(&Path)) -> (tempfile::TempDir, ScratchCrate) {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch = ScratchCrate::fixture_copy("static-site", &site, name).in_release();
    prepare(&site);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    (repo, scratch)
}

/// Runs the generator into the folder `out` (and S3's, when given); the lines it prints.
fn generate(scratch: &ScratchCrate, out: &Path, s3: Option<&S3Server>) -> Vec<String> {
    let mut command = Command::new(scratch.binary());
    command.arg(out);
    if let Some(server) = s3 {
        command
            .args(["--s3", &format!("{BUCKET}/{S3_PREFIX}")])
            .env("AWS_ENDPOINT", server.endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{} failed: {}",
        scratch.binary().display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The number an export's report line gives before `what` (`"tagged name"`, singular: the
/// report says `1 tagged name`, `2 tagged names`).
fn reported(line: &str, what: &str) -> usize {
    let before = &line[..line
        .find(&format!(" {what}"))
        .unwrap_or_else(|| panic!("no {what} in the report: {line}"))];
    before
        .rsplit(' ')
        .next()
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no number before {what}: {line}"))
}

/// `git show <commit>:site/static/<path>`, byte for byte.
fn committed(repo: &Path, commit: &str, path: &str) -> Vec<u8> {
    let output = Command::new("git")
        .current_dir(repo)
        .args(["show", &format!("{commit}:site/static/{path}")])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git show {commit}:site/static/{path}"
    );
    output.stdout
}

/// `git show <commit>:site/static/<path> | sha1sum`.
fn committed_sha1(repo: &Path, commit: &str, path: &str) -> String {
    let script = format!("git show '{commit}:site/static/{path}' | sha1sum");
    let output = Command::new("sh")
        .args(["-c", &script])
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(output.status.success(), "{script}");
    String::from_utf8(output.stdout).unwrap()[..40].to_owned()
}

/// The static files committed at HEAD (`git ls-files`), below `static/`.
fn committed_static_paths(repo: &Path) -> Vec<String> {
    git(repo, &["ls-files", "site/static"])
        .lines()
        .map(|path| path.strip_prefix("site/static/").unwrap().to_owned())
        .collect()
}

/// A tagged file name's untagged name and tag: `site.<tag>.css` gives `site.css` and the tag
/// (the fixture's names have no other dot).
fn untagged_name(name: &str) -> (String, String) {
    let mut parts = name.rsplitn(3, '.');
    let (extension, tag, stem) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap_or_else(|| panic!("{name} has no tag")),
    );
    assert!(
        tag.len() >= 6 && tag.bytes().all(|byte| byte.is_ascii_hexdigit()),
        "{name}: no hex tag"
    );
    (format!("{stem}.{extension}"), tag.to_owned())
}

/// A tagged URL's static path and tag: `/static/css/site.<tag>.css` gives `css/site.css`.
fn untagged(url: &str) -> (String, String) {
    let path = url.strip_prefix("/static/").expect("a static URL");
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let (name, tag) = untagged_name(name);
    let path = if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    };
    (path, tag)
}

/// The `url(…)` references of a stylesheet, as written in it.
fn url_references(css: &str) -> Vec<String> {
    css.match_indices("url(")
        .map(|(start, _)| {
            let rest = &css[start + 4..];
            rest[..rest.find(')').expect("url( is closed")]
                .trim_matches(['"', '\''])
                .to_owned()
        })
        .collect()
}

/// `reference` resolved against the URL `base`, as a browser does (paths only).
fn resolve(base: &str, reference: &str) -> String {
    let mut segments: Vec<&str> = base.split('/').collect();
    segments.pop();
    for segment in reference.split('/') {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    segments.join("/")
}

/// The URLs a page of the export names: its stylesheet, script and image, and what the
/// stylesheet names (read from the host at `port`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageAssets {
    stylesheet: String,
    script: String,
    image: String,
    /// The stylesheet's references, resolved.
    referenced: Vec<String>,
}

impl PageAssets {
    fn of(page: &str, port: u16) -> Self {
        let stylesheet = attribute(page, "rel=\"stylesheet\"", "href").to_owned();
        let script = attribute(page, "<script", "src").to_owned();
        let image = attribute(page, "<img", "src").to_owned();
        assert_eq!(
            static_urls(page),
            [stylesheet.clone(), script.clone(), image.clone()],
            "the page links its three assets and nothing else under /static/"
        );
        let css = http_get(port, &stylesheet);
        assert_eq!(css.status, 200, "{stylesheet}");
        let referenced: Vec<String> = url_references(&String::from_utf8(css.body).unwrap())
            .iter()
            .map(|reference| resolve(&stylesheet, reference))
            .collect();
        assert_eq!(referenced.len(), 2, "a font and an image: {referenced:?}");
        PageAssets {
            stylesheet,
            script,
            image,
            referenced,
        }
    }

    /// Every asset URL, the stylesheet first.
    fn all(&self) -> Vec<String> {
        let mut all = vec![
            self.stylesheet.clone(),
            self.script.clone(),
            self.image.clone(),
        ];
        all.extend(self.referenced.iter().cloned());
        all
    }
}

/// Checks that `sent`, the bytes of the stylesheet `url`, are the stylesheet committed at
/// `commit` with each reference tagged: the tag of `url` starts their `sha1sum`, and each
/// reference names a file of the export in `out` by a tag that starts the `sha1sum` of the
/// committed file; with the tags taken out, they are the committed bytes.
fn assert_committed_stylesheet(repo: &Path, commit: &str, url: &str, sent: &[u8], out: &Path) {
    let (path, tag) = untagged(url);
    assert!(
        sha1_of(sent).starts_with(&tag),
        "{url}: the tag names other bytes than the {} sent",
        sent.len()
    );
    let sent = String::from_utf8(sent.to_vec()).unwrap();
    let mut untagged_text = sent.clone();
    for reference in url_references(&sent) {
        let resolved = resolve(url, &reference);
        assert!(
            out.join(resolved.trim_start_matches('/')).is_file(),
            "{url} names {reference}, not in the export"
        );
        let (referenced_path, referenced_tag) = untagged(&resolved);
        assert!(
            committed_sha1(repo, commit, &referenced_path).starts_with(&referenced_tag),
            "{url}: {reference} is not tagged by its committed bytes"
        );
        let (dir, name) = reference.rsplit_once('/').unwrap();
        let plain = format!("{dir}/{}", untagged_name(name).0);
        untagged_text = untagged_text.replace(&reference, &plain);
    }
    assert_eq!(
        untagged_text.as_bytes(),
        committed(repo, commit, &path),
        "{url}, its references untagged, is the committed {path}"
    );
}

/// The `brotli_static` module of Debian's `libnginx-mod-http-brotli-static`, in nginx's
/// modules path (`nginx -V`).
fn brotli_static_module() -> PathBuf {
    let output = Command::new("nginx")
        .arg("-V")
        .output()
        .unwrap_or_else(|error| panic!("{}", cannot_run("nginx", &error)));
    let configured = String::from_utf8_lossy(&output.stderr);
    let modules = configured
        .split_whitespace()
        .find_map(|option| option.strip_prefix("--modules-path="))
        .unwrap_or("/usr/lib/nginx/modules");
    let module = Path::new(modules).join("ngx_http_brotli_static_module.so");
    assert!(
        module.is_file(),
        "{} is missing: run `{SETUP_COMMAND}`, which installs libnginx-mod-http-brotli-static",
        module.display()
    );
    module
}

/// One line of the static host's access log.
#[derive(Debug)]
struct Answer {
    uri: String,
    status: u16,
    cache_control: String,
    encoding: String,
}

/// Debian's nginx as the static host of an export folder, configured as the export's snippets
/// say, logging each answer (URI, status, `Cache-Control`, `Content-Encoding`).
struct StaticHost {
    child: Child,
    port: u16,
    dir: PathBuf,
    out: PathBuf,
}

impl StaticHost {
    /// Writes the configuration into `dir`, checks it with `nginx -t`, and starts nginx on
    /// `port` serving `out`.
    fn start(dir: &Path, out: &Path, port: u16) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let (d, o) = (dir.display(), out.display());
        let brotli = brotli_static_module();
        let config = format!(
            "master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             load_module {};\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
             \x20 include /etc/nginx/mime.types;\n\
             \x20 default_type application/octet-stream;\n\
             \x20 log_format answers '$request_uri|$status|$sent_http_cache_control|$sent_http_content_encoding';\n\
             \x20 access_log {d}/access.log answers;\n\
             \x20 client_body_temp_path {d}/client_body;\n\
             \x20 proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n\
             \x20 uwsgi_temp_path {d}/uwsgi;\n\
             \x20 scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n\
             \x20   listen 127.0.0.1:{port};\n\
             \x20   include {o}/.cachekiller/nginx.conf;\n\
             \x20 }}\n\
             }}\n",
            brotli.display()
        );
        let config_path = dir.join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let nginx = |test: bool| {
            let mut command = Command::new("nginx");
            if test {
                command.arg("-t");
            }
            command
                .arg("-c")
                .arg(&config_path)
                .arg("-p")
                .arg(dir)
                .arg("-e")
                .arg(dir.join("error.log"));
            command
        };
        let tested = nginx(true)
            .output()
            .unwrap_or_else(|error| panic!("{}", cannot_run("nginx", &error)));
        assert!(
            tested.status.success(),
            "nginx -t fails with the export's snippet:\n{}\n{}",
            String::from_utf8_lossy(&tested.stderr),
            std::fs::read_to_string(out.join(".cachekiller/nginx.conf")).unwrap_or_default()
        );
        let child = nginx(false)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let host = StaticHost {
            child,
            port,
            dir: dir.to_owned(),
            out: out.to_owned(),
        };
        wait_until(
            "the static nginx to listen",
            Duration::from_secs(30),
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        host
    }

    /// nginx started again on the same port: it reads the export's snippets anew, as an
    /// operator reloads it after an export (the map names the new tagged files). A reload
    /// needs a master process, which would run its workers as another user.
    fn restart(self) -> Self {
        let (dir, out, port) = (self.dir.clone(), self.out.clone(), self.port);
        drop(self);
        StaticHost::start(&dir, &out, port)
    }

    /// Every answer logged so far.
    fn answers(&self) -> Vec<Answer> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split('|').collect();
                assert_eq!(fields.len(), 4, "{line}");
                Answer {
                    uri: fields[0].to_owned(),
                    status: fields[1].parse().unwrap(),
                    cache_control: fields[2].to_owned(),
                    encoding: fields[3].to_owned(),
                }
            })
            .collect()
    }

    /// The page, as nginx sends it at `/`.
    fn page(&self) -> String {
        let page = http_get(self.port, "/");
        assert_eq!(page.status, 200);
        assert_eq!(page.header("cache-control"), Some(NO_CACHE));
        String::from_utf8(page.body).unwrap()
    }
}

impl Drop for StaticHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` by curl over HTTP/1.1 (nginx's `gzip_static` answers HTTP/1.0 uncompressed)
/// with `Accept-Encoding: encoding`; the body as sent, not decoded.
fn curl(port: u16, path: &str, encoding: &str) -> HttpResponse {
    let dir = tempfile::tempdir().unwrap();
    let (headers, body) = (dir.path().join("headers"), dir.path().join("body"));
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--http1.1", "--header"])
        .arg(format!("Accept-Encoding: {encoding}"))
        .arg("--dump-header")
        .arg(&headers)
        .arg("--output")
        .arg(&body)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .unwrap_or_else(|error| panic!("{}", cannot_run("curl", &error)));
    assert!(
        output.status.success(),
        "curl {path}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (status, headers) = response_head(&std::fs::read_to_string(headers).unwrap());
    HttpResponse {
        status,
        headers,
        body: std::fs::read(body).unwrap(),
    }
}

/// The `Content-Type` a static file's extension calls for (IANA; `text/javascript` by
/// RFC 9239).
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        _ => panic!("no content type known for {path}"),
    }
}

/// Every file below `dir`, by its path there, with its inode and modification time: a file
/// written again (through a temporary file linked or renamed into place) has a new inode.
fn files_with_identity(dir: &Path) -> BTreeMap<String, (u64, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                let path = entry.path();
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(relative, (metadata.ino(), metadata.modified().unwrap()));
            }
        }
    }
    files
}

/// Phase 2: Chromium loads the page from the static host, and nginx sends the committed bytes.
fn chromium_loads_every_asset_immutable(host: &StaticHost, assets: &PageAssets) {
    // Only what Chromium asked counts: the test's own requests came before.
    let earlier = host.answers().len();
    let browser_answers = || host.answers().split_off(earlier);
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());
    chromium.open(&format!("http://127.0.0.1:{}/", host.port));
    // The script marks the title only if it ran: after Chromium checked its integrity.
    wait_until(
        "the script to run and mark the title",
        Duration::from_secs(30),
        || {
            chromium
                .titles()
                .iter()
                .any(|title| title == "cachekiller static site (scripted)")
        },
    );
    let urls = assets.all();
    wait_until(
        "Chromium to fetch every asset",
        Duration::from_secs(30),
        || {
            let answers = browser_answers();
            urls.iter()
                .all(|url| answers.iter().any(|answer| &answer.uri == url))
        },
    );
    let answers = browser_answers();
    let page = answers
        .iter()
        .find(|answer| answer.uri == "/")
        .expect("the page");
    assert_eq!(
        (page.status, page.cache_control.as_str()),
        (200, NO_CACHE),
        "{answers:#?}"
    );
    for url in &urls {
        let fetched: Vec<&Answer> = answers.iter().filter(|answer| &answer.uri == url).collect();
        assert_eq!(fetched.len(), 1, "{url} fetched once: {answers:#?}");
        assert_eq!(
            (fetched[0].status, fetched[0].cache_control.as_str()),
            (200, IMMUTABLE),
            "{url}: {answers:#?}"
        );
    }
    for compressed in [&assets.stylesheet, &assets.script] {
        let answer = answers
            .iter()
            .find(|answer| &answer.uri == compressed)
            .unwrap();
        assert!(
            ["br", "gzip"].contains(&answer.encoding.as_str()),
            "{compressed} came uncompressed: {answers:#?}"
        );
    }
}

/// Phase 2, the bytes: what nginx sends under each tagged name is what was committed (the
/// stylesheet with its references tagged), and each compressed answer decodes to it.
fn nginx_sends_the_committed_bytes(
    host: &StaticHost,
    repo: &Path,
    assets: &PageAssets,
    out: &Path,
) {
    let mut others = vec![&assets.script, &assets.image];
    others.extend(&assets.referenced);
    for url in others {
        let (path, tag) = untagged(url);
        let sha1 = committed_sha1(repo, "HEAD", &path);
        assert!(
            sha1.starts_with(&tag),
            "{url} is not tagged by {path}'s bytes"
        );
        let response = http_get(host.port, url);
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(
            sha1_of(&response.body),
            sha1,
            "{url} sends {path} as committed"
        );
    }
    let stylesheet = http_get(host.port, &assets.stylesheet);
    assert_committed_stylesheet(repo, "HEAD", &assets.stylesheet, &stylesheet.body, out);

    for url in [&assets.stylesheet, &assets.script] {
        let identity = http_get(host.port, url).body;
        for (encoding, decode) in [("br", unbrotli as fn(&[u8]) -> Vec<u8>), ("gzip", gunzip)] {
            let response = curl(host.port, url, encoding);
            assert_eq!(
                (
                    response.status,
                    response.header("content-encoding"),
                    response.header("cache-control")
                ),
                (200, Some(encoding), Some(IMMUTABLE)),
                "{url} asked with {encoding}"
            );
            assert_eq!(
                sha1_of(&decode(&response.body)),
                sha1_of(&identity),
                "{url}: the {encoding} sibling decodes to the bytes sent without it"
            );
        }
    }
}

/// An object of the bucket: its headers (from `head_object`) and bytes.
#[derive(Debug)]
struct S3Object {
    content_type: Option<String>,
    cache_control: Option<String>,
    content_encoding: Option<String>,
    bytes: Vec<u8>,
}

/// Every object below `prefix/` of the bucket, by key without that prefix, read by boto3.
fn s3_objects(server: &S3Server, prefix: &str) -> BTreeMap<String, S3Object> {
    let downloads = tempfile::tempdir().unwrap();
    let listed = server.boto3(&format!(
        "import json, os\n\
         for page in s3.get_paginator('list_objects_v2').paginate(Bucket='{BUCKET}', Prefix='{prefix}/'):\n\
         \x20   for item in page.get('Contents', []):\n\
         \x20       key = item['Key']\n\
         \x20       head = s3.head_object(Bucket='{BUCKET}', Key=key)\n\
         \x20       path = os.path.join('{}', key)\n\
         \x20       os.makedirs(os.path.dirname(path), exist_ok=True)\n\
         \x20       with open(path, 'wb') as file:\n\
         \x20           file.write(s3.get_object(Bucket='{BUCKET}', Key=key)['Body'].read())\n\
         \x20       print(json.dumps({{'key': key, 'type': head.get('ContentType'), \
         'cache': head.get('CacheControl'), 'encoding': head.get('ContentEncoding')}}))",
        downloads.path().display()
    ));
    listed
        .lines()
        .map(|line| {
            let object: serde_json::Value = serde_json::from_str(line).unwrap();
            let key = object["key"].as_str().unwrap();
            let text = |field: &str| object[field].as_str().map(str::to_owned);
            (
                key.strip_prefix(&format!("{prefix}/")).unwrap().to_owned(),
                S3Object {
                    content_type: text("type"),
                    cache_control: text("cache"),
                    content_encoding: text("encoding"),
                    bytes: std::fs::read(downloads.path().join(key)).unwrap(),
                },
            )
        })
        .collect()
}

/// Phase 3: the export to S3, read back by boto3.
fn the_s3_export_puts_each_object_with_its_headers(
    scratch: &ScratchCrate,
    repo: &Path,
    assets: &PageAssets,
) {
    let server = S3Server::start();
    let out = tempfile::tempdir().unwrap();
    let printed = generate(scratch, out.path(), Some(&server));
    assert!(
        printed.iter().any(|line| line.starts_with("s3://")),
        "{printed:?}"
    );
    let objects = s3_objects(&server, S3_PREFIX);

    let tagged: Vec<String> = assets
        .all()
        .iter()
        .map(|url| url.trim_start_matches('/').to_owned())
        .collect();
    let plain: Vec<String> = committed_static_paths(repo)
        .iter()
        .map(|path| format!("static/{path}"))
        .collect();
    for key in tagged.iter().chain(&plain) {
        assert!(objects.contains_key(key), "{key} is missing: {objects:#?}");
    }
    for (key, object) in objects.iter().filter(|(key, _)| key.starts_with("static/")) {
        let sibling =
            [(".br", "br"), (".gz", "gzip")]
                .into_iter()
                .find_map(|(extension, encoding)| {
                    let original = key.strip_suffix(extension)?;
                    tagged
                        .contains(&original.to_owned())
                        .then_some((original, encoding))
                });
        let expected = if let Some((original, encoding)) = sibling {
            let decoded = if encoding == "br" {
                unbrotli(&object.bytes)
            } else {
                gunzip(&object.bytes)
            };
            assert_eq!(
                sha1_of(&decoded),
                sha1_of(&objects[original].bytes),
                "{key} decodes to {original}'s bytes"
            );
            (content_type(original), IMMUTABLE, Some(encoding))
        } else if tagged.contains(key) {
            (content_type(key), IMMUTABLE, None)
        } else if plain.contains(key) {
            (content_type(key), NO_CACHE, None)
        } else {
            panic!("{key} is neither a tagged name, a sibling nor a plain name");
        };
        assert_eq!(
            (
                object.content_type.as_deref(),
                object.cache_control.as_deref(),
                object.content_encoding.as_deref()
            ),
            (Some(expected.0), Some(expected.1), expected.2),
            "{key}"
        );
    }
    for compressed in [&assets.stylesheet, &assets.script] {
        for extension in [".br", ".gz"] {
            let key = format!("{}{extension}", compressed.trim_start_matches('/'));
            assert!(objects.contains_key(&key), "{key} is missing");
        }
    }
    let (script_path, _) = untagged(&assets.script);
    assert_eq!(
        sha1_of(&objects[assets.script.trim_start_matches('/')].bytes),
        committed_sha1(repo, "HEAD", &script_path),
        "the tagged script in S3 is the committed one"
    );
    let page = &objects["index.html"];
    assert_eq!(
        (page.content_type.as_deref(), page.cache_control.as_deref()),
        (Some("text/html; charset=utf-8"), Some(NO_CACHE))
    );
    let manifests = objects
        .keys()
        .filter(|key| {
            key.starts_with(".cachekiller/exports/")
                && Path::new(key)
                    .extension()
                    .is_some_and(|extension| extension == "json")
        })
        .count();
    assert_eq!(manifests, 1, "{:#?}", objects.keys().collect::<Vec<_>>());
}

/// Checks what an export into a folder holding an earlier one wrote below `static/`, from the
/// files' identities `before` and `after` it: the tagged name of `stylesheet` (a URL) and its
/// siblings are new, its plain name replaced, and every other file left as it was.
fn assert_written_alone(
    before: &BTreeMap<String, (u64, SystemTime)>,
    after: &BTreeMap<String, (u64, SystemTime)>,
    stylesheet: &str,
) {
    let tagged = stylesheet.trim_start_matches("/static/");
    let new: Vec<&str> = after
        .keys()
        .filter(|path| !before.contains_key(*path))
        .map(String::as_str)
        .collect();
    let siblings = [format!("{tagged}.br"), format!("{tagged}.gz")];
    assert!(
        new.contains(&tagged)
            && new
                .iter()
                .all(|path| *path == tagged || siblings.iter().any(|sibling| sibling == path)),
        "the second export wrote the new stylesheet (and its siblings) alone: {new:?}"
    );
    let (plain, _) = untagged(stylesheet);
    for (path, identity) in before {
        if *path == plain {
            assert_ne!(&after[path], identity, "the plain name {path} is replaced");
        } else {
            assert_eq!(
                &after[path], identity,
                "{path} was written again by the second export"
            );
        }
    }
}

/// What a CDN client got for each asset of a page: the response, by URL.
fn fetch_through(cdn: &Nginx, assets: &PageAssets) -> BTreeMap<String, HttpResponse> {
    assets
        .all()
        .into_iter()
        .map(|url| {
            let response = cdn.get(&url);
            assert_eq!(
                (response.status, response.header("cache-control")),
                (200, Some(IMMUTABLE)),
                "{url} through the CDN"
            );
            (url, response)
        })
        .collect()
}

#[test]
fn an_exported_site_keeps_the_promise_on_nginx_in_chromium_on_s3_and_behind_a_cdn() {
    let started = Instant::now();
    let (repo, scratch) = built_site("static_export_site", |_| {});
    let built = started.elapsed();
    let repo = repo.path();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("site");
    let printed = generate(&scratch, &out, None);
    eprintln!("the first export: {}", printed[0]);
    let committed_files = committed_static_paths(repo).len();
    assert_eq!(reported(&printed[0], "static file"), committed_files);
    assert_eq!(reported(&printed[0], "tagged name"), committed_files);

    // 1. nginx with the export's snippets (`nginx -t` first).
    let host = StaticHost::start(&work.path().join("static-host"), &out, free_port());
    let first_page = host.page();
    let first = PageAssets::of(&first_page, host.port);

    // 2. Chromium, and the bytes nginx sends.
    chromium_loads_every_asset_immutable(&host, &first);
    nginx_sends_the_committed_bytes(&host, repo, &first, &out);

    // 3. S3, from the same build.
    the_s3_export_puts_each_object_with_its_headers(&scratch, repo, &first);

    // 4. A CDN in front; a tab of the first page has fetched its assets through it.
    let cdn = Nginx::start(
        &work.path().join("cdn"),
        "$scheme$proxy_host$request_uri",
        &[host.port],
    );
    assert_eq!(String::from_utf8_lossy(&cdn.get("/").body), first_page);
    let first_fetched = fetch_through(&cdn, &first);
    let again = cdn.get(&first.stylesheet);
    assert_eq!(again.header("x-cache-status"), Some("HIT"));

    // A commit that changes the stylesheet, a rebuild, an export into the same folder.
    let static_before = files_with_identity(&out.join("static"));
    let stylesheet = repo.join("site/static/css/site.css");
    let mut css = std::fs::read_to_string(&stylesheet).unwrap();
    css.push_str("\np { color: #3b3b45; }\n");
    std::fs::write(&stylesheet, css).unwrap();
    git(repo, &["commit", "-q", "-am", "a new stylesheet"]);
    let rebuild_started = Instant::now();
    assert!(!scratch.build().fresh, "the commit must rebuild the site");
    let rebuilt = rebuild_started.elapsed();
    let printed = generate(&scratch, &out, None);
    eprintln!("the second export: {}", printed[0]);
    assert_eq!(
        reported(&printed[0], "tagged name"),
        1,
        "only the stylesheet is new: {printed:?}"
    );
    let static_after = files_with_identity(&out.join("static"));
    let host = host.restart();
    let second_page = host.page();
    let second = PageAssets::of(&second_page, host.port);
    assert_ne!(second.stylesheet, first.stylesheet);
    assert_written_alone(&static_before, &static_after, &second.stylesheet);
    let manifests = std::fs::read_dir(out.join(".cachekiller/exports"))
        .unwrap()
        .count();
    assert_eq!(manifests, 2, "one manifest per export");

    let page = cdn.get("/");
    assert_eq!(page.header("cache-control"), Some(NO_CACHE));
    assert_eq!(String::from_utf8_lossy(&page.body), second_page);
    old_and_new_pages_get_their_own_bytes(&cdn, &host, repo, &out, (&first, &second));
    let old_css = &first_fetched[&first.stylesheet].body;
    for (from, response) in [
        ("the CDN", cdn.get(&first.stylesheet)),
        ("the folder", http_get(host.port, &first.stylesheet)),
    ] {
        assert_eq!(
            (
                response.status,
                response.header("cache-control"),
                sha1_of(&response.body)
            ),
            (200, Some(IMMUTABLE), sha1_of(old_css)),
            "the first page's stylesheet from {from}: the bytes the first tab got"
        );
    }
    eprintln!(
        "static_export: first build {built:?}, rebuild {rebuilt:?}, the rest {:?}",
        started.elapsed().saturating_sub(built + rebuilt)
    );
}

/// Phase 4, after the second export: the new page's stylesheet is new and gives the new
/// commit's bytes through the CDN; the first page's stylesheet is the previous commit's; the
/// script, the image and the stylesheet's references keep their URLs (content mode).
fn old_and_new_pages_get_their_own_bytes(
    cdn: &Nginx,
    host: &StaticHost,
    repo: &Path,
    out: &Path,
    (first, second): (&PageAssets, &PageAssets),
) {
    assert_eq!(
        (&second.script, &second.image, &second.referenced),
        (&first.script, &first.image, &first.referenced),
        "content mode: the unchanged files keep their URLs"
    );
    let new_css = cdn.get(&second.stylesheet);
    assert_eq!(
        (
            new_css.status,
            new_css.header("cache-control"),
            new_css.header("x-cache-status")
        ),
        (200, Some(IMMUTABLE), Some("MISS"))
    );
    assert_committed_stylesheet(repo, "HEAD", &second.stylesheet, &new_css.body, out);
    let old_css = http_get(host.port, &first.stylesheet);
    assert_committed_stylesheet(repo, "HEAD~1", &first.stylesheet, &old_css.body, out);
}

/// The nginx snippet holds long names and a shared cache in front:
///
/// - a URL path of 47 bytes or more (a vendored font's
///   `/static/fonts/inter-variable-italic-latin-ext.<tag>.woff2`) passes `nginx -t` (as a key
///   of a `map` it failed: `could not build map_hash, you should increase
///   map_hash_bucket_size: 64`);
/// - answers carry `Vary: Accept-Encoding`, so a shared cache (the CDN here) never sends the
///   Brotli body a browser asked for to a client that asked for none;
/// - a tagged name spelled in other case is not `immutable`, nor a tagged name's 404.
#[test]
fn the_nginx_snippets_hold_long_names_and_a_shared_cache() {
    let (_repo, scratch) = built_site("static_export_snippets", |site| {
        std::fs::copy(
            site.join("static/fonts/blocks.woff2"),
            site.join("static/fonts/inter-variable-italic-latin-ext.woff2"),
        )
        .unwrap();
    });
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("site");
    let _ = generate(&scratch, &out, None);
    let host = StaticHost::start(&work.path().join("static-host"), &out, free_port());
    let assets = PageAssets::of(&host.page(), host.port);
    let cdn = Nginx::start(
        &work.path().join("cdn"),
        "$scheme$proxy_host$request_uri",
        &[host.port],
    );
    let browser = http_get_with(cdn.port, &assets.stylesheet, &[("Accept-Encoding", "br")]);
    assert_eq!(browser.header("content-encoding"), Some("br"));
    let plain_client = cdn.get(&assets.stylesheet);
    assert_eq!(
        (
            plain_client.header("content-encoding"),
            sha1_of(&plain_client.body)
        ),
        (None, sha1_of(&http_get(host.port, &assets.stylesheet).body)),
        "a client that accepts no encoding gets the identity bytes through the CDN"
    );
    // nginx's exact locations compare case: another spelling of a tagged name (another
    // file, or none) is never `immutable`, as it was under a `map`, which ignores case.
    let (folder, name) = assets.stylesheet.rsplit_once('/').unwrap();
    let other_case = http_get(host.port, &format!("{folder}/{}", name.to_uppercase()));
    assert_eq!(
        other_case.header("cache-control"),
        Some(NO_CACHE),
        "{other_case:?}"
    );
    // A tagged name that is gone (collected before nginx was reloaded) answers 404, never
    // `immutable`: a CDN would keep that 404 for a year.
    std::fs::remove_file(out.join(&assets.image[1..])).unwrap();
    let gone = http_get(host.port, &assets.image);
    assert_eq!(gone.status, 404, "{gone:?}");
    assert_ne!(gone.header("cache-control"), Some(IMMUTABLE), "{gone:?}");
}
