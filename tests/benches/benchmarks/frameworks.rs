//! The `frameworks` section (see the list in `main.rs`): `StaticFiles` through each adapter
//! against the framework's own file server, and against nginx with `gzip_static`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::common::{
    cargo, run_checked, toml_path, work_dir, write, write_pseudo_random_file, Report,
};
use crate::serving::{content_etag, realistic_stylesheet, wrk_requests_per_second};
use cachekiller_tests::scratch::workspace_root;

/// One server of the section, named by its first argument, with one worker thread: `axum`
/// (`StaticFiles` as a tower service), `actix` (`ActixStaticFiles`), `actix-files`
/// (`actix_files::Files`), `rocket` (`StaticFiles` mounted) and `rocket-fileserver`
/// (`rocket::fs::FileServer`), each under `/static`.
const FRAMEWORKS_MAIN: &str = r#"use cachekiller_core::{service::StaticFiles, SiteSettings};

fn static_files(dir: &str) -> StaticFiles {
    let settings = SiteSettings::new("tag", "0123456789abcd", 6).release_build(true);
    StaticFiles::new(dir, settings).unwrap()
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let (server, port, dir) = (arguments[1].clone(), arguments[2].parse::<u16>().unwrap(), arguments[3].clone());
    match server.as_str() {
        "axum" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                use axum::serve::ListenerExt as _;
                let app = axum::Router::new().nest_service("/static", static_files(&dir));
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .unwrap()
                    .tap_io(|stream| {
                        let _ = stream.set_nodelay(true);
                    });
                println!("listening");
                axum::serve(listener, app).await.unwrap();
            }),
        "actix" | "actix-files" => actix_web::rt::System::new().block_on(async move {
            let ours = server == "actix";
            let files = static_files(&dir);
            let http = actix_web::HttpServer::new(move || {
                let app = actix_web::App::new();
                if ours {
                    app.service(cachekiller_core::service::actix::ActixStaticFiles::new(
                        "/static",
                        files.clone(),
                    ))
                } else {
                    app.service(actix_files::Files::new("/static", &dir))
                }
            })
            .workers(1)
            .bind(("127.0.0.1", port))
            .unwrap();
            println!("listening");
            http.run().await.unwrap();
        }),
        "rocket" | "rocket-fileserver" => {
            let figment = rocket::Config::figment()
                .merge(("address", "127.0.0.1"))
                .merge(("port", port))
                .merge(("workers", 1))
                .merge(("log_level", "off"));
            let rocket = rocket::custom(figment);
            let rocket = if server == "rocket" {
                rocket.mount("/static", static_files(&dir))
            } else {
                rocket.mount("/static", rocket::fs::FileServer::from(&dir))
            };
            rocket::execute(async move {
                let rocket = rocket.ignite().await.unwrap();
                println!("listening");
                let _ = rocket.launch().await.unwrap();
            });
        }
        other => panic!("no server {other}"),
    }
}
"#;

/// Generates and builds the servers; returns the binary and the dir of the files they serve.
fn build_frameworks_bench() -> (PathBuf, PathBuf) {
    let root = work_dir("frameworks");
    let _ = fs::remove_dir_all(&root);
    let core = toml_path(&workspace_root().join("cachekiller-core"));
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"frameworks-bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             [dependencies]\ncachekiller-core = {{ path = {core}, default-features = false, features = [\"service\", \"actix\", \"rocket\"] }}\n\
             axum = {{ version = \"0.8\", default-features = false, features = [\"http1\", \"tokio\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\", \"net\"] }}\n\
             actix-web = {{ version = \"4\", default-features = false }}\n\
             actix-files = \"0.6\"\n\
             rocket = {{ version = \"0.5\", default-features = false }}\n[workspace]\n"
        ),
    );
    write(&root.join("src/main.rs"), FRAMEWORKS_MAIN);
    let files = root.join("files");
    write(
        &files.join("css/app.css"),
        &"body { margin: 0 }\n".repeat(100),
    );
    write(&files.join("css/big.css"), &realistic_stylesheet(100));
    // nginx's `gzip_static` sibling, made by the reference tool.
    run_checked(
        Command::new("gzip")
            .args(["-9", "-k", "-f", "-n"])
            .arg(files.join("css/big.css")),
    );
    write_pseudo_random_file(&files.join("img/photo.jpg"), 1);
    run_checked(
        cargo()
            .args(["build", "--release", "-q"])
            .current_dir(&root),
    );
    (root.join("target/release/frameworks-bench"), files)
}

/// Starts `server` of the bench binary on a free port, as the serving section does, and
/// waits for the port: Rocket prints before it binds.
fn start(binary: &Path, server: &str, files: &Path) -> (Child, u16) {
    let (child, port) = crate::serving::start_serving(binary, server, files);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, port)
}

/// nginx, one worker, `sendfile` and `gzip_static`, serving `files` under `/static/`.
fn start_nginx(files: &Path) -> (Child, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = files.parent().unwrap().join("nginx-root");
    let _ = fs::remove_file(root.join("static"));
    fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(files, root.join("static")).unwrap();
    let config = format!(
        "worker_processes 1;\ndaemon off;\nerror_log {dir}/error.log;\npid {dir}/nginx.pid;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  tcp_nodelay on;\n\
           client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
           include /etc/nginx/mime.types;\n\
           server {{\n    listen 127.0.0.1:{port};\n    root {root};\n\
             location /static/ {{ gzip_static on; etag on; }}\n  }}\n}}\n",
        dir = dir.path().display(),
        root = root.display(),
    );
    let config_file = dir.path().join("nginx.conf");
    fs::write(&config_file, config).unwrap();
    let child = Command::new("nginx")
        .args(["-c", config_file.to_str().unwrap(), "-p"])
        .arg(dir.path())
        .spawn()
        .unwrap_or_else(|error| panic!("nginx (apt-get install -y nginx-light): {error}"));
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, port, dir)
}

/// The `ETag` a server sends for `path`, by asking it.
fn etag_of(port: u16, path: &str) -> Option<String> {
    let output =
        run_checked(Command::new("curl").args(["-sI", &format!("http://127.0.0.1:{port}{path}")]));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_owned())
        })
}

pub(crate) fn frameworks(report: &mut Report, rounds: usize) {
    let (binary, files) = build_frameworks_bench();
    let tag = |file: &str| content_etag(&files.join(file))[1..7].to_owned();
    let (css, big, image) = (tag("css/app.css"), tag("css/big.css"), tag("img/photo.jpg"));
    let cases: [(&str, String, Vec<String>); 4] = [
        (
            "a tagged 100 KB stylesheet, br or gzip",
            format!("/static/css/big.css?tag={big}"),
            vec!["Accept-Encoding: br, gzip".to_owned()],
        ),
        (
            "a tagged 1 MB image",
            format!("/static/img/photo.jpg?tag={image}"),
            Vec::new(),
        ),
        (
            "an untagged file",
            "/static/css/app.css".to_owned(),
            Vec::new(),
        ),
        (
            "a 304",
            format!("/static/css/app.css?tag={css}"),
            Vec::new(),
        ),
    ];
    let seconds = 4;
    let servers = [
        "axum",
        "actix",
        "actix-files",
        "rocket",
        "rocket-fileserver",
    ];
    // samples[server][case]
    let mut samples = vec![vec![Vec::new(); cases.len()]; servers.len()];
    let mut nginx_samples = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (index, server) in servers.iter().enumerate() {
            let (mut child, port) = start(&binary, server, &files);
            for (case, (_, path, headers)) in cases.iter().enumerate() {
                let mut headers = headers.clone();
                if case == 3 {
                    // Each server is sent the validator it issues; Rocket's FileServer
                    // issues none, so its row is a plain 200.
                    if let Some(etag) = etag_of(port, path) {
                        headers.push(format!("If-None-Match: {etag}"));
                    }
                }
                let url = format!("http://127.0.0.1:{port}{path}");
                samples[index][case].push(wrk_requests_per_second(&url, &headers, seconds));
            }
            if *server == "axum" {
                // Ours against nginx on the gzip body of the 100 KB stylesheet.
                let url = format!("http://127.0.0.1:{port}/static/css/big.css?tag={big}");
                let gzip = vec!["Accept-Encoding: gzip".to_owned()];
                nginx_samples
                    .0
                    .push(wrk_requests_per_second(&url, &gzip, seconds));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let (mut nginx, port, _dir) = start_nginx(&files);
        let url = format!("http://127.0.0.1:{port}/static/css/big.css");
        let gzip = vec!["Accept-Encoding: gzip".to_owned()];
        nginx_samples
            .1
            .push(wrk_requests_per_second(&url, &gzip, seconds));
        let _ = nginx.kill();
        let _ = nginx.wait();
    }
    println!("frameworks, wrk -t1 -c8 -d{seconds}s, one worker thread each, release builds:");
    let names: Vec<&str> = cases.iter().map(|(name, _, _)| *name).collect();
    report_rows(report, &names, &samples, nginx_samples);
}

/// The rows of the section from the samples of each server (in the order of `frameworks`'
/// servers) for each case, and of ours and nginx on the gzip body.
fn report_rows(
    report: &mut Report,
    names: &[&str],
    samples: &[Vec<Vec<f64>>],
    nginx_samples: (Vec<f64>, Vec<f64>),
) {
    let median = |mut rates: Vec<f64>| {
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    let rate = |server: usize, case: usize| median(samples[server][case].clone());
    for (case, name) in names.iter().enumerate() {
        for (ours, theirs, label, baseline) in [
            (
                1,
                2,
                "actix-web: `ActixStaticFiles`",
                "`actix_files::Files`",
            ),
            (3, 4, "Rocket: `StaticFiles`", "`FileServer`"),
        ] {
            let (ours_rate, theirs_rate) = (rate(ours, case), rate(theirs, case));
            report.row(
                &format!("{label}, {name}: requests/s"),
                format!("{ours_rate:.0}"),
                format!("{baseline} {theirs_rate:.0}"),
                format!("{:.2}x", ours_rate / theirs_rate),
            );
        }
        for (ours, label) in [(1, "actix-web adapter"), (3, "Rocket adapter")] {
            let (adapter, tower) = (rate(ours, case), rate(0, case));
            report.row(
                &format!("{label} against the tower path in axum, {name}: requests/s"),
                format!("{adapter:.0}"),
                format!("axum {tower:.0}"),
                format!("{:.2}x", adapter / tower),
            );
        }
    }
    let (ours, nginx) = (median(nginx_samples.0), median(nginx_samples.1));
    report.row(
        "the 100 KB stylesheet's gzip body: `StaticFiles` (axum, one worker thread) requests/s",
        format!("{ours:.0}"),
        format!("nginx `gzip_static`, one worker, `sendfile` {nginx:.0}"),
        format!("{:.2}x", ours / nginx),
    );
}
