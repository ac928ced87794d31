//! What `cdnstatic!` and `cdntag!` expand to, as plain functions: the string, and what cargo
//! must watch so that the next build after a change expands them again.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::resolve::config::{Config, ConfigValue, OptionPlace, TagMode};
use crate::resolve::context::{cached_crate_context, CrateContext};
use crate::resolve::static_files::{static_file_relative_path, FilePurpose};
use crate::resolve::tracking::{not_yet_tracked, not_yet_warned, Tracking};
use crate::rules::error::{ConfigOrigin, Error, Result};
use crate::rules::file_stamp::FileStamp;
use crate::rules::hash::{cached_digest, integrity_metadata, DigestAlgorithm};
use crate::rules::revision_manifest::{NamedBytes, RevisionManifest};
use crate::rules::settings::{SiteSettings, StaticDirNames};
use crate::rules::stylesheet::{is_stylesheet, RewrittenStylesheet};
use crate::rules::tagging::{RevisionNames, Tagger};

/// An option written in a macro call after the path, such as `tag_length = 8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOption {
    /// The option's name.
    pub key: String,
    /// Its value as written.
    pub value: ConfigValue,
}

/// The result of one macro call in a context: the value and all it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// The string the macro expands to.
    pub value: String,
    /// What the value depends on that every call of its kind in the crate shares.
    pub shared_tracking: Arc<Tracking>,
    /// The files this call read: a hashed file, or a stylesheet and what it references.
    pub own_files: Vec<PathBuf>,
    /// What the build should say about what the call met (a file of a dirty work tree).
    pub warnings: Vec<String>,
}

impl Expansion {
    /// Everything the value was read from, in one list.
    #[must_use]
    pub fn tracking(&self) -> Tracking {
        let mut tracking = Tracking::clone(&self.shared_tracking);
        tracking.files.extend(self.own_files.iter().cloned());
        tracking
    }
}

/// What a macro call emits: the value, and the tracking no earlier call for the crate emitted
/// in this process (see [`crate::resolve::tracking`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroOutput {
    /// The string the macro expands to.
    pub value: String,
    /// What to track with `include_bytes!` and `option_env!` next to it.
    pub tracking: Tracking,
    /// Warnings no earlier call for the crate gave in this process.
    pub warnings: Vec<String>,
}

/// The crate's configuration with the call's options applied (borrowed when there are none,
/// which is most calls).
pub(crate) fn call_config<'a>(
    context: &'a CrateContext,
    options: &[CallOption],
    place: OptionPlace,
) -> Result<Cow<'a, Config>> {
    let mut config = Cow::Borrowed(&context.config.config);
    for (index, option) in options.iter().enumerate() {
        // Last-wins would hide a mistake: which of the two did the author mean?
        if options[..index]
            .iter()
            .any(|earlier| earlier.key == option.key)
        {
            return Err(Error::RepeatedConfigKey {
                key: option.key.clone(),
                origin: ConfigOrigin::MacroArgument,
            });
        }
        config.to_mut().apply(
            &option.key,
            &option.value,
            &ConfigOrigin::MacroArgument,
            place,
        )?;
    }
    Ok(config)
}

/// The configuration of a call that takes a path: the path must not be empty.
fn path_call_config<'a>(
    context: &'a CrateContext,
    path: &str,
    options: &[CallOption],
    place: OptionPlace,
) -> Result<Cow<'a, Config>> {
    if path.is_empty() {
        return Err(Error::EmptyStaticPath);
    }
    call_config(context, options, place)
}

/// The static file behind `path`, which must exist: for hashing.
fn required_static_file(context: &CrateContext, path: &str) -> Result<(PathBuf, FileStamp)> {
    let relative = static_file_relative_path(path)?.ok_or_else(|| Error::HashOfAbsoluteUrl {
        url: path.to_owned(),
    })?;
    context
        .static_dirs
        .find_with_stamp(&relative, FilePurpose::Hash)
}

/// Checks that the file behind `path` exists, when checks are on and a static dir exists
/// (a crate without static files, or one whose files are made at run time, is not checked).
fn check_static_file(context: &CrateContext, config: &Config, path: &str) -> Result<()> {
    // The path is validated in every case: `..` is refused even when nothing is read.
    let Some(relative) = static_file_relative_path(path)? else {
        return Ok(());
    };
    if config.check_files && context.static_dirs.any_exists() {
        context.static_dirs.find(&relative, FilePurpose::Check)?;
    }
    Ok(())
}

/// How a call with the configuration `config` tags: the revision of the crate, cut to the
/// call's `tag_length`, for the files the revision names (in VCS mode, where that is asked).
///
/// # Errors
/// In VCS mode, a repository whose tree or status cannot be read.
pub(crate) fn tagger<'a>(context: &'a CrateContext, config: &'a Config) -> Result<Tagger<'a>> {
    // In VCS mode a repository that cannot say which files it names fails the call here;
    // content tags need no repository, and the manifest's own call reports it.
    if config.mode == TagMode::Vcs {
        context.named_files()?;
    }
    Ok(Tagger {
        static_url: &config.static_url,
        tag_in: config.tag_in,
        param: &config.param,
        mode: config.mode,
        revision_tag: context.tag.as_ref().map(|tag| tag.cut(config.tag_length)),
        hash_length: config.hash_length,
        revision_names: Some(context),
    })
}

/// The stylesheet at `path` (the file `file`) as the service sends it; with file checks on,
/// a reference to a file that cannot be served is an error naming the stylesheet and line.
pub(crate) fn rewritten_stylesheet(
    context: &CrateContext,
    config: &Config,
    path: &str,
    file: &Path,
    stamp: FileStamp,
) -> Result<Arc<RewrittenStylesheet>> {
    let relative = static_file_relative_path(path)?.ok_or_else(|| Error::HashOfAbsoluteUrl {
        url: path.to_owned(),
    })?;
    // The references are tagged by the crate's configuration, not the call's options, as the
    // service tags them (a call's options change only the call's own URL).
    let site_tagger = tagger(context, &context.config.config)?;
    let rewritten =
        context
            .stylesheets
            .rewritten(&context.static_dirs, &relative, file, stamp, site_tagger)?;
    if config.check_files {
        if let Some(error) = rewritten.unresolved.first() {
            return Err(error.clone());
        }
    }
    Ok(rewritten)
}

/// Checks the references of the stylesheet at `path` (with `@import`ed ones), when checks
/// are on and a static dir exists; the stylesheets read, to track.
fn checked_stylesheets(
    context: &CrateContext,
    config: &Config,
    path: &str,
) -> Result<Vec<PathBuf>> {
    check_static_file(context, config, path)?;
    if !config.check_files || !context.static_dirs.any_exists() {
        return Ok(Vec::new());
    }
    let Ok((file, stamp)) = required_static_file(context, path) else {
        // An absolute URL: not a file of ours.
        return Ok(Vec::new());
    };
    let rewritten = rewritten_stylesheet(context, config, path, &file, stamp)?;
    Ok(rewritten.stylesheets.clone())
}

/// What an expansion whose value hashes a rewrite must track besides its files (a
/// stylesheet's content tag or integrity, an import map): in a crate whose tags are
/// revisions, a stylesheet's references carry the revision, so its bytes change with every
/// commit; in a content-mode crate they carry content tags, whose files the rewrite lists.
/// Revision tracking for every such value of a vcs-mode crate, even one without references:
/// such a crate's other calls already rebuild it after a commit.
pub(crate) fn rewrite_tracking(context: &CrateContext) -> &Arc<Tracking> {
    match context.config.config.mode {
        TagMode::Vcs => &context.revision_tracking,
        TagMode::Content => &context.file_tracking,
    }
}

/// The bytes the service sends for a static file, as an expansion digests them: a
/// stylesheet's rewrite, any other file's own bytes. The one place that knows the difference,
/// for content tags, `cdnintegrity!` and import maps alike.
pub(crate) struct SentBytes {
    file: PathBuf,
    stamp: FileStamp,
    /// The rewrite, for a stylesheet.
    rewritten: Option<Arc<RewrittenStylesheet>>,
}

impl SentBytes {
    /// What the service sends for the static file `path`, found at `file` at `stamp`.
    ///
    /// # Errors
    /// A stylesheet that cannot be rewritten (a missing reference, with checks on).
    pub(crate) fn of(
        context: &CrateContext,
        config: &Config,
        path: &str,
        file: PathBuf,
        stamp: FileStamp,
    ) -> Result<Self> {
        let rewritten = is_stylesheet(path)
            .then(|| rewritten_stylesheet(context, config, path, &file, stamp))
            .transpose()?;
        Ok(SentBytes {
            file,
            stamp,
            rewritten,
        })
    }

    /// Their digest with `algorithm`.
    ///
    /// # Errors
    /// A file that cannot be read.
    pub(crate) fn digest(&self, algorithm: DigestAlgorithm) -> Result<Vec<u8>> {
        match &self.rewritten {
            Some(rewritten) => Ok(rewritten.digest(algorithm)),
            None => cached_digest(&self.file, self.stamp, algorithm),
        }
    }

    /// True if they hold the tag of a file the revision does not name (a stylesheet's
    /// reference): then no commit holds them.
    pub(crate) fn depends_on_uncommitted(&self) -> bool {
        self.rewritten
            .as_ref()
            .is_some_and(|rewritten| rewritten.depends_on_uncommitted)
    }

    /// Every file they were made from: what the expansion tracks.
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        match &self.rewritten {
            Some(rewritten) => rewritten
                .files
                .iter()
                .map(|(path, _)| path.clone())
                .collect(),
            None => vec![self.file.clone()],
        }
    }

    /// What the expansion tracks besides [`SentBytes::files`].
    pub(crate) fn tracking<'a>(&self, context: &'a CrateContext) -> &'a Arc<Tracking> {
        match self.rewritten {
            Some(_) => rewrite_tracking(context),
            None => &context.file_tracking,
        }
    }
}

/// Expands `cdnstatic!(path, options…)` in the given context.
///
/// # Errors
/// An empty or escaping path, a missing file, an unknown option or an invalid option value;
/// for a revision tag, a tag that could not be resolved; for a content tag, a file that cannot
/// be read.
pub fn expand_static_url_in(
    context: &CrateContext,
    path: &str,
    options: &[CallOption],
) -> Result<Expansion> {
    let config = path_call_config(context, path, options, OptionPlace::StaticUrlMacro)?;
    let tagger = tagger(context, &config)?;
    let mut warnings = Vec::new();
    let (tag, shared_tracking, own_files) = if tagged_by_content(context, &config, path)? {
        warnings.extend(changed_file_warning(context, &config, path)?);
        let (file, stamp) = required_static_file(context, path)?;
        let sent = SentBytes::of(context, &config, path, file, stamp)?;
        let tag = tagger.content_tag(&sent.digest(DigestAlgorithm::Sha1)?);
        (tag, sent.tracking(context), sent.files())
    } else {
        let tag = tagger.revision_tag()?.to_owned();
        // A file is not tracked: its content cannot change a revision tag. A stylesheet
        // is, so that the references it gains are checked.
        let stylesheets = if is_stylesheet(path) {
            checked_stylesheets(context, &config, path)?
        } else {
            check_static_file(context, &config, path)?;
            Vec::new()
        };
        (tag, &context.revision_tracking, stylesheets)
    };
    Ok(Expansion {
        value: tagger.url(path, &tag)?,
        shared_tracking: Arc::clone(shared_tracking),
        own_files,
        warnings,
    })
}

/// The warning for a call in VCS mode that names a file the commit holds with other content
/// (its URL carries a content tag: a dirty build's edit must not pass for the revision).
fn changed_file_warning(
    context: &CrateContext,
    config: &Config,
    path: &str,
) -> Result<Option<String>> {
    if config.mode != TagMode::Vcs {
        return Ok(None);
    }
    let (Some(relative), Some(named), Ok(tag)) = (
        static_file_relative_path(path)?,
        context.named_files()?,
        context.tag.as_ref(),
    ) else {
        return Ok(None);
    };
    Ok(named
        .changed_since_commit(&relative)
        .then(|| dirty_warning(tag.cut(config.tag_length), &[relative.into_owned()]))
        .flatten())
}

/// True if the file behind `path` gets a content tag: in content mode, and in VCS mode a file
/// the revision does not name (not committed, or changed since: no commit holds its bytes),
/// or a stylesheet whose rewrite holds such a file's content tag. A missing file or an
/// absolute URL takes the revision tag (and the file checks say what is missing).
///
/// # Errors
/// A repository whose tree or status cannot be read; a stylesheet that cannot be rewritten.
fn tagged_by_content(context: &CrateContext, config: &Config, path: &str) -> Result<bool> {
    if config.mode == TagMode::Content {
        return Ok(true);
    }
    let (Some(relative), Some(named)) = (static_file_relative_path(path)?, context.named_files()?)
    else {
        return Ok(false);
    };
    if named.tagged_by_content(&relative) {
        return Ok(true);
    }
    if is_stylesheet(&relative) && RevisionNames::names(named, &relative) {
        let (file, stamp) = required_static_file(context, path)?;
        return Ok(
            rewritten_stylesheet(context, config, path, &file, stamp)?.depends_on_uncommitted
        );
    }
    Ok(false)
}

/// Expands `cdntag!(options…)` in the given context: the revision tag, in every mode.
///
/// # Errors
/// An unknown option, an invalid option value, or a tag that could not be resolved.
pub fn expand_tag_in(context: &CrateContext, options: &[CallOption]) -> Result<Expansion> {
    let config = call_config(context, options, OptionPlace::TagMacro)?;
    let tag = context.tag.as_ref().map_err(Clone::clone)?;
    Ok(Expansion {
        value: tag.cut(config.tag_length).to_owned(),
        shared_tracking: Arc::clone(&context.revision_tracking),
        own_files: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Expands `cdnintegrity!(path, options…)` in the given context: the subresource integrity
/// metadata of the file, such as `sha384-…`.
///
/// # Errors
/// An escaping path or an absolute URL, a missing or unreadable file, an unknown option or an
/// invalid `algorithm`.
pub fn expand_integrity_in(
    context: &CrateContext,
    path: &str,
    options: &[CallOption],
) -> Result<Expansion> {
    let config = path_call_config(context, path, options, OptionPlace::IntegrityMacro)?;
    let (file, stamp) = required_static_file(context, path)?;
    // A stylesheet's integrity is that of the bytes the service sends: the rewritten ones.
    let sent = SentBytes::of(context, &config, path, file, stamp)?;
    Ok(Expansion {
        value: integrity_metadata(&sent.digest(config.algorithm.digest())?, config.algorithm),
        shared_tracking: Arc::clone(sent.tracking(context)),
        own_files: sent.files(),
        warnings: Vec::new(),
    })
}

/// What `cdnsettings!()` expands to: the crate's settings, with the manifest of what its
/// revision names, and the tracking not yet emitted for the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsExpansion {
    /// The settings, but for `release_build`, which the macro leaves to `cfg!` in the crate.
    pub settings: SiteSettings,
    /// What to track next to it.
    pub tracking: Tracking,
    /// What the build should say: the files of a dirty work tree.
    pub warnings: Vec<String>,
}

impl SettingsExpansion {
    /// The Rust expression that makes these settings in the crate (a constant expression),
    /// with `release_build` from the crate's own `cfg!(debug_assertions)`, but for the
    /// revision manifest, which the macro adds as a byte string
    /// ([`SiteSettings::revision_manifest_bytes`]).
    #[must_use]
    pub fn rust_expression(&self) -> String {
        let settings = &self.settings;
        let static_dirs: Vec<String> = settings
            .static_dir_names()
            .map(|name| format!("{name:?}"))
            .collect();
        // `{:?}` of a `str` is a Rust string literal, escapes included.
        format!(
            "::cachekiller_core::SiteSettings::new({:?}, {:?}, {})\
             .release_build(!::core::cfg!(debug_assertions))\
             .tag_in(::cachekiller_core::TagIn::{:?})\
             .mode(::cachekiller_core::TagMode::{:?})\
             .static_dirs(&[{}])\
             .static_url({:?})",
            settings.param,
            settings.revision_tag,
            settings.hash_length,
            settings.tag_in,
            settings.mode,
            static_dirs.join(", "),
            settings.static_url,
        )
    }
}

/// Expands `cdnsettings!()` for the crate at `manifest_dir`: what a static file server needs
/// to check the tags of the crate's URLs, with the manifest of the files its revision names.
///
/// # Errors
/// Any error of resolving the crate's context, its tag included; a repository whose tree or
/// status cannot be read; a named file that cannot be read for its digest.
pub fn expand_site_settings(manifest_dir: &Path) -> Result<SettingsExpansion> {
    let context = cached_crate_context(manifest_dir)?;
    let config = &context.config.config;
    let tag = context.tag.as_ref().map_err(Clone::clone)?;
    let (manifest, warnings) = match revision_manifest(&context)? {
        Some((manifest, changed)) => (
            manifest.encode(),
            dirty_warning(tag.cut(config.tag_length), &changed)
                .into_iter()
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let settings = SiteSettings {
        param: config.param.clone().into(),
        revision_tag: tag.cut(config.tag_length).to_owned().into(),
        hash_length: config.hash_length,
        release_build: false,
        revision_manifest: manifest.into(),
        tag_in: config.tag_in,
        mode: config.mode,
        static_dirs: StaticDirNames::Owned(config.static_dirs.clone()),
        static_url: config.static_url.clone().into(),
    };
    Ok(SettingsExpansion {
        settings,
        tracking: not_yet_tracked(manifest_dir, &context.revision_tracking, &[]),
        // Always given: the server's one call, in the crate's own code, where the compiler
        // shows it (a template's calls expand in a derive's output, where it may not).
        warnings,
    })
}

/// The manifest of what the crate's revision names (see
/// `rules::revision_manifest`), and the static paths of the files the commit holds
/// with other content; `None` for a tag that names no files.
///
/// # Errors
/// A repository whose tree or status cannot be read; a named file that cannot be read.
pub fn revision_manifest(
    context: &CrateContext,
) -> Result<Option<(RevisionManifest, Vec<String>)>> {
    let Some(named) = context.named_files()? else {
        return Ok(None);
    };
    let mut manifest = named.empty_manifest();
    let site_tagger = tagger(context, &context.config.config)?;
    for file in named.named_files() {
        if !is_stylesheet(&file.path) {
            if let Some(bytes) = named.named_bytes(&file)? {
                manifest.name(&file.path, bytes);
            }
            continue;
        }
        // A stylesheet is sent rewritten: the revision names those bytes when they hold only
        // tags of files it names too. One that cannot be rewritten is sent as it is, and
        // never `immutable`.
        let rewritten = context.stylesheets.rewritten(
            &context.static_dirs,
            &file.path,
            &file.file,
            file.stamp,
            site_tagger,
        );
        if let Ok(rewritten) = rewritten {
            if let (false, Ok(sha1)) = (
                rewritten.depends_on_uncommitted,
                <[u8; 20]>::try_from(rewritten.sha1.as_slice()),
            ) {
                manifest.name(&file.path, NamedBytes::SentSha1(sha1));
            }
        }
    }
    Ok(Some((manifest, named.changed_files_found())))
}

/// The warning of a build whose work tree changed files of the commit `revision` (the static
/// paths `changed`), if any.
fn dirty_warning(revision: &str, changed: &[String]) -> Option<String> {
    const LISTED: usize = 5;
    let (first, rest) = changed.split_at(changed.len().min(LISTED));
    if first.is_empty() {
        return None;
    }
    let mut listed = first.join(", ");
    if !rest.is_empty() {
        listed = format!("{listed} and {} more", rest.len());
    }
    Some(format!(
        "cachekiller: {} static file(s) differ from commit {revision} ({listed}): their URLs \
         carry content tags, and the revision tag never makes them `immutable`; commit them, \
         or build releases from a clean checkout",
        changed.len()
    ))
}

/// Runs `expand` in the cached context of the crate at `manifest_dir`, as a macro call does,
/// and keeps only the tracking and the warnings this process has not emitted for the crate
/// yet.
///
/// # Errors
/// Any error of resolving the crate's context, or of `expand`.
pub(crate) fn expand_for_crate<E: From<Error>>(
    manifest_dir: &Path,
    expand: impl FnOnce(&CrateContext) -> std::result::Result<Expansion, E>,
) -> std::result::Result<MacroOutput, E> {
    let expansion = expand(&*cached_crate_context(manifest_dir)?)?;
    let tracking = not_yet_tracked(
        manifest_dir,
        &expansion.shared_tracking,
        &expansion.own_files,
    );
    Ok(MacroOutput {
        value: expansion.value,
        tracking,
        warnings: not_yet_warned(manifest_dir, expansion.warnings),
    })
}

/// Expands `cdnstatic!` for the crate at `manifest_dir`, as a macro call does: through the
/// per-process cache, with the tracking not yet emitted for the crate.
///
/// # Errors
/// Any error of resolving the crate's context or of [`expand_static_url_in`].
pub fn expand_static_url(
    manifest_dir: &Path,
    path: &str,
    options: &[CallOption],
) -> Result<MacroOutput> {
    expand_for_crate(manifest_dir, |context| {
        expand_static_url_in(context, path, options)
    })
}

/// Expands `cdntag!` for the crate at `manifest_dir`, as a macro call does.
///
/// # Errors
/// Any error of resolving the crate's context or of [`expand_tag_in`].
pub fn expand_tag(manifest_dir: &Path, options: &[CallOption]) -> Result<MacroOutput> {
    expand_for_crate(manifest_dir, |context| expand_tag_in(context, options))
}

/// Expands `cdnintegrity!` for the crate at `manifest_dir`, as a macro call does.
///
/// # Errors
/// Any error of resolving the crate's context or of [`expand_integrity_in`].
pub fn expand_integrity(
    manifest_dir: &Path,
    path: &str,
    options: &[CallOption],
) -> Result<MacroOutput> {
    expand_for_crate(manifest_dir, |context| {
        expand_integrity_in(context, path, options)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::config::Config;
    use crate::resolve::manifest::LoadedConfig;
    use crate::resolve::tag::{NamedFiles, ResolvedTag, TagSource};
    use crate::test_support::{openssl_integrity, sha1sum};

    /// A context as the git lookup would make it for a crate at `manifest_dir`; the revision
    /// here is an input, not an oracle.
    fn context_in(manifest_dir: &Path, static_url: &str, tag: Result<ResolvedTag>) -> CrateContext {
        let config = LoadedConfig {
            config: Config {
                static_url: static_url.into(),
                ..Config::default()
            },
            manifest_files: vec![PathBuf::from("/w/Cargo.toml")],
            static_url_from_environment: false,
        };
        CrateContext::new(manifest_dir, config, tag)
    }

    fn git_tag() -> ResolvedTag {
        ResolvedTag {
            value: "89abcdef0123456789abcdef0123456789abcdef".into(),
            source: TagSource::Git,
            tracked_files: vec![PathBuf::from("/w/.git/HEAD")],
            tracked_environment: vec!["CACHEKILLER_TAG"],
            rebuild_always: false,
            names: NamedFiles::Every,
        }
    }

    fn context(static_url: &str) -> CrateContext {
        context_in(
            Path::new("/nonexistent/cachekiller/w"),
            static_url,
            Ok(git_tag()),
        )
    }

    fn option(key: &str, value: ConfigValue) -> CallOption {
        CallOption {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn call_options_override_the_crate_config() {
        let context = context("/assets/");
        let plain = expand_static_url_in(&context, "a.css", &[]).unwrap();
        assert_eq!(plain.value, "/assets/a.css?tag=89abcdef012345");
        assert_eq!(
            plain.tracking(),
            Tracking {
                files: vec![
                    PathBuf::from("/w/Cargo.toml"),
                    PathBuf::from("/w/.git/HEAD")
                ],
                environment: vec!["CACHEKILLER_TAG", "CACHEKILLER_STATIC_URL"],
            }
        );

        let options = [
            option("tag_length", ConfigValue::Integer(8)),
            option("param", ConfigValue::String("v".into())),
            option(
                "static_url",
                ConfigValue::String("//cdn.example.com/".into()),
            ),
        ];
        assert_eq!(
            expand_static_url_in(&context, "a.css", &options)
                .unwrap()
                .value,
            "//cdn.example.com/a.css?v=89abcdef"
        );
        assert_eq!(
            expand_tag_in(&context, &options[..1]).unwrap().value,
            "89abcdef"
        );
        assert_eq!(
            expand_tag_in(&context, &[]).unwrap().value,
            "89abcdef012345"
        );
    }

    #[test]
    fn bad_calls() {
        let context = context("/static/");
        assert_eq!(
            expand_static_url_in(&context, "", &[]),
            Err(Error::EmptyStaticPath)
        );
        let error = expand_tag_in(
            &context,
            &[option("param", ConfigValue::String("v".into()))],
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "unknown cachekiller option `param` in the macro arguments (expected one of `tag_length`)");
        let twice = [
            option("tag_length", ConfigValue::Integer(8)),
            option("param", ConfigValue::String("v".into())),
            option("tag_length", ConfigValue::Integer(40)),
        ];
        assert_eq!(
            expand_static_url_in(&context, "a.css", &twice),
            Err(Error::RepeatedConfigKey {
                key: "tag_length".into(),
                origin: ConfigOrigin::MacroArgument
            })
        );
        let error = expand_static_url_in(
            &context,
            "a.css",
            &[option("tag_length", ConfigValue::Integer(2))],
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid cachekiller `tag_length` in the macro arguments: expected an integer from 8 to 64, found the integer 2"
        );
    }

    /// A crate dir with `static/css/app.css` and `static/img/logo.png` (binary).
    fn crate_with_static_files() -> (tempfile::TempDir, CrateContext) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("static/css")).unwrap();
        std::fs::create_dir_all(dir.path().join("static/img")).unwrap();
        std::fs::write(
            dir.path().join("static/css/app.css"),
            "body { margin: 0 }\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("static/img/logo.png"),
            [0x89, b'P', b'N', b'G', 0, 0xff],
        )
        .unwrap();
        let crate_context = context_in(dir.path(), "/static/", Ok(git_tag()));
        (dir, crate_context)
    }

    #[test]
    fn content_mode_tags_with_the_files_sha1() {
        let (dir, context) = crate_with_static_files();
        let sha1 = sha1sum(&dir.path().join("static/css/app.css"), 40);
        let mode = option("mode", ConfigValue::String("content".into()));
        let expansion =
            expand_static_url_in(&context, "css/app.css?v=2#top", std::slice::from_ref(&mode))
                .unwrap();
        assert_eq!(
            expansion.value,
            format!("/static/css/app.css?v=2&tag={}#top", &sha1[..6])
        );

        // django-cachekiller's bare form, and the length.
        let bare = [
            mode.clone(),
            option("param", ConfigValue::String(String::new())),
            option("hash_length", ConfigValue::Integer(12)),
        ];
        assert_eq!(
            expand_static_url_in(&context, "css/app.css", &bare)
                .unwrap()
                .value,
            format!("/static/css/app.css?{}", &sha1[..12])
        );

        let binary_sha1 = sha1sum(&dir.path().join("static/img/logo.png"), 40);
        let binary =
            expand_static_url_in(&context, "img/logo.png", std::slice::from_ref(&mode)).unwrap();
        assert_eq!(
            binary.value,
            format!("/static/img/logo.png?tag={}", &binary_sha1[..6])
        );
        // A stylesheet's bytes hold its references' revision tags: see the tracking table.
        assert_eq!(
            binary.tracking(),
            Tracking {
                files: vec![
                    PathBuf::from("/w/Cargo.toml"),
                    dir.path().join("static/img/logo.png")
                ],
                environment: vec!["CACHEKILLER_STATIC_URL"],
            },
            "the hashed file is tracked, the repository is not"
        );
        assert_eq!(
            expand_static_url_in(&context, "https://cdn.example.com/x.js", &[mode]),
            Err(Error::HashOfAbsoluteUrl {
                url: "https://cdn.example.com/x.js".into()
            })
        );
        // cdntag! keeps the revision in every mode.
        assert_eq!(
            expand_tag_in(&context, &[]).unwrap().value,
            "89abcdef012345"
        );
    }

    #[test]
    fn vcs_mode_checks_files_only_where_a_static_dir_exists() {
        let (_dir, context) = crate_with_static_files();
        let error = expand_static_url_in(&context, "css/ap.css", &[]).unwrap_err();
        assert_eq!(
            error,
            Error::StaticFileNotFound {
                path: "css/ap.css".into(),
                searched: vec!["static".into()],
                suggestion: Some("css/app.css".into()),
                hashed: false,
            }
        );
        let unchecked = [option("check_files", ConfigValue::Boolean(false))];
        // Unchecked, the URL is made all the same: the revision tag needs no file.
        assert_eq!(
            expand_static_url_in(&context, "css/ap.css", &unchecked)
                .unwrap()
                .value,
            "/static/css/ap.css?tag=89abcdef012345"
        );
        assert_eq!(
            expand_static_url_in(&context, "../Cargo.toml", &unchecked),
            Err(Error::StaticPathEscapes {
                path: "../Cargo.toml".into()
            }),
            "`..` is refused even when files are not checked"
        );
        // The plain test context has no static dir: nothing to check against.
        assert!(
            expand_static_url_in(&super::tests::context("/static/"), "css/ap.css", &[]).is_ok()
        );
    }

    #[test]
    fn the_tag_in_the_file_name_from_either_source() {
        let (dir, context) = crate_with_static_files();
        let name = option("tag_in", ConfigValue::String("name".into()));
        assert_eq!(
            expand_static_url_in(&context, "css/app.css?v=2#top", std::slice::from_ref(&name))
                .unwrap()
                .value,
            "/static/css/app.89abcdef012345.css?v=2#top"
        );
        let sha1 = &sha1sum(&dir.path().join("static/css/app.css"), 40)[..6];
        let named_by_content = [
            name.clone(),
            option("mode", ConfigValue::String("content".into())),
        ];
        assert_eq!(
            expand_static_url_in(&context, "css/app.css", &named_by_content)
                .unwrap()
                .value,
            format!("/static/css/app.{sha1}.css")
        );
        assert_eq!(
            expand_static_url_in(
                &context,
                "https://cdn.example.com/x.js",
                std::slice::from_ref(&name)
            ),
            Err(Error::TagInNameOfAbsoluteUrl {
                url: "https://cdn.example.com/x.js".into()
            })
        );
        let dotted = ResolvedTag {
            value: "release-1.2".into(),
            source: TagSource::EnvironmentVariable,
            tracked_files: Vec::new(),
            tracked_environment: vec!["CACHEKILLER_TAG"],
            rebuild_always: false,
            names: NamedFiles::Every,
        };
        let released = context_in(dir.path(), "/static/", Ok(dotted));
        assert_eq!(
            expand_static_url_in(&released, "css/app.css", std::slice::from_ref(&name)),
            Err(Error::TagWithDotInName {
                tag: "release-1.2".into()
            })
        );
        assert_eq!(
            expand_static_url_in(&released, "css/app.css", &[])
                .unwrap()
                .value,
            "/static/css/app.css?tag=release-1.2",
            "the query form takes any unreserved tag"
        );
    }

    /// `static/css/site.css`, which imports `base.css` and uses `fonts/inter.woff2`.
    fn crate_with_a_stylesheet(base: &str) -> (tempfile::TempDir, CrateContext) {
        let (dir, _) = crate_with_static_files();
        let css = dir.path().join("static/css");
        std::fs::write(
            css.join("site.css"),
            "@import 'base.css';\n@font-face { src: url(../fonts/inter.woff2) }\n",
        )
        .unwrap();
        std::fs::write(css.join("base.css"), base).unwrap();
        std::fs::create_dir_all(dir.path().join("static/fonts")).unwrap();
        std::fs::write(dir.path().join("static/fonts/inter.woff2"), "wOF2").unwrap();
        let context = context_in(dir.path(), "/static/", Ok(git_tag()));
        (dir, context)
    }

    #[test]
    fn a_stylesheets_tag_and_integrity_are_those_of_its_rewritten_bytes() {
        let (dir, context) = crate_with_a_stylesheet("body { background: url(../img/logo.png) }");
        let mode = [option("mode", ConfigValue::String("content".into()))];
        let url = expand_static_url_in(&context, "css/site.css", &mode).unwrap();
        // The crate is in vcs mode: the stylesheet's references carry the revision.
        let served = dir.path().join("served.css");
        std::fs::write(
            &served,
            "@import 'base.css?tag=89abcdef012345';\n\
             @font-face { src: url(../fonts/inter.woff2?tag=89abcdef012345) }\n",
        )
        .unwrap();
        assert_eq!(
            url.value,
            format!("/static/css/site.css?tag={}", &sha1sum(&served, 40)[..6])
        );
        let integrity = expand_integrity_in(&context, "css/site.css", &[]).unwrap();
        assert_eq!(integrity.value, openssl_integrity(&served, "sha384"));
        // Both track the stylesheets they read; the revision tags need no other file.
        let static_dir = dir.path().join("static");
        let stylesheets = vec![
            static_dir.join("css/site.css"),
            static_dir.join("css/base.css"),
        ];
        assert_eq!(url.own_files, stylesheets);
        assert_eq!(integrity.own_files, stylesheets);
        // A vcs-mode call tracks them too, so that the references they gain are checked.
        let vcs = expand_static_url_in(&context, "css/site.css", &[]).unwrap();
        assert_eq!(vcs.value, "/static/css/site.css?tag=89abcdef012345");
        assert_eq!(vcs.own_files, stylesheets);
    }

    /// Which macro a row of the tracking table calls.
    #[derive(Debug, Clone, Copy)]
    enum Macro {
        Static,
        Integrity,
    }

    /// The crate of [`crate_with_a_stylesheet`] with `mode` in its configuration.
    fn crate_in_mode(mode: TagMode) -> (tempfile::TempDir, CrateContext) {
        let (dir, _) = crate_with_a_stylesheet("body { background: url(../img/logo.png) }");
        let config = LoadedConfig {
            config: Config {
                mode,
                ..Config::default()
            },
            manifest_files: vec![PathBuf::from("/w/Cargo.toml")],
            static_url_from_environment: false,
        };
        let context = CrateContext::new(dir.path(), config, Ok(git_tag()));
        (dir, context)
    }

    /// The call option `mode = "…"`.
    fn mode_option(mode: TagMode) -> CallOption {
        let name = match mode {
            TagMode::Vcs => "vcs",
            TagMode::Content => "content",
        };
        option("mode", ConfigValue::String(name.into()))
    }

    /// Every combination of the crate's mode, the call's mode, the macro and the kind of file,
    /// with what the value depends on: the revision (directly, or through the references of a
    /// stylesheet it hashes, which carry the revision in a vcs-mode crate) and the file. An
    /// expansion must carry the tracking of each, or cargo keeps a stale value.
    #[test]
    fn every_expansion_tracks_the_revision_and_the_files_its_value_depends_on() {
        use TagMode::{Content, Vcs};
        let table = [
            // (crate mode, call mode, macro, file, depends on the revision, on the file)
            (Vcs, None, Macro::Static, "css/site.css", true, true),
            (Vcs, None, Macro::Static, "img/logo.png", true, false),
            (Vcs, Some(Vcs), Macro::Static, "css/site.css", true, true),
            (Vcs, Some(Vcs), Macro::Static, "img/logo.png", true, false),
            (
                Vcs,
                Some(Content),
                Macro::Static,
                "css/site.css",
                true,
                true,
            ),
            (
                Vcs,
                Some(Content),
                Macro::Static,
                "img/logo.png",
                false,
                true,
            ),
            (Vcs, None, Macro::Integrity, "css/site.css", true, true),
            (Vcs, None, Macro::Integrity, "img/logo.png", false, true),
            (Content, None, Macro::Static, "css/site.css", false, true),
            (Content, None, Macro::Static, "img/logo.png", false, true),
            (
                Content,
                Some(Vcs),
                Macro::Static,
                "css/site.css",
                true,
                true,
            ),
            (
                Content,
                Some(Vcs),
                Macro::Static,
                "img/logo.png",
                true,
                false,
            ),
            (
                Content,
                Some(Content),
                Macro::Static,
                "css/site.css",
                false,
                true,
            ),
            (
                Content,
                Some(Content),
                Macro::Static,
                "img/logo.png",
                false,
                true,
            ),
            (Content, None, Macro::Integrity, "css/site.css", false, true),
            (Content, None, Macro::Integrity, "img/logo.png", false, true),
        ];
        for (crate_mode, call_mode, which, path, on_revision, on_file) in table {
            let (dir, context) = crate_in_mode(crate_mode);
            let options: Vec<CallOption> =
                call_mode.iter().map(|&mode| mode_option(mode)).collect();
            let expansion = match which {
                Macro::Static => expand_static_url_in(&context, path, &options),
                Macro::Integrity => expand_integrity_in(&context, path, &options),
            }
            .unwrap();
            let tracking = expansion.tracking();
            let case = format!("crate {crate_mode:?}, call {call_mode:?}, {which:?}, {path}");
            assert_eq!(
                tracking.files.contains(&PathBuf::from("/w/.git/HEAD")),
                on_revision,
                "{case}: the repository's files"
            );
            assert_eq!(
                tracking.environment.contains(&"CACHEKILLER_TAG"),
                on_revision,
                "{case}: the tag's variables"
            );
            assert_eq!(
                tracking
                    .files
                    .contains(&dir.path().join("static").join(path)),
                on_file,
                "{case}: the file"
            );
        }
    }

    #[test]
    fn a_missing_reference_fails_the_call_naming_the_stylesheet_and_line() {
        let (_dir, context) =
            crate_with_a_stylesheet("a { color: red }\nbody { background: url(../img/logo.pgn) }");
        let expected = Error::StylesheetReference {
            stylesheet: "css/base.css".into(),
            line: 2,
            url: "../img/logo.pgn".into(),
            cause: Box::new(Error::StaticFileNotFound {
                path: "img/logo.pgn".into(),
                searched: vec!["static".into()],
                suggestion: Some("img/logo.png".into()),
                hashed: false,
            }),
        };
        let content_mode = option("mode", ConfigValue::String("content".into()));
        for options in [vec![], vec![content_mode.clone()]] {
            assert_eq!(
                expand_static_url_in(&context, "css/site.css", &options),
                Err(expected.clone())
            );
        }
        assert_eq!(
            expand_integrity_in(&context, "css/site.css", &[]),
            Err(expected)
        );
        // `check_files = false` leaves the missing reference as written: the revision tag, and
        // the content tag of the stylesheet as served (the crate is in VCS mode: its
        // references carry the revision; `sha1sum` of those bytes).
        let unchecked = option("check_files", ConfigValue::Boolean(false));
        let content_tag = crate::test_support::sha1sum_of_bytes(
            b"@import 'base.css?tag=89abcdef012345';\n\
              @font-face { src: url(../fonts/inter.woff2?tag=89abcdef012345) }\n",
        )[..6]
            .to_owned();
        for (options, tag) in [
            (vec![unchecked.clone()], "89abcdef012345".to_owned()),
            (vec![unchecked, content_mode], content_tag),
        ] {
            assert_eq!(
                expand_static_url_in(&context, "css/site.css", &options)
                    .unwrap()
                    .value,
                format!("/static/css/site.css?tag={tag}")
            );
        }
    }

    #[test]
    fn integrity_of_a_static_file() {
        let (dir, context) = crate_with_static_files();
        let expected = openssl_integrity(&dir.path().join("static/css/app.css"), "sha384");
        let expansion = expand_integrity_in(&context, "css/app.css", &[]).unwrap();
        assert_eq!(expansion.value, expected);
        assert_eq!(
            expansion.own_files,
            vec![dir.path().join("static/css/app.css")]
        );
        let sha512 = openssl_integrity(&dir.path().join("static/css/app.css"), "sha512");
        let algorithm = [option("algorithm", ConfigValue::String("sha512".into()))];
        assert_eq!(
            expand_integrity_in(&context, "css/app.css", &algorithm)
                .unwrap()
                .value,
            sha512
        );
        assert!(matches!(
            expand_integrity_in(&context, "css/gone.css", &[]),
            Err(Error::StaticFileNotFound { .. })
        ));
        let md5 = [option("algorithm", ConfigValue::String("md5".into()))];
        assert!(expand_integrity_in(&context, "css/app.css", &md5)
            .unwrap_err()
            .to_string()
            .contains("expected \"sha256\", \"sha384\" or \"sha512\""));
    }

    #[test]
    fn a_broken_repository_fails_only_the_calls_that_need_a_revision() {
        let (dir, _) = crate_with_static_files();
        let broken = Error::GitRepositoryUnreadable {
            start: dir.path().to_owned(),
            reason: "corrupted".into(),
        };
        let context = context_in(dir.path(), "/static/", Err(broken.clone()));
        assert_eq!(
            expand_static_url_in(&context, "css/app.css", &[]),
            Err(broken.clone())
        );
        assert_eq!(expand_tag_in(&context, &[]), Err(broken));
        let mode = [option("mode", ConfigValue::String("content".into()))];
        let stylesheet = dir.path().join("static/css/app.css");
        assert_eq!(
            expand_static_url_in(&context, "css/app.css", &mode)
                .unwrap()
                .value,
            format!("/static/css/app.css?tag={}", sha1sum(&stylesheet, 6))
        );
        assert_eq!(
            expand_integrity_in(&context, "css/app.css", &[])
                .unwrap()
                .value,
            openssl_integrity(&stylesheet, "sha384")
        );
    }
}
