use cachekiller_macros::cdnintegrity;

fn main() {
    // `deep/0.css` imports `deep/1.css`, … down to `deep/39.css`: deeper than 32 levels.
    let _ = cdnintegrity!("deep/0.css");
}
