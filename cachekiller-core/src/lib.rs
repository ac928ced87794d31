//! # cachekiller-core
//!
//! The run-time half of cachekiller, and the library behind the `cdnstatic!`, `cdntag!`,
//! `cdnintegrity!` and `cdnsettings!` macros of `cachekiller-macros`.
//!
//! ## Serving the assets
//!
//! A server depends on this crate (its default feature is `service`) and mounts
//! `service::StaticFiles`, built from the settings the pages' URLs were made with:
//!
//! ```toml
//! [dependencies]
//! cachekiller-macros = "0.1"
//! cachekiller-core = "0.1"
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
//! ## What is public
//!
//! What a server or a template calls: [`SiteSettings`] (what `cdnsettings!()` makes, with
//! [`TagIn`] and [`TagMode`]), the `service` module (`StaticFiles`, its run-time
//! `url()`/`integrity()` with [`IntegrityAlgorithm`], feature `service`), the `templates` module
//! (`MiniJinja`, Tera and Handlebars functions on top of it), [`url::join_static_url`] for URLs
//! with a tag of your own, [`cache_policy`] for servers of their own, and [`css`] for the URLs
//! a stylesheet references. The service's errors are its own (`service::ServeError`).
//!
//! ## How the crate is laid out
//!
//! Three wings. The *shared rules* (private) are what the macros, the service and the run-time
//! API must agree on, written once: the settings, which path names a static file (one
//! function, confined to the static dirs at the open), which tag and URL a file gets (one
//! `Tagger`), hashing, the CSS tokenizer and the stylesheet rewrite. The *compile-time side*
//! (`src/resolve/`, feature `resolve`) is what runs inside the compiler: choosing the tag
//! from `CACHEKILLER_TAG`, git, Mercurial, `SOURCE_DATE_EPOCH` or a digest of the static
//! files, the configuration in `Cargo.toml`, which files the revision names, and what cargo
//! must track; the macros reach it through `__private`, which is hidden from the docs and not
//! covered by semantic versioning (the macros pin this crate exactly). The *serve side* is
//! `service` and `templates`.
//!
//! Features: `service` (default) brings the static file service (a tower `Service`);
//! `actix` and `rocket` its adapters for actix-web 4 and Rocket 0.5; `archive` (and `aws` for
//! S3) the archive of served versions; `minijinja`, `tera`, `handlebars` the template
//! functions. `resolve` brings the build side and `git2` reads git repositories with libgit2
//! instead of running `git`: the macros turn them on. With `default-features = false` only
//! [`url`], [`cache_policy`], [`css`] and the settings remain, with no dependencies.
//!
//! ```
//! use cachekiller_core::url::join_static_url;
//!
//! let url = join_static_url("https://cdn.example.com/static/", "img/logo.svg#mark", "tag", "1f3a9c0d");
//! assert_eq!(url, "https://cdn.example.com/static/img/logo.svg?tag=1f3a9c0d#mark");
//! ```

// docs.rs: each item labelled with the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The shared rules: what the macros, the service and the run-time API must agree on (the
// settings, which path names a static file, which tag and URL a file gets, hashing, the CSS
// tokenizer and the stylesheet rewrite). Private; the parts a user calls are re-exported here.
mod rules;
#[cfg(any(feature = "resolve", feature = "service"))]
pub use rules::hash::IntegrityAlgorithm;
pub use rules::settings::{SiteSettings, TagIn, TagMode};
pub use rules::{cache_policy, css, url};

// The compile-time side: what runs inside the compiler for the macros (feature `resolve`).
#[cfg(feature = "resolve")]
mod resolve;

/// The macros' support: public only so that `cachekiller-macros` (which pins this crate
/// exactly) can call it. Not API, not covered by semantic versioning, hidden from the docs.
#[cfg(feature = "resolve")]
#[doc(hidden)]
pub mod __private {
    pub use crate::resolve::*;
    pub use crate::rules::error::{ConfigOrigin, Error, Result};
}

// The serve side: the static file service, laid out along the request, its run-time URL API,
// and the template engines' functions on top of it (feature `service`).
#[cfg(feature = "service")]
pub mod service;
#[cfg(feature = "service")]
pub mod templates;

#[cfg(test)]
mod test_support;
