//! The run-time API: the URL and the integrity `cdnstatic!` and `cdnintegrity!` give, for
//! templates read at run time (`MiniJinja`, Tera, Handlebars), which cannot call a proc macro.
//! Made by the same rules from the same settings (`cdnsettings!()`) and the same checked
//! bytes the service sends, through the service's cache: a URL asked for here is answered
//! `immutable` by the service.

use std::time::Duration;

use super::error::ServeResult;
use super::memo::ExpiringMemo;
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
const URL_LIFETIME: Duration = Duration::from_secs(1);

/// The most URLs remembered; beyond it the memo starts over.
const MEMO_ENTRIES: usize = 10_000;

/// A memo of values made from the run-time URLs, as long as the service keeps those.
pub(crate) fn url_memo<V: Clone>() -> ExpiringMemo<String, V> {
    ExpiringMemo::new(URL_LIFETIME, MEMO_ENTRIES)
}

/// Made URLs by the path asked for, and integrities by algorithm and path.
#[derive(Debug)]
pub(crate) struct UrlMemo {
    urls: ExpiringMemo<String, String>,
    /// One memo per algorithm, in the order of [`INTEGRITY_ALGORITHMS`].
    integrities: [ExpiringMemo<String, String>; 3],
}

const INTEGRITY_ALGORITHMS: [IntegrityAlgorithm; 3] = [
    IntegrityAlgorithm::Sha256,
    IntegrityAlgorithm::Sha384,
    IntegrityAlgorithm::Sha512,
];

impl Default for UrlMemo {
    fn default() -> Self {
        UrlMemo {
            urls: url_memo(),
            integrities: [url_memo(), url_memo(), url_memo()],
        }
    }
}

impl UrlMemo {
    fn integrities(&self, algorithm: IntegrityAlgorithm) -> &ExpiringMemo<String, String> {
        let index = INTEGRITY_ALGORITHMS
            .iter()
            .position(|known| *known == algorithm)
            .unwrap_or(1);
        &self.integrities[index]
    }
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
        Ok(self
            .shared
            .urls
            .urls
            .get_or_make(path, || self.make_url(path))?)
    }

    /// The integrity metadata `cdnintegrity!(path, algorithm = …)` gives (`"sha384-…"`): the
    /// digest of the bytes the service sends.
    ///
    /// # Errors
    /// As [`StaticFiles::url`].
    pub fn integrity(&self, path: &str, algorithm: IntegrityAlgorithm) -> ServeResult<String> {
        Ok(self
            .shared
            .urls
            .integrities(algorithm)
            .get_or_make(path, || {
                let bytes = self.checked_bytes(path, true)?;
                Ok::<_, Error>(integrity_metadata(
                    &digest_of_bytes(&bytes, algorithm.digest()),
                    algorithm,
                ))
            })?)
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
        match (&checked.bytes, file) {
            (Some(bytes), _) => Ok(bytes.clone()),
            // Too large to hold: read for this call (the macros hash it as a whole too).
            (None, None) => Err(Error::FileUnreadable {
                path: relative.into(),
                reason: "no bytes held and no file open".to_owned(),
            }),
            (None, Some(file)) => super::versions::read_all(&file, checked.length)
                .map(bytes::Bytes::from)
                .map_err(|error| Error::FileUnreadable {
                    path: relative.into(),
                    reason: error.to_string(),
                }),
        }
    }

    /// The canonical static path of `path` (its query and fragment ignored), its checked
    /// version and its open file (none for an embedded file), checked as a request checks
    /// them.
    fn checked_file(
        &self,
        path: &str,
        hashed: bool,
    ) -> Result<(
        String,
        std::sync::Arc<CheckedVersion>,
        Option<std::fs::File>,
    )> {
        // The one path rule, as for `cdnstatic!`: decoded once, made canonical.
        let relative =
            static_file_relative_path(path)?.ok_or_else(|| Error::HashOfAbsoluteUrl {
                url: path.to_owned(),
            })?;
        let canonical = canonical_static_path(&relative, HiddenFiles::Allowed)
            .map_err(|refused| refused.into_error(path))?;
        let embedded = self
            .shared
            .embedded
            .as_ref()
            .and_then(|table| table.checked_at(&canonical.relative));
        if let Some(checked) = embedded {
            return Ok((canonical.relative, checked, None));
        }
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
        Ok((canonical.relative, checked, Some(file)))
    }

    /// The error for a missing file, with the closest existing path as a suggestion.
    fn not_found(&self, relative: &str, hashed: bool) -> Error {
        let mut known = static_files_for_suggestion(&self.shared.dirs);
        if let Some(table) = &self.shared.embedded {
            known.extend(table.files().iter().map(|file| file.path().to_owned()));
        }
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
