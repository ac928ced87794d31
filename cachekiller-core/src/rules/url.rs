//! Composing a cache-busting URL from a static path, the static URL prefix and a tag.
//!
//! django-cachekiller splits the URL with `urlsplit`, appends `tag=<rev>` to the query and joins
//! it back; we keep that behaviour (an existing query is kept, a fragment stays last) and add
//! what a compile-time macro can promise on top: the result is already percent-encoded, so it is
//! a valid URL and safe inside a quoted HTML attribute before any template engine escapes it.

use std::borrow::Cow;

#[cfg(any(feature = "resolve", feature = "service"))]
use crate::rules::settings::TagIn;

/// Characters kept as they are in the path of the URL: ASCII letters and digits, the rest of the
/// RFC 3986 unreserved characters, `/`, and the sub-delimiters and `:`/`@` that carry no risk in
/// HTML. `&` and `'` are left out on purpose: `&` could start a character reference and `'`
/// would end a single-quoted attribute.
const PATH_SAFE: &[bool; 256] = &safe_table(b"-._~/!$()*+,;=:@");

/// Characters kept as they are in a query or fragment written by the user: the path's, plus the
/// separators that give a query its structure.
const QUERY_SAFE: &[bool; 256] = &safe_table(b"-._~/!$()*+,;=:@?&");

/// A byte-indexed table (one lookup per byte, cheap even in the unoptimized builds proc
/// macros usually get): ASCII letters, digits and `extra` are safe.
const fn safe_table(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte: u8 = 0;
    loop {
        table[byte as usize] = byte.is_ascii_alphanumeric();
        if byte == u8::MAX {
            break;
        }
        byte += 1;
    }
    let mut index = 0;
    while index < extra.len() {
        table[extra[index] as usize] = true;
        index += 1;
    }
    table
}

/// Characters of a "plain" relative path: letters, digits, `-`, `.`, `_`, `~` and `/`. No `%`,
/// `?`, `#` or `:`, so such a path has no escape, query, fragment, scheme or drive.
const PLAIN: &[bool; 256] = &safe_table(b"-._~/");

/// True for the common static path, `css/app.css`: relative, made of `PLAIN` characters,
/// with no `..` component and no leading `/`. It needs no splitting, decoding or encoding, and
/// one loop over its bytes (an index loop: no iterator calls in the unoptimized builds proc
/// macros usually get) says so.
#[must_use]
pub(crate) fn is_plain_relative_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.is_empty() || bytes[0] == b'/' {
        return false;
    }
    let mut index = 0;
    // Where the current component starts, to spot a `..` component.
    let mut component_start = 0;
    while index <= bytes.len() {
        if index == bytes.len() || bytes[index] == b'/' {
            if index - component_start == 2
                && bytes[component_start] == b'.'
                && bytes[component_start + 1] == b'.'
            {
                return false;
            }
            component_start = index + 1;
        } else if !PLAIN[bytes[index] as usize] {
            return false;
        }
        index += 1;
    }
    true
}

/// True if every byte of `text` is in `table` (an index loop, as [`is_plain_relative_path`]).
fn all_in(text: &str, table: &[bool; 256]) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if !table[bytes[index] as usize] {
            return false;
        }
        index += 1;
    }
    true
}

/// The parts of a URL as `urlsplit` would see them: everything before the query, the query
/// without its `?`, and the fragment without its `#`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// The scheme, authority and path, or just the path of a relative URL.
    pub(crate) location: &'a str,
    /// The query after `?`, if the URL has a `?` (it may be empty).
    pub(crate) query: Option<&'a str>,
    /// The fragment after `#`, if the URL has a `#` (it may be empty).
    pub(crate) fragment: Option<&'a str>,
}

/// Splits `url` into location, query and fragment: the fragment starts at the first `#`, the
/// query at the first `?` before it.
#[must_use]
pub(crate) fn split_url(url: &str) -> UrlParts<'_> {
    // Byte searches: `#` and `?` are ASCII, so the indices are on character boundaries.
    let (before_fragment, fragment) = match url.bytes().position(|byte| byte == b'#') {
        Some(index) => (&url[..index], Some(&url[index + 1..])),
        None => (url, None),
    };
    let (location, query) = match before_fragment.bytes().position(|byte| byte == b'?') {
        Some(index) => (
            &before_fragment[..index],
            Some(&before_fragment[index + 1..]),
        ),
        None => (before_fragment, None),
    };
    UrlParts {
        location,
        query,
        fragment,
    }
}

/// True for URLs that must not be prefixed with the static URL: protocol-relative ones
/// (`//cdn.example.com/x.js`) and those with a scheme and authority (`https://…`).
#[must_use]
pub(crate) fn is_absolute_url(url: &str) -> bool {
    if url.starts_with("//") {
        return true;
    }
    // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), here followed by "://".
    // Requiring the authority keeps a file called `notes:v2.txt` a relative path.
    match url.split_once("://") {
        Some((scheme, _)) => {
            let mut characters = scheme.chars();
            characters
                .next()
                .is_some_and(|first| first.is_ascii_alphabetic())
                && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Percent-encodes every byte of `text` (as UTF-8) that is neither an ASCII letter or digit nor
/// in `safe`; an existing `%XX` escape is kept as it is, a lone `%` becomes `%25`.
fn percent_encode(text: &str, safe: &[bool; 256], output: &mut String) {
    let bytes = text.as_bytes();
    // Almost every static path is already URL-safe: copy it whole.
    if bytes.iter().all(|&byte| safe[usize::from(byte)]) {
        output.push_str(text);
        return;
    }
    for (index, &byte) in bytes.iter().enumerate() {
        let is_escape = byte == b'%'
            && bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit);
        if safe[usize::from(byte)] || is_escape {
            output.push(char::from(byte));
        } else {
            output.push('%');
            output.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            output.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 0x0F)]));
        }
    }
}

/// Builds the cache-busting URL of `path`.
///
/// A relative `path` is appended to `static_url` (a `/` is put between them if `static_url` does
/// not end with one, and leading `/` of `path` are dropped, as Django's static storage does);
/// an absolute URL (`is_absolute_url`) is used as it is. The tag is then added to the query as
/// `param=tag`, after any query already there, and before the fragment. An empty `param` gives
/// the bare form `a.css?4e1243` of `HashPathStaticFilesStorage`.
///
/// ```
/// use cachekiller_core::url::join_static_url;
///
/// assert_eq!(join_static_url("/static/", "a.css?v=2#top", "tag", "0123abcd"),
///            "/static/a.css?v=2&tag=0123abcd#top");
/// assert_eq!(join_static_url("/static/", "my file.css", "tag", "0123abcd"),
///            "/static/my%20file.css?tag=0123abcd");
/// ```
#[must_use]
pub fn join_static_url(static_url: &str, path: &str, param: &str, tag: &str) -> String {
    let plain_param = param.is_empty() || is_plain_relative_path(param);
    if is_plain_relative_path(path)
        && plain_param
        && is_plain_relative_path(tag)
        && static_url.ends_with('/')
        && all_in(static_url, PATH_SAFE)
    {
        // Nothing to split or encode: one allocation, a few copies.
        let mut url =
            String::with_capacity(static_url.len() + path.len() + param.len() + tag.len() + 2);
        url.push_str(static_url);
        url.push_str(path);
        url.push('?');
        if !param.is_empty() {
            url.push_str(param);
            url.push('=');
        }
        url.push_str(tag);
        return url;
    }
    let parts = split_url(path);
    compose(static_url, parts, parts.location, Some((param, tag)))
}

/// The URL of `path` with the tag in its file name, before the last extension:
/// `css/app.css` gives `<static_url>css/app.<tag>.css`, `js/jquery.min.js` gives
/// `…/jquery.min.<tag>.js`, a name without extension gets `.<tag>` at its end. A query and a
/// fragment are kept. For CDNs and proxies that ignore the query string (`CloudFront` by
/// default, many caching proxies), where `app.css?tag=new` would be answered with the bytes
/// cached for `app.css?tag=old`.
///
/// `path` must be relative (an absolute URL's file name is not ours to change); the macros
/// refuse absolute URLs in this form before calling it.
///
/// ```
/// use cachekiller_core::url::join_static_url_tag_in_name;
///
/// assert_eq!(join_static_url_tag_in_name("/static/", "icons.svg#home", "4b400e"),
///            "/static/icons.4b400e.svg#home");
/// assert_eq!(join_static_url_tag_in_name("/static/", "js/jquery.min.js?v=2", "4b400e"),
///            "/static/js/jquery.min.4b400e.js?v=2");
/// ```
#[must_use]
pub fn join_static_url_tag_in_name(static_url: &str, path: &str, tag: &str) -> String {
    let parts = split_url(path);
    let location = tag_in_file_name(parts.location.trim_start_matches('/'), tag);
    compose(static_url, parts, &location, None)
}

/// The URL of a static file below `static_url`: its path `encoded_path` (already encoded, as
/// `rules::static_url::encoded_static_path` encodes a canonical path, or with the tag in its
/// name), then the query and fragment of `suffix` as written (`?v=2#x`, or `""`), and
/// `param=tag` in the query when `query_tag` is given.
#[cfg(any(feature = "resolve", feature = "service"))]
pub(crate) fn join_static_file_url(
    static_url: &str,
    encoded_path: &str,
    suffix: &str,
    query_tag: Option<(&str, &str)>,
) -> String {
    compose(static_url, split_url(suffix), encoded_path, query_tag)
}

/// `location` with `tag` put in its file name (the part after the last `/`): before the last
/// `.` that does not start the name, else at the end.
#[must_use]
pub(crate) fn tag_in_file_name(location: &str, tag: &str) -> String {
    let name_start = location.rfind('/').map_or(0, |slash| slash + 1);
    let name = &location[name_start..];
    match name.rfind('.').filter(|&dot| dot > 0) {
        Some(dot) => format!(
            "{}{}.{tag}{}",
            &location[..name_start],
            &name[..dot],
            &name[dot..]
        ),
        None => format!("{location}.{tag}"),
    }
}

/// A relative URL as an author wrote it (in a stylesheet), with `tag` added in the form
/// `tag_in`: `../img/logo.svg#mark` gives `../img/logo.svg?tag=<tag>#mark` or
/// `../img/logo.<tag>.svg#mark`. Unlike [`join_static_url`], nothing is prefixed or encoded:
/// the URL is already one, relative to the stylesheet. An existing query is kept.
#[must_use]
#[cfg(any(feature = "resolve", feature = "service"))]
pub(crate) fn tag_relative_url(url: &str, tag_in: TagIn, param: &str, tag: &str) -> String {
    let parts = split_url(url);
    let mut tagged = String::with_capacity(url.len() + param.len() + tag.len() + 2);
    let written_query = parts.query.map(|query| query.trim_end_matches('&'));
    let query = written_query.filter(|query| !query.is_empty());
    match tag_in {
        TagIn::Name => {
            tagged.push_str(&tag_in_file_name(parts.location, tag));
            // An empty query is kept: `font.eot?#iefix` needs its `?`.
            if let Some(query) = written_query {
                tagged.push('?');
                tagged.push_str(query);
            }
        }
        TagIn::Query => {
            tagged.push_str(parts.location);
            tagged.push('?');
            if let Some(query) = query {
                tagged.push_str(query);
                tagged.push('&');
            }
            if !param.is_empty() {
                tagged.push_str(param);
                tagged.push('=');
            }
            tagged.push_str(tag);
        }
    }
    if let Some(fragment) = parts.fragment {
        tagged.push('#');
        tagged.push_str(fragment);
    }
    tagged
}

/// True for a URL with a scheme (`data:`, `https:`, `mailto:`): RFC 3986's
/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"` before any `/`, `?` or `#`. A relative
/// reference cannot start so (a browser would read the scheme).
#[must_use]
#[cfg(any(feature = "resolve", feature = "service"))]
pub(crate) fn has_scheme(url: &str) -> bool {
    let Some(colon) = url.find(':') else {
        return false;
    };
    let scheme = &url[..colon];
    let mut characters = scheme.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The ways `path` (a request path, as sent) can be read as a file-name-tagged path: each is
/// the path without the tag, and the tag. `app.4b400e.css` gives `app.css` with `4b400e`;
/// `LICENSE.4b400e` gives `LICENSE` with `4b400e`; `jquery.min.js` gives `jquery.js` with
/// `min` too, which is why a server must prefer a file that exists under the name as sent. A tag is
/// one non-empty run of URL-unreserved characters without a dot, and each reading is checked
/// by putting the tag back with [`tag_in_file_name`].
#[cfg(feature = "service")]
pub(crate) fn untag_file_name(path: &str) -> impl Iterator<Item = (String, &str)> {
    let name_start = path.rfind('/').map_or(0, |slash| slash + 1);
    let name = &path[name_start..];
    let last_dot = name.rfind('.').filter(|&dot| dot > 0);
    let before_extension = last_dot.and_then(|extension| {
        let tag_start = name[..extension].rfind('.').filter(|&dot| dot > 0)? + 1;
        let untagged = format!(
            "{}{}{}",
            &path[..name_start],
            &name[..tag_start - 1],
            &name[extension..]
        );
        Some((untagged, &name[tag_start..extension]))
    });
    let at_end = last_dot.map(|dot| (path[..name_start + dot].to_owned(), &name[dot + 1..]));
    before_extension
        .into_iter()
        .chain(at_end)
        .filter(move |(untagged, tag)| {
            !tag.is_empty()
                && !tag.contains('.')
                && is_url_unreserved(tag)
                && tag_in_file_name(untagged, tag) == path
        })
}

/// The URL: `static_url` (unless the location is absolute), `location` encoded, the query kept
/// and `param=tag` appended to it when given, the fragment last.
fn compose(
    static_url: &str,
    parts: UrlParts<'_>,
    location: &str,
    query_tag: Option<(&str, &str)>,
) -> String {
    let mut url = String::with_capacity(static_url.len() + location.len() + 32);
    if is_absolute_url(location) {
        percent_encode(location, PATH_SAFE, &mut url);
    } else {
        percent_encode(static_url, PATH_SAFE, &mut url);
        if !static_url.ends_with('/') {
            url.push('/');
        }
        percent_encode(location.trim_start_matches('/'), PATH_SAFE, &mut url);
    }

    // `a.css?` and `a.css?v=2&` must not give `?&tag=` or `&&tag=`. An empty query is kept
    // when no tag goes there: `font.eot?#iefix` is an old Internet Explorer font hack that
    // needs its `?` (Django keeps it too).
    let written_query = parts.query.map(|query| query.trim_end_matches('&'));
    let query = written_query.filter(|query| !query.is_empty());
    if written_query.is_some() || query_tag.is_some() {
        url.push('?');
    }
    if let Some(query) = query {
        percent_encode(query, QUERY_SAFE, &mut url);
    }
    if let Some((param, tag)) = query_tag {
        if query.is_some() {
            url.push('&');
        }
        if !param.is_empty() {
            percent_encode(param, PATH_SAFE, &mut url);
            url.push('=');
        }
        percent_encode(tag, PATH_SAFE, &mut url);
    }

    if let Some(fragment) = parts.fragment {
        url.push('#');
        percent_encode(fragment, QUERY_SAFE, &mut url);
    }
    url
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stands for itself, as
/// [`join_static_url`] encodes it. Borrowed when there is nothing to decode.
///
/// # Errors
/// A description if the decoded bytes are not UTF-8.
#[cfg_attr(not(any(feature = "resolve", feature = "service")), allow(dead_code))]
pub(crate) fn percent_decode(text: &str) -> Result<Cow<'_, str>, String> {
    if !text.contains('%') {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escape {
            decoded.push(byte);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| "its percent escapes do not decode to UTF-8".to_owned())
}

/// True if `text` consists only of RFC 3986 unreserved characters, so that it can stand anywhere
/// in a URL and in HTML without escaping. Tags and parameter names must pass this.
#[must_use]
pub(crate) fn is_url_unreserved(text: &str) -> bool {
    text.bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "0123456789abcd";

    #[test]
    fn the_tag_in_the_file_name() {
        // (path, URL with the tag in the name)
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("css/app.css", "/static/css/app.4b400e.css"),
            ("js/jquery.min.js", "/static/js/jquery.min.4b400e.js"),
            ("LICENSE", "/static/LICENSE.4b400e"),
            (".htaccess", "/static/.htaccess.4b400e"),
            ("dir.d/file", "/static/dir.d/file.4b400e"),
            ("icons.svg#home", "/static/icons.4b400e.svg#home"),
            ("a.css?v=2", "/static/a.4b400e.css?v=2"),
            // An empty query is kept, as written (Django keeps it too).
            ("a.css?", "/static/a.4b400e.css?"),
            ("fonts/font.eot?#iefix", "/static/fonts/font.4b400e.eot?#iefix"),
            ("/a.css", "/static/a.4b400e.css"),
            ("my file.css", "/static/my%20file.4b400e.css"),
        ];
        for &(path, expected) in cases {
            assert_eq!(
                join_static_url_tag_in_name("/static/", path, "4b400e"),
                expected,
                "{path}"
            );
        }
    }

    #[cfg(feature = "service")]
    #[test]
    fn a_tagged_file_name_read_back() {
        // (request path, readings in order)
        #[rustfmt::skip]
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("/css/app.4b400e.css", &[("/css/app.css", "4b400e")]),
            ("/js/jquery.min.4b400e.js", &[("/js/jquery.min.js", "4b400e")]),
            ("/js/jquery.min.js", &[("/js/jquery.js", "min")]),
            ("/LICENSE.4b400e", &[("/LICENSE", "4b400e")]),
            ("/.htaccess.4b400e", &[("/.htaccess", "4b400e")]),
            ("/app.css", &[("/app", "css")]),
            ("/app", &[]),
            ("/.htaccess", &[]),
            ("/app..css", &[]),
            ("/dir.d/file", &[]),
            ("/app.a%20b.css", &[]),
        ];
        for &(path, expected) in cases {
            let readings: Vec<(String, &str)> = untag_file_name(path).collect();
            let expected: Vec<(String, &str)> = expected
                .iter()
                .map(|&(untagged, tag)| (untagged.to_owned(), tag))
                .collect();
            assert_eq!(readings, expected, "{path}");
        }
        // Every name-form URL reads back to its path and tag.
        for path in [
            "css/app.css",
            "js/jquery.min.js",
            "LICENSE",
            ".htaccess",
            "a/b.c/d.e",
        ] {
            let tagged = tag_in_file_name(path, "0123abcd");
            assert!(
                untag_file_name(&tagged)
                    .any(|(untagged, tag)| untagged == path && tag == "0123abcd"),
                "{path}"
            );
        }
    }

    #[test]
    fn plain_relative_paths() {
        for (path, plain) in [
            ("a.css", true),
            ("css/app.min.css", true),
            ("img/logo_2~x-y.svg", true),
            ("..a/b..", true),
            ("", false),
            ("/a.css", false),
            ("../a.css", false),
            ("css/../a.css", false),
            ("css/..", false),
            ("a.css?v=2", false),
            ("a.css#x", false),
            ("my file.css", false),
            ("caf\u{e9}.css", false),
            ("100%.css", false),
            ("c:a.css", false),
            ("https://cdn.example.com/x.js", false),
        ] {
            assert_eq!(is_plain_relative_path(path), plain, "{path}");
        }
    }

    #[test]
    fn joins_paths_queries_and_fragments_like_django_cachekiller() {
        // (static_url, path, param, expected)
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, &str)] = &[
            ("/static/", "a.css", "tag", "/static/a.css?tag=0123456789abcd"),
            ("/static/", "css/a.css", "tag", "/static/css/a.css?tag=0123456789abcd"),
            ("/static/", "a.css?v=2", "tag", "/static/a.css?v=2&tag=0123456789abcd"),
            ("/static/", "a.css?v=2&w=3", "tag", "/static/a.css?v=2&w=3&tag=0123456789abcd"),
            ("/static/", "a.css?", "tag", "/static/a.css?tag=0123456789abcd"),
            ("/static/", "font.eot?#iefix", "tag", "/static/font.eot?tag=0123456789abcd#iefix"),
            ("/static/", "a.css?v=2&", "tag", "/static/a.css?v=2&tag=0123456789abcd"),
            ("/static/", "icons.svg#home", "tag", "/static/icons.svg?tag=0123456789abcd#home"),
            ("/static/", "i.svg?v=1#home", "tag", "/static/i.svg?v=1&tag=0123456789abcd#home"),
            ("/static/", "i.svg#a?b", "tag", "/static/i.svg?tag=0123456789abcd#a?b"),
            ("/static/", "/a.css", "tag", "/static/a.css?tag=0123456789abcd"),
            ("/static", "a.css", "tag", "/static/a.css?tag=0123456789abcd"),
            ("https://cdn.example.com/static/", "a.css", "tag", "https://cdn.example.com/static/a.css?tag=0123456789abcd"),
            ("/static/", "https://cdn.example.com/x.js", "tag", "https://cdn.example.com/x.js?tag=0123456789abcd"),
            ("/static/", "//cdn.example.com/x.js", "tag", "//cdn.example.com/x.js?tag=0123456789abcd"),
            ("/static/", "http://cdn.example.com/x.js?v=1", "tag", "http://cdn.example.com/x.js?v=1&tag=0123456789abcd"),
            ("/static/", "a.css", "v", "/static/a.css?v=0123456789abcd"),
            ("/static/", "a.css", "", "/static/a.css?0123456789abcd"),
            ("/static/", "a.css?x=1", "", "/static/a.css?x=1&0123456789abcd"),
        ];
        for &(static_url, path, param, expected) in cases {
            assert_eq!(
                join_static_url(static_url, path, param, TAG),
                expected,
                "join_static_url({static_url:?}, {path:?}, {param:?}, TAG)"
            );
        }
    }

    #[test]
    fn percent_encodes_what_is_not_url_or_attribute_safe() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            (
                "dir/my file.css",
                "/static/dir/my%20file.css?tag=0123456789abcd",
            ),
            ("café.css", "/static/caf%C3%A9.css?tag=0123456789abcd"),
            ("a%20b.css", "/static/a%20b.css?tag=0123456789abcd"),
            ("100%.css", "/static/100%25.css?tag=0123456789abcd"),
            ("a%2.css", "/static/a%252.css?tag=0123456789abcd"),
            (
                "\"><script>.js",
                "/static/%22%3E%3Cscript%3E.js?tag=0123456789abcd",
            ),
            ("it's.css", "/static/it%27s.css?tag=0123456789abcd"),
            ("a&b.css", "/static/a%26b.css?tag=0123456789abcd"),
            ("a`b.css", "/static/a%60b.css?tag=0123456789abcd"),
            (
                "a.css?q=a b&c='d'",
                "/static/a.css?q=a%20b&c=%27d%27&tag=0123456789abcd",
            ),
            ("a.svg#x y", "/static/a.svg?tag=0123456789abcd#x%20y"),
            (
                "日本/ü.png",
                "/static/%E6%97%A5%E6%9C%AC/%C3%BC.png?tag=0123456789abcd",
            ),
        ];
        for &(path, expected) in cases {
            let url = join_static_url("/static/", path, "tag", TAG);
            assert_eq!(url, expected, "path {path:?}");
            assert!(
                !url.contains(['"', '\'', '<', '>', ' ', '`']) && url.is_ascii(),
                "{url} is not safe in a quoted attribute"
            );
        }
    }

    #[test]
    fn tells_absolute_urls_from_paths() {
        for absolute in [
            "https://a.b/x",
            "http://a/x",
            "//a.b/x",
            "git+ssh://h/x",
            "HTTPS://A/",
        ] {
            assert!(is_absolute_url(absolute), "{absolute}");
        }
        for relative in [
            "a.css",
            "/a.css",
            "dir/a.css",
            "notes:v2.txt",
            "1http://x/",
            "://x",
            "",
        ] {
            assert!(!is_absolute_url(relative), "{relative}");
        }
    }

    #[test]
    fn splits_like_urlsplit() {
        assert_eq!(
            split_url("a/b.css?x=1#frag?not-query"),
            UrlParts {
                location: "a/b.css",
                query: Some("x=1"),
                fragment: Some("frag?not-query")
            }
        );
        assert_eq!(
            split_url("a.css"),
            UrlParts {
                location: "a.css",
                query: None,
                fragment: None
            }
        );
    }

    #[test]
    fn unreserved_means_unreserved() {
        assert!(is_url_unreserved("v1.2-rc_3~x"));
        for bad in ["a b", "a&b", "a=b", "é", "a/b", "a?b", "a#b", "a%20"] {
            assert!(!is_url_unreserved(bad), "{bad}");
        }
    }
}
