use cachekiller_macros::{cdnintegrity, cdnstatic};

fn main() {
    // `css/base.css`, which `css/site.css` imports, names `media/mark.sgv` (a typo of
    // `media/mark.svg`): every call that makes the stylesheet's URL or integrity says where.
    let _ = cdnstatic!("css/site.css");
    let _ = cdnstatic!("css/site.css", mode = "content");
    let _ = cdnintegrity!("css/site.css");
    // Not checked when asked not to: the reference is left as written.
    let _ = cdnstatic!("css/site.css", check_files = false);
    // Stylesheets that import each other have no tag.
    let _ = cdnstatic!("css/loop-a.css", mode = "content");
}
