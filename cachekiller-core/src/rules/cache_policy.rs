//! How long browsers and CDNs may keep a static response, decided from what the request's tag
//! says about the bytes that answer it.
//!
//! A tag names one version of a file: the next version gets another tag. So a response may be
//! cached for a year and marked `immutable` (browsers then skip even the revalidation on
//! reload) when, and only when, its tag is the tag of the bytes in it. A well-formed tag is not
//! enough: in a rolling deploy the new page asks for `app.css?tag=<new>`, a still-old instance
//! answers with the old bytes, and a year-long header would keep those old bytes under the new
//! URL in every cache. Any other tag, and no tag, gets `no-cache`: stored, but revalidated.
//! `service::StaticFiles` (feature `service`) makes the decision for every request;
//! a server of its own can use [`TagVerdict`] and [`query_tag`] the same way.

use crate::rules::url::is_url_unreserved;

/// `Cache-Control` of a response whose tag names its bytes: a year, shared caches included,
/// never revalidated.
pub const CACHE_CONTROL_TAGGED: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of every other static response: may be stored, but revalidated on every
/// use (cheap with the `ETag`/`Last-Modified` that static file servers send).
pub const CACHE_CONTROL_UNTAGGED: &str = "no-cache";

/// What a request's tag says about the bytes that answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagVerdict {
    /// No tag (a link typed by hand, a file referenced from CSS without one).
    Untagged,
    /// The tag is provably the tag of these bytes.
    Current,
    /// A tag of other bytes (another deploy's, a future one, a typo), or one that cannot be
    /// proven here (a revision tag in a debug build).
    Other,
}

impl TagVerdict {
    /// The `Cache-Control` value: [`CACHE_CONTROL_TAGGED`] for [`TagVerdict::Current`], else
    /// [`CACHE_CONTROL_UNTAGGED`].
    ///
    /// ```
    /// use cachekiller_core::cache_policy::TagVerdict;
    ///
    /// assert_eq!(TagVerdict::Current.cache_control(), "public, max-age=31536000, immutable");
    /// assert_eq!(TagVerdict::Other.cache_control(), "no-cache");
    /// ```
    #[must_use]
    pub fn cache_control(self) -> &'static str {
        match self {
            TagVerdict::Current => CACHE_CONTROL_TAGGED,
            TagVerdict::Untagged | TagVerdict::Other => CACHE_CONTROL_UNTAGGED,
        }
    }
}

/// The tag in `query` (the part after `?`, without it) under `param`: the value of a
/// `param=<tag>` pair, or, for the bare form (`param` empty), a pair that is a tag alone
/// (`a.css?4e1243`). A tag is non-empty and made of URL-unreserved characters; the last
/// such pair wins, as cachekiller appends its tag after any query already there.
///
/// ```
/// use cachekiller_core::cache_policy::query_tag;
///
/// assert_eq!(query_tag("v=2&tag=4b400e3aeb0426", "tag"), Some("4b400e3aeb0426"));
/// assert_eq!(query_tag("4e1243", ""), Some("4e1243"));
/// assert_eq!(query_tag("v=2", "tag"), None);
/// ```
#[must_use]
pub fn query_tag<'a>(query: &'a str, param: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| {
            if param.is_empty() {
                Some(pair).filter(|pair| !pair.contains('='))
            } else {
                pair.strip_prefix(param)
                    .and_then(|rest| rest.strip_prefix('='))
            }
        })
        .rfind(|tag| !tag.is_empty() && is_url_unreserved(tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::url::{join_static_url, split_url};

    #[test]
    fn the_tag_of_a_query() {
        // (query, param, tag)
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("tag=4b400e3aeb0426", "tag", Some("4b400e3aeb0426")),
            ("v=2&tag=4b400e3aeb0426", "tag", Some("4b400e3aeb0426")),
            ("tag=release-1.2_rc~1", "tag", Some("release-1.2_rc~1")),
            ("v=4b400e", "v", Some("4b400e")),
            ("4e1243", "", Some("4e1243")),
            ("x=1&4e1243", "", Some("4e1243")),
            ("tag=old&tag=new", "tag", Some("new")),
            ("", "tag", None),
            ("tag=", "tag", None),
            ("tag", "tag", None),
            ("v=2", "tag", None),
            ("xtag=4b40", "tag", None),
            ("tag=a%20b", "tag", None),
            ("x=1", "", None),
        ];
        for &(query, param, tag) in cases {
            assert_eq!(query_tag(query, param), tag, "{query:?} with {param:?}");
        }
    }

    #[test]
    fn every_url_cachekiller_makes_carries_its_tag() {
        for (path, param) in [
            ("a.css", "tag"),
            ("a.css?v=2", "tag"),
            ("i.svg#x", "tag"),
            ("a.css", ""),
            ("a.css?v=1", "h"),
        ] {
            let url = join_static_url("/static/", path, param, "4b400e3aeb0426");
            let query = split_url(&url).query.unwrap_or_default();
            assert_eq!(query_tag(query, param), Some("4b400e3aeb0426"), "{url}");
        }
    }

    #[test]
    fn only_a_current_tag_is_immutable() {
        assert_eq!(TagVerdict::Current.cache_control(), CACHE_CONTROL_TAGGED);
        assert_eq!(TagVerdict::Other.cache_control(), CACHE_CONTROL_UNTAGGED);
        assert_eq!(TagVerdict::Untagged.cache_control(), CACHE_CONTROL_UNTAGGED);
    }
}
