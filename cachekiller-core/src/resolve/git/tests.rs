//! Each layout against `git rev-parse HEAD`, through both readers where libgit2 can read it.

use super::*;
use crate::resolve::vcs::VcsRevision;
use crate::test_support::{
    assert_git_at_least, assert_outside_any_repository, git, git_with_env, give_to_another_user,
};

fn read(start: &Path) -> VcsRevision {
    read_git_revision(start, &GitEnvironment::default())
        .unwrap()
        .into_revision()
}

fn init(directory: &Path, args: &[&str]) {
    std::fs::create_dir_all(directory).unwrap();
    let mut full = vec!["init", "-q"];
    full.extend_from_slice(args);
    git(directory, &full);
}

fn commit(directory: &Path, message: &str) {
    git(directory, &["commit", "-q", "--allow-empty", "-m", message]);
}

/// `root/main`, a repository (made with `init_options`) with a commit, and `root/feature`, its
/// linked worktree on branch `feature` with a commit of its own.
fn main_and_feature_worktree(root: &Path, init_options: &[&str]) -> (PathBuf, PathBuf) {
    let main = root.join("main");
    init(&main, init_options);
    commit(&main, "one");
    git(
        &main,
        &["worktree", "add", "-q", "-b", "feature", "../feature"],
    );
    let worktree = root.join("feature");
    commit(&worktree, "on feature");
    (main, worktree)
}

#[test]
fn reads_head_like_git_rev_parse_from_a_subdirectory() {
    let repo = tempfile::tempdir().unwrap();
    init(repo.path(), &[]);
    std::fs::create_dir_all(repo.path().join("crates/web")).unwrap();
    commit(repo.path(), "one");
    commit(repo.path(), "two");

    let found = read(&repo.path().join("crates/web"));
    assert_eq!(found.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
    let git_dir = repo.path().join(".git");
    assert_eq!(
        found.watch,
        RevisionWatch {
            files: vec![
                git_dir.join("HEAD"),
                git_dir.join("logs/HEAD"),
                git_dir.join("refs/heads/main")
            ],
            rebuild_always: false
        }
    );
}

#[test]
fn follows_packed_refs_and_detached_heads() {
    let repo = tempfile::tempdir().unwrap();
    init(repo.path(), &[]);
    commit(repo.path(), "one");
    commit(repo.path(), "two");
    git(repo.path(), &["pack-refs", "--all", "--prune"]);
    let git_dir = repo.path().join(".git");

    let packed = read(repo.path());
    assert_eq!(packed.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
    assert!(!git_dir.join("refs/heads/main").exists());
    assert_eq!(
        packed.watch,
        RevisionWatch {
            files: vec![
                git_dir.join("HEAD"),
                git_dir.join("logs/HEAD"),
                git_dir.join("packed-refs")
            ],
            rebuild_always: false
        },
        "the reflog announces the next commit"
    );

    git(repo.path(), &["checkout", "-q", "--detach", "HEAD~1"]);
    let detached = read(repo.path());
    assert_eq!(detached.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
    assert_ne!(detached.id_hex, packed.id_hex);
}

#[test]
fn a_packed_branch_with_reflogs_off_rebuilds_until_the_next_commit() {
    let repo = tempfile::tempdir().unwrap();
    init(repo.path(), &[]);
    git(repo.path(), &["config", "core.logAllRefUpdates", "false"]);
    commit(repo.path(), "one");
    git(repo.path(), &["pack-refs", "--all", "--prune"]);
    let packed = read(repo.path());
    assert_eq!(packed.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
    assert!(
        packed.watch.rebuild_always,
        "no existing file changes on the next commit"
    );

    // The commit creates the loose ref, which is tracked from then on.
    commit(repo.path(), "two");
    let loose = read(repo.path());
    assert_eq!(loose.id_hex, git(repo.path(), &["rev-parse", "HEAD"]));
    assert!(!loose.watch.rebuild_always);
    assert!(loose
        .watch
        .files
        .contains(&repo.path().join(".git/refs/heads/main")));
}

#[test]
fn a_linked_worktree_tracks_its_own_head_and_the_shared_refs() {
    let repo = tempfile::tempdir().unwrap();
    let (main, worktree) = main_and_feature_worktree(repo.path(), &[]);

    let found = read(&worktree);
    assert_eq!(found.id_hex, git(&worktree, &["rev-parse", "HEAD"]));
    assert_ne!(found.id_hex, git(&main, &["rev-parse", "HEAD"]));
    let worktree_git_dir = main.join(".git/worktrees/feature");
    assert_eq!(
        found.watch.files,
        [
            worktree_git_dir.join("HEAD"),
            worktree_git_dir.join("logs/HEAD"),
            main.join(".git/refs/heads/feature")
        ]
    );
}

#[test]
fn a_repository_without_commits_rebuilds_until_the_first() {
    let repo = tempfile::tempdir().unwrap();
    init(repo.path(), &[]);
    let expected = VcsLookup::NoRevision {
        watch: RevisionWatch {
            files: vec![repo.path().join(".git/HEAD")],
            rebuild_always: true,
        },
    };
    assert_eq!(
        read_git_revision(repo.path(), &GitEnvironment::default()).unwrap(),
        expected
    );
    // An orphan branch of a repository with commits is the same state.
    commit(repo.path(), "one");
    git(repo.path(), &["checkout", "-q", "--orphan", "fresh"]);
    let orphan = read_git_revision(repo.path(), &GitEnvironment::default()).unwrap();
    assert!(
        matches!(&orphan, VcsLookup::NoRevision { watch } if watch.rebuild_always),
        "{orphan:?}"
    );
}

#[test]
fn no_repository_is_not_an_error() {
    let outside = tempfile::tempdir().unwrap();
    assert_outside_any_repository(outside.path());
    assert_eq!(
        read_git_revision(outside.path(), &GitEnvironment::default()).unwrap(),
        VcsLookup::NotFound
    );
}

#[test]
fn an_empty_git_directory_is_not_a_repository_as_for_git() {
    let outside = tempfile::tempdir().unwrap();
    assert_outside_any_repository(outside.path());
    std::fs::create_dir(outside.path().join(".git")).unwrap();
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .current_dir(outside.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not a git repository"),
        "the oracle: git calls it no repository"
    );
    assert_eq!(
        read_git_revision(outside.path(), &GitEnvironment::default()).unwrap(),
        VcsLookup::NotFound
    );
}

#[test]
fn a_broken_repository_is_an_error_that_names_the_way_out() {
    // (how the checkout is broken, what git says about it)
    let layouts: &[(&str, &str)] = &[
        (
            "a .git file pointing to a git dir that is gone",
            "not a git repository: /nonexistent/cachekiller",
        ),
        ("a corrupted branch ref", "HEAD"),
        ("an unparsable .git/config", "bad config line 1"),
    ];
    for &(layout, git_says) in layouts {
        let repo = tempfile::tempdir().unwrap();
        let git_dir = repo.path().join(".git");
        if layout.starts_with("a .git file") {
            std::fs::write(&git_dir, "gitdir: /nonexistent/cachekiller\n").unwrap();
        } else {
            init(repo.path(), &[]);
            commit(repo.path(), "one");
            if layout.contains("ref") {
                std::fs::write(git_dir.join("refs/heads/main"), "zz\n").unwrap();
            } else {
                std::fs::write(git_dir.join("config"), "[core\n").unwrap();
            }
        }
        let error = read_git_revision(repo.path(), &GitEnvironment::default()).unwrap_err();
        assert!(
            matches!(error, Error::GitRepositoryUnreadable { .. }),
            "{layout}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(git_says), "{layout}: {message}");
        assert!(
            message.contains("set CACHEKILLER_TAG"),
            "{layout}: {message}"
        );
    }
}

/// git 2.45+ makes repositories libgit2 cannot open; git 3 plans them as defaults. (The
/// end-to-end tests check the version the same way; core's tests cannot share their helper.)
fn assert_git_makes_git3_formats() {
    assert_git_at_least(2, 45, "reftable and SHA-256 repositories");
}

#[test]
fn reftable_and_sha256_repositories_read_like_git_rev_parse() {
    assert_git_makes_git3_formats();
    for format in [
        &["--ref-format=reftable"][..],
        &["--object-format=sha256"],
        &["--ref-format=reftable", "--object-format=sha256"],
    ] {
        let repo = tempfile::tempdir().unwrap();
        init(repo.path(), format);
        commit(repo.path(), "one");
        commit(repo.path(), "two");
        let found = read(repo.path());
        let head = git(repo.path(), &["rev-parse", "HEAD"]);
        assert_eq!(found.id_hex, head, "{format:?}");
        let expected_length = if format.contains(&"--object-format=sha256") {
            64
        } else {
            40
        };
        assert_eq!(found.id_hex.len(), expected_length, "{format:?}");
        let git_dir = repo.path().join(".git");
        let expected_files = if format.contains(&"--ref-format=reftable") {
            vec![git_dir.join("reftable/tables.list")]
        } else {
            vec![
                git_dir.join("HEAD"),
                git_dir.join("logs/HEAD"),
                git_dir.join("refs/heads/main"),
            ]
        };
        assert_eq!(found.watch.files, expected_files, "{format:?}");
        assert!(!found.watch.rebuild_always);
    }
}

#[test]
fn a_reftable_repository_without_commits_rebuilds_until_the_first() {
    assert_git_makes_git3_formats();
    let repo = tempfile::tempdir().unwrap();
    init(
        repo.path(),
        &["--ref-format=reftable", "--object-format=sha256"],
    );
    let lookup = read_git_revision(repo.path(), &GitEnvironment::default()).unwrap();
    assert_eq!(
        lookup,
        VcsLookup::NoRevision {
            watch: RevisionWatch {
                files: vec![repo.path().join(".git/reftable/tables.list")],
                rebuild_always: true,
            }
        }
    );
    commit(repo.path(), "first");
    assert_eq!(
        read(repo.path()).id_hex,
        git(repo.path(), &["rev-parse", "HEAD"])
    );
}

#[test]
fn a_reftable_worktree_tracks_its_own_table_list_too() {
    assert_git_makes_git3_formats();
    let repo = tempfile::tempdir().unwrap();
    let (main, worktree) = main_and_feature_worktree(repo.path(), &["--ref-format=reftable"]);
    let found = read(&worktree);
    assert_eq!(found.id_hex, git(&worktree, &["rev-parse", "HEAD"]));
    assert_eq!(
        found.watch.files,
        [
            main.join(".git/reftable/tables.list"),
            main.join(".git/worktrees/feature/reftable/tables.list")
        ]
    );
}

#[test]
fn git_dir_work_tree_and_common_dir_are_honoured_as_git_honours_them() {
    let root = tempfile::tempdir().unwrap();
    let git_dir = root.path().join("store/site.git");
    let work_tree = root.path().join("checkout");
    std::fs::create_dir_all(&work_tree).unwrap();
    std::fs::create_dir_all(&git_dir).unwrap();
    let environment = GitEnvironment {
        git_dir: Some(git_dir.clone()),
        work_tree: Some(work_tree.clone()),
        common_dir: None,
    };
    git_with_env(&work_tree, &environment, &["init", "-q"]);
    git_with_env(
        &work_tree,
        &environment,
        &["commit", "-q", "--allow-empty", "-m", "one"],
    );
    assert!(!work_tree.join(".git").exists());
    let expected = git_with_env(&work_tree, &environment, &["rev-parse", "HEAD"]);

    let found = read_git_revision(&work_tree, &environment)
        .unwrap()
        .into_revision();
    assert_eq!(found.id_hex, expected);
    assert!(found.watch.files.contains(&git_dir.join("HEAD")));
    assert_eq!(
        read_git_revision(&work_tree, &GitEnvironment::default()).unwrap(),
        VcsLookup::NotFound,
        "without the variables, git finds nothing either"
    );

    // A linked worktree's git dir with GIT_COMMON_DIR given: read through `git`.
    let main = root.path().join("main");
    init(&main, &[]);
    commit(&main, "one");
    git(&main, &["worktree", "add", "-q", "-b", "side", "../side"]);
    commit(&root.path().join("side"), "on side");
    let with_common_dir = GitEnvironment {
        git_dir: Some(main.join(".git/worktrees/side")),
        work_tree: Some(root.path().join("side")),
        common_dir: Some(main.join(".git")),
    };
    let found = read_git_revision(&work_tree, &with_common_dir)
        .unwrap()
        .into_revision();
    assert_eq!(
        found.id_hex,
        git(&root.path().join("side"), &["rev-parse", "HEAD"])
    );
    assert!(found
        .watch
        .files
        .contains(&main.join(".git/refs/heads/side")));
}

#[cfg(feature = "git2")]
#[test]
fn libgit2_and_git_read_the_same_checkout() {
    let repo = tempfile::tempdir().unwrap();
    let main = repo.path().join("main");
    init(&main, &[]);
    commit(&main, "one");
    git(&main, &["worktree", "add", "-q", "-b", "b", "../wt"]);
    let unborn = repo.path().join("unborn");
    init(&unborn, &[]);
    let detached = repo.path().join("detached");
    init(&detached, &[]);
    commit(&detached, "one");
    git(&detached, &["checkout", "-q", "--detach"]);
    git(repo.path(), &["clone", "-q", "--bare", "main", "bare.git"]);
    let bare = repo.path().join("bare.git");
    for start in [main.clone(), repo.path().join("wt"), unborn, detached, bare] {
        let environment = GitEnvironment::default();
        assert_eq!(
            libgit2::read(&start, &environment).unwrap(),
            cli::read(&start, &environment).unwrap(),
            "{}",
            start.display()
        );
    }
}

#[test]
fn a_repository_of_another_user_is_refused_with_the_ways_out() {
    let repo = tempfile::tempdir().unwrap();
    init(repo.path(), &[]);
    commit(repo.path(), "one");
    give_to_another_user(repo.path());
    let error = read_git_revision(repo.path(), &GitEnvironment::default()).unwrap_err();
    assert!(
        matches!(&error, Error::GitRepositoryNotOwned { path } if repo.path().starts_with(path) || path.starts_with(repo.path())),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("git config --global --add safe.directory"),
        "{message}"
    );
    assert!(message.contains("CACHEKILLER_TAG"), "{message}");
}
