use cachekiller_macros::{cdnstatic, cdntag};

fn main() {
    let _ = cdnstatic!("a.css", tag_lenght = 8);
    let _ = cdntag!(param = "v");
}
