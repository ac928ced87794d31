//! The `resolution` section (see the list in `main.rs`).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::common::{median, run_checked, work_dir, Report};
use cachekiller_tests::oracle::git;

/// A repository with `commits` commits made by `git fast-import` (seconds, not minutes), its
/// refs packed.
pub(crate) fn repository_with_history(root: &Path, commits: usize) {
    if root.join(".git/packed-refs").is_file() {
        return;
    }
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root).unwrap();
    git(root, &["init", "-q"]);
    let mut stream = String::new();
    for commit in 1..=commits {
        let message = format!("commit {commit}");
        let content = format!("{commit}\n");
        let _ = write!(
            stream,
            "commit refs/heads/main\nmark :{commit}\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{message}\n",
            1_700_000_000 + commit,
            message.len()
        );
        if commit > 1 {
            let _ = writeln!(stream, "from :{}", commit - 1);
        }
        let _ = write!(
            stream,
            "M 644 inline counter.txt\ndata {}\n{content}\n",
            content.len()
        );
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(root)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(root, &["checkout", "-q", "main"]);
    git(root, &["pack-refs", "--all", "--prune"]);
    git(root, &["gc", "-q"]);
}

pub(crate) fn resolution(report: &mut Report, rounds: usize) {
    const CALLS_PER_SAMPLE: u32 = 50;
    let root = work_dir("resolution");
    repository_with_history(&root, 5_000);
    let expected = git(&root, &["rev-parse", "HEAD"]);
    let read = |root: &Path| match cachekiller_core::__private::git::read_git_revision(
        root,
        &cachekiller_core::__private::environment::GitEnvironment::default(),
    )
    .unwrap()
    {
        cachekiller_core::__private::vcs::VcsLookup::Revision(revision) => revision.id_hex,
        other => panic!("{other:?}"),
    };
    let ours = || read(&root);
    assert_eq!(ours(), expected);
    // A reftable repository, which libgit2 cannot read: the `git` executable reads it.
    let reftable = work_dir("resolution-reftable");
    let _ = fs::remove_dir_all(&reftable);
    fs::create_dir_all(&reftable).unwrap();
    git(&reftable, &["init", "-q", "--ref-format=reftable"]);
    git(&reftable, &["commit", "-q", "--allow-empty", "-m", "one"]);
    let reftable_expected = git(&reftable, &["rev-parse", "HEAD"]);
    let through_git = || read(&reftable);
    assert_eq!(through_git(), reftable_expected);
    let subprocess = || {
        let output = run_checked(
            Command::new("git")
                .args(["rev-parse", "HEAD"])
                .current_dir(&root),
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(subprocess(), expected);
    let mut ours_samples = Vec::new();
    let mut through_git_samples = Vec::new();
    let mut subprocess_samples = Vec::new();
    for _ in 0..rounds.max(5) {
        let started = Instant::now();
        for _ in 0..CALLS_PER_SAMPLE {
            std::hint::black_box(ours());
        }
        ours_samples.push(started.elapsed() / CALLS_PER_SAMPLE);
        let started = Instant::now();
        for _ in 0..CALLS_PER_SAMPLE {
            std::hint::black_box(through_git());
        }
        through_git_samples.push(started.elapsed() / CALLS_PER_SAMPLE);
        let started = Instant::now();
        for _ in 0..CALLS_PER_SAMPLE {
            std::hint::black_box(subprocess());
        }
        subprocess_samples.push(started.elapsed() / CALLS_PER_SAMPLE);
    }
    let (ours, through_git, subprocess) = (
        median(ours_samples),
        median(through_git_samples),
        median(subprocess_samples),
    );
    println!("resolution, 5,000 commits, packed refs:");
    report.row(
        "tag resolution (git2: discover, read HEAD and refs), 5,000 commits, packed refs",
        format!("{:.0} µs", ours.as_secs_f64() * 1e6),
        format!(
            "`git rev-parse HEAD` subprocess {:.0} µs",
            subprocess.as_secs_f64() * 1e6
        ),
        format!(
            "{:.2}x (ours / subprocess)",
            ours.as_secs_f64() / subprocess.as_secs_f64()
        ),
    );
    report.row(
        "tag resolution through the `git` executable (a reftable repository: libgit2 cannot read it; every repository without the `git2` feature)",
        format!("{:.0} µs", through_git.as_secs_f64() * 1e6),
        format!(
            "`git rev-parse HEAD` subprocess {:.0} µs",
            subprocess.as_secs_f64() * 1e6
        ),
        format!(
            "{:.2}x (ours / subprocess)",
            through_git.as_secs_f64() / subprocess.as_secs_f64()
        ),
    );
}

// ---------------------------------------------------------------------------------------
// hashing
