//! What a module's specifier names, resolved as the browser resolves it.

use crate::resolve::config::{is_bare_specifier, Config};
use crate::resolve::static_files::static_file_relative_path;
use crate::rules::error::Error;
use crate::rules::static_url::{is_external, Reference, StaticUrl};

/// What a specifier names.
pub(super) enum Resolved {
    /// A static file, by its canonical static path, with the URL the browser resolves the
    /// specifier to (the import map's key) and the query and fragment written after the path.
    Static {
        path: String,
        browser_url: Option<String>,
        suffix: String,
    },
    /// An absolute URL the crate's table gives for a bare specifier.
    Url(String),
    /// A URL with a scheme, or a rooted path outside the static URL: not ours to map.
    NotOurs,
    /// A bare specifier the table lacks.
    UnknownBare,
    /// A relative specifier that leaves the static dirs or is malformed.
    Refused(Error),
}

/// Resolves `specifier`, written in the module at the static path `importer`, as the browser
/// resolves it against the module's URL (the URL of its canonical path below `static_url`:
/// the tagged URL the map sends it to is in the same directory), by the one rule of
/// `rules::static_url`.
pub(super) fn resolve_specifier(config: &Config, importer: &str, specifier: &str) -> Resolved {
    if is_bare_specifier(specifier) {
        return resolve_bare(config, specifier);
    }
    match StaticUrl::parse(&config.static_url).resolve(importer, specifier) {
        Reference::Static {
            relative,
            suffix,
            requested,
        } => Resolved::Static {
            path: relative,
            browser_url: Some(requested),
            suffix: suffix.to_owned(),
        },
        Reference::NotOurs => Resolved::NotOurs,
        Reference::Outside => Resolved::Refused(Error::StaticPathEscapes {
            path: specifier.to_owned(),
        }),
        Reference::Refused(error) => Resolved::Refused(error),
    }
}

/// Resolves a bare specifier through the crate's table: an exact key, else the longest key
/// ending with `/` that begins it (`"lit/" = "vendor/lit/"` maps `lit/directives/x.js`).
pub(super) fn resolve_bare(config: &Config, specifier: &str) -> Resolved {
    let target = config.imports.get(specifier).cloned().or_else(|| {
        config
            .imports
            .iter()
            .filter(|(key, _)| key.ends_with('/') && specifier.starts_with(key.as_str()))
            .max_by_key(|(key, _)| key.len())
            .map(|(key, target)| format!("{target}{}", &specifier[key.len()..]))
    });
    let Some(target) = target else {
        return Resolved::UnknownBare;
    };
    if is_external(&target) {
        return Resolved::Url(target);
    }
    match static_file_relative_path(&target) {
        Ok(Some(path)) => Resolved::Static {
            path: path.into_owned(),
            browser_url: None,
            suffix: String::new(),
        },
        Ok(None) => Resolved::Url(target),
        Err(error) => Resolved::Refused(error),
    }
}

/// The specifier a module at `importer` writes for the static path `target`: `./ui.js`,
/// `../lib/a.js`.
pub(super) fn specifier_for(importer: &str, target: &str) -> String {
    let from: Vec<&str> = importer.split('/').collect();
    let from = &from[..from.len() - 1];
    let to: Vec<&str> = target.split('/').collect();
    let common = from
        .iter()
        .zip(&to)
        .take_while(|(a, b)| a == b)
        .count()
        .min(to.len() - 1);
    let ups = from.len() - common;
    let rest = to[common..].join("/");
    if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    }
}
