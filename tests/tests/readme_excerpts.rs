//! The README's Rust blocks are doctests of this crate, except the server excerpts
//! (`rust,ignore`: this crate does not depend on every framework). Each must be the code of
//! what the tests compile and run: the axum example (the serving and the deploy skew
//! sections), the actix-web and the Rocket examples, and the conformance suite's poem and
//! salvo rows. Every line of an excerpt (but a `// In main()` heading) must stand in that
//! source. (The quickstart's files are compared whole by `quickstart.rs`.)

use std::collections::HashSet;
use std::fs;

use cachekiller_tests::scratch::workspace_root;

/// Which source an excerpt is taken from: the first whose marker it holds.
const SOURCES: [(&str, &str, usize); 4] = [
    (".nest_service(", "tests/fixtures/axum-site/src/main.rs", 2),
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

#[test]
fn the_server_excerpts_are_the_tested_code() {
    let readme = fs::read_to_string(workspace_root().join("README.md")).unwrap();
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
