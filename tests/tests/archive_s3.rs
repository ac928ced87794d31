//! The archive on an S3-compatible server (moto's, from `tests/oracle/requirements.txt`, on a
//! free port of this machine): two instances publish at once, a third reads every version
//! back by revision and by tag, a manifest written twice in the same millisecond goes
//! through S3's `412 Precondition Failed`, a blob overwritten behind the archive's back is
//! refused, and a collection deletes what the policy no longer keeps. boto3 (moto's own
//! dependency) is the independent client that creates the bucket, lists and tampers.

use std::path::Path;
use std::time::{Duration, SystemTime};

use cachekiller_core::service::archive::{
    Archive, ArchiveError, ArchivedVersion, RetentionPolicy, ServedFile,
};
use cachekiller_tests::oracle::sha1sum;
use cachekiller_tests::s3::{S3Server, BUCKET};

/// An archive in the bucket of `server`, below `site/`.
fn archive_of(server: &S3Server) -> Archive {
    Archive::from_url(
        &format!("s3://{BUCKET}/site"),
        [
            ("endpoint", server.endpoint().as_str()),
            ("aws_allow_http", "true"),
            ("region", "us-east-1"),
            ("access_key_id", "test"),
            ("secret_access_key", "test"),
        ],
    )
    .unwrap()
    .lookup_timeout(Duration::from_secs(5))
    .publish_window(Duration::from_secs(5))
}

fn sha1_of(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    sha1sum(Path::new(file.path()), 40)
}

fn site(changed: &str) -> Vec<ServedFile> {
    (0..20)
        .map(|index| {
            let body = if index == 0 {
                format!("body {{ --deploy: {changed} }}")
            } else {
                format!("asset {index} {}", "y".repeat(index * 101))
            };
            ServedFile::new(format!("static/asset-{index}.css"), body)
        })
        .collect()
}

fn bytes_of(version: ArchivedVersion) -> Vec<u8> {
    match version {
        ArchivedVersion::Found { bytes, .. } => bytes.to_vec(),
        other => panic!("expected a version, got {other:?}"),
    }
}

#[test]
fn two_instances_publish_at_once_and_every_version_reads_back() {
    let server = S3Server::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (one, two) = (site("one"), site("two"));
        let mut publishes = Vec::new();
        for (revision, files) in [("r1", &one), ("r2", &two), ("r1", &one)] {
            let instance = archive_of(&server);
            let files = files.clone();
            publishes.push(tokio::spawn(async move {
                instance.publish(revision, files).await
            }));
        }
        for publish in publishes {
            publish.await.unwrap().unwrap();
        }

        // The store holds exactly the 21 versions, by the SHA-1 sha1sum gives them.
        let mut expected: Vec<String> = one
            .iter()
            .chain(&two)
            .map(|file| format!("site/blobs/{}", sha1_of(&file.bytes)))
            .collect();
        expected.sort();
        expected.dedup();
        assert_eq!(expected.len(), 21);
        assert_eq!(server.keys("site/blobs/"), expected);

        let reader = archive_of(&server);
        for (revision, files) in [("r1", &one), ("r2", &two)] {
            for file in files {
                let by_revision = reader.revision_version(revision, &file.path).await.unwrap();
                assert_eq!(
                    bytes_of(by_revision),
                    file.bytes,
                    "{revision} {}",
                    file.path
                );
                let tag = &sha1_of(&file.bytes)[..7];
                let by_tag = reader.find_version(&file.path, tag).await.unwrap();
                assert_eq!(bytes_of(by_tag), file.bytes, "{} {tag}", file.path);
            }
        }
        // Another path's version is not this path's.
        let other_tag = &sha1_of(&one[1].bytes)[..7];
        assert_eq!(
            reader.find_version(&one[0].path, other_tag).await.unwrap(),
            ArchivedVersion::Unknown
        );

        // Published again: nothing uploaded.
        let again = reader.publish("r1", one.clone()).await.unwrap();
        assert_eq!(
            (again.puts, again.manifest_written),
            (0, false),
            "{again:?}"
        );

        // Two manifests of one revision in the same millisecond: the second put meets S3's
        // `412 Precondition Failed`, reads the first and finds the same files.
        let at = SystemTime::now();
        let first = archive_of(&server).republish_after(Duration::ZERO);
        let second = archive_of(&server).republish_after(Duration::ZERO);
        assert!(
            first
                .publish_at("r3", two.clone(), at)
                .await
                .unwrap()
                .manifest_written
        );
        let raced = second.publish_at("r3", two.clone(), at).await.unwrap();
        assert!(!raced.manifest_written, "{raced:?}");
        assert_eq!(raced.puts, 1, "only the manifest was attempted: {raced:?}");

        // A blob overwritten behind the archive's back is refused.
        let sha = sha1_of(&one[0].bytes);
        server.boto3(&format!(
            "s3.put_object(Bucket='{BUCKET}', Key='site/blobs/{sha}', Body=b'tampered')"
        ));
        match archive_of(&server)
            .find_version(&one[0].path, &sha[..7])
            .await
        {
            Err(ArchiveError::Corrupted { expected, .. }) => assert_eq!(expected, sha),
            other => panic!("a tampered blob must be refused: {other:?}"),
        }

        // The last revision only, no grace: r1's own version goes, the rest stays.
        let policy = RetentionPolicy {
            revisions: 1,
            max_age: Duration::ZERO,
            grace: Duration::ZERO,
        };
        let later = SystemTime::now() + Duration::from_secs(3600);
        let report = reader.collect_garbage(&policy, later).await.unwrap();
        assert_eq!(report.blobs_deleted, 1, "{report:?}");
        assert_eq!(report.blobs_kept, 20, "{report:?}");
        assert!(!server
            .keys("site/blobs/")
            .contains(&format!("site/blobs/{sha}")));
        assert!(server.keys("site/revisions/r1/").is_empty());
        assert!(server.keys("site/trash/").is_empty());
        let kept = reader.revision_version("r2", &two[0].path).await.unwrap();
        assert_eq!(bytes_of(kept), two[0].bytes);
    });
}
