//! The one command that installs every tool the tests run (`tests/run`), and what a test says
//! when one is missing: it fails naming that command, never skips.

use std::path::PathBuf;

/// Installs what the tests use (Debian packages, the oracles' Python and npm packages under
/// `target/test-tools`), then runs every test.
pub const SETUP_COMMAND: &str = "tests/run";

/// The message of a test that cannot start `program`.
#[must_use]
pub fn cannot_run(program: &str, error: &std::io::Error) -> String {
    format!(
        "cannot run `{program}` ({error}): run `{SETUP_COMMAND}`, which installs every tool the \
         tests use and then runs them (`{SETUP_COMMAND} --check` lists what is missing)"
    )
}

/// The target directory the running test was built in (a test binary is
/// `<target>/<profile>/deps/<name>`): the workspace's `target/`, or wherever
/// `CARGO_TARGET_DIR` put it. What the tests make for themselves goes there, never into the
/// checkout when the target dir is elsewhere.
#[must_use]
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|binary| Some(binary.ancestors().nth(3)?.to_path_buf()))
        .expect("a test runs from <target>/<profile>/deps/<name>")
}

/// The `node_modules` of `tests/package.json` (es-module-lexer, and the packages whose modules
/// the module lexer is compared on): `CACHEKILLER_NODE_MODULES`, which `tests/run` exports;
/// else the one `tests/run` installed in this target directory, so that a plain `cargo test`
/// finds it too. Panics naming [`SETUP_COMMAND`] when neither is there: a test that needs it
/// fails, never skips.
#[must_use]
pub fn node_modules() -> PathBuf {
    let (node_modules, origin) = match std::env::var_os("CACHEKILLER_NODE_MODULES") {
        Some(node_modules) => (PathBuf::from(node_modules), "CACHEKILLER_NODE_MODULES"),
        None => (
            target_dir().join("test-tools/npm/node_modules"),
            "the target directory",
        ),
    };
    assert!(
        node_modules.is_dir(),
        "the npm packages of tests/package.json are not installed: no {} (from {origin}): run \
         `{SETUP_COMMAND}`, which installs every tool the tests use and then runs them \
         (`{SETUP_COMMAND} --setup` only installs them)",
        node_modules.display()
    );
    node_modules
}

/// The Python with the oracles' packages (tinycss2): `CACHEKILLER_PYTHON`, which
/// `tests/run` exports; else the virtual environment `tests/run` made in this target directory,
/// so that a plain `cargo test` finds it too; else `python3`, whose failing import then names
/// [`SETUP_COMMAND`].
#[must_use]
pub fn python() -> String {
    if let Some(python) = std::env::var_os("CACHEKILLER_PYTHON") {
        return python.to_string_lossy().into_owned();
    }
    let venv_python = Some(target_dir().join("test-tools/venv/bin/python3"))
        .filter(|python: &PathBuf| python.exists());
    venv_python.map_or_else(
        || "python3".to_owned(),
        |python| python.to_string_lossy().into_owned(),
    )
}
