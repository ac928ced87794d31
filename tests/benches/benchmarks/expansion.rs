//! The `expansion` section (see the list in `main.rs`).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{cargo, median, run_checked, toml_path, work_dir, write, Report, CALLS, FILES};
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::workspace_root;

pub(crate) type CallFormat = fn(usize) -> String;

/// The generated crates: (name, extra dependency, whether it has the static files, how call
/// `i` is written).
pub(crate) const VARIANTS: &[(&str, &str, bool, CallFormat)] = &[
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
pub(crate) fn generate_expansion_crates(root: &Path) {
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

pub(crate) fn time_expansion_crates(
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

pub(crate) fn expansion(report: &mut Report, rounds: usize) {
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
