//! The environment variables cachekiller reads, captured once so that resolution is a pure
//! function of them (tests pass their own instead of mutating the process environment).

/// Overrides the tag: builds without a `.git` (Docker images, tarballs, CI).
pub const TAG_VARIABLE: &str = "CACHEKILLER_TAG";
/// Overrides `static_url` for one build.
pub const STATIC_URL_VARIABLE: &str = "CACHEKILLER_STATIC_URL";
/// The reproducible-builds date, used for the build-date tag when set.
pub const SOURCE_DATE_EPOCH_VARIABLE: &str = "SOURCE_DATE_EPOCH";

/// The values of the variables cachekiller reads; an empty value counts as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildEnvironment {
    /// `CACHEKILLER_TAG`.
    pub tag: Option<String>,
    /// `CACHEKILLER_STATIC_URL`.
    pub static_url: Option<String>,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<String>,
}

impl BuildEnvironment {
    /// Reads the variables from this process (inside a proc macro: the environment cargo gave
    /// rustc for the calling crate).
    #[must_use]
    pub fn from_process() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        BuildEnvironment {
            tag: read(TAG_VARIABLE),
            static_url: read(STATIC_URL_VARIABLE),
            source_date_epoch: read(SOURCE_DATE_EPOCH_VARIABLE),
        }
    }
}
