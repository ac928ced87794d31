//! What Askama and Maud users get from the compiler, for templates read at run time: every
//! literal `static("…")` and `integrity("…")` call in a template directory checked against
//! the static files, with the template and line of each miss. Meant for a unit test of the
//! application, so that a typo fails `cargo test` rather than a page in production.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::rules::hash::DigestAlgorithm;
use crate::service::StaticFiles;

/// A literal asset call in a template whose file the static files do not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingAsset {
    /// The template file.
    pub template: PathBuf,
    /// The line of the call, from 1.
    pub line: usize,
    /// The path as written in the call.
    pub path: String,
    /// Why it has no URL (not found, with the closest existing path; leaves the static dirs).
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

/// Checks every file below `templates` for literal asset calls (`static("…")`,
/// `integrity("…")`, Tera's `static(path="…")`, Handlebars' `{{static "…"}}`) whose file
/// `static_files` cannot give a URL for. Calls with a computed argument are not checked.
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
/// Any error reading the template directory or a template.
pub fn check_templates(
    templates: &Path,
    static_files: &StaticFiles,
) -> std::io::Result<Vec<MissingAsset>> {
    let mut files = Vec::new();
    list_files(templates, &mut files)?;
    files.sort();
    let mut missing = Vec::new();
    for template in files {
        let Ok(text) = std::fs::read_to_string(&template) else {
            continue;
        };
        for call in asset_calls(&text) {
            let result = match call.function {
                "integrity" => static_files
                    .integrity(&call.path, DigestAlgorithm::Sha384)
                    .map(drop),
                _ => static_files.url(&call.path).map(drop),
            };
            if let Err(error) = result {
                missing.push(MissingAsset {
                    template: template.clone(),
                    line: call.line,
                    path: call.path,
                    reason: error.to_string(),
                });
            }
        }
    }
    Ok(missing)
}

fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            list_files(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// A literal asset call found in a template.
#[derive(Debug, PartialEq, Eq)]
struct AssetCall {
    function: &'static str,
    path: String,
    line: usize,
}

/// The literal asset calls of `text`: a function name not preceded by a name character,
/// then `(` and an optional `path=` (Tera), or, for Handlebars, a space; then a quoted string.
fn asset_calls(text: &str) -> Vec<AssetCall> {
    let bytes = text.as_bytes();
    let mut calls = Vec::new();
    for function in ["static", "integrity"] {
        let mut from = 0;
        while let Some(found) = text[from..].find(function) {
            let start = from + found;
            from = start + function.len();
            let preceded_by_name = start > 0
                && (bytes[start - 1].is_ascii_alphanumeric()
                    || matches!(bytes[start - 1], b'_' | b'.'));
            if preceded_by_name {
                continue;
            }
            let mut at = from;
            let skip_spaces = |mut at: usize| {
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                at
            };
            match bytes.get(at) {
                Some(b'(') => {
                    at = skip_spaces(at + 1);
                    if text[at..].starts_with("path") {
                        let after = skip_spaces(at + 4);
                        if bytes.get(after) == Some(&b'=') {
                            at = skip_spaces(after + 1);
                        }
                    }
                }
                // Handlebars: `{{static "css/app.css"}}`.
                Some(b' ') if text[..start].trim_end().ends_with("{{") => at = skip_spaces(at),
                _ => continue,
            }
            let Some(&quote @ (b'"' | b'\'')) = bytes.get(at) else {
                continue;
            };
            let Some(length) = text[at + 1..].find(char::from(quote)) else {
                continue;
            };
            let path = &text[at + 1..at + 1 + length];
            if path.contains(['\n', '{', '%']) {
                continue;
            }
            calls.push(AssetCall {
                function,
                path: path.to_owned(),
                line: text[..start].matches('\n').count() + 1,
            });
        }
    }
    calls.sort_by_key(|call| call.line);
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_calls_of_every_engine_are_found_with_their_line() {
        let template = "<link href=\"{{ static(\"css/app.css\") }}\">\n\
                        <script src=\"{{ static( 'js/app.js' ) }}\" integrity=\"{{ integrity(\"js/app.js\") }}\"></script>\n\
                        {{ static(path=\"img/tera.svg\") }} {{static \"img/handlebars.svg\"}}\n\
                        {{ static(name) }} {{ mystatic(\"no.css\") }} {{ x.static(\"no.css\") }} static text\n";
        let found: Vec<(&str, &str, usize)> = asset_calls(template)
            .iter()
            .map(|call| (call.function, call.path.as_str(), call.line))
            .map(|(function, path, line)| (function, &*path.to_owned().leak(), line))
            .collect();
        assert_eq!(
            found,
            vec![
                ("static", "css/app.css", 1),
                ("static", "js/app.js", 2),
                ("integrity", "js/app.js", 2),
                ("static", "img/tera.svg", 3),
                ("static", "img/handlebars.svg", 3),
            ]
        );
    }
}
