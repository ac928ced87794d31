use cachekiller_macros::{cdnstatic, cdntag};

fn main() {
    let _ = cdnstatic!("a.css", tag_length = 3);
    let _ = cdnstatic!("a.css", tag_length = "8");
    let _ = cdntag!(tag_length = 65);
    let _ = cdnstatic!("a.css", param = "a b");
    let _ = cdnstatic!("a.css", static_url = "/static/?x");
    let _ = cdnstatic!("a.css", static_url = true);
}
