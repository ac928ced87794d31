//! What one crate's expansions share (its configuration and tag), resolved once per compiler
//! process and per crate.
//!
//! The cache is keyed by manifest dir, not global: one rustc compiles one crate, but
//! rust-analyzer's proc-macro server expands every crate of a workspace in one long-lived
//! process. For the same reason an entry is not trusted forever there: it remembers the
//! environment it was resolved with and the size and modification time of every file it read,
//! and is resolved anew when they differ (checked at most once per [`REVALIDATE_AFTER`]).
//!
//! Inside a compiler (rustc, clippy-driver, rustdoc), one process is one compilation of one
//! crate, and its entry is never revalidated: all calls of a compilation agree on one tag, even
//! when a commit lands while it runs (the commit touches a tracked file, so the next build
//! compiles the crate again with the new tag).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::resolve::environment::{BuildEnvironment, STATIC_URL_VARIABLE};
use crate::resolve::manifest::{load_config, LoadedConfig};
use crate::resolve::named_files::NamedStaticFiles;
use crate::resolve::per_crate::PerCrate;
use crate::resolve::static_files::StaticDirs;
use crate::resolve::stylesheet_cache::StylesheetCache;
use crate::resolve::tag::{resolve_tag, ResolvedTag};
use crate::resolve::tracking::Tracking;
use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::{file_stamp, FileStamp};
use crate::rules::tagging::RevisionNames;

/// How long a cached context is used without looking at its files again.
pub const REVALIDATE_AFTER: Duration = Duration::from_millis(500);

/// A crate's configuration and tag, and what follows from them for every call.
#[derive(Debug)]
pub struct CrateContext {
    /// The configuration from the manifests and the environment.
    pub config: LoadedConfig,
    /// The tag and what it was read from, or why it could not be resolved. Kept as a result:
    /// content-mode and integrity expansions need no revision, so a broken repository only
    /// fails the calls that need one.
    pub tag: Result<ResolvedTag>,
    /// The configured static dirs.
    pub static_dirs: StaticDirs,
    /// What every expansion whose value depends on the revision must track: the manifests,
    /// the VCS files and variables, `CACHEKILLER_STATIC_URL`. Shared, so that the tracking
    /// ledger recognises it by pointer.
    pub revision_tracking: Arc<Tracking>,
    /// What every expansion whose value depends on a file must track, besides the file: the
    /// manifests and `CACHEKILLER_STATIC_URL`.
    pub file_tracking: Arc<Tracking>,
    /// The crate's stylesheets as rewritten: every call naming one, and those that
    /// `@import` it, share one rewrite.
    pub stylesheets: StylesheetCache,
    /// Which static files the revision names, read on the first call that needs it.
    named: OnceLock<Result<Option<NamedStaticFiles>>>,
}

impl CrateContext {
    /// A context from its parts, with what follows from them computed once.
    #[must_use]
    pub fn new(manifest_dir: &Path, config: LoadedConfig, tag: Result<ResolvedTag>) -> Self {
        let static_dirs = StaticDirs::new(manifest_dir, &config.config.static_dirs);
        let file_tracking = Tracking {
            files: config.manifest_files.clone(),
            environment: vec![STATIC_URL_VARIABLE],
        };
        let mut revision_tracking = file_tracking.clone();
        if let Ok(tag) = &tag {
            revision_tracking
                .files
                .extend(tag.tracked_files.iter().cloned());
            revision_tracking
                .environment
                .splice(0..0, tag.tracked_environment.iter().copied());
        }
        CrateContext {
            config,
            tag,
            static_dirs,
            revision_tracking: Arc::new(revision_tracking),
            file_tracking: Arc::new(file_tracking),
            stylesheets: StylesheetCache::default(),
            named: OnceLock::new(),
        }
    }

    /// Which static files the revision names (see `resolve::named_files`); `None` for
    /// a tag that names no files (a date), or when there is no tag.
    ///
    /// # Errors
    /// A repository whose tree or status cannot be read.
    pub fn named_files(&self) -> Result<Option<&NamedStaticFiles>> {
        let named = self.named.get_or_init(|| match &self.tag {
            Ok(tag) => NamedStaticFiles::of_tag(
                tag,
                self.static_dirs.absolute(),
                &self.config.manifest_files,
                self.config.static_url_from_environment,
            ),
            Err(_) => Ok(None),
        });
        named.as_ref().map(Option::as_ref).map_err(Clone::clone)
    }

    /// Every file this context was read from: the manifests, then the VCS files.
    pub fn tracked_files(&self) -> impl Iterator<Item = &Path> {
        self.revision_tracking.files.iter().map(PathBuf::as_path)
    }
}

/// Resolves the context of the crate at `manifest_dir` without any cache.
///
/// # Errors
/// Any error of [`load_config`]; an error of [`resolve_tag`] is kept in [`CrateContext::tag`].
pub fn load_crate_context(
    manifest_dir: &Path,
    environment: &BuildEnvironment,
) -> Result<CrateContext> {
    let config = load_config(manifest_dir, environment)?;
    let static_dirs: Vec<PathBuf> = config
        .config
        .static_dirs
        .iter()
        .map(|dir| manifest_dir.join(dir))
        .collect();
    let tag = resolve_tag(manifest_dir, &static_dirs, environment);
    Ok(CrateContext::new(manifest_dir, config, tag))
}

/// The files the crate's revision names, for its tags: a date (or no tag) names none of
/// them but takes the revision tag everywhere, and a repository that cannot be read names
/// none (the calls that need the revision report why).
impl RevisionNames for CrateContext {
    fn names(&self, path: &str) -> bool {
        match self.named_files() {
            Ok(Some(named)) => named.names(path),
            Ok(None) => true,
            Err(_) => false,
        }
    }

    fn names_configuration(&self) -> bool {
        match self.named_files() {
            Ok(Some(named)) => named.names_configuration(),
            Ok(None) => true,
            Err(_) => false,
        }
    }
}

struct CacheEntry {
    context: Arc<CrateContext>,
    environment: BuildEnvironment,
    file_stamps: Vec<(PathBuf, FileStamp)>,
    validated_at: Instant,
}

impl CacheEntry {
    fn new(context: CrateContext, environment: BuildEnvironment) -> Self {
        let file_stamps = context
            .tracked_files()
            .map(|path| (path.to_owned(), file_stamp(path)))
            .collect();
        CacheEntry {
            context: Arc::new(context),
            environment,
            file_stamps,
            validated_at: Instant::now(),
        }
    }

    fn is_current(&mut self) -> bool {
        if runs_in_a_compiler() || self.validated_at.elapsed() < REVALIDATE_AFTER {
            return true;
        }
        // A repository without a revision gives no file to watch for its first one.
        let waiting_for_a_revision = self
            .context
            .tag
            .as_ref()
            .is_ok_and(|tag| tag.rebuild_always);
        let unchanged = !waiting_for_a_revision
            && self.environment == BuildEnvironment::from_process()
            && self
                .file_stamps
                .iter()
                .all(|(path, recorded)| file_stamp(path) == *recorded);
        if unchanged {
            self.validated_at = Instant::now();
        }
        unchanged
    }
}

/// True if this process is a compiler, which compiles one crate and exits: rustc, or a driver
/// built on it. Anything else (rust-analyzer's proc-macro server, an IDE's) may outlive many
/// compilations and revalidates.
fn runs_in_a_compiler() -> bool {
    static IN_COMPILER: OnceLock<bool> = OnceLock::new();
    *IN_COMPILER.get_or_init(|| {
        std::env::current_exe().is_ok_and(|executable| {
            executable
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(is_compiler_executable)
        })
    })
}

/// Whether an executable of this name compiles one crate per process.
fn is_compiler_executable(name: &str) -> bool {
    let name = name.strip_suffix(".exe").unwrap_or(name);
    ["rustc", "clippy-driver", "rustdoc", "miri"]
        .iter()
        .any(|compiler| name == *compiler || name.starts_with(&format!("{compiler}-")))
}

static CACHE: Mutex<PerCrate<CacheEntry>> = Mutex::new(PerCrate::new());

/// The errors of loading each crate's context already given to a call of this compiler.
static REPORTED: Mutex<PerCrate<String>> = Mutex::new(PerCrate::new());

/// `error`, the failure to load the context of the crate at `manifest_dir`, for the first
/// call of a compiler that meets it; [`Error::ReportedAtAnotherCall`] for the later ones. A
/// wrong manifest key is one mistake: shown once, not at every call site that reads the
/// manifest. A long-lived host (an IDE's proc-macro server) shows it at every call, since it
/// re-expands one call without the others.
fn report_once(manifest_dir: &Path, error: Error) -> Error {
    if !runs_in_a_compiler() {
        return error;
    }
    let message = error.to_string();
    let mut reported = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
    if reported
        .get_mut(manifest_dir)
        .is_some_and(|earlier| *earlier == message)
    {
        return Error::ReportedAtAnotherCall;
    }
    reported.insert(manifest_dir, message);
    error
}

/// The context of the crate at `manifest_dir`, from this process's cache when it is still
/// current, resolved (with [`BuildEnvironment::from_process`]) otherwise. Failures are not
/// cached, a failed tag included: a repaired repository is seen at once. A failure to load the
/// configuration is given to the compiler's first call only (see `report_once`).
///
/// # Errors
/// Any error of [`load_crate_context`].
pub fn cached_crate_context(manifest_dir: &Path) -> Result<Arc<CrateContext>> {
    // A panic while holding the lock cannot leave a half-written entry (entries are replaced
    // whole), so a poisoned cache is still sound.
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(entry) = cache.get_mut(manifest_dir) {
        if entry.is_current() {
            return Ok(Arc::clone(&entry.context));
        }
    }
    let environment = BuildEnvironment::from_process();
    let context = load_crate_context(manifest_dir, &environment)
        .map_err(|error| report_once(manifest_dir, error))?;
    if context.tag.is_err() {
        return Ok(Arc::new(context));
    }
    let entry = cache.insert(manifest_dir, CacheEntry::new(context, environment));
    Ok(Arc::clone(&entry.context))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::git;

    fn tag_value(context: &CrateContext) -> &str {
        &context.tag.as_ref().unwrap().value
    }

    #[test]
    fn compilers_pin_the_tag_and_other_hosts_revalidate() {
        for (name, compiler) in [
            ("rustc", true),
            ("rustc.exe", true),
            ("clippy-driver", true),
            ("rustdoc", true),
            ("rustc-1.95.0", true),
            ("rust-analyzer-proc-macro-srv", false),
            ("rust-analyzer", false),
            ("rustcfmt", false),
        ] {
            assert_eq!(is_compiler_executable(name), compiler, "{name}");
        }
        assert!(!runs_in_a_compiler(), "this test binary is not a compiler");
    }

    #[test]
    fn a_long_lived_process_sees_a_new_commit() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        std::fs::write(repo.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
        let first = cached_crate_context(repo.path()).unwrap();
        assert_eq!(tag_value(&first), git(repo.path(), &["rev-parse", "HEAD"]));
        assert!(Arc::ptr_eq(
            &first,
            &cached_crate_context(repo.path()).unwrap()
        ));

        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
        std::thread::sleep(REVALIDATE_AFTER + Duration::from_millis(50));
        let second = cached_crate_context(repo.path()).unwrap();
        assert_eq!(tag_value(&second), git(repo.path(), &["rev-parse", "HEAD"]));
        assert_ne!(tag_value(&first), tag_value(&second));
    }

    #[test]
    fn a_long_lived_process_sees_the_first_commit() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        std::fs::write(repo.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let before = cached_crate_context(repo.path()).unwrap();
        assert!(before.tag.as_ref().unwrap().rebuild_always);
        git(
            repo.path(),
            &["commit", "-q", "--allow-empty", "-m", "first"],
        );
        std::thread::sleep(REVALIDATE_AFTER + Duration::from_millis(50));
        let after = cached_crate_context(repo.path()).unwrap();
        assert_eq!(tag_value(&after), git(repo.path(), &["rev-parse", "HEAD"]));
    }
}
