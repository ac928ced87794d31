//! The demo's browser (the demo is `examples/site/`, run by `cargo run --example site`): asks
//! the server for a page and every asset it links, as a browser does (`Accept-Encoding: br,
//! gzip`), and checks each answer against the files themselves and `git show`, never against
//! what the service says of its own bytes.

use std::fmt::Write;
use std::path::Path;
use std::process::Command;

use cachekiller_tests::serving::{http_get_with, HttpResponse};
use sha1::{Digest, Sha1};

/// What a browser sends with every request for an asset.
const BROWSER_ACCEPTS: &[(&str, &str)] = &[("Accept-Encoding", "br, gzip")];

/// How the tag of a URL relates to the bytes it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bytes {
    /// A page (no tag).
    Page,
    /// No tag or a tag that names nothing here: the current bytes are expected.
    Current,
    /// The bytes the tag names (what the tag is checked against is said).
    AsTagged(&'static str),
    /// Other bytes than the tag names, or than the file holds.
    Wrong(String),
}

/// One request and what came back.
#[derive(Debug)]
pub struct Answer {
    /// The URL asked for.
    pub url: String,
    /// The status code.
    pub status: u16,
    /// `Cache-Control`, `-` when absent.
    pub cache_control: String,
    /// `Content-Encoding`, `-` when absent.
    pub encoding: String,
    /// Whether the bytes are the ones the URL names.
    pub bytes: Bytes,
    /// For a stylesheet: the URLs its `url(…)` references resolve to, which a browser asks
    /// for next (fonts, images).
    pub references: Vec<String>,
}

impl Answer {
    /// Whether the response may be kept for a year.
    #[must_use]
    pub fn immutable(&self) -> bool {
        self.cache_control.contains("immutable")
    }
}

/// How each URL is judged: the site's revision tag and where the files are.
pub struct Site<'a> {
    /// The server's port on 127.0.0.1.
    pub port: u16,
    /// The static dir the service serves from (the files are the oracle).
    pub static_dir: &'a Path,
    /// The static URL prefix (`/static/`).
    pub static_url: &'a str,
    /// The revision tag the pages were rendered with (`cdntag!()`).
    pub revision: &'a str,
}

impl Site<'_> {
    /// `GET url` as a browser would, checked.
    #[must_use]
    pub fn ask(&self, url: &str) -> Answer {
        // A browser keeps the fragment to itself.
        let sent = url.split('#').next().unwrap_or(url);
        let response = http_get_with(self.port, sent, BROWSER_ACCEPTS);
        let mut references = Vec::new();
        let bytes = match self.static_target(url) {
            None => Bytes::Page,
            Some((relative, tag)) => match decoded(&response) {
                Err(error) => Bytes::Wrong(format!("undecodable body: {error}")),
                Ok(body) => {
                    if is_stylesheet(&relative) {
                        references = stylesheet_references(&String::from_utf8_lossy(&body), sent);
                    }
                    self.judge(&relative, tag.as_deref(), &body)
                }
            },
        };
        Answer {
            url: url.to_owned(),
            status: response.status,
            cache_control: response.header("cache-control").unwrap_or("-").to_owned(),
            encoding: response
                .header("content-encoding")
                .unwrap_or("-")
                .to_owned(),
            bytes,
            references,
        }
    }

    /// The file below the static dir a URL names (percent-decoded) and its tag, if it is a
    /// static URL.
    fn static_target(&self, url: &str) -> Option<(String, Option<String>)> {
        let rest = url.strip_prefix(self.static_url)?;
        let rest = rest.split('#').next().unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let tag = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("tag="))
            .map(str::to_owned);
        Some((percent_decoded(path), tag))
    }

    /// Whether `body` is what `relative` under `tag` names.
    fn judge(&self, relative: &str, tag: Option<&str>, body: &[u8]) -> Bytes {
        let path = self.static_dir.join(relative);
        let Ok(file) = std::fs::read(&path) else {
            return Bytes::Wrong(format!("{} cannot be read", path.display()));
        };
        // A stylesheet is sent with its references tagged; take the tags out again and the
        // file's own bytes must remain.
        let is_stylesheet = is_stylesheet(relative);
        let sent = if is_stylesheet {
            without_reference_tags(body)
        } else {
            body.to_vec()
        };
        // What the tag names: for the revision, the file as committed in it (the file itself
        // outside git); for a content tag, bytes whose SHA-1 begins with it.
        let named = match tag {
            Some(tag) if tag == self.revision => match committed(&path, tag) {
                Committed::Bytes(committed) => {
                    (committed == sent).then_some("= `git show <tag>:<file>`")
                }
                // In a repository, a revision names only committed files.
                Committed::NotInRevision => None,
                Committed::NoRepository => (sent == file).then_some("= the file"),
            },
            Some(tag) if is_content_tag_of(tag, body) && sent == file => Some(if is_stylesheet {
                "= the file, its references tagged; SHA-1 begins with the tag"
            } else {
                "= the file, whose SHA-1 begins with the tag"
            }),
            _ => None,
        };
        match named {
            Some(how) => Bytes::AsTagged(how),
            None if sent == file => Bytes::Current,
            None => Bytes::Wrong(format!("neither what the tag names nor {relative}")),
        }
    }
}

/// Whether `tag` is hex that begins the SHA-1 of `body` (a content tag of these bytes).
fn is_content_tag_of(tag: &str, body: &[u8]) -> bool {
    let digest = Sha1::digest(body)
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    tag.len() >= 6 && digest.starts_with(tag)
}

/// What git holds of a file at a revision.
enum Committed {
    /// The bytes `git show <revision>:./<file>` gives.
    Bytes(Vec<u8>),
    /// A repository that does not hold the file at the revision (or cannot show it).
    NotInRevision,
    /// No git repository encloses the file (or no git).
    NoRepository,
}

/// The file at `path` as committed in `revision` (the oracle for a revision tag:
/// `git show <revision>:./<file>`).
fn committed(path: &Path, revision: &str) -> Committed {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Committed::NoRepository;
    };
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
    };
    let in_repository = git(&["rev-parse", "--git-dir"]).is_some_and(|out| out.status.success());
    if !in_repository {
        return Committed::NoRepository;
    }
    match git(&["show", &format!("{revision}:./{name}")]) {
        Some(output) if output.status.success() => Committed::Bytes(output.stdout),
        _ => Committed::NotInRevision,
    }
}

/// Whether a static file is served as a stylesheet (its references rewritten).
#[must_use]
pub fn is_stylesheet(relative: &str) -> bool {
    Path::new(relative)
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("css"))
}

/// The URLs of a stylesheet's `url(…)` references, resolved against the stylesheet's URL as a
/// browser resolves them (`../img/a.svg?tag=…` from `/static/css/app.css` is
/// `/static/img/a.svg?tag=…`). Enough for the demo's own stylesheet: no escapes, no comments
/// holding `url(`.
#[must_use]
pub fn stylesheet_references(css: &str, stylesheet_url: &str) -> Vec<String> {
    let base = stylesheet_url.split(['?', '#']).next().unwrap_or_default();
    let base_dir = &base[..base.rfind('/').map_or(0, |slash| slash + 1)];
    let mut urls = Vec::new();
    for (start, _) in css.match_indices("url(") {
        let rest = css[start + 4..].trim_start();
        let reference = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => rest[1..].split(quote).next(),
            _ => rest.split(')').next().map(str::trim_end),
        };
        let Some(reference) = reference.filter(|reference| !reference.contains(':')) else {
            continue;
        };
        let url = if reference.starts_with('/') {
            reference.to_owned()
        } else {
            resolved(base_dir, reference)
        };
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// `reference` joined to the directory URL `base_dir` (ending in `/`), its `.` and `..`
/// segments removed.
fn resolved(base_dir: &str, reference: &str) -> String {
    let (path, suffix) = reference
        .find(['?', '#'])
        .map_or((reference, ""), |at| reference.split_at(at));
    let mut segments: Vec<&str> = base_dir.trim_end_matches('/').split('/').collect();
    for segment in path.split('/') {
        match segment {
            "." => {}
            ".." => {
                if segments.len() > 1 {
                    segments.pop();
                }
            }
            segment => segments.push(segment),
        }
    }
    format!("{}{suffix}", segments.join("/"))
}

/// The body as sent before its `Content-Encoding`.
fn decoded(response: &HttpResponse) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut decoded = Vec::new();
    match response.header("content-encoding") {
        Some("br") => {
            brotli::Decompressor::new(response.body.as_slice(), 4096).read_to_end(&mut decoded)?
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(response.body.as_slice()).read_to_end(&mut decoded)?
        }
        _ => return Ok(response.body.clone()),
    };
    Ok(decoded)
}

/// `%XX` escapes decoded (the URLs' paths are what `cdnstatic!` percent-encoded), as a static
/// host decodes a URL's path to find the file.
#[must_use]
pub fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A stylesheet's bytes with every `?tag=<tag>` taken out of its references: a tag is the
/// characters a tag may have (a commit's hex, or a `CACHEKILLER_TAG` such as `v1.2-rc`).
fn without_reference_tags(css: &[u8]) -> Vec<u8> {
    let is_tag_byte = |byte: &u8| byte.is_ascii_alphanumeric() || b"._-~".contains(byte);
    let mut out = Vec::with_capacity(css.len());
    let mut index = 0;
    while index < css.len() {
        if css[index..].starts_with(b"?tag=") {
            let tag = css[index + 5..]
                .iter()
                .take_while(|byte| is_tag_byte(byte))
                .count();
            if tag > 0 {
                index += 5 + tag;
                continue;
            }
        }
        out.push(css[index]);
        index += 1;
    }
    out
}

/// The URLs a page links in `href` and `src` attributes that start with `prefix`, in order,
/// each once, with the HTML escapes undone (a browser asks for `a.js?v=2&tag=…`).
#[must_use]
pub fn linked_urls(page: &str, prefix: &str) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for (start, _) in page.match_indices(attribute) {
            let value = &page[start + attribute.len()..];
            let value = &value[..value.find('"').unwrap_or(value.len())];
            let url = html_unescaped(value);
            if url.starts_with(prefix) && !urls.contains(&url) {
                urls.push(url);
            }
        }
    }
    urls
}

/// An attribute value with its character references undone (`&amp;`, `&#38;`, `&#x26;`).
fn html_unescaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let reference = rest.find(';').map(|end| (&rest[1..end], end));
        let character = reference.and_then(|(name, _)| match name {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "lt" => Some('<'),
            "gt" => Some('>'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .map_or_else(
                    || {
                        name.strip_prefix('#')
                            .and_then(|decimal| decimal.parse().ok())
                    },
                    |hex| u32::from_str_radix(hex, 16).ok(),
                )
                .and_then(char::from_u32),
        });
        if let (Some(character), Some((_, end))) = (character, reference) {
            out.push(character);
            rest = &rest[end + 1..];
        } else {
            out.push('&');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The tag of the commit before the revision, cut as the revision is: a tag an older page
/// may still carry. `None` outside git or on the first commit.
#[must_use]
pub fn previous_commit_tag(crate_dir: &Path, revision: &str) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(crate_dir)
        .args(["rev-parse", &format!("{revision}~1")])
        .output()
        .ok()?;
    let full = String::from_utf8(output.stdout).ok()?;
    output
        .status
        .success()
        .then(|| full.trim().chars().take(revision.len()).collect())
}

/// What an exported file is, checked by itself: the SHA-1 of its bytes begins with the tag in
/// its name (`app.<tag>.css`), and each `.br` and `.gz` sibling beside it decodes to exactly
/// those bytes. `Err` says what is wrong.
///
/// # Errors
/// A missing file, a name without a tag, a tag its bytes do not begin, a sibling of other
/// bytes.
pub fn exported_file(file: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let bytes = std::fs::read(file).map_err(|error| format!("not exported ({error})"))?;
    let name = file
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let mut parts = name.rsplit('.');
    let (Some(_), Some(tag)) = (parts.next(), parts.next()) else {
        return Err("no tag in its name".to_owned());
    };
    if !is_content_tag_of(tag, &bytes) {
        return Err(format!("WRONG BYTES: the SHA-1 does not begin with {tag}"));
    }
    let mut siblings = Vec::new();
    for (extension, encoding) in [("br", "br"), ("gz", "gzip")] {
        let Ok(compressed) = std::fs::read(format!("{}.{extension}", file.display())) else {
            continue;
        };
        let mut decoded = Vec::new();
        let read = if extension == "br" {
            brotli::Decompressor::new(compressed.as_slice(), 4096).read_to_end(&mut decoded)
        } else {
            flate2::read::GzDecoder::new(compressed.as_slice()).read_to_end(&mut decoded)
        };
        if read.is_err() || decoded != bytes {
            return Err(format!("WRONG BYTES in its .{extension} sibling"));
        }
        siblings.push(encoding);
    }
    let siblings = match siblings.as_slice() {
        [] => "no compressed sibling (it would not be smaller)".to_owned(),
        [one] => format!("its {one} sibling decodes to it"),
        several => format!("its {} siblings decode to it", several.join(" and ")),
    };
    Ok(format!("SHA-1 begins with the tag; {siblings}"))
}
