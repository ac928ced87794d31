//! Static files compiled into the binary (`cdnembed!()`): a second source for the same
//! service. A request finds an embedded file by the same path rule as a file on disk (the
//! canonical path, the directory index, the file-name tag form), and its checked version is
//! made from the embedded bytes with the SHA-1, git blob id and compressed variants the build
//! computed from exactly those bytes: from there on, verdicts, validators, `Range`, `HEAD`,
//! the revision header and the archive are the disk service's own code.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::open_file::Requested;
use super::request_path::canonical_path;
use super::versions::CheckedVersion;
use super::REVISION_ENDPOINT;
use crate::rules::static_path::HiddenFiles;
use crate::rules::url::untag_file_name;

/// One static file compiled in by `cdnembed!()`: its bytes as the service sends them (a
/// stylesheet's rewrite), and what the build computed from them.
#[derive(Debug)]
pub struct EmbeddedFile {
    path: &'static str,
    bytes: &'static [u8],
    sha1: [u8; 20],
    git_blob: Option<&'static [u8]>,
    brotli: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
    taggable: bool,
}

impl EmbeddedFile {
    /// What `cdnembed!()` writes for each file; not for hand-written tables (a digest that does
    /// not match the bytes would be served as theirs).
    #[doc(hidden)]
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        path: &'static str,
        bytes: &'static [u8],
        sha1: [u8; 20],
        git_blob: Option<&'static [u8]>,
        brotli: Option<&'static [u8]>,
        gzip: Option<&'static [u8]>,
        taggable: bool,
    ) -> Self {
        EmbeddedFile {
            path,
            bytes,
            sha1,
            git_blob,
            brotli,
            gzip,
            taggable,
        }
    }

    /// The canonical static path (`css/app.css`).
    #[must_use]
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The bytes sent.
    #[must_use]
    pub fn bytes(&self) -> &'static [u8] {
        self.bytes
    }

    pub(crate) fn sha1(&self) -> [u8; 20] {
        self.sha1
    }

    pub(crate) fn git_blob(&self) -> Option<&'static [u8]> {
        self.git_blob
    }

    pub(crate) fn brotli(&self) -> Option<&'static [u8]> {
        self.brotli
    }

    pub(crate) fn gzip(&self) -> Option<&'static [u8]> {
        self.gzip
    }

    pub(crate) fn taggable(&self) -> bool {
        self.taggable
    }
}

/// The static files `cdnembed!()` compiled into this build, for
/// [`StaticFiles::embedded`](super::StaticFiles::embedded): in a release build (or every
/// build with `embed = "always"`) the files themselves; in a debug build only where the
/// static dirs are, so that the service reads them from disk and an edit is seen without a
/// rebuild.
#[derive(Debug, Clone)]
pub struct EmbeddedFiles {
    files: &'static [EmbeddedFile],
    carried: bool,
    manifest_dir: &'static str,
    left_on_disk: &'static [&'static str],
    disk_root: Option<PathBuf>,
}

impl EmbeddedFiles {
    /// What `cdnembed!()` expands to.
    #[doc(hidden)]
    #[must_use]
    pub const fn __new(
        files: &'static [EmbeddedFile],
        carried: bool,
        manifest_dir: &'static str,
        left_on_disk: &'static [&'static str],
    ) -> Self {
        EmbeddedFiles {
            files,
            carried,
            manifest_dir,
            left_on_disk,
            disk_root: None,
        }
    }

    /// True if this build carries the files (a release build, or `embed = "always"`); false
    /// if it reads them from the static dirs.
    #[must_use]
    pub fn carried(&self) -> bool {
        self.carried
    }

    /// The files carried, sorted by path (none when [`EmbeddedFiles::carried`] is false).
    #[must_use]
    pub fn files(&self) -> &'static [EmbeddedFile] {
        self.files
    }

    /// The files larger than `embed_max_bytes`, which the binary does not carry: served from
    /// the static dirs below [`EmbeddedFiles::disk_root`].
    #[must_use]
    pub fn left_on_disk(&self) -> &'static [&'static str] {
        self.left_on_disk
    }

    /// Where the static dirs are looked for: for files left on disk, and in builds that do
    /// not carry the files. The crate's directory at build time unless set with
    /// [`EmbeddedFiles::with_disk_root`].
    #[must_use]
    pub fn disk_root(&self) -> &Path {
        self.disk_root
            .as_deref()
            .unwrap_or(Path::new(self.manifest_dir))
    }

    /// Looks for the static dirs below `root` instead of the crate's directory at build
    /// time: where a deployment copies the files left on disk.
    #[must_use]
    pub fn with_disk_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.disk_root = Some(root.into());
        self
    }
}

/// The embedded files as the service looks them up, each checked version made once.
#[derive(Debug)]
pub(crate) struct EmbeddedTable {
    files: &'static [EmbeddedFile],
    checked: Vec<OnceLock<Arc<CheckedVersion>>>,
}

impl EmbeddedTable {
    pub(crate) fn new(files: &'static [EmbeddedFile]) -> Self {
        // The macro writes them sorted; a table sorted otherwise would miss lookups.
        debug_assert!(files.windows(2).all(|pair| pair[0].path < pair[1].path));
        EmbeddedTable {
            files,
            checked: files.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    pub(crate) fn files(&self) -> &'static [EmbeddedFile] {
        self.files
    }

    #[cfg_attr(not(feature = "archive"), allow(dead_code))]
    pub(crate) fn contains(&self, relative: &str) -> bool {
        self.index_of(relative).is_some()
    }

    fn index_of(&self, relative: &str) -> Option<usize> {
        self.files
            .binary_search_by(|file| file.path.cmp(relative))
            .ok()
    }

    /// True if an embedded file lies below the directory `relative`.
    fn is_directory(&self, relative: &str) -> bool {
        let prefix = format!("{relative}/");
        let first = self
            .files
            .partition_point(|file| file.path < prefix.as_str());
        self.files
            .get(first)
            .is_some_and(|file| file.path.starts_with(&prefix))
    }

    /// The checked version of the file at `index`.
    pub(crate) fn checked(&self, index: usize) -> Arc<CheckedVersion> {
        Arc::clone(
            self.checked[index]
                .get_or_init(|| Arc::new(CheckedVersion::embedded(&self.files[index]))),
        )
    }

    /// The checked version of the file at the canonical path `relative`, if embedded.
    pub(crate) fn checked_at(&self, relative: &str) -> Option<Arc<CheckedVersion>> {
        self.index_of(relative).map(|index| self.checked(index))
    }

    /// What the request path `path` names among the embedded files, as the disk service's
    /// `open_requested` reads it; `None` for a path they do not hold (the static dirs are
    /// asked next) and for the revision endpoint, which is the service's own.
    pub(crate) fn requested(&self, path: &str, hidden: HiddenFiles) -> Option<Requested> {
        let canonical = canonical_path(path, hidden).ok()?;
        let relative = canonical.relative;
        if canonical.directory {
            let index = if relative.is_empty() {
                "index.html".to_owned()
            } else {
                format!("{relative}/index.html")
            };
            return self.index_of(&index).map(|found| Requested::Embedded {
                index: found,
                relative: index,
                name_tag: None,
            });
        }
        if relative == REVISION_ENDPOINT
            || untag_file_name(&relative).any(|(untagged, _)| untagged == REVISION_ENDPOINT)
        {
            return None;
        }
        if let Some(found) = self.index_of(&relative) {
            return Some(Requested::Embedded {
                index: found,
                relative,
                name_tag: None,
            });
        }
        if self.is_directory(&relative) {
            let last = relative.rsplit('/').next().unwrap_or_default().to_owned();
            return Some(Requested::Directory(last));
        }
        let found = untag_file_name(&relative).find_map(|(untagged, tag)| {
            self.index_of(&untagged).map(|found| Requested::Embedded {
                index: found,
                relative: untagged,
                name_tag: Some(tag.to_owned()),
            })
        });
        found
    }
}

#[cfg(any(feature = "archive", feature = "export"))]
impl super::StaticFiles {
    /// Every embedded file a request can name (the dotfile rule applied), with its version:
    /// what an archive publishes and an export writes of them.
    pub(crate) fn embedded_versions(&self) -> Vec<(&'static str, Arc<CheckedVersion>)> {
        let Some(table) = self.shared.embedded.as_ref() else {
            return Vec::new();
        };
        table
            .files()
            .iter()
            .filter(|file| {
                crate::rules::static_path::canonical_static_path(file.path(), self.options.hidden)
                    .is_ok()
            })
            .filter_map(|file| Some((file.path(), table.checked_at(file.path())?)))
            .collect()
    }

    /// Every canonical static path on disk a request can name that no embedded file answers
    /// for, sorted.
    pub(crate) fn disk_paths(&self) -> impl Iterator<Item = String> + '_ {
        let embedded = self.shared.embedded.as_ref();
        crate::rules::static_path::static_paths(&self.shared.dirs, self.options.hidden)
            .into_iter()
            .filter(move |relative| !embedded.is_some_and(|table| table.contains(relative)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static FILES: [EmbeddedFile; 4] = [
        EmbeddedFile::__new("css/app.css", b"a", [1; 20], None, None, None, true),
        EmbeddedFile::__new("docs/index.html", b"b", [2; 20], None, None, None, true),
        EmbeddedFile::__new("docs/x.txt", b"c", [3; 20], None, None, None, true),
        EmbeddedFile::__new("index.html", b"d", [4; 20], None, None, None, true),
    ];

    fn found(table: &EmbeddedTable, path: &str) -> Option<(String, Option<String>)> {
        match table.requested(path, HiddenFiles::Refused) {
            Some(Requested::Embedded {
                relative, name_tag, ..
            }) => Some((relative, name_tag)),
            Some(Requested::Directory(last)) => Some((format!("redirect {last}"), None)),
            Some(other) => panic!("{other:?}"),
            None => None,
        }
    }

    #[test]
    fn paths_are_found_as_on_disk() {
        let table = EmbeddedTable::new(&FILES);
        let plain = |relative: &str| Some((relative.to_owned(), None));
        assert_eq!(found(&table, "/css/app.css"), plain("css/app.css"));
        // Every spelling of a path is one key.
        assert_eq!(found(&table, "/css//./app.css"), plain("css/app.css"));
        assert_eq!(found(&table, "/css/%61pp.css"), plain("css/app.css"));
        // The file-name tag form.
        assert_eq!(
            found(&table, "/css/app.0123abcd.css"),
            Some(("css/app.css".to_owned(), Some("0123abcd".to_owned())))
        );
        // Directory indexes and the redirect of a directory without its `/`.
        assert_eq!(found(&table, "/docs/"), plain("docs/index.html"));
        assert_eq!(found(&table, "/"), plain("index.html"));
        assert_eq!(
            found(&table, "/docs"),
            Some(("redirect docs".to_owned(), None))
        );
        assert_eq!(
            found(&table, "/css"),
            Some(("redirect css".to_owned(), None))
        );
        // Not here: the static dirs are asked next; refused spellings are refused there too.
        assert_eq!(found(&table, "/css/other.css"), None);
        assert_eq!(found(&table, "/cs"), None);
        assert_eq!(found(&table, "/../css/app.css"), None);
        assert_eq!(found(&table, "/.well-known/cachekiller-revision"), None);
    }

    #[test]
    fn a_checked_version_carries_what_the_build_computed() {
        let table = EmbeddedTable::new(&FILES);
        let checked = table.checked_at("docs/x.txt").unwrap();
        assert_eq!(checked.sha1, [3; 20]);
        assert_eq!(checked.bytes.as_deref(), Some(&b"c"[..]));
        assert!(Arc::ptr_eq(
            &checked,
            &table.checked_at("docs/x.txt").unwrap()
        ));
        assert!(table.checked_at("docs/y.txt").is_none());
    }
}
