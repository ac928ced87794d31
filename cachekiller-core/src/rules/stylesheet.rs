//! Stylesheets whose references carry tags: `url(../fonts/inter.woff2)` in `css/app.css` is
//! served as `url(../fonts/inter.woff2?tag=<tag>)` (or `inter.<tag>.woff2`), so that fonts,
//! images and `@import`ed stylesheets get the same long cache life as the stylesheet itself.
//!
//! The service sends the rewritten bytes, and the macros compute the same bytes at compile
//! time: the content tag and the integrity digest of a stylesheet are those of its rewritten
//! bytes, which hold the tags of the files it references. Editing a font therefore changes the
//! URL of every stylesheet that uses it, through `@import` chains too.
//!
//! What is rewritten: each relative URL (`../img/a.png`, `img/a.png#x`, `a.png?v=2`) whose
//! file exists below the static dirs, resolved against the stylesheet's own path, as the
//! browser does; each root-relative URL under the static prefix (`/static/img/a.png`),
//! resolved from the static root; and the URL of a `/*# sourceMappingURL=… */` comment. What
//! is left as written: `data:` and other URLs with a scheme, protocol-relative (`//cdn…`) and
//! other root-relative (`/img/a.png`) URLs, fragment-only references (`#mark`), references
//! that climb above the static root, and references to files that are missing or cannot be
//! served (which the macros report as compile errors, but for a missing source map).

use crate::rules::css::{css_references, write_css_url, ReferenceKind};
use crate::rules::error::{Error, Result};
use crate::rules::file_stamp::{file_stamp, FileStamp};
use crate::rules::hash::{cached_digest, digest_of_bytes, DigestAlgorithm};
use crate::rules::settings::TagMode;
use crate::rules::static_url::{Reference, StaticUrl};
use crate::rules::tagging::Tagger;
use crate::rules::url::split_url;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::rules::css::MAX_STYLESHEET_DEPTH;

/// Where the files a stylesheet references are found: the static dirs of the macros, the
/// directory of the service.
pub trait StaticLookup {
    /// The regular file at the static path `relative` (decoded, without a leading `/` or any
    /// `..`), with its size and mtime.
    ///
    /// # Errors
    /// Why there is no file to use there (missing, a link out of the static dirs, not a
    /// regular file).
    fn static_file(&self, relative: &str) -> Result<(PathBuf, FileStamp)>;
}

/// True for a static path the service and the macros treat as a stylesheet: its file name
/// ends with `.css`, in any case.
#[must_use]
pub fn is_stylesheet(path: &str) -> bool {
    // Compared as bytes: a name ending in a multi-byte character (`img/日本`) has no
    // character boundary four bytes from its end.
    let location = split_url(path).location.as_bytes();
    location.len() >= 4 && location[location.len() - 4..].eq_ignore_ascii_case(b".css")
}

/// A stylesheet with its references tagged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrittenStylesheet {
    /// The bytes to serve.
    pub bytes: Vec<u8>,
    /// The SHA-1 of [`RewrittenStylesheet::bytes`]: the content tag's source.
    pub sha1: Vec<u8>,
    /// Every file read to make it, with the stamp it was read at: the stylesheet first, the
    /// stylesheets it references, and in content mode the files whose tags it holds.
    pub files: Vec<(PathBuf, FileStamp)>,
    /// The stylesheets among [`RewrittenStylesheet::files`] (itself first).
    pub stylesheets: Vec<PathBuf>,
    /// Why references were left as written (each an [`Error::StylesheetReference`]), in
    /// this stylesheet and those it references.
    pub unresolved: Vec<Error>,
    /// The static paths of those references: if a file appears there, the rewrite is stale.
    unresolved_paths: Vec<String>,
    /// True if a file it references (directly, or through the stylesheets it references) is
    /// one the revision does not name: its bytes then hold the tag of bytes no commit holds,
    /// so the revision does not name it either (in VCS mode its own tag is a content tag).
    pub depends_on_uncommitted: bool,
}

impl RewrittenStylesheet {
    #[cfg(feature = "resolve")]
    /// The digest of the rewritten bytes with `algorithm` (for integrity metadata).
    #[must_use]
    pub fn digest(&self, algorithm: DigestAlgorithm) -> Vec<u8> {
        match algorithm {
            DigestAlgorithm::Sha1 => self.sha1.clone(),
            _ => digest_of_bytes(&self.bytes, algorithm),
        }
    }

    #[cfg(feature = "resolve")]
    /// True if every file it was made from is unchanged and every unresolved reference still
    /// has no file.
    pub(crate) fn is_current(&self, lookup: &dyn StaticLookup) -> bool {
        self.files_unchanged(0) && self.unresolved_still_missing(lookup)
    }

    /// True if every file it was made from, after the first `skip` (the service checks the
    /// stylesheet itself on the file it opened), still has the stamp it was read at.
    #[cfg_attr(not(feature = "service"), allow(dead_code))]
    pub(crate) fn files_unchanged(&self, skip: usize) -> bool {
        self.files
            .iter()
            .skip(skip)
            .all(|(path, stamp)| stamp.is_some() && file_stamp(path) == *stamp)
    }

    /// True if no file has appeared where a reference was left as written for want of one.
    pub(crate) fn unresolved_still_missing(&self, lookup: &dyn StaticLookup) -> bool {
        self.unresolved_paths
            .iter()
            .all(|relative| lookup.static_file(relative).is_err())
    }

    /// True if some reference was left as written because its file was missing.
    #[cfg_attr(not(feature = "service"), allow(dead_code))]
    pub(crate) fn has_unresolved_paths(&self) -> bool {
        !self.unresolved_paths.is_empty()
    }
}

#[cfg(feature = "resolve")]
/// Rewrites the stylesheet at the static path `relative` (the file `file`), and the
/// stylesheets it references, uncached.
///
/// # Errors
/// [`Error::FileUnreadable`] for a stylesheet that cannot be read, [`Error::StylesheetCycle`]
/// for stylesheets that reference each other. Unusable references are not errors here: they
/// are left as written and listed in [`RewrittenStylesheet::unresolved`].
pub fn rewrite_stylesheet(
    lookup: &dyn StaticLookup,
    relative: &str,
    file: &Path,
    stamp: FileStamp,
    tagger: Tagger<'_>,
) -> Result<RewrittenStylesheet> {
    let mut rewriter = Rewriter {
        lookup,
        tagger,
        in_progress: Vec::new(),
        done: HashMap::new(),
    };
    rewriter
        .rewrite(relative, file, stamp)
        .map(Arc::unwrap_or_clone)
}

/// [`rewrite_stylesheet`] for a stylesheet whose bytes the caller has read (the service reads
/// them from the one file it opened for the request); the stylesheets it references are read
/// through `lookup`.
///
/// # Errors
/// As [`rewrite_stylesheet`].
#[cfg_attr(not(feature = "service"), allow(dead_code))]
pub(crate) fn rewrite_stylesheet_source(
    lookup: &dyn StaticLookup,
    relative: &str,
    file: &Path,
    stamp: FileStamp,
    source: &[u8],
    tagger: Tagger<'_>,
) -> Result<RewrittenStylesheet> {
    let mut rewriter = Rewriter {
        lookup,
        tagger,
        in_progress: vec![relative.to_owned()],
        done: HashMap::new(),
    };
    rewriter.rewrite_source(relative, file, stamp, source)
}

/// The static path a reference in the stylesheet at `stylesheet` names, resolved as a browser
/// resolves it against the stylesheet's URL (the one rule of `rules::static_url`); `None` for
/// references that are not ours to tag: other hosts and schemes (`data:`), rooted paths outside
/// the static URL, fragment-only ones, and those that climb above the static root (a URL of
/// the site). A reference under an absolute `static_url`
/// (`https://cdn.example.com/static/img/a.png`) is ours: Django and Propshaft tag those too.
fn referenced_static_path(
    static_url: &StaticUrl<'_>,
    stylesheet: &str,
    url: &str,
) -> Option<Result<String>> {
    match static_url.resolve(stylesheet, url) {
        Reference::Static { relative, .. } => Some(Ok(relative)),
        Reference::NotOurs | Reference::Outside => None,
        Reference::Refused(error) => Some(Err(error)),
    }
}

struct Rewriter<'a> {
    lookup: &'a dyn StaticLookup,
    tagger: Tagger<'a>,
    /// The stylesheets being rewritten, outermost first: a cycle shows here.
    in_progress: Vec<String>,
    /// The stylesheets rewritten in this run, by static path.
    done: HashMap<String, Arc<RewrittenStylesheet>>,
}

/// What a reference's file contributes: its tag, and what the stylesheet must list.
struct Resolved {
    tag: String,
    /// True if the revision does not name the file (or, for a stylesheet, a file it
    /// references).
    uncommitted: bool,
    nested: Option<Arc<RewrittenStylesheet>>,
    file: Option<(PathBuf, FileStamp)>,
}

impl Rewriter<'_> {
    fn rewrite(
        &mut self,
        relative: &str,
        file: &Path,
        stamp: FileStamp,
    ) -> Result<Arc<RewrittenStylesheet>> {
        if let Some(done) = self.done.get(relative) {
            return Ok(Arc::clone(done));
        }
        if let Some(start) = self.in_progress.iter().position(|s| s == relative) {
            let mut cycle = self.in_progress[start..].to_vec();
            cycle.push(relative.to_owned());
            return Err(Error::StylesheetCycle { cycle });
        }
        if self.in_progress.len() >= MAX_STYLESHEET_DEPTH {
            let mut chain = self.in_progress.clone();
            chain.push(relative.to_owned());
            return Err(Error::StylesheetTooDeep { chain });
        }
        let source = std::fs::read(file).map_err(|error| Error::FileUnreadable {
            path: file.to_owned(),
            reason: error.to_string(),
        })?;
        self.in_progress.push(relative.to_owned());
        let result = self.rewrite_source(relative, file, stamp, &source);
        self.in_progress.pop();
        let rewritten = Arc::new(result?);
        self.done
            .insert(relative.to_owned(), Arc::clone(&rewritten));
        Ok(rewritten)
    }

    fn rewrite_source(
        &mut self,
        relative: &str,
        file: &Path,
        stamp: FileStamp,
        source: &[u8],
    ) -> Result<RewrittenStylesheet> {
        let references = css_references(source);
        let mut rewritten = RewrittenStylesheet {
            bytes: Vec::with_capacity(source.len() + references.len() * 16),
            sha1: Vec::new(),
            files: vec![(file.to_owned(), stamp)],
            stylesheets: vec![file.to_owned()],
            unresolved: Vec::new(),
            unresolved_paths: Vec::new(),
            depends_on_uncommitted: false,
        };
        let static_url = StaticUrl::parse(self.tagger.static_url);
        // Many references name the same few files (a sprite, a font's weights).
        let mut resolved_here: HashMap<String, Result<(String, bool)>> = HashMap::new();
        let mut copied_to = 0;
        for reference in references {
            let Some(target) = referenced_static_path(&static_url, relative, &reference.url) else {
                continue;
            };
            if self.tagger.mode == TagMode::Vcs {
                self.tagger.revision_tag()?;
            }
            let tag = match target {
                Ok(target) => {
                    if let Some(tag) = resolved_here.get(&target) {
                        tag.clone()
                    } else {
                        let tag = match self.resolve(&target) {
                            // No stylesheet of the cycle can be made: the whole run fails.
                            Err(
                                whole @ (Error::StylesheetCycle { .. }
                                | Error::StylesheetTooDeep { .. }),
                            ) => return Err(whole),
                            resolved => resolved.map(|resolved| {
                                merge(&mut rewritten, &resolved);
                                (resolved.tag, resolved.uncommitted)
                            }),
                        };
                        if tag.is_err() {
                            rewritten.unresolved_paths.push(target.clone());
                        }
                        resolved_here.insert(target, tag.clone());
                        tag
                    }
                }
                Err(error) => Err(error),
            };
            match tag {
                Ok((tag, uncommitted)) => {
                    // The reference is written by the configuration as much as by the tag.
                    rewritten.depends_on_uncommitted |=
                        uncommitted || !self.tagger.names_configuration();
                    rewritten
                        .bytes
                        .extend_from_slice(&source[copied_to..reference.span.start]);
                    let tagged = self.tagger.tagged_reference(&reference.url, &tag);
                    match reference.kind {
                        ReferenceKind::Url => {
                            write_css_url(&tagged, reference.quote, &mut rewritten.bytes);
                        }
                        // A comment has no escapes: the URL as it is.
                        ReferenceKind::SourceMap => {
                            rewritten.bytes.extend_from_slice(tagged.as_bytes());
                        }
                    }
                    copied_to = reference.span.end;
                }
                // A missing source map is left as written and is no error: vendored
                // stylesheets often name maps they do not ship (Django made it an error in
                // 4.1, and its users pushed back).
                Err(_) if reference.kind == ReferenceKind::SourceMap => {}
                Err(cause) => rewritten.unresolved.push(Error::StylesheetReference {
                    stylesheet: relative.to_owned(),
                    line: reference.line,
                    url: reference.url,
                    cause: Box::new(cause),
                }),
            }
        }
        rewritten.bytes.extend_from_slice(&source[copied_to..]);
        rewritten.sha1 = digest_of_bytes(&rewritten.bytes, DigestAlgorithm::Sha1);
        // A file reached along two `@import` paths is listed once.
        retain_first(&mut rewritten.files, |(path, _)| path.clone());
        retain_first(&mut rewritten.stylesheets, Clone::clone);
        retain_first(&mut rewritten.unresolved, ToString::to_string);
        Ok(rewritten)
    }

    /// The tag of the file at the static path `target`, rewriting it first if it is a
    /// stylesheet.
    fn resolve(&mut self, target: &str) -> Result<Resolved> {
        let (file, stamp) = self.lookup.static_file(target)?;
        let uncommitted = !self.tagger.revision_names(target);
        if is_stylesheet(target) {
            let nested = self.rewrite(target, &file, stamp)?;
            let uncommitted = uncommitted || nested.depends_on_uncommitted;
            let tag = self
                .tagger
                .tag(target, uncommitted, || Ok(nested.sha1.clone()))?;
            return Ok(Resolved {
                tag,
                uncommitted,
                nested: Some(nested),
                file: None,
            });
        }
        let content_tag = !self.tagger.takes_revision_tag(target);
        let tag = self.tagger.tag(target, false, || {
            cached_digest(&file, stamp, DigestAlgorithm::Sha1)
        })?;
        // A content tag holds the file's bytes: the stylesheet depends on them.
        let file = content_tag.then_some((file, stamp));
        Ok(Resolved {
            tag,
            uncommitted,
            nested: None,
            file,
        })
    }
}

/// Adds what a referenced file contributes to the stylesheet's lists.
fn merge(rewritten: &mut RewrittenStylesheet, resolved: &Resolved) {
    if let Some(nested) = &resolved.nested {
        rewritten.files.extend(nested.files.iter().cloned());
        rewritten
            .stylesheets
            .extend(nested.stylesheets.iter().cloned());
        rewritten
            .unresolved
            .extend(nested.unresolved.iter().cloned());
        rewritten
            .unresolved_paths
            .extend(nested.unresolved_paths.iter().cloned());
    }
    rewritten.files.extend(resolved.file.iter().cloned());
}

/// Keeps the first of the items with the same key.
fn retain_first<T, K: std::hash::Hash + Eq>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(key(item)));
}

#[cfg(all(test, feature = "resolve"))]
mod tests {
    use super::*;
    use crate::resolve::stylesheet_cache::StylesheetCache;
    use crate::rules::hash::content_tag;
    use crate::rules::settings::TagIn;
    use crate::test_support::sha1sum;

    /// The files below one directory, as the service sees them.
    struct Directory(PathBuf);

    impl StaticLookup for Directory {
        fn static_file(&self, relative: &str) -> Result<(PathBuf, FileStamp)> {
            let path = self.0.join(relative);
            if path.is_file() {
                let stamp = file_stamp(&path);
                Ok((path, stamp))
            } else {
                Err(Error::StaticFileNotFound {
                    path: relative.to_owned(),
                    searched: vec!["static".into()],
                    suggestion: None,
                    hashed: false,
                })
            }
        }
    }

    fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    const REVISION: &str = "4b400e3aeb0426";

    fn tags(tag_in: TagIn, mode: TagMode) -> Tagger<'static> {
        Tagger {
            static_url: "/static/",
            tag_in,
            param: "tag",
            mode,
            revision_tag: Ok(REVISION),
            hash_length: 6,
            revision_names: None,
        }
    }

    fn rewrite(root: &Path, relative: &str, tagger: Tagger<'_>) -> Result<RewrittenStylesheet> {
        let file = root.join(relative);
        rewrite_stylesheet(
            &Directory(root.to_owned()),
            relative,
            &file,
            file_stamp(&file),
            tagger,
        )
    }

    fn text(rewritten: &RewrittenStylesheet) -> &str {
        std::str::from_utf8(&rewritten.bytes).unwrap()
    }

    const APP: &str = "@import \"base.css\";\n\
        /* url(../img/fake.png) */\n\
        .logo { background: url(../img/logo.svg#mark) }\n\
        .a { background: url(\"data:image/png;base64,AAAA\") url(https://cdn.example/x.png) \
        url(//cdn.example/y.png) url(/img/root.png) url(#local) url(../../above.png) }\n\
        @font-face { src: url('../fonts/inter.woff2?v=2') format(\"woff2\") }\n";

    fn app_site() -> tempfile::TempDir {
        site(&[
            ("css/app.css", APP),
            (
                "css/base.css",
                "body { background: url(../img/logo.svg) }\n",
            ),
            ("img/logo.svg", "<svg/>"),
            ("fonts/inter.woff2", "wOF2 font"),
        ])
    }

    #[test]
    fn revision_tags_in_both_forms() {
        let root = app_site();
        let query = rewrite(root.path(), "css/app.css", tags(TagIn::Query, TagMode::Vcs)).unwrap();
        let expected = APP
            .replace("\"base.css\"", &format!("\"base.css?tag={REVISION}\""))
            .replace(
                "url(../img/logo.svg#mark)",
                &format!("url(../img/logo.svg?tag={REVISION}#mark)"),
            )
            .replace(
                "inter.woff2?v=2'",
                &format!("inter.woff2?v=2&tag={REVISION}'"),
            );
        assert_eq!(text(&query), expected);
        assert!(query.unresolved.is_empty(), "{:?}", query.unresolved);

        let name = rewrite(root.path(), "css/app.css", tags(TagIn::Name, TagMode::Vcs)).unwrap();
        let expected = APP
            .replace("\"base.css\"", &format!("\"base.{REVISION}.css\""))
            .replace("logo.svg#mark", &format!("logo.{REVISION}.svg#mark"))
            .replace("inter.woff2?v=2", &format!("inter.{REVISION}.woff2?v=2"));
        assert_eq!(text(&name), expected);
        // Revision tags need no file but the stylesheets.
        let stylesheets = [
            root.path().join("css/app.css"),
            root.path().join("css/base.css"),
        ];
        assert_eq!(name.stylesheets, stylesheets);
        assert_eq!(name.files.len(), 2);
    }

    #[test]
    fn content_tags_hash_the_rewritten_bytes_of_imported_stylesheets() {
        let root = app_site();
        let logo = sha1sum(&root.path().join("img/logo.svg"), 6);
        let font = sha1sum(&root.path().join("fonts/inter.woff2"), 6);
        let content = tags(TagIn::Name, TagMode::Content);
        let base = rewrite(root.path(), "css/base.css", content).unwrap();
        assert_eq!(
            text(&base),
            format!("body {{ background: url(../img/logo.{logo}.svg) }}\n")
        );
        // The oracle hashes the bytes as served.
        let served_base = root.path().join("served-base.css");
        std::fs::write(&served_base, &base.bytes).unwrap();
        let base_tag = sha1sum(&served_base, 6);
        assert_eq!(content_tag(&base.sha1, 6), base_tag);

        let app = rewrite(root.path(), "css/app.css", content).unwrap();
        assert!(text(&app).contains(&format!("@import \"base.{base_tag}.css\";")));
        assert!(text(&app).contains(&format!("inter.{font}.woff2?v=2")));
        assert_eq!(app.files.len(), 4, "{:?}", app.files);

        // Editing the image changes the tag of the stylesheet that imports the one using it.
        std::fs::write(root.path().join("img/logo.svg"), "<svg id='new'/>").unwrap();
        let edited = rewrite(root.path(), "css/app.css", content).unwrap();
        assert_ne!(content_tag(&edited.sha1, 6), content_tag(&app.sha1, 6));
    }

    #[test]
    fn missing_files_are_left_as_written_and_reported_with_their_line() {
        let root = site(&[
            (
                "css/app.css",
                "a { b: url(ok.png) }\n\na { b: url(../img/missing.png) url(missing.png) }\n",
            ),
            ("css/ok.png", "png"),
        ]);
        let rewritten =
            rewrite(root.path(), "css/app.css", tags(TagIn::Query, TagMode::Vcs)).unwrap();
        assert_eq!(
            text(&rewritten),
            format!("a {{ b: url(ok.png?tag={REVISION}) }}\n\na {{ b: url(../img/missing.png) url(missing.png) }}\n")
        );
        let messages: Vec<String> = rewritten
            .unresolved
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(messages.len(), 2);
        assert!(messages[0].starts_with("stylesheet \"css/app.css\", line 3: `url(../img/missing.png)`: static file \"img/missing.png\" not found"), "{}", messages[0]);
        assert!(
            messages[1].contains("\"css/missing.png\""),
            "{}",
            messages[1]
        );
    }

    #[test]
    fn a_cycle_is_an_error_naming_it() {
        let root = site(&[
            ("a.css", "@import 'b.css';"),
            ("b.css", "@import url(sub/c.css);"),
            ("sub/c.css", "@import '../a.css';"),
        ]);
        for mode in [TagMode::Vcs, TagMode::Content] {
            let error = rewrite(root.path(), "a.css", tags(TagIn::Query, mode)).unwrap_err();
            assert_eq!(
                error,
                Error::StylesheetCycle {
                    cycle: vec![
                        "a.css".into(),
                        "b.css".into(),
                        "sub/c.css".into(),
                        "a.css".into()
                    ]
                }
            );
        }
    }

    #[test]
    fn a_chain_deeper_than_the_limit_is_an_error_naming_it_not_a_stack_overflow() {
        // 5,000 levels: recursion would overflow the test thread's stack long before.
        let depth = 5_000;
        let files: Vec<(String, String)> = (0..depth)
            .map(|level| {
                (
                    format!("s{level}.css"),
                    format!("@import 's{}.css';", level + 1),
                )
            })
            .chain(std::iter::once((
                format!("s{depth}.css"),
                "a {}".to_owned(),
            )))
            .collect();
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str()))
            .collect();
        let root = site(&borrowed);
        for mode in [TagMode::Vcs, TagMode::Content] {
            let error = rewrite(root.path(), "s0.css", tags(TagIn::Query, mode)).unwrap_err();
            let Error::StylesheetTooDeep { chain } = &error else {
                panic!("{error:?}");
            };
            assert_eq!(chain.len(), MAX_STYLESHEET_DEPTH + 1);
            assert_eq!(chain[0], "s0.css");
            assert!(
                error.to_string().contains("nested more than 32 deep"),
                "{error}"
            );
        }
        // At the limit it is fine.
        let start = format!("s{}.css", depth - MAX_STYLESHEET_DEPTH + 1);
        rewrite(root.path(), &start, tags(TagIn::Query, TagMode::Content)).unwrap();
    }

    #[test]
    fn root_relative_references_under_the_static_url_are_tagged_as_written() {
        let css = "a { b: url(/static/img/bg.png) url('/static/img/bg.png?v=1#x') \
                   url(/staticfoo/x.png) url(/img/bg.png) url(/static/../secret.png) }\n\
                   /* url(/static/img/bg.png) */ c { content: '/static/img/bg.png' }\n";
        let root = site(&[("css/app.css", css), ("img/bg.png", "png")]);
        let bg = sha1sum(&root.path().join("img/bg.png"), 6);
        let name = rewrite(
            root.path(),
            "css/app.css",
            tags(TagIn::Name, TagMode::Content),
        )
        .unwrap();
        assert_eq!(
            text(&name),
            css.replacen(
                "url(/static/img/bg.png)",
                &format!("url(/static/img/bg.{bg}.png)"),
                1
            )
            .replace(
                "'/static/img/bg.png?v=1#x'",
                &format!("'/static/img/bg.{bg}.png?v=1#x'")
            )
        );
        assert!(name.unresolved.is_empty(), "{:?}", name.unresolved);
        let query = rewrite(root.path(), "css/app.css", tags(TagIn::Query, TagMode::Vcs)).unwrap();
        assert!(text(&query).starts_with(&format!(
            "a {{ b: url(/static/img/bg.png?tag={REVISION}) url('/static/img/bg.png?v=1&tag={REVISION}#x')"
        )));
        // A missing file under the prefix is reported with its line, as a relative one is.
        let root = site(&[("css/app.css", "\na { b: url(/static/img/gone.png) }")]);
        let missing =
            rewrite(root.path(), "css/app.css", tags(TagIn::Query, TagMode::Vcs)).unwrap();
        assert_eq!(missing.unresolved.len(), 1);
        assert!(
            missing.unresolved[0].to_string().contains("line 2"),
            "{}",
            missing.unresolved[0]
        );
    }

    #[test]
    fn the_prefix_of_an_absolute_static_url() {
        // (static_url, url, static path)
        let cases = [
            ("/static/", "/static/img/a.png", Some("img/a.png")),
            ("/static", "/static/img/a.png", Some("img/a.png")),
            ("/static/", "/staticfoo/a.png", None),
            ("/static/", "//static/a.png", None),
            (
                "https://cdn.example.com/static/",
                "https://cdn.example.com/static/img/a.png",
                Some("img/a.png"),
            ),
            (
                "https://cdn.example.com/static/",
                "/static/img/a.png",
                Some("img/a.png"),
            ),
            (
                "https://cdn.example.com/static/",
                "https://other.example.com/static/img/a.png",
                None,
            ),
            (
                "//cdn.example.com/assets/",
                "//cdn.example.com/assets/a.png",
                Some("a.png"),
            ),
            ("//cdn.example.com/assets/", "/assets/a.png", Some("a.png")),
            ("https://cdn.example.com/", "/a.png", Some("a.png")),
            ("https://cdn.example.com", "/a.png", Some("a.png")),
            ("/", "/a.png", Some("a.png")),
            ("/", "//a.png", None),
            // An empty segment is dropped by the one path rule: the service answers
            // `/static//a.png` with `a.png`, so the rewrite tags it as `a.png`.
            ("/static/", "/static//a.png", Some("a.png")),
        ];
        for (static_url, url, expected) in cases {
            let found = referenced_static_path(&StaticUrl::parse(static_url), "css/app.css", url)
                .map(Result::unwrap);
            assert_eq!(found.as_deref(), expected, "{url} under {static_url}");
        }
    }

    #[test]
    fn the_empty_query_of_the_iefix_hack_is_kept() {
        let css = "@font-face { src: url('../fonts/font.eot?#iefix') format('embedded-opentype') }";
        let root = site(&[("css/app.css", css), ("fonts/font.eot", "eot")]);
        let name = rewrite(root.path(), "css/app.css", tags(TagIn::Name, TagMode::Vcs)).unwrap();
        assert_eq!(
            text(&name),
            css.replace("font.eot?#iefix", &format!("font.{REVISION}.eot?#iefix"))
        );
        let query = rewrite(root.path(), "css/app.css", tags(TagIn::Query, TagMode::Vcs)).unwrap();
        assert_eq!(
            text(&query),
            css.replace("font.eot?#iefix", &format!("font.eot?tag={REVISION}#iefix"))
        );
    }

    #[test]
    fn a_source_map_is_tagged_when_present_and_left_when_missing() {
        let css = "a {}\n/*# sourceMappingURL=app.css.map */\n";
        let root = site(&[("css/app.css", css), ("css/app.css.map", "{}")]);
        let map = sha1sum(&root.path().join("css/app.css.map"), 6);
        let name = rewrite(
            root.path(),
            "css/app.css",
            tags(TagIn::Name, TagMode::Content),
        )
        .unwrap();
        assert_eq!(
            text(&name),
            format!("a {{}}\n/*# sourceMappingURL=app.css.{map}.map */\n")
        );
        std::fs::remove_file(root.path().join("css/app.css.map")).unwrap();
        let missing = rewrite(
            root.path(),
            "css/app.css",
            tags(TagIn::Name, TagMode::Content),
        )
        .unwrap();
        assert_eq!(text(&missing), css);
        assert!(missing.unresolved.is_empty(), "a missing map is no error");
    }

    #[test]
    fn names_ending_in_any_character_are_classified_without_panicking() {
        for (name, stylesheet) in [
            ("img/日本", false),
            ("img/€€", false),
            ("日本.css", true),
            ("a.CSS", true),
            ("css", false),
            ("€.cs€", false),
        ] {
            assert_eq!(is_stylesheet(name), stylesheet, "{name}");
        }
    }

    #[test]
    fn odd_references() {
        let root = site(&[
            ("css/app.css", "a { b: url(team%20photo.png) url(\"it's (1).png\") url(./img/../x.png) url(?v=1) url() url(img/) }"),
            ("css/team photo.png", "1"),
            ("css/it's (1).png", "2"),
            ("css/x.png", "3"),
            ("css/img/y.png", "4"),
        ]);
        let rewritten =
            rewrite(root.path(), "css/app.css", tags(TagIn::Name, TagMode::Vcs)).unwrap();
        assert_eq!(
            text(&rewritten),
            format!("a {{ b: url(team%20photo.{REVISION}.png) url(\"it's (1).{REVISION}.png\") url(./img/../x.{REVISION}.png) url(?v=1) url() url(img/) }}")
        );
        // `img/` is a directory, reported.
        assert_eq!(rewritten.unresolved.len(), 1);
    }

    #[test]
    fn the_cache_follows_every_file_and_a_file_that_appears() {
        let root = site(&[
            ("css/app.css", "a { b: url(../img/a.png) }"),
            ("fonts/x", ""),
        ]);
        let lookup = Directory(root.path().to_owned());
        let cache = StylesheetCache::default();
        let file = root.path().join("css/app.css");
        let content = tags(TagIn::Query, TagMode::Content);
        let get = || {
            cache
                .rewritten(&lookup, "css/app.css", &file, file_stamp(&file), content)
                .unwrap()
        };
        let missing = get();
        assert_eq!(missing.bytes, b"a { b: url(../img/a.png) }");
        assert!(Arc::ptr_eq(&missing, &get()));
        std::fs::create_dir_all(root.path().join("img")).unwrap();
        std::fs::write(root.path().join("img/a.png"), "one").unwrap();
        let found = get();
        let one = sha1sum(&root.path().join("img/a.png"), 6);
        assert_eq!(
            text(&found),
            format!("a {{ b: url(../img/a.png?tag={one}) }}")
        );
        std::fs::write(root.path().join("img/a.png"), "two, longer").unwrap();
        let two = sha1sum(&root.path().join("img/a.png"), 6);
        assert_eq!(
            text(&get()),
            format!("a {{ b: url(../img/a.png?tag={two}) }}")
        );
    }
}
