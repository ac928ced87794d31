//! The checked-out Mercurial revision, read from `.hg/dirstate` without spawning `hg`.
//!
//! django-cachekiller ran `hg heads`, which names the newest head, not what is checked out, and
//! is ambiguous with several heads. The dirstate's first parent is the working directory's
//! revision, what `hg id -i --debug` prints; every `hg commit` and `hg update` rewrites it.
//!
//! Two formats:
//! - dirstate-v1: the file starts with the 20-byte first parent, then the 20-byte second.
//! - dirstate-v2: the file (the "docket") starts with the 12-byte marker `dirstate-v2\n`, then
//!   the first parent in a 32-byte slot of which 20 bytes are used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::resolve::vcs::{RevisionWatch, VcsLookup, VcsRevision};
use crate::rules::error::{Error, Result};
use crate::rules::hash::{digest_of_file, to_hex, DigestAlgorithm};

const DIRSTATE_V2_MARKER: &[u8] = b"dirstate-v2\n";
const NODE_ID_LENGTH: usize = 20;

/// The directory holding `.hg`, searching from `start` upwards, as `hg` does.
#[must_use]
pub fn find_mercurial_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|directory| directory.join(".hg").is_dir())
        .map(Path::to_owned)
}

/// Reads the first parent of the working directory from a dirstate file's leading bytes.
///
/// Returns `None` for the null revision (a repository with no commit checked out).
///
/// # Errors
/// A description of what is wrong if the bytes are too short to hold a parent.
pub fn parse_dirstate_first_parent(
    dirstate: &[u8],
) -> Result<Option<[u8; NODE_ID_LENGTH]>, String> {
    let parent = match dirstate.strip_prefix(DIRSTATE_V2_MARKER) {
        Some(docket) => docket.get(..NODE_ID_LENGTH).ok_or_else(|| {
            format!(
                "a dirstate-v2 docket of {} bytes is too short to hold the working parent",
                dirstate.len()
            )
        })?,
        None => dirstate.get(..NODE_ID_LENGTH).ok_or_else(|| {
            format!(
                "a dirstate of {} bytes is too short to hold the working parent",
                dirstate.len()
            )
        })?,
    };
    let mut node = [0; NODE_ID_LENGTH];
    node.copy_from_slice(parent);
    Ok(if node == [0; NODE_ID_LENGTH] {
        None
    } else {
        Some(node)
    })
}

/// Looks for the Mercurial repository enclosing `start` and reads its working parent.
///
/// # Errors
/// [`Error::MercurialDirstateUnreadable`] if the dirstate exists but cannot be read or is too
/// short.
pub fn read_mercurial_revision(start: &Path) -> Result<VcsLookup> {
    let Some(root) = find_mercurial_root(start) else {
        return Ok(VcsLookup::NotFound);
    };
    let dirstate_path = root.join(".hg").join("dirstate");
    // `hg init` writes no dirstate; it appears with the first commit or update, and nothing
    // that exists before then is sure to change: rebuild until it appears.
    if !dirstate_path.is_file() {
        return Ok(VcsLookup::NoRevision {
            watch: RevisionWatch {
                files: Vec::new(),
                rebuild_always: true,
            },
        });
    }
    let unreadable = |reason: String| Error::MercurialDirstateUnreadable {
        path: dirstate_path.clone(),
        reason,
    };
    let mut head = Vec::with_capacity(DIRSTATE_V2_MARKER.len() + NODE_ID_LENGTH);
    {
        use std::io::Read;
        std::fs::File::open(&dirstate_path)
            .and_then(|file| {
                file.take((DIRSTATE_V2_MARKER.len() + NODE_ID_LENGTH) as u64)
                    .read_to_end(&mut head)
            })
            .map_err(|error| unreadable(error.to_string()))?;
    }
    // Every `hg commit` and `hg update` rewrites the dirstate, the null revision's included.
    let watch = RevisionWatch {
        files: vec![dirstate_path.clone()],
        rebuild_always: false,
    };
    match parse_dirstate_first_parent(&head).map_err(unreadable)? {
        Some(node) => Ok(VcsLookup::Revision(VcsRevision {
            id_hex: to_hex(&node),
            watch,
            work_tree: Some(root),
        })),
        None => Ok(VcsLookup::NoRevision { watch }),
    }
}

/// The files of the revision `node_hex` at or below `paths` (from the repository's top,
/// `/`-separated, `""` for all of it), by their path from the top, with the SHA-1 of their
/// committed bytes (a link's: the name of its target).
///
/// The bytes come from `hg cat`, not from `hg status`, which calls a file clean when its size
/// and modification time are what the dirstate recorded: a same-size edit with its time put
/// back would pass. The caller compares the work tree's bytes with these digests.
///
/// The one place cachekiller runs `hg` (a Python process, a few hundred milliseconds), once
/// per crate that asks which files its revision names.
///
/// # Errors
/// [`Error::MercurialFilesUnreadable`] if `hg` cannot be run or fails.
pub fn committed_files(
    root: &Path,
    node_hex: &str,
    paths: &[String],
) -> Result<HashMap<String, [u8; 20]>> {
    let failed = |reason: String| Error::MercurialFilesUnreadable {
        root: root.to_owned(),
        reason,
    };
    if paths.is_empty() {
        return Ok(HashMap::new());
    }
    let patterns: Vec<String> = paths
        .iter()
        .map(|path| {
            if path.is_empty() {
                "path:.".to_owned()
            } else {
                format!("path:{path}")
            }
        })
        .collect();
    let copy = CommittedCopy::new().map_err(|error| failed(error.to_string()))?;
    // HGPLAIN: no user configuration changes what is written (aliases, encodings).
    let output = std::process::Command::new("hg")
        .args(["cat", "--rev", node_hex, "--output"])
        .arg(copy.0.join("%p"))
        .arg("--")
        .args(&patterns)
        .current_dir(root)
        .env("HGPLAIN", "1")
        .output()
        .map_err(|error| failed(format!("cannot run `hg`: {error}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 1 with "no such file in rev": a pattern that matches no committed file.
    let nothing_committed = output.status.code() == Some(1)
        && stderr
            .lines()
            .all(|line| line.contains("no such file in rev"));
    if !output.status.success() && !nothing_committed {
        return Err(failed(stderr.trim().to_owned()));
    }
    let mut committed = HashMap::new();
    let mut pending = vec![copy.0.clone()];
    while let Some(directory) = pending.pop() {
        let entries = std::fs::read_dir(&directory).map_err(|error| failed(error.to_string()))?;
        for entry in entries {
            let path = entry.map_err(|error| failed(error.to_string()))?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Some(relative) = path
                .strip_prefix(&copy.0)
                .ok()
                .and_then(|relative| relative.to_str())
            else {
                continue;
            };
            let digest = digest_of_file(&path, DigestAlgorithm::Sha1)?;
            if let Ok(digest) = <[u8; 20]>::try_from(digest.as_slice()) {
                committed.insert(relative.replace(std::path::MAIN_SEPARATOR, "/"), digest);
            }
        }
    }
    Ok(committed)
}

/// A temporary directory for `hg cat` to write the committed files to, removed when dropped.
struct CommittedCopy(PathBuf);

impl CommittedCopy {
    fn new() -> std::io::Result<Self> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = format!(
            "cachekiller-hg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        // Left over by a process of the same id that was killed.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(CommittedCopy(path))
    }
}

impl Drop for CommittedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{hg, hg_working_parent};

    #[test]
    fn reads_the_working_parent_like_hg_id_after_commit_and_update() {
        let repo = tempfile::tempdir().unwrap();
        hg(repo.path(), &["init"]);
        std::fs::write(repo.path().join("a.txt"), "one").unwrap();
        hg(repo.path(), &["commit", "-q", "-A", "-m", "one"]);
        std::fs::write(repo.path().join("a.txt"), "two").unwrap();
        hg(repo.path(), &["commit", "-q", "-m", "two"]);
        std::fs::create_dir(repo.path().join("sub")).unwrap();

        let newest = read_mercurial_revision(&repo.path().join("sub"))
            .unwrap()
            .into_revision();
        assert_eq!(newest.id_hex, hg_working_parent(repo.path()));
        assert_eq!(newest.watch.files, [repo.path().join(".hg/dirstate")]);
        assert!(!newest.watch.rebuild_always);

        // With two heads, `hg heads` (django-cachekiller) would name the newest; we must name
        // the checked-out one.
        hg(repo.path(), &["update", "-q", "-r", "0"]);
        std::fs::write(repo.path().join("b.txt"), "branch").unwrap();
        hg(repo.path(), &["commit", "-q", "-A", "-m", "second head"]);
        hg(repo.path(), &["update", "-q", "-r", "1"]);
        let older = read_mercurial_revision(repo.path())
            .unwrap()
            .into_revision();
        assert_eq!(older.id_hex, hg_working_parent(repo.path()));
        assert_eq!(older.id_hex, newest.id_hex);
        hg(repo.path(), &["update", "-q", "-r", "2"]);
        let other_head = read_mercurial_revision(repo.path())
            .unwrap()
            .into_revision();
        assert_eq!(other_head.id_hex, hg_working_parent(repo.path()));
        assert_ne!(other_head.id_hex, newest.id_hex);
    }

    #[test]
    fn reads_a_dirstate_v2_docket() {
        // Debian's hg cannot write dirstate-v2 without its Rust extensions, so the test builds
        // the docket from a real revision id: marker, parent 1 (32-byte slot), parent 2, then
        // the data file's uuid and sizes, which are never read.
        let repo = tempfile::tempdir().unwrap();
        hg(repo.path(), &["init"]);
        std::fs::write(repo.path().join("a.txt"), "one").unwrap();
        hg(repo.path(), &["commit", "-q", "-A", "-m", "one"]);
        let expected = hg_working_parent(repo.path());
        let node: Vec<u8> = (0..40)
            .step_by(2)
            .map(|index| u8::from_str_radix(&expected[index..index + 2], 16).unwrap())
            .collect();
        let mut docket = DIRSTATE_V2_MARKER.to_vec();
        docket.extend_from_slice(&node);
        docket.extend_from_slice(&[0; 12 + 32]);
        docket.extend_from_slice(&[0; 4 + 4 + 4 + 20 + 1]);
        docket.extend_from_slice(b"0123456789abcdef");
        std::fs::write(repo.path().join(".hg/dirstate"), &docket).unwrap();
        std::fs::write(
            repo.path().join(".hg/requires"),
            "dirstate-v2\nrevlogv1\nstore\n",
        )
        .unwrap();

        assert_eq!(
            read_mercurial_revision(repo.path())
                .unwrap()
                .into_revision()
                .id_hex,
            expected
        );
    }

    #[test]
    fn the_null_revision_and_short_files() {
        assert_eq!(parse_dirstate_first_parent(&[0; 40]), Ok(None));
        assert_eq!(
            parse_dirstate_first_parent(b"dirstate-v2\n\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
            Ok(None)
        );
        assert!(parse_dirstate_first_parent(&[1; 19])
            .unwrap_err()
            .contains("too short"));
        assert!(parse_dirstate_first_parent(b"dirstate-v2\n\x01")
            .unwrap_err()
            .contains("dirstate-v2"));

        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join(".hg")).unwrap();
        std::fs::write(repo.path().join(".hg/dirstate"), [7; 5]).unwrap();
        let error = read_mercurial_revision(repo.path()).unwrap_err();
        assert!(
            matches!(error, Error::MercurialDirstateUnreadable { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("CACHEKILLER_TAG"), "{error}");
    }

    #[test]
    fn a_fresh_repository_has_no_revision() {
        let repo = tempfile::tempdir().unwrap();
        hg(repo.path(), &["init"]);
        assert!(!repo.path().join(".hg/dirstate").exists());
        assert_eq!(
            read_mercurial_revision(repo.path()).unwrap(),
            VcsLookup::NoRevision {
                watch: RevisionWatch {
                    files: Vec::new(),
                    rebuild_always: true
                }
            },
            "nothing exists that the first commit rewrites"
        );
    }
}
