//! `{{static "css/app.css"}}` and `{{integrity "js/app.js"}}` for Handlebars templates.
//!
//! ```ignore
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let mut templates = handlebars::Handlebars::new();
//! cachekiller_core::templates::handlebars::register_asset_helpers(&mut templates, &static_files);
//! // <link rel="stylesheet" href="{{static "css/app.css"}}">
//! ```

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};

use crate::rules::hash::DigestAlgorithm;
use crate::service::StaticFiles;

/// Registers `{{static "…"}}` (the URL `cdnstatic!` would give, written as it is: helpers'
/// output is not escaped) and `{{integrity "…" "sha384"}}` on `handlebars`. An unknown file
/// is a render error naming the path and the closest existing one (Handlebars adds the
/// template and line).
pub fn register_asset_helpers(handlebars: &mut Handlebars<'_>, static_files: &StaticFiles) {
    handlebars.register_helper(
        "static",
        Box::new(AssetHelper {
            static_files: static_files.clone(),
            integrity: false,
        }),
    );
    handlebars.register_helper(
        "integrity",
        Box::new(AssetHelper {
            static_files: static_files.clone(),
            integrity: true,
        }),
    );
}

struct AssetHelper {
    static_files: StaticFiles,
    integrity: bool,
}

impl HelperDef for AssetHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        helper: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = if self.integrity {
            "integrity"
        } else {
            "static"
        };
        let failed = |message: String| RenderError::from(RenderErrorReason::Other(message));
        let path = helper
            .param(0)
            .and_then(|parameter| parameter.value().as_str())
            .ok_or_else(|| failed(format!("{{{{{name} \"…\"}}}} takes a path, a string")))?;
        let value = if self.integrity {
            let algorithm = match helper.param(1).and_then(|parameter| parameter.value().as_str()) {
                None => DigestAlgorithm::Sha384,
                Some(algorithm) => DigestAlgorithm::from_integrity_name(algorithm).ok_or_else(|| {
                    failed(format!(
                        "integrity: unknown algorithm {algorithm:?}: expected \"sha256\", \"sha384\" or \"sha512\""
                    ))
                })?,
            };
            self.static_files.integrity(path, algorithm)
        } else {
            self.static_files.url(path)
        };
        let value = value.map_err(|error| failed(error.to_string()))?;
        out.write(&value)?;
        Ok(())
    }
}
