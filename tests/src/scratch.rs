//! Scratch crates that depend on `cachekiller-macros`, built with the real `cargo build`, for
//! end-to-end checks of what a user's build does after a commit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The cachekiller workspace root.
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

/// One target directory shared by every scratch build, so that the macros and their
/// dependencies compile once: `e2e/` in the running test's target dir (inside the checkout or
/// wherever `CARGO_TARGET_DIR` puts it). It is not the workspace's own: cargo holds that one's
/// lock while `cargo test` runs.
#[must_use]
pub fn shared_target_dir() -> PathBuf {
    crate::setup::target_dir().join("e2e")
}

/// Variables of the outer `cargo test` or of the user's shell that would change what a
/// scratch build does.
const CLEARED_VARIABLES: &[&str] = &[
    "CACHEKILLER_TAG",
    "CACHEKILLER_STATIC_URL",
    "SOURCE_DATE_EPOCH",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "RUSTC_WRAPPER",
    "SCCACHE_DIR",
];

/// A binary crate in a directory of its own, using `cdnstatic!`/`cdntag!`.
#[derive(Debug, Clone)]
pub struct ScratchCrate {
    /// The crate's directory (holding its `Cargo.toml`).
    pub dir: PathBuf,
    /// The package and binary name; unique per test, as the target dir is shared.
    pub name: String,
    /// Where cargo runs from and the `Cargo.lock` lives: the crate itself, or the root of the
    /// workspace it is a member of.
    pub workspace_dir: PathBuf,
    /// The cargo target directory: [`shared_target_dir`] unless the test needs its own.
    pub target_dir: PathBuf,
    /// Whether it is built with `--release`.
    pub release: bool,
}

/// What a `cargo build` did.
#[derive(Debug)]
pub struct BuildReport {
    /// Whether cargo reused the scratch crate's previous artifact (`"fresh": true`).
    pub fresh: bool,
    /// Cargo's and rustc's diagnostics.
    pub stderr: String,
    /// rustc's diagnostics of the build (warnings among them), as it renders them.
    pub diagnostics: String,
}

/// The `main.rs` most end-to-end tests use: prints the tag, then a URL.
pub const PRINT_TAG_AND_URL: &str = r#"use cachekiller_macros::{cdnstatic, cdntag};

fn main() {
    println!("{}", cdntag!());
    println!("{}", cdnstatic!("css/app.css"));
}
"#;

impl ScratchCrate {
    /// Writes a standalone crate (its own `[workspace]`) named `name` into `dir`.
    #[must_use]
    pub fn standalone(dir: &Path, name: &str, main_rs: &str, manifest_extra: &str) -> Self {
        let scratch = Self::member(
            dir,
            dir,
            name,
            main_rs,
            &format!("{manifest_extra}\n[workspace]\n"),
        );
        std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock"))
            .expect("copy Cargo.lock");
        scratch
    }

    /// Writes a crate named `name` into `dir`, a member of the workspace at `workspace_dir`
    /// (whose `Cargo.toml` the caller writes).
    #[must_use]
    pub fn member(
        workspace_dir: &Path,
        dir: &Path,
        name: &str,
        main_rs: &str,
        manifest_extra: &str,
    ) -> Self {
        std::fs::create_dir_all(dir.join("src")).expect("create the scratch crate");
        // A Rust string's Debug form is a valid TOML basic string (quotes and `\` escaped).
        let macros = workspace_root()
            .join("cachekiller-macros")
            .display()
            .to_string();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\ncachekiller-macros = {{ path = {macros:?} }}\n{manifest_extra}"
            ),
        )
        .expect("write Cargo.toml");
        std::fs::write(dir.join("src/main.rs"), main_rs).expect("write main.rs");
        if workspace_dir != dir {
            std::fs::copy(
                workspace_root().join("Cargo.lock"),
                workspace_dir.join("Cargo.lock"),
            )
            .expect("copy Cargo.lock");
        }
        ScratchCrate {
            dir: dir.to_owned(),
            name: name.to_owned(),
            workspace_dir: workspace_dir.to_owned(),
            target_dir: shared_target_dir(),
            release: false,
        }
    }

    /// A copy at `destination` of the fixture `tests/fixtures/<fixture>` (a crate with its own
    /// `[workspace]`, whose package is named `fixture`), renamed `name`: tests that build
    /// copies of one fixture at once in the shared target dir must not overwrite each other's
    /// binary.
    #[must_use]
    pub fn fixture_copy(fixture: &str, destination: &Path, name: &str) -> Self {
        copy_fixture(
            &workspace_root().join("tests/fixtures").join(fixture),
            destination,
        );
        let manifest_path = destination.join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest_path).expect("read Cargo.toml");
        let renamed = manifest.replacen(
            &format!("name = \"{fixture}\""),
            &format!("name = \"{name}\""),
            1,
        );
        std::fs::write(&manifest_path, renamed).expect("write Cargo.toml");
        ScratchCrate {
            dir: destination.to_owned(),
            name: name.to_owned(),
            workspace_dir: destination.to_owned(),
            target_dir: shared_target_dir(),
            release: false,
        }
    }

    /// Appends `text` to the crate's `Cargo.toml` (a `[package.metadata.cachekiller]` table).
    pub fn append_to_manifest(&self, text: &str) {
        let manifest = self.dir.join("Cargo.toml");
        let existing = std::fs::read_to_string(&manifest).expect("read Cargo.toml");
        std::fs::write(&manifest, format!("{existing}\n{text}")).expect("write Cargo.toml");
    }

    /// Turns on the crate's cargo `features` (the fixture's `[features]` table) by default, so
    /// that every build of it has them.
    pub fn enable_features(&self, features: &[&str]) {
        if features.is_empty() {
            return;
        }
        let manifest = self.dir.join("Cargo.toml");
        let existing = std::fs::read_to_string(&manifest).expect("read Cargo.toml");
        let listed: Vec<String> = features.iter().map(|name| format!("\"{name}\"")).collect();
        let default = format!("[features]\ndefault = [{}]\n", listed.join(", "));
        assert!(
            existing.contains("[features]\n"),
            "{} has no [features] table",
            manifest.display()
        );
        std::fs::write(&manifest, existing.replacen("[features]\n", &default, 1))
            .expect("write Cargo.toml");
    }

    /// Built with `--release`: a server whose revision tags may be trusted.
    #[must_use]
    pub fn in_release(mut self) -> Self {
        self.release = true;
        self
    }

    /// The built binary.
    #[must_use]
    pub fn binary(&self) -> PathBuf {
        let profile = if self.release { "release" } else { "debug" };
        self.target_dir.join(profile).join(&self.name)
    }

    /// The same crate at another place (a worktree or submodule checkout of it).
    #[must_use]
    pub fn checked_out_at(&self, dir: &Path) -> Self {
        ScratchCrate {
            dir: dir.to_owned(),
            workspace_dir: dir.to_owned(),
            ..self.clone()
        }
    }

    /// The same crate renamed `name` in its work tree only, then built: two checkouts of one
    /// crate (two deploys) keep their binaries apart in the shared target dir, and their tags
    /// still come from their commits.
    #[must_use]
    pub fn renamed_and_built(mut self, name: String) -> Self {
        let manifest = self.dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("read Cargo.toml");
        std::fs::write(
            &manifest,
            text.replacen(
                &format!("name = \"{}\"", self.name),
                &format!("name = \"{name}\""),
                1,
            ),
        )
        .expect("write Cargo.toml");
        self.name = name;
        let _ = self.build();
        self
    }

    /// Builds into a target directory of its own, named `purpose`. For tests that change
    /// `SOURCE_DATE_EPOCH`: the build scripts of libgit2-sys and libz-sys (through the `cc`
    /// crate) rerun when it changes, which would rebuild every other test's crates in the
    /// shared target dir and make them look rebuilt for nothing.
    #[must_use]
    pub fn with_own_target_dir(mut self, purpose: &str) -> Self {
        self.target_dir = crate::setup::target_dir().join(format!("e2e-{purpose}"));
        self
    }

    /// The same crate built with `cachekiller-macros`' default features off, so that the `git`
    /// executable reads every repository instead of libgit2, into a target dir of its own
    /// (feature sets must not share one with the default build).
    #[must_use]
    pub fn without_libgit2(self) -> Self {
        let manifest_path = self.dir.join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest_path).expect("read Cargo.toml");
        let dependency = manifest
            .lines()
            .find(|line| line.starts_with("cachekiller-macros = {"))
            .expect("the scratch crate depends on cachekiller-macros")
            .to_owned();
        let without = dependency.replace(" }", ", default-features = false }");
        std::fs::write(&manifest_path, manifest.replace(&dependency, &without))
            .expect("write Cargo.toml");
        self.with_own_target_dir("without-libgit2")
    }

    /// `cargo build` with `variables` set on top of a clean environment; the raw output.
    #[must_use]
    pub fn cargo_build(&self, variables: &[(&str, &str)]) -> Output {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command
            .args([
                "build",
                "--quiet",
                "--message-format=json",
                "--package",
                &self.name,
            ])
            .current_dir(&self.workspace_dir);
        if self.release {
            command.arg("--release");
        }
        for variable in CLEARED_VARIABLES {
            command.env_remove(variable);
        }
        command.env("CARGO_TARGET_DIR", &self.target_dir);
        command.envs(variables.iter().copied());
        command.output().expect("cargo runs")
    }

    /// Builds, asserting failure, and returns cargo's and rustc's diagnostics.
    #[must_use]
    pub fn build_failure(&self, variables: &[(&str, &str)]) -> String {
        let output = self.cargo_build(variables);
        assert!(
            !output.status.success(),
            "cargo build of {} succeeded",
            self.name
        );
        rendered_diagnostics(&output)
    }

    /// Builds, asserting success, and reports whether the crate was rebuilt.
    #[must_use]
    pub fn build_with(&self, variables: &[(&str, &str)]) -> BuildReport {
        let output = self.cargo_build(variables);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "cargo build of {} failed:\n{stderr}{}",
            self.name,
            rendered_diagnostics(&output)
        );
        let fresh = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter(|message| message["target"]["name"] == self.name.as_str())
            .map(|message| message["fresh"] == true)
            .next_back()
            .unwrap_or_else(|| panic!("cargo reported no artifact for {}", self.name));
        BuildReport {
            fresh,
            stderr,
            diagnostics: rendered_diagnostics(&output),
        }
    }

    /// Builds with a clean environment; see [`ScratchCrate::build_with`].
    #[must_use]
    pub fn build(&self) -> BuildReport {
        self.build_with(&[])
    }

    /// Runs the built binary and returns its standard output lines.
    #[must_use]
    pub fn run(&self) -> Vec<String> {
        let binary = self.binary();
        let output = Command::new(&binary)
            .output()
            .expect("the scratch binary runs");
        assert!(output.status.success(), "{} failed", binary.display());
        String::from_utf8(output.stdout)
            .expect("UTF-8 output")
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// rustc's diagnostics as it would print them: with `--message-format=json` they are on
/// stdout, rendered inside each message.
fn rendered_diagnostics(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|message| message["message"]["rendered"].as_str().map(str::to_owned))
        .collect()
}

/// Asserts what a build after a change must give: the crate was rebuilt, prints `tag` and the
/// URL `/static/css/app.css?tag=<tag>`, and a second build with nothing changed reuses the
/// artifact.
pub fn assert_rebuilt_with_tag(scratch: &ScratchCrate, tag: &str, variables: &[(&str, &str)]) {
    assert_rebuilt_printing(
        scratch,
        &[tag, &format!("/static/css/app.css?tag={tag}")],
        variables,
    );
}

/// Asserts what a build in a repository without a revision must give: the crate is rebuilt
/// and its tag is the digest of its static files (`static/` of the crate; see
/// [`crate::oracle::static_files_digest`]) cut to 14, and it stays rebuilt on every build
/// until a revision exists.
pub fn assert_rebuilt_until_a_revision(scratch: &ScratchCrate) {
    let digest = crate::oracle::static_files_digest(&scratch.dir.join("static"));
    for build in ["first", "second"] {
        let report = scratch.build();
        assert!(
            !report.fresh,
            "{build} build: {} was not rebuilt before the first revision",
            scratch.name
        );
        assert_eq!(
            scratch.run()[0],
            digest[..14],
            "{build} build: expected the static files' digest"
        );
    }
}

/// Asserts that the next build rebuilds the crate, that it prints `expected`, and that a
/// second build with nothing changed reuses the artifact.
pub fn assert_rebuilt_printing(
    scratch: &ScratchCrate,
    expected: &[&str],
    variables: &[(&str, &str)],
) {
    let report = scratch.build_with(variables);
    assert!(
        !report.fresh,
        "{} was not rebuilt; expected it to print {expected:?}",
        scratch.name
    );
    assert_eq!(
        scratch.run(),
        expected,
        "{} prints the wrong output",
        scratch.name
    );
    assert!(
        scratch.build_with(variables).fresh,
        "{} was rebuilt although nothing changed",
        scratch.name
    );
}

/// Copies the fixture at `fixture` (a crate or workspace under `tests/fixtures/`) into
/// `destination`, leaving out `target/`, and points its path dependencies on this checkout's
/// crates (`"../../../cachekiller-…"` in the fixture) at their absolute paths.
pub fn copy_fixture(fixture: &Path, destination: &Path) {
    std::fs::create_dir_all(destination).expect("create the fixture copy");
    for entry in std::fs::read_dir(fixture).expect("read the fixture") {
        let entry = entry.expect("a fixture entry");
        let target = destination.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            if entry.file_name() != "target" {
                copy_fixture(&entry.path(), &target);
            }
        } else if entry.file_name() == "Cargo.toml" {
            let manifest = std::fs::read_to_string(entry.path()).expect("read Cargo.toml");
            let root = workspace_root();
            let manifest = ["cachekiller-macros", "cachekiller-core"].iter().fold(
                manifest,
                |manifest, name| {
                    manifest.replace(
                        &format!("\"../../../{name}\""),
                        &format!("{:?}", root.join(name).display().to_string()),
                    )
                },
            );
            std::fs::write(target, manifest).expect("write Cargo.toml");
        } else {
            std::fs::copy(entry.path(), target).expect("copy a fixture file");
        }
    }
}

/// Makes `root` a new git repository whose first commit holds a standalone scratch crate at
/// `root/site`, with the files `prepare` adds to it (static files, say).
pub fn commit_crate_in_new_repository(
    root: &Path,
    name: &str,
    main_rs: &str,
    manifest_extra: &str,
    prepare: impl FnOnce(&ScratchCrate),
) -> ScratchCrate {
    commit_crate_in_new_repository_with(root, &[], name, main_rs, manifest_extra, prepare)
}

/// As [`commit_crate_in_new_repository`], with options for `git init` (a ref or object
/// format).
pub fn commit_crate_in_new_repository_with(
    root: &Path,
    init_options: &[&str],
    name: &str,
    main_rs: &str,
    manifest_extra: &str,
    prepare: impl FnOnce(&ScratchCrate),
) -> ScratchCrate {
    std::fs::create_dir_all(root).expect("create the repository");
    let mut init = vec!["init", "-q"];
    init.extend_from_slice(init_options);
    crate::oracle::git(root, &init);
    let scratch = ScratchCrate::standalone(&root.join("site"), name, main_rs, manifest_extra);
    prepare(&scratch);
    crate::oracle::git(root, &["add", "-A"]);
    crate::oracle::git(root, &["commit", "-q", "-m", "the crate"]);
    scratch
}
