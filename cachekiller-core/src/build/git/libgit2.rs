//! The in-process reader: libgit2, through the `git2` crate. No process is spawned.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Repository};

use super::{GitCheckout, GitHead, ReadFailure};
use crate::build::environment::GitEnvironment;
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
