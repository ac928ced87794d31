//! The in-process reader: libgit2, through the `git2` crate. No process is spawned.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use git2::{ErrorCode, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use super::{CommittedEntries, GitCheckout, GitHead, ReadFailure};
use crate::resolve::environment::GitEnvironment;
use crate::rules::hash::to_hex;

/// Reads the checkout enclosing `start`, or the one `GIT_DIR` names.
pub(super) fn read(start: &Path, environment: &GitEnvironment) -> Result<GitCheckout, ReadFailure> {
    let opened = match &environment.git_dir {
        Some(git_dir) => Repository::open(git_dir),
        None => Repository::discover(start),
    };
    let repository = match opened {
        Ok(repository) => repository,
        Err(error) if error.code() == ErrorCode::Owner => {
            return Err(ReadFailure::NotOwned {
                path: owner_refused_path(&error).unwrap_or_else(|| start.to_owned()),
            })
        }
        // libgit2 says NotFound both when there is none and when a `.git` file points to a git
        // dir that is gone (a moved worktree or submodule); git calls the second an error. A
        // `.git` directory that is not a repository (empty, say) is skipped, as git skips it.
        Err(error)
            if error.code() == ErrorCode::NotFound
                && environment.git_dir.is_none()
                && !start
                    .ancestors()
                    .any(|directory| directory.join(".git").is_file()) =>
        {
            return Err(ReadFailure::NotFound)
        }
        Err(error) => return Err(ReadFailure::Unreadable(error.message().to_owned())),
    };
    let unreadable = |error: git2::Error| ReadFailure::Unreadable(error.message().to_owned());
    let head_ref = repository.find_reference("HEAD").map_err(unreadable)?;
    let head = match head_ref.symbolic_target_bytes() {
        Some(target) => {
            let ref_name = String::from_utf8(target.to_vec()).map_err(|_| {
                ReadFailure::Unreadable("HEAD names a branch that is not UTF-8".to_owned())
            })?;
            let id_hex = match repository.refname_to_id(&ref_name) {
                Ok(id) => Some(to_hex(id.as_bytes())),
                Err(error) if error.code() == ErrorCode::NotFound => None,
                Err(error) => return Err(unreadable(error)),
            };
            GitHead::Branch { ref_name, id_hex }
        }
        None => GitHead::Detached {
            id_hex: to_hex(
                head_ref
                    .target()
                    .ok_or_else(|| {
                        ReadFailure::Unreadable("HEAD does not resolve to a commit".to_owned())
                    })?
                    .as_bytes(),
            ),
        },
    };
    Ok(GitCheckout {
        git_dir: repository.path().to_owned(),
        common_dir: repository.commondir().to_owned(),
        work_tree: environment
            .work_tree
            .clone()
            .or_else(|| repository.workdir().map(Path::to_owned)),
        head,
    })
}

/// `core.logAllRefUpdates` as written, `None` if unset.
pub(super) fn log_all_ref_updates(git_dir: &Path) -> Result<Option<String>, String> {
    let config = Repository::open(git_dir)
        .and_then(|repository| repository.config())
        .map_err(|error| error.message().to_owned())?;
    match config.get_string("core.logAllRefUpdates") {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.code() == ErrorCode::NotFound => Ok(None),
        Err(error) => Err(error.message().to_owned()),
    }
}

/// The path in libgit2's "repository path '…' is not owned by current user".
fn owner_refused_path(error: &git2::Error) -> Option<PathBuf> {
    let message = error.message();
    let start = message.find('\'')? + 1;
    let end = start + message[start..].find('\'')?;
    Some(PathBuf::from(&message[start..end]))
}

/// The regular files of `commit_hex` at or below `paths` with their blob ids, and every path
/// it holds something at; what libgit2 said if it cannot.
pub(super) fn committed_tree(
    start: &Path,
    environment: &GitEnvironment,
    commit_hex: &str,
    paths: &[String],
) -> Result<CommittedEntries, String> {
    let message = |error: git2::Error| error.message().to_owned();
    let repository = match &environment.git_dir {
        Some(git_dir) => Repository::open(git_dir),
        None => Repository::discover(start),
    }
    .map_err(message)?;
    let commit = Oid::from_str(commit_hex)
        .and_then(|id| repository.find_commit(id))
        .map_err(message)?;
    let tree = commit.tree().map_err(message)?;
    // Regular files only (100644, 100755): a link's blob is its target's name.
    let is_regular = |entry: &git2::TreeEntry<'_>| {
        entry.kind() == Some(ObjectType::Blob) && matches!(entry.filemode(), 0o100_644 | 0o100_755)
    };
    let mut blobs = HashMap::new();
    let mut held = HashSet::new();
    for path in paths {
        let subtree = if path.is_empty() {
            tree.clone()
        } else {
            match tree.get_path(Path::new(path)) {
                Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
                    repository.find_tree(entry.id()).map_err(message)?
                }
                Ok(entry) => {
                    held.insert(path.clone());
                    if is_regular(&entry) {
                        blobs.insert(path.clone(), entry.id().as_bytes().to_vec());
                    }
                    continue;
                }
                // Not in the commit: nothing there is committed.
                Err(error) if error.code() == ErrorCode::NotFound => continue,
                Err(error) => return Err(message(error)),
            }
        };
        subtree
            .walk(TreeWalkMode::PreOrder, |parent, entry| {
                let Ok(name) = std::str::from_utf8(entry.name_bytes()) else {
                    return TreeWalkResult::Ok;
                };
                if entry.kind() == Some(ObjectType::Tree) {
                    return TreeWalkResult::Ok;
                }
                let full_path = match path.as_str() {
                    "" => format!("{parent}{name}"),
                    directory => format!("{directory}/{parent}{name}"),
                };
                if is_regular(entry) {
                    blobs.insert(full_path.clone(), entry.id().as_bytes().to_vec());
                }
                held.insert(full_path);
                TreeWalkResult::Ok
            })
            .map_err(message)?;
    }
    Ok((blobs, held))
}
