//! # cachekiller-core
//!
//! Everything behind the `cdnstatic!` and `cdntag!` macros of `cachekiller-macros`, as a plain
//! library: choosing the tag (`CACHEKILLER_TAG`, the git HEAD, the Mercurial working parent or
//! the build date), reading the configuration from `Cargo.toml`, and composing cache-busting
//! URLs such as `/static/app.css?tag=1f3a9c0d2b7e4a`.
//!
//! The macros call [`expand::expand_static_url`] and [`expand::expand_tag`]; a program that
//! wants the same URLs at run time can call [`url::join_static_url`] with a tag of its own, and
//! a server decides how long its static responses may be cached with
//! [`cache_policy::cache_control_for`].
//!
//! The default feature `resolve` brings the compile-time side (git2, toml, the hashers). With
//! `default-features = false` only [`url`], [`cache_policy`], [`date`] and [`error`] remain, with
//! no dependencies: what a server needs at run time.
//!
//! ```
//! use cachekiller_core::url::join_static_url;
//!
//! let url = join_static_url("https://cdn.example.com/static/", "img/logo.svg#mark", "tag", "1f3a9c0d");
//! assert_eq!(url, "https://cdn.example.com/static/img/logo.svg?tag=1f3a9c0d#mark");
//! ```

pub mod cache_policy;
#[cfg(feature = "resolve")]
pub mod config;
#[cfg(feature = "resolve")]
pub mod context;
pub mod date;
#[cfg(feature = "resolve")]
pub mod environment;
pub mod error;
#[cfg(feature = "resolve")]
pub mod expand;
#[cfg(feature = "resolve")]
pub mod file_stamp;
#[cfg(feature = "resolve")]
pub mod git;
#[cfg(feature = "resolve")]
pub mod hash;
#[cfg(feature = "resolve")]
pub mod manifest;
#[cfg(feature = "resolve")]
pub mod mercurial;
#[cfg(feature = "resolve")]
pub mod rebuild_marker;
#[cfg(feature = "resolve")]
pub mod static_files;
#[cfg(feature = "resolve")]
mod suggest;
#[cfg(feature = "resolve")]
pub mod tag;
#[cfg(all(test, feature = "resolve"))]
mod test_support;
#[cfg(feature = "resolve")]
pub mod tracking;
pub mod url;
#[cfg(feature = "resolve")]
pub mod vcs;

pub use error::{ConfigOrigin, Error, Result};
