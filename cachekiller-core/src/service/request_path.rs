//! The first step of a request: its path, decoded once and made canonical, before any file or
//! cache is consulted. Every spelling of a path (`css/./app.css`, `css//app.css`,
//! `css/app%2Ecss`) becomes the one relative path that keys the caches and that a stylesheet
//! is rewritten against, so no spelling changes what another spelling gets.

use crate::url::percent_decode;

/// A request path below the mount point, canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CanonicalPath {
    /// The decoded path relative to the static dirs, segments joined by `/`, without `.` or
    /// empty segments (`""` for the root).
    pub(crate) relative: String,
    /// True if the request names a directory's index (`docs/`, `docs/.`, the root).
    pub(crate) directory: bool,
}

/// Why a request path names no file we may serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `..`, a NUL byte, a backslash, escapes that do not decode to UTF-8.
    Malformed,
    /// A segment starting with `.` (`.env`, `.git/config`) other than `.well-known`.
    Hidden,
}

/// The canonical form of `path` (percent-encoded, as in the request line). An encoded slash
/// (`docs%2Fsub`) is refused: it would be one segment to the browser, which resolves relative
/// URLs (a directory's redirect, a stylesheet's references) against it, and two to the file
/// system.
pub(crate) fn canonical_path(path: &str, serve_hidden: bool) -> Result<CanonicalPath, Refused> {
    if path.contains("%2F") || path.contains("%2f") {
        return Err(Refused::Malformed);
    }
    let decoded = percent_decode(path).map_err(|_| Refused::Malformed)?;
    canonical_relative(&decoded, serve_hidden)
}

/// The canonical form of a decoded path (a stylesheet's reference, resolved).
pub(crate) fn canonical_relative(
    decoded: &str,
    serve_hidden: bool,
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
            ".." => return Err(Refused::Malformed),
            _ => {}
        }
        if segment.contains(['\0', '\\']) {
            return Err(Refused::Malformed);
        }
        if segment.starts_with('.') && segment != ".well-known" && !serve_hidden {
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
                canonical_path(spelling, false),
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
                canonical_path(path, false),
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
            "/%ff.css",
            "/docs%2Fsub",
            "/css%2fapp.css",
        ] {
            assert_eq!(
                canonical_path(path, false),
                Err(Refused::Malformed),
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
            assert_eq!(canonical_path(path, false), Err(Refused::Hidden), "{path}");
            assert!(canonical_path(path, true).is_ok(), "{path}");
        }
    }
}
