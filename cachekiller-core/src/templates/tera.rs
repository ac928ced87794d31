//! `static(path="css/app.css")` and `integrity(path="js/app.js")` for Tera templates.
//!
//! ```ignore
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let mut templates = tera::Tera::new("templates/**/*.html")?;
//! cachekiller_core::templates::tera::register_asset_functions(&mut templates, &static_files);
//! // <link rel="stylesheet" href="{{ static(path='css/app.css') }}">
//! ```

use std::collections::HashMap;

use tera::{Function, Tera, Value};

use crate::rules::hash::DigestAlgorithm;
use crate::service::StaticFiles;

/// Registers `static(path=…)` (the URL `cdnstatic!` would give, marked safe: not escaped) and
/// `integrity(path=…, algorithm="sha384")` on `tera`. An unknown file is a render error
/// naming the path and the closest existing one (Tera adds the template).
pub fn register_asset_functions(tera: &mut Tera, static_files: &StaticFiles) {
    tera.register_function(
        "static",
        AssetFunction {
            static_files: static_files.clone(),
            integrity: false,
        },
    );
    tera.register_function(
        "integrity",
        AssetFunction {
            static_files: static_files.clone(),
            integrity: true,
        },
    );
}

struct AssetFunction {
    static_files: StaticFiles,
    integrity: bool,
}

impl Function for AssetFunction {
    fn call(&self, arguments: &HashMap<String, Value>) -> tera::Result<Value> {
        let name = if self.integrity {
            "integrity"
        } else {
            "static"
        };
        let path = arguments
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg(format!("{name}() takes path=\"…\", a string")))?;
        let value = if self.integrity {
            let algorithm = match arguments.get("algorithm").and_then(Value::as_str) {
                None => DigestAlgorithm::Sha384,
                Some(algorithm) => DigestAlgorithm::from_integrity_name(algorithm).ok_or_else(|| {
                    tera::Error::msg(format!(
                        "integrity(): unknown algorithm {algorithm:?}: expected \"sha256\", \"sha384\" or \"sha512\""
                    ))
                })?,
            };
            self.static_files.integrity(path, algorithm)
        } else {
            self.static_files.url(path)
        };
        value
            .map(Value::String)
            .map_err(|error| tera::Error::msg(error.to_string()))
    }

    fn is_safe(&self) -> bool {
        true
    }
}
