//! The lexer of ES module imports (`cachekiller_core::__private::js`) against two
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
//!
//! A second corpus is made here: thousands of modules from a seeded generator ([`generated`])
//! that puts a `/` in every position where JavaScript reads a regular expression or a
//! division, with imports mixed in. Wherever V8 parses one, our lexer must never refuse it and
//! must find V8's module requests and V8's `import(…)` calls (which the oracle asks V8 word by
//! word), at the same lines and columns. es-module-lexer's mistakes there are listed by kind of
//! statement in [`ES_MODULE_LEXER_GENERATED_MISTAKES`], with the evidence.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cachekiller_core::__private::js::{module_imports, ImportKind};
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
    /// V8's `import(…)` calls, dynamic and computed, when they were asked for and V8 parses the
    /// file as a module.
    calls: Option<Vec<Reading>>,
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

/// The oracle's readings of `imports` (an array of its JSON report).
fn parse_readings(imports: &serde_json::Value) -> Vec<Reading> {
    imports
        .as_array()
        .unwrap()
        .iter()
        .map(|import| Reading {
            line: import["line"].as_u64().unwrap(),
            column: import["column"].as_u64(),
            kind: import["kind"].as_str().unwrap().to_owned(),
            specifier: import["specifier"].as_str().map(str::to_owned),
        })
        .collect()
}

/// The oracles' reading of each file; with `v8_calls`, V8's `import(…)` calls too (a parse of
/// the module for each word `import`: for small modules).
fn oracle_readings(
    node_modules: &Path,
    files: &[PathBuf],
    v8_calls: bool,
) -> BTreeMap<PathBuf, OracleReading> {
    let scratch = tempfile::tempdir().unwrap();
    let list = scratch.path().join("files.txt");
    let mut text = String::new();
    for file in files {
        writeln!(text, "{}", file.to_str().unwrap()).unwrap();
    }
    std::fs::write(&list, text).unwrap();
    let script = workspace_root().join("tests/oracle/module_imports_oracle.mjs");
    let mut arguments = vec![
        "--no-warnings".as_ref(),
        "--experimental-vm-modules".as_ref(),
        script.as_os_str(),
        node_modules.as_os_str(),
        list.as_os_str(),
    ];
    if v8_calls {
        arguments.push("--v8-calls".as_ref());
    }
    let output = run("node", scratch.path(), &arguments);
    let mut readings = BTreeMap::new();
    for line in output.lines() {
        let report: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = PathBuf::from(report["file"].as_str().unwrap());
        let imports = match report["error"].as_str() {
            Some(error) => Err(error.to_owned()),
            None => Ok(parse_readings(&report["imports"])),
        };
        let requests = report["requests"].as_array().map(|requests| {
            requests
                .iter()
                .map(|request| request.as_str().unwrap().to_owned())
                .collect()
        });
        let calls = (!report["calls"].is_null()).then(|| parse_readings(&report["calls"]));
        readings.insert(
            file,
            OracleReading {
                imports,
                requests,
                calls,
            },
        );
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
    let readings = oracle_readings(&node_modules, &files, false);

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

/// Modules made to order: each combines statements that put a `/` where JavaScript reads a
/// regular expression (the start of the module, after `of`, `in`, `return`, `typeof`,
/// `case x:`, a label, the `}` of a block, the `)` of `if`, a line without `;`, …) or a
/// division (after a name, `)`, `]`, a number, a function or class expression, a template, an
/// object literal, …), with imports, dynamic imports and look-alikes mixed in. A regular
/// expression holds quotes, brackets and an `import("decoy-…")` that a lexer reading it as a
/// division would trip on or report; a division holds an `import("./divided-….js")` that a
/// lexer reading a regular expression would miss. The same seed makes the same modules.
mod generated {
    use std::fmt::Write as _;

    /// The seed of the corpus, unless `CACHEKILLER_MODULE_SEED` names another (to explore).
    pub const SEED: u64 = 0x00C0_FFEE_0030;
    /// Modules of one statement of each kind.
    pub const SINGLES_PER_KIND: usize = 16;
    /// Modules made of several statements.
    pub const COMBINED_MODULES: usize = 3000;
    /// The most statements a combined module has.
    const MOST_STATEMENTS: u64 = 8;

    /// A generated module and the kinds of statement it is made of.
    pub struct Module {
        pub source: String,
        pub kinds: Vec<&'static str>,
    }

    /// Random choices from `SplitMix64` (a few lines: the same numbers on every machine and
    /// in every version, where a crate's generator may change), and a counter that makes every
    /// name and specifier unique.
    pub struct Generator {
        state: u64,
        counter: usize,
        /// `export default` was written in this module (a second one is a syntax error).
        default_exported: bool,
    }

    impl Generator {
        pub fn new(seed: u64) -> Self {
            Generator {
                state: seed,
                counter: 0,
                default_exported: false,
            }
        }

        fn next(&mut self) -> u64 {
            self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound
        }

        fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
            choices[usize::try_from(self.below(choices.len() as u64)).unwrap()]
        }

        /// A number no other name or specifier of the corpus has.
        fn unique(&mut self) -> usize {
            self.counter += 1;
            self.counter
        }

        fn name(&mut self, prefix: &str) -> String {
            format!("{prefix}_{}", self.unique())
        }

        /// A regular expression literal that a lexer reading it as a division trips on: quotes
        /// (an unterminated string), brackets (an unbalanced stack) or an `import("decoy-…")`.
        fn regex(&mut self) -> String {
            let mut body = String::new();
            for _ in 0..=self.below(2) {
                let decoy = self.unique();
                let piece = match self.below(9) {
                    0 => "[\"']".to_owned(),
                    1 => "[`]".to_owned(),
                    2 => format!("import(\"decoy-{decoy}\")"),
                    3 => format!("[/]import('decoy-{decoy}')[/]"),
                    4 => format!("\\/import(`decoy-{decoy}`)\\/"),
                    5 => "[{(]".to_owned(),
                    6 => "[}\\])]".to_owned(),
                    7 => "'".to_owned(),
                    _ => "\\d+(?:px|em)*".to_owned(),
                };
                body.push_str(&piece);
            }
            let flags = self.pick(&["", "g", "gi", "u", "gu", "y", "s", "d", "gimsuy"]);
            format!("/{body}/{flags}")
        }

        /// A regular expression used where an expression statement may start.
        fn regex_statement(&mut self) -> String {
            let regex = self.regex();
            match self.below(4) {
                0 => format!("{regex}.test(s)"),
                1 => format!("{regex}.exec(s)"),
                2 => format!(
                    "{regex}.test(s) && import(\"./after-{}.js\")",
                    self.unique()
                ),
                _ => format!("{regex}.lastIndex = 0"),
            }
        }

        /// An `import(…)` of a literal specifier that V8 and the lexers must all find.
        fn dynamic_import(&mut self) -> String {
            let number = self.unique();
            match self.below(3) {
                0 => format!("import(\"./dynamic-{number}.js\")"),
                1 => format!("import('./dynamic-{number}.js')"),
                _ => format!("import(`./dynamic-{number}.js`)"),
            }
        }

        /// ` / import("./divided-….js") / 2`: a division that holds an import.
        fn division(&mut self) -> String {
            let number = self.unique();
            match self.below(3) {
                0 => format!(" / import(\"./divided-{number}.js\") / 2"),
                1 => format!(" /import('./divided-{number}.js')/ g"),
                _ => format!("\n/ import(\"./divided-{number}.js\") / 2"),
            }
        }

        /// `export default` once per module, else an assignment.
        fn export_default(&mut self) -> &'static str {
            if std::mem::replace(&mut self.default_exported, true) {
                "x = "
            } else {
                "export default "
            }
        }

        /// One statement (or a few) of `kind`.
        fn statement(&mut self, kind: usize) -> String {
            (KINDS[kind].1)(self)
        }

        /// The module of one statement of `kind` alone, then an import: what shows which
        /// kind a lexer misreads.
        pub fn single(&mut self, kind: usize) -> Module {
            self.default_exported = false;
            let statement = self.statement(kind);
            let after = self.dynamic_import();
            Module {
                source: format!("{statement}\n{after};\n"),
                kinds: vec![KINDS[kind].0],
            }
        }

        /// A module of up to [`MOST_STATEMENTS`] statements of any kind, joined by line
        /// breaks, `;` or comments; one time in four it starts with a regular expression.
        pub fn combined(&mut self) -> Module {
            self.default_exported = false;
            let mut source = String::new();
            let mut kinds = Vec::new();
            // How the last statement ended, if it did without `;`: with a block's `}`, or
            // with anything else.
            let mut last_end = None;
            if self.below(4) == 0 {
                let statement = self.statement(0);
                last_end = statement_end(KINDS[0].0, &statement);
                source.push_str(&statement);
                kinds.push(KINDS[0].0);
            }
            for _ in 0..=self.below(MOST_STATEMENTS) {
                if !source.is_empty() {
                    let decoy = self.unique();
                    let separator = match self.below(7) {
                        0 | 1 => "\n".to_owned(),
                        2 | 3 => ";\n".to_owned(),
                        4 => "; ".to_owned(),
                        5 => format!("\n// import(\"./decoy-{decoy}.js\")\n"),
                        _ => "\r\n/* a comment\n   over lines */\n".to_owned(),
                    };
                    if separator.starts_with(';') {
                        last_end = None;
                    }
                    source.push_str(&separator);
                }
                // Kind 0, the start of the module, only ever starts it.
                let kind = 1 + usize::try_from(self.below(KINDS.len() as u64 - 1)).unwrap();
                let statement = self.statement(kind);
                // A statement that opens a block makes a kind of its own with the end of the
                // one before, unless `;` separates them.
                if statement.starts_with('{') {
                    kinds.extend(last_end);
                }
                last_end = statement_end(KINDS[kind].0, &statement);
                source.push_str(&statement);
                kinds.push(KINDS[kind].0);
            }
            source.push('\n');
            Module { source, kinds }
        }
    }

    type Statement = fn(&mut Generator) -> String;

    const BLOCK_AFTER_A_LINE_WITHOUT_SEMICOLON: &str = "a block after a line without `;`";
    const BLOCK_AFTER_A_BLOCK: &str = "a block after the `}` of a block";

    /// The kind a block makes after `statement` (of `kind`): none after its `;`.
    fn statement_end(kind: &str, statement: &str) -> Option<&'static str> {
        let statement = statement.trim_end();
        if statement.ends_with(';') {
            None
        } else if statement.ends_with('}') && kind != "import declarations" {
            // The `}` of import attributes (`with { type: "json" }`) is no block's.
            Some(BLOCK_AFTER_A_BLOCK)
        } else {
            Some(BLOCK_AFTER_A_LINE_WITHOUT_SEMICOLON)
        }
    }

    /// The kinds of statement, each named after the position of its `/`.
    pub const KINDS: &[(&str, Statement)] = &[
        ("a regular expression at the start of the module", |g| {
            let statement = g.regex_statement();
            match g.below(3) {
                0 => statement,
                1 => format!("/* a comment first */ {statement}"),
                _ => format!("// a line comment first\n{statement}"),
            }
        }),
        ("a regular expression after `of`", |g| {
            let (a, b) = (g.name("a"), g.name("b"));
            let regex = g.regex();
            match g.below(5) {
                0 => format!("for (const {a} of {regex}.exec(s) ?? []) use({a});"),
                1 => format!("for (const [{a}, {b}] of {regex}.exec(s) ?? []) use({a}, {b});"),
                2 => format!("for (const {{ length: {a} }} of {regex}.exec(s) || []) use({a})"),
                3 => format!("for (x of {regex}.exec(s) ?? []) {{ use(x); }}"),
                _ => format!("for (const of of {regex}.exec(s) ?? []) use(of);"),
            }
        }),
        ("a regular expression after `of` in `for await`", |g| {
            let a = g.name("a");
            let regex = g.regex();
            format!("for await (const {a} of {regex}.exec(s) ?? []) use({a});")
        }),
        ("a regular expression after `in`", |g| {
            let key = g.name("key");
            let regex = g.regex();
            match g.below(3) {
                0 => format!("for (const {key} in {regex}) use({key});"),
                1 => format!("x = \"flags\" in {regex};"),
                _ => format!("if (\"source\" in {regex}) use()"),
            }
        }),
        ("a regular expression after `return`", |g| {
            let f = g.name("f");
            let regex = g.regex();
            match g.below(3) {
                0 => format!("function {f}() {{ return {regex}.test(s); }}"),
                1 => format!("const {f} = () => {{ return {regex}; }};"),
                _ => format!("function {f}() {{\n  return {regex}.exec(s)\n}}"),
            }
        }),
        (
            "a regular expression after `return` and a line break",
            |g| {
                let f = g.name("f");
                let statement = g.regex_statement();
                format!("function {f}() {{\n  return\n  {statement}\n}}")
            },
        ),
        (
            "a regular expression after `typeof`, `void` or `delete`",
            |g| {
                let regex = g.regex();
                match g.below(4) {
                    0 => format!("x = typeof {regex};"),
                    1 => format!("typeof {regex} === \"object\" && use()"),
                    2 => format!("void {regex}.test(s);"),
                    _ => format!("delete {regex}.lastIndex"),
                }
            },
        ),
        ("a regular expression after `case x:`", |g| {
            let (regex, statement) = (g.regex(), g.regex_statement());
            match g.below(4) {
                0 => format!("switch (v) {{ case 1: {statement}; break; }}"),
                1 => format!("switch (v) {{\n  case \"a\":\n    {statement}\n}}"),
                2 => format!("switch (v) {{ case {regex}.source: use(); }}"),
                _ => format!("switch (v) {{ case a ? b : c: {statement} }}"),
            }
        }),
        ("a block after `case x:`", |g| {
            let statement = g.regex_statement();
            match g.below(3) {
                0 => format!("switch (v) {{\n  case 1: {{ use(); }}\n  {statement}\n}}"),
                1 => format!("switch (v) {{ case 1: {{}}\n{statement} }}"),
                _ => format!("switch (v) {{ case a ? {{}} : b: {{ use(); }}\n{statement} }}"),
            }
        }),
        ("a regular expression after `default:`", |g| {
            let statement = g.regex_statement();
            format!("switch (v) {{ default: {statement} }}")
        }),
        ("a block after `default:`", |g| {
            let statement = g.regex_statement();
            format!("switch (v) {{ default: {{ use(); }}\n  {statement}\n}}")
        }),
        ("a regular expression after a label", |g| {
            let label = g.name("label");
            let statement = g.regex_statement();
            format!("{label}: {statement};")
        }),
        ("a block after a label", |g| {
            let label = g.name("label");
            let statement = g.regex_statement();
            match g.below(3) {
                0 => format!("{label}: {{ use(); }}\n{statement}"),
                1 => format!("{label}: {{ if (a) break {label}; use(); }}\n{statement};"),
                _ => format!("{label}:\n{{}}\n{statement}"),
            }
        }),
        (
            "a regular expression after the `)` of `if`, `while` or `for`",
            |g| {
                let item = g.name("item");
                let statement = g.regex_statement();
                match g.below(5) {
                    0 => format!("if (a) {statement};"),
                    1 => format!("while (a) {statement};"),
                    2 => format!("for (let i = 0; i < 2; i++) {statement};"),
                    3 => format!("for (const {item} of list) {statement};"),
                    _ => format!("if (f(a)) {statement}\nelse use()"),
                }
            },
        ),
        ("a regular expression after `else` or `do`", |g| {
            let statement = g.regex_statement();
            match g.below(2) {
                0 => format!("if (a) use(); else {statement};"),
                _ => format!("do {statement}; while (a);"),
            }
        }),
        ("a regular expression after the `}` of a block", |g| {
            let statement = g.regex_statement();
            let block = g.pick(&[
                "{ use(); }",
                "if (a) { use(); }",
                "if (a) {} else {}",
                "while (a) { use(); }",
                "for (const item of list) {}",
                "try { use(); } catch {}",
                "try {} catch (error) { use(error); } finally {}",
                "switch (v) {}",
            ]);
            format!("{block}\n{statement}")
        }),
        ("a regular expression after a function declaration", |g| {
            let f = g.name("f");
            let (regex, statement) = (g.regex(), g.regex_statement());
            match g.below(5) {
                0 => format!("function {f}() {{}}\n{statement}"),
                1 => format!("async function {f}() {{ await {regex}; }}\n{statement}"),
                2 => format!("function* {f}() {{ yield {regex}; }}\n{statement}"),
                3 => format!("export function {f}(a = {{}}) {{ return a; }}\n{statement}"),
                _ => format!("export async function {f}() {{}}\n{statement}"),
            }
        }),
        ("a regular expression after a class declaration", |g| {
            let class = g.name("Class");
            let (regex, statement) = (g.regex(), g.regex_statement());
            match g.below(4) {
                0 => format!("class {class} {{}}\n{statement}"),
                1 => format!(
                    "class {class} extends Base {{ method() {{ return {regex}; }} }}\n{statement}"
                ),
                2 => format!(
                    "class {class} {{ #field = {{}}; get x() {{}} static {{ use(); }} }}\n{statement}"
                ),
                _ => format!("class {class} extends mixin({{ a: 1 }}) {{}}\n{statement}"),
            }
        }),
        ("a regular expression after `export class …`", |g| {
            let class = g.name("Class");
            let statement = g.regex_statement();
            let body = g.pick(&["{}", "{ static { use(); } }", "{ #field = {}; get x() {} }"]);
            format!("export class {class} {body}\n{statement}")
        }),
        (
            "a regular expression after `export default function` or `class`",
            |g| {
                let statement = g.regex_statement();
                let declaration = if g.default_exported {
                    let f = g.name("f");
                    format!("function {f}() {{}}")
                } else {
                    g.default_exported = true;
                    g.pick(&["export default function () {}", "export default class {}"])
                        .to_owned()
                };
                format!("{declaration}\n{statement}")
            },
        ),
        (
            "a regular expression after the body of an arrow function",
            |g| {
                let f = g.name("f");
                let statement = g.regex_statement();
                match g.below(2) {
                    0 => format!("const {f} = () => {{}}\n{statement}"),
                    _ => format!("x = async (a) => {{ use(a); }}\n{statement}"),
                }
            },
        ),
        (BLOCK_AFTER_A_BLOCK, |g| {
            let statement = g.regex_statement();
            let block = g.pick(&[
                "if (a) {}",
                "function f() { use(); }",
                "switch (v) {}",
                "{}",
            ]);
            format!("{block}\n{{ use(); }}\n{statement}")
        }),
        (BLOCK_AFTER_A_LINE_WITHOUT_SEMICOLON, |g| {
            let a = g.name("a");
            let statement = g.regex_statement();
            match g.below(3) {
                0 => format!("let {a} = value\n{{ use({a}); }}\n{statement}"),
                1 => format!("use()\n{{}}\n{statement}"),
                _ => format!("x = [1, 2]\n{{ use(); }}\n{statement}"),
            }
        }),
        (
            "a regular expression after `do … while (…)` without `;`",
            |g| {
                let statement = g.regex_statement();
                match g.below(2) {
                    0 => format!("do use(); while (a)\n{statement}"),
                    _ => format!("do {{}} while (a) {statement}"),
                }
            },
        ),
        (
            "a regular expression after `break`, `continue` or `debugger`",
            |g| {
                let label = g.name("loop");
                let statement = g.regex_statement();
                match g.below(4) {
                    0 => format!("while (a) {{ break\n{statement} }}"),
                    1 => format!("while (a) {{ if (b) continue\n{statement} }}"),
                    2 => format!("{label}: for (;;) {{ break {label}\n{statement} }}"),
                    _ => format!("debugger\n{statement}"),
                }
            },
        ),
        ("a regular expression after `yield` or `await`", |g| {
            let f = g.name("f");
            let (regex, statement) = (g.regex(), g.regex_statement());
            match g.below(3) {
                0 => format!("function* {f}() {{ yield {regex}; yield\n{statement} }}"),
                1 => format!("await {regex};"),
                _ => format!("x = await {regex}.exec(s)"),
            }
        }),
        ("a regular expression after a punctuator", |g| {
            let regex = g.regex();
            let regex2 = g.regex();
            match g.below(12) {
                0 => format!("use({regex})"),
                1 => format!("x = [{regex}, {regex2}];"),
                2 => format!("x = a ? {regex} : {regex2};"),
                3 => format!("x = !{regex}.test(s)"),
                4 => format!("x = a || {regex}"),
                5 => format!("x = a && {regex};"),
                6 => format!("x = a ?? {regex}"),
                7 => format!("x = {{ key: {regex}, other: {regex2} }};"),
                8 => format!("x = () => {regex}"),
                9 => format!("x = (a, {regex});"),
                10 => format!("x = [...{regex}.exec(s)]"),
                _ => format!("x += {regex}"),
            }
        }),
        (
            "a regular expression after `new`, `throw` or `instanceof`",
            |g| {
                let f = g.name("f");
                let regex = g.regex();
                match g.below(3) {
                    0 => format!("x = new {regex}.constructor(\"a\")"),
                    1 => format!("function {f}() {{ throw {regex}; }}"),
                    _ => format!("x = a instanceof {regex}.constructor;"),
                }
            },
        ),
        ("a regular expression after `extends`", |g| {
            let class = g.name("Class");
            let regex = g.regex();
            match g.below(2) {
                0 => format!("class {class} extends {regex}.constructor {{}}"),
                _ => format!("x = class extends {regex}.constructor {{}}"),
            }
        }),
        ("a regular expression in a template's substitution", |g| {
            let regex = g.regex();
            match g.below(2) {
                0 => format!("x = `${{{regex}.source}}`"),
                _ => format!("x = `a${{ {regex}.test(s) ? \"y\" : \"n\" }}b`;"),
            }
        }),
        ("a regular expression after `export default`", |g| {
            let regex = g.regex();
            let export = g.export_default();
            format!("{export}{regex};")
        }),
        ("a division after a name", |g| {
            let division = g.division();
            let name = g.pick(&["value", "x", "$el", "_private", "naïve"]);
            format!("x = {name}{division};")
        }),
        ("a division after `)`", |g| {
            let division = g.division();
            match g.below(3) {
                0 => format!("x = (value){division}"),
                1 => format!("f(value){division};"),
                _ => format!("if (a) (b){division};"),
            }
        }),
        ("a division after `]`", |g| {
            let division = g.division();
            match g.below(2) {
                0 => format!("x = list[0]{division};"),
                _ => format!("x = [1]{division}"),
            }
        }),
        ("a division after a number", |g| {
            let division = g.division();
            let number = g.pick(&["1", ".5", "0x1F", "1e3", "1_000", "10n", "0.5e-3"]);
            format!("x = {number}{division};")
        }),
        ("a division after a function expression", |g| {
            let f = g.name("f");
            let (regex, division) = (g.regex(), g.division());
            match g.below(5) {
                0 => format!("x = function () {{}}{division};"),
                1 => format!("x = function {f}() {{ return {regex}; }}{division}"),
                2 => format!("x = async function () {{}}{division}"),
                3 => format!("x = function* () {{}}{division};"),
                _ => format!("use(function () {{ use(); }}{division})"),
            }
        }),
        ("a division after a class expression", |g| {
            let division = g.division();
            match g.below(4) {
                0 => format!("x = class {{}}{division};"),
                1 => format!("x = class extends Base {{ method() {{}} }}{division}"),
                2 => format!("x = class {{ static {{ use(); }} }}{division}"),
                _ => format!("use(class {{}}{division})"),
            }
        }),
        ("a division after a template literal", |g| {
            let division = g.division();
            match g.below(2) {
                0 => format!("x = `text`{division};"),
                _ => format!("x = `a ${{value}} b`{division}"),
            }
        }),
        ("a division after a string or a regular expression", |g| {
            let (regex, division) = (g.regex(), g.division());
            match g.below(2) {
                0 => format!("x = \"text\"{division};"),
                _ => format!("x = {regex}{division}"),
            }
        }),
        ("a division after `this`, `++` or `--`", |g| {
            let division = g.division();
            match g.below(3) {
                0 => format!("x = this{division}"),
                1 => format!("x = value++{division};"),
                _ => format!("x = value--{division}"),
            }
        }),
        ("a division after an object literal", |g| {
            let (regex, division) = (g.regex(), g.division());
            match g.below(5) {
                0 => format!("x = {{}}{division};"),
                1 => format!("x = {{ a: 1, b: {{ c: {regex} }} }}{division}"),
                2 => format!("x = {{ method() {{ return 1; }} }}{division}"),
                3 => format!("x = a ? b : {{}}{division}"),
                _ => format!("x = {{ if: 1, case: 2, function: 3, class: {{}} }}{division}"),
            }
        }),
        (
            "a division after a keyword that is a property or a name",
            |g| {
                let division = g.division();
                let operand = g.pick(&[
                    "value.return",
                    "value.of",
                    "of",
                    "value.default",
                    "value.if",
                    "value?.typeof",
                    "value.class",
                ]);
                format!("x = {operand}{division}")
            },
        ),
        ("a division after `import.meta`", |g| {
            let division = g.division();
            format!("x = import.meta{division};")
        }),
        ("a division after `export default {…}`", |g| {
            let division = g.division();
            let export = g.export_default();
            format!("{export}{{ a: 1 }}{division};")
        }),
        ("import declarations", |g| {
            let (name, specifier) = (g.name("imported"), g.unique());
            match g.below(5) {
                0 => format!("import {name} from \"./static-{specifier}.js\";"),
                1 => format!("import {{ a as {name} }} from './static-{specifier}.js'"),
                2 => format!("import * as {name} from \"./static-{specifier}.js\""),
                3 => format!("import \"./static-{specifier}.js\";"),
                _ => format!(
                    "import {name} from \"./static-{specifier}.json\" with {{ type: \"json\" }}"
                ),
            }
        }),
        ("re-exports", |g| {
            let (name, specifier) = (g.name("exported"), g.unique());
            match g.below(3) {
                0 => format!("export * from \"./reexported-{specifier}.js\";"),
                1 => format!("export {{ a as {name} }} from './reexported-{specifier}.js'"),
                _ => format!("export * as {name} from \"./reexported-{specifier}.js\";"),
            }
        }),
        ("dynamic imports", |g| {
            let import = g.dynamic_import();
            let number = g.unique();
            match g.below(5) {
                0 => format!("{import};"),
                1 => format!("await {import}"),
                2 => format!("x = () => {import};"),
                3 => format!("if (a) {import}"),
                _ => format!(
                    "import(\"./dynamic-{number}.json\", {{ with: {{ type: \"json\" }} }});"
                ),
            }
        }),
        ("computed dynamic imports", |g| {
            let decoy = g.unique();
            match g.below(3) {
                0 => "import(name);".to_owned(),
                1 => "x = import(`./${name}.js`)".to_owned(),
                _ => format!("import(\"./decoy-{decoy}/\" + name);"),
            }
        }),
        ("imports in comments, strings and templates", |g| {
            let decoy = g.unique();
            match g.below(4) {
                0 => format!("// import(\"./decoy-{decoy}.js\")"),
                1 => format!("x = \"import('./decoy-{decoy}.js')\";"),
                2 => format!("x = `import(\"./decoy-{decoy}.js\")`"),
                _ => format!("/* import \"./decoy-{decoy}.js\" */"),
            }
        }),
    ];

    /// The corpus: [`SINGLES_PER_KIND`] modules of each kind alone (enough to meet each of its
    /// variants), then [`COMBINED_MODULES`] combined ones.
    pub fn corpus(seed: u64) -> Vec<Module> {
        let mut generator = Generator::new(seed);
        let mut modules: Vec<Module> = (0..KINDS.len())
            .flat_map(|kind| std::iter::repeat_n(kind, SINGLES_PER_KIND))
            .map(|kind| generator.single(kind))
            .collect();
        modules.extend((0..COMBINED_MODULES).map(|_| generator.combined()));
        modules
    }

    /// The module with its kinds, as a failure shows it.
    pub fn describe(module: &Module) -> String {
        let mut text = String::new();
        writeln!(text, "kinds: {:?}", module.kinds).unwrap();
        text.push_str(&module.source);
        text
    }
}

/// Where es-module-lexer misreads the generated modules, by kind of statement, with what proves
/// it wrong. V8 is the judge: its module requests and its `import(…)` calls (see
/// `tests/oracle/module_imports_oracle.mjs`). Every module es-module-lexer misreads holds one of
/// these kinds, and each kind's module alone is misread, so that the list stays true.
const ES_MODULE_LEXER_GENERATED_MISTAKES: &[(&str, &str)] = &[
    (
        "a block after `case x:`",
        "V8 parses `switch (v) { case 1: {}⏎/[\"']/.test(s) }`: a `{` after `case 1:` opens a \
         block, after whose `}` a `/` starts a regular expression; es-module-lexer divides and \
         trips on its quote",
    ),
    (
        "a block after `default:`",
        "V8 parses `switch (v) { default: { use(); }⏎/[{(]/.exec(s) }`: the same after \
         `default:`",
    ),
    (
        "a block after a label",
        "V8 parses `label: { use(); }⏎/[\"']/.test(s)`: a `{` after a label opens a block",
    ),
    (
        "a block after the `}` of a block",
        "V8 parses `if (a) {}⏎{ use(); }⏎/[\"']/.test(s)`: a `{` after a block's `}` opens a \
         block too",
    ),
    (
        "a block after a line without `;`",
        "V8 parses `x = [1, 2]⏎{ use(); }⏎/[`]/.test(s)`: no expression goes on with `{`, so \
         a semicolon ends the line and the `{` opens a block",
    ),
    (
        "a regular expression after `of` in `for await`",
        "V8 parses `for await (const a of /[\"']/g.exec(s) ?? []) use(a);`: es-module-lexer \
         knows `for (…)`, not `for await (…)`",
    ),
    (
        "a regular expression after `export class …`",
        "V8 parses `export class A {}⏎/[\"']/.test(s)`: the `}` ends a class declaration, as \
         it does without `export`, which es-module-lexer reads right",
    ),
    (
        "a regular expression after `extends`",
        "V8 parses `class A extends /'/.constructor {}`: an expression follows `extends`",
    ),
    (
        "a division after a function expression",
        "V8 parses `x = function () {} / import(\"./divided.js\") / 2` and calls import(): a \
         function expression is a value, so the `/` after its `}` divides; es-module-lexer \
         starts a regular expression there, as after a declaration",
    ),
    (
        "a division after a class expression",
        "V8 parses `x = class {} / import(\"./divided.js\") / 2` and calls import(): the same \
         for a class expression",
    ),
];

/// Our reading against V8's, for a module V8 parses: the specifiers of its declarations, and
/// each `import(…)` with its line and column.
fn disagreement_with_v8(
    oracle: &OracleReading,
    found: &Result<Vec<Reading>, String>,
) -> Option<String> {
    let (Some(requests), Some(calls)) = (&oracle.requests, &oracle.calls) else {
        return None;
    };
    let found = match found {
        Ok(found) => found,
        Err(error) => return Some(format!("V8 parses it, the lexer refuses it: {error}")),
    };
    let declared: BTreeSet<String> = found
        .iter()
        .filter(|reading| reading.kind == "static")
        .filter_map(|reading| reading.specifier.clone())
        .collect();
    let mut found_calls: Vec<Reading> = found
        .iter()
        .filter(|reading| reading.kind != "static")
        .cloned()
        .collect();
    found_calls.sort();
    let mut calls = calls.clone();
    calls.sort();
    let mut differences = Vec::new();
    if declared != *requests {
        differences.push(format!(
            "V8's module requests are {requests:?}, the lexer's {declared:?}"
        ));
    }
    for call in calls.iter().filter(|call| !found_calls.contains(call)) {
        differences.push(format!("V8 only: {call}"));
    }
    for call in found_calls.iter().filter(|call| !calls.contains(call)) {
        differences.push(format!("the lexer only: {call}"));
    }
    (!differences.is_empty()).then(|| differences.join("; "))
}

/// What the comparison of generated modules counted and found.
#[derive(Default)]
struct GeneratedTally<'m> {
    parsed_by_v8: usize,
    refused_by_us: usize,
    compared_imports: usize,
    /// Where our lexer reads a module otherwise than V8, with the module.
    ours_wrong: Vec<(&'m generated::Module, String)>,
    /// Where es-module-lexer reads a module otherwise than V8.
    es_module_lexer_wrong: Vec<(&'m generated::Module, String)>,
    /// Where both read a module as V8 does, but put an import on another line or column.
    positions_apart: Vec<String>,
}

impl<'m> GeneratedTally<'m> {
    fn compare(&mut self, shown: &str, module: &'m generated::Module, oracle: &OracleReading) {
        if oracle.requests.is_none() {
            return;
        }
        self.parsed_by_v8 += 1;
        let found = our_reading(&module.source);
        self.refused_by_us += usize::from(found.is_err());
        self.compared_imports += found.as_ref().map_or(0, Vec::len);
        let ours_against_v8 = disagreement_with_v8(oracle, &found);
        if let Some(difference) = &ours_against_v8 {
            let described = generated::describe(module);
            self.ours_wrong
                .push((module, format!("{shown}: {difference}\n{described}")));
        }
        if let Some(difference) = disagreement_with_v8(oracle, &oracle.imports) {
            self.es_module_lexer_wrong.push((module, difference));
        } else if let (None, Ok(expected), Ok(mut found)) =
            (&ours_against_v8, &oracle.imports, found)
        {
            // Both right on V8's terms: then the lines and columns of declarations agree too.
            let mut expected = expected.clone();
            expected.sort();
            found.sort();
            if expected != found {
                self.positions_apart.push(format!(
                    "{shown}: es-module-lexer {expected:?}, ours {found:?}\n{}",
                    generated::describe(module)
                ));
            }
        }
    }

    /// es-module-lexer's mistakes that no kind of [`ES_MODULE_LEXER_GENERATED_MISTAKES`] in
    /// the module explains.
    fn unexplained_es_module_lexer_mistakes(&self) -> Vec<String> {
        self.es_module_lexer_wrong
            .iter()
            .filter(|(module, _)| {
                !module.kinds.iter().any(|kind| {
                    ES_MODULE_LEXER_GENERATED_MISTAKES
                        .iter()
                        .any(|(known, _)| known == kind)
                })
            })
            .map(|(module, difference)| format!("{difference}\n{}", generated::describe(module)))
            .chain(self.positions_apart.iter().cloned())
            .collect()
    }
}

/// Generated modules (`generated::corpus`): wherever V8 parses one, our lexer must read it as
/// V8 does (never refuse it, the same declarations, the same `import(…)` calls at the same
/// lines and columns) and as es-module-lexer does, but where V8 proves es-module-lexer wrong.
#[test]
fn generated_modules_read_as_v8_reads_them() {
    let node_modules = node_modules();
    assert_pinned_packages_installed(&node_modules);
    let seed = std::env::var("CACHEKILLER_MODULE_SEED").map_or(generated::SEED, |seed| {
        seed.parse().expect("CACHEKILLER_MODULE_SEED is a number")
    });
    let modules = generated::corpus(seed);
    let scratch = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = modules
        .iter()
        .enumerate()
        .map(|(index, module)| {
            let file = scratch.path().join(format!("generated-{index:04}.js"));
            std::fs::write(&file, &module.source).unwrap();
            file
        })
        .collect();
    let readings = oracle_readings(&node_modules, &files, true);

    let mut tally = GeneratedTally::default();
    for (file, module) in files.iter().zip(&modules) {
        let shown = file.file_name().unwrap().to_string_lossy();
        tally.compare(&shown, module, &readings[file]);
    }
    let (parsed_by_v8, compared_imports) = (tally.parsed_by_v8, tally.compared_imports);
    println!(
        "generated {} modules (seed {seed}): V8 parses {parsed_by_v8}, with {compared_imports} \
         imports; ours refuses {} of them and misreads {}; es-module-lexer misreads {} ({} of \
         them refused)",
        modules.len(),
        tally.refused_by_us,
        tally.ours_wrong.len(),
        tally.es_module_lexer_wrong.len(),
        tally
            .es_module_lexer_wrong
            .iter()
            .filter(|(_, difference)| difference.starts_with("V8 parses it"))
            .count()
    );
    let shown: Vec<&str> = tally
        .ours_wrong
        .iter()
        .take(20)
        .map(|(_, text)| text.as_str())
        .collect();
    assert!(
        tally.ours_wrong.is_empty(),
        "{} of {parsed_by_v8} modules V8 parses are read otherwise by this lexer; the first \
         ones:\n{}",
        tally.ours_wrong.len(),
        shown.join("\n")
    );
    let unexplained = tally.unexplained_es_module_lexer_mistakes();
    assert!(
        unexplained.is_empty(),
        "{} modules where es-module-lexer reads otherwise, unexplained; the first ones:\n{}",
        unexplained.len(),
        unexplained[..unexplained.len().min(20)].join("\n")
    );
    for (kind, _) in ES_MODULE_LEXER_GENERATED_MISTAKES {
        assert!(
            tally
                .es_module_lexer_wrong
                .iter()
                .any(|(module, _)| module.kinds == [*kind]),
            "es-module-lexer reads the modules of {kind:?} alone as V8 does: remove it from the \
             list"
        );
    }
    // Enough that the comparison cannot pass by finding nothing.
    assert!(
        parsed_by_v8 >= modules.len() * 3 / 4 && compared_imports >= parsed_by_v8,
        "V8 parses only {parsed_by_v8} of {} generated modules, with {compared_imports} imports",
        modules.len()
    );
}
