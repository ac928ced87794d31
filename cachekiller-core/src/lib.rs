//! # cachekiller-core
//!
//! The run-time half of cachekiller, and the library behind the `cdnstatic!`, `cdntag!`,
//! `cdnintegrity!` and `cdnsettings!` macros of `cachekiller-macros`.
//!
//! ## Serving the assets
//!
//! A server depends on this crate with the `service` feature (and without the default
//! features, which only the macros need) and mounts `service::StaticFiles`, built from
//! the settings the pages' URLs were made with:
//!
//! ```toml
//! [dependencies]
//! cachekiller-macros = "0.1"
//! cachekiller-core = { version = "0.1", default-features = false, features = ["service"] }
//! ```
//!
//! ```ignore
//! use cachekiller_core::service::StaticFiles;
//! use cachekiller_macros::cdnsettings;
//!
//! // In development the static files are beside Cargo.toml; in a deployment, wherever the
//! // deployment copied them. A missing directory is an error naming the path looked at.
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let app = axum::Router::new().nest_service("/static", static_files);
//! ```
//!
//! `StaticFiles` marks a response `immutable` only when the URL's tag names the bytes it
//! sends, opens each file once (confined to the static dirs), derives the `ETag` from the
//! bytes, compresses them once per version, and sends stylesheets with their references
//! tagged. See the `service` module (feature `service`) for the whole request path.
//!
//! ## The rest
//!
//! [`url::join_static_url`] makes the macros' URLs with a tag of your own,
//! [`cache_policy::query_tag`] and [`cache_policy::TagVerdict`] decide how long a static
//! response may be cached (for servers of their own), and [`css`] finds the URLs a stylesheet
//! references. The compile-time side (choosing the tag from `CACHEKILLER_TAG`, git, Mercurial,
//! `SOURCE_DATE_EPOCH` or a digest of the static files; content hashes; the configuration in
//! `Cargo.toml`) is the macros' support: public so that they can call it, hidden from the docs
//! and not covered by semantic versioning; the macros pin this crate exactly.
//!
//! Features: `resolve` (default) brings the compile-time side (toml, the hashers); `git2`
//! (default) reads git repositories with libgit2 instead of running `git`; `service` brings
//! the static file service. With `default-features = false` only [`url`], [`cache_policy`],
//! [`css`] and [`error`] remain, with no dependencies.
//!
//! ```
//! use cachekiller_core::url::join_static_url;
//!
//! let url = join_static_url("https://cdn.example.com/static/", "img/logo.svg#mark", "tag", "1f3a9c0d");
//! assert_eq!(url, "https://cdn.example.com/static/img/logo.svg?tag=1f3a9c0d#mark");
//! ```

// docs.rs: each item labelled with the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod cache_policy;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod config;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod context;
pub mod css;
#[doc(hidden)]
pub mod date;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod environment;
pub mod error;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod expand;
#[cfg(any(feature = "resolve", feature = "service"))]
#[doc(hidden)]
pub mod file_stamp;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod git;
#[cfg(any(feature = "resolve", feature = "service"))]
#[doc(hidden)]
pub mod hash;
#[doc(hidden)]
pub mod js_module_imports;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod manifest;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod mercurial;
#[cfg(feature = "resolve")]
mod per_crate;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod rebuild_marker;
#[cfg(feature = "service")]
pub mod service;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod static_digest;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod static_files;
#[cfg(any(feature = "resolve", feature = "service"))]
pub mod stylesheet;
#[cfg(any(feature = "resolve", feature = "service"))]
mod suggest;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod tag;
#[cfg(feature = "service")]
pub mod templates;
#[cfg(all(test, feature = "resolve"))]
mod test_support;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod tracking;
pub mod url;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod vcs;

pub use error::{ConfigOrigin, Error, Result};
