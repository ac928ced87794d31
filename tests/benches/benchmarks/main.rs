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
//!   the same crate with a plain `include_bytes!` of it, and for `cdnembed!()` of a 50 MB file
//!   vs a plain `include_bytes!` of that;
//! - `cold`: building `cachekiller-macros` and its dependencies from scratch vs `syn` +
//!   `quote` + `proc-macro2` alone (and `git2` alone, and the macros without libgit2);
//! - `serving`: requests per second of cachekiller's `StaticFiles` vs bare tower-http
//!   `ServeDir` on the same files (a tagged stylesheet, a tagged 1 MB image, an untagged file,
//!   a conditional request answered 304), and for a 100 KB stylesheet sent compressed vs
//!   `ServeDir` + `CompressionLayer` and vs `ServeDir` with fresh `.br`/`.gz` siblings; the
//!   memory of the cached versions; release builds under axum, loaded with `wrk`;
//! - `frameworks`: `StaticFiles` through the actix-web and Rocket adapters vs
//!   `actix_files::Files` and Rocket's `FileServer` on the same files (a tagged 100 KB
//!   stylesheet asked with `Accept-Encoding: br, gzip`, a tagged 1 MB image, an untagged file,
//!   a `304` where the server issues a validator), each adapter vs the tower path in axum, and
//!   the stylesheet's gzip body vs nginx with `gzip_static`; one worker thread each, `wrk`;
//! - `stylesheets`: rewriting a 1 MiB stylesheet with 1,000 references (to 100 files) to
//!   their tagged form, uncached and through the cache, vs reading and hashing the same file;
//! - `runtime`: a cached `StaticFiles::url` call vs formatting the URL, and a `MiniJinja` page
//!   with 20 `static()` calls vs the same page with 20 literal URLs;
//! - `modules`: reading the imports of 1 MiB of real-world JavaScript (the npm packages
//!   `tests/run` installs) vs SHA-1 of the same bytes, and a `cdnimportmap!` of a 50-module
//!   graph (dev profile, per call) vs 50 `cdnintegrity!` of the same files;
//! - `deploy_skew`: an old page's stylesheet (a content tag of the previous deploy) answered
//!   from the archive, on a local directory and on moto's S3 server, vs the current stylesheet,
//!   both after the first hit (in process, tower `oneshot`), and the first hit of a fresh
//!   instance;
//! - `manifest`: `cdnsettings!()` with the revision manifest of 200 and 20,000 committed
//!   static files vs `cdntag!()` in the same crate, warm and after a one-file commit; its size
//!   in the binary; 20,000 files without a repository after one changed, with the digests kept
//!   vs hashed again; a request under the revision tag vs a content tag;
//! - `embedded`: a release binary that carries its static files (`StaticFiles::embedded` with
//!   `cdnembed!()`) vs memory-serve, rust-embed + axum-embed and static-serve, the same files
//!   (a 100 KB stylesheet, a 1 MB image, 20 small files) under axum: cold and incremental
//!   `cargo build --release`, binary size, start-up, requests/s for the tagged stylesheet
//!   (`br, gzip`) and the image, RSS after serving; one worker thread each, `wrk`;
//! - `export`: a static export of 2,000 files (20 MB: 1,200 stylesheets and scripts, 800
//!   images) to a folder vs `cp -r` of the tree, compression off vs on (Brotli 11 and gzip
//!   siblings), and a second export after one file changed (what it writes and compresses);
//! - `typos`: a crate with 20,000 files in `static/node_modules` and 50 calls, of which 0, 1
//!   or 50 name a missing file (each a compile error with a "did you mean" search).
#![allow(missing_docs, clippy::cast_precision_loss)]

mod cold_build;
mod common;
mod compile_memory;
mod deploy_skew;
mod embedded;
mod expansion;
mod export;
mod frameworks;
mod hashing;
mod manifest;
mod modules;
mod render;
mod resolution;
mod runtime;
mod serving;
mod stylesheets;
mod typos;

use std::fs;
use std::path::PathBuf;

use cold_build::cold_build;
use common::{peak_resident_kib, Report};
use compile_memory::compile_memory;
use deploy_skew::deploy_skew;
use embedded::embedded;
use expansion::expansion;
use export::export;
use frameworks::frameworks;
use hashing::hashing;
use manifest::manifest;
use modules::modules;
use render::render;
use resolution::resolution;
use runtime::runtime;
use serving::serving;
use stylesheets::stylesheets;
use typos::typos;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    // Child modes of the hashing section.
    if arguments.first().map(String::as_str) == Some("--peak-memory-of-hashing") {
        let file = PathBuf::from(&arguments[1]);
        let digest = cachekiller_core::__private::hash::digest_of_file(
            &file,
            cachekiller_core::__private::hash::DigestAlgorithm::Sha1,
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
    require_tools(&wanted);
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
    if wanted("frameworks") {
        frameworks(&mut report, rounds);
    }
    if wanted("stylesheets") {
        stylesheets(&mut report, rounds);
    }
    if wanted("embedded") {
        embedded(&mut report, rounds);
    }
    if wanted("export") {
        export(&mut report, rounds);
    }
    if wanted("typos") {
        typos(&mut report, rounds);
    }
    if wanted("runtime") {
        runtime(&mut report, rounds);
    }
    if wanted("modules") {
        modules(&mut report, rounds);
    }
    if wanted("deploy_skew") {
        deploy_skew(&mut report, rounds);
    }
    if wanted("manifest") {
        manifest(&mut report, rounds);
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

/// The executables each section runs, besides cargo.
const SECTION_TOOLS: &[(&str, &[&str])] = &[
    ("hashing", &["openssl", "sha1sum"]),
    (
        "serving",
        &["wrk", "brotli", "gzip", "curl", "sha1sum", "date"],
    ),
    ("frameworks", &["wrk", "gzip", "curl", "nginx", "sha1sum"]),
    ("deploy_skew", &["sha1sum"]),
    ("embedded", &["wrk", "brotli", "gzip", "curl", "git"]),
    ("export", &["cp"]),
];

/// Stops before anything is built if a wanted section needs an executable this machine does
/// not have, naming it and the command that installs it.
fn require_tools(wanted: &dyn Fn(&str) -> bool) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = |tool: &str| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file());
    let missing: Vec<String> = SECTION_TOOLS
        .iter()
        .filter(|(section, _)| wanted(section))
        .flat_map(|(section, tools)| {
            tools
                .iter()
                .filter(|tool| !found(tool))
                .map(move |tool| format!("`{tool}` (section {section})"))
        })
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "the benchmarks need {}: run `tests/run --setup` (it installs them), then again",
            missing.join(", ")
        );
        std::process::exit(1);
    }
}
