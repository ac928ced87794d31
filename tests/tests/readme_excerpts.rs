//! The README's and the guide's Rust blocks are doctests of this crate, except the server excerpts
//! (`rust,ignore`: this crate does not depend on every framework). Each must be the code of
//! what the tests compile and run: the axum example (the serving and the deploy skew
//! sections), the actix-web and the Rocket examples, and the conformance suite's poem and
//! salvo rows. Every line of an excerpt (but a `// In main()` heading) must stand in that
//! source. (The quickstart's files are compared whole by `quickstart.rs`.)

use std::collections::HashSet;
use std::fs;

use cachekiller_tests::scratch::workspace_root;

/// Which source an excerpt is taken from: the first whose marker it holds.
const SOURCES: [(&str, &str, usize); 5] = [
    (".nest_service(", "tests/fixtures/axum-site/src/main.rs", 2),
    (
        "StaticFiles::embedded(",
        "tests/fixtures/axum-site/src/main.rs",
        1,
    ),
    (
        "ActixStaticFiles::new(",
        "tests/fixtures/actix-site/src/main.rs",
        1,
    ),
    (
        ".mount(\"/static\"",
        "tests/fixtures/rocket-site/src/main.rs",
        1,
    ),
    ("compat(", "tests/tests/conformance/servers.rs", 2),
];

/// The README and every chapter of the guide, one after the other.
fn readme_and_guide() -> String {
    let mut text = fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let mut chapters: Vec<_> = fs::read_dir(workspace_root().join("guide"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "md"))
        .collect();
    chapters.sort();
    for chapter in chapters {
        text.push_str(&fs::read_to_string(chapter).unwrap());
    }
    text
}

#[test]
fn the_server_excerpts_are_the_tested_code() {
    let readme = readme_and_guide();
    let excerpts: Vec<&str> = readme
        .split("```rust,ignore\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .filter(|block| !block.starts_with("//! An Askama page whose asset URLs"))
        .collect();
    for (marker, source, expected) in SOURCES {
        let code = fs::read_to_string(workspace_root().join(source)).unwrap();
        let lines: HashSet<&str> = code.lines().map(str::trim).collect();
        let taken: Vec<&str> = excerpts
            .iter()
            .copied()
            .filter(|block| block.contains(marker))
            .collect();
        assert_eq!(taken.len(), expected, "README excerpts of {source}");
        for excerpt in taken {
            for line in excerpt
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with("// In main()"))
            {
                assert!(lines.contains(line), "README line not in {source}: {line}");
            }
        }
    }
}

/// GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces to
/// hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|character| character.is_alphanumeric() || matches!(character, '-' | '_' | ' '))
        .map(|character| if character == ' ' { '-' } else { character })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(markdown: &str) -> HashSet<String> {
    let mut in_code = false;
    let mut found = HashSet::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            let heading = line.trim_start_matches('#');
            if heading.starts_with(' ') {
                found.insert(anchor(heading));
            }
        }
    }
    found
}

/// Every relative link of the README and the guide (`[…](guide/x.md#y)`, `[…](#y)`) reaches
/// a file that exists and, if it names one, a heading of that file: the README was split into
/// the guide, and a link that points nowhere is what a reader would find first.
#[test]
fn every_link_between_the_readme_and_the_guide_resolves() {
    let root = workspace_root();
    let mut files = vec![root.join("README.md")];
    files.extend(
        fs::read_dir(root.join("guide"))
            .unwrap()
            .map(|entry| entry.unwrap().path()),
    );
    let mut checked = 0;
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (start, _) in text.match_indices("](") {
            let target = &text[start + 2..];
            let target = &target[..target.find(')').unwrap_or(target.len())];
            if target.contains("://") || target.contains(' ') {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let linked = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            assert!(
                linked.exists(),
                "{}: link to {target}: {} does not exist",
                file.display(),
                linked.display()
            );
            if !fragment.is_empty() {
                let headings = anchors(&fs::read_to_string(&linked).unwrap());
                assert!(
                    headings.contains(fragment),
                    "{}: link to {target}: no such heading in {}",
                    file.display(),
                    linked.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the scan broken?"
    );
}
