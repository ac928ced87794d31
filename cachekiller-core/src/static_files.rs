//! Finding the file behind a static path, so that a typo fails the build instead of shipping a
//! 404, and refusing paths that would make the compiler read files outside the static dirs.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::url::{is_absolute_url, split_url};

/// How many files the "did you mean" search looks at before giving up on a suggestion.
const MAX_FILES_FOR_SUGGESTION: usize = 20_000;

/// The file path behind a static URL path: the part before `?` and `#`, percent-decoded, with
/// leading `/` dropped (as the URL does). `None` for an absolute URL, which is not a file here.
///
/// # Errors
/// [`Error::EmptyStaticPath`] if nothing is left, [`Error::InvalidStaticPath`] if the decoded
/// bytes are not UTF-8, [`Error::StaticPathEscapes`] for `..` components, a drive prefix or a
/// NUL byte.
pub fn static_file_relative_path(url_path: &str) -> Result<Option<Cow<'_, str>>> {
    let location = split_url(url_path).location;
    if is_absolute_url(location) {
        return Ok(None);
    }
    let decoded = if location.contains('%') {
        Cow::Owned(
            percent_decode(location).map_err(|reason| Error::InvalidStaticPath {
                path: url_path.to_owned(),
                reason,
            })?,
        )
    } else {
        Cow::Borrowed(location)
    };
    let relative = decoded.trim_start_matches('/');
    if relative.is_empty() {
        return Err(Error::EmptyStaticPath);
    }
    let bytes = relative.as_bytes();
    let escapes = bytes.contains(&0)
        || bytes
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

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stands for itself, as
/// [`crate::url::join_static_url`] encodes it.
fn percent_decode(text: &str) -> std::result::Result<String, String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escape {
            decoded.push(byte);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| "its percent escapes do not decode to UTF-8".to_owned())
}

/// The static dirs of a crate as absolute paths, in search order.
#[must_use]
pub fn absolute_static_dirs(manifest_dir: &Path, static_dirs: &[String]) -> Vec<PathBuf> {
    static_dirs
        .iter()
        .map(|dir| manifest_dir.join(dir))
        .collect()
}

/// Why a static file is looked up, which decides what a missing one's error suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePurpose {
    /// Only to check that the link will work.
    Check,
    /// For its bytes: a content hash or an integrity digest.
    Hash,
}

/// The first file named `relative` in `dirs`, searched in order like Django's
/// `STATICFILES_DIRS`.
///
/// # Errors
/// [`Error::StaticFileNotFound`], with a close match from the dirs when there is one.
pub fn find_static_file(
    dirs: &[PathBuf],
    configured_dirs: &[String],
    relative: &str,
    purpose: FilePurpose,
) -> Result<PathBuf> {
    if let Some(found) = dirs
        .iter()
        .map(|dir| dir.join(relative))
        .find(|path| path.is_file())
    {
        return Ok(found);
    }
    Err(Error::StaticFileNotFound {
        path: relative.to_owned(),
        searched: configured_dirs.to_vec(),
        suggestion: suggest_similar_file(dirs, relative),
        hashed: purpose == FilePurpose::Hash,
    })
}

/// The file in `dirs` whose relative path is closest to `relative`, if it is close enough to
/// be a typo (an edit distance of at most a quarter of the length, and at least 1).
#[must_use]
pub fn suggest_similar_file(dirs: &[PathBuf], relative: &str) -> Option<String> {
    let mut candidates = Vec::new();
    for dir in dirs {
        collect_files(dir, dir, &mut candidates);
    }
    let limit = 1 + relative.chars().count() / 4;
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(relative, &candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

fn collect_files(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if found.len() >= MAX_FILES_FOR_SUGGESTION {
            return;
        }
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, found);
        } else if let Some(relative) = path.strip_prefix(root).ok().and_then(Path::to_str) {
            found.push(relative.replace('\\', "/"));
        }
    }
}

/// Levenshtein distance between `a` and `b`, in characters.
#[must_use]
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, a_char) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
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
            "a%00.css",
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
        let dirs = absolute_static_dirs(root.path(), &configured);
        assert_eq!(
            find_static_file(&dirs, &configured, "css/app.css", FilePurpose::Check).unwrap(),
            root.path().join("static/css/app.css")
        );
        assert_eq!(
            find_static_file(&dirs, &configured, "css/reset.css", FilePurpose::Check).unwrap(),
            root.path().join("vendor/css/reset.css")
        );

        let error =
            find_static_file(&dirs, &configured, "css/ap.css", FilePurpose::Check).unwrap_err();
        assert_eq!(
            error,
            Error::StaticFileNotFound {
                path: "css/ap.css".into(),
                searched: configured.to_vec(),
                suggestion: Some("css/app.css".into()),
                hashed: false,
            }
        );
        let error = find_static_file(&dirs, &configured, "fonts/inter.woff2", FilePurpose::Hash)
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

    #[test]
    fn edit_distances() {
        for (a, b, distance) in [
            ("", "", 0),
            ("a", "", 1),
            ("kitten", "sitting", 3),
            ("css/ap.css", "css/app.css", 1),
            ("é", "e", 1),
        ] {
            assert_eq!(edit_distance(a, b), distance, "{a} {b}");
            assert_eq!(edit_distance(b, a), distance, "{b} {a}");
        }
    }
}
