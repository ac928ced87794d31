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
//!
//! The temporary directory is shared with every local user, and every `cargo new` project
//! builds through here until its first commit, often as root in containers. So the marker's
//! directory must be one only the building user can write to: created with mode 0700, or, if
//! it exists, a real directory (not a link) owned by the user, made 0700. Another user who
//! created it first could otherwise plant links there (the build would overwrite the file
//! they point to) or a FIFO (rustc's `include_bytes!` would wait on it forever): such a
//! directory is refused with a compile error. Inside it, the staging file is created new
//! (`O_CREAT | O_EXCL`, which never follows a link) and renamed over the marker, and the
//! marker is checked to be a regular file of the user's before it is tracked.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::rules::error::{Error, Result};

/// 2100-01-01T00:00:00Z: later than any build start cargo will compare it with.
const FUTURE: Duration = Duration::from_secs(4_102_444_800);

/// The marker's name in its directory.
const MARKER_NAME: &str = "rebuild-until-a-revision";

/// Writes the marker anew (new content, modification time in the future) in the user's own
/// directory of the temporary directory, and returns its path, to be tracked.
///
/// # Errors
/// [`Error::RebuildMarkerUnsafe`] if the directory or the marker is not the user's own, or
/// [`Error::RebuildMarkerUnwritable`] if it cannot be written.
pub fn write_rebuild_marker() -> Result<PathBuf> {
    write_rebuild_marker_in(&std::env::temp_dir())
}

/// [`write_rebuild_marker`] in `temporary` instead of the temporary directory.
///
/// # Errors
/// As [`write_rebuild_marker`].
pub fn write_rebuild_marker_in(temporary: &Path) -> Result<PathBuf> {
    let user = user_id(temporary)?;
    let directory = temporary.join(format!("cachekiller-{user}"));
    let marker = directory.join(MARKER_NAME);
    let unwritable = |error: std::io::Error| Error::RebuildMarkerUnwritable {
        path: marker.clone(),
        reason: error.to_string(),
    };
    private_directory(&directory, user)?;
    // Written beside it, then renamed over it: crates compiling in parallel never see half a
    // file, and rustc may be reading the previous one.
    let process = std::process::id();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let staging = directory.join(format!("{MARKER_NAME}.{process}.{now}"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staging)
        .map_err(unwritable)?;
    let written = writeln!(
        file,
        "cachekiller: rebuild on every build until the repository has a revision\n{process} {now}"
    )
    .and_then(|()| file.set_modified(UNIX_EPOCH + FUTURE));
    drop(file);
    if let Err(error) = written.and_then(|()| std::fs::rename(&staging, &marker)) {
        let _ = std::fs::remove_file(&staging);
        return Err(unwritable(error));
    }
    check_own_regular_file(&marker, user)?;
    Ok(marker)
}

/// Makes sure `directory` is a directory (not a link) owned by `user` with mode 0700,
/// creating it so if it does not exist.
#[cfg(unix)]
fn private_directory(directory: &Path, user: u32) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
    let unsafe_directory = |reason: String| Error::RebuildMarkerUnsafe {
        path: directory.to_owned(),
        reason,
    };
    let unwritable = |error: std::io::Error| Error::RebuildMarkerUnwritable {
        path: directory.to_owned(),
        reason: error.to_string(),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(directory) {
        Ok(()) => {}
        // Made by an earlier build, a parallel one, or someone else: checked below.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(unwritable(error)),
    }
    let metadata = std::fs::symlink_metadata(directory).map_err(unwritable)?;
    if metadata.file_type().is_symlink() {
        return Err(unsafe_directory("it is a symbolic link".to_owned()));
    }
    if !metadata.is_dir() {
        return Err(unsafe_directory("it is not a directory".to_owned()));
    }
    if metadata.uid() != user {
        return Err(unsafe_directory(format!(
            "it belongs to user {}, not to user {user} who builds",
            metadata.uid()
        )));
    }
    // Ours but open to others (made by an older cachekiller with the umask's mode, or chmod-ed):
    // closed now; what others may have put in it is never followed (see the module's doc).
    if metadata.mode() & 0o777 != 0o700 {
        std::fs::set_permissions(directory, std::fs::Permissions::from_mode(0o700))
            .map_err(unwritable)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_directory(directory: &Path, _user: u32) -> Result<()> {
    // The temporary directory of Windows is the user's own.
    std::fs::create_dir_all(directory).map_err(|error| Error::RebuildMarkerUnwritable {
        path: directory.to_owned(),
        reason: error.to_string(),
    })
}

/// Refuses a marker that is not a regular file of `user`'s.
#[cfg(unix)]
fn check_own_regular_file(marker: &Path, user: u32) -> Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let metadata =
        std::fs::symlink_metadata(marker).map_err(|error| Error::RebuildMarkerUnwritable {
            path: marker.to_owned(),
            reason: error.to_string(),
        })?;
    if !metadata.file_type().is_file() || metadata.uid() != user {
        return Err(Error::RebuildMarkerUnsafe {
            path: marker.to_owned(),
            reason: format!(
                "it is not a regular file of user {user}, who builds, though only that user \
                 can write in its directory"
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_own_regular_file(_marker: &Path, _user: u32) -> Result<()> {
    Ok(())
}

/// The effective user id, which owns the files this process creates: from
/// `/proc/self/status` on Linux, else from a file created in `temporary` for the purpose.
#[cfg(unix)]
fn user_id(temporary: &Path) -> Result<u32> {
    use std::os::unix::fs::MetadataExt as _;
    // `Uid:` lists the real, effective, saved and file-system ids: the last owns new files.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let file_system_user = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(3))
            .and_then(|id| id.parse().ok());
        if let Some(user) = file_system_user {
            return Ok(user);
        }
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let probe = temporary.join(format!(
        ".cachekiller-user-probe.{}.{nanos}",
        std::process::id()
    ));
    let unwritable = |error: std::io::Error| Error::RebuildMarkerUnwritable {
        path: probe.clone(),
        reason: error.to_string(),
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(unwritable)?;
    let user = file.metadata().map_err(unwritable)?.uid();
    drop(file);
    let _ = std::fs::remove_file(&probe);
    Ok(user)
}

#[cfg(not(unix))]
fn user_id(_temporary: &Path) -> Result<u32> {
    Ok(0)
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

    #[cfg(unix)]
    mod unix {
        use super::super::*;
        use crate::test_support::run;
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

        /// This process's user, from `id -u`; the tests below need root to give a
        /// directory to another user.
        fn builder() -> u32 {
            let id: u32 = run("id", Path::new("/"), &["-u"]).parse().unwrap();
            assert_eq!(
                id, 0,
                "these tests give directories to another user: run them as root, as CI does"
            );
            id
        }

        /// A temporary dir with a file that a planted link points to.
        fn temporary_with_victim() -> (tempfile::TempDir, PathBuf) {
            let temporary = tempfile::tempdir().unwrap();
            let victim = temporary.path().join("victim");
            std::fs::write(&victim, "precious").unwrap();
            (temporary, victim)
        }

        #[test]
        fn a_directory_of_another_user_is_refused() {
            let user = builder();
            let (temporary, victim) = temporary_with_victim();
            let directory = temporary.path().join(format!("cachekiller-{user}"));
            std::fs::create_dir(&directory).unwrap();
            std::fs::set_permissions(&directory, std::fs::Permissions::from_mode(0o777)).unwrap();
            std::os::unix::fs::symlink(&victim, directory.join(MARKER_NAME)).unwrap();
            std::os::unix::fs::chown(&directory, Some(65534), Some(65534)).unwrap();
            let error = write_rebuild_marker_in(temporary.path()).unwrap_err();
            assert_eq!(
                error,
                Error::RebuildMarkerUnsafe {
                    path: directory.clone(),
                    reason: "it belongs to user 65534, not to user 0 who builds".into(),
                }
            );
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        }

        #[test]
        fn a_link_or_a_file_in_place_of_the_directory_is_refused() {
            let user = builder();
            let (temporary, victim) = temporary_with_victim();
            let directory = temporary.path().join(format!("cachekiller-{user}"));
            let elsewhere = temporary.path().join("elsewhere");
            std::fs::create_dir(&elsewhere).unwrap();
            std::os::unix::fs::symlink(&elsewhere, &directory).unwrap();
            assert!(matches!(
                write_rebuild_marker_in(temporary.path()),
                Err(Error::RebuildMarkerUnsafe { reason, .. }) if reason == "it is a symbolic link"
            ));
            std::fs::remove_file(&directory).unwrap();
            std::os::unix::fs::symlink(&victim, &directory).unwrap();
            assert!(matches!(
                write_rebuild_marker_in(temporary.path()),
                Err(Error::RebuildMarkerUnsafe { reason, .. }) if reason == "it is a symbolic link"
            ));
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
            assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
            std::fs::remove_file(&directory).unwrap();
            std::fs::write(&directory, "a file").unwrap();
            assert!(matches!(
                write_rebuild_marker_in(temporary.path()),
                Err(Error::RebuildMarkerUnsafe { reason, .. }) if reason == "it is not a directory"
            ));
        }

        #[test]
        fn an_own_directory_open_to_others_is_closed_and_what_was_planted_is_not_followed() {
            let user = builder();
            let (temporary, victim) = temporary_with_victim();
            let directory = temporary.path().join(format!("cachekiller-{user}"));
            std::fs::create_dir(&directory).unwrap();
            std::fs::set_permissions(&directory, std::fs::Permissions::from_mode(0o777)).unwrap();
            // A link where the marker goes, and a FIFO: include_bytes! would wait on it.
            std::os::unix::fs::symlink(&victim, directory.join(MARKER_NAME)).unwrap();
            let marker = write_rebuild_marker_in(temporary.path()).unwrap();
            assert_eq!(marker, directory.join(MARKER_NAME));
            assert!(std::fs::symlink_metadata(&marker)
                .unwrap()
                .file_type()
                .is_file());
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
            let mode = std::fs::metadata(&directory).unwrap().mode() & 0o7777;
            assert_eq!(mode, 0o700, "closed to others");

            std::fs::remove_file(&marker).unwrap();
            run("mkfifo", &directory, &[MARKER_NAME]);
            let marker = write_rebuild_marker_in(temporary.path()).unwrap();
            let metadata = std::fs::symlink_metadata(&marker).unwrap();
            assert!(metadata.file_type().is_file(), "the FIFO is replaced");
            assert_eq!(metadata.uid(), user);
        }

        #[test]
        fn a_new_directory_is_the_users_with_mode_0700() {
            let user = builder();
            let temporary = tempfile::tempdir().unwrap();
            let marker = write_rebuild_marker_in(temporary.path()).unwrap();
            let directory = std::fs::symlink_metadata(marker.parent().unwrap()).unwrap();
            assert!(directory.is_dir());
            assert_eq!(directory.uid(), user);
            assert_eq!(directory.mode() & 0o7777, 0o700);
            assert_eq!(
                std::fs::read_dir(marker.parent().unwrap()).unwrap().count(),
                1,
                "no staging file is left behind"
            );
        }
    }
}
