//! A revision's manifest: which version (full SHA-1 hex) each static path had, and when the
//! revision was published. Stored as JSON, create-only, one object per publication.

use std::collections::BTreeMap;

use super::error::{ArchiveError, ArchiveResult};
use super::layout::{encode_revision, encode_static_path, is_sha1_hex};

/// The format number written in every manifest; a reader refuses any other.
const FORMAT: u64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Manifest {
    pub(super) revision: String,
    pub(super) published_ms: u64,
    /// Static path -> SHA-1 hex.
    pub(super) files: BTreeMap<String, String>,
}

impl Manifest {
    pub(super) fn to_json(&self) -> Vec<u8> {
        let value = serde_json::json!({
            "format": FORMAT,
            "revision": self.revision,
            "published_ms": self.published_ms,
            "files": self.files,
        });
        let mut bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The manifest stored at `key`, checked: the format, the revision it is filed under
    /// (`encoded_revision`), a canonical static path and a full SHA-1 for every file.
    pub(super) fn from_json(
        key: &str,
        encoded_revision: &str,
        bytes: &[u8],
    ) -> ArchiveResult<Self> {
        let invalid = |reason: String| ArchiveError::InvalidManifest {
            key: key.to_owned(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
        if value.get("format").and_then(serde_json::Value::as_u64) != Some(FORMAT) {
            return Err(invalid(format!("its `format` is not {FORMAT}")));
        }
        let revision = value
            .get("revision")
            .and_then(serde_json::Value::as_str)
            .filter(|revision| encode_revision(revision).ok().as_deref() == Some(encoded_revision))
            .ok_or_else(|| invalid("its `revision` is not the one it is filed under".to_owned()))?;
        let published_ms = value
            .get("published_ms")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| invalid("`published_ms` is not a number".to_owned()))?;
        let entries = value
            .get("files")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| invalid("`files` is not an object".to_owned()))?;
        let mut files = BTreeMap::new();
        for (path, sha1) in entries {
            let sha1 = sha1.as_str().filter(|sha1| is_sha1_hex(sha1));
            let Some(sha1) = sha1 else {
                return Err(invalid(format!("`{path}` is not given a full SHA-1")));
            };
            encode_static_path(path).map_err(|error| invalid(error.to_string()))?;
            files.insert(path.clone(), sha1.to_owned());
        }
        Ok(Manifest {
            revision: revision.to_owned(),
            published_ms,
            files,
        })
    }

    /// The first static path whose version differs between the two manifests, with each
    /// one's SHA-1 for it.
    pub(super) fn first_difference(
        &self,
        other: &BTreeMap<String, String>,
    ) -> Option<(String, Option<String>, Option<String>)> {
        let paths = self.files.keys().chain(other.keys());
        for path in paths {
            let (mine, theirs) = (self.files.get(path), other.get(path));
            if mine != theirs {
                return Some((path.clone(), mine.cloned(), theirs.cloned()));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_back_and_a_foreign_one_is_refused() {
        let manifest = Manifest {
            revision: "r1".to_owned(),
            published_ms: 42,
            files: BTreeMap::from([(
                "css/app.css".to_owned(),
                "0123456789abcdef0123456789abcdef01234567".to_owned(),
            )]),
        };
        let json = manifest.to_json();
        assert_eq!(Manifest::from_json("k", "r1", &json).unwrap(), manifest);
        assert!(Manifest::from_json("k", "r2", &json).is_err());
        let traversal = String::from_utf8(json)
            .unwrap()
            .replace("css/app.css", "../etc/passwd");
        assert!(Manifest::from_json("k", "r1", traversal.as_bytes()).is_err());
    }
}
