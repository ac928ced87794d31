//! The first step of a request: its path, decoded once and made canonical, before any file or
//! cache is consulted. Every spelling of a path (`css/./app.css`, `css//app.css`,
//! `css/app%2Ecss`) becomes the one relative path that keys the caches and that a stylesheet
//! is rewritten against, so no spelling changes what another spelling gets.

use crate::rules::static_path::{canonical_static_path, CanonicalPath, HiddenFiles, Refused};
use crate::rules::url::percent_decode;

/// The canonical form of `path` (percent-encoded, as in the request line). An encoded slash
/// (`docs%2Fsub`) is refused: it would be one segment to the browser, which resolves relative
/// URLs (a directory's redirect, a stylesheet's references) against it, and two to the file
/// system.
pub(crate) fn canonical_path(path: &str, hidden: HiddenFiles) -> Result<CanonicalPath, Refused> {
    if path.contains("%2F") || path.contains("%2f") {
        return Err(Refused::Malformed("an encoded `/`"));
    }
    let decoded =
        percent_decode(path).map_err(|_| Refused::Malformed("escapes that are not UTF-8"))?;
    canonical_static_path(&decoded, hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_path_is_one_path() {
        for spelling in [
            "/css/app.css",
            "css/app.css",
            "/css/./app.css",
            "//css//app.css",
            "/./css/.//app.css",
            "/css/app%2Ecss",
            "/css/app%2ecss",
            "/%63ss/app.css",
        ] {
            assert_eq!(
                canonical_path(spelling, HiddenFiles::Refused),
                Ok(CanonicalPath {
                    relative: "css/app.css".into(),
                    directory: false
                }),
                "{spelling}"
            );
        }
    }

    #[test]
    fn directories_and_odd_names() {
        // (path, relative, directory)
        let cases = [
            ("/", "", true),
            ("", "", true),
            ("/docs/", "docs", true),
            ("/docs/.", "docs", true),
            ("/docs", "docs", false),
            ("/img/team%20photo.png", "img/team photo.png", false),
            ("/img/日本", "img/日本", false),
            ("/img/%E6%97%A5%E6%9C%AC", "img/日本", false),
            (
                "/.well-known/security.txt",
                ".well-known/security.txt",
                false,
            ),
            ("/a..b/c...d", "a..b/c...d", false),
            ("/100%", "100%", false),
        ];
        for (path, relative, directory) in cases {
            assert_eq!(
                canonical_path(path, HiddenFiles::Refused),
                Ok(CanonicalPath {
                    relative: relative.into(),
                    directory
                }),
                "{path}"
            );
        }
    }

    #[test]
    fn climbing_nul_backslash_bad_escapes_and_hidden_files_are_refused() {
        for path in [
            "/../secret.txt",
            "/css/../app.css",
            "/%2e%2e/secret.txt",
            "/css/%2E%2E/%2E%2E/secret.txt",
            "/a%00.css",
            "/a%5c..%5csecret",
            "/a\\b",
            "/C:/Windows/win.ini",
            "/%ff.css",
            "/docs%2Fsub",
            "/css%2fapp.css",
        ] {
            assert!(
                matches!(
                    canonical_path(path, HiddenFiles::Refused),
                    Err(Refused::Malformed(_) | Refused::Escapes)
                ),
                "{path}"
            );
        }
        for path in [
            "/.env",
            "/.git/config",
            "/css/.hidden.css",
            "/%2Eenv",
            "/./.env",
        ] {
            assert_eq!(
                canonical_path(path, HiddenFiles::Refused),
                Err(Refused::Hidden),
                "{path}"
            );
            assert!(canonical_path(path, HiddenFiles::Allowed).is_ok(), "{path}");
        }
    }
}
