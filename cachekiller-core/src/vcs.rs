//! What a version control lookup found: a revision, or a repository without one, or nothing;
//! and what must be watched to see the revision change.

use std::path::PathBuf;

/// The outcome of looking for one kind of repository above a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcsLookup {
    /// No repository of this kind encloses the directory.
    NotFound,
    /// A repository encloses the directory but has no checked-out revision yet (no commit).
    NoRevision {
        /// What changes when the first revision appears.
        watch: RevisionWatch,
    },
    /// The checked-out revision.
    Revision(VcsRevision),
}

/// A checked-out revision and what moves when it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsRevision {
    /// The full revision id in lower-case hex (40 characters for git SHA-1 and Mercurial, 64
    /// for git SHA-256).
    pub id_hex: String,
    /// The repository root (the work tree of git, the directory holding `.hg`).
    pub repository_root: PathBuf,
    /// What changes whenever the checked-out revision changes.
    pub watch: RevisionWatch,
}

/// How cargo is made to see a new revision: files that change with it, or, where no existing
/// file does, a rebuild on every build (see [`crate::rebuild_marker`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionWatch {
    /// Files whose content changes whenever the revision does. Only files that exist are
    /// listed: `include_bytes!` of a missing file is a compile error.
    pub files: Vec<PathBuf>,
    /// True if no existing file is sure to change with the next revision, so the crate must be
    /// rebuilt on every build until it does.
    pub rebuild_always: bool,
}

impl RevisionWatch {
    /// Watches the files of `paths` that exist.
    #[must_use]
    pub fn existing(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        RevisionWatch {
            files: paths.into_iter().filter(|path| path.is_file()).collect(),
            rebuild_always: false,
        }
    }
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
