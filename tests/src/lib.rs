#![doc = include_str!("../../README.md")]
// The harness below is test support: it panics with the failing command's output, which is
// what a failing test should show.
#![allow(clippy::missing_panics_doc)]
// `git(…)` and `hg(…)` are mostly run for their effect; their output is there when wanted.
#![allow(clippy::must_use_candidate)]

pub mod deploys;
pub mod oracle;
// The oracles and the setup hints are core's test support, so that the published core's own
// tests build from its package alone; compiled here too.
pub mod s3;
pub mod scratch;
pub mod serving;
#[path = "../../cachekiller-core/src/test_support/setup.rs"]
pub mod setup;
#[path = "../../cachekiller-core/src/test_support/oracle.rs"]
mod shared_oracle;
