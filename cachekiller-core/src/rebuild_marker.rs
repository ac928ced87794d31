//! A file that makes cargo rebuild a crate on every build, for the states that no file of the
//! repository can announce the end of.
//!
//! cargo rebuilds a crate when a file of its dep-info is newer than the start of the crate's
//! last build, or is gone. A file whose modification time lies far in the future is always
//! newer: tracked like the repository's files, it rebuilds the crate on every `cargo build`.
//! It is used only while the revision cannot be watched, and each of those states ends with
//! the next commit:
//! - a git repository before its first commit, or on an orphan branch: the commit creates the
//!   branch's ref, a file that does not exist yet, and `.git/HEAD` does not change;
//! - a Mercurial repository before its first commit: `hg init` writes no dirstate;
//! - a git branch that lives only in `packed-refs` while reflogs are off: the next commit
//!   creates a loose ref and rewrites nothing that exists.
//!
//! Its content is new on every write (process id and time), because shared compile caches
//! (sccache) key a crate by the content of its dep-info files: a constant marker would let
//! them return the artifact built before the commit. It lives in the temporary directory,
//! never in the repository.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// 2100-01-01T00:00:00Z: later than any build start cargo will compare it with.
const FUTURE: Duration = Duration::from_secs(4_102_444_800);

/// Writes the marker anew (new content, modification time in the future) and returns its
/// path, to be tracked.
///
/// # Errors
/// [`Error::RebuildMarkerUnwritable`] if the temporary directory cannot hold it.
pub fn write_rebuild_marker() -> Result<PathBuf> {
    let directory = std::env::temp_dir().join(format!("cachekiller-{}", user_id()));
    let marker = directory.join("rebuild-until-a-revision");
    let unwritable = |error: std::io::Error| Error::RebuildMarkerUnwritable {
        path: marker.clone(),
        reason: error.to_string(),
    };
    std::fs::create_dir_all(&directory).map_err(unwritable)?;
    // Written beside it, then renamed over it: crates compiling in parallel never see half a
    // file, and rustc may be reading the previous one.
    let process = std::process::id();
    let staging = directory.join(format!("rebuild-until-a-revision.{process}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let mut file = std::fs::File::create(&staging).map_err(unwritable)?;
    writeln!(
        file,
        "cachekiller: rebuild on every build until the repository has a revision\n{process} {now}"
    )
    .map_err(unwritable)?;
    file.set_modified(UNIX_EPOCH + FUTURE).map_err(unwritable)?;
    drop(file);
    std::fs::rename(&staging, &marker).map_err(unwritable)?;
    Ok(marker)
}

/// The user's id, so that users sharing a temporary directory do not share (or fight over)
/// the marker.
#[cfg(unix)]
fn user_id() -> String {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").map_or_else(|_| "user".to_owned(), |m| m.uid().to_string())
}

#[cfg(not(unix))]
fn user_id() -> String {
    "user".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_newer_than_any_build_and_new_on_every_write() {
        let first = write_rebuild_marker().unwrap();
        let content = std::fs::read(&first).unwrap();
        let modified = std::fs::metadata(&first).unwrap().modified().unwrap();
        assert!(modified > SystemTime::now() + Duration::from_secs(50 * 365 * 86_400));
        std::thread::sleep(Duration::from_millis(2));
        let second = write_rebuild_marker().unwrap();
        assert_eq!(first, second, "one path, so the dep-info names one file");
        assert_ne!(std::fs::read(&second).unwrap(), content);
        assert!(!first.starts_with(std::env::current_dir().unwrap()));
    }
}
