#![doc = include_str!("../../README.md")]
// The harness below is test support: it panics with the failing command's output, which is
// what a failing test should show.
#![allow(clippy::missing_panics_doc)]

pub mod oracle;
pub mod scratch;
