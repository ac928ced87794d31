//! The lexer of ES module imports (`cachekiller_core::build::js_module_imports`) against two
//! independent readings, both made by `tests/oracle/module_imports_oracle.mjs` under node:
//! es-module-lexer (the lexer of es-module-shims and Vite, pinned in `tests/package.json`), for
//! every import with its line and column, and V8's own parser (`vm.SourceTextModule`), for the
//! specifiers of import and export declarations of every file it parses as a module.
//!
//! The corpus: every `.js`, `.mjs` and `.cjs` file of the npm packages `tests/run` installs (lit,
//! Preact, htm, Stimulus, htmx and their dependencies; their builds for `require` and UMD too,
//! which name no module but must not fool either lexer), of the fixtures, and the traps of
//! `tests/fixtures/js-modules`, which `node --check` first proves to be valid modules. For each
//! file both must agree on every specifier, its kind (a static import or re-export, or a
//! dynamic import), line and column, and on the line of every computed `import(…)`; ours must
//! accept every file es-module-lexer accepts; and where V8 parses a file, the specifiers of
//! its declarations must be V8's. Where es-module-lexer is wrong, [`ES_MODULE_LEXER_MISTAKES`]
//! says so, with the evidence; each must still occur, so that the list stays true.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cachekiller_core::build::js_module_imports::{module_imports, ImportKind};
use cachekiller_tests::oracle::run;
use cachekiller_tests::scratch::workspace_root;
use cachekiller_tests::setup::{node_modules, SETUP_COMMAND};

/// An import as both lexers can say it. es-module-lexer reports a re-export as a static import,
/// so both are `static` here; a computed `import(…)` has a line and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reading {
    line: u64,
    column: Option<u64>,
    kind: String,
    specifier: Option<String>,
}

impl std::fmt::Display for Reading {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.specifier, self.column) {
            (Some(specifier), Some(column)) => write!(
                formatter,
                "line {}, column {column}: {} {specifier:?}",
                self.line, self.kind
            ),
            _ => write!(formatter, "line {}: computed import(…)", self.line),
        }
    }
}

/// Differences from es-module-lexer 3.0.5 where it misreads JavaScript (its lexer reads only
/// `\n` and `\r` as line ends, and knows no hashbang), each with what proves it wrong: the file
/// (from the workspace root), the difference as reported, and the evidence.
const ES_MODULE_LEXER_MISTAKES: &[(&str, &str, &str)] = &[
    (
        "tests/fixtures/js-modules/hashbang.js",
        "es-module-lexer only: line 1, column 28: dynamic \"./in-the-hashbang.js\"",
        "a hashbang is a comment: `node --check` accepts the file, which it could not if \
         `#!/usr/bin/env node import(…)` were code",
    ),
    (
        "tests/fixtures/js-modules/line_separators.js",
        "ours only: line 4, column 8: static \"./after-a-line-separator.js\"",
        "U+2028 ends a line comment: V8 lists the import among the module's requests",
    ),
    (
        "tests/fixtures/js-modules/line_separators.js",
        "ours only: line 5, column 8: static \"./after-a-paragraph-separator.js\"",
        "U+2029 ends a line comment: V8 lists the import among the module's requests",
    ),
];

/// What the oracles say of one file.
struct OracleReading {
    /// es-module-lexer's imports, or the message it rejected the file with.
    imports: Result<Vec<Reading>, String>,
    /// V8's specifiers of the module's declarations, each once; `None` where V8 does not parse
    /// the file as a module.
    requests: Option<BTreeSet<String>>,
}

/// Every file below `directory` whose name ends with one of `extensions`, depth first with a
/// stack (`node_modules` trees are deep), sorted.
fn files_below(directory: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut directories = vec![directory.to_path_buf()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            let file_type = std::fs::symlink_metadata(&path).unwrap().file_type();
            if file_type.is_dir() {
                directories.push(path);
            } else if file_type.is_file()
                && path
                    .extension()
                    .is_some_and(|extension| extensions.iter().any(|wanted| extension == *wanted))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every package `tests/package.json` pins is installed at its pinned version: a
/// `node_modules` left by an older `tests/package.json` would make a smaller corpus.
fn assert_pinned_packages_installed(node_modules: &Path) {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("tests/package.json")).unwrap(),
    )
    .unwrap();
    for (name, pinned) in manifest["dependencies"].as_object().unwrap() {
        let installed = std::fs::read_to_string(node_modules.join(name).join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|package| package["version"].as_str().map(str::to_owned));
        assert_eq!(
            installed.as_deref(),
            pinned.as_str(),
            "{name} in {}: run `{SETUP_COMMAND}`, which installs tests/package.json's pins",
            node_modules.display()
        );
    }
}

/// The oracles' reading of each file.
fn oracle_readings(node_modules: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, OracleReading> {
    let scratch = tempfile::tempdir().unwrap();
    let list = scratch.path().join("files.txt");
    let mut text = String::new();
    for file in files {
        writeln!(text, "{}", file.to_str().unwrap()).unwrap();
    }
    std::fs::write(&list, text).unwrap();
    let script = workspace_root().join("tests/oracle/module_imports_oracle.mjs");
    let output = run(
        "node",
        scratch.path(),
        &[
            "--no-warnings".as_ref(),
            "--experimental-vm-modules".as_ref(),
            script.as_os_str(),
            node_modules.as_os_str(),
            list.as_os_str(),
        ],
    );
    let mut readings = BTreeMap::new();
    for line in output.lines() {
        let report: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = PathBuf::from(report["file"].as_str().unwrap());
        let imports = match report["error"].as_str() {
            Some(error) => Err(error.to_owned()),
            None => Ok(report["imports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|import| {
                    let kind = import["kind"].as_str().unwrap();
                    Reading {
                        line: import["line"].as_u64().unwrap(),
                        column: import["column"].as_u64(),
                        kind: kind.to_owned(),
                        specifier: import["specifier"].as_str().map(str::to_owned),
                    }
                })
                .collect()),
        };
        let requests = report["requests"].as_array().map(|requests| {
            requests
                .iter()
                .map(|request| request.as_str().unwrap().to_owned())
                .collect()
        });
        readings.insert(file, OracleReading { imports, requests });
    }
    assert_eq!(
        readings.len(),
        files.len(),
        "the oracle reported on every file"
    );
    readings
}

/// Our lexer's reading of `source`, in the oracle's terms.
fn our_reading(source: &str) -> Result<Vec<Reading>, String> {
    let found = module_imports(source).map_err(|error| error.to_string())?;
    let literal = found.imports.into_iter().map(|import| Reading {
        line: u64::from(import.line),
        column: Some(u64::from(import.column)),
        kind: match import.kind {
            ImportKind::Static | ImportKind::Export => "static",
            ImportKind::Dynamic => "dynamic",
        }
        .to_owned(),
        specifier: Some(import.specifier),
    });
    let computed = found
        .computed_dynamic_imports
        .into_iter()
        .map(|line| Reading {
            line: u64::from(line),
            column: None,
            kind: "computed".to_owned(),
            specifier: None,
        });
    Ok(literal.chain(computed).collect())
}

/// What the comparisons counted and found.
#[derive(Default)]
struct Tally {
    compared_files: usize,
    compared_imports: usize,
    parsed_by_v8: usize,
    compared_requests: usize,
    mismatches: Vec<String>,
    rejected_by_es_module_lexer: Vec<String>,
}

impl Tally {
    /// Compares our reading of the file `shown` with the oracles'.
    fn compare(
        &mut self,
        shown: &str,
        oracle: &OracleReading,
        found: Result<Vec<Reading>, String>,
    ) {
        if let (Some(requests), Ok(found)) = (&oracle.requests, &found) {
            let declared: BTreeSet<String> = found
                .iter()
                .filter(|reading| reading.kind == "static")
                .filter_map(|reading| reading.specifier.clone())
                .collect();
            self.parsed_by_v8 += 1;
            self.compared_requests += requests.len();
            if declared != *requests {
                self.mismatches.push(format!(
                    "{shown}: V8's module requests are {requests:?}, ours {declared:?}"
                ));
            }
        }
        match (&oracle.imports, found) {
            (Ok(expected), Ok(mut found)) => {
                let mut expected = expected.clone();
                expected.sort();
                found.sort();
                self.compared_files += 1;
                self.compared_imports += expected.len();
                for reading in expected.iter().filter(|reading| !found.contains(reading)) {
                    self.mismatches
                        .push(format!("{shown}: es-module-lexer only: {reading}"));
                }
                for reading in found.iter().filter(|reading| !expected.contains(reading)) {
                    self.mismatches
                        .push(format!("{shown}: ours only: {reading}"));
                }
            }
            (Ok(_), Err(error)) => self.mismatches.push(format!(
                "{shown}: es-module-lexer reads it, ours rejects it: {error}"
            )),
            (Err(oracle_error), found) => self.rejected_by_es_module_lexer.push(format!(
                "{shown}: es-module-lexer rejects it ({oracle_error}); ours {}",
                match found {
                    Ok(_) => "reads it".to_owned(),
                    Err(error) => format!("too: {error}"),
                }
            )),
        }
    }
}

#[test]
fn module_imports_agree_with_es_module_lexer_and_v8() {
    let node_modules = node_modules();
    assert_pinned_packages_installed(&node_modules);
    let root = workspace_root();
    let traps_directory = root.join("tests/fixtures/js-modules");

    let traps = files_below(&traps_directory, &["js"]);
    assert!(traps.len() >= 10, "the traps: {traps:?}");
    for trap in &traps {
        // Valid modules, so that a disagreement is a lexer's mistake, not a trap's.
        run(
            "node",
            &traps_directory,
            &["--check", trap.to_str().unwrap()],
        );
    }

    let extensions = ["js", "mjs", "cjs"];
    let mut files = files_below(&node_modules, &extensions);
    files.extend(files_below(&root.join("tests/fixtures"), &extensions));
    files.extend(files_below(&root.join("tests/static"), &extensions));
    let readings = oracle_readings(&node_modules, &files);

    let mut tally = Tally::default();
    for (file, oracle) in &readings {
        let shown = file
            .strip_prefix(&node_modules)
            .or_else(|_| file.strip_prefix(&root))
            .unwrap_or(file)
            .display()
            .to_string();
        let source = std::fs::read_to_string(file).unwrap();
        tally.compare(&shown, oracle, our_reading(&source));
    }
    let Tally {
        compared_files,
        compared_imports,
        parsed_by_v8,
        compared_requests,
        mismatches,
        rejected_by_es_module_lexer,
    } = tally;

    println!(
        "compared {compared_files} files and {compared_imports} imports with es-module-lexer, \
         {parsed_by_v8} modules and {compared_requests} module requests with V8; \
         es-module-lexer rejected {}:\n{}",
        rejected_by_es_module_lexer.len(),
        rejected_by_es_module_lexer.join("\n")
    );
    let known: Vec<String> = ES_MODULE_LEXER_MISTAKES
        .iter()
        .map(|(file, difference, _)| format!("{file}: {difference}"))
        .collect();
    let unexplained: Vec<&str> = mismatches
        .iter()
        .filter(|mismatch| !known.contains(mismatch))
        .map(String::as_str)
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} mismatches in {compared_files} files:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    for mistake in &known {
        assert!(
            mismatches.contains(mistake),
            "es-module-lexer no longer makes this mistake; remove it from the list: {mistake}"
        );
    }
    for trap in &traps {
        assert!(
            matches!(readings[trap].imports, Ok(ref imports) if !imports.is_empty()),
            "{}: es-module-lexer reads it and finds imports",
            trap.display()
        );
    }
    // Enough that the comparison cannot pass by finding nothing.
    assert!(
        compared_files >= 200 && compared_imports >= 500,
        "only {compared_files} files and {compared_imports} imports compared with es-module-lexer"
    );
    assert!(
        parsed_by_v8 >= 200 && compared_requests >= 300,
        "only {parsed_by_v8} modules and {compared_requests} module requests compared with V8"
    );
}
