//! Times `expand_static_url` in a loop, outside rustc: the first call (resolution), the steady
//! state, the steady state without file checks, and one `stat`. A profiling aid for the
//! expansion benchmark (`cargo bench -p cachekiller-tests --bench build_costs`).
//!
//! `cargo run -p cachekiller-core --example profile_calls -- <crate dir with static/css/file0..199.css>`

use std::time::Instant;

use cachekiller_core::config::ConfigValue;
use cachekiller_core::expand::{expand_static_url, CallOption};

fn per_call(label: &str, started: Instant) {
    println!(
        "{label}: {:.1} us per call",
        started.elapsed().as_secs_f64() / 10_000.0 * 1e6
    );
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("a crate dir"));
    let started = Instant::now();
    let first = expand_static_url(&dir, "css/file0.css", &[]).map(|output| output.value);
    println!(
        "first call: {:.2} ms ({first:?})",
        started.elapsed().as_secs_f64() * 1e3
    );

    let started = Instant::now();
    for i in 0..10_000 {
        std::hint::black_box(
            expand_static_url(&dir, &format!("css/file{}.css", i % 200), &[]).ok(),
        );
    }
    per_call("then", started);

    let unchecked = [CallOption {
        key: "check_files".into(),
        value: ConfigValue::Boolean(false),
    }];
    let started = Instant::now();
    for i in 0..10_000 {
        std::hint::black_box(
            expand_static_url(&dir, &format!("css/file{}.css", i % 200), &unchecked).ok(),
        );
    }
    per_call("with check_files = false", started);

    let started = Instant::now();
    for i in 0..10_000 {
        std::hint::black_box(
            dir.join(format!("static/css/file{}.css", i % 200))
                .is_file(),
        );
    }
    per_call("one is_file", started);

    let content = [CallOption {
        key: "mode".into(),
        value: ConfigValue::String("content".into()),
    }];
    let started = Instant::now();
    for i in 0..10_000 {
        let path = format!("css/file{}.css", i % 200);
        std::hint::black_box(expand_static_url(&dir, &path, &content).ok());
    }
    per_call("content mode", started);
}
