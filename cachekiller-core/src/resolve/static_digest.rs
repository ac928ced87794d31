//! The tag of a build without version control: a digest of the static files.
//!
//! It stands for what the tags protect, the files a browser caches, and every crate whose
//! static dirs hold the same files computes the same value: a pages crate and the server that
//! checks its tags agree however far apart they are compiled, which the build date of each
//! compilation did not. Every file it read is tracked, so an edit or a removal changes it at the
//! next build, and a shared compile cache (which keys a crate by the content of those files)
//! can only return an artifact whose tag is that of the same files.
//!
//! The value is the SHA-1 of the lines `sha1sum` prints for the files (`<hex>  <path>\n`, the
//! path relative to its static dir, `/`-separated), sorted by path bytes, dir by dir in search
//! order: a user can recompute it with `find . -xtype f | LC_ALL=C sort | xargs sha1sum |
//! sha1sum`. Regular files and links to regular files count; linked directories are not
//! entered (a link to `.` would never end), as `find` does not enter them.

use std::path::{Path, PathBuf};

use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::file_stamp;
use crate::rules::hash::{cached_digest, digest_of_bytes, to_hex, DigestAlgorithm};

/// The digest of the static files and the files it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFilesDigest {
    /// The SHA-1 in lower-case hex (40 characters).
    pub hex: String,
    /// Every file digested, to track.
    pub files: Vec<PathBuf>,
}

/// Digests the files below `dirs` (absolute, in search order; those that do not exist are
/// skipped).
///
/// # Errors
/// [`Error::FileUnreadable`] for a file or directory that cannot be read.
pub fn static_files_digest(dirs: &[PathBuf]) -> Result<StaticFilesDigest> {
    let mut listing = Vec::new();
    let mut files = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            continue;
        }
        let mut found = Vec::new();
        collect_files(dir, dir, &mut found)?;
        // By path bytes, as `LC_ALL=C sort` orders the names.
        found.sort_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
        for (relative, path) in found {
            let digest = cached_digest(&path, file_stamp(&path), DigestAlgorithm::Sha1)?;
            listing.extend_from_slice(to_hex(&digest).as_bytes());
            listing.extend_from_slice(b"  ");
            listing.extend_from_slice(relative.as_bytes());
            listing.push(b'\n');
            files.push(path);
        }
    }
    Ok(StaticFilesDigest {
        hex: to_hex(&digest_of_bytes(&listing, DigestAlgorithm::Sha1)),
        files,
    })
}

/// Adds the files below `dir` to `found` as (path relative to `root`, path).
pub(crate) fn collect_files(
    root: &Path,
    dir: &Path,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<()> {
    let unreadable = |path: &Path, error: std::io::Error| Error::FileUnreadable {
        path: path.to_owned(),
        reason: error.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(|error| unreadable(dir, error))? {
        let entry = entry.map_err(|error| unreadable(dir, error))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|error| unreadable(&path, error))?;
        if file_type.is_dir() {
            collect_files(root, &path, found)?;
            continue;
        }
        // A link counts when it leads to a regular file (what the service would send); a
        // dangling one, a FIFO or a socket is nothing a browser caches.
        let is_file = file_type.is_file() || (file_type.is_symlink() && path.is_file());
        if !is_file {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        found.push((relative, path));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run;

    /// The oracle: `sha1sum` of `sha1sum`'s lines for the files of `dir`, sorted by path.
    fn find_sort_sha1sum(dir: &Path) -> String {
        let script = "cd \"$1\" && find . -xtype f -printf '%P\\n' | LC_ALL=C sort \
                      | xargs -d '\\n' sha1sum | sha1sum";
        let output = run(
            "sh",
            Path::new("/"),
            &["-c", script, "sh", dir.to_str().unwrap()],
        );
        output[..40].to_owned()
    }

    #[test]
    fn the_digest_is_sha1sum_of_the_sorted_listing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("css/deep")).unwrap();
        std::fs::create_dir_all(root.join("img")).unwrap();
        std::fs::write(root.join("css/app.css"), "body {}").unwrap();
        std::fs::write(root.join("css/deep/a b.css"), "a {}").unwrap();
        std::fs::write(root.join("img/Z.png"), [0u8, 1, 2]).unwrap();
        std::fs::write(root.join("img/a.png"), "").unwrap();
        std::fs::write(root.join("caf\u{e9}.txt"), "é").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("app.css", root.join("css/linked.css")).unwrap();
            // Linked directories are not entered, dangling links are no file.
            std::os::unix::fs::symlink("..", root.join("img/up")).unwrap();
            std::os::unix::fs::symlink("gone", root.join("img/dangling")).unwrap();
        }
        let digest = static_files_digest(&[root.to_owned()]).unwrap();
        assert_eq!(digest.hex, find_sort_sha1sum(root));
        assert_eq!(digest.files.len(), if cfg!(unix) { 6 } else { 5 });

        let before = digest.hex;
        std::fs::write(root.join("img/a.png"), "edited").unwrap();
        let after = static_files_digest(&[root.to_owned()]).unwrap().hex;
        assert_ne!(before, after, "an edit changes the digest");
        assert_eq!(after, find_sort_sha1sum(root));
    }

    #[test]
    fn missing_dirs_are_skipped_and_nothing_digests_as_the_empty_listing() {
        let dir = tempfile::tempdir().unwrap();
        let digest = static_files_digest(&[dir.path().join("nowhere")]).unwrap();
        assert!(digest.files.is_empty());
        let empty = run("sh", Path::new("/"), &["-c", "printf '' | sha1sum"]);
        assert_eq!(digest.hex, empty[..40]);
    }
}
