//! The `manifest` section (see the list in `main.rs`): what the revision manifest costs.
//!
//! At compile time: a crate with 200 and with 20,000 committed static files whose one call is
//! `cdnsettings!()` (which reads the commit's tree and the work tree's status, and compiles
//! the manifest in) vs the same crate whose one call is `cdntag!()` (the tag resolution and
//! configuration alone: what `cdnsettings!()` cost before the manifest), built after the crate
//! was first compiled ("warm": its dependencies built) and again after a commit changing one
//! file; and the manifest's size in the binary. Then without git, where every file is hashed:
//! the same 20,000 files tagged by their digest, first and after one file changed (the digest
//! store keeps the others').
//!
//! At run time: a request under the revision tag (a manifest lookup, and the digest compared)
//! vs one under a content tag (the digest's prefix compared), in process, after the first hit.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use cachekiller_core::service::StaticFiles;

use crate::common::{cargo, median, run_checked, toml_path, work_dir, write, Report};
use crate::deploy_skew::time_requests;
use crate::serving::realistic_stylesheet;
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::workspace_root;

/// A crate at `dir` with `files` static files, whose `main` prints what `call` expands to.
fn crate_with_files(dir: &Path, files: usize, call: &str) {
    let macros = toml_path(&workspace_root().join("cachekiller-macros"));
    let core = toml_path(&workspace_root().join("cachekiller-core"));
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"manifest-bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             [dependencies]\ncachekiller-macros = {{ path = {macros} }}\n\
             cachekiller-core = {{ path = {core}, default-features = false }}\n[workspace]\n"
        ),
    );
    fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    for file in 0..files {
        write(
            &dir.join(format!("static/assets/{}/file{file}.js", file / 100)),
            &format!("export const value{file} = {file};\n"),
        );
    }
    write(&dir.join("src/main.rs"), &main_rs(call));
}

fn main_rs(call: &str) -> String {
    let mut source = String::from("fn main() {\n");
    let _ = writeln!(source, "    let value = {call};");
    source.push_str("    std::hint::black_box(&value);\n}\n");
    source
}

/// The seconds `cargo build` takes in `dir`.
fn build(dir: &Path) -> Duration {
    let started = Instant::now();
    run_checked(cargo().args(["build", "-q"]).current_dir(dir));
    started.elapsed()
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn ratio(ours: Duration, baseline: Duration) -> String {
    format!("{:.2}x", ours.as_secs_f64() / baseline.as_secs_f64())
}

/// The median times of a warm build and of a build after a one-file commit, for the crate at
/// `dir` whose one call is `call`.
fn compile_times(dir: &Path, call: &str, rounds: usize) -> (Duration, Duration) {
    write(&dir.join("src/main.rs"), &main_rs(call));
    build(dir);
    let mut warm = Vec::new();
    let mut after_commit = Vec::new();
    for round in 0..rounds {
        // Warm: the crate itself compiled again (its source touched), its dependencies not.
        write(
            &dir.join("src/main.rs"),
            &format!("{}// {round}\n", main_rs(call)),
        );
        warm.push(build(dir));
        write(
            &dir.join("static/assets/0/file0.js"),
            &format!("export const value0 = {round};\n"),
        );
        git(dir, &["commit", "-q", "-am", &format!("round {round}")]);
        after_commit.push(build(dir));
    }
    (median(warm), median(after_commit))
}

pub(crate) fn manifest(report: &mut Report, rounds: usize) {
    println!("the revision manifest:");
    for files in [200, 20_000] {
        let dir = work_dir("manifest").join(format!("git-{files}"));
        let _ = fs::remove_dir_all(&dir);
        crate_with_files(&dir, files, "cachekiller_macros::cdntag!()");
        git(&dir, &["init", "-q"]);
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-q", "-m", "files"]);
        let (tag_warm, tag_commit) = compile_times(&dir, "cachekiller_macros::cdntag!()", rounds);
        let (warm, commit) = compile_times(&dir, "cachekiller_macros::cdnsettings!()", rounds);
        report.row(
            &format!("`cdnsettings!()` with {files} committed static files, warm build"),
            seconds(warm),
            format!("`cdntag!()` {}", seconds(tag_warm)),
            ratio(warm, tag_warm),
        );
        report.row(
            &format!(
                "`cdnsettings!()` with {files} committed static files, after a one-file commit"
            ),
            seconds(commit),
            format!("`cdntag!()` {}", seconds(tag_commit)),
            ratio(commit, tag_commit),
        );
        write(
            &dir.join("src/main.rs"),
            "fn main() {\n    let settings = cachekiller_macros::cdnsettings!();\n    \
             println!(\"{}\", settings.revision_manifest_bytes().len());\n}\n",
        );
        let output = run_checked(cargo().args(["run", "-q"]).current_dir(&dir));
        let bytes: usize = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap();
        report.row(
            &format!("the manifest of {files} files in the binary"),
            format!("{:.1} KiB", bytes as f64 / 1024.0),
            "-".to_owned(),
            format!("{:.0} bytes a file", bytes as f64 / files as f64),
        );
    }

    // Without git: every file is hashed (the tag is their digest). After one file changed,
    // with the digests of the others kept in the target dir vs without them.
    // Outside any repository (the work dir is inside this one's work tree).
    let outside = tempfile::tempdir().unwrap();
    let dir = outside.path().join("no-vcs-20000");
    cachekiller_tests::oracle::assert_outside_any_repository(outside.path());
    crate_with_files(&dir, 20_000, "cachekiller_macros::cdnsettings!()");
    build(&dir);
    let store = dir.join("target/debug/deps/cachekiller-digests.log");
    let mut kept = Vec::new();
    let mut rehashed = Vec::new();
    for round in 0..rounds {
        write(
            &dir.join("static/assets/0/file0.js"),
            &format!("export const value0 = -{round};\n"),
        );
        kept.push(build(&dir));
        write(
            &dir.join("static/assets/0/file0.js"),
            &format!("export const value0 = {round};\n"),
        );
        fs::remove_file(&store).unwrap();
        rehashed.push(build(&dir));
    }
    let (kept, rehashed) = (median(kept), median(rehashed));
    report.row(
        "`cdnsettings!()` with 20,000 static files and no repository, after one file changed",
        seconds(kept),
        format!("every file hashed again {}", seconds(rehashed)),
        ratio(kept, rehashed),
    );
    verdicts(report, rounds);
}

/// A request under the revision tag (the manifest's digest compared) vs under a content tag,
/// in process, after the first hit.
fn verdicts(report: &mut Report, rounds: usize) {
    let dir = work_dir("manifest").join("verdicts");
    let _ = fs::remove_dir_all(&dir);
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"verdicts\"\nversion = \"0.1.0\"\n",
    );
    let stylesheet = realistic_stylesheet(20);
    write(&dir.join("static/css/site.css"), &stylesheet);
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "site"]);
    let revision = git(&dir, &["rev-parse", "HEAD"])[..14].to_owned();
    let settings = cachekiller_core::__private::expand::expand_site_settings(&dir)
        .unwrap()
        .settings
        .release_build(true);
    let service = StaticFiles::in_root(&dir, settings).unwrap();
    let content = cachekiller_tests::deploys::sha1_of(stylesheet.as_bytes())[..6].to_owned();
    let by_revision = format!("/css/site.css?tag={revision}");
    let by_content = format!("/css/site.css?tag={content}");
    // Settled, so that the revision's bytes are trusted.
    std::thread::sleep(Duration::from_millis(2_100));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let times = time_requests(
        &runtime,
        rounds,
        &[
            (&service, &by_revision, IMMUTABLE),
            (&service, &by_content, IMMUTABLE),
        ],
    );
    report.row(
        "a request under the revision tag (the manifest checked), 20 KiB stylesheet, in process",
        format!("{:.2} µs", times[0].as_secs_f64() * 1e6),
        format!("a content tag {:.2} µs", times[1].as_secs_f64() * 1e6),
        format!("{:.2}x", times[0].as_secs_f64() / times[1].as_secs_f64()),
    );
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
