//! Step 3: checked versions: a version is what was read, files replaced or edited under the
//! server, the bounded cache, and large files sent from their open.

use super::*;

/// Item 4: `cp -p app.js ref; printf … > app.js; touch -r ref app.js`: the size, mtime and
/// inode are the old file's; the ctime is not.
#[test]
fn an_in_place_edit_with_size_mtime_and_inode_kept_is_seen() {
    let root = site();
    let script = root.path().join("static/js/app.js");
    std::fs::write(&script, "console.log(\"v1\");\n").unwrap();
    let old_tag = sha1sum(&script, 40)[..6].to_owned();
    let release = service(root.path(), true);
    let uri = format!("/js/app.js?tag={old_tag}");
    runtime().block_on(async {
        assert_eq!(get(&release, &uri).await.cache_control(), IMMUTABLE);
        let modified = std::fs::metadata(&script).unwrap().modified().unwrap();
        std::fs::write(&script, "console.log(\"v2\");\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&script)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let answer = get(&release, &uri).await;
        assert_eq!(answer.body, b"console.log(\"v2\");\n");
        assert_eq!(answer.cache_control(), NO_CACHE);
    });
}

/// Item 3: a writer swapping two versions (renames of different sizes, and in-place writes of
/// the same size) while a client asks for version 1's tag: never `immutable` with bytes the
/// tag does not name.
#[test]
fn a_file_replaced_while_requests_run_is_never_immutable_with_other_bytes() {
    let root = site();
    let static_dir = root.path().join("static");
    let race = static_dir.join("js/race.js");
    let version_one = b"console.log('version one');\n".repeat(50);
    let version_two = b"console.log('version two, longer');\n".repeat(70);
    let version_one_prime = b"console.log('version ONE');\n".repeat(50);
    assert_eq!(version_one.len(), version_one_prime.len());
    std::fs::write(&race, &version_one).unwrap();
    let tag = sha1sum(&race, 40)[..6].to_owned();
    let release = service(root.path(), true);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        let (race, staging) = (race.clone(), static_dir.join("js/.staging"));
        let (one, two, prime) = (version_one.clone(), version_two.clone(), version_one_prime);
        std::thread::spawn(move || {
            let mut round = 0_u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if round.is_multiple_of(2) {
                    // os.replace of two versions of different sizes.
                    for bytes in [&two, &one] {
                        std::fs::write(&staging, bytes).unwrap();
                        std::fs::rename(&staging, &race).unwrap();
                        std::thread::sleep(Duration::from_millis(1));
                    }
                } else {
                    // In place, the same size.
                    for bytes in [&prime, &one] {
                        let mut file = std::fs::File::options().write(true).open(&race).unwrap();
                        file.write_all(bytes).unwrap();
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                round += 1;
            }
        })
    };
    let uri = format!("/js/race.js?tag={tag}");
    let (mut immutable, mut total) = (0, 0);
    runtime().block_on(async {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            let answer = get(&release, &uri).await;
            total += 1;
            if answer.cache_control() == IMMUTABLE {
                immutable += 1;
                assert_eq!(answer.body, version_one, "immutable with other bytes");
            }
            // Whatever the verdict, the validator names the bytes sent.
            assert_eq!(
                answer.header("etag"),
                format!("\"{}\"", sha1sum_of_bytes(&answer.body))
            );
        }
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(total > 50, "only {total} requests ran");
    assert!(
        immutable > 0,
        "version one was never served as itself in {total} requests"
    );
}

/// Item 7: 20,000 spellings of one file with 20,000 tags: one cache entry, read once.
#[test]
fn spellings_and_tags_do_not_grow_the_cache() {
    let root = site();
    let release = service(root.path(), true);
    runtime().block_on(async {
        for index in 0..20_000 {
            let spelling = format!(
                "/{}{}js/app.js?tag={index:06x}",
                "./".repeat(index % 37),
                "/".repeat(index / 37 % 29)
            );
            assert_eq!(get(&release, &spelling).await.status, StatusCode::OK);
        }
        let usage = release.cache_usage();
        assert_eq!(usage.entries, 1);
        assert!(usage.bytes < 4096, "{usage:?}");
    });
}

#[test]
fn the_cache_stays_within_its_bounds() {
    let root = tempfile::tempdir().unwrap();
    let static_dir = root.path().join("static");
    for index in 0..200 {
        write(
            &static_dir.join(format!("f{index}.txt")),
            &vec![b"abcdefghijklmnopqrstuvwxyz"[index % 26]; 8 * 1024],
        );
    }
    let limit = 100 * 1024;
    let served = StaticFiles::new(
        &static_dir,
        SiteSettings::new("tag", REVISION, 6).release_build(true),
    )
    .unwrap()
    .cache_limits(limit, 50);
    runtime().block_on(async {
        for round in 0..2 {
            for index in 0..200 {
                let answer = request(
                    &served,
                    Method::GET,
                    &format!("/f{index}.txt"),
                    &[("accept-encoding", "gzip")],
                )
                .await;
                assert_eq!(answer.status, StatusCode::OK, "{round} {index}");
                let usage = served.cache_usage();
                assert!(usage.bytes <= limit && usage.entries <= 50, "{usage:?}");
            }
        }
    });
}

/// A large file is sent from its one open, with its digest checked off the async workers:
/// while it is hashed, other requests are answered.
#[test]
fn a_large_file_is_hashed_off_the_async_workers_and_sent_from_its_open() {
    let root = site();
    let big = root.path().join("static/big.bin");
    // Sparse: 300 MB that cost no disk, but a full SHA-1 to check.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let served = service(root.path(), true).in_memory_file_limit(1024 * 1024);
    let small_tag = sha1sum(&root.path().join("static/LICENSE"), 40)[..6].to_owned();
    runtime().block_on(async {
        let hashing = tokio::spawn({
            let served = served.clone();
            async move {
                request(
                    &served,
                    Method::GET,
                    "/big.bin?tag=000000",
                    &[("range", "bytes=0-9")],
                )
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let answer = get(&served, &format!("/LICENSE?tag={small_tag}")).await;
        let waited = started.elapsed();
        assert_eq!(answer.body, b"MIT\n");
        let big_answer = hashing.await.unwrap();
        assert_eq!(big_answer.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(big_answer.body, vec![0; 10]);
        // Generous for a shared machine: the hash itself takes about a second.
        assert!(
            waited < Duration::from_millis(500),
            "a small file waited {waited:?}"
        );
    });
}

/// A large file edited while it is sent is cut short: the last chunk is not sent.
#[test]
fn a_large_file_changed_while_sent_fails_the_body() {
    let root = site();
    let big = root.path().join("static/big.txt");
    std::fs::write(&big, "a".repeat(2 * 1024 * 1024)).unwrap();
    let served = service(root.path(), true).in_memory_file_limit(1024);
    runtime().block_on(async {
        let response = served
            .clone()
            .oneshot(Request::get("/big.txt").body(String::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        std::fs::write(&big, "b".repeat(2 * 1024 * 1024)).unwrap();
        assert!(response.into_body().collect().await.is_err());
    });
}
