use cachekiller_macros::{cdnintegrity, cdnstatic};

fn main() {
    let _ = cdnstatic!("../Cargo.toml");
    let _ = cdnstatic!("css/%2E%2E/%2E%2E/Cargo.toml", check_files = false);
    let _ = cdnintegrity!("../../../../etc/passwd");
}
