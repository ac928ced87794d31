use cachekiller_macros::cdnintegrity;

fn main() {
    let _ = cdnintegrity!("js/ap.js");
    let _ = cdnintegrity!();
}
