//! The shared rules: what the macros (at compile time), the static file service and the
//! run-time URL API must agree on, written once.

pub mod cache_policy;
#[cfg(any(feature = "resolve", feature = "service"))]
pub mod compression;
pub mod css;
pub mod error;
#[cfg(any(feature = "resolve", feature = "service"))]
pub mod file_stamp;
#[cfg(feature = "resolve")]
pub mod glob;
#[cfg(any(feature = "resolve", feature = "service"))]
pub mod hash;
#[cfg(any(feature = "resolve", feature = "service"))]
pub mod revision_manifest;
pub mod settings;
#[cfg(any(feature = "resolve", feature = "service"))]
pub(crate) mod static_path;
#[cfg(any(feature = "resolve", feature = "service"))]
pub(crate) mod static_url;
#[cfg(any(feature = "resolve", feature = "service"))]
pub mod stylesheet;
#[cfg(any(feature = "resolve", feature = "service"))]
pub(crate) mod suggest;
#[cfg(any(feature = "resolve", feature = "service"))]
pub mod tagging;
pub mod url;
