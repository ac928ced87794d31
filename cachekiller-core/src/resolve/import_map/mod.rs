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
//!
//! Cut along its concerns: `graph.rs` walks the graph, `specifiers.rs` resolves what a module
//! writes as the browser does, this file tags the modules and writes the map and the
//! preloads, `json.rs` writes JSON that no `<script>` element can end.

mod graph;
mod json;
mod specifiers;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use super::config::Config;
use super::context::CrateContext;
use super::expand::{rewrite_tracking, tagger, Expansion, SentBytes};
use super::static_files::{static_file_relative_path, FilePurpose};
use crate::rules::error::Error;
use crate::rules::hash::{integrity_metadata, DigestAlgorithm, IntegrityAlgorithm};
use crate::rules::static_url::{encoded_static_path, is_external};
use crate::rules::url::join_static_file_url;
use graph::{is_javascript, module_graph, BareTarget, ModuleGraph};
use json::write_json_object;

/// The most modules one call walks: an import map of thousands of entries is a page of its
/// own, and a graph that large wants a bundler.
pub const MAX_MODULES: usize = 2_000;

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
