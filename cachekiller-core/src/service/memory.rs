//! One memory bound for everything the service holds: checked bodies and their compressed
//! variants (cached, or evicted but still held by a slow client's response), and the working
//! memory of compressions in flight. Each allocation is charged before it is made and the
//! charge lives as long as the bytes do (it travels inside the `Bytes`, so a response that
//! outlives the cache entry keeps counting). When a charge cannot be had, the cache makes room
//! by dropping what no response holds; when that is not enough, the service does without:
//! a file is sent from disk instead of memory, a body is not compressed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;

/// The bound and what is charged against it now.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    limit: AtomicUsize,
    used: AtomicUsize,
}

/// Bytes charged to a budget, given back when it is dropped.
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        MemoryBudget {
            limit: AtomicUsize::new(limit),
            used: AtomicUsize::new(0),
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

    /// What is charged now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
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
        })
    }

    /// `bytes` charged whether they fit or not: for what must be allocated to answer at all
    /// (a chunk of a file being sent), which the cache then makes room for.
    pub(crate) fn charge(self: &Arc<Self>, bytes: usize) -> Charge {
        self.used.fetch_add(bytes, Ordering::AcqRel);
        Charge {
            budget: Arc::clone(self),
            bytes,
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
        charge
            .budget
            .used
            .fetch_sub(charge.bytes - held, Ordering::AcqRel);
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
}
