//! The `export` section (see the list in `main.rs`): a static export of 2,000 files (20 MB:
//! 1,200 stylesheets and scripts of text, 800 images of incompressible bytes) vs `cp -r` of
//! the same tree, with compression off vs on, and a second export after one file changed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cachekiller_core::service::export::{Destination, ExportReport};
use cachekiller_core::service::StaticFiles;
use cachekiller_core::{SiteSettings, TagIn, TagMode};

use crate::common::{median, run_checked, work_dir, Report};

const TEXT_FILES: usize = 1_200;
const IMAGES: usize = 800;
const FILE_BYTES: usize = 10 * 1024;

/// Pseudo-random words (a fixed seed): text that compresses about as CSS and JavaScript do.
fn text(seed: u64, length: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "color", "margin", "padding", "function", "return", "const", "display", "flex", "border",
        "width", "height", "var", "let", "this", "value", "0px", "auto", "none", "{", "}", ";",
        ":", "(", ")", "=>", "document", "element", "grid", "font", "1rem",
    ];
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut out = Vec::with_capacity(length + 16);
    while out.len() < length {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let word = WORDS[usize::try_from(state >> 59).unwrap_or(0) % WORDS.len()];
        out.extend_from_slice(word.as_bytes());
        out.push(if state & 0x700 == 0 { b'\n' } else { b' ' });
    }
    out.truncate(length);
    out
}

/// Incompressible bytes (an image's).
fn noise(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// The site: `root/static/` with the files, 100 to a folder.
fn write_site(root: &Path) {
    for index in 0..TEXT_FILES + IMAGES {
        let folder = root.join(format!("static/d{:02}", index / 100));
        std::fs::create_dir_all(&folder).unwrap();
        let seed = index as u64;
        let (name, bytes) = if index < TEXT_FILES {
            let extension = if index % 2 == 0 { "css" } else { "js" };
            (format!("f{index}.{extension}"), text(seed, FILE_BYTES))
        } else {
            (format!("f{index}.png"), noise(seed, FILE_BYTES))
        };
        std::fs::write(folder.join(name), bytes).unwrap();
    }
}

fn export_once(
    runtime: &tokio::runtime::Runtime,
    root: &Path,
    out: &Path,
    compression: bool,
) -> (Duration, ExportReport) {
    let settings = SiteSettings::new("tag", "bench", 8)
        .release_build(true)
        .mode(TagMode::Content)
        .tag_in(TagIn::Name);
    let started = Instant::now();
    // A new service each time: nothing read or compressed before.
    let files = StaticFiles::in_root(root, settings).unwrap();
    let report = runtime
        .block_on(
            files
                .export()
                .compression(compression)
                .write(&Destination::dir(out)),
        )
        .unwrap();
    (started.elapsed(), report)
}

pub(crate) fn export(report: &mut Report, rounds: usize) {
    let work = work_dir("export");
    let root = work.join("site");
    let _ = std::fs::remove_dir_all(&root);
    write_site(&root);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fresh = |name: &str| {
        let out = work.join(name);
        let _ = std::fs::remove_dir_all(&out);
        out
    };
    let mut samples: [Vec<Duration>; 4] = Default::default();
    let mut second_report = ExportReport::default();
    for round in 0..rounds.max(3) {
        let copy = fresh("copy");
        let started = Instant::now();
        run_checked(
            Command::new("cp")
                .arg("-r")
                .arg(root.join("static"))
                .arg(&copy),
        );
        samples[0].push(started.elapsed());

        let plain = fresh("plain");
        let (took, written) = export_once(&runtime, &root, &plain, false);
        assert_eq!(written.tagged_written, TEXT_FILES + IMAGES);
        samples[1].push(took);

        let compressed = fresh("compressed");
        let (took, written) = export_once(&runtime, &root, &compressed, true);
        assert_eq!(written.files_compressed, TEXT_FILES);
        samples[2].push(took);

        // One file changed (another each round), exported into the same folder.
        let changed = root.join("static/d00/f0.css");
        std::fs::write(&changed, text(1_000_000 + round as u64, FILE_BYTES)).unwrap();
        let (took, written) = export_once(&runtime, &root, &compressed, true);
        samples[3].push(took);
        second_report = written;
    }
    let [copy, plain, compressed, second] = samples.map(median);
    let seconds = |duration: Duration| format!("{:.2} s", duration.as_secs_f64());
    println!("export, 2,000 files (20 MB):");
    report.row(
        "export of 2,000 files (20 MB), compression off",
        seconds(plain),
        format!("`cp -r` {}", seconds(copy)),
        format!("{:.1}x", plain.as_secs_f64() / copy.as_secs_f64()),
    );
    report.row(
        "export of 2,000 files (20 MB), Brotli 11 and gzip siblings",
        seconds(compressed),
        format!("compression off {}", seconds(plain)),
        format!("{:.1}x", compressed.as_secs_f64() / plain.as_secs_f64()),
    );
    report.row(
        "second export after one file changed",
        format!(
            "{} ({} tagged name, {} file compressed, {} siblings written)",
            seconds(second),
            second_report.tagged_written,
            second_report.files_compressed,
            second_report.siblings_written
        ),
        format!("the first export {}", seconds(compressed)),
        format!("{:.2}x", second.as_secs_f64() / compressed.as_secs_f64()),
    );
}
