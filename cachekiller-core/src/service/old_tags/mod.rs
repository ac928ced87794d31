//! Old tags during a deploy (feature `archive`): with an [`Archive`], a request whose tag
//! names another version of its path than the one served now (an older page's content tag,
//! or an older deploy's revision tag) is answered with that version's bytes from the archive,
//! `immutable`, with their own `ETag`, content type and compressed variants. The archive
//! answers only with bytes recorded as a version of *that* path (a revision tag: only if its
//! manifest names the path), verified against their SHA-1.
//!
//! Anything else gets today's answer, the current bytes with `no-cache`: a tag that begins
//! several archived versions, one the archive does not know, and any failure of the store.
//! A lookup is bounded by the archive's lookup timeout, and after a failure the store is left
//! alone for `STORE_RETRY_AFTER` (10 s), so a store that is down costs one timeout, then
//! nothing.
//! A request for the current bytes (its tag names them, or it has no tag) never asks the
//! archive.
//!
//! The other half is [`StaticFiles::publish`]: what the service sends now, published before
//! the server takes requests, so that the instances of the next deploy can answer this one's
//! pages.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, RANGE};
use http::Response;
use sha1::Digest as _;

use crate::rules::cache_policy::TagVerdict;
use crate::rules::hash::to_hex;
use crate::rules::settings::{SiteSettings, TagMode};
use crate::rules::static_path::{find_static_file, StaticFile};
use crate::rules::tagging::Tagger;
use crate::service::archive::{
    Archive, ArchiveError, ArchiveResult, ArchivedVersion, PublishReport, ServedFile,
};
use crate::service::body::StaticBody;
use crate::service::memo::ExpiringMemo;
use crate::service::versions::{archived_key, CheckedVersion};
use crate::service::{content_type_of, is_compressible, response, StaticFiles};

/// How long old tags are answered without asking the archive after a lookup failed (an
/// error or a timeout): a store that is down or slow costs the requests of that moment one
/// lookup timeout, not one each.
pub(crate) const STORE_RETRY_AFTER: Duration = Duration::from_secs(10);

/// How long an answer from the archive is reused for the same path and tag without asking
/// the archive again (whose own memory keeps a path's versions for minutes).
const ANSWER_LIFETIME: Duration = Duration::from_secs(30);

/// The most answers remembered; beyond it the memory starts over.
const ANSWERS: usize = 10_000;

/// The most lookups in the archive at once: a burst of cold old tags (they are public, in old
/// pages) waits for no store and holds no more than this many blobs; the others get the
/// current bytes, `no-cache`, as without an archive.
const CONCURRENT_LOOKUPS: usize = 8;

/// The shortest content tag answered from the archive. A tag is answered there when exactly
/// one archived version of the path begins with it; a newer deploy's version that this
/// instance has not seen may begin with it too. At 6 hex digits that is one pair in 16.7
/// million; a site with a shorter `hash_length` gets no old content tags from the archive.
const MIN_ARCHIVED_CONTENT_TAG: usize = 6;

/// How often an instance asks the archive again whether another publication of its own
/// revision names other bytes than it does (an instance published after it).
const OWN_REVISION_RECHECK: Duration = if cfg!(test) {
    Duration::from_millis(200)
} else {
    Duration::from_secs(60)
};

/// How often the static paths the archive holds versions of are listed again.
const KNOWN_PATHS_LIFETIME: Duration = Duration::from_secs(300);

/// The most static paths remembered as archived: beyond it, old tags of files the current
/// deploy removed are answered for the first this many only (the rest are `404`).
const KNOWN_PATHS: usize = 1_000_000;

/// The archive of a service, and whether its store is resting after a failure.
#[derive(Debug)]
pub(super) struct OldVersions {
    archive: Archive,
    /// What this instance published under its revision (static path -> SHA-1 hex), for the
    /// re-check of conflicts, and when it was last checked.
    published: Mutex<Option<(BTreeMap<String, String>, Instant)>>,
    /// The static paths the archive holds versions of, and when they were listed: an old tag
    /// of a file this deploy no longer has is looked up only for these.
    known_paths: Mutex<Option<(Arc<HashSet<String>>, Instant)>>,
    /// Set while a listing of the known paths or a re-check runs in the background.
    refreshing: std::sync::atomic::AtomicBool,
    /// Until when lookups skip the store.
    resting_until: Mutex<Option<Instant>>,
    /// The version last found for `<path>\0<tag>`, held by the version cache (a weak
    /// reference: what the cache evicts is looked up again, so its memory bound holds).
    answers: ExpiringMemo<String, Weak<CheckedVersion>>,
    /// Permits for [`CONCURRENT_LOOKUPS`].
    lookups: tokio::sync::Semaphore,
}

/// Which lookup answers a tag.
#[derive(Debug, Clone, Copy)]
enum ArchiveLookup {
    /// A content tag: the archived version of the path whose SHA-1 it begins.
    Content,
    /// A revision tag: the version of the path its manifest records.
    Revision,
}

impl OldVersions {
    pub(super) fn new(archive: Archive) -> Self {
        if !archive.is_signed() {
            tracing::warn!(
                "archive without a signing key: anyone who can write to its store can make \
                 this site serve bytes of their choosing under its URLs; give the instances a \
                 shared key in {} (`Archive::signing_key_from_env`)",
                super::archive::KEY_VARIABLE
            );
        }
        OldVersions {
            archive,
            published: Mutex::new(None),
            known_paths: Mutex::new(None),
            refreshing: std::sync::atomic::AtomicBool::new(false),
            resting_until: Mutex::new(None),
            answers: ExpiringMemo::new(ANSWER_LIFETIME, ANSWERS),
            lookups: tokio::sync::Semaphore::new(CONCURRENT_LOOKUPS),
        }
    }

    fn resting(&self) -> bool {
        let until = *self
            .resting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        until.is_some_and(|until| Instant::now() < until)
    }

    fn failed(&self, path: &str, tag: &str, error: &ArchiveError) {
        let mut until = self
            .resting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        // Once per rest: a flood of old tags while the store is down is one line a period.
        if until.is_none_or(|until| until <= now) {
            tracing::warn!(
                path,
                tag,
                %error,
                retry_after = ?STORE_RETRY_AFTER,
                "the archive failed a lookup: old tags get the current bytes, no-cache"
            );
        }
        *until = Some(now + STORE_RETRY_AFTER);
    }

    /// The archived version of the static path `path` that `tag` names, if exactly one.
    async fn find(
        &self,
        settings: &SiteSettings,
        path: &str,
        tag: &str,
    ) -> Option<(Bytes, [u8; 20])> {
        if self.resting() {
            return None;
        }
        let Ok(_permit) = self.lookups.try_acquire() else {
            return None;
        };
        let content = Tagger::of_site(settings).could_name_bytes(tag)
            && tag.len() >= MIN_ARCHIVED_CONTENT_TAG;
        // Any other tag than the current revision may be an older deploy's revision (a git
        // revision is hex too, so a tag can be both): the site's mode says which is likelier.
        let revision = tag != settings.revision_tag();
        let order = if settings.mode == TagMode::Content {
            [
                content.then_some(ArchiveLookup::Content),
                revision.then_some(ArchiveLookup::Revision),
            ]
        } else {
            [
                revision.then_some(ArchiveLookup::Revision),
                content.then_some(ArchiveLookup::Content),
            ]
        };
        for lookup in order.into_iter().flatten() {
            let found = match lookup {
                ArchiveLookup::Content => self.archive.find_version(path, tag).await,
                ArchiveLookup::Revision => self.archive.revision_version(tag, path).await,
            };
            match found {
                Ok(ArchivedVersion::Found { bytes, sha1 }) => return Some((bytes, sha1)),
                Ok(ArchivedVersion::Ambiguous) => return None,
                // A tag that cannot name a revision (too long for a key) names none.
                Ok(ArchivedVersion::Unknown) | Err(ArchiveError::InvalidName { .. }) => {}
                // One damaged object is that tag's problem, not the store's: the others are
                // still answered (its bytes are never sent: they did not verify).
                Err(
                    error @ (ArchiveError::Corrupted { .. } | ArchiveError::InvalidManifest { .. }),
                ) => {
                    tracing::warn!(path, tag, %error, "a damaged archive object: the current bytes, no-cache");
                    return None;
                }
                Err(error) => {
                    self.failed(path, tag, &error);
                    return None;
                }
            }
        }
        None
    }
}

impl StaticFiles {
    /// Answers the tags of older versions from `archive` (see [`StaticFiles::publish`]): a
    /// request whose tag is not the current one for its path gets the archived version the
    /// tag names, `immutable`, or, if the archive has no single verified version for it (or
    /// fails, or is slower than its lookup timeout), the current bytes with `no-cache` as
    /// without an archive.
    #[must_use]
    pub fn archive(mut self, archive: Archive) -> Self {
        self.old_versions = Some(Arc::new(OldVersions::new(archive)));
        self
    }

    /// Publishes what the service sends now to its archive, under the site's revision
    /// ([`SiteSettings::revision_tag`]): every file of the static dirs that a request can
    /// name (hidden files only if they are served; a file shadowed by an earlier dir's is not
    /// sent, so not published), with the bytes sent for it (a stylesheet's rewritten bytes),
    /// and the revision's manifest of paths and SHA-1s. Call it before the server binds its
    /// listener: the instances still serving the previous revision answer this revision's
    /// URLs from the archive as soon as a page of it is out. Cheap when nothing changed
    /// (three listings, no upload), and it leaves the checked versions in the service's
    /// cache for the first requests.
    ///
    /// Not published: files larger than the in-memory file limit (their old tags get the
    /// current bytes, `no-cache`), a stylesheet whose references cannot be tagged (never
    /// `immutable` anyway), files in linked directories (not walked), and files that cannot be
    /// read (logged). A debug build, or a revision that does not name one version of the
    /// files (a `SOURCE_DATE_EPOCH` date), publishes under a name no request can give
    /// (the revision, `/unpinned-` and a digest of the files): its versions answer content
    /// tags, never its revision tag, and two such builds never conflict.
    ///
    /// # Errors
    /// [`ArchiveError::NoArchive`] without [`StaticFiles::archive`], and the errors of
    /// [`Archive::publish`]. A server may log them and serve anyway: its old tags are then
    /// answered with the current bytes, `no-cache`, as without an archive.
    pub async fn publish(&self) -> ArchiveResult<PublishReport> {
        let Some(old_versions) = &self.old_versions else {
            return Err(ArchiveError::NoArchive);
        };
        let service = self.clone();
        let files = tokio::task::spawn_blocking(move || service.served_files())
            .await
            .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
        let name = publication_name(&self.shared.settings, &files);
        let in_revision: BTreeMap<String, String> = files
            .iter()
            .filter(|file| file.in_revision)
            .map(|file| (file.path.clone(), to_hex(&sha1::Sha1::digest(&file.bytes))))
            .collect();
        let report = old_versions.archive.publish(&name, files).await?;
        if name == self.shared.settings.revision_tag() {
            self.shared.disputed.set(
                report
                    .conflicts
                    .iter()
                    .map(|conflict| conflict.path.clone()),
            );
            *lock(&old_versions.published) = Some((in_revision, Instant::now()));
        }
        old_versions.refresh_known_paths().await;
        Ok(report)
    }

    /// Asks the archive again, in the background and at most once per
    /// [`OWN_REVISION_RECHECK`], whether another publication of this instance's revision names
    /// other bytes than it published (one that published after it): those paths are then no
    /// longer `immutable` under the revision here either.
    pub(super) fn recheck_own_revision(&self) {
        let Some(old_versions) = &self.old_versions else {
            return;
        };
        let due = lock(&old_versions.published)
            .as_ref()
            .is_some_and(|(_, checked_at)| checked_at.elapsed() >= OWN_REVISION_RECHECK);
        if !due || old_versions.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let service = self.clone();
        let old_versions = Arc::clone(old_versions);
        tokio::spawn(async move {
            let published = lock(&old_versions.published)
                .as_ref()
                .map(|(files, _)| files.clone());
            if let Some(files) = published {
                let revision = service.shared.settings.revision_tag();
                match old_versions
                    .archive
                    .revision_conflicts(revision, &files)
                    .await
                {
                    Ok(conflicts) => {
                        for conflict in &conflicts {
                            tracing::error!(
                                revision,
                                path = conflict.path,
                                other = conflict.other,
                                "another publication of this revision names other bytes: \
                                 no longer `immutable` under the revision here"
                            );
                        }
                        service
                            .shared
                            .disputed
                            .set(conflicts.into_iter().map(|conflict| conflict.path));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the archive could not be asked for conflicts");
                    }
                }
                if let Some((_, checked_at)) = lock(&old_versions.published).as_mut() {
                    *checked_at = Instant::now();
                }
            }
            old_versions.refreshing.store(false, Ordering::Release);
        });
    }

    /// Every file a request can name, with the bytes the service sends for it (blocking).
    fn served_files(&self) -> Vec<ServedFile> {
        let mut files = Vec::new();
        let mut served = |relative: String, checked: &CheckedVersion| {
            if let (true, Some(bytes)) = (checked.taggable, &checked.bytes) {
                // Only bytes the build saw go into the revision's manifest: a file edited,
                // added or swapped since is stored for its content tag.
                files.push(if self.shared.names(&relative, checked) {
                    ServedFile::new(relative, bytes.clone())
                } else {
                    ServedFile::outside_revision(relative, bytes.clone())
                });
            }
        };
        for (path, checked) in self.embedded_versions() {
            served(path.to_owned(), &checked);
        }
        for relative in self.disk_paths() {
            let StaticFile::File { dir, file, version } =
                find_static_file(&self.shared.dirs, &relative)
            else {
                continue;
            };
            if version.size() > self.options.limits.file_bytes {
                continue;
            }
            match self.checked_blocking(dir, &relative, &file, version) {
                Ok(checked) => served(relative, &checked),
                Err(error) => {
                    tracing::warn!(path = relative, %error, "not archived: it cannot be read");
                }
            }
        }
        files
    }

    /// The answer from the archive to a request for the static path `relative` tagged `tag`,
    /// whose current version (SHA-1 `current_sha1`; none for a file this deploy does not have)
    /// the tag does not provably name.
    pub(super) async fn serve_archived(
        &self,
        request: &super::StaticRequest<'_>,
        relative: &str,
        tag: &str,
        current_sha1: Option<&[u8]>,
    ) -> Option<Response<StaticBody>> {
        let old_versions = self.old_versions.as_ref()?;
        let settings = &self.shared.settings;
        // The current revision, or the current bytes not yet provable (a file just written):
        // the archive holds nothing older for them.
        if tag == settings.revision_tag()
            || current_sha1.is_some_and(|sha1| Tagger::of_site(settings).names_bytes(tag, sha1))
        {
            return None;
        }
        // A file this deploy does not have: asked for only if the archive holds a version of
        // that path, so that made-up paths cost no request.
        if current_sha1.is_none() && !old_versions.knows(relative) {
            return None;
        }
        let answer_key = format!("{relative}\0{tag}");
        let remembered = old_versions
            .answers
            .get(&answer_key)
            .and_then(|checked| checked.upgrade());
        let checked = if let Some(checked) = remembered {
            checked
        } else {
            let (bytes, sha1) = old_versions.find(settings, relative, tag).await?;
            let checked = self.archived_version(bytes, sha1);
            old_versions
                .answers
                .insert(answer_key, Arc::downgrade(&checked));
            checked
        };
        let content_type = content_type_of(relative);
        let varies = content_type.to_str().is_ok_and(is_compressible);
        let variant = if varies && !request.headers.contains_key(RANGE) {
            self.variant(
                None,
                relative,
                &checked,
                request.headers.get_all(ACCEPT_ENCODING),
            )
            .await
        } else {
            None
        };
        Some(
            response::Answer {
                method: request.method,
                request_headers: request.headers,
                checked: &checked,
                verdict: TagVerdict::Current,
                content_type,
                varies,
                variant,
                source: None,
            }
            .into_response(),
        )
    }
}

impl OldVersions {
    /// True if the archive holds a version of the static path `relative`, by the last listing
    /// of its paths; a listing older than [`KNOWN_PATHS_LIFETIME`] is renewed in the
    /// background.
    fn knows(self: &Arc<Self>, relative: &str) -> bool {
        let (known, stale) = match lock(&self.known_paths).as_ref() {
            Some((known, listed_at)) => (
                known.contains(relative),
                listed_at.elapsed() >= KNOWN_PATHS_LIFETIME,
            ),
            None => (false, true),
        };
        if stale && !self.resting() && !self.refreshing.swap(true, Ordering::AcqRel) {
            let old_versions = Arc::clone(self);
            tokio::spawn(async move {
                old_versions.list_known_paths().await;
                old_versions.refreshing.store(false, Ordering::Release);
            });
        }
        known
    }

    /// Lists the known paths now (at start-up, after a publish).
    async fn refresh_known_paths(&self) {
        if !self.refreshing.swap(true, Ordering::AcqRel) {
            self.list_known_paths().await;
            self.refreshing.store(false, Ordering::Release);
        }
    }

    async fn list_known_paths(&self) {
        match self.archive.known_paths(KNOWN_PATHS).await {
            Ok(known) => *lock(&self.known_paths) = Some((Arc::new(known), Instant::now())),
            Err(error) => {
                tracing::warn!(%error, "the archive's paths could not be listed");
                // Tried again after the lifetime, not on every request.
                let mut known = lock(&self.known_paths);
                let kept = known.take().map_or_else(Arc::default, |(known, _)| known);
                *known = Some((kept, Instant::now()));
            }
        }
    }
}

/// A mutex's guard, whatever a panicking holder left: every value here is replaced whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl StaticFiles {
    /// The checked version of archived bytes, from the version cache (one entry per SHA-1,
    /// under a key no static path has) or made and kept there.
    fn archived_version(&self, bytes: Bytes, sha1: [u8; 20]) -> Arc<CheckedVersion> {
        let limits = self.options.limits;
        let slot = self
            .shared
            .cache
            .slot(&archived_key(&to_hex(&sha1)), limits);
        if let Some(checked) = slot.last().filter(|last| last.sha1 == sha1) {
            return checked;
        }
        let checked = Arc::new(CheckedVersion::archived(bytes, sha1));
        slot.store(Arc::clone(&checked));
        self.shared.cache.enforce(limits);
        checked
    }
}

/// The name the files are published under: the revision tag when the service trusts it (a
/// release build whose revision names one version of the files), so that its manifest
/// answers that tag; otherwise the tag, `/unpinned-` and a digest of the files. A request's
/// tag never holds a `/`, so no request is answered by such a manifest, and two builds of
/// one tag with other files (a debug build's edits, two builds of one date) never conflict.
fn publication_name(settings: &SiteSettings, files: &[ServedFile]) -> String {
    if settings.release_build && !settings.revision_manifest_bytes().is_empty() {
        return settings.revision_tag().to_owned();
    }
    let mut listed: Vec<(&str, String)> = files
        .iter()
        .map(|file| (file.path.as_str(), to_hex(&sha1::Sha1::digest(&file.bytes))))
        .collect();
    listed.sort();
    let mut digest = sha1::Sha1::new();
    for (path, sha1) in listed {
        digest.update(path.as_bytes());
        digest.update(b"\0");
        digest.update(sha1.as_bytes());
        digest.update(b"\n");
    }
    format!(
        "{}/unpinned-{}",
        settings.revision_tag(),
        &to_hex(&digest.finalize())[..12]
    )
}

#[cfg(all(test, feature = "resolve"))]
mod tests;
