//! The archive's requests to its store, each bounded by a timeout: an error, never a wait
//! past it.

use super::*;

impl Archive {
    /// `future` bounded by `limit`.
    pub(super) async fn timed<T>(
        limit: Duration,
        operation: &'static str,
        key: &Path,
        future: impl Future<Output = object_store::Result<T>>,
    ) -> ArchiveResult<object_store::Result<T>> {
        tokio::time::timeout(limit, future)
            .await
            .map_err(|_| ArchiveError::Timeout {
                operation,
                key: key.to_string(),
                after: limit,
            })
    }

    pub(super) fn store_error(
        operation: &'static str,
        key: &Path,
        error: &object_store::Error,
    ) -> ArchiveError {
        ArchiveError::Store {
            operation,
            key: key.to_string(),
            reason: error.to_string(),
        }
    }

    /// Every object below `prefix` (none if it does not exist).
    pub(super) async fn list(
        &self,
        prefix: &Path,
        limit: Duration,
    ) -> ArchiveResult<Vec<ObjectMeta>> {
        let listing = self.store.list(Some(prefix)).try_collect::<Vec<_>>();
        match Self::timed(limit, "list", prefix, listing).await? {
            Ok(objects) => Ok(objects),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(error) => Err(Self::store_error("list", prefix, &error)),
        }
    }

    /// The bytes at `key`, or `None` if there is no such object.
    pub(super) async fn get(&self, key: &Path, limit: Duration) -> ArchiveResult<Option<Bytes>> {
        let read = async { self.store.get(key).await?.bytes().await };
        match Self::timed(limit, "get", key, read).await? {
            Ok(bytes) => Ok(Some(bytes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(Self::store_error("get", key, &error)),
        }
    }

    /// Puts `bytes` at `key` unless an object is there: true if this put made it.
    pub(super) async fn create(&self, key: &Path, bytes: Bytes) -> ArchiveResult<bool> {
        let put = self
            .store
            .put_opts(key, PutPayload::from_bytes(bytes), PutMode::Create.into());
        match Self::timed(self.settings.request_timeout, "put", key, put).await? {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(error) => Err(Self::store_error("put", key, &error)),
        }
    }

    pub(super) async fn delete(&self, key: &Path) -> ArchiveResult<()> {
        let delete = self.store.delete(key);
        match Self::timed(self.settings.request_timeout, "delete", key, delete).await? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(Self::store_error("delete", key, &error)),
        }
    }

    /// Puts a blob of `sha1_hex` unless it exists; one that exists is read and checked.
    pub(super) async fn create_blob(&self, sha1_hex: &str, bytes: Bytes) -> ArchiveResult<bool> {
        let key = blob_key(sha1_hex);
        // Twice: a blob found existing may be deleted (by a collection) before it is read.
        for _ in 0..2 {
            if self.create(&key, bytes.clone()).await? {
                return Ok(true);
            }
            if let Some(existing) = self.get(&key, self.settings.request_timeout).await? {
                let found = to_hex(&sha1::Sha1::digest(&existing));
                if found != sha1_hex {
                    return Err(ArchiveError::Corrupted {
                        key: key.to_string(),
                        expected: sha1_hex.to_owned(),
                        found,
                    });
                }
                return Ok(false);
            }
        }
        Err(ArchiveError::Store {
            operation: "put",
            key: key.to_string(),
            reason: "the object exists for a put and is missing for a read, twice".to_owned(),
        })
    }
}
