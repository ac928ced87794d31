use cachekiller_macros::{cdnimportmap, cdnmodulepreload};

fn main() {
    let _ = cdnimportmap!();
    let entry = "modules/app.js";
    let _ = cdnmodulepreload!(entry);
    let _ = cdnimportmap!("modules/app.js" "modules/ui.js");
    let _ = cdnimportmap!("modules/app.js", 3);
}
