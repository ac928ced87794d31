//! The third step: the version of the file the request opened, checked. A checked version is
//! the digest of the bytes that will be sent and, for files up to a size, those bytes
//! themselves (a stylesheet's: its rewritten bytes), with their compressed variants made from
//! them. Every validator and every tag verdict of a response is derived from a checked
//! version, and the body is sent from it (or, for a large file, from the same open file, each
//! chunk hashed and compared with the chunk digests taken when the version was checked before
//! it goes out).
//!
//! Checked versions are cached by canonical path, one per path, reused only for the same
//! [`FileVersion`] of a file that had settled before it was read, and bounded in entries and,
//! with everything else the service holds, by one memory budget (see `memory`; least recently
//! used first out). A miss is filled once: concurrent requests for the same path wait for the
//! one read instead of each reading the file.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use sha1::Digest as _;

use super::memory::{charged_bytes, Charge, MemoryBudget};
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
    /// Bytes of bodies and compressed variants, cached or held by responses, and of
    /// compressions in flight: the memory budget.
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
    /// The bytes to send, or `None` for a file too large to hold (or read when the memory
    /// budget had no room): sent from the open file, chunk by chunk.
    pub(crate) bytes: Option<Bytes>,
    /// For a version sent from the file: the SHA-1 of each [`CHUNK_BYTES`] of it, taken in
    /// the read that made [`CheckedVersion::sha1`]. Every chunk sent is hashed and compared
    /// with its digest first, so that no byte of another version goes out under this one's
    /// validators (an in-place write, or one through a shared `mmap`, which changes no
    /// timestamp).
    pub(crate) chunk_sha1s: Option<Arc<[[u8; 20]]>>,
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
            chunk_sha1s: None,
            taggable: true,
            stylesheet: None,
            variants: Arc::default(),
        }
    }

    /// An embedded file's version: its bytes from the binary, with the digests and variants
    /// the build made from exactly those bytes. Nothing is read; nothing can change.
    pub(crate) fn embedded(file: &super::embedded::EmbeddedFile) -> Self {
        let sha1 = file.sha1();
        CheckedVersion {
            version: None,
            read_at: SystemTime::now(),
            sha1_hex: to_hex(&sha1),
            sha1: sha1.to_vec(),
            git_blob: file.git_blob().map(<[u8]>::to_vec),
            length: file.bytes().len() as u64,
            bytes: Some(Bytes::from_static(file.bytes())),
            chunk_sha1s: None,
            taggable: file.taggable(),
            stylesheet: None,
            variants: Arc::new(Variants {
                brotli: tokio::sync::OnceCell::new_with(Some(
                    file.brotli().map(Bytes::from_static),
                )),
                gzip: tokio::sync::OnceCell::new_with(Some(file.gzip().map(Bytes::from_static))),
            }),
        }
    }

    /// True if these are the bytes `named` names.
    pub(crate) fn is(&self, named: &NamedBytes) -> bool {
        match named {
            NamedBytes::GitBlob(id) => self.git_blob.as_ref() == Some(id),
            NamedBytes::SentSha1(sha1) => self.sha1 == sha1,
        }
    }
}

/// What to check a stylesheet with.
pub(crate) struct StylesheetContext<'a> {
    pub(crate) lookup: &'a dyn StaticLookup,
    pub(crate) tagger: Tagger<'a>,
    /// The file's path, for the rewrite's record of what it read.
    pub(crate) path: PathBuf,
}

/// How much of a file sent from disk is hashed, verified and sent at a time.
pub(crate) const CHUNK_BYTES: u64 = 256 * 1024;

/// Reads and checks `version` of `file` (the request's one open of the file at the canonical
/// path `relative`); blocking. The bytes are held in memory when the file is within the
/// in-memory limit and the memory budget of `cache` has room for them; otherwise they are
/// hashed chunk by chunk and sent from the file. The second value is false if the file
/// changed while it was read: the bytes are consistent with their digest, but must not be
/// cached as `version`.
pub(crate) fn check_version(
    file: &File,
    version: FileVersion,
    relative: &str,
    limits: CacheLimits,
    cache: &VersionCache,
    stylesheet: Option<StylesheetContext<'_>>,
    git_blob_format: Option<ObjectFormat>,
) -> io::Result<(CheckedVersion, bool)> {
    let read_at = SystemTime::now();
    let size = version.size();
    let is_stylesheet = stylesheet.is_some();
    let length = usize::try_from(size).unwrap_or(usize::MAX);
    // A stylesheet is sent rewritten, which needs its bytes in memory, and must be: a page's
    // `integrity` is the rewrite's. One within the in-memory limit is read even when the
    // budget has no room (stylesheets are few and small; the cache makes room after); one
    // larger is sent as it is, never `immutable`.
    let memory = (size <= limits.file_bytes)
        .then(|| {
            cache
                .charge(length, limits)
                .or_else(|| is_stylesheet.then(|| cache.budget.charge(length)))
        })
        .flatten();
    let stylesheet = stylesheet.filter(|_| {
        if memory.is_none() {
            tracing::warn!(
                stylesheet = relative,
                "sent as it is, revalidated: larger than the in-memory file limit"
            );
        }
        memory.is_some()
    });
    let raw_stylesheet = is_stylesheet && stylesheet.is_none();
    let mut git_blob = None;
    let mut chunk_sha1s = None;
    let (bytes, sha1, taggable, stylesheet) = match (memory, stylesheet) {
        (Some(memory), Some(context)) => {
            let source = read_all(file, size)?;
            match rewrite_stylesheet_source(
                context.lookup,
                relative,
                &context.path,
                Some(version),
                &source,
                context.tagger,
            ) {
                Ok(mut rewritten) => {
                    let rewritten_bytes = std::mem::take(&mut rewritten.bytes);
                    drop(source);
                    // References gain their tags: a few bytes more than was charged.
                    let grown = rewritten_bytes.len().saturating_sub(memory.bytes());
                    let charge = memory.grown_by(grown);
                    let sha1 = rewritten.sha1.clone();
                    let state = StylesheetState {
                        rewritten,
                        missing_checked_at: Mutex::new(Instant::now()),
                        files_checked_at: Mutex::new(Instant::now()),
                    };
                    let bytes = charged_bytes(rewritten_bytes, charge);
                    (Some(bytes), sha1, true, Some(state))
                }
                Err(error) => {
                    tracing::error!(
                        stylesheet = relative,
                        %error,
                        "served as it is, revalidated: its references cannot be tagged"
                    );
                    let sha1 = sha1::Sha1::digest(&source).to_vec();
                    (Some(charged_bytes(source, memory)), sha1, false, None)
                }
            }
        }
        (Some(memory), None) => {
            let source = read_all(file, size)?;
            let sha1 = sha1::Sha1::digest(&source).to_vec();
            git_blob = git_blob_format.map(|format| git_blob_id(&source, format));
            (Some(charged_bytes(source, memory)), sha1, true, None)
        }
        (None, _) => {
            let digests = digests_of_open_file(
                file,
                size,
                git_blob_format.filter(|_| !raw_stylesheet),
                cache,
            )?;
            git_blob = digests.git_blob;
            chunk_sha1s = Some(digests.chunk_sha1s);
            (None, digests.sha1, !raw_stylesheet, None)
        }
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
        chunk_sha1s,
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

/// What one read of a file sent from disk gives.
struct FileDigests {
    /// The SHA-1 of the whole file.
    sha1: Vec<u8>,
    /// Its git blob id of `size` bytes, when asked for.
    git_blob: Option<Vec<u8>>,
    /// The SHA-1 of each [`CHUNK_BYTES`].
    chunk_sha1s: Arc<[[u8; 20]]>,
}

/// The digests of a file sent from disk, in one pass over it, through one chunk buffer
/// charged to the memory budget while it is used.
fn digests_of_open_file(
    file: &File,
    size: u64,
    git_blob_format: Option<ObjectFormat>,
    cache: &VersionCache,
) -> io::Result<FileDigests> {
    let mut hasher = sha1::Sha1::new();
    let mut blob = git_blob_format.map(|format| GitBlobHasher::new(format, size));
    let chunk_length = usize::try_from(CHUNK_BYTES).unwrap_or(usize::MAX);
    let _buffer = cache.budget.charge_chunk_blocking(chunk_length);
    let mut chunk = vec![0; chunk_length];
    let mut chunk_sha1s = Vec::new();
    let mut offset = 0;
    loop {
        let read = read_chunk_at(file, &mut chunk, offset)?;
        if read == 0 {
            // A file that grew or shrank since the open is another version: its blob id
            // (made for `size` bytes) names nothing, and the version check says so.
            let git_blob = blob.filter(|_| offset == size).map(GitBlobHasher::finalize);
            return Ok(FileDigests {
                sha1: hasher.finalize().to_vec(),
                git_blob,
                chunk_sha1s: chunk_sha1s.into(),
            });
        }
        hasher.update(&chunk[..read]);
        if let Some(blob) = &mut blob {
            blob.update(&chunk[..read]);
        }
        chunk_sha1s.push(sha1::Sha1::digest(&chunk[..read]).into());
        offset += read as u64;
    }
}

/// Fills `buffer` from `offset` as far as the file goes: the bytes read (fewer only at its
/// end).
pub(crate) fn read_chunk_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match read_at(file, &mut buffer[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
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

    /// Drops `checked` if it is still the cached version: its file turned out to hold other
    /// bytes (a chunk did not match its digest), so the next request reads it again.
    pub(crate) fn forget(&self, checked: &Arc<CheckedVersion>) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, checked))
        {
            *current = None;
        }
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

/// Checked versions by canonical path, bounded in entries and by the memory budget.
#[derive(Debug)]
pub(crate) struct VersionCache {
    slots: Mutex<HashMap<SlotKey, Arc<Slot>>>,
    clock: AtomicU64,
    /// Everything the service holds in memory is charged here.
    pub(crate) budget: Arc<MemoryBudget>,
}

impl Default for VersionCache {
    fn default() -> Self {
        VersionCache {
            slots: Mutex::default(),
            clock: AtomicU64::default(),
            budget: Arc::new(MemoryBudget::new(CacheLimits::default().bytes)),
        }
    }
}

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
            self.evict(&mut slots, limits, 0);
        }
        slot
    }

    /// `bytes` charged to the memory budget, making room for them by dropping the least
    /// recently used versions if need be; `None` if even that leaves no room (responses still
    /// hold what was dropped): the caller does without.
    pub(crate) fn charge(&self, bytes: usize, limits: CacheLimits) -> Option<Charge> {
        if let Some(charge) = self.budget.try_charge(bytes) {
            return Some(charge);
        }
        if bytes > self.budget.limit() {
            return None;
        }
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        self.evict(&mut slots, limits, bytes);
        drop(slots);
        self.budget.try_charge(bytes)
    }

    /// Evicts the least recently used paths until the cache is within `limits` again: called
    /// after a version or a variant was added.
    pub(crate) fn enforce(&self, limits: CacheLimits) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        self.evict(&mut slots, limits, 0);
    }

    /// The bytes charged and the entries held now (for tests and the benchmarks' memory
    /// report).
    pub(crate) fn usage(&self) -> (usize, usize) {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        (self.budget.used(), slots.len())
    }

    /// Drops the least recently used slots until there are at most nine tenths of
    /// `limits.entries` and the budget has `wanted` bytes free below nine tenths of its bound
    /// (a burst of new paths evicts in batches rather than on every insert). A dropped version
    /// that a response still holds keeps its charge until the response ends.
    fn evict(&self, slots: &mut HashMap<SlotKey, Arc<Slot>>, limits: CacheLimits, wanted: usize) {
        let limit = self.budget.limit();
        let over = |slots: &HashMap<SlotKey, Arc<Slot>>| {
            slots.len() > limits.entries || self.budget.used().saturating_add(wanted) > limit
        };
        if !over(slots) {
            return;
        }
        let entries_target = limits.entries - limits.entries / 10;
        let bytes_target = (limit - limit / 10).saturating_sub(wanted);
        let mut by_age: Vec<(u64, SlotKey)> = slots
            .iter()
            .map(|(key, slot)| (slot.last_used.load(Ordering::Relaxed), key.clone()))
            .collect();
        by_age.sort_unstable_by_key(|(last_used, _)| *last_used);
        for (_, key) in by_age {
            if slots.len() <= entries_target && self.budget.used() <= bytes_target {
                break;
            }
            // Dropped here, outside any other lock: its charges go back now unless a response
            // holds its bytes.
            drop(slots.remove(&key));
        }
    }
}
