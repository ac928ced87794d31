use cachekiller_macros::cdnstatic;

fn main() {
    // A typo: close to `css/app.css`, which exists.
    let _ = cdnstatic!("css/ap.css");
    // Nothing close.
    let _ = cdnstatic!("fonts/inter.woff2");
    // Content mode needs the file in every case.
    let _ = cdnstatic!("img/logo.png", mode = "content", check_files = false);
    // Not checked when asked not to: a file made after the build.
    let _ = cdnstatic!("generated/bundle.js", check_files = false);
}
