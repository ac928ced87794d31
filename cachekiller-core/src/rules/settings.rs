//! The one settings type: how a site's URLs carry tags, as `cdnsettings!()` of
//! `cachekiller-macros` emits it from the crate's configuration and tag, and as the static file
//! service and the run-time URL API take it. The macros build the same type at compile time,
//! so the pages' URLs and the server's verdicts come from one set of values.

use std::borrow::Cow;

/// What the tag of `cdnstatic!` is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagMode {
    /// The revision (or `CACHEKILLER_TAG`, `SOURCE_DATE_EPOCH` or the static files' digest):
    /// every asset changes URL on every commit.
    Vcs,
    /// The SHA-1 of the file: an asset changes URL only when its bytes change.
    Content,
}

impl TagMode {
    /// The mode named `name` in the configuration (`"vcs"`, `"content"`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "vcs" => Some(TagMode::Vcs),
            "content" => Some(TagMode::Content),
            _ => None,
        }
    }
}

/// Where `cdnstatic!` puts the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagIn {
    /// In the query: `app.css?tag=<tag>`, as django-cachekiller.
    Query,
    /// In the file name, before the last extension: `app.<tag>.css`, for CDNs and proxies
    /// that ignore the query string.
    Name,
}

impl TagIn {
    /// The placement named `name` in the configuration (`"query"`, `"name"`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "query" => Some(TagIn::Query),
            "name" => Some(TagIn::Name),
            _ => None,
        }
    }
}

/// How the site's URLs carry tags, as the server was built: made by `cdnsettings!()` of
/// `cachekiller-macros` from the same configuration and tag as the pages' `cdnstatic!` calls,
/// so that a change of `tag_in`, `mode`, `param`, `static_url` or `static_dirs` in the manifest
/// needs no change in the server's code.
///
/// ```
/// use cachekiller_core::{SiteSettings, TagIn, TagMode};
///
/// // What `cdnsettings!()` emits for a content-mode crate with tags in file names.
/// let settings = SiteSettings::new("tag", "1f3a9c0d2b7e11", 8).release_build(true)
///     .mode(TagMode::Content)
///     .tag_in(TagIn::Name)
///     .static_dirs(&["static", "vendor"]);
/// assert_eq!(settings.revision_tag(), "1f3a9c0d2b7e11");
/// assert_eq!(settings.static_dir_names().collect::<Vec<_>>(), ["static", "vendor"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSettings {
    /// The query parameter of the query form (`""` for the bare `a.css?<tag>` form).
    pub(crate) param: Cow<'static, str>,
    /// The revision tag the pages were built with, as `cdntag!()` gives it.
    pub(crate) revision_tag: Cow<'static, str>,
    /// Hex characters of a content tag.
    pub(crate) hash_length: usize,
    /// Whether the server is a release build. Only then is a revision tag trusted: a debug
    /// build serves a working tree that may hold uncommitted edits under the last commit's tag.
    pub(crate) release_build: bool,
    /// What the revision tag names, encoded (see `rules::revision_manifest`): for each static
    /// file whose bytes the revision holds, their digest as the build saw them. Empty when the
    /// revision names no files (a `SOURCE_DATE_EPOCH` date, which two builds of different
    /// files can share; settings made by hand): its tag is then never `immutable`.
    pub(crate) revision_manifest: Cow<'static, [u8]>,
    /// Where the tags go.
    pub(crate) tag_in: TagIn,
    /// What the tags are made from.
    pub(crate) mode: TagMode,
    /// The static dirs, as the manifest names them (relative to the crate), searched in order.
    pub(crate) static_dirs: StaticDirNames,
    /// The site's `static_url`, which every URL starts with: stylesheet references below it
    /// (`/static/img/a.png`) are tagged too.
    pub(crate) static_url: Cow<'static, str>,
}

/// The static dirs' names: a constant list in the settings `cdnsettings!()` emits, an owned
/// one in those the macros build from a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StaticDirNames {
    Constant(&'static [&'static str]),
    #[cfg_attr(not(feature = "resolve"), allow(dead_code))]
    Owned(Vec<String>),
}

impl SiteSettings {
    /// Settings from their parts, for a debug build of a site whose URLs carry revision tags
    /// in the query, whose static files are in `static/` and served under `/static/` (the
    /// defaults), and whose revision names no file until [`SiteSettings::revision_manifest`]
    /// says which; the other methods set the rest, as `cdnsettings!()` does.
    #[must_use]
    pub const fn new(param: &'static str, revision_tag: &'static str, hash_length: usize) -> Self {
        SiteSettings {
            param: Cow::Borrowed(param),
            revision_tag: Cow::Borrowed(revision_tag),
            hash_length,
            release_build: false,
            revision_manifest: Cow::Borrowed(&[]),
            tag_in: TagIn::Query,
            mode: TagMode::Vcs,
            static_dirs: StaticDirNames::Constant(&["static"]),
            static_url: Cow::Borrowed("/static/"),
        }
    }

    /// These settings for a release build (`true`) or a debug build: only a release build
    /// trusts a revision tag.
    #[must_use]
    pub const fn release_build(mut self, release_build: bool) -> Self {
        self.release_build = release_build;
        self
    }

    /// These settings with tags in the form `tag_in`.
    #[must_use]
    pub const fn tag_in(mut self, tag_in: TagIn) -> Self {
        self.tag_in = tag_in;
        self
    }

    /// These settings with tags made by `mode`.
    #[must_use]
    pub const fn mode(mut self, mode: TagMode) -> Self {
        self.mode = mode;
        self
    }

    /// These settings with what the revision tag names: the encoded manifest `cdnsettings!()`
    /// compiles in (the files whose bytes the revision holds, with their digests). Without one,
    /// a revision tag is never `immutable`.
    #[must_use]
    pub const fn revision_manifest(mut self, encoded: &'static [u8]) -> Self {
        forget_in_const(std::mem::replace(
            &mut self.revision_manifest,
            Cow::Borrowed(encoded),
        ));
        self
    }

    /// These settings with the site's `static_url`.
    #[must_use]
    pub const fn static_url(mut self, static_url: &'static str) -> Self {
        forget_in_const(std::mem::replace(
            &mut self.static_url,
            Cow::Borrowed(static_url),
        ));
        self
    }

    /// These settings with the static dirs `static_dirs`, in search order.
    #[must_use]
    pub const fn static_dirs(mut self, static_dirs: &'static [&'static str]) -> Self {
        forget_in_const(std::mem::replace(
            &mut self.static_dirs,
            StaticDirNames::Constant(static_dirs),
        ));
        self
    }

    /// The revision tag the pages were built with, as `cdntag!()` gives it.
    #[must_use]
    pub fn revision_tag(&self) -> &str {
        &self.revision_tag
    }

    /// The encoded manifest of what the revision tag names (empty if none).
    #[must_use]
    pub fn revision_manifest_bytes(&self) -> &[u8] {
        &self.revision_manifest
    }

    /// The static dirs' names, relative to the crate, in search order.
    pub fn static_dir_names(&self) -> impl Iterator<Item = &str> {
        let (constant, owned): (&[&str], &[String]) = match &self.static_dirs {
            StaticDirNames::Constant(names) => (names, &[]),
            StaticDirNames::Owned(names) => (&[], names),
        };
        constant
            .iter()
            .copied()
            .chain(owned.iter().map(String::as_str))
    }
}

/// Drops a value a `const fn` builder replaces: a `const fn` cannot run destructors, and what
/// these builders replace is the borrowed default of [`SiteSettings::new`] (owned values are
/// made only by the macros, which never call the builders), so nothing is leaked.
const fn forget_in_const<T>(replaced: T) {
    std::mem::forget(replaced);
}
