//! The `typos` section (see the list in `main.rs`).

use std::fmt::Write as _;
use std::fs;
use std::time::{Duration, Instant};

use crate::common::{cargo, median, run_checked, toml_path, work_dir, write, Report};
use cachekiller_tests::scratch::workspace_root;

pub(crate) fn typos(report: &mut Report, rounds: usize) {
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
