//! The `memory` section (see the list in `main.rs`).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::{
    cargo, run_checked, toml_path, work_dir, write, write_pseudo_random_file, Report,
};
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::workspace_root;

/// The section's workspace in `root`: `tracked` (a content-mode call on a 100 MiB file),
/// `included` (a plain `include_bytes!` of it, in a `static`, as one embeds a file), `embedded` (`cdnembed!()` of a 50 MiB file)
/// and `included50` (a plain `include_bytes!` of that).
fn write_crates(root: &Path) {
    let macros = toml_path(&workspace_root().join("cachekiller-macros"));
    let core = toml_path(&workspace_root().join("cachekiller-core"));
    write(
    &root.join("Cargo.toml"),
    "[workspace]\nresolver = \"2\"\nmembers = [\"tracked\", \"included\", \"embedded\", \"included50\"]\n",
);
    for (name, source) in [
    (
        "tracked",
        "pub const URL: &str = cachekiller_macros::cdnstatic!(\"big.bin\", mode = \"content\");\n",
    ),
    (
        "included",
        "pub const URL: &str = \"/static/big.bin?tag=0123ab\";\npub static BYTES: &[u8] = include_bytes!(\"../../tracked/static/big.bin\");\n",
    ),
    (
        "embedded",
        "pub fn files() -> cachekiller_core::service::EmbeddedFiles {\n    cachekiller_macros::cdnembed!(embed = \"always\", embed_max_bytes = 104857600)\n}\n",
    ),
    (
        "included50",
        "pub static BYTES: &[u8] = include_bytes!(\"../../embedded/static/big.bin\");\n",
    ),
] {
    write(
        &root.join(format!("{name}/Cargo.toml")),
        &format!("[package]\nname = \"memory-{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\ncachekiller-macros = {{ path = {macros} }}\ncachekiller-core = {{ path = {core} }}\n"),
    );
    write(&root.join(format!("{name}/src/lib.rs")), source);
}
}

pub(crate) fn compile_memory(report: &mut Report) {
    const MEGABYTES: usize = 100;
    /// The file `cdnembed!()` carries: the size the issue of embedding asked about.
    const EMBEDDED_MEGABYTES: usize = 50;
    let root = work_dir("memory");
    let big = root.join("tracked/static/big.bin");
    write_pseudo_random_file(&big, MEGABYTES);
    write_pseudo_random_file(&root.join("embedded/static/big.bin"), EMBEDDED_MEGABYTES);
    write_crates(&root);
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
    let crates = [
        "memory-tracked",
        "memory-included",
        "memory-embedded",
        "memory-included50",
    ];
    for package in crates {
        build(package);
    }
    // Second builds: the dependencies are fresh and the log's last lines are these crates.
    for package in crates {
        build(package);
    }
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
    let (embedded, included) = (peak("memory_embedded "), peak("memory_included50 "));
    report.row(
        &format!(
            "peak RSS of rustc, `cdnembed!()` of a {EMBEDDED_MEGABYTES} MiB file (incompressible: no variants)"
        ),
        format!("{:.0} MiB", embedded as f64 / 1024.0),
        format!(
            "plain `include_bytes!` of it {:.0} MiB",
            included as f64 / 1024.0
        ),
        format!("{:.2}", embedded as f64 / included as f64),
    );
}

// ---------------------------------------------------------------------------------------
// serving
