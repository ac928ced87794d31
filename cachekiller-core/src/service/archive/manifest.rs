//! A revision's manifest: which version (full SHA-1 hex) each static path the revision names
//! had, and when the revision was published. Stored as JSON, create-only, one object per
//! publication; signed with the archive's key when it has one (see `signing`): the MAC's line,
//! then the JSON.

use std::collections::BTreeMap;

use super::error::{ArchiveError, ArchiveResult};
use super::layout::{encode_revision, encode_static_path, is_sha1_hex};
use super::signing::{SigningKey, MANIFEST_MAC_PREFIX};

/// The format number written in every manifest; a reader takes this one and the first (the
/// same fields, written before manifests were signed).
const FORMAT: u64 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Manifest {
    pub(super) revision: String,
    pub(super) published_ms: u64,
    /// Static path -> SHA-1 hex.
    pub(super) files: BTreeMap<String, String>,
}

impl Manifest {
    /// The stored bytes: the JSON, signed with `key` if there is one.
    pub(super) fn to_bytes(&self, key: Option<&SigningKey>) -> Vec<u8> {
        let value = serde_json::json!({
            "format": FORMAT,
            "revision": self.revision,
            "published_ms": self.published_ms,
            "files": self.files,
        });
        let mut json = serde_json::to_vec_pretty(&value).unwrap_or_default();
        json.push(b'\n');
        match key {
            Some(key) => key.sign_manifest(&json),
            None => json,
        }
    }

    /// The manifest stored at `key`, checked: its MAC under `signing_key` (with a key, an
    /// unsigned or badly signed manifest is [`ArchiveError::Unsigned`]; without one, a
    /// signature cannot be checked and is skipped), the format, the revision it is filed under
    /// (`encoded_revision`), a canonical static path and a full SHA-1 for every file.
    pub(super) fn from_bytes(
        key: &str,
        encoded_revision: &str,
        bytes: &[u8],
        signing_key: Option<&SigningKey>,
    ) -> ArchiveResult<Self> {
        let (mac, json) = match bytes.strip_prefix(MANIFEST_MAC_PREFIX) {
            Some(rest) => {
                let end = rest.iter().position(|&byte| byte == b'\n').ok_or_else(|| {
                    ArchiveError::InvalidManifest {
                        key: key.to_owned(),
                        reason: "its signature line does not end".to_owned(),
                    }
                })?;
                (Some(&rest[..end]), &rest[end + 1..])
            }
            None => (None, bytes),
        };
        if let Some(signing_key) = signing_key {
            if !mac.is_some_and(|mac| signing_key.verifies_manifest(json, mac)) {
                return Err(ArchiveError::Unsigned {
                    key: key.to_owned(),
                });
            }
        }
        let invalid = |reason: String| ArchiveError::InvalidManifest {
            key: key.to_owned(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|error| invalid(error.to_string()))?;
        if !matches!(
            value.get("format").and_then(serde_json::Value::as_u64),
            Some(1 | FORMAT)
        ) {
            return Err(invalid(format!("its `format` is not 1 or {FORMAT}")));
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

    /// The static paths both manifests name with other versions, with each one's SHA-1: a
    /// path only one of them names is no conflict (a build of the revision from a dirty work
    /// tree names fewer files).
    pub(super) fn conflicts_with(
        &self,
        other: &BTreeMap<String, String>,
    ) -> Vec<(String, String, String)> {
        self.files
            .iter()
            .filter_map(|(path, mine)| {
                let theirs = other.get(path)?;
                (theirs != mine).then(|| (path.clone(), mine.clone(), theirs.clone()))
            })
            .collect()
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
        let json = manifest.to_bytes(None);
        assert_eq!(
            Manifest::from_bytes("k", "r1", &json, None).unwrap(),
            manifest
        );
        assert!(Manifest::from_bytes("k", "r2", &json, None).is_err());
        let traversal = String::from_utf8(json.clone())
            .unwrap()
            .replace("css/app.css", "../etc/passwd");
        assert!(Manifest::from_bytes("k", "r1", traversal.as_bytes(), None).is_err());
        for cut in [0, 1, json.len() / 2, json.len() - 3] {
            assert!(
                Manifest::from_bytes("k", "r1", &json[..cut], None).is_err(),
                "a manifest cut at {cut}"
            );
        }
    }

    #[test]
    fn with_a_key_only_a_manifest_it_signed_is_read() {
        let key = SigningKey::new("the site's key, shared by its instances").unwrap();
        let manifest = Manifest {
            revision: "r1".to_owned(),
            published_ms: 7,
            files: BTreeMap::from([(
                "js/site.js".to_owned(),
                "89abcdef0123456789abcdef0123456789abcdef".to_owned(),
            )]),
        };
        let signed = manifest.to_bytes(Some(&key));
        assert_eq!(
            Manifest::from_bytes("k", "r1", &signed, Some(&key)).unwrap(),
            manifest
        );
        // Without the key, a signed manifest still reads (its MAC cannot be checked).
        assert_eq!(
            Manifest::from_bytes("k", "r1", &signed, None).unwrap(),
            manifest
        );
        let unsigned = manifest.to_bytes(None);
        let forged_key = SigningKey::new("a forger's key, not the site's one").unwrap();
        let forged = manifest.to_bytes(Some(&forged_key));
        let mut tampered = signed.clone();
        let at = tampered.len() - 10;
        tampered[at] ^= 1;
        for bytes in [unsigned, forged, tampered] {
            assert_eq!(
                Manifest::from_bytes("k", "r1", &bytes, Some(&key)),
                Err(ArchiveError::Unsigned {
                    key: "k".to_owned()
                })
            );
        }
    }
}
