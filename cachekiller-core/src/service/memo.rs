//! The one expiring memo of the service: values by key, each reused for a while after it was
//! made, a bounded number of them. Run-time URLs and integrities, the `MiniJinja` functions'
//! values and the archive's answers to old tags are kept in it.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Values by key, each reused for `lifetime` after it was made. At most `capacity` are kept:
/// beyond it the memo starts over (the keys a site asks for are few, and a flood of made-up
/// ones then costs one clear, not a growing map).
#[derive(Debug)]
pub(crate) struct ExpiringMemo<K, V> {
    lifetime: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Hash + Eq, V: Clone> ExpiringMemo<K, V> {
    /// An empty memo.
    pub(crate) fn new(lifetime: Duration, capacity: usize) -> Self {
        ExpiringMemo {
            lifetime,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value of `key` if it was made less than the lifetime ago (looked up by a borrowed
    /// key: a hit allocates nothing).
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .filter(|(_, made_at)| made_at.elapsed() < self.lifetime)
            .map(|(value, _)| value.clone())
    }

    /// Remembers `value` for `key`, made now.
    pub(crate) fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// The value of `key`: remembered, else made by `make` (outside the lock) and remembered.
    ///
    /// # Errors
    /// The error of `make`, which is not remembered.
    pub(crate) fn get_or_make<Q, E>(
        &self,
        key: &Q,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(value) = self.get(key) {
            return Ok(value);
        }
        let value = make()?;
        self.insert(key.to_owned(), value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_the_memo_starts_over_past_its_capacity() {
        let memo: ExpiringMemo<String, u32> = ExpiringMemo::new(Duration::from_millis(100), 2);
        assert_eq!(memo.get_or_make("a", || Ok::<_, ()>(1)), Ok(1));
        assert_eq!(
            memo.get_or_make("a", || Ok::<_, ()>(2)),
            Ok(1),
            "remembered"
        );
        assert_eq!(memo.get_or_make("b", || Err("no")), Err("no"));
        assert_eq!(memo.get("b"), None, "an error is not remembered");
        memo.insert("b".into(), 3);
        memo.insert("c".into(), 4);
        assert_eq!(memo.get("a"), None, "past its capacity it started over");
        assert_eq!(memo.get("c"), Some(4));
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(memo.get("c"), None, "expired");
        assert_eq!(memo.get_or_make("c", || Ok::<_, ()>(5)), Ok(5));
    }
}
