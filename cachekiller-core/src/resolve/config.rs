//! The settings of a macro call, and the one table of the keys that set them: each key's name,
//! where it may be written, and how its value is checked. Where the values come from (the
//! manifests, `CACHEKILLER_STATIC_URL`, the call) is [`crate::resolve::manifest`] and [`crate::resolve::expand`].

use crate::rules::error::{ConfigOrigin, Error, Result};
use crate::rules::hash::IntegrityAlgorithm;
pub use crate::rules::settings::{TagIn, TagMode};
use crate::rules::url::is_url_unreserved;

/// `static_url` when none is configured, Django's `STATIC_URL` convention.
pub const DEFAULT_STATIC_URL: &str = "/static/";
/// `param` when none is configured, django-cachekiller's `?tag=`.
pub const DEFAULT_PARAM: &str = "tag";
/// `tag_length` when none is configured: django-cachekiller keeps 14 characters.
pub const DEFAULT_TAG_LENGTH: usize = 14;
/// The shortest `tag_length`: with 32 bits, two of a thousand deploys share a tag with a
/// chance of about one in ten thousand; with 16 bits, one in two after 300 deploys, and a
/// cache holding the first would answer the second's URLs with the wrong bytes.
pub const MIN_TAG_LENGTH: usize = 8;
/// The longest `tag_length`: a SHA-256 git revision id has 64 hex digits. A SHA-1 id (git's
/// default, Mercurial) has 40, and a longer `tag_length` keeps all 40.
pub const MAX_TAG_LENGTH: usize = 64;

pub use crate::rules::hash::{DEFAULT_HASH_LENGTH, MAX_HASH_LENGTH, MIN_HASH_LENGTH};

/// The effective settings for one macro call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Prefix of every relative static path, such as `/static/` or a CDN origin.
    pub static_url: String,
    /// Query parameter name of the tag; empty for the bare `?<tag>` form.
    pub param: String,
    /// Characters of a revision id kept in the tag.
    pub tag_length: usize,
    /// Directories holding the static files, relative to the calling crate's manifest dir,
    /// searched in order.
    pub static_dirs: Vec<String>,
    /// Whether a missing static file is a compile error (when a static dir exists).
    pub check_files: bool,
    /// What the tag of `cdnstatic!` is made from.
    pub mode: TagMode,
    /// Where `cdnstatic!` puts the tag.
    pub tag_in: TagIn,
    /// Hex characters of the content hash kept in the tag (at most 40).
    pub hash_length: usize,
    /// The digest of `cdnintegrity!`.
    pub algorithm: IntegrityAlgorithm,
    /// The bare specifiers of JavaScript modules (`lit`) and the static files they name
    /// (`vendor/lit.js`), or absolute URLs, for `cdnimportmap!`.
    pub imports: std::collections::BTreeMap<String, String>,
    /// Which static files `cdnembed!()` puts in the binary, and in which builds.
    pub embed: EmbedConfig,
}

/// The builds whose binary carries the static files (`embed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedProfiles {
    /// Release builds (no `debug_assertions`); debug builds read the static dirs, so that an
    /// edit is seen without a rebuild.
    #[default]
    Release,
    /// Every build.
    Always,
}

/// `embed_max_bytes` when none is configured: a file larger than this stays on disk.
pub const DEFAULT_EMBED_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// What `cdnembed!()` embeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedConfig {
    /// `embed`.
    pub profiles: EmbedProfiles,
    /// `embed_include`: only files matching one of these (all when empty).
    pub include: Vec<crate::rules::glob::Glob>,
    /// `embed_exclude`: no file matching one of these.
    pub exclude: Vec<crate::rules::glob::Glob>,
    /// `embed_max_bytes`: larger files stay on disk, with a build warning.
    pub max_bytes: u64,
    /// `embed_hidden_files`: files with a segment starting with `.` (but `.well-known`) are
    /// embedded too, for a server that serves them.
    pub hidden_files: bool,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        EmbedConfig {
            profiles: EmbedProfiles::Release,
            include: Vec::new(),
            exclude: Vec::new(),
            max_bytes: DEFAULT_EMBED_MAX_BYTES,
            hidden_files: false,
        }
    }
}

/// The patterns of `value`, an array of globs.
fn globs(value: &ConfigValue) -> Result<Vec<crate::rules::glob::Glob>, String> {
    let expected = "an array of file patterns such as [\"*.map\", \"vendor/**\"] (`*`, `?`, `**` \
                    and `{a,b}`; a pattern without `/` matches a file name at any depth)";
    let ConfigValue::Strings(patterns) = value else {
        return Err(expected.to_owned());
    };
    patterns
        .iter()
        .map(|pattern| {
            crate::rules::glob::Glob::new(pattern)
                .map_err(|invalid| format!("{expected}; {pattern:?} is not one: {}", invalid.0))
        })
        .collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            static_url: DEFAULT_STATIC_URL.to_owned(),
            param: DEFAULT_PARAM.to_owned(),
            tag_length: DEFAULT_TAG_LENGTH,
            static_dirs: vec!["static".to_owned()],
            check_files: true,
            mode: TagMode::Vcs,
            tag_in: TagIn::Query,
            hash_length: DEFAULT_HASH_LENGTH,
            algorithm: IntegrityAlgorithm::default(),
            imports: std::collections::BTreeMap::new(),
            embed: EmbedConfig::default(),
        }
    }
}

/// A configuration value as written, before it is checked against its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Boolean(bool),
    /// An array of strings.
    Strings(Vec<String>),
    /// A table whose values are all strings.
    StringTable(Vec<(String, String)>),
    /// Anything else, described for the error message (`a boolean true`, `an array`).
    Other(String),
}

impl ConfigValue {
    /// The value in words, for error messages: `the integer 3`, `the string "8"`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            ConfigValue::String(text) => format!("the string {text:?}"),
            ConfigValue::Integer(number) => format!("the integer {number}"),
            ConfigValue::Boolean(boolean) => format!("the boolean {boolean}"),
            ConfigValue::Strings(strings) => format!("the array {strings:?}"),
            ConfigValue::StringTable(entries) => format!("a table of {} strings", entries.len()),
            ConfigValue::Other(description) => description.clone(),
        }
    }
}

/// True if `static_url` can be put in front of a path as it is: printable ASCII with none of
/// the characters that would end an HTML attribute or start the query or fragment early.
fn is_valid_static_url(static_url: &str) -> bool {
    !static_url.is_empty()
        && static_url
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && !b"\"'<>`?#\\".contains(&byte))
}

/// Where options are written; each place accepts its own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionPlace {
    /// `[package.metadata.cachekiller]` or `[workspace.metadata.cachekiller]`.
    Manifest,
    /// After the path of `cdnstatic!`.
    StaticUrlMacro,
    /// In `cdntag!`.
    TagMacro,
    /// After the path of `cdnintegrity!`.
    IntegrityMacro,
    /// In `cdnembed!`.
    EmbedMacro,
}

use OptionPlace::{EmbedMacro, IntegrityMacro, Manifest, StaticUrlMacro, TagMacro};

/// One configuration key: its name, where it may be written, and how it sets the settings
/// (or what it expected instead).
struct Key {
    name: &'static str,
    places: &'static [OptionPlace],
    set: fn(&mut Config, &ConfigValue) -> Result<(), String>,
}

fn usize_in(value: &ConfigValue, range: std::ops::RangeInclusive<usize>) -> Option<usize> {
    match value {
        ConfigValue::Integer(number) => usize::try_from(*number)
            .ok()
            .filter(|number| range.contains(number)),
        _ => None,
    }
}

/// Every key, in the order error messages list them.
const KEYS: &[Key] = &[
    Key {
        name: "static_url",
        places: &[Manifest, StaticUrlMacro],
        set: |config, value| match value {
            ConfigValue::String(static_url) if is_valid_static_url(static_url) => {
                config.static_url.clone_from(static_url);
                Ok(())
            }
            _ => {
                Err("a URL prefix string such as \"/static/\" or \
                 \"https://cdn.example.com/static/\", without spaces, quotes, `<`, `>`, `?` or `#`"
                    .to_owned())
            }
        },
    },
    Key {
        name: "param",
        places: &[Manifest, StaticUrlMacro],
        set: |config, value| match value {
            ConfigValue::String(param) if is_url_unreserved(param) => {
                config.param.clone_from(param);
                Ok(())
            }
            _ => Err(
                "a query parameter name string of ASCII letters, digits, `-`, `.`, `_` or \
                 `~` (\"\" for the bare `?<tag>` form)"
                    .to_owned(),
            ),
        },
    },
    Key {
        name: "tag_length",
        places: &[Manifest, StaticUrlMacro, TagMacro],
        set: |config, value| {
            config.tag_length = usize_in(value, MIN_TAG_LENGTH..=MAX_TAG_LENGTH)
                .ok_or_else(|| format!("an integer from {MIN_TAG_LENGTH} to {MAX_TAG_LENGTH}"))?;
            Ok(())
        },
    },
    Key {
        name: "static_dirs",
        places: &[Manifest],
        set: |config, value| match value {
            ConfigValue::Strings(dirs)
                if !dirs.is_empty() && dirs.iter().all(|dir| !dir.is_empty()) =>
            {
                config.static_dirs.clone_from(dirs);
                Ok(())
            }
            _ => Err(
                "a non-empty array of directories relative to the crate, such as [\"static\"]"
                    .to_owned(),
            ),
        },
    },
    Key {
        name: "check_files",
        places: &[Manifest, StaticUrlMacro],
        set: |config, value| match value {
            ConfigValue::Boolean(check) => {
                config.check_files = *check;
                Ok(())
            }
            _ => Err("true or false".to_owned()),
        },
    },
    Key {
        name: "mode",
        places: &[Manifest, StaticUrlMacro],
        set: |config, value| {
            config.mode = match value {
                ConfigValue::String(name) => TagMode::from_name(name),
                _ => None,
            }
            .ok_or_else(|| {
                "\"vcs\" (the revision tags every file) or \"content\" (the SHA-1 of each file)"
                    .to_owned()
            })?;
            Ok(())
        },
    },
    Key {
        name: "tag_in",
        places: &[Manifest, StaticUrlMacro],
        set: |config, value| {
            config.tag_in = match value {
                ConfigValue::String(name) => TagIn::from_name(name),
                _ => None,
            }
            .ok_or_else(|| {
                "\"query\" (`app.css?tag=<tag>`) or \"name\" (`app.<tag>.css`, for CDNs that ignore \
                 the query string)"
                    .to_owned()
            })?;
            Ok(())
        },
    },
    Key {
        name: "hash_length",
        places: &[Manifest, StaticUrlMacro],
        set: |config, value| {
            // Above 40 acts as 40, as `HashPathStaticFilesStorage`'s STATICFILES_HASH_ACCURACY.
            let length = usize_in(value, MIN_HASH_LENGTH..=usize::MAX).ok_or_else(|| {
                format!(
                    "an integer of at least {MIN_HASH_LENGTH} (shorter hashes collide between files)"
                )
            })?;
            config.hash_length = length.min(MAX_HASH_LENGTH);
            Ok(())
        },
    },
    Key {
        name: "algorithm",
        places: &[IntegrityMacro],
        set: |config, value| {
            config.algorithm = match value {
                ConfigValue::String(name) => IntegrityAlgorithm::from_name(name),
                _ => None,
            }
            .ok_or_else(|| "\"sha256\", \"sha384\" or \"sha512\"".to_owned())?;
            Ok(())
        },
    },
    Key {
        name: "embed",
        places: &[Manifest, EmbedMacro],
        set: |config, value| {
            config.embed.profiles = match value {
                ConfigValue::String(name) if name == "release" => EmbedProfiles::Release,
                ConfigValue::String(name) if name == "always" => EmbedProfiles::Always,
                _ => {
                    return Err(
                        "\"release\" (debug builds read the static dirs) or \"always\" \
                                (every build carries the files)"
                            .to_owned(),
                    )
                }
            };
            Ok(())
        },
    },
    Key {
        name: "embed_include",
        places: &[Manifest, EmbedMacro],
        set: |config, value| {
            config.embed.include = globs(value)?;
            Ok(())
        },
    },
    Key {
        name: "embed_exclude",
        places: &[Manifest, EmbedMacro],
        set: |config, value| {
            config.embed.exclude = globs(value)?;
            Ok(())
        },
    },
    Key {
        name: "embed_max_bytes",
        places: &[Manifest, EmbedMacro],
        set: |config, value| match value {
            ConfigValue::Integer(bytes) if *bytes > 0 => {
                config.embed.max_bytes = u64::try_from(*bytes).unwrap_or(u64::MAX);
                Ok(())
            }
            _ => Err("a positive integer of bytes, such as 10485760 (10 MiB)".to_owned()),
        },
    },
    Key {
        name: "embed_hidden_files",
        places: &[Manifest, EmbedMacro],
        set: |config, value| match value {
            ConfigValue::Boolean(hidden) => {
                config.embed.hidden_files = *hidden;
                Ok(())
            }
            _ => Err("true or false".to_owned()),
        },
    },
    Key {
        name: "imports",
        places: &[Manifest],
        set: |config, value| {
            let expected = "a table of bare module specifiers and the static files (or absolute \
                            URLs) they name, such as { lit = \"vendor/lit.js\" }";
            let ConfigValue::StringTable(entries) = value else {
                return Err(expected.to_owned());
            };
            if let Some((specifier, target)) = entries
                .iter()
                .find(|(specifier, target)| !is_bare_specifier(specifier) || target.is_empty())
            {
                return Err(format!(
                    "{expected}; {specifier:?} = {target:?} is not one (a key is a bare \
                     specifier, not `./`, `/` or a URL; a value is not empty)"
                ));
            }
            config.imports = entries.iter().cloned().collect();
            Ok(())
        },
    },
];

/// True for a specifier an import map calls bare: not relative (`./`, `../`), not rooted
/// (`/`), not a URL.
#[must_use]
pub fn is_bare_specifier(specifier: &str) -> bool {
    !specifier.is_empty()
        && !specifier.starts_with("./")
        && !specifier.starts_with("../")
        && !specifier.starts_with('/')
        && !crate::rules::url::has_scheme(specifier)
}

/// The keys accepted at `place`, in table order.
#[must_use]
pub fn keys_accepted_at(place: OptionPlace) -> Vec<&'static str> {
    KEYS.iter()
        .filter(|key| key.places.contains(&place))
        .map(|key| key.name)
        .collect()
}

impl Config {
    /// Sets `key` to `value` after checking it; `place` decides which keys are accepted.
    ///
    /// # Errors
    /// [`Error::UnknownConfigKey`] for a key not accepted at `place` (with the closest one
    /// that is), [`Error::InvalidConfigValue`] for a value of the wrong type or out of range.
    pub fn apply(
        &mut self,
        key: &str,
        value: &ConfigValue,
        origin: &ConfigOrigin,
        place: OptionPlace,
    ) -> Result<()> {
        let Some(spec) = KEYS
            .iter()
            .find(|spec| spec.name == key && spec.places.contains(&place))
        else {
            let known = keys_accepted_at(place);
            return Err(Error::UnknownConfigKey {
                key: key.to_owned(),
                origin: origin.clone(),
                suggestion: crate::rules::suggest::closest(key, known.iter().copied()),
                known,
            });
        };
        (spec.set)(self, value).map_err(|expected| Error::InvalidConfigValue {
            key: key.to_owned(),
            origin: origin.clone(),
            expected,
            found: value.describe(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_imports_table_takes_bare_specifiers_and_non_empty_targets() {
        let table = |entries: &[(&str, &str)]| {
            ConfigValue::StringTable(
                entries
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                    .collect(),
            )
        };
        let apply = |value: &ConfigValue| {
            let mut config = Config::default();
            config
                .apply("imports", value, &ConfigOrigin::MacroArgument, Manifest)
                .map(|()| config.imports)
        };
        let good = table(&[
            ("lit", "vendor/lit.js"),
            ("@hotwired/stimulus", "vendor/stimulus.js"),
            ("preact", "https://esm.sh/preact@10"),
        ]);
        assert_eq!(apply(&good).unwrap().len(), 3);
        for bad in [
            table(&[("./lit", "vendor/lit.js")]),
            table(&[("/lit", "vendor/lit.js")]),
            table(&[("https://x/lit", "vendor/lit.js")]),
            table(&[("lit", "")]),
            table(&[("", "vendor/lit.js")]),
            ConfigValue::String("vendor/lit.js".into()),
            ConfigValue::Other("a table with non-string values".into()),
        ] {
            assert!(
                matches!(apply(&bad), Err(Error::InvalidConfigValue { ref key, .. }) if key == "imports"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn every_key_is_accepted_where_the_table_says_and_nowhere_else() {
        assert_eq!(
            keys_accepted_at(Manifest),
            [
                "static_url",
                "param",
                "tag_length",
                "static_dirs",
                "check_files",
                "mode",
                "tag_in",
                "hash_length",
                "embed",
                "embed_include",
                "embed_exclude",
                "embed_max_bytes",
                "embed_hidden_files",
                "imports"
            ]
        );
        assert_eq!(
            keys_accepted_at(StaticUrlMacro),
            [
                "static_url",
                "param",
                "tag_length",
                "check_files",
                "mode",
                "tag_in",
                "hash_length"
            ]
        );
        assert_eq!(keys_accepted_at(TagMacro), ["tag_length"]);
        assert_eq!(keys_accepted_at(IntegrityMacro), ["algorithm"]);
        assert_eq!(
            keys_accepted_at(EmbedMacro),
            [
                "embed",
                "embed_include",
                "embed_exclude",
                "embed_max_bytes",
                "embed_hidden_files"
            ]
        );
        let mut config = Config::default();
        let error = config
            .apply(
                "static_dirs",
                &ConfigValue::Strings(vec!["a".into()]),
                &ConfigOrigin::MacroArgument,
                StaticUrlMacro,
            )
            .unwrap_err();
        assert!(matches!(error, Error::UnknownConfigKey { .. }), "{error:?}");
    }

    #[test]
    fn values_are_checked_against_their_key() {
        // (key, value, what the message says was expected, or None if accepted)
        let cases: &[(&str, ConfigValue, Option<&str>)] = &[
            ("tag_length", ConfigValue::Integer(8), None),
            ("tag_length", ConfigValue::Integer(64), None),
            (
                "tag_length",
                ConfigValue::Integer(7),
                Some("an integer from 8 to 64"),
            ),
            (
                "tag_length",
                ConfigValue::Integer(65),
                Some("an integer from 8 to 64"),
            ),
            (
                "tag_length",
                ConfigValue::Integer(-1),
                Some("an integer from 8 to 64"),
            ),
            (
                "tag_length",
                ConfigValue::String("8".into()),
                Some("an integer from 8 to 64"),
            ),
            ("hash_length", ConfigValue::Integer(3), None),
            (
                "hash_length",
                ConfigValue::Integer(2),
                Some("an integer of at least 3"),
            ),
            ("mode", ConfigValue::String("content".into()), None),
            ("mode", ConfigValue::String("git".into()), Some("\"vcs\"")),
            ("tag_in", ConfigValue::String("name".into()), None),
            (
                "tag_in",
                ConfigValue::String("path".into()),
                Some("\"query\""),
            ),
            ("param", ConfigValue::String(String::new()), None),
            (
                "param",
                ConfigValue::String("a b".into()),
                Some("a query parameter name"),
            ),
            (
                "static_url",
                ConfigValue::String("/s/?x".into()),
                Some("a URL prefix"),
            ),
            (
                "static_url",
                ConfigValue::String(String::new()),
                Some("a URL prefix"),
            ),
            (
                "static_dirs",
                ConfigValue::Strings(Vec::new()),
                Some("a non-empty array"),
            ),
            (
                "check_files",
                ConfigValue::Integer(1),
                Some("true or false"),
            ),
        ];
        for (key, value, expected) in cases {
            let result =
                Config::default().apply(key, value, &ConfigOrigin::MacroArgument, Manifest);
            match expected {
                None => assert!(result.is_ok(), "{key} = {value:?}: {result:?}"),
                Some(expected) => {
                    let message = result.unwrap_err().to_string();
                    assert!(message.contains(expected), "{key} = {value:?}: {message}");
                    assert!(message.contains(&value.describe()), "{message}");
                }
            }
        }
        let mut config = Config::default();
        config
            .apply(
                "hash_length",
                &ConfigValue::Integer(64),
                &ConfigOrigin::MacroArgument,
                Manifest,
            )
            .unwrap();
        assert_eq!(config.hash_length, 40, "above 40 acts as 40");
    }
}
