//! Two deploys of the axum example from two commits of one repository, built in release with
//! the archive: revision A (the first commit, checked out in a worktree of its own) and
//! revision B (a later commit changing the stylesheet and a JS module). The tests of deploy
//! skew start them against one archive and ask each for the other's URLs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::oracle::{git, git_head, sha1sum};
use crate::scratch::ScratchCrate;
use crate::setup::cannot_run;

/// A's stylesheet: no references, so its bytes as sent are the committed bytes.
pub const STYLESHEET_A: &str = "body { color: #1b1b1f; } /* deploy A */\n";
/// B's stylesheet.
pub const STYLESHEET_B: &str = "body { color: #fdf6e3; } /* deploy B */\n";
/// A's `js/greeting.js` (imported by `js/site.js` through the import map).
pub const GREETING_A: &str = "export const greeting = \"from deploy A\";\n";
/// B's `js/greeting.js`.
pub const GREETING_B: &str = "export const greeting = \"from deploy B\";\n";

/// Builds of two commits of the example.
pub struct TwoDeploys {
    /// The repository (`site/` holds the example).
    pub repository: tempfile::TempDir,
    /// Revision A's build, from a worktree at A.
    pub a: ScratchCrate,
    /// Revision B's build.
    pub b: ScratchCrate,
    /// A's commit.
    pub commit_a: String,
    /// B's commit.
    pub commit_b: String,
}

impl TwoDeploys {
    /// The example as the crate `name` with the cargo `features` on (`archive`, `aws`),
    /// `manifest_extra` appended to its manifest, `write_a` run on its `site/` before the
    /// first commit and `write_b` before the second (the scratch copy's own files); built at
    /// both commits, in release.
    #[must_use]
    pub fn build(
        name: &str,
        features: &[&str],
        manifest_extra: &str,
        write_a: impl FnOnce(&Path),
        write_b: impl FnOnce(&Path),
    ) -> Self {
        let repository = tempfile::tempdir().unwrap();
        let root = repository.path();
        git(root, &["init", "-q"]);
        let site = root.join("site");
        let scratch = ScratchCrate::fixture_copy("axum-site", &site, name).in_release();
        scratch.enable_features(features);
        if !manifest_extra.is_empty() {
            scratch.append_to_manifest(manifest_extra);
        }
        std::fs::write(site.join("static/css/site.css"), STYLESHEET_A).unwrap();
        std::fs::write(site.join("static/js/greeting.js"), GREETING_A).unwrap();
        write_a(&site);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "deploy A"]);
        let commit_a = git_head(root);
        git(root, &["worktree", "add", "-q", "--detach", "a", "HEAD"]);
        std::fs::write(site.join("static/css/site.css"), STYLESHEET_B).unwrap();
        std::fs::write(site.join("static/js/greeting.js"), GREETING_B).unwrap();
        write_b(&site);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "deploy B"]);
        let commit_b = git_head(root);

        let a = scratch
            .checked_out_at(&root.join("a/site"))
            .renamed_and_built(format!("{name}_a"));
        let b = scratch.renamed_and_built(format!("{name}_b"));
        TwoDeploys {
            repository,
            a,
            b,
            commit_a,
            commit_b,
        }
    }

    /// The revision tag of A's pages (`cdntag!()`: 14 hex digits of the commit).
    #[must_use]
    pub fn tag_a(&self) -> &str {
        &self.commit_a[..14]
    }

    /// The revision tag of B's pages.
    #[must_use]
    pub fn tag_b(&self) -> &str {
        &self.commit_b[..14]
    }

    /// The full SHA-1 of the static file `path` (below `static/`) as committed at `commit`:
    /// `git show <commit>:site/static/<path> | sha1sum`.
    #[must_use]
    pub fn committed_sha1(&self, commit: &str, path: &str) -> String {
        let script = format!("git show '{commit}:site/static/{path}' | sha1sum");
        let output = Command::new("sh")
            .args(["-c", &script])
            .current_dir(self.repository.path())
            .output()
            .unwrap_or_else(|error| panic!("{}", cannot_run("sh", &error)));
        assert!(
            output.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()[..40].to_owned()
    }

    /// A directory in the repository's temporary dir, for an archive both deploys share.
    #[must_use]
    pub fn archive_dir(&self) -> PathBuf {
        self.repository.path().join("archive")
    }
}

/// The full SHA-1 of `bytes`, from `sha1sum`.
#[must_use]
pub fn sha1_of(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    sha1sum(file.path(), 40)
}

/// Every static URL of `page` (`/static/…` in an attribute or in the import map), once each,
/// in the order they appear.
#[must_use]
pub fn static_urls(page: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for (start, _) in page.match_indices("\"/static/") {
        let rest = &page[start + 1..];
        let url = &rest[..rest.find('"').expect("the URL ends")];
        if !urls.iter().any(|known| known == url) {
            urls.push(url.to_owned());
        }
    }
    urls
}

/// The static path of a URL of the example (`/static/css/site.css?tag=…` -> `css/site.css`),
/// the tag in a file name removed (`site.<tag>.css` -> `site.css`) when `tag` is given.
#[must_use]
pub fn static_path(url: &str, tag: Option<&str>) -> String {
    let path = url
        .strip_prefix("/static/")
        .expect("a static URL")
        .split('?')
        .next()
        .unwrap();
    match tag {
        Some(tag) => path.replacen(&format!(".{tag}."), ".", 1),
        None => path.to_owned(),
    }
}
