//! What the service and its run-time URL API can fail with: an error of its own, as
//! `std::io::Error` is, with a kind to match on and a message that says what was looked at
//! and how to fix it (the same words the macros use for the same mistake at compile time).

use std::fmt;

use crate::rules::error::Error;

/// A failure of [`StaticFiles::new`](super::StaticFiles::new),
/// [`in_root`](super::StaticFiles::in_root), [`url`](super::StaticFiles::url) or
/// [`integrity`](super::StaticFiles::integrity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeError {
    kind: ServeErrorKind,
    cause: Box<Error>,
}

/// What went wrong, in kinds a server can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServeErrorKind {
    /// A static dir that is missing or not a directory (at start-up).
    StaticDir,
    /// Settings the service cannot serve with: several static dirs for `new`, a revision
    /// manifest `cdnsettings!()` did not make.
    Settings,
    /// A path that names no file in the static dirs (the message names the closest one).
    NotFound,
    /// A path the one path rule refuses (`..`, a NUL byte, a backslash, `%2F`), or one that
    /// names what is not served (a link leading out of the static dirs, a directory, a FIFO).
    InvalidPath,
    /// A file that cannot be read.
    Unreadable,
    /// A URL that cannot be made: an absolute URL with a content tag or the tag in its file
    /// name, a tag with a `.` in a file name.
    InvalidUrl,
}

impl ServeError {
    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> ServeErrorKind {
        self.kind
    }
}

impl From<Error> for ServeError {
    fn from(cause: Error) -> Self {
        let kind = match &cause {
            Error::StaticDirUnusable { .. } => ServeErrorKind::StaticDir,
            Error::SeveralStaticDirs { .. } | Error::InvalidRevisionManifest { .. } => {
                ServeErrorKind::Settings
            }
            Error::StaticFileNotFound { .. } => ServeErrorKind::NotFound,
            Error::FileUnreadable { .. } => ServeErrorKind::Unreadable,
            Error::HashOfAbsoluteUrl { .. }
            | Error::TagInNameOfAbsoluteUrl { .. }
            | Error::TagWithDotInName { .. } => ServeErrorKind::InvalidUrl,
            _ => ServeErrorKind::InvalidPath,
        };
        ServeError {
            kind,
            cause: Box::new(cause),
        }
    }
}

impl fmt::Display for ServeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cause.fmt(formatter)
    }
}

impl std::error::Error for ServeError {}

/// A result of the service.
pub type ServeResult<T> = std::result::Result<T, ServeError>;
