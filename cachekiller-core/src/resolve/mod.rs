//! The build side: what the macros of `cachekiller-macros` run inside the compiler. Choosing
//! the tag (`CACHEKILLER_TAG`, git, Mercurial, `SOURCE_DATE_EPOCH`, or a digest of the static
//! files), reading the configuration from `Cargo.toml`, finding the static files a call names,
//! and telling cargo what to track so that the next build is fresh.
//!
//! Public only for the macros (which pin this crate exactly): not covered by semantic
//! versioning.

pub mod config;
pub mod context;
pub mod date;
pub(crate) mod digest_store;
pub mod embed;
pub mod environment;
pub mod expand;
pub mod git;
pub mod import_map;
pub mod js;
pub mod manifest;
pub mod mercurial;
pub mod named_files;
mod per_crate;
pub mod rebuild_marker;
pub mod static_digest;
pub mod static_files;
pub mod stylesheet_cache;
pub mod tag;
pub mod tracking;
pub mod vcs;

// What the macros and the benchmarks reach through the build side.
pub use crate::rules::{file_stamp, hash, settings, stylesheet, tagging};
