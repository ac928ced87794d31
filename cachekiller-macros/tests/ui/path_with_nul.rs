use cachekiller_macros::cdnstatic;

fn main() {
    let _ = cdnstatic!("a%00.css", check_files = false);
    let _ = cdnstatic!("a\0.css", check_files = false);
}
