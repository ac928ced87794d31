//! The run-time API: the URL and the integrity `cdnstatic!` and `cdnintegrity!` give, for
//! templates read at run time (`MiniJinja`, Tera, Handlebars), which cannot call a proc macro.
//! Made by the same rules from the same settings (`cdnsettings!()`) and the same checked
//! bytes the service sends, through the service's cache: a URL asked for here is answered
//! `immutable` by the service.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::error::ServeResult;
use super::versions::CheckedVersion;
use super::StaticFiles;
use crate::rules::error::{Error, Result};
use crate::rules::hash::{digest_of_bytes, integrity_metadata, IntegrityAlgorithm};
use crate::rules::settings::TagMode;
use crate::rules::static_path::{
    canonical_static_path, find_static_file, static_file_relative_path, HiddenFiles, StaticFile,
};
use crate::rules::suggest::{closest, static_files_for_suggestion};
use crate::rules::url::{is_absolute_url, split_url};

/// How long a URL made here is reused before its file is looked at again: long enough that
/// a page with many assets costs a map lookup per asset, short enough that an edit shows on
/// the next page a second later.
pub(crate) const URL_LIFETIME: Duration = Duration::from_secs(1);

/// The most URLs remembered; beyond it the memo starts over.
pub(crate) const MEMO_ENTRIES: usize = 10_000;

/// Made URLs and integrities by the path asked for, with when they were made.
#[derive(Debug, Default)]
pub(crate) struct UrlMemo {
    entries: Mutex<HashMap<String, Made>>,
}

/// What was made for one path: its URL, and its integrity per algorithm.
#[derive(Debug, Default)]
struct Made {
    url: Option<(String, Instant)>,
    integrities: Vec<(IntegrityAlgorithm, String, Instant)>,
}

impl StaticFiles {
    /// The URL `cdnstatic!(path)` gives for these settings and files: the same tag (the
    /// revision, or the start of the SHA-1 of the bytes the service sends, a stylesheet's
    /// rewritten bytes included), in the same form, with any query and fragment of `path`
    /// kept. For templates read at run time; a call is a map lookup while the URL is fresh
    /// (a second), then the file is looked at again.
    ///
    /// # Errors
    /// [`ServeErrorKind::NotFound`](super::ServeErrorKind::NotFound) (the message names the
    /// closest existing path) for a path that names no file in the static dirs,
    /// [`InvalidPath`](super::ServeErrorKind::InvalidPath) for one that leaves them, and
    /// [`InvalidUrl`](super::ServeErrorKind::InvalidUrl) for an absolute URL in the file-name
    /// form or in content mode, as `cdnstatic!` refuses them.
    pub fn url(&self, path: &str) -> ServeResult<String> {
        Ok(self.memoized(path, None, || self.make_url(path))?)
    }

    /// The integrity metadata `cdnintegrity!(path, algorithm = …)` gives (`"sha384-…"`): the
    /// digest of the bytes the service sends.
    ///
    /// # Errors
    /// As [`StaticFiles::url`].
    pub fn integrity(&self, path: &str, algorithm: IntegrityAlgorithm) -> ServeResult<String> {
        Ok(self.memoized(path, Some(algorithm), || {
            let bytes = self.checked_bytes(path, true)?;
            Ok(integrity_metadata(
                &digest_of_bytes(&bytes, algorithm.digest()),
                algorithm,
            ))
        })?)
    }

    fn memoized(
        &self,
        path: &str,
        algorithm: Option<IntegrityAlgorithm>,
        make: impl FnOnce() -> Result<String>,
    ) -> Result<String> {
        let fresh = |made: &(String, Instant)| made.1.elapsed() < URL_LIFETIME;
        {
            let entries = self
                .shared
                .urls
                .entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // `get` with the `&str`: the common call is a hit, and builds no key.
            if let Some(made) = entries.get(path) {
                let hit = match algorithm {
                    None => made
                        .url
                        .as_ref()
                        .filter(|made| fresh(made))
                        .map(|(url, _)| url),
                    Some(algorithm) => made
                        .integrities
                        .iter()
                        .find(|(cached, _, made_at)| {
                            *cached == algorithm && made_at.elapsed() < URL_LIFETIME
                        })
                        .map(|(_, integrity, _)| integrity),
                };
                if let Some(value) = hit {
                    return Ok(value.clone());
                }
            }
        }
        let value = make()?;
        let mut entries = self
            .shared
            .urls
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MEMO_ENTRIES {
            entries.clear();
        }
        let entry = entries.entry(path.to_owned()).or_default();
        let now = Instant::now();
        match algorithm {
            None => entry.url = Some((value.clone(), now)),
            Some(algorithm) => {
                entry
                    .integrities
                    .retain(|(cached, ..)| *cached != algorithm);
                entry.integrities.push((algorithm, value.clone(), now));
            }
        }
        Ok(value)
    }

    /// The URL of `path` made now, past the memo (for a memo of the caller's own).
    pub(crate) fn make_url(&self, path: &str) -> Result<String> {
        let tagger = self.shared.tagger();
        if is_absolute_url(split_url(path).location) {
            // Not a file of ours: only a revision tag can go on it.
            if tagger.mode == TagMode::Content {
                return Err(Error::HashOfAbsoluteUrl {
                    url: path.to_owned(),
                });
            }
            return tagger.url(path, tagger.revision_tag()?);
        }
        // The file must exist in both modes, as `check_files` makes it for the macros. A
        // stylesheet the revision names holds only tags of files it names (the manifest
        // says so), so its path alone decides.
        let (relative, checked, _) = self.checked_file(path, tagger.mode == TagMode::Content)?;
        let tag = tagger.tag(&relative, false, || Ok(checked.sha1.clone()))?;
        tagger.url(path, &tag)
    }

    /// The bytes the service sends for `path` (its query and fragment ignored), checked as a
    /// request checks them; `hashed` says whether the caller needs them (for the error's
    /// wording).
    fn checked_bytes(&self, path: &str, hashed: bool) -> Result<bytes::Bytes> {
        let (relative, checked, file) = self.checked_file(path, hashed)?;
        match &checked.bytes {
            Some(bytes) => Ok(bytes.clone()),
            // Too large to hold: read for this call (the macros hash it as a whole too).
            None => super::versions::read_all(&file, checked.length)
                .map(bytes::Bytes::from)
                .map_err(|error| Error::FileUnreadable {
                    path: relative.into(),
                    reason: error.to_string(),
                }),
        }
    }

    /// The canonical static path of `path` (its query and fragment ignored), its checked
    /// version and its open file, checked as a request checks them.
    fn checked_file(
        &self,
        path: &str,
        hashed: bool,
    ) -> Result<(String, std::sync::Arc<CheckedVersion>, std::fs::File)> {
        // The one path rule, as for `cdnstatic!`: decoded once, made canonical.
        let relative =
            static_file_relative_path(path)?.ok_or_else(|| Error::HashOfAbsoluteUrl {
                url: path.to_owned(),
            })?;
        let canonical = canonical_static_path(&relative, HiddenFiles::Allowed)
            .map_err(|refused| refused.into_error(path))?;
        let (dir, file, version) = match find_static_file(&self.shared.dirs, &canonical.relative) {
            StaticFile::File { dir, file, version } => (dir, file, version),
            StaticFile::Refused { dir, why } => {
                return Err(why.into_error(
                    &canonical.relative,
                    &self.shared.dirs[dir].join(&canonical.relative),
                ))
            }
            StaticFile::Missing | StaticFile::Directory => {
                return Err(self.not_found(&canonical.relative, hashed))
            }
        };
        let checked = self
            .checked_blocking(dir, &canonical.relative, &file, version)
            .map_err(|error| Error::FileUnreadable {
                path: self.shared.dirs[dir].join(&canonical.relative),
                reason: error.to_string(),
            })?;
        Ok((canonical.relative, checked, file))
    }

    /// The error for a missing file, with the closest existing path as a suggestion.
    fn not_found(&self, relative: &str, hashed: bool) -> Error {
        let known = static_files_for_suggestion(&self.shared.dirs);
        let suggestion = closest(relative, known.iter().map(String::as_str)).map(str::to_owned);
        Error::StaticFileNotFound {
            path: relative.to_owned(),
            searched: self
                .shared
                .dirs
                .iter()
                .map(|dir| dir.display().to_string())
                .collect(),
            suggestion,
            hashed,
        }
    }
}
