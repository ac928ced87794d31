//! How long browsers and CDNs may keep a static file, decided from the request URL alone.
//!
//! A URL that carries a cachekiller tag names one version of the file forever: the next
//! version gets another tag. So a tagged request can be cached for a year and marked
//! `immutable` (browsers then skip even the revalidation on reload). An untagged request
//! (a link typed by hand, a file referenced from CSS without a tag) must be revalidated, or a
//! deploy would leave browsers with the old bytes. No web framework is involved: call
//! [`cache_control_for`] from a middleware of any server (the axum example in
//! `tests/fixtures/axum-site` does it in a few lines).

use crate::url::is_url_unreserved;

/// `Cache-Control` of a tagged static file: a year, shared caches included, never revalidated.
pub const CACHE_CONTROL_TAGGED: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of an untagged static file: may be stored, but revalidated on every use
/// (cheap with the `ETag`/`Last-Modified` that static file servers send).
pub const CACHE_CONTROL_UNTAGGED: &str = "no-cache";

/// True if `query` (the part after `?`, without it) carries a cachekiller tag under `param`:
/// a `param=<tag>` pair, or, for the bare form (`param` empty), a pair that is a tag alone
/// (`a.css?4e1243`). A tag is non-empty and made of URL-unreserved characters.
#[must_use]
pub fn is_tagged(query: &str, param: &str) -> bool {
    query.split('&').any(|pair| {
        let tag = if param.is_empty() {
            Some(pair).filter(|pair| !pair.contains('='))
        } else {
            pair.strip_prefix(param)
                .and_then(|rest| rest.strip_prefix('='))
        };
        tag.is_some_and(|tag| !tag.is_empty() && is_url_unreserved(tag))
    })
}

/// The `Cache-Control` value for a request of a static file whose query is `query` (`None`
/// without a `?`): [`CACHE_CONTROL_TAGGED`] if it carries a tag under `param` (the `param` the
/// site's URLs are made with, `"tag"` by default), else [`CACHE_CONTROL_UNTAGGED`].
///
/// ```
/// use cachekiller_core::cache_policy::cache_control_for;
///
/// assert_eq!(cache_control_for(Some("v=2&tag=4b400e3aeb0426"), "tag"), "public, max-age=31536000, immutable");
/// assert_eq!(cache_control_for(None, "tag"), "no-cache");
/// ```
#[must_use]
pub fn cache_control_for(query: Option<&str>, param: &str) -> &'static str {
    if query.is_some_and(|query| is_tagged(query, param)) {
        CACHE_CONTROL_TAGGED
    } else {
        CACHE_CONTROL_UNTAGGED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::{join_static_url, split_url};

    #[test]
    fn tagged_and_untagged_requests() {
        // (query, param, tagged)
        let cases: &[(Option<&str>, &str, bool)] = &[
            (Some("tag=4b400e3aeb0426"), "tag", true),
            (Some("v=2&tag=4b400e3aeb0426"), "tag", true),
            (Some("tag=release-1.2_rc~1"), "tag", true),
            (Some("v=4b400e"), "v", true),
            (Some("4e1243"), "", true),
            (Some("x=1&4e1243"), "", true),
            (None, "tag", false),
            (Some(""), "tag", false),
            (Some("tag="), "tag", false),
            (Some("tag"), "tag", false),
            (Some("v=2"), "tag", false),
            (Some("xtag=4b40"), "tag", false),
            (Some("tag=a%20b"), "tag", false),
            (Some("x=1"), "", false),
        ];
        for &(query, param, tagged) in cases {
            assert_eq!(
                query.is_some_and(|query| is_tagged(query, param)),
                tagged,
                "{query:?} with {param:?}"
            );
            let expected = if tagged {
                CACHE_CONTROL_TAGGED
            } else {
                CACHE_CONTROL_UNTAGGED
            };
            assert_eq!(cache_control_for(query, param), expected, "{query:?}");
        }
    }

    #[test]
    fn every_url_cachekiller_makes_is_tagged() {
        for (path, param) in [
            ("a.css", "tag"),
            ("a.css?v=2", "tag"),
            ("i.svg#x", "tag"),
            ("a.css", ""),
            ("a.css?v=1", "h"),
        ] {
            let url = join_static_url("/static/", path, param, "4b400e3aeb0426");
            let query = split_url(&url).query;
            assert_eq!(
                cache_control_for(query, param),
                CACHE_CONTROL_TAGGED,
                "{url}"
            );
        }
    }
}
