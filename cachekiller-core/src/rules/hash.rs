//! Content hashes of static files: the SHA-1 tag of `HashPathStaticFilesStorage`, and the
//! SHA-2 digests of subresource integrity.
//!
//! Files are read as bytes (`HashPathStaticFilesStorage`'s `open(path, 'r')` broke on images until a commenter
//! switched to `'rb'`) and streamed, so memory does not grow with the file. A file is hashed
//! once per compiler process and algorithm, and again only when its version (device, inode,
//! size, mtime, ctime) changes or it was written too close to the read to tell.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use base64::Engine as _;
use sha1::Digest;

use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::FileStamp;
use crate::rules::revision_manifest::ObjectFormat;

/// The digests cachekiller computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-1, for content tags (as `HashPathStaticFilesStorage`).
    Sha1,
    /// SHA-256, for `integrity="sha256-…"`.
    Sha256,
    /// SHA-384, the usual subresource integrity digest.
    Sha384,
    /// SHA-512.
    Sha512,
    /// git's object id of a file holding the bytes, in a repository of this object format
    /// (see [`git_blob_id`]): what a build compares a work-tree file with its commit by.
    GitBlob(ObjectFormat),
}

/// The digests browsers accept for subresource integrity (`integrity="sha384-…"`): SHA-1 is
/// not one of them, so a type that can only name these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IntegrityAlgorithm {
    /// `sha256-…`.
    Sha256,
    /// `sha384-…`, the usual one, and the default of `cdnintegrity!`, the run-time
    /// `integrity()` and import maps.
    #[default]
    Sha384,
    /// `sha512-…`.
    Sha512,
}

impl IntegrityAlgorithm {
    /// The algorithm named `name` (`"sha256"`, `"sha384"`, `"sha512"`), as the `algorithm`
    /// option of `cdnintegrity!` and the templates' `integrity()` name it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(IntegrityAlgorithm::Sha256),
            "sha384" => Some(IntegrityAlgorithm::Sha384),
            "sha512" => Some(IntegrityAlgorithm::Sha512),
            _ => None,
        }
    }

    /// Its name in integrity metadata.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.digest().name()
    }

    /// The digest it takes.
    #[must_use]
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            IntegrityAlgorithm::Sha256 => DigestAlgorithm::Sha256,
            IntegrityAlgorithm::Sha384 => DigestAlgorithm::Sha384,
            IntegrityAlgorithm::Sha512 => DigestAlgorithm::Sha512,
        }
    }
}

impl DigestAlgorithm {
    /// The name used in integrity metadata and in the `algorithm` option.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "sha1",
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha384 => "sha384",
            DigestAlgorithm::Sha512 => "sha512",
            DigestAlgorithm::GitBlob(ObjectFormat::Sha1) => "git-blob-sha1",
            DigestAlgorithm::GitBlob(ObjectFormat::Sha256) => "git-blob-sha256",
        }
    }

    /// The algorithm whose [`DigestAlgorithm::name`] is `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            DigestAlgorithm::Sha1,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
            DigestAlgorithm::GitBlob(ObjectFormat::Sha1),
            DigestAlgorithm::GitBlob(ObjectFormat::Sha256),
        ]
        .into_iter()
        .find(|algorithm| algorithm.name() == name)
    }
}

/// `hash_length`, the hex digits of a content tag, when none is configured: 6, as
/// `HashPathStaticFilesStorage`'s `STATICFILES_HASH_ACCURACY`.
pub const DEFAULT_HASH_LENGTH: usize = 6;
/// The shortest `hash_length`: `HashPathStaticFilesStorage`'s author warns that 1 or 2 hex
/// characters collide, and a server must not call a guess of a few characters the tag of a
/// file's bytes.
pub const MIN_HASH_LENGTH: usize = 3;
/// The longest `hash_length` (a longer one acts as this): a SHA-1 has 40 hex characters.
pub const MAX_HASH_LENGTH: usize = 40;

/// The size of the read buffer: large enough that the system call cost vanishes next to the
/// hashing, small enough to stay in cache.
const READ_BUFFER_BYTES: usize = 256 * 1024;

fn digest_reader<D: Digest>(mut reader: impl Read) -> io::Result<Vec<u8>> {
    let mut hasher = D::new();
    let mut buffer = vec![0; READ_BUFFER_BYTES];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(hasher.finalize().to_vec()),
            Ok(read) => hasher.update(&buffer[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// The digest of everything `reader` yields, streamed.
///
/// # Errors
/// Any read error.
pub fn digest_of_reader(reader: impl Read, algorithm: DigestAlgorithm) -> io::Result<Vec<u8>> {
    match algorithm {
        DigestAlgorithm::Sha1 => digest_reader::<sha1::Sha1>(reader),
        DigestAlgorithm::Sha256 => digest_reader::<sha2::Sha256>(reader),
        DigestAlgorithm::Sha384 => digest_reader::<sha2::Sha384>(reader),
        DigestAlgorithm::Sha512 => digest_reader::<sha2::Sha512>(reader),
        // The blob header holds the length, which a reader does not tell before its end.
        DigestAlgorithm::GitBlob(format) => {
            let mut bytes = Vec::new();
            let mut reader = reader;
            reader.read_to_end(&mut bytes)?;
            Ok(git_blob_id(&bytes, format))
        }
    }
}

/// The digest of `bytes` (a stylesheet's rewritten bytes, say).
#[must_use]
pub fn digest_of_bytes(bytes: &[u8], algorithm: DigestAlgorithm) -> Vec<u8> {
    match algorithm {
        DigestAlgorithm::Sha1 => sha1::Sha1::digest(bytes).to_vec(),
        DigestAlgorithm::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
        DigestAlgorithm::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
        DigestAlgorithm::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        DigestAlgorithm::GitBlob(format) => git_blob_id(bytes, format),
    }
}

/// The digest of the file at `path`, uncached.
///
/// # Errors
/// [`Error::FileUnreadable`] if the file cannot be opened or read.
pub fn digest_of_file(path: &Path, algorithm: DigestAlgorithm) -> Result<Vec<u8>> {
    File::open(path)
        .and_then(|file| match algorithm {
            // Streamed with the length the file has when opened: bytes that change while it
            // is read give an id no blob has, never a committed one.
            DigestAlgorithm::GitBlob(format) => {
                let length = file.metadata()?.len();
                let mut hasher = GitBlobHasher::new(format, length);
                let mut buffer = vec![0; READ_BUFFER_BYTES];
                let mut file = file;
                loop {
                    match file.read(&mut buffer) {
                        Ok(0) => return Ok(hasher.finalize()),
                        Ok(read) => hasher.update(&buffer[..read]),
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(error) => return Err(error),
                    }
                }
            }
            _ => digest_of_reader(file, algorithm),
        })
        .map_err(|error| Error::FileUnreadable {
            path: path.to_owned(),
            reason: error.to_string(),
        })
}

/// Keyed by the path's bytes, looked up without allocating: hashing a `PathBuf` walks its
/// components, which in the unoptimized builds proc macros usually get costs more than the
/// rest of a call. Each path holds its digests, one per algorithm, with the stamp they were
/// computed at.
type DigestCache = HashMap<OsString, Vec<CachedDigest>>;

/// A digest with the version of the file it was computed from and when the read started.
struct CachedDigest {
    algorithm: DigestAlgorithm,
    stamp: FileStamp,
    read_at: SystemTime,
    digest: Vec<u8>,
}
static DIGESTS: Mutex<Option<DigestCache>> = Mutex::new(None);

/// [`digest_of_file`] through this process's cache, for a file whose stamp the caller has just
/// read (it looked the file up): a file used by many macro calls is read once, and again only
/// after it changed (see [`crate::rules::file_stamp::FileVersion`]); a hit costs no system
/// call.
///
/// # Errors
/// As [`digest_of_file`].
pub fn cached_digest(path: &Path, stamp: FileStamp, algorithm: DigestAlgorithm) -> Result<Vec<u8>> {
    with_cached_digest(path, stamp, algorithm, <[u8]>::to_vec)
}

/// Calls `use_digest` with the digest of `path`, as [`cached_digest`] finds or computes it,
/// without copying it out of the cache (a server checks a tag against it on every request).
///
/// # Errors
/// As [`digest_of_file`].
pub fn with_cached_digest<T>(
    path: &Path,
    stamp: FileStamp,
    algorithm: DigestAlgorithm,
    use_digest: impl FnOnce(&[u8]) -> T,
) -> Result<T> {
    {
        let mut guard = DIGESTS.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = guard
            .get_or_insert_with(HashMap::new)
            .get(path.as_os_str())
            .and_then(|digests| {
                digests.iter().find(|cached| {
                    cached.algorithm == algorithm
                        && cached.stamp == stamp
                        // A write in the same timestamp granule as the read that made the
                        // digest would leave the stamp as it is: hash such a file again.
                        && stamp.is_some_and(|version| version.settled_before(cached.read_at))
                })
            });
        if let Some(cached) = cached {
            return Ok(use_digest(&cached.digest));
        }
    }
    // Between compilations (the build side's store in the target dir).
    #[cfg(feature = "resolve")]
    let stored = stamp.and_then(|version| {
        crate::resolve::digest_store::stored_digest(path, version, algorithm)
            .map(|digest| (version, digest))
    });
    #[cfg(not(feature = "resolve"))]
    let stored: Option<(crate::rules::file_stamp::FileVersion, Vec<u8>)> = None;
    if let Some((version, digest)) = stored {
        // It settled before the stored read: as good as a read of now.
        let remembered = CachedDigest {
            algorithm,
            stamp: Some(version),
            read_at: SystemTime::now(),
            digest,
        };
        return Ok(remember(path, remembered, use_digest));
    }
    // Hash without holding the lock: other crates' expansions need not wait for a big file.
    let read_at = SystemTime::now();
    let digest = digest_of_file(path, algorithm)?;
    #[cfg(feature = "resolve")]
    if let Some(version) = stamp {
        crate::resolve::digest_store::store_digest(path, version, read_at, algorithm, &digest);
    }
    let remembered = CachedDigest {
        algorithm,
        stamp,
        read_at,
        digest,
    };
    Ok(remember(path, remembered, use_digest))
}

/// Keeps `remembered` as the digest of `path` with its algorithm (replacing an older one),
/// and gives it to `use_digest`.
fn remember<T>(path: &Path, remembered: CachedDigest, use_digest: impl FnOnce(&[u8]) -> T) -> T {
    let mut guard = DIGESTS.lock().unwrap_or_else(PoisonError::into_inner);
    let digests = guard
        .get_or_insert_with(HashMap::new)
        .entry(path.as_os_str().to_owned())
        .or_default();
    digests.retain(|cached| cached.algorithm != remembered.algorithm);
    let result = use_digest(&remembered.digest);
    digests.push(remembered);
    result
}

/// git's object id of a file holding `bytes`: the SHA-1 (or SHA-256) of `blob <length>\0`
/// followed by the bytes, what `git hash-object` prints and a commit's tree records. A
/// revision's manifest names committed files by it, so that the service can check the bytes
/// it reads against the commit without anything hashed at compile time.
#[must_use]
pub fn git_blob_id(bytes: &[u8], format: ObjectFormat) -> Vec<u8> {
    let mut hasher = GitBlobHasher::new(format, bytes.len() as u64);
    hasher.update(bytes);
    hasher.finalize()
}

/// [`git_blob_id`] of bytes that arrive in pieces (a file read in chunks), whose total length
/// is known first.
#[derive(Debug, Clone)]
pub enum GitBlobHasher {
    /// A SHA-1 repository's.
    Sha1(sha1::Sha1),
    /// A SHA-256 repository's.
    Sha256(sha2::Sha256),
}

impl GitBlobHasher {
    /// A hasher for a blob of `length` bytes.
    #[must_use]
    pub fn new(format: ObjectFormat, length: u64) -> Self {
        let header = format!("blob {length}\0");
        match format {
            ObjectFormat::Sha1 => {
                let mut hasher = sha1::Sha1::new();
                hasher.update(header.as_bytes());
                GitBlobHasher::Sha1(hasher)
            }
            ObjectFormat::Sha256 => {
                let mut hasher = sha2::Sha256::new();
                hasher.update(header.as_bytes());
                GitBlobHasher::Sha256(hasher)
            }
        }
    }

    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            GitBlobHasher::Sha1(hasher) => hasher.update(bytes),
            GitBlobHasher::Sha256(hasher) => hasher.update(bytes),
        }
    }

    /// The object id.
    #[must_use]
    pub fn finalize(self) -> Vec<u8> {
        match self {
            GitBlobHasher::Sha1(hasher) => hasher.finalize().to_vec(),
            GitBlobHasher::Sha256(hasher) => hasher.finalize().to_vec(),
        }
    }
}

/// True if `hex` (lower-case hex digits) is a prefix of the hex of `digest`, compared nibble
/// by nibble without formatting the digest.
#[must_use]
pub fn hex_prefix_matches(digest: &[u8], hex: &str) -> bool {
    let nibble = |index: usize| {
        digest.get(index / 2).map(|byte| {
            if index.is_multiple_of(2) {
                byte >> 4
            } else {
                byte & 0x0F
            }
        })
    };
    hex.len() <= digest.len() * 2
        && hex.bytes().enumerate().all(|(index, character)| {
            let value = match character {
                b'0'..=b'9' => character - b'0',
                b'a'..=b'f' => character - b'a' + 10,
                _ => return false,
            };
            nibble(index) == Some(value)
        })
}

/// Lower-case hex of `bytes` (a table lookup per nibble: `write!` per byte is slow in the
/// unoptimized builds proc macros usually get, and content-mode calls format a digest each).
/// Revision ids are formatted with it too.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
    }
    hex
}

/// The bytes of lower-case (or upper-case) hex, `None` for anything else: an object id git
/// printed, a digest stored as text.
#[cfg(any(feature = "resolve", feature = "archive"))]
pub(crate) fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect()
}

/// The content tag: the first `hash_length` hex characters of `digest` (all of them if it is
/// shorter, as `HashPathStaticFilesStorage`'s `[:ACCURACY]`).
#[must_use]
pub fn content_tag(digest: &[u8], hash_length: usize) -> String {
    let mut hex = to_hex(digest);
    hex.truncate(hash_length);
    hex
}

/// Subresource integrity metadata: `<algorithm>-<base64 of the digest>`.
#[must_use]
pub fn integrity_metadata(digest: &[u8], algorithm: IntegrityAlgorithm) -> String {
    format!(
        "{}-{}",
        algorithm.name(),
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::file_stamp::file_stamp;
    use crate::test_support::{openssl_integrity, sha1sum};
    use std::io::Write;
    use std::path::PathBuf;

    /// Text, binary, empty, and larger than any buffer (tens of MB, not a multiple of it).
    fn sample_files(directory: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut write = |name: &str, bytes: &[u8]| {
            let path = directory.join(name);
            std::fs::write(&path, bytes).unwrap();
            files.push(path);
        };
        write("app.css", b"body { color: #1b1b1f; }\n");
        write("empty.txt", b"");
        write(
            "bytes.bin",
            &(0..=255u8).cycle().take(70_001).collect::<Vec<_>>(),
        );
        let mut large = File::create(directory.join("large.bin")).unwrap();
        let mut state: u32 = 0x1234_5678;
        let chunk: Vec<u8> = (0..1_048_573)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state.to_le_bytes()[0]
            })
            .collect();
        for _ in 0..24 {
            large.write_all(&chunk).unwrap();
        }
        files.push(directory.join("large.bin"));
        files
    }

    #[test]
    fn sha1_tags_match_sha1sum() {
        let directory = tempfile::tempdir().unwrap();
        for file in sample_files(directory.path()) {
            let sha1sum = sha1sum(&file, 40);
            let digest = digest_of_file(&file, DigestAlgorithm::Sha1).unwrap();
            assert_eq!(content_tag(&digest, 40), sha1sum, "{}", file.display());
            assert_eq!(content_tag(&digest, 6), sha1sum[..6], "{}", file.display());
            assert_eq!(content_tag(&digest, 99), sha1sum, "above 40 acts as 40");
        }
    }

    #[test]
    fn integrity_matches_openssl() {
        let directory = tempfile::tempdir().unwrap();
        for file in sample_files(directory.path()) {
            for algorithm in [
                IntegrityAlgorithm::Sha256,
                IntegrityAlgorithm::Sha384,
                IntegrityAlgorithm::Sha512,
            ] {
                let name = algorithm.name();
                let expected = openssl_integrity(&file, name);
                let digest = digest_of_file(&file, algorithm.digest()).unwrap();
                assert_eq!(
                    integrity_metadata(&digest, algorithm),
                    expected,
                    "{}",
                    file.display()
                );
            }
        }
    }

    #[test]
    fn the_cache_sees_an_edit() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("a.css");
        std::fs::write(&file, "one").unwrap();
        let first = cached_digest(&file, file_stamp(&file), DigestAlgorithm::Sha1).unwrap();
        assert_eq!(
            first,
            cached_digest(&file, file_stamp(&file), DigestAlgorithm::Sha1).unwrap()
        );
        std::fs::write(&file, "two, longer").unwrap();
        let second = cached_digest(&file, file_stamp(&file), DigestAlgorithm::Sha1).unwrap();
        assert_eq!(content_tag(&second, 40), sha1sum(&file, 40));
        assert_ne!(first, second);
    }

    #[test]
    fn git_blob_ids_are_those_git_hash_object_gives() {
        let directory = tempfile::tempdir().unwrap();
        let sha256_repository = directory.path().join("sha256");
        std::fs::create_dir(&sha256_repository).unwrap();
        crate::test_support::git(
            &sha256_repository,
            &["init", "-q", "--object-format=sha256"],
        );
        for file in sample_files(directory.path()) {
            let bytes = std::fs::read(&file).unwrap();
            let path = file.to_str().unwrap();
            let sha1 = crate::test_support::run("git", directory.path(), &["hash-object", path]);
            assert_eq!(to_hex(&git_blob_id(&bytes, ObjectFormat::Sha1)), sha1);
            let sha256 =
                crate::test_support::run("git", &sha256_repository, &["hash-object", path]);
            assert_eq!(to_hex(&git_blob_id(&bytes, ObjectFormat::Sha256)), sha256);
            // In pieces, as a file sent from disk is hashed.
            let mut hasher = GitBlobHasher::new(ObjectFormat::Sha1, bytes.len() as u64);
            for piece in bytes.chunks(7_777) {
                hasher.update(piece);
            }
            assert_eq!(to_hex(&hasher.finalize()), sha1);
        }
    }

    #[test]
    fn hex_prefixes() {
        let digest = [0x4b, 0x40, 0x0e];
        for (hex, matches) in [
            ("", true),
            ("4", true),
            ("4b40", true),
            ("4b400e", true),
            ("4b400e0", false),
            ("4b401", false),
            ("4B40", false),
            ("zz", false),
        ] {
            assert_eq!(hex_prefix_matches(&digest, hex), matches, "{hex}");
            assert_eq!(
                to_hex(&digest).starts_with(hex) && hex.len() <= 6 && !hex.contains('B'),
                matches,
                "{hex}"
            );
        }
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let missing = Path::new("/nonexistent/cachekiller/a.css");
        let error = digest_of_file(missing, DigestAlgorithm::Sha1).unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/cachekiller/a.css"),
            "{error}"
        );
    }
}
