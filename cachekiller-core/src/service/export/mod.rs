//! A static export: the site's static files written for a static host (a folder for Netlify,
//! Cloudflare Pages, GitHub Pages or nginx; an S3 bucket), so that it keeps the promise
//! without cachekiller's server: **a tagged URL names exactly one version of a file, and
//! nothing else is sent as `immutable`.**
//!
//! For every static file, an export writes the bytes [`StaticFiles`] sends for it (a
//! stylesheet's rewritten bytes) under the URL the macros give it, which must carry the tag in
//! the file name (`tag_in = "name"`: a static host cannot tell a tag in the query from any
//! other query), its `.br` and `.gz` siblings where they are smaller, the plain name for
//! hand-written links, and a manifest of what it wrote. From every manifest in the destination
//! a folder gets a `_headers` file (Netlify, Cloudflare Pages) and an nginx snippet giving
//! `immutable` to exactly the tagged names, `no-cache` to the others; an object store gets
//! each object's `Content-Type`, `Content-Encoding` and `Cache-Control` on the object.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use cachekiller_core::service::export::{Destination, RetentionPolicy};
//! use cachekiller_core::service::StaticFiles;
//! # let settings = cachekiller_core::SiteSettings::new("tag", "r", 8)
//! #     .tag_in(cachekiller_core::TagIn::Name);
//! // `cdnsettings!()` in a crate with `tag_in = "name"` (and `mode = "content"`).
//! let static_files = StaticFiles::in_root(env!("CARGO_MANIFEST_DIR"), settings)?;
//! let site = Destination::dir("target/site");
//! let report = static_files.export().write(&site).await?;
//! println!("{report}");
//! // Then the pages (after the files they link, for a destination served meanwhile):
//! site.write_page("index.html", "<!DOCTYPE html>…", "text/html; charset=utf-8").await?;
//! // Now and then (after a deploy): delete what no retained export's pages link.
//! site.collect(&RetentionPolicy::default(), std::time::SystemTime::now()).await?;
//! # Ok(()) }
//! ```
//!
//! # What a tagged name holds
//!
//! A tagged name is written once: an export that finds it holding the same bytes leaves it (and
//! compresses nothing), one that finds other bytes stops with [`ExportError::Conflict`] naming
//! it; a sibling found is decoded and compared the same way. In revision mode a tag names the
//! revision, so a file's bytes must be the ones the build's revision manifest names for it
//! ([`ExportError::NotTheRevisionsBytes`] otherwise: edited since the build), and every export
//! of a new revision writes every file anew; content mode writes only the changed files.
//!
//! # Old pages keep working
//!
//! Nothing is deleted by an export. [`Destination::collect`] deletes the objects that only
//! exports no longer retained name (the last `revisions` exports *and* those within `max_age`,
//! whichever keeps more, with the same [`RetentionPolicy`] as the archive), and their
//! manifests. Run it as a step after a deploy, never while an export to the same destination
//! runs: an export that reuses a file an old export wrote names it only once its manifest is
//! written.

mod destination;
mod hosts;
mod manifest;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use sha1::Digest as _;

pub use self::destination::Destination;
use self::destination::ObjectHeaders;
use self::hosts::{CachePolicies, HEADERS_FILE, HEADERS_MARKER, NGINX_FILE};
use self::manifest::{
    decode_tombstones, encode_tombstones, is_destination_key, ExportManifest, ManifestEntry,
    Tombstones, MANIFESTS, RECORDS, TOMBSTONES, TOMBSTONE_MS,
};
use super::versions::CheckedVersion;
use super::StaticFiles;
use crate::rules::cache_policy::{CACHE_CONTROL_TAGGED, CACHE_CONTROL_UNTAGGED};
use crate::rules::compression::{
    compress_once, content_type_of_path, is_compressible, verified_sibling, Encoding,
};
use crate::rules::error::Error;
use crate::rules::hash::to_hex;
use crate::rules::settings::{TagIn, TagMode};
use crate::rules::static_path::{find_static_file, StaticFile};
use crate::rules::static_url::encoded_static_path;
use crate::rules::url::{join_static_file_url, tag_in_file_name};
pub use crate::service::retention::RetentionPolicy;

/// How many files are written (and compressed) at once.
const FILES_AT_ONCE: usize = 4;

/// What can stop an export or a collection. Nothing is half-written when it does: every name
/// written holds the whole of its bytes, and the manifest (and the headers) are written last.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportError {
    /// The site puts tags in the query, which a static host ignores.
    NeedsNameForm,
    /// The site tags by a revision that names no files (a build date, outside a repository).
    RevisionNamesNoFiles {
        /// The revision tag.
        revision: String,
    },
    /// A static file that cannot be exported (unreadable, a link leading out, a stylesheet
    /// whose references cannot be rewritten).
    File {
        /// Its static path.
        path: String,
        /// Why.
        reason: String,
    },
    /// A file whose bytes are not the ones the build's revision names for it: edited since
    /// the build.
    NotTheRevisionsBytes {
        /// Its static path.
        path: String,
        /// The revision tag its URL carries.
        revision: String,
    },
    /// A name that holds other bytes than the export would write there, or that two files
    /// of one export would both be written under.
    Conflict {
        /// The destination key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A manifest in the destination that cannot be read.
    InvalidManifest {
        /// Its key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A destination folder that holds a static dir or is inside one: the export would write
    /// tagged names among the files it exports.
    InsideStaticDir {
        /// The destination folder.
        destination: String,
        /// The static dir.
        static_dir: String,
    },
    /// A `_headers` file the export did not write.
    ForeignHeadersFile {
        /// Its key.
        key: String,
    },
    /// The folder or store failed.
    Destination {
        /// What the export was doing: `read`, `write`, `list`, `delete`.
        operation: &'static str,
        /// The key or path.
        key: String,
        /// What the file system or the store said.
        reason: String,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::NeedsNameForm => write!(
                formatter,
                "a static export needs tags in file names: a static host serves `app.css?tag=…` \
                 as `app.css`, whatever the tag. Set `tag_in = \"name\"` in \
                 `[package.metadata.cachekiller]` (and `mode = \"content\"`, so that only \
                 changed files get new names), then build again"
            ),
            ExportError::RevisionNamesNoFiles { revision } => write!(
                formatter,
                "the revision tag `{revision}` names no files (no repository when the crate was \
                 built): nothing says which bytes it names. Build in the repository, or set \
                 `mode = \"content\"` in `[package.metadata.cachekiller]`"
            ),
            ExportError::File { path, reason } => {
                write!(formatter, "static file {path} cannot be exported: {reason}")
            }
            ExportError::NotTheRevisionsBytes { path, revision } => write!(
                formatter,
                "static file {path} is not as the build saw it: revision `{revision}` names other \
                 bytes there, so its tagged name would hold bytes the pages' tag does not name. \
                 Build again (after a commit) and export, or use `mode = \"content\"`"
            ),
            ExportError::Conflict { key, reason } => {
                write!(formatter, "{key}: {reason}; nothing was overwritten")
            }
            ExportError::InvalidManifest { key, reason } => {
                write!(formatter, "export manifest {key} cannot be read: {reason}")
            }
            ExportError::InsideStaticDir {
                destination,
                static_dir,
            } => write!(
                formatter,
                "the destination {destination} and the static dir {static_dir} overlap: the \
                 export would write tagged names among the files it exports. Export into a \
                 folder of its own (such as target/site)"
            ),
            ExportError::ForeignHeadersFile { key } => write!(
                formatter,
                "{key} exists and was not written by an export (its first line is not \
                 `{HEADERS_MARKER}`): move your rules elsewhere, or delete it, and export again"
            ),
            ExportError::Destination {
                operation,
                key,
                reason,
            } => write!(formatter, "cannot {operation} {key}: {reason}"),
        }
    }
}

impl std::error::Error for ExportError {}

/// A result of an export or a collection.
pub type ExportResult<T> = std::result::Result<T, ExportError>;

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportReport {
    /// The key of its manifest.
    pub manifest: String,
    /// Static files exported.
    pub files: usize,
    /// Tagged names written (the others were there with the same bytes).
    pub tagged_written: usize,
    /// Plain names written (the others held the same bytes).
    pub plain_written: usize,
    /// Compressed siblings written.
    pub siblings_written: usize,
    /// Files compressed (a file whose tagged name was there is not compressed again).
    pub files_compressed: usize,
    /// Bytes written, siblings included.
    pub bytes_written: u64,
    /// Files in the static dirs that no request is answered with (a link leading out of them,
    /// a FIFO), not exported, each with why.
    pub skipped: Vec<String>,
}

impl fmt::Display for ExportReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |number: usize, what: &str| {
            format!("{number} {what}{}", if number == 1 { "" } else { "s" })
        };
        write!(
            formatter,
            "exported {}: wrote {}, {} and {} ({} bytes), {} compressed; manifest {}",
            count(self.files, "static file"),
            count(self.tagged_written, "tagged name"),
            count(self.plain_written, "plain name"),
            count(self.siblings_written, "compressed sibling"),
            self.bytes_written,
            count(self.files_compressed, "file"),
            self.manifest
        )?;
        for skipped in &self.skipped {
            write!(formatter, "\n  not exported: {skipped}")?;
        }
        Ok(())
    }
}

/// What a collection kept and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CollectReport {
    /// Exports retained (or within their grace period).
    pub exports_kept: usize,
    /// Exports whose manifests were deleted.
    pub exports_deleted: usize,
    /// Objects deleted: names (and siblings) only those exports named.
    pub objects_deleted: usize,
}

/// An export of a [`StaticFiles`]' files, made by [`StaticFiles::export`].
#[derive(Debug)]
#[must_use]
pub struct Export<'a> {
    files: &'a StaticFiles,
    compression: bool,
    now: SystemTime,
}

impl StaticFiles {
    /// An export of these files (their current bytes, as this service sends them), to be
    /// [written](Export::write) to a [`Destination`]. See the [module](crate::service::export) for what
    /// it writes.
    pub fn export(&self) -> Export<'_> {
        Export {
            files: self,
            compression: true,
            now: SystemTime::now(),
        }
    }
}

/// One static file, ready to write.
#[derive(Debug)]
struct ExportedFile {
    /// Its canonical static path.
    relative: String,
    tagged_url: String,
    tagged_key: String,
    plain_url: String,
    plain_key: String,
    bytes: Bytes,
    sha1: Vec<u8>,
    content_type: String,
    /// Its variants by encoding, in the order of [`Encoding::ALL`].
    variants: [Variant; 2],
}

/// A compressed variant of a file to export.
#[derive(Debug, Clone)]
enum Variant {
    /// To be made by the export.
    ToMake,
    /// Made by the build (an embedded file's).
    Made(Bytes),
    /// Found not worth it by the build.
    NotWorthIt,
}

/// What writing one file did.
#[derive(Debug, Default)]
struct Written {
    tagged: bool,
    plain: bool,
    siblings: usize,
    compressed: bool,
    bytes: u64,
    encodings: Vec<Encoding>,
}

impl Export<'_> {
    /// With `compression` false, no `.br` or `.gz` siblings are written.
    pub fn compression(mut self, compression: bool) -> Self {
        self.compression = compression;
        self
    }

    /// The export's time, recorded in its manifest (now by default): what retention counts
    /// its age from.
    pub fn at(mut self, now: SystemTime) -> Self {
        self.now = now;
        self
    }

    /// Writes the export to `destination`: every static file's tagged name (create-only), its
    /// siblings and its plain name, then the manifest, then the cache headers of every export
    /// there.
    ///
    /// # Errors
    /// See [`ExportError`]; an error before the manifest leaves the names written so far (a
    /// later export finds them and goes on), and no manifest names them.
    pub async fn write(self, destination: &Destination) -> ExportResult<ExportReport> {
        if let Some(folder) = destination.folder() {
            self.files.refuse_overlap(folder)?;
        }
        refuse_foreign_headers_file(destination).await?;
        let service = self.files.clone();
        let (files, skipped) = tokio::task::spawn_blocking(move || service.exported_files())
            .await
            .map_err(|error| ExportError::File {
                path: String::new(),
                reason: error.to_string(),
            })??;
        let earlier = read_manifests(destination).await?;
        let tombstones = read_tombstones(destination).await?;
        check_names(&files, &earlier, &tombstones)?;
        for file in &files {
            destination.check_key(&file.tagged_key)?;
            destination.check_key(&file.plain_key)?;
        }
        // What each tagged name's siblings were, as the last export that wrote it found: a
        // sibling not worth writing then is not tried again.
        let mut known_encodings: HashMap<String, Vec<Encoding>> = HashMap::new();
        for (_, manifest) in earlier.iter().filter(|(_, manifest)| manifest.compressed) {
            for entry in manifest.files.values().filter(|entry| entry.tagged) {
                known_encodings.insert(entry.key.clone(), entry.encodings.clone());
            }
        }
        let known_encodings = Arc::new(known_encodings);
        let compression = self.compression;
        let written: Vec<(usize, Written)> = futures_util::stream::iter(files.iter().enumerate())
            .map(|(index, file)| {
                let known_encodings = Arc::clone(&known_encodings);
                async move {
                    let known = known_encodings.get(&file.tagged_key).map(Vec::as_slice);
                    write_file(destination, file, compression, known)
                        .await
                        .map(|written| (index, written))
                }
            })
            .buffer_unordered(FILES_AT_ONCE)
            .try_collect()
            .await?;
        let mut report = ExportReport {
            files: files.len(),
            skipped,
            ..ExportReport::default()
        };
        let mut encodings = vec![Vec::new(); files.len()];
        for (index, written) in written {
            report.tagged_written += usize::from(written.tagged);
            report.plain_written += usize::from(written.plain);
            report.siblings_written += written.siblings;
            report.files_compressed += usize::from(written.compressed);
            report.bytes_written += written.bytes;
            encodings[index] = written.encodings;
        }
        let sequence = earlier
            .iter()
            .map(|(_, manifest)| manifest.sequence)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        let manifest = self.manifest(&files, encodings, sequence);
        destination.flush().await?;
        let encoded = manifest.encode();
        let key = format!(
            "{MANIFESTS}{:013}-{:08}-{}.json",
            manifest.exported_at_ms,
            manifest.sequence,
            &to_hex(&sha1::Sha1::digest(&encoded))[..12]
        );
        let json = ObjectHeaders {
            content_type: "application/json",
            content_encoding: None,
            cache_control: CACHE_CONTROL_UNTAGGED,
        };
        destination.create(&key, Bytes::from(encoded), json).await?;
        let mut manifests = earlier;
        manifests.push((key.clone(), manifest));
        write_host_files(destination, manifests.iter().map(|(_, manifest)| manifest)).await?;
        report.manifest = key;
        Ok(report)
    }

    /// The manifest of `files`, written with the siblings `encodings` (in the same order).
    fn manifest(
        &self,
        files: &[ExportedFile],
        encodings: Vec<Vec<Encoding>>,
        sequence: u64,
    ) -> ExportManifest {
        let settings = &self.files.shared.settings;
        let mut manifest = ExportManifest {
            exported_at_ms: unix_ms(self.now),
            sequence,
            compressed: self.compression,
            revision: settings.revision_tag().to_owned(),
            mode: match settings.mode {
                TagMode::Content => "content",
                TagMode::Vcs => "vcs",
            }
            .to_owned(),
            files: BTreeMap::new(),
        };
        for (file, encodings) in files.iter().zip(encodings) {
            let entry = |key: &str, tagged: bool, encodings: Vec<Encoding>| ManifestEntry {
                key: key.to_owned(),
                path: file.relative.clone(),
                sha1: to_hex(&file.sha1),
                size: file.bytes.len() as u64,
                content_type: file.content_type.clone(),
                tagged,
                encodings,
            };
            manifest.files.insert(
                file.tagged_url.clone(),
                entry(&file.tagged_key, true, encodings),
            );
            manifest.files.insert(
                file.plain_url.clone(),
                entry(&file.plain_key, false, Vec::new()),
            );
        }
        manifest
    }
}

impl Destination {
    /// Deletes what only exports that `policy` no longer retains at `now` name (their tagged
    /// names, siblings and plain names that no retained export names too), then their
    /// manifests, and writes the cache headers again. Objects no manifest names (the pages,
    /// anything else) are never touched.
    ///
    /// # Errors
    /// A manifest that cannot be read (nothing is deleted then), or the destination's error.
    pub async fn collect(
        &self,
        policy: &RetentionPolicy,
        now: SystemTime,
    ) -> ExportResult<CollectReport> {
        refuse_foreign_headers_file(self).await?;
        let manifests = read_manifests(self).await?;
        let published: HashMap<String, u64> = manifests
            .iter()
            .map(|(key, manifest)| (key.clone(), manifest.exported_at_ms))
            .collect();
        // At least the last export is retained, and it is the last one written (the highest
        // sequence), whatever time it was given: the pages online link it.
        let policy = RetentionPolicy {
            revisions: policy.revisions.max(1),
            ..*policy
        };
        let (_, mut protected) =
            crate::service::retention::protected_revisions(&policy, unix_ms(now), &published);
        if let Some((newest, _)) = manifests
            .iter()
            .max_by_key(|(_, manifest)| manifest.sequence)
        {
            protected.insert(newest.clone());
        }
        let (kept, gone): (Vec<_>, Vec<_>) = manifests
            .into_iter()
            .partition(|(key, _)| protected.contains(key));
        let keep: std::collections::HashSet<String> = kept
            .iter()
            .flat_map(|(_, manifest)| manifest.keys())
            .collect();
        // Never the export's own records or a host's file, whatever a manifest says.
        let collectable = |key: &String| {
            !keep.contains(key)
                && is_destination_key(key)
                && !key.starts_with(RECORDS)
                && key != HEADERS_FILE
        };
        let doomed: std::collections::BTreeSet<String> = gone
            .iter()
            .flat_map(|(_, manifest)| manifest.keys())
            .filter(collectable)
            .collect();
        // Each tagged name deleted stays reserved for the bytes it held as long as caches may
        // keep them: recorded before anything is deleted.
        let now_ms = unix_ms(now);
        let mut tombstones = read_tombstones(self).await?;
        tombstones
            .retain(|_, (_, collected_at)| collected_at.saturating_add(TOMBSTONE_MS) > now_ms);
        for (_, manifest) in &gone {
            for entry in manifest.files.values().filter(|entry| entry.tagged) {
                if doomed.contains(&entry.key) {
                    tombstones.insert(entry.key.clone(), (entry.sha1.clone(), now_ms));
                }
            }
        }
        let records = ObjectHeaders {
            content_type: "application/json",
            content_encoding: None,
            cache_control: CACHE_CONTROL_UNTAGGED,
        };
        self.replace(
            TOMBSTONES,
            Bytes::from(encode_tombstones(&tombstones)),
            records,
        )
        .await?;
        for key in &doomed {
            self.delete(key).await?;
        }
        for (key, _) in &gone {
            self.delete(key).await?;
        }
        write_host_files(self, kept.iter().map(|(_, manifest)| manifest)).await?;
        Ok(CollectReport {
            exports_kept: kept.len(),
            exports_deleted: gone.len(),
            objects_deleted: doomed.len(),
        })
    }
}

impl StaticFiles {
    /// Refuses a destination folder that holds a static dir or is inside one.
    fn refuse_overlap(&self, folder: &std::path::Path) -> ExportResult<()> {
        let destination = resolved(folder);
        for dir in &self.shared.dirs {
            let static_dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            if destination.starts_with(&static_dir) || static_dir.starts_with(&destination) {
                return Err(ExportError::InsideStaticDir {
                    destination: destination.display().to_string(),
                    static_dir: static_dir.display().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Every static file a request can name, ready to export (blocking).
    /// Also the files a request is refused, with why.
    fn exported_files(&self) -> ExportResult<(Vec<ExportedFile>, Vec<String>)> {
        let settings = &self.shared.settings;
        if settings.tag_in != TagIn::Name {
            return Err(ExportError::NeedsNameForm);
        }
        if settings.mode == TagMode::Vcs && self.shared.revision_manifest.is_none() {
            return Err(ExportError::RevisionNamesNoFiles {
                revision: settings.revision_tag().to_owned(),
            });
        }
        let prefix = key_prefix(&settings.static_url)?;
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        for (path, checked) in self.embedded_versions() {
            let bytes = checked.bytes.clone().unwrap_or_default();
            files.push(self.exported_file(&prefix, path, &checked, bytes)?);
        }
        for relative in self.disk_paths() {
            let (dir, file, version) = match find_static_file(&self.shared.dirs, &relative) {
                StaticFile::File { dir, file, version } => (dir, file, version),
                // What a request is refused (a link leading out, a FIFO) is not exported.
                StaticFile::Refused { dir, why } => {
                    let path = self.shared.dirs[dir].join(&relative);
                    skipped.push(format!("{relative}: {}", why.into_error(&relative, &path)));
                    continue;
                }
                // Gone since the listing, or a directory under a file's name now.
                StaticFile::Missing | StaticFile::Directory => continue,
            };
            let checked = self
                .checked_blocking(dir, &relative, &file, version)
                .map_err(|error| ExportError::File {
                    path: relative.clone(),
                    reason: error.to_string(),
                })?;
            let bytes = if let Some(bytes) = &checked.bytes {
                bytes.clone()
            } else {
                // Too large to hold in the service's cache: read here, and checked to be the
                // bytes the tag was made from.
                let read = super::versions::read_all(&file, checked.length).map_err(|error| {
                    ExportError::File {
                        path: relative.clone(),
                        reason: error.to_string(),
                    }
                })?;
                if sha1::Sha1::digest(&read).as_slice() != checked.sha1.as_slice() {
                    return Err(ExportError::File {
                        path: relative,
                        reason: "it changed while it was read; export again".to_owned(),
                    });
                }
                Bytes::from(read)
            };
            files.push(self.exported_file(&prefix, &relative, &checked, bytes)?);
        }
        Ok((files, skipped))
    }

    /// The file at the canonical static path `relative`, checked as `checked`, whose bytes
    /// are `bytes`, with its names.
    fn exported_file(
        &self,
        prefix: &str,
        relative: &str,
        checked: &CheckedVersion,
        bytes: Bytes,
    ) -> ExportResult<ExportedFile> {
        if !checked.taggable {
            return Err(ExportError::File {
                path: relative.to_owned(),
                reason: "its references could not be rewritten (an `@import` cycle, or a \
                         reference the rewrite refuses; `cdnstatic!` on it says which), so no tag \
                         names its bytes"
                    .to_owned(),
            });
        }
        let tagger = self.shared.tagger();
        // The tag `cdnstatic!` gives it (as `StaticFiles::url` makes it): the revision where
        // the revision names the file, whose bytes must then be the ones it names.
        let tag = tagger
            .tag(relative, false, || Ok(checked.sha1.clone()))
            .map_err(|error| file_error(relative, &error))?;
        if tagger.takes_revision_tag(relative) && !self.shared.names(relative, checked) {
            return Err(ExportError::NotTheRevisionsBytes {
                path: relative.to_owned(),
                revision: tag,
            });
        }
        let tagged_url = tagger
            .file_url(relative, "", &tag)
            .map_err(|error| file_error(relative, &error))?;
        let static_url = &self.shared.settings.static_url;
        let plain_url = join_static_file_url(static_url, &encoded_static_path(relative), "", None);
        let tagged_key = format!("{prefix}{}", tag_in_file_name(relative, &tag));
        let plain_key = format!("{prefix}{relative}");
        // A name's sibling (`.br`) must fit a file system's 255 bytes too: found now, not
        // after the tagged name is written.
        let fits = |key: &str| {
            key.rsplit('/')
                .next()
                .is_some_and(|name| name.len() + 3 <= 255)
        };
        for key in [&tagged_key, &plain_key] {
            if !is_destination_key(key) || !fits(key) || key.starts_with(RECORDS) {
                return Err(ExportError::File {
                    path: relative.to_owned(),
                    reason: format!("{key:?} is not a name a folder or bucket can hold"),
                });
            }
        }
        // An embedded file's variants were made by the build (and are in the binary).
        let made = |cell: &tokio::sync::OnceCell<Option<Bytes>>| match cell.get() {
            Some(Some(bytes)) if checked.version.is_none() => Variant::Made(bytes.clone()),
            Some(None) if checked.version.is_none() => Variant::NotWorthIt,
            _ => Variant::ToMake,
        };
        Ok(ExportedFile {
            relative: relative.to_owned(),
            tagged_url,
            tagged_key,
            plain_url,
            plain_key,
            content_type: content_type_of_path(relative),
            sha1: checked.sha1.clone(),
            variants: [made(&checked.variants.brotli), made(&checked.variants.gzip)],
            bytes,
        })
    }
}

/// `path` as the file system resolves it, whether or not it exists yet: its nearest existing
/// ancestor made canonical (links and `..` resolved), the rest appended with `..` applied.
fn resolved(path: &std::path::Path) -> std::path::PathBuf {
    // `absolute` drops `.` segments and keeps `..`, whose `file_name` is `None`.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while existing.canonicalize().is_err() {
        let Some(parent) = existing.parent() else {
            break;
        };
        rest.push(existing.file_name().map(std::ffi::OsStr::to_owned));
        existing = parent;
    }
    let mut resolved = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_owned());
    for component in rest.into_iter().rev() {
        match component {
            // `..` (no file name): up from what is resolved so far.
            None => {
                resolved.pop();
            }
            Some(name) => resolved.push(name),
        }
    }
    resolved
}

fn file_error(relative: &str, error: &Error) -> ExportError {
    ExportError::File {
        path: relative.to_owned(),
        reason: error.to_string(),
    }
}

/// The keys' prefix for `static_url`: its path, without the leading `/` (`/static/` gives
/// `static/`; `https://cdn.example.com/assets/` gives `assets/`).
fn key_prefix(static_url: &str) -> ExportResult<String> {
    let path = match static_url.find("//") {
        Some(start) if !static_url[..start].contains('/') => {
            let host_and_path = &static_url[start + 2..];
            host_and_path
                .find('/')
                .map_or("", |slash| &host_and_path[slash..])
        }
        _ => static_url,
    };
    let prefix = path.trim_start_matches('/');
    let reserved = prefix.starts_with(RECORDS) || prefix.starts_with(&format!("{HEADERS_FILE}/"));
    let plain = !reserved
        && (prefix.is_empty()
            || (prefix.ends_with('/')
                && !prefix.contains(['%', '?', '#'])
                && is_destination_key(prefix.trim_end_matches('/'))));
    if plain {
        Ok(prefix.to_owned())
    } else {
        Err(ExportError::File {
            path: static_url.to_owned(),
            reason: "the static URL's path is not a plain folder path ending in `/` (nor one the \
                     export keeps its records in: `.cachekiller/`, `_headers/`)"
                .to_owned(),
        })
    }
}

/// Stops before anything is written if two files would share a name, or if a plain name would
/// replace a name an earlier export wrote tagged.
fn check_names(
    files: &[ExportedFile],
    earlier: &[(String, ExportManifest)],
    tombstones: &Tombstones,
) -> ExportResult<()> {
    // Every tagged name that holds (or held, and caches may keep) bytes: by its SHA-1 and who
    // says so. It is never written again with other bytes, as a tagged name or a plain one,
    // and no plain name is written where nginx would send it as its sibling (`<name>.gz`).
    let mut reserved: HashMap<&str, (&str, String)> = HashMap::new();
    for (key, (sha1, collected_at_ms)) in tombstones {
        let origin = format!(
            "a collection deleted it (at {collected_at_ms} ms since the epoch) holding SHA-1 \
             {sha1}, which caches may keep for a year"
        );
        reserved.insert(key, (sha1, origin));
    }
    for (manifest_key, manifest) in earlier {
        for entry in manifest.files.values().filter(|entry| entry.tagged) {
            let origin = format!(
                "{manifest_key} wrote it as a tagged name of SHA-1 {}",
                entry.sha1
            );
            reserved.insert(&entry.key, (&entry.sha1, origin));
        }
    }
    let tagged_now: std::collections::HashSet<&str> =
        files.iter().map(|file| file.tagged_key.as_str()).collect();
    for file in files {
        let sha1 = to_hex(&file.sha1);
        let names = [&file.tagged_key, &file.plain_key];
        for key in names {
            if let Some((held, origin)) = reserved.get(key.as_str()) {
                if *held != sha1 {
                    return Err(ExportError::Conflict {
                        key: key.clone(),
                        reason: format!(
                            "{origin}; {} would put SHA-1 {sha1} there. Change the file, or raise \
                             `hash_length`",
                            file.relative
                        ),
                    });
                }
            }
        }
        let stem = Encoding::ALL
            .iter()
            .find_map(|encoding| file.plain_key.strip_suffix(encoding.sibling_extension()));
        if let Some(stem) =
            stem.filter(|stem| reserved.contains_key(stem) || tagged_now.contains(stem))
        {
            return Err(ExportError::Conflict {
                key: file.plain_key.clone(),
                reason: format!(
                    "{} would be written beside the tagged name {stem}, where nginx sends it as \
                     that name's compressed body; rename it",
                    file.relative
                ),
            });
        }
    }
    let mut names: HashMap<String, &str> = HashMap::new();
    for file in files {
        let siblings = Encoding::ALL
            .iter()
            .map(|encoding| format!("{}{}", file.tagged_key, encoding.sibling_extension()));
        for key in [file.tagged_key.clone(), file.plain_key.clone()]
            .into_iter()
            .chain(siblings)
        {
            // A file whose tag is in its name already: its plain and tagged names are one.
            if key == file.plain_key && key == file.tagged_key {
                continue;
            }
            if let Some(other) = names.insert(key.clone(), &file.relative) {
                return Err(ExportError::Conflict {
                    key,
                    reason: format!(
                        "both {other} and {} would be written under this name (a file whose \
                         name looks tagged); rename one",
                        file.relative
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Writes one file: its tagged name unless it is there with the same bytes, its siblings
/// (decoded and compared if there), its plain name where it holds other bytes.
async fn write_file(
    destination: &Destination,
    file: &ExportedFile,
    compression: bool,
    known_encodings: Option<&[Encoding]>,
) -> ExportResult<Written> {
    let mut written = Written::default();
    let tagged = ObjectHeaders {
        content_type: &file.content_type,
        content_encoding: None,
        cache_control: CACHE_CONTROL_TAGGED,
    };
    let existed = !destination
        .create(&file.tagged_key, file.bytes.clone(), tagged)
        .await?;
    if existed {
        let found = destination
            .read(&file.tagged_key)
            .await?
            .unwrap_or_default();
        if sha1::Sha1::digest(&found).as_slice() != file.sha1.as_slice() {
            return Err(ExportError::Conflict {
                key: file.tagged_key.clone(),
                reason: format!(
                    "this tagged name holds other bytes (SHA-1 {}) than {} has now (SHA-1 {})",
                    to_hex(&sha1::Sha1::digest(&found)),
                    file.relative,
                    to_hex(&file.sha1)
                ),
            });
        }
    } else {
        written.tagged = true;
        written.bytes += file.bytes.len() as u64;
    }
    // Siblings found are checked whatever this export makes: nginx sends a `.gz` beside any
    // file to a client that accepts gzip.
    let make = compression && is_compressible(&file.content_type);
    write_siblings(
        destination,
        file,
        existed,
        make,
        known_encodings,
        &mut written,
    )
    .await?;
    if file.plain_key != file.tagged_key {
        let found = destination.read(&file.plain_key).await?;
        let same = found.is_some_and(|found| sha1::Sha1::digest(&found).as_slice() == file.sha1);
        if !same {
            let plain = ObjectHeaders {
                cache_control: CACHE_CONTROL_UNTAGGED,
                ..tagged
            };
            destination
                .replace(&file.plain_key, file.bytes.clone(), plain)
                .await?;
            written.plain = true;
            written.bytes += file.bytes.len() as u64;
        }
    }
    Ok(written)
}

/// Checks the `.br` and `.gz` siblings found beside `file`'s tagged name (`existed`: found
/// there) and, if `make`, writes those missing; a sibling the export that wrote the name found
/// not worth it is not tried again.
async fn write_siblings(
    destination: &Destination,
    file: &ExportedFile,
    existed: bool,
    make: bool,
    known_encodings: Option<&[Encoding]>,
    written: &mut Written,
) -> ExportResult<()> {
    let tagged = ObjectHeaders {
        content_type: &file.content_type,
        content_encoding: None,
        cache_control: CACHE_CONTROL_TAGGED,
    };
    for (index, encoding) in Encoding::ALL.into_iter().enumerate() {
        let key = format!("{}{}", file.tagged_key, encoding.sibling_extension());
        if let Some(found) = destination.read(&key).await? {
            let bytes = file.bytes.clone();
            let verified = tokio::task::spawn_blocking(move || {
                verified_sibling(found.to_vec(), encoding, &bytes).is_some()
            })
            .await
            .unwrap_or(false);
            if !verified {
                return Err(ExportError::Conflict {
                    key,
                    reason: format!(
                        "this sibling does not decode to the bytes of {}",
                        file.tagged_key
                    ),
                });
            }
            written.encodings.push(encoding);
            continue;
        }
        if !make {
            continue;
        }
        // Found not worth it by the export that wrote the tagged name.
        if existed && known_encodings.is_some_and(|known| !known.contains(&encoding)) {
            continue;
        }
        let compressed = match &file.variants[index] {
            Variant::Made(bytes) => Some(bytes.clone()),
            Variant::NotWorthIt => None,
            Variant::ToMake => {
                written.compressed = true;
                let bytes = file.bytes.clone();
                tokio::task::spawn_blocking(move || {
                    compress_once(&bytes, encoding).map(Bytes::from)
                })
                .await
                .ok()
                .flatten()
            }
        };
        let Some(compressed) = compressed else {
            continue;
        };
        let headers = ObjectHeaders {
            content_encoding: Some(encoding.token()),
            ..tagged
        };
        let length = compressed.len() as u64;
        if destination.create(&key, compressed, headers).await? {
            written.siblings += 1;
            written.bytes += length;
        }
        written.encodings.push(encoding);
    }
    Ok(())
}

/// The tagged names collections deleted, and what they held.
async fn read_tombstones(destination: &Destination) -> ExportResult<Tombstones> {
    match destination.read(TOMBSTONES).await? {
        None => Ok(Tombstones::new()),
        Some(bytes) => decode_tombstones(&bytes).map_err(|reason| ExportError::InvalidManifest {
            key: TOMBSTONES.to_owned(),
            reason,
        }),
    }
}

/// Every export manifest in `destination`, in the order they were written.
async fn read_manifests(destination: &Destination) -> ExportResult<Vec<(String, ExportManifest)>> {
    let mut manifests = Vec::new();
    for key in destination.list(MANIFESTS).await? {
        if std::path::Path::new(&key)
            .extension()
            .is_none_or(|extension| extension != "json")
        {
            continue;
        }
        let Some(bytes) = destination.read(&key).await? else {
            continue;
        };
        let manifest =
            ExportManifest::decode(&bytes).map_err(|reason| ExportError::InvalidManifest {
                key: key.clone(),
                reason,
            })?;
        manifests.push((key, manifest));
    }
    manifests
        .sort_by_key(|(key, manifest)| (manifest.sequence, manifest.exported_at_ms, key.clone()));
    Ok(manifests)
}

/// Stops with [`ExportError::ForeignHeadersFile`] if a folder's `_headers` is not the
/// export's: checked before anything is written.
async fn refuse_foreign_headers_file(destination: &Destination) -> ExportResult<()> {
    if destination.folder().is_none() {
        return Ok(());
    }
    match destination.read(HEADERS_FILE).await? {
        Some(found) if !found.starts_with(HEADERS_MARKER.as_bytes()) => {
            Err(ExportError::ForeignHeadersFile {
                key: HEADERS_FILE.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// Writes a folder's `_headers` file and nginx snippet for `manifests`. An object store gets
/// none: its objects carry their own headers.
async fn write_host_files<'a>(
    destination: &Destination,
    manifests: impl IntoIterator<Item = &'a ExportManifest>,
) -> ExportResult<()> {
    let Some(folder) = destination.folder() else {
        return Ok(());
    };
    let root = std::path::absolute(folder).map_err(|error| ExportError::Destination {
        operation: "resolve",
        key: folder.display().to_string(),
        reason: error.to_string(),
    })?;
    let policies = CachePolicies::of(manifests);
    let text = ObjectHeaders {
        content_type: "text/plain",
        content_encoding: None,
        cache_control: CACHE_CONTROL_UNTAGGED,
    };
    for (key, contents) in [
        (HEADERS_FILE, policies.headers_file()),
        (NGINX_FILE, policies.nginx_server(&root.to_string_lossy())),
    ] {
        destination
            .replace(key, Bytes::from(contents), text)
            .await?;
    }
    Ok(())
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}
