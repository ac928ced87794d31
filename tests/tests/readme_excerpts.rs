//! The README's Rust blocks are doctests of this crate, except the axum excerpts (`rust,ignore`:
//! this crate does not depend on axum). Those of the serving and the deploy skew sections must
//! be the code of the axum example, which the browser and deploy tests compile and run: every
//! line of them (but a `// In main()` heading) must stand in the example's source. (The quickstart's files are compared whole by `quickstart.rs`.)

use std::collections::HashSet;
use std::fs;

use cachekiller_tests::scratch::workspace_root;

#[test]
fn the_axum_excerpt_is_the_example_code() {
    let readme = fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let example =
        fs::read_to_string(workspace_root().join("tests/fixtures/axum-site/src/main.rs")).unwrap();
    let example_lines: HashSet<&str> = example.lines().map(str::trim).collect();
    // The quickstart's files are checked whole by `quickstart.rs`.
    let excerpts: Vec<&str> = readme
        .split("```rust,ignore\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .filter(|block| !block.starts_with("//! An Askama page whose asset URLs"))
        // The run-time API's snippets use names of their own (MiniJinja's environment).
        .filter(|block| block.contains(".nest_service("))
        .collect();
    // The serving section's and the deploy skew section's.
    assert_eq!(excerpts.len(), 2, "two axum excerpts in the README");
    for excerpt in excerpts {
        for line in excerpt
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("// In main()"))
        {
            assert!(
                example_lines.contains(line),
                "README line not in the axum example: {line}"
            );
        }
    }
}
