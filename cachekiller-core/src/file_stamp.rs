//! A cheap "has this file changed?" check, for the per-process caches.

use std::path::Path;
use std::time::SystemTime;

/// Size and modification time of a file, or `None` if it cannot be read (gone, say).
pub type FileStamp = Option<(u64, SystemTime)>;

/// The stamp of `path` now.
#[must_use]
pub fn file_stamp(path: &Path) -> FileStamp {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()?))
}
