//! Finding the URLs a stylesheet references: `url(…)`, quoted or not, and `@import "…"`.
//!
//! A small tokenizer of our own, following the tokenization rules of CSS Syntax Level 3 as far
//! as they decide where a URL is: comments, strings (with escapes and line continuations),
//! ident sequences (with escapes, so `u\72l(` is a `url(`, and `xurl(` or `--url(` are not),
//! at-keywords, hash tokens, and numbers with their units (`10url(` is a dimension, not a
//! function). Everything else is stepped over one byte at a time. It is written here rather
//! than taken from `cssparser` or `lightningcss` because the service and the macros need only
//! this, on bytes (a stylesheet need not be UTF-8), with byte positions to rewrite in place,
//! and neither a second tokenizer's dependencies nor its re-serialization (which does not keep
//! the author's bytes) belong in a proc macro's build. Its output is checked against
//! Python's `tinycss2` in `tests/tests/stylesheets.rs`.

/// How deep stylesheets may nest (`a.css` imports `b.css`, which imports `c.css`, …): each
/// level is a frame of the rewriter, so a chain of thousands of generated `@import`s would
/// overflow the stack of rustc or of a server thread. Real sites nest two or three levels.
pub const MAX_STYLESHEET_DEPTH: usize = 32;

use std::ops::Range;

/// A URL a stylesheet references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssReference {
    /// The URL as the browser reads it: escapes decoded. References whose decoded bytes are
    /// not UTF-8 are not reported (no file name here can match them).
    pub url: String,
    /// The bytes of the stylesheet that spell the URL: inside the quotes of a string, or the
    /// body of an unquoted `url(…)` without its surrounding white space.
    pub span: Range<usize>,
    /// The quote (`"` or `'`) around the URL, or `None` for an unquoted `url(…)` and a source
    /// map comment.
    pub quote: Option<u8>,
    /// The line the URL starts on, from 1.
    pub line: usize,
    /// Where the URL stands.
    pub kind: ReferenceKind,
}

/// Where a reference stands in a stylesheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// The body of `url(…)`, or the string after `@import`.
    Url,
    /// The URL of a `/*# sourceMappingURL=… */` comment: a file for the browser's developer
    /// tools, written raw (a comment has no escapes), and optional (vendored stylesheets often
    /// name maps they do not ship).
    SourceMap,
}

/// Every URL `css` references, in order: the bodies of `url(…)` functions (quoted or not, the
/// name in any case, escapes allowed), the strings after `@import`, and the URL of a
/// `/*# sourceMappingURL=… */` comment. URLs in other comments, in other strings and in bad
/// (unterminated or malformed) tokens are not references.
#[must_use]
pub fn css_references(css: &[u8]) -> Vec<CssReference> {
    let mut scanner = Scanner {
        css,
        at: 0,
        references: Vec::new(),
    };
    scanner.scan();
    let mut references = scanner.references;
    number_lines(css, &mut references);
    references
}

/// Writes `url` as the body of a reference of kind `quote`: inside quotes, the quote, `\` and
/// line breaks are escaped; unquoted, also white space, quotes and parentheses (a hex escape
/// followed by a space, which ends it).
pub fn write_css_url(url: &str, quote: Option<u8>, output: &mut Vec<u8>) {
    for &byte in url.as_bytes() {
        let escape = match quote {
            Some(quote) => byte == quote || matches!(byte, b'\\' | b'\n' | b'\r' | 0x0C),
            None => {
                matches!(byte, b'\\' | b'"' | b'\'' | b'(' | b')' | b' ' | b'\t')
                    || is_non_printable(byte)
                    || is_newline(byte)
            }
        };
        if !escape {
            output.push(byte);
        } else if byte.is_ascii_graphic() {
            output.extend_from_slice(&[b'\\', byte]);
        } else {
            output.extend_from_slice(format!("\\{byte:x} ").as_bytes());
        }
    }
}

/// Sets each reference's line from its position, in one pass over `css`.
#[allow(clippy::naive_bytecount)] // A dependency to count faster is not worth it here.
fn number_lines(css: &[u8], references: &mut [CssReference]) {
    let mut line = 1;
    let mut counted_to = 0;
    for reference in references {
        let start = reference.span.start.max(counted_to);
        line += css[counted_to..start]
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count();
        counted_to = start;
        reference.line = line;
    }
}

fn is_newline(byte: u8) -> bool {
    matches!(byte, b'\n' | b'\r' | 0x0C)
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t') || is_newline(byte)
}

/// An ident-start code point: a letter, `_`, or any non-ASCII code point (here, any byte of
/// one).
fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

fn is_ident_char(byte: u8) -> bool {
    is_ident_start(byte) || byte.is_ascii_digit() || byte == b'-'
}

/// [`is_ident_char`] as a table, for the loop over names.
const IDENT_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte: u8 = 0;
    loop {
        table[byte as usize] =
            byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' || byte >= 0x80;
        if byte == u8::MAX {
            break;
        }
        byte += 1;
    }
    table
};

fn is_non_printable(byte: u8) -> bool {
    matches!(byte, 0x00..=0x08 | 0x0B | 0x0E..=0x1F | 0x7F)
}

/// The code point CSS substitutes for NUL, surrogates and code points out of range.
const REPLACEMENT_CHARACTER: char = '\u{FFFD}';

struct Scanner<'a> {
    css: &'a [u8],
    at: usize,
    references: Vec<CssReference>,
}

impl Scanner<'_> {
    fn byte(&self, index: usize) -> Option<u8> {
        self.css.get(index).copied()
    }

    /// A backslash at `index` that starts an escape: not followed by a line break (or the end).
    fn is_valid_escape(&self, index: usize) -> bool {
        self.byte(index) == Some(b'\\')
            && self.byte(index + 1).is_some_and(|next| !is_newline(next))
    }

    /// Whether an ident sequence starts at `index` ("would start an ident sequence").
    fn starts_ident(&self, index: usize) -> bool {
        match self.byte(index) {
            Some(b'-') => {
                self.byte(index + 1)
                    .is_some_and(|next| is_ident_start(next) || next == b'-')
                    || self.is_valid_escape(index + 1)
            }
            Some(b'\\') => self.is_valid_escape(index),
            Some(byte) => is_ident_start(byte),
            None => false,
        }
    }

    /// Whether a number starts at `index`.
    fn starts_number(&self, index: usize) -> bool {
        let digit_at = |offset: usize| {
            self.byte(index + offset)
                .is_some_and(|b| b.is_ascii_digit())
        };
        match self.byte(index) {
            Some(b'+' | b'-') => digit_at(1) || (self.byte(index + 1) == Some(b'.') && digit_at(2)),
            Some(b'.') => digit_at(1),
            Some(byte) => byte.is_ascii_digit(),
            None => false,
        }
    }

    fn scan(&mut self) {
        // Set by `@import`, kept across white space and comments: the next token is its URL
        // if it is a string.
        let mut after_import = false;
        while let Some(byte) = self.byte(self.at) {
            if byte == b'/' && self.byte(self.at + 1) == Some(b'*') {
                self.skip_comment();
                continue;
            }
            if is_whitespace(byte) {
                self.at += 1;
                continue;
            }
            let import_target = std::mem::take(&mut after_import);
            if byte == b'"' || byte == b'\'' {
                let start = self.at + 1;
                if let Some((url, end)) = self.consume_string(byte) {
                    if import_target {
                        self.push_span(url, start..end, Some(byte));
                    }
                }
            } else if byte == b'@' && self.starts_ident(self.at + 1) {
                self.at += 1;
                after_import = self.consume_name().is(b"import");
            } else if byte == b'#'
                && (self.byte(self.at + 1).is_some_and(is_ident_char)
                    || self.is_valid_escape(self.at + 1))
            {
                // A hash token (`#url(` is a hash followed by a parenthesis).
                self.at += 1;
                self.consume_name();
            } else if self.starts_number(self.at) {
                self.consume_number();
                // A unit makes a dimension: `10url(` is no function.
                if self.starts_ident(self.at) {
                    self.consume_name();
                }
            } else if self.starts_ident(self.at) {
                let name = self.consume_name();
                if self.byte(self.at) == Some(b'(') {
                    self.at += 1;
                    if name.is(b"url") {
                        self.consume_url();
                    }
                }
            } else {
                self.at += 1;
            }
        }
    }

    fn push_span(&mut self, url: Vec<u8>, span: Range<usize>, quote: Option<u8>) {
        if let Ok(url) = String::from_utf8(url) {
            self.references.push(CssReference {
                url,
                span,
                quote,
                line: 0,
                kind: ReferenceKind::Url,
            });
        }
    }

    fn skip_comment(&mut self) {
        let body = self.at + 2;
        match self.css[body..].windows(2).position(|pair| pair == b"*/") {
            Some(end) => {
                self.at = body + end + 2;
                self.source_map_in(body..body + end);
            }
            None => self.at = self.css.len(),
        }
    }

    /// The URL of a source map comment whose body (between `/*` and `*/`) is `body`:
    /// `# sourceMappingURL=<url>` (or the older `@`), as the Source Map format writes it and
    /// as Django and Propshaft read it.
    fn source_map_in(&mut self, body: Range<usize>) {
        let text = &self.css[body.clone()];
        let Some(rest) = text.strip_prefix(b"#").or_else(|| text.strip_prefix(b"@")) else {
            return;
        };
        let spaces = rest
            .iter()
            .take_while(|&&byte| matches!(byte, b' ' | b'\t'))
            .count();
        if spaces == 0 {
            return;
        }
        let Some(url) = rest[spaces..].strip_prefix(b"sourceMappingURL=") else {
            return;
        };
        let length = url.iter().take_while(|&&byte| !is_whitespace(byte)).count();
        // Only white space may follow the URL inside the comment.
        if length == 0 || !url[length..].iter().all(|&byte| is_whitespace(byte)) {
            return;
        }
        let start = body.end - url.len();
        if let Ok(url) = std::str::from_utf8(&url[..length]) {
            self.references.push(CssReference {
                url: url.to_owned(),
                span: start..start + length,
                quote: None,
                line: 0,
                kind: ReferenceKind::SourceMap,
            });
        }
    }

    /// Consumes a string opened by the quote at `self.at`: its decoded value and where its body
    /// ends, or `None` for a bad string (an unescaped line break ends it, unconsumed).
    fn consume_string(&mut self, quote: u8) -> Option<(Vec<u8>, usize)> {
        self.at += 1;
        let mut value = Vec::new();
        while let Some(byte) = self.byte(self.at) {
            if byte == quote {
                self.at += 1;
                return Some((value, self.at - 1));
            }
            if is_newline(byte) {
                return None;
            }
            if byte == b'\\' {
                match self.byte(self.at + 1) {
                    None => self.at += 1,
                    Some(next) if is_newline(next) => {
                        // A line continuation: `\` and the line break stand for nothing.
                        self.at += if next == b'\r' && self.byte(self.at + 2) == Some(b'\n') {
                            3
                        } else {
                            2
                        };
                    }
                    Some(_) => {
                        self.at += 1;
                        self.consume_escape(&mut value);
                    }
                }
                continue;
            }
            value.push(byte);
            self.at += 1;
        }
        // Unterminated at the end of the stylesheet: still a string.
        Some((value, self.at))
    }

    /// Consumes an escape whose backslash is just before `self.at`, appending what it stands
    /// for to `value`.
    fn consume_escape(&mut self, value: &mut Vec<u8>) {
        let Some(first) = self.byte(self.at) else {
            push_char(value, REPLACEMENT_CHARACTER);
            return;
        };
        if !first.is_ascii_hexdigit() {
            value.push(first);
            self.at += 1;
            return;
        }
        let digits = self.css[self.at..]
            .iter()
            .take(6)
            .take_while(|byte| byte.is_ascii_hexdigit())
            .count();
        let hex = std::str::from_utf8(&self.css[self.at..self.at + digits]).unwrap_or("0");
        let code_point = u32::from_str_radix(hex, 16).unwrap_or(0);
        self.at += digits;
        // One white space after a hex escape belongs to it (`\r\n` counts as one).
        match self.byte(self.at) {
            Some(b'\r') if self.byte(self.at + 1) == Some(b'\n') => self.at += 2,
            Some(byte) if is_whitespace(byte) => self.at += 1,
            _ => {}
        }
        let character = match char::from_u32(code_point) {
            Some('\0') | None => REPLACEMENT_CHARACTER,
            Some(character) => character,
        };
        push_char(value, character);
    }

    /// Consumes an ident sequence (name characters and escapes). Only its start is kept, to
    /// compare with `url` and `import`: a stylesheet has a name every few bytes, and one
    /// allocation for each would be most of the work.
    fn consume_name(&mut self) -> ShortName {
        let mut name = ShortName::default();
        let mut escaped = Vec::new();
        loop {
            // A run of plain name characters, then an escape or the end.
            let run_start = self.at;
            while self
                .css
                .get(self.at)
                .is_some_and(|&byte| IDENT_CHARS[usize::from(byte)])
            {
                self.at += 1;
            }
            name.extend(&self.css[run_start..self.at]);
            if !self.is_valid_escape(self.at) {
                return name;
            }
            self.at += 1;
            escaped.clear();
            self.consume_escape(&mut escaped);
            name.extend(&escaped);
        }
    }

    fn consume_number(&mut self) {
        if matches!(self.byte(self.at), Some(b'+' | b'-')) {
            self.at += 1;
        }
        let digits = |scanner: &mut Self| {
            while scanner.byte(scanner.at).is_some_and(|b| b.is_ascii_digit()) {
                scanner.at += 1;
            }
        };
        digits(self);
        if self.byte(self.at) == Some(b'.')
            && self.byte(self.at + 1).is_some_and(|b| b.is_ascii_digit())
        {
            self.at += 1;
            digits(self);
        }
        if matches!(self.byte(self.at), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.byte(self.at + 1), Some(b'+' | b'-')));
            if self
                .byte(self.at + 1 + sign)
                .is_some_and(|b| b.is_ascii_digit())
            {
                self.at += 1 + sign;
                digits(self);
            }
        }
    }

    /// Consumes what follows `url(`: a quoted URL (then the rest of the function is scanned as
    /// usual) or the body of an unquoted URL token up to its `)`.
    fn consume_url(&mut self) {
        while self.byte(self.at).is_some_and(is_whitespace) {
            self.at += 1;
        }
        if let Some(quote @ (b'"' | b'\'')) = self.byte(self.at) {
            let start = self.at + 1;
            if let Some((url, end)) = self.consume_string(quote) {
                self.push_span(url, start..end, Some(quote));
            }
            return;
        }
        let start = self.at;
        let mut url = Vec::new();
        loop {
            let Some(byte) = self.byte(self.at) else {
                // Unterminated at the end of the stylesheet: still a URL.
                self.push_span(url, start..self.at, None);
                return;
            };
            match byte {
                b')' => {
                    let end = self.at;
                    self.at += 1;
                    self.push_span(url, start..end, None);
                    return;
                }
                _ if is_whitespace(byte) => {
                    let end = self.at;
                    while self.byte(self.at).is_some_and(is_whitespace) {
                        self.at += 1;
                    }
                    match self.byte(self.at) {
                        None => return self.push_span(url, start..end, None),
                        Some(b')') => {
                            self.at += 1;
                            return self.push_span(url, start..end, None);
                        }
                        Some(_) => return self.skip_bad_url(),
                    }
                }
                b'"' | b'\'' | b'(' => return self.skip_bad_url(),
                _ if is_non_printable(byte) => return self.skip_bad_url(),
                b'\\' => {
                    if !self.is_valid_escape(self.at) {
                        return self.skip_bad_url();
                    }
                    self.at += 1;
                    self.consume_escape(&mut url);
                }
                _ => {
                    url.push(byte);
                    self.at += 1;
                }
            }
        }
    }

    /// Consumes the rest of a bad URL, up to and including its `)`.
    fn skip_bad_url(&mut self) {
        while let Some(byte) = self.byte(self.at) {
            if byte == b')' {
                self.at += 1;
                return;
            }
            if self.is_valid_escape(self.at) {
                self.at += 1;
                let mut ignored = Vec::new();
                self.consume_escape(&mut ignored);
            } else {
                self.at += 1;
            }
        }
    }
}

/// The first bytes of a decoded name, and its whole length.
#[derive(Default)]
struct ShortName {
    start: [u8; 8],
    length: usize,
}

impl ShortName {
    fn extend(&mut self, bytes: &[u8]) {
        let kept = self
            .start
            .len()
            .saturating_sub(self.length)
            .min(bytes.len());
        self.start[self.length.min(8)..self.length.min(8) + kept].copy_from_slice(&bytes[..kept]);
        self.length += bytes.len();
    }

    /// True if the name is `word` (ASCII letters), in any case.
    fn is(&self, word: &[u8]) -> bool {
        self.length == word.len() && self.start[..self.length].eq_ignore_ascii_case(word)
    }
}

fn push_char(value: &mut Vec<u8>, character: char) {
    let mut buffer = [0; 4];
    value.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URLs and their source spans, as `(url, source text, quote, line)`.
    fn found(css: &str) -> Vec<(String, String, Option<char>, usize)> {
        css_references(css.as_bytes())
            .into_iter()
            .map(|reference| {
                (
                    reference.url,
                    css[reference.span].to_owned(),
                    reference.quote.map(char::from),
                    reference.line,
                )
            })
            .collect()
    }

    fn urls(css: &str) -> Vec<String> {
        found(css).into_iter().map(|(url, ..)| url).collect()
    }

    #[test]
    fn finds_each_form_of_reference() {
        let css = "@import \"base.css\";\n@import url(print.css) print;\n\
                   @font-face { src: url( '../fonts/inter.woff2' ) format('woff2') }\n\
                   .logo { background: URL(../img/logo.svg#mark) }\n\
                   .x { background-image: Url(\"a b.png\") }";
        assert_eq!(
            found(css),
            vec![
                ("base.css".into(), "base.css".into(), Some('"'), 1),
                ("print.css".into(), "print.css".into(), None, 2),
                (
                    "../fonts/inter.woff2".into(),
                    "../fonts/inter.woff2".into(),
                    Some('\''),
                    3
                ),
                (
                    "../img/logo.svg#mark".into(),
                    "../img/logo.svg#mark".into(),
                    None,
                    4
                ),
                ("a b.png".into(), "a b.png".into(), Some('"'), 5),
            ]
        );
    }

    #[test]
    fn comments_and_other_strings_hold_no_references() {
        let css = "/* url(fake.png) @import \"fake.css\"; */\n\
                   .a::before { content: \"url(fake.png)\" }\n\
                   .b { font-family: 'url(x)' }\n\
                   .c { background: xurl(no.png) --url(no.png) my-url(no.png) }\n\
                   .d { width: 10url(no.png) }\n\
                   #url(no.png) {}\n\
                   .e { background: url (no.png) }\n\
                   @media print { .f { background: url(yes.png) } }\n\
                   /* unterminated comment url(no.png)";
        assert_eq!(urls(css), vec!["yes.png"]);
        // A comment cannot start inside a string, a string cannot start inside a comment.
        assert_eq!(
            urls("a { content: \"/*\" } b { background: url(real.png) } /* \" */"),
            vec!["real.png"]
        );
        // `@import` takes the string right after it (comments between are fine), no other.
        assert_eq!(
            urls("@import /* x */ 'a.css'; @importx 'b.css'; @media 'c.css'"),
            vec!["a.css"]
        );
    }

    #[test]
    fn a_source_map_comment_is_a_reference_other_comments_are_not() {
        let css = "a {}\n/*# sourceMappingURL=app.css.map */\n";
        let references = css_references(css.as_bytes());
        assert_eq!(references.len(), 1);
        let map = &references[0];
        assert_eq!(map.url, "app.css.map");
        assert_eq!(map.kind, ReferenceKind::SourceMap);
        assert_eq!(&css[map.span.clone()], "app.css.map");
        assert_eq!(map.line, 2);
        // (stylesheet, the source map found)
        let cases = [
            ("/*@ sourceMappingURL=old.map */", Some("old.map")),
            (
                "/*#\tsourceMappingURL=../maps/a.map\n*/",
                Some("../maps/a.map"),
            ),
            (
                "/*# sourceMappingURL=data:application/json;base64,e30= */",
                Some("data:application/json;base64,e30="),
            ),
            ("/* # sourceMappingURL=a.map */", None),
            ("/*#sourceMappingURL=a.map */", None),
            ("/*# sourcemappingurl=a.map */", None),
            ("/*# sourceMappingURL=a.map and more */", None),
            ("/*# sourceMappingURL= */", None),
            ("a { content: \"/*# sourceMappingURL=a.map */\" }", None),
            ("/*# sourceMappingURL=a.map", None),
        ];
        for (css, expected) in cases {
            let found: Vec<String> = css_references(css.as_bytes())
                .into_iter()
                .filter(|reference| reference.kind == ReferenceKind::SourceMap)
                .map(|reference| reference.url)
                .collect();
            assert_eq!(found.first().map(String::as_str), expected, "{css}");
        }
    }

    #[test]
    fn escapes_are_decoded_and_spans_keep_the_source() {
        assert_eq!(
            found(r"a { background: url(my\ photo\).png) }"),
            vec![("my photo).png".into(), r"my\ photo\).png".into(), None, 1)]
        );
        // A hex escape eats one white space; `\72` is `r`, so this is `url(`.
        assert_eq!(urls(r"a { background: u\72 l(x.png) }"), vec!["x.png"]);
        assert_eq!(urls(r"a { background: url(\66 oo.png) }"), vec!["foo.png"]);
        assert_eq!(urls(r#"@import "a\"b.css";"#), vec!["a\"b.css"]);
        // A line continuation inside a string stands for nothing.
        assert_eq!(urls("@import \"li\\\nne.css\";"), vec!["line.css"]);
        // Escaped NUL and out-of-range code points become U+FFFD.
        assert_eq!(
            urls(r"a { b: url(\0 \110000 x) }"),
            vec!["\u{FFFD}\u{FFFD}x"]
        );
        assert_eq!(urls("a { b: url(caf\\e9.png) }"), vec!["café.png"]);
        assert_eq!(urls("a { b: url(café.png) }"), vec!["café.png"]);
    }

    #[test]
    fn bad_urls_and_strings_are_not_references() {
        // White space inside an unquoted URL, a quote, a parenthesis, a non-printable byte.
        let css = "a { b: url(a b.png) } c { d: url(a\"b) } e { f: url(a(b) } \
                   g { h: url(a\u{1}b) } i { j: url(ok.png) }";
        assert_eq!(urls(css), vec!["ok.png"]);
        // A string broken by a line break.
        assert_eq!(
            urls("@import \"broken\n.css;\na { b: url(ok.png) }"),
            vec!["ok.png"]
        );
        // A quote after it opens a string as long as the line (the rest, here).
        assert!(urls("@import \"broken\n.css\"; a { b: url(no.png) }").is_empty());
        // Unterminated at the end: still references.
        assert_eq!(urls("a { b: url(end.png"), vec!["end.png"]);
        assert_eq!(urls("@import 'end.css"), vec!["end.css"]);
        // Not UTF-8: not reported.
        assert!(css_references(b"a { b: url(\xff.png) }").is_empty());
    }

    #[test]
    fn lines_count_from_one_across_comments_and_strings() {
        let css = "/* one\ntwo */\na { content: \"x\\\ny\" }\n\n@import 'six.css';";
        assert_eq!(found(css)[0].3, 6);
    }

    #[test]
    fn written_urls_read_back_the_same() {
        for url in [
            "a b).png",
            "it's \"x\".png",
            "back\\slash\n.png",
            "plain/path.png?q#f",
        ] {
            for quote in [None, Some(b'"'), Some(b'\'')] {
                let mut body = Vec::new();
                write_css_url(url, quote, &mut body);
                let mut css = b"a { b: url(".to_vec();
                css.extend(quote);
                css.extend(&body);
                css.extend(quote);
                css.extend(b") }");
                let references = css_references(&css);
                assert_eq!(references.len(), 1, "{}", String::from_utf8_lossy(&css));
                assert_eq!(references[0].url, url);
            }
        }
    }
}
