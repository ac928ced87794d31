//! The `modules` section (see the list in `main.rs`): reading the imports of real-world
//! JavaScript, and expanding an import map for a graph of 50 modules.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cachekiller_core::__private::hash::{digest_of_bytes, DigestAlgorithm};
use cachekiller_core::__private::js::module_imports;
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::workspace_root;
use cachekiller_tests::setup::node_modules;

use crate::common::{cargo, median, run_checked, toml_path, work_dir, write, Report};

/// The JavaScript modules of the npm packages `tests/run` installs (lit, Preact, htm, Stimulus,
/// htmx and their dependencies), read into memory, repeated until they make 1 MiB.
fn real_world_javascript() -> Vec<String> {
    let mut files = Vec::new();
    let mut directories = vec![node_modules()];
    while let Some(directory) = directories.pop() {
        let mut entries: Vec<PathBuf> = fs::read_dir(&directory)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                directories.push(path);
            } else if path
                .extension()
                .is_some_and(|extension| extension == "js" || extension == "mjs")
            {
                if let Ok(text) = fs::read_to_string(&path) {
                    if module_imports(&text).is_ok() {
                        files.push(text);
                    }
                }
            }
        }
    }
    assert!(
        !files.is_empty(),
        "no modules below {}",
        node_modules().display()
    );
    let mut corpus = Vec::new();
    let mut total = 0;
    for text in files.iter().cycle() {
        if total >= 1 << 20 {
            break;
        }
        total += text.len();
        corpus.push(text.clone());
    }
    corpus
}

fn lexing(report: &mut Report, rounds: usize) {
    let corpus = real_world_javascript();
    let bytes: usize = corpus.iter().map(String::len).sum();
    let mut lexed = Vec::new();
    let mut hashed = Vec::new();
    for _ in 0..rounds.max(5) * 4 {
        let started = Instant::now();
        for text in &corpus {
            std::hint::black_box(module_imports(text).unwrap());
        }
        lexed.push(started.elapsed());
        let started = Instant::now();
        for text in &corpus {
            std::hint::black_box(digest_of_bytes(text.as_bytes(), DigestAlgorithm::Sha1));
        }
        hashed.push(started.elapsed());
    }
    let (lexed, hashed) = (median(lexed), median(hashed));
    let megabytes = bytes as f64 / f64::from(1 << 20);
    let milliseconds = |duration: Duration| format!("{:.2} ms", duration.as_secs_f64() * 1000.0);
    println!(
        "modules: lexing {megabytes:.2} MiB in {} files: {}, SHA-1 {}",
        corpus.len(),
        milliseconds(lexed),
        milliseconds(hashed)
    );
    report.row(
        &format!(
            "read the imports of {megabytes:.1} MiB of real-world modules ({} files: lit, Preact, htm, Stimulus, htmx), release",
            corpus.len()
        ),
        milliseconds(lexed),
        format!("SHA-1 of the same bytes {}", milliseconds(hashed)),
        format!("{:.1}x", lexed.as_secs_f64() / hashed.as_secs_f64()),
    );
}

/// How many macro calls each generated crate makes.
const MAP_CALLS: usize = 20;
/// The modules of the generated graph.
const GRAPH_MODULES: usize = 50;

/// A workspace of three crates over the same 50 modules (each about 2 KiB, importing the next
/// two): `MAP_CALLS` string literals, `MAP_CALLS` `cdnimportmap!` calls of the whole graph, and
/// `MAP_CALLS` times 50 `cdnintegrity!` calls (reading and hashing every module).
fn generate_map_crates(root: &Path) {
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root).unwrap();
    git(root, &["init", "-q"]);
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"map-literal\", \"map-import\", \"map-integrity\"]\n",
    );
    let macros = toml_path(&workspace_root().join("cachekiller-macros"));
    for name in ["literal", "import", "integrity"] {
        let dir = root.join(format!("map-{name}"));
        write(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"map-{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
                 [dependencies]\ncachekiller-macros = {{ path = {macros} }}\n\
                 [package.metadata.cachekiller]\nmode = \"content\"\n"
            ),
        );
        for module in 0..GRAPH_MODULES {
            let mut text = String::new();
            for next in [module * 2 + 1, module * 2 + 2] {
                if next < GRAPH_MODULES {
                    let _ = writeln!(text, "import {{ value{next} }} from \"./m{next}.js\";");
                }
            }
            let _ = writeln!(text, "export const value{module} = {module};");
            while text.len() < 2048 {
                let _ = writeln!(
                    text,
                    "// padding: `import(\"x\")` in a comment, /regex/ and \"strings\" {module}"
                );
            }
            write(&dir.join(format!("static/js/m{module}.js")), &text);
        }
        let mut source = String::new();
        for call in 0..MAP_CALLS {
            match name {
                "literal" => {
                    let _ = writeln!(
                        source,
                        "pub const MAP_{call}: &str = \"{}\";",
                        "x".repeat(8 * 1024)
                    );
                }
                "import" => {
                    let _ = writeln!(
                        source,
                        "pub const MAP_{call}: &str = cachekiller_macros::cdnimportmap!(\"js/m0.js\");"
                    );
                }
                _ => {
                    for module in 0..GRAPH_MODULES {
                        let _ = writeln!(
                            source,
                            "pub const INTEGRITY_{call}_{module}: &str = cachekiller_macros::cdnintegrity!(\"js/m{module}.js\");"
                        );
                    }
                }
            }
        }
        write(&dir.join("src/lib.rs"), &source);
    }
    fs::copy(workspace_root().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "generated crates"]);
}

fn map_expansion(report: &mut Report, rounds: usize) {
    let root = work_dir("modules");
    generate_map_crates(&root);
    let build = |package: &str| {
        let mut command = cargo();
        command.args(["build", "-q"]).current_dir(&root);
        if package.is_empty() {
            command.arg("--workspace");
        } else {
            command.args(["-p", package]);
        }
        command
    };
    run_checked(&mut build(""));
    let names = ["literal", "import", "integrity"];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    for _ in 0..rounds {
        for (index, name) in names.iter().enumerate() {
            let lib = root.join(format!("map-{name}/src/lib.rs"));
            fs::write(&lib, fs::read(&lib).unwrap()).unwrap();
            let started = Instant::now();
            run_checked(&mut build(&format!("map-{name}")));
            samples[index].push(started.elapsed());
        }
    }
    let medians: Vec<f64> = samples
        .into_iter()
        .map(|samples| median(samples).as_secs_f64())
        .collect();
    let per_call = |index: usize| (medians[index] - medians[0]) / MAP_CALLS as f64 * 1e3;
    let (map, integrity) = (per_call(1), per_call(2));
    println!("modules: map {map:.2} ms per call, 50 integrities {integrity:.2} ms");
    report.row(
        &format!(
            "`cdnimportmap!` of a {GRAPH_MODULES}-module graph (2 KiB each), content mode, dev profile, per call over literals"
        ),
        format!("{map:.2} ms"),
        format!("{GRAPH_MODULES} `cdnintegrity!` of the same files {integrity:.2} ms"),
        format!("{:.2}x", map / integrity),
    );
}

pub(crate) fn modules(report: &mut Report, rounds: usize) {
    lexing(report, rounds);
    map_expansion(report, rounds);
}
