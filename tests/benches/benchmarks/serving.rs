//! The `serving` section (see the list in `main.rs`).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{
    cargo, run_checked, toml_path, work_dir, write, write_pseudo_random_file, Report,
};
use cachekiller_tests::scratch::workspace_root;

/// The server every service runs in: axum, one worker thread, the service mounted at
/// `/static`. The first argument names it: `ours` (`StaticFiles`, which compresses from the
/// checked bytes), `servedir`, `servedir-compression` (`ServeDir` + `CompressionLayer`, which
/// compresses every response) or `servedir-precompressed` (`ServeDir` with `.br`/`.gz`
/// siblings). `ours` also answers `/usage` with its cache's bytes and entries.
pub(crate) const SERVING_MAIN: &str = r#"use axum::serve::ListenerExt as _;
use cachekiller_core::{service::StaticFiles, SiteSettings};
use tower_http::services::ServeDir;

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let (service, port, dir) = (&arguments[1], &arguments[2], &arguments[3]);
    let app = match service.as_str() {
        "ours" => {
            let settings = SiteSettings::new("tag", "0123456789abcd", 6).release_build(true);
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
pub(crate) fn wrk_requests_per_second(url: &str, headers: &[String], seconds: u32) -> f64 {
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
pub(crate) fn realistic_stylesheet(kilobytes: usize) -> String {
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
pub(crate) fn build_serving_bench() -> (PathBuf, PathBuf) {
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
pub(crate) fn content_etag(file: &Path) -> String {
    let output = run_checked(Command::new("sha1sum").arg(file));
    format!("\"{}\"", &String::from_utf8(output.stdout).unwrap()[..40])
}

/// The HTTP date of `file`'s mtime, as `Last-Modified` gives it.
pub(crate) fn http_date_of_mtime(file: &Path) -> String {
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
pub(crate) struct ServingCase {
    name: &'static str,
    ours: (String, Vec<String>),
    baseline: &'static str,
    theirs: (String, Vec<String>),
}

/// Starts a service of the bench server; returns it and its port.
pub(crate) fn start_serving(
    binary: &Path,
    service: &str,
    files: &Path,
) -> (std::process::Child, u16) {
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
pub(crate) fn serving_cases(files: &Path) -> Vec<ServingCase> {
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

pub(crate) fn serving(report: &mut Report, rounds: usize) {
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
