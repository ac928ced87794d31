//! Lookups: a path's archived version by a tag's prefix, or by a revision's manifest, every
//! byte verified, bounded by the lookup timeout and remembered a while.

use super::*;

impl Archive {
    /// The archived version of the static path `path` whose SHA-1 hex begins with
    /// `tag_prefix` (lower-case hex), among the versions recorded for that path only.
    ///
    /// # Errors
    /// [`ArchiveError::InvalidName`] for a path that cannot be archived,
    /// [`ArchiveError::Corrupted`] if the store's bytes do not hash to their SHA-1, and store
    /// errors and [`ArchiveError::Timeout`] past the lookup timeout.
    pub async fn find_version(
        &self,
        path: &str,
        tag_prefix: &str,
    ) -> ArchiveResult<ArchivedVersion> {
        let encoded = encode_static_path(path)?;
        let valid_tag = !tag_prefix.is_empty()
            && tag_prefix.len() <= 40
            && tag_prefix
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if !valid_tag {
            return Ok(ArchivedVersion::Unknown);
        }
        let lookup = async {
            let versions = self.versions_of(path, &encoded, tag_prefix).await?;
            let mut matching = versions.iter().filter(|sha1| sha1.starts_with(tag_prefix));
            let (Some(sha1), None) = (matching.next(), matching.next()) else {
                return Ok(
                    if versions.iter().any(|sha1| sha1.starts_with(tag_prefix)) {
                        ArchivedVersion::Ambiguous
                    } else {
                        ArchivedVersion::Unknown
                    },
                );
            };
            let found = self
                .verified_blob(sha1, self.settings.lookup_timeout)
                .await?;
            if matches!(found, ArchivedVersion::Unknown) {
                // Collected since it was listed.
                self.memory.versions.remove(&path.to_owned());
            }
            Ok(found)
        };
        self.bounded_lookup(path, lookup).await
    }

    /// The version of the static path `path` that `revision`'s manifest records.
    ///
    /// # Errors
    /// As [`Archive::find_version`], and [`ArchiveError::InvalidManifest`] for a manifest that
    /// cannot be read.
    pub async fn revision_version(
        &self,
        revision: &str,
        path: &str,
    ) -> ArchiveResult<ArchivedVersion> {
        let encoded_revision = encode_revision(revision)?;
        encode_static_path(path)?;
        let lookup = async {
            let cached = self
                .memory
                .revisions
                .get(&revision.to_owned())
                .filter(|fetched| fresh(fetched, fetched.value.is_some(), self.settings.cache));
            let files = if let Some(fetched) = cached {
                fetched.value
            } else if !self.archived_revision(&encoded_revision).await? {
                None
            } else {
                let manifests = self
                    .manifests_of(&encoded_revision, self.settings.lookup_timeout)
                    .await?
                    .valid;
                let files = (!manifests.is_empty()).then(|| {
                    let mut files = RevisionFiles::new();
                    for (_, manifest) in &manifests {
                        for (path, sha1) in &manifest.files {
                            files
                                .entry(path.clone())
                                .and_modify(|recorded| {
                                    if recorded.as_ref() != Some(sha1) {
                                        *recorded = None;
                                    }
                                })
                                .or_insert_with(|| Some(sha1.clone()));
                        }
                    }
                    Arc::new(files)
                });
                let fetched = Fetched {
                    at: Instant::now(),
                    value: files.clone(),
                };
                self.memory.revisions.insert(
                    revision.to_owned(),
                    fetched,
                    self.settings.cache.entries,
                );
                files
            };
            match files.as_ref().and_then(|files| files.get(path)) {
                None => Ok(ArchivedVersion::Unknown),
                Some(None) => Ok(ArchivedVersion::Ambiguous),
                Some(Some(sha1)) => self.verified_blob(sha1, self.settings.lookup_timeout).await,
            }
        };
        self.bounded_lookup(path, lookup).await
    }

    /// True if the archive holds a manifest of the (encoded) revision, by the index of
    /// revisions: listed again when it is older than the positive lifetime, or than the
    /// negative one and it does not name the revision.
    pub(super) async fn archived_revision(&self, encoded_revision: &str) -> ArchiveResult<bool> {
        let indexed = || {
            let index = self
                .memory
                .revision_index
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            index.as_ref().and_then(|fetched| {
                let named = fetched.value.contains(encoded_revision);
                fresh(fetched, named, self.settings.cache).then_some(named)
            })
        };
        if let Some(named) = indexed() {
            return Ok(named);
        }
        let _filling = self.memory.revision_index_fill.lock().await;
        if let Some(named) = indexed() {
            return Ok(named);
        }
        let listed = self
            .list(&root(REVISIONS), self.settings.lookup_timeout)
            .await?;
        let revisions: HashSet<String> = listed
            .iter()
            .filter_map(|meta| manifest_of_key(&meta.location))
            .map(|(revision, _)| revision)
            .collect();
        let named = revisions.contains(encoded_revision);
        *self
            .memory
            .revision_index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Fetched {
            at: Instant::now(),
            value: Arc::new(revisions),
        });
        Ok(named)
    }

    pub(super) async fn bounded_lookup(
        &self,
        path: &str,
        lookup: impl Future<Output = ArchiveResult<ArchivedVersion>>,
    ) -> ArchiveResult<ArchivedVersion> {
        let limit = self.settings.lookup_timeout;
        tokio::time::timeout(limit, lookup)
            .await
            .unwrap_or_else(|_| {
                Err(ArchiveError::Timeout {
                    operation: "lookup",
                    key: path.to_owned(),
                    after: limit,
                })
            })
    }

    /// The versions recorded for `path`, from memory while fresh for a lookup of `tag_prefix`.
    pub(super) async fn versions_of(
        &self,
        path: &str,
        encoded: &str,
        tag_prefix: &str,
    ) -> ArchiveResult<Versions> {
        if let Some(fetched) = self.memory.versions.get(&path.to_owned()) {
            let answers = fetched
                .value
                .iter()
                .any(|sha1| sha1.starts_with(tag_prefix));
            if fresh(&fetched, answers, self.settings.cache) {
                return Ok(fetched.value);
            }
        }
        let prefix = versions_prefix(encoded);
        let listed = self.list(&prefix, self.settings.lookup_timeout).await?;
        let versions: Versions = listed
            .iter()
            .filter_map(|meta| marker_of_key(&meta.location))
            .filter(|marker| marker.encoded_path == encoded && self.record_is_trusted(marker))
            .map(|marker| marker.sha1)
            .collect();
        let fetched = Fetched {
            at: Instant::now(),
            value: Arc::clone(&versions),
        };
        self.memory
            .versions
            .insert(path.to_owned(), fetched, self.settings.cache.entries);
        Ok(versions)
    }

    /// Every static path the archive holds a version of (by records signed with the site's
    /// key, when it has one), at most `limit` of them: what a server asks before it looks up
    /// an old tag of a file it no longer has, so that made-up paths cost no request.
    ///
    /// # Errors
    /// Store errors and timeouts.
    pub async fn known_paths(&self, limit: usize) -> ArchiveResult<HashSet<String>> {
        let records = self
            .list(&root(PATHS), self.settings.request_timeout)
            .await?;
        let mut paths = HashSet::new();
        for marker in records
            .iter()
            .filter_map(|meta| marker_of_key(&meta.location))
        {
            if paths.len() >= limit {
                break;
            }
            if self.record_is_trusted(&marker) {
                if let Some(path) = decode_static_path(&marker.encoded_path) {
                    paths.insert(path);
                }
            }
        }
        Ok(paths)
    }

    /// The blob of `sha1_hex`, verified; [`ArchivedVersion::Unknown`] if it is gone.
    pub(super) async fn verified_blob(
        &self,
        sha1_hex: &str,
        limit: Duration,
    ) -> ArchiveResult<ArchivedVersion> {
        let mut sha1 = [0; 20];
        for (index, byte) in sha1.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&sha1_hex[index * 2..index * 2 + 2], 16).unwrap_or_default();
        }
        if let Some(bytes) = self.memory.blobs.get(sha1_hex) {
            return Ok(ArchivedVersion::Found { bytes, sha1 });
        }
        let key = blob_key(sha1_hex);
        let Some(bytes) = self.get(&key, limit).await? else {
            return Ok(ArchivedVersion::Unknown);
        };
        let digest: [u8; 20] = sha1::Sha1::digest(&bytes).into();
        if digest != sha1 {
            return Err(ArchiveError::Corrupted {
                key: key.to_string(),
                expected: sha1_hex.to_owned(),
                found: to_hex(&digest),
            });
        }
        self.memory
            .blobs
            .insert(sha1_hex, bytes.clone(), self.settings.cache.bytes);
        Ok(ArchivedVersion::Found { bytes, sha1 })
    }
}

/// True if what was fetched may answer again: a positive answer for longer than a negative.
pub(super) fn fresh<T>(fetched: &Fetched<T>, positive: bool, settings: CacheSettings) -> bool {
    let ttl = if positive {
        settings.positive_ttl
    } else {
        settings.negative_ttl
    };
    fetched.at.elapsed() < ttl
}
