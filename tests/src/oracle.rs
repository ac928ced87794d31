//! The oracles every test compares against (`cachekiller-core/src/test_support/oracle.rs`,
//! shared with core's unit tests), and two about this workspace.

use std::path::Path;

pub use crate::shared_oracle::*;

/// The tag the macros must give in this workspace: `git rev-parse HEAD` of the cachekiller
/// repository, cut to the default 14 characters.
#[must_use]
pub fn workspace_tag() -> String {
    assert!(
        std::env::var_os("CACHEKILLER_TAG").is_none(),
        "these tests compare with git; unset CACHEKILLER_TAG to run them"
    );
    let mut head = git_head(Path::new(env!("CARGO_MANIFEST_DIR")));
    head.truncate(14);
    head
}

/// A file of this crate's `static/` dir, where the tests' assets are.
#[must_use]
pub fn static_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("static")
        .join(relative)
}
