//! The real tools the unit tests compare against: the one oracle module of the whole test
//! suite (`oracle.rs`, with the `tests/run` hints of `setup.rs`). They live here, in the
//! package, so that the published crate's own tests build from it alone; the workspace's
//! tests crate compiles the same two files into its harness.

#![allow(dead_code, unused_imports)]

mod oracle;
mod setup;

use std::path::Path;
use std::process::Command;

pub use oracle::*;

#[cfg(feature = "resolve")]
/// `git args…` as [`git`], with `GIT_DIR` and friends set as in `environment`.
pub fn git_with_env(
    directory: &Path,
    environment: &crate::resolve::environment::GitEnvironment,
    args: &[&str],
) -> String {
    let mut command = Command::new("git");
    command
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(directory)
        .envs(environment.variables());
    let output = command.output().expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The full hex SHA-1 of `bytes`, from `sha1sum` (through a temporary file).
pub fn sha1sum_of_bytes(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), bytes).expect("the bytes are written");
    sha1sum(file.path(), 40)
}

#[cfg(all(feature = "resolve", feature = "service"))]
/// `settings` with the revision manifest `cdnsettings!()` would compile in for the static
/// dirs of `settings` below `root` as they are now, for a tag that names every file (as
/// `CACHEKILLER_TAG` does): the files "the build saw". Made by the build side itself, with the
/// settings' own tagging (a stylesheet's entry is its rewrite's digest).
pub fn with_revision_manifest(settings: crate::SiteSettings, root: &Path) -> crate::SiteSettings {
    let static_dirs = settings.static_dir_names().map(str::to_owned).collect();
    with_revision_manifest_of_dirs(settings, root, static_dirs)
}

#[cfg(all(feature = "resolve", feature = "service"))]
/// [`with_revision_manifest`] for the one static dir `static_dir` (what `StaticFiles::new`
/// serves), wherever it is.
pub fn with_revision_manifest_of_dir(
    settings: crate::SiteSettings,
    static_dir: &Path,
) -> crate::SiteSettings {
    let name = static_dir.file_name().unwrap().to_str().unwrap().to_owned();
    with_revision_manifest_of_dirs(settings, static_dir.parent().unwrap(), vec![name])
}

#[cfg(all(feature = "resolve", feature = "service"))]
fn with_revision_manifest_of_dirs(
    mut settings: crate::SiteSettings,
    root: &Path,
    static_dirs: Vec<String>,
) -> crate::SiteSettings {
    use crate::resolve::config::Config;
    use crate::resolve::context::CrateContext;
    use crate::resolve::manifest::LoadedConfig;
    use crate::resolve::tag::{NamedFiles, ResolvedTag, TagSource};
    let config = Config {
        static_url: settings.static_url.to_string(),
        param: settings.param.to_string(),
        tag_length: settings.revision_tag.len(),
        static_dirs,
        mode: settings.mode,
        tag_in: settings.tag_in,
        hash_length: settings.hash_length,
        ..Config::default()
    };
    let tag = ResolvedTag {
        value: settings.revision_tag.to_string(),
        source: TagSource::EnvironmentVariable,
        tracked_files: Vec::new(),
        tracked_environment: Vec::new(),
        rebuild_always: false,
        names: NamedFiles::Every,
    };
    let loaded = LoadedConfig {
        config,
        manifest_files: Vec::new(),
        static_url_from_environment: false,
    };
    let context = CrateContext::new(root, loaded, Ok(tag));
    let (manifest, _) = crate::resolve::expand::revision_manifest(&context)
        .expect("the manifest is made")
        .expect("a tag that names every file");
    settings.revision_manifest = std::borrow::Cow::Owned(manifest.encode());
    settings
}
