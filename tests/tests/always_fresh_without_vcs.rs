//! Without any repository (and without `CACHEKILLER_TAG` or `SOURCE_DATE_EPOCH`) the tag is a
//! digest of the static files: every crate that serves the same files gets the same tag
//! however far apart they are built, an edit of a static file changes it in every crate at the
//! next build, and nothing changed rebuilds nothing. The oracle is `sha1sum` over the files,
//! sorted by path.

use cachekiller_tests::oracle::{assert_outside_any_repository, static_files_digest};
use cachekiller_tests::scratch::ScratchCrate;

/// Prints the tag and the integrity of a stylesheet whose reference carries the tag.
const MAIN: &str = r#"use cachekiller_macros::{cdnintegrity, cdntag};

fn main() {
    println!("{}", cdntag!());
    println!("{}", cdnintegrity!("css/app.css"));
}
"#;

#[test]
fn crates_built_apart_agree_and_a_static_edit_renews_the_tag() {
    let root = tempfile::tempdir().unwrap();
    assert_outside_any_repository(root.path());
    let workspace = root.path();
    std::fs::write(
        workspace.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"pages\", \"mail\"]\n\n\
         [workspace.metadata.cachekiller]\nstatic_dirs = [\"../static\"]\n",
    )
    .unwrap();
    let static_dir = workspace.join("static");
    std::fs::create_dir_all(static_dir.join("css")).unwrap();
    std::fs::create_dir_all(static_dir.join("img")).unwrap();
    std::fs::write(
        static_dir.join("css/app.css"),
        "body { background: url(../img/dot.png) }\n",
    )
    .unwrap();
    std::fs::write(static_dir.join("img/dot.png"), "one").unwrap();
    let member = |name: &str, package: &str| {
        ScratchCrate::member(workspace, &workspace.join(name), package, MAIN, "")
    };
    let (pages, mail) = (
        member("pages", "fresh_no_vcs_pages"),
        member("mail", "fresh_no_vcs_mail"),
    );

    for round in 0..3 {
        if round > 0 {
            std::fs::write(static_dir.join("img/dot.png"), format!("round {round}")).unwrap();
        }
        let pages_report = pages.build();
        // Built apart: a tag from each build's clock would differ.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let mail_report = mail.build();
        if round > 0 {
            assert!(
                !pages_report.fresh && !mail_report.fresh,
                "round {round}: a static edit must rebuild both"
            );
        }
        let expected = static_files_digest(&static_dir)[..14].to_owned();
        let (pages_output, mail_output) = (pages.run(), mail.run());
        assert_eq!(pages_output[0], expected, "round {round}: the pages' tag");
        assert_eq!(
            pages_output, mail_output,
            "round {round}: two crates of one build disagree"
        );
        assert!(
            pages.build().fresh && mail.build().fresh,
            "round {round}: rebuilt with nothing changed"
        );
    }
}
