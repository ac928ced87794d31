//! Every compile error a user can see, pinned by trybuild: each message is reviewed like an API.

use std::path::Path;

/// trybuild compiles the cases in a crate of its own at `<target>/tests/trybuild/<package>`,
/// which is the `CARGO_MANIFEST_DIR` the macros see. The file checks need a `static/` dir
/// there: `css/app.css` and `js/app.js`, so that the typos `css/ap.css` and `js/ap.js` have a
/// suggestion; JavaScript modules with bad imports; stylesheets with a mistyped reference, a cycle and a chain too deep; links in
/// and out of it and a FIFO for `links_and_special_files.rs` (made here: git keeps neither a
/// FIFO nor a link to `/etc`).
fn create_static_dir_for_trybuild() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent");
    let static_dir = target
        .join("tests/trybuild")
        .join(env!("CARGO_PKG_NAME"))
        .join("static");
    let stylesheets = [
        (
            "css/site.css",
            "@import \"base.css\";\n@font-face { src: url(../type/face.otf) }\n",
        ),
        (
            "css/base.css",
            "/* The reset. */\nbody { margin: 0 }\n.logo { background: url(../media/mark.sgv) }\n",
        ),
        ("css/loop-a.css", "@import 'loop-b.css';\n"),
        ("css/loop-b.css", "@import url(loop-a.css);\n"),
        ("type/face.otf", "OTTO"),
        ("media/mark.svg", "<svg/>"),
        // Modules for `module_imports.rs`: a typo of a relative import, a bare specifier
        // without a table entry, an import that climbs out, and a module that does not lex.
        ("modules/app.js", "import { ui } from './ui.js';\nexport const app = ui;\n"),
        (
            "modules/ui.js",
            "// The user interface.\nimport { format } from './utlis.js';\nexport const ui = format;\n",
        ),
        ("modules/utils.js", "export const format = String;\n"),
        (
            "modules/chart.js",
            "import { ui } from './ui.js';\n\nimport { html } from 'lit';\n",
        ),
        ("modules/climb.js", "import '../../../secret.js';\n"),
        ("modules/broken.js", "const a = 1;\nimport './ui.js';\nconst b = `unterminated;\n"),
    ];
    let placeholders = ["css/app.css", "js/app.js"].map(|file| (file, format!("/* {file} */\n")));
    for (file, text) in placeholders
        .iter()
        .map(|(file, text)| (*file, text.as_str()))
        .chain(stylesheets)
    {
        let path = static_dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    for (target, link) in [
        ("/etc/passwd", "leak.css"),
        ("/etc", "etc"),
        ("css/app.css", "alias.css"),
    ] {
        let link = static_dir.join(link);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link).unwrap();
    }
    // A chain of 40 `@import`s, deeper than the 32 levels a stylesheet may nest.
    for level in 0..40 {
        let next = if level < 39 {
            format!("@import \"{}.css\";\n", level + 1)
        } else {
            String::new()
        };
        let path = static_dir.join(format!("deep/{level}.css"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, next).unwrap();
    }
    let fifo = static_dir.join("pipe.css");
    if !fifo.exists() {
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo {}", fifo.display());
    }
}

#[test]
fn compile_errors() {
    create_static_dir_for_trybuild();
    // The cases' crate lives in the target dir, inside this repository or (with
    // `CARGO_TARGET_DIR` elsewhere) outside any: pinned to one explicit tag, it tracks the same
    // files wherever it is (without a repository the tag would be the static files' digest,
    // which tracks every static file, and a call that must carry its file's tracking would
    // expand to a bare literal). Set before trybuild runs cargo, which inherits it.
    std::env::set_var("CACHEKILLER_TAG", "ui-tests");
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
