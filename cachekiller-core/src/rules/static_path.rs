//! The one rule for which static paths name a file we use, shared by the macros (a file a
//! call names must pass it to compile), the stylesheet rewrite (a reference is tagged only if
//! its file passes) and the service (a request is answered only from a file that passes):
//!
//! 1. `canonical_static_path`: a decoded path is made canonical (`.` and empty segments
//!    dropped) and refused if it climbs (`..`), holds a NUL byte or a backslash, or names a
//!    Windows drive; hidden segments (`.env`) are refused where the caller says so.
//! 2. [`find_static_file`]: the canonical path is opened once in each static dir in order, and
//!    the first dir where anything exists at that path decides: a regular file there is the
//!    file, and a link leading out of that dir, a FIFO, a device or a socket is refused (a
//!    later dir's file does not stand in for it).
//!
//! The open is confined to the static dir at the moment of the open. On Linux the kernel does
//! it: `openat2` with `RESOLVE_BENEATH` resolves the path below the directory and fails
//! (`EXDEV`) if any step, a symbolic link included, leaves it. There is no window between a
//! check and the open for a swapped link to slip through, and no cache of real paths that a
//! swap could outrun. Elsewhere (or on kernels before 5.6) the file is opened, the real path
//! resolved, and the opened file must be the file at that real path (same device and inode),
//! so a swap between the two is caught. The file is opened non-blocking: opening a FIFO for
//! reading would otherwise wait for a writer.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use std::borrow::Cow;

use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::FileVersion;
use crate::rules::url::{is_absolute_url, is_plain_relative_path, percent_decode, split_url};

/// A static path, canonical: relative to the static dirs, segments joined by `/`, without
/// `.` or empty segments (`""` for the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CanonicalPath {
    /// The path.
    pub(crate) relative: String,
    /// True if the path named a directory (`docs/`, `docs/.`, the root).
    pub(crate) directory: bool,
}

/// Why a path names no static file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A `..` segment or a Windows drive (`C:`): the path would leave the static dirs.
    Escapes,
    /// A NUL byte, a backslash (a separator on Windows), escapes that do not decode to UTF-8,
    /// an encoded `/`.
    Malformed(&'static str),
    /// A segment starting with `.` (`.env`, `.git/config`) other than `.well-known`.
    Hidden,
}

impl Refused {
    /// The error the macros report for a path refused this way.
    pub(crate) fn into_error(self, written: &str) -> Error {
        match self {
            Refused::Escapes => Error::StaticPathEscapes {
                path: written.to_owned(),
            },
            Refused::Malformed(reason) => Error::InvalidStaticPath {
                path: written.to_owned(),
                reason: reason.to_owned(),
            },
            Refused::Hidden => Error::InvalidStaticPath {
                path: written.to_owned(),
                reason: "it names a hidden file, which the service does not serve".to_owned(),
            },
        }
    }
}

/// Whether hidden segments (`.env`) are allowed in a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HiddenFiles {
    /// Refused, as the service refuses requests for them unless told otherwise.
    Refused,
    /// Allowed: the macros, and references in stylesheets, name what the author wrote.
    Allowed,
}

/// The file path behind a static URL path: the part before `?` and `#`, percent-decoded,
/// made canonical by `canonical_static_path`. `None` for an absolute URL,
/// which is not a file here.
///
/// # Errors
/// [`Error::EmptyStaticPath`] if nothing is left, [`Error::InvalidStaticPath`] if the decoded
/// bytes are not UTF-8 or hold a NUL byte or a backslash, [`Error::StaticPathEscapes`] for
/// `..` components or a drive prefix.
pub fn static_file_relative_path(url_path: &str) -> Result<Option<Cow<'_, str>>> {
    if is_plain_relative_path(url_path) {
        return Ok(Some(Cow::Borrowed(url_path)));
    }
    let location = split_url(url_path).location;
    if is_absolute_url(location) {
        return Ok(None);
    }
    // One segment to the browser, two to the file system: the service refuses it too.
    if location.contains("%2F") || location.contains("%2f") {
        return Err(Error::InvalidStaticPath {
            path: url_path.to_owned(),
            reason: "it holds an encoded `/` (`%2F`), which the service refuses: write `/`"
                .to_owned(),
        });
    }
    let decoded = percent_decode(location).map_err(|reason| Error::InvalidStaticPath {
        path: url_path.to_owned(),
        reason,
    })?;
    let canonical = canonical_static_path(&decoded, HiddenFiles::Allowed)
        .map_err(|refused| refused.into_error(url_path))?;
    if canonical.relative.is_empty() {
        return Err(Error::EmptyStaticPath);
    }
    Ok(Some(Cow::Owned(canonical.relative)))
}

/// The canonical form of the decoded static path `decoded`.
pub(crate) fn canonical_static_path(
    decoded: &str,
    hidden: HiddenFiles,
) -> Result<CanonicalPath, Refused> {
    let mut relative = String::with_capacity(decoded.len());
    let mut directory = true;
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {
                directory = true;
                continue;
            }
            // Never resolved: a path that climbs is not one of ours, whatever it climbs to.
            ".." => return Err(Refused::Escapes),
            _ => {}
        }
        if segment.contains('\0') {
            return Err(Refused::Malformed(
                "it holds a NUL byte, which no file name can",
            ));
        }
        if segment.contains('\\') {
            return Err(Refused::Malformed(
                "it holds a backslash, which the service refuses (a separator on Windows): use `/`",
            ));
        }
        // `C:` or `C:foo` first: a Windows drive, an absolute file path in disguise.
        let bytes = segment.as_bytes();
        if relative.is_empty()
            && bytes.len() >= 2
            && bytes[1] == b':'
            && bytes[0].is_ascii_alphabetic()
        {
            return Err(Refused::Escapes);
        }
        if segment.starts_with('.') && segment != ".well-known" && hidden == HiddenFiles::Refused {
            return Err(Refused::Hidden);
        }
        if !relative.is_empty() {
            relative.push('/');
        }
        relative.push_str(segment);
        directory = false;
    }
    Ok(CanonicalPath {
        relative,
        directory,
    })
}

/// Every canonical static path below `dirs` that a request can name (a hidden one only if
/// `hidden` allows it), once each, sorted. Linked directories are not entered (a link to `.`
/// would never end); a linked file is listed, and opened as requests open it.
#[cfg(any(feature = "resolve", feature = "archive", feature = "export"))]
pub(crate) fn static_paths(
    dirs: &[PathBuf],
    hidden: HiddenFiles,
) -> std::collections::BTreeSet<String> {
    let mut paths = std::collections::BTreeSet::new();
    for root in dirs {
        let mut pending = vec![String::new()];
        while let Some(directory) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(root.join(&directory)) else {
                continue;
            };
            for entry in entries.flatten() {
                // A name that is not UTF-8 is in no URL the service answers.
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let relative = if directory.is_empty() {
                    name
                } else {
                    format!("{directory}/{name}")
                };
                let canonical = canonical_static_path(&relative, hidden)
                    .is_ok_and(|canonical| canonical.relative == relative);
                if !canonical {
                    continue;
                }
                if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                    pending.push(relative);
                } else {
                    paths.insert(relative);
                }
            }
        }
    }
    paths
}

/// What a static dir holds at a canonical path.
#[derive(Debug)]
pub(crate) enum Opened {
    /// A regular file, open, with the version `fstat` gave.
    File(File, FileVersion),
    /// A directory.
    Directory,
    /// Nothing: no such file, or a name the filesystem refuses (too long, a file used as a
    /// directory).
    Missing,
    /// Something that is not used.
    Refused(Unusable),
}

/// Why what exists at a static path is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// A link (or `..` in one) that leads out of the static dir, or a loop of links.
    Outside,
    /// A FIFO, device or socket, in words.
    NotRegular(&'static str),
    /// It cannot be opened or read (permissions): the system's reason.
    Unreadable(String),
}

impl Unusable {
    /// The error the macros and the run-time API report for the static path `relative` (the
    /// file `path`).
    pub(crate) fn into_error(self, relative: &str, path: &Path) -> Error {
        match self {
            Unusable::Outside => Error::StaticFileOutsideStaticDirs {
                path: relative.to_owned(),
                target: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
            },
            Unusable::NotRegular(kind) => Error::StaticFileNotRegular {
                path: relative.to_owned(),
                kind,
            },
            Unusable::Unreadable(reason) => Error::FileUnreadable {
                path: path.to_owned(),
                reason,
            },
        }
    }
}

/// The file behind a canonical static path, found by [`find_static_file`].
#[derive(Debug)]
pub(crate) enum StaticFile {
    /// A regular file in the static dir `dir` (its index in the list).
    File {
        dir: usize,
        // The macros only stat it: they hash by path, through the digest cache.
        #[cfg_attr(not(feature = "service"), allow(dead_code))]
        file: File,
        version: FileVersion,
    },
    /// A directory.
    Directory,
    /// Nothing in any static dir.
    Missing,
    /// Something unused in the static dir `dir`, which decides.
    Refused { dir: usize, why: Unusable },
}

/// Opens the canonical path `relative` in the first of `dirs` where anything exists at that
/// path.
pub(crate) fn find_static_file(dirs: &[PathBuf], relative: &str) -> StaticFile {
    for (dir, root) in dirs.iter().enumerate() {
        match open_beneath(root, relative) {
            Opened::Missing => {
                // A link that leads nowhere exists, and decides: a later dir's file does not
                // stand in for a broken link, and the macros say what is broken.
                if let Ok(target) = std::fs::read_link(root.join(relative)) {
                    let why = format!(
                        "it is a symbolic link to {}, which does not exist",
                        target.display()
                    );
                    return StaticFile::Refused {
                        dir,
                        why: Unusable::Unreadable(why),
                    };
                }
            }
            Opened::File(file, version) => return StaticFile::File { dir, file, version },
            Opened::Directory => return StaticFile::Directory,
            Opened::Refused(why) => return StaticFile::Refused { dir, why },
        }
    }
    StaticFile::Missing
}

/// Opens `relative` (canonical: no `..`, no empty segments; `""` for the dir itself) below
/// `root`. `root` is opened anew on every call, so a deploy that swaps the link it goes
/// through (`current -> releases/42`) is followed at once.
pub(crate) fn open_beneath(root: &Path, relative: &str) -> Opened {
    match open_file(root, relative) {
        Ok(file) => classify(file),
        Err(error) => match error.kind() {
            // `a.css/b` where `a.css` is a file, or a name too long: as good as missing.
            io::ErrorKind::NotFound
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::InvalidFilename => Opened::Missing,
            // `RESOLVE_BENEATH` refused a step out of the dir (`EXDEV`), or the fallback
            // found the file outside it or swapped while it was opened.
            io::ErrorKind::CrossesDevices => Opened::Refused(Unusable::Outside),
            io::ErrorKind::PermissionDenied if error.raw_os_error().is_none() => {
                Opened::Refused(Unusable::Outside)
            }
            _ => Opened::Refused(Unusable::Unreadable(error.to_string())),
        },
    }
}

fn classify(file: File) -> Opened {
    let metadata = match file.metadata() {
        Ok(metadata) => metadata,
        Err(error) => return Opened::Refused(Unusable::Unreadable(error.to_string())),
    };
    if metadata.is_dir() {
        return Opened::Directory;
    }
    if !metadata.is_file() {
        return Opened::Refused(Unusable::NotRegular(not_regular_kind(&metadata)));
    }
    match FileVersion::of(&metadata) {
        Some(version) => Opened::File(file, version),
        None => Opened::Refused(Unusable::Unreadable(
            "its modification time cannot be read".to_owned(),
        )),
    }
}

/// What a file that is neither regular nor a directory is, in words.
fn not_regular_kind(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let file_type = metadata.file_type();
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    let _ = metadata;
    "not a regular file"
}

#[cfg(target_os = "linux")]
fn open_file(root: &Path, relative: &str) -> io::Result<File> {
    use rustix::fs::{openat2, Mode, OFlags, ResolveFlags};

    let directory = File::open(root)?;
    let path = if relative.is_empty() { "." } else { relative };
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    match openat2(
        &directory,
        path,
        flags,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    ) {
        Ok(descriptor) => Ok(File::from(descriptor)),
        // A kernel before 5.6, or a sandbox that filters the call.
        Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => open_then_verify(root, relative),
        Err(errno) => Err(errno.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn open_file(root: &Path, relative: &str) -> io::Result<File> {
    open_then_verify(root, relative)
}

/// Opens the path, then proves that what was opened is the file whose real path lies inside
/// `root`'s real path: a link swapped between the open and the check changes the file at the
/// real path, and the device and inode no longer agree.
fn open_then_verify(root: &Path, relative: &str) -> io::Result<File> {
    let path = root.join(relative);
    let mut options = File::options();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(nonblocking_flag());
    }
    let file = options.open(&path)?;
    let real_root = std::fs::canonicalize(root)?;
    let real = std::fs::canonicalize(&path)?;
    if !real.starts_with(&real_root) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "outside the static dir",
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let opened = file.metadata()?;
        let at_real_path = std::fs::metadata(&real)?;
        if (opened.dev(), opened.ino()) != (at_real_path.dev(), at_real_path.ino()) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the file changed while it was opened",
            ));
        }
    }
    Ok(file)
}

#[cfg(unix)]
fn nonblocking_flag() -> i32 {
    #[cfg(target_os = "linux")]
    {
        rustix::fs::OFlags::NONBLOCK.bits().cast_signed()
    }
    #[cfg(not(target_os = "linux"))]
    {
        // O_NONBLOCK on the BSDs and macOS.
        0x0004
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(opened: &Opened) -> &'static str {
        match opened {
            Opened::File(..) => "file",
            Opened::Directory => "directory",
            Opened::Missing => "missing",
            Opened::Refused(Unusable::Outside) => "outside",
            Opened::Refused(Unusable::NotRegular(_)) => "not regular",
            Opened::Refused(Unusable::Unreadable(_)) => "unreadable",
        }
    }

    /// `static/` with a file, a directory, links in and out, a FIFO, and a secret beside it.
    fn tree() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("static");
        std::fs::create_dir_all(dir.join("css")).unwrap();
        std::fs::write(dir.join("css/app.css"), "a {}").unwrap();
        std::fs::write(root.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("css/app.css", dir.join("alias.css")).unwrap();
        std::os::unix::fs::symlink("../secret.txt", dir.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("etc")).unwrap();
        std::os::unix::fs::symlink("loop", dir.join("loop")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(dir.join("pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        root
    }

    #[test]
    fn only_regular_files_and_directories_inside_are_opened_and_the_rest_says_why() {
        let root = tree();
        let dir = root.path().join("static");
        let long_name = "x".repeat(300);
        let deep = "loop/".repeat(40) + "a";
        let cases = [
            ("css/app.css", "file"),
            ("alias.css", "file"),
            ("css", "directory"),
            ("", "directory"),
            ("leak.txt", "outside"),
            ("etc/hostname", "outside"),
            ("loop", "unreadable"),
            ("pipe", "not regular"),
            ("css/app.css/x", "missing"),
            ("missing.css", "missing"),
            (long_name.as_str(), "missing"),
            (deep.as_str(), "unreadable"),
        ];
        for (relative, expected) in cases {
            assert_eq!(kind(&open_beneath(&dir, relative)), expected, "{relative}");
            assert_eq!(
                kind(&classify_fallback(&dir, relative)),
                expected,
                "fallback: {relative}"
            );
        }
    }

    fn classify_fallback(root: &Path, relative: &str) -> Opened {
        match open_then_verify(root, relative) {
            Ok(file) => classify(file),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Opened::Missing,
            Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => Opened::Missing,
            Err(error) if error.kind() == std::io::ErrorKind::InvalidFilename => Opened::Missing,
            Err(error) if error.raw_os_error().is_none() => Opened::Refused(Unusable::Outside),
            Err(error) => Opened::Refused(Unusable::Unreadable(error.to_string())),
        }
    }

    #[test]
    fn a_swapped_directory_link_is_followed_at_once() {
        let root = tempfile::tempdir().unwrap();
        for release in ["1", "2"] {
            let dir = root.path().join(format!("releases/{release}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("a.css"), release).unwrap();
        }
        let current = root.path().join("current");
        std::os::unix::fs::symlink("releases/1", &current).unwrap();
        let read = |opened: Opened| match opened {
            Opened::File(file, _) => std::io::read_to_string(file).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(read(open_beneath(&current, "a.css")), "1");
        let next = root.path().join("current.next");
        std::os::unix::fs::symlink("releases/2", &next).unwrap();
        std::fs::rename(&next, &current).unwrap();
        assert_eq!(read(open_beneath(&current, "a.css")), "2");
    }
}
