//! The one rule for the URLs of static files that the stylesheet rewrite and the import map
//! read: the site's `static_url` parsed once, and a reference written in a static file
//! (`url(../img/a.png)`, `import "./ui.js"`) resolved against that file's URL as a browser
//! resolves it (the WHATWG URL Standard: a backslash is a slash, dot segments go, `%2e` and
//! `%2E` are dots, `..` stops at the root, the query and fragment are split off), then the
//! part below the static URL decoded and made canonical by the one path rule
//! ([`static_file_relative_path`]). The macros' paths, the run-time API and the service's
//! requests go through that same path rule; node's `new URL` is the tests' oracle.

use std::borrow::Cow;

use crate::rules::error::Error;
use crate::rules::static_path::static_file_relative_path;
use crate::rules::url::{has_scheme, split_url};

/// A site's `static_url`, parsed: what every static URL starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaticUrl<'a> {
    /// As configured.
    written: &'a str,
    /// `https://cdn.example.com` of an absolute `static_url`, `""` of a rooted one.
    origin: &'a str,
    /// The path, starting and ending with `/`: `/static/`.
    path: Cow<'a, str>,
}

/// Where a reference leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference<'a> {
    /// Not a static file of ours: a URL with a scheme or another host, a rooted path outside
    /// the static URL, an empty or fragment-only reference.
    NotOurs,
    /// Above the static URL's path: a URL of the site, not a static file.
    Outside,
    /// The static file at the canonical path `relative`.
    Static {
        /// The canonical static path (decoded).
        relative: String,
        /// The query and fragment as written (`?v=2#x`, or `""`).
        suffix: &'a str,
        /// The URL the browser requests for it (origin, path encoded as the browser encodes
        /// it, and the suffix).
        requested: String,
    },
    /// A path the one path rule refuses (`%2F`, a NUL byte, escapes that are not UTF-8).
    Refused(Error),
}

impl<'a> StaticUrl<'a> {
    /// `static_url` parsed.
    pub(crate) fn parse(static_url: &'a str) -> Self {
        let (origin, rest) = if is_external(static_url) {
            let after_authority = static_url.find("//").map_or(0, |slashes| slashes + 2);
            let path_start = static_url[after_authority..]
                .find('/')
                .map_or(static_url.len(), |slash| after_authority + slash);
            (&static_url[..path_start], &static_url[path_start..])
        } else {
            ("", static_url)
        };
        let path = match (rest.starts_with('/'), rest.ends_with('/')) {
            (true, true) => Cow::Borrowed(rest),
            (true, false) => Cow::Owned(format!("{rest}/")),
            (false, true) => Cow::Owned(format!("/{rest}")),
            (false, false) if rest.is_empty() => Cow::Borrowed("/"),
            (false, false) => Cow::Owned(format!("/{rest}/")),
        };
        StaticUrl {
            written: static_url,
            origin,
            path,
        }
    }

    /// True for a `static_url` with a scheme or a host (a CDN's).
    pub(crate) fn is_absolute(&self) -> bool {
        !self.origin.is_empty()
    }

    /// The path every static URL starts with: `/static/`.
    #[cfg(test)]
    fn path(&self) -> &str {
        &self.path
    }

    /// The rest of an absolute `url` that begins with the whole of an absolute `static_url`
    /// (`https://cdn.example.com/static/img/a.png`): Django and Propshaft treat those as static
    /// references too.
    fn below_absolute<'u>(&self, url: &'u str) -> Option<&'u str> {
        if !self.is_absolute() {
            return None;
        }
        let prefix = self.written.trim_end_matches('/');
        url.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('/'))
    }

    /// Resolves `reference`, written in the static file at the canonical path `base`, as a
    /// browser resolves it against that file's URL (see the module docs).
    pub(crate) fn resolve<'r>(&self, base: &str, reference: &'r str) -> Reference<'r> {
        if reference.is_empty() || reference.starts_with('#') {
            return Reference::NotOurs;
        }
        let parts = split_url(reference);
        let suffix = &reference[parts.location.len()..];
        if parts.location.is_empty() {
            // `?v=2`: the base itself with another query. Not a file reference of ours.
            return Reference::NotOurs;
        }
        let location = if parts.location.contains('\\') {
            Cow::Owned(parts.location.replace('\\', "/"))
        } else {
            Cow::Borrowed(parts.location)
        };
        let requested = if let Some(below) = self.below_absolute(&location) {
            format!("{}{below}", self.path)
        } else if is_external(&location) {
            return Reference::NotOurs;
        } else if location.starts_with('/') {
            location.into_owned()
        } else {
            let base_url = format!("{}{}", self.path, browser_encoded(base, BrowserPart::Path));
            format!(
                "{}{location}",
                &base_url[..=base_url.rfind('/').unwrap_or(0)]
            )
        };
        let path = remove_dot_segments(&requested);
        let Some(below) = path.strip_prefix(self.path.as_ref()) else {
            return if parts.location.starts_with('/') && !is_external(parts.location) {
                Reference::NotOurs
            } else {
                Reference::Outside
            };
        };
        match static_file_relative_path(below) {
            Ok(Some(relative)) => Reference::Static {
                relative: relative.into_owned(),
                suffix,
                requested: format!(
                    "{}{}{}",
                    self.origin,
                    browser_encoded(&path, BrowserPart::Path),
                    browser_encoded(suffix, BrowserPart::QueryAndFragment)
                ),
            },
            Ok(None) => Reference::NotOurs,
            Err(Error::EmptyStaticPath) => Reference::Outside,
            Err(error) => Reference::Refused(error),
        }
    }
}

/// True for a URL with a scheme (`https:`, `data:`) or a protocol-relative one (`//host/…`):
/// not below a rooted `static_url`.
pub(crate) fn is_external(url: &str) -> bool {
    has_scheme(url) || url.starts_with("//")
}

/// True for a path segment a browser reads as `.`: `.`, `%2e`, `%2E`.
fn is_single_dot(segment: &str) -> bool {
    segment == "." || segment.eq_ignore_ascii_case("%2e")
}

/// True for a path segment a browser reads as `..`: `..`, `.%2e`, `%2e.`, `%2e%2e`, in any
/// case.
fn is_double_dot(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(lower.as_str(), ".." | ".%2e" | "%2e." | "%2e%2e")
}

/// The rooted path `path` with its dot segments removed as the WHATWG URL Standard's path
/// parser removes them: `..` drops the segment before it (none at the root), and a path that
/// ends with a dot segment ends with `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut ends_in_directory = false;
    for segment in path.split('/').skip(1) {
        ends_in_directory = false;
        if is_double_dot(segment) {
            segments.pop();
            ends_in_directory = true;
        } else if is_single_dot(segment) {
            ends_in_directory = true;
        } else {
            segments.push(segment);
        }
    }
    let mut resolved = String::with_capacity(path.len());
    for segment in &segments {
        resolved.push('/');
        resolved.push_str(segment);
    }
    if ends_in_directory || resolved.is_empty() {
        resolved.push('/');
    }
    resolved
}

/// Which part of a URL text is, for [`browser_encoded`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BrowserPart {
    Path,
    QueryAndFragment,
}

/// `text` percent-encoded as a browser's URL parser encodes that part (the WHATWG URL
/// standard's path, query and fragment percent-encode sets): what is already an escape stays
/// as written (`%41` is not `A` to the browser), so that an import map's key is the URL the
/// browser looks up.
pub(crate) fn browser_encoded(text: &str, part: BrowserPart) -> String {
    use std::fmt::Write as _;
    let mut encoded = String::with_capacity(text.len());
    let mut in_fragment = false;
    for character in text.chars() {
        if character == '#' {
            in_fragment = true;
        }
        let escape = match character {
            character if !character.is_ascii() => true,
            character if character.is_ascii_control() => true,
            ' ' | '"' | '<' | '>' => true,
            '`' => part == BrowserPart::Path || in_fragment,
            '{' | '}' => part == BrowserPart::Path,
            '\'' => part == BrowserPart::QueryAndFragment && !in_fragment,
            _ => false,
        };
        if escape {
            let mut bytes = [0; 4];
            for byte in character.encode_utf8(&mut bytes).bytes() {
                let _ = write!(encoded, "%{byte:02X}");
            }
        } else {
            encoded.push(character);
        }
    }
    encoded
}

/// The canonical static path `relative` (decoded) as a URL path: every byte that is not
/// unreserved, `/` or a safe sub-delimiter percent-encoded, `%`, `?` and `#` included, so that
/// the browser and the service decode it back to exactly this path.
pub(crate) fn encoded_static_path(relative: &str) -> String {
    use std::fmt::Write as _;
    let mut encoded = String::with_capacity(relative.len() + 8);
    for byte in relative.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$()*+,;=:@".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(static_url: &str, base: &str, reference: &str) -> Option<(String, String)> {
        match StaticUrl::parse(static_url).resolve(base, reference) {
            Reference::Static {
                relative,
                requested,
                ..
            } => Some((relative, requested)),
            _ => None,
        }
    }

    #[test]
    fn references_resolve_as_a_browser_resolves_them() {
        // (base, reference, canonical path, the URL the browser requests); node's `new URL`
        // gives the same (see tests/tests/one_url_rule.rs).
        let cases = [
            (
                "css/app.css",
                "../img/a.png",
                "img/a.png",
                "/static/img/a.png",
            ),
            (
                "css/app.css",
                "img/a.png?v=2#x",
                "css/img/a.png",
                "/static/css/img/a.png?v=2#x",
            ),
            ("js/app.js", "./%2e%2e/top.js", "top.js", "/static/top.js"),
            ("js/app.js", "./%2E%2e/top.js", "top.js", "/static/top.js"),
            ("js/app.js", "./sub/.%2e/b.js", "js/b.js", "/static/js/b.js"),
            ("js/app.js", "./sub/%2e./b.js", "js/b.js", "/static/js/b.js"),
            ("js/app.js", "./%2e/b.js", "js/b.js", "/static/js/b.js"),
            (
                "js/app.js",
                ".\\sub\\b.js",
                "js/sub/b.js",
                "/static/js/sub/b.js",
            ),
            ("js/app.js", "/static/js/x.js", "js/x.js", "/static/js/x.js"),
            ("js/a b.js", "./c d.js", "js/c d.js", "/static/js/c%20d.js"),
            (
                "js/app.js",
                "./a%2541.js",
                "js/a%41.js",
                "/static/js/a%2541.js",
            ),
            (
                "js/app.js",
                "./a%23b.js",
                "js/a#b.js",
                "/static/js/a%23b.js",
            ),
            (
                "js/app.js",
                "./a%3Fb.js",
                "js/a?b.js",
                "/static/js/a%3Fb.js",
            ),
        ];
        for (base, reference, relative, requested) in cases {
            assert_eq!(
                resolved("/static/", base, reference),
                Some((relative.to_owned(), requested.to_owned())),
                "{reference} from {base}"
            );
        }
        assert_eq!(
            resolved(
                "https://cdn.example.com/static/",
                "js/app.js",
                "https://cdn.example.com/static/lib/x.js"
            ),
            Some((
                "lib/x.js".to_owned(),
                "https://cdn.example.com/static/lib/x.js".to_owned()
            ))
        );
        let static_url = StaticUrl::parse("/static/");
        for (reference, expected) in [
            ("https://cdn.example.com/x.js", Reference::NotOurs),
            ("//cdn.example.com/x.js", Reference::NotOurs),
            ("data:image/png;base64,AAAA", Reference::NotOurs),
            ("/img/root.png", Reference::NotOurs),
            ("#mark", Reference::NotOurs),
            ("../../../above.png", Reference::Outside),
            ("./%2e%2e/%2e%2e/%2e%2e/x.js", Reference::Outside),
        ] {
            assert_eq!(
                static_url.resolve("css/app.css", reference),
                expected,
                "{reference}"
            );
        }
        assert!(matches!(
            static_url.resolve("js/app.js", "./a%2Fb.js"),
            Reference::Refused(_)
        ));
    }

    #[test]
    fn a_static_url_parses_into_origin_and_path() {
        for (static_url, absolute, path) in [
            ("/static/", false, "/static/"),
            ("/static", false, "/static/"),
            ("static/", false, "/static/"),
            ("/", false, "/"),
            ("https://cdn.example.com/static/", true, "/static/"),
            ("https://cdn.example.com", true, "/"),
            ("//cdn.example.com/assets", true, "/assets/"),
        ] {
            let parsed = StaticUrl::parse(static_url);
            assert_eq!(parsed.is_absolute(), absolute, "{static_url}");
            assert_eq!(parsed.path(), path, "{static_url}");
        }
    }

    #[test]
    fn a_canonical_path_is_encoded_so_that_it_decodes_back() {
        assert_eq!(encoded_static_path("js/a%41.js"), "js/a%2541.js");
        assert_eq!(encoded_static_path("js/a#b.js"), "js/a%23b.js");
        assert_eq!(encoded_static_path("js/a?b.js"), "js/a%3Fb.js");
        assert_eq!(
            encoded_static_path("img/team photo.png"),
            "img/team%20photo.png"
        );
        assert_eq!(
            encoded_static_path("img/日本.png"),
            "img/%E6%97%A5%E6%9C%AC.png"
        );
        for path in ["js/a%41.js", "js/a#b.js", "a?b&c'd.js", "日本/x y.css"] {
            assert_eq!(
                crate::rules::url::percent_decode(&encoded_static_path(path)).unwrap(),
                path
            );
        }
    }
}
