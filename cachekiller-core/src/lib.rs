//! # cachekiller-core
//!
//! Everything behind the `cdnstatic!`, `cdntag!` and `cdnintegrity!` macros of
//! `cachekiller-macros`, as a plain library: choosing the tag (`CACHEKILLER_TAG`, the git HEAD,
//! the Mercurial working parent, `SOURCE_DATE_EPOCH` or a digest of the static files), content
//! hashes and integrity digests, reading the configuration from `Cargo.toml`, and composing
//! cache-busting URLs such as `/static/app.css?tag=1f3a9c0d2b7e4a`.
//!
//! What a program calls at run time is public and documented: [`url::join_static_url`] makes
//! the same URLs with a tag of its own, [`cache_policy::query_tag`] and
//! [`cache_policy::TagVerdict`] decide how long a static response may be cached, [`css`] finds
//! the URLs a stylesheet references, and `service::StaticFiles` (feature `service`) serves
//! static files and stylesheets with tags checked. The rest is the macros' support, public so that they can
//! call it but hidden from the docs and not covered by semantic versioning; the macros pin
//! this crate exactly.
//!
//! Features: `resolve` (default) brings the compile-time side (toml, the hashers); `git2`
//! (default) reads git repositories with libgit2 instead of running `git`. With
//! `default-features = false` only [`url`], [`cache_policy`] and [`error`] remain, with no
//! dependencies: what a server needs at run time.
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
#[cfg(feature = "resolve")]
mod suggest;
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod tag;
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
