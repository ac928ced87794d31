use cachekiller_macros::{cdnintegrity, cdnstatic};

fn main() {
    let _ = cdnstatic!("css/app.css", mode = "content", hash_length = 2);
    let _ = cdnstatic!("css/app.css", mode = "hash");
    let _ = cdnstatic!("https://cdn.example.com/x.js", mode = "content");
    let _ = cdnintegrity!("css/app.css", algorithm = "md5");
    let _ = cdnintegrity!("css/app.css", mode = "content");
    let _ = cdnstatic!("css/app.css", check_files = "no");
}
