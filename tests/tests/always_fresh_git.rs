//! After each change to a git repository that moves HEAD, and nothing else, the next
//! `cargo build` rebuilds the crate and it prints `git rev-parse HEAD` cut to 14 characters;
//! with no change, the next build reuses the artifact.

use std::fs;
use std::path::Path;

use cachekiller_tests::oracle::{git, git_head, static_files_digest};
use cachekiller_tests::scratch::{
    assert_rebuilt_with_tag, commit_crate_in_new_repository, ScratchCrate, PRINT_TAG_AND_URL,
};

fn short_head(directory: &Path) -> String {
    git_head(directory)[..14].to_owned()
}

/// A repository whose first commit holds a scratch crate at `crate_path`.
fn repository_with_crate(root: &Path, name: &str) -> ScratchCrate {
    commit_crate_in_new_repository(root, name, PRINT_TAG_AND_URL, "", |_| {})
}

#[test]
fn commit_amend_empty_commit_and_branch_switch() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = repository_with_crate(repo.path(), "fresh_git_commits");
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    fs::write(repo.path().join("notes.txt"), "one").unwrap();
    git(repo.path(), &["add", "notes.txt"]);
    git(repo.path(), &["commit", "-q", "-m", "a commit"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    git(
        repo.path(),
        &["commit", "-q", "--amend", "-m", "the commit, amended"],
    );
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "an empty commit"],
    );
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    git(repo.path(), &["switch", "-q", "-c", "older", "HEAD~1"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);
}

#[test]
fn detached_checkout_pack_refs_and_reset() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = repository_with_crate(repo.path(), "fresh_git_refs");
    for message in ["two", "three"] {
        git(
            repo.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
    }
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    git(repo.path(), &["checkout", "-q", "--detach", "HEAD~2"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);
    git(repo.path(), &["checkout", "-q", "main"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    // The loose ref the last expansion tracked is deleted: cargo must rebuild (a tracked file
    // is gone) and the new expansion must track packed-refs instead. Same tag, so only the
    // rebuild is checked here; the commit after it must then be seen.
    git(repo.path(), &["pack-refs", "--all", "--prune"]);
    assert!(!repo.path().join(".git/refs/heads/main").exists());
    let report = scratch.build();
    assert!(!report.fresh, "a deleted tracked ref must rebuild");
    assert!(scratch.build().fresh);
    git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "after pack-refs"],
    );
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    git(repo.path(), &["reset", "-q", "--hard", "HEAD~1"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);
}

#[test]
fn commit_in_a_linked_worktree() {
    let repo = tempfile::tempdir().unwrap();
    let main = repo.path().join("main");
    let in_main = repository_with_crate(&main, "fresh_git_worktree");
    git(
        &main,
        &["worktree", "add", "-q", "-b", "feature", "../feature"],
    );
    let worktree = repo.path().join("feature");
    let scratch = in_main.checked_out_at(&worktree.join("site"));
    assert_rebuilt_with_tag(&scratch, &short_head(&worktree), &[]);

    git(
        &worktree,
        &["commit", "-q", "--allow-empty", "-m", "on feature"],
    );
    assert_rebuilt_with_tag(&scratch, &short_head(&worktree), &[]);
    // A commit in the main work tree moves another branch: the worktree's tag stays.
    git(&main, &["commit", "-q", "--allow-empty", "-m", "on main"]);
    assert!(
        scratch.build().fresh,
        "a commit on another worktree's branch must not rebuild"
    );
    assert_ne!(short_head(&main), short_head(&worktree));
}

#[test]
fn commit_inside_a_submodule() {
    let repo = tempfile::tempdir().unwrap();
    let library = repo.path().join("library");
    let in_library = repository_with_crate(&library, "fresh_git_submodule");
    let superproject = repo.path().join("super");
    fs::create_dir(&superproject).unwrap();
    git(&superproject, &["init", "-q"]);
    git(
        &superproject,
        &["submodule", "add", "-q", "../library", "library"],
    );
    git(&superproject, &["commit", "-q", "-m", "add the submodule"]);
    let submodule = superproject.join("library");
    assert!(
        submodule.join(".git").is_file(),
        "a submodule's .git is a file"
    );
    let scratch = in_library.checked_out_at(&submodule.join("site"));
    assert_rebuilt_with_tag(&scratch, &short_head(&submodule), &[]);

    git(
        &submodule,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "inside the submodule",
        ],
    );
    assert_rebuilt_with_tag(&scratch, &short_head(&submodule), &[]);
    assert_ne!(short_head(&submodule), short_head(&superproject));
}

#[test]
fn member_of_a_workspace_deeper_in_the_repository() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let workspace = repo.path().join("services/shop");
    fs::create_dir_all(&workspace).unwrap();
    fs::write(
        workspace.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n",
    )
    .unwrap();
    let scratch = ScratchCrate::member(
        &workspace,
        &workspace.join("crates/web"),
        "fresh_git_workspace_member",
        PRINT_TAG_AND_URL,
        "",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the workspace"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);

    git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);
}

/// The rebuild tracking is emitted by the first expanded call of a crate only (see
/// `cachekiller_core::__private::tracking`). Whatever call comes first (here one in code `#[cfg]`-ed out,
/// which rustc never expands, then calls in several modules and a `const`), a commit must
/// rebuild the crate and every call site must show the new tag.
#[test]
fn tracking_emitted_once_is_not_lost_among_many_call_sites() {
    const MANY_CALL_SITES: &str = r#"use cachekiller_macros::{cdnstatic, cdntag};

#[cfg(any())]
mod never_compiled {
    pub const URL: &str = cachekiller_macros::cdnstatic!("never.css");
}

mod pages {
    pub fn urls() -> Vec<&'static str> {
        (0..3).map(|i| [cachekiller_macros::cdnstatic!("a.css"), cachekiller_macros::cdnstatic!("b.css"), cachekiller_macros::cdnstatic!("c.css")][i]).collect()
    }
}

const TAG: &str = cdntag!();

fn main() {
    println!("{TAG}");
    for url in pages::urls() {
        println!("{url}");
    }
    println!("{}", cdnstatic!("css/app.css"));
}
"#;
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let scratch = ScratchCrate::standalone(
        &repo.path().join("site"),
        "fresh_git_many_sites",
        MANY_CALL_SITES,
        "",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the crate"]);
    for round in 0..2 {
        if round > 0 {
            git(
                repo.path(),
                &["commit", "-q", "--allow-empty", "-m", "next"],
            );
        }
        let tag = short_head(repo.path());
        let report = scratch.build();
        assert!(!report.fresh, "round {round}: not rebuilt");
        let expected: Vec<String> = [
            tag.clone(),
            format!("/static/a.css?tag={tag}"),
            format!("/static/b.css?tag={tag}"),
            format!("/static/c.css?tag={tag}"),
            format!("/static/css/app.css?tag={tag}"),
        ]
        .into();
        assert_eq!(scratch.run(), expected, "round {round}");
        assert!(scratch.build().fresh, "round {round}: rebuilt for nothing");
    }
    // The dep-info names each repository file once, whatever the number of calls. (The
    // shared target dir may hold older dep-infos of the crate, under other hashes: the newest
    // is this build's.)
    let dep_info = fs::read_dir(scratch.target_dir.join("debug/deps"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("fresh_git_many_sites-")
                && path.extension().is_some_and(|extension| extension == "d")
        })
        .max_by_key(|entry| entry.metadata().unwrap().modified().unwrap())
        .expect("the crate's dep-info");
    let dep_info = fs::read_to_string(dep_info.path()).unwrap();
    let head_file = format!("{}:", repo.path().join(".git/logs/HEAD").display());
    assert_eq!(dep_info.matches(&head_file).count(), 1, "{dep_info}");
}

/// Reflogs off, and the branch only in `packed-refs` (after `git pack-refs` or `git gc`): the
/// next commit creates a loose ref and rewrites nothing that existed. The crate is rebuilt on
/// every build in that state; the commit's build shows the new revision, and from then on the
/// loose ref is tracked and an unchanged repository rebuilds nothing.
#[test]
fn reflogs_off_and_the_branch_only_in_packed_refs() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["config", "core.logAllRefUpdates", "false"]);
    let scratch = ScratchCrate::standalone(
        &repo.path().join("site"),
        "fresh_git_reflogs_off",
        PRINT_TAG_AND_URL,
        "",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the crate"]);
    git(repo.path(), &["pack-refs", "--all", "--prune"]);
    assert!(!repo.path().join(".git/refs/heads/main").exists());
    assert!(!repo.path().join(".git/logs/HEAD").exists());
    let packed = short_head(repo.path());
    for build in 0..2 {
        assert!(!scratch.build().fresh, "build {build} in the packed state");
        assert_eq!(scratch.run()[0], packed);
    }

    git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    assert_rebuilt_with_tag(&scratch, &short_head(repo.path()), &[]);
    git(repo.path(), &["reset", "-q", "--soft", "HEAD~1"]);
    assert_rebuilt_with_tag(&scratch, &packed, &[]);
}

/// A work tree whose git dir lives elsewhere, chosen by `GIT_DIR` and `GIT_WORK_TREE` (no
/// `.git` in the tree): the tag is what git reports with those variables, a commit rebuilds,
/// and changing or unsetting the variables rebuilds too.
#[test]
fn git_dir_and_work_tree_from_the_environment() {
    let root = tempfile::tempdir().unwrap();
    let git_dir = root.path().join("repositories/site.git");
    let work_tree = root.path().join("checkout");
    fs::create_dir_all(&git_dir).unwrap();
    let scratch = ScratchCrate::standalone(
        &work_tree.join("site"),
        "fresh_git_dir_variable",
        PRINT_TAG_AND_URL,
        "",
    );
    let git_dir_text = git_dir.display().to_string();
    let work_tree_text = work_tree.display().to_string();
    let variables = [
        ("GIT_DIR", git_dir_text.as_str()),
        ("GIT_WORK_TREE", work_tree_text.as_str()),
    ];
    let git_there = |args: &[&str]| {
        let mut full = vec!["--git-dir", &git_dir_text, "--work-tree", &work_tree_text];
        full.extend_from_slice(args);
        git(&work_tree, &full)
    };
    git_there(&["init", "-q"]);
    git_there(&["add", "-A"]);
    git_there(&["commit", "-q", "-m", "the crate"]);
    assert!(!work_tree.join(".git").exists());
    let head = || git_there(&["rev-parse", "HEAD"])[..14].to_owned();

    assert_rebuilt_with_tag(&scratch, &head(), &variables);
    git_there(&["commit", "-q", "--allow-empty", "-m", "two"]);
    assert_rebuilt_with_tag(&scratch, &head(), &variables);

    // Without the variables git finds no repository, and neither do we: the static files'
    // digest (of none: the crate has no `static/`).
    let report = scratch.build();
    assert!(!report.fresh, "unsetting GIT_DIR must rebuild");
    assert_eq!(
        scratch.run()[0],
        static_files_digest(&scratch.dir.join("static"))[..14]
    );
}
