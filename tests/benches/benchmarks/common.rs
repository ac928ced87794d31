//! What every section shares: the report, timing, running commands, work files.
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cachekiller_tests::scratch::workspace_root;

/// Macro calls in each generated crate of the expansion section.
pub(crate) const CALLS: usize = 10_000;
/// Distinct static files those calls cycle through.
pub(crate) const FILES: usize = 200;

pub(crate) struct Report {
    pub(crate) rows: Vec<[String; 4]>,
}

impl Report {
    pub(crate) fn row(&mut self, measure: &str, ours: String, baseline: String, ratio: String) {
        println!("  {measure}: {ours} vs {baseline} ({ratio})");
        self.rows.push([measure.to_owned(), ours, baseline, ratio]);
    }

    pub(crate) fn markdown(&self) -> String {
        let mut table = String::from("| measure | ours | baseline | ratio |\n|---|---|---|---|\n");
        for [measure, ours, baseline, ratio] in &self.rows {
            let _ = writeln!(table, "| {measure} | {ours} | {baseline} | {ratio} |");
        }
        table
    }
}

pub(crate) fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub(crate) fn run_checked(command: &mut Command) -> std::process::Output {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub(crate) fn cargo() -> Command {
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

pub(crate) fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

pub(crate) fn toml_path(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

pub(crate) fn work_dir(section: &str) -> PathBuf {
    workspace_root().join("target/bench-work").join(section)
}

/// A file of `megabytes` MiB of xorshift bytes (incompressible, reproducible).
pub(crate) fn write_pseudo_random_file(path: &Path, megabytes: usize) {
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

/// `VmHWM` (peak resident set) of this process, in KiB.
pub(crate) fn peak_resident_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
