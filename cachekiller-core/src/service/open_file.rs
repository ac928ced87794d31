//! The second step: the file a request names, opened once, confined to the static dirs at the
//! moment of the open (by the one path rule's `find_static_file`: `openat2` with
//! `RESOLVE_BENEATH` on Linux). The same open serves every way a request can name a file: the
//! path itself, a directory's `index.html`, and the file-name tag form (`app.<tag>.css` for
//! `app.css`, tried only when no file has the name as sent: a real `app.abc123.css` is itself).
//! The revision endpoint is the service's own in both URL forms, whatever file has its name.

use std::fs::File;

use super::request_path::canonical_path;
use super::REVISION_ENDPOINT;
use crate::rules::file_stamp::FileVersion;
use crate::rules::static_path::{find_static_file, HiddenFiles, StaticFile};
use crate::rules::url::untag_file_name;

/// What a request path leads to.
#[derive(Debug)]
pub(crate) enum Requested {
    /// A regular file, open: in the static dir `dir`, at the canonical path `relative`, with
    /// the tag its name carried, if it was asked for in the file-name form.
    File {
        dir: usize,
        relative: String,
        file: File,
        version: FileVersion,
        name_tag: Option<String>,
    },
    /// An embedded file (see `embedded`): its index in the table, its canonical path, and the
    /// tag its name carried.
    Embedded {
        index: usize,
        relative: String,
        name_tag: Option<String>,
    },
    /// A directory asked for without its final `/`: the last segment of its path, for the
    /// redirect.
    Directory(String),
    /// The revision endpoint.
    RevisionEndpoint,
    /// No file: the readings of the path an older deploy's file could have (the path as sent,
    /// and each file-name tag form of it, with that tag), for the archive.
    Missing(Vec<(String, Option<String>)>),
    /// A path the one path rule refuses, or something unusable there: `404`, nothing to ask.
    Refused,
}

/// The file the request path `path` (percent-encoded, as in the request line) names in
/// `dirs`, opened.
pub(crate) fn open_requested(
    dirs: &[std::path::PathBuf],
    path: &str,
    hidden: HiddenFiles,
) -> Requested {
    let Ok(canonical) = canonical_path(path, hidden) else {
        return Requested::Refused;
    };
    let relative = canonical.relative;
    if canonical.directory {
        let index = if relative.is_empty() {
            "index.html".to_owned()
        } else {
            format!("{relative}/index.html")
        };
        return match find_static_file(dirs, &index) {
            StaticFile::File { dir, file, version } => Requested::File {
                dir,
                relative: index,
                file,
                version,
                name_tag: None,
            },
            _ => Requested::Refused,
        };
    }
    let endpoint = relative == REVISION_ENDPOINT
        || untag_file_name(&relative).any(|(untagged, _)| untagged == REVISION_ENDPOINT);
    if endpoint {
        return Requested::RevisionEndpoint;
    }
    match find_static_file(dirs, &relative) {
        StaticFile::File { dir, file, version } => {
            return Requested::File {
                dir,
                relative,
                file,
                version,
                name_tag: None,
            }
        }
        StaticFile::Directory => {
            let last = relative.rsplit('/').next().unwrap_or_default().to_owned();
            return Requested::Directory(last);
        }
        StaticFile::Refused { .. } => return Requested::Refused,
        StaticFile::Missing => {}
    }
    let mut readings: Vec<(String, Option<String>)> = vec![(relative.clone(), None)];
    for (untagged, tag) in untag_file_name(&relative) {
        if let StaticFile::File { dir, file, version } = find_static_file(dirs, &untagged) {
            return Requested::File {
                dir,
                relative: untagged,
                file,
                version,
                name_tag: Some(tag.to_owned()),
            };
        }
        readings.push((untagged, Some(tag.to_owned())));
    }
    Requested::Missing(readings)
}
