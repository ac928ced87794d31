//! The `hashing` section (see the list in `main.rs`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{median, run_checked, work_dir, write_pseudo_random_file, Report};

pub(crate) fn hashing(report: &mut Report, rounds: usize) {
    const MEGABYTES: usize = 256;
    let file = work_dir("hashing").join("256MiB.bin");
    write_pseudo_random_file(&file, MEGABYTES);
    let sha1sum = |file: &Path| {
        let output = run_checked(Command::new("sha1sum").arg(file));
        String::from_utf8(output.stdout).unwrap()[..40].to_owned()
    };
    let expected = sha1sum(&file);
    let ours_hex = cachekiller_core::__private::hash::content_tag(
        &cachekiller_core::__private::hash::digest_of_file(
            &file,
            cachekiller_core::__private::hash::DigestAlgorithm::Sha1,
        )
        .unwrap(),
        40,
    );
    assert_eq!(ours_hex, expected, "our SHA-1 must match sha1sum");

    let mut samples: [Vec<Duration>; 3] = Default::default();
    for _ in 0..rounds.max(3) {
        let started = Instant::now();
        std::hint::black_box(
            cachekiller_core::__private::hash::digest_of_file(
                &file,
                cachekiller_core::__private::hash::DigestAlgorithm::Sha1,
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
