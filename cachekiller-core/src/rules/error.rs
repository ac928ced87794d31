//! The one error type of cachekiller: every failure a macro can turn into a compile error.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from, so that an error can name the place to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// `[package.metadata.cachekiller]` or `[workspace.metadata.cachekiller]` of this manifest.
    Manifest {
        /// The manifest file (`Cargo.toml`) that holds the value.
        path: PathBuf,
        /// The table the value was found in, such as `package.metadata.cachekiller`.
        table: &'static str,
    },
    /// An environment variable such as `CACHEKILLER_STATIC_URL`.
    EnvironmentVariable(&'static str),
    /// An option written in the macro call, such as `cdnstatic!("a.css", tag_length = 8)`.
    MacroArgument,
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigOrigin::Manifest { path, table } => {
                write!(formatter, "in [{table}] of {}", path.display())
            }
            ConfigOrigin::EnvironmentVariable(name) => write!(formatter, "in ${name}"),
            ConfigOrigin::MacroArgument => write!(formatter, "in the macro arguments"),
        }
    }
}

/// Everything that can go wrong while resolving a tag or composing a URL.
///
/// Each variant carries what went wrong and where (path, key, value); its `Display` says what
/// was expected and, where it helps, how to fix it. The macros crate shows that text as a
/// compile error and never writes messages of its own that belong here.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A configuration key has a value of the wrong type or out of range.
    InvalidConfigValue {
        /// The key, such as `tag_length`.
        key: String,
        /// Where the value was written.
        origin: ConfigOrigin,
        /// What the key accepts, such as `an integer from 4 to 40`.
        expected: String,
        /// The value as written.
        found: String,
    },
    /// A configuration key that cachekiller does not know (most often a typo).
    UnknownConfigKey {
        /// The key as written.
        key: String,
        /// Where it was written.
        origin: ConfigOrigin,
        /// The keys that are accepted there.
        known: Vec<&'static str>,
        /// The accepted key closest to it, if it is close enough to be a typo.
        suggestion: Option<&'static str>,
    },
    /// A macro option written twice in one call (`tag_length = 8, tag_length = 40`).
    RepeatedConfigKey {
        /// The key.
        key: String,
        /// Where it was written twice.
        origin: ConfigOrigin,
    },
    /// A `Cargo.toml` that could not be read or parsed.
    ManifestUnreadable {
        /// The manifest file.
        path: PathBuf,
        /// What the reader or TOML parser said.
        reason: String,
    },
    /// A git repository that was found but could not be read.
    GitRepositoryUnreadable {
        /// The directory the search started from (the calling crate's manifest dir).
        start: PathBuf,
        /// What libgit2 said.
        reason: String,
    },
    /// A git repository owned by another user, which git and libgit2 refuse to read (git's
    /// `safe.directory` check).
    GitRepositoryNotOwned {
        /// The repository, as git names it.
        path: PathBuf,
    },
    /// The file that makes cargo rebuild until a repository has a revision could not be
    /// written (see `rebuild_marker`).
    RebuildMarkerUnwritable {
        /// The marker file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// `cdnembed!()` could not keep a file's bytes (or a compressed variant) in its store
    /// under the target dir, for `include_bytes!`.
    EmbedStoreUnwritable {
        /// The file it could not write.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The rebuild marker's directory or file is not the building user's own: another user
    /// may have prepared it to take over the build.
    RebuildMarkerUnsafe {
        /// The directory or the marker.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A Mercurial `.hg/dirstate` that was found but could not be read or understood.
    MercurialDirstateUnreadable {
        /// The dirstate file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// `hg cat` could not give the committed bytes of the static files.
    MercurialFilesUnreadable {
        /// The repository.
        root: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// `CACHEKILLER_TAG` holds characters that cannot stand in a URL unescaped.
    InvalidEnvironmentTag {
        /// The value of `CACHEKILLER_TAG`.
        value: String,
    },
    /// `SOURCE_DATE_EPOCH` is not a whole number of seconds since 1970.
    InvalidSourceDateEpoch {
        /// The value of `SOURCE_DATE_EPOCH`.
        value: String,
    },
    /// `CARGO_MANIFEST_DIR` is not set: the macro was not run by cargo.
    ManifestDirUnknown,
    /// `cdnstatic!("")`: there is no file to link to.
    EmptyStaticPath,
    /// A static path with no file behind it in any of the static dirs.
    StaticFileNotFound {
        /// The file path, relative to the static dirs.
        path: String,
        /// The static dirs searched, as configured.
        searched: Vec<String>,
        /// A file with a close name, if there is one.
        suggestion: Option<String>,
        /// Whether the file was needed for its bytes (content mode, integrity) rather than
        /// only checked: then `check_files = false` cannot help.
        hashed: bool,
    },
    /// A static file that is a symbolic link (or lies below one) leading out of every static
    /// dir.
    StaticFileOutsideStaticDirs {
        /// The file path, relative to the static dirs.
        path: String,
        /// Where the link leads (the real path).
        target: PathBuf,
    },
    /// A stylesheet references a file that cannot be used (missing, a link out of the static
    /// dirs, not a regular file): the error about that file, with where the reference is.
    StylesheetReference {
        /// The stylesheet's path, relative to the static dirs.
        stylesheet: String,
        /// The line of the reference, from 1.
        line: usize,
        /// The URL as the stylesheet gives it (escapes decoded).
        url: String,
        /// What is wrong with the file it names.
        cause: Box<Error>,
    },
    /// Stylesheets that reference each other in a cycle, so none of them has a content tag.
    StylesheetCycle {
        /// The stylesheets of the cycle, relative to the static dirs, the first one repeated
        /// at the end.
        cycle: Vec<String>,
    },
    /// Stylesheets nested by `@import` (or other references to stylesheets) deeper than
    /// [`crate::rules::css::MAX_STYLESHEET_DEPTH`]: refused rather than followed, so that a
    /// generated or hostile chain cannot exhaust the compiler's or the server's stack.
    StylesheetTooDeep {
        /// The chain of stylesheets, outermost first, relative to the static dirs.
        chain: Vec<String>,
    },
    /// A JavaScript module imports, by a relative or rooted specifier, a module that is not a
    /// static file.
    ModuleImportNotFound {
        /// The importing module, relative to the static dirs.
        module: String,
        /// The line of the specifier in it.
        line: u32,
        /// The specifier as written.
        specifier: String,
        /// Why it names no file we serve: the error about the file it resolves to.
        cause: Box<Error>,
        /// A specifier that would name an existing module, if one is close.
        suggestion: Option<String>,
    },
    /// A JavaScript module imports a bare specifier (`lit`) the crate's import table lacks.
    BareModuleSpecifierUnknown {
        /// The importing module, relative to the static dirs.
        module: String,
        /// The line of the specifier in it.
        line: u32,
        /// The specifier as written.
        specifier: String,
        /// The closest specifier in the table, if one is close.
        suggestion: Option<String>,
    },
    /// A JavaScript module whose imports cannot be read: not UTF-8, or not lexable (an
    /// unterminated string, comment or template, an unbalanced bracket).
    ModuleUnreadable {
        /// The module, relative to the static dirs.
        module: String,
        /// Where, from 1 (0 when the whole file is at fault).
        line: u32,
        /// The column there, from 1, in characters.
        column: u32,
        /// What is wrong.
        reason: String,
    },
    /// A module graph with more modules than a macro call walks.
    ModuleGraphTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A static path that names something other than a regular file (a FIFO, a device, a
    /// directory, a socket).
    StaticFileNotRegular {
        /// The file path, relative to the static dirs.
        path: String,
        /// What it is, such as `a FIFO (named pipe)`.
        kind: &'static str,
    },
    /// A static path that would leave the static dirs (`..`, a drive).
    StaticPathEscapes {
        /// The path as written.
        path: String,
    },
    /// A static path whose percent escapes do not decode to a file name.
    InvalidStaticPath {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file that exists but could not be read for hashing.
    FileUnreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// `tag_in = "name"` for an absolute URL, whose file name is not ours to change.
    TagInNameOfAbsoluteUrl {
        /// The URL as written.
        url: String,
    },
    /// `tag_in = "name"` with a tag holding a `.` (a `CACHEKILLER_TAG` such as `1.2`), which a
    /// server could not tell from the file's extension.
    TagWithDotInName {
        /// The tag.
        tag: String,
    },
    /// A content hash or integrity digest asked of an absolute URL, which is no local file.
    HashOfAbsoluteUrl {
        /// The URL as written.
        url: String,
    },
    /// A file to track whose path holds a line break, which cargo's dep-info cannot express.
    UntrackablePath {
        /// The path.
        path: PathBuf,
    },
    /// A file to track whose path is not UTF-8, which `include_bytes!` cannot name.
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// Settings whose revision manifest is not one `cdnsettings!()` made.
    InvalidRevisionManifest {
        /// What is wrong with it.
        reason: String,
    },
    /// A directory given to the static file service that is missing or not a directory.
    StaticDirUnusable {
        /// The directory, made absolute against the working directory.
        path: PathBuf,
        /// The process's working directory, which a relative path was taken from.
        working_directory: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
    },
    /// The same failure as a call before this one in the same compilation (a wrong manifest
    /// key): that call shows it, this one expands to a placeholder.
    #[doc(hidden)]
    ReportedAtAnotherCall,
    /// Settings naming several static dirs given to a service of one directory.
    SeveralStaticDirs {
        /// The static dirs of the settings, in order.
        static_dirs: Vec<String>,
    },
}

impl fmt::Display for Error {
    // One arm per variant: each is a message users read, and reads best next to the others.
    #[allow(clippy::too_many_lines)]
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfigValue {
                key,
                origin,
                expected,
                found,
            } => write!(
                formatter,
                "invalid cachekiller `{key}` {origin}: expected {expected}, found {found}"
            ),
            Error::UnknownConfigKey {
                key,
                origin,
                known,
                suggestion,
            } => {
                write!(formatter, "unknown cachekiller option `{key}` {origin}")?;
                if let Some(suggestion) = suggestion {
                    write!(formatter, ": did you mean `{suggestion}`?")?;
                }
                write!(
                    formatter,
                    " (expected one of {})",
                    known
                        .iter()
                        .map(|known_key| format!("`{known_key}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            Error::RepeatedConfigKey { key, origin } => write!(
                formatter,
                "cachekiller option `{key}` is given twice {origin}: write it once"
            ),
            Error::ManifestUnreadable { path, reason } => write!(
                formatter,
                "cachekiller could not read the manifest {}: {reason}",
                path.display()
            ),
            Error::GitRepositoryUnreadable { start, reason } => write!(
                formatter,
                "cachekiller found a git repository above {} but could not read it: {reason}; \
                 repair it, or set CACHEKILLER_TAG to the tag to use (for example the commit id) \
                 to build without reading it",
                start.display()
            ),
            Error::GitRepositoryNotOwned { path } => write!(
                formatter,
                "the git repository {} belongs to another user, so git and libgit2 refuse to read \
                 it (git's `safe.directory` check, a guard against repositories planted by \
                 others); if you trust it, run `git config --global --add safe.directory {}`, \
                 or set CACHEKILLER_TAG to the tag to use (for example the commit id) to build \
                 without reading it",
                path.display(),
                path.display()
            ),
            Error::RebuildMarkerUnwritable { path, reason } => write!(
                formatter,
                "the repository has no revision yet, so cachekiller must make cargo rebuild until \
                 it has one, but could not write {}: {reason}; make a first commit, set TMPDIR \
                 to a writable directory, or set CACHEKILLER_TAG",
                path.display()
            ),
            Error::EmbedStoreUnwritable { path, reason } => write!(
                formatter,
                "cdnembed! keeps the bytes it embeds under the target dir, but could not write \
                 {}: {reason}; check that the target dir is writable and has room",
                path.display()
            ),
            Error::RebuildMarkerUnsafe { path, reason } => write!(
                formatter,
                "the repository has no revision that cargo can watch yet, so cachekiller must \
                 make cargo rebuild until it has one with a marker file, but refuses to use {}: \
                 {reason}, and another user could use it to take over this build; remove it, \
                 set TMPDIR to a directory of your own, make a first commit, or set \
                 CACHEKILLER_TAG",
                path.display()
            ),
            Error::MercurialDirstateUnreadable { path, reason } => write!(
                formatter,
                "cachekiller could not read the Mercurial dirstate {}: {reason}; \
                 set CACHEKILLER_TAG to the tag to use to build without reading it",
                path.display()
            ),
            Error::MercurialFilesUnreadable { root, reason } => write!(
                formatter,
                "cachekiller could not ask `hg cat` for the committed static files of the \
                 Mercurial repository {}: {reason}; install Mercurial, or set \
                 CACHEKILLER_TAG to the tag to use to build without it",
                root.display()
            ),
            Error::InvalidEnvironmentTag { value } => write!(
                formatter,
                "CACHEKILLER_TAG={value:?} cannot be used as a tag: expected only ASCII letters, \
                 digits, `-`, `.`, `_` and `~`, so that the URL needs no escaping"
            ),
            Error::InvalidSourceDateEpoch { value } => write!(
                formatter,
                "SOURCE_DATE_EPOCH={value:?} is not a date: expected a whole number of seconds \
                 since 1970-01-01 00:00:00 UTC"
            ),
            Error::ManifestDirUnknown => write!(
                formatter,
                "CARGO_MANIFEST_DIR is not set: cachekiller finds its configuration and repository \
                 from the calling crate's manifest dir, so the crate must be built by cargo"
            ),
            Error::EmptyStaticPath => write!(
                formatter,
                "empty static path: expected the path of a file below the static URL, such as \"css/app.css\""
            ),
            Error::StaticFileNotFound {
                path,
                searched,
                suggestion,
                hashed,
            } => {
                let searched = join_quoted(searched);
                write!(formatter, "static file {path:?} not found in the static dirs {searched}")?;
                if let Some(suggestion) = suggestion {
                    write!(formatter, "; did you mean {suggestion:?}?")?;
                }
                if *hashed {
                    write!(formatter, " (its bytes are hashed, so it must exist at build time)")
                } else {
                    write!(
                        formatter,
                        " (set `check_files = false` for a file that only exists after the build)"
                    )
                }
            }
            Error::StaticFileOutsideStaticDirs { path, target } => write!(
                formatter,
                "static file {path:?} leads through a symbolic link to {}, outside the static \
                 dir it is in: a file is used only inside its static dir, as the service opens \
                 it, so that a link cannot make the compiler or the server read other files; \
                 copy the file in, or list its directory in `static_dirs` and name the file by \
                 its path there",
                target.display()
            ),
            Error::StylesheetReference {
                stylesheet,
                line,
                url,
                cause,
            } => write!(
                formatter,
                "stylesheet {stylesheet:?}, line {line}: `url({url})`: {cause}"
            ),
            Error::ModuleImportNotFound {
                module,
                line,
                specifier,
                cause,
                suggestion,
            } => {
                write!(
                    formatter,
                    "module {module:?} imports {specifier:?} on line {line}, which names no module \
                     to map: "
                )?;
                match &**cause {
                    // Its own "did you mean" would name a static path, not a specifier.
                    Error::StaticFileNotFound { path, searched, .. } => write!(
                        formatter,
                        "it resolves to {path:?}, which is not in the static dirs {}",
                        join_quoted(searched)
                    )?,
                    cause => write!(formatter, "{cause}")?,
                }
                match suggestion {
                    Some(suggestion) => write!(formatter, "; did you mean {suggestion:?}?"),
                    None => Ok(()),
                }
            }
            Error::BareModuleSpecifierUnknown {
                module,
                line,
                specifier,
                suggestion,
            } => {
                write!(
                    formatter,
                    "module {module:?} imports the bare specifier {specifier:?} on line {line}, \
                     which the import map cannot resolve: name its file in the manifest, \
                     `[package.metadata.cachekiller.imports]` with `{key} = \"vendor/{specifier}.js\"` \
                     (a file below the static dirs, or an absolute URL)",
                    key = toml_key(specifier),
                )?;
                match suggestion {
                    Some(suggestion) => write!(formatter, "; did you mean {suggestion:?}?"),
                    None => Ok(()),
                }
            }
            Error::ModuleUnreadable {
                module,
                line,
                column,
                reason,
            } => {
                if *line == 0 {
                    write!(formatter, "module {module:?} cannot be read for its imports: {reason}")
                } else {
                    write!(
                        formatter,
                        "module {module:?} cannot be read for its imports: line {line}, column \
                         {column}: {reason}"
                    )
                }
            }
            Error::ModuleGraphTooLarge { limit } => write!(
                formatter,
                "the module graph has more than {limit} modules: an import map of that size is \
                 not made at compile time; bundle the modules, or give fewer entries"
            ),
            Error::StylesheetTooDeep { chain } => {
                let shown: Vec<String> = if chain.len() > 8 {
                    chain[..4]
                        .iter()
                        .map(|stylesheet| format!("{stylesheet:?}"))
                        .chain(std::iter::once(format!("… {} more …", chain.len() - 8)))
                        .chain(chain[chain.len() - 4..].iter().map(|s| format!("{s:?}")))
                        .collect()
                } else {
                    chain.iter().map(|stylesheet| format!("{stylesheet:?}")).collect()
                };
                write!(
                    formatter,
                    "stylesheets nested more than {} deep: {}; flatten the `@import` chain",
                    crate::rules::css::MAX_STYLESHEET_DEPTH,
                    shown.join(" -> ")
                )
            }
            Error::StylesheetCycle { cycle } => write!(
                formatter,
                "stylesheets reference each other in a cycle: {}; a stylesheet's tag is the \
                 hash of its rewritten bytes, which hold the tags of the files it references, \
                 so a cycle has no tag: remove one of these references",
                cycle
                    .iter()
                    .map(|stylesheet| format!("{stylesheet:?}"))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ),
            Error::StaticFileNotRegular { path, kind } => write!(
                formatter,
                "static path {path:?} is {kind}, not a regular file: expected the path of a file"
            ),
            Error::StaticPathEscapes { path } => write!(
                formatter,
                "static path {path:?} leaves the static dirs: `..` components and absolute file \
                 paths are refused, so that a template cannot make the compiler read other files"
            ),
            Error::InvalidStaticPath { path, reason } => {
                write!(formatter, "invalid static path {path:?}: {reason}")
            }
            Error::InvalidRevisionManifest { reason } => write!(
                formatter,
                "the settings' revision manifest cannot be read ({reason}): pass the settings \
                 `cdnsettings!()` made"
            ),
            Error::StaticDirUnusable {
                path,
                working_directory,
                reason,
            } => {
                write!(formatter, "static dir {} {reason}", path.display())?;
                if let Some(working_directory) = working_directory {
                    write!(
                        formatter,
                        " (a relative path is taken from the working directory, {})",
                        working_directory.display()
                    )?;
                }
                write!(
                    formatter,
                    "; give the directory the deployment copies the static files to, or \
                     `concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/static\")` in development"
                )
            }
            Error::ReportedAtAnotherCall => write!(
                formatter,
                "the crate's configuration cannot be read: see the first error"
            ),
            Error::SeveralStaticDirs { static_dirs } => write!(
                formatter,
                "the site's static_dirs are {static_dirs:?}, searched in order: serve them all \
                 with `StaticFiles::in_root(<the directory that holds them>, cdnsettings!())`, \
                 so that stylesheet references resolve to the same files as at compile time"
            ),
            Error::FileUnreadable { path, reason } => write!(
                formatter,
                "cachekiller could not read {}: {reason}",
                path.display()
            ),
            Error::HashOfAbsoluteUrl { url } => write!(
                formatter,
                "cannot hash {url:?}: an absolute URL is not a file in the static dirs; \
                 use the default `mode = \"vcs\"` for it"
            ),
            Error::TagInNameOfAbsoluteUrl { url } => write!(
                formatter,
                "cannot put the tag in the file name of {url:?}: an absolute URL's file name is \
                 not ours to change; use `tag_in = \"query\"` for it"
            ),
            Error::TagWithDotInName { tag } => write!(
                formatter,
                "the tag {tag:?} holds a `.`, so in a file name (`tag_in = \"name\"`) it could not \
                 be told from the extension; set CACHEKILLER_TAG without dots, or use \
                 `tag_in = \"query\"`"
            ),
            // The line break escaped (`a\nb.png`): printed as is it would split the message.
            Error::UntrackablePath { path } => write!(
                formatter,
                "cachekiller cannot track `{}` because its name holds a line break, which \
                 cargo's dep-info (one path per line) cannot express, so cargo would rebuild \
                 the crate on every build and never see the file change; rename it",
                path.display().to_string().escape_debug()
            ),
            Error::NonUtf8Path { path } => write!(
                formatter,
                "cachekiller cannot track {} because its path is not UTF-8, which \
                 `include_bytes!` cannot name (so cargo could not rebuild when it changes); \
                 move or rename the directory so that its path is UTF-8",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The result type of cachekiller.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `specifier` as a TOML key: bare if it can be, else quoted (`"@hotwired/stimulus"`).
fn toml_key(specifier: &str) -> String {
    if specifier
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        specifier.to_owned()
    } else {
        format!("{specifier:?}")
    }
}

/// `"a", "b"`: names quoted and listed.
fn join_quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
