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
    /// What changes whenever the checked-out revision changes.
    pub watch: RevisionWatch,
    /// The top of the work tree (git) or of the repository (Mercurial), if there is one: the
    /// files below it are those the revision may name.
    pub work_tree: Option<PathBuf>,
}

/// How cargo is made to see a new revision: files that change with it, or, where no existing
/// file does, a rebuild on every build (see [`crate::resolve::rebuild_marker`]).
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

#[cfg(test)]
impl VcsLookup {
    /// The revision, for tests that expect one.
    pub(crate) fn into_revision(self) -> VcsRevision {
        match self {
            VcsLookup::Revision(revision) => revision,
            other => panic!("expected a revision, found {other:?}"),
        }
    }
}
