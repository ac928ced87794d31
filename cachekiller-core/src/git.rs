//! The checked-out git revision, and the files that change when it does.
//!
//! Layouts, and why each tracked file is there (git-version tracks only `.git/logs/HEAD` of the
//! work tree, which misses linked worktrees and submodules, whose `.git` is a file):
//! - `<git dir>/HEAD`: the worktree's own HEAD; changes on a branch switch or detached checkout.
//!   In a linked worktree the git dir is `.git/worktrees/<name>`, in a submodule
//!   `.git/modules/<name>` of the superproject: git2's `Repository::path()` gives the right one.
//! - `<git dir>/logs/HEAD`: the worktree's HEAD reflog; one line is added on every commit, amend,
//!   reset and checkout, even when the branch ref lives in `packed-refs`.
//! - `<common dir>/refs/heads/<branch>`: the loose ref of the checked-out branch (branch refs are
//!   shared by all worktrees, so they live in the common dir); catches commits when reflogs are
//!   off (`core.logAllRefUpdates = false`).
//! - `<common dir>/packed-refs`: where the branch lives after `git pack-refs`.
//!
//! `.git/index` is not tracked when there is a commit: it changes on `git add` and `git status`
//! without the revision changing, which would rebuild for nothing.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Repository};

use crate::error::{Error, Result};
use crate::vcs::{to_hex, VcsLookup, VcsRevision};

/// Looks for the git repository enclosing `start` (upwards, as git does) and reads its HEAD.
///
/// # Errors
/// [`Error::GitRepositoryUnreadable`] if a repository is found but libgit2 cannot open it or
/// resolve its HEAD.
pub fn read_git_revision(start: &Path) -> Result<VcsLookup> {
    let unreadable = |error: &git2::Error| Error::GitRepositoryUnreadable {
        start: start.to_owned(),
        reason: error.message().to_owned(),
    };
    let repository = match Repository::discover(start) {
        Ok(repository) => repository,
        // libgit2 says NotFound both when there is no repository and when a `.git` file points
        // to a git dir that is gone (a moved worktree or submodule). The second is a broken
        // checkout: falling back to the build date would hide it, so it is an error.
        Err(error)
            if error.code() == ErrorCode::NotFound
                && !start
                    .ancestors()
                    .any(|directory| directory.join(".git").exists()) =>
        {
            return Ok(VcsLookup::NotFound)
        }
        Err(error) => return Err(unreadable(&error)),
    };
    let git_dir = repository.path().to_owned();
    let common_dir = repository.commondir().to_owned();

    let head = match repository.head() {
        Ok(head) => head,
        Err(error) if matches!(error.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
            // No commit yet: nothing that exists now moves on the first commit except the
            // index (`git add`, then `git commit` rewrites it). Rebuilding on `git add` is
            // harmless while there is no revision to keep.
            let tracked_files = existing([git_dir.join("HEAD"), git_dir.join("index")]);
            return Ok(VcsLookup::NoRevision { tracked_files });
        }
        Err(error) => return Err(unreadable(&error)),
    };
    let Some(commit_id) = head.target() else {
        return Err(Error::GitRepositoryUnreadable {
            start: start.to_owned(),
            reason: "HEAD does not resolve to a commit".to_owned(),
        });
    };

    let mut tracked_files = vec![git_dir.join("HEAD"), git_dir.join("logs").join("HEAD")];
    // `repository.head()` has already followed the symbolic ref; its name is the branch.
    if head.is_branch() {
        if let Ok(branch_ref) = head.name() {
            tracked_files.push(common_dir.join(branch_ref));
        }
    }
    tracked_files.push(common_dir.join("packed-refs"));

    Ok(VcsLookup::Revision(VcsRevision {
        id_hex: to_hex(commit_id.as_bytes()),
        repository_root: repository
            .workdir()
            .map_or_else(|| git_dir.clone(), Path::to_owned),
        tracked_files: existing(tracked_files),
    }))
}

/// Keeps the files that exist: `include_bytes!` of a missing file is a compile error, and a
/// file that appears later (a loose ref re-created after `pack-refs`) shows up in a file we do
/// track (`logs/HEAD`) or in the set the rebuilt expansion tracks.
fn existing(paths: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    paths.into_iter().filter(|path| path.is_file()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::git;
    use std::process::Command;

    fn revision(lookup: VcsLookup) -> VcsRevision {
        match lookup {
            VcsLookup::Revision(revision) => revision,
            other => panic!("expected a revision, found {other:?}"),
        }
    }

    #[test]
    fn reads_head_like_git_rev_parse_from_a_subdirectory() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        std::fs::create_dir_all(repo.path().join("crates/web")).unwrap();
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);

        let found = revision(read_git_revision(&repo.path().join("crates/web")).unwrap());
        assert_eq!(found.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
        let git_dir = repo.path().join(".git");
        assert_eq!(
            found.tracked_files,
            [
                git_dir.join("HEAD"),
                git_dir.join("logs/HEAD"),
                git_dir.join("refs/heads/main")
            ]
        );
    }

    #[test]
    fn follows_packed_refs_and_detached_heads() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
        git(repo.path(), &["pack-refs", "--all", "--prune"]);
        let git_dir = repo.path().join(".git");

        let packed = revision(read_git_revision(repo.path()).unwrap());
        assert_eq!(packed.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
        assert!(!git_dir.join("refs/heads/main").exists());
        assert_eq!(
            packed.tracked_files,
            [
                git_dir.join("HEAD"),
                git_dir.join("logs/HEAD"),
                git_dir.join("packed-refs")
            ]
        );

        git(repo.path(), &["checkout", "-q", "--detach", "HEAD~1"]);
        let detached = revision(read_git_revision(repo.path()).unwrap());
        assert_eq!(detached.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
        assert_ne!(detached.id_hex, packed.id_hex);
    }

    #[test]
    fn a_linked_worktree_tracks_its_own_head_and_the_shared_refs() {
        let repo = tempfile::tempdir().unwrap();
        let main = repo.path().join("main");
        std::fs::create_dir(&main).unwrap();
        git(&main, &["init", "-q"]);
        git(&main, &["commit", "-q", "--allow-empty", "-m", "one"]);
        git(
            &main,
            &["worktree", "add", "-q", "-b", "feature", "../feature"],
        );
        let worktree = repo.path().join("feature");
        git(
            &worktree,
            &["commit", "-q", "--allow-empty", "-m", "on feature"],
        );

        let found = revision(read_git_revision(&worktree).unwrap());
        assert_eq!(found.id_hex, git(&worktree, &["rev-parse", "HEAD"]));
        assert_ne!(found.id_hex, git(&main, &["rev-parse", "HEAD"]));
        let worktree_git_dir = main.join(".git/worktrees/feature");
        assert_eq!(
            found.tracked_files,
            [
                worktree_git_dir.join("HEAD"),
                worktree_git_dir.join("logs/HEAD"),
                main.join(".git/refs/heads/feature")
            ]
        );
    }

    #[test]
    fn a_repository_without_commits_has_no_revision() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        assert_eq!(
            read_git_revision(repo.path()).unwrap(),
            VcsLookup::NoRevision {
                tracked_files: vec![repo.path().join(".git/HEAD")]
            }
        );
    }

    #[test]
    fn no_repository_is_not_an_error() {
        let outside = tempfile::tempdir().unwrap();
        // A temporary directory may itself sit inside a repository on a developer machine;
        // only assert when git agrees there is none.
        let inside_git = Command::new("git")
            .args(["rev-parse", "--git-dir"])
            .current_dir(outside.path())
            .output()
            .unwrap()
            .status
            .success();
        if !inside_git {
            assert_eq!(
                read_git_revision(outside.path()).unwrap(),
                VcsLookup::NotFound
            );
        }
    }

    #[test]
    fn a_broken_repository_is_an_error_that_names_the_way_out() {
        // (how the checkout is broken, what libgit2 says about it)
        let layouts: &[(&str, &str)] = &[
            (
                "a .git file pointing to a git dir that is gone",
                "failed to resolve path",
            ),
            ("a corrupted branch ref", "corrupted loose reference"),
            ("an unparsable .git/config", "failed to parse config file"),
        ];
        for &(layout, libgit2_says) in layouts {
            let repo = tempfile::tempdir().unwrap();
            let git_dir = repo.path().join(".git");
            if layout.starts_with("a .git file") {
                std::fs::write(&git_dir, "gitdir: /nonexistent/cachekiller\n").unwrap();
            } else {
                git(repo.path(), &["init", "-q"]);
                git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
                if layout.contains("ref") {
                    std::fs::write(git_dir.join("refs/heads/main"), "zz\n").unwrap();
                } else {
                    std::fs::write(git_dir.join("config"), "[core\n").unwrap();
                }
            }
            let error = read_git_revision(repo.path()).unwrap_err();
            assert!(
                matches!(error, Error::GitRepositoryUnreadable { .. }),
                "{layout}: {error:?}"
            );
            let message = error.to_string();
            assert!(message.contains(libgit2_says), "{layout}: {message}");
            assert!(
                message.contains("set CACHEKILLER_TAG"),
                "{layout}: {message}"
            );
        }
    }
}
