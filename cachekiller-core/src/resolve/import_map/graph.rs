//! The graph of modules reachable from the entries, walked breadth first without recursion.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use super::specifiers::{resolve_bare, resolve_specifier, specifier_for, Resolved};
use super::{EntryError, MAX_MODULES};
use crate::resolve::config::{is_bare_specifier, Config};
use crate::resolve::context::CrateContext;
use crate::resolve::js::{module_imports, ImportKind, ModuleImport};
use crate::resolve::static_files::{static_file_relative_path, FilePurpose};
use crate::rules::error::{Error, Result};
use crate::rules::suggest::closest;

/// A module of the graph: a static file.
#[derive(Debug, Clone)]
pub(super) struct Module {
    /// Its static path (canonical, relative to the static dirs).
    pub(super) path: String,
    /// Its file.
    pub(super) file: PathBuf,
    /// The entry (index in the call's list) it was first reached from: errors are reported
    /// at that argument.
    pub(super) entry: usize,
}

/// How one module names another.
#[derive(Debug, Clone)]
pub(super) struct Edge {
    pub(super) from: usize,
    pub(super) to: usize,
    /// A static import or re-export (fetched before the importer runs: worth preloading), or a
    /// dynamic `import("…")` (mapped, not preloaded).
    pub(super) statically: bool,
    /// The query and fragment the specifier writes after the path (`?v=2`): part of the URL
    /// the browser fetches, so the one to preload.
    pub(super) suffix: String,
}

/// The modules reachable from the entries, and how the bare specifiers resolved.
#[derive(Debug, Default)]
pub(super) struct ModuleGraph {
    pub(super) modules: Vec<Module>,
    pub(super) by_path: HashMap<String, usize>,
    pub(super) edges: Vec<Edge>,
    /// Bare specifier -> module index, or the absolute URL the table gives.
    pub(super) bare: BTreeMap<String, BareTarget>,
    /// The entries' modules, in the call's order.
    pub(super) entries: Vec<usize>,
    /// The URL the browser resolves each relative or rooted import to (`…/it's.js`,
    /// `…/b.js?v=1`), with the module and the query and fragment written: keys of the map
    /// besides each module's own URL.
    pub(super) spellings: BTreeMap<String, (usize, String)>,
}

#[derive(Debug, Clone)]
pub(super) enum BareTarget {
    Module(usize),
    Url(String),
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
pub(super) fn is_javascript(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|extension| {
            extension.eq_ignore_ascii_case("js") || extension.eq_ignore_ascii_case("mjs")
        })
}

/// Walks the graph from `entries` (static paths as `cdnstatic!` takes them), breadth first,
/// without recursion.
pub(super) fn module_graph(
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
