//! Every compile error a user can see, pinned by trybuild: each message is reviewed like an API.

use std::path::Path;

/// trybuild compiles the cases in a crate of its own at `<target>/tests/trybuild/<package>`,
/// which is the `CARGO_MANIFEST_DIR` the macros see. The file checks need a `static/` dir
/// there: `css/app.css` and `js/app.js`, so that the typos `css/ap.css` and `js/ap.js` have a
/// suggestion.
fn create_static_dir_for_trybuild() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent");
    let static_dir = target
        .join("tests/trybuild")
        .join(env!("CARGO_PKG_NAME"))
        .join("static");
    for file in ["css/app.css", "js/app.js"] {
        let path = static_dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("/* {file} */\n")).unwrap();
    }
}

#[test]
fn compile_errors() {
    create_static_dir_for_trybuild();
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
