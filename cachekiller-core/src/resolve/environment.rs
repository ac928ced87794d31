//! The environment variables cachekiller reads, captured once so that resolution is a pure
//! function of them (tests pass their own instead of mutating the process environment).

use std::path::{Path, PathBuf};

/// Overrides the tag: builds without a `.git` (Docker images, tarballs, CI).
pub const TAG_VARIABLE: &str = "CACHEKILLER_TAG";
/// Overrides `static_url` for one build.
pub const STATIC_URL_VARIABLE: &str = "CACHEKILLER_STATIC_URL";
/// The reproducible-builds date, used for the build-date tag when set.
pub const SOURCE_DATE_EPOCH_VARIABLE: &str = "SOURCE_DATE_EPOCH";
/// git's variables that choose the repository instead of the search from the crate upwards,
/// honoured as git honours them: `GIT_DIR`, `GIT_WORK_TREE`, `GIT_COMMON_DIR`.
pub const GIT_VARIABLES: [&str; 3] = ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR"];

/// The values of the variables cachekiller reads; an empty value counts as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildEnvironment {
    /// `CACHEKILLER_TAG`.
    pub tag: Option<String>,
    /// `CACHEKILLER_STATIC_URL`.
    pub static_url: Option<String>,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<String>,
    /// `GIT_DIR`, `GIT_WORK_TREE` and `GIT_COMMON_DIR` (in the order of [`GIT_VARIABLES`]),
    /// made absolute against the directory rustc runs in, as git would in that process.
    pub git: GitEnvironment,
}

/// git's repository-choosing variables, absolute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitEnvironment {
    /// `GIT_DIR`: the git dir to use instead of searching for `.git`.
    pub git_dir: Option<PathBuf>,
    /// `GIT_WORK_TREE`: the work tree of that git dir.
    pub work_tree: Option<PathBuf>,
    /// `GIT_COMMON_DIR`: where the refs shared by linked worktrees live.
    pub common_dir: Option<PathBuf>,
}

impl GitEnvironment {
    /// True if none of the variables is set: the repository is found by searching upwards.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.git_dir.is_none() && self.work_tree.is_none() && self.common_dir.is_none()
    }

    /// The variables that are set, as `(name, absolute path)`, to pass on to a `git` process.
    pub fn variables(&self) -> impl Iterator<Item = (&'static str, &Path)> {
        GIT_VARIABLES
            .into_iter()
            .zip([&self.git_dir, &self.work_tree, &self.common_dir])
            .filter_map(|(name, value)| Some((name, value.as_deref()?)))
    }
}

impl BuildEnvironment {
    /// Reads the variables from this process (inside a proc macro: the environment cargo gave
    /// rustc for the calling crate).
    #[must_use]
    pub fn from_process() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        // A relative GIT_DIR means "relative to where git runs"; here that is rustc's working
        // directory (cargo runs rustc in the workspace root).
        let read_path = |name: &str| {
            let value = std::env::var_os(name).filter(|value| !value.is_empty())?;
            let path = PathBuf::from(value);
            Some(if path.is_absolute() {
                path
            } else {
                std::env::current_dir().map_or(path.clone(), |directory| directory.join(&path))
            })
        };
        BuildEnvironment {
            tag: read(TAG_VARIABLE),
            static_url: read(STATIC_URL_VARIABLE),
            source_date_epoch: read(SOURCE_DATE_EPOCH_VARIABLE),
            git: GitEnvironment {
                git_dir: read_path(GIT_VARIABLES[0]),
                work_tree: read_path(GIT_VARIABLES[1]),
                common_dir: read_path(GIT_VARIABLES[2]),
            },
        }
    }
}
