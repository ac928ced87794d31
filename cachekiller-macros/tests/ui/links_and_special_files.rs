use cachekiller_macros::{cdnintegrity, cdnstatic};

fn main() {
    // `static/leak.css` is a link to /etc/passwd, `static/etc` a link to /etc: refused, in
    // every mode, before anything is read.
    let _ = cdnstatic!("leak.css", mode = "content");
    let _ = cdnintegrity!("etc/passwd");
    let _ = cdnstatic!("etc/passwd");
    // `static/pipe.css` is a FIFO: reading it would block the compiler.
    let _ = cdnstatic!("pipe.css", mode = "content");
    let _ = cdnstatic!("css");
    // A link that stays inside the static dirs is fine.
    let _ = cdnstatic!("alias.css", mode = "content");
}
