//! Choosing the tag: `CACHEKILLER_TAG`, else git, else Mercurial, else `SOURCE_DATE_EPOCH`'s
//! date, else a digest of the static files.

use std::path::{Path, PathBuf};

use crate::resolve::date::build_date_tag;
use crate::resolve::environment::{
    BuildEnvironment, GitEnvironment, GIT_VARIABLES, SOURCE_DATE_EPOCH_VARIABLE, TAG_VARIABLE,
};
use crate::resolve::git::read_git_revision;
use crate::resolve::mercurial::read_mercurial_revision;
use crate::resolve::rebuild_marker::write_rebuild_marker;
use crate::resolve::static_digest::static_files_digest;
use crate::resolve::vcs::{RevisionWatch, VcsLookup};
use crate::rules::error::{Error, Result};
use crate::rules::url::is_url_unreserved;

/// Where a tag came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSource {
    /// `CACHEKILLER_TAG`.
    EnvironmentVariable,
    /// The checked-out commit of the enclosing git repository.
    Git,
    /// The working parent of the enclosing Mercurial repository.
    Mercurial,
    /// The date of `SOURCE_DATE_EPOCH`, without a repository.
    BuildDate,
    /// The digest of the static files, without a repository or `SOURCE_DATE_EPOCH` (see
    /// [`crate::resolve::static_digest`]).
    StaticFiles,
}

/// A resolved tag with what it was read from, so that the expansion can make cargo rebuild
/// when any of it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTag {
    /// The full value: a revision id (40 hex characters, 64 for a SHA-256 git repository),
    /// the date of `SOURCE_DATE_EPOCH`, the static files' digest, or `CACHEKILLER_TAG`.
    pub value: String,
    /// Where it came from.
    pub source: TagSource,
    /// Files whose change can change the tag.
    pub tracked_files: Vec<PathBuf>,
    /// Environment variables whose change can change the tag.
    pub tracked_environment: Vec<&'static str>,
    /// True while a repository has no revision that its files can announce the change of, so
    /// that the crate is rebuilt on every build (see [`crate::resolve::rebuild_marker`]); a long-lived
    /// process resolves such a tag anew rather than trust its files.
    pub rebuild_always: bool,
    /// Which static files the tag names (see `rules::revision_manifest`).
    pub names: NamedFiles,
}

/// Which static files a tag names: those whose bytes it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedFiles {
    /// The files the git commit `commit_hex` holds, where the work tree (or the directory
    /// looked up from, without one) holds the same bytes.
    Git {
        /// The directory the repository was looked up from.
        start: PathBuf,
        /// The variables that chose the repository.
        environment: GitEnvironment,
        /// The top of the work tree.
        work_tree: Option<PathBuf>,
        /// The commit, its full id.
        commit_hex: String,
    },
    /// The files the Mercurial revision `node_hex` holds, where the working directory holds
    /// the same bytes.
    Mercurial {
        /// The repository's top directory.
        root: PathBuf,
        /// The revision, its full node id.
        node_hex: String,
    },
    /// Every static file, as the build holds it: the tag is their digest, or the
    /// `CACHEKILLER_TAG` a build was given for them outside any repository.
    Every,
    /// None: a date names no files (two builds of one date may hold others).
    Nothing,
}

impl ResolvedTag {
    /// The tag as it goes into a URL: a revision id or digest cut to `tag_length`
    /// characters; a `CACHEKILLER_TAG` or date as it is.
    #[must_use]
    pub fn cut(&self, tag_length: usize) -> &str {
        match self.source {
            TagSource::Git | TagSource::Mercurial | TagSource::StaticFiles => {
                &self.value[..tag_length.min(self.value.len())]
            }
            TagSource::EnvironmentVariable | TagSource::BuildDate => &self.value,
        }
    }
}

/// The version control systems cachekiller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vcs {
    Git,
    Mercurial,
}

impl Vcs {
    fn lookup(self, start: &Path, environment: &BuildEnvironment) -> Result<VcsLookup> {
        match self {
            Vcs::Git => read_git_revision(start, &environment.git),
            Vcs::Mercurial => read_mercurial_revision(start),
        }
    }

    fn source(self) -> TagSource {
        match self {
            Vcs::Git => TagSource::Git,
            Vcs::Mercurial => TagSource::Mercurial,
        }
    }
}

/// The kinds of repository to ask, in order; the first that finds a repository decides, with
/// or without a revision.
///
/// The nearest repository enclosing `start` comes first, whatever its kind, as git and hg
/// each use the nearest of their own: an hg project inside a git-tracked home directory or a
/// monorepo is tagged by its own commits, and an outer `git init` without a commit does not
/// make it rebuild forever. The other kind is asked only when the nearest `.git` turns out not
/// to be a repository. `GIT_DIR` and friends name the git repository outright: git first.
fn lookup_order(start: &Path, environment: &BuildEnvironment) -> &'static [Vcs] {
    if !environment.git.is_empty() {
        return &[Vcs::Git, Vcs::Mercurial];
    }
    for directory in start.ancestors() {
        if looks_like_git_repository(&directory.join(".git")) {
            return &[Vcs::Git, Vcs::Mercurial];
        }
        if directory.join(".hg").is_dir() {
            return &[Vcs::Mercurial];
        }
    }
    &[Vcs::Git, Vcs::Mercurial]
}

/// Whether `dot_git` is what git's discovery stops at: a `.git` file (a linked worktree or a
/// submodule) or a directory with a `HEAD`. An empty `.git` directory is skipped, as git skips
/// it.
fn looks_like_git_repository(dot_git: &Path) -> bool {
    dot_git.is_file() || dot_git.join("HEAD").is_file()
}

/// Resolves the tag for a crate whose manifest dir is `start` and whose static dirs are
/// `static_dirs` (absolute): the first that applies of `CACHEKILLER_TAG`, the git HEAD, the
/// Mercurial working parent, the date of `SOURCE_DATE_EPOCH` and the static files' digest.
///
/// No source is the clock: each crate's compilation reads it at its own moment, so two crates
/// of one build (pages and the server checking their tags) would disagree, and a shared compile
/// cache would return a tag of another day for the same inputs.
///
/// # Errors
/// An invalid `CACHEKILLER_TAG` or `SOURCE_DATE_EPOCH`, a repository that exists but cannot
/// be read, or a static file that cannot be read for the digest. A repository without commits
/// is not an error: the next source is tried.
pub fn resolve_tag(
    start: &Path,
    static_dirs: &[PathBuf],
    environment: &BuildEnvironment,
) -> Result<ResolvedTag> {
    let mut tracked_environment = vec![TAG_VARIABLE];
    let given_tag = match &environment.tag {
        Some(tag) if !is_url_unreserved(tag) => {
            return Err(Error::InvalidEnvironmentTag { value: tag.clone() })
        }
        given => given.clone(),
    };

    // They choose the repository, so a change of them can change the revision.
    tracked_environment.extend(GIT_VARIABLES);
    // A repository without a revision is watched too: its first commit must rebuild.
    let mut watch = RevisionWatch::default();
    let mut found = None;
    for &vcs in lookup_order(start, environment) {
        let lookup = match vcs.lookup(start, environment) {
            Ok(lookup) => lookup,
            // `CACHEKILLER_TAG` is how a build is made where the repository cannot be read.
            Err(_) if given_tag.is_some() => break,
            Err(error) => return Err(error),
        };
        match lookup {
            VcsLookup::NotFound => continue,
            VcsLookup::NoRevision { watch: waiting } => watch = waiting,
            VcsLookup::Revision(revision) => {
                watch = revision.watch;
                let names = match vcs {
                    Vcs::Git => NamedFiles::Git {
                        start: start.to_owned(),
                        environment: environment.git.clone(),
                        work_tree: revision.work_tree,
                        commit_hex: revision.id_hex.clone(),
                    },
                    Vcs::Mercurial => NamedFiles::Mercurial {
                        root: revision.work_tree.unwrap_or_else(|| start.to_owned()),
                        node_hex: revision.id_hex.clone(),
                    },
                };
                found = Some((revision.id_hex, vcs.source(), names));
            }
        }
        break;
    }
    // A given tag stands for the files a repository holds, if one encloses the crate (a
    // generated file still gets a content tag, and a commit rebuilds to read the files
    // again); outside any, for every file as it is.
    if let Some(tag) = given_tag {
        return Ok(match found {
            Some((_, _, names)) => ResolvedTag {
                value: tag,
                source: TagSource::EnvironmentVariable,
                tracked_files: watch.files,
                tracked_environment,
                rebuild_always: false,
                names,
            },
            None => ResolvedTag {
                value: tag,
                source: TagSource::EnvironmentVariable,
                tracked_files: Vec::new(),
                tracked_environment: vec![TAG_VARIABLE],
                rebuild_always: false,
                names: NamedFiles::Every,
            },
        });
    }
    let mut tracked_files = watch.files;
    if watch.rebuild_always {
        tracked_files.push(write_rebuild_marker()?);
    }
    if let Some((value, source, names)) = found {
        return Ok(ResolvedTag {
            value,
            source,
            tracked_files,
            tracked_environment,
            rebuild_always: watch.rebuild_always,
            names,
        });
    }

    tracked_environment.push(SOURCE_DATE_EPOCH_VARIABLE);
    if let Some(epoch) = environment.source_date_epoch.as_deref() {
        return Ok(ResolvedTag {
            value: build_date_tag(epoch)?,
            source: TagSource::BuildDate,
            tracked_files,
            tracked_environment,
            rebuild_always: watch.rebuild_always,
            names: NamedFiles::Nothing,
        });
    }
    let digest = static_files_digest(static_dirs)?;
    tracked_files.extend(digest.files);
    Ok(ResolvedTag {
        value: digest.hex,
        source: TagSource::StaticFiles,
        tracked_files,
        tracked_environment,
        rebuild_always: watch.rebuild_always,
        names: NamedFiles::Every,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_outside_any_repository, git, run};

    fn git_repository_with_a_commit() -> tempfile::TempDir {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
        repo
    }

    /// A temporary directory outside any repository; the test fails if there is none.
    fn no_vcs_directory() -> tempfile::TempDir {
        let directory = tempfile::tempdir().unwrap();
        assert_outside_any_repository(directory.path());
        directory
    }

    /// A Mercurial repository with one commit, outside any other repository.
    fn mercurial_repository_with_a_commit() -> tempfile::TempDir {
        let directory = no_vcs_directory();
        run("hg", directory.path(), &["init"]);
        std::fs::write(directory.path().join("a"), "a").unwrap();
        run(
            "hg",
            directory.path(),
            &["commit", "-q", "-A", "-u", "T", "-m", "one"],
        );
        directory
    }

    #[test]
    fn git_revision_cut_to_the_tag_length() {
        let repo = git_repository_with_a_commit();
        let tag = resolve_tag(repo.path(), &[], &BuildEnvironment::default()).unwrap();
        let head = git(repo.path(), &["rev-parse", "HEAD"]);
        assert_eq!(tag.value, head);
        assert_eq!(tag.cut(14), &head[..14]);
        assert_eq!(tag.cut(4), &head[..4]);
        assert_eq!(tag.cut(40), head);
        assert_eq!(tag.cut(99), head);
        assert_eq!(
            tag.tracked_environment,
            [TAG_VARIABLE, "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR"]
        );
        assert!(tag.source == TagSource::Git);
    }

    #[test]
    fn the_environment_tag_comes_first_and_is_not_cut() {
        let repo = git_repository_with_a_commit();
        let environment = BuildEnvironment {
            tag: Some("release-2026.11_rc~1".to_owned()),
            ..BuildEnvironment::default()
        };
        let tag = resolve_tag(repo.path(), &[], &environment).unwrap();
        assert_eq!(tag.cut(4), "release-2026.11_rc~1");
        assert_eq!(tag.source, TagSource::EnvironmentVariable);
        // In a repository it stands for the committed files: a commit must rebuild.
        assert!(
            tag.tracked_files.contains(&repo.path().join(".git/HEAD")),
            "{:?}",
            tag.tracked_files
        );
        assert!(matches!(tag.names, NamedFiles::Git { ref commit_hex, .. }
            if *commit_hex == git(repo.path(), &["rev-parse", "HEAD"])));

        // Outside any, for every file as it is, and nothing is read.
        let outside = tempfile::tempdir().unwrap();
        assert_outside_any_repository(outside.path());
        let tag = resolve_tag(outside.path(), &[], &environment).unwrap();
        assert_eq!(tag.value, "release-2026.11_rc~1");
        assert!(tag.tracked_files.is_empty());
        assert_eq!(tag.names, NamedFiles::Every);

        let unsafe_tag = BuildEnvironment {
            tag: Some("a b&c".to_owned()),
            ..BuildEnvironment::default()
        };
        assert_eq!(
            resolve_tag(repo.path(), &[], &unsafe_tag),
            Err(Error::InvalidEnvironmentTag {
                value: "a b&c".to_owned()
            })
        );
    }

    /// Asserts that the tag of `directory` is its Mercurial working parent (`hg id`).
    fn assert_mercurial_tag(directory: &Path) {
        let tag = resolve_tag(directory, &[], &BuildEnvironment::default()).unwrap();
        let expected = run("hg", directory, &["id", "-i", "--debug"]);
        assert_eq!(tag.value, expected.trim_end_matches('+'));
        assert_eq!(tag.source, TagSource::Mercurial);
    }

    #[test]
    fn mercurial_when_there_is_no_git() {
        assert_mercurial_tag(mercurial_repository_with_a_commit().path());
    }

    #[test]
    fn without_vcs_the_date_of_source_date_epoch_else_the_static_files_digest() {
        let directory = no_vcs_directory();
        let static_dir = directory.path().join("static");
        std::fs::create_dir_all(static_dir.join("css")).unwrap();
        std::fs::write(static_dir.join("css/app.css"), "body {}").unwrap();
        let static_dirs = [static_dir.clone(), directory.path().join("missing")];
        let environment = BuildEnvironment {
            source_date_epoch: Some("1700000000".to_owned()),
            ..BuildEnvironment::default()
        };
        let tag = resolve_tag(directory.path(), &static_dirs, &environment).unwrap();
        let oracle = run(
            "date",
            directory.path(),
            &["-u", "-d", "@1700000000", "+%Y%m%d%H%M%S"],
        );
        assert_eq!(tag.value, oracle);
        assert_eq!(tag.cut(4), oracle, "a date is never cut");
        assert_eq!(
            tag.tracked_environment,
            [
                TAG_VARIABLE,
                "GIT_DIR",
                "GIT_WORK_TREE",
                "GIT_COMMON_DIR",
                SOURCE_DATE_EPOCH_VARIABLE
            ]
        );

        let digest =
            resolve_tag(directory.path(), &static_dirs, &BuildEnvironment::default()).unwrap();
        assert_eq!(digest.source, TagSource::StaticFiles);
        // `sha1sum` of `sha1sum`'s line for the one file.
        let line = run("sha1sum", &static_dir, &["css/app.css"]);
        let oracle = run(
            "sh",
            directory.path(),
            &["-c", "printf '%s\\n' \"$1\" | sha1sum", "sh", &line],
        );
        assert_eq!(digest.value, oracle[..40]);
        assert_eq!(
            digest.cut(14),
            &oracle[..14],
            "a digest is cut like a revision"
        );
        assert_eq!(digest.tracked_files, [static_dir.join("css/app.css")]);
    }

    #[test]
    fn a_git_repository_without_commits_falls_through_and_is_watched() {
        let directory = no_vcs_directory();
        git(directory.path(), &["init", "-q"]);
        let tag = resolve_tag(directory.path(), &[], &BuildEnvironment::default()).unwrap();
        assert_eq!(tag.source, TagSource::StaticFiles);
        assert_eq!(
            tag.tracked_files,
            [
                directory.path().join(".git/HEAD"),
                crate::resolve::rebuild_marker::write_rebuild_marker().unwrap()
            ],
            "rebuilt on every build until the first commit"
        );
    }

    /// `parent/vendored`, a Mercurial repository with one commit.
    fn mercurial_repository_with_a_commit_in(parent: &Path) -> PathBuf {
        let repository = parent.join("vendored");
        std::fs::create_dir(&repository).unwrap();
        run("hg", &repository, &["init"]);
        std::fs::write(repository.join("a"), "a").unwrap();
        run(
            "hg",
            &repository,
            &["commit", "-q", "-A", "-u", "T", "-m", "one"],
        );
        repository
    }

    #[test]
    fn the_nearest_repository_decides_whatever_its_kind() {
        // Mercurial inside git: hg's working parent, and nothing of git watched.
        let outer_git = git_repository_with_a_commit();
        let inner_hg = mercurial_repository_with_a_commit_in(outer_git.path());
        assert_mercurial_tag(&inner_hg);
        let tag = resolve_tag(&inner_hg, &[], &BuildEnvironment::default()).unwrap();
        assert_eq!(tag.tracked_files, [inner_hg.join(".hg/dirstate")]);
        assert!(!tag.rebuild_always);

        // The same under a git repository without commits: not rebuilt on every build.
        let new_git = no_vcs_directory();
        git(new_git.path(), &["init", "-q"]);
        let inner_hg = mercurial_repository_with_a_commit_in(new_git.path());
        let tag = resolve_tag(&inner_hg, &[], &BuildEnvironment::default()).unwrap();
        assert_eq!(tag.source, TagSource::Mercurial);
        assert!(!tag.rebuild_always, "{tag:?}");

        // git inside Mercurial: git's HEAD.
        let outer_hg = mercurial_repository_with_a_commit();
        let inner_git = outer_hg.path().join("checkout");
        std::fs::create_dir(&inner_git).unwrap();
        git(&inner_git, &["init", "-q"]);
        git(&inner_git, &["commit", "-q", "--allow-empty", "-m", "one"]);
        let tag = resolve_tag(&inner_git, &[], &BuildEnvironment::default()).unwrap();
        assert_eq!(tag.value, git(&inner_git, &["rev-parse", "HEAD"]));
        assert!(!tag
            .tracked_files
            .iter()
            .any(|file| file.starts_with(outer_hg.path().join(".hg"))));

        // A Mercurial repository without a revision inside git with one decides too: no
        // revision yet, rebuilt until its first commit.
        let outer_git = git_repository_with_a_commit();
        let inner_hg = outer_git.path().join("new");
        std::fs::create_dir(&inner_hg).unwrap();
        run("hg", &inner_hg, &["init"]);
        let tag = resolve_tag(&inner_hg, &[], &BuildEnvironment::default()).unwrap();
        assert_eq!(tag.source, TagSource::StaticFiles);
        assert!(tag.rebuild_always);
    }

    #[test]
    fn an_empty_git_directory_inside_a_mercurial_repository_is_not_a_repository() {
        let directory = mercurial_repository_with_a_commit();
        std::fs::create_dir(directory.path().join(".git")).unwrap();
        assert_mercurial_tag(directory.path());
    }
}
