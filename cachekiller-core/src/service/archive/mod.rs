//! An archive of the versions the service served, shared by the instances of a site, so that
//! during a rolling deploy an old page's content-tagged URL gets that old version's exact
//! bytes (and may be `immutable`) instead of the current bytes with `no-cache`.
//!
//! Each instance, before it serves, [publishes](Archive::publish) its revision: every file
//! version it serves as current (a stylesheet's rewritten bytes), stored by its full SHA-1,
//! recorded as a version of its static path, and the revision's manifest. Any instance can
//! then [find](Archive::find_version) a version of a path by the tag prefix an old page
//! asked for, or [by revision](Archive::revision_version). Every byte read from the store is
//! hashed again before it is returned: a corrupted or tampered store gives an error, never
//! wrong bytes. A store that does not answer gives an error within the lookup timeout (two
//! seconds by default), for the caller to log and fall back on the current bytes.
//!
//! One line picks the store:
//!
//! ```no_run
//! # async fn example() -> Result<(), cachekiller_core::service::archive::ArchiveError> {
//! use cachekiller_core::service::archive::Archive;
//! // One host, or a volume every instance mounts:
//! let archive = Archive::local("/var/lib/site/archive")?;
//! // An S3-compatible store (feature `aws`); credentials and region from the usual `AWS_*`
//! // variables, or given as options:
//! # #[cfg(feature = "aws")]
//! let archive = Archive::from_url("s3://my-bucket/site/archive", [("region", "eu-west-1")])?;
//! // Or from `$CACHEKILLER_ARCHIVE_URL` (and `AWS_*`):
//! let archive = Archive::from_env()?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! ```text
//! blobs/<sha1 hex>                                  the bytes of one version
//! paths/<encoded static path>/@/<sha1 hex>          empty: <sha1> was a version of that path
//! revisions/<encoded revision>/<published ms>.json  a revision's manifest (path -> sha1)
//! trash/<sha1 hex>                                  a blob the garbage collector is deleting
//! ```
//!
//! Every write is create-only (`PutMode::Create`: a hard link on a local directory,
//! `If-None-Match: *` on S3), so nothing is ever overwritten: a blob that already exists is
//! the same content (its key is its SHA-1; a put that finds it checks its bytes), and two
//! instances publishing at once both succeed. A lookup by tag lists the versions recorded for
//! *that* path only, so a blob is never served under a path it was not a version of.
//!
//! # Retention and garbage collection
//!
//! [`Archive::collect_garbage`] keeps the versions named by the revisions a
//! [`RetentionPolicy`] retains: the last `revisions` published (5 by default) *and* every
//! revision published within `max_age` (7 days), whichever keeps more. A revision is
//! *protected* while it is retained and for `grace` (1 hour) after it stopped being retained
//! (when the `revisions`-th later revision was published, or when it became older than
//! `max_age`, whichever came last): that is how long its versions have been unreferenced.
//! The collector then deletes:
//!
//! - a manifest of a revision that is not protected;
//! - a blob no protected manifest names, uploaded more than `grace` ago;
//! - a path record (`paths/…/@/<sha1>`) that no protected manifest names for that path,
//!   written more than `grace` ago.
//!
//! So a blob a retained manifest names is never deleted, and neither is one uploaded within
//! `grace`: a publisher uploads its blobs before its manifest, and its manifest protects them
//! as long as a publish takes less than `grace`. The one race left is a publisher that finds
//! an old unreferenced blob present (a rollback, a file reverted to old bytes) just before the
//! collector deletes it: the collector moves a blob to `trash/` before deleting it, waits the
//! [publish window](Archive::publish_window) (2 minutes, longer than any publish between its
//! listing of the store and its manifest: a slower publish lists again), lists the manifests
//! again and puts back from `trash/` every blob (and path record) a protected manifest names,
//! then empties `trash/`. A collector that dies midway leaves `trash/`, which the next run
//! restores from or empties the same way.
//!
//! Run it as a job, not at every instance's start-up: one run at a time, after deploys or
//! daily (a cron job, a Kubernetes `CronJob`, a CI step after the deploy), in a binary that
//! builds the same [`Archive`] and calls
//! `archive.collect_garbage(&RetentionPolicy::default(), SystemTime::now())`. It lists the
//! whole archive (a few list requests) and reads only the blobs it deletes.
//!
//! What it costs: a site of 2 MB of assets in 100 files, 10% of them (0.2 MB) changed per
//! deploy, keeps with `revisions = 5` the current 2 MB and the changed files of the 4
//! revisions before it, 4 × 0.2 = 0.8 MB: 2.8 MB of blobs, plus a manifest of about 8 KB per
//! revision and one empty object per (path, version). With 3 deploys a day, `max_age = 7
//! days` keeps 21 revisions instead: 2 + 20 × 0.2 = 6 MB. Publishing an unchanged revision
//! costs 3 list requests and no upload; a deploy changing 10 files uploads 10 blobs, 10 path
//! records and a manifest.

mod cache;
mod error;
mod gc;
mod layout;
mod manifest;
mod signing;
#[cfg(all(test, feature = "resolve"))]
pub(crate) mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt as _, PutMode, PutPayload};
use sha1::Digest as _;

use crate::rules::hash::to_hex;
pub use cache::CacheSettings;
use cache::{BlobCache, Bounded, Fetched, Versions};
pub use error::{ArchiveError, ArchiveResult};
pub use gc::{GarbageReport, RetentionPolicy};
use layout::{
    blob_key, decode_static_path, encode_revision, encode_static_path, manifest_key,
    manifest_of_key, marker_key, marker_of_key, revision_prefix, root, sha1_of_blob_key,
    versions_prefix, Marker, BLOBS, PATHS, REVISIONS,
};
use manifest::Manifest;
pub use signing::{SigningKey, KEY_VARIABLE};

/// Uploads and reads a publish or a collection runs at once.
const CONCURRENT_REQUESTS: usize = 8;

/// A version of a file as the service serves it now: its canonical static path
/// (`css/app.css`), the exact bytes sent (a stylesheet's rewritten bytes), and whether the
/// revision names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedFile {
    /// The canonical path below the static dirs, as the service's URLs name it.
    pub path: String,
    /// The bytes sent for it.
    pub bytes: Bytes,
    /// True if the revision being published names these bytes (the manifest compiled into
    /// the server says so): they go into its manifest. Other files (generated, edited, added
    /// since the build) are stored for their content tags only.
    pub in_revision: bool,
}

impl ServedFile {
    /// The file at `path` served with `bytes`, which the revision names.
    pub fn new(path: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        ServedFile {
            path: path.into(),
            bytes: bytes.into(),
            in_revision: true,
        }
    }

    /// The file at `path` served with `bytes`, which the revision does not name: archived for
    /// its content tags only.
    pub fn outside_revision(path: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        ServedFile {
            in_revision: false,
            ..ServedFile::new(path, bytes)
        }
    }
}

/// What the archive holds for a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchivedVersion {
    /// One version: its bytes, verified to hash to `sha1`.
    Found {
        /// The version's bytes.
        bytes: Bytes,
        /// Their SHA-1.
        sha1: [u8; 20],
    },
    /// More than one archived version of the path begins with the tag: none can be trusted.
    Ambiguous,
    /// No archived version matches.
    Unknown,
}

/// A static path that two publications of one revision name with other bytes: a revision
/// must name one version of its files, so the archive answers neither for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionConflict {
    /// The static path.
    pub path: String,
    /// The key of the other publication's manifest.
    pub other: String,
    /// The SHA-1 it records.
    pub other_sha1: String,
    /// The SHA-1 this publication records.
    pub sha1: String,
}

/// What a publish did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Files published (distinct static paths).
    pub files: usize,
    /// Of them, those the revision's manifest names.
    pub in_revision: usize,
    /// Blobs uploaded (not yet archived).
    pub blobs_uploaded: usize,
    /// Their bytes.
    pub bytes_uploaded: u64,
    /// Path records written.
    pub records_written: usize,
    /// Whether a manifest was written (not when the revision was published with the same
    /// files within [`Archive::republish_after`]).
    pub manifest_written: bool,
    /// Every put request sent (blobs, records and manifest, including those that found the
    /// object already there).
    pub puts: usize,
    /// List requests sent (one per listing of up to 1,000 keys on S3; counted as one).
    pub listings: usize,
    /// Where another publication of the revision names other bytes (logged as errors): no
    /// instance answers the revision's tag from the archive for these paths, and this one does
    /// not send its own bytes `immutable` under it.
    pub conflicts: Vec<RevisionConflict>,
    /// Manifests of the revision that could not be read (damaged, or not signed with the
    /// site's key), deleted: this publication's manifest stands for them.
    pub manifests_repaired: usize,
}

/// The archive: a store (local directory, S3, or any [`ObjectStore`]) and a bounded memory of
/// lookups. Cheap to clone; clones share the memory.
#[derive(Debug, Clone)]
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    settings: Settings,
    memory: Arc<Memory>,
    /// The site's key: records are signed with it, and only records signed with it are read.
    key: Option<SigningKey>,
}

/// A revision's manifests as read: those that are valid, and the keys of those that are not.
struct ManifestsRead {
    valid: Vec<(Path, Manifest)>,
    damaged: Vec<(Path, ArchiveError)>,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    lookup_timeout: Duration,
    request_timeout: Duration,
    publish_window: Duration,
    republish_after: Duration,
    cache: CacheSettings,
}

/// A revision's files as its manifests record them; `None` where two manifests disagree.
type RevisionFiles = HashMap<String, Option<String>>;

#[derive(Debug, Default)]
struct Memory {
    versions: Bounded<String, Fetched<Versions>>,
    revisions: Bounded<String, Fetched<Option<Arc<RevisionFiles>>>>,
    /// The revisions the archive holds (encoded), as one listing found them: a lookup of a
    /// revision it does not name costs no request while the listing is fresh, so a flood of
    /// made-up revision tags costs one listing per negative lifetime, not one each.
    revision_index: std::sync::Mutex<Option<Fetched<Arc<HashSet<String>>>>>,
    /// Held while the index is listed: concurrent lookups wait for the one listing.
    revision_index_fill: tokio::sync::Mutex<()>,
    blobs: BlobCache,
}

fn configuration(url: &str, reason: impl Into<String>) -> ArchiveError {
    ArchiveError::Configuration {
        url: url.to_owned(),
        reason: reason.into(),
    }
}

impl Archive {
    /// An archive in `store`, for any [`ObjectStore`] (wrap it in
    /// [`object_store::prefix::PrefixStore`] to keep it below a prefix).
    #[must_use]
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Archive {
            store,
            settings: Settings {
                lookup_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(30),
                publish_window: Duration::from_secs(120),
                republish_after: Duration::from_secs(3600),
                cache: CacheSettings::default(),
            },
            memory: Arc::default(),
            key: None,
        }
    }

    /// An archive in the directory `dir` (made if missing): for one host, or a volume that
    /// every instance mounts (NFS, EFS: hard links and atomic renames are all it needs).
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] if the directory cannot be made or opened.
    pub fn local(dir: impl AsRef<std::path::Path>) -> ArchiveResult<Self> {
        let dir = dir.as_ref();
        let url = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|error| configuration(&url, error.to_string()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|error| configuration(&url, error.to_string()))?;
        Ok(Archive::new(Arc::new(store)))
    }

    /// An archive at `url`: `file:///dir`, `memory://` (this process only: for tests), or
    /// with feature `aws` `s3://bucket/prefix`, configured by `options` (`region`, `endpoint`,
    /// `access_key_id`, `allow_http`, … as `object_store`'s `AmazonS3ConfigKey` names them)
    /// over the standard `AWS_*` environment variables.
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] for another scheme, an unknown option, or a store that
    /// cannot be built.
    pub fn from_url<K, V>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> ArchiveResult<Self>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        if let Some(dir) = url.strip_prefix("file://") {
            if options.into_iter().next().is_some() {
                return Err(configuration(url, "a local directory takes no options"));
            }
            return Archive::local(dir);
        }
        if url.strip_prefix("memory://").is_some() {
            return Ok(Archive::new(
                Arc::new(object_store::memory::InMemory::new()),
            ));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return Archive::s3(url, rest, options);
        }
        Err(configuration(
            url,
            "the archive takes file:///dir, s3://bucket/prefix (feature `aws`) or memory://",
        ))
    }

    /// An archive at `$CACHEKILLER_ARCHIVE_URL` (see [`Archive::from_url`]), an S3 one
    /// configured by the `AWS_*` environment variables.
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] if the variable is unset or its URL cannot be used.
    pub fn from_env() -> ArchiveResult<Self> {
        let url = std::env::var("CACHEKILLER_ARCHIVE_URL").map_err(|_| {
            configuration(
                "$CACHEKILLER_ARCHIVE_URL",
                "unset: set it to file:///dir or s3://bucket/prefix",
            )
        })?;
        Archive::from_url(&url, std::iter::empty::<(&str, String)>())
    }

    #[cfg(feature = "aws")]
    fn s3<K, V>(
        url: &str,
        rest: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> ArchiveResult<Self>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(configuration(url, "it names no bucket"));
        }
        let defaults = Archive::new(Arc::new(object_store::memory::InMemory::new())).settings;
        // The client's own timeouts and retries end within a request's timeout: the
        // archive's bound around each request is what a caller relies on, and a retry after
        // it would only load a store that is already slow.
        let retry = object_store::RetryConfig {
            max_retries: 2,
            retry_timeout: defaults.request_timeout,
            ..object_store::RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_timeout(defaults.request_timeout)
                    .with_connect_timeout(Duration::from_secs(2)),
            )
            .with_retry(retry);
        // The `AWS_*` variables after the client options, not through `from_env`: those
        // options replace the client's whole configuration, `AWS_ALLOW_HTTP` and
        // `AWS_PROXY_URL` included, where a key set here changes only itself.
        for (key, value) in std::env::vars() {
            if key.starts_with("AWS_") {
                if let Ok(parsed) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                    builder = builder.with_config(parsed, value);
                }
            }
        }
        builder = builder.with_bucket_name(bucket);
        for (key, value) in options {
            let key = key.as_ref();
            let parsed: AmazonS3ConfigKey = key
                .parse()
                .map_err(|_| configuration(url, format!("unknown S3 option `{key}`")))?;
            builder = builder.with_config(parsed, value);
        }
        let store = builder
            .build()
            .map_err(|error| configuration(url, error.to_string()))?;
        let store: Arc<dyn ObjectStore> = match prefix.trim_matches('/') {
            "" => Arc::new(store),
            prefix => Arc::new(object_store::prefix::PrefixStore::new(store, prefix)),
        };
        Ok(Archive::new(store))
    }

    #[cfg(not(feature = "aws"))]
    fn s3<K, V>(
        url: &str,
        _rest: &str,
        _options: impl IntoIterator<Item = (K, V)>,
    ) -> ArchiveResult<Self> {
        Err(configuration(
            url,
            "S3 needs the feature `aws` of cachekiller-core",
        ))
    }

    /// Signs every record this archive writes with `key`, and reads only records signed with
    /// it: the instances of a site share the key (see [`SigningKey`]).
    #[must_use]
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.key = Some(key);
        self
    }

    /// [`Archive::signing_key`] with the key of `$CACHEKILLER_ARCHIVE_KEY`, if it is set
    /// (unchanged otherwise: [`Archive::is_signed`] tells).
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] for a key that is set but too short.
    pub fn signing_key_from_env(self) -> ArchiveResult<Self> {
        Ok(match SigningKey::from_env()? {
            Some(key) => self.signing_key(key),
            None => self,
        })
    }

    /// True if the archive signs its records and reads only signed ones. Without a key,
    /// anyone who can write to the store can record bytes as a version of a path.
    #[must_use]
    pub fn is_signed(&self) -> bool {
        self.key.is_some()
    }

    /// The MAC of a path record, when the archive signs.
    fn record_mac(&self, encoded_path: &str, sha1: &str) -> Option<String> {
        self.key
            .as_ref()
            .map(|key| key.record_mac(encoded_path, sha1))
    }

    /// True if a listed path record may be believed: any record without a key, only one whose
    /// MAC is the key's with one (others are logged).
    fn record_is_trusted(&self, marker: &Marker) -> bool {
        let Some(key) = &self.key else {
            return true;
        };
        let trusted = marker
            .mac
            .as_deref()
            .is_some_and(|mac| key.verifies_record(&marker.encoded_path, &marker.sha1, mac));
        if !trusted {
            tracing::warn!(
                path = marker.encoded_path,
                sha1 = marker.sha1,
                "archive: a path record not signed with the site's key: ignored"
            );
        }
        trusted
    }

    /// Bounds each lookup ([`Archive::find_version`], [`Archive::revision_version`]) as a
    /// whole: a store slower than this is an error, never a request held up (2 s by default).
    #[must_use]
    pub fn lookup_timeout(mut self, timeout: Duration) -> Self {
        self.settings.lookup_timeout = timeout;
        self
    }

    /// Bounds each request of a publish or a garbage collection (30 s by default).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// The longest a publish relies on a listing of the store before its manifest is written
    /// (it lists again past half of it), and how long the garbage collector waits before it
    /// puts back what a publish needed: every instance and the collector must use the same
    /// value (2 minutes by default).
    #[must_use]
    pub fn publish_window(mut self, window: Duration) -> Self {
        self.settings.publish_window = window;
        self
    }

    /// A revision published with the same files less than this ago is not published again
    /// (no manifest written): instances starting together write one manifest, not one each.
    /// Older, a new manifest records the revision as recent again (a rollback must count as
    /// the latest revision for the retention). One hour by default.
    #[must_use]
    pub fn republish_after(mut self, interval: Duration) -> Self {
        self.settings.republish_after = interval;
        self
    }

    /// Bounds and lifetimes of the lookups' memory.
    #[must_use]
    pub fn cache(mut self, settings: CacheSettings) -> Self {
        self.settings.cache = settings;
        self
    }

    /// Bytes and blobs the lookups' memory holds now.
    #[must_use]
    pub fn cache_usage(&self) -> (usize, usize) {
        self.memory.blobs.usage()
    }

    // -- Requests ------------------------------------------------------------------------

    /// `future` bounded by `limit`.
    async fn timed<T>(
        limit: Duration,
        operation: &'static str,
        key: &Path,
        future: impl Future<Output = object_store::Result<T>>,
    ) -> ArchiveResult<object_store::Result<T>> {
        tokio::time::timeout(limit, future)
            .await
            .map_err(|_| ArchiveError::Timeout {
                operation,
                key: key.to_string(),
                after: limit,
            })
    }

    fn store_error(
        operation: &'static str,
        key: &Path,
        error: &object_store::Error,
    ) -> ArchiveError {
        ArchiveError::Store {
            operation,
            key: key.to_string(),
            reason: error.to_string(),
        }
    }

    /// Every object below `prefix` (none if it does not exist).
    async fn list(&self, prefix: &Path, limit: Duration) -> ArchiveResult<Vec<ObjectMeta>> {
        let listing = self.store.list(Some(prefix)).try_collect::<Vec<_>>();
        match Self::timed(limit, "list", prefix, listing).await? {
            Ok(objects) => Ok(objects),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(error) => Err(Self::store_error("list", prefix, &error)),
        }
    }

    /// The bytes at `key`, or `None` if there is no such object.
    async fn get(&self, key: &Path, limit: Duration) -> ArchiveResult<Option<Bytes>> {
        let read = async { self.store.get(key).await?.bytes().await };
        match Self::timed(limit, "get", key, read).await? {
            Ok(bytes) => Ok(Some(bytes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(Self::store_error("get", key, &error)),
        }
    }

    /// Puts `bytes` at `key` unless an object is there: true if this put made it.
    async fn create(&self, key: &Path, bytes: Bytes) -> ArchiveResult<bool> {
        let put = self
            .store
            .put_opts(key, PutPayload::from_bytes(bytes), PutMode::Create.into());
        match Self::timed(self.settings.request_timeout, "put", key, put).await? {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(error) => Err(Self::store_error("put", key, &error)),
        }
    }

    async fn delete(&self, key: &Path) -> ArchiveResult<()> {
        let delete = self.store.delete(key);
        match Self::timed(self.settings.request_timeout, "delete", key, delete).await? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(Self::store_error("delete", key, &error)),
        }
    }

    /// Puts a blob of `sha1_hex` unless it exists; one that exists is read and checked.
    async fn create_blob(&self, sha1_hex: &str, bytes: Bytes) -> ArchiveResult<bool> {
        let key = blob_key(sha1_hex);
        // Twice: a blob found existing may be deleted (by a collection) before it is read.
        for _ in 0..2 {
            if self.create(&key, bytes.clone()).await? {
                return Ok(true);
            }
            if let Some(existing) = self.get(&key, self.settings.request_timeout).await? {
                let found = to_hex(&sha1::Sha1::digest(&existing));
                if found != sha1_hex {
                    return Err(ArchiveError::Corrupted {
                        key: key.to_string(),
                        expected: sha1_hex.to_owned(),
                        found,
                    });
                }
                return Ok(false);
            }
        }
        Err(ArchiveError::Store {
            operation: "put",
            key: key.to_string(),
            reason: "the object exists for a put and is missing for a read, twice".to_owned(),
        })
    }

    // -- Publishing ----------------------------------------------------------------------

    /// Publishes `revision`: stores every version in `files` that the archive does not hold
    /// yet, records it as a version of its path, then writes the revision's manifest of the
    /// files it names ([`ServedFile::in_revision`]). Call it before serving: an instance still
    /// serving the previous revision may be asked for this revision's URLs as soon as a page
    /// of it is out. Cheap when nothing changed: three listings, no upload.
    ///
    /// A revision names one version of its files. Where another publication of it names other
    /// bytes for a path (two builds of one revision that disagree), the report lists the
    /// conflict and it is logged as an error naming both: lookups then answer neither, and
    /// which publication came first changes nothing. A manifest of the revision that cannot
    /// be read (damaged, or not signed with the site's key) is deleted and reported: this
    /// publication stands for it.
    ///
    /// # Errors
    /// [`ArchiveError::InvalidName`] for a path or revision that cannot be archived (or a path
    /// given twice with different bytes), [`ArchiveError::Corrupted`] if the store holds other
    /// bytes under a SHA-1 being published, and store errors and timeouts.
    pub async fn publish(
        &self,
        revision: &str,
        files: impl IntoIterator<Item = ServedFile>,
    ) -> ArchiveResult<PublishReport> {
        self.publish_at(revision, files, SystemTime::now()).await
    }

    /// [`Archive::publish`] with the publication time given: for tests with a fake clock and
    /// for importing past revisions.
    ///
    /// # Errors
    /// As [`Archive::publish`].
    pub async fn publish_at(
        &self,
        revision: &str,
        files: impl IntoIterator<Item = ServedFile>,
        published_at: SystemTime,
    ) -> ArchiveResult<PublishReport> {
        let encoded_revision = encode_revision(revision)?;
        let published_ms = unix_ms(published_at);
        // Path -> (encoded path, SHA-1 hex, bytes).
        let mut versions: BTreeMap<String, (String, String, Bytes)> = BTreeMap::new();
        let mut in_revision: BTreeMap<String, String> = BTreeMap::new();
        for file in files {
            let encoded = encode_static_path(&file.path)?;
            let sha1 = to_hex(&sha1::Sha1::digest(&file.bytes));
            if let Some((_, other, _)) = versions.get(&file.path) {
                if *other != sha1 {
                    return Err(ArchiveError::InvalidName {
                        kind: "static path",
                        name: file.path,
                        reason: "is given twice with different bytes",
                    });
                }
                continue;
            }
            if file.in_revision {
                in_revision.insert(file.path.clone(), sha1.clone());
            }
            versions.insert(file.path, (encoded, sha1, file.bytes));
        }
        let mut report = PublishReport {
            files: versions.len(),
            in_revision: in_revision.len(),
            ..PublishReport::default()
        };

        let limit = self.settings.request_timeout;
        let published = self.manifests_of(&encoded_revision, limit).await?;
        report.listings += 1;
        let republish_ms =
            u64::try_from(self.settings.republish_after.as_millis()).unwrap_or(u64::MAX);
        // The same files published a moment ago (instances starting together): no manifest.
        let write_manifest = !published.valid.iter().any(|(_, manifest)| {
            manifest.files == in_revision
                && manifest.published_ms.saturating_add(republish_ms) > published_ms
        });

        // Blobs and records first, the manifest last: a manifest names only stored versions.
        // The collector deletes an old unreferenced blob after its own listing; one this
        // publish found present is put back by it when it sees the manifest, provided the
        // manifest is written within the publish window of the listing (see the module).
        for attempt in 0.. {
            let listed_at = Instant::now();
            self.store_versions(&versions, &mut report).await?;
            if !write_manifest || listed_at.elapsed() < self.settings.publish_window / 2 {
                break;
            }
            if attempt == 2 {
                return Err(ArchiveError::Timeout {
                    operation: "publish",
                    key: revision_prefix(&encoded_revision).to_string(),
                    after: self.settings.publish_window / 2,
                });
            }
        }

        let manifest = Manifest {
            revision: revision.to_owned(),
            published_ms,
            files: in_revision,
        };
        let own_key = manifest_key(&encoded_revision, published_ms);
        if write_manifest {
            report.puts += 1;
            if self
                .create(&own_key, Bytes::from(manifest.to_bytes(self.key.as_ref())))
                .await?
            {
                report.manifest_written = true;
            }
        }
        // Every other publication of the revision that names other bytes for a path.
        for (key, other) in &published.valid {
            if *key == own_key {
                continue;
            }
            for (path, sha1, other_sha1) in manifest.conflicts_with(&other.files) {
                tracing::error!(
                    revision,
                    path,
                    sha1,
                    other = %key,
                    other_sha1,
                    "archive: two publications of one revision name other bytes for a path: \
                     neither is answered for it (build releases reproducibly, from clean \
                     checkouts)"
                );
                if !report.conflicts.iter().any(|known| known.path == path) {
                    report.conflicts.push(RevisionConflict {
                        path,
                        other: key.to_string(),
                        other_sha1,
                        sha1,
                    });
                }
            }
        }
        // A damaged or forged manifest of the revision would stand in lookups' way for good:
        // this publication replaces it.
        for (key, error) in &published.damaged {
            tracing::warn!(%error, "archive: an unreadable manifest of the revision deleted");
            self.delete(key).await?;
            report.manifests_repaired += 1;
        }
        self.memory.revisions.remove(&revision.to_owned());
        *self
            .memory
            .revision_index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        for path in versions.keys() {
            self.memory.versions.remove(path);
        }
        Ok(report)
    }

    /// The paths another publication of `revision` names with other bytes than `files` does
    /// (static path -> SHA-1 hex), as [`Archive::publish`] reports them: for an instance that
    /// published earlier to learn of a later conflicting one.
    ///
    /// # Errors
    /// Store errors and timeouts.
    pub async fn revision_conflicts(
        &self,
        revision: &str,
        files: &BTreeMap<String, String>,
    ) -> ArchiveResult<Vec<RevisionConflict>> {
        let encoded_revision = encode_revision(revision)?;
        let published = self
            .manifests_of(&encoded_revision, self.settings.request_timeout)
            .await?;
        let mine = Manifest {
            revision: revision.to_owned(),
            published_ms: 0,
            files: files.clone(),
        };
        let mut conflicts: Vec<RevisionConflict> = Vec::new();
        for (key, other) in &published.valid {
            for (path, sha1, other_sha1) in mine.conflicts_with(&other.files) {
                if !conflicts.iter().any(|known| known.path == path) {
                    conflicts.push(RevisionConflict {
                        path,
                        other: key.to_string(),
                        other_sha1,
                        sha1,
                    });
                }
            }
        }
        Ok(conflicts)
    }

    /// Stores the blobs and path records of `versions` that a listing of the store does not
    /// show, counting them in `report`.
    async fn store_versions(
        &self,
        versions: &BTreeMap<String, (String, String, Bytes)>,
        report: &mut PublishReport,
    ) -> ArchiveResult<()> {
        let limit = self.settings.request_timeout;
        let blobs = self.list(&root(BLOBS), limit).await?;
        let records = self.list(&root(PATHS), limit).await?;
        report.listings += 2;
        let present: HashMap<String, u64> = blobs
            .iter()
            .filter_map(|meta| Some((sha1_of_blob_key(&meta.location, BLOBS)?, meta.size)))
            .collect();
        // A record counts only if this archive would write it so (signed with its key).
        let recorded: HashSet<(String, String)> = records
            .iter()
            .filter_map(|meta| marker_of_key(&meta.location))
            .filter(|marker| marker.mac == self.record_mac(&marker.encoded_path, &marker.sha1))
            .map(|marker| (marker.encoded_path, marker.sha1))
            .collect();
        let mut uploads = Vec::new();
        let mut uploading = HashSet::new();
        let mut records_to_write = Vec::new();
        for (encoded, sha1, bytes) in versions.values() {
            match present.get(sha1) {
                Some(&size) if size != bytes.len() as u64 => {
                    return Err(ArchiveError::Corrupted {
                        key: blob_key(sha1).to_string(),
                        expected: sha1.clone(),
                        found: format!("{size} bytes instead of {}", bytes.len()),
                    });
                }
                Some(_) => {}
                None => {
                    if uploading.insert(sha1.clone()) {
                        uploads.push((sha1.clone(), bytes.clone()));
                    }
                }
            }
            if !recorded.contains(&(encoded.clone(), sha1.clone())) {
                let mac = self.record_mac(encoded, sha1);
                records_to_write.push(marker_key(encoded, sha1, mac.as_deref()));
            }
        }
        report.puts += uploads.len() + records_to_write.len();
        let uploaded: Vec<(bool, u64)> = futures_util::stream::iter(uploads)
            .map(|(sha1, bytes)| async move {
                let size = bytes.len() as u64;
                self.create_blob(&sha1, bytes)
                    .await
                    .map(|made| (made, size))
            })
            .buffer_unordered(CONCURRENT_REQUESTS)
            .try_collect()
            .await?;
        for (made, size) in uploaded {
            if made {
                report.blobs_uploaded += 1;
                report.bytes_uploaded += size;
            }
        }
        let written: Vec<bool> = futures_util::stream::iter(records_to_write)
            .map(|key| async move { self.create(&key, Bytes::new()).await })
            .buffer_unordered(CONCURRENT_REQUESTS)
            .try_collect()
            .await?;
        report.records_written += written.into_iter().filter(|made| *made).count();
        Ok(())
    }

    /// The manifests of a revision, oldest first: those that read (with a key: signed with
    /// it) and those that do not.
    async fn manifests_of(
        &self,
        encoded_revision: &str,
        limit: Duration,
    ) -> ArchiveResult<ManifestsRead> {
        let mut listed: Vec<(u64, Path)> = self
            .list(&revision_prefix(encoded_revision), limit)
            .await?
            .into_iter()
            .filter_map(|meta| {
                let (listed_revision, published_ms) = manifest_of_key(&meta.location)?;
                (listed_revision == encoded_revision).then_some((published_ms, meta.location))
            })
            .collect();
        listed.sort();
        let mut read = ManifestsRead {
            valid: Vec::with_capacity(listed.len()),
            damaged: Vec::new(),
        };
        for (_, key) in listed {
            // Deleted since the listing (a collection): the others still say the same.
            let Some(bytes) = self.get(&key, limit).await? else {
                continue;
            };
            match Manifest::from_bytes(key.as_ref(), encoded_revision, &bytes, self.key.as_ref()) {
                Ok(manifest) => read.valid.push((key, manifest)),
                Err(error) => {
                    tracing::warn!(%error, "archive: a manifest that cannot be read: skipped");
                    read.damaged.push((key, error));
                }
            }
        }
        Ok(read)
    }

    // -- Lookups -------------------------------------------------------------------------

    /// The archived version of the static path `path` whose SHA-1 hex begins with
    /// `tag_prefix` (lower-case hex), among the versions recorded for that path only.
    ///
    /// # Errors
    /// [`ArchiveError::InvalidName`] for a path that cannot be archived,
    /// [`ArchiveError::Corrupted`] if the store's bytes do not hash to their SHA-1, and store
    /// errors and [`ArchiveError::Timeout`] past the lookup timeout.
    pub async fn find_version(
        &self,
        path: &str,
        tag_prefix: &str,
    ) -> ArchiveResult<ArchivedVersion> {
        let encoded = encode_static_path(path)?;
        let valid_tag = !tag_prefix.is_empty()
            && tag_prefix.len() <= 40
            && tag_prefix
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if !valid_tag {
            return Ok(ArchivedVersion::Unknown);
        }
        let lookup = async {
            let versions = self.versions_of(path, &encoded, tag_prefix).await?;
            let mut matching = versions.iter().filter(|sha1| sha1.starts_with(tag_prefix));
            let (Some(sha1), None) = (matching.next(), matching.next()) else {
                return Ok(
                    if versions.iter().any(|sha1| sha1.starts_with(tag_prefix)) {
                        ArchivedVersion::Ambiguous
                    } else {
                        ArchivedVersion::Unknown
                    },
                );
            };
            let found = self
                .verified_blob(sha1, self.settings.lookup_timeout)
                .await?;
            if matches!(found, ArchivedVersion::Unknown) {
                // Collected since it was listed.
                self.memory.versions.remove(&path.to_owned());
            }
            Ok(found)
        };
        self.bounded_lookup(path, lookup).await
    }

    /// The version of the static path `path` that `revision`'s manifest records.
    ///
    /// # Errors
    /// As [`Archive::find_version`], and [`ArchiveError::InvalidManifest`] for a manifest that
    /// cannot be read.
    pub async fn revision_version(
        &self,
        revision: &str,
        path: &str,
    ) -> ArchiveResult<ArchivedVersion> {
        let encoded_revision = encode_revision(revision)?;
        encode_static_path(path)?;
        let lookup = async {
            let cached = self
                .memory
                .revisions
                .get(&revision.to_owned())
                .filter(|fetched| fresh(fetched, fetched.value.is_some(), self.settings.cache));
            let files = if let Some(fetched) = cached {
                fetched.value
            } else if !self.archived_revision(&encoded_revision).await? {
                None
            } else {
                let manifests = self
                    .manifests_of(&encoded_revision, self.settings.lookup_timeout)
                    .await?
                    .valid;
                let files = (!manifests.is_empty()).then(|| {
                    let mut files = RevisionFiles::new();
                    for (_, manifest) in &manifests {
                        for (path, sha1) in &manifest.files {
                            files
                                .entry(path.clone())
                                .and_modify(|recorded| {
                                    if recorded.as_ref() != Some(sha1) {
                                        *recorded = None;
                                    }
                                })
                                .or_insert_with(|| Some(sha1.clone()));
                        }
                    }
                    Arc::new(files)
                });
                let fetched = Fetched {
                    at: Instant::now(),
                    value: files.clone(),
                };
                self.memory.revisions.insert(
                    revision.to_owned(),
                    fetched,
                    self.settings.cache.entries,
                );
                files
            };
            match files.as_ref().and_then(|files| files.get(path)) {
                None => Ok(ArchivedVersion::Unknown),
                Some(None) => Ok(ArchivedVersion::Ambiguous),
                Some(Some(sha1)) => self.verified_blob(sha1, self.settings.lookup_timeout).await,
            }
        };
        self.bounded_lookup(path, lookup).await
    }

    /// True if the archive holds a manifest of the (encoded) revision, by the index of
    /// revisions: listed again when it is older than the positive lifetime, or than the
    /// negative one and it does not name the revision.
    async fn archived_revision(&self, encoded_revision: &str) -> ArchiveResult<bool> {
        let indexed = || {
            let index = self
                .memory
                .revision_index
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            index.as_ref().and_then(|fetched| {
                let named = fetched.value.contains(encoded_revision);
                fresh(fetched, named, self.settings.cache).then_some(named)
            })
        };
        if let Some(named) = indexed() {
            return Ok(named);
        }
        let _filling = self.memory.revision_index_fill.lock().await;
        if let Some(named) = indexed() {
            return Ok(named);
        }
        let listed = self
            .list(&root(REVISIONS), self.settings.lookup_timeout)
            .await?;
        let revisions: HashSet<String> = listed
            .iter()
            .filter_map(|meta| manifest_of_key(&meta.location))
            .map(|(revision, _)| revision)
            .collect();
        let named = revisions.contains(encoded_revision);
        *self
            .memory
            .revision_index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Fetched {
            at: Instant::now(),
            value: Arc::new(revisions),
        });
        Ok(named)
    }

    async fn bounded_lookup(
        &self,
        path: &str,
        lookup: impl Future<Output = ArchiveResult<ArchivedVersion>>,
    ) -> ArchiveResult<ArchivedVersion> {
        let limit = self.settings.lookup_timeout;
        tokio::time::timeout(limit, lookup)
            .await
            .unwrap_or_else(|_| {
                Err(ArchiveError::Timeout {
                    operation: "lookup",
                    key: path.to_owned(),
                    after: limit,
                })
            })
    }

    /// The versions recorded for `path`, from memory while fresh for a lookup of `tag_prefix`.
    async fn versions_of(
        &self,
        path: &str,
        encoded: &str,
        tag_prefix: &str,
    ) -> ArchiveResult<Versions> {
        if let Some(fetched) = self.memory.versions.get(&path.to_owned()) {
            let answers = fetched
                .value
                .iter()
                .any(|sha1| sha1.starts_with(tag_prefix));
            if fresh(&fetched, answers, self.settings.cache) {
                return Ok(fetched.value);
            }
        }
        let prefix = versions_prefix(encoded);
        let listed = self.list(&prefix, self.settings.lookup_timeout).await?;
        let versions: Versions = listed
            .iter()
            .filter_map(|meta| marker_of_key(&meta.location))
            .filter(|marker| marker.encoded_path == encoded && self.record_is_trusted(marker))
            .map(|marker| marker.sha1)
            .collect();
        let fetched = Fetched {
            at: Instant::now(),
            value: Arc::clone(&versions),
        };
        self.memory
            .versions
            .insert(path.to_owned(), fetched, self.settings.cache.entries);
        Ok(versions)
    }

    /// Every static path the archive holds a version of (by records signed with the site's
    /// key, when it has one), at most `limit` of them: what a server asks before it looks up
    /// an old tag of a file it no longer has, so that made-up paths cost no request.
    ///
    /// # Errors
    /// Store errors and timeouts.
    pub async fn known_paths(&self, limit: usize) -> ArchiveResult<HashSet<String>> {
        let records = self
            .list(&root(PATHS), self.settings.request_timeout)
            .await?;
        let mut paths = HashSet::new();
        for marker in records
            .iter()
            .filter_map(|meta| marker_of_key(&meta.location))
        {
            if paths.len() >= limit {
                break;
            }
            if self.record_is_trusted(&marker) {
                if let Some(path) = decode_static_path(&marker.encoded_path) {
                    paths.insert(path);
                }
            }
        }
        Ok(paths)
    }

    /// The blob of `sha1_hex`, verified; [`ArchivedVersion::Unknown`] if it is gone.
    async fn verified_blob(
        &self,
        sha1_hex: &str,
        limit: Duration,
    ) -> ArchiveResult<ArchivedVersion> {
        let mut sha1 = [0; 20];
        for (index, byte) in sha1.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&sha1_hex[index * 2..index * 2 + 2], 16).unwrap_or_default();
        }
        if let Some(bytes) = self.memory.blobs.get(sha1_hex) {
            return Ok(ArchivedVersion::Found { bytes, sha1 });
        }
        let key = blob_key(sha1_hex);
        let Some(bytes) = self.get(&key, limit).await? else {
            return Ok(ArchivedVersion::Unknown);
        };
        let digest: [u8; 20] = sha1::Sha1::digest(&bytes).into();
        if digest != sha1 {
            return Err(ArchiveError::Corrupted {
                key: key.to_string(),
                expected: sha1_hex.to_owned(),
                found: to_hex(&digest),
            });
        }
        self.memory
            .blobs
            .insert(sha1_hex, bytes.clone(), self.settings.cache.bytes);
        Ok(ArchivedVersion::Found { bytes, sha1 })
    }
}

/// True if what was fetched may answer again: a positive answer for longer than a negative.
fn fresh<T>(fetched: &Fetched<T>, positive: bool, settings: CacheSettings) -> bool {
    let ttl = if positive {
        settings.positive_ttl
    } else {
        settings.negative_ttl
    };
    fetched.at.elapsed() < ttl
}

/// Milliseconds since the Unix epoch (0 before it).
fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}
