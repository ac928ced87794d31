//! `cdnimportmap!` and `cdnmodulepreload!`: the static graph of JavaScript modules reachable
//! from entry modules, read at compile time, as an import map and as module preloads.
//!
//! A browser resolves `import { ui } from "./ui.js"` in `/static/js/app.js` to
//! `/static/js/ui.js`, then looks that URL up in the page's `<script type="importmap">`, which
//! maps it to `/static/js/ui.<tag>.js`. So every module keeps its bytes as written, gets a
//! tagged URL (`immutable` from the service), and a changed module changes only its own URL:
//! its importers keep theirs. Bare specifiers (`lit`) are mapped from the crate's
//! `[package.metadata.cachekiller.imports]` table, and the files they name join the graph.
//!
//! The imports of each module are read by our own lexer ([`super::js`]); every
//! literal specifier must name a module (a compile error otherwise, with the module and the
//! line); computed `import(x)` are left alone (they still load, untagged and revalidated).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use super::config::{is_bare_specifier, Config};
use super::context::CrateContext;
use super::expand::{rewrite_tracking, tagger, Expansion, SentBytes};
use super::js::{module_imports, ImportKind, ModuleImport};
use super::static_files::{static_file_relative_path, FilePurpose};
use crate::rules::error::{Error, Result};
use crate::rules::hash::{integrity_metadata, DigestAlgorithm, IntegrityAlgorithm};
use crate::rules::static_url::{encoded_static_path, is_external, Reference, StaticUrl};
use crate::rules::suggest::closest;
use crate::rules::url::join_static_file_url;

/// The most modules one call walks: an import map of thousands of entries is a page of its
/// own, and a graph that large wants a bundler.
pub const MAX_MODULES: usize = 2_000;

/// A module of the graph: a static file.
#[derive(Debug, Clone)]
struct Module {
    /// Its static path (canonical, relative to the static dirs).
    path: String,
    /// Its file.
    file: PathBuf,
    /// The entry (index in the call's list) it was first reached from: errors are reported
    /// at that argument.
    entry: usize,
}

/// How one module names another.
#[derive(Debug, Clone)]
struct Edge {
    from: usize,
    to: usize,
    /// A static import or re-export (fetched before the importer runs: worth preloading), or a
    /// dynamic `import("…")` (mapped, not preloaded).
    statically: bool,
    /// The query and fragment the specifier writes after the path (`?v=2`): part of the URL
    /// the browser fetches, so the one to preload.
    suffix: String,
}

/// The modules reachable from the entries, and how the bare specifiers resolved.
#[derive(Debug, Default)]
struct ModuleGraph {
    modules: Vec<Module>,
    by_path: HashMap<String, usize>,
    edges: Vec<Edge>,
    /// Bare specifier -> module index, or the absolute URL the table gives.
    bare: BTreeMap<String, BareTarget>,
    /// The entries' modules, in the call's order.
    entries: Vec<usize>,
    /// The URL the browser resolves each relative or rooted import to (`…/it's.js`,
    /// `…/b.js?v=1`), with the module and the query and fragment written: keys of the map
    /// besides each module's own URL.
    spellings: BTreeMap<String, (usize, String)>,
}

#[derive(Debug, Clone)]
enum BareTarget {
    Module(usize),
    Url(String),
}

/// An error of a call with several entries, with the entry it was reached from (the macro
/// blames that argument).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// The index of the entry in the call's arguments.
    pub entry: usize,
    /// What went wrong.
    pub error: Error,
}

/// An error of the crate's context, which no entry in particular reached: blamed on the first.
impl From<Error> for EntryError {
    fn from(error: Error) -> Self {
        EntryError { entry: 0, error }
    }
}

impl ModuleGraph {
    /// The module `import` of `module` names, whether it is new (then added), and the query
    /// and fragment written after its path; `None` for a specifier that is not ours to map (a
    /// URL), or a bare one the table maps to a URL.
    fn import(
        &mut self,
        context: &CrateContext,
        config: &Config,
        module: &Module,
        import: ModuleImport,
    ) -> Result<Option<(usize, bool, String)>> {
        let (target, browser_url, suffix) =
            match resolve_specifier(config, &module.path, &import.specifier) {
                Resolved::NotOurs => return Ok(None),
                Resolved::Url(url) => {
                    self.bare.insert(import.specifier, BareTarget::Url(url));
                    return Ok(None);
                }
                Resolved::Static {
                    path,
                    browser_url,
                    suffix,
                } => (path, browser_url, suffix),
                Resolved::UnknownBare => {
                    return Err(Error::BareModuleSpecifierUnknown {
                        module: module.path.clone(),
                        line: import.line,
                        suggestion: closest(
                            &import.specifier,
                            config.imports.keys().map(String::as_str),
                        )
                        .map(str::to_owned),
                        specifier: import.specifier,
                    })
                }
                Resolved::Refused(cause) => {
                    return Err(Error::ModuleImportNotFound {
                        module: module.path.clone(),
                        line: import.line,
                        specifier: import.specifier,
                        cause: Box::new(cause),
                        suggestion: None,
                    })
                }
            };
        let (to, new) = match self.module(context, &target, module.entry) {
            Ok(found) => found,
            Err(cause @ Error::ModuleGraphTooLarge { .. }) => return Err(cause),
            Err(cause) => {
                let suggestion = match &cause {
                    Error::StaticFileNotFound {
                        suggestion: Some(suggestion),
                        ..
                    } => Some(specifier_for(&module.path, suggestion)),
                    _ => None,
                };
                return Err(Error::ModuleImportNotFound {
                    module: module.path.clone(),
                    line: import.line,
                    specifier: import.specifier,
                    cause: Box::new(cause),
                    suggestion,
                });
            }
        };
        if is_bare_specifier(&import.specifier) {
            self.bare.insert(import.specifier, BareTarget::Module(to));
        }
        if let Some(browser_url) = browser_url {
            self.spellings.insert(browser_url, (to, suffix.clone()));
        }
        Ok(Some((to, new, suffix)))
    }

    /// The module at `path`, added (found in the static dirs) if it is new.
    fn module(
        &mut self,
        context: &CrateContext,
        path: &str,
        entry: usize,
    ) -> Result<(usize, bool)> {
        if let Some(&index) = self.by_path.get(path) {
            return Ok((index, false));
        }
        if self.modules.len() >= MAX_MODULES {
            return Err(Error::ModuleGraphTooLarge { limit: MAX_MODULES });
        }
        let (file, _) = context
            .static_dirs
            .find_with_stamp(path, FilePurpose::Hash)?;
        let index = self.modules.len();
        self.modules.push(Module {
            path: path.to_owned(),
            file,
            entry,
        });
        self.by_path.insert(path.to_owned(), index);
        Ok((index, true))
    }
}

/// True for a module whose imports are read: JavaScript by its extension. JSON, CSS and
/// WebAssembly modules import nothing.
fn is_javascript(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|extension| {
            extension.eq_ignore_ascii_case("js") || extension.eq_ignore_ascii_case("mjs")
        })
}

/// Walks the graph from `entries` (static paths as `cdnstatic!` takes them), breadth first,
/// without recursion.
fn module_graph(
    context: &CrateContext,
    config: &Config,
    entries: &[String],
) -> std::result::Result<ModuleGraph, EntryError> {
    let mut graph = ModuleGraph::default();
    let mut queue = VecDeque::new();
    for (entry, path) in entries.iter().enumerate() {
        let at_entry = |error| EntryError { entry, error };
        // An entry that is a key of the crate's table is that bare specifier (for an inline
        // `<script type="module">import "lit"</script>`): mapped, with its file's graph.
        let bare = match resolve_bare(config, path) {
            Resolved::Static { path: target, .. } => Some(target),
            Resolved::Url(url) => {
                graph.bare.insert(path.clone(), BareTarget::Url(url));
                continue;
            }
            Resolved::Refused(error) => return Err(at_entry(error)),
            Resolved::NotOurs | Resolved::UnknownBare => None,
        };
        let relative = match &bare {
            Some(target) => target.clone(),
            None => static_file_relative_path(path)
                .map_err(at_entry)?
                .ok_or_else(|| at_entry(Error::HashOfAbsoluteUrl { url: path.clone() }))?
                .into_owned(),
        };
        let (index, new) = graph.module(context, &relative, entry).map_err(at_entry)?;
        if bare.is_some() {
            graph.bare.insert(path.clone(), BareTarget::Module(index));
        }
        graph.entries.push(index);
        if new {
            queue.push_back(index);
        }
    }
    while let Some(index) = queue.pop_front() {
        let module = graph.modules[index].clone();
        let at_entry = |error| EntryError {
            entry: module.entry,
            error,
        };
        if !is_javascript(&module.path) {
            continue;
        }
        let source = std::fs::read(&module.file).map_err(|error| {
            at_entry(Error::FileUnreadable {
                path: module.file.clone(),
                reason: error.to_string(),
            })
        })?;
        // As a browser decodes a module: UTF-8, a stray byte (Latin-1 in a comment of a
        // vendored file) replaced, not fatal.
        let source = String::from_utf8_lossy(&source);
        let imports = module_imports(&source).map_err(|error| {
            at_entry(Error::ModuleUnreadable {
                module: module.path.clone(),
                line: error.line,
                column: error.column,
                reason: error.kind.to_string(),
            })
        })?;
        for import in imports.imports {
            let statically = import.kind != ImportKind::Dynamic;
            let Some((to, new, suffix)) = graph
                .import(context, config, &module, import)
                .map_err(at_entry)?
            else {
                continue;
            };
            graph.edges.push(Edge {
                from: index,
                to,
                statically,
                suffix,
            });
            if new {
                queue.push_back(to);
            }
        }
    }
    Ok(graph)
}

/// What a specifier names.
enum Resolved {
    /// A static file, by its canonical static path, with the URL the browser resolves the
    /// specifier to (the import map's key) and the query and fragment written after the path.
    Static {
        path: String,
        browser_url: Option<String>,
        suffix: String,
    },
    /// An absolute URL the crate's table gives for a bare specifier.
    Url(String),
    /// A URL with a scheme, or a rooted path outside the static URL: not ours to map.
    NotOurs,
    /// A bare specifier the table lacks.
    UnknownBare,
    /// A relative specifier that leaves the static dirs or is malformed.
    Refused(Error),
}

/// Resolves `specifier`, written in the module at the static path `importer`, as the browser
/// resolves it against the module's URL (the URL of its canonical path below `static_url`:
/// the tagged URL the map sends it to is in the same directory), by the one rule of
/// `rules::static_url`.
fn resolve_specifier(config: &Config, importer: &str, specifier: &str) -> Resolved {
    if is_bare_specifier(specifier) {
        return resolve_bare(config, specifier);
    }
    match StaticUrl::parse(&config.static_url).resolve(importer, specifier) {
        Reference::Static {
            relative,
            suffix,
            requested,
        } => Resolved::Static {
            path: relative,
            browser_url: Some(requested),
            suffix: suffix.to_owned(),
        },
        Reference::NotOurs => Resolved::NotOurs,
        Reference::Outside => Resolved::Refused(Error::StaticPathEscapes {
            path: specifier.to_owned(),
        }),
        Reference::Refused(error) => Resolved::Refused(error),
    }
}

/// Resolves a bare specifier through the crate's table: an exact key, else the longest key
/// ending with `/` that begins it (`"lit/" = "vendor/lit/"` maps `lit/directives/x.js`).
fn resolve_bare(config: &Config, specifier: &str) -> Resolved {
    let target = config.imports.get(specifier).cloned().or_else(|| {
        config
            .imports
            .iter()
            .filter(|(key, _)| key.ends_with('/') && specifier.starts_with(key.as_str()))
            .max_by_key(|(key, _)| key.len())
            .map(|(key, target)| format!("{target}{}", &specifier[key.len()..]))
    });
    let Some(target) = target else {
        return Resolved::UnknownBare;
    };
    if is_external(&target) {
        return Resolved::Url(target);
    }
    match static_file_relative_path(&target) {
        Ok(Some(path)) => Resolved::Static {
            path: path.into_owned(),
            browser_url: None,
            suffix: String::new(),
        },
        Ok(None) => Resolved::Url(target),
        Err(error) => Resolved::Refused(error),
    }
}

/// The specifier a module at `importer` writes for the static path `target`: `./ui.js`,
/// `../lib/a.js`.
fn specifier_for(importer: &str, target: &str) -> String {
    let from: Vec<&str> = importer.split('/').collect();
    let from = &from[..from.len() - 1];
    let to: Vec<&str> = target.split('/').collect();
    let common = from
        .iter()
        .zip(&to)
        .take_while(|(a, b)| a == b)
        .count()
        .min(to.len() - 1);
    let ups = from.len() - common;
    let rest = to[common..].join("/");
    if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    }
}

/// What the graph's modules are served as: for each module, its URL as a browser resolves an
/// import of it, its tagged URL, and its integrity.
struct MappedModule {
    untagged_url: String,
    tagged_url: String,
    integrity: String,
    /// The tag, for the URLs of the module with a query or fragment.
    tag: String,
}

/// Tags every module of `graph` as `cdnstatic!` tags it, and digests the bytes the service
/// sends for it (a stylesheet's rewritten bytes).
fn map_modules(
    context: &CrateContext,
    config: &Config,
    graph: &ModuleGraph,
    tracked: &mut Vec<PathBuf>,
) -> std::result::Result<Vec<MappedModule>, EntryError> {
    let tagger = tagger(context, config)?;
    graph
        .modules
        .iter()
        .map(|module| {
            let at_entry = |error| EntryError {
                entry: module.entry,
                error,
            };
            let (file, stamp) = context
                .static_dirs
                .find_with_stamp(&module.path, FilePurpose::Hash)
                .map_err(at_entry)?;
            let sent =
                SentBytes::of(context, config, &module.path, file, stamp).map_err(at_entry)?;
            tracked.extend(sent.files());
            let integrity_digest = sent
                .digest(IntegrityAlgorithm::default().digest())
                .map_err(at_entry)?;
            let tag = tagger
                .tag(&module.path, sent.depends_on_uncommitted(), || {
                    sent.digest(DigestAlgorithm::Sha1)
                })
                .map_err(at_entry)?;
            Ok(MappedModule {
                untagged_url: join_static_file_url(
                    &config.static_url,
                    &encoded_static_path(&module.path),
                    "",
                    None,
                ),
                tagged_url: tagger.file_url(&module.path, "", &tag).map_err(at_entry)?,
                integrity: integrity_metadata(&integrity_digest, IntegrityAlgorithm::default()),
                tag,
            })
        })
        .collect()
}

/// Expands `cdnimportmap!` for the crate at `manifest_dir`, as a macro call does.
///
/// # Errors
/// As [`expand_import_map_in`], and any error of resolving the crate's context.
pub fn expand_import_map(
    manifest_dir: &std::path::Path,
    entries: &[String],
) -> std::result::Result<super::expand::MacroOutput, EntryError> {
    super::expand::expand_for_crate(manifest_dir, |context| {
        expand_import_map_in(context, entries)
    })
}

/// Expands `cdnmodulepreload!` for the crate at `manifest_dir`, as a macro call does.
///
/// # Errors
/// As [`expand_module_preloads_in`], and any error of resolving the crate's context.
pub fn expand_module_preloads(
    manifest_dir: &std::path::Path,
    entries: &[String],
) -> std::result::Result<super::expand::MacroOutput, EntryError> {
    super::expand::expand_for_crate(manifest_dir, |context| {
        expand_module_preloads_in(context, entries)
    })
}

/// The graph reachable from `entries`, each module tagged and digested, and the files read
/// (what both module macros expand from).
fn mapped_graph(
    context: &CrateContext,
    entries: &[String],
) -> std::result::Result<(ModuleGraph, Vec<MappedModule>, Vec<PathBuf>), EntryError> {
    let config = &context.config.config;
    let graph = module_graph(context, config, entries)?;
    let mut own_files = Vec::new();
    let mapped = map_modules(context, config, &graph, &mut own_files)?;
    Ok((graph, mapped, own_files))
}

/// Expands `cdnimportmap!(entries…)`: `<script type="importmap">` with an `imports` entry
/// for every module reachable from `entries` (its URL as the browser resolves an import of it
/// -> its tagged URL), one for every bare specifier of the table that the graph uses, and an
/// `integrity` entry for every tagged module URL.
///
/// # Errors
/// The first error of the graph (a missing module, an unknown bare specifier, a module that
/// cannot be read), with the entry it was reached from.
pub fn expand_import_map_in(
    context: &CrateContext,
    entries: &[String],
) -> std::result::Result<Expansion, EntryError> {
    let config = &context.config.config;
    let (graph, mapped, own_files) = mapped_graph(context, entries)?;
    let mut imports = BTreeMap::new();
    let mut integrity = BTreeMap::new();
    for module in &mapped {
        imports.insert(module.untagged_url.clone(), module.tagged_url.clone());
        integrity.insert(module.tagged_url.clone(), module.integrity.clone());
    }
    for (specifier, target) in &graph.bare {
        let url = match target {
            BareTarget::Module(index) => mapped[*index].tagged_url.clone(),
            BareTarget::Url(url) => url.clone(),
        };
        imports.insert(specifier.clone(), url);
    }
    // The table's prefix keys (`"lib/" = "vendor/lib/"`), for the specifiers no module
    // writes literally (`import("lib/" + name)`): the untagged directory, revalidated.
    for (key, target) in config.imports.iter().filter(|(key, _)| key.ends_with('/')) {
        if let Some(url) = prefix_target(&config.static_url, target) {
            imports.entry(key.clone()).or_insert(url);
        }
    }
    // Other spellings of a module's URL (escapes the browser keeps, a query): their own keys,
    // sent to the tagged URL with the same query and fragment.
    let site_tagger = tagger(context, config)?;
    for (browser_url, (index, suffix)) in &graph.spellings {
        let module = &mapped[*index];
        let target = if suffix.is_empty() {
            module.tagged_url.clone()
        } else {
            site_tagger
                .file_url(&graph.modules[*index].path, suffix, &module.tag)
                .map_err(|error| EntryError {
                    entry: graph.modules[*index].entry,
                    error,
                })?
        };
        integrity.insert(target.clone(), module.integrity.clone());
        imports.insert(browser_url.clone(), target);
    }
    let mut json = String::from("{\"imports\":{");
    write_json_object(&imports, &mut json);
    json.push_str("},\"integrity\":{");
    write_json_object(&integrity, &mut json);
    json.push_str("}}");
    Ok(Expansion {
        value: format!("<script type=\"importmap\">{json}</script>"),
        shared_tracking: Arc::clone(rewrite_tracking(context)),
        own_files,
        warnings: Vec::new(),
    })
}

/// The URL a prefix key of the imports table maps to: an absolute URL as written, a static
/// directory below `static_url`; with the `/` an import map requires of a prefix's target.
/// `None` for a target that names no static directory (one that climbs out).
fn prefix_target(static_url: &str, target: &str) -> Option<String> {
    let mut url = if is_external(target) {
        target.to_owned()
    } else {
        match static_file_relative_path(target.trim_end_matches('/')).ok()? {
            Some(directory) => {
                join_static_file_url(static_url, &encoded_static_path(&directory), "", None)
            }
            None => target.to_owned(),
        }
    };
    if !url.ends_with('/') {
        url.push('/');
    }
    Some(url)
}

/// Expands `cdnmodulepreload!(entries…)`: a `<link rel="modulepreload">` with the tagged URL
/// and the integrity of each entry and of every module it imports statically, transitively
/// (not those only imported by `import("…")`, which load when asked), one per line, entries
/// first. A module imported with a query (`./a.js?v=2`) is preloaded at the URL the import
/// fetches (`a.js?v=2&tag=…`), not at one nothing uses.
///
/// # Errors
/// As [`expand_import_map_in`].
pub fn expand_module_preloads_in(
    context: &CrateContext,
    entries: &[String],
) -> std::result::Result<Expansion, EntryError> {
    let config = &context.config.config;
    let (graph, mapped, own_files) = mapped_graph(context, entries)?;
    // Breadth first over static edges from the entries (indices 0.. in the graph, in order),
    // with the queries and fragments each module is fetched with ("" for none: the entries).
    let mut fetched_as: Vec<BTreeSet<String>> = vec![BTreeSet::new(); graph.modules.len()];
    let mut order = Vec::new();
    let mut queue = VecDeque::new();
    for &index in &graph.entries {
        if fetched_as[index].is_empty() {
            queue.push_back(index);
        }
        fetched_as[index].insert(String::new());
    }
    while let Some(index) = queue.pop_front() {
        order.push(index);
        for edge in graph.edges.iter().filter(|edge| edge.from == index) {
            if edge.statically {
                if fetched_as[edge.to].is_empty() {
                    queue.push_back(edge.to);
                }
                fetched_as[edge.to].insert(edge.suffix.clone());
            }
        }
    }
    // A CSS or JSON module is not preloaded: `modulepreload` fetches scripts, and the browser
    // refuses the other types under it.
    let site_tagger = tagger(context, config)?;
    let mut lines = Vec::new();
    for index in order
        .into_iter()
        .filter(|&index| is_javascript(&graph.modules[index].path))
    {
        let module = &mapped[index];
        for suffix in &fetched_as[index] {
            let url = if suffix.is_empty() {
                module.tagged_url.clone()
            } else {
                site_tagger
                    .file_url(&graph.modules[index].path, suffix, &module.tag)
                    .map_err(|error| EntryError {
                        entry: graph.modules[index].entry,
                        error,
                    })?
            };
            lines.push(format!(
                "<link rel=\"modulepreload\" href=\"{url}\" integrity=\"{}\">",
                module.integrity
            ));
        }
    }
    Ok(Expansion {
        value: lines.join("\n"),
        shared_tracking: Arc::clone(rewrite_tracking(context)),
        own_files,
        warnings: Vec::new(),
    })
}

/// Writes `entries` as the members of a JSON object, escaped for JSON and for a `<script>`
/// element (`<` as `\u003c`, so no `</script>` can end it).
fn write_json_object(entries: &BTreeMap<String, String>, output: &mut String) {
    for (position, (key, value)) in entries.iter().enumerate() {
        if position > 0 {
            output.push(',');
        }
        write_json_string(key, output);
        output.push(':');
        write_json_string(value, output);
    }
}

fn write_json_string(text: &str, output: &mut String) {
    use std::fmt::Write as _;
    output.push('"');
    for character in text.chars() {
        match character {
            '"' => output.push_str("\\\""),
            '\\' => output.push_str("\\\\"),
            '<' => output.push_str("\\u003c"),
            character if u32::from(character) < 0x20 => {
                let _ = write!(output, "\\u{:04x}", u32::from(character));
            }
            character => output.push(character),
        }
    }
    output.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::config::{TagIn, TagMode};
    use crate::resolve::manifest::LoadedConfig;
    use crate::resolve::tag::{NamedFiles, ResolvedTag, TagSource};
    use crate::test_support::{openssl_integrity, sha1sum};
    use std::path::Path;

    const REVISION: &str = "89abcdef0123456789abcdef0123456789abcdef";

    /// A crate whose `static/` holds `files`, configured by `config`, in a git revision (an
    /// input here, not an oracle).
    fn crate_with(files: &[(&str, &str)], config: Config) -> (tempfile::TempDir, CrateContext) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join("static").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let tag = ResolvedTag {
            value: REVISION.into(),
            source: TagSource::Git,
            tracked_files: vec![PathBuf::from("/w/.git/HEAD")],
            tracked_environment: vec!["CACHEKILLER_TAG"],
            rebuild_always: false,
            names: NamedFiles::Every,
        };
        let loaded = LoadedConfig {
            config,
            manifest_files: vec![PathBuf::from("/w/Cargo.toml")],
            static_url_from_environment: false,
        };
        let context = CrateContext::new(dir.path(), loaded, Ok(tag));
        (dir, context)
    }

    fn content_config() -> Config {
        Config {
            mode: TagMode::Content,
            tag_in: TagIn::Name,
            imports: [("lit".to_owned(), "vendor/lit.js".to_owned())].into(),
            ..Config::default()
        }
    }

    const GRAPH: &[(&str, &str)] = &[
        (
            "js/app.js",
            "import { ui } from './ui.js';\nimport { html } from 'lit';\n\
             const later = () => import('./lazy/panel.js');\nimport(name);\n",
        ),
        (
            "js/ui.js",
            "export * from \"./util.js\";\nexport const ui = 1;\n",
        ),
        (
            "js/util.js",
            "// import './not-imported.js'\nexport const u = `${'import(\"x\")'}`;\n",
        ),
        (
            "js/lazy/panel.js",
            "import { ui } from '../ui.js';\nexport default ui;\n",
        ),
        (
            "vendor/lit.js",
            "import './lit-core.js';\nexport const html = 1;\n",
        ),
        ("vendor/lit-core.js", "export const core = 1;\n"),
        ("js/unrelated.js", "import './missing.js';\n"),
    ];

    /// The name-form URL of `path` with the first 6 hex digits of `sha1sum` of its file.
    fn tagged(dir: &Path, path: &str) -> String {
        let tag = sha1sum(&dir.join("static").join(path), 6);
        let (stem, extension) = path.rsplit_once('.').unwrap();
        format!("/static/{stem}.{tag}.{extension}")
    }

    #[test]
    fn every_reachable_module_is_mapped_to_its_tagged_url_with_its_integrity() {
        let (dir, context) = crate_with(GRAPH, content_config());
        let expansion = expand_import_map_in(&context, &["js/app.js".to_owned()]).unwrap();
        let reachable = [
            "js/app.js",
            "js/lazy/panel.js",
            "js/ui.js",
            "js/util.js",
            "vendor/lit-core.js",
            "vendor/lit.js",
        ];
        let mut imports: Vec<(String, String)> = reachable
            .iter()
            .map(|path| (format!("/static/{path}"), tagged(dir.path(), path)))
            .collect();
        imports.push(("lit".into(), tagged(dir.path(), "vendor/lit.js")));
        imports.sort();
        let mut integrity: Vec<(String, String)> = reachable
            .iter()
            .map(|path| {
                (
                    tagged(dir.path(), path),
                    openssl_integrity(&dir.path().join("static").join(path), "sha384"),
                )
            })
            .collect();
        integrity.sort();
        let object = |entries: &[(String, String)]| {
            entries
                .iter()
                .map(|(key, value)| format!("\"{key}\":\"{value}\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(
            expansion.value,
            format!(
                "<script type=\"importmap\">{{\"imports\":{{{}}},\"integrity\":{{{}}}}}</script>",
                object(&imports),
                object(&integrity)
            )
        );
        // The graph's files are tracked, whatever the mode; a module outside it is not.
        let mut tracked: Vec<String> = expansion
            .own_files
            .iter()
            .map(|file| {
                file.strip_prefix(dir.path().join("static"))
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        tracked.sort();
        assert_eq!(tracked, reachable);
    }

    #[test]
    fn a_prefix_key_of_the_table_reaches_the_map_for_computed_imports() {
        let mut config = content_config();
        config.imports.insert("lib/".into(), "vendor/lib/".into());
        config
            .imports
            .insert("cdn/".into(), "https://cdn.example.com/pkg".into());
        let files = [
            (
                "js/app.js",
                "import { a } from 'lib/a.js';\nconst b = await import('lib/' + name);\n",
            ),
            ("vendor/lib/a.js", "export const a = 1;\n"),
            ("vendor/lib/sub/y.js", "export const y = 1;\n"),
        ];
        let (dir, context) = crate_with(&files, config);
        let value = expand_import_map_in(&context, &["js/app.js".to_owned()])
            .unwrap()
            .value;
        // The literal specifier gets its tagged URL; the prefixes, their untagged directory
        // (with the `/` an import map requires of a prefix's target).
        let literal = format!("\"lib/a.js\":\"{}\"", tagged(dir.path(), "vendor/lib/a.js"));
        assert!(value.contains(&literal), "{value}");
        assert!(
            value.contains("\"lib/\":\"/static/vendor/lib/\""),
            "{value}"
        );
        assert!(
            value.contains("\"cdn/\":\"https://cdn.example.com/pkg/\""),
            "{value}"
        );
    }

    #[test]
    fn a_module_imported_with_a_query_is_preloaded_at_the_url_the_import_fetches() {
        let files = [
            ("js/app.js", "import { a } from './a.js?v=2';\n"),
            ("js/a.js", "export const a = 1;\n"),
        ];
        let (dir, context) = crate_with(&files, content_config());
        let preloads = expand_module_preloads_in(&context, &["js/app.js".to_owned()])
            .unwrap()
            .value;
        let integrity = openssl_integrity(&dir.path().join("static/js/a.js"), "sha384");
        let lines: Vec<&str> = preloads.lines().collect();
        assert_eq!(lines.len(), 2, "{preloads}");
        assert_eq!(
            lines[1],
            format!(
                "<link rel=\"modulepreload\" href=\"{}?v=2\" integrity=\"{integrity}\">",
                tagged(dir.path(), "js/a.js")
            )
        );
        // And the map sends that URL to the same one.
        let map = expand_import_map_in(&context, &["js/app.js".to_owned()])
            .unwrap()
            .value;
        assert!(
            map.contains(&format!(
                "\"/static/js/a.js?v=2\":\"{}?v=2\"",
                tagged(dir.path(), "js/a.js")
            )),
            "{map}"
        );
    }

    #[test]
    fn preloads_follow_static_imports_only_entries_first() {
        let (dir, context) = crate_with(GRAPH, content_config());
        let expansion = expand_module_preloads_in(&context, &["js/app.js".to_owned()]).unwrap();
        let expected: Vec<String> = [
            "js/app.js",
            "js/ui.js",
            "vendor/lit.js",
            "js/util.js",
            "vendor/lit-core.js",
        ]
        .iter()
        .map(|path| {
            format!(
                "<link rel=\"modulepreload\" href=\"{}\" integrity=\"{}\">",
                tagged(dir.path(), path),
                openssl_integrity(&dir.path().join("static").join(path), "sha384")
            )
        })
        .collect();
        assert_eq!(expansion.value, expected.join("\n"));
    }

    #[test]
    fn revision_tags_in_the_query_form_map_the_same_graph() {
        let config = Config {
            imports: [("lit".to_owned(), "vendor/lit.js".to_owned())].into(),
            ..Config::default()
        };
        let (_dir, context) = crate_with(GRAPH, config);
        let value = expand_import_map_in(&context, &["js/app.js".to_owned()])
            .unwrap()
            .value;
        let tag = &REVISION[..14];
        assert!(
            value.contains(&format!(
                "\"/static/js/ui.js\":\"/static/js/ui.js?tag={tag}\""
            )),
            "{value}"
        );
        assert!(
            value.contains(&format!("\"lit\":\"/static/vendor/lit.js?tag={tag}\"")),
            "{value}"
        );
    }

    #[test]
    fn a_missing_module_or_an_unknown_bare_specifier_names_the_module_and_the_line() {
        let (_dir, context) = crate_with(
            &[
                ("js/app.js", "import './ui.js';\nimport './b.js';\n"),
                ("js/ui.js", "\n\nimport { x } from './utils.js';\n"),
                ("js/util.js", ""),
                ("js/b.js", "import { html } from 'lits';\n"),
            ],
            content_config(),
        );
        let error = expand_import_map_in(&context, &["js/app.js".to_owned()]).unwrap_err();
        assert_eq!(error.entry, 0);
        match &error.error {
            Error::ModuleImportNotFound {
                module,
                line,
                specifier,
                suggestion,
                ..
            } => {
                assert_eq!(
                    (module.as_str(), *line, specifier.as_str()),
                    ("js/ui.js", 3, "./utils.js")
                );
                assert_eq!(suggestion.as_deref(), Some("./util.js"));
            }
            other => panic!("{other:?}"),
        }
        let error =
            expand_import_map_in(&context, &["js/util.js".to_owned(), "js/b.js".to_owned()])
                .unwrap_err();
        assert_eq!(error.entry, 1);
        assert!(
            matches!(
                &error.error,
                Error::BareModuleSpecifierUnknown { module, line: 1, specifier, suggestion: Some(suggestion) }
                    if module == "js/b.js" && specifier == "lits" && suggestion == "lit"
            ),
            "{error:?}"
        );
        let message = error.error.to_string();
        assert!(
            message.contains("[package.metadata.cachekiller.imports]"),
            "{message}"
        );
    }

    #[test]
    fn imports_that_climb_or_are_urls() {
        let (_dir, context) = crate_with(
            &[
                (
                    "app.js",
                    "import 'https://esm.sh/preact';\nimport '//cdn.example.com/a.js';\n\
                     import '/other/x.js';\nimport '/static/ok.js';\n",
                ),
                ("ok.js", ""),
                ("climb.js", "import '../../etc/passwd.js';\n"),
            ],
            content_config(),
        );
        let value = expand_import_map_in(&context, &["app.js".to_owned()])
            .unwrap()
            .value;
        assert!(value.contains("\"/static/ok.js\""), "{value}");
        assert!(
            !value.contains("esm.sh") && !value.contains("/other/"),
            "{value}"
        );
        let error = expand_import_map_in(&context, &["climb.js".to_owned()]).unwrap_err();
        assert!(
            matches!(&error.error, Error::ModuleImportNotFound { cause, .. } if matches!(**cause, Error::StaticPathEscapes { .. })),
            "{error:?}"
        );
    }

    /// What a browser resolves `specifier` to in a module at `base`, by node's WHATWG `URL`
    /// (the oracle), as a rooted URL.
    fn browser_resolves(specifier: &str, base: &str) -> String {
        let script = "const u = new URL(process.argv[1], process.argv[2]); \
                      console.log(u.pathname + u.search + u.hash)";
        crate::test_support::run(
            "node",
            Path::new("/"),
            &[
                "-e",
                script,
                specifier,
                &format!("http://example.test{base}"),
            ],
        )
    }

    #[test]
    fn keys_are_the_urls_the_browser_resolves_with_their_query() {
        let specifiers = [
            "./it's.js",
            "./x&y.js",
            "./a%41.js",
            "./b.js?v=1#top",
            "./dir/../caret^.js",
            "./日本 語.js",
            "/static/js/{curly}.js",
        ];
        let mut app = String::new();
        for specifier in specifiers {
            use std::fmt::Write as _;
            let _ = writeln!(app, "import {specifier:?};");
        }
        app.push_str("import 'lit/directives/class-map.js';\n");
        let files = [
            ("js/app.js", app.as_str()),
            ("js/it's.js", ""),
            ("js/x&y.js", ""),
            ("js/aA.js", ""),
            ("js/b.js", ""),
            ("js/caret^.js", ""),
            ("js/日本 語.js", ""),
            ("js/{curly}.js", ""),
            ("vendor/lit/directives/class-map.js", ""),
        ];
        let config = Config {
            imports: [("lit/".to_owned(), "vendor/lit/".to_owned())].into(),
            ..Config::default()
        };
        let (_dir, context) = crate_with(&files, config);
        let value = expand_import_map_in(&context, &["js/app.js".to_owned()])
            .unwrap()
            .value;
        for specifier in specifiers {
            let key = browser_resolves(specifier, "/static/js/app.js");
            assert!(
                value.contains(&format!("\"{key}\":\"")),
                "{specifier} -> {key}: {value}"
            );
        }
        let tag = &REVISION[..14];
        assert!(
            value.contains(&format!(
                "\"/static/js/b.js?v=1#top\":\"/static/js/b.js?v=1&tag={tag}#top\""
            )),
            "{value}"
        );
        assert!(
            value.contains(&format!(
                "\"lit/directives/class-map.js\":\"/static/vendor/lit/directives/class-map.js?tag={tag}\""
            )),
            "{value}"
        );
    }

    #[test]
    fn an_absolute_import_under_an_absolute_static_url_is_ours() {
        let config = Config {
            static_url: "https://cdn.example.com/assets/".into(),
            ..Config::default()
        };
        let (_dir, context) = crate_with(
            &[
                (
                    "app.js",
                    "import 'https://cdn.example.com/assets/q/a.js';\nimport './q/b.js';\n",
                ),
                ("q/a.js", ""),
                ("q/b.js", ""),
            ],
            config,
        );
        let value = expand_import_map_in(&context, &["app.js".to_owned()])
            .unwrap()
            .value;
        let tag = &REVISION[..14];
        for module in ["q/a.js", "q/b.js"] {
            assert!(
                value.contains(&format!(
                    "\"https://cdn.example.com/assets/{module}\":\"https://cdn.example.com/assets/{module}?tag={tag}\""
                )),
                "{value}"
            );
        }
    }

    #[test]
    fn css_and_json_modules_are_mapped_but_not_preloaded() {
        let (_dir, context) = crate_with(
            &[
                (
                    "app.js",
                    "import sheet from './a.css' with { type: 'css' };\nimport data from './d.json' with { type: 'json' };\n",
                ),
                ("a.css", "a { color: red }\n"),
                ("d.json", "{}\n"),
            ],
            content_config(),
        );
        let map = expand_import_map_in(&context, &["app.js".to_owned()])
            .unwrap()
            .value;
        assert!(
            map.contains("\"/static/a.css\"") && map.contains("\"/static/d.json\""),
            "{map}"
        );
        let preloads = expand_module_preloads_in(&context, &["app.js".to_owned()])
            .unwrap()
            .value;
        assert_eq!(preloads.lines().count(), 1, "{preloads}");
        assert!(preloads.contains("/static/app."), "{preloads}");
    }

    #[test]
    fn a_module_with_a_stray_byte_is_read_as_a_browser_reads_it() {
        let dir_and_context = crate_with(&[("b.js", "")], content_config());
        let app = dir_and_context.0.path().join("static/app.js");
        std::fs::write(&app, b"// caf\xe9 (Latin-1)\nimport './b.js';\n").unwrap();
        let value = expand_import_map_in(&dir_and_context.1, &["app.js".to_owned()])
            .unwrap()
            .value;
        assert!(value.contains("\"/static/b.js\""), "{value}");
    }

    #[test]
    fn a_bare_specifier_of_the_table_can_be_an_entry() {
        let (dir, context) = crate_with(GRAPH, content_config());
        let value = expand_import_map_in(&context, &["lit".to_owned()])
            .unwrap()
            .value;
        for path in ["vendor/lit.js", "vendor/lit-core.js"] {
            assert!(value.contains(&tagged(dir.path(), path)), "{path}: {value}");
        }
        assert!(
            value.contains(&format!(
                "\"lit\":\"{}\"",
                tagged(dir.path(), "vendor/lit.js")
            )),
            "{value}"
        );
        // Not in the table: a static path, as before.
        let error = expand_import_map_in(&context, &["preact".to_owned()]).unwrap_err();
        assert!(
            matches!(error.error, Error::StaticFileNotFound { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_cycle_is_mapped_once() {
        let (_dir, context) = crate_with(
            &[
                ("a.js", "import './b.js';\n"),
                ("b.js", "import './a.js';\n"),
            ],
            content_config(),
        );
        let value = expand_import_map_in(&context, &["a.js".to_owned()])
            .unwrap()
            .value;
        assert_eq!(value.matches("\"/static/a.js\"").count(), 1, "{value}");
        assert_eq!(value.matches("\"/static/b.js\"").count(), 1, "{value}");
    }

    #[test]
    fn the_specifier_a_module_writes_for_a_path() {
        for (importer, target, expected) in [
            ("js/app.js", "js/ui.js", "./ui.js"),
            ("js/app.js", "js/lib/a.js", "./lib/a.js"),
            ("js/lib/a.js", "js/ui.js", "../ui.js"),
            ("app.js", "js/ui.js", "./js/ui.js"),
            ("js/a/b/c.js", "vendor/lit.js", "../../../vendor/lit.js"),
        ] {
            assert_eq!(
                specifier_for(importer, target),
                expected,
                "{importer} -> {target}"
            );
        }
    }

    #[test]
    fn json_that_no_script_element_can_end() {
        let mut output = String::new();
        write_json_string("</script><!-- \"a\\b\"\n", &mut output);
        assert_eq!(
            output,
            "\"\\u003c/script>\\u003c!-- \\\"a\\\\b\\\"\\u000a\""
        );
    }
}
