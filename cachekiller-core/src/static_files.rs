//! Finding the file behind a static path, so that a typo fails the build instead of shipping a
//! 404, and refusing paths that would make the compiler read files outside the static dirs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::error::{Error, Result};
use crate::file_stamp::{stamp_of, FileStamp};
use crate::stylesheet::StaticLookup;
use crate::suggest::closest;
use crate::url::{is_absolute_url, is_plain_relative_path, percent_decode, split_url};

/// How many files the "did you mean" search looks at (nearest first) before giving up on a
/// suggestion: the listing is made once per crate, so a large `node_modules` costs once.
const MAX_FILES_FOR_SUGGESTION: usize = 100_000;

/// The file path behind a static URL path: the part before `?` and `#`, percent-decoded, with
/// leading `/` dropped (as the URL does). `None` for an absolute URL, which is not a file here.
///
/// # Errors
/// [`Error::EmptyStaticPath`] if nothing is left, [`Error::InvalidStaticPath`] if the decoded
/// bytes are not UTF-8 or hold a NUL byte, [`Error::StaticPathEscapes`] for `..` components or
/// a drive prefix.
pub fn static_file_relative_path(url_path: &str) -> Result<Option<Cow<'_, str>>> {
    if is_plain_relative_path(url_path) {
        return Ok(Some(Cow::Borrowed(url_path)));
    }
    let location = split_url(url_path).location;
    if is_absolute_url(location) {
        return Ok(None);
    }
    let decoded = percent_decode(location).map_err(|reason| Error::InvalidStaticPath {
        path: url_path.to_owned(),
        reason,
    })?;
    let relative = decoded.trim_start_matches('/');
    if relative.is_empty() {
        return Err(Error::EmptyStaticPath);
    }
    let bytes = relative.as_bytes();
    if bytes.contains(&0) {
        return Err(Error::InvalidStaticPath {
            path: url_path.to_owned(),
            reason: "it holds a NUL byte, which no file name can".to_owned(),
        });
    }
    let escapes = bytes
            .split(|&byte| byte == b'/' || byte == b'\\')
            .any(|component| component == b"..")
        // `C:` or `C:foo`: a Windows drive, an absolute file path in disguise.
        || (bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic());
    if escapes {
        return Err(Error::StaticPathEscapes {
            path: url_path.to_owned(),
        });
    }
    Ok(Some(match decoded {
        Cow::Borrowed(location) => Cow::Borrowed(location.trim_start_matches('/')),
        Cow::Owned(ref decoded) => Cow::Owned(decoded.trim_start_matches('/').to_owned()),
    }))
}

/// The static dirs of a crate: as configured, absolute, and resolved (symlinks followed), with
/// what is learnt about them kept for the crate's later calls.
#[derive(Debug)]
pub struct StaticDirs {
    /// As configured, relative to the crate, for messages.
    configured: Vec<String>,
    /// Absolute, in search order.
    absolute: Vec<PathBuf>,
    /// The real paths of those that exist: a file is read only if its real path lies inside
    /// one of them.
    resolved: Vec<PathBuf>,
    /// Real paths of the directories files were found in, by path bytes: most calls of a crate
    /// share a few.
    real_parents: Mutex<HashMap<OsString, PathBuf>>,
    /// Every file below the dirs, listed once, for "did you mean" (a typo in a crate with
    /// 20,000 files in `static/node_modules` must not walk them again for every call).
    listing: OnceLock<Vec<String>>,
}

impl PartialEq for StaticDirs {
    fn eq(&self, other: &Self) -> bool {
        self.absolute == other.absolute
    }
}

impl Eq for StaticDirs {}

impl StaticDirs {
    /// The dirs `configured` (relative to `manifest_dir`), in search order.
    #[must_use]
    pub fn new(manifest_dir: &Path, configured: &[String]) -> Self {
        let absolute: Vec<PathBuf> = configured
            .iter()
            .map(|dir| manifest_dir.join(dir))
            .collect();
        let resolved = absolute
            .iter()
            .filter_map(|dir| std::fs::canonicalize(dir).ok())
            .filter(|dir| dir.is_dir())
            .collect();
        StaticDirs {
            configured: configured.to_vec(),
            absolute,
            resolved,
            real_parents: Mutex::new(HashMap::new()),
            listing: OnceLock::new(),
        }
    }

    /// True if any of the dirs exists (file checks apply only then).
    #[must_use]
    pub fn any_exists(&self) -> bool {
        !self.resolved.is_empty()
    }

    /// The first file named `relative` in the dirs, searched in order like Django's
    /// `STATICFILES_DIRS`. It must be a regular file whose real path lies inside one of the
    /// dirs.
    ///
    /// # Errors
    /// [`Error::StaticFileNotFound`] (with a close match when there is one),
    /// [`Error::StaticFileOutsideStaticDirs`] for a link leading out of the dirs,
    /// [`Error::StaticFileNotRegular`] for a FIFO, device, directory or socket.
    pub fn find(&self, relative: &str, purpose: FilePurpose) -> Result<PathBuf> {
        self.find_with_stamp(relative, purpose)
            .map(|(path, _)| path)
    }

    /// [`StaticDirs::find`], with the file's size and mtime as read while looking it up.
    ///
    /// # Errors
    /// As [`StaticDirs::find`].
    pub fn find_with_stamp(
        &self,
        relative: &str,
        purpose: FilePurpose,
    ) -> Result<(PathBuf, FileStamp)> {
        for dir in &self.absolute {
            let candidate = dir.join(relative);
            let link_metadata = match std::fs::symlink_metadata(&candidate) {
                Ok(metadata) => metadata,
                Err(error) if is_missing(&error) => continue,
                Err(error) => return Err(unreadable(&candidate, &error)),
            };
            let real = self.real_path(&candidate, link_metadata.is_symlink())?;
            if !self.resolved.iter().any(|dir| is_inside(&real, dir)) {
                return Err(Error::StaticFileOutsideStaticDirs {
                    path: relative.to_owned(),
                    target: real,
                });
            }
            let metadata = if link_metadata.is_symlink() {
                std::fs::metadata(&real).map_err(|error| unreadable(&real, &error))?
            } else {
                link_metadata
            };
            if let Some(kind) = not_regular_kind(&metadata) {
                return Err(Error::StaticFileNotRegular {
                    path: relative.to_owned(),
                    kind,
                });
            }
            let stamp = stamp_of(&metadata);
            return Ok((candidate, stamp));
        }
        Err(Error::StaticFileNotFound {
            path: relative.to_owned(),
            searched: self.configured.clone(),
            suggestion: self.suggest(relative),
            hashed: purpose == FilePurpose::Hash,
        })
    }

    /// The real path of `candidate`, which exists: resolved whole if it is a link, else its
    /// directory's real path (cached) joined with its name.
    fn real_path(&self, candidate: &Path, is_symlink: bool) -> Result<PathBuf> {
        let resolve = |path: &Path| {
            std::fs::canonicalize(path).map_err(|error| {
                let target = std::fs::read_link(path).map_or_else(
                    |_| String::new(),
                    |target| format!(" (a link to {})", target.display()),
                );
                Error::FileUnreadable {
                    path: path.to_owned(),
                    reason: format!("{error}{target}"),
                }
            })
        };
        let (Some(parent), Some(name), false) =
            (candidate.parent(), candidate.file_name(), is_symlink)
        else {
            return resolve(candidate);
        };
        let mut parents = self
            .real_parents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(real_parent) = parents.get(parent.as_os_str()) {
            return Ok(real_parent.join(name));
        }
        let real_parent = resolve(parent)?;
        let real = real_parent.join(name);
        parents.insert(parent.as_os_str().to_owned(), real_parent);
        Ok(real)
    }

    /// The file below the dirs whose relative path is closest to `relative`, if it is close
    /// enough to be a typo.
    fn suggest(&self, relative: &str) -> Option<String> {
        let listing = self.listing.get_or_init(|| {
            let mut files = Vec::new();
            for dir in &self.absolute {
                collect_files(dir, &mut files);
            }
            files
        });
        closest(relative, listing.iter().map(String::as_str)).map(str::to_owned)
    }
}

/// A stylesheet's references are found as `cdnstatic!`'s paths are, with their errors.
impl StaticLookup for StaticDirs {
    fn static_file(&self, relative: &str) -> Result<(PathBuf, FileStamp)> {
        self.find_with_stamp(relative, FilePurpose::Check)
    }
}

/// True if `path` lies inside `dir` (both real paths), comparing bytes: `Path::starts_with`
/// walks components, slow in an unoptimized build.
fn is_inside(path: &Path, dir: &Path) -> bool {
    let (path, dir) = (
        path.as_os_str().as_encoded_bytes(),
        dir.as_os_str().as_encoded_bytes(),
    );
    path.len() > dir.len()
        && path.starts_with(dir)
        && (dir.ends_with(b"/") || path[dir.len()] == b'/')
}

fn is_missing(error: &std::io::Error) -> bool {
    // `static/a.css/b` where `a.css` is a file: ENOTDIR, as good as missing.
    matches!(
        error.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

fn unreadable(path: &Path, error: &std::io::Error) -> Error {
    Error::FileUnreadable {
        path: path.to_owned(),
        reason: error.to_string(),
    }
}

/// What a non-regular file is, in words; `None` for a regular file.
fn not_regular_kind(metadata: &std::fs::Metadata) -> Option<&'static str> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Why a static file is looked up, which decides what a missing one's error suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePurpose {
    /// Only to check that the link will work.
    Check,
    /// For its bytes: a content hash or an integrity digest.
    Hash,
}

/// Lists the files below `root` (relative to it, `/`-separated) into `found`, up to
/// [`MAX_FILES_FOR_SUGGESTION`], nearest first: the files a template names are most often near
/// the top, and a deep `node_modules` must not crowd them out. Linked directories are not
/// entered: a link to `.` would never end.
fn collect_files(root: &Path, found: &mut Vec<String>) {
    let mut directories = std::collections::VecDeque::from([root.to_owned()]);
    while let Some(dir) = directories.pop_front() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if found.len() >= MAX_FILES_FOR_SUGGESTION {
                return;
            }
            let path = entry.path();
            if entry.file_type().is_ok_and(|file_type| file_type.is_dir()) {
                directories.push_back(path);
            } else if let Some(relative) = path.strip_prefix(root).ok().and_then(Path::to_str) {
                found.push(relative.replace('\\', "/"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_behind_a_url_path() {
        let cases: &[(&str, Option<&str>)] = &[
            ("css/a.css", Some("css/a.css")),
            ("css/a.css?v=2#x", Some("css/a.css")),
            ("/css/a.css", Some("css/a.css")),
            ("my%20file.css", Some("my file.css")),
            ("my file.css", Some("my file.css")),
            ("caf%C3%A9.css", Some("café.css")),
            ("100%.css", Some("100%.css")),
            ("./a.css", Some("./a.css")),
            ("https://cdn.example.com/x.js", None),
            ("//cdn.example.com/x.js", None),
        ];
        for &(url_path, expected) in cases {
            assert_eq!(
                static_file_relative_path(url_path).unwrap().as_deref(),
                expected,
                "{url_path}"
            );
        }
    }

    #[test]
    fn paths_that_leave_the_static_dirs_are_refused() {
        for escaping in [
            "../secret.txt",
            "css/../../Cargo.toml",
            "%2E%2E/secret.txt",
            "css/%2e%2e/%2e%2e/x",
            "..\\secret.txt",
            "C:/Windows/win.ini",
            "c:secret",
        ] {
            assert_eq!(
                static_file_relative_path(escaping),
                Err(Error::StaticPathEscapes {
                    path: escaping.to_owned()
                }),
                "{escaping}"
            );
        }
        assert_eq!(
            static_file_relative_path("?v=1"),
            Err(Error::EmptyStaticPath)
        );
        assert!(matches!(
            static_file_relative_path("%FF.css"),
            Err(Error::InvalidStaticPath { .. })
        ));
        let nul = static_file_relative_path("a%00.css").unwrap_err();
        assert!(nul.to_string().contains("NUL byte"), "{nul}");
    }

    #[test]
    fn searched_in_order_with_a_suggestion_for_typos() {
        let root = tempfile::tempdir().unwrap();
        for file in [
            "static/css/app.css",
            "static/js/app.js",
            "vendor/css/app.css",
            "vendor/css/reset.css",
        ] {
            let path = root.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        let configured = ["static".to_owned(), "vendor".to_owned()];
        let dirs = StaticDirs::new(root.path(), &configured);
        assert_eq!(
            dirs.find("css/app.css", FilePurpose::Check).unwrap(),
            root.path().join("static/css/app.css")
        );
        assert_eq!(
            dirs.find("css/reset.css", FilePurpose::Check).unwrap(),
            root.path().join("vendor/css/reset.css")
        );

        let error = dirs.find("css/ap.css", FilePurpose::Check).unwrap_err();
        assert_eq!(
            error,
            Error::StaticFileNotFound {
                path: "css/ap.css".into(),
                searched: configured.to_vec(),
                suggestion: Some("css/app.css".into()),
                hashed: false,
            }
        );
        let error = dirs
            .find("fonts/inter.woff2", FilePurpose::Hash)
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::StaticFileNotFound {
                    suggestion: None,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    /// `static/` holding links in and out of it and files that are not regular.
    fn adversarial_static_dir() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let static_dir = root.path().join("static");
        std::fs::create_dir_all(static_dir.join("css")).unwrap();
        std::fs::create_dir_all(root.path().join("vendor/fonts")).unwrap();
        std::fs::write(static_dir.join("css/app.css"), "body {}").unwrap();
        std::fs::write(root.path().join("vendor/fonts/a.woff2"), "font").unwrap();
        std::fs::write(root.path().join("secret.txt"), "secret").unwrap();
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, static_dir.join(name)).unwrap();
        };
        link("/etc/passwd", "leak.css");
        link("/etc", "etc");
        link("../secret.txt", "secret.css");
        link("css/app.css", "alias.css");
        link("css", "styles");
        link("../vendor/fonts", "fonts");
        link("/proc/kmsg", "kmsg.css");
        link("gone.css", "dangling.css");
        link(".", "loop");
        let fifo = std::process::Command::new("mkfifo")
            .arg(static_dir.join("pipe.css"))
            .status()
            .unwrap();
        assert!(fifo.success(), "mkfifo");
        root
    }

    #[test]
    fn links_that_leave_the_static_dirs_and_special_files_are_refused() {
        let root = adversarial_static_dir();
        let dirs = StaticDirs::new(root.path(), &["static".to_owned()]);
        let outside = |relative: &str, target: &str| {
            assert_eq!(
                dirs.find(relative, FilePurpose::Hash),
                Err(Error::StaticFileOutsideStaticDirs {
                    path: relative.to_owned(),
                    target: std::fs::canonicalize(target).unwrap(),
                }),
                "{relative}"
            );
        };
        outside("leak.css", "/etc/passwd");
        outside("etc/passwd", "/etc/passwd");
        outside("etc/shadow", "/etc/shadow");
        outside(
            "secret.css",
            &root.path().join("secret.txt").display().to_string(),
        );
        outside("kmsg.css", "/proc/kmsg");
        outside(
            "fonts/a.woff2",
            &root
                .path()
                .join("vendor/fonts/a.woff2")
                .display()
                .to_string(),
        );
        let message = dirs
            .find("leak.css", FilePurpose::Check)
            .unwrap_err()
            .to_string();
        assert!(message.contains("/etc/passwd"), "{message}");
        assert!(message.contains("list it in `static_dirs`"), "{message}");

        for (relative, kind) in [("pipe.css", "a FIFO (named pipe)"), ("css", "a directory")] {
            assert_eq!(
                dirs.find(relative, FilePurpose::Check),
                Err(Error::StaticFileNotRegular {
                    path: relative.to_owned(),
                    kind
                }),
                "{relative}"
            );
        }
        let dangling = dirs.find("dangling.css", FilePurpose::Hash).unwrap_err();
        assert!(
            matches!(&dangling, Error::FileUnreadable { reason, .. } if reason.contains("gone.css")),
            "{dangling:?}"
        );

        // Links that stay inside are fine, and the cycle does not hang the suggestions.
        let static_dir = root.path().join("static");
        assert_eq!(
            dirs.find("alias.css", FilePurpose::Hash).unwrap(),
            static_dir.join("alias.css")
        );
        assert_eq!(
            dirs.find("styles/app.css", FilePurpose::Hash).unwrap(),
            static_dir.join("styles/app.css")
        );
        assert_eq!(
            dirs.find("loop/loop/css/app.css", FilePurpose::Hash)
                .unwrap(),
            static_dir.join("loop/loop/css/app.css")
        );
        assert!(matches!(
            dirs.find("css/ap.css", FilePurpose::Check),
            Err(Error::StaticFileNotFound {
                suggestion: Some(_),
                ..
            })
        ));

        // Listing the directory the link leads to makes it a static dir.
        let with_vendor = StaticDirs::new(root.path(), &["static".to_owned(), "vendor".to_owned()]);
        assert_eq!(
            with_vendor
                .find("fonts/a.woff2", FilePurpose::Hash)
                .unwrap(),
            static_dir.join("fonts/a.woff2")
        );
    }

    #[test]
    fn inside_a_directory_by_whole_components() {
        for (path, dir, inside) in [
            ("/r/static/a.css", "/r/static", true),
            ("/r/static/css/a.css", "/r/static", true),
            ("/r/static-old/a.css", "/r/static", false),
            ("/r/static", "/r/static", false),
            ("/r/a.css", "/r/static", false),
            ("/a.css", "/", true),
        ] {
            assert_eq!(
                is_inside(Path::new(path), Path::new(dir)),
                inside,
                "{path} in {dir}"
            );
        }
    }

    #[test]
    fn the_listing_for_suggestions_is_made_once() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("static/css")).unwrap();
        std::fs::write(root.path().join("static/css/app.css"), "").unwrap();
        let dirs = StaticDirs::new(root.path(), &["static".to_owned()]);
        assert!(dirs.find("css/ap.css", FilePurpose::Check).is_err());
        // A file added later is not in the listing this crate's compilation made.
        std::fs::write(root.path().join("static/css/apq.css"), "").unwrap();
        assert_eq!(dirs.listing.get().map(Vec::len), Some(1));
        assert!(matches!(
            dirs.find("css/ap.css", FilePurpose::Check),
            Err(Error::StaticFileNotFound { suggestion: Some(ref found), .. }) if found == "css/app.css"
        ));
    }
}
