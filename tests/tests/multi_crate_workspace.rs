//! The multi-crate example (`tests/fixtures/multi-crate`): two members use the macros as a
//! workspace dependency and share `[workspace.metadata.cachekiller]`; `mail` overrides
//! `tag_length` in its own `[package.metadata.cachekiller]`. Built in a git repository, both
//! render the commit (`git rev-parse HEAD`) with the shared CDN prefix, each cut to its length.

use cachekiller_tests::oracle::{git, git_head};
use cachekiller_tests::scratch::{copy_fixture, shared_target_dir, workspace_root, ScratchCrate};

#[test]
fn members_share_the_workspace_settings_and_one_overrides_a_key() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let workspace = repo.path().join("app");
    copy_fixture(
        &workspace_root().join("tests/fixtures/multi-crate"),
        &workspace,
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the workspace"]);
    let member = |name: &str| ScratchCrate {
        dir: workspace.join(name),
        name: name.to_owned(),
        workspace_dir: workspace.clone(),
        target_dir: shared_target_dir(),
        release: false,
    };
    let (web, mail) = (member("web"), member("mail"));
    let head = git_head(repo.path());
    for round in 0..2 {
        if round == 1 {
            git(
                repo.path(),
                &["commit", "-q", "--allow-empty", "-m", "a second commit"],
            );
        }
        let head = if round == 1 {
            git_head(repo.path())
        } else {
            head.clone()
        };
        // The first round may reuse an artifact of an earlier run of this test (same names,
        // same target dir); after the commit both must be rebuilt.
        let (web_report, mail_report) = (web.build(), mail.build());
        if round == 1 {
            assert!(
                !web_report.fresh && !mail_report.fresh,
                "a commit rebuilds both"
            );
        }
        assert!(
            web.build().fresh && mail.build().fresh,
            "round {round}: rebuilt with nothing changed"
        );
        assert_eq!(
            web.run(),
            [
                head[..10].to_owned(),
                format!(
                    r#"<link rel="stylesheet" href="https://cdn.example.com/static/css/site.css?tag={}">"#,
                    &head[..10]
                )
            ],
            "web: the workspace's static_url and tag_length"
        );
        assert_eq!(
            mail.run(),
            [
                head[..16].to_owned(),
                format!(
                    r#"<img src="https://cdn.example.com/static/img/header.png?tag={}" alt="header">"#,
                    &head[..16]
                )
            ],
            "mail: the workspace's static_url, its own tag_length"
        );
    }
}
