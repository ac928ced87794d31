//! The archive's promises, one test each, on a local directory (and, with feature `aws`, an
//! S3 endpoint that does not answer). Oracles: `sha1sum` for every SHA-1, the directory's
//! own files for what was written or deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use super::manifest::Manifest;
use super::{Archive, ArchiveError, ArchivedVersion, CacheSettings, RetentionPolicy, ServedFile};
use crate::test_support::sha1sum;

const HOUR: Duration = Duration::from_secs(3600);

/// The full hex SHA-1 of `bytes`, from `sha1sum`.
fn sha1_of(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    sha1sum(file.path(), 40)
}

/// An archive in `dir`, as an instance opens it (the default publish window: a shorter one
/// makes a publish on a loaded machine list again and again).
fn archive(dir: &Path) -> Archive {
    Archive::local(dir).unwrap()
}

/// An archive in `dir` for a collection with a short publish window, so that it finishes
/// quickly.
fn collector(dir: &Path) -> Archive {
    archive(dir).publish_window(Duration::from_millis(50))
}

/// Every file below `dir`: relative path -> (size, modification time).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(dir).unwrap().to_owned();
                files.insert(relative, (metadata.len(), metadata.modified().unwrap()));
            }
        }
    }
    files
}

fn blob_exists(dir: &Path, bytes: &[u8]) -> bool {
    dir.join("blobs").join(sha1_of(bytes)).is_file()
}

fn site(count: usize, changed: &str) -> Vec<ServedFile> {
    (0..count)
        .map(|index| {
            let body = if index == 0 {
                format!("body {{ --changed: {changed} }}")
            } else {
                format!("file {index}: {}", "x".repeat(index * 37))
            };
            ServedFile::new(format!("assets/file-{index}.css"), body)
        })
        .collect()
}

fn found(version: ArchivedVersion) -> Bytes {
    match version {
        ArchivedVersion::Found { bytes, sha1 } => {
            assert_eq!(
                crate::rules::hash::to_hex(&sha1),
                sha1_of(&bytes),
                "sha1 of the bytes found"
            );
            bytes
        }
        other => panic!("expected a version, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_twice_uploads_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(dir.path());
    let files = site(100, "a");

    let started = Instant::now();
    let first = archive.publish("r1", files.clone()).await.unwrap();
    let first_time = started.elapsed();
    assert_eq!(first.blobs_uploaded, 100);
    assert_eq!(first.records_written, 100);
    assert!(first.manifest_written);
    assert_eq!(first.puts, 201);
    let before = snapshot(dir.path());
    assert_eq!(
        before.len(),
        201,
        "100 blobs, 100 records, 1 manifest: {before:#?}"
    );

    let started = Instant::now();
    let second = archive.publish("r1", files.clone()).await.unwrap();
    let second_time = started.elapsed();
    assert_eq!(second.puts, 0, "{second:?}");
    assert_eq!(second.blobs_uploaded, 0);
    assert!(!second.manifest_written);
    assert_eq!(second.listings, 3);
    assert_eq!(
        snapshot(dir.path()),
        before,
        "nothing written the second time"
    );

    // A deploy changing one file uploads one blob, one record, one manifest.
    let third = archive.publish("r2", site(100, "b")).await.unwrap();
    assert_eq!(
        (third.blobs_uploaded, third.records_written, third.puts),
        (1, 1, 3)
    );
    eprintln!(
        "publish of 100 files: first {first_time:?} ({} puts), again {second_time:?} ({} puts, \
         {} listings)",
        first.puts, second.puts, second.listings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_end_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let one = site(30, "one");
    let two = site(30, "two");
    let mut tasks = Vec::new();
    for (revision, files) in [("r1", &one), ("r1", &one), ("r2", &two), ("r2", &two)] {
        // A separate archive each, as separate instances would have, with the default
        // publish window: 25 ms between a listing and a manifest is too short for four
        // publishers on a loaded machine.
        let instance = Archive::local(dir.path()).unwrap();
        let files = files.clone();
        tasks.push(tokio::spawn(async move {
            instance.publish(revision, files).await
        }));
    }
    let mut uploaded = 0;
    for task in tasks {
        uploaded += task.await.unwrap().unwrap().blobs_uploaded;
    }
    // 31 distinct versions: each made by exactly one put, whoever won it.
    assert_eq!(uploaded, 31);
    let reader = archive(dir.path());
    for (revision, files) in [("r1", &one), ("r2", &two)] {
        for file in files {
            let bytes = found(reader.revision_version(revision, &file.path).await.unwrap());
            assert_eq!(bytes, file.bytes, "{revision} {}", file.path);
        }
    }
    let blobs: BTreeSet<String> = std::fs::read_dir(dir.path().join("blobs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let expected: BTreeSet<String> = one.iter().chain(&two).map(|f| sha1_of(&f.bytes)).collect();
    assert_eq!(
        blobs, expected,
        "exactly the versions, no staging file left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_overlapping_publications_of_one_revision_the_later_sees_the_conflict() {
    // Two builds of r1 that disagree, publishing at once from two instances: each lists the
    // revision's manifests before the other's is written. The one that writes last lists
    // again after its write and reports the conflict (before, both missed it, and both
    // served their bytes as the revision's until their next check).
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (site(200, "one"), site(200, "two"));
        let publish = |files: Vec<ServedFile>| {
            let instance = Archive::local(dir.path()).unwrap();
            tokio::spawn(async move { instance.publish("r1", files).await.unwrap() })
        };
        let (first, second) = (publish(one), publish(two));
        let (first, second) = (first.await.unwrap(), second.await.unwrap());
        assert!(first.manifest_written && second.manifest_written);
        let reported: Vec<&str> = first
            .conflicts
            .iter()
            .chain(&second.conflicts)
            .map(|conflict| conflict.path.as_str())
            .collect();
        assert!(
            reported.contains(&"assets/file-0.css"),
            "round {round}: neither publication reported the conflict"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_publications_in_one_millisecond_both_write_their_manifest_and_the_later_sees_the_conflict(
) {
    // Instances started together publish in the same millisecond: the manifest's key was
    // taken by the first, and the second's was lost while it compared the first's manifest
    // as its own (no conflict seen by either; found by CI under load).
    let dir = tempfile::tempdir().unwrap();
    let at = SystemTime::now();
    let first = archive(dir.path())
        .publish_at("r1", site(3, "one"), at)
        .await
        .unwrap();
    let second = archive(dir.path())
        .publish_at("r1", site(3, "two"), at)
        .await
        .unwrap();
    assert!(first.manifest_written && second.manifest_written);
    let manifests = std::fs::read_dir(dir.path().join("revisions"))
        .unwrap()
        .map(|revision| std::fs::read_dir(revision.unwrap().path()).unwrap().count())
        .sum::<usize>();
    assert_eq!(manifests, 2, "both manifests are in the store");
    let reported: Vec<&str> = second
        .conflicts
        .iter()
        .map(|conflict| conflict.path.as_str())
        .collect();
    assert_eq!(reported, ["assets/file-0.css"]);
    // The first one's files again, in that millisecond: its manifest is this one's record.
    let again = archive(dir.path())
        .republish_after(Duration::ZERO)
        .publish_at("r1", site(3, "one"), at)
        .await
        .unwrap();
    assert!(!again.manifest_written, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_version_by_tag_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(dir.path());
    let start = SystemTime::now();
    let versions: Vec<String> = (0..40)
        .map(|index| format!("a {{ --v: {index} }}"))
        .collect();
    for (index, version) in versions.iter().enumerate() {
        let files = [
            ServedFile::new("css/a.css", version.clone()),
            ServedFile::new("css/other.css", "other"),
        ];
        let at = start + HOUR * u32::try_from(index).unwrap();
        archive
            .publish_at(&format!("r{index}"), files, at)
            .await
            .unwrap();
    }
    let shas: Vec<String> = versions.iter().map(|v| sha1_of(v.as_bytes())).collect();
    let sharing = |prefix: &str| shas.iter().filter(|sha| sha.starts_with(prefix)).count();

    // 40 versions over 16 first digits: some digit begins two of them.
    let shared = (0..16)
        .map(|digit| format!("{digit:x}"))
        .find(|prefix| sharing(prefix) >= 2)
        .unwrap();
    assert_eq!(
        archive.find_version("css/a.css", &shared).await.unwrap(),
        ArchivedVersion::Ambiguous
    );
    // Each version by a 2-digit prefix of its own, where it has one; and by its full SHA-1.
    let mut unique_checked = 0;
    for (sha, version) in shas.iter().zip(&versions) {
        if sharing(&sha[..2]) == 1 {
            let bytes = found(archive.find_version("css/a.css", &sha[..2]).await.unwrap());
            assert_eq!(bytes, version.as_bytes());
            unique_checked += 1;
        }
        let bytes = found(archive.find_version("css/a.css", sha).await.unwrap());
        assert_eq!(bytes, version.as_bytes());
    }
    assert!(
        unique_checked > 0,
        "no version has a 2-digit prefix of its own"
    );
    // 40 versions cannot cover the 256 2-digit prefixes.
    let unused = (0..256)
        .map(|value| format!("{value:02x}"))
        .find(|prefix| sharing(prefix) == 0)
        .unwrap();
    for unknown in [unused.as_str(), "", "XYZ", "g1"] {
        assert_eq!(
            archive.find_version("css/a.css", unknown).await.unwrap(),
            ArchivedVersion::Unknown,
            "tag {unknown:?}"
        );
    }
    // A blob of another path is never a version of this one.
    let other = sha1_of(b"other");
    assert!(dir.path().join("blobs").join(&other).is_file());
    assert_eq!(
        archive.find_version("css/a.css", &other).await.unwrap(),
        ArchivedVersion::Unknown
    );
    assert_eq!(
        archive.find_version("css/b.css", &shas[0]).await.unwrap(),
        ArchivedVersion::Unknown
    );
    // Nor can a path climb out of its records.
    for path in ["../blobs", "css/../blobs", "/css/a.css", "css//a.css"] {
        assert!(
            matches!(
                archive.find_version(path, &other).await,
                Err(ArchiveError::InvalidName { .. })
            ),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_blob_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path())
        .publish("r1", [ServedFile::new("app.js", "good();")])
        .await
        .unwrap();
    let sha = sha1_of(b"good();");
    // Same length, other bytes: only the hash can tell.
    std::fs::write(dir.path().join("blobs").join(&sha), "evil();").unwrap();
    let archive = archive(dir.path());
    for lookup in [
        archive.find_version("app.js", &sha[..6]).await,
        archive.revision_version("r1", "app.js").await,
    ] {
        match lookup {
            Err(ArchiveError::Corrupted {
                expected, found, ..
            }) => {
                assert_eq!(expected, sha);
                assert_eq!(found, sha1_of(b"evil();"));
            }
            other => panic!("a tampered blob must be refused, got {other:?}"),
        }
    }
    // Another length is seen by a publish, which never takes the store's word for it.
    std::fs::write(dir.path().join("blobs").join(&sha), "evil(); longer").unwrap();
    let republished = archive
        .publish("r2", [ServedFile::new("app.js", "good();")])
        .await;
    assert!(
        matches!(republished, Err(ArchiveError::Corrupted { .. })),
        "{republished:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_name_their_versions_and_one_revision_one_set_of_files() {
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(dir.path());
    archive.publish("r1", site(3, "one")).await.unwrap();
    archive.publish("r2", site(3, "two")).await.unwrap();
    for (revision, files) in [("r1", site(3, "one")), ("r2", site(3, "two"))] {
        for file in files {
            let bytes = found(
                archive
                    .revision_version(revision, &file.path)
                    .await
                    .unwrap(),
            );
            assert_eq!(bytes, file.bytes);
        }
    }
    assert_eq!(
        archive
            .revision_version("r3", "assets/file-0.css")
            .await
            .unwrap(),
        ArchivedVersion::Unknown
    );
    assert_eq!(
        archive
            .revision_version("r1", "assets/missing.css")
            .await
            .unwrap(),
        ArchivedVersion::Unknown
    );
    // A second build of r1 with other bytes: the conflict is reported, and from then on
    // neither publication answers r1's tag for the disputed paths, whichever came first.
    let conflict = archive.publish("r1", site(3, "edited")).await.unwrap();
    let disputed: Vec<&str> = conflict
        .conflicts
        .iter()
        .map(|conflict| conflict.path.as_str())
        .collect();
    assert_eq!(disputed, ["assets/file-0.css"]);
    for reader in [archive.clone(), Archive::local(dir.path()).unwrap()] {
        assert_eq!(
            reader
                .revision_version("r1", "assets/file-0.css")
                .await
                .unwrap(),
            ArchivedVersion::Ambiguous
        );
        // The files both builds agree on are still answered.
        assert_eq!(
            found(
                reader
                    .revision_version("r1", "assets/file-1.css")
                    .await
                    .unwrap()
            ),
            site(3, "one")[1].bytes
        );
    }
    // A rollback to r1 an hour later records it as published again (for the retention).
    let later = SystemTime::now() + 2 * HOUR;
    let rollback = archive
        .publish_at("r1", site(3, "one"), later)
        .await
        .unwrap();
    assert!(rollback.manifest_written);
    assert_eq!(rollback.blobs_uploaded, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_are_remembered_and_misses_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let settings = CacheSettings {
        negative_ttl: Duration::from_millis(300),
        ..CacheSettings::default()
    };
    let reader = archive(dir.path()).cache(settings);
    let writer = archive(dir.path());
    let sha = sha1_of(b"v1");
    assert_eq!(
        reader.find_version("a.css", &sha[..8]).await.unwrap(),
        ArchivedVersion::Unknown
    );
    writer
        .publish("r1", [ServedFile::new("a.css", "v1")])
        .await
        .unwrap();
    // The miss is remembered for a while...
    assert_eq!(
        reader.find_version("a.css", &sha[..8]).await.unwrap(),
        ArchivedVersion::Unknown
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    // ...and not for longer.
    assert_eq!(
        found(reader.find_version("a.css", &sha[..8]).await.unwrap()),
        "v1"
    );
    // A hit is answered from memory: the store may even be gone.
    let moved = dir.path().with_extension("moved");
    std::fs::rename(dir.path(), &moved).unwrap();
    assert_eq!(
        found(reader.find_version("a.css", &sha[..8]).await.unwrap()),
        "v1"
    );
    std::fs::rename(&moved, dir.path()).unwrap();
    let usage = reader.cache_usage();
    assert_eq!((usage.bytes, usage.entries), (2, 1));
}

/// One retention scenario: 8 revisions published an hour apart (`app.css` changes each
/// time, `logo.png` never), collected at `hours` after the first with `policy`.
struct Scenario {
    name: &'static str,
    policy: RetentionPolicy,
    /// Hours (and minutes) after the first publication.
    now: Duration,
    /// The revisions whose `app.css` must survive.
    kept: std::ops::Range<usize>,
}

fn minutes(count: u64) -> Duration {
    Duration::from_secs(60 * count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_collection_keeps_exactly_what_the_policy_says() {
    let policy = |revisions, max_age, grace| RetentionPolicy {
        revisions,
        max_age,
        grace,
    };
    let scenarios = [
        Scenario {
            name: "every revision within max_age",
            policy: policy(5, 24 * HOUR, HOUR),
            now: 7 * HOUR,
            kept: 0..8,
        },
        Scenario {
            // Last 5: r3..r7; younger than 2 h: r6, r7. r2 left the last 5 when r7 came
            // (7 h): within its 30 min of grace.
            name: "the last 5, and one in grace",
            policy: policy(5, 2 * HOUR, minutes(30)),
            now: 7 * HOUR + minutes(1),
            kept: 2..8,
        },
        Scenario {
            name: "the last 5, grace over",
            policy: policy(5, 2 * HOUR, minutes(30)),
            now: 7 * HOUR + minutes(31),
            kept: 3..8,
        },
        Scenario {
            // Last 2: r6, r7; younger than 3 h: r5..r7, which keeps more. r4 aged out at 7 h.
            name: "max_age keeps more than the last 2",
            policy: policy(2, 3 * HOUR, minutes(10)),
            now: 7 * HOUR + minutes(11),
            kept: 5..8,
        },
        Scenario {
            name: "only the last one, no grace",
            policy: policy(1, Duration::ZERO, Duration::ZERO),
            now: 7 * HOUR + minutes(1),
            kept: 7..8,
        },
        Scenario {
            // Nothing is old enough: every blob was uploaded less than the grace ago.
            name: "a grace longer than the archive's life deletes nothing",
            policy: policy(1, Duration::ZERO, 30 * 24 * HOUR),
            now: 7 * HOUR + minutes(1),
            kept: 0..8,
        },
    ];
    for scenario in scenarios {
        check_retention(scenario).await;
    }
}

/// Publishes the scenario's revisions in a new archive, collects, and checks what is left.
async fn check_retention(scenario: Scenario) {
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(dir.path());
    let start = SystemTime::now();
    let version = |index: usize| format!("app {{ --revision: {index} }}");
    for index in 0..8 {
        let files = [
            ServedFile::new("app.css", version(index)),
            ServedFile::new("logo.png", "logo"),
        ];
        let at = start + HOUR * u32::try_from(index).unwrap();
        archive
            .publish_at(&format!("r{index}"), files, at)
            .await
            .unwrap();
    }
    let report = collector(dir.path())
        .collect_garbage(&scenario.policy, start + scenario.now)
        .await
        .unwrap();
    let name = scenario.name;
    let survivors: Vec<usize> = (0..8)
        .filter(|index| blob_exists(dir.path(), version(*index).as_bytes()))
        .collect();
    assert_eq!(
        survivors,
        scenario.kept.clone().collect::<Vec<_>>(),
        "{name}: {report:?}"
    );
    assert!(
        blob_exists(dir.path(), b"logo"),
        "{name}: the shared version stays"
    );
    let deleted = 8 - scenario.kept.len();
    assert_eq!(report.blobs_deleted, deleted, "{name}: {report:?}");
    assert_eq!(
        report.blobs_kept,
        scenario.kept.len() + 1,
        "{name}: {report:?}"
    );
    assert_eq!(report.revisions_deleted, deleted, "{name}: {report:?}");
    assert_eq!(report.records_deleted, deleted, "{name}: {report:?}");
    assert_eq!(
        report.bytes_deleted,
        (0..8)
            .filter(|index| !scenario.kept.contains(index))
            .map(|index| version(index).len() as u64)
            .sum::<u64>(),
        "{name}"
    );
    // Every manifest left names only versions that are there, under their path.
    let reader = self::archive(dir.path());
    for index in 0..8 {
        let revision = format!("r{index}");
        let lookup = reader.revision_version(&revision, "app.css").await.unwrap();
        let by_tag = reader
            .find_version("app.css", &sha1_of(version(index).as_bytes())[..7])
            .await
            .unwrap();
        if scenario.kept.contains(&index) {
            assert_eq!(found(lookup), version(index), "{name}: {revision}");
            assert_eq!(found(by_tag), version(index), "{name}: {revision}");
            assert_eq!(
                found(
                    reader
                        .revision_version(&revision, "logo.png")
                        .await
                        .unwrap()
                ),
                "logo"
            );
        } else {
            assert_eq!(lookup, ArchivedVersion::Unknown, "{name}: {revision}");
            assert_eq!(by_tag, ArchivedVersion::Unknown, "{name}: {revision}");
        }
    }
    assert!(!dir.path().join("trash").exists() || snapshot(&dir.path().join("trash")).is_empty());
    // A second collection at the same time has nothing left to do.
    let again = collector(dir.path())
        .collect_garbage(&scenario.policy, start + scenario.now)
        .await
        .unwrap();
    assert_eq!(
        (again.blobs_deleted, again.manifests_deleted),
        (0, 0),
        "{name}"
    );
}

/// The race the trash is for: a publisher found an old blob present, the collector deleted
/// it, then the publisher's manifest names it. The collector puts it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_deleted_under_a_concurrent_publish_is_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let start = SystemTime::now();
    let writer = archive(dir.path());
    writer
        .publish_at("old", [ServedFile::new("app.css", "reverted")], start)
        .await
        .unwrap();
    writer
        .publish_at("new", [ServedFile::new("app.css", "current")], start + HOUR)
        .await
        .unwrap();
    let collector = archive(dir.path()).publish_window(Duration::from_millis(1500));
    let policy = RetentionPolicy {
        revisions: 1,
        max_age: Duration::ZERO,
        grace: Duration::ZERO,
    };
    let collection =
        tokio::spawn(async move { collector.collect_garbage(&policy, start + 2 * HOUR).await });
    // The collector deletes the old blob...
    let reverted = dir.path().join("blobs").join(sha1_of(b"reverted"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while reverted.exists() {
        assert!(
            Instant::now() < deadline,
            "the collector never deleted the old blob"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...and the racing publisher, which saw it present, writes its manifest naming it.
    let manifest = Manifest {
        revision: "revert".to_owned(),
        published_ms: super::unix_ms(start + 2 * HOUR),
        files: BTreeMap::from([("app.css".to_owned(), sha1_of(b"reverted"))]),
    };
    let manifest_path = dir.path().join("revisions/revert");
    std::fs::create_dir_all(&manifest_path).unwrap();
    std::fs::write(
        manifest_path.join(format!("{:016}.json", manifest.published_ms)),
        manifest.to_bytes(None),
    )
    .unwrap();
    let report = collection.await.unwrap().unwrap();
    assert_eq!(report.blobs_restored, 1, "{report:?}");
    assert_eq!(report.records_restored, 1, "{report:?}");
    let reader = archive(dir.path());
    assert_eq!(
        found(reader.revision_version("revert", "app.css").await.unwrap()),
        "reverted"
    );
    assert_eq!(
        found(
            reader
                .find_version("app.css", &sha1_of(b"reverted")[..6])
                .await
                .unwrap()
        ),
        "reverted"
    );
    assert!(
        snapshot(&dir.path().join("trash")).is_empty(),
        "the trash is emptied"
    );
}

#[cfg(feature = "aws")]
pub(crate) mod unreachable {
    use super::*;

    /// An S3 archive at a port on this host, with both timeouts `timeout`: a closed port or
    /// a server that never answers is a store that is down.
    pub(crate) fn s3_at(port: u16, timeout: Duration) -> Archive {
        let endpoint = format!("http://127.0.0.1:{port}");
        Archive::from_url(
            "s3://archive-test/site",
            [
                ("endpoint", endpoint.as_str()),
                ("aws_allow_http", "true"),
                ("region", "us-east-1"),
                ("access_key_id", "test"),
                ("secret_access_key", "test"),
            ],
        )
        .unwrap()
        .lookup_timeout(timeout)
        .request_timeout(timeout)
    }

    async fn errs_within_the_timeout(archive: &Archive) -> ArchiveError {
        let started = Instant::now();
        let lookup = archive.find_version("css/a.css", "abcdef").await;
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
        let by_revision = archive.revision_version("r1", "css/a.css").await;
        assert!(by_revision.is_err(), "{by_revision:?}");
        let published = archive.publish("r1", [ServedFile::new("a.css", "a")]).await;
        assert!(published.is_err(), "{published:?}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "took {:?}",
            started.elapsed()
        );
        lookup.unwrap_err()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_port_is_an_error_within_the_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = errs_within_the_timeout(&s3_at(port, Duration::from_millis(500))).await;
        assert!(
            matches!(
                error,
                ArchiveError::Store { .. } | ArchiveError::Timeout { .. }
            ),
            "{error}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_that_never_answers_times_out() {
        // Accepts connections and never says a word.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let error = errs_within_the_timeout(&s3_at(port, Duration::from_millis(500))).await;
        assert!(matches!(error, ArchiveError::Timeout { .. }), "{error}");
        drop(listener);
    }
}
