//! The macros' cache of rewritten stylesheets: a crate whose pages name one stylesheet (or
//! `@import` it) many times rewrites it once per compilation, and again only after one of the
//! files it was made from changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::rules::error::Result;
use crate::rules::file_stamp::FileStamp;
use crate::rules::stylesheet::{rewrite_stylesheet, RewrittenStylesheet, StaticLookup};
use crate::rules::tagging::Tagger;

/// Rewritten stylesheets by path, each used while the files it was made from are unchanged:
/// a service rewrites a stylesheet once per version, not per request.
#[derive(Debug, Default)]
pub struct StylesheetCache {
    entries: Mutex<HashMap<PathBuf, Arc<RewrittenStylesheet>>>,
}

impl StylesheetCache {
    /// [`rewrite_stylesheet`] through the cache. The tags must be the same on every call
    /// (a cache belongs to one site).
    ///
    /// # Errors
    /// As [`rewrite_stylesheet`].
    pub fn rewritten(
        &self,
        lookup: &dyn StaticLookup,
        relative: &str,
        file: &Path,
        stamp: FileStamp,
        tagger: Tagger<'_>,
    ) -> Result<Arc<RewrittenStylesheet>> {
        let cached = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(file)
            .cloned();
        if let Some(cached) = cached {
            if cached
                .files
                .first()
                .is_some_and(|(_, first)| *first == stamp)
                && cached.is_current(lookup)
            {
                return Ok(cached);
            }
        }
        // Rewritten without holding the lock: other requests need not wait for a big file.
        let rewritten = Arc::new(rewrite_stylesheet(lookup, relative, file, stamp, tagger)?);
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(file.to_owned(), Arc::clone(&rewritten));
        Ok(rewritten)
    }
}
