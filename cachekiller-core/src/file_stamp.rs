//! A cheap "has this file changed?" check, for the per-process caches.

use std::fs::Metadata;
use std::path::Path;
use std::time::SystemTime;

/// Size, modification time and inode number of a file, or `None` if it cannot be read (gone,
/// say). The inode tells two files apart that a deploy swapped in under one path (a
/// `current -> releases/42` link, a rename over the old file) even when their sizes and
/// mtimes agree, as `rsync -a` and archive extraction make them.
pub type FileStamp = Option<(u64, SystemTime, u64)>;

/// The stamp of `path` now.
#[must_use]
pub fn file_stamp(path: &Path) -> FileStamp {
    stamp_of(&std::fs::metadata(path).ok()?)
}

/// The stamp of a file whose metadata the caller has read.
#[must_use]
pub fn stamp_of(metadata: &Metadata) -> FileStamp {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Some((metadata.len(), metadata.modified().ok()?, inode))
}
