//! The `embedded` section (see the list in `main.rs`): a release binary that carries its
//! static files, `StaticFiles::embedded(cdnembed!(), cdnsettings!())` under axum, against the
//! crates that embed at build time for axum: memory-serve (`build.rs` + `load!`, its hashed
//! routes, Brotli compressed by the build and gzip made at start-up), rust-embed served by
//! axum-embed (which compresses nothing itself: it sends the `.br`/`.gz` siblings it finds, so
//! its tree has fresh ones, made by the reference tools) and static-serve (`embed_assets!`,
//! gzip and zstd made by the build, no Brotli: asked `br, gzip` it sends gzip).
//!
//! Each is a crate of its own (its own target dir, the same axum and tokio, one worker
//! thread; ours on the committed cachekiller, copied), in one repository, with the same
//! static tree: a 100 KB stylesheet, a 1 MB
//! incompressible image and 20 small stylesheets, modules and icons of a few KB.

use std::fmt::Write as _;
use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    cargo, median, run_checked, toml_path, work_dir, write, write_pseudo_random_file, Report,
};
use crate::serving::{realistic_stylesheet, wrk_requests_per_second};
use cachekiller_tests::oracle::git;
use cachekiller_tests::scratch::workspace_root;

/// What every server's `main.rs` shares: the port from the first argument, one worker thread,
/// `TCP_NODELAY` (as the other sections, so that small bodies do not wait for a delayed ACK),
/// and one line on stdout before serving: `listening <stylesheet URL> <image URL>`, each the
/// URL a page of that server would link. Each server defines `app()` above it.
const SERVER_MAIN: &str = r#"
#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    use axum::serve::ListenerExt as _;
    let port: u16 = std::env::args().nth(1).unwrap().parse().unwrap();
    let (app, stylesheet, image) = app();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap()
        .tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
    println!("listening {stylesheet} {image}");
    axum::serve(listener, app).await.unwrap();
}
"#;

/// One server of the section: its crate's name, how the report names it, the dependencies
/// besides axum and tokio, its `build.rs` if any, its `app()`, and whether its tree carries
/// `.br`/`.gz` siblings.
struct Server {
    name: &'static str,
    label: &'static str,
    dependencies: &'static str,
    build_script: Option<&'static str>,
    app: &'static str,
    siblings: bool,
}

const SERVERS: [Server; 4] = [
    Server {
        name: "embedded-ours",
        label: "`StaticFiles::embedded`",
        dependencies: "cachekiller-macros = { path = MACROS }\n\
                       cachekiller-core = { path = CORE }\n",
        build_script: None,
        app: r#"fn app() -> (axum::Router, String, String) {
    let files = cachekiller_core::service::StaticFiles::embedded(
        cachekiller_macros::cdnembed!(),
        cachekiller_macros::cdnsettings!(),
    )
    .unwrap();
    (
        axum::Router::new().nest_service("/static", files),
        cachekiller_macros::cdnstatic!("css/big.css").to_owned(),
        cachekiller_macros::cdnstatic!("img/photo.jpg").to_owned(),
    )
}
"#,
        siblings: false,
    },
    Server {
        name: "embedded-memory-serve",
        label: "memory-serve",
        dependencies: "memory-serve = \"2\"\n[build-dependencies]\nmemory-serve = \"2\"\n",
        build_script: Some("fn main() {\n    memory_serve::load_directory(\"static\");\n}\n"),
        app: r#"fn app() -> (axum::Router, String, String) {
    // Both encodings (release builds' defaults, said here) and the hashed routes, which are
    // answered `immutable`.
    let files = memory_serve::load!()
        .enable_brotli(true)
        .enable_gzip(true)
        .enable_hashed_routes(true);
    let manifest = files.manifest();
    let route = |path: &str| format!("/static{}", manifest.get(path).unwrap());
    let (stylesheet, image) = (route("/css/big.css"), route("/img/photo.jpg"));
    (
        axum::Router::new().nest("/static", files.into_router()),
        stylesheet,
        image,
    )
}
"#,
        siblings: false,
    },
    Server {
        name: "embedded-rust-embed",
        label: "rust-embed + axum-embed",
        dependencies: "rust-embed = \"8\"\naxum-embed = \"0.1\"\n",
        build_script: None,
        app: r#"#[derive(rust_embed::RustEmbed, Clone)]
#[folder = "static/"]
struct Assets;

fn app() -> (axum::Router, String, String) {
    (
        axum::Router::new().nest_service("/static", axum_embed::ServeEmbed::<Assets>::new()),
        "/static/css/big.css".to_owned(),
        "/static/img/photo.jpg".to_owned(),
    )
}
"#,
        siblings: true,
    },
    Server {
        name: "embedded-static-serve",
        label: "static-serve",
        dependencies: "static-serve = \"0.6\"\n",
        build_script: None,
        app: r#"static_serve::embed_assets!("static", compress = true);

fn app() -> (axum::Router, String, String) {
    (
        axum::Router::new().nest("/static", static_router()),
        "/static/css/big.css".to_owned(),
        "/static/img/photo.jpg".to_owned(),
    )
}
"#,
        siblings: false,
    },
];

/// The small stylesheet each round of the incremental build edits.
const EDITED: &str = "css/small-03.css";

/// A module of about `kilobytes` KiB, as minified code is: varied names and numbers.
fn module_source(index: usize, kilobytes: usize) -> String {
    let mut source = String::new();
    let mut line = 0_usize;
    while source.len() < kilobytes * 1024 {
        let _ = writeln!(
            source,
            "export function f{index}_{line}(a, b) {{ const v{line} = a * {} + b.x{}; \
             return v{line} > {} ? \"k{:x}\" : null; }}",
            line * 31 % 97,
            line % 13,
            line * 7 % 1000,
            line.wrapping_mul(2_654_435_761) % 0x0100_0000
        );
        line += 1;
    }
    source
}

/// An icon of about `kilobytes` KiB: an SVG of paths.
fn icon_source(index: usize, kilobytes: usize) -> String {
    let mut source =
        String::from("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\">\n");
    let mut path = 0_usize;
    while source.len() < kilobytes * 1024 {
        let _ = writeln!(
            source,
            "<path d=\"M{} {}L{} {}Q{} {} {} {}Z\" fill=\"#{:06x}\"/>",
            (index + path * 7) % 64,
            path * 3 % 64,
            path * 11 % 64,
            (index * 5 + path) % 64,
            path * 13 % 64,
            path * 17 % 64,
            path * 19 % 64,
            path * 23 % 64,
            path.wrapping_mul(2_654_435_761) % 0x0100_0000
        );
        path += 1;
    }
    source + "</svg>\n"
}

/// The static tree every server carries, written into `dir`.
fn write_static_tree(dir: &Path) {
    write(&dir.join("css/big.css"), &realistic_stylesheet(100));
    write_pseudo_random_file(&dir.join("img/photo.jpg"), 1);
    for index in 0..7 {
        write(
            &dir.join(format!("css/small-{index:02}.css")),
            &realistic_stylesheet(2 + index % 3),
        );
        write(
            &dir.join(format!("js/module-{index:02}.js")),
            &module_source(index, 3 + index % 3),
        );
    }
    for index in 0..6 {
        write(
            &dir.join(format!("img/icon-{index:02}.svg")),
            &icon_source(index, 2 + index % 2),
        );
    }
}

/// The text files below `dir` (the ones worth compressing).
fn text_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["css", "js", "img"] {
        for entry in fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|extension| {
                ["css", "js", "svg"].contains(&extension.to_str().unwrap())
            }) {
                files.push(path);
            }
        }
    }
    files
}

/// Fresh `.br` (quality 11, as ours) and `.gz` (`-9`) siblings of `file`, for axum-embed.
fn write_siblings(file: &Path) {
    run_checked(
        Command::new("brotli")
            .args(["-q", "11", "-k", "-f"])
            .arg(file),
    );
    run_checked(
        Command::new("gzip")
            .args(["-9", "-k", "-f", "-n"])
            .arg(file),
    );
}

/// The committed `cachekiller-core` and `cachekiller-macros` (`git archive HEAD`), in a
/// workspace of their own below `root`: a path dependency on the working tree would rebuild
/// them inside an incremental build (or fail it) whenever someone edits them mid-run.
fn snapshot_cachekiller(root: &Path) -> PathBuf {
    let snapshot = root.join("cachekiller");
    fs::create_dir_all(&snapshot).unwrap();
    let archive = run_checked(Command::new("git").current_dir(workspace_root()).args([
        "archive",
        "HEAD",
        "Cargo.toml",
        "cachekiller-core",
        "cachekiller-macros",
    ]));
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(&snapshot)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    tar.stdin
        .take()
        .unwrap()
        .write_all(&archive.stdout)
        .unwrap();
    assert!(tar.wait().unwrap().success(), "tar -x of git archive HEAD");
    // The workspace's own manifest, its members cut to the two crates.
    let manifest = fs::read_to_string(snapshot.join("Cargo.toml")).unwrap();
    let manifest: String = manifest
        .lines()
        .filter(|line| !line.starts_with("default-members"))
        .map(|line| {
            if line.starts_with("members") {
                "members = [\"cachekiller-core\", \"cachekiller-macros\"]\n".to_owned()
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    fs::write(snapshot.join("Cargo.toml"), manifest).unwrap();
    snapshot
}

/// Generates every server's crate below `root`, in one repository with one commit (ours
/// reads the revision; a repository without a commit would rebuild it every time).
fn generate_crates(root: &Path) {
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root).unwrap();
    let snapshot = snapshot_cachekiller(root);
    let macros = toml_path(&snapshot.join("cachekiller-macros"));
    let core = toml_path(&snapshot.join("cachekiller-core"));
    for server in &SERVERS {
        let dir = root.join(server.name);
        let dependencies = server
            .dependencies
            .replace("MACROS", &macros)
            .replace("CORE", &core);
        // The dependencies come after axum and tokio: memory-serve's end with its
        // `[build-dependencies]`.
        write(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
                 [package.metadata.cachekiller]\nmode = \"content\"\n\
                 [dependencies]\n\
                 axum = {{ version = \"0.8\", default-features = false, features = [\"http1\", \"tokio\"] }}\n\
                 tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\", \"net\"] }}\n\
                 {dependencies}[workspace]\n",
                server.name
            ),
        );
        write(
            &dir.join("src/main.rs"),
            &format!("{}{SERVER_MAIN}", server.app),
        );
        if let Some(build_script) = server.build_script {
            write(&dir.join("build.rs"), build_script);
        }
        let static_dir = dir.join("static");
        write_static_tree(&static_dir);
        if server.siblings {
            for file in text_files(&static_dir) {
                write_siblings(&file);
            }
        }
    }
    write(&root.join(".gitignore"), "target/\ncachekiller/\n");
    git(root, &["init", "-q"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "the servers"]);
}

/// `cargo build --release` of the crate at `dir`, timed.
fn timed_build(dir: &Path) -> Duration {
    let start = Instant::now();
    run_checked(cargo().args(["build", "--release", "-q"]).current_dir(dir));
    start.elapsed()
}

/// The version of `package` in the lockfile of the crate at `dir`.
fn locked_version(dir: &Path, package: &str) -> String {
    let lock = fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle).unwrap() + needle.len();
    lock[start..].split('"').next().unwrap().to_owned()
}

/// Starts the server at `binary` on a free port; returns it, its port and the stylesheet and
/// image URLs it printed.
fn start(binary: &Path) -> (Child, u16, String, String) {
    let port = free_port();
    let mut child = Command::new(binary)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let mut words = line.split_whitespace().skip(1);
    let (stylesheet, image) = (words.next().unwrap(), words.next().unwrap());
    (child, port, stylesheet.to_owned(), image.to_owned())
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The time from spawning `binary` to its first `200` for `path`, asked over a plain socket
/// (no client process in the loop) as soon as the port takes connections.
fn start_up(binary: &Path, path: &str) -> Duration {
    let port = free_port();
    let start = Instant::now();
    let mut child = Command::new(binary)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let elapsed = loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} did not answer",
            binary.display()
        );
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        stream.write_all(request.as_bytes()).unwrap();
        let mut status = [0_u8; 12];
        if stream.read_exact(&mut status).is_ok() && status.ends_with(b"200") {
            break start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

/// The `Content-Encoding` (`identity` when none) of `url` asked with `headers`, and a line
/// of what came (status, encoding, body size, `Cache-Control`), from curl, to print what each
/// server actually sends.
fn response_summary(url: &str, headers: &[String]) -> (String, String) {
    let mut command = Command::new("curl");
    command.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}|%header{content-encoding}|%{size_download}|%header{cache-control}",
    ]);
    for header in headers {
        command.args(["-H", header]);
    }
    let output = String::from_utf8(run_checked(command.arg(url)).stdout).unwrap();
    let fields: Vec<&str> = output.split('|').collect();
    let encoding = if fields[1].is_empty() {
        "identity"
    } else {
        fields[1]
    };
    let line = format!(
        "{} {encoding} {} bytes, Cache-Control: {}",
        fields[0], fields[2], fields[3]
    );
    (encoding.to_owned(), line)
}

/// The body of `url`, from curl.
fn body(url: &str) -> String {
    String::from_utf8(run_checked(Command::new("curl").args(["-s", url])).stdout).unwrap()
}

/// `VmRSS` of the process `pid`, in KiB.
fn resident_kib(pid: u32) -> f64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// What each server measured, in the order of [`SERVERS`].
#[derive(Default, Clone)]
struct Samples {
    cold: Duration,
    incremental: Vec<Duration>,
    size: u64,
    start_up: Vec<Duration>,
    stylesheet: Vec<f64>,
    image: Vec<f64>,
    resident: Vec<f64>,
    encoding: String,
}

pub(crate) fn embedded(report: &mut Report, rounds: usize) {
    let root = work_dir("embedded");
    generate_crates(&root);
    let dirs: Vec<PathBuf> = SERVERS
        .iter()
        .map(|server| root.join(server.name))
        .collect();
    let binaries: Vec<PathBuf> = SERVERS
        .iter()
        .zip(&dirs)
        .map(|(server, dir)| dir.join("target/release").join(server.name))
        .collect();
    let mut samples = vec![Samples::default(); SERVERS.len()];
    // Cold: one build each from an empty target dir, dependencies included (one sample: each
    // takes minutes on this machine).
    for (index, dir) in dirs.iter().enumerate() {
        samples[index].cold = timed_build(dir);
        println!(
            "  cold build of {}: {:.1} s",
            SERVERS[index].name,
            samples[index].cold.as_secs_f64()
        );
    }
    // Incremental: one small stylesheet edited, then the build (axum-embed's siblings of it
    // made again, inside the measured time: its users need that step too).
    for round in 0..rounds {
        for (index, server) in SERVERS.iter().enumerate() {
            let file = dirs[index].join("static").join(EDITED);
            let start = Instant::now();
            let mut text = fs::read_to_string(&file).unwrap();
            let _ = writeln!(text, ".edited-{round} {{ color: #{round:06x}; }}");
            fs::write(&file, text).unwrap();
            if server.siblings {
                write_siblings(&file);
            }
            timed_build(&dirs[index]);
            samples[index].incremental.push(start.elapsed());
        }
    }
    for (index, binary) in binaries.iter().enumerate() {
        samples[index].size = fs::metadata(binary).unwrap().len();
    }
    let compressed = vec!["Accept-Encoding: br, gzip".to_owned()];
    let seconds = 4;
    for round in 0..rounds {
        for (index, server) in SERVERS.iter().enumerate() {
            samples[index]
                .start_up
                .push(start_up(&binaries[index], "/static/css/small-00.css"));
            let (mut child, port, stylesheet, image) = start(&binaries[index]);
            let base = format!("http://127.0.0.1:{port}");
            if round == 0 {
                // What each one sends, and that the last build carries the last edit.
                let (encoding, stylesheet_answer) =
                    response_summary(&format!("{base}{stylesheet}"), &compressed);
                let (_, image_answer) = response_summary(&format!("{base}{image}"), &compressed);
                println!(
                    "  {}: {stylesheet} -> {stylesheet_answer}\n  {}: {image} -> {image_answer}",
                    server.name, server.name
                );
                samples[index].encoding = encoding;
                let edited = body(&format!("{base}/static/{EDITED}"));
                assert!(
                    edited.contains(&format!(".edited-{} ", rounds - 1)),
                    "{} serves an old {EDITED} after the incremental builds",
                    server.name
                );
            }
            samples[index].stylesheet.push(wrk_requests_per_second(
                &format!("{base}{stylesheet}"),
                &compressed,
                seconds,
            ));
            samples[index].image.push(wrk_requests_per_second(
                &format!("{base}{image}"),
                &[],
                seconds,
            ));
            samples[index].resident.push(resident_kib(child.id()));
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let versions: Vec<String> = [
        ("embedded-memory-serve", "memory-serve"),
        ("embedded-rust-embed", "rust-embed"),
        ("embedded-rust-embed", "axum-embed"),
        ("embedded-static-serve", "static-serve"),
        ("embedded-ours", "axum"),
    ]
    .iter()
    .map(|(crate_name, package)| {
        format!(
            "{package} {}",
            locked_version(&root.join(crate_name), package)
        )
    })
    .collect();
    println!(
        "embedded, {}; wrk -t1 -c8 -d{seconds}s, one worker thread each, release builds:",
        versions.join(", ")
    );
    report_rows(report, &samples);
}

/// The rows of the section: ours against each peer, on each measure.
fn report_rows(report: &mut Report, samples: &[Samples]) {
    let median_of = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let seconds = |duration: Duration| duration.as_secs_f64();
    let (ours, peers) = samples.split_first().unwrap();
    for (peer, server) in peers.iter().zip(&SERVERS[1..]) {
        let label = server.label;
        let rows: [(&str, f64, f64, String); 7] = [
            (
                "cold `cargo build --release`, empty target dir, dependencies included (one build), s",
                seconds(ours.cold),
                seconds(peer.cold),
                String::new(),
            ),
            (
                "incremental `cargo build --release` after a one-file stylesheet edit, s",
                seconds(median(ours.incremental.clone())),
                seconds(median(peer.incremental.clone())),
                String::new(),
            ),
            (
                "binary size as built (release profile: no debuginfo, symbols kept), MiB",
                ours.size as f64 / f64::from(1 << 20),
                peer.size as f64 / f64::from(1 << 20),
                String::new(),
            ),
            (
                "start-up, spawn to the first `200`, ms",
                seconds(median(ours.start_up.clone())) * 1000.0,
                seconds(median(peer.start_up.clone())) * 1000.0,
                String::new(),
            ),
            (
                "requests/s, the tagged 100 KB stylesheet, `Accept-Encoding: br, gzip`",
                median_of(ours.stylesheet.clone()),
                median_of(peer.stylesheet.clone()),
                format!(" ({} vs {})", ours.encoding, peer.encoding),
            ),
            (
                "requests/s, the 1 MB image",
                median_of(ours.image.clone()),
                median_of(peer.image.clone()),
                String::new(),
            ),
            (
                "RSS after the runs, MiB",
                median_of(ours.resident.clone()) / 1024.0,
                median_of(peer.resident.clone()) / 1024.0,
                String::new(),
            ),
        ];
        for (measure, ours_value, peer_value, note) in rows {
            let precision = if ours_value < 10.0 {
                2
            } else {
                usize::from(ours_value < 100.0)
            };
            report.row(
                &format!("embedded vs {label}: {measure}{note}"),
                format!("{ours_value:.precision$}"),
                format!("{label} {peer_value:.precision$}"),
                format!("{:.2}x", ours_value / peer_value),
            );
        }
    }
}
