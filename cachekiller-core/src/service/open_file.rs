//! The second step: the one open of the file a canonical path names, confined to a static dir
//! at the moment of the open.
//!
//! On Linux the kernel does the confinement: `openat2` with `RESOLVE_BENEATH` resolves the
//! path below the directory and fails (`EXDEV`) if any step, a symbolic link included, leaves
//! it. There is no window between a check and the open for a swapped link to slip through,
//! and no cache of real paths that a swap could outrun. Elsewhere (or on kernels before 5.6)
//! the file is opened, the real path resolved, and the opened file must be the file at that
//! real path (same device and inode), so a swap between the two is caught.
//!
//! The file is opened non-blocking: opening a FIFO for reading would otherwise wait for a
//! writer. Anything that is not a regular file or a directory is not found.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::file_stamp::FileVersion;

/// What a static dir holds at a canonical path.
#[derive(Debug)]
pub(crate) enum Opened {
    /// A regular file, open, with the version `fstat` gave.
    File(File, FileVersion),
    /// A directory.
    Directory,
    /// Nothing we serve: missing, outside the dir, a FIFO or device, a name the filesystem
    /// refuses (too long, too many links, a file used as a directory).
    Nothing,
}

/// Opens `relative` (canonical: no `..`, no empty segments; `""` for the dir itself) below
/// `root`. `root` is opened anew on every call, so a deploy that swaps the link it goes
/// through (`current -> releases/42`) is followed at once.
pub(crate) fn open_beneath(root: &Path, relative: &str) -> Opened {
    match open_file(root, relative) {
        Ok(file) => classify(file),
        Err(_) => Opened::Nothing,
    }
}

fn classify(file: File) -> Opened {
    let Ok(metadata) = file.metadata() else {
        return Opened::Nothing;
    };
    if metadata.is_dir() {
        return Opened::Directory;
    }
    match (metadata.is_file(), FileVersion::of(&metadata)) {
        (true, Some(version)) => Opened::File(file, version),
        _ => Opened::Nothing,
    }
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
            Opened::Nothing => "nothing",
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
    fn only_regular_files_and_directories_inside_are_opened() {
        let root = tree();
        let dir = root.path().join("static");
        let long_name = "x".repeat(300);
        let deep = "loop/".repeat(40) + "a";
        let cases = [
            ("css/app.css", "file"),
            ("alias.css", "file"),
            ("css", "directory"),
            ("", "directory"),
            ("leak.txt", "nothing"),
            ("etc/hostname", "nothing"),
            ("loop", "nothing"),
            ("pipe", "nothing"),
            ("css/app.css/x", "nothing"),
            ("missing.css", "nothing"),
            (long_name.as_str(), "nothing"),
            (deep.as_str(), "nothing"),
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
            Err(_) => Opened::Nothing,
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
