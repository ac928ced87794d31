//! "Did you mean …?": the closest known name to a typo, for option keys and static paths.

/// The candidate closest to `written`, if it is close enough to be a typo of it: an edit
/// distance of at most a quarter of its length, and at least 1. Ties go to the smaller name.
pub(crate) fn closest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = written.chars().count();
    let limit = 1 + length / 4;
    candidates
        .into_iter()
        // The distance is at least the difference in length: most of a large static dir
        // (a `node_modules`) is ruled out without computing it.
        .filter(|candidate| candidate.chars().count().abs_diff(length) <= limit)
        .map(|candidate| (edit_distance(written, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance between `a` and `b`, in characters.
#[must_use]
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, a_char) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        for (a, b, distance) in [
            ("", "", 0),
            ("a", "", 1),
            ("kitten", "sitting", 3),
            ("css/ap.css", "css/app.css", 1),
            ("é", "e", 1),
        ] {
            assert_eq!(edit_distance(a, b), distance, "{a} {b}");
            assert_eq!(edit_distance(b, a), distance, "{b} {a}");
        }
    }

    #[test]
    fn typos_and_strangers() {
        let keys = ["static_url", "param", "tag_length", "hash_length", "mode"];
        for (written, expected) in [
            ("static-url", Some("static_url")),
            ("tag_lenght", Some("tag_length")),
            ("staticurl", Some("static_url")),
            ("hash_len", Some("hash_length")),
            ("length", None),
            ("colour", None),
            ("mod", Some("mode")),
        ] {
            assert_eq!(closest(written, keys), expected, "{written}");
        }
    }
}
