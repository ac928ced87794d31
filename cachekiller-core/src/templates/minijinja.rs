//! `static("css/app.css")` and `integrity("js/app.js")` for `MiniJinja` templates.
//!
//! ```ignore
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let mut templates = minijinja::Environment::new();
//! cachekiller_core::templates::minijinja::add_asset_functions(&mut templates, static_files.clone());
//! // <link rel="stylesheet" href="{{ static('css/app.css') }}">
//! ```

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

use crate::rules::hash::DigestAlgorithm;
use crate::service::StaticFiles;

/// Adds `static(path)` (the URL `cdnstatic!` would give, a safe string: not escaped) and
/// `integrity(path, algorithm="sha384")` to `environment`. An unknown file is a render error
/// naming the template, the line, the path and the closest existing one.
pub fn add_asset_functions(environment: &mut Environment<'_>, static_files: StaticFiles) {
    let urls = static_files.clone();
    // The template's values, kept as long as the service keeps the URLs (a `Value` clone is a
    // reference count, where a new safe string from `url()` would be two allocations).
    let values: Mutex<HashMap<String, (Value, Instant)>> = Mutex::default();
    environment.add_function("static", move |path: &str| -> Result<Value, Error> {
        let mut values = values.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((value, made_at)) = values.get(path) {
            if made_at.elapsed() < crate::service::URL_LIFETIME {
                return Ok(value.clone());
            }
        }
        // Made now, past the service's memo: this one is the only one on the way.
        let value = urls
            .make_url(path)
            .map(Value::from_safe_string)
            .map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))?;
        if values.len() >= crate::service::MEMO_ENTRIES {
            values.clear();
        }
        values.insert(path.to_owned(), (value.clone(), Instant::now()));
        Ok(value)
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
