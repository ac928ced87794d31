//! A string literal's or a template's value, as a specifier: escapes decoded, or the offset
//! of one no specifier can hold.

use super::errors::ModuleSyntaxErrorKind;

/// The string value of a string literal's or a template's text (between its delimiters), or
/// the offset in `text` of an escape no specifier can hold.
pub(super) fn string_value(
    text: &str,
    is_template: bool,
) -> Result<String, (usize, ModuleSyntaxErrorKind)> {
    let mut value = String::with_capacity(text.len());
    // A high surrogate written as an escape waits for its low half: `"\uD83D\uDE00"` is 😀.
    let mut high_surrogate: Option<(u32, usize, usize)> = None;
    let mut at = 0;
    let bytes = text.as_bytes();
    while at < text.len() {
        let character = text[at..].chars().next().unwrap_or_default();
        let escape_at = at;
        at += character.len_utf8();
        let code_point = match character {
            '\\' => {
                let escaped = text[at..].chars().next().unwrap_or_default();
                at += escaped.len_utf8();
                match escaped {
                    'n' => u32::from('\n'),
                    't' => u32::from('\t'),
                    'r' => u32::from('\r'),
                    'b' => 0x08,
                    'f' => 0x0C,
                    'v' => 0x0B,
                    '0' if !bytes.get(at).is_some_and(u8::is_ascii_digit) => 0,
                    '0'..='9' => return Err(invalid_escape(text, escape_at, at)),
                    'x' => {
                        let digits = text
                            .get(at..at + 2)
                            .filter(|digits| digits.bytes().all(|byte| byte.is_ascii_hexdigit()));
                        let Some(digits) = digits else {
                            return Err(invalid_escape(text, escape_at, (at + 2).min(text.len())));
                        };
                        at += 2;
                        u32::from_str_radix(digits, 16).unwrap_or_default()
                    }
                    'u' => {
                        let (code_point, end) = unicode_escape(text, at)
                            .ok_or_else(|| invalid_escape(text, escape_at, at))?;
                        at = end;
                        code_point
                    }
                    // Line continuations: nothing.
                    '\r' => {
                        if bytes.get(at) == Some(&b'\n') {
                            at += 1;
                        }
                        continue;
                    }
                    '\n' | '\u{2028}' | '\u{2029}' => continue,
                    other => u32::from(other),
                }
            }
            // A template's raw line breaks are `\n` in its value.
            '\r' if is_template => {
                if bytes.get(at) == Some(&b'\n') {
                    at += 1;
                }
                u32::from('\n')
            }
            other => u32::from(other),
        };
        match (high_surrogate.take(), code_point) {
            (Some((high, _, _)), 0xDC00..=0xDFFF) => {
                let combined = 0x10000 + ((high - 0xD800) << 10) + (code_point - 0xDC00);
                value.push(char::from_u32(combined).unwrap_or_default());
            }
            (Some((_, start, end)), _) => return Err(lone_surrogate(text, start, end)),
            (None, 0xD800..=0xDBFF) => high_surrogate = Some((code_point, escape_at, at)),
            (None, 0xDC00..=0xDFFF) => return Err(lone_surrogate(text, escape_at, at)),
            (None, _) => value.push(char::from_u32(code_point).unwrap_or_default()),
        }
    }
    match high_surrogate {
        Some((_, start, end)) => Err(lone_surrogate(text, start, end)),
        None => Ok(value),
    }
}

/// The code point of the `\u` escape whose `u` ends at `at` (`XXXX` or `{X…}` up to
/// `10FFFF`), and where the escape ends.
fn unicode_escape(text: &str, at: usize) -> Option<(u32, usize)> {
    let rest = text.get(at..)?;
    if let Some(braced) = rest.strip_prefix('{') {
        let digits = &braced[..braced.find('}')?];
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        let code_point = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|&code_point| code_point <= 0x0010_FFFF)?;
        return Some((code_point, at + 1 + digits.len() + 1));
    }
    let digits = rest.get(..4)?;
    if !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    Some((u32::from_str_radix(digits, 16).ok()?, at + 4))
}

fn invalid_escape(text: &str, start: usize, end: usize) -> (usize, ModuleSyntaxErrorKind) {
    let end = (start..=end.min(text.len()))
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or(start);
    (
        start,
        ModuleSyntaxErrorKind::InvalidEscape {
            escape: text[start..end].to_owned(),
        },
    )
}

fn lone_surrogate(text: &str, start: usize, end: usize) -> (usize, ModuleSyntaxErrorKind) {
    (
        start,
        ModuleSyntaxErrorKind::LoneSurrogate {
            escape: text[start..end].to_owned(),
        },
    )
}
