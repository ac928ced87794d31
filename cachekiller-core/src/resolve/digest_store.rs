//! Digests kept between compilations, so that an incremental build hashes again only the
//! files that changed: those of a build without git (Mercurial, the static files' digest,
//! `CACHEKILLER_TAG`), which names its files by their SHA-1, and generated files.
//!
//! One append-only log per target directory profile, beside the crates' outputs
//! (`<target>/<profile>/deps/cachekiller-digests.log`, found from rustc's `--out-dir`): a line
//! per digest, with the file's version (device, inode, size, mtime and ctime to the
//! nanosecond) and when the read that made it started. A digest is used only for the same
//! version of a file that had settled before that read, as in this process's own cache. Lines
//! are appended with one write each (`O_APPEND`), so crates compiling at once do not tear
//! them; a log grown past a bound starts over. Outside a compiler (rust-analyzer, tests) there
//! is no log: the process's own cache is all.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use crate::rules::file_stamp::FileVersion;
use crate::rules::hash::{from_hex, to_hex, DigestAlgorithm};

/// A log past this size starts over: a few hundred thousand digests.
const LOG_LIMIT: u64 = 32 << 20;

/// A digest as the log records it.
#[derive(Debug, Clone)]
struct Stored {
    version: FileVersion,
    read_at: SystemTime,
    digest: Vec<u8>,
}

type Log = HashMap<(PathBuf, DigestAlgorithm), Stored>;

struct Store {
    path: PathBuf,
    entries: Mutex<Log>,
}

/// The log of this compiler process, read once.
fn store() -> Option<&'static Store> {
    static STORE: OnceLock<Option<Store>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let path = log_path(std::env::args())?;
            let entries = read_log(&path);
            Some(Store {
                path,
                entries: Mutex::new(entries),
            })
        })
        .as_ref()
}

/// Where the log of a compiler started with `args` lives: in its `--out-dir`.
fn log_path(args: impl IntoIterator<Item = String>) -> Option<PathBuf> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--out-dir" {
            return args
                .next()
                .map(|dir| Path::new(&dir).join("cachekiller-digests.log"));
        }
        if let Some(dir) = arg.strip_prefix("--out-dir=") {
            return Some(Path::new(dir).join("cachekiller-digests.log"));
        }
    }
    None
}

fn algorithm_name(algorithm: DigestAlgorithm) -> &'static str {
    algorithm.name()
}

fn read_log(path: &Path) -> Log {
    let mut entries = Log::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return entries;
    };
    for line in text.lines() {
        // `<algorithm> <version> <read at ns> <hex> <path>`
        let mut fields = line.splitn(5, ' ');
        let (Some(algorithm), Some(version), Some(read_at), Some(hex), Some(file)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let Some(algorithm) = DigestAlgorithm::from_name(algorithm) else {
            continue;
        };
        let (Some(version), Ok(read_at), Some(digest)) = (
            FileVersion::from_text(version),
            read_at.parse::<u64>(),
            from_hex(hex),
        ) else {
            continue;
        };
        entries.insert(
            (PathBuf::from(file), algorithm),
            Stored {
                version,
                read_at: SystemTime::UNIX_EPOCH + Duration::from_nanos(read_at),
                digest,
            },
        );
    }
    entries
}

/// The stored digest of `path` at `version` with `algorithm`, if a read that started after the
/// version had settled made it.
pub(crate) fn stored_digest(
    path: &Path,
    version: FileVersion,
    algorithm: DigestAlgorithm,
) -> Option<Vec<u8>> {
    let store = store()?;
    let entries = store.entries.lock().unwrap_or_else(PoisonError::into_inner);
    let stored = entries.get(&(path.to_owned(), algorithm))?;
    (stored.version == version && version.settled_before(stored.read_at))
        .then(|| stored.digest.clone())
}

/// Records the digest of `path` at `version`, made by a read that started at `read_at`.
pub(crate) fn store_digest(
    path: &Path,
    version: FileVersion,
    read_at: SystemTime,
    algorithm: DigestAlgorithm,
    digest: &[u8],
) {
    let Some(store) = store() else {
        return;
    };
    // A version that had not settled when it was read is not worth keeping.
    if !version.settled_before(read_at) {
        return;
    }
    let (Some(file), Ok(since_epoch)) = (
        path.to_str().filter(|file| !file.contains('\n')),
        read_at.duration_since(SystemTime::UNIX_EPOCH),
    ) else {
        return;
    };
    let line = format!(
        "{} {} {} {} {file}\n",
        algorithm_name(algorithm),
        version.to_text(),
        since_epoch.as_nanos(),
        to_hex(digest)
    );
    let too_large = std::fs::metadata(&store.path).is_ok_and(|meta| meta.len() > LOG_LIMIT);
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    if too_large {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    // A log that cannot be written is only a slower next build.
    if let Ok(mut log) = options.open(&store.path) {
        let _ = log.write_all(line.as_bytes());
    }
    store
        .entries
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            (path.to_owned(), algorithm),
            Stored {
                version,
                read_at,
                digest: digest.to_vec(),
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_in_rustcs_output_dir_and_reads_back() {
        let args = |list: &[&str]| list.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            log_path(args(&[
                "rustc",
                "--crate-name",
                "site",
                "--out-dir",
                "/t/debug/deps"
            ])),
            Some(PathBuf::from("/t/debug/deps/cachekiller-digests.log"))
        );
        assert_eq!(
            log_path(args(&["rustc", "--out-dir=/t/release/deps"])),
            Some(PathBuf::from("/t/release/deps/cachekiller-digests.log"))
        );
        assert_eq!(log_path(args(&["rust-analyzer-proc-macro-srv"])), None);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a b.css");
        std::fs::write(&file, "body {}").unwrap();
        let version = crate::rules::file_stamp::file_stamp(&file).unwrap();
        assert_eq!(FileVersion::from_text(&version.to_text()), Some(version));
        let log = dir.path().join("cachekiller-digests.log");
        let read_at = SystemTime::now() + Duration::from_secs(5);
        std::fs::write(
            &log,
            format!(
                "sha1 {} {} 00ff {}\nbroken line\n",
                version.to_text(),
                read_at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos(),
                file.display()
            ),
        )
        .unwrap();
        let entries = read_log(&log);
        let stored = &entries[&(file, DigestAlgorithm::Sha1)];
        assert_eq!(stored.digest, [0x00, 0xff]);
        assert_eq!(stored.version, version);
        assert_eq!(entries.len(), 1);
    }
}
