//! cachekiller's benchmarks. Each figure is measured side by side with its baseline in the
//! same run, as the median of several rounds, and reported as a ratio. Nothing asserts a time.
//!
//! `cargo bench -p cachekiller-tests` runs every section; name sections to run only those:
//! `cargo bench -p cachekiller-tests -- expansion hashing`. `BENCH_ROUNDS` sets the rounds.
//! Work files go to `target/bench-work`.
//!
//! - `render`: an Askama template and a Maud page with 20 `cdnstatic!` URLs vs the same URLs
//!   written as literals;
//! - `expansion`: 10,000 `cdnstatic!` calls vs a bare proc macro formatting the same literals
//!   (the floor of any function-like proc macro) vs the literals themselves; content mode and
//!   `cdnintegrity!` over 200 files; with proc macros unoptimized (cargo's default) and
//!   optimized;
//! - `resolution`: one tag resolution through git2 vs spawning `git rev-parse HEAD`, in a
//!   repository with 5,000 commits and packed refs;
//! - `hashing`: SHA-1 of a 256 MB file through our code vs `openssl dgst -sha1` and `sha1sum`,
//!   and the peak memory of our hashing;
//! - `memory`: peak RSS of rustc for a crate whose content-mode call tracks a 100 MB file vs
//!   the same crate with a plain `include_bytes!` of it;
//! - `cold`: building `cachekiller-macros` and its dependencies from scratch vs `syn` +
//!   `quote` + `proc-macro2` alone (and `git2` alone, and the macros without libgit2);
//! - `serving`: requests per second of cachekiller's `StaticFiles` vs bare tower-http
//!   `ServeDir` on the same files (a tagged stylesheet, a tagged 1 MB image, an untagged file,
//!   a conditional request answered 304), and for a 100 KB stylesheet sent compressed vs
//!   `ServeDir` + `CompressionLayer` and vs `ServeDir` with fresh `.br`/`.gz` siblings; the
//!   memory of the cached versions; release builds under axum, loaded with `wrk`;
//! - `stylesheets`: rewriting a 1 MiB stylesheet with 1,000 references (to 100 files) to
//!   their tagged form, uncached and through the cache, vs reading and hashing the same file;
//! - `runtime`: a cached `StaticFiles::url` call vs formatting the URL, and a `MiniJinja` page
//!   with 20 `static()` calls vs the same page with 20 literal URLs;
//! - `typos`: a crate with 20,000 files in `static/node_modules` and 50 calls, of which 0, 1
//!   or 50 name a missing file (each a compile error with a "did you mean" search).
#![allow(missing_docs, clippy::cast_precision_loss)]

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use askama::Template;
use cachekiller_macros::cdnstatic;
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::workspace_root;
use maud::{html, Markup, PreEscaped};

/// Macro calls in each generated crate of the expansion section.
const CALLS: usize = 10_000;
/// Distinct static files those calls cycle through.
const FILES: usize = 200;

struct Report {
    rows: Vec<[String; 4]>,
}

impl Report {
    fn row(&mut self, measure: &str, ours: String, baseline: String, ratio: String) {
        println!("  {measure}: {ours} vs {baseline} ({ratio})");
        self.rows.push([measure.to_owned(), ours, baseline, ratio]);
    }

    fn markdown(&self) -> String {
        let mut table = String::from("| measure | ours | baseline | ratio |\n|---|---|---|---|\n");
        for [measure, ours, baseline, ratio] in &self.rows {
            let _ = writeln!(table, "| {measure} | {ours} | {baseline} | {ratio} |");
        }
        table
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn run_checked(command: &mut Command) -> std::process::Output {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for variable in [
        "CARGO_TARGET_DIR",
        "CACHEKILLER_TAG",
        "CACHEKILLER_STATIC_URL",
        "SOURCE_DATE_EPOCH",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(variable);
    }
    command
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn toml_path(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

fn work_dir(section: &str) -> PathBuf {
    workspace_root().join("target/bench-work").join(section)
}

/// A file of `megabytes` MiB of xorshift bytes (incompressible, reproducible).
fn write_pseudo_random_file(path: &Path, megabytes: usize) {
    if fs::metadata(path).is_ok_and(|metadata| metadata.len() == (megabytes as u64) << 20) {
        return;
    }
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::io::BufWriter::new(fs::File::create(path).unwrap());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..megabytes {
        for word in chunk.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        file.write_all(&chunk).unwrap();
    }
    file.flush().unwrap();
}

// ---------------------------------------------------------------------------------------
// render

#[derive(Template)]
#[template(
    source = r#"<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m0") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m1") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m2") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m3") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m4") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m5") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m6") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m7") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m8") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m9") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m10") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m11") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m12") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m13") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m14") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m15") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m16") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m17") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m18") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m19") }}">"#,
    ext = "html"
)]
struct AskamaMacroUrls;

#[derive(Template)]
#[template(
    source = r#"<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m0")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m1")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m2")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m3")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m4")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m5")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m6")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m7")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m8")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m9")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m10")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m11")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m12")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m13")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m14")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m15")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m16")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m17")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m18")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m19")|safe }}">"#,
    ext = "html"
)]
struct AskamaMacroUrlsSafe;

#[derive(Template)]
#[template(
    source = r#"<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m0">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m1">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m2">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m3">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m4">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m5">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m6">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m7">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m8">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m9">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m10">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m11">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m12">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m13">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m14">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m15">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m16">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m17">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m18">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m19">"#,
    ext = "html"
)]
struct AskamaLiteralUrls;

fn maud_macro_urls() -> Markup {
    html! {
        head {
            link rel="preload" href=(cdnstatic!("img/logo.svg#m0"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m1"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m2"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m3"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m4"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m5"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m6"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m7"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m8"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m9"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m10"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m11"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m12"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m13"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m14"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m15"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m16"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m17"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m18"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m19"));
        }
    }
}

fn maud_macro_urls_pre_escaped() -> Markup {
    html! {
        head {
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m0")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m1")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m2")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m3")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m4")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m5")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m6")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m7")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m8")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m9")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m10")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m11")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m12")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m13")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m14")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m15")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m16")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m17")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m18")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m19")));
        }
    }
}

fn maud_literal_urls() -> Markup {
    html! {
        head {
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m0";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m1";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m2";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m3";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m4";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m5";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m6";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m7";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m8";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m9";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m10";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m11";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m12";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m13";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m14";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m15";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m16";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m17";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m18";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m19";
        }
    }
}

/// Median time per render of each of `renders`, measured in interleaved rounds.
fn time_renders(rounds: usize, renders: &[&dyn Fn() -> usize]) -> Vec<Duration> {
    const ITERATIONS: u32 = 20_000;
    let mut samples = vec![Vec::new(); renders.len()];
    for _ in 0..rounds.max(5) {
        for (index, render) in renders.iter().enumerate() {
            let started = Instant::now();
            for _ in 0..ITERATIONS {
                std::hint::black_box(render());
            }
            samples[index].push(started.elapsed() / ITERATIONS);
        }
    }
    samples.into_iter().map(median).collect()
}

fn render(report: &mut Report, rounds: usize) {
    println!("render, 20 URLs per page:");
    // The macro URLs carry the real tag, the literal ones a made-up tag of the same length:
    // the pages have the same size.
    assert_eq!(
        AskamaMacroUrls.render().unwrap().len(),
        AskamaLiteralUrls.render().unwrap().len()
    );
    assert_eq!(
        maud_macro_urls().into_string().len(),
        maud_literal_urls().into_string().len()
    );
    let mut buffer = String::with_capacity(4096);
    let mut askama = |template: &dyn askama::DynTemplate| {
        buffer.clear();
        template.dyn_render_into(&mut buffer).unwrap();
        buffer.len()
    };
    let askama_times = {
        let askama = std::cell::RefCell::new(&mut askama);
        time_renders(
            rounds,
            &[
                &|| (askama.borrow_mut())(&AskamaLiteralUrls),
                &|| (askama.borrow_mut())(&AskamaMacroUrls),
                &|| (askama.borrow_mut())(&AskamaMacroUrlsSafe),
            ],
        )
    };
    let maud_times = time_renders(
        rounds,
        &[
            &|| maud_literal_urls().into_string().len(),
            &|| maud_macro_urls().into_string().len(),
            &|| maud_macro_urls_pre_escaped().into_string().len(),
        ],
    );
    let nanos = |duration: Duration| format!("{} ns", duration.as_nanos());
    let ratio = |ours: Duration, baseline: Duration| {
        format!("{:.2}", ours.as_secs_f64() / baseline.as_secs_f64())
    };
    for (engine, times, plain, unescaped) in [
        (
            "Askama",
            &askama_times,
            "`{{ cdnstatic!(…) }}`",
            "`{{ cdnstatic!(…)|safe }}`",
        ),
        (
            "Maud",
            &maud_times,
            "`href=(cdnstatic!(…))`",
            "`href=(PreEscaped(cdnstatic!(…)))`",
        ),
    ] {
        report.row(
            &format!("{engine} render, 20 URLs: {plain}"),
            nanos(times[1]),
            format!("literals {}", nanos(times[0])),
            ratio(times[1], times[0]),
        );
        report.row(
            &format!("{engine} render, 20 URLs: {unescaped}"),
            nanos(times[2]),
            format!("literals {}", nanos(times[0])),
            ratio(times[2], times[0]),
        );
    }
}

// ---------------------------------------------------------------------------------------
// expansion

type CallFormat = fn(usize) -> String;

/// The generated crates: (name, extra dependency, whether it has the static files, how call
/// `i` is written).
const VARIANTS: &[(&str, &str, bool, CallFormat)] = &[
    ("literal", "", false, |i| {
        format!("\"/static/assets/file{i}.css?tag=0123456789abcd\"")
    }),
    (
        "floor",
        "floor-macro = { path = \"../floor-macro\" }\n",
        false,
        |i| format!("floor_macro::floor!(\"assets/file{i}.css\")"),
    ),
    (
        "bare-floor",
        "floor-macro = { path = \"../floor-macro\" }\n",
        false,
        |i| format!("floor_macro::bare_floor!(\"assets/file{i}.css\")"),
    ),
    ("vcs", "", false, |i| {
        format!("cachekiller_macros::cdnstatic!(\"assets/file{i}.css\")")
    }),
    ("vcs-checked", "", true, |i| {
        format!(
            "cachekiller_macros::cdnstatic!(\"css/file{}.css\")",
            i % FILES
        )
    }),
    ("content", "", true, |i| {
        format!(
            "cachekiller_macros::cdnstatic!(\"css/file{}.css\", mode = \"content\")",
            i % FILES
        )
    }),
    ("integrity", "", true, |i| {
        format!(
            "cachekiller_macros::cdnintegrity!(\"css/file{}.css\")",
            i % FILES
        )
    }),
];

/// A workspace of generated crates, each a library of `CALLS` constants written one way, in a
/// repository with some history (the reflog grows with it).
fn generate_expansion_crates(root: &Path) {
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root).unwrap();
    git(root, &["init", "-q"]);
    let members: Vec<String> = VARIANTS
        .iter()
        .map(|(name, _, _, _)| format!("\"calls-{name}\""))
        .collect();
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [\"floor-macro\", {}]\n",
            members.join(", ")
        ),
    );
    // The floors: function-like proc macros formatting the same kind of literal and nothing
    // else, one parsing with `syn` and emitting with `quote`, the other (the cheapest possible)
    // with `proc_macro` alone.
    write(
        &root.join("floor-macro/Cargo.toml"),
        "[package]\nname = \"floor-macro\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\nproc-macro = true\n\
         [dependencies]\nsyn = { version = \"2\", default-features = false, features = [\"parsing\", \"printing\", \"proc-macro\"] }\n\
         quote = \"1\"\nproc-macro2 = \"1\"\n",
    );
    write(
        &root.join("floor-macro/src/lib.rs"),
        "use proc_macro::TokenStream;\n\
         #[proc_macro]\npub fn floor(input: TokenStream) -> TokenStream {\n\
         \x20   let path = syn::parse_macro_input!(input as syn::LitStr);\n\
         \x20   let url = format!(\"/static/{}?tag=0123456789abcd\", path.value());\n\
         \x20   let literal = syn::LitStr::new(&url, proc_macro2::Span::call_site());\n\
         \x20   quote::quote!(#literal).into()\n}\n\
         #[proc_macro]\npub fn bare_floor(input: TokenStream) -> TokenStream {\n\
         \x20   let text = input.to_string();\n\
         \x20   let url = format!(\"/static/{}?tag=0123456789abcd\", text.trim_matches('\"'));\n\
         \x20   proc_macro::TokenTree::Literal(proc_macro::Literal::string(&url)).into()\n}\n",
    );
    let macros = toml_path(&workspace_root().join("cachekiller-macros"));
    for (name, extra_dependency, has_static_files, call) in VARIANTS {
        let dir = root.join(format!("calls-{name}"));
        write(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"calls-{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
                 [dependencies]\ncachekiller-macros = {{ path = {macros} }}\n{extra_dependency}"
            ),
        );
        let mut source = String::new();
        for i in 0..CALLS {
            let _ = writeln!(source, "pub const URL_{i}: &str = {};", call(i));
        }
        write(&dir.join("src/lib.rs"), &source);
        for file in (0..FILES).filter(|_| *has_static_files) {
            write(
                &dir.join(format!("static/css/file{file}.css")),
                &format!(".file{file} {{ order: {file}; }}\n"),
            );
        }
    }
    fs::copy(workspace_root().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "generated crates"]);
    for commit in 0..300 {
        git(
            root,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("commit {commit}"),
            ],
        );
    }
}

fn time_expansion_crates(
    root: &Path,
    label: &str,
    cargo_config: Option<&str>,
    report: &mut Report,
    rounds: usize,
) {
    let cargo_build = |extra: &[&str]| {
        let mut command = cargo();
        command.arg("build").arg("-q").args(extra).current_dir(root);
        if let Some(config) = cargo_config {
            command.args(["--config", config]);
        }
        command
    };
    // Dependencies first, so that each timed build compiles one crate.
    run_checked(&mut cargo_build(&["--workspace"]));
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); VARIANTS.len()];
    for _ in 0..rounds {
        for (index, (name, _, _, _)) in VARIANTS.iter().enumerate() {
            // A new mtime makes cargo rebuild just this crate.
            let lib = root.join(format!("calls-{name}/src/lib.rs"));
            fs::write(&lib, fs::read(&lib).unwrap()).unwrap();
            let started = Instant::now();
            run_checked(&mut cargo_build(&["-p", &format!("calls-{name}")]));
            samples[index].push(started.elapsed());
        }
    }
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    let per_call =
        |variant: Duration| (variant.as_secs_f64() - medians[0].as_secs_f64()) / CALLS as f64 * 1e6;
    let floor = per_call(medians[1]);
    println!("expansion, {label}, {CALLS} calls, median of {rounds} rounds:");
    for ((name, _, _, _), median) in VARIANTS.iter().zip(&medians) {
        println!("  {name}: {:.2} s", median.as_secs_f64());
    }
    report.row(
        &format!("{label}: `cargo build` of {CALLS} literals"),
        format!("{:.2} s", medians[0].as_secs_f64()),
        "-".into(),
        "-".into(),
    );
    let bare_floor = per_call(medians[2]);
    report.row(
        &format!("{label}: bare floor proc macro (`proc_macro` only), per call over literals"),
        format!("{bare_floor:.1} µs"),
        "-".into(),
        format!(
            "build {:.2}x the literals'",
            medians[2].as_secs_f64() / medians[0].as_secs_f64()
        ),
    );
    report.row(
        &format!("{label}: `syn` floor proc macro (`syn` + `quote`), per call over literals"),
        format!("{floor:.1} µs"),
        format!("bare floor {bare_floor:.1} µs"),
        format!("{:.2}x bare floor", floor / bare_floor),
    );
    for (index, name) in [
        (3, "`cdnstatic!`, no static dir"),
        (4, "`cdnstatic!`, file checked in a static dir of 200 files"),
        (5, "`cdnstatic!` content mode, 200 files"),
        (6, "`cdnintegrity!`, 200 files"),
    ] {
        let ours = per_call(medians[index]);
        report.row(
            &format!("{label}: {name}, per call over literals"),
            format!("{ours:.1} µs"),
            format!("bare floor {bare_floor:.1} µs, `syn` floor {floor:.1} µs"),
            format!(
                "{:.2}x bare floor, {:.2}x `syn` floor",
                ours / bare_floor,
                ours / floor
            ),
        );
    }
}

fn expansion(report: &mut Report, rounds: usize) {
    let root = work_dir("expansion");
    generate_expansion_crates(&root);
    // `BENCH_UNOPTIMIZED_ONLY=1` skips the optimized half, for quick iterations.
    let unoptimized_only = std::env::var_os("BENCH_UNOPTIMIZED_ONLY").is_some();
    for (label, cargo_config) in [
        ("proc macros unoptimized (cargo's default)", None),
        (
            "proc macros optimized (build-override opt-level 3)",
            Some("profile.dev.build-override.opt-level=3"),
        ),
    ]
    .into_iter()
    .take(if unoptimized_only { 1 } else { 2 })
    {
        time_expansion_crates(&root, label, cargo_config, report, rounds);
    }
}

// ---------------------------------------------------------------------------------------
// resolution

/// A repository with `commits` commits made by `git fast-import` (seconds, not minutes), its
/// refs packed.
fn repository_with_history(root: &Path, commits: usize) {
    if root.join(".git/packed-refs").is_file() {
        return;
    }
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root).unwrap();
    git(root, &["init", "-q"]);
    let mut stream = String::new();
    for commit in 1..=commits {
        let message = format!("commit {commit}");
        let content = format!("{commit}\n");
        let _ = write!(
            stream,
            "commit refs/heads/main\nmark :{commit}\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{message}\n",
            1_700_000_000 + commit,
            message.len()
        );
        if commit > 1 {
            let _ = writeln!(stream, "from :{}", commit - 1);
        }
        let _ = write!(
            stream,
            "M 644 inline counter.txt\ndata {}\n{content}\n",
            content.len()
        );
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(root)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(root, &["checkout", "-q", "main"]);
    git(root, &["pack-refs", "--all", "--prune"]);
    git(root, &["gc", "-q"]);
}

fn resolution(report: &mut Report, rounds: usize) {
    const CALLS_PER_SAMPLE: u32 = 50;
    let root = work_dir("resolution");
    repository_with_history(&root, 5_000);
    let expected = git(&root, &["rev-parse", "HEAD"]);
    let read = |root: &Path| match cachekiller_core::git::read_git_revision(
        root,
        &cachekiller_core::environment::GitEnvironment::default(),
    )
    .unwrap()
    {
        cachekiller_core::vcs::VcsLookup::Revision(revision) => revision.id_hex,
        other => panic!("{other:?}"),
    };
    let ours = || read(&root);
    assert_eq!(ours(), expected);
    // A reftable repository, which libgit2 cannot read: the `git` executable reads it.
    let reftable = work_dir("resolution-reftable");
    let _ = fs::remove_dir_all(&reftable);
    fs::create_dir_all(&reftable).unwrap();
    git(&reftable, &["init", "-q", "--ref-format=reftable"]);
    git(&reftable, &["commit", "-q", "--allow-empty", "-m", "one"]);
    let reftable_expected = git(&reftable, &["rev-parse", "HEAD"]);
    let through_git = || read(&reftable);
    assert_eq!(through_git(), reftable_expected);
    let subprocess = || {
        let output = run_checked(
            Command::new("git")
                .args(["rev-parse", "HEAD"])
                .current_dir(&root),
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(subprocess(), expected);
    let mut ours_samples = Vec::new();
    let mut through_git_samples = Vec::new();
    let mut subprocess_samples = Vec::new();
    for _ in 0..rounds.max(5) {
        let started = Instant::now();
        for _ in 0..CALLS_PER_SAMPLE {
            std::hint::black_box(ours());
        }
        ours_samples.push(started.elapsed() / CALLS_PER_SAMPLE);
        let started = Instant::now();
        for _ in 0..CALLS_PER_SAMPLE {
            std::hint::black_box(through_git());
        }
        through_git_samples.push(started.elapsed() / CALLS_PER_SAMPLE);
        let started = Instant::now();
        for _ in 0..CALLS_PER_SAMPLE {
            std::hint::black_box(subprocess());
        }
        subprocess_samples.push(started.elapsed() / CALLS_PER_SAMPLE);
    }
    let (ours, through_git, subprocess) = (
        median(ours_samples),
        median(through_git_samples),
        median(subprocess_samples),
    );
    println!("resolution, 5,000 commits, packed refs:");
    report.row(
        "tag resolution (git2: discover, read HEAD and refs), 5,000 commits, packed refs",
        format!("{:.0} µs", ours.as_secs_f64() * 1e6),
        format!(
            "`git rev-parse HEAD` subprocess {:.0} µs",
            subprocess.as_secs_f64() * 1e6
        ),
        format!(
            "{:.2}x (ours / subprocess)",
            ours.as_secs_f64() / subprocess.as_secs_f64()
        ),
    );
    report.row(
        "tag resolution through the `git` executable (a reftable repository: libgit2 cannot read it; every repository without the `git2` feature)",
        format!("{:.0} µs", through_git.as_secs_f64() * 1e6),
        format!(
            "`git rev-parse HEAD` subprocess {:.0} µs",
            subprocess.as_secs_f64() * 1e6
        ),
        format!(
            "{:.2}x (ours / subprocess)",
            through_git.as_secs_f64() / subprocess.as_secs_f64()
        ),
    );
}

// ---------------------------------------------------------------------------------------
// hashing

/// `VmHWM` (peak resident set) of this process, in KiB.
fn peak_resident_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn hashing(report: &mut Report, rounds: usize) {
    const MEGABYTES: usize = 256;
    let file = work_dir("hashing").join("256MiB.bin");
    write_pseudo_random_file(&file, MEGABYTES);
    let sha1sum = |file: &Path| {
        let output = run_checked(Command::new("sha1sum").arg(file));
        String::from_utf8(output.stdout).unwrap()[..40].to_owned()
    };
    let expected = sha1sum(&file);
    let ours_hex = cachekiller_core::hash::content_tag(
        &cachekiller_core::hash::digest_of_file(
            &file,
            cachekiller_core::hash::DigestAlgorithm::Sha1,
        )
        .unwrap(),
        40,
    );
    assert_eq!(ours_hex, expected, "our SHA-1 must match sha1sum");

    let mut samples: [Vec<Duration>; 3] = Default::default();
    for _ in 0..rounds.max(3) {
        let started = Instant::now();
        std::hint::black_box(
            cachekiller_core::hash::digest_of_file(
                &file,
                cachekiller_core::hash::DigestAlgorithm::Sha1,
            )
            .unwrap(),
        );
        samples[0].push(started.elapsed());
        let started = Instant::now();
        run_checked(Command::new("openssl").args(["dgst", "-sha1"]).arg(&file));
        samples[1].push(started.elapsed());
        let started = Instant::now();
        std::hint::black_box(sha1sum(&file));
        samples[2].push(started.elapsed());
    }
    let [ours, openssl, coreutils] = samples.map(median);
    let throughput =
        |duration: Duration| MEGABYTES as f64 * 1.048_576 / 1000.0 / duration.as_secs_f64();
    println!("hashing, {MEGABYTES} MiB:");
    report.row(
        "SHA-1 throughput, 256 MiB file",
        format!("{:.2} GB/s", throughput(ours)),
        format!("`openssl dgst -sha1` {:.2} GB/s", throughput(openssl)),
        format!("{:.2} of openssl", throughput(ours) / throughput(openssl)),
    );
    report.row(
        "SHA-1 throughput, 256 MiB file",
        format!("{:.2} GB/s", throughput(ours)),
        format!("`sha1sum` {:.2} GB/s", throughput(coreutils)),
        format!("{:.2}x sha1sum", throughput(ours) / throughput(coreutils)),
    );
    // Peak memory: this benchmark re-run as a child that only hashes, next to one that only
    // starts, so that the difference is what hashing holds.
    let child = |arguments: &[&std::ffi::OsStr]| {
        let output = run_checked(Command::new(std::env::current_exe().unwrap()).args(arguments));
        String::from_utf8(output.stdout)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let hashing_kib = child(&["--peak-memory-of-hashing".as_ref(), file.as_os_str()]);
    let idle_kib = child(&["--peak-memory-idle".as_ref()]);
    report.row(
        "peak memory of hashing the 256 MiB file",
        format!("{:.1} MiB", hashing_kib as f64 / 1024.0),
        format!(
            "the same process not hashing {:.1} MiB",
            idle_kib as f64 / 1024.0
        ),
        format!(
            "+{:.1} MiB",
            (hashing_kib.saturating_sub(idle_kib)) as f64 / 1024.0
        ),
    );
}

// ---------------------------------------------------------------------------------------
// memory

fn compile_memory(report: &mut Report) {
    const MEGABYTES: usize = 100;
    let root = work_dir("memory");
    let big = root.join("tracked/static/big.bin");
    write_pseudo_random_file(&big, MEGABYTES);
    let macros = toml_path(&workspace_root().join("cachekiller-macros"));
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"tracked\", \"included\"]\n",
    );
    for (name, source) in [
        (
            "tracked",
            "pub const URL: &str = cachekiller_macros::cdnstatic!(\"big.bin\", mode = \"content\");\n",
        ),
        (
            "included",
            "pub const URL: &str = \"/static/big.bin?tag=0123ab\";\nconst _: &[u8] = include_bytes!(\"../../tracked/static/big.bin\");\n",
        ),
    ] {
        write(
            &root.join(format!("{name}/Cargo.toml")),
            &format!("[package]\nname = \"memory-{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\ncachekiller-macros = {{ path = {macros} }}\n"),
        );
        write(&root.join(format!("{name}/src/lib.rs")), source);
    }
    fs::copy(workspace_root().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    if !root.join(".git").exists() {
        git(&root, &["init", "-q"]);
        git(&root, &["commit", "-q", "--allow-empty", "-m", "one"]);
    }
    // rustc wrapped in GNU time, which appends "<crate name> <peak KiB>" for each compilation.
    let log = root.join("peak-rss.log");
    let wrapper = root.join("rustc-wrapper.sh");
    write(
        &wrapper,
        "#!/bin/sh\nname=unknown; previous=\nfor argument in \"$@\"; do [ \"$previous\" = --crate-name ] && name=$argument; previous=$argument; done\n\
         exec /usr/bin/time -f \"$name %M\" -a -o \"$CACHEKILLER_BENCH_RSS_LOG\" \"$@\"\n",
    );
    run_checked(Command::new("chmod").arg("+x").arg(&wrapper));
    let _ = fs::remove_file(&log);
    let build = |package: &str| {
        let lib = root.join(format!(
            "{}/src/lib.rs",
            package.trim_start_matches("memory-")
        ));
        fs::write(&lib, fs::read(&lib).unwrap()).unwrap();
        run_checked(
            cargo()
                .args(["build", "-q", "-p", package])
                .current_dir(&root)
                .env("RUSTC_WRAPPER", &wrapper)
                .env("CACHEKILLER_BENCH_RSS_LOG", &log),
        );
    };
    build("memory-tracked");
    build("memory-included");
    // Second builds: the dependencies are fresh and the log's last lines are these crates.
    build("memory-tracked");
    build("memory-included");
    let peak = |crate_name: &str| -> u64 {
        fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter_map(|line| line.strip_prefix(crate_name)?.trim().parse().ok())
            .next_back()
            .unwrap()
    };
    let (tracked, included) = (peak("memory_tracked "), peak("memory_included "));
    println!("memory, {MEGABYTES} MiB file:");
    report.row(
        "peak RSS of rustc, content-mode call tracking a 100 MiB file",
        format!("{:.0} MiB", tracked as f64 / 1024.0),
        format!(
            "plain `include_bytes!` of it {:.0} MiB",
            included as f64 / 1024.0
        ),
        format!("{:.2}", tracked as f64 / included as f64),
    );
}

// ---------------------------------------------------------------------------------------
// serving

/// The server every service runs in: axum, one worker thread, the service mounted at
/// `/static`. The first argument names it: `ours` (`StaticFiles`, which compresses from the
/// checked bytes), `servedir`, `servedir-compression` (`ServeDir` + `CompressionLayer`, which
/// compresses every response) or `servedir-precompressed` (`ServeDir` with `.br`/`.gz`
/// siblings). `ours` also answers `/usage` with its cache's bytes and entries.
const SERVING_MAIN: &str = r#"use axum::serve::ListenerExt as _;
use cachekiller_core::service::{SiteSettings, StaticFiles};
use tower_http::services::ServeDir;

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let (service, port, dir) = (&arguments[1], &arguments[2], &arguments[3]);
    let app = match service.as_str() {
        "ours" => {
            let settings = SiteSettings::new("tag", "0123456789abcd", 6, true);
            let static_files = StaticFiles::new(dir, settings).unwrap();
            let usage = static_files.clone();
            axum::Router::new()
                .route(
                    "/usage",
                    axum::routing::get(move || {
                        let usage = usage.cache_usage();
                        async move { format!("{} {}", usage.bytes, usage.entries) }
                    }),
                )
                .nest_service("/static", static_files)
        }
        "servedir" => axum::Router::new().nest_service("/static", ServeDir::new(dir)),
        "servedir-compression" => axum::Router::new()
            .nest_service("/static", ServeDir::new(dir))
            .layer(tower_http::compression::CompressionLayer::new()),
        "servedir-precompressed" => axum::Router::new().nest_service(
            "/static",
            ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        ),
        other => panic!("no service {other}"),
    };
    // Small bodies would otherwise wait for the client's delayed ACK (40 ms): the run would
    // measure that timer, not the services.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap()))
        .await
        .unwrap()
        .tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
    println!("listening");
    axum::serve(listener, app).await.unwrap();
}
"#;

/// Requests per second `wrk` measures against `url` for `seconds`, one thread, 8 connections.
fn wrk_requests_per_second(url: &str, headers: &[String], seconds: u32) -> f64 {
    let mut command = Command::new("wrk");
    command.args(["-t1", "-c8", &format!("-d{seconds}s"), "--timeout", "5s"]);
    for header in headers {
        command.args(["-H", header]);
    }
    let output = run_checked(command.arg(url));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        !report.contains("Non-2xx or 3xx responses"),
        "errors in the run:\n{report}"
    );
    report
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in:\n{report}"))
}

/// A stylesheet of about `kilobytes` KiB that compresses as real ones do (about 5:1), not as
/// one repeated line does.
fn realistic_stylesheet(kilobytes: usize) -> String {
    let mut css = String::new();
    let mut index = 0_usize;
    while css.len() < kilobytes * 1024 {
        let _ = writeln!(
            css,
            ".c{index:x} > .item-{} {{ margin: {}px {}px; color: #{:06x}; }}",
            index * 7 % 1000,
            index % 17,
            index * 3 % 29,
            index.wrapping_mul(2_654_435_761) % 0x0100_0000
        );
        index += 1;
    }
    css
}

/// Generates and builds the bench server; returns it and the dir of the files it serves.
fn build_serving_bench() -> (PathBuf, PathBuf) {
    let root = work_dir("serving");
    let _ = fs::remove_dir_all(&root);
    let core = toml_path(&workspace_root().join("cachekiller-core"));
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"serving-bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             [dependencies]\ncachekiller-core = {{ path = {core}, default-features = false, features = [\"service\"] }}\n\
             axum = {{ version = \"0.8\", default-features = false, features = [\"http1\", \"tokio\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\", \"net\"] }}\n\
             tower-http = {{ version = \"0.7\", features = [\"fs\", \"compression-br\", \"compression-gzip\"] }}\n[workspace]\n"
        ),
    );
    write(&root.join("src/main.rs"), SERVING_MAIN);
    fs::copy(
        workspace_root().join("tests/fixtures/axum-site/Cargo.lock"),
        root.join("Cargo.lock"),
    )
    .unwrap();
    let files = root.join("files");
    write(
        &files.join("css/app.css"),
        &"body { margin: 0 }\n".repeat(100),
    );
    write(&files.join("css/big.css"), &realistic_stylesheet(100));
    // Fresh siblings for `ServeDir`'s precompressed case, made by the reference tools.
    let big = files.join("css/big.css");
    run_checked(
        Command::new("gzip")
            .args(["-9", "-k", "-f", "-n"])
            .arg(&big),
    );
    run_checked(
        Command::new("brotli")
            .args(["-q", "11", "-k", "-f"])
            .arg(&big),
    );
    write_pseudo_random_file(&files.join("img/photo.jpg"), 1);
    run_checked(
        cargo()
            .args(["build", "--release", "-q"])
            .current_dir(&root),
    );
    (root.join("target/release/serving-bench"), files)
}

/// The `ETag` `StaticFiles` sends for `file`: the quoted hex SHA-1 of its bytes, from
/// `sha1sum`.
fn content_etag(file: &Path) -> String {
    let output = run_checked(Command::new("sha1sum").arg(file));
    format!("\"{}\"", &String::from_utf8(output.stdout).unwrap()[..40])
}

/// The HTTP date of `file`'s mtime, as `Last-Modified` gives it.
fn http_date_of_mtime(file: &Path) -> String {
    let modified = fs::metadata(file).unwrap().modified().unwrap();
    let seconds = modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let output = run_checked(Command::new("date").args([
        "-u",
        "-d",
        &format!("@{seconds}"),
        "+%a, %d %b %Y %H:%M:%S GMT",
    ]));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// One measured case: `StaticFiles` at `ours` against `baseline` (a service of
/// [`SERVING_MAIN`]) at `theirs`, each with its headers.
struct ServingCase {
    name: &'static str,
    ours: (String, Vec<String>),
    baseline: &'static str,
    theirs: (String, Vec<String>),
}

/// Starts a service of the bench server; returns it and its port.
fn start_serving(binary: &Path, service: &str, files: &Path) -> (std::process::Child, u16) {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut child = Command::new(binary)
        .args([service, &port.to_string(), files.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, port)
}

/// The cases of the serving section, for the files at `files`.
fn serving_cases(files: &Path) -> Vec<ServingCase> {
    let content_tag = |file: &str| content_etag(&files.join(file))[1..7].to_owned();
    let (css_tag, image_tag, big_tag) = (
        content_tag("css/app.css"),
        content_tag("img/photo.jpg"),
        content_tag("css/big.css"),
    );
    let last_modified = http_date_of_mtime(&files.join("css/app.css"));
    let stylesheet_etag = content_etag(&files.join("css/app.css"));
    let compressed = vec!["Accept-Encoding: br, gzip".to_owned()];
    // The same file and answer for both sides; `ServeDir` ignores the tag. Each side is sent
    // the validator it issues (ours: the content `ETag`; `ServeDir`: its `Last-Modified`).
    let tagged = |path: &str, tag: &str| {
        let (stem, extension) = path.rsplit_once('.').unwrap();
        (
            format!("/static/{stem}.{tag}.{extension}"),
            format!("/static/{path}?tag={tag}"),
        )
    };
    let (css_ours, css_theirs) = tagged("css/app.css", &css_tag);
    let (image_ours, image_theirs) = tagged("img/photo.jpg", &image_tag);
    let (big_ours, big_theirs) = tagged("css/big.css", &big_tag);
    vec![
        ServingCase {
            name: "a tagged stylesheet",
            ours: (css_ours.clone(), Vec::new()),
            baseline: "servedir",
            theirs: (css_theirs.clone(), Vec::new()),
        },
        ServingCase {
            name: "a tagged 1 MB image",
            ours: (image_ours, Vec::new()),
            baseline: "servedir",
            theirs: (image_theirs, Vec::new()),
        },
        ServingCase {
            name: "an untagged file",
            ours: ("/static/css/app.css".to_owned(), Vec::new()),
            baseline: "servedir",
            theirs: ("/static/css/app.css".to_owned(), Vec::new()),
        },
        ServingCase {
            name: "a conditional request answered 304",
            ours: (css_ours, vec![format!("If-None-Match: {stylesheet_etag}")]),
            baseline: "servedir",
            theirs: (
                css_theirs,
                vec![format!("If-Modified-Since: {last_modified}")],
            ),
        },
        ServingCase {
            name: "a tagged 100 KB stylesheet, br or gzip",
            ours: (big_ours.clone(), compressed.clone()),
            baseline: "servedir-compression",
            theirs: (big_theirs.clone(), compressed.clone()),
        },
        ServingCase {
            name: "a tagged 100 KB stylesheet, br or gzip, against fresh siblings",
            ours: (big_ours, compressed.clone()),
            baseline: "servedir-precompressed",
            theirs: (big_theirs, compressed),
        },
    ]
}

fn serving(report: &mut Report, rounds: usize) {
    let (binary, files) = build_serving_bench();
    let cases = serving_cases(&files);
    let seconds = 4;
    let mut samples = vec![(Vec::new(), Vec::new()); cases.len()];
    let mut usage = String::new();
    for _ in 0..rounds {
        for service in [
            "ours",
            "servedir",
            "servedir-compression",
            "servedir-precompressed",
        ] {
            let (mut child, port) = start_serving(&binary, service, &files);
            for (index, case) in cases.iter().enumerate() {
                let ((path, headers), side) = if service == "ours" {
                    (&case.ours, &mut samples[index].0)
                } else if service == case.baseline {
                    (&case.theirs, &mut samples[index].1)
                } else {
                    continue;
                };
                let url = format!("http://127.0.0.1:{port}{path}");
                side.push(wrk_requests_per_second(&url, headers, seconds));
            }
            if service == "ours" {
                let output = run_checked(
                    Command::new("curl").args(["-s", &format!("http://127.0.0.1:{port}/usage")]),
                );
                usage = String::from_utf8(output.stdout).unwrap();
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let median_rate = |mut rates: Vec<f64>| {
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    println!("serving, wrk -t1 -c8 -d{seconds}s, release builds:");
    for (case, (ours, theirs)) in cases.iter().zip(samples) {
        let (ours, theirs) = (median_rate(ours), median_rate(theirs));
        let baseline = match case.baseline {
            "servedir" => "`ServeDir`",
            "servedir-compression" => "`ServeDir` + `CompressionLayer`",
            _ => "`ServeDir` with `.br`/`.gz` siblings",
        };
        report.row(
            &format!("serving {}: `StaticFiles` requests/s", case.name),
            format!("{ours:.0}"),
            format!("{baseline} {theirs:.0}"),
            format!("{:.2}x", ours / theirs),
        );
    }
    // What the cache held after the runs: three files in memory (two stylesheets, with a
    // Brotli and a gzip variant of the big one, and the 1 MB image).
    let (bytes, entries) = usage.trim().split_once(' ').unwrap_or(("0", "0"));
    let on_disk: u64 = ["css/app.css", "css/big.css", "img/photo.jpg"]
        .iter()
        .map(|file| fs::metadata(files.join(file)).unwrap().len())
        .sum();
    let bytes: f64 = bytes.parse().unwrap_or(0.0);
    report.row(
        &format!("`StaticFiles` cache after the runs ({entries} versions)"),
        format!("{:.0} KiB", bytes / 1024.0),
        format!("the files on disk {:.0} KiB", on_disk as f64 / 1024.0),
        format!("{:.2}x", bytes / on_disk as f64),
    );
}

// ---------------------------------------------------------------------------------------
// runtime

/// The run-time API for templates read at run time: a cached `StaticFiles::url` call against
/// formatting the same URL by hand, and a `MiniJinja` page with 20 `static()` calls against the
/// same page with 20 literal URLs.
fn runtime(report: &mut Report, rounds: usize) {
    use cachekiller_core::service::{SiteSettings, StaticFiles};

    let root = work_dir("runtime");
    let _ = fs::remove_dir_all(&root);
    for index in 0..20 {
        write(
            &root.join(format!("static/css/page{index}.css")),
            "body { margin: 0 }\n",
        );
    }
    let settings = SiteSettings::new("tag", "0123456789abcd", 6, true)
        .mode(cachekiller_core::url::TagMode::Content);
    let static_files = StaticFiles::new(root.join("static"), settings).unwrap();
    let url = static_files.url("css/page0.css").unwrap();
    let (mut calls, mut literals) = (String::new(), String::new());
    for index in 0..20 {
        let path = format!("css/page{index}.css");
        let _ = writeln!(
            calls,
            "<link rel=\"stylesheet\" href=\"{{{{ static('{path}') }}}}\">"
        );
        let url = static_files.url(&path).unwrap();
        let _ = writeln!(literals, "<link rel=\"stylesheet\" href=\"{url}\">");
    }
    let mut environment = minijinja::Environment::new();
    cachekiller_core::templates::minijinja::add_asset_functions(
        &mut environment,
        static_files.clone(),
    );
    environment.add_template("calls.html", &calls).unwrap();
    environment
        .add_template("literals.html", &literals)
        .unwrap();
    let (with_calls, with_literals) = (
        environment.get_template("calls.html").unwrap(),
        environment.get_template("literals.html").unwrap(),
    );
    assert_eq!(
        with_calls.render(()).unwrap(),
        with_literals.render(()).unwrap()
    );
    // The memo keeps a URL for a second: each round asks again within it, as a busy server does.
    let times = time_renders(
        rounds,
        &[
            &|| format!("/static/css/page0.css?tag={}", &url[url.len() - 6..]).len(),
            &|| static_files.url("css/page0.css").unwrap().len(),
            &|| with_literals.render(()).unwrap().len(),
            &|| with_calls.render(()).unwrap().len(),
        ],
    );
    println!("runtime, release:");
    report.row(
        "run-time `StaticFiles::url`, a cached call",
        format!("{} ns", times[1].as_nanos()),
        format!("`format!` of the URL {} ns", times[0].as_nanos()),
        format!("{:.2}x", times[1].as_secs_f64() / times[0].as_secs_f64()),
    );
    report.row(
        "`MiniJinja` page, 20 `static()` calls",
        format!("{} ns", times[3].as_nanos()),
        format!("20 literal URLs {} ns", times[2].as_nanos()),
        format!("{:.2}x", times[3].as_secs_f64() / times[2].as_secs_f64()),
    );
}

// ---------------------------------------------------------------------------------------
// typos

fn typos(report: &mut Report, rounds: usize) {
    const STATIC_FILES: usize = 20_000;
    const CALLS: usize = 50;
    let root = work_dir("typos");
    let _ = fs::remove_dir_all(&root);
    let macros = toml_path(&workspace_root().join("cachekiller-macros"));
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"typos\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             [dependencies]\ncachekiller-macros = {{ path = {macros} }}\n[workspace]\n"
        ),
    );
    fs::copy(workspace_root().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    for file in 0..STATIC_FILES {
        write(
            &root.join(format!(
                "static/node_modules/package{}/lib/module{file}.js",
                file / 100
            )),
            "",
        );
    }
    for file in 0..CALLS {
        write(&root.join(format!("static/css/page{file}.css")), "");
    }
    // (label, how many calls name a missing file)
    let variants = [("no typo", 0), ("1 typo", 1), ("50 typos", CALLS)];
    let source = |typos: usize| {
        let mut source = String::new();
        for call in 0..CALLS {
            let name = if call < typos { "pgae" } else { "page" };
            let _ = writeln!(
                source,
                "pub const URL_{call}: &str = cachekiller_macros::cdnstatic!(\"css/{name}{call}.css\");"
            );
        }
        source
    };
    let build = || {
        cargo()
            .args(["build", "-q"])
            .current_dir(&root)
            .output()
            .unwrap()
    };
    write(&root.join("src/lib.rs"), &source(0));
    run_checked(cargo().args(["build", "-q"]).current_dir(&root));
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (index, (label, typos)) in variants.iter().enumerate() {
            write(&root.join("src/lib.rs"), &source(*typos));
            let started = Instant::now();
            let output = build();
            samples[index].push(started.elapsed());
            let errors = String::from_utf8_lossy(&output.stderr)
                .matches("did you mean")
                .count();
            assert_eq!(errors, *typos, "{label}: one suggestion per typo");
        }
    }
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    println!("typos, {STATIC_FILES} static files, {CALLS} calls:");
    for (index, (label, typos)) in variants.iter().enumerate().skip(1) {
        report.row(
            &format!("`cargo build` with {label} among {CALLS} calls, {STATIC_FILES} files in `static/node_modules`"),
            format!("{:.2} s", medians[index].as_secs_f64()),
            format!("no typo {:.2} s", medians[0].as_secs_f64()),
            format!(
                "+{:.0} ms per typo",
                (medians[index].as_secs_f64() - medians[0].as_secs_f64()) * 1e3 / *typos as f64
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------
// cold

fn cold_build(report: &mut Report) {
    let root = work_dir("cold");
    let _ = fs::remove_dir_all(&root);
    let macros = toml_path(&workspace_root().join("cachekiller-macros"));
    let crates = [
        ("cold-cachekiller", format!("cachekiller-macros = {{ path = {macros} }}\n"), "pub const URL: &str = cachekiller_macros::cdnstatic!(\"a.css\");\n"),
        (
            "cold-syn",
            "syn = { version = \"2\", default-features = false, features = [\"parsing\", \"printing\", \"proc-macro\"] }\nquote = \"1\"\nproc-macro2 = \"1\"\n".to_owned(),
            "",
        ),
        ("cold-git2", "git2 = { version = \"0.21\", default-features = false }\n".to_owned(), ""),
        (
            "cold-cachekiller-without-libgit2",
            format!("cachekiller-macros = {{ path = {macros}, default-features = false }}\n"),
            "pub const URL: &str = cachekiller_macros::cdnstatic!(\"a.css\");\n",
        ),
    ];
    let mut times = Vec::new();
    for (name, dependencies, source) in &crates {
        let dir = root.join(name);
        write(
            &dir.join("Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\n{dependencies}\n[workspace]\n"),
        );
        write(&dir.join("src/lib.rs"), source);
        fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        // Fetch first, so that the time is the build's.
        run_checked(cargo().args(["fetch", "-q"]).current_dir(&dir));
        let started = Instant::now();
        run_checked(cargo().args(["build", "-q"]).current_dir(&dir));
        times.push(started.elapsed());
    }
    println!("cold builds, empty target dirs:");
    report.row(
        "cold `cargo build` of a crate using `cachekiller-macros` (all dependencies)",
        format!("{:.1} s", times[0].as_secs_f64()),
        format!(
            "`syn` + `quote` + `proc-macro2` {:.1} s",
            times[1].as_secs_f64()
        ),
        format!("{:.1}x", times[0].as_secs_f64() / times[1].as_secs_f64()),
    );
    report.row(
        "cold `cargo build` of `git2` alone (no default features)",
        format!("{:.1} s", times[2].as_secs_f64()),
        format!("the whole of cachekiller {:.1} s", times[0].as_secs_f64()),
        format!(
            "{:.0}% of it",
            times[2].as_secs_f64() / times[0].as_secs_f64() * 100.0
        ),
    );
    report.row(
        "cold `cargo build` of a crate using `cachekiller-macros` without libgit2 (`default-features = false`)",
        format!("{:.1} s", times[3].as_secs_f64()),
        format!(
            "`syn` + `quote` + `proc-macro2` {:.1} s",
            times[1].as_secs_f64()
        ),
        format!("{:.1}x", times[3].as_secs_f64() / times[1].as_secs_f64()),
    );
}

/// A static dir whose `css/big.css` is about 1 MiB with 1,000 `url()` references to 100
/// fonts and images (a comment and a rule between them).
fn generate_big_stylesheet(root: &Path) -> PathBuf {
    let static_dir = root.join("static");
    for index in 0..100 {
        let path = static_dir.join(format!("img/sprite-{index}.png"));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("PNG bytes of sprite {index}\n").repeat(200)).unwrap();
    }
    let mut css = String::new();
    let mut index = 0;
    while css.len() < 1 << 20 {
        let padding =
            "  margin: 0 auto; padding: 1rem 2rem; color: #1b1b1f; border: 1px solid #ddd;\n";
        let _ = write!(
            css,
            "/* rule {index}: url(not-a-reference.png) */\n.sprite-{index} {{\n  background: url(../img/sprite-{}.png) no-repeat;\n{}}}\n",
            index % 100,
            padding.repeat(12)
        );
        index += 1;
    }
    assert!(index >= 1000, "{index} references");
    let path = static_dir.join("css/big.css");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, css).unwrap();
    println!(
        "stylesheets: {} bytes, {index} references",
        fs::metadata(&path).unwrap().len()
    );
    path
}

fn stylesheets(report: &mut Report, rounds: usize) {
    use cachekiller_core::file_stamp::file_stamp;
    use cachekiller_core::hash::{digest_of_bytes, DigestAlgorithm};
    use cachekiller_core::static_files::StaticDirs;
    use cachekiller_core::stylesheet::{rewrite_stylesheet, ReferenceTags, StylesheetCache};
    use cachekiller_core::url::{TagIn, TagMode};

    let root = work_dir("stylesheets");
    let file = generate_big_stylesheet(&root);
    let lookup = StaticDirs::new(&root, &["static".to_owned()]);
    let tags = |mode| ReferenceTags {
        static_url: "/static/",
        tag_in: TagIn::Name,
        param: "tag",
        mode,
        revision_tag: Ok("4b400e3aeb0426"),
        hash_length: 6,
    };
    let rewrite = |mode| {
        rewrite_stylesheet(&lookup, "css/big.css", &file, file_stamp(&file), tags(mode)).unwrap()
    };
    let checked = rewrite(TagMode::Content);
    assert!(checked.unresolved.is_empty());
    assert!(checked.bytes.len() > fs::read(&file).unwrap().len());
    let cache = StylesheetCache::default();
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for _ in 0..rounds.max(5) * 4 {
        let started = Instant::now();
        std::hint::black_box(rewrite(TagMode::Content));
        samples[0].push(started.elapsed());
        let started = Instant::now();
        std::hint::black_box(rewrite(TagMode::Vcs));
        samples[1].push(started.elapsed());
        let started = Instant::now();
        let cached = cache
            .rewritten(
                &lookup,
                "css/big.css",
                &file,
                file_stamp(&file),
                tags(TagMode::Content),
            )
            .unwrap();
        std::hint::black_box(cached);
        samples[2].push(started.elapsed());
        let started = Instant::now();
        std::hint::black_box(digest_of_bytes(
            &fs::read(&file).unwrap(),
            DigestAlgorithm::Sha1,
        ));
        samples[3].push(started.elapsed());
    }
    let [content, vcs, cached, baseline] = samples.map(median);
    let milliseconds = |duration: Duration| format!("{:.2} ms", duration.as_secs_f64() * 1000.0);
    let baseline_text = format!("read + SHA-1 of the file {}", milliseconds(baseline));
    let ratio =
        |duration: Duration| format!("{:.1}x", duration.as_secs_f64() / baseline.as_secs_f64());
    println!("stylesheets:");
    report.row(
        "rewrite a 1 MiB stylesheet, 1,000 references, content tags (goal < 10 ms)",
        milliseconds(content),
        baseline_text.clone(),
        ratio(content),
    );
    report.row(
        "the same with revision tags",
        milliseconds(vcs),
        baseline_text.clone(),
        ratio(vcs),
    );
    report.row(
        "the same through the service's cache (101 files checked unchanged)",
        milliseconds(cached),
        baseline_text,
        ratio(cached),
    );
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    // Child modes of the hashing section.
    if arguments.first().map(String::as_str) == Some("--peak-memory-of-hashing") {
        let file = PathBuf::from(&arguments[1]);
        let digest = cachekiller_core::hash::digest_of_file(
            &file,
            cachekiller_core::hash::DigestAlgorithm::Sha1,
        )
        .unwrap();
        std::hint::black_box(digest);
        println!("{}", peak_resident_kib());
        return;
    }
    if arguments.first().map(String::as_str) == Some("--peak-memory-idle") {
        println!("{}", peak_resident_kib());
        return;
    }
    let sections: Vec<&String> = arguments
        .iter()
        .filter(|argument| !argument.starts_with('-'))
        .collect();
    let wanted =
        |name: &str| sections.is_empty() || sections.iter().any(|section| *section == name);
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(5);
    let mut report = Report { rows: Vec::new() };
    if wanted("render") {
        render(&mut report, rounds);
    }
    if wanted("expansion") {
        expansion(&mut report, rounds);
    }
    if wanted("resolution") {
        resolution(&mut report, rounds);
    }
    if wanted("hashing") {
        hashing(&mut report, rounds);
    }
    if wanted("memory") {
        compile_memory(&mut report);
    }
    if wanted("serving") {
        serving(&mut report, rounds);
    }
    if wanted("stylesheets") {
        stylesheets(&mut report, rounds);
    }
    if wanted("typos") {
        typos(&mut report, rounds);
    }
    if wanted("runtime") {
        runtime(&mut report, rounds);
    }
    if wanted("cold") {
        cold_build(&mut report);
    }
    let machine = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|cpuinfo| {
            cpuinfo
                .lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|name| name.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!(
        "\nMeasured on {machine}, {cores} cores, rounds = {rounds}:\n\n{}",
        report.markdown()
    );
}
