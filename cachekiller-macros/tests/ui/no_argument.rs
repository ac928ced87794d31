use cachekiller_macros::cdnstatic;

fn main() {
    let _ = cdnstatic!();
}
