//! A static file service whose one promise is the bytes under a tag: a response is marked
//! `immutable` (a year, public) only when its tag names exactly the bytes it carries, and
//! every validator it sends is derived from those bytes.
//!
//! A request goes through four steps:
//!
//! 1. `request_path`: the path is decoded once and made canonical by the one path rule the
//!    macros follow too (`.` and empty segments dropped; `..`, NUL, backslashes and hidden
//!    segments such as `.env` refused), so that every spelling of a path is one key for every
//!    cache.
//! 2. the file is opened once by the same rule's `find_static_file`, confined to the static
//!    dirs by the kernel (`openat2(RESOLVE_BENEATH)` on Linux) at the moment of the open; the
//!    directory index and the file-name tag form (`app.<tag>.css`) go through the same open.
//! 3. `versions`: that open file's version is checked: its bytes (a stylesheet's rewritten
//!    bytes) are read once per version and hashed, held in memory up to a size (or sent from
//!    the file, each chunk checked against its digest as it goes), and cached by canonical
//!    path within one memory bound (`memory`); compressed variants are made from them.
//! 4. `response`: the response is made from the checked version: a strong `ETag` from its
//!    SHA-1, `304` only when `If-None-Match` names these bytes, `Range`, `HEAD`, the content
//!    type, `Vary: Accept-Encoding`, and `Cache-Control` from the tag's verdict.
//!
//! The verdict (by the one tag rule the macros follow): a content tag (from the site's
//! `hash_length`, at most 6, to 40 hex digits: any length the macros can produce) that
//! begins the SHA-1 of the bytes sent is `immutable`; so is, in a release build, the revision
//! the server was built from, for the bytes the revision's manifest names at that path (the
//! manifest `cdnsettings!()` compiles in: git's blob id of each committed, unchanged file, a
//! stylesheet's rewrite's SHA-1; none for a `SOURCE_DATE_EPOCH` date, which two builds of
//! different files can share). A file half written, edited, swapped, shadowed or added since
//! the build is not what the revision names, whatever was sent before. Any other tag (an older
//! or newer deploy's, a typo) gets the current bytes with `no-cache`, and so does a request
//! with no tag. A debug build never trusts a revision: its working tree may hold uncommitted
//! edits.
//!
//! Both URL forms are accepted whatever the settings: the query form (`app.css?tag=<tag>`, or
//! `app.css?<tag>` when `param` is empty) and the file-name form (`app.<tag>.css`). A file
//! whose real name looks tagged (`app.abc123.css` on disk) is served as itself.
//!
//! The four steps are one framework-neutral core, [`StaticFiles::respond_to`]: a
//! [`StaticRequest`] (method, path below the mount, query, the [`READ_HEADERS`]) in, an
//! `http::Response` out. The servers' adapters convert types around it and decide nothing:
//! the tower `Service` (axum; poem and salvo through their tower compatibility), `actix`
//! (feature `actix`) and `rocket` (feature `rocket`).
//!
//! With axum:
//!
//! ```ignore
//! use cachekiller_core::service::StaticFiles;
//! use cachekiller_macros::cdnsettings;
//!
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let app = axum::Router::new().nest_service("/static", static_files);
//! ```

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "archive")]
#[cfg_attr(docsrs, doc(cfg(feature = "archive")))]
pub mod archive;
mod body;
mod compress;
mod compression_threads;
mod embedded;
mod error;
#[cfg(feature = "export")]
#[cfg_attr(docsrs, doc(cfg(feature = "export")))]
pub mod export;
mod memo;
mod memory;
#[cfg(feature = "archive")]
mod old_tags;
mod open_file;
mod request;
mod request_path;
mod response;
#[cfg(any(feature = "archive", feature = "export"))]
mod retention;
#[cfg(feature = "rocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "rocket")))]
pub mod rocket;
mod tower_adapter;
mod urls;
#[cfg(feature = "minijinja")]
pub(crate) use urls::url_memo;
mod versions;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, RANGE};
use http::{HeaderValue, Method, Response, StatusCode};

use body::FileSource;
pub use body::StaticBody;
pub use embedded::{EmbeddedFile, EmbeddedFiles};
pub use error::{ServeError, ServeErrorKind, ServeResult};
pub use request::{read_headers, StaticRequest, READ_HEADERS};

/// The header every response of the service carries: the revision the server was built
/// from ([`SiteSettings::revision_tag`], what `cdntag!()` gave its pages). A page compares
/// it with its own to tell it was rendered by an older deploy.
pub const REVISION_HEADER: &str = "x-cachekiller-revision";

/// The path, below where the service is mounted (`/static/` + this), that answers with the
/// server's revision as `text/plain`, `no-cache`: what a page fetches now and then to offer a
/// reload once a new deploy is out. It answers whatever the static dirs hold at that path.
pub const REVISION_ENDPOINT: &str = ".well-known/cachekiller-revision";

use crate::rules::cache_policy::{query_tag, TagVerdict};
use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::{FileStamp, FileVersion};
use crate::rules::revision_manifest::RevisionManifest;

use crate::rules::settings::SiteSettings;
use crate::rules::static_path::{
    canonical_static_path, find_static_file, open_beneath, HiddenFiles, Opened, StaticFile,
};
use crate::rules::stylesheet::{is_stylesheet, StaticLookup};
use crate::rules::tagging::Tagger;
use compress::{
    accepted_encodings, compress, is_compressible, verified_sibling, working_memory, Encoding,
};
use open_file::{open_requested, Requested};
use versions::{
    check_version, read_all, CacheLimits, CheckedVersion, StylesheetContext, VersionCache,
};

/// What a cache holds now: the service's checked versions (all it holds in memory, against
/// its one bound), or an archive's blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUsage {
    /// Bytes held: for the service, bodies (cached, or held by responses), compressed
    /// variants and compressions in flight.
    pub bytes: usize,
    /// Cached entries: paths, or blobs.
    pub entries: usize,
}

/// The static file service: a tower `Service` for `axum::Router::nest_service` and any other
/// tower-based server, composable with tower-http's layers (`TraceLayer`; `CompressionLayer`
/// is not needed, the service compresses once per version, and leaves alone what the service
/// sends as `Content-Encoding: identity`).
#[derive(Debug, Clone)]
pub struct StaticFiles {
    shared: Arc<Shared>,
    options: Options,
    /// The path the server mounted the service under, when the server hands it the whole
    /// path (see [`StaticFiles::mounted_at`]).
    mount_path: Option<Arc<str>>,
    /// The archive that answers older versions' tags, if any.
    #[cfg(feature = "archive")]
    old_versions: Option<Arc<old_tags::OldVersions>>,
}

#[derive(Debug)]
struct Shared {
    dirs: Vec<PathBuf>,
    /// The files compiled in (`cdnembed!()`), found before the static dirs.
    embedded: Option<embedded::EmbeddedTable>,
    settings: SiteSettings,
    /// What the revision names, as `cdnsettings!()` compiled it in; `None` when it names no
    /// files (a date, settings made by hand).
    revision_manifest: Option<RevisionManifest>,
    /// Paths another publication of this revision names with other bytes (see
    /// `StaticFiles::publish`): not `immutable` under the revision here either.
    disputed: Disputed,
    /// Turns of [`COMPRESSIONS_AT_ONCE`].
    compressions: tokio::sync::Semaphore,
    /// Where they run.
    compression_threads: compression_threads::CompressionThreads,
    cache: VersionCache,
    urls: urls::UrlMemo,
    /// [`REVISION_HEADER`]'s value (none for a revision that is not a header value).
    revision_header: Option<HeaderValue>,
}

#[derive(Debug, Clone, Copy)]
struct Options {
    precompressed_br: bool,
    precompressed_gzip: bool,
    hidden: HiddenFiles,
    limits: CacheLimits,
}

/// How many compressions run at once: each takes a core and, for Brotli, several times its
/// input in memory.
const COMPRESSIONS_AT_ONCE: usize = 2;

impl Shared {
    /// The `encoding` variant of `checked` (blocking): a verified sibling of the file at
    /// `relative` in the static dir `dir` where those are used, else the checked bytes
    /// compressed; `Ok(None)` if compression does not make them smaller, `Err` if the memory
    /// budget has no room for it now (not remembered: the next request tries again).
    fn make_variant(
        &self,
        dir: Option<usize>,
        relative: &str,
        checked: &CheckedVersion,
        encoding: Encoding,
        options: Options,
    ) -> std::result::Result<Option<Bytes>, ()> {
        let Some(bytes) = checked.bytes.as_ref() else {
            return Ok(None);
        };
        let use_sibling = match encoding {
            Encoding::Brotli => options.precompressed_br,
            Encoding::Gzip => options.precompressed_gzip,
        };
        if let (true, Some(dir)) = (use_sibling, dir) {
            let sibling = format!("{relative}{}", encoding.sibling_extension());
            if let Opened::File(file, version) = open_beneath(&self.dirs[dir], &sibling) {
                let length = usize::try_from(version.size()).unwrap_or(usize::MAX);
                let charge = (version.size() <= options.limits.file_bytes)
                    .then(|| self.cache.charge(length, options.limits))
                    .flatten()
                    .ok_or(())?;
                let verified = read_all(&file, version.size())
                    .ok()
                    .and_then(|sibling| verified_sibling(sibling, encoding, bytes));
                if let Some(verified) = verified {
                    return Ok(Some(memory::charged_bytes(verified, charge)));
                }
                tracing::warn!(
                    sibling,
                    "ignored: it does not decode to the bytes of the file beside it"
                );
            }
        }
        let working = self
            .cache
            .charge(working_memory(bytes.len(), encoding), options.limits)
            .ok_or(())?;
        let Some(compressed) = compress(bytes, encoding) else {
            return Ok(None);
        };
        drop(working);
        let charge = self
            .cache
            .charge(compressed.len(), options.limits)
            .ok_or(())?;
        Ok(Some(memory::charged_bytes(compressed, charge)))
    }

    /// The cache policy for a request for the canonical static path `relative` tagged `tag`,
    /// answered with `checked`: the revision tag is current only in a release build, for the
    /// bytes the revision's manifest names at that path; a content tag, for the bytes whose
    /// SHA-1 it begins.
    fn verdict(
        &self,
        relative: &str,
        tag: Option<&str>,
        checked: &CheckedVersion,
        provable: bool,
    ) -> TagVerdict {
        let Some(tag) = tag else {
            return TagVerdict::Untagged;
        };
        if !provable {
            return TagVerdict::Other;
        }
        let settings = &self.settings;
        if tag == settings.revision_tag
            && settings.release_build
            && self.names(relative, checked)
            && !self.disputed.contains(relative)
        {
            return TagVerdict::Current;
        }
        if self.tagger().names_bytes(tag, &checked.sha1) {
            return TagVerdict::Current;
        }
        TagVerdict::Other
    }

    /// True if the revision names `checked` at the canonical static path `relative`: the
    /// manifest compiled into the server records those bytes there.
    fn names(&self, relative: &str, checked: &CheckedVersion) -> bool {
        self.revision_manifest
            .as_ref()
            .and_then(|manifest| manifest.named(relative))
            .is_some_and(|named| checked.is(named))
    }

    /// How the site tags its files: by its settings, for the files its revision names.
    fn tagger(&self) -> Tagger<'_> {
        let tagger = Tagger::of_site(&self.settings);
        match &self.revision_manifest {
            Some(manifest) => tagger.with_revision_names(manifest),
            None => tagger,
        }
    }
}

/// A static dir as given, checked: a directory, named absolutely in errors.
fn usable_dir(dir: &Path) -> Result<PathBuf> {
    let working_directory = std::env::current_dir().ok();
    let absolute = match (&working_directory, dir.is_absolute()) {
        (Some(working_directory), false) => working_directory.join(dir),
        _ => dir.to_owned(),
    };
    let reason = match std::fs::metadata(&absolute) {
        Ok(metadata) if metadata.is_dir() => return Ok(dir.to_owned()),
        Ok(_) => "is not a directory".to_owned(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => "does not exist".to_owned(),
        Err(error) => format!("cannot be read: {error}"),
    };
    Err(Error::StaticDirUnusable {
        path: absolute,
        working_directory: working_directory.filter(|_| dir.is_relative()),
        reason,
    })
}

impl StaticFiles {
    /// Serves the files below `dir` (the site's one static dir) for a site built with
    /// `settings`.
    ///
    /// # Errors
    /// [`ServeErrorKind::StaticDir`] if `dir` is missing or not a directory (the message names
    /// the absolute path looked at and the working directory), and
    /// [`ServeErrorKind::Settings`] if `settings` names more than one static dir (use
    /// [`StaticFiles::in_root`] then) or carries a manifest `cdnsettings!()` did not make.
    pub fn new(dir: impl Into<PathBuf>, settings: SiteSettings) -> ServeResult<Self> {
        if settings.static_dir_names().nth(1).is_some() {
            return Err(Error::SeveralStaticDirs {
                static_dirs: settings.static_dir_names().map(str::to_owned).collect(),
            }
            .into());
        }
        let dir = usable_dir(&dir.into())?;
        Ok(Self::serving(vec![dir], settings, None)?)
    }

    /// Serves the static dirs of `settings` (as the manifest names them) below `root`, in
    /// order: a file in an earlier dir shadows one in a later dir, as for the macros. In
    /// development `root` is `env!("CARGO_MANIFEST_DIR")`; in a deployment, the directory the
    /// static dirs were copied to.
    ///
    /// # Errors
    /// [`ServeErrorKind::StaticDir`] for the first static dir that is missing or not a
    /// directory, [`ServeErrorKind::Settings`] for a manifest `cdnsettings!()` did not make.
    pub fn in_root(root: impl AsRef<Path>, settings: SiteSettings) -> ServeResult<Self> {
        let dirs = settings
            .static_dir_names()
            .map(|dir| usable_dir(&root.as_ref().join(dir)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::serving(dirs, settings, None)?)
    }

    /// Serves the files `cdnembed!()` compiled into the binary, with no static dir on disk:
    /// the same service, verdicts, validators, compression and archive as for files on disk,
    /// from memory. A build that does not carry them (a debug build, unless `embed =
    /// "always"`) serves the static dirs below [`EmbeddedFiles::disk_root`] instead, as
    /// [`StaticFiles::in_root`] does; so do files too large to embed (`embed_max_bytes`).
    ///
    /// ```ignore
    /// use cachekiller_core::service::StaticFiles;
    /// use cachekiller_macros::{cdnembed, cdnsettings};
    ///
    /// let static_files = StaticFiles::embedded(cdnembed!(), cdnsettings!())?;
    /// ```
    ///
    /// # Errors
    /// [`ServeErrorKind::StaticDir`] for a build that does not carry the files and a static
    /// dir that is missing; [`ServeErrorKind::Settings`] as for [`StaticFiles::in_root`].
    // By value, as the settings: the call reads `embedded(cdnembed!(), cdnsettings!())`.
    #[allow(clippy::needless_pass_by_value)]
    pub fn embedded(files: EmbeddedFiles, settings: SiteSettings) -> ServeResult<Self> {
        let root = files.disk_root().to_owned();
        if !files.carried() {
            return Self::in_root(root, settings);
        }
        // The dirs of the files left on disk: a deployment of the binary alone has none, and
        // then those files are 404 (start-up says so).
        let dirs: Vec<PathBuf> = settings
            .static_dir_names()
            .map(|dir| root.join(dir))
            .collect();
        for path in files.left_on_disk() {
            if !dirs.iter().any(|dir| dir.join(path).is_file()) {
                tracing::warn!(
                    path,
                    root = %root.display(),
                    "a static file too large to embed is not on disk either: it is answered 404"
                );
            }
        }
        Ok(Self::serving(
            dirs,
            settings,
            Some(embedded::EmbeddedTable::new(files.files())),
        )?)
    }

    fn serving(
        dirs: Vec<PathBuf>,
        settings: SiteSettings,
        embedded: Option<embedded::EmbeddedTable>,
    ) -> Result<Self> {
        let encoded = settings.revision_manifest_bytes();
        let revision_manifest = if encoded.is_empty() {
            None
        } else {
            Some(RevisionManifest::decode(encoded).map_err(|invalid| {
                Error::InvalidRevisionManifest {
                    reason: invalid.0.to_owned(),
                }
            })?)
        };
        Ok(StaticFiles {
            shared: Arc::new(Shared {
                dirs,
                embedded,
                cache: VersionCache::default(),
                urls: urls::UrlMemo::default(),
                revision_header: HeaderValue::from_str(settings.revision_tag()).ok(),
                revision_manifest,
                disputed: Disputed::default(),
                compressions: tokio::sync::Semaphore::new(COMPRESSIONS_AT_ONCE),
                compression_threads: compression_threads::CompressionThreads::new(
                    COMPRESSIONS_AT_ONCE,
                ),
                settings,
            }),
            options: Options {
                precompressed_br: false,
                precompressed_gzip: false,
                hidden: HiddenFiles::Refused,
                limits: CacheLimits::default(),
            },
            mount_path: None,
            #[cfg(feature = "archive")]
            old_versions: None,
        })
    }

    /// For a server that hands the service the request's whole path rather than the path
    /// below the mount (salvo's tower compatibility, a bare hyper server): requests are
    /// answered only below `mount_path` (`"/static"`), and the rest of their path is the
    /// static path. axum's `nest_service`, poem's `nest` and the actix-web and Rocket adapters
    /// give the path below the mount already and need none.
    #[must_use]
    pub fn mounted_at(mut self, mount_path: &str) -> Self {
        let mount_path = mount_path.trim_end_matches('/');
        self.mount_path = (!mount_path.is_empty()).then(|| Arc::from(mount_path));
        self
    }

    /// Uses `<file>.br` for clients that accept Brotli, where it exists and decodes to exactly
    /// the file's bytes (checked once per version; a stale one is ignored and logged).
    #[must_use]
    pub fn precompressed_br(mut self) -> Self {
        self.options.precompressed_br = true;
        self
    }

    /// Uses `<file>.gz` for clients that accept gzip, under the same check as
    /// [`StaticFiles::precompressed_br`].
    #[must_use]
    pub fn precompressed_gzip(mut self) -> Self {
        self.options.precompressed_gzip = true;
        self
    }

    /// Serves hidden files and directories (a segment starting with `.`), which are 404 by
    /// default: `.env`, `.git/` and editors' files end up in static dirs by accident.
    /// `.well-known` is always served.
    #[must_use]
    pub fn serve_hidden_files(mut self) -> Self {
        self.options.hidden = HiddenFiles::Allowed;
        self
    }

    /// Bounds the memory of checked versions: `bytes` in all (bodies, compressed variants,
    /// bookkeeping; 64 MiB by default) and `entries` paths (10,000 by default), the least
    /// recently used dropped first.
    #[must_use]
    pub fn cache_limits(mut self, bytes: usize, entries: usize) -> Self {
        self.options.limits.bytes = bytes;
        self.shared.cache.budget.set_limit(bytes);
        self.options.limits.entries = entries.max(1);
        self
    }

    /// Files larger than `bytes` (4 MiB by default) are not held in memory nor compressed:
    /// their digest is cached, and their bytes are sent from the file opened for the request,
    /// each chunk verified to be of the same version before it goes out. A stylesheet larger
    /// than this is sent as it is (not rewritten), never `immutable`.
    #[must_use]
    pub fn in_memory_file_limit(mut self, bytes: u64) -> Self {
        self.options.limits.file_bytes = bytes;
        self
    }

    /// What the cache of checked versions holds now.
    #[must_use]
    pub fn cache_usage(&self) -> CacheUsage {
        let (bytes, entries) = self.shared.cache.usage();
        CacheUsage { bytes, entries }
    }

    /// The response to `request`: the whole decision (path, file, version, verdict, headers
    /// and body), for any server. The tower `Service`, the actix-web and the Rocket adapters
    /// call this and only convert types around it.
    pub async fn respond_to(&self, request: &StaticRequest<'_>) -> Response<StaticBody> {
        let mut response = self.respond(request).await;
        if let Some(revision) = &self.shared.revision_header {
            response.headers_mut().insert(
                http::HeaderName::from_static(REVISION_HEADER),
                revision.clone(),
            );
        }
        response
    }

    async fn respond(&self, request: &StaticRequest<'_>) -> Response<StaticBody> {
        let method = request.method;
        if method != Method::GET && method != Method::HEAD {
            return response::method_not_allowed();
        }
        let tag = query_tag(
            request.query.unwrap_or_default(),
            &self.shared.settings.param,
        );
        let path = match &self.mount_path {
            None => request.path,
            Some(mount_path) => match request.path.strip_prefix(&**mount_path) {
                Some(below) if below.is_empty() || below.starts_with('/') => below,
                _ => return response::status(StatusCode::NOT_FOUND),
            },
        };
        let embedded = self
            .shared
            .embedded
            .as_ref()
            .and_then(|table| table.requested(path, self.options.hidden));
        let requested = match embedded {
            // A file-name tag form read off an embedded file's name: a file on disk with the
            // name as sent (one too large to embed, or excluded) is itself.
            Some(Requested::Embedded {
                name_tag: Some(_), ..
            }) => match open_requested(&self.shared.dirs, path, self.options.hidden) {
                // Something on disk under the name as sent decides, as without embedding: a
                // file, a directory (redirected), or what the path rule refuses there.
                on_disk @ (Requested::File { name_tag: None, .. }
                | Requested::Directory(_)
                | Requested::Refused) => on_disk,
                _ => embedded.unwrap_or(Requested::Refused),
            },
            Some(found) => found,
            None => open_requested(&self.shared.dirs, path, self.options.hidden),
        };
        match requested {
            Requested::Embedded {
                index,
                relative,
                name_tag,
            } => {
                let tag = name_tag.as_deref().or(tag);
                let Some(table) = &self.shared.embedded else {
                    return response::status(StatusCode::NOT_FOUND);
                };
                let checked = table.checked(index);
                let provable = checked.taggable;
                self.answer(request, None, &relative, &checked, provable, tag, None)
                    .await
            }
            Requested::File {
                dir,
                relative,
                file,
                version,
                name_tag,
            } => {
                let tag = name_tag.as_deref().or(tag);
                self.serve(request, dir, relative, file, version, tag).await
            }
            Requested::Directory(last) => response::to_directory(&last, request.query),
            Requested::RevisionEndpoint => {
                response::revision(self.shared.settings.revision_tag(), method)
            }
            Requested::Missing(readings) => {
                // A file this deploy does not have (an older deploy's, since removed or
                // renamed): its old tags are answered from the archive.
                #[cfg(feature = "archive")]
                for (relative, name_tag) in &readings {
                    let Some(tag) = name_tag.as_deref().or(tag) else {
                        continue;
                    };
                    if let Some(answer) = self.serve_archived(request, relative, tag, None).await {
                        return answer;
                    }
                }
                #[cfg(not(feature = "archive"))]
                let _ = readings;
                response::status(StatusCode::NOT_FOUND)
            }
            Requested::Refused => response::status(StatusCode::NOT_FOUND),
        }
    }

    /// The response with the checked version of `file` (opened for this request at the
    /// canonical path `relative` of the static dir `dir`), asked for with `tag`.
    async fn serve(
        &self,
        request: &StaticRequest<'_>,
        dir: usize,
        relative: String,
        file: std::fs::File,
        version: FileVersion,
        tag: Option<&str>,
    ) -> Response<StaticBody> {
        let file = Arc::new(file);
        let (checked, slot) = match self.checked(dir, &relative, &file, version).await {
            Ok(checked) => checked,
            Err(error) => {
                tracing::error!(path = relative, %error, "a static file could not be read");
                return response::status(StatusCode::INTERNAL_SERVER_ERROR);
            }
        };
        // A file too large to hold is sent from the open file, verified by its version when
        // the last byte is read; a write within the timestamp granule of the last one could
        // keep the version, so such a file is never `immutable` until it has settled.
        let provable = checked.taggable
            && (checked.bytes.is_some() || version.settled_before(SystemTime::now()));
        let source = checked.bytes.is_none().then(|| FileSource {
            file,
            checked: Arc::clone(&checked),
            slot: Arc::downgrade(&slot),
            budget: Arc::clone(&self.shared.cache.budget),
        });
        self.answer(
            request,
            Some(dir),
            &relative,
            &checked,
            provable,
            tag,
            source,
        )
        .await
    }

    /// The response with `checked`, the version of the file at the canonical path `relative`
    /// (in the static dir `dir`, or embedded), asked for with `tag`; `source` sends a version
    /// too large to hold from its open file.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        request: &StaticRequest<'_>,
        dir: Option<usize>,
        relative: &str,
        checked: &Arc<CheckedVersion>,
        provable: bool,
        tag: Option<&str>,
        source: Option<FileSource>,
    ) -> Response<StaticBody> {
        let verdict = self.shared.verdict(relative, tag, checked, provable);
        #[cfg(feature = "archive")]
        if tag == Some(self.shared.settings.revision_tag()) {
            self.recheck_own_revision();
        }
        #[cfg(feature = "archive")]
        if let (TagVerdict::Other, Some(tag)) = (verdict, tag) {
            if let Some(answer) = self
                .serve_archived(request, relative, tag, Some(&checked.sha1))
                .await
            {
                return answer;
            }
        }
        let content_type = content_type_of(relative);
        let varies = checked.bytes.is_some() && content_type.to_str().is_ok_and(is_compressible);
        let variant = if varies && !request.headers.contains_key(RANGE) {
            self.variant(
                dir,
                relative,
                checked,
                request.headers.get_all(ACCEPT_ENCODING),
            )
            .await
        } else {
            None
        };
        response::Answer {
            method: request.method,
            request_headers: request.headers,
            checked,
            verdict,
            content_type,
            varies,
            variant,
            source,
        }
        .into_response()
    }

    /// The checked version for `version` of the file at `relative`: cached, or read once
    /// (off the async workers) while other requests for the path wait for it.
    async fn checked(
        &self,
        dir: usize,
        relative: &str,
        file: &Arc<std::fs::File>,
        version: FileVersion,
    ) -> std::io::Result<(Arc<CheckedVersion>, Arc<versions::Slot>)> {
        let lookup = self.lookup();
        let slot = self.slot(dir, relative, version);
        if let Some(checked) = slot.current(version, &lookup) {
            return Ok((checked, slot));
        }
        let _filling = slot.fill.lock().await;
        if let Some(checked) = slot.current(version, &lookup) {
            return Ok((checked, Arc::clone(&slot)));
        }
        let service = self.clone();
        let filled = Arc::clone(&slot);
        let file = Arc::clone(file);
        let relative = relative.to_owned();
        let checked = tokio::task::spawn_blocking(move || {
            service.check_and_keep(&filled, dir, &relative, &file, version)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok((checked, Arc::clone(&slot)))
    }

    /// [`StaticFiles::checked`] for a caller that may block (the run-time URL API, called
    /// while a template renders): a miss is read on the caller's thread.
    fn checked_blocking(
        &self,
        dir: usize,
        relative: &str,
        file: &std::fs::File,
        version: FileVersion,
    ) -> std::io::Result<Arc<CheckedVersion>> {
        let slot = self.slot(dir, relative, version);
        match slot.current(version, &self.lookup()) {
            Some(checked) => Ok(checked),
            None => self.check_and_keep(&slot, dir, relative, file, version),
        }
    }

    /// The cache slot of the file at `relative`: a stylesheet is rewritten against its path,
    /// so each path is its own entry; any other file is one entry per file (device and
    /// inode), however many links spell its path.
    fn slot(&self, dir: usize, relative: &str, version: FileVersion) -> Arc<versions::Slot> {
        let key = if is_stylesheet(relative) {
            (dir, relative.to_owned())
        } else {
            (dir, version.identity_key())
        };
        self.shared.cache.slot(&key, self.options.limits)
    }

    /// Reads and checks `version` of `file` (blocking), and keeps it in `slot` unless the file
    /// changed while it was read.
    fn check_and_keep(
        &self,
        slot: &versions::Slot,
        dir: usize,
        relative: &str,
        file: &std::fs::File,
        version: FileVersion,
    ) -> std::io::Result<Arc<CheckedVersion>> {
        let lookup = self.lookup();
        let stylesheet = is_stylesheet(relative).then(|| StylesheetContext {
            lookup: &lookup,
            tagger: self.shared.tagger(),
            path: self.shared.dirs[dir].join(relative),
        });
        // The revision names committed files by their git blob ids: hashed the same way as
        // the bytes are read (a stylesheet's are its rewrite's SHA-1).
        let git_blob_format = self
            .shared
            .revision_manifest
            .as_ref()
            .and_then(RevisionManifest::object_format);
        let (mut checked, unchanged) = check_version(
            file,
            version,
            relative,
            self.options.limits,
            &self.shared.cache,
            stylesheet,
            git_blob_format,
        )?;
        if let Some(last) = slot.last().filter(|last| last.sha1 == checked.sha1) {
            checked.variants = Arc::clone(&last.variants);
        }
        let checked = Arc::new(checked);
        if unchanged {
            slot.store(Arc::clone(&checked));
            self.shared.cache.enforce(self.options.limits);
        }
        Ok(checked)
    }

    /// The compressed variant of `checked` for a client sending `accept_encoding`, made once
    /// per version (from a verified sibling in the static dir `dir`, or by compressing the
    /// checked bytes; an archived version, with no dir, only by compressing them). At most
    /// [`COMPRESSIONS_AT_ONCE`] compressions run at once (the others wait for their turn), each
    /// with its working memory charged to the memory budget; a variant the budget has no room
    /// for is not made this time, and the identity bytes go out.
    async fn variant(
        &self,
        dir: Option<usize>,
        relative: &str,
        checked: &Arc<CheckedVersion>,
        accept_encoding: http::header::GetAll<'_, HeaderValue>,
    ) -> Option<(Encoding, Bytes)> {
        for encoding in accepted_encodings(accept_encoding) {
            let cell = match encoding {
                Encoding::Brotli => &checked.variants.brotli,
                Encoding::Gzip => &checked.variants.gzip,
            };
            let made = cell
                .get_or_try_init(|| async {
                    let _turn = self.shared.compressions.acquire().await.map_err(|_| ())?;
                    let shared = Arc::clone(&self.shared);
                    let options = self.options;
                    let checked = Arc::clone(checked);
                    let relative = relative.to_owned();
                    let made = self
                        .shared
                        .compression_threads
                        .run(move || {
                            shared.make_variant(dir, &relative, &checked, encoding, options)
                        })
                        .await
                        .ok_or(())?;
                    self.shared.cache.enforce(self.options.limits);
                    made
                })
                .await;
            if let Ok(Some(bytes)) = made {
                return Some((encoding, bytes.clone()));
            }
        }
        None
    }

    fn lookup(&self) -> StaticDirsLookup<'_> {
        StaticDirsLookup {
            dirs: &self.shared.dirs,
        }
    }
}

/// Static paths whose revision bytes are in dispute, checked on every request under the
/// revision: a flag first, so that the common case (none) takes no lock.
#[derive(Debug, Default)]
struct Disputed {
    any: std::sync::atomic::AtomicBool,
    paths: std::sync::RwLock<std::collections::HashSet<String>>,
}

impl Disputed {
    fn contains(&self, relative: &str) -> bool {
        self.any.load(std::sync::atomic::Ordering::Acquire)
            && self
                .paths
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(relative)
    }

    /// Replaces the disputed paths with `paths`.
    #[cfg_attr(not(feature = "archive"), allow(dead_code))]
    fn set(&self, paths: impl IntoIterator<Item = String>) {
        let mut disputed = self
            .paths
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *disputed = paths.into_iter().collect();
        self.any
            .store(!disputed.is_empty(), std::sync::atomic::Ordering::Release);
    }
}

/// The content type of the static path `relative`, by its extension.
fn content_type_of(relative: &str) -> HeaderValue {
    HeaderValue::from_str(&crate::rules::compression::content_type_of_path(relative))
        .unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// The files a stylesheet references are found as requests find them: canonical, confined,
/// in the same static dirs in the same order. Hidden files are found too, as the macros find
/// them, so that both ends rewrite a stylesheet to the same bytes (the request for such a
/// file is still refused unless hidden files are served).
struct StaticDirsLookup<'a> {
    dirs: &'a [PathBuf],
}

impl StaticLookup for StaticDirsLookup<'_> {
    fn static_file(&self, relative: &str) -> Result<(PathBuf, FileStamp)> {
        let canonical = canonical_static_path(relative, HiddenFiles::Allowed)
            .ok()
            .filter(|path| !path.directory);
        if let Some(canonical) = canonical {
            if let StaticFile::File { dir, version, .. } =
                find_static_file(self.dirs, &canonical.relative)
            {
                return Ok((self.dirs[dir].join(&canonical.relative), Some(version)));
            }
        }
        Err(Error::StaticFileNotFound {
            path: relative.to_owned(),
            searched: self
                .dirs
                .iter()
                .map(|dir| dir.display().to_string())
                .collect(),
            suggestion: None,
            hashed: false,
        })
    }
}

#[cfg(all(test, feature = "resolve"))]
mod tests;
