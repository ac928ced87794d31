use cachekiller_macros::cdnstatic;

fn main() {
    let _ = cdnstatic!("a.css", tag_length);
    let _ = cdnstatic!("a.css", tag_length = LENGTH);
    let _ = cdnstatic!("a.css" tag_length = 8);
}
