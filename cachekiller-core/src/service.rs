//! A static file service that checks the tag: tower-http's `ServeDir` (ranges, `HEAD`,
//! conditional requests, content types, precompressed siblings) behind a check that decides,
//! per request, whether the bytes about to be sent are the ones the URL's tag names.
//!
//! `immutable` (a year, public) is sent only when the tag is provably the tag of the bytes
//! being served: a content tag that equals the start of the served file's SHA-1 (computed by
//! the same function as `cdnstatic!`'s content mode, cached by path, size and mtime), or a
//! revision tag that equals the revision the server was built from, in a release build (a
//! debug build serves a working tree that may hold uncommitted edits). Any other tag (an older
//! or newer deploy's, a typo) is answered with the current bytes and `no-cache`: a page of the
//! previous deploy still gets its stylesheet, and no cache keeps wrong bytes under that URL
//! for a year. Untagged requests get `no-cache` too. A path outside the directory, or through a
//! symbolic link that leads out of it, is a 404.
//!
//! Both URL forms of the macros are accepted whatever the settings: the query form
//! (`app.css?tag=<tag>`, or the bare `app.css?<tag>` when `param` is empty) and the file-name
//! form (`app.<tag>.css`). A file whose real name looks tagged (`app.abc123.css` on disk) is
//! served as itself, untagged.
//!
//! Stylesheets (`.css`) are served with their references tagged (see [`crate::stylesheet`]):
//! the body is the rewritten bytes, computed once per version of the stylesheet and of the
//! files it references, with a strong `ETag` for conditional requests; their content tag is
//! checked against the rewritten bytes, which are what `cdnstatic!` and `cdnintegrity!` hash.
//! Precompressed siblings of a stylesheet are not used (they hold the bytes before the
//! rewrite); tower-http's `CompressionLayer` compresses the rewritten bytes instead.
//!
//! With axum:
//!
//! ```ignore
//! use cachekiller_core::service::StaticFiles;
//! use cachekiller_macros::cdnsettings;
//!
//! let app = axum::Router::new()
//!     .nest_service("/static", StaticFiles::new("static", cdnsettings!()));
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{Either, Full};
use tower_http::services::fs::ServeFileSystemResponseBody;
use tower_http::services::ServeDir;
use tower_service::Service;

use crate::cache_policy::{query_tag, TagVerdict};
use crate::error::{Error, Result};
use crate::file_stamp::{stamp_of, FileStamp};
use crate::hash::{hex_prefix_matches, to_hex, with_cached_digest, DigestAlgorithm};
use crate::stylesheet::{
    is_stylesheet, ReferenceTags, RewrittenStylesheet, StaticLookup, StylesheetCache,
};
use crate::url::{percent_decode, untag_file_name, TagIn, TagMode};

/// The body of the service's responses: a file as `ServeDir` streams it, or the rewritten
/// bytes of a stylesheet.
pub type StaticBody = Either<ServeFileSystemResponseBody, Full<Bytes>>;

/// How the site's URLs carry tags, as the server was built: made by `cdnsettings!()` of
/// `cachekiller-macros` from the same configuration and tag as the pages' `cdnstatic!` calls,
/// so that a change of `tag_in`, `mode` or `param` in the manifest needs no change here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSettings {
    /// The query parameter of the query form (`""` for the bare `a.css?<tag>` form).
    pub param: &'static str,
    /// The revision tag the pages were built with, as `cdntag!()` gives it.
    pub revision_tag: &'static str,
    /// Hex characters of a content tag.
    pub hash_length: usize,
    /// Whether the server is a release build. Only then is a revision tag trusted: a debug
    /// build serves a working tree that may hold uncommitted edits under the last commit's tag.
    pub release_build: bool,
    /// Where the tags of the references in stylesheets go (as `cdnstatic!` puts them).
    pub tag_in: TagIn,
    /// What the tags of the references in stylesheets are made from.
    pub mode: TagMode,
}

impl SiteSettings {
    /// Settings from their parts (what `cdnsettings!()` expands to), for a site whose
    /// stylesheets reference files in the query form with revision tags (the defaults);
    /// [`SiteSettings::tag_in`] and [`SiteSettings::mode`] set the others.
    #[must_use]
    pub const fn new(
        param: &'static str,
        revision_tag: &'static str,
        hash_length: usize,
        release_build: bool,
    ) -> Self {
        SiteSettings {
            param,
            revision_tag,
            hash_length,
            release_build,
            tag_in: TagIn::Query,
            mode: TagMode::Vcs,
        }
    }

    /// These settings with the references in stylesheets tagged in the form `tag_in`.
    #[must_use]
    pub const fn tag_in(mut self, tag_in: TagIn) -> Self {
        self.tag_in = tag_in;
        self
    }

    /// These settings with the references in stylesheets tagged by `mode`.
    #[must_use]
    pub const fn mode(mut self, mode: TagMode) -> Self {
        self.mode = mode;
        self
    }

    fn reference_tags(&self) -> ReferenceTags<'static> {
        ReferenceTags {
            tag_in: self.tag_in,
            param: self.param,
            mode: self.mode,
            revision_tag: Ok(self.revision_tag),
            hash_length: self.hash_length,
        }
    }
}

/// The static file service: a tower `Service` for `axum::Router::nest_service` and any other
/// tower-based server, composable with tower-http's layers (`CompressionLayer`, `TraceLayer`).
#[derive(Debug, Clone)]
pub struct StaticFiles {
    serve_dir: ServeDir,
    checker: Arc<TagChecker>,
}

impl StaticFiles {
    /// Serves the files below `dir` for a site built with `settings`.
    pub fn new(dir: impl Into<PathBuf>, settings: SiteSettings) -> Self {
        let dir = dir.into();
        StaticFiles {
            serve_dir: ServeDir::new(&dir),
            checker: Arc::new(TagChecker {
                dir,
                settings,
                real_directories: Mutex::new(HashMap::new()),
                stylesheets: StylesheetCache::default(),
            }),
        }
    }

    /// Serves `<file>.br` in place of a file to clients that accept Brotli, where it exists.
    #[must_use]
    pub fn precompressed_br(mut self) -> Self {
        self.serve_dir = self.serve_dir.precompressed_br();
        self
    }

    /// Serves `<file>.gz` in place of a file to clients that accept gzip, where it exists.
    #[must_use]
    pub fn precompressed_gzip(mut self) -> Self {
        self.serve_dir = self.serve_dir.precompressed_gzip();
        self
    }

    /// What the service decides for a request to `uri` (the path below the mount point), as
    /// it decides it in [`Service::call`]: for tests and for servers of their own.
    #[must_use]
    pub fn decide(&self, uri: &Uri) -> Decision {
        self.checker.decide(uri)
    }
}

/// What the service does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer 404: the path leaves the directory (`..`, a symbolic link out of it) or cannot
    /// name a file.
    NotFound,
    /// Let `ServeDir` answer as it does (a missing file, a directory's `index.html`), with no
    /// cache header of ours.
    PassThrough,
    /// Serve a file with the cache policy of `verdict`; `untagged_path` is the request path
    /// without a tag in the file name, when there was one.
    Serve {
        /// The path to serve instead, for a tag in the file name.
        untagged_path: Option<String>,
        /// What the tag says of the file's bytes.
        verdict: TagVerdict,
    },
    /// Serve a stylesheet's rewritten bytes with the cache policy of `verdict`.
    ServeStylesheet {
        /// The bytes to send.
        rewritten: Arc<RewrittenStylesheet>,
        /// What the tag says of those bytes.
        verdict: TagVerdict,
    },
}

#[derive(Debug)]
struct TagChecker {
    dir: PathBuf,
    settings: SiteSettings,
    /// Real paths of the served directory and of the directories files were found in, with
    /// when they were resolved: resolving every component of every request's path would cost
    /// a tenth of `ServeDir`'s own work on a 304. Trusted for [`REAL_PATH_LIFETIME`], so that a
    /// deploy that swaps a symbolic link (`current -> releases/42`) is followed within it.
    real_directories: Mutex<HashMap<PathBuf, (Option<PathBuf>, Instant)>>,
    /// Stylesheets as rewritten, by file.
    stylesheets: StylesheetCache,
}

/// How long a resolved directory is trusted.
const REAL_PATH_LIFETIME: Duration = Duration::from_secs(1);

/// What is below the directory at a path.
enum Found {
    /// A regular file inside the directory, with its size and mtime.
    File(PathBuf, FileStamp),
    /// Something inside that is not a regular file (a directory, for `ServeDir`).
    Other,
    /// Nothing.
    Missing,
    /// A path whose real path lies outside the directory.
    Outside,
}

impl TagChecker {
    fn decide(&self, uri: &Uri) -> Decision {
        let path = uri.path();
        let query = uri.query().unwrap_or_default();
        match self.find(path) {
            Found::File(file, stamp) => {
                let tag = query_tag(query, self.settings.param);
                self.serve(path, None, tag, &file, stamp)
            }
            Found::Outside => Decision::NotFound,
            Found::Other => Decision::PassThrough,
            Found::Missing => {
                // The file-name form: `app.<tag>.css` for `app.css`.
                for (untagged, tag) in untag_file_name(path) {
                    match self.find(&untagged) {
                        Found::File(file, stamp) => {
                            return self.serve(&untagged, Some(&untagged), Some(tag), &file, stamp);
                        }
                        Found::Outside => return Decision::NotFound,
                        Found::Other | Found::Missing => {}
                    }
                }
                Decision::PassThrough
            }
        }
    }

    /// How to serve the file `file` found at the request path `path` (without a tag in the
    /// name), asked for with `tag`.
    fn serve(
        &self,
        path: &str,
        untagged_path: Option<&str>,
        tag: Option<&str>,
        file: &Path,
        stamp: FileStamp,
    ) -> Decision {
        if is_stylesheet(path) {
            if let Ok(decoded) = percent_decode(path) {
                let relative = decoded.trim_start_matches('/');
                let tags = self.settings.reference_tags();
                // A stylesheet that cannot be rewritten (a cycle) is served as it is.
                if let Ok(rewritten) = self
                    .stylesheets
                    .rewritten(self, relative, file, stamp, tags)
                {
                    let verdict = self.verdict(tag, |tag| hex_prefix_matches(&rewritten.sha1, tag));
                    return Decision::ServeStylesheet { rewritten, verdict };
                }
            }
        }
        let verdict = self.verdict(tag, |tag| {
            // The same digest, through the same cache, as `cdnstatic!`'s content mode.
            with_cached_digest(file, stamp, DigestAlgorithm::Sha1, |digest| {
                hex_prefix_matches(digest, tag)
            })
            .unwrap_or(false)
        });
        Decision::Serve {
            untagged_path: untagged_path.map(str::to_owned),
            verdict,
        }
    }

    /// The file at the request path `path` (percent-encoded, below the mount point).
    fn find(&self, path: &str) -> Found {
        let Ok(decoded) = percent_decode(path) else {
            return Found::Outside;
        };
        self.find_decoded(decoded.trim_start_matches('/'))
    }

    /// The file at the static path `relative` (decoded).
    fn find_decoded(&self, relative: &str) -> Found {
        let leaves = relative.contains('\0')
            || relative
                .split(['/', '\\'])
                .any(|component| component == "..");
        if leaves {
            return Found::Outside;
        }
        let candidate = self.dir.join(relative);
        let Ok(link_metadata) = std::fs::symlink_metadata(&candidate) else {
            return Found::Missing;
        };
        let Some(real_dir) = self.real_directory(&self.dir) else {
            return Found::Missing;
        };
        // The real path: the file's own if it is a link, else its directory's joined with
        // its name.
        let real = if link_metadata.is_symlink() {
            std::fs::canonicalize(&candidate).ok()
        } else {
            let (Some(parent), Some(name)) = (candidate.parent(), candidate.file_name()) else {
                return Found::Outside;
            };
            self.real_directory(parent).map(|parent| parent.join(name))
        };
        let Some(real) = real else {
            // A dangling link.
            return Found::Missing;
        };
        if !real.starts_with(&real_dir) {
            return Found::Outside;
        }
        let metadata = if link_metadata.is_symlink() {
            match std::fs::metadata(&real) {
                Ok(metadata) => metadata,
                Err(_) => return Found::Missing,
            }
        } else {
            link_metadata
        };
        if !metadata.is_file() {
            return Found::Other;
        }
        let stamp = stamp_of(&metadata);
        Found::File(candidate, stamp)
    }

    /// The real path of the directory `directory`, from the cache while it is fresh.
    fn real_directory(&self, directory: &Path) -> Option<PathBuf> {
        let mut cache = self
            .real_directories
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((real, resolved_at)) = cache.get(directory) {
            if resolved_at.elapsed() < REAL_PATH_LIFETIME {
                return real.clone();
            }
        }
        let real = std::fs::canonicalize(directory).ok();
        cache.insert(directory.to_owned(), (real.clone(), Instant::now()));
        real
    }

    /// [`TagVerdict::Current`] only for a tag that is provably the tag of the bytes served: the
    /// revision in a release build, or a content tag that `is_content_tag` confirms.
    fn verdict(&self, tag: Option<&str>, is_content_tag: impl FnOnce(&str) -> bool) -> TagVerdict {
        let Some(tag) = tag else {
            return TagVerdict::Untagged;
        };
        let settings = &self.settings;
        if settings.release_build && tag == settings.revision_tag {
            return TagVerdict::Current;
        }
        if tag.len() == settings.hash_length && is_content_tag(tag) {
            return TagVerdict::Current;
        }
        TagVerdict::Other
    }
}

/// The files a stylesheet references are found as requests find them: inside the directory.
impl StaticLookup for TagChecker {
    fn static_file(&self, relative: &str) -> Result<(PathBuf, FileStamp)> {
        match self.find_decoded(relative) {
            Found::File(file, stamp) => Ok((file, stamp)),
            Found::Other | Found::Missing | Found::Outside => Err(Error::StaticFileNotFound {
                path: relative.to_owned(),
                searched: vec![self.dir.display().to_string()],
                suggestion: None,
                hashed: false,
            }),
        }
    }
}

/// The response for a stylesheet's rewritten bytes: `ETag` and conditional requests, `HEAD`,
/// and the cache policy of `verdict`.
fn stylesheet_response(
    method: &Method,
    if_none_match: Option<&HeaderValue>,
    rewritten: Arc<RewrittenStylesheet>,
    verdict: TagVerdict,
) -> Response<StaticBody> {
    let mut response = Response::new(Either::Right(Full::default()));
    if method != Method::GET && method != Method::HEAD {
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET,HEAD"));
        return response;
    }
    let etag = format!("\"{}\"", to_hex(&rewritten.sha1));
    let matches = if_none_match
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.split(',').any(|candidate| {
                let candidate = candidate.trim();
                candidate == "*" || candidate.trim_start_matches("W/") == etag
            })
        });
    let headers = response.headers_mut();
    headers.insert(
        ETAG,
        HeaderValue::from_str(&etag).expect("hex is a header value"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(verdict.cache_control()),
    );
    if matches {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/css"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(rewritten.bytes.len()));
    if method == Method::GET {
        // Shared with the cache, not copied: a big stylesheet costs no copy per request.
        *response.body_mut() = Either::Right(Full::new(Bytes::from_owner(SharedBytes(rewritten))));
    }
    response
}

/// A rewritten stylesheet as the bytes of a body.
struct SharedBytes(Arc<RewrittenStylesheet>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0.bytes
    }
}

fn not_found() -> Response<StaticBody> {
    let mut response = Response::new(Either::Left(ServeFileSystemResponseBody::default()));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// `uri` with its path replaced by `path` (already percent-encoded), the query kept.
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

impl<ReqBody> Service<Request<ReqBody>> for StaticFiles
where
    ReqBody: Send + 'static,
{
    type Response = Response<StaticBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        <ServeDir as Service<Request<ReqBody>>>::poll_ready(&mut self.serve_dir, context)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let verdict = match self.checker.decide(request.uri()) {
            Decision::NotFound => return Box::pin(std::future::ready(Ok(not_found()))),
            Decision::PassThrough => None,
            Decision::ServeStylesheet { rewritten, verdict } => {
                let response = stylesheet_response(
                    request.method(),
                    request.headers().get(IF_NONE_MATCH),
                    rewritten,
                    verdict,
                );
                return Box::pin(std::future::ready(Ok(response)));
            }
            Decision::Serve {
                untagged_path,
                verdict,
            } => {
                if let Some(path) = untagged_path {
                    match with_path(request.uri(), &path) {
                        Some(uri) => *request.uri_mut() = uri,
                        None => return Box::pin(std::future::ready(Ok(not_found()))),
                    }
                }
                Some(verdict)
            }
        };
        let response = self.serve_dir.call(request);
        Box::pin(async move {
            let mut response = response.await?.map(Either::Left);
            let status = response.status();
            if let Some(verdict) = verdict {
                if status.is_success() || status == StatusCode::NOT_MODIFIED {
                    response.headers_mut().insert(
                        CACHE_CONTROL,
                        HeaderValue::from_static(verdict.cache_control()),
                    );
                }
            }
            Ok(response)
        })
    }
}

#[cfg(all(test, feature = "resolve"))]
mod tests {
    use super::*;
    use crate::test_support::sha1sum;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    const REVISION: &str = "4b400e3aeb0426";

    /// `static/` with a stylesheet, an image with a space in its name, a real file whose name
    /// looks tagged, a link inside and links out, and a secret beside it.
    fn site() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let static_dir = root.path().join("static");
        std::fs::create_dir_all(static_dir.join("css")).unwrap();
        std::fs::create_dir_all(static_dir.join("img")).unwrap();
        std::fs::write(static_dir.join("css/app.css"), "body { color: red }\n").unwrap();
        std::fs::write(
            static_dir.join("css/app.abc123.css"),
            "/* a file of its own */\n",
        )
        .unwrap();
        std::fs::write(
            static_dir.join("img/team photo.png"),
            [0x89, b'P', b'N', b'G', 0, 7],
        )
        .unwrap();
        std::fs::write(static_dir.join("LICENSE"), "MIT\n").unwrap();
        std::fs::create_dir_all(static_dir.join("js")).unwrap();
        std::fs::write(static_dir.join("js/app.js"), "document.title = 'app';\n").unwrap();
        std::fs::write(root.path().join("secret.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink("css/app.css", static_dir.join("alias.css")).unwrap();
        std::os::unix::fs::symlink("../secret.txt", static_dir.join("leak.css")).unwrap();
        std::os::unix::fs::symlink("/etc", static_dir.join("etc")).unwrap();
        root
    }

    fn service(root: &Path, release_build: bool) -> StaticFiles {
        StaticFiles::new(
            root.join("static"),
            SiteSettings::new("tag", REVISION, 6, release_build),
        )
    }

    struct Answer {
        status: StatusCode,
        cache_control: Option<String>,
        body: Vec<u8>,
    }

    async fn get(service: &StaticFiles, uri: &str) -> Answer {
        let request = Request::get(uri).body(String::new()).unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        Answer {
            status: response.status(),
            cache_control: response
                .headers()
                .get(CACHE_CONTROL)
                .map(|value| value.to_str().unwrap().to_owned()),
            body: response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    const IMMUTABLE: Option<&str> = Some("public, max-age=31536000, immutable");
    const NO_CACHE: Option<&str> = Some("no-cache");

    #[test]
    fn only_the_tag_of_the_bytes_served_is_immutable() {
        let root = site();
        let css = root.path().join("static/css/app.css");
        let css_bytes = std::fs::read(&css).unwrap();
        let content = sha1sum(&css)[..6].to_owned();
        let image = root.path().join("static/img/team photo.png");
        let image_content = sha1sum(&image)[..6].to_owned();
        let old = if content == "000000" {
            "111111"
        } else {
            "000000"
        };
        let release = service(root.path(), true);
        // (uri, cache-control, body)
        let cases: Vec<(String, Option<&str>, &[u8])> = vec![
            (format!("/css/app.css?tag={content}"), IMMUTABLE, &css_bytes),
            (format!("/css/app.{content}.css"), IMMUTABLE, &css_bytes),
            (
                format!("/css/app.css?v=2&tag={content}"),
                IMMUTABLE,
                &css_bytes,
            ),
            (
                format!("/css/app.css?tag={REVISION}"),
                IMMUTABLE,
                &css_bytes,
            ),
            (format!("/css/app.{REVISION}.css"), IMMUTABLE, &css_bytes),
            (format!("/LICENSE.{REVISION}"), IMMUTABLE, b"MIT\n"),
            // An older or a newer deploy's tag, or a typo: the current bytes, revalidated.
            (format!("/css/app.css?tag={old}"), NO_CACHE, &css_bytes),
            (format!("/css/app.{old}.css"), NO_CACHE, &css_bytes),
            (
                "/css/app.css?tag=0000000000deadbeef".into(),
                NO_CACHE,
                &css_bytes,
            ),
            ("/css/app.css?tag=nextdeploy".into(), NO_CACHE, &css_bytes),
            ("/css/app.nextdeploy.css".into(), NO_CACHE, &css_bytes),
            (
                format!("/css/app.css?tag={}", &content[..5]),
                NO_CACHE,
                &css_bytes,
            ),
            // Malformed tags count as none; no tag: revalidated.
            ("/css/app.css?tag=a%20b".into(), NO_CACHE, &css_bytes),
            ("/css/app.css?tag=".into(), NO_CACHE, &css_bytes),
            ("/css/app.css".into(), NO_CACHE, &css_bytes),
            // A real file whose name looks tagged is itself, untagged.
            (
                "/css/app.abc123.css".into(),
                NO_CACHE,
                b"/* a file of its own */\n",
            ),
            // Percent-encoded names, in both forms.
            (
                format!("/img/team%20photo.png?tag={image_content}"),
                IMMUTABLE,
                &[0x89, b'P', b'N', b'G', 0, 7],
            ),
            (
                format!("/img/team%20photo.{image_content}.png"),
                IMMUTABLE,
                &[0x89, b'P', b'N', b'G', 0, 7],
            ),
            // A link that stays inside is served.
            (format!("/alias.css?tag={content}"), IMMUTABLE, &css_bytes),
        ];
        runtime().block_on(async {
            for (uri, cache_control, body) in &cases {
                let answer = get(&release, uri).await;
                assert_eq!(answer.status, StatusCode::OK, "{uri}");
                assert_eq!(answer.cache_control.as_deref(), *cache_control, "{uri}");
                assert_eq!(answer.body, *body, "{uri}");
            }
        });
    }

    #[test]
    fn a_debug_build_never_trusts_a_revision_tag() {
        let root = site();
        let content = sha1sum(&root.path().join("static/css/app.css"))[..6].to_owned();
        let debug = service(root.path(), false);
        runtime().block_on(async {
            for uri in [
                format!("/css/app.css?tag={REVISION}"),
                format!("/css/app.{REVISION}.css"),
            ] {
                assert_eq!(
                    get(&debug, &uri).await.cache_control.as_deref(),
                    NO_CACHE,
                    "{uri}"
                );
            }
            // A content tag is proven by the bytes themselves, in any build.
            let uri = format!("/css/app.{content}.css");
            assert_eq!(get(&debug, &uri).await.cache_control.as_deref(), IMMUTABLE);
        });
    }

    #[test]
    fn paths_out_of_the_directory_are_not_found() {
        let root = site();
        let release = service(root.path(), true);
        runtime().block_on(async {
            for uri in [
                "/../secret.txt",
                "/css/../../secret.txt",
                "/%2e%2e/secret.txt",
                "/css/%2E%2E/%2E%2E/secret.txt",
                "/leak.css",
                &format!("/leak.{REVISION}.css"),
                "/etc/passwd",
                "/etc/hostname?tag=4b400e3aeb0426",
                "/a%00.css",
            ] {
                let answer = get(&release, uri).await;
                assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
                assert!(answer.body.is_empty(), "{uri}");
            }
            let missing = get(&release, "/css/missing.css?tag=4b400e3aeb0426").await;
            assert_eq!(missing.status, StatusCode::NOT_FOUND);
            assert_eq!(missing.cache_control, None);
        });
    }

    #[test]
    fn a_deploy_that_swaps_a_symbolic_link_is_followed() {
        let root = tempfile::tempdir().unwrap();
        for (release, css) in [("1", "one {}\n"), ("2", "two {}\n")] {
            let dir = root.path().join(format!("releases/{release}/static"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("app.css"), css).unwrap();
        }
        let current = root.path().join("current");
        std::os::unix::fs::symlink("releases/1", &current).unwrap();
        let served = StaticFiles::new(
            current.join("static"),
            SiteSettings::new("tag", REVISION, 6, true),
        );
        runtime().block_on(async {
            assert_eq!(get(&served, "/app.css").await.body, b"one {}\n");
            // The deploy: `current` now points to the next release.
            let next = root.path().join("current.next");
            std::os::unix::fs::symlink("releases/2", &next).unwrap();
            std::fs::rename(&next, &current).unwrap();
            std::thread::sleep(REAL_PATH_LIFETIME + Duration::from_millis(100));
            let answer = get(&served, "/app.css").await;
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.body, b"two {}\n");
        });
    }

    #[test]
    fn ranges_head_and_conditional_requests_keep_working() {
        let root = site();
        let release = service(root.path(), true);
        let content = sha1sum(&root.path().join("static/js/app.js"))[..6].to_owned();
        runtime().block_on(async {
            let uri = format!("/js/app.{content}.js");
            let first = release
                .clone()
                .oneshot(Request::get(&uri).body(String::new()).unwrap())
                .await
                .unwrap();
            let last_modified = first.headers()["last-modified"].clone();
            assert_eq!(first.headers()["content-type"], "text/javascript");

            let conditional = Request::get(&uri)
                .header("if-modified-since", last_modified)
                .body(String::new())
                .unwrap();
            let not_modified = release.clone().oneshot(conditional).await.unwrap();
            assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
            assert_eq!(not_modified.headers()[CACHE_CONTROL], IMMUTABLE.unwrap());

            let range = Request::get(&uri)
                .header("range", "bytes=0-3")
                .body(String::new())
                .unwrap();
            let partial = release.clone().oneshot(range).await.unwrap();
            assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
            let body = partial.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"docu");

            let head = Request::head(&uri).body(String::new()).unwrap();
            let head = release.clone().oneshot(head).await.unwrap();
            assert_eq!(head.status(), StatusCode::OK);
            assert_eq!(head.headers()[CACHE_CONTROL], IMMUTABLE.unwrap());
        });
    }

    /// The body and headers of a GET of `uri`, with `if_none_match` when given.
    async fn get_with(
        service: &StaticFiles,
        method: Method,
        uri: &str,
        if_none_match: Option<&str>,
    ) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(etag) = if_none_match {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = service
            .clone()
            .oneshot(request.body(String::new()).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes().to_vec();
        (parts.status, parts.headers, body)
    }

    #[test]
    fn stylesheets_are_served_with_tagged_references_and_checked_against_those_bytes() {
        let root = tempfile::tempdir().unwrap();
        let static_dir = root.path().join("static");
        std::fs::create_dir_all(static_dir.join("css")).unwrap();
        std::fs::create_dir_all(static_dir.join("fonts")).unwrap();
        let source =
            "@font-face { src: url(../fonts/inter.woff2) }\n/* url(../fonts/inter.woff2) */\n";
        std::fs::write(static_dir.join("css/app.css"), source).unwrap();
        std::fs::write(static_dir.join("fonts/inter.woff2"), "wOF2 one").unwrap();
        let font = sha1sum(&static_dir.join("fonts/inter.woff2"))[..6].to_owned();
        let source_tag = sha1sum(&static_dir.join("css/app.css"))[..6].to_owned();
        let served = StaticFiles::new(
            &static_dir,
            SiteSettings::new("tag", REVISION, 6, true)
                .tag_in(TagIn::Name)
                .mode(TagMode::Content),
        );
        runtime().block_on(async {
            let (status, headers, body) =
                get_with(&served, Method::GET, "/css/app.css", None).await;
            assert_eq!(status, StatusCode::OK);
            let expected = format!(
                "@font-face {{ src: url(../fonts/inter.{font}.woff2) }}\n/* url(../fonts/inter.woff2) */\n"
            );
            assert_eq!(String::from_utf8(body.clone()).unwrap(), expected);
            assert_eq!(headers[CONTENT_TYPE], "text/css");
            assert_eq!(headers[CACHE_CONTROL], NO_CACHE.unwrap());
            // The content tag is the hash of the bytes served, not of the file.
            let written = root.path().join("served.css");
            std::fs::write(&written, &body).unwrap();
            let served_tag = sha1sum(&written)[..6].to_owned();
            let etag = format!("\"{}\"", sha1sum(&written));
            assert_eq!(headers[ETAG], etag.as_str());
            let (_, headers, _) =
                get_with(&served, Method::GET, &format!("/css/app.{served_tag}.css"), None).await;
            assert_eq!(headers[CACHE_CONTROL], IMMUTABLE.unwrap());
            if source_tag != served_tag {
                let uri = format!("/css/app.{source_tag}.css");
                let (_, headers, _) = get_with(&served, Method::GET, &uri, None).await;
                assert_eq!(headers[CACHE_CONTROL], NO_CACHE.unwrap());
            }
            // Conditional requests and HEAD.
            let uri = format!("/css/app.{served_tag}.css");
            let (status, headers, body) =
                get_with(&served, Method::GET, &uri, Some(&etag)).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED);
            assert_eq!(headers[CACHE_CONTROL], IMMUTABLE.unwrap());
            assert!(body.is_empty());
            let (status, headers, body) = get_with(&served, Method::HEAD, &uri, None).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[CONTENT_LENGTH], expected.len().to_string().as_str());
            assert!(body.is_empty());
            let (status, ..) = get_with(&served, Method::POST, &uri, None).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

            // A new font: a new stylesheet, whose old tag is no longer immutable.
            std::fs::write(static_dir.join("fonts/inter.woff2"), "wOF2 two, longer").unwrap();
            let new_font = sha1sum(&static_dir.join("fonts/inter.woff2"))[..6].to_owned();
            let (status, headers, body) = get_with(&served, Method::GET, &uri, Some(&etag)).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[CACHE_CONTROL], NO_CACHE.unwrap());
            assert!(String::from_utf8(body).unwrap().contains(&format!("inter.{new_font}.woff2")));
        });
    }

    #[test]
    fn composes_with_compression_and_trace_layers() {
        let root = site();
        // CompressionLayer leaves bodies under 32 bytes alone.
        let big = root.path().join("static/css/big.css");
        std::fs::write(&big, ".rule { color: blue }\n".repeat(200)).unwrap();
        let content = sha1sum(&big)[..6].to_owned();
        let layered = tower::ServiceBuilder::new()
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .layer(tower_http::compression::CompressionLayer::new())
            .service(service(root.path(), true));
        runtime().block_on(async {
            let request = Request::get(format!("/css/big.{content}.css"))
                .header("accept-encoding", "gzip")
                .body(String::new())
                .unwrap();
            let response = layered.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["content-encoding"], "gzip");
            assert_eq!(response.headers()[CACHE_CONTROL], IMMUTABLE.unwrap());
        });
    }
}
