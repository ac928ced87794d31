//! What Askama and Maud users get from the compiler, for templates read at run time: every
//! literal `static("…")` and `integrity("…")` call in a template directory checked against
//! the static files, with the template and line of each miss. Meant for a unit test of the
//! application, so that a typo fails `cargo test` rather than a page in production.
//!
//! The calls are found by the engines' own parsers, not by a pattern over the text: what the
//! engine will call is what its parse holds, wherever the call stands (in a filter, a
//! condition, a loop, a macro, a subexpression, a partial's hash), however it is spaced, with
//! its path as the engine reads it (escapes resolved). Each engine's walk is in the engine's
//! own file, behind its feature: [`super::minijinja`], [`super::tera`], [`super::handlebars`].

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::service::StaticFiles;

/// A literal asset call in a template whose file the static files do not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingAsset {
    /// The template file, as reached below the template directory (through any symbolic
    /// link: the name an engine loads it by).
    pub template: PathBuf,
    /// The line of the call's path, from 1 (Handlebars: of the `{{` that holds the call).
    pub line: usize,
    /// The path as the engine reads it: its escapes resolved, not yet percent-decoded.
    pub path: String,
    /// Why it has no URL (not found, with the closest existing path; leaves the static dirs;
    /// an unknown integrity algorithm).
    pub reason: String,
}

impl fmt::Display for MissingAsset {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}: static({:?}): {}",
            self.template.display(),
            self.line,
            self.path,
            self.reason
        )
    }
}

/// A call of an asset helper with a literal path, as an engine's parse holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct AssetCall {
    /// The line of its path, from 1.
    pub(super) line: usize,
    pub(super) path: String,
    pub(super) kind: AssetKind,
}

/// Which helper a call makes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum AssetKind {
    /// `static`: the URL.
    Url,
    /// `integrity`, with its algorithm when the call names one by a literal (the default,
    /// SHA-384, otherwise: a computed one is not known here).
    Integrity { algorithm: Option<String> },
}

impl AssetKind {
    /// The helper named `name`, if it is one of ours.
    pub(super) fn named(name: &str, algorithm: impl FnOnce() -> Option<String>) -> Option<Self> {
        match name {
            "static" => Some(AssetKind::Url),
            "integrity" => Some(AssetKind::Integrity {
                algorithm: algorithm(),
            }),
            _ => None,
        }
    }
}

/// A template engine whose templates the check reads.
struct Engine {
    name: &'static str,
    /// The file extensions that name this engine's templates and no other's.
    extensions: &'static [&'static str],
    /// The literal asset calls of a template, or the engine's parse error.
    asset_calls: fn(&str) -> Result<Vec<AssetCall>, String>,
}

/// The engines whose feature is on.
const ENGINES: &[Engine] = &[
    #[cfg(feature = "minijinja")]
    Engine {
        name: "MiniJinja",
        extensions: MINIJINJA_EXTENSIONS,
        asset_calls: super::minijinja::asset_calls,
    },
    #[cfg(feature = "tera")]
    Engine {
        name: "Tera",
        extensions: TERA_EXTENSIONS,
        asset_calls: super::tera::asset_calls,
    },
    #[cfg(feature = "handlebars")]
    Engine {
        name: "Handlebars",
        extensions: HANDLEBARS_EXTENSIONS,
        asset_calls: super::handlebars::asset_calls,
    },
];

const MINIJINJA_EXTENSIONS: &[&str] = &["j2", "jinja", "jinja2"];
const TERA_EXTENSIONS: &[&str] = &["tera"];
const HANDLEBARS_EXTENSIONS: &[&str] = &["hbs", "handlebars"];

/// Checks every file below `templates` for literal asset calls whose file `static_files`
/// cannot give a URL (or integrity) for, as the helpers of this crate's template modules
/// would at render: `MiniJinja`'s `static('…')` and `integrity('…', '…')`, Tera's
/// `static(path='…')` and `integrity(path='…', algorithm='…')`, Handlebars' `{{static "…"}}`
/// and `{{integrity "…" "…"}}`. A path with `%` is checked as the helpers take it:
/// [`StaticFiles::url`] decodes it. Calls with a computed path are not checked.
///
/// Which engine a file belongs to: the engine its extension names (`.j2`, `.jinja`,
/// `.jinja2` for `MiniJinja`; `.tera` for Tera; `.hbs`, `.handlebars` for Handlebars), if
/// that engine's feature is on (a file of an engine whose feature is off is not read);
/// otherwise (`.html`, `.txt`, …) every engine whose feature is on and whose parser accepts
/// the file, each reporting the calls in its own form only (a Tera call is no `MiniJinja`
/// call: `MiniJinja` would read `static(path='…')` too, with a keyword argument). A file that
/// no such engine parses fails the check, as it would fail at render. Files that are not
/// UTF-8 are no templates and are skipped; symbolic links are followed (a link back to a
/// directory being walked is not walked again).
///
/// `MiniJinja`'s templates are parsed with its default syntax (`{{ }}`, `{% %}`, `{# #}`).
/// Tera's parse has no positions: a call's line is that of its path's literal in the tags of
/// the template, in the order of the parse.
///
/// ```ignore
/// #[test]
/// fn every_asset_a_template_names_exists() {
///     let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!()).unwrap();
///     let templates = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
///     let missing = cachekiller_core::templates::check_templates(templates.as_ref(), &static_files).unwrap();
///     assert!(missing.is_empty(), "{}", missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
/// }
/// ```
///
/// # Errors
/// Any error reading the template directory or a template, and a template that none of the
/// engines it may belong to parses ([`io::ErrorKind::InvalidData`], with their messages).
pub fn check_templates(
    templates: &Path,
    static_files: &StaticFiles,
) -> io::Result<Vec<MissingAsset>> {
    let mut missing = Vec::new();
    for template in template_files(templates)? {
        let text = match std::fs::read_to_string(&template) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::InvalidData => continue,
            Err(error) => return Err(error),
        };
        for call in asset_calls(&template, &text)? {
            if let Some(reason) = failure(&call, static_files) {
                missing.push(MissingAsset {
                    template: template.clone(),
                    line: call.line,
                    path: call.path,
                    reason,
                });
            }
        }
    }
    Ok(missing)
}

/// Why the helper would fail on `call`, if it would.
fn failure(call: &AssetCall, static_files: &StaticFiles) -> Option<String> {
    let result = match &call.kind {
        AssetKind::Url => static_files.url(&call.path).map(drop),
        AssetKind::Integrity { algorithm } => {
            let algorithm = match super::integrity_algorithm(algorithm.as_deref()) {
                Ok(algorithm) => algorithm,
                Err(message) => return Some(message),
            };
            static_files.integrity(&call.path, algorithm).map(drop)
        }
    };
    result.err().map(|error| error.to_string())
}

/// The engines the template file `template` may belong to (see [`check_templates`]).
fn engines_of(template: &Path) -> Vec<&'static Engine> {
    let extension = template
        .extension()
        .and_then(OsStr::to_str)
        .unwrap_or_default();
    let named_by_extension = |extensions: &[&str]| extensions.contains(&extension);
    let names_an_engine = [MINIJINJA_EXTENSIONS, TERA_EXTENSIONS, HANDLEBARS_EXTENSIONS]
        .into_iter()
        .any(named_by_extension);
    ENGINES
        .iter()
        .filter(|engine| !names_an_engine || named_by_extension(engine.extensions))
        .collect()
}

/// The literal asset calls of the template file `template`, whose text is `text`, by the
/// engines it may belong to, each once, in the order of lines.
fn asset_calls(template: &Path, text: &str) -> io::Result<Vec<AssetCall>> {
    let engines = engines_of(template);
    let mut calls = BTreeSet::new();
    let mut parse_errors = Vec::new();
    for engine in &engines {
        match (engine.asset_calls)(text) {
            Ok(found) => calls.extend(found),
            Err(error) => parse_errors.push(format!("{}: {error}", engine.name)),
        }
    }
    if !engines.is_empty() && parse_errors.len() == engines.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: no template engine parses it, so none can render it:\n{}",
                template.display(),
                parse_errors.join("\n")
            ),
        ));
    }
    Ok(calls.into_iter().collect())
}

/// Every file below `root`, through symbolic links, sorted. Depth first with a stack of
/// directories, each with the real paths of the directories it was reached through, so that
/// a link back to one of them (a loop) is not followed; a link to a directory elsewhere is
/// walked under the link's name, which is the name an engine's loader uses. Dangling links,
/// FIFOs and devices are no templates.
fn template_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut directories = vec![(root.to_path_buf(), vec![std::fs::canonicalize(root)?])];
    while let Some((directory, ancestors)) = directories.pop() {
        for entry in std::fs::read_dir(&directory)? {
            let path = entry?.path();
            let Ok(metadata) = std::fs::metadata(&path) else {
                continue;
            };
            if metadata.is_dir() {
                let real = std::fs::canonicalize(&path)?;
                if !ancestors.contains(&real) {
                    let mut ancestors = ancestors.clone();
                    ancestors.push(real);
                    directories.push((path, ancestors));
                }
            } else if metadata.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(all(test, feature = "minijinja", feature = "tera", feature = "handlebars"))]
mod tests {
    use super::*;

    fn engines(file: &str) -> Vec<&'static str> {
        engines_of(Path::new(file))
            .iter()
            .map(|engine| engine.name)
            .collect()
    }

    /// The call as a line, the path, and the helper.
    fn found(file: &str, text: &str) -> Vec<(usize, String, AssetKind)> {
        asset_calls(Path::new(file), text)
            .unwrap()
            .into_iter()
            .map(|call| (call.line, call.path, call.kind))
            .collect()
    }

    /// A template of each engine, in a file whose extension names none: each engine that
    /// parses it reports the calls in its own form.
    #[test]
    fn each_engine_reports_its_own_calls() {
        use AssetKind::{Integrity, Url};
        let minijinja = "<link href=\"{{ static('css/app.css') }}\">\n\
                         <script integrity=\"{{ integrity('js/app.js', 'sha512') }}\"></script>";
        let tera = "{% extends \"base.html\" %}\n{{ static(path=\"img/tera.svg\") }}\n\
                    {{ integrity(path='js/app.js') }}";
        let handlebars = "{{#if ok}}\n  {{static \"img/handlebars.svg\"}}\n{{/if}}";
        let algorithm = |name: &str| Integrity {
            algorithm: Some(name.to_owned()),
        };
        assert_eq!(
            found("page.html", minijinja),
            [
                (1, "css/app.css".to_owned(), Url),
                (2, "js/app.js".to_owned(), algorithm("sha512")),
            ]
        );
        assert_eq!(
            found("page.html", tera),
            [
                (2, "img/tera.svg".to_owned(), Url),
                (3, "js/app.js".to_owned(), Integrity { algorithm: None }),
            ]
        );
        assert_eq!(
            found("page.html", handlebars),
            [(2, "img/handlebars.svg".to_owned(), Url)]
        );
    }

    #[test]
    fn the_extension_names_the_engine_else_every_engine_may_read_the_file() {
        assert_eq!(engines("page.j2"), ["MiniJinja"]);
        assert_eq!(engines("page.jinja2"), ["MiniJinja"]);
        assert_eq!(engines("page.tera"), ["Tera"]);
        assert_eq!(engines("page.hbs"), ["Handlebars"]);
        assert_eq!(engines("page.html"), ["MiniJinja", "Tera", "Handlebars"]);
        assert_eq!(engines("README"), ["MiniJinja", "Tera", "Handlebars"]);
        // `.j2`: MiniJinja's only, so Tera's form is not read there, nor a parse error of
        // another engine reported.
        assert_eq!(found("page.j2", "{{ static(path='x.css') }}"), []);
        // Handlebars' syntax in a MiniJinja file: MiniJinja's error, not Handlebars' call.
        let error = asset_calls(Path::new("page.j2"), "{{static \"x.css\"}}").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("MiniJinja: "), "{error}");
    }

    #[test]
    fn a_template_no_engine_parses_is_an_error_naming_each_engine() {
        let error =
            asset_calls(Path::new("broken.html"), "{{ static('a.css') }\n{% if %}").unwrap_err();
        let message = error.to_string();
        for engine in ["broken.html", "MiniJinja: ", "Tera: ", "Handlebars: "] {
            assert!(message.contains(engine), "{engine}: {message}");
        }
    }
}
