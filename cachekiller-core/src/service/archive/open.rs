//! Opening an archive: on any object store, a local directory, an S3 URL or the environment.

use super::*;

pub(super) fn configuration(url: &str, reason: impl Into<String>) -> ArchiveError {
    ArchiveError::Configuration {
        url: url.to_owned(),
        reason: reason.into(),
    }
}

impl Archive {
    /// An archive in `store`, for any [`ObjectStore`] (wrap it in
    /// [`object_store::prefix::PrefixStore`] to keep it below a prefix).
    #[must_use]
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Archive {
            store,
            settings: Settings {
                lookup_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(30),
                publish_window: Duration::from_secs(120),
                republish_after: Duration::from_secs(3600),
                cache: CacheSettings::default(),
            },
            memory: Arc::default(),
            key: None,
        }
    }

    /// An archive in the directory `dir` (made if missing): for one host, or a volume that
    /// every instance mounts (NFS, EFS: hard links and atomic renames are all it needs).
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] if the directory cannot be made or opened.
    pub fn local(dir: impl AsRef<std::path::Path>) -> ArchiveResult<Self> {
        let dir = dir.as_ref();
        let url = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|error| configuration(&url, error.to_string()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|error| configuration(&url, error.to_string()))?;
        Ok(Archive::new(Arc::new(store)))
    }

    /// An archive at `url`: `file:///dir`, `memory://` (this process only: for tests), or
    /// with feature `aws` `s3://bucket/prefix`, configured by `options` (`region`, `endpoint`,
    /// `access_key_id`, `allow_http`, … as `object_store`'s `AmazonS3ConfigKey` names them)
    /// over the standard `AWS_*` environment variables.
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] for another scheme, an unknown option, or a store that
    /// cannot be built.
    pub fn from_url<K, V>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> ArchiveResult<Self>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        if let Some(dir) = url.strip_prefix("file://") {
            if options.into_iter().next().is_some() {
                return Err(configuration(url, "a local directory takes no options"));
            }
            return Archive::local(dir);
        }
        if url.strip_prefix("memory://").is_some() {
            return Ok(Archive::new(
                Arc::new(object_store::memory::InMemory::new()),
            ));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return Archive::s3(url, rest, options);
        }
        Err(configuration(
            url,
            "the archive takes file:///dir, s3://bucket/prefix (feature `aws`) or memory://",
        ))
    }

    /// An archive at `$CACHEKILLER_ARCHIVE_URL` (see [`Archive::from_url`]), an S3 one
    /// configured by the `AWS_*` environment variables.
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] if the variable is unset or its URL cannot be used.
    pub fn from_env() -> ArchiveResult<Self> {
        let url = std::env::var("CACHEKILLER_ARCHIVE_URL").map_err(|_| {
            configuration(
                "$CACHEKILLER_ARCHIVE_URL",
                "unset: set it to file:///dir or s3://bucket/prefix",
            )
        })?;
        Archive::from_url(&url, std::iter::empty::<(&str, String)>())
    }

    #[cfg(feature = "aws")]
    pub(super) fn s3<K, V>(
        url: &str,
        rest: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> ArchiveResult<Self>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(configuration(url, "it names no bucket"));
        }
        let defaults = Archive::new(Arc::new(object_store::memory::InMemory::new())).settings;
        // The client's own timeouts and retries end within a request's timeout: the
        // archive's bound around each request is what a caller relies on, and a retry after
        // it would only load a store that is already slow.
        let retry = object_store::RetryConfig {
            max_retries: 2,
            retry_timeout: defaults.request_timeout,
            ..object_store::RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_timeout(defaults.request_timeout)
                    .with_connect_timeout(Duration::from_secs(2)),
            )
            .with_retry(retry);
        // The `AWS_*` variables after the client options, not through `from_env`: those
        // options replace the client's whole configuration, `AWS_ALLOW_HTTP` and
        // `AWS_PROXY_URL` included, where a key set here changes only itself.
        for (key, value) in std::env::vars() {
            if key.starts_with("AWS_") {
                if let Ok(parsed) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                    builder = builder.with_config(parsed, value);
                }
            }
        }
        builder = builder.with_bucket_name(bucket);
        for (key, value) in options {
            let key = key.as_ref();
            let parsed: AmazonS3ConfigKey = key
                .parse()
                .map_err(|_| configuration(url, format!("unknown S3 option `{key}`")))?;
            builder = builder.with_config(parsed, value);
        }
        let store = builder
            .build()
            .map_err(|error| configuration(url, error.to_string()))?;
        let store: Arc<dyn ObjectStore> = match prefix.trim_matches('/') {
            "" => Arc::new(store),
            prefix => Arc::new(object_store::prefix::PrefixStore::new(store, prefix)),
        };
        Ok(Archive::new(store))
    }

    #[cfg(not(feature = "aws"))]
    pub(super) fn s3<K, V>(
        url: &str,
        _rest: &str,
        _options: impl IntoIterator<Item = (K, V)>,
    ) -> ArchiveResult<Self> {
        Err(configuration(
            url,
            "S3 needs the feature `aws` of cachekiller-core",
        ))
    }
}
