//! Where an export goes: a folder (for a static host's upload, or nginx), or an object store
//! (S3, through `object_store`, as the archive). Each write is create-only or an atomic
//! replacement, so that a name is never seen half-written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "archive")]
use std::sync::Arc;

use bytes::Bytes;

use super::{ExportError, ExportResult};

/// Where an export writes, and what a collection cleans.
#[derive(Debug, Clone)]
pub struct Destination {
    place: Place,
}

#[derive(Debug, Clone)]
enum Place {
    Dir(PathBuf),
    #[cfg(feature = "archive")]
    Store(Arc<dyn object_store::ObjectStore>),
}

/// The headers an object is stored with, for a store that keeps them (S3); a folder's host
/// takes them from the generated `_headers` or nginx snippet instead.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "archive"), allow(dead_code))]
pub(super) struct ObjectHeaders<'a> {
    pub(super) content_type: &'a str,
    pub(super) content_encoding: Option<&'a str>,
    pub(super) cache_control: &'a str,
}

/// Names of temporary files, unique within the process.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl Destination {
    /// A folder: the root of the site, where the pages go too (`static/…` below it, as the
    /// URLs say). Created if missing.
    #[must_use]
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        Destination {
            place: Place::Dir(path.into()),
        }
    }

    /// An object store (an S3 bucket, or a prefix of one through `object_store`'s
    /// `PrefixStore`): each object is put with its `Content-Type`, `Content-Encoding` (for the
    /// `.br` and `.gz` siblings) and `Cache-Control`.
    #[cfg(feature = "archive")]
    #[cfg_attr(docsrs, doc(cfg(feature = "archive")))]
    #[must_use]
    pub fn store(store: Arc<dyn object_store::ObjectStore>) -> Self {
        Destination {
            place: Place::Store(store),
        }
    }

    /// Writes a page (or any file that is not a static file) at `key`, replacing what is there
    /// in one step, revalidated on every visit (`no-cache`: its URL has no tag); in an object
    /// store with the `Content-Type` `content_type`. Write the pages after the export, so that
    /// a destination served meanwhile never has a page linking a file not there yet.
    ///
    /// # Errors
    /// A key that would leave the destination (`..`, an empty segment), or the destination's
    /// error.
    pub async fn write_page(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
        content_type: &str,
    ) -> ExportResult<()> {
        if !super::manifest::is_destination_key(key) {
            return Err(ExportError::Destination {
                operation: "write",
                key: key.to_owned(),
                reason: "not a path below the destination".to_owned(),
            });
        }
        let headers = ObjectHeaders {
            content_type,
            content_encoding: None,
            cache_control: crate::rules::cache_policy::CACHE_CONTROL_UNTAGGED,
        };
        self.replace(key, bytes.into(), headers).await
    }

    /// Refuses a key this destination would store under another name: `object_store` escapes
    /// some characters (`%`, `#`, `?`, `*`, `[`…) in a key, so such a file would not be where
    /// its URL asks for it.
    #[cfg_attr(not(feature = "archive"), allow(clippy::unnecessary_wraps))]
    pub(super) fn check_key(&self, key: &str) -> ExportResult<()> {
        match &self.place {
            // Any name the export makes is a file name (`check_names` and the key rule).
            Place::Dir(_) => {
                let _ = key;
                Ok(())
            }
            #[cfg(feature = "archive")]
            Place::Store(_) => {
                let path = object_store::path::Path::from(key);
                if path.as_ref() == key {
                    return Ok(());
                }
                Err(ExportError::Destination {
                    operation: "put",
                    key: key.to_owned(),
                    reason: format!(
                        "the object store would hold it as {path}, not under the name its URL \
                         asks for: rename the file"
                    ),
                })
            }
        }
    }

    /// The folder, if it is one.
    #[cfg_attr(not(feature = "archive"), allow(clippy::unnecessary_wraps))]
    pub(super) fn folder(&self) -> Option<&Path> {
        match &self.place {
            Place::Dir(dir) => Some(dir),
            #[cfg(feature = "archive")]
            Place::Store(_) => None,
        }
    }

    /// The bytes at `key`, or `None` if nothing is there.
    pub(super) async fn read(&self, key: &str) -> ExportResult<Option<Bytes>> {
        match &self.place {
            Place::Dir(dir) => {
                let (dir, key) = (dir.clone(), key.to_owned());
                blocking(move || {
                    let path = beneath(&dir, &key)?;
                    if std::fs::symlink_metadata(&path).is_ok_and(|found| found.is_symlink()) {
                        return Err(ExportError::Destination {
                            operation: "read",
                            key: path.display().to_string(),
                            reason: "a symbolic link: the export reads and writes only files \
                                     below the destination"
                                .to_owned(),
                        });
                    }
                    read_file(&path)
                })
                .await
            }

            #[cfg(feature = "archive")]
            Place::Store(store) => {
                use object_store::ObjectStoreExt as _;
                let path = object_store::path::Path::from(key);
                let read = async { store.get(&path).await?.bytes().await };
                match read.await {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(error) => Err(store_error("get", key, &error)),
                }
            }
        }
    }

    /// Puts `bytes` at `key` unless something is there: true if this call made it.
    pub(super) async fn create(
        &self,
        key: &str,
        bytes: Bytes,
        headers: ObjectHeaders<'_>,
    ) -> ExportResult<bool> {
        self.put(key, bytes, headers, true).await
    }

    /// Puts `bytes` at `key` in one step, replacing what is there.
    pub(super) async fn replace(
        &self,
        key: &str,
        bytes: Bytes,
        headers: ObjectHeaders<'_>,
    ) -> ExportResult<()> {
        self.put(key, bytes, headers, false).await.map(|_| ())
    }

    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        headers: ObjectHeaders<'_>,
        create_only: bool,
    ) -> ExportResult<bool> {
        match &self.place {
            Place::Dir(dir) => {
                let _ = headers;
                let (dir, key) = (dir.clone(), key.to_owned());
                blocking(move || write_file(&beneath(&dir, &key)?, &bytes, create_only)).await
            }
            #[cfg(feature = "archive")]
            Place::Store(store) => {
                use object_store::{Attribute, Attributes, PutMode, PutOptions, PutPayload};
                let mut attributes = Attributes::new();
                attributes.insert(
                    Attribute::ContentType,
                    headers.content_type.to_owned().into(),
                );
                attributes.insert(
                    Attribute::CacheControl,
                    headers.cache_control.to_owned().into(),
                );
                if let Some(encoding) = headers.content_encoding {
                    attributes.insert(Attribute::ContentEncoding, encoding.to_owned().into());
                }
                let options = PutOptions {
                    mode: if create_only {
                        PutMode::Create
                    } else {
                        PutMode::Overwrite
                    },
                    attributes,
                    ..PutOptions::default()
                };
                self.check_key(key)?;
                let path = object_store::path::Path::from(key);
                match store
                    .put_opts(&path, PutPayload::from_bytes(bytes), options)
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::AlreadyExists { .. }) if create_only => Ok(false),
                    Err(error) => Err(store_error("put", key, &error)),
                }
            }
        }
    }

    /// The keys below `prefix` (a folder's: its files, not its subfolders).
    pub(super) async fn list(&self, prefix: &str) -> ExportResult<Vec<String>> {
        match &self.place {
            Place::Dir(dir) => {
                let folder = dir.join(prefix);
                let prefix = prefix.to_owned();
                blocking(move || {
                    let entries = match std::fs::read_dir(&folder) {
                        Ok(entries) => entries,
                        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                            return Ok(Vec::new())
                        }
                        Err(error) => return Err(io_error("list", &folder, &error)),
                    };
                    let mut keys = Vec::new();
                    for entry in entries.flatten() {
                        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
                        if let (true, Ok(name)) = (is_file, entry.file_name().into_string()) {
                            keys.push(format!("{prefix}{name}"));
                        }
                    }
                    keys.sort();
                    Ok(keys)
                })
                .await
            }
            #[cfg(feature = "archive")]
            Place::Store(store) => {
                use futures_util::TryStreamExt as _;
                let path = object_store::path::Path::from(prefix.trim_end_matches('/'));
                match store.list(Some(&path)).try_collect::<Vec<_>>().await {
                    Ok(objects) => {
                        let mut keys: Vec<String> = objects
                            .into_iter()
                            .map(|meta| meta.location.to_string())
                            .collect();
                        keys.sort();
                        Ok(keys)
                    }
                    Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
                    Err(error) => Err(store_error("list", prefix, &error)),
                }
            }
        }
    }

    /// Makes what was written so far durable before a manifest names it: one `syncfs` of a
    /// folder's file system (on Linux; elsewhere the operating system's own timing), instead
    /// of a `fsync` per file, which cost an export of 2,000 files more than the rest of its
    /// writing. A file torn by a crash before this is found by the next export, which checks
    /// every tagged name it finds against its bytes. An object store's puts are durable when
    /// they return.
    pub(super) async fn flush(&self) -> ExportResult<()> {
        match &self.place {
            Place::Dir(dir) => {
                let dir = dir.clone();
                blocking(move || {
                    #[cfg(target_os = "linux")]
                    {
                        let synced = std::fs::File::open(&dir)
                            .and_then(|folder| Ok(rustix::fs::syncfs(&folder)?));
                        synced.map_err(|error| io_error("sync", &dir, &error))
                    }
                    #[cfg(not(target_os = "linux"))]
                    {
                        let _ = dir;
                        Ok(())
                    }
                })
                .await
            }
            #[cfg(feature = "archive")]
            Place::Store(_) => Ok(()),
        }
    }

    /// Deletes `key` (nothing there is not an error).
    pub(super) async fn delete(&self, key: &str) -> ExportResult<()> {
        match &self.place {
            Place::Dir(dir) => {
                let (dir, key) = (dir.clone(), key.to_owned());
                blocking(move || {
                    let path = beneath(&dir, &key)?;
                    match std::fs::remove_file(&path) {
                        Ok(()) => Ok(()),
                        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                        Err(error) => Err(io_error("delete", &path, &error)),
                    }
                })
                .await
            }
            #[cfg(feature = "archive")]
            Place::Store(store) => {
                use object_store::ObjectStoreExt as _;
                match store.delete(&object_store::path::Path::from(key)).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(error) => Err(store_error("delete", key, &error)),
                }
            }
        }
    }
}

/// The bytes of the file at `path`, or `None` if there is none.
fn read_file(path: &Path) -> ExportResult<Option<Bytes>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(Bytes::from(bytes))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error("read", path, &error)),
    }
}

/// The path of `key` below the folder `dir`, refused if a folder on the way is a symbolic
/// link: the export writes (and a collection deletes) only below the destination, never
/// through a link out of it.
fn beneath(dir: &Path, key: &str) -> ExportResult<PathBuf> {
    let mut path = dir.to_owned();
    let mut segments = key.split('/').peekable();
    while let Some(segment) = segments.next() {
        path.push(segment);
        let folder = segments.peek().is_some();
        if folder && std::fs::symlink_metadata(&path).is_ok_and(|found| found.is_symlink()) {
            return Err(ExportError::Destination {
                operation: "write",
                key: path.display().to_string(),
                reason: "a symbolic link: the export writes only into folders below the \
                         destination"
                    .to_owned(),
            });
        }
    }
    Ok(path)
}

/// Writes `bytes` to `path` through a temporary file beside it, so that the name never holds
/// part of them: linked into place if `create_only` (failing if the name exists: false),
/// renamed over it otherwise.
fn write_file(path: &Path, bytes: &[u8], create_only: bool) -> ExportResult<bool> {
    use std::io::Write as _;
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|error| io_error("create", parent, &error))?;
    let temporary = parent.join(format!(
        ".cachekiller-{}-{}.tmp",
        std::process::id(),
        TEMPORARY.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::File::create_new(&temporary).and_then(|mut file| file.write_all(bytes));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(io_error("write", &temporary, &error));
    }
    let placed = if create_only {
        match std::fs::hard_link(&temporary, path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(error),
        }
    } else {
        std::fs::rename(&temporary, path).map(|()| true)
    };
    let _ = std::fs::remove_file(&temporary);
    placed.map_err(|error| io_error("write", path, &error))
}

/// `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> ExportResult<T> + Send + 'static,
) -> ExportResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ExportError::Destination {
            operation: "run",
            key: String::new(),
            reason: error.to_string(),
        })?
}

fn io_error(operation: &'static str, path: &Path, error: &std::io::Error) -> ExportError {
    ExportError::Destination {
        operation,
        key: path.display().to_string(),
        reason: error.to_string(),
    }
}

#[cfg(feature = "archive")]
fn store_error(operation: &'static str, key: &str, error: &object_store::Error) -> ExportError {
    ExportError::Destination {
        operation,
        key: key.to_owned(),
        reason: error.to_string(),
    }
}
