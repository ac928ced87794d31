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

/// Lower-case hex of `bytes` (a table lookup per nibble: `write!` per byte is slow in the
/// unoptimized builds proc macros usually get, and content-mode calls format a digest each).
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
    }
    hex
}
