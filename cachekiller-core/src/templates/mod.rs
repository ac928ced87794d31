//! The asset helpers of templates read at run time, on the run-time API of
//! [`crate::service::StaticFiles`] (`url`, `integrity`): a `static("css/app.css")` function
//! for each engine (one file each: `minijinja.rs`, feature `minijinja`), and
//! [`check_templates`], the check a compile-time engine gets for free, for a unit test.

mod check;
#[cfg(feature = "minijinja")]
pub mod minijinja;

pub use check::{check_templates, MissingAsset};
