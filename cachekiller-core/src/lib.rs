//! # cachekiller-core
//!
//! Everything behind the `cdnstatic!` and `cdntag!` macros of `cachekiller-macros`, as a plain
//! library: choosing the tag (`CACHEKILLER_TAG`, the git HEAD, the Mercurial working parent or
//! the build date), reading the configuration from `Cargo.toml`, and composing cache-busting
//! URLs such as `/static/app.css?tag=1f3a9c0d2b7e4a`.
//!
//! The macros call [`expand::expand_static_url`] and [`expand::expand_tag`]; a program that
//! wants the same URLs at run time can call [`url::join_static_url`] with a tag of its own.
//!
//! ```
//! use cachekiller_core::url::join_static_url;
//!
//! let url = join_static_url("https://cdn.example.com/static/", "img/logo.svg#mark", "tag", "1f3a9c0d");
//! assert_eq!(url, "https://cdn.example.com/static/img/logo.svg?tag=1f3a9c0d#mark");
//! ```

pub mod config;
pub mod context;
pub mod date;
pub mod environment;
pub mod error;
pub mod expand;
pub mod file_stamp;
pub mod git;
pub mod hash;
pub mod mercurial;
pub mod static_files;
pub mod tag;
pub mod tracking;
pub mod url;
pub mod vcs;

pub use error::{ConfigOrigin, Error, Result};
