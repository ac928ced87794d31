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

/// How many files the "did you mean" search looks at (nearest first) before giving up on a
/// suggestion: the macros list once per crate, so a large `node_modules` costs once.
const MAX_FILES_FOR_SUGGESTION: usize = 100_000;

/// The files below `dirs` as static paths, for "did you mean".
pub(crate) fn static_files_for_suggestion(dirs: &[std::path::PathBuf]) -> Vec<String> {
    let mut files = Vec::new();
    for dir in dirs {
        collect_files(dir, &mut files);
    }
    files
}

/// Lists the files below `root` (relative to it, `/`-separated) into `found`, up to
/// [`MAX_FILES_FOR_SUGGESTION`], nearest first: the files a template names are most often near
/// the top, and a deep `node_modules` must not crowd them out. Linked directories are not
/// entered: a link to `.` would never end.
fn collect_files(root: &std::path::Path, found: &mut Vec<String>) {
    let mut directories = std::collections::VecDeque::from([root.to_owned()]);
    while let Some(dir) = directories.pop_front() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if found.len() >= MAX_FILES_FOR_SUGGESTION {
                return;
            }
            let path = entry.path();
            if entry.file_type().is_ok_and(|file_type| file_type.is_dir()) {
                directories.push_back(path);
            } else if let Some(relative) = path
                .strip_prefix(root)
                .ok()
                .and_then(std::path::Path::to_str)
            {
                found.push(relative.replace('\\', "/"));
            }
        }
    }
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
