use cachekiller_macros::{cdnstatic, cdntag};

fn main() {
    let _ = cdnstatic!("a.css"foo);
    let _ = cdnstatic!("a.css", tag_length = 8u8, check_files = false);
    let _ = cdntag!(tag_length = 8usize);
}
