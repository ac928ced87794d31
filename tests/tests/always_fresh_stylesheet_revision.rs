//! A stylesheet hashed in a crate whose tags are revisions (the default mode): its rewritten
//! bytes hold the revision in every reference, so its content tag
//! (`cdnstatic!(…, mode = "content")`) and its integrity (`cdnintegrity!`) change with every
//! commit, though no call's own value is the revision. After each commit the next build must
//! expand them again, and the page's integrity must be the SHA-384 of the bytes the static file
//! server sends; else the browser refuses the stylesheet.

use std::path::Path;
use std::process::Command;

use cachekiller_tests::oracle::{git, git_head, openssl_integrity, sha1sum};
use cachekiller_tests::scratch::{
    assert_rebuilt_printing, commit_crate_in_new_repository, workspace_root, ScratchCrate,
};

/// The stylesheet: one reference, which the service sends as `../img/dot.png?tag=<revision>`.
const STYLESHEET: &str = "body { background: url(../img/dot.png) }\n";

/// A page that hashes the stylesheet and makes no call whose value is the revision itself:
/// only the stylesheet's references carry it.
const PAGE_MAIN: &str = r#"use cachekiller_macros::{cdnintegrity, cdnstatic};

fn main() {
    println!("{}", cdnstatic!("css/app.css", mode = "content"));
    println!("{}", cdnintegrity!("css/app.css"));
}
"#;

/// Writes `static/css/app.css` and `static/img/dot.png` into the crate at `dir`.
fn write_static_files(dir: &Path) {
    std::fs::create_dir_all(dir.join("static/css")).unwrap();
    std::fs::create_dir_all(dir.join("static/img")).unwrap();
    std::fs::write(dir.join("static/css/app.css"), STYLESHEET).unwrap();
    std::fs::write(dir.join("static/img/dot.png"), [0x89, b'P', b'N', b'G']).unwrap();
}

/// What the page must print when the repository at `repository` is checked out: the URL
/// tagged with `sha1sum` of the stylesheet as the service sends it (its reference tagged with
/// `git rev-parse HEAD` cut to 14), and `openssl dgst -sha384` of those bytes.
fn expected_page(repository: &Path, scratch_dir: &Path) -> [String; 2] {
    let revision = &git_head(repository)[..14];
    let served = scratch_dir.join("expected-served.css");
    std::fs::write(
        &served,
        STYLESHEET.replace("dot.png", &format!("dot.png?tag={revision}")),
    )
    .unwrap();
    [
        format!("/static/css/app.css?tag={}", sha1sum(&served, 6)),
        openssl_integrity(&served, "sha384"),
    ]
}

/// Commits a change to a file no crate reads.
fn commit_elsewhere(repository: &Path, round: usize) {
    std::fs::write(repository.join("notes.txt"), format!("round {round}")).unwrap();
    git(repository, &["add", "notes.txt"]);
    git(
        repository,
        &["commit", "-q", "-m", &format!("round {round}")],
    );
}

#[test]
fn a_commit_renews_the_content_tag_and_integrity_of_a_stylesheet() {
    let repo = tempfile::tempdir().unwrap();
    let scratch = commit_crate_in_new_repository(
        repo.path(),
        "fresh_stylesheet_revision",
        PAGE_MAIN,
        "",
        |scratch| write_static_files(&scratch.dir),
    );
    let oracle_dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        if round > 0 {
            commit_elsewhere(repo.path(), round);
        }
        let expected = expected_page(repo.path(), oracle_dir.path());
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        assert_rebuilt_printing(&scratch, &expected, &[]);
    }
}

/// The server: answers one `GET` of the path given as second argument from the static dir
/// given as first, with the settings of `cdnsettings!()`; the status goes to standard error,
/// the body (the bytes a browser gets) to standard output.
const SERVER_MAIN: &str = r#"use std::io::Write as _;

use cachekiller_core::service::StaticFiles;
use cachekiller_macros::cdnsettings;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

fn main() {
    let mut arguments = std::env::args().skip(1);
    let (dir, path) = (arguments.next().unwrap(), arguments.next().unwrap());
    let service = StaticFiles::new(dir, cdnsettings!()).expect("the static dir is usable");
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (status, body) = runtime.block_on(async {
        let request = http::Request::get(path).body(String::new()).unwrap();
        let response = service.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().collect().await.unwrap().to_bytes())
    });
    eprintln!("{status}");
    std::io::stdout().write_all(&body).unwrap();
}
"#;

/// `GET path` from the server binary of `server` serving `static_dir`: the body, after
/// asserting a 200.
fn served_bytes(server: &ScratchCrate, static_dir: &Path, path: &str) -> Vec<u8> {
    let output = Command::new(server.binary())
        .arg(static_dir)
        .arg(path)
        .output()
        .expect("the server binary runs");
    assert!(output.status.success(), "the server binary failed");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "200",
        "GET {path}"
    );
    output.stdout
}

#[test]
fn the_pages_integrity_is_that_of_the_bytes_the_server_sends_after_each_commit() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    std::fs::write(
        repo.path().join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"pages\", \"server\"]\n",
    )
    .unwrap();
    let pages = ScratchCrate::member(
        repo.path(),
        &repo.path().join("pages"),
        "fresh_stylesheet_pages",
        PAGE_MAIN,
        "",
    );
    write_static_files(&pages.dir);
    let core = workspace_root().join("cachekiller-core");
    let server = ScratchCrate::member(
        repo.path(),
        &repo.path().join("server"),
        "fresh_stylesheet_server",
        SERVER_MAIN,
        &format!(
            "cachekiller-core = {{ path = {:?}, default-features = false, features = [\"service\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt\"] }}\n\
             tower = {{ version = \"0.5\", features = [\"util\"] }}\n\
             http = \"1\"\nhttp-body-util = \"0.1\"\n\n\
             [package.metadata.cachekiller]\nstatic_dirs = [\"../pages/static\"]\n",
            core.display().to_string()
        ),
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "pages and server"]);
    let static_dir = pages.dir.join("static");
    let served_file = repo.path().join("served.css");
    for round in 0..4 {
        if round > 0 {
            commit_elsewhere(repo.path(), round);
        }
        let (pages_report, server_report) = (pages.build(), server.build());
        if round > 0 {
            assert!(
                !pages_report.fresh,
                "round {round}: the pages crate is stale"
            );
            assert!(!server_report.fresh, "round {round}: the server is stale");
        }
        let page = pages.run();
        let url = &page[0];
        let body = served_bytes(&server, &static_dir, url.trim_start_matches("/static"));
        let revision = &git_head(repo.path())[..14];
        assert!(
            String::from_utf8_lossy(&body).contains(&format!("dot.png?tag={revision}")),
            "round {round}: the server sends the current revision"
        );
        std::fs::write(&served_file, &body).unwrap();
        assert_eq!(
            page[1],
            openssl_integrity(&served_file, "sha384"),
            "round {round}: the page's integrity is not that of the served stylesheet"
        );
        assert_eq!(
            *url,
            format!("/static/css/app.css?tag={}", sha1sum(&served_file, 6)),
            "round {round}: the page's content tag"
        );
        assert!(
            pages.build().fresh && server.build().fresh,
            "round {round}: rebuilt with nothing changed"
        );
    }
}
