//! Retention and garbage collection: which revisions keep their versions, and the deletion
//! that never takes a version a protected revision names (the rule is in the module above).

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::ObjectMeta;
use sha1::Digest as _;

use super::error::{ArchiveError, ArchiveResult};
use super::layout::{
    blob_key, manifest_of_key, marker_key, marker_of_key, root, sha1_of_blob_key, trash_key,
    Marker, BLOBS, PATHS, REVISIONS, TRASH,
};
use super::manifest::Manifest;
use super::{unix_ms, Archive, CONCURRENT_REQUESTS};
use crate::rules::hash::to_hex;
pub use crate::service::retention::RetentionPolicy;
use crate::service::retention::{duration_ms, protected_revisions};

/// What a garbage collection kept and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GarbageReport {
    /// Revisions retained by the policy.
    pub revisions_retained: usize,
    /// Revisions no longer retained but still within the grace period.
    pub revisions_in_grace: usize,
    /// Revisions whose manifests were deleted.
    pub revisions_deleted: usize,
    /// Manifests deleted (those of deleted revisions, and superseded publications).
    pub manifests_deleted: usize,
    /// Manifests that could not be read (damaged, or not signed with the site's key):
    /// skipped, so they protect nothing; a publication of their revision replaces them.
    pub manifests_damaged: usize,
    /// Blobs kept.
    pub blobs_kept: usize,
    /// Their bytes.
    pub bytes_kept: u64,
    /// Blobs deleted.
    pub blobs_deleted: usize,
    /// Their bytes.
    pub bytes_deleted: u64,
    /// Path records deleted.
    pub records_deleted: usize,
    /// Blobs put back from `trash/` because a manifest published meanwhile (or one a
    /// collection that died had been deleting) names them.
    pub blobs_restored: usize,
    /// Path records written again: a manifest names them and they were missing.
    pub records_restored: usize,
}

/// The store's time of an object, in milliseconds since the epoch.
fn modified_ms(meta: &ObjectMeta) -> u64 {
    u64::try_from(meta.last_modified.timestamp_millis()).unwrap_or(0)
}

/// What a collection deleted (and found in `trash/`), for putting back.
struct Deleted {
    /// The manifests it had read (any other one was published since).
    manifests: Vec<Path>,
    /// What `trash/` held before it began.
    trash: Vec<ObjectMeta>,
    /// The blobs it moved to `trash/`, with their sizes.
    blobs: Vec<(String, u64)>,
    /// The path records it deleted.
    records: Vec<Marker>,
}

/// A manifest as listed and read.
struct Listed {
    key: Path,
    encoded_revision: String,
    manifest: Manifest,
}

impl Archive {
    /// Deletes what `policy` no longer keeps at `now` (the clock is a parameter so that tests
    /// and dry runs can choose it), under the rule of the module documentation: never a blob a
    /// protected manifest names, never one uploaded less than `grace` ago. Run it as one job
    /// (not at every instance's start-up); it waits the publish window before it finishes
    /// when it deleted anything.
    ///
    /// # Errors
    /// Store errors and timeouts (what was deleted before stays deleted; a rerun finishes the
    /// work and restores from `trash/` what a manifest needs), and
    /// [`ArchiveError::InvalidManifest`] for a manifest it cannot read: it deletes nothing
    /// then, since it cannot know what that manifest names.
    pub async fn collect_garbage(
        &self,
        policy: &RetentionPolicy,
        now: SystemTime,
    ) -> ArchiveResult<GarbageReport> {
        let now_ms = unix_ms(now);
        let grace = duration_ms(policy.grace);
        let limit = self.settings.request_timeout;
        let mut report = GarbageReport::default();

        let (manifests, damaged) = self.read_manifests(&[]).await?;
        report.manifests_damaged = damaged.len();
        let blobs = self.list(&root(BLOBS), limit).await?;
        let records = self.list(&root(PATHS), limit).await?;
        let trash = self.list(&root(TRASH), limit).await?;

        let mut latest: HashMap<String, u64> = HashMap::new();
        for listed in &manifests {
            let entry = latest.entry(listed.encoded_revision.clone()).or_default();
            *entry = (*entry).max(listed.manifest.published_ms);
        }
        let (retained, protected) = protected_revisions(policy, now_ms, &latest);
        report.revisions_retained = retained.len();
        report.revisions_in_grace = protected.len() - retained.len();
        report.revisions_deleted = latest.len() - protected.len();

        // What the protected revisions name: every publication of them, superseded or not.
        let mut named_blobs: HashSet<String> = HashSet::new();
        let mut named_records: HashSet<(String, String)> = HashSet::new();
        let mut doomed_manifests = Vec::new();
        for listed in &manifests {
            if protected.contains(&listed.encoded_revision) {
                for (path, sha1) in &listed.manifest.files {
                    named_blobs.insert(sha1.clone());
                    named_records.insert((encoded_path(path), sha1.clone()));
                }
                let superseded = latest[&listed.encoded_revision] != listed.manifest.published_ms;
                if superseded && listed.manifest.published_ms.saturating_add(grace) < now_ms {
                    doomed_manifests.push(listed.key.clone());
                }
            } else {
                doomed_manifests.push(listed.key.clone());
            }
        }
        let old = |meta: &ObjectMeta| modified_ms(meta).saturating_add(grace) < now_ms;
        let mut doomed_blobs = Vec::new();
        for meta in &blobs {
            let Some(sha1) = sha1_of_blob_key(&meta.location, BLOBS) else {
                continue;
            };
            if named_blobs.contains(&sha1) || !old(meta) {
                report.blobs_kept += 1;
                report.bytes_kept += meta.size;
            } else {
                doomed_blobs.push((sha1, meta.size));
            }
        }
        let doomed_records: Vec<Marker> = records
            .iter()
            .filter_map(|meta| Some((marker_of_key(&meta.location)?, meta)))
            .filter(|(marker, meta)| {
                let record = (marker.encoded_path.clone(), marker.sha1.clone());
                !named_records.contains(&record) && old(meta)
            })
            .map(|(marker, _)| marker)
            .collect();

        // Blobs go through `trash/` so that one a publisher relies on can be put back.
        let trashed: Vec<(String, u64)> = futures_util::stream::iter(doomed_blobs)
            .map(|(sha1, size)| async move { self.trash_blob(&sha1).await.map(|()| (sha1, size)) })
            .buffer_unordered(CONCURRENT_REQUESTS)
            .try_collect()
            .await?;
        for (_, size) in &trashed {
            report.blobs_deleted += 1;
            report.bytes_deleted += size;
        }
        let record_keys: Vec<Path> = doomed_records
            .iter()
            .map(|marker| marker_key(&marker.encoded_path, &marker.sha1, marker.mac.as_deref()))
            .chain(doomed_manifests.iter().cloned())
            .collect();
        futures_util::stream::iter(record_keys)
            .map(|key| async move { self.delete(&key).await })
            .buffer_unordered(CONCURRENT_REQUESTS)
            .try_collect::<Vec<()>>()
            .await?;
        report.records_deleted = doomed_records.len();
        report.manifests_deleted = doomed_manifests.len();

        // Wait out any publish that listed the store before these deletions, then put back
        // what a protected manifest (or one published meanwhile) names.
        let deleted_anything = !trashed.is_empty() || !doomed_records.is_empty();
        if deleted_anything || !trash.is_empty() {
            let known: Vec<Path> = manifests.iter().map(|listed| listed.key.clone()).collect();
            let deleted = Deleted {
                manifests: known,
                trash,
                blobs: trashed,
                records: doomed_records,
            };
            self.put_back(deleted, named_blobs, named_records, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// After the publish window, puts back from `trash/` the blobs (and the path records)
    /// that a manifest names: a protected one, or one published since the collection listed
    /// the store. Empties `trash/`.
    async fn put_back(
        &self,
        deleted: Deleted,
        mut named_blobs: HashSet<String>,
        mut named_records: HashSet<(String, String)>,
        report: &mut GarbageReport,
    ) -> ArchiveResult<()> {
        let limit = self.settings.request_timeout;
        let Deleted {
            manifests,
            trash,
            blobs: trashed,
            records: doomed_records,
        } = deleted;
        let deleted_anything = !trashed.is_empty() || !doomed_records.is_empty();
        if deleted_anything {
            tokio::time::sleep(self.settings.publish_window).await;
        }
        for listed in self.read_manifests(&manifests).await?.0 {
            for (path, sha1) in &listed.manifest.files {
                named_blobs.insert(sha1.clone());
                named_records.insert((encoded_path(path), sha1.clone()));
            }
        }
        let mut in_trash: HashSet<String> = trash
            .iter()
            .filter_map(|meta| sha1_of_blob_key(&meta.location, TRASH))
            .collect();
        in_trash.extend(trashed.iter().map(|(sha1, _)| sha1.clone()));
        let present: HashSet<String> = self
            .list(&root(BLOBS), limit)
            .await?
            .iter()
            .filter_map(|meta| sha1_of_blob_key(&meta.location, BLOBS))
            .collect();
        let trashed_now: HashMap<&String, u64> =
            trashed.iter().map(|(sha1, size)| (sha1, *size)).collect();
        for sha1 in &in_trash {
            if named_blobs.contains(sha1)
                && !present.contains(sha1)
                && self.restore_blob(sha1).await?
            {
                report.blobs_restored += 1;
                if let Some(size) = trashed_now.get(sha1) {
                    report.blobs_deleted -= 1;
                    report.bytes_deleted -= size;
                    report.blobs_kept += 1;
                    report.bytes_kept += size;
                }
            }
        }
        for marker in &doomed_records {
            let (path, sha1) = (&marker.encoded_path, &marker.sha1);
            let mac = self.record_mac(path, sha1);
            if named_records.contains(&(path.clone(), sha1.clone()))
                && self
                    .create(&marker_key(path, sha1, mac.as_deref()), Bytes::new())
                    .await?
            {
                report.records_restored += 1;
                report.records_deleted -= 1;
            }
        }
        for sha1 in &in_trash {
            self.delete(&trash_key(sha1)).await?;
        }
        Ok(())
    }

    /// Every manifest of the archive but those at `skip` (already read), checked.
    /// Those that cannot be read (damaged, or not signed with the site's key) are skipped and
    /// returned apart: they protect nothing.
    async fn read_manifests(&self, skip: &[Path]) -> ArchiveResult<(Vec<Listed>, Vec<Path>)> {
        let limit = self.settings.request_timeout;
        let listed: Vec<(Path, String)> = self
            .list(&root(REVISIONS), limit)
            .await?
            .into_iter()
            .filter(|meta| !skip.contains(&meta.location))
            .filter_map(|meta| {
                let (encoded_revision, _) = manifest_of_key(&meta.location)?;
                Some((meta.location, encoded_revision))
            })
            .collect();
        let read: Vec<Option<Result<Listed, (Path, ArchiveError)>>> =
            futures_util::stream::iter(listed)
                .map(|(key, encoded_revision)| async move {
                    let Some(bytes) = self.get(&key, limit).await? else {
                        return Ok(None);
                    };
                    let manifest = Manifest::from_bytes(
                        key.as_ref(),
                        &encoded_revision,
                        &bytes,
                        self.key.as_ref(),
                    );
                    Ok::<_, ArchiveError>(Some(match manifest {
                        Ok(manifest) => Ok(Listed {
                            key,
                            encoded_revision,
                            manifest,
                        }),
                        Err(error) => Err((key, error)),
                    }))
                })
                .buffer_unordered(CONCURRENT_REQUESTS)
                .try_collect()
                .await?;
        let mut manifests = Vec::new();
        let mut damaged = Vec::new();
        for result in read.into_iter().flatten() {
            match result {
                Ok(listed) => manifests.push(listed),
                Err((key, error)) => {
                    tracing::warn!(%error, "archive: a manifest that cannot be read: skipped");
                    damaged.push(key);
                }
            }
        }
        Ok((manifests, damaged))
    }

    /// Copies the blob to `trash/` (if its bytes are what it is named by: a corrupted blob is
    /// only deleted), then deletes it.
    async fn trash_blob(&self, sha1: &str) -> ArchiveResult<()> {
        let key = blob_key(sha1);
        if let Some(bytes) = self.get(&key, self.settings.request_timeout).await? {
            if to_hex(&sha1::Sha1::digest(&bytes)) == sha1 {
                self.create(&trash_key(sha1), bytes).await?;
            }
        }
        self.delete(&key).await
    }

    /// Puts the blob back from `trash/`: true if it was there, intact, and put back.
    async fn restore_blob(&self, sha1: &str) -> ArchiveResult<bool> {
        let Some(bytes) = self
            .get(&trash_key(sha1), self.settings.request_timeout)
            .await?
        else {
            return Ok(false);
        };
        if to_hex(&sha1::Sha1::digest(&bytes)) != sha1 {
            return Ok(false);
        }
        self.create(&blob_key(sha1), bytes).await
    }
}

/// The encoded form of a static path read from a checked manifest.
fn encoded_path(path: &str) -> String {
    super::layout::encode_static_path(path).unwrap_or_default()
}
