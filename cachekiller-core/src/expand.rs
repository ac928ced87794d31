//! What `cdnstatic!` and `cdntag!` expand to, as plain functions: the string, and what cargo
//! must watch so that the next build after a change expands them again.

use std::path::{Path, PathBuf};

use crate::config::{ConfigValue, STATIC_URL_OPTIONS, TAG_OPTIONS};
use crate::context::{cached_crate_context, CrateContext};
use crate::environment::STATIC_URL_VARIABLE;
use crate::error::{ConfigOrigin, Error, Result};
use crate::url::join_static_url;

/// An option written in a macro call after the path, such as `tag_length = 8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOption {
    /// The option's name.
    pub key: String,
    /// Its value as written.
    pub value: ConfigValue,
}

/// The result of one macro call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// The string the macro expands to.
    pub value: String,
    /// Files to track with `include_bytes!`: a change to any of them must rebuild the crate.
    pub tracked_files: Vec<PathBuf>,
    /// Environment variables to track with `option_env!`.
    pub tracked_environment: Vec<&'static str>,
}

impl Expansion {
    fn tracking(context: &CrateContext, value: String) -> Self {
        Expansion {
            value,
            tracked_files: context.tracked_files().map(Path::to_owned).collect(),
            tracked_environment: context.tag.tracked_environment.clone(),
        }
    }

    /// The tracked files as UTF-8 strings, as `include_bytes!` needs them.
    ///
    /// # Errors
    /// [`Error::NonUtf8Path`] for a path that is not valid UTF-8.
    pub fn tracked_file_strings(&self) -> Result<Vec<&str>> {
        self.tracked_files
            .iter()
            .map(|path| {
                path.to_str()
                    .ok_or_else(|| Error::NonUtf8Path { path: path.clone() })
            })
            .collect()
    }
}

/// Expands `cdnstatic!(path, options…)` in the given context.
///
/// # Errors
/// An empty path, an unknown option or an invalid option value.
pub fn expand_static_url_in(
    context: &CrateContext,
    path: &str,
    options: &[CallOption],
) -> Result<Expansion> {
    if path.is_empty() {
        return Err(Error::EmptyStaticPath);
    }
    let mut config = context.config.config.clone();
    for option in options {
        config.apply(
            &option.key,
            &option.value,
            &ConfigOrigin::MacroArgument,
            STATIC_URL_OPTIONS,
        )?;
    }
    let url = join_static_url(
        &config.static_url,
        path,
        &config.param,
        context.tag.cut(config.tag_length),
    );
    let mut expansion = Expansion::tracking(context, url);
    expansion.tracked_environment.push(STATIC_URL_VARIABLE);
    Ok(expansion)
}

/// Expands `cdntag!(options…)` in the given context.
///
/// # Errors
/// An unknown option or an invalid option value.
pub fn expand_tag_in(context: &CrateContext, options: &[CallOption]) -> Result<Expansion> {
    let mut config = context.config.config.clone();
    for option in options {
        config.apply(
            &option.key,
            &option.value,
            &ConfigOrigin::MacroArgument,
            TAG_OPTIONS,
        )?;
    }
    Ok(Expansion::tracking(
        context,
        context.tag.cut(config.tag_length).to_owned(),
    ))
}

/// Expands `cdnstatic!` for the crate at `manifest_dir`, through the per-process cache.
///
/// # Errors
/// Any error of resolving the crate's context or of [`expand_static_url_in`].
pub fn expand_static_url(
    manifest_dir: &Path,
    path: &str,
    options: &[CallOption],
) -> Result<Expansion> {
    expand_static_url_in(&*cached_crate_context(manifest_dir)?, path, options)
}

/// Expands `cdntag!` for the crate at `manifest_dir`, through the per-process cache.
///
/// # Errors
/// Any error of resolving the crate's context or of [`expand_tag_in`].
pub fn expand_tag(manifest_dir: &Path, options: &[CallOption]) -> Result<Expansion> {
    expand_tag_in(&*cached_crate_context(manifest_dir)?, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, LoadedConfig};
    use crate::tag::{ResolvedTag, TagSource};

    /// A context as the git lookup would make it; the revision here is an input, not an oracle.
    fn context(static_url: &str) -> CrateContext {
        CrateContext {
            config: LoadedConfig {
                config: Config {
                    static_url: static_url.into(),
                    ..Config::default()
                },
                manifest_files: vec![PathBuf::from("/w/Cargo.toml")],
            },
            tag: ResolvedTag {
                value: "89abcdef0123456789abcdef0123456789abcdef".into(),
                source: TagSource::Git {
                    repository_root: PathBuf::from("/w"),
                },
                tracked_files: vec![PathBuf::from("/w/.git/HEAD")],
                tracked_environment: vec!["CACHEKILLER_TAG"],
            },
        }
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
            plain.tracked_files,
            [
                PathBuf::from("/w/Cargo.toml"),
                PathBuf::from("/w/.git/HEAD")
            ]
        );
        assert_eq!(
            plain.tracked_environment,
            ["CACHEKILLER_TAG", "CACHEKILLER_STATIC_URL"]
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
        assert_eq!(error.to_string(), "unknown cachekiller option `param` in the macro arguments: expected one of `tag_length`");
        let error = expand_static_url_in(
            &context,
            "a.css",
            &[option("tag_length", ConfigValue::Integer(2))],
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid cachekiller `tag_length` in the macro arguments: expected an integer from 4 to 40, found the integer 2"
        );
    }
}
