//! The `deploy_skew` section (see the list in `main.rs`).

use std::fmt::Write as _;
use std::future::Future;
use std::time::{Duration, Instant};

use cachekiller_core::service::archive::Archive;
use cachekiller_core::service::StaticFiles;
use cachekiller_core::{SiteSettings, TagMode};
use cachekiller_tests::s3::{S3Server, BUCKET};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use crate::common::{median, work_dir, write, Report};
use crate::serving::realistic_stylesheet;

/// Requests per timed batch of the cached cases.
const BATCH: u32 = 2_000;

/// One GET of `uri` through `service` (in process, with tower's `oneshot`), its body read;
/// asserts the answer is 200 with `cache_control`.
async fn get(service: &StaticFiles, uri: &str, cache_control: &str) -> usize {
    let request = Request::get(uri).body(String::new()).unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        cache_control,
        "{uri}"
    );
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .len()
}

/// The median time of one request of each of `cases`, measured side by side in batches.
pub(crate) fn time_requests(
    runtime: &tokio::runtime::Runtime,
    rounds: usize,
    cases: &[(&StaticFiles, &str, &str)],
) -> Vec<Duration> {
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..rounds.max(5) {
        for (index, (service, uri, cache_control)) in cases.iter().enumerate() {
            let elapsed = runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..BATCH {
                    std::hint::black_box(get(service, uri, cache_control).await);
                }
                started.elapsed()
            });
            samples[index].push(elapsed / BATCH);
        }
    }
    samples.into_iter().map(median).collect()
}

/// The median time of the first old-tag request of a fresh service and archive (`make`).
fn time_first_hits<F: Future<Output = StaticFiles>>(
    runtime: &tokio::runtime::Runtime,
    rounds: usize,
    uri: &str,
    make: impl Fn() -> F,
) -> Duration {
    let samples = (0..rounds.max(5))
        .map(|_| {
            runtime.block_on(async {
                let service = make().await;
                let started = Instant::now();
                get(&service, uri, IMMUTABLE).await;
                started.elapsed()
            })
        })
        .collect();
    median(samples)
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn settings(revision: &'static str) -> SiteSettings {
    SiteSettings::new("tag", revision, 6)
        .release_build(true)
        .mode(TagMode::Content)
}

/// Deploys `a` and `b` below `root`, each a 20 KiB stylesheet of its own; the URIs of A's
/// stylesheet and of B's, content-tagged.
fn write_deploys(root: &std::path::Path) -> (String, String) {
    let stylesheet = realistic_stylesheet(20);
    for (deploy, marker) in [("a", "/* deploy a */\n"), ("b", "/* deploy b */\n")] {
        write(
            &root.join(deploy).join("css/site.css"),
            &format!("{marker}{stylesheet}"),
        );
    }
    let tag_of = |deploy: &str| {
        let bytes = std::fs::read(root.join(deploy).join("css/site.css")).unwrap();
        let digest = cachekiller_core::__private::hash::digest_of_bytes(
            &bytes,
            cachekiller_core::__private::hash::DigestAlgorithm::Sha1,
        );
        digest[..3].iter().fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
    };
    (
        format!("/css/site.css?tag={}", tag_of("a")),
        format!("/css/site.css?tag={}", tag_of("b")),
    )
}

/// An old page's stylesheet answered from the archive (local directory, and moto's S3
/// server) against the current stylesheet, both cached in the service; and the first such
/// request of a fresh instance.
pub(crate) fn deploy_skew(report: &mut Report, rounds: usize) {
    let root = work_dir("deploy_skew");
    let _ = std::fs::remove_dir_all(&root);
    let (old_uri, current_uri) = write_deploys(&root);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = S3Server::start();
    let s3 = || {
        Archive::from_url(
            &format!("s3://{BUCKET}/bench"),
            [
                ("endpoint", store.endpoint().as_str()),
                ("aws_allow_http", "true"),
                ("region", "us-east-1"),
                ("access_key_id", "test"),
                ("secret_access_key", "test"),
            ],
        )
        .unwrap()
    };
    let local = || Archive::local(root.join("archive")).unwrap();
    let serve = |deploy: &str, revision: &'static str, archive: Archive| {
        StaticFiles::new(root.join(deploy), settings(revision))
            .unwrap()
            .archive(archive)
    };
    let (b_local, b_s3) = runtime.block_on(async {
        for archive in [local(), s3()] {
            serve("a", "aaaaaaaaaaaaaa", archive)
                .publish()
                .await
                .unwrap();
        }
        let b_local = serve("b", "bbbbbbbbbbbbbb", local());
        let b_s3 = serve("b", "bbbbbbbbbbbbbb", s3());
        b_local.publish().await.unwrap();
        b_s3.publish().await.unwrap();
        (b_local, b_s3)
    });
    let times = time_requests(
        &runtime,
        rounds,
        &[
            (&b_local, &current_uri, IMMUTABLE),
            (&b_local, &old_uri, IMMUTABLE),
            (&b_s3, &old_uri, IMMUTABLE),
        ],
    );
    let first_local = time_first_hits(&runtime, rounds, &old_uri, || async {
        serve("b", "bbbbbbbbbbbbbb", local())
    });
    let first_s3 = time_first_hits(&runtime, rounds, &old_uri, || async {
        serve("b", "bbbbbbbbbbbbbb", s3())
    });
    let current = times[0];
    println!("deploy_skew, in process (tower oneshot), a 20 KiB stylesheet, release:");
    for (measure, time) in [
        (
            "old page's stylesheet from a local archive, cached (after the first hit)",
            times[1],
        ),
        (
            "old page's stylesheet from moto's S3 server, cached (after the first hit)",
            times[2],
        ),
        (
            "old page's stylesheet from a local archive, first hit of a fresh instance",
            first_local,
        ),
        (
            "old page's stylesheet from moto's S3 server, first hit of a fresh instance",
            first_s3,
        ),
    ] {
        report.row(
            measure,
            format!("{:.1} µs", time.as_secs_f64() * 1e6),
            format!("current stylesheet {:.1} µs", current.as_secs_f64() * 1e6),
            format!("{:.2}x", time.as_secs_f64() / current.as_secs_f64()),
        );
    }
}
