//! `static("css/app.css")` and `integrity("js/app.js")` for `MiniJinja` templates.
//!
//! ```ignore
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let mut templates = minijinja::Environment::new();
//! cachekiller_core::templates::minijinja::add_asset_functions(&mut templates, static_files.clone());
//! // <link rel="stylesheet" href="{{ static('css/app.css') }}">
//! ```

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

use crate::rules::hash::DigestAlgorithm;
use crate::service::StaticFiles;

/// Adds `static(path)` (the URL `cdnstatic!` would give, a safe string: not escaped) and
/// `integrity(path, algorithm="sha384")` to `environment`. An unknown file is a render error
/// naming the template, the line, the path and the closest existing one.
pub fn add_asset_functions(environment: &mut Environment<'_>, static_files: StaticFiles) {
    let urls = static_files.clone();
    environment.add_function("static", move |path: &str| -> Result<Value, Error> {
        urls.url(path)
            .map(Value::from_safe_string)
            .map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))
    });
    environment.add_function(
        "integrity",
        move |path: &str, algorithm: Option<&str>| -> Result<Value, Error> {
            let algorithm = match algorithm {
                None => DigestAlgorithm::Sha384,
                Some(name) => DigestAlgorithm::from_integrity_name(name).ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("integrity(): unknown algorithm {name:?}: expected \"sha256\", \"sha384\" or \"sha512\""),
                    )
                })?,
            };
            static_files
                .integrity(path, algorithm)
                .map(Value::from_safe_string)
                .map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))
        },
    );
}
