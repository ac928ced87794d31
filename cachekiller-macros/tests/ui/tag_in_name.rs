use cachekiller_macros::{cdnsettings, cdnstatic};

fn main() {
    // An absolute URL's file name is not ours to change.
    let _ = cdnstatic!("https://cdn.example.com/x.js", tag_in = "name");
    let _ = cdnstatic!("a.css", tag_in = "path", check_files = false);
    // The settings come from the configuration, not from arguments.
    let _ = cdnsettings!(tag_in = "name");
}
