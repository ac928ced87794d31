//! Composing a cache-busting URL from a static path, the static URL prefix and a tag.
//!
//! django-cachekiller splits the URL with `urlsplit`, appends `tag=<rev>` to the query and joins
//! it back; we keep that behaviour (an existing query is kept, a fragment stays last) and add
//! what a compile-time macro can promise on top: the result is already percent-encoded, so it is
//! a valid URL and safe inside a quoted HTML attribute before any template engine escapes it.

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

/// True for the common static path, `css/app.css`: relative, made of [`PLAIN`] characters,
/// with no `..` component and no leading `/`. It needs no splitting, decoding or encoding, and
/// one loop over its bytes (an index loop: no iterator calls in the unoptimized builds proc
/// macros usually get) says so.
#[must_use]
pub fn is_plain_relative_path(path: &str) -> bool {
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
pub struct UrlParts<'a> {
    /// The scheme, authority and path, or just the path of a relative URL.
    pub location: &'a str,
    /// The query after `?`, if the URL has a `?` (it may be empty).
    pub query: Option<&'a str>,
    /// The fragment after `#`, if the URL has a `#` (it may be empty).
    pub fragment: Option<&'a str>,
}

/// Splits `url` into location, query and fragment: the fragment starts at the first `#`, the
/// query at the first `?` before it.
#[must_use]
pub fn split_url(url: &str) -> UrlParts<'_> {
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
pub fn is_absolute_url(url: &str) -> bool {
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
/// an absolute URL ([`is_absolute_url`]) is used as it is. The tag is then added to the query as
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
    let mut url =
        String::with_capacity(static_url.len() + path.len() + param.len() + tag.len() + 8);

    if is_absolute_url(parts.location) {
        percent_encode(parts.location, PATH_SAFE, &mut url);
    } else {
        percent_encode(static_url, PATH_SAFE, &mut url);
        if !static_url.ends_with('/') {
            url.push('/');
        }
        percent_encode(parts.location.trim_start_matches('/'), PATH_SAFE, &mut url);
    }

    url.push('?');
    if let Some(query) = parts.query {
        // `a.css?` and `a.css?v=2&` must not give `?&tag=` or `&&tag=`.
        let query = query.trim_end_matches('&');
        if !query.is_empty() {
            percent_encode(query, QUERY_SAFE, &mut url);
            url.push('&');
        }
    }
    if !param.is_empty() {
        percent_encode(param, PATH_SAFE, &mut url);
        url.push('=');
    }
    percent_encode(tag, PATH_SAFE, &mut url);

    if let Some(fragment) = parts.fragment {
        url.push('#');
        percent_encode(fragment, QUERY_SAFE, &mut url);
    }
    url
}

/// True if `text` consists only of RFC 3986 unreserved characters, so that it can stand anywhere
/// in a URL and in HTML without escaping. Tags and parameter names must pass this.
#[must_use]
pub fn is_url_unreserved(text: &str) -> bool {
    text.bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "0123456789abcd";

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
