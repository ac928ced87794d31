//! The checked-out git revision, and the files that change when it does.
//!
//! Two readers give the same facts (`GitCheckout`): libgit2 (feature `git2`, the default),
//! in process, and the `git` executable, which reads every repository git itself can. libgit2
//! reads most repositories; `git` is asked where libgit2 cannot (the reftable ref format and
//! SHA-256 object ids of git 2.45+, which git 3 plans as defaults; a `GIT_COMMON_DIR`), and
//! for everything when the `git2` feature is off. Both honour `GIT_DIR`, `GIT_WORK_TREE` and
//! `GIT_COMMON_DIR` as git does.
//!
//! What is tracked, and why (git-version tracks only `.git/logs/HEAD` of the work tree, which
//! misses linked worktrees, submodules, reflogs turned off and the first commit):
//!
//! With the `files` ref format (git's default until 3.0):
//! - `<git dir>/HEAD`: the worktree's own HEAD; changes on a branch switch or detached checkout.
//!   In a linked worktree the git dir is `.git/worktrees/<name>`, in a submodule
//!   `.git/modules/<name>` of the superproject.
//! - `<git dir>/logs/HEAD`: the worktree's HEAD reflog; one line is added on every commit,
//!   amend, reset and checkout, even when the branch ref lives in `packed-refs`.
//! - `<common dir>/refs/heads/<branch>`: the loose ref of the checked-out branch (branch refs
//!   are shared by all worktrees, so they live in the common dir); catches commits when reflogs
//!   are off (`core.logAllRefUpdates = false`).
//! - `<common dir>/packed-refs`: where the branch lives after `git pack-refs` or `git gc`.
//! - A branch that lives only in `packed-refs` while reflogs are off is the one state where no
//!   existing file changes on the next commit: git then creates the loose ref, and writes
//!   nothing else that every `git commit` and `git reset` would. The crate is rebuilt on every
//!   build until that commit (see [`crate::resolve::rebuild_marker`]); from then on the loose ref is
//!   tracked.
//!
//! With the `reftable` ref format, `.git/HEAD` never changes (it holds
//! `ref: refs/heads/.invalid`) and there is no `logs/HEAD`: every ref and reflog update adds a
//! table and rewrites `reftable/tables.list`, of the common dir (branches) and of a linked
//! worktree's own git dir (its HEAD). Both are tracked. A ref update that does not move HEAD
//! (a fetch, a tag, a commit in another worktree) also rewrites the shared list: the crate is
//! rebuilt with the same tag, never left stale.
//!
//! Before the first commit (or on an orphan branch), the commit creates the branch's ref and
//! `.git/HEAD` does not change: the crate is rebuilt on every build until there is a revision.
//!
//! `.git/index` is never tracked: it changes on `git add` and `git status` without the revision
//! changing, which would rebuild for nothing.

mod cli;
#[cfg(feature = "git2")]
mod libgit2;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::resolve::environment::GitEnvironment;
use crate::resolve::vcs::{RevisionWatch, VcsLookup, VcsRevision};
use crate::rules::error::{Error, Result};
use crate::rules::revision_manifest::ObjectFormat;

/// What a reader found: the repository's directories and its HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GitCheckout {
    /// The worktree's own git dir (`.git`, `.git/worktrees/<name>`, `.git/modules/<name>`).
    git_dir: PathBuf,
    /// Where the shared refs live: the main `.git` for a linked worktree, else the git dir.
    common_dir: PathBuf,
    /// The work tree, if the repository has one.
    work_tree: Option<PathBuf>,
    /// What HEAD points to.
    head: GitHead,
}

/// HEAD: a commit, or a branch that may not have one yet.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GitHead {
    /// A detached HEAD at this commit.
    Detached { id_hex: String },
    /// A branch (`refs/heads/main`) and its commit, `None` before its first commit.
    Branch {
        ref_name: String,
        id_hex: Option<String>,
    },
}

/// Why a reader gave no checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadFailure {
    /// No repository encloses the directory.
    NotFound,
    /// The repository belongs to another user, and git refuses to read it.
    NotOwned { path: PathBuf },
    /// The reader could not read the repository; what it said.
    Unreadable(String),
}

/// Looks for the git repository enclosing `start` (upwards, as git does, or where `GIT_DIR`
/// says) and reads its HEAD, through libgit2 where it can read the repository, else through
/// the `git` executable.
///
/// # Errors
/// [`Error::GitRepositoryNotOwned`] for a repository of another user (git refuses it too),
/// [`Error::GitRepositoryUnreadable`] for one that neither libgit2 nor git can read.
pub fn read_git_revision(start: &Path, environment: &GitEnvironment) -> Result<VcsLookup> {
    let checkout = read_checkout(start, environment)?;
    let Some(checkout) = checkout else {
        return Ok(VcsLookup::NotFound);
    };
    let watch = revision_watch(&checkout, || reflogs_enabled(start, environment, &checkout))?;
    let work_tree = checkout.work_tree.clone();
    let id_hex = match checkout.head {
        GitHead::Detached { id_hex }
        | GitHead::Branch {
            id_hex: Some(id_hex),
            ..
        } => id_hex,
        GitHead::Branch { id_hex: None, .. } => return Ok(VcsLookup::NoRevision { watch }),
    };
    Ok(VcsLookup::Revision(VcsRevision {
        id_hex,
        watch,
        work_tree,
    }))
}

fn read_checkout(start: &Path, environment: &GitEnvironment) -> Result<Option<GitCheckout>> {
    let not_owned = |path: PathBuf| Error::GitRepositoryNotOwned { path };
    // libgit2 cannot be told where the common dir is; git can.
    #[cfg(feature = "git2")]
    let libgit2_said = if environment.common_dir.is_none() {
        match libgit2::read(start, environment) {
            Ok(checkout) => return Ok(Some(checkout)),
            Err(ReadFailure::NotFound) => return Ok(None),
            Err(ReadFailure::NotOwned { path }) => return Err(not_owned(path)),
            Err(ReadFailure::Unreadable(reason)) => Some(reason),
        }
    } else {
        None
    };
    #[cfg(not(feature = "git2"))]
    let libgit2_said: Option<String> = None;

    match cli::read(start, environment) {
        Ok(checkout) => Ok(Some(checkout)),
        Err(ReadFailure::NotFound) => Ok(None),
        Err(ReadFailure::NotOwned { path }) => Err(not_owned(path)),
        Err(ReadFailure::Unreadable(git_said)) => Err(Error::GitRepositoryUnreadable {
            start: start.to_owned(),
            reason: match libgit2_said {
                Some(libgit2_said) => format!("git: {git_said}; libgit2: {libgit2_said}"),
                None => format!("git: {git_said}"),
            },
        }),
    }
}

/// The regular files of a commit at or below some paths of its work tree, with their blob
/// ids: what the revision names, for files whose bytes are these (see
/// `rules::revision_manifest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedTree {
    /// The hash function of the repository's object ids.
    pub object_format: ObjectFormat,
    /// Each regular file of the commit (mode `100644` or `100755`) at or below the paths, by
    /// its path from the top of the work tree (`/`-separated), with its blob id.
    pub blobs: CommittedBlobs,
    /// Every path the commit holds something at (a regular file, a link, a submodule) at or
    /// below the paths: what shadows a later static dir in the commit.
    pub held: HashSet<String>,
}

/// The blob ids of a commit's regular files by path, and every path it holds something at,
/// as each reader gives them.
type CommittedBlobs = HashMap<String, Vec<u8>>;
type CommittedEntries = (CommittedBlobs, HashSet<String>);

/// Reads the regular files of `commit_hex` (a full object id) at or below `paths` (from the
/// top of the work tree, `/`-separated, `""` for all of it: directories or files) in the
/// repository enclosing `start` (or the one the variables name), through libgit2 where it can
/// read the repository, else through the `git` executable.
///
/// Nothing is asked about the index or the work tree (`git status`): the caller compares the
/// bytes it finds with the blob ids, which no index flag (`--skip-worktree`,
/// `--assume-unchanged`), sparse checkout, checkout filter or racing commit can mislead.
///
/// # Errors
/// [`Error::GitRepositoryUnreadable`] if neither can read them.
pub fn read_committed_tree(
    start: &Path,
    environment: &GitEnvironment,
    work_tree: Option<&Path>,
    commit_hex: &str,
    paths: &[String],
) -> Result<CommittedTree> {
    let object_format = match commit_hex.len() {
        64 => ObjectFormat::Sha256,
        _ => ObjectFormat::Sha1,
    };
    // Nothing of the work tree to ask about (a listing without paths would be the whole
    // repository's).
    if paths.is_empty() {
        return Ok(CommittedTree {
            object_format,
            blobs: HashMap::new(),
            held: HashSet::new(),
        });
    }
    #[cfg(feature = "git2")]
    let libgit2_said = if environment.common_dir.is_none() {
        match libgit2::committed_tree(start, environment, commit_hex, paths) {
            Ok((blobs, held)) => {
                return Ok(CommittedTree {
                    object_format,
                    blobs,
                    held,
                })
            }
            Err(reason) => Some(reason),
        }
    } else {
        None
    };
    #[cfg(not(feature = "git2"))]
    let libgit2_said: Option<String> = None;
    cli::committed_tree(start, environment, work_tree, commit_hex, paths)
        .map(|(blobs, held)| CommittedTree {
            object_format,
            blobs,
            held,
        })
        .map_err(|git_said| Error::GitRepositoryUnreadable {
            start: start.to_owned(),
            reason: match libgit2_said {
                Some(libgit2_said) => format!("git: {git_said}; libgit2: {libgit2_said}"),
                None => format!("git: {git_said}"),
            },
        })
}

/// The repository's ref storage, told by what is on disk (a `reftable/` stack in the common
/// dir), so both readers agree without asking.
fn uses_reftable(common_dir: &Path) -> bool {
    common_dir.join("reftable").join("tables.list").is_file()
}

/// What to track so that the next build after HEAD moves sees it (see the module docs).
/// `reflogs_enabled` is asked only when the answer matters (a branch only in `packed-refs`).
fn revision_watch(
    checkout: &GitCheckout,
    reflogs_enabled: impl FnOnce() -> Result<bool>,
) -> Result<RevisionWatch> {
    let GitCheckout {
        git_dir,
        common_dir,
        head,
        ..
    } = checkout;
    let unborn = matches!(head, GitHead::Branch { id_hex: None, .. });
    if uses_reftable(common_dir) {
        let mut watch = RevisionWatch::existing([
            common_dir.join("reftable/tables.list"),
            git_dir.join("reftable/tables.list"),
        ]);
        watch.files.dedup();
        watch.rebuild_always = unborn;
        return Ok(watch);
    }
    let mut watch = RevisionWatch::existing([git_dir.join("HEAD"), git_dir.join("logs/HEAD")]);
    let reflog = git_dir.join("logs/HEAD");
    if let GitHead::Branch { ref_name, .. } = head {
        let loose_ref = common_dir.join(ref_name);
        let loose_ref_exists = loose_ref.is_file();
        watch
            .files
            .extend(RevisionWatch::existing([loose_ref, common_dir.join("packed-refs")]).files);
        // The next commit is announced by the loose ref, or else by the HEAD reflog if git
        // appends to it; with neither, nothing that exists will change.
        watch.rebuild_always =
            unborn || !(loose_ref_exists || (reflog.is_file() && reflogs_enabled()?));
    }
    Ok(watch)
}

/// Whether git appends to the reflogs, as `core.logAllRefUpdates` says: unset means yes in a
/// repository with a work tree (git's default), `false` (or `no`, `off`, `0`) means no.
fn reflogs_enabled(
    start: &Path,
    environment: &GitEnvironment,
    checkout: &GitCheckout,
) -> Result<bool> {
    #[cfg(feature = "git2")]
    let setting = libgit2::log_all_ref_updates(&checkout.git_dir)
        .or_else(|_| cli::log_all_ref_updates(start, environment));
    #[cfg(not(feature = "git2"))]
    let setting = cli::log_all_ref_updates(start, environment);
    let setting = setting.map_err(|reason| Error::GitRepositoryUnreadable {
        start: start.to_owned(),
        reason,
    })?;
    Ok(match setting {
        None => checkout.work_tree.is_some(),
        Some(value) => !matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "false" | "no" | "off" | "0" | ""
        ),
    })
}

#[cfg(test)]
mod tests;
