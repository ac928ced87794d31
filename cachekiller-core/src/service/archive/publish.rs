//! Publishing: the versions a revision serves stored once each, recorded as versions of their
//! paths, and the revision's manifest (see the module docs of `archive`).

use super::*;

/// How many milliseconds after its own a publication tries for its manifest's key when
/// others of the revision hold them.
const MANIFEST_KEY_ATTEMPTS: usize = 64;

impl Archive {
    /// Publishes `revision`: stores every version in `files` that the archive does not hold
    /// yet, records it as a version of its path, then writes the revision's manifest of the
    /// files it names ([`ServedFile::in_revision`]). Call it before serving: an instance still
    /// serving the previous revision may be asked for this revision's URLs as soon as a page
    /// of it is out. Cheap when nothing changed: three listings, no upload.
    ///
    /// A revision names one version of its files. Where another publication of it names other
    /// bytes for a path (two builds of one revision that disagree), the report lists the
    /// conflict and it is logged as an error naming both: lookups then answer neither, and
    /// which publication came first changes nothing. A manifest of the revision that cannot
    /// be read (damaged, or not signed with the site's key) is deleted and reported: this
    /// publication stands for it.
    ///
    /// # Errors
    /// [`ArchiveError::InvalidName`] for a path or revision that cannot be archived (or a path
    /// given twice with different bytes), [`ArchiveError::Corrupted`] if the store holds other
    /// bytes under a SHA-1 being published, and store errors and timeouts.
    pub async fn publish(
        &self,
        revision: &str,
        files: impl IntoIterator<Item = ServedFile>,
    ) -> ArchiveResult<PublishReport> {
        self.publish_at(revision, files, SystemTime::now()).await
    }

    /// [`Archive::publish`] with the publication time given: for tests with a fake clock and
    /// for importing past revisions.
    ///
    /// # Errors
    /// As [`Archive::publish`].
    pub async fn publish_at(
        &self,
        revision: &str,
        files: impl IntoIterator<Item = ServedFile>,
        published_at: SystemTime,
    ) -> ArchiveResult<PublishReport> {
        let encoded_revision = encode_revision(revision)?;
        let published_ms = unix_ms(published_at);
        // Path -> (encoded path, SHA-1 hex, bytes).
        let mut versions: BTreeMap<String, (String, String, Bytes)> = BTreeMap::new();
        let mut in_revision: BTreeMap<String, String> = BTreeMap::new();
        for file in files {
            let encoded = encode_static_path(&file.path)?;
            let sha1 = to_hex(&sha1::Sha1::digest(&file.bytes));
            if let Some((_, other, _)) = versions.get(&file.path) {
                if *other != sha1 {
                    return Err(ArchiveError::InvalidName {
                        kind: "static path",
                        name: file.path,
                        reason: "is given twice with different bytes",
                    });
                }
                continue;
            }
            if file.in_revision {
                in_revision.insert(file.path.clone(), sha1.clone());
            }
            versions.insert(file.path, (encoded, sha1, file.bytes));
        }
        let mut report = PublishReport {
            files: versions.len(),
            in_revision: in_revision.len(),
            ..PublishReport::default()
        };

        let limit = self.settings.request_timeout;
        let published = self.manifests_of(&encoded_revision, limit).await?;
        report.listings += 1;
        let republish_ms =
            u64::try_from(self.settings.republish_after.as_millis()).unwrap_or(u64::MAX);
        // The same files published a moment ago (instances starting together): no manifest.
        let write_manifest = !published.valid.iter().any(|(_, manifest)| {
            manifest.files == in_revision
                && manifest.published_ms.saturating_add(republish_ms) > published_ms
        });

        // Blobs and records first, the manifest last: a manifest names only stored versions.
        // The collector deletes an old unreferenced blob after its own listing; one this
        // publish found present is put back by it when it sees the manifest, provided the
        // manifest is written within the publish window of the listing (see the module).
        for attempt in 0.. {
            let listed_at = Instant::now();
            self.store_versions(&versions, &mut report).await?;
            if !write_manifest || listed_at.elapsed() < self.settings.publish_window / 2 {
                break;
            }
            if attempt == 2 {
                return Err(ArchiveError::Timeout {
                    operation: "publish",
                    key: revision_prefix(&encoded_revision).to_string(),
                    after: self.settings.publish_window / 2,
                });
            }
        }

        let mut manifest = Manifest {
            revision: revision.to_owned(),
            published_ms,
            files: in_revision,
        };
        let own_key = if write_manifest {
            self.write_manifest(&encoded_revision, &mut manifest, &mut report)
                .await?
        } else {
            None
        };
        // Listed again once this manifest is out: of two publications that overlap, each
        // listing taken before the other's write, the later one sees the other here (the
        // earlier one learns of it at its next check, `StaticFiles`' recheck).
        let compared = if write_manifest {
            report.listings += 1;
            self.manifests_of(&encoded_revision, limit).await?.valid
        } else {
            published.valid
        };
        report.conflicts = conflicts(&manifest, &compared, own_key.as_ref());
        for conflict in &report.conflicts {
            tracing::error!(
                revision,
                path = conflict.path,
                sha1 = conflict.sha1,
                other = conflict.other,
                other_sha1 = conflict.other_sha1,
                "archive: two publications of one revision name other bytes for a path: \
                 neither is answered for it (build releases reproducibly, from clean checkouts)"
            );
        }
        // A damaged or forged manifest of the revision would stand in lookups' way for good:
        // this publication replaces it.
        for (key, error) in &published.damaged {
            tracing::warn!(%error, "archive: an unreadable manifest of the revision deleted");
            self.delete(key).await?;
            report.manifests_repaired += 1;
        }
        self.memory.revisions.remove(&revision.to_owned());
        *self
            .memory
            .revision_index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        for path in versions.keys() {
            self.memory.versions.remove(path);
        }
        Ok(report)
    }

    /// Writes `manifest` under the first free key from its millisecond on, and returns the
    /// key (or that of a manifest found there naming the same files: this publication's
    /// record already). Another publication of the revision in the same millisecond (instances started
    /// together) may hold it: a manifest is never overwritten, so this one takes the next
    /// free millisecond. Each must be written to be compared: the one that lost the key would
    /// otherwise take the other's manifest for its own and miss the conflict between them.
    async fn write_manifest(
        &self,
        encoded_revision: &str,
        manifest: &mut Manifest,
        report: &mut PublishReport,
    ) -> ArchiveResult<Option<Path>> {
        let limit = self.settings.request_timeout;
        for _ in 0..MANIFEST_KEY_ATTEMPTS {
            let key = manifest_key(encoded_revision, manifest.published_ms);
            report.puts += 1;
            if self
                .create(&key, Bytes::from(manifest.to_bytes(self.key.as_ref())))
                .await?
            {
                report.manifest_written = true;
                return Ok(Some(key));
            }
            // The same files published in the same millisecond (instances started together):
            // that manifest is this one's too.
            let holder = self.get(&key, limit).await?.and_then(|bytes| {
                Manifest::from_bytes(key.as_ref(), encoded_revision, &bytes, self.key.as_ref()).ok()
            });
            if holder.is_some_and(|holder| holder.files == manifest.files) {
                return Ok(Some(key));
            }
            manifest.published_ms += 1;
        }
        tracing::warn!(
            revision = manifest.revision,
            "archive: no free key for this publication's manifest: not written"
        );
        Ok(None)
    }

    /// The paths another publication of `revision` names with other bytes than `files` does
    /// (static path -> SHA-1 hex), as [`Archive::publish`] reports them: for an instance that
    /// published earlier to learn of a later conflicting one.
    ///
    /// # Errors
    /// Store errors and timeouts.
    pub async fn revision_conflicts(
        &self,
        revision: &str,
        files: &BTreeMap<String, String>,
    ) -> ArchiveResult<Vec<RevisionConflict>> {
        let encoded_revision = encode_revision(revision)?;
        let published = self
            .manifests_of(&encoded_revision, self.settings.request_timeout)
            .await?;
        let mine = Manifest {
            revision: revision.to_owned(),
            published_ms: 0,
            files: files.clone(),
        };
        Ok(conflicts(&mine, &published.valid, None))
    }

    /// Stores the blobs and path records of `versions` that a listing of the store does not
    /// show, counting them in `report`.
    pub(super) async fn store_versions(
        &self,
        versions: &BTreeMap<String, (String, String, Bytes)>,
        report: &mut PublishReport,
    ) -> ArchiveResult<()> {
        let limit = self.settings.request_timeout;
        let blobs = self.list(&root(BLOBS), limit).await?;
        let records = self.list(&root(PATHS), limit).await?;
        report.listings += 2;
        let present: HashMap<String, u64> = blobs
            .iter()
            .filter_map(|meta| Some((sha1_of_blob_key(&meta.location, BLOBS)?, meta.size)))
            .collect();
        // A record counts only if this archive would write it so (signed with its key).
        let recorded: HashSet<(String, String)> = records
            .iter()
            .filter_map(|meta| marker_of_key(&meta.location))
            .filter(|marker| marker.mac == self.record_mac(&marker.encoded_path, &marker.sha1))
            .map(|marker| (marker.encoded_path, marker.sha1))
            .collect();
        let mut uploads = Vec::new();
        let mut uploading = HashSet::new();
        let mut records_to_write = Vec::new();
        for (encoded, sha1, bytes) in versions.values() {
            match present.get(sha1) {
                Some(&size) if size != bytes.len() as u64 => {
                    return Err(ArchiveError::Corrupted {
                        key: blob_key(sha1).to_string(),
                        expected: sha1.clone(),
                        found: format!("{size} bytes instead of {}", bytes.len()),
                    });
                }
                Some(_) => {}
                None => {
                    if uploading.insert(sha1.clone()) {
                        uploads.push((sha1.clone(), bytes.clone()));
                    }
                }
            }
            if !recorded.contains(&(encoded.clone(), sha1.clone())) {
                let mac = self.record_mac(encoded, sha1);
                records_to_write.push(marker_key(encoded, sha1, mac.as_deref()));
            }
        }
        report.puts += uploads.len() + records_to_write.len();
        let uploaded: Vec<(bool, u64)> = futures_util::stream::iter(uploads)
            .map(|(sha1, bytes)| async move {
                let size = bytes.len() as u64;
                self.create_blob(&sha1, bytes)
                    .await
                    .map(|made| (made, size))
            })
            .buffer_unordered(CONCURRENT_REQUESTS)
            .try_collect()
            .await?;
        for (made, size) in uploaded {
            if made {
                report.blobs_uploaded += 1;
                report.bytes_uploaded += size;
            }
        }
        let written: Vec<bool> = futures_util::stream::iter(records_to_write)
            .map(|key| async move { self.create(&key, Bytes::new()).await })
            .buffer_unordered(CONCURRENT_REQUESTS)
            .try_collect()
            .await?;
        report.records_written += written.into_iter().filter(|made| *made).count();
        Ok(())
    }

    /// The manifests of a revision, oldest first: those that read (with a key: signed with
    /// it) and those that do not.
    pub(super) async fn manifests_of(
        &self,
        encoded_revision: &str,
        limit: Duration,
    ) -> ArchiveResult<ManifestsRead> {
        let mut listed: Vec<(u64, Path)> = self
            .list(&revision_prefix(encoded_revision), limit)
            .await?
            .into_iter()
            .filter_map(|meta| {
                let (listed_revision, published_ms) = manifest_of_key(&meta.location)?;
                (listed_revision == encoded_revision).then_some((published_ms, meta.location))
            })
            .collect();
        listed.sort();
        let mut read = ManifestsRead {
            valid: Vec::with_capacity(listed.len()),
            damaged: Vec::new(),
        };
        for (_, key) in listed {
            // Deleted since the listing (a collection): the others still say the same.
            let Some(bytes) = self.get(&key, limit).await? else {
                continue;
            };
            match Manifest::from_bytes(key.as_ref(), encoded_revision, &bytes, self.key.as_ref()) {
                Ok(manifest) => read.valid.push((key, manifest)),
                Err(error) => {
                    tracing::warn!(%error, "archive: a manifest that cannot be read: skipped");
                    read.damaged.push((key, error));
                }
            }
        }
        Ok(read)
    }
}

/// The paths `manifest` names with other bytes than another of `published` (but the one at
/// `own_key`, its own publication), once each, with the first other publication that
/// disagrees.
fn conflicts(
    manifest: &Manifest,
    published: &[(Path, Manifest)],
    own_key: Option<&Path>,
) -> Vec<RevisionConflict> {
    let mut conflicts: Vec<RevisionConflict> = Vec::new();
    for (key, other) in published {
        if Some(key) == own_key {
            continue;
        }
        for (path, sha1, other_sha1) in manifest.conflicts_with(&other.files) {
            if !conflicts.iter().any(|known| known.path == path) {
                conflicts.push(RevisionConflict {
                    path,
                    other: key.to_string(),
                    other_sha1,
                    sha1,
                });
            }
        }
    }
    conflicts
}
