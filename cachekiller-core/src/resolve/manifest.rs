//! Where a crate's settings are written: `[package.metadata.cachekiller]` of its `Cargo.toml`,
//! over `[workspace.metadata.cachekiller]` of its workspace root, key by key; then
//! `CACHEKILLER_STATIC_URL`. The workspace root is found as cargo finds it.

use std::path::{Component, Path, PathBuf};

use crate::resolve::config::{Config, ConfigValue, OptionPlace};
use crate::resolve::environment::{BuildEnvironment, STATIC_URL_VARIABLE};
use crate::rules::error::{ConfigOrigin, Error, Result};

/// A crate's configuration and the manifests it was read from (which must be tracked so that
/// an edit to them rebuilds the crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedConfig {
    /// The settings from the manifests and the environment.
    pub config: Config,
    /// The manifests read: the crate's own, and its workspace root's if it has one.
    pub manifest_files: Vec<PathBuf>,
    /// True if `CACHEKILLER_STATIC_URL` set `static_url`.
    pub static_url_from_environment: bool,
}

fn read_manifest(path: &Path) -> Result<toml::Table> {
    let unreadable = |reason: String| Error::ManifestUnreadable {
        path: path.to_owned(),
        reason,
    };
    std::fs::read_to_string(path)
        .map_err(|error| unreadable(error.to_string()))?
        .parse::<toml::Table>()
        .map_err(|error| unreadable(error.to_string().trim_end().to_owned()))
}

/// The `[<section>.metadata.cachekiller]` table of a manifest, if it has one.
fn cachekiller_table<'a>(
    manifest: &'a toml::Table,
    section: &str,
    origin: &ConfigOrigin,
) -> Result<Option<&'a toml::Table>> {
    let value = manifest
        .get(section)
        .and_then(|section| section.get("metadata"))
        .and_then(|metadata| metadata.get("cachekiller"));
    match value {
        None => Ok(None),
        Some(toml::Value::Table(table)) => Ok(Some(table)),
        Some(other) => Err(Error::InvalidConfigValue {
            key: format!("{section}.metadata.cachekiller"),
            origin: origin.clone(),
            expected: "a table of cachekiller settings".to_owned(),
            found: config_value(other).describe(),
        }),
    }
}

/// The workspace root manifest of the crate at `manifest_dir` with manifest `manifest`, found
/// as cargo finds it: the crate itself if it has `[workspace]`, the path in
/// `package.workspace`, else the nearest ancestor with `[workspace]` that does not exclude it.
fn find_workspace_manifest(
    manifest_dir: &Path,
    manifest: &toml::Table,
) -> Result<Option<(PathBuf, toml::Table)>> {
    if manifest.contains_key("workspace") {
        return Ok(None);
    }
    if let Some(root) = manifest
        .get("package")
        .and_then(|package| package.get("workspace"))
        .and_then(toml::Value::as_str)
    {
        let path = manifest_dir.join(root).join("Cargo.toml");
        let table = read_manifest(&path)?;
        return Ok(Some((path, table)));
    }
    for ancestor in manifest_dir.ancestors().skip(1) {
        let path = ancestor.join("Cargo.toml");
        if !path.is_file() {
            continue;
        }
        let table = read_manifest(&path)?;
        let Some(workspace) = table.get("workspace") else {
            continue;
        };
        let member = normalize_path(manifest_dir);
        let excluded = workspace
            .get("exclude")
            .and_then(toml::Value::as_array)
            .is_some_and(|excludes| {
                excludes
                    .iter()
                    .filter_map(toml::Value::as_str)
                    .any(|exclude| member.starts_with(normalize_path(&ancestor.join(exclude))))
            });
        return Ok(if excluded { None } else { Some((path, table)) });
    }
    Ok(None)
}

/// `path` with `.` components dropped and `..` applied to what precedes it, without reading
/// the file system: cargo's `normalize_path`, with which it compares workspace paths
/// (`exclude = ["./tools/gen"]` excludes `tools/gen`).
fn normalize_path(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normalized.pop();
            }
            other => normalized.push(other),
        }
    }
    normalized
}

fn apply_table(config: &mut Config, table: &toml::Table, origin: &ConfigOrigin) -> Result<()> {
    for (key, value) in table {
        config.apply(key, &config_value(value), origin, OptionPlace::Manifest)?;
    }
    Ok(())
}

/// A TOML value as a [`ConfigValue`], to be checked against its key.
fn config_value(value: &toml::Value) -> ConfigValue {
    match value {
        toml::Value::String(text) => ConfigValue::String(text.clone()),
        toml::Value::Integer(number) => ConfigValue::Integer(*number),
        toml::Value::Boolean(boolean) => ConfigValue::Boolean(*boolean),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map_or_else(
                || ConfigValue::Other("an array with non-string items".to_owned()),
                ConfigValue::Strings,
            ),
        toml::Value::Table(table) => table
            .iter()
            .map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
            .collect::<Option<Vec<_>>>()
            .map_or_else(
                || ConfigValue::Other("a table with non-string values".to_owned()),
                ConfigValue::StringTable,
            ),
        other => ConfigValue::Other(format!("a TOML {}", other.type_str())),
    }
}

/// Loads the configuration of the crate whose manifest dir is `manifest_dir`.
///
/// # Errors
/// A manifest that cannot be read or parsed, an unknown key, or a value of the wrong type or
/// out of range, named with the key and the manifest file; an invalid `CACHEKILLER_STATIC_URL`.
pub fn load_config(manifest_dir: &Path, environment: &BuildEnvironment) -> Result<LoadedConfig> {
    let manifest_path = manifest_dir.join("Cargo.toml");
    let manifest = read_manifest(&manifest_path)?;
    let mut config = Config::default();
    let mut manifest_files = vec![manifest_path.clone()];

    // The workspace's table applies first: another root's, or the crate's own when it is
    // its own workspace root.
    let other_root = find_workspace_manifest(manifest_dir, &manifest)?;
    let workspace = match &other_root {
        Some((path, table)) => Some((path, table)),
        None if manifest.contains_key("workspace") => Some((&manifest_path, &manifest)),
        None => None,
    };
    if let Some((workspace_path, workspace_manifest)) = workspace {
        let origin = ConfigOrigin::Manifest {
            path: workspace_path.clone(),
            table: "workspace.metadata.cachekiller",
        };
        if let Some(table) = cachekiller_table(workspace_manifest, "workspace", &origin)? {
            apply_table(&mut config, table, &origin)?;
        }
    }
    if let Some((workspace_path, _)) = &other_root {
        manifest_files.push(workspace_path.clone());
    }

    let origin = ConfigOrigin::Manifest {
        path: manifest_path,
        table: "package.metadata.cachekiller",
    };
    if let Some(table) = cachekiller_table(&manifest, "package", &origin)? {
        apply_table(&mut config, table, &origin)?;
    }

    if let Some(static_url) = &environment.static_url {
        config.apply(
            "static_url",
            &ConfigValue::String(static_url.clone()),
            &ConfigOrigin::EnvironmentVariable(STATIC_URL_VARIABLE),
            OptionPlace::Manifest,
        )?;
    }
    Ok(LoadedConfig {
        config,
        manifest_files,
        static_url_from_environment: environment.static_url.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::config::{TagIn, TagMode};
    use crate::rules::hash::IntegrityAlgorithm;
    use std::fs;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    const PACKAGE: &str = "[package]\nname = \"web\"\nversion = \"0.1.0\"\n";

    #[test]
    fn defaults_without_metadata() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("Cargo.toml"), PACKAGE);
        let loaded = load_config(dir.path(), &BuildEnvironment::default()).unwrap();
        assert_eq!(
            loaded.config,
            Config {
                static_url: "/static/".into(),
                param: "tag".into(),
                tag_length: 14,
                static_dirs: vec!["static".into()],
                check_files: true,
                mode: TagMode::Vcs,
                tag_in: TagIn::Query,
                hash_length: 6,
                algorithm: IntegrityAlgorithm::default(),
                imports: std::collections::BTreeMap::new(),
                embed: crate::resolve::config::EmbedConfig::default(),
            }
        );
        assert_eq!(loaded.manifest_files, [dir.path().join("Cargo.toml")]);
    }

    #[test]
    fn package_keys_override_workspace_keys_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.metadata.cachekiller]\n\
             static_url = \"https://cdn.example.com/assets/\"\ntag_length = 8\n",
        );
        let web = dir.path().join("crates/web");
        write(
            &web.join("Cargo.toml"),
            &format!("{PACKAGE}\n[package.metadata.cachekiller]\nparam = \"v\"\ntag_length = 10\n"),
        );
        let mail = dir.path().join("crates/mail");
        write(&mail.join("Cargo.toml"), PACKAGE);

        let web_config = load_config(&web, &BuildEnvironment::default()).unwrap();
        assert_eq!(
            web_config.config,
            Config {
                static_url: "https://cdn.example.com/assets/".into(),
                param: "v".into(),
                tag_length: 10,
                ..Config::default()
            }
        );
        assert_eq!(
            web_config.manifest_files,
            [web.join("Cargo.toml"), dir.path().join("Cargo.toml")]
        );
        let mail_config = load_config(&mail, &BuildEnvironment::default()).unwrap();
        assert_eq!(mail_config.config.param, "tag");
        assert_eq!(mail_config.config.tag_length, 8);
    }

    #[test]
    fn an_excluded_crate_ignores_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("Cargo.toml"),
            "[workspace]\nexclude = [\"fixtures\"]\n[workspace.metadata.cachekiller]\nparam = \"w\"\n",
        );
        let fixture = dir.path().join("fixtures/site");
        write(&fixture.join("Cargo.toml"), PACKAGE);
        assert_eq!(
            load_config(&fixture, &BuildEnvironment::default())
                .unwrap()
                .config
                .param,
            "tag"
        );
    }

    /// cargo joins an `exclude` path to the workspace root and normalises it (`.` dropped,
    /// `..` applied) before comparing whole components with the member's path.
    #[test]
    fn excluded_paths_are_normalised_as_cargo_does() {
        for (exclude, excluded) in [
            ("fixtures", true),
            ("./fixtures", true),
            ("fixtures/", true),
            ("./fixtures/./site", true),
            ("other/../fixtures", true),
            ("fixtures/site", true),
            ("fixture", false),
            ("./fixtures/site2", false),
        ] {
            let dir = tempfile::tempdir().unwrap();
            write(
                &dir.path().join("Cargo.toml"),
                &format!(
                    "[workspace]\nexclude = [\"{exclude}\"]\n\
                     [workspace.metadata.cachekiller]\nparam = \"w\"\n"
                ),
            );
            let fixture = dir.path().join("fixtures/site");
            write(&fixture.join("Cargo.toml"), PACKAGE);
            let param = load_config(&fixture, &BuildEnvironment::default())
                .unwrap()
                .config
                .param;
            let expected = if excluded { "tag" } else { "w" };
            assert_eq!(param, expected, "exclude = [{exclude:?}]");
        }
    }

    #[test]
    fn content_mode_settings() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("Cargo.toml"),
            &format!(
                "{PACKAGE}[package.metadata.cachekiller]\nmode = \"content\"\nhash_length = 64\n\
                      static_dirs = [\"assets\", \"vendor\"]\ncheck_files = false\nparam = \"\"\n"
            ),
        );
        let config = load_config(dir.path(), &BuildEnvironment::default())
            .unwrap()
            .config;
        assert_eq!(config.mode, TagMode::Content);
        assert_eq!(config.hash_length, 40, "above 40 acts as 40");
        assert_eq!(config.static_dirs, ["assets", "vendor"]);
        assert!(!config.check_files);
        assert_eq!(config.param, "");
    }

    #[test]
    fn the_environment_overrides_the_manifest_static_url() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("Cargo.toml"),
            &format!("{PACKAGE}[package.metadata.cachekiller]\nstatic_url = \"/assets/\"\n"),
        );
        let environment = BuildEnvironment {
            static_url: Some("https://cdn.example.net/s/".into()),
            ..BuildEnvironment::default()
        };
        assert_eq!(
            load_config(dir.path(), &environment)
                .unwrap()
                .config
                .static_url,
            "https://cdn.example.net/s/"
        );
        let bad = BuildEnvironment {
            static_url: Some("/static/ x".into()),
            ..BuildEnvironment::default()
        };
        let error = load_config(dir.path(), &bad).unwrap_err();
        assert_eq!(
            error.to_string().split(':').next().unwrap(),
            "invalid cachekiller `static_url` in $CACHEKILLER_STATIC_URL"
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_manifest() {
        // (metadata lines, expected message after "… of <manifest>: ")
        let cases: &[(&str, &str, &str)] = &[
            (
                "tag_length = 3",
                "tag_length",
                "expected an integer from 8 to 64, found the integer 3",
            ),
            (
                "tag_length = 65",
                "tag_length",
                "expected an integer from 8 to 64, found the integer 65",
            ),
            (
                "tag_length = \"8\"",
                "tag_length",
                "expected an integer from 8 to 64, found the string \"8\"",
            ),
            (
                "param = 1",
                "param",
                "expected a query parameter name string",
            ),
            (
                "param = \"a b\"",
                "param",
                "expected a query parameter name string",
            ),
            (
                "static_url = true",
                "static_url",
                "expected a URL prefix string",
            ),
            (
                "static_url = \"/s/?x\"",
                "static_url",
                "expected a URL prefix string",
            ),
            (
                "static_url = \"\"",
                "static_url",
                "expected a URL prefix string",
            ),
        ];
        for &(line, key, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let manifest = dir.path().join("Cargo.toml");
            write(
                &manifest,
                &format!("{PACKAGE}[package.metadata.cachekiller]\n{line}\n"),
            );
            let message = load_config(dir.path(), &BuildEnvironment::default())
                .unwrap_err()
                .to_string();
            let prefix = format!(
                "invalid cachekiller `{key}` in [package.metadata.cachekiller] of {}: ",
                manifest.display()
            );
            assert!(message.starts_with(&prefix), "{line}: {message}");
            assert!(
                message[prefix.len()..].starts_with(expected),
                "{line}: {message}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_broken_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        write(
            &manifest,
            &format!("{PACKAGE}[package.metadata.cachekiller]\nstatic-url = \"/s/\"\n"),
        );
        assert_eq!(
            load_config(dir.path(), &BuildEnvironment::default())
                .unwrap_err()
                .to_string(),
            format!(
                "unknown cachekiller option `static-url` in [package.metadata.cachekiller] of {}: \
                 did you mean `static_url`? (expected one of `static_url`, `param`, `tag_length`, \
                 `static_dirs`, `check_files`, `mode`, `tag_in`, `hash_length`, `embed`, `embed_include`, `embed_exclude`, `embed_max_bytes`, `embed_hidden_files`, `imports`)",
                manifest.display()
            )
        );
        write(
            &manifest,
            &format!("{PACKAGE}[package.metadata]\ncachekiller = 3\n"),
        );
        assert!(load_config(dir.path(), &BuildEnvironment::default())
            .unwrap_err()
            .to_string()
            .contains("`package.metadata.cachekiller`"));
        write(&manifest, "[package\n");
        assert!(matches!(
            load_config(dir.path(), &BuildEnvironment::default()),
            Err(Error::ManifestUnreadable { .. })
        ));
    }
}
