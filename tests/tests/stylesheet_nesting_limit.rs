//! A generated chain of 1,000 `@import`s (`0.css` imports `1.css`, …) made rustc die of a
//! stack overflow while the macros rewrote it. Now nesting deeper than 32 levels is a compile
//! error at the call, naming the start and the end of the chain, and rustc survives to say so.

use cachekiller_tests::scratch::ScratchCrate;

#[test]
fn a_thousand_deep_import_chain_is_a_compile_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = ScratchCrate::standalone(
        &dir.path().join("site"),
        "stylesheet_nesting_limit",
        "fn main() {\n    println!(\"{}\", cachekiller_macros::cdnintegrity!(\"css/0.css\"));\n}\n",
        "",
    );
    let css = scratch.dir.join("static/css");
    std::fs::create_dir_all(&css).unwrap();
    for level in 0..1000 {
        let next = if level < 999 {
            format!("@import \"{}.css\";\n", level + 1)
        } else {
            String::new()
        };
        std::fs::write(
            css.join(format!("{level}.css")),
            format!("{next}.level-{level} {{ margin: 0 }}\n"),
        )
        .unwrap();
    }
    let output = scratch.cargo_build(&[]);
    assert!(!output.status.success(), "the build succeeded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("SIGSEGV") && !stderr.contains("stack overflow"),
        "rustc crashed: {stderr}"
    );
    let message = scratch.build_failure(&[]);
    assert!(message.contains("css/0.css"), "{message}");
    assert!(message.contains("32"), "{message}");
    // At the call: rustc points at the path literal.
    assert!(
        message.contains("cdnintegrity!(\"css/0.css\")"),
        "{message}"
    );
}
