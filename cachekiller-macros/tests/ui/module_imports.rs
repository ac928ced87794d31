use cachekiller_macros::{cdnimportmap, cdnmodulepreload};

fn main() {
    // `modules/ui.js`, which `modules/app.js` imports, names `./utlis.js` (a typo of
    // `./utils.js`) on its line 2: the call says which module, which line, and what was meant.
    let _ = cdnimportmap!("modules/app.js");
    let _ = cdnmodulepreload!("modules/app.js");
    // `lit` is a bare specifier, and this crate's manifest has no
    // `[package.metadata.cachekiller.imports]` entry for it: blamed on the entry that
    // reached it.
    let _ = cdnimportmap!("modules/utils.js", "modules/chart.js");
    // An import that climbs above the static root names no static file.
    let _ = cdnimportmap!("modules/climb.js");
    // A module the lexer cannot read: where, and why.
    let _ = cdnimportmap!("modules/broken.js");
    // The entry itself must exist, with a suggestion as for `cdnstatic!`.
    let _ = cdnimportmap!("modules/ap.js");
}
