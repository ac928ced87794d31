//! The file patterns of `embed_include` and `embed_exclude`: globs over static paths, in the
//! form `.gitignore` users know.
//!
//! - `*` matches any characters within a path segment, `?` one character that is not `/`,
//!   `**` any number of whole segments (none included), and `{css,js}` either word;
//! - a pattern with no `/` matches a file's name at any depth (`*.map`); one with a `/` is
//!   anchored at the static dir (`vendor/**`, `img/*.png`); a leading `/` only anchors.

/// One pattern, checked and ready to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// The alternatives `{…}` spells out, each split into segments.
    alternatives: Vec<Vec<String>>,
    /// True if the pattern matches the file name at any depth.
    any_depth: bool,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidGlob(pub &'static str);

impl Glob {
    /// Parses `pattern`.
    ///
    /// # Errors
    /// [`InvalidGlob`] for an empty pattern, unbalanced or nested braces, a `..` segment or a
    /// backslash (static paths use `/`).
    pub fn new(pattern: &str) -> Result<Self, InvalidGlob> {
        if pattern.is_empty() || pattern == "/" {
            return Err(InvalidGlob("it is empty"));
        }
        if pattern.contains('\\') {
            return Err(InvalidGlob("it holds a backslash (static paths use `/`)"));
        }
        let any_depth = !pattern.contains('/');
        let anchored = pattern.strip_prefix('/').unwrap_or(pattern);
        let mut alternatives = Vec::new();
        for spelled in expand_braces(anchored)? {
            let segments: Vec<String> = spelled
                .split('/')
                .filter(|segment| !segment.is_empty())
                .map(str::to_owned)
                .collect();
            if segments.iter().any(|segment| segment == "..") {
                return Err(InvalidGlob("it holds a `..` segment"));
            }
            alternatives.push(segments);
        }
        Ok(Glob {
            alternatives,
            any_depth,
        })
    }

    /// True if the static path `relative` (`/`-separated, no leading `/`) matches.
    #[must_use]
    pub fn matches(&self, relative: &str) -> bool {
        let segments: Vec<&str> = relative.split('/').collect();
        self.alternatives.iter().any(|pattern| {
            if self.any_depth {
                let name = segments.last().copied().unwrap_or_default();
                pattern.len() == 1 && segment_matches(pattern[0].as_bytes(), name.as_bytes())
            } else {
                segments_match(pattern, &segments)
            }
        })
    }
}

/// The spellings of `pattern` with its `{a,b}` groups spelled out.
fn expand_braces(pattern: &str) -> Result<Vec<String>, InvalidGlob> {
    let Some(open) = pattern.find('{') else {
        if pattern.contains('}') {
            return Err(InvalidGlob("it has a `}` without a `{`"));
        }
        return Ok(vec![pattern.to_owned()]);
    };
    let close = pattern[open..]
        .find('}')
        .map(|offset| open + offset)
        .ok_or(InvalidGlob("it has a `{` without a `}`"))?;
    let inside = &pattern[open + 1..close];
    if inside.contains('{') {
        return Err(InvalidGlob("it nests braces"));
    }
    let mut spelled = Vec::new();
    for rest in expand_braces(&pattern[close + 1..])? {
        for word in inside.split(',') {
            spelled.push(format!("{}{word}{rest}", &pattern[..open]));
        }
    }
    Ok(spelled)
}

fn segments_match(pattern: &[String], segments: &[&str]) -> bool {
    match pattern.split_first() {
        None => segments.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=segments.len()).any(|skip| segments_match(rest, &segments[skip..]))
        }
        Some((first, rest)) => segments.split_first().is_some_and(|(segment, others)| {
            segment_matches(first.as_bytes(), segment.as_bytes()) && segments_match(rest, others)
        }),
    }
}

/// `*` and `?` within one segment.
fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| segment_matches(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && segment_matches(rest, &name[1..]),
        Some((byte, rest)) => name.first() == Some(byte) && segment_matches(rest, &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn patterns_without_a_slash_match_the_name_at_any_depth() {
        assert!(matches("*.map", "app.js.map"));
        assert!(matches("*.map", "js/vendor/lit.js.map"));
        assert!(!matches("*.map", "js/app.js"));
        assert!(matches("photo?.png", "img/photo1.png"));
        assert!(!matches("photo?.png", "img/photo12.png"));
    }

    #[test]
    fn patterns_with_a_slash_are_anchored() {
        assert!(matches("vendor/**", "vendor/lit/lit.js"));
        assert!(matches("/vendor/**", "vendor/a.js"));
        assert!(!matches("vendor/**", "js/vendor/a.js"));
        assert!(matches("img/*.png", "img/a.png"));
        assert!(!matches("img/*.png", "img/sub/a.png"));
        assert!(matches("**/*.png", "a.png"));
        assert!(matches("**/*.png", "img/sub/a.png"));
        assert!(matches("css/**/*.css", "css/app.css"));
        assert!(!matches("*/*.css", "app.css"));
    }

    #[test]
    fn braces_spell_alternatives() {
        assert!(matches("*.{css,js}", "a/b.css"));
        assert!(matches("*.{css,js}", "b.js"));
        assert!(!matches("*.{css,js}", "b.json"));
        assert!(matches("{img,fonts}/**", "fonts/a.woff2"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for pattern in ["", "/", "a{b", "a}b", "{a{b}}", "../x", "a\\b"] {
            assert!(Glob::new(pattern).is_err(), "{pattern}");
        }
    }
}
