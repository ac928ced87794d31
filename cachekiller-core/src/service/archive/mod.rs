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
mod lookup;
mod manifest;
mod open;
mod publish;
mod requests;
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

impl Archive {
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

    /// What the lookups' memory holds now: bytes of blobs, and blobs.
    #[must_use]
    pub fn cache_usage(&self) -> crate::service::CacheUsage {
        let (bytes, entries) = self.memory.blobs.usage();
        crate::service::CacheUsage { bytes, entries }
    }
}

/// Milliseconds since the Unix epoch (0 before it).
fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}
