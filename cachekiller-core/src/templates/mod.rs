//! The asset helpers of templates read at run time, on the run-time API of
//! [`crate::service::StaticFiles`] (`url`, `integrity`): a `static("css/app.css")` function
//! for each engine (one file each, behind the feature of its name: `minijinja.rs`, `tera.rs`,
//! `handlebars.rs`; another engine is a file like these), and `check_templates` (with an
//! engine's feature), the check a compile-time engine gets for free, for a unit test: each
//! engine's file also reads that engine's parse of a template for the check.

#[cfg(any(feature = "minijinja", feature = "tera", feature = "handlebars"))]
mod check;
#[cfg(feature = "handlebars")]
pub mod handlebars;
#[cfg(feature = "minijinja")]
pub mod minijinja;
#[cfg(feature = "tera")]
pub mod tera;

#[cfg(any(feature = "minijinja", feature = "tera", feature = "handlebars"))]
pub use check::{check_templates, MissingAsset};

/// The algorithm an `integrity` helper's second argument names (none: the default), or why
/// it names none: one message for every engine's helper and for the check.
#[cfg(any(feature = "minijinja", feature = "tera", feature = "handlebars"))]
fn integrity_algorithm(
    name: Option<&str>,
) -> Result<crate::rules::hash::IntegrityAlgorithm, String> {
    use crate::rules::hash::IntegrityAlgorithm;
    match name {
        None => Ok(IntegrityAlgorithm::default()),
        Some(name) => IntegrityAlgorithm::from_name(name).ok_or_else(|| {
            format!(
                "integrity: unknown algorithm {name:?}: expected \"sha256\", \"sha384\" or \"sha512\""
            )
        }),
    }
}
