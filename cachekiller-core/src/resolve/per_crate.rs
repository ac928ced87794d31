//! State kept per crate in a process: one rustc compiles one crate, but rust-analyzer's
//! proc-macro server expands every crate of a workspace in one long-lived process.

use std::ffi::OsString;
use std::path::Path;

/// Values by manifest dir, searched by comparing path bytes: rustc compiles one crate per
/// process and rust-analyzer a few hundred at most, and in the unoptimized builds proc macros
/// usually get, hashing a path costs more than the rest of a call.
pub(crate) struct PerCrate<T> {
    entries: Vec<(OsString, T)>,
}

impl<T> PerCrate<T> {
    /// None yet; `const`, for a `static`.
    pub(crate) const fn new() -> Self {
        PerCrate {
            entries: Vec::new(),
        }
    }

    /// The value of the crate at `manifest_dir`, if there is one.
    pub(crate) fn get_mut(&mut self, manifest_dir: &Path) -> Option<&mut T> {
        let bytes = manifest_dir.as_os_str();
        self.entries
            .iter_mut()
            .find(|(key, _)| key.as_os_str() == bytes)
            .map(|(_, value)| value)
    }

    /// Sets the value of the crate at `manifest_dir`, replacing any, and returns it.
    pub(crate) fn insert(&mut self, manifest_dir: &Path, value: T) -> &mut T {
        let bytes = manifest_dir.as_os_str();
        self.entries.retain(|(key, _)| key.as_os_str() != bytes);
        self.entries.push((bytes.to_owned(), value));
        let last = self.entries.len() - 1;
        &mut self.entries[last].1
    }

    /// The value of the crate at `manifest_dir`, made by `make` if there is none yet.
    pub(crate) fn get_or_insert_with(
        &mut self,
        manifest_dir: &Path,
        make: impl FnOnce() -> T,
    ) -> &mut T {
        let bytes = manifest_dir.as_os_str();
        let found = self
            .entries
            .iter()
            .position(|(key, _)| key.as_os_str() == bytes);
        let index = found.unwrap_or_else(|| {
            self.entries.push((bytes.to_owned(), make()));
            self.entries.len() - 1
        });
        &mut self.entries[index].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_crate() {
        let mut values = PerCrate::new();
        assert!(values.get_mut(Path::new("/a")).is_none());
        *values.insert(Path::new("/a"), 1) += 1;
        values.insert(Path::new("/b"), 10);
        values.insert(Path::new("/a"), 5);
        assert_eq!(values.get_mut(Path::new("/a")).copied(), Some(5));
        assert_eq!(values.get_mut(Path::new("/b")).copied(), Some(10));
        assert_eq!(values.entries.len(), 2);
    }
}
