use cachekiller_macros::{cdnstatic, cdntag};

fn main() {
    let _ = cdnstatic!("a.css", "b.css");
    let _ = cdntag!("a.css");
}
