//! The third step: the version of the file the request opened, checked. A checked version is
//! the digest of the bytes that will be sent and, for files up to a size, those bytes
//! themselves (a stylesheet's: its rewritten bytes), with their compressed variants made from
//! them. Every validator and every tag verdict of a response is derived from a checked
//! version, and the body is sent from it (or, for a large file, from the same open file,
//! verified to be the same version when the last byte is sent).
//!
//! Checked versions are cached by canonical path, one per path, reused only for the same
//! [`FileVersion`] of a file that had settled before it was read, and bounded in bytes and
//! entries (least recently used first out). A miss is filled once: concurrent requests for
//! the same path wait for the one read instead of each reading the file.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use sha1::Digest as _;

use crate::rules::file_stamp::FileVersion;
use crate::rules::hash::{git_blob_id, to_hex, GitBlobHasher};
use crate::rules::revision_manifest::{NamedBytes, ObjectFormat};
use crate::rules::stylesheet::{rewrite_stylesheet_source, RewrittenStylesheet, StaticLookup};
use crate::rules::tagging::Tagger;

/// How often a stylesheet whose references named missing files looks for them again: a file
/// appearing there changes the stylesheet, but looking on every request costs a lookup per
/// missing reference per request.
pub(crate) const MISSING_REFERENCE_RECHECK: Duration = Duration::from_secs(1);

/// Bounds of the service's memory for checked versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheLimits {
    /// Bytes held in all cached versions (bodies and compressed variants).
    pub(crate) bytes: usize,
    /// Cached paths.
    pub(crate) entries: usize,
    /// Files larger than this are not held in memory: their digest is cached, their bytes are
    /// sent from the open file.
    pub(crate) file_bytes: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            bytes: 64 * 1024 * 1024,
            entries: 10_000,
            file_bytes: 4 * 1024 * 1024,
        }
    }
}

/// One version of a file as checked: what is sent, and what names it.
#[derive(Debug)]
pub(crate) struct CheckedVersion {
    /// The version of the file that was read; `None` for a version from the archive, which
    /// no file holds now.
    pub(crate) version: Option<FileVersion>,
    /// When the read began.
    read_at: SystemTime,
    /// The SHA-1 of the bytes sent: the source of content tags and of the `ETag`.
    pub(crate) sha1: Vec<u8>,
    /// Its hex, the `ETag`'s opaque tag.
    pub(crate) sha1_hex: String,
    /// git's object id of the bytes (see [`git_blob_id`]), when the revision names files by
    /// theirs: a file that is not a stylesheet, of a site built in a git repository.
    git_blob: Option<Vec<u8>>,
    /// The bytes to send, or `None` for a file too large to hold: sent from the open file.
    pub(crate) bytes: Option<Bytes>,
    /// Their length.
    pub(crate) length: u64,
    /// False if the bytes are not what a tag could name (a stylesheet that could not be
    /// rewritten is sent as it is, never `immutable`).
    pub(crate) taggable: bool,
    /// The stylesheet's rewrite, for checking the files it was made from.
    stylesheet: Option<StylesheetState>,
    /// Compressed variants of [`CheckedVersion::bytes`], shared with the next checked version
    /// of the path when its bytes are the same (a file re-read because it had just been
    /// written is not compressed again).
    pub(crate) variants: Arc<Variants>,
}

/// Compressed variants, made once from the checked bytes (or a verified sibling): `None`
/// inside when compression does not make the body smaller.
#[derive(Debug, Default)]
pub(crate) struct Variants {
    pub(crate) brotli: tokio::sync::OnceCell<Option<Bytes>>,
    pub(crate) gzip: tokio::sync::OnceCell<Option<Bytes>>,
}

#[derive(Debug)]
struct StylesheetState {
    rewritten: RewrittenStylesheet,
    missing_checked_at: Mutex<Instant>,
    files_checked_at: Mutex<Instant>,
}

/// A stylesheet made from more files than this has them checked at most once a
/// [`MISSING_REFERENCE_RECHECK`], not on every request: a `stat` each is cheap for a few, but
/// thousands of `@import`ed files would hold up the async worker on every request.
const FILES_CHECKED_ON_EVERY_REQUEST: usize = 64;

/// True once per `interval` for the clock at `checked_at` (which it then resets).
fn due(checked_at: &Mutex<Instant>, interval: Duration) -> bool {
    let mut checked_at = checked_at.lock().unwrap_or_else(PoisonError::into_inner);
    if checked_at.elapsed() < interval {
        return false;
    }
    *checked_at = Instant::now();
    true
}

impl CheckedVersion {
    /// True if this version may answer a request that opened `version` of the file.
    pub(crate) fn answers(&self, version: FileVersion, lookup: &dyn StaticLookup) -> bool {
        if self.version != Some(version) || !version.settled_before(self.read_at) {
            return false;
        }
        let Some(stylesheet) = &self.stylesheet else {
            return true;
        };
        // The stylesheet itself is `version`; the files it references are checked by path.
        let few_files = stylesheet.rewritten.files.len() <= FILES_CHECKED_ON_EVERY_REQUEST;
        if (few_files || due(&stylesheet.files_checked_at, MISSING_REFERENCE_RECHECK))
            && !stylesheet.rewritten.files_unchanged(1)
        {
            return false;
        }
        if stylesheet.rewritten.has_unresolved_paths()
            && due(&stylesheet.missing_checked_at, MISSING_REFERENCE_RECHECK)
        {
            return stylesheet.rewritten.unresolved_still_missing(lookup);
        }
        true
    }

    /// A version found in the archive: `bytes`, which the archive verified to hash to
    /// `sha1`. It is held in the cache under [`archived_key`], never under a static path, so
    /// it can never answer for a file's current version.
    #[cfg(feature = "archive")]
    pub(crate) fn archived(bytes: Bytes, sha1: [u8; 20]) -> Self {
        CheckedVersion {
            version: None,
            read_at: SystemTime::now(),
            sha1_hex: to_hex(&sha1),
            sha1: sha1.to_vec(),
            git_blob: None,
            length: bytes.len() as u64,
            bytes: Some(bytes),
            taggable: true,
            stylesheet: None,
            variants: Arc::default(),
        }
    }

    /// True if these are the bytes `named` names.
    pub(crate) fn is(&self, named: &NamedBytes) -> bool {
        match named {
            NamedBytes::GitBlob(id) => self.git_blob.as_ref() == Some(id),
            NamedBytes::SentSha1(sha1) => self.sha1 == sha1,
        }
    }

    /// The bytes it holds in memory.
    fn memory(&self) -> usize {
        let variant = |cell: &tokio::sync::OnceCell<Option<Bytes>>| {
            cell.get().and_then(Option::as_ref).map_or(0, Bytes::len)
        };
        self.bytes.as_ref().map_or(0, Bytes::len)
            + variant(&self.variants.brotli)
            + variant(&self.variants.gzip)
            + self
                .stylesheet
                .as_ref()
                .map_or(0, |stylesheet| stylesheet.rewritten.files.len() * 64)
    }
}

/// What to check a stylesheet with.
pub(crate) struct StylesheetContext<'a> {
    pub(crate) lookup: &'a dyn StaticLookup,
    pub(crate) tagger: Tagger<'a>,
    /// The file's path, for the rewrite's record of what it read.
    pub(crate) path: PathBuf,
}

/// Reads and checks `version` of `file` (the request's one open of the file at the canonical
/// path `relative`); blocking. The second value is false if the file changed while it was
/// read: the bytes are consistent with their digest, but must not be cached as `version`.
pub(crate) fn check_version(
    file: &File,
    version: FileVersion,
    relative: &str,
    limits: CacheLimits,
    stylesheet: Option<StylesheetContext<'_>>,
    git_blob_format: Option<ObjectFormat>,
) -> io::Result<(CheckedVersion, bool)> {
    let read_at = SystemTime::now();
    // A stylesheet too large to hold is sent as it is, never `immutable`: its rewrite would
    // need its bytes in memory.
    let stylesheet = stylesheet.filter(|_| {
        let fits = version.size() <= limits.file_bytes;
        if !fits {
            tracing::warn!(
                stylesheet = relative,
                "sent as it is, revalidated: larger than the in-memory file limit"
            );
        }
        fits
    });
    let oversized_stylesheet =
        stylesheet.is_none() && crate::rules::stylesheet::is_stylesheet(relative);
    let mut git_blob = None;
    let (bytes, sha1, taggable, stylesheet) = if let Some(context) = stylesheet {
        let source = read_all(file, version.size())?;
        match rewrite_stylesheet_source(
            context.lookup,
            relative,
            &context.path,
            Some(version),
            &source,
            context.tagger,
        ) {
            Ok(mut rewritten) => {
                let bytes = Bytes::from(std::mem::take(&mut rewritten.bytes));
                let sha1 = rewritten.sha1.clone();
                let state = StylesheetState {
                    rewritten,
                    missing_checked_at: Mutex::new(Instant::now()),
                    files_checked_at: Mutex::new(Instant::now()),
                };
                (Some(bytes), sha1, true, Some(state))
            }
            Err(error) => {
                tracing::error!(
                    stylesheet = relative,
                    %error,
                    "served as it is, revalidated: its references cannot be tagged"
                );
                let sha1 = sha1::Sha1::digest(&source).to_vec();
                (Some(Bytes::from(source)), sha1, false, None)
            }
        }
    } else if version.size() <= limits.file_bytes {
        let source = read_all(file, version.size())?;
        let sha1 = sha1::Sha1::digest(&source).to_vec();
        git_blob = git_blob_format
            .filter(|_| !oversized_stylesheet)
            .map(|format| git_blob_id(&source, format));
        (Some(Bytes::from(source)), sha1, true, None)
    } else {
        let (sha1, blob) = digest_of_open_file(
            file,
            version.size(),
            git_blob_format.filter(|_| !oversized_stylesheet),
        )?;
        git_blob = blob;
        (None, sha1, !oversized_stylesheet, None)
    };
    let unchanged = FileVersion::of(&file.metadata()?) == Some(version);
    let length = bytes
        .as_ref()
        .map_or(version.size(), |bytes| bytes.len() as u64);
    let checked = CheckedVersion {
        version: Some(version),
        read_at,
        sha1_hex: to_hex(&sha1),
        sha1,
        git_blob,
        bytes,
        length,
        taggable,
        stylesheet,
        variants: Arc::default(),
    };
    Ok((checked, unchanged))
}

/// Reads the file from its start, whatever its offset (positional reads), up to `size` bytes
/// (its size when it was opened: a file growing meanwhile does not grow the read past the
/// memory bound; the version check after the read sees the change). Read straight into the
/// one buffer: a chunk buffer per read would leave a quarter megabyte per blocking thread in
/// the allocator's arenas.
pub(crate) fn read_all(file: &File, size: u64) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; usize::try_from(size).unwrap_or(usize::MAX)];
    let mut filled = 0;
    while filled < bytes.len() {
        match read_at(file, &mut bytes[filled..], filled as u64) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// The SHA-1 of the whole file and, with `git_blob_format`, its git blob id of `size` bytes,
/// in one pass.
fn digest_of_open_file(
    file: &File,
    size: u64,
    git_blob_format: Option<ObjectFormat>,
) -> io::Result<(Vec<u8>, Option<Vec<u8>>)> {
    let mut hasher = sha1::Sha1::new();
    let mut blob = git_blob_format.map(|format| GitBlobHasher::new(format, size));
    let mut chunk = vec![0; 256 * 1024];
    let mut offset = 0;
    loop {
        match read_at(file, &mut chunk, offset) {
            Ok(0) => {
                // A file that grew or shrank since the open is another version: its blob id
                // (made for `size` bytes) names nothing, and the version check says so.
                let blob = blob.filter(|_| offset == size).map(GitBlobHasher::finalize);
                return Ok((hasher.finalize().to_vec(), blob));
            }
            Ok(read) => {
                hasher.update(&chunk[..read]);
                if let Some(blob) = &mut blob {
                    blob.update(&chunk[..read]);
                }
                offset += read as u64;
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// A positional read: the file's offset is shared by every handle of it and not ours to move.
pub(crate) fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buffer, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
    }
}

/// A cached path: its current checked version, and the lock that makes one request fill it.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    current: Mutex<Option<Arc<CheckedVersion>>>,
    pub(crate) fill: tokio::sync::Mutex<()>,
    last_used: AtomicU64,
}

impl Slot {
    /// The cached version, if it answers for `version`.
    pub(crate) fn current(
        &self,
        version: FileVersion,
        lookup: &dyn StaticLookup,
    ) -> Option<Arc<CheckedVersion>> {
        let current = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        current.answers(version, lookup).then_some(current)
    }

    /// The cached version, whatever file version it was read from.
    pub(crate) fn last(&self) -> Option<Arc<CheckedVersion>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn store(&self, checked: Arc<CheckedVersion>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(checked);
    }

    fn memory(&self) -> usize {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |checked| checked.memory())
    }
}

/// The key of a cached path: which static dir, and the canonical path in it.
pub(crate) type SlotKey = (usize, String);

/// The key of an archived version in the cache: a static dir index no site has and a name no
/// path has (it starts with a NUL), so that an archived version never answers for a file and
/// a file's version never answers for an archived one. One entry per content (SHA-1): the
/// same old bytes under two paths share their compressed variants, and each lookup has
/// already checked that the bytes were a version of the path asked for.
#[cfg(feature = "archive")]
pub(crate) fn archived_key(sha1_hex: &str) -> SlotKey {
    (usize::MAX, format!("\0archived:{sha1_hex}"))
}

/// Checked versions by canonical path, bounded.
#[derive(Debug, Default)]
pub(crate) struct VersionCache {
    slots: Mutex<HashMap<SlotKey, Arc<Slot>>>,
    clock: AtomicU64,
}

/// What a slot costs besides its version: the key and the bookkeeping.
const SLOT_OVERHEAD: usize = 160;

impl VersionCache {
    /// The slot of `key`, made if there is none (only for paths that name a file: the number
    /// of slots is bounded by the files served, not by the requests).
    pub(crate) fn slot(&self, key: &SlotKey, limits: CacheLimits) -> Arc<Slot> {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(key) {
            slot.last_used.store(now, Ordering::Relaxed);
            return Arc::clone(slot);
        }
        let slot = Arc::new(Slot::default());
        slot.last_used.store(now, Ordering::Relaxed);
        slots.insert(key.clone(), Arc::clone(&slot));
        if slots.len() > limits.entries {
            evict(&mut slots, limits);
        }
        slot
    }

    /// Evicts the least recently used paths until the cache is within `limits` again: called
    /// after a version or a variant was added.
    pub(crate) fn enforce(&self, limits: CacheLimits) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        evict(&mut slots, limits);
    }

    /// The bytes and entries held now (for tests and the benchmarks' memory report).
    pub(crate) fn usage(&self) -> (usize, usize) {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        (total_memory(&slots), slots.len())
    }
}

fn total_memory(slots: &HashMap<SlotKey, Arc<Slot>>) -> usize {
    slots
        .iter()
        .map(|((_, path), slot)| SLOT_OVERHEAD + path.len() + slot.memory())
        .sum()
}

/// Drops the least recently used slots down to nine tenths of each bound, so that a burst of
/// new paths evicts in batches rather than on every insert.
fn evict(slots: &mut HashMap<SlotKey, Arc<Slot>>, limits: CacheLimits) {
    let mut memory = total_memory(slots);
    if slots.len() <= limits.entries && memory <= limits.bytes {
        return;
    }
    let entries_target = limits.entries - limits.entries / 10;
    let bytes_target = limits.bytes - limits.bytes / 10;
    let mut by_age: Vec<(u64, SlotKey, usize)> = slots
        .iter()
        .map(|(key, slot)| {
            (
                slot.last_used.load(Ordering::Relaxed),
                key.clone(),
                SLOT_OVERHEAD + key.1.len() + slot.memory(),
            )
        })
        .collect();
    by_age.sort_unstable_by_key(|(last_used, ..)| *last_used);
    for (_, key, size) in by_age {
        if slots.len() <= entries_target && memory <= bytes_target {
            break;
        }
        slots.remove(&key);
        memory = memory.saturating_sub(size);
    }
}
