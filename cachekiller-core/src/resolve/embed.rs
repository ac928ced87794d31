//! What `cdnembed!()` expands to: the static files a release binary carries, each as the
//! exact bytes the build hashed (a stylesheet's rewrite, any other file's own bytes), with its
//! SHA-1, its git blob id where the revision names files by theirs, and its Brotli and gzip
//! variants.
//!
//! The bytes go in through `include_bytes!`, never as token literals (rustc holds a literal's
//! tokens at many times its size). They are not included from the static dir itself: a file
//! written between this expansion and rustc's read would go in under the digest of other
//! bytes. Each is first copied into a store under the target dir, named by its SHA-1 (what is
//! found there under that name is compared with the bytes on every build), and included from
//! there: what is embedded is what was hashed, by construction. The compressed variants are made once per version in the same store (named
//! by the SHA-1 of what they decode to), so an incremental build after a one-file edit
//! compresses one file. The store lives beside the crates' outputs
//! (`<target>/<profile>/deps/cachekiller-embed/`, found from rustc's `--out-dir`).
//!
//! Every embedded file (and every file a stylesheet's rewrite read) is tracked, and so is the
//! revision: an edit, a removal or a commit rebuilds the crate. A file added without a commit
//! is not seen until the next rebuild, as for the other macros: cargo watches files, never a
//! directory's listing.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha1::Digest as _;

use crate::resolve::config::{EmbedConfig, EmbedProfiles};
use crate::resolve::context::{cached_crate_context, CrateContext};
use crate::resolve::expand::{call_config, tagger, CallOption};
use crate::resolve::static_digest::collect_files;
use crate::resolve::tracking::{not_yet_tracked, not_yet_warned, Tracking};
use crate::rules::compression::{
    compress_once, content_type_of_path, is_compressible, verified_sibling, Encoding,
};
use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::file_stamp;
use crate::rules::hash::{git_blob_id, to_hex, GitBlobHasher};
use crate::rules::revision_manifest::ObjectFormat;
use crate::rules::static_path::{
    canonical_static_path, find_static_file, open_beneath, HiddenFiles, Opened, StaticFile,
};
use crate::rules::stylesheet::is_stylesheet;

use super::config::OptionPlace;

/// What the compiler running the macro is building, read from its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedBuild {
    /// The store of embedded bytes: `cachekiller-embed` in rustc's `--out-dir`; `None`
    /// outside a compiler (rust-analyzer), where nothing is embedded.
    pub store: Option<PathBuf>,
    /// Whether the crate is compiled with `debug_assertions`, if the command line says.
    pub debug_assertions: Option<bool>,
    /// Whether it is optimized (`-C opt-level` other than 0, or `-O`).
    pub optimized: bool,
}

impl EmbedBuild {
    /// The build of the compiler this process is (a proc macro runs inside rustc).
    #[must_use]
    pub fn of_this_compiler() -> Self {
        Self::from_args(std::env::args())
    }

    /// The build `rustc` started with `args` makes: its `--out-dir`, and `debug_assertions`
    /// as rustc decides it (on unless optimizing, `-C debug-assertions` overriding).
    #[must_use]
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Self {
        let mut store = None;
        let mut compiler = false;
        let mut optimized = false;
        let mut explicit = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let codegen = if arg == "-C" || arg == "--codegen" {
                args.next()
            } else {
                arg.strip_prefix("--codegen=")
                    .or_else(|| arg.strip_prefix("-C"))
                    .map(str::to_owned)
            };
            if let Some(codegen) = codegen {
                // rustc takes `_` for `-` in option names.
                let codegen = codegen.replace('_', "-");
                if let Some(level) = codegen.strip_prefix("opt-level=") {
                    optimized = level != "0";
                } else if let Some(value) = codegen.strip_prefix("debug-assertions=") {
                    explicit = Some(matches!(value, "on" | "yes" | "y" | "true"));
                } else if codegen == "debug-assertions" {
                    explicit = Some(true);
                }
                continue;
            }
            if arg == "-O" {
                optimized = true;
                continue;
            }
            match arg.as_str() {
                "--crate-name" => compiler = true,
                "--out-dir" => {
                    store = args
                        .next()
                        .map(|dir| Path::new(&dir).join("cachekiller-embed"));
                }
                _ => {}
            }
        }
        EmbedBuild {
            store: store.filter(|_| compiler),
            debug_assertions: compiler.then(|| explicit.unwrap_or(!optimized)),
            optimized,
        }
    }
}

/// One embedded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedEntry {
    /// Its canonical static path.
    pub path: String,
    /// The copy of the bytes to include.
    pub stored: PathBuf,
    /// Their SHA-1.
    pub sha1: [u8; 20],
    /// Their git blob id, when the revision names files by theirs (not for stylesheets, named
    /// by their rewrite's SHA-1).
    pub git_blob: Option<Vec<u8>>,
    /// The Brotli variant to include, where it is smaller.
    pub brotli: Option<PathBuf>,
    /// The gzip variant, where it is smaller.
    pub gzip: Option<PathBuf>,
    /// False for a stylesheet that could not be rewritten (sent as it is, never `immutable`,
    /// as from disk).
    pub taggable: bool,
}

/// What `cdnembed!()` expands to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedExpansion {
    /// The builds that carry the files.
    pub profiles: EmbedProfiles,
    /// The files, sorted by path; `None` when this build does not carry them (a debug
    /// build, or outside a compiler).
    pub files: Option<Vec<EmbeddedEntry>>,
    /// Files larger than `embed_max_bytes`, served from the static dirs.
    pub left_on_disk: Vec<String>,
    /// The crate's manifest dir, where debug builds find the static dirs.
    pub manifest_dir: PathBuf,
    /// False outside a compiler (rust-analyzer), where nothing is read.
    pub in_compiler: bool,
    /// What to track.
    pub tracking: Tracking,
    /// What the build should say.
    pub warnings: Vec<String>,
}

/// Expands `cdnembed!(options…)` for the crate at `manifest_dir`, in the compiler `build`.
///
/// # Errors
/// Any error of resolving the crate's context or its options; a file that cannot be read; a
/// store that cannot be written.
pub fn expand_embedded_files(
    manifest_dir: &Path,
    options: &[CallOption],
    build: &EmbedBuild,
) -> Result<EmbedExpansion> {
    let context = cached_crate_context(manifest_dir)?;
    let config = call_config(&context, options, OptionPlace::EmbedMacro)?;
    let embed = &config.embed;
    let carried = match (embed.profiles, build.debug_assertions, &build.store) {
        (_, _, None) => false,
        (EmbedProfiles::Always, _, Some(_)) => true,
        (EmbedProfiles::Release, debug, Some(_)) => debug != Some(true),
    };
    let selected = selected_files(context.static_dirs.absolute(), embed)?;
    let mut left_on_disk = Vec::new();
    let mut files = Vec::new();
    let mut tracked: Vec<PathBuf> = Vec::new();
    for (path, selected) in &selected {
        let size = std::fs::metadata(&selected.file).map_or(0, |metadata| metadata.len());
        if size > embed.max_bytes {
            // Not tracked: tracking costs rustc about twice the file's size in memory, which
            // is what leaving it out saves. Served from disk, it is read as it is anyway.
            left_on_disk.push(path.clone());
            continue;
        }
        tracked.push(selected.file.clone());
        if let (true, Some(store)) = (carried, &build.store) {
            // Gone since the listing (an editor's temporary file): not embedded, as a
            // request would not find it either.
            if let Some((entry, read)) = embedded_entry(&context, store, path, selected)? {
                tracked.extend(read);
                files.push(entry);
            }
        }
    }
    tracked.sort();
    tracked.dedup();
    let mut warnings = Vec::new();
    if let (false, EmbedProfiles::Release, true, Some(true)) = (
        carried,
        embed.profiles,
        build.optimized,
        build.debug_assertions,
    ) {
        warnings.push(
            "cachekiller: this build is optimized but has debug assertions on (`[profile.*] \
             debug-assertions = true`), so cdnembed! carries no file and the server reads the \
             static dirs: `embed = \"release\"` means builds without debug assertions; set \
             `embed = \"always\"` to carry the files in this profile"
                .to_owned(),
        );
    }
    if !left_on_disk.is_empty() {
        warnings.push(left_on_disk_warning(&left_on_disk, embed.max_bytes));
    }
    Ok(EmbedExpansion {
        profiles: embed.profiles,
        files: carried.then_some(files),
        left_on_disk,
        manifest_dir: manifest_dir.to_owned(),
        in_compiler: build.store.is_some(),
        tracking: not_yet_tracked(manifest_dir, &context.revision_tracking, &tracked),
        warnings: not_yet_warned(manifest_dir, warnings),
    })
}

fn left_on_disk_warning(paths: &[String], max_bytes: u64) -> String {
    const LISTED: usize = 5;
    let (first, rest) = paths.split_at(paths.len().min(LISTED));
    let mut listed = first.join(", ");
    if !rest.is_empty() {
        listed = format!("{listed} and {} more", rest.len());
    }
    format!(
        "cachekiller: {} static file(s) larger than embed_max_bytes ({max_bytes}) are not \
         embedded ({listed}): the server sends them from the static dirs, which must be \
         deployed beside the binary; raise embed_max_bytes to embed them, or embed_exclude \
         them to say so",
        paths.len()
    )
}

/// A file `cdnembed!()` embeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedFile {
    /// The static dir it is in, which it is opened beneath.
    pub root: PathBuf,
    /// Its path.
    pub file: PathBuf,
}

/// The files of the static dirs `dirs` (absolute, in search order) that `embed` selects, by
/// canonical static path, sorted: those a request finds by the one path rule (an earlier
/// dir's file shadowing a later one's; a link leading out of its dir, a FIFO, a name with a
/// backslash refused, as the service refuses them).
///
/// # Errors
/// A static dir that cannot be read.
pub fn selected_files(
    dirs: &[PathBuf],
    embed: &EmbedConfig,
) -> Result<BTreeMap<String, SelectedFile>> {
    let hidden = if embed.hidden_files {
        HiddenFiles::Allowed
    } else {
        HiddenFiles::Refused
    };
    let mut selected = BTreeMap::new();
    for dir in dirs {
        if !dir.is_dir() {
            continue;
        }
        let mut found = Vec::new();
        collect_files(dir, dir, &mut found)?;
        for (relative, file) in found {
            // The walk spells a `\` of a name as `/`; the path rule refuses such names.
            let raw = file.strip_prefix(dir).ok().and_then(Path::to_str);
            if raw.is_none_or(|raw| raw.contains('\\')) {
                continue;
            }
            // What a request could name: the one path rule, hidden files as the server
            // refuses them (`.well-known` always served).
            let Ok(canonical) = canonical_static_path(&relative, hidden) else {
                continue;
            };
            if canonical.directory || canonical.relative != relative {
                continue;
            }
            let included = embed.include.is_empty()
                || embed.include.iter().any(|glob| glob.matches(&relative));
            let excluded = embed.exclude.iter().any(|glob| glob.matches(&relative));
            // And what a request would get: the open confined to the dirs, the first that
            // holds the path deciding.
            let found_here = matches!(
                find_static_file(dirs, &relative),
                StaticFile::File { dir: found, .. } if dirs[found] == *dir
            );
            if included && !excluded && found_here && !selected.contains_key(&relative) {
                let root = dir.clone();
                selected.insert(relative, SelectedFile { root, file });
            }
        }
    }
    Ok(selected)
}

/// The entry of the static file `path` (`selected`), its bytes and variants kept in `store`;
/// and the files read to make it. `None` if it is no longer a file of its static dir.
fn embedded_entry(
    context: &CrateContext,
    store: &Path,
    path: &str,
    selected: &SelectedFile,
) -> Result<Option<(EmbeddedEntry, Vec<PathBuf>)>> {
    let file = selected.file.as_path();
    let unreadable = |error: std::io::Error| Error::FileUnreadable {
        path: file.to_owned(),
        reason: error.to_string(),
    };
    // Read through the open the path rule makes, confined to its dir: a link swapped in
    // since the selection cannot lead out.
    let Opened::File(mut opened, _) = open_beneath(&selected.root, path) else {
        return Ok(None);
    };
    let format = context
        .named_files()?
        .and_then(|named| named.empty_manifest().object_format());
    let compressible = is_compressible(&content_type_of_path(path));
    if !compressible && !is_stylesheet(path) {
        let (sha1, git_blob, stored) = stream_into_store(store, file, opened, format)?;
        let entry = EmbeddedEntry {
            path: path.to_owned(),
            stored,
            sha1,
            git_blob,
            brotli: None,
            gzip: None,
            taggable: true,
        };
        return Ok(Some((entry, vec![file.to_owned()])));
    }
    let mut read_all = || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut opened, &mut bytes).map_err(unreadable)?;
        Ok::<_, Error>(bytes)
    };
    let (bytes, taggable, read): (Arc<[u8]>, bool, Vec<PathBuf>) = if is_stylesheet(path) {
        let stamp = file_stamp(file);
        // The rewrite the service makes: references that name no file are left as written
        // (the call that links the stylesheet reports them, with `check_files`).
        let site_tagger = tagger(context, &context.config.config)?;
        let rewritten =
            context
                .stylesheets
                .rewritten(&context.static_dirs, path, file, stamp, site_tagger);
        match rewritten {
            Ok(rewritten) => (
                Arc::from(rewritten.bytes.as_slice()),
                true,
                rewritten
                    .files
                    .iter()
                    .map(|(read, _)| read.clone())
                    .collect(),
            ),
            // One that cannot be rewritten (too deep, say) is sent as it is, never
            // `immutable`, as the service sends it from disk.
            Err(_) => (Arc::from(read_all()?), false, vec![file.to_owned()]),
        }
    } else {
        (Arc::from(read_all()?), true, vec![file.to_owned()])
    };
    let sha1: [u8; 20] = sha1::Sha1::digest(&bytes).into();
    let git_blob = format
        .filter(|_| !is_stylesheet(path))
        .map(|format: ObjectFormat| git_blob_id(&bytes, format));
    // What is there under the name of these bytes is checked to be them: a store kept from
    // another build (a restored cache, a damaged disk) must not put other bytes in the binary
    // under this digest.
    let name = to_hex(&sha1);
    let stored = if holds(&store.join(&name), &sha1) {
        store.join(name)
    } else {
        write_to_store(store, &name, &bytes)?
    };
    let variant = |encoding| {
        compressible
            .then(|| variant_in_store(store, &sha1, &bytes, encoding))
            .transpose()
            .map(Option::flatten)
    };
    let brotli = variant(Encoding::Brotli)?;
    let gzip = variant(Encoding::Gzip)?;
    Ok(Some((
        EmbeddedEntry {
            path: path.to_owned(),
            stored,
            sha1,
            git_blob,
            brotli,
            gzip,
            taggable,
        },
        read,
    )))
}

/// True if the file at `path` holds bytes whose SHA-1 is `sha1` (hashed as it is read, not
/// held).
fn holds(path: &Path, sha1: &[u8; 20]) -> bool {
    use std::io::Read as _;
    // Only a regular file is read: opening a FIFO put there would wait forever.
    if !std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_file()) {
        return false;
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut hasher = sha1::Sha1::new();
    let mut buffer = vec![0; 256 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return <[u8; 20]>::from(hasher.finalize()) == *sha1,
            Ok(count) => hasher.update(&buffer[..count]),
            Err(_) => return false,
        }
    }
}

/// A file sent as it is (neither rewritten nor compressed) copied into `store` a chunk at a
/// time, hashed on the way: its SHA-1, its git blob id in `format`, and where it is kept. The
/// macro never holds it whole: a large image or video already sits in rustc's memory twice
/// (included from the store, and from the static dir to track it).
fn stream_into_store(
    store: &Path,
    file: &Path,
    mut source: std::fs::File,
    format: Option<ObjectFormat>,
) -> Result<([u8; 20], Option<Vec<u8>>, PathBuf)> {
    use std::io::Read as _;
    static STAGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unreadable = |error: std::io::Error| Error::FileUnreadable {
        path: file.to_owned(),
        reason: error.to_string(),
    };
    let length = source.metadata().map_err(unreadable)?.len();
    let serial = STAGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let staging = store.join(format!(".streamed.{}.{serial}.tmp", std::process::id()));
    let unwritable = |error: std::io::Error| Error::EmbedStoreUnwritable {
        path: staging.clone(),
        reason: error.to_string(),
    };
    std::fs::create_dir_all(store).map_err(unwritable)?;
    let mut writer = std::fs::File::create(&staging).map_err(unwritable)?;
    let mut sha1 = sha1::Sha1::new();
    let mut blob = format.map(|format| GitBlobHasher::new(format, length));
    let mut buffer = vec![0; 256 * 1024];
    let mut read = 0_u64;
    loop {
        let count = source.read(&mut buffer).map_err(unreadable)?;
        if count == 0 {
            break;
        }
        sha1.update(&buffer[..count]);
        if let Some(blob) = &mut blob {
            blob.update(&buffer[..count]);
        }
        writer.write_all(&buffer[..count]).map_err(unwritable)?;
        read += count as u64;
    }
    writer
        .set_modified(std::time::UNIX_EPOCH + STORED_AT)
        .map_err(unwritable)?;
    drop(writer);
    let sha1: [u8; 20] = sha1.finalize().into();
    // A blob id is of the length it was begun with: a file that grew or shrank while it was
    // read has none (its revision tag is then never `immutable`; its content tag still is).
    let git_blob = blob.filter(|_| read == length).map(GitBlobHasher::finalize);
    let path = store.join(to_hex(&sha1));
    if holds(&path, &sha1) {
        let _ = std::fs::remove_file(&staging);
    } else {
        std::fs::rename(&staging, &path).map_err(unwritable)?;
    }
    Ok((sha1, git_blob, path))
}

/// The modification time of every file of the store, after the Unix epoch: 2000-01-01.
const STORED_AT: std::time::Duration = std::time::Duration::from_secs(946_684_800);

/// `bytes` in `store` under `name`, written to a new file renamed into place, so that a crate
/// compiling at the same time never includes half of it.
fn write_to_store(store: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = store.join(name);
    let unwritable = |error: std::io::Error| Error::EmbedStoreUnwritable {
        path: path.clone(),
        reason: error.to_string(),
    };
    std::fs::create_dir_all(store).map_err(unwritable)?;
    let staging = store.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut writer = std::fs::File::create(&staging).map_err(unwritable)?;
    writer.write_all(bytes).map_err(unwritable)?;
    // cargo takes a tracked file modified after the build started for a change made during
    // it, and rebuilds the crate at the next `cargo build`: a file written now, and included
    // by this very build, must look older. Its name is its content, so its time means nothing.
    writer
        .set_modified(std::time::UNIX_EPOCH + STORED_AT)
        .map_err(unwritable)?;
    drop(writer);
    std::fs::rename(&staging, &path).map_err(unwritable)?;
    Ok(path)
}

/// The `encoding` variant of `bytes` (whose SHA-1 is `sha1`) in `store`, made on the first
/// build that embeds this version; `None` where it is not smaller (remembered by an empty
/// `.none` file, so that it is not tried again).
fn variant_in_store(
    store: &Path,
    sha1: &[u8; 20],
    bytes: &[u8],
    encoding: Encoding,
) -> Result<Option<PathBuf>> {
    let name = format!("{}{}", to_hex(sha1), encoding.sibling_extension());
    let path = store.join(&name);
    let none = store.join(format!("{name}.none"));
    if none.exists() {
        return Ok(None);
    }
    // A variant found there is checked to decode to exactly these bytes, as one complete
    // stream: the store is in the target dir, which anything may write to.
    let found = std::fs::symlink_metadata(&path)
        .is_ok_and(|metadata| metadata.is_file())
        .then(|| std::fs::read(&path).ok())
        .flatten()
        .and_then(|found| verified_sibling(found, encoding, bytes));
    if found.is_some() {
        return Ok(Some(path));
    }
    let compressed = compress_once(bytes, encoding);
    match compressed {
        Some(compressed) => write_to_store(store, &name, &compressed).map(Some),
        None => write_to_store(store, &format!("{name}.none"), b"").map(|_| None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::compression::compress_at;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn the_build_is_read_from_rustcs_command_line() {
        let dev = EmbedBuild::from_args(args(&[
            "rustc",
            "--crate-name",
            "site",
            "-C",
            "debuginfo=2",
            "--out-dir",
            "/t/debug/deps",
        ]));
        assert_eq!(dev.debug_assertions, Some(true));
        assert_eq!(
            dev.store.as_deref(),
            Some(Path::new("/t/debug/deps/cachekiller-embed"))
        );
        let release = EmbedBuild::from_args(args(&[
            "rustc",
            "--crate-name",
            "site",
            "-C",
            "opt-level=3",
            "--out-dir",
            "/t/release/deps",
        ]));
        assert_eq!(release.debug_assertions, Some(false));
        let release_checked = EmbedBuild::from_args(args(&[
            "rustc",
            "--crate-name",
            "site",
            "-Copt-level=3",
            "-C",
            "debug-assertions=on",
        ]));
        assert_eq!(release_checked.debug_assertions, Some(true));
        let spelled = EmbedBuild::from_args(args(&[
            "rustc",
            "--crate-name",
            "site",
            "-O",
            "-C",
            "debug_assertions=off",
        ]));
        assert_eq!(spelled.debug_assertions, Some(false));
        assert!(spelled.optimized);
        let long = EmbedBuild::from_args(args(&[
            "rustc",
            "--crate-name",
            "site",
            "--codegen",
            "opt-level=3",
            "--codegen=debug-assertions=on",
        ]));
        assert_eq!(long.debug_assertions, Some(true));
        assert!(long.optimized);
        let dev_unchecked = EmbedBuild::from_args(args(&[
            "rustc",
            "--crate-name",
            "x",
            "-C",
            "debug-assertions=off",
        ]));
        assert_eq!(dev_unchecked.debug_assertions, Some(false));
        // rust-analyzer's proc-macro server: nothing is read, nothing embedded.
        let analyzer = EmbedBuild::from_args(args(&["rust-analyzer-proc-macro-srv"]));
        assert_eq!(analyzer.store, None);
        assert_eq!(analyzer.debug_assertions, None);
    }

    #[test]
    fn files_are_selected_as_configured_and_as_requests_find_them() {
        let root = tempfile::tempdir().unwrap();
        let (assets, vendor) = (root.path().join("assets"), root.path().join("vendor"));
        for (dir, relative) in [
            (&assets, "css/app.css"),
            (&assets, "js/app.js"),
            (&assets, "js/app.js.map"),
            (&assets, ".env"),
            (&assets, ".well-known/security.txt"),
            (&assets, "img/.cache/x.png"),
            (&vendor, "css/app.css"),
            (&vendor, "lit/lit.js"),
            (&vendor, "lit/README.md"),
        ] {
            let path = dir.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, relative).unwrap();
        }
        // What the service refuses: a link leading out of its dir, a name with a backslash,
        // a FIFO.
        std::fs::write(root.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("../secret.txt", assets.join("leak.txt")).unwrap();
        std::fs::write(assets.join("css\\evil.css"), "x").unwrap();
        crate::test_support::run("mkfifo", &assets, &["pipe.txt"]);
        let dirs = [assets.clone(), vendor.clone(), root.path().join("missing")];
        let glob = |pattern: &str| crate::rules::glob::Glob::new(pattern).unwrap();
        let selected = |embed: &EmbedConfig| {
            selected_files(&dirs, embed)
                .unwrap()
                .into_iter()
                .map(|(path, selected)| {
                    let file = selected.file.strip_prefix(root.path()).unwrap();
                    format!("{path} {}", file.display())
                })
                .collect::<Vec<_>>()
        };
        // Everything a request could get, the earlier dir first; no hidden file but
        // `.well-known`.
        assert_eq!(
            selected(&EmbedConfig::default()),
            [
                ".well-known/security.txt assets/.well-known/security.txt",
                "css/app.css assets/css/app.css",
                "js/app.js assets/js/app.js",
                "js/app.js.map assets/js/app.js.map",
                "lit/README.md vendor/lit/README.md",
                "lit/lit.js vendor/lit/lit.js",
            ]
        );
        let configured = EmbedConfig {
            include: vec![glob("*.{css,js,map}"), glob("/.well-known/**")],
            exclude: vec![glob("*.map")],
            hidden_files: true,
            ..EmbedConfig::default()
        };
        assert_eq!(
            selected(&configured),
            [
                ".well-known/security.txt assets/.well-known/security.txt",
                "css/app.css assets/css/app.css",
                "js/app.js assets/js/app.js",
                "lit/lit.js vendor/lit/lit.js",
            ]
        );
        let hidden = EmbedConfig {
            hidden_files: true,
            ..EmbedConfig::default()
        };
        let all = selected(&hidden);
        assert!(all.contains(&".env assets/.env".to_owned()), "{all:?}");
        assert!(
            all.contains(&"img/.cache/x.png assets/img/.cache/x.png".to_owned()),
            "{all:?}"
        );
    }

    #[test]
    fn variants_are_made_once_and_decode_to_the_bytes() {
        let store = tempfile::tempdir().unwrap();
        let text = ".rule { color: blue }\n".repeat(400);
        let sha1: [u8; 20] = sha1::Sha1::digest(text.as_bytes()).into();
        let brotli = variant_in_store(store.path(), &sha1, text.as_bytes(), Encoding::Brotli)
            .unwrap()
            .unwrap();
        // The reference decoder is the oracle.
        let script = format!(
            "brotli --decompress --stdout '{}' | sha1sum",
            brotli.display()
        );
        let decoded = crate::test_support::run("sh", store.path(), &["-c", &script]);
        assert_eq!(&decoded[..40], to_hex(&sha1));
        // The second build finds it: the file is not written again.
        let written = std::fs::metadata(&brotli).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let again = variant_in_store(store.path(), &sha1, text.as_bytes(), Encoding::Brotli)
            .unwrap()
            .unwrap();
        assert_eq!(again, brotli);
        assert_eq!(
            std::fs::metadata(&again).unwrap().modified().unwrap(),
            written
        );
        // A variant of other bytes put in its place (the target dir is anyone's) is not
        // believed: it is made again.
        let other = compress_at(
            b"alert('not these bytes');\n".repeat(40).as_slice(),
            Encoding::Brotli,
            5,
        )
        .unwrap();
        std::fs::write(&brotli, other).unwrap();
        variant_in_store(store.path(), &sha1, text.as_bytes(), Encoding::Brotli).unwrap();
        let decoded = crate::test_support::run("sh", store.path(), &["-c", &script]);
        assert_eq!(&decoded[..40], to_hex(&sha1));
        // Bytes that do not compress: remembered as such.
        // SHA-1 output, chained: as incompressible as bytes get.
        let noise: Vec<u8> = (0..256_u32)
            .flat_map(|index| <[u8; 20]>::from(sha1::Sha1::digest(index.to_le_bytes())))
            .collect();
        let noise_sha1: [u8; 20] = sha1::Sha1::digest(&noise).into();
        assert_eq!(
            variant_in_store(store.path(), &noise_sha1, &noise, Encoding::Gzip).unwrap(),
            None
        );
        assert!(store
            .path()
            .join(format!("{}.gz.none", to_hex(&noise_sha1)))
            .exists());
    }
}
