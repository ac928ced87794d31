//! An export's manifest: every object it wrote, by URL, with the SHA-1, size and type of the
//! bytes under it. Kept in the destination (`.cachekiller/exports/<ms>-<id>.json`): the next
//! export reads them to know which names are tagged (never rewritten), and a collection to know
//! which files a retained export's pages still link.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::rules::compression::Encoding;

/// Where the manifests are kept, below the destination's root.
pub(super) const MANIFESTS: &str = ".cachekiller/exports/";
/// The tagged names a collection deleted, with the SHA-1 of what they held.
pub(super) const TOMBSTONES: &str = ".cachekiller/collected.json";
/// How long a collected tagged name stays reserved for the bytes it held: longer than the
/// year of `max-age` every cache was told it may keep them.
pub(super) const TOMBSTONE_MS: u64 = 400 * 24 * 3600 * 1000;

/// Collected tagged names: key -> (SHA-1 hex of the bytes it held, when it was collected).
pub(super) type Tombstones = BTreeMap<String, (String, u64)>;

/// Tombstones as JSON.
pub(super) fn encode_tombstones(tombstones: &Tombstones) -> Vec<u8> {
    let names: Map<String, Value> = tombstones
        .iter()
        .map(|(key, (sha1, collected_at_ms))| {
            (
                key.clone(),
                json!({ "sha1": sha1, "collected_at_ms": collected_at_ms }),
            )
        })
        .collect();
    let mut encoded =
        serde_json::to_vec_pretty(&json!({ "cachekiller_collected": FORMAT, "names": names }))
            .unwrap_or_default();
    encoded.push(b'\n');
    encoded
}

/// Tombstones from their JSON.
///
/// # Errors
/// What is malformed.
pub(super) fn decode_tombstones(encoded: &[u8]) -> Result<Tombstones, String> {
    let value: Value = serde_json::from_slice(encoded).map_err(|error| error.to_string())?;
    let names = value
        .get("names")
        .and_then(Value::as_object)
        .ok_or("no `names`")?;
    names
        .iter()
        .map(|(key, entry)| {
            let sha1 = entry.get("sha1").and_then(Value::as_str);
            let at = entry.get("collected_at_ms").and_then(Value::as_u64);
            match (sha1, at) {
                (Some(sha1), Some(at)) => Ok((key.clone(), (sha1.to_owned(), at))),
                _ => Err(format!("{key}: no `sha1` or `collected_at_ms`")),
            }
        })
        .collect()
}

/// The format's version, the first key of every manifest.
const FORMAT: u64 = 1;

/// One object an export names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ManifestEntry {
    /// The destination key (the URL's path, decoded, without its leading `/`).
    pub(super) key: String,
    /// The canonical static path of the file it is a version of.
    pub(super) path: String,
    /// The SHA-1 hex of the (identity) bytes.
    pub(super) sha1: String,
    /// Their length.
    pub(super) size: u64,
    /// Their content type.
    pub(super) content_type: String,
    /// True for a tagged name: create-only, `immutable`, kept while a retained export names it.
    pub(super) tagged: bool,
    /// The compressed siblings written beside it (`<key>.br`, `<key>.gz`).
    pub(super) encodings: Vec<Encoding>,
}

impl ManifestEntry {
    /// The keys of its compressed siblings.
    pub(super) fn sibling_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.encodings
            .iter()
            .map(|encoding| format!("{}{}", self.key, encoding.sibling_extension()))
    }
}

/// What one export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExportManifest {
    /// When it was written, in milliseconds since the epoch (as the export was told: the
    /// age retention counts).
    pub(super) exported_at_ms: u64,
    /// One more than the highest of the manifests it found: the order exports were written
    /// in, whatever their clocks said. The newest is never collected.
    pub(super) sequence: u64,
    /// Whether it made compressed siblings: a manifest of an export without compression
    /// says nothing of which siblings are worth making.
    pub(super) compressed: bool,
    /// The revision tag of the build that wrote it.
    pub(super) revision: String,
    /// `"content"` or `"vcs"`.
    pub(super) mode: String,
    /// Its objects by URL.
    pub(super) files: BTreeMap<String, ManifestEntry>,
}

impl ExportManifest {
    /// Its JSON.
    pub(super) fn encode(&self) -> Vec<u8> {
        let files: Map<String, Value> = self
            .files
            .iter()
            .map(|(url, entry)| {
                let encodings: Vec<&str> = entry.encodings.iter().map(|e| e.token()).collect();
                (
                    url.clone(),
                    json!({
                        "key": entry.key,
                        "path": entry.path,
                        "sha1": entry.sha1,
                        "size": entry.size,
                        "type": entry.content_type,
                        "tagged": entry.tagged,
                        "encodings": encodings,
                    }),
                )
            })
            .collect();
        let manifest = json!({
            "cachekiller_export": FORMAT,
            "exported_at_ms": self.exported_at_ms,
            "sequence": self.sequence,
            "compressed": self.compressed,
            "revision": self.revision,
            "mode": self.mode,
            "files": files,
        });
        let mut encoded = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        encoded.push(b'\n');
        encoded
    }

    /// A manifest from its JSON.
    ///
    /// # Errors
    /// What is missing or malformed.
    pub(super) fn decode(encoded: &[u8]) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(encoded).map_err(|error| error.to_string())?;
        if value.get("cachekiller_export").and_then(Value::as_u64) != Some(FORMAT) {
            return Err(format!(
                "not a cachekiller export manifest of format {FORMAT}"
            ));
        }
        let text = |value: &Value, key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("no `{key}`"))
        };
        let mut files = BTreeMap::new();
        let listed = value
            .get("files")
            .and_then(Value::as_object)
            .ok_or("no `files`")?;
        for (url, entry) in listed {
            let encodings = entry
                .get("encodings")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{url}: no `encodings`"))?
                .iter()
                .map(|token| match token.as_str() {
                    Some("br") => Ok(Encoding::Brotli),
                    Some("gzip") => Ok(Encoding::Gzip),
                    _ => Err(format!("{url}: an unknown encoding {token}")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let key = text(entry, "key")?;
            if !is_destination_key(&key) {
                return Err(format!("{url}: the key {key:?} leaves the destination"));
            }
            files.insert(
                url.clone(),
                ManifestEntry {
                    key,
                    path: text(entry, "path")?,
                    sha1: text(entry, "sha1")?,
                    size: entry
                        .get("size")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| format!("{url}: no `size`"))?,
                    content_type: text(entry, "type")?,
                    tagged: entry
                        .get("tagged")
                        .and_then(Value::as_bool)
                        .ok_or_else(|| format!("{url}: no `tagged`"))?,
                    encodings,
                },
            );
        }
        Ok(ExportManifest {
            exported_at_ms: value
                .get("exported_at_ms")
                .and_then(Value::as_u64)
                .ok_or("no `exported_at_ms`")?,
            // Absent from the manifests of the first exports: before every later one, compressed.
            sequence: value.get("sequence").and_then(Value::as_u64).unwrap_or(0),
            compressed: value
                .get("compressed")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            revision: text(&value, "revision")?,
            mode: text(&value, "mode")?,
            files,
        })
    }

    /// Every key it names: its objects and their siblings.
    pub(super) fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.files
            .values()
            .flat_map(|entry| std::iter::once(entry.key.clone()).chain(entry.sibling_keys()))
    }

    /// The keys of its tagged objects and their siblings.
    pub(super) fn tagged_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.files
            .values()
            .filter(|entry| entry.tagged)
            .flat_map(|entry| std::iter::once(entry.key.clone()).chain(entry.sibling_keys()))
    }
}

/// Where the export keeps its own records (manifests, tombstones, the nginx snippet): never a
/// static file's key, never deleted through a manifest.
pub(super) const RECORDS: &str = ".cachekiller/";

/// True if `key` stays below a destination's root: `/`-separated segments, none empty, `.` or
/// `..`, with no backslash or control character. Every key an export writes or a manifest
/// names is checked, so that a tampered manifest cannot make a collection delete elsewhere.
pub(super) fn is_destination_key(key: &str) -> bool {
    !key.is_empty()
        && !key.chars().any(|c| c == '\\' || c.is_control())
        && key
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, tagged: bool) -> ManifestEntry {
        ManifestEntry {
            key: key.to_owned(),
            path: "css/app.css".to_owned(),
            sha1: "a".repeat(40),
            size: 12,
            content_type: "text/css".to_owned(),
            tagged,
            encodings: if tagged {
                vec![Encoding::Brotli, Encoding::Gzip]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written_and_names_its_siblings() {
        let manifest = ExportManifest {
            exported_at_ms: 1_700_000_000_000,
            sequence: 3,
            compressed: true,
            revision: "4b400e3aeb0426".to_owned(),
            mode: "content".to_owned(),
            files: BTreeMap::from([
                (
                    "/static/css/app.0123abcd.css".to_owned(),
                    entry("static/css/app.0123abcd.css", true),
                ),
                (
                    "/static/css/app.css".to_owned(),
                    entry("static/css/app.css", false),
                ),
            ]),
        };
        let decoded = ExportManifest::decode(&manifest.encode()).unwrap();
        assert_eq!(decoded, manifest);
        assert_eq!(
            decoded.tagged_keys().collect::<Vec<_>>(),
            [
                "static/css/app.0123abcd.css",
                "static/css/app.0123abcd.css.br",
                "static/css/app.0123abcd.css.gz"
            ]
        );
        assert_eq!(decoded.keys().count(), 4);
    }

    #[test]
    fn a_manifest_naming_keys_outside_the_destination_is_refused() {
        let mut manifest = ExportManifest {
            exported_at_ms: 1,
            sequence: 1,
            compressed: true,
            revision: "r".to_owned(),
            mode: "content".to_owned(),
            files: BTreeMap::new(),
        };
        for key in ["../etc/passwd", "static//a", "/abs", "a/./b", "a\\b", ""] {
            manifest.files = BTreeMap::from([("/x".to_owned(), entry(key, true))]);
            let refused = ExportManifest::decode(&manifest.encode()).unwrap_err();
            assert!(
                refused.contains("leaves the destination"),
                "{key}: {refused}"
            );
        }
        let tombstones = Tombstones::from([(
            "static/a.0123abcd.css".to_owned(),
            ("f".repeat(40), 1_700_000_000_000),
        )]);
        assert_eq!(
            decode_tombstones(&encode_tombstones(&tombstones)).unwrap(),
            tombstones
        );
        assert!(ExportManifest::decode(b"{\"files\":{}}")
            .unwrap_err()
            .contains("format 1"));
    }
}
