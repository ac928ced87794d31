//! What a version control lookup found: a revision, or a repository without one, or nothing.

use std::path::PathBuf;

/// The outcome of looking for one kind of repository above a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcsLookup {
    /// No repository of this kind encloses the directory.
    NotFound,
    /// A repository encloses the directory but has no checked-out revision yet (no commit).
    /// The files listed change when the first commit is made, so tracking them rebuilds then.
    NoRevision {
        /// The repository's files whose change signals a new revision.
        tracked_files: Vec<PathBuf>,
    },
    /// The checked-out revision.
    Revision(VcsRevision),
}

/// A checked-out revision and the files that move when it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsRevision {
    /// The full revision id in lower-case hex (40 characters for git SHA-1 and Mercurial).
    pub id_hex: String,
    /// The repository root (the work tree of git, the directory holding `.hg`).
    pub repository_root: PathBuf,
    /// Files whose content changes whenever the checked-out revision changes; a rebuild must
    /// follow a change to any of them. Only files that exist are listed.
    pub tracked_files: Vec<PathBuf>,
}

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}
