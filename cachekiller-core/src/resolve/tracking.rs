//! Emitting the rebuild tracking once per compiler process and crate, not on every call.
//!
//! Every expansion must make cargo watch what its value was read from. Emitting that
//! (`include_bytes!` of `.git/logs/HEAD` and friends) on every call made 10,000 calls cost
//! 60 times what a bare proc macro costs: rustc loads each `include_bytes!` as a byte-string
//! constant, and a reflog grows with every commit. Once per crate is enough, and cannot be
//! lost:
//!
//! - rustc adds a file to the crate's dep-info when it expands the `include_bytes!`, which it
//!   does right after our expansion; it does not discard a successful expansion, and whether
//!   the surrounding code is used later does not matter;
//! - a call in code removed by `#[cfg]` is never expanded, so it cannot be the call that
//!   "used up" the tracking;
//! - each rustc process compiles one crate, and this ledger lives in the process, so every
//!   compilation starts empty; a failed expansion records nothing, and a compile error fails
//!   the build anyway;
//! - an expansion that reads something new (another hashed file, a ref file that appeared
//!   after a re-resolution in a long-lived process) emits just what is new.
//!
//! The end-to-end tests check the result the way a user would see it: after a commit, a crate
//! with many call sites is rebuilt and every site shows the new tag.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::resolve::per_crate::PerCrate;
use crate::rules::error::{Error, Result};

/// What an expansion must make cargo watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// Files to track with `include_bytes!`: a change to any of them must rebuild the crate.
    pub files: Vec<PathBuf>,
    /// Environment variables to track with `option_env!`.
    pub environment: Vec<&'static str>,
}

impl Tracking {
    /// True if there is nothing to track.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.environment.is_empty()
    }

    /// The files as UTF-8 strings, as `include_bytes!` needs them.
    ///
    /// # Errors
    /// [`Error::NonUtf8Path`] for a path that is not valid UTF-8, [`Error::UntrackablePath`]
    /// for one with a line break, which cargo's dep-info (one path per line) cannot hold:
    /// cargo would rebuild the crate on every build and never see the file change.
    pub fn file_strings(&self) -> Result<Vec<&str>> {
        self.files
            .iter()
            .map(|path| {
                let text = path
                    .to_str()
                    .ok_or_else(|| Error::NonUtf8Path { path: path.clone() })?;
                if text.contains(['\n', '\r']) {
                    return Err(Error::UntrackablePath { path: path.clone() });
                }
                Ok(text)
            })
            .collect()
    }
}

#[derive(Default)]
struct Emitted {
    /// The shared trackings emitted so far, recognised by pointer: nearly every call of a
    /// crate carries one of the same two. They are kept alive here so that a pointer cannot
    /// be reused by another tracking.
    shared: Vec<Arc<Tracking>>,
    /// The files tracked so far, as raw path bytes: hashing a `PathBuf` walks its components,
    /// which in the unoptimized builds proc macros usually get costs more than a whole call.
    files: HashSet<Vec<u8>>,
    environment: HashSet<&'static str>,
    /// The warnings given so far: a dirty file named by many calls is one warning.
    warnings: HashSet<String>,
}

static EMITTED: Mutex<PerCrate<Emitted>> = Mutex::new(PerCrate::new());

/// What an expansion for the crate at `manifest_dir` must still emit: of `shared` and
/// `own_files`, what no earlier expansion for the crate emitted in this process. Records it as
/// emitted.
pub fn not_yet_tracked(
    manifest_dir: &Path,
    shared: &Arc<Tracking>,
    own_files: &[PathBuf],
) -> Tracking {
    let mut ledger = EMITTED.lock().unwrap_or_else(PoisonError::into_inner);
    let emitted = ledger.get_or_insert_with(manifest_dir, Emitted::default);
    let mut new = Tracking::default();
    if !emitted.shared.iter().any(|seen| Arc::ptr_eq(seen, shared)) {
        emitted.shared.push(Arc::clone(shared));
        for file in &shared.files {
            if emitted
                .files
                .insert(file.as_os_str().as_encoded_bytes().to_vec())
            {
                new.files.push(file.clone());
            }
        }
        for &variable in &shared.environment {
            if emitted.environment.insert(variable) {
                new.environment.push(variable);
            }
        }
    }
    for file in own_files {
        if emitted
            .files
            .insert(file.as_os_str().as_encoded_bytes().to_vec())
        {
            new.files.push(file.to_owned());
        }
    }
    new
}

/// Of `warnings`, those no earlier expansion for the crate at `manifest_dir` gave in this
/// process; records them as given.
pub fn not_yet_warned(manifest_dir: &Path, warnings: Vec<String>) -> Vec<String> {
    if warnings.is_empty() {
        return warnings;
    }
    let mut ledger = EMITTED.lock().unwrap_or_else(PoisonError::into_inner);
    let emitted = ledger.get_or_insert_with(manifest_dir, Emitted::default);
    warnings
        .into_iter()
        .filter(|warning| emitted.warnings.insert(warning.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracking(files: &[&str], environment: &[&'static str]) -> Tracking {
        Tracking {
            files: files.iter().map(PathBuf::from).collect(),
            environment: environment.to_vec(),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_says_what_helps() {
        use std::os::unix::ffi::OsStrExt as _;
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"/srv/caf\xe9/.git/HEAD"));
        let tracking = Tracking {
            files: vec![path.clone()],
            environment: Vec::new(),
        };
        let error = tracking.file_strings().unwrap_err();
        assert_eq!(error, Error::NonUtf8Path { path });
        let message = error.to_string();
        assert!(
            message.contains("move or rename the directory"),
            "{message}"
        );
        assert!(!message.contains("CACHEKILLER_TAG"), "{message}");
    }

    #[test]
    fn a_path_with_a_line_break_cannot_be_tracked() {
        for name in ["a\nb.png", "a\rb.png", "dir\n/a.png"] {
            let path = PathBuf::from("/srv/static").join(name);
            let tracking = Tracking {
                files: vec![PathBuf::from("/srv/static/ok.png"), path.clone()],
                environment: Vec::new(),
            };
            let error = tracking.file_strings().unwrap_err();
            assert_eq!(error, Error::UntrackablePath { path });
            assert!(error.to_string().contains("line break"), "{error}");
        }
    }

    #[test]
    fn each_file_and_variable_is_emitted_once_per_crate() {
        let crate_a = Path::new("/nonexistent/tracking-test/a");
        let crate_b = Path::new("/nonexistent/tracking-test/b");
        let revision = Arc::new(tracking(
            &["/r/Cargo.toml", "/r/.git/HEAD"],
            &["CACHEKILLER_TAG", "CACHEKILLER_STATIC_URL"],
        ));
        let files = Arc::new(tracking(&["/r/Cargo.toml"], &["CACHEKILLER_STATIC_URL"]));

        assert_eq!(
            not_yet_tracked(crate_a, &revision, &[]),
            *revision,
            "the first call emits all"
        );
        assert_eq!(
            not_yet_tracked(crate_a, &revision, &[]),
            Tracking::default()
        );
        assert_eq!(
            not_yet_tracked(crate_a, &files, &[PathBuf::from("/r/static/a.css")]),
            tracking(&["/r/static/a.css"], &[]),
            "only what is new: the hashed file"
        );
        assert_eq!(
            not_yet_tracked(crate_a, &files, &[PathBuf::from("/r/static/a.css")]),
            Tracking::default()
        );
        assert_eq!(
            not_yet_tracked(crate_a, &files, &[PathBuf::from("/r/static/b.css")]),
            tracking(&["/r/static/b.css"], &[])
        );

        // A context resolved anew (a long-lived process after a commit) brings a new tracking.
        let re_resolved = Arc::new(tracking(
            &["/r/Cargo.toml", "/r/.git/HEAD", "/r/.git/packed-refs"],
            &["CACHEKILLER_TAG", "CACHEKILLER_STATIC_URL"],
        ));
        assert_eq!(
            not_yet_tracked(crate_a, &re_resolved, &[]),
            tracking(&["/r/.git/packed-refs"], &[])
        );

        assert_eq!(
            not_yet_tracked(crate_b, &revision, &[]),
            *revision,
            "another crate starts empty"
        );
    }
}
