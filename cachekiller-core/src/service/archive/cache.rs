//! The lookups' memory: what a path's versions are and what a revision's manifest says (for
//! a while), and verified blob bytes (for good: a SHA-1 names one content). Bounded in entries
//! and bytes, the least recently used dropped first.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// The bounds and lifetimes of the lookup cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Paths and revisions remembered (each).
    pub entries: usize,
    /// Bytes of verified blobs held.
    pub bytes: usize,
    /// How long a listing or manifest that answered a lookup is reused.
    pub positive_ttl: Duration,
    /// How long an answer of "nothing archived" is reused: short, since the next deploy may
    /// publish it any moment.
    pub negative_ttl: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            entries: 10_000,
            bytes: 32 * 1024 * 1024,
            positive_ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(5),
        }
    }
}

/// A value and when it was fetched.
#[derive(Debug, Clone)]
pub(super) struct Fetched<T> {
    pub(super) at: Instant,
    pub(super) value: T,
}

/// A map bounded in entries, least recently used first out.
#[derive(Debug)]
pub(super) struct Bounded<K, V> {
    map: Mutex<HashMap<K, (V, u64)>>,
    clock: AtomicU64,
}

impl<K, V> Default for Bounded<K, V> {
    fn default() -> Self {
        Bounded {
            map: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Bounded<K, V> {
    pub(super) fn get(&self, key: &K) -> Option<V> {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get_mut(key).map(|(value, used)| {
            *used = now;
            value.clone()
        })
    }

    pub(super) fn insert(&self, key: K, value: V, entries: usize) {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(key, (value, now));
        if map.len() > entries.max(1) {
            // Down to nine tenths, so that a burst of new keys evicts in batches.
            let target = entries.max(1) - entries / 10;
            let mut by_age: Vec<(u64, K)> = map
                .iter()
                .map(|(key, (_, used))| (*used, key.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(used, _)| *used);
            for (_, key) in by_age.into_iter().take(map.len() - target) {
                map.remove(&key);
            }
        }
    }

    pub(super) fn remove(&self, key: &K) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

/// Verified blob bytes by SHA-1 hex, bounded in bytes.
#[derive(Debug, Default)]
pub(super) struct BlobCache {
    inner: Mutex<BlobCacheInner>,
}

#[derive(Debug, Default)]
struct BlobCacheInner {
    blobs: HashMap<String, (Bytes, u64)>,
    bytes: usize,
    clock: u64,
}

impl BlobCache {
    pub(super) fn get(&self, sha1_hex: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.clock += 1;
        let now = inner.clock;
        inner.blobs.get_mut(sha1_hex).map(|(bytes, used)| {
            *used = now;
            bytes.clone()
        })
    }

    /// Keeps `bytes` (already verified to hash to `sha1_hex`) unless they would take more
    /// than an eighth of the bound: one large file must not flush every small one.
    pub(super) fn insert(&self, sha1_hex: &str, bytes: Bytes, limit: usize) {
        if bytes.len() > limit / 8 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.clock += 1;
        let now = inner.clock;
        inner.bytes += bytes.len();
        if let Some((old, _)) = inner.blobs.insert(sha1_hex.to_owned(), (bytes, now)) {
            inner.bytes -= old.len();
        }
        if inner.bytes > limit {
            let target = limit - limit / 10;
            let mut by_age: Vec<(u64, String)> = inner
                .blobs
                .iter()
                .map(|(key, (_, used))| (*used, key.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(used, _)| *used);
            for (_, key) in by_age {
                if inner.bytes <= target {
                    break;
                }
                if let Some((old, _)) = inner.blobs.remove(&key) {
                    inner.bytes -= old.len();
                }
            }
        }
    }

    pub(super) fn usage(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        (inner.bytes, inner.blobs.len())
    }
}

/// A path's archived versions (SHA-1 hex), as listed.
pub(super) type Versions = Arc<[String]>;
