use cachekiller_macros::cdnstatic;

const PATH: &str = "a.css";

fn main() {
    let _ = cdnstatic!(PATH);
}
