//! A "has this file changed?" check, for the per-process caches of digests, rewritten
//! stylesheets and served versions.

use std::fs::Metadata;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How far apart two writes may be and still get the same timestamp. Linux stamps files from
/// a coarse clock (a few milliseconds), and some filesystems keep whole or even two seconds
/// (FAT, some network mounts). A file written within this much of being hashed may change
/// again without its stamp changing, so such a digest is not reused (git's "racy" entries).
pub const TIMESTAMP_GRANULE: Duration = Duration::from_secs(2);

/// One version of a file as the filesystem describes it: device, inode, size, and the
/// modification and status-change times at full precision.
///
/// The inode tells apart two files a deploy swapped in under one path (a `current ->
/// releases/42` link, a rename over the old file) whose sizes and mtimes agree, as `rsync -a`
/// and archive extraction make them; the status-change time (ctime) changes on every write and
/// cannot be set back by `touch -r`, so an in-place write of the same size with the mtime
/// restored is seen too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileVersion {
    device: u64,
    inode: u64,
    size: u64,
    modified: SystemTime,
    changed: (i64, i64),
}

impl FileVersion {
    /// The version of a file whose metadata the caller has read (from `fstat` of an open file,
    /// or `stat` of a path).
    #[must_use]
    pub fn of(metadata: &Metadata) -> Option<Self> {
        #[cfg(unix)]
        let (device, inode, changed) = {
            use std::os::unix::fs::MetadataExt as _;
            (
                metadata.dev(),
                metadata.ino(),
                (metadata.ctime(), metadata.ctime_nsec()),
            )
        };
        #[cfg(not(unix))]
        let (device, inode, changed) = (0, 0, (0, 0));
        Some(FileVersion {
            device,
            inode,
            size: metadata.len(),
            modified: metadata.modified().ok()?,
            changed,
        })
    }

    /// The size in bytes.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A key naming the file itself (device and inode), whatever path it is reached by; it
    /// starts with a NUL, which no path holds.
    #[must_use]
    pub fn identity_key(&self) -> String {
        format!("\0{}:{}", self.device, self.inode)
    }

    /// The version as one line of text, for a store of digests kept between compilations.
    #[cfg(feature = "resolve")]
    #[must_use]
    pub fn to_text(&self) -> String {
        let modified = self
            .modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{}:{}:{}:{}.{}:{}.{}",
            self.device,
            self.inode,
            self.size,
            modified.as_secs(),
            modified.subsec_nanos(),
            self.changed.0,
            self.changed.1
        )
    }

    /// The version [`FileVersion::to_text`] wrote.
    #[cfg(feature = "resolve")]
    #[must_use]
    pub fn from_text(text: &str) -> Option<Self> {
        let mut fields = text.split(':');
        let device = fields.next()?.parse().ok()?;
        let inode = fields.next()?.parse().ok()?;
        let size = fields.next()?.parse().ok()?;
        let (seconds, nanoseconds) = fields.next()?.split_once('.')?;
        let modified = SystemTime::UNIX_EPOCH.checked_add(Duration::new(
            seconds.parse().ok()?,
            nanoseconds.parse().ok()?,
        ))?;
        let (seconds, nanoseconds) = fields.next()?.split_once('.')?;
        let changed = (seconds.parse().ok()?, nanoseconds.parse().ok()?);
        fields.next().is_none().then_some(FileVersion {
            device,
            inode,
            size,
            modified,
            changed,
        })
    }

    /// The later of the modification and status-change times.
    fn newest_time(&self) -> SystemTime {
        let (seconds, nanoseconds) = self.changed;
        let changed = u64::try_from(seconds)
            .ok()
            .and_then(|seconds| {
                let nanoseconds = u32::try_from(nanoseconds).ok()?;
                SystemTime::UNIX_EPOCH.checked_add(Duration::new(seconds, nanoseconds))
            })
            .unwrap_or(SystemTime::UNIX_EPOCH);
        changed.max(self.modified)
    }

    /// True if a digest of this version computed from a read that started at `read_at` can be
    /// trusted for later requests that see the same version: the file was last written at
    /// least a [`TIMESTAMP_GRANULE`] before the read, so a later write cannot carry the same
    /// timestamps.
    #[must_use]
    pub fn settled_before(&self, read_at: SystemTime) -> bool {
        self.newest_time()
            .checked_add(TIMESTAMP_GRANULE)
            .is_some_and(|settled| settled <= read_at)
    }
}

/// The version of a file, or `None` if it cannot be read (gone, say).
pub type FileStamp = Option<FileVersion>;

/// The stamp of `path` now.
#[must_use]
pub fn file_stamp(path: &Path) -> FileStamp {
    stamp_of(&std::fs::metadata(path).ok()?)
}

/// The stamp of a file whose metadata the caller has read.
#[must_use]
pub fn stamp_of(metadata: &Metadata) -> FileStamp {
    FileVersion::of(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_place_write_with_size_and_mtime_restored_is_another_version() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("app.js");
        std::fs::write(&path, "console.log(1);\n").unwrap();
        let before = file_stamp(&path).unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        // Same size, and the mtime set back: only the ctime (and the bytes) differ.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, "console.log(2);\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let after = file_stamp(&path).unwrap();
        assert_eq!(after.size(), before.size());
        assert_eq!(after.modified, before.modified);
        assert_ne!(after, before);
    }

    #[test]
    fn a_version_written_just_before_a_read_is_not_settled() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("a.css");
        std::fs::write(&path, "a {}").unwrap();
        let version = file_stamp(&path).unwrap();
        assert!(!version.settled_before(SystemTime::now()));
        assert!(version.settled_before(SystemTime::now() + TIMESTAMP_GRANULE * 2));
    }
}
