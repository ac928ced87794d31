//! A shared compile cache (sccache, as `RUSTC_WRAPPER`) keys a crate by its sources, its
//! dep-info files and their environment variables, so cachekiller's tracking carries over: a
//! hit when nothing changed, a miss and the new tag after a commit or a `CACHEKILLER_TAG`
//! change, a hit again when the old value returns, and never a hit across a repository's first
//! commit. sccache caches library crates, so the tags live in a library and a binary prints
//! them. Each result is read from sccache's own statistics.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use cachekiller_tests::oracle::{
    assert_outside_any_repository, git, git_head, static_files_digest,
};
use cachekiller_tests::scratch::{workspace_root, ScratchCrate};
use cachekiller_tests::setup::cannot_run;

/// One sccache server of the test's own (its port, its cache dir), stopped on drop.
struct Sccache {
    port: String,
    cache_dir: PathBuf,
}

impl Sccache {
    fn start(cache_dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
            .to_string();
        let server = Sccache {
            port,
            cache_dir: cache_dir.to_owned(),
        };
        let started = server
            .command()
            .arg("--start-server")
            .output()
            .unwrap_or_else(|error| panic!("{}", cannot_run("sccache", &error)));
        assert!(
            started.status.success(),
            "sccache --start-server: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        server
    }

    fn command(&self) -> Command {
        let mut command = Command::new("sccache");
        command
            .env("SCCACHE_DIR", &self.cache_dir)
            .env("SCCACHE_SERVER_PORT", &self.port);
        command
    }

    /// (hits, misses) of Rust compilations so far.
    fn hits_and_misses(&self) -> (u64, u64) {
        let output = self
            .command()
            .args(["--show-stats", "--stats-format", "json"])
            .output()
            .unwrap();
        let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let count = |kind: &str| stats["stats"][kind]["counts"]["Rust"].as_u64().unwrap_or(0);
        (count("cache_hits"), count("cache_misses"))
    }
}

impl Drop for Sccache {
    fn drop(&mut self) {
        let _ = self.command().arg("--stop-server").output();
    }
}

/// A workspace at `root`: the library `tagged` holds the tag and a URL, `show` prints them.
fn tagged_workspace(root: &Path) -> ScratchCrate {
    fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"tagged\", \"show\"]\n",
    )
    .unwrap();
    let macros = workspace_root().join("cachekiller-macros");
    fs::create_dir_all(root.join("tagged/src")).unwrap();
    fs::write(
        root.join("tagged/Cargo.toml"),
        format!(
            "[package]\nname = \"tagged\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ncachekiller-macros = {{ path = {:?} }}\n",
            macros.display().to_string()
        ),
    )
    .unwrap();
    fs::write(
        root.join("tagged/src/lib.rs"),
        "pub const TAG: &str = cachekiller_macros::cdntag!();\n\
         pub const URL: &str = cachekiller_macros::cdnstatic!(\"css/app.css\");\n",
    )
    .unwrap();
    ScratchCrate::member(
        root,
        &root.join("show"),
        "show",
        "fn main() {\n    println!(\"{}\", tagged::TAG);\n    println!(\"{}\", tagged::URL);\n}\n",
        "tagged = { path = \"../tagged\" }\n",
    )
    .with_own_target_dir("sccache")
}

/// Builds `scratch` through `sccache` with `extra` variables and runs it: the cache hits and
/// misses of the build, and what the binary prints.
fn build_through(
    sccache: &Sccache,
    scratch: &ScratchCrate,
    extra: &[(&str, &str)],
) -> (u64, u64, Vec<String>) {
    let cache_dir = sccache.cache_dir.display().to_string();
    // sccache does not cache incremental builds, cargo's default for workspace members.
    let mut variables = vec![
        ("RUSTC_WRAPPER", "sccache"),
        ("SCCACHE_DIR", cache_dir.as_str()),
        ("SCCACHE_SERVER_PORT", sccache.port.as_str()),
        ("CARGO_INCREMENTAL", "0"),
    ];
    variables.extend_from_slice(extra);
    let before = sccache.hits_and_misses();
    let _ = scratch.build_with(&variables);
    let after = sccache.hits_and_misses();
    (after.0 - before.0, after.1 - before.1, scratch.run())
}

/// `cargo clean -p tagged`: the library's artifact removed, so the next build asks the cache.
fn clean_library(scratch: &ScratchCrate) {
    let cleaned = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["clean", "--quiet", "-p", "tagged"])
        .current_dir(&scratch.workspace_dir)
        .env("CARGO_TARGET_DIR", &scratch.target_dir)
        .status()
        .unwrap();
    assert!(cleaned.success());
}

/// What `show` prints for `tag`.
fn tag_lines(tag: &str) -> Vec<String> {
    vec![tag.to_owned(), format!("/static/css/app.css?tag={tag}")]
}

/// Without a repository the tag is the digest of the static files, which the library
/// tracks: a hit can only bring back the tag of the same files, never an older build's date.
#[test]
fn without_a_repository_a_hit_carries_the_digest_of_the_same_static_files() {
    let root = tempfile::tempdir().unwrap();
    assert_outside_any_repository(root.path());
    let cache = tempfile::tempdir().unwrap();
    let sccache = Sccache::start(cache.path());
    // A target dir apart from the other test's: both build a `show` binary.
    let scratch = tagged_workspace(root.path()).with_own_target_dir("sccache-without-vcs");
    let static_dir = root.path().join("tagged/static");
    fs::create_dir_all(static_dir.join("css")).unwrap();
    let stylesheet = static_dir.join("css/app.css");
    fs::write(&stylesheet, "body {}\n").unwrap();
    let expected = || tag_lines(&static_files_digest(&static_dir)[..14]);

    // The first build compiles the dependencies too: only what it prints counts.
    assert_eq!(build_through(&sccache, &scratch, &[]).2, expected());
    fs::write(&stylesheet, "body { margin: 0 }\n").unwrap();
    assert_eq!(
        build_through(&sccache, &scratch, &[]),
        (0, 1, expected()),
        "an edit of a static file"
    );
    fs::write(&stylesheet, "body {}\n").unwrap();
    assert_eq!(
        build_through(&sccache, &scratch, &[]),
        (1, 0, expected()),
        "the first content again: the first artifact, whose tag is right"
    );
    // Later, from a clean library: a clock tag would now differ from the cached one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    clean_library(&scratch);
    assert_eq!(
        build_through(&sccache, &scratch, &[]),
        (1, 0, expected()),
        "nothing changed, built later"
    );
}

#[test]
fn hits_when_nothing_changed_and_misses_when_the_tag_did() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let sccache = Sccache::start(cache.path());
    let scratch = tagged_workspace(root.path());
    let build = |extra: &[(&str, &str)]| build_through(&sccache, &scratch, extra);
    let clean_library = || clean_library(&scratch);
    let head = || git_head(root.path())[..14].to_owned();

    // Before the first commit: the static files' digest (of none), rebuilt and never served
    // from the cache.
    git(root.path(), &["init", "-q"]);
    let (hits, _, lines) = build(&[]);
    assert_eq!(hits, 0);
    assert_eq!(
        lines[0],
        static_files_digest(&root.path().join("tagged/static"))[..14]
    );
    git(root.path(), &["add", "-A"]);
    git(root.path(), &["commit", "-q", "-m", "first"]);
    assert_eq!(build(&[]), (0, 1, tag_lines(&head())), "the first commit");

    // Nothing changed, the library's artifact removed: served from the cache.
    clean_library();
    assert_eq!(build(&[]), (1, 0, tag_lines(&head())), "nothing changed");

    git(
        root.path(),
        &["commit", "-q", "--allow-empty", "-m", "second"],
    );
    let second = head();
    assert_eq!(build(&[]), (0, 1, tag_lines(&second)), "a commit");

    assert_eq!(
        build(&[("CACHEKILLER_TAG", "release-7")]),
        (0, 1, tag_lines("release-7")),
        "CACHEKILLER_TAG set"
    );
    assert_eq!(
        build(&[]),
        (1, 0, tag_lines(&second)),
        "CACHEKILLER_TAG unset again: the earlier result"
    );
}
