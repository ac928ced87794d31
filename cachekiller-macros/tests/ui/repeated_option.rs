use cachekiller_macros::{cdnstatic, cdntag};

fn main() {
    // Last-wins would hide which one was meant: the second is the error.
    let _ = cdnstatic!("a.css", tag_length = 8, param = "v", tag_length = 40, check_files = false);
    let _ = cdntag!(tag_length = 8, tag_length = 8);
}
