//! What can go wrong with the archive: each variant names the operation and the key (or the
//! name given), so that a caller can log it and fall back to the current bytes.

use std::fmt;
use std::time::Duration;

/// A failure of the archive. None of them is ever answered with bytes: a caller logs it and
/// serves what it would have served without an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The store refused a request or could not be reached.
    Store {
        /// What the archive was doing, such as `list` or `put`.
        operation: &'static str,
        /// The key (or prefix) of the request.
        key: String,
        /// What the store's client said.
        reason: String,
    },
    /// The store did not answer within the archive's timeout.
    Timeout {
        /// What the archive was doing.
        operation: &'static str,
        /// The key (or prefix) of the request, or the static path of a lookup.
        key: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// A static path, revision or tag that cannot name an archived version.
    InvalidName {
        /// What the name is: `static path` or `revision`.
        kind: &'static str,
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An object whose bytes do not hash to the SHA-1 that names it: a corrupted or tampered
    /// store. Its bytes are never returned.
    Corrupted {
        /// The object's key.
        key: String,
        /// The SHA-1 it is recorded under.
        expected: String,
        /// The SHA-1 (or the size) of what the store holds.
        found: String,
    },
    /// A revision's manifest that cannot be read.
    InvalidManifest {
        /// The manifest's key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A record (a path record or a manifest) without a valid MAC under the archive's signing
    /// key: written by someone who does not hold it. Ignored.
    Unsigned {
        /// The record's key.
        key: String,
    },
    /// `StaticFiles::publish` on a service given no archive (`StaticFiles::archive`).
    NoArchive,
    /// An archive URL or option that cannot be used.
    Configuration {
        /// The URL as given.
        url: String,
        /// What is wrong, and what is accepted.
        reason: String,
    },
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Store {
                operation,
                key,
                reason,
            } => write!(formatter, "archive: {operation} `{key}` failed: {reason}"),
            ArchiveError::Timeout {
                operation,
                key,
                after,
            } => write!(
                formatter,
                "archive: {operation} `{key}` did not answer within {after:?}"
            ),
            ArchiveError::InvalidName { kind, name, reason } => {
                write!(formatter, "archive: the {kind} {name:?} {reason}")
            }
            ArchiveError::Corrupted {
                key,
                expected,
                found,
            } => write!(
                formatter,
                "archive: `{key}` is corrupted: recorded as {expected}, holds {found}; \
                 its bytes are never served (delete the object to let a publish store it again)"
            ),
            ArchiveError::InvalidManifest { key, reason } => {
                write!(
                    formatter,
                    "archive: the manifest `{key}` cannot be read: {reason}"
                )
            }
            ArchiveError::Unsigned { key } => write!(
                formatter,
                "archive: `{key}` is not signed with the site's key: ignored (a writer to the \
                 store who does not hold the key cannot make any bytes a version of the site)"
            ),
            ArchiveError::NoArchive => write!(
                formatter,
                "archive: the static file service has none to publish to: give it one with \
                 `StaticFiles::archive`"
            ),
            ArchiveError::Configuration { url, reason } => {
                write!(formatter, "archive: cannot use {url:?}: {reason}")
            }
        }
    }
}

impl std::error::Error for ArchiveError {}

/// A result of the archive.
pub type ArchiveResult<T> = std::result::Result<T, ArchiveError>;
