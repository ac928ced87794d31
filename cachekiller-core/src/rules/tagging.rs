//! The one rule for a static file's tag and URL, used by `cdnstatic!` (with a call's options),
//! by the references a stylesheet's rewrite tags, by the service's verdict on a request's tag
//! and by the run-time URL API (with the site's settings):
//!
//! - the tag is the revision tag, or (content mode) the first `hash_length` hex digits of the
//!   SHA-1 of the bytes the service sends for the file: a stylesheet's *rewritten* bytes;
//! - it goes in the query (`app.css?tag=<tag>`) or in the file name (`app.<tag>.css`);
//! - a content tag names a version when it begins that SHA-1 and is long enough not to be a
//!   guess.
//!
//! Where to add a new kind of tag or URL form: here, and every side follows.

use crate::rules::error::{Error, Result};
use crate::rules::hash::content_tag;
#[cfg(feature = "service")]
use crate::rules::hash::{
    hex_prefix_matches, DEFAULT_HASH_LENGTH, MAX_HASH_LENGTH, MIN_HASH_LENGTH,
};
use crate::rules::settings::{SiteSettings, TagIn, TagMode};
use crate::rules::static_path::static_file_relative_path;
use crate::rules::static_url::encoded_static_path;
use crate::rules::url::{
    is_absolute_url, is_plain_relative_path, join_static_file_url, join_static_url, split_url,
    tag_in_file_name, tag_relative_url,
};

/// Which static paths a site's revision tag names (their bytes are the revision's): at compile
/// time the commit's tree and the work tree's status, at run time the manifest compiled into
/// the server (see `rules::revision_manifest`). A file the revision does not name gets a
/// content tag, in every mode: no commit holds its bytes.
pub trait RevisionNames: Sync {
    /// True if the revision names the file at the canonical static path `path`.
    fn names(&self, path: &str) -> bool;

    /// True if the configuration that shapes tagged URLs (`static_url`, `tag_in`, `param`,
    /// `hash_length`) is the revision's: a stylesheet's references are written by it, so its
    /// rewrite is the revision's only then.
    fn names_configuration(&self) -> bool {
        true
    }
}

impl RevisionNames for crate::rules::revision_manifest::RevisionManifest {
    fn names(&self, path: &str) -> bool {
        crate::rules::revision_manifest::RevisionManifest::names(self, path)
    }
}

/// How tags are made and placed: a site's settings, or one macro call's (the site's with the
/// call's options applied).
#[derive(Clone, Copy)]
pub struct Tagger<'a> {
    /// The prefix of every URL; root-relative references below it name static files.
    pub(crate) static_url: &'a str,
    /// Query or file-name form.
    pub(crate) tag_in: TagIn,
    /// The query parameter of the query form (`""` for the bare `?<tag>` form).
    pub(crate) param: &'a str,
    /// Revision or content tags.
    pub(crate) mode: TagMode,
    /// The revision tag, or why there is none (a broken repository): an error only where a
    /// revision tag is needed.
    pub(crate) revision_tag: std::result::Result<&'a str, &'a Error>,
    /// Hex digits of a content tag.
    pub(crate) hash_length: usize,
    /// Which files the revision names; `None` when that is not known (settings made by hand):
    /// every file then gets the revision tag in VCS mode.
    pub(crate) revision_names: Option<&'a dyn RevisionNames>,
}

impl std::fmt::Debug for Tagger<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Tagger")
            .field("static_url", &self.static_url)
            .field("tag_in", &self.tag_in)
            .field("param", &self.param)
            .field("mode", &self.mode)
            .field("revision_tag", &self.revision_tag)
            .field("hash_length", &self.hash_length)
            .field("revision_names", &self.revision_names.is_some())
            .finish()
    }
}

impl<'a> Tagger<'a> {
    /// The tagger of a site: how its stylesheets' references, its run-time URLs and the
    /// service's verdicts tag files.
    #[must_use]
    pub fn of_site(settings: &'a SiteSettings) -> Self {
        Tagger {
            static_url: &settings.static_url,
            tag_in: settings.tag_in,
            param: &settings.param,
            mode: settings.mode,
            revision_tag: Ok(&settings.revision_tag),
            hash_length: settings.hash_length,
            revision_names: None,
        }
    }

    /// This tagger, knowing which files the revision names.
    #[must_use]
    pub fn with_revision_names(mut self, names: &'a dyn RevisionNames) -> Self {
        self.revision_names = Some(names);
        self
    }

    /// The revision tag.
    ///
    /// # Errors
    /// Why the crate has none (its repository cannot be read).
    pub(crate) fn revision_tag(&self) -> Result<&'a str> {
        self.revision_tag.map_err(Clone::clone)
    }

    /// True if the revision names the file at the canonical static path `path` (its bytes are
    /// the revision's), or if which files it names is not known.
    pub(crate) fn revision_names(&self, path: &str) -> bool {
        self.revision_names.is_none_or(|names| names.names(path))
    }

    /// True if the file at the canonical static path `path` gets the revision tag: in VCS
    /// mode, when the revision names it.
    pub(crate) fn takes_revision_tag(&self, path: &str) -> bool {
        self.mode == TagMode::Vcs && self.revision_names(path)
    }

    /// True if the revision names the configuration these tags are placed by (see
    /// [`RevisionNames::names_configuration`]); true when what it names is not known.
    pub(crate) fn names_configuration(&self) -> bool {
        self.revision_names
            .is_none_or(RevisionNames::names_configuration)
    }

    /// The tag of the file at the canonical static path `path`: the revision, or the content
    /// tag of the SHA-1 `sha1` gives (called only when the file's bytes decide its tag: in
    /// content mode, for a file the revision does not name, and for a stylesheet that
    /// `depends_on_uncommitted` files, whose bytes then hold tags of bytes no commit holds).
    ///
    /// # Errors
    /// No revision tag, or the error of `sha1`.
    pub(crate) fn tag(
        &self,
        path: &str,
        depends_on_uncommitted: bool,
        sha1: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<String> {
        if self.takes_revision_tag(path) && !depends_on_uncommitted {
            self.revision_tag().map(str::to_owned)
        } else {
            Ok(self.content_tag(&sha1()?))
        }
    }

    /// The content tag of bytes whose SHA-1 is `sha1`.
    pub(crate) fn content_tag(&self, sha1: &[u8]) -> String {
        content_tag(sha1, self.hash_length)
    }

    /// The URL of the static path `path` (as a template writes it: escapes decoded, a query or
    /// fragment kept) with `tag`.
    ///
    /// # Errors
    /// The file-name form for an absolute URL, or for a tag with a `.` in it (it would be read
    /// back as part of the name); a path the one path rule refuses.
    pub(crate) fn url(&self, path: &str, tag: &str) -> Result<String> {
        let location = split_url(path).location;
        if is_absolute_url(location) {
            return match self.tag_in {
                TagIn::Query => Ok(join_static_url(self.static_url, path, self.param, tag)),
                TagIn::Name => Err(Error::TagInNameOfAbsoluteUrl {
                    url: path.to_owned(),
                }),
            };
        }
        if is_plain_relative_path(path) {
            return self.file_url(path, "", tag);
        }
        // A static file's URL names its canonical path (`css//./a%2Ecss` is `css/a.css`, as
        // the service reads it), with the query and fragment as written.
        let relative = static_file_relative_path(path)?.unwrap_or_default();
        self.file_url(&relative, &path[location.len()..], tag)
    }

    /// The URL of the static file at the canonical (decoded) path `relative`, with the query
    /// and fragment `suffix` as written (`?v=2#x`, or `""`), tagged with `tag`. Every byte of
    /// the path that is not URL-safe is encoded, `%`, `?` and `#` included, so that the
    /// browser and the service decode it back to `relative` (`a%41.js` is `a%2541.js`).
    ///
    /// # Errors
    /// The file-name form with a tag that holds a `.`.
    pub(crate) fn file_url(&self, relative: &str, suffix: &str, tag: &str) -> Result<String> {
        match self.tag_in {
            TagIn::Query => {
                // The common path needs no encoding.
                if suffix.is_empty() && is_plain_relative_path(relative) {
                    return Ok(join_static_url(self.static_url, relative, self.param, tag));
                }
                Ok(join_static_file_url(
                    self.static_url,
                    &encoded_static_path(relative),
                    suffix,
                    Some((self.param, tag)),
                ))
            }
            TagIn::Name => {
                if tag.contains('.') {
                    return Err(Error::TagWithDotInName {
                        tag: tag.to_owned(),
                    });
                }
                let named = tag_in_file_name(relative, tag);
                Ok(join_static_file_url(
                    self.static_url,
                    &encoded_static_path(&named),
                    suffix,
                    None,
                ))
            }
        }
    }

    /// A reference as a stylesheet's author wrote it (relative to the stylesheet, or below
    /// the static URL), with `tag` added in the same form as the URLs.
    pub(crate) fn tagged_reference(&self, written: &str, tag: &str) -> String {
        tag_relative_url(written, self.tag_in, self.param, tag)
    }

    /// True if `tag` is a content tag of the bytes whose SHA-1 is `sha1`: it begins that
    /// SHA-1's hex and has from the site's `hash_length` (or 6, the default, if that is
    /// shorter: a call's `hash_length` may make longer tags) to 40 digits.
    #[cfg(feature = "service")]
    pub(crate) fn names_bytes(&self, tag: &str, sha1: &[u8]) -> bool {
        self.accepts_content_tag_length(tag) && hex_prefix_matches(sha1, tag)
    }

    /// True if `tag` could be a content tag of some bytes: lower-case hex of a length
    /// [`Tagger::names_bytes`] accepts.
    #[cfg(feature = "archive")]
    pub(crate) fn could_name_bytes(&self, tag: &str) -> bool {
        self.accepts_content_tag_length(tag)
            && tag
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    }

    #[cfg(feature = "service")]
    /// True if `tag` is as long as a content tag this site accepts.
    fn accepts_content_tag_length(&self, tag: &str) -> bool {
        let shortest = self.hash_length.clamp(MIN_HASH_LENGTH, DEFAULT_HASH_LENGTH);
        (shortest..=MAX_HASH_LENGTH).contains(&tag.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::hash::{digest_of_bytes, DigestAlgorithm};

    #[test]
    fn the_tag_of_each_mode_and_its_place() {
        let bytes = b"body { color: red }\n";
        let sha1 = digest_of_bytes(bytes, DigestAlgorithm::Sha1);
        let settings = SiteSettings::new("v", "0123456789abcd", 8).release_build(true);
        let cases = [
            (
                TagMode::Vcs,
                TagIn::Query,
                "/static/css/a.css?v=0123456789abcd",
            ),
            (
                TagMode::Vcs,
                TagIn::Name,
                "/static/css/a.0123456789abcd.css",
            ),
            (
                TagMode::Content,
                TagIn::Query,
                "/static/css/a.css?v=<content>",
            ),
            (TagMode::Content, TagIn::Name, "/static/css/a.<content>.css"),
        ];
        // The oracle for the content tag: `sha1sum`, not our hex code.
        let expected_content = crate::test_support::sha1sum_of_bytes(bytes)[..8].to_owned();
        for (mode, tag_in, expected) in cases {
            let settings = settings.clone().mode(mode).tag_in(tag_in);
            let tagger = Tagger::of_site(&settings);
            let tag = tagger.tag("css/a.css", false, || Ok(sha1.clone())).unwrap();
            assert_eq!(
                tagger.url("css/a.css", &tag).unwrap(),
                expected.replace("<content>", &expected_content),
                "{mode:?} {tag_in:?}"
            );
        }
    }

    #[test]
    fn the_name_form_refuses_what_it_cannot_read_back() {
        let settings = SiteSettings::new("tag", "1.2", 6)
            .release_build(true)
            .tag_in(TagIn::Name);
        let tagger = Tagger::of_site(&settings);
        assert!(matches!(
            tagger.url("css/a.css", "1.2"),
            Err(Error::TagWithDotInName { .. })
        ));
        assert!(matches!(
            tagger.url("https://cdn.example.com/a.css", "abc"),
            Err(Error::TagInNameOfAbsoluteUrl { .. })
        ));
    }

    #[cfg(feature = "service")]
    #[test]
    fn a_content_tag_names_bytes_from_the_trusted_length_to_the_whole_sha1() {
        let sha1 = digest_of_bytes(b"x", DigestAlgorithm::Sha1);
        let hex = crate::rules::hash::to_hex(&sha1);
        for (hash_length, tag_length, names) in [
            (6, 6, true),
            (6, 5, false),
            (6, 40, true),
            (8, 6, true), // a site's longer hash_length never refuses the default's tags
            (3, 3, true),
            (3, 2, false),
            (12, 11, true),
        ] {
            let settings = SiteSettings::new("tag", "r", hash_length).release_build(true);
            assert_eq!(
                Tagger::of_site(&settings).names_bytes(&hex[..tag_length], &sha1),
                names,
                "hash_length {hash_length}, tag of {tag_length}"
            );
        }
        let settings = SiteSettings::new("tag", "r", 6).release_build(true);
        let other = digest_of_bytes(b"y", DigestAlgorithm::Sha1);
        assert!(!Tagger::of_site(&settings).names_bytes(&hex[..8], &other));
        assert!(!Tagger::of_site(&settings).names_bytes(&hex[..8].to_uppercase(), &sha1));
    }
}
