use cachekiller_macros::{cdnintegrity, cdnstatic};

// The crate's first call (it carries the manifests' tracking, whatever the VCS).
const FONT: &str = cdnintegrity!("type/face.otf");

// Still a block, not a literal: each is the first call to read its file, whose tracking it
// carries. The way out is a named constant (see guide/using.md).
const PRINT_CSS: &str = concat!(cdnstatic!("css/app.css", mode = "content"), "#print");
const SCRIPT_INTEGRITY: &str = concat!(cdnintegrity!("js/app.js"), "");

fn main() {
    let _ = (FONT, PRINT_CSS, SCRIPT_INTEGRITY);
}
