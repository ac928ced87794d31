#![doc = include_str!("../../README.md")]
// The harness below is test support: it panics with the failing command's output, which is
// what a failing test should show.
#![allow(clippy::missing_panics_doc)]
// `git(…)` and `hg(…)` are mostly run for their effect; their output is there when wanted.
#![allow(clippy::must_use_candidate)]

/// The guide (`guide/`), one module per chapter, so that its Rust examples are doctests too.
pub mod guide {
    #[doc = include_str!("../../guide/README.md")]
    pub mod index {}
    #[doc = include_str!("../../guide/using.md")]
    pub mod using {}
    #[doc = include_str!("../../guide/serving.md")]
    pub mod serving {}
    #[doc = include_str!("../../guide/deploy-skew.md")]
    pub mod deploy_skew {}
    #[doc = include_str!("../../guide/static-sites.md")]
    pub mod static_sites {}
    #[doc = include_str!("../../guide/stylesheets.md")]
    pub mod stylesheets {}
    #[doc = include_str!("../../guide/modules.md")]
    pub mod modules {}
    #[doc = include_str!("../../guide/revisions.md")]
    pub mod revisions {}
    #[doc = include_str!("../../guide/reference.md")]
    pub mod reference {}
    #[doc = include_str!("../../guide/performance.md")]
    pub mod performance {}
    #[doc = include_str!("../../guide/development.md")]
    pub mod development {}
}

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
