//! Retention, one rule for the archive's revisions and a static export's exports: the last
//! few published and every one published within an age, whichever keeps more, and a grace
//! period after one stops being kept before what only it named is deleted.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Which revisions (of an archive) or exports (of a static export) keep their versions, and how long after they stop being kept their
/// versions are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// The last revisions published are retained, this many (5 by default).
    pub revisions: usize,
    /// Revisions published within this age are retained, however many (7 days by default).
    pub max_age: Duration,
    /// How long a version stays after no retained revision names it any more, and how long a
    /// newly uploaded version stays before any manifest names it (1 hour by default): longer
    /// than any publish, and than the clock skew between the instances and the store.
    pub grace: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            revisions: 5,
            max_age: Duration::from_secs(7 * 24 * 3600),
            grace: Duration::from_secs(3600),
        }
    }
}

/// When each revision was last published (milliseconds), and which the policy protects at
/// `now_ms`: the retained ones, and those that stopped being retained less than `grace` ago.
/// Returns (retained, protected).
pub(crate) fn protected_revisions(
    policy: &RetentionPolicy,
    now_ms: u64,
    latest_publication: &HashMap<String, u64>,
) -> (HashSet<String>, HashSet<String>) {
    let max_age = duration_ms(policy.max_age);
    let grace = duration_ms(policy.grace);
    let mut order: Vec<(u64, &String)> = latest_publication
        .iter()
        .map(|(revision, published)| (*published, revision))
        .collect();
    // Newest first; equal times in a fixed order.
    order.sort_unstable_by(|a, b| b.cmp(a));
    let mut retained = HashSet::new();
    let mut protected = HashSet::new();
    for (rank, &(published, revision)) in order.iter().enumerate() {
        let young = published.saturating_add(max_age) >= now_ms;
        if rank < policy.revisions || young {
            retained.insert(revision.clone());
            protected.insert(revision.clone());
            continue;
        }
        // It left the last `revisions` when the revision `revisions` places newer than it was
        // published, and aged out at `published + max_age`: unreferenced since the later.
        let displaced_at = order[rank - policy.revisions].0;
        let unretained_since = displaced_at.max(published.saturating_add(max_age));
        if now_ms < unretained_since.saturating_add(grace) {
            protected.insert(revision.clone());
        }
    }
    (retained, protected)
}

pub(crate) fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
