//! Finding the file behind a static path, so that a typo fails the build instead of shipping a
//! 404, and refusing paths that would make the compiler read files outside the static dirs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::FileStamp;
use crate::rules::static_path::{find_static_file, StaticFile};
use crate::rules::stylesheet::StaticLookup;
use crate::rules::suggest::{closest, static_files_for_suggestion};

pub use crate::rules::static_path::static_file_relative_path;

/// The static dirs of a crate, with what is learnt about them kept for the crate's later
/// calls.
#[derive(Debug)]
pub struct StaticDirs {
    /// As configured, relative to the crate, for messages.
    configured: Vec<String>,
    /// Absolute, in search order.
    absolute: Vec<PathBuf>,
    /// Whether any of them is a directory (checked once per crate).
    any_exists: bool,
    /// Every file below the dirs, listed once, for "did you mean" (a typo in a crate with
    /// 20,000 files in `static/node_modules` must not walk them again for every call).
    listing: OnceLock<Vec<String>>,
}

impl StaticDirs {
    /// The dirs `configured` (relative to `manifest_dir`), in search order.
    #[must_use]
    pub fn new(manifest_dir: &Path, configured: &[String]) -> Self {
        let absolute: Vec<PathBuf> = configured
            .iter()
            .map(|dir| manifest_dir.join(dir))
            .collect();
        let any_exists = absolute.iter().any(|dir| dir.is_dir());
        StaticDirs {
            configured: configured.to_vec(),
            absolute,
            any_exists,
            listing: OnceLock::new(),
        }
    }

    /// The dirs, absolute, in search order.
    #[must_use]
    pub fn absolute(&self) -> &[PathBuf] {
        &self.absolute
    }

    /// True if any of the dirs exists (file checks apply only then).
    #[must_use]
    pub fn any_exists(&self) -> bool {
        self.any_exists
    }

    /// The first file named `relative` (canonical) in the dirs, searched in order like
    /// Django's `STATICFILES_DIRS`, by the rule the service follows
    /// ([`crate::rules::static_path::find_static_file`]): the first dir where anything exists
    /// at that path decides, and it must be a regular file inside that dir.
    ///
    /// # Errors
    /// [`Error::StaticFileNotFound`] (with a close match when there is one),
    /// [`Error::StaticFileOutsideStaticDirs`] for a link leading out of its dir,
    /// [`Error::StaticFileNotRegular`] for a FIFO, device, directory or socket.
    pub fn find(&self, relative: &str, purpose: FilePurpose) -> Result<PathBuf> {
        self.find_with_stamp(relative, purpose)
            .map(|(path, _)| path)
    }

    /// [`StaticDirs::find`], with the file's version as read while looking it up.
    ///
    /// # Errors
    /// As [`StaticDirs::find`].
    pub fn find_with_stamp(
        &self,
        relative: &str,
        purpose: FilePurpose,
    ) -> Result<(PathBuf, FileStamp)> {
        match find_static_file(&self.absolute, relative) {
            StaticFile::File { dir, version, .. } => {
                Ok((self.absolute[dir].join(relative), Some(version)))
            }
            StaticFile::Directory => Err(Error::StaticFileNotRegular {
                path: relative.to_owned(),
                kind: "a directory",
            }),
            StaticFile::Refused { dir, why } => {
                Err(why.into_error(relative, &self.absolute[dir].join(relative)))
            }
            StaticFile::Missing => Err(Error::StaticFileNotFound {
                path: relative.to_owned(),
                searched: self.configured.clone(),
                suggestion: self.suggest(relative),
                hashed: purpose == FilePurpose::Hash,
            }),
        }
    }

    /// The file below the dirs whose relative path is closest to `relative`, if it is close
    /// enough to be a typo.
    fn suggest(&self, relative: &str) -> Option<String> {
        let listing = self
            .listing
            .get_or_init(|| static_files_for_suggestion(&self.absolute));
        closest(relative, listing.iter().map(String::as_str)).map(str::to_owned)
    }
}

/// A stylesheet's references are found as `cdnstatic!`'s paths are, with their errors.
impl StaticLookup for StaticDirs {
    fn static_file(&self, relative: &str) -> Result<(PathBuf, FileStamp)> {
        self.find_with_stamp(relative, FilePurpose::Check)
    }
}

/// Why a static file is looked up, which decides what a missing one's error suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePurpose {
    /// Only to check that the link will work.
    Check,
    /// For its bytes: a content hash or an integrity digest.
    Hash,
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
        // A backslash is a separator on Windows: refused whatever it separates.
        for backslashed in ["..\\secret.txt", "css\\app.css"] {
            assert!(
                matches!(
                    static_file_relative_path(backslashed),
                    Err(Error::InvalidStaticPath { ref reason, .. }) if reason.contains("backslash")
                ),
                "{backslashed}"
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
        assert!(
            message.contains("list its directory in `static_dirs`"),
            "{message}"
        );

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

        // The service opens a file below the static dir it is found in, so a link into
        // another static dir is refused too (the first dir with anything at the path
        // decides); without the link, that dir's file is found by its own path.
        let with_vendor = StaticDirs::new(root.path(), &["static".to_owned(), "vendor".to_owned()]);
        assert!(matches!(
            with_vendor.find("fonts/a.woff2", FilePurpose::Hash),
            Err(Error::StaticFileOutsideStaticDirs { .. })
        ));
        std::fs::remove_file(static_dir.join("fonts")).unwrap();
        assert_eq!(
            with_vendor
                .find("fonts/a.woff2", FilePurpose::Hash)
                .unwrap(),
            root.path().join("vendor/fonts/a.woff2")
        );
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
