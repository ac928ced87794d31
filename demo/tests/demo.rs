//! The demo, the README's first command (`cargo run --example site`), shows both halves and
//! exits by itself: its pages link the workspace's revision (`git rev-parse HEAD`), every
//! linked asset comes back with the bytes `git show` gives, content-tagged URLs carry tags
//! `sha1sum` agrees with and are `immutable`, other tags are `no-cache`, the pages declare
//! UTF-8, and the README shows the output it prints.

use std::path::{Path, PathBuf};
use std::process::Command;

use cachekiller_tests::oracle::{sha1sum, workspace_tag};

/// The demo's executable, built beside this test by `cargo test` (which builds the package's
/// examples).
fn demo_binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from <target>/<profile>/deps");
    let binary = profile_dir.join("examples").join("site");
    assert!(
        binary.is_file(),
        "{} is missing: `cargo test` builds the package's examples; \
         alone, run `cargo build -p cachekiller-demo --example site` first",
        binary.display()
    );
    binary
}

/// A file of the demo's `static/` dir.
fn demo_static_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("static")
        .join(relative)
}

/// The answer lines (`  200 immutable br   /static/… bytes …`) under the output line that
/// begins with `heading`, up to the next line that is not an answer.
fn answers_under<'a>(output: &'a str, heading: &str) -> Vec<&'a str> {
    output
        .lines()
        .skip_while(|line| !line.starts_with(heading))
        .skip(1)
        .filter(|line| !line.starts_with("  ("))
        .take_while(|line| line.starts_with("  "))
        .collect()
}

/// `output` with what changes from run to run made constant: hex runs of 6 or more (tags,
/// commits), the port, and the output folder.
fn normalized(output: &str) -> String {
    let mut normal = String::with_capacity(output.len());
    for line in output.lines() {
        let line = match line.find("127.0.0.1:") {
            Some(start) => {
                let port_start = start + "127.0.0.1:".len();
                let digits = line[port_start..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                format!(
                    "{}PORT{}",
                    &line[..port_start],
                    &line[port_start + digits..]
                )
            }
            None => line.to_owned(),
        };
        let line = match line.find(" into ") {
            Some(start) if line.starts_with("wrote ") || line.starts_with("a static export") => {
                format!("{} into DIR", &line[..start])
            }
            _ => line,
        };
        let mut hex_run = String::new();
        for character in line.chars().chain(['\n']) {
            if character.is_ascii_hexdigit() && !character.is_ascii_uppercase() {
                hex_run.push(character);
                continue;
            }
            if hex_run.len() >= 6 {
                normal.push_str("HEX");
            } else {
                normal.push_str(&hex_run);
            }
            hex_run.clear();
            normal.push(character);
        }
    }
    normal
}

/// The README's copy of the demo's output: the `text` block after the marker comment.
fn readme_demo_output() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("the README");
    let marker = "<!-- the output of `cargo run --example site` (demo/tests/demo.rs) -->";
    let after = readme
        .split_once(marker)
        .unwrap_or_else(|| panic!("the README has no {marker}"))
        .1;
    let block = after
        .trim_start()
        .strip_prefix("```text\n")
        .expect("a ```text block after the marker");
    block[..block.find("\n```").expect("the block's end")].to_owned() + "\n"
}

#[test]
fn the_demo_renders_serves_and_checks_every_url_and_the_readme_shows_its_output() {
    let output_dir = tempfile::tempdir().unwrap();
    let run = Command::new(demo_binary())
        .arg(output_dir.path())
        .env_remove("CACHEKILLER_TAG")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8(run.stdout).expect("UTF-8 output");
    assert!(
        run.status.success(),
        "the demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        !stdout.contains("WRONG") && !stdout.contains("BROKEN"),
        "{stdout}"
    );

    // The pages link the revision; what comes back is the commit's bytes, and is `immutable`
    // exactly in a release build.
    let revision = workspace_tag();
    assert!(
        stdout.starts_with(&format!("cachekiller demo: the tag is {revision},")),
        "the demo was built at another commit than {revision} (`cargo test --workspace` \
         builds it again; alone: `cargo build -p cachekiller-demo --example site`):\n{stdout}"
    );
    let linked = answers_under(&stdout, "served on http://127.0.0.1:");
    let assets: Vec<_> = linked
        .iter()
        .filter(|line| line.contains("/static/"))
        .collect();
    // The four the pages link, and the image the stylesheet references.
    assert_eq!(assets.len(), 5, "{stdout}");
    let release = !cfg!(debug_assertions);
    for line in assets {
        assert!(line.contains(&format!("tag={revision}")), "{line}");
        assert!(line.contains("bytes = `git show <tag>:<file>`"), "{line}");
        assert_eq!(line.contains(" immutable "), release, "{line}");
    }
    assert_eq!(
        stdout.contains("a debug build: the revision tag is no-cache by design"),
        !release
    );

    // The content-tagged URLs: tags as `sha1sum` makes them, all `immutable`.
    let content = answers_under(&stdout, "the same assets, content-tagged");
    let files = [
        "css/app.css",
        "js/app.js",
        "img/logo.svg",
        "img/team photo.png",
    ];
    assert_eq!(content.len(), files.len(), "{stdout}");
    // The stylesheet is sent with its reference tagged, and its content tag is the SHA-1 of
    // what is sent: the file with the revision after `../img/stripe.svg` (a committed file),
    // written out here and hashed by `sha1sum`.
    let stylesheet = std::fs::read_to_string(demo_static_file("css/app.css")).unwrap();
    let reference = "url(../img/stripe.svg)";
    assert!(stylesheet.contains(reference), "{stylesheet}");
    let sent_stylesheet = output_dir.path().join("app.css as sent");
    std::fs::write(
        &sent_stylesheet,
        stylesheet.replace(reference, &format!("url(../img/stripe.svg?tag={revision})")),
    )
    .unwrap();
    for (line, file) in content.iter().zip(files) {
        let sent = if file == "css/app.css" {
            sent_stylesheet.clone()
        } else {
            demo_static_file(file)
        };
        let tag = sha1sum(&sent, 6);
        assert!(line.contains(&format!("?tag={tag} ")), "{file}: {line}");
        assert!(line.contains(" immutable "), "{line}");
        assert!(line.contains("bytes = the file, "), "{line}");
    }
    // The previous commit's tag and a made-up one: the current bytes, never cached.
    let other = answers_under(&stdout, "the previous commit's tag and a wrong one");
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let has_previous_commit = Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "HEAD~1"])
        .current_dir(manifest_dir)
        .output()
        .is_ok_and(|output| output.status.success());
    assert_eq!(
        other.len(),
        1 + usize::from(has_previous_commit),
        "{stdout}"
    );
    for line in other {
        assert!(
            line.contains(" no-cache ") && line.ends_with("current bytes"),
            "{line}"
        );
    }

    check_export(&stdout, &output_dir.path().join("export"));

    // The pages it wrote declare their encoding (served from a folder they would be read as
    // Latin-1 otherwise: `integrity="â€¦"`).
    for page in ["index.html", "maud.html"] {
        let html = std::fs::read_to_string(output_dir.path().join(page)).unwrap();
        assert!(html.contains("<meta charset=\"utf-8\">"), "{page}: {html}");
    }

    // The README shows the default command's output: a debug build's, in a clone with
    // history (a shallow clone has no previous commit to ask with).
    if release || !has_previous_commit {
        return;
    }
    assert_eq!(
        normalized(&readme_demo_output()),
        normalized(&stdout),
        "the README's demo output is not what the demo prints now; paste it again"
    );
}

/// The static export the demo wrote into `export`: every URL its page links (and the
/// stylesheet's image) is a file there whose `sha1sum` begins with the tag in its name; a file
/// sent as it is holds the demo's file, and its `.gz` sibling is what `gzip -dc` decodes to
/// those bytes; `_headers` makes exactly the tagged names `immutable`.
fn check_export(stdout: &str, export: &Path) {
    let exported = answers_under(stdout, "a static export, for a static host");
    let exported: Vec<_> = exported
        .iter()
        .filter(|line| line.starts_with("  /static/"))
        .collect();
    assert_eq!(exported.len(), 5, "{stdout}");
    let page = std::fs::read_to_string(export.join("index.html")).unwrap();
    for line in exported {
        let url = line.split_whitespace().next().unwrap();
        let file = export.join(cachekiller_demo::percent_decoded(&url[1..]));
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let tag = name.rsplit('.').nth(1).unwrap();
        assert_eq!(sha1sum(&file, tag.len()), tag, "{line}");
        if !url.contains("/stripe.") {
            assert!(
                page.contains(&format!("\"{url}\"")),
                "{url} is not linked: {page}"
            );
        }
        let original = url
            .trim_start_matches("/static/")
            .replace(&format!(".{tag}."), ".")
            .replace("%20", " ");
        if !cachekiller_demo::is_stylesheet(url) {
            assert_eq!(
                std::fs::read(&file).unwrap(),
                std::fs::read(demo_static_file(&original)).unwrap(),
                "{line}"
            );
        }
        let gz = export.join(format!(
            "{}.gz",
            cachekiller_demo::percent_decoded(&url[1..])
        ));
        if gz.exists() {
            let decoded = Command::new("gzip").arg("-dc").arg(&gz).output().unwrap();
            assert_eq!(decoded.stdout, std::fs::read(&file).unwrap(), "{line}");
        }
    }
    let headers = std::fs::read_to_string(export.join("_headers")).unwrap();
    assert_eq!(
        headers.matches("immutable\n").count(),
        5 + 5,
        "the five tagged names and their siblings: {headers}"
    );
}
