//! One memory bound for everything the service holds: checked bodies and their compressed
//! variants (cached, or evicted but still held by a slow client's response), the working
//! memory of compressions in flight, and the chunk buffers of files read from disk. Each
//! allocation is charged before it is made and the charge lives as long as the bytes do (it
//! travels inside the `Bytes`, so a response that outlives the cache entry keeps counting).
//! When a charge cannot be had, the cache makes room by dropping what no response holds; when
//! that is not enough, the service does without: a file is sent from disk instead of memory, a
//! body is not compressed.
//!
//! Chunks are the one thing a request cannot do without, and a slow client holds its chunk
//! (in hyper's write queue) for as long as it does not read: they get at most a quarter of the
//! bound ([`MemoryBudget::chunk_bound`]), and a request that needs one when all are held waits
//! for one to be given back. Four hundred clients that never read hold 16 MiB, not 400 chunks,
//! and cannot push the cache out, nor leave a stylesheet without room for its rewrite.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::Notify;

/// The bound and what is charged against it now.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    limit: AtomicUsize,
    used: AtomicUsize,
    /// What chunk buffers hold now (also counted in `used`).
    chunks: Mutex<usize>,
    /// Wakes the blocking threads that wait for chunk room.
    chunk_given_back: Condvar,
    /// Wakes the responses that wait for chunk room.
    chunk_given_back_async: Notify,
}

/// Bytes charged to a budget, given back when it is dropped.
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<MemoryBudget>,
    bytes: usize,
    /// A chunk buffer's charge, counted against the chunk bound too.
    chunk: bool,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
        if self.chunk {
            *self.budget.lock_chunks() -= self.bytes;
            self.budget.chunk_given_back.notify_all();
            self.budget.chunk_given_back_async.notify_waiters();
        }
    }
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        MemoryBudget {
            limit: AtomicUsize::new(limit),
            used: AtomicUsize::new(0),
            chunks: Mutex::new(0),
            chunk_given_back: Condvar::new(),
            chunk_given_back_async: Notify::new(),
        }
    }

    /// Sets the bound (before the service takes requests).
    pub(crate) fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Release);
    }

    /// The bound.
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Acquire)
    }

    /// What chunk buffers may hold at once: a quarter of the bound.
    pub(crate) fn chunk_bound(&self) -> usize {
        self.limit() / 4
    }

    /// What is charged now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    fn lock_chunks(&self) -> std::sync::MutexGuard<'_, usize> {
        self.chunks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `bytes` charged if they fit within the bound, else `None`.
    pub(crate) fn try_charge(self: &Arc<Self>, bytes: usize) -> Option<Charge> {
        let limit = self.limit();
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= limit)
            })
            .ok()?;
        Some(Charge {
            budget: Arc::clone(self),
            bytes,
            chunk: false,
        })
    }

    /// `bytes` charged whether they fit or not: for what must be allocated to answer at all
    /// (a stylesheet's rewrite), which the cache then makes room for.
    pub(crate) fn charge(self: &Arc<Self>, bytes: usize) -> Charge {
        self.used.fetch_add(bytes, Ordering::AcqRel);
        Charge {
            budget: Arc::clone(self),
            bytes,
            chunk: false,
        }
    }

    /// A chunk buffer of `bytes` charged, if the chunks held now leave room for it (one chunk
    /// always fits when none is held, however small the bound).
    fn try_charge_chunk(self: &Arc<Self>, chunks: &mut usize, bytes: usize) -> Option<Charge> {
        if *chunks != 0 && *chunks + bytes > self.chunk_bound() {
            return None;
        }
        *chunks += bytes;
        self.used.fetch_add(bytes, Ordering::AcqRel);
        Some(Charge {
            budget: Arc::clone(self),
            bytes,
            chunk: true,
        })
    }

    /// A chunk buffer of `bytes` charged, waiting (on a blocking thread) until the chunks held
    /// leave room for it.
    pub(crate) fn charge_chunk_blocking(self: &Arc<Self>, bytes: usize) -> Charge {
        let mut chunks = self.lock_chunks();
        loop {
            if let Some(charge) = self.try_charge_chunk(&mut chunks, bytes) {
                return charge;
            }
            chunks = self
                .chunk_given_back
                .wait(chunks)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A chunk buffer of `bytes` charged, waiting (without holding a thread) until the chunks
    /// held leave room for it.
    pub(crate) async fn charge_chunk(self: &Arc<Self>, bytes: usize) -> Charge {
        loop {
            // Registered before the check, so that a chunk given back in between wakes it.
            let mut given_back = std::pin::pin!(self.chunk_given_back_async.notified());
            given_back.as_mut().enable();
            if let Some(charge) = self.try_charge_chunk(&mut self.lock_chunks(), bytes) {
                return charge;
            }
            given_back.await;
        }
    }
}

impl Charge {
    /// The bytes charged.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// This charge grown by `more` bytes, whether they fit or not (what was admitted grew a
    /// little: a stylesheet's references gained their tags).
    pub(crate) fn grown_by(mut self, more: usize) -> Charge {
        debug_assert!(!self.chunk);
        self.budget.used.fetch_add(more, Ordering::AcqRel);
        self.bytes += more;
        self
    }
}

/// Bytes that carry their charge: the budget gets the charge back when the last clone of
/// them (a cache entry's, a response's) is dropped.
#[derive(Debug)]
struct Charged {
    bytes: Vec<u8>,
    _charge: Charge,
}

impl AsRef<[u8]> for Charged {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// `bytes` as `Bytes` holding `charge`, trimmed to their length (the charge is adjusted down
/// to it when it was made for more).
pub(crate) fn charged_bytes(mut bytes: Vec<u8>, mut charge: Charge) -> Bytes {
    bytes.shrink_to_fit();
    let held = bytes.capacity();
    if held < charge.bytes {
        let released = charge.bytes - held;
        charge.budget.used.fetch_sub(released, Ordering::AcqRel);
        if charge.chunk {
            *charge.budget.lock_chunks() -= released;
        }
        charge.bytes = held;
    }
    Bytes::from_owner(Charged {
        bytes,
        _charge: charge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_given_back_when_the_last_holder_drops_them() {
        let budget = Arc::new(MemoryBudget::new(100));
        let first = budget.try_charge(60).unwrap();
        assert!(budget.try_charge(41).is_none(), "past the bound");
        let bytes = charged_bytes(vec![7; 50], first);
        assert_eq!(budget.used(), 50, "adjusted to what the bytes hold");
        let held_by_a_response = bytes.slice(10..20);
        drop(bytes);
        assert_eq!(budget.used(), 50, "a slice still holds them");
        drop(held_by_a_response);
        assert_eq!(budget.used(), 0);
        let forced = budget.charge(150);
        assert_eq!(budget.used(), 150);
        assert!(budget.try_charge(1).is_none());
        drop(forced);
        assert!(budget.try_charge(100).is_some());
    }

    #[test]
    fn chunks_wait_for_room_within_a_quarter_of_the_bound() {
        let budget = Arc::new(MemoryBudget::new(400));
        let first = budget.charge_chunk_blocking(60);
        let second = budget.charge_chunk_blocking(40);
        assert_eq!(budget.used(), 100);
        // A third would pass the chunk bound (100): it waits until one is given back.
        let waiting = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || budget.charge_chunk_blocking(50))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiting.is_finished(), "no room: it waits");
        drop(first);
        let third = waiting.join().unwrap();
        assert_eq!(budget.used(), 90);
        drop((second, third));
        assert_eq!(budget.used(), 0);

        // The same, waiting without a thread.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let held = budget.charge_chunk(100).await;
            let budget_for_waiter = Arc::clone(&budget);
            let waiter = tokio::spawn(async move { budget_for_waiter.charge_chunk(10).await });
            tokio::task::yield_now().await;
            assert!(!waiter.is_finished(), "no room: it waits");
            drop(held);
            let charge = waiter.await.unwrap();
            assert_eq!(charge.bytes(), 10);
        });
        // One chunk always fits, however small the bound.
        let tiny = Arc::new(MemoryBudget::new(4));
        assert_eq!(tiny.charge_chunk_blocking(100).bytes(), 100);
    }
}
