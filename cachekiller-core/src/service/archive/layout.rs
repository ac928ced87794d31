//! Where each object lives in the store, and how names become keys.
//!
//! ```text
//! blobs/<sha1 hex>                                  the bytes of one version
//! paths/<encoded static path>/@/<sha1 hex>          empty: <sha1> was a version of that path
//! revisions/<encoded revision>/<published ms>.json  a revision's manifest (path -> sha1)
//! trash/<sha1 hex>                                  a blob the garbage collector is deleting
//! ```
//!
//! A static path keeps its directories (so that a deep path never makes a file name longer
//! than a filesystem allows), each segment percent-encoded outside `[A-Za-z0-9._-]`. The
//! versions of a path sit under `@`, a segment the encoding never produces, so the versions of
//! `css` and of `css/app.css` never mix. Object stores list by whole segments (`paths/a/b` is
//! no prefix of `paths/a/bc`), so a lookup lists the versions of its path and matches the tag
//! against them: a path has a handful of versions (what the retention keeps), one request.

use object_store::path::Path;

use super::error::{ArchiveError, ArchiveResult};

/// The longest key the archive makes: S3 allows 1,024 bytes, and the store's own prefix
/// comes before ours.
const MAX_KEY_BYTES: usize = 768;

pub(super) const BLOBS: &str = "blobs";
pub(super) const PATHS: &str = "paths";
pub(super) const REVISIONS: &str = "revisions";
pub(super) const TRASH: &str = "trash";
/// The segment under which a path's versions are recorded.
const VERSIONS_SEGMENT: &str = "@";

/// `segment` percent-encoded outside `[A-Za-z0-9._-]`.
fn encode_segment(segment: &str, encoded: &mut String) {
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-') {
            encoded.push(char::from(byte));
        } else {
            const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
            encoded.push('%');
            encoded.push(char::from(DIGITS[usize::from(byte >> 4)]));
            encoded.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
        }
    }
}

/// The encoded form of a static path (`css/app.css`), refused if it is not canonical: no
/// leading or trailing `/`, no empty, `.` or `..` segment, no control character or backslash.
pub(super) fn encode_static_path(path: &str) -> ArchiveResult<String> {
    let refuse = |reason| ArchiveError::InvalidName {
        kind: "static path",
        name: path.to_owned(),
        reason,
    };
    if path.is_empty() {
        return Err(refuse("is empty"));
    }
    if path
        .bytes()
        .any(|byte| byte.is_ascii_control() || byte == b'\\')
    {
        return Err(refuse("holds a control character or a backslash"));
    }
    let mut encoded = String::with_capacity(path.len());
    for (index, segment) in path.split('/').enumerate() {
        match segment {
            "" => {
                return Err(refuse(
                    "has an empty segment (a leading, trailing or double `/`)",
                ))
            }
            "." | ".." => return Err(refuse("has a `.` or `..` segment")),
            _ => {}
        }
        if index > 0 {
            encoded.push('/');
        }
        encode_segment(segment, &mut encoded);
    }
    if encoded.len() > MAX_KEY_BYTES {
        return Err(refuse("is too long for an object key"));
    }
    Ok(encoded)
}

/// The encoded form of a revision: one segment (a `/` in it is encoded too).
pub(super) fn encode_revision(revision: &str) -> ArchiveResult<String> {
    let refuse = |reason| ArchiveError::InvalidName {
        kind: "revision",
        name: revision.to_owned(),
        reason,
    };
    if revision.is_empty() {
        return Err(refuse("is empty"));
    }
    if revision.bytes().any(|byte| byte.is_ascii_control()) {
        return Err(refuse("holds a control character"));
    }
    let mut encoded = String::with_capacity(revision.len());
    encode_segment(revision, &mut encoded);
    if encoded == "." || encoded == ".." {
        return Err(refuse("is `.` or `..`"));
    }
    if encoded.len() > MAX_KEY_BYTES / 2 {
        return Err(refuse("is too long for an object key"));
    }
    Ok(encoded)
}

/// A key from segments the archive made (each valid: no `/` inside a segment, none empty).
fn key(text: &str) -> Path {
    Path::parse(text).unwrap_or_else(|_| Path::from(text))
}

pub(super) fn blob_key(sha1_hex: &str) -> Path {
    key(&format!("{BLOBS}/{sha1_hex}"))
}

pub(super) fn trash_key(sha1_hex: &str) -> Path {
    key(&format!("{TRASH}/{sha1_hex}"))
}

/// The prefix under which the versions of the static path (encoded) are recorded.
pub(super) fn versions_prefix(encoded_path: &str) -> Path {
    key(&format!("{PATHS}/{encoded_path}/{VERSIONS_SEGMENT}"))
}

/// The key of the record that `sha1_hex` is a version of the (encoded) static path: with the
/// record's MAC after a `.` when the archive signs its records.
pub(super) fn marker_key(encoded_path: &str, sha1_hex: &str, mac: Option<&str>) -> Path {
    match mac {
        Some(mac) => key(&format!(
            "{PATHS}/{encoded_path}/{VERSIONS_SEGMENT}/{sha1_hex}.{mac}"
        )),
        None => key(&format!(
            "{PATHS}/{encoded_path}/{VERSIONS_SEGMENT}/{sha1_hex}"
        )),
    }
}

pub(super) fn revision_prefix(encoded_revision: &str) -> Path {
    key(&format!("{REVISIONS}/{encoded_revision}"))
}

/// The key of a revision's manifest published at `published_ms` (milliseconds since the
/// epoch, zero-padded so that keys sort by time).
pub(super) fn manifest_key(encoded_revision: &str, published_ms: u64) -> Path {
    key(&format!(
        "{REVISIONS}/{encoded_revision}/{published_ms:016}.json"
    ))
}

pub(super) fn root(name: &str) -> Path {
    key(name)
}

/// True for 40 lower-case hex digits: a full SHA-1 as the archive names it.
pub(super) fn is_sha1_hex(text: &str) -> bool {
    text.len() == 40
        && text
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

/// The SHA-1 hex a blob (or trash) key names, if it is one.
pub(super) fn sha1_of_blob_key(location: &Path, under: &str) -> Option<String> {
    let mut parts = location.parts();
    let first = parts.next()?;
    let second = parts.next()?;
    (first.as_ref() == under && parts.next().is_none() && is_sha1_hex(second.as_ref()))
        .then(|| second.as_ref().to_owned())
}

/// A path record as its key says it: the encoded static path, the SHA-1 hex, and the MAC if
/// it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Marker {
    pub(super) encoded_path: String,
    pub(super) sha1: String,
    pub(super) mac: Option<String>,
}

/// The path record a key names, if it is one.
pub(super) fn marker_of_key(location: &Path) -> Option<Marker> {
    let parts: Vec<_> = location.parts().collect();
    let [first, path @ .., versions, last] = parts.as_slice() else {
        return None;
    };
    let (sha1, mac) = match last.as_ref().split_once('.') {
        Some((sha1, mac)) => (sha1, Some(mac.to_owned())),
        None => (last.as_ref(), None),
    };
    let valid = first.as_ref() == PATHS
        && !path.is_empty()
        && versions.as_ref() == VERSIONS_SEGMENT
        && is_sha1_hex(sha1);
    valid.then(|| {
        let path: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
        Marker {
            encoded_path: path.join("/"),
            sha1: sha1.to_owned(),
            mac,
        }
    })
}

/// The static path an encoded one stands for (the inverse of [`encode_static_path`]).
pub(super) fn decode_static_path(encoded: &str) -> Option<String> {
    crate::rules::url::percent_decode(encoded)
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// The encoded revision and publication time a manifest key names, if it is one.
pub(super) fn manifest_of_key(location: &Path) -> Option<(String, u64)> {
    let parts: Vec<_> = location.parts().collect();
    let [first, revision, file] = parts.as_slice() else {
        return None;
    };
    let published_ms = file.as_ref().strip_suffix(".json")?;
    if first.as_ref() != REVISIONS
        || published_ms.len() != 16
        || !published_ms.bytes().all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    Some((revision.as_ref().to_owned(), published_ms.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_paths_encode_to_safe_keys_and_unsafe_ones_are_refused() {
        let cases: &[(&str, Option<&str>)] = &[
            ("css/app.css", Some("css/app.css")),
            (".well-known/x.txt", Some(".well-known/x.txt")),
            ("img/a b+c.png", Some("img/a%20b%2Bc.png")),
            ("img/%2e%2e/x", Some("img/%252e%252e/x")),
            ("é.css", Some("%C3%A9.css")),
            ("a/@/b", Some("a/%40/b")),
            ("a#1", Some("a%231")),
            ("..", None),
            ("a/../b", None),
            ("./a", None),
            ("/a", None),
            ("a/", None),
            ("a//b", None),
            ("", None),
            ("a\\b", None),
            ("a\nb", None),
        ];
        for (path, expected) in cases {
            assert_eq!(
                encode_static_path(path).ok().as_deref(),
                *expected,
                "static path {path:?}"
            );
        }
    }

    #[test]
    fn revisions_are_one_segment() {
        assert_eq!(encode_revision("v1.2/rc").unwrap(), "v1.2%2Frc");
        assert!(encode_revision("..")
            .unwrap_err()
            .to_string()
            .contains("`.` or `..`"));
        assert!(encode_revision("").is_err());
    }

    #[test]
    fn keys_parse_back() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let path = encode_static_path("css/a b.css").unwrap();
        assert_eq!(
            marker_of_key(&marker_key(&path, sha, None)),
            Some(Marker {
                encoded_path: path.clone(),
                sha1: sha.to_owned(),
                mac: None
            })
        );
        assert_eq!(
            marker_of_key(&marker_key(&path, sha, Some("00ff"))),
            Some(Marker {
                encoded_path: path.clone(),
                sha1: sha.to_owned(),
                mac: Some("00ff".to_owned())
            })
        );
        assert_eq!(decode_static_path(&path).as_deref(), Some("css/a b.css"));
        assert_eq!(
            sha1_of_blob_key(&blob_key(sha), BLOBS),
            Some(sha.to_owned())
        );
        assert_eq!(sha1_of_blob_key(&blob_key(sha), TRASH), None);
        let revision = encode_revision("abc").unwrap();
        assert_eq!(
            manifest_of_key(&manifest_key(&revision, 1_700_000_000_123)),
            Some((revision, 1_700_000_000_123))
        );
    }
}
