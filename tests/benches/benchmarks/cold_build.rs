//! The `cold` section (see the list in `main.rs`).

use std::fs;
use std::time::Instant;

use crate::common::{cargo, run_checked, toml_path, work_dir, write, Report};
use cachekiller_tests::scratch::workspace_root;

pub(crate) fn cold_build(report: &mut Report) {
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
