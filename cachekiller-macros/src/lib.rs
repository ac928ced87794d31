//! # cachekiller-macros
//!
//! `cdnstatic!("css/app.css")` expands, at compile time, to a `&'static str` such as
//! `"/static/css/app.css?tag=1f3a9c0d2b7e4a"`, and `cdntag!()` to the bare tag
//! `"1f3a9c0d2b7e4a"`. The tag is `CACHEKILLER_TAG` if set, else the checked-out git commit,
//! else the Mercurial working parent (the nearest repository decides), else the date of
//! `SOURCE_DATE_EPOCH`, else a digest of the static files.
//!
//! With `mode = "content"` the tag is the start of the file's SHA-1 instead, with
//! `tag_in = "name"` it goes in the file name (`app.<tag>.css`), `cdnintegrity!("js/app.js")`
//! gives a file's subresource integrity metadata (`"sha384-…"`), and `cdnsettings!()` gives
//! a static file server (`cachekiller_core::service::StaticFiles`) the settings to check the
//! tags of these URLs with.
//!
//! The expansion is a string literal. A call that is the first of the crate to read something
//! (the repository, a hashed file, a stylesheet) wraps it in a block that also makes cargo
//! watch what the value was read from (`include_bytes!` of the VCS files, manifests and hashed
//! files, `option_env!` of the variables), so the next `cargo build` after a commit expands it
//! again. It refers to nothing of this crate: no runtime dependency, usable in
//! `const` items, Askama templates and Maud markup.
//!
//! ```
//! use cachekiller_macros::{cdnstatic, cdntag};
//!
//! const APP_CSS: &str = cdnstatic!("css/app.css");
//! assert!(APP_CSS.starts_with("/static/css/app.css?tag="));
//! assert!(APP_CSS.ends_with(cdntag!()));
//! ```
//!
//! All the logic lives in `cachekiller-core`; this crate parses the arguments, calls it, and
//! turns its errors into compile errors at the argument at fault.
//!
#![doc = include_str!("reference.md")]
// docs.rs: each item labelled with the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::path::PathBuf;

use cachekiller_core::__private::config::{ConfigValue, EmbedProfiles};
use cachekiller_core::__private::embed::{expand_embedded_files, EmbedBuild, EmbedExpansion};
use cachekiller_core::__private::expand::{
    expand_integrity, expand_site_settings, expand_static_url, expand_tag, CallOption, MacroOutput,
};
use cachekiller_core::__private::import_map::{
    expand_import_map, expand_module_preloads, EntryError,
};
use cachekiller_core::__private::tracking::Tracking;
use cachekiller_core::__private::{ConfigOrigin, Error};
use proc_macro::{TokenStream, TokenTree};
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Ident, Lit, LitStr, Token};

/// The cache-busting URL of a static file, as a `&'static str` computed at compile time.
///
/// ```
/// # use cachekiller_macros::{cdnstatic, cdntag};
/// let tag = cdntag!();
/// assert_eq!(cdnstatic!("a.css"), format!("/static/a.css?tag={tag}"));
/// assert_eq!(cdnstatic!("a.css?v=2"), format!("/static/a.css?v=2&tag={tag}"));
/// assert_eq!(cdnstatic!("icons.svg#home"), format!("/static/icons.svg?tag={tag}#home"));
/// assert_eq!(cdnstatic!("//cdn.example.com/x.js"), format!("//cdn.example.com/x.js?tag={tag}"));
/// assert_eq!(cdnstatic!("my file.css"), format!("/static/my%20file.css?tag={tag}"));
/// ```
///
/// Options after the path override the crate's configuration for this call:
/// `static_url = "…"`, `param = "…"`, `tag_length = N`.
///
/// ```
/// # use cachekiller_macros::{cdnstatic, cdntag};
/// let short = cdntag!(tag_length = 8);
/// assert_eq!(
///     cdnstatic!("a.css", static_url = "https://cdn.example.com/", param = "v", tag_length = 8),
///     format!("https://cdn.example.com/a.css?v={short}")
/// );
/// ```
///
/// With `mode = "content"` (per call, or in the configuration) the tag is the start of the
/// SHA-1 of the file instead, so only changed files get new URLs.
#[proc_macro]
pub fn cdnstatic(input: TokenStream) -> TokenStream {
    expand_path_macro(input, "cdnstatic", expand_static_url)
}

/// The subresource integrity metadata of a static file, such as `"sha384-…"`, for
/// `<script src="{{ cdnstatic!("app.js") }}" integrity="{{ cdnintegrity!("app.js") }}"
/// crossorigin="anonymous">`. Accepts `algorithm = "sha256" | "sha384" | "sha512"`.
/// The file must exist in the static dirs; an edit to it rebuilds the crate.
#[proc_macro]
pub fn cdnintegrity(input: TokenStream) -> TokenStream {
    expand_path_macro(input, "cdnintegrity", expand_integrity)
}

/// The shared shell of the macros that take a path: parse, call core, emit.
fn expand_path_macro(
    input: TokenStream,
    macro_name: &'static str,
    expand: fn(&std::path::Path, &str, &[CallOption]) -> Result<MacroOutput, Error>,
) -> TokenStream {
    if let Some((path, span)) = lone_plain_string(&input) {
        let result = manifest_dir().and_then(|manifest_dir| expand(&manifest_dir, &path, &[]));
        return emit(result, span.into(), &[]);
    }
    let parser = |stream: ParseStream| PathArguments::parse(stream, macro_name);
    let arguments = match parser.parse(input) {
        Ok(arguments) => arguments,
        Err(error) => return error.to_compile_error().into(),
    };
    let call_options: Vec<CallOption> = arguments
        .options
        .iter()
        .map(|option| option.call_option.clone())
        .collect();
    let result = manifest_dir()
        .and_then(|manifest_dir| expand(&manifest_dir, &arguments.path.value(), &call_options));
    emit(result, arguments.path.span(), &arguments.options)
}

/// The import map of the JavaScript modules reachable from the entry modules given, as a
/// `&'static str` of HTML: `<script type="importmap">{"imports":{…},"integrity":{…}}</script>`.
/// Every module of the graph (static imports, re-exports, `import("…")` with a literal, and
/// the files of bare specifiers listed in `[package.metadata.cachekiller.imports]`) is mapped
/// from the URL the browser resolves an import of it to (`/static/js/ui.js`) to its tagged
/// URL, as `cdnstatic!` tags it, with its `sha384` integrity. A specifier that names no module
/// is a compile error naming the module and the line. Put it before the first module script:
///
/// ```text
/// Askama: {{ cdnimportmap!("js/app.js")|safe }}
/// Maud:   (PreEscaped(cdnimportmap!("js/app.js")))
/// ```
#[proc_macro]
pub fn cdnimportmap(input: TokenStream) -> TokenStream {
    expand_entries_macro(input, "cdnimportmap", expand_import_map)
}

/// `<link rel="modulepreload" href="…" integrity="…">` lines for the entry modules given and
/// every module they import statically, transitively (not those only loaded by
/// `import("…")`), with the URLs and integrities of `cdnimportmap!`, so the browser fetches
/// the whole graph at once instead of one level of imports at a time.
#[proc_macro]
pub fn cdnmodulepreload(input: TokenStream) -> TokenStream {
    expand_entries_macro(input, "cdnmodulepreload", expand_module_preloads)
}

/// The shared shell of the macros that take entry modules: parse, call core, emit, with an
/// error blamed on the entry it was reached from.
fn expand_entries_macro(
    input: TokenStream,
    macro_name: &'static str,
    expand: fn(&std::path::Path, &[String]) -> Result<MacroOutput, EntryError>,
) -> TokenStream {
    let parser = |stream: ParseStream| parse_entries(stream, macro_name);
    let entries = match parser.parse(input) {
        Ok(entries) => entries,
        Err(error) => return error.to_compile_error().into(),
    };
    let paths: Vec<String> = entries.iter().map(LitStr::value).collect();
    match manifest_dir().map_err(|error| EntryError { entry: 0, error }) {
        Ok(manifest_dir) => match expand(&manifest_dir, &paths) {
            Ok(output) => emit(Ok(output), entries[0].span(), &[]),
            Err(EntryError { entry, error }) => emit(Err(error), entries[entry].span(), &[]),
        },
        Err(EntryError { error, .. }) => emit(Err(error), entries[0].span(), &[]),
    }
}

/// One or more string literals, comma separated (a trailing comma allowed).
fn parse_entries(input: ParseStream, macro_name: &str) -> syn::Result<Vec<LitStr>> {
    let expected = || {
        format!(
            "expected string literals with the static paths of entry modules, such as \
             {macro_name}!(\"js/app.js\", \"js/admin.js\")"
        )
    };
    let mut entries = Vec::new();
    while !input.is_empty() {
        match input.parse::<Lit>() {
            Ok(Lit::Str(path)) if path.suffix().is_empty() => entries.push(path),
            Ok(literal @ Lit::Str(_)) => return Err(refuse_suffix(&literal).unwrap_err()),
            Ok(other) => return Err(syn::Error::new(other.span(), expected())),
            Err(error) => {
                return Err(syn::Error::new(
                    error.span(),
                    format!(
                        "{}; the paths must be literals because the graph is read at compile time",
                        expected()
                    ),
                ))
            }
        }
        if input.is_empty() {
            break;
        }
        expect_comma(input)?;
    }
    if entries.is_empty() {
        return Err(syn::Error::new(Span::call_site(), expected()));
    }
    Ok(entries)
}

/// The tag alone, as a `&'static str` computed at compile time, for links built by hand:
/// `<a href="/page.html?tag={{ cdntag!() }}">`. Accepts `tag_length = N`.
#[proc_macro]
pub fn cdntag(input: TokenStream) -> TokenStream {
    let options = match syn::parse::<TagArguments>(input) {
        Ok(arguments) => arguments.options,
        Err(error) => return error.to_compile_error().into(),
    };
    let call_options: Vec<CallOption> = options
        .iter()
        .map(|option| option.call_option.clone())
        .collect();
    let result = manifest_dir().and_then(|manifest_dir| expand_tag(&manifest_dir, &call_options));
    emit(result, Span::call_site(), &options)
}

/// The path of the common call, `cdnstatic!("css/app.css")`: a lone string literal without
/// escapes or suffix, read without `syn`, whose parsing costs more than all the rest of such a
/// call in the unoptimized builds proc macros usually get. Anything else goes through `syn`.
fn lone_plain_string(input: &TokenStream) -> Option<(String, proc_macro::Span)> {
    let mut tokens = input.clone().into_iter();
    let Some(TokenTree::Literal(literal)) = tokens.next() else {
        return None;
    };
    if tokens.next().is_some() {
        return None;
    }
    let text = literal.to_string();
    let path = text.strip_prefix('"')?.strip_suffix('"')?;
    // An index loop: no iterator calls in an unoptimized build.
    let bytes = path.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\' || bytes[index] == b'"' {
            return None;
        }
        index += 1;
    }
    Some((path.to_owned(), literal.span()))
}

fn manifest_dir() -> Result<PathBuf, Error> {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or(Error::ManifestDirUnknown)
}

/// An option written after the path, with the spans to blame if core refuses it: the name
/// for an unknown option, the value for an invalid one.
struct MacroOption {
    call_option: CallOption,
    key_span: Span,
    value_span: Span,
}

impl Parse for MacroOption {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected an option as `name = value`, such as `tag_length = 8`",
            )
        })?;
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                format!("expected `= value` after `{key}`, such as `tag_length = 8`"),
            ));
        }
        input.parse::<Token![=]>()?;
        if input.peek(syn::token::Bracket) {
            return parse_string_array(input, &key);
        }
        let literal: Lit = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                format!("expected a literal value for `{key}`, such as \"/static/\" or 8"),
            )
        })?;
        refuse_suffix(&literal)?;
        let value = match &literal {
            Lit::Str(text) => ConfigValue::String(text.value()),
            Lit::Int(number) => number.base10_parse::<i64>().map_or_else(
                |_| ConfigValue::Other(format!("the integer {number}")),
                ConfigValue::Integer,
            ),
            Lit::Bool(boolean) => ConfigValue::Boolean(boolean.value),
            Lit::Float(_) => ConfigValue::Other("a float".to_owned()),
            Lit::ByteStr(_) | Lit::CStr(_) | Lit::Byte(_) => {
                ConfigValue::Other("a byte or C string".to_owned())
            }
            _ => ConfigValue::Other("a character or other literal".to_owned()),
        };
        Ok(MacroOption {
            call_option: CallOption {
                key: key.to_string(),
                value,
            },
            key_span: key.span(),
            value_span: literal.span(),
        })
    }
}

/// The value of `key` written as an array of string literals (`["*.map", "vendor/**"]`).
fn parse_string_array(input: ParseStream, key: &Ident) -> syn::Result<MacroOption> {
    let content;
    let bracket = syn::bracketed!(content in input);
    let items = content.parse_terminated(|item: ParseStream| item.parse::<Lit>(), Token![,])?;
    let mut strings = Vec::new();
    for item in items {
        refuse_suffix(&item)?;
        match item {
            Lit::Str(text) => strings.push(text.value()),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    format!(
                        "expected string literals in the array of `{key}`, such as [\"*.map\"]"
                    ),
                ))
            }
        }
    }
    Ok(MacroOption {
        call_option: CallOption {
            key: key.to_string(),
            value: ConfigValue::Strings(strings),
        },
        key_span: key.span(),
        value_span: bracket.span.join(),
    })
}

/// Parses `name = value, …` (with an optional trailing comma) until the end of the input;
/// `takes` says what the macro accepts, for the error on a stray literal.
fn parse_options(input: ParseStream, takes: &str) -> syn::Result<Vec<MacroOption>> {
    let mut options = Vec::new();
    while !input.is_empty() {
        if input.peek(Lit) {
            return Err(input.error(format!("unexpected extra argument: {takes}")));
        }
        options.push(input.parse()?);
        if input.is_empty() {
            break;
        }
        expect_comma(input)?;
    }
    Ok(options)
}

/// A literal with a suffix (`"a.css"foo`, `8u8`) is refused: the suffix would be silently
/// dropped, and rustc itself refuses suffixed string literals.
fn refuse_suffix(literal: &Lit) -> syn::Result<()> {
    let suffix = literal.suffix();
    if suffix.is_empty() {
        return Ok(());
    }
    Err(syn::Error::new(
        literal.span(),
        format!("unexpected suffix `{suffix}` on this literal: write the value alone"),
    ))
}

fn expect_comma(input: ParseStream) -> syn::Result<()> {
    input
        .parse::<Token![,]>()
        .map(drop)
        .map_err(|error| syn::Error::new(error.span(), "expected `,` between arguments"))
}

/// A path literal, then options.
struct PathArguments {
    path: LitStr,
    options: Vec<MacroOption>,
}

impl PathArguments {
    fn parse(input: ParseStream, macro_name: &str) -> syn::Result<Self> {
        // Messages are formatted only on the error path: this runs for every call.
        let expected = || {
            format!(
                "expected a string literal with the path of a static file, such as \
                 {macro_name}!(\"css/app.css\")"
            )
        };
        if input.is_empty() {
            return Err(syn::Error::new(Span::call_site(), expected()));
        }
        let path = match input.parse::<Lit>() {
            Ok(Lit::Str(path)) if path.suffix().is_empty() => path,
            Ok(literal @ Lit::Str(_)) => return Err(refuse_suffix(&literal).unwrap_err()),
            Ok(Lit::ByteStr(bytes)) => {
                return Err(syn::Error::new(
                    bytes.span(),
                    "expected a string literal, found a byte string: write the path without the `b` prefix",
                ))
            }
            Ok(other) => return Err(syn::Error::new(other.span(), expected())),
            Err(error) => {
                return Err(syn::Error::new(
                    error.span(),
                    format!(
                        "{}; the path must be a literal because it is resolved at compile time",
                        expected()
                    ),
                ))
            }
        };
        if input.is_empty() {
            return Ok(PathArguments {
                path,
                options: Vec::new(),
            });
        }
        expect_comma(input)?;
        let takes = format!("{macro_name}! takes one path, then options as `name = value`");
        Ok(PathArguments {
            path,
            options: parse_options(input, &takes)?,
        })
    }
}

struct TagArguments {
    options: Vec<MacroOption>,
}

impl Parse for TagArguments {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Ok(TagArguments {
            options: parse_options(
                input,
                "cdntag! takes no path, only options such as cdntag!(tag_length = 8)",
            )?,
        })
    }
}

/// The tokens of an expansion, or the compile error at the argument at fault: the option
/// named by the error if it is a macro option, else `argument_span` (the path).
fn emit(
    result: Result<MacroOutput, Error>,
    argument_span: Span,
    options: &[MacroOption],
) -> TokenStream {
    let output = match result {
        Ok(output) => output,
        // The first call shows the error; the crate does not compile either way.
        Err(Error::ReportedAtAnotherCall) => {
            return TokenTree::Literal(proc_macro::Literal::string("")).into();
        }
        Err(error) => return compile_error(&error, argument_span, options).into(),
    };
    // Most calls: the crate's first call already emitted the tracking (see
    // `cachekiller_core::__private::tracking`), and a bare literal is all rustc has to handle.
    if output.tracking.is_empty() && output.warnings.is_empty() {
        return TokenTree::Literal(proc_macro::Literal::string(&output.value)).into();
    }
    let value = LitStr::new(&output.value, Span::call_site());
    with_tracking(
        &output.tracking,
        &output.warnings,
        argument_span,
        &quote!(#value),
    )
    .unwrap_or_else(|error| compile_error(&error, argument_span, options))
    .into()
}

/// `{ <tracking items> <warnings> <value> }`: the tracking makes cargo rebuild the crate when
/// what the value was read from changes; each warning is shown at `span` by the compiler (a
/// proc macro has no warnings of its own on stable Rust: the use of a deprecated constant
/// whose note is the message is one).
fn with_tracking(
    tracking: &Tracking,
    warnings: &[String],
    span: Span,
    value: &TokenStream2,
) -> Result<TokenStream2, Error> {
    let tracked_files = tracking.file_strings()?;
    let tracked_environment = &tracking.environment;
    // Each in a block of its own: two warnings of one expansion would otherwise define the
    // constant twice.
    let warnings = warnings.iter().map(|warning| {
        quote::quote_spanned! {span=>
            {
                #[deprecated(note = #warning)]
                #[allow(non_upper_case_globals)]
                const cachekiller_warning: () = ();
                let () = cachekiller_warning;
            }
        }
    });
    // rustc records these in the crate's dep-info, so cargo rebuilds it when the repository's
    // HEAD moves, a hashed file or a manifest changes, or one of these variables changes. The
    // files are included in the body of a function nobody calls, not as constants: a constant
    // is evaluated and validated byte by byte, which for a 50 MiB file took rustc 800 MiB more
    // (120 MiB this way; the `memory` benchmark).
    let tracked_files = (!tracked_files.is_empty()).then(|| {
        quote! {
            #[allow(dead_code)]
            fn cachekiller_tracked_files() {
                #(let _ = ::core::include_bytes!(#tracked_files);)*
            }
        }
    });
    Ok(quote! {
        {
            #tracked_files
            #(const _: ::core::option::Option<&str> = ::core::option_env!(#tracked_environment);)*
            #(#warnings)*
            #value
        }
    })
}

/// The settings a static file server needs to check the tags of the URLs this crate's
/// `cdnstatic!` calls make, as a `cachekiller_core::SiteSettings` (the crate must
/// depend on `cachekiller-core` with its `service` feature): the query parameter, the
/// revision tag and whether it names a version of the files (not a build date), the content
/// hash length, the static dirs in order, and whether this is a release build. Read from the
/// same configuration and tag as `cdnstatic!`, so a change of `tag_in`, `mode`, `param` or
/// `static_dirs` in the manifest needs no change in the server's code.
///
/// ```ignore
/// let static_files = cachekiller_core::service::StaticFiles::new(
///     concat!(env!("CARGO_MANIFEST_DIR"), "/static"),
///     cdnsettings!(),
/// )?;
/// ```
#[proc_macro]
pub fn cdnsettings(input: TokenStream) -> TokenStream {
    if let Some(token) = input.into_iter().next() {
        return syn::Error::new(
            token.span().into(),
            "cdnsettings! takes no arguments: it reads the crate's configuration",
        )
        .to_compile_error()
        .into();
    }
    let output = match manifest_dir().and_then(|manifest_dir| expand_site_settings(&manifest_dir)) {
        Ok(output) => output,
        // The first call shows the error; the crate does not compile either way.
        Err(Error::ReportedAtAnotherCall) => {
            return quote!(::cachekiller_core::SiteSettings::new("", "", 0)).into();
        }
        Err(error) => return compile_error(&error, Span::call_site(), &[]).into(),
    };
    let mut settings: TokenStream2 = match output.rust_expression().parse() {
        Ok(settings) => settings,
        Err(error) => {
            let message = format!("cachekiller: cdnsettings! made an invalid expression: {error}");
            return syn::Error::new(Span::call_site(), message)
                .to_compile_error()
                .into();
        }
    };
    // What the revision names, as one byte string: a token, however many files.
    let manifest = output.settings.revision_manifest_bytes();
    if !manifest.is_empty() {
        let manifest = proc_macro2::Literal::byte_string(manifest);
        settings = quote!(#settings.revision_manifest(#manifest));
    }
    with_tracking(
        &output.tracking,
        &output.warnings,
        Span::call_site(),
        &settings,
    )
    .unwrap_or_else(|error| compile_error(&error, Span::call_site(), &[]))
    .into()
}

/// The static files of the crate compiled into the binary, as a
/// `cachekiller_core::service::EmbeddedFiles` for `StaticFiles::embedded` (the crate must
/// depend on `cachekiller-core` with its `service` feature): every file of the static dirs
/// (`embed_include` and `embed_exclude` globs select, hidden files only with
/// `embed_hidden_files = true`, files above `embed_max_bytes` stay on disk with a build
/// warning), each as the exact bytes the build hashed (a stylesheet's rewrite) with its
/// Brotli and gzip variants, made once per version and kept under the target dir, all
/// brought in by `include_bytes!`.
///
/// Release builds carry them; debug builds read the static dirs (an edit is seen without a
/// rebuild) unless `embed = "always"`. Options in the call override the configuration:
/// `cdnembed!(embed = "always", embed_exclude = ["*.map"])`.
///
/// ```ignore
/// let static_files = cachekiller_core::service::StaticFiles::embedded(cdnembed!(), cdnsettings!())?;
/// ```
#[proc_macro]
pub fn cdnembed(input: TokenStream) -> TokenStream {
    let parser = |stream: ParseStream| {
        parse_options(
            stream,
            "cdnembed! takes no path, only options such as cdnembed!(embed = \"always\")",
        )
    };
    let options = match parser.parse(input) {
        Ok(options) => options,
        Err(error) => return error.to_compile_error().into(),
    };
    let call_options: Vec<CallOption> = options
        .iter()
        .map(|option| option.call_option.clone())
        .collect();
    let result = manifest_dir().and_then(|manifest_dir| {
        expand_embedded_files(
            &manifest_dir,
            &call_options,
            &EmbedBuild::of_this_compiler(),
        )
    });
    let output = match result {
        Ok(output) => output,
        Err(Error::ReportedAtAnotherCall) => {
            return quote!(::cachekiller_core::service::EmbeddedFiles::__new(
                &[],
                false,
                "",
                &[]
            ))
            .into();
        }
        Err(error) => return compile_error(&error, Span::call_site(), &options).into(),
    };
    embedded_files_tokens(&output)
        .and_then(|value| {
            with_tracking(
                &output.tracking,
                &output.warnings,
                Span::call_site(),
                &value,
            )
        })
        .unwrap_or_else(|error| compile_error(&error, Span::call_site(), &options))
        .into()
}

/// The table of `cdnembed!()`: in the builds that carry the files, one `EmbeddedFile` per
/// file with its bytes and variants by `include_bytes!` from the store; in the others, none.
fn embedded_files_tokens(output: &EmbedExpansion) -> Result<TokenStream2, Error> {
    let manifest_dir = output
        .manifest_dir
        .to_str()
        .ok_or_else(|| Error::NonUtf8Path {
            path: output.manifest_dir.clone(),
        })?;
    let left_on_disk = &output.left_on_disk;
    let utf8 = |path: &std::path::PathBuf| {
        path.to_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::NonUtf8Path { path: path.clone() })
    };
    let optional = |path: &Option<std::path::PathBuf>| -> Result<TokenStream2, Error> {
        if let Some(path) = path {
            let path = utf8(path)?;
            return Ok(quote!(::core::option::Option::Some(
                ::core::include_bytes!(#path)
            )));
        }
        Ok(quote!(::core::option::Option::None))
    };
    let table = match &output.files {
        None => None,
        Some(files) => {
            let mut entries = Vec::with_capacity(files.len());
            for file in files {
                let path = &file.path;
                let stored = utf8(&file.stored)?;
                let sha1 = proc_macro2::Literal::byte_string(&file.sha1);
                let git_blob = file.git_blob.as_deref().map_or_else(
                    || quote!(::core::option::Option::None),
                    |id| {
                        let id = proc_macro2::Literal::byte_string(id);
                        quote!(::core::option::Option::Some(#id))
                    },
                );
                let brotli = optional(&file.brotli)?;
                let gzip = optional(&file.gzip)?;
                let taggable = file.taggable;
                entries.push(quote! {
                    ::cachekiller_core::service::EmbeddedFile::__new(
                        #path,
                        ::core::include_bytes!(#stored),
                        *#sha1,
                        #git_blob,
                        #brotli,
                        #gzip,
                        #taggable,
                    )
                });
            }
            let count = entries.len();
            Some(
                quote!(static CACHEKILLER_EMBEDDED: [::cachekiller_core::service::EmbeddedFile; #count] = [#(#entries),*];),
            )
        }
    };
    let empty = quote!(
        static CACHEKILLER_EMBEDDED: [::cachekiller_core::service::EmbeddedFile; 0] = [];
    );
    let (items, carried) = match (output.profiles, table) {
        (EmbedProfiles::Always, Some(table)) => (table, quote!(true)),
        (EmbedProfiles::Release, Some(table)) => (
            quote! {
                #[cfg(not(debug_assertions))]
                #table
                #[cfg(debug_assertions)]
                #empty
            },
            quote!(!::core::cfg!(debug_assertions)),
        ),
        // Outside a compiler (rust-analyzer): nothing read.
        (_, None) if !output.in_compiler => (empty, quote!(false)),
        (EmbedProfiles::Release, None) => (
            quote! {
                #[cfg(debug_assertions)]
                #empty
                #[cfg(not(debug_assertions))]
                #empty
                #[cfg(not(debug_assertions))]
                ::core::compile_error!(
                    "cachekiller: cdnembed! read from rustc's command line that this build has \
                     debug assertions, but it has none, so it embedded nothing; please report \
                     this, and set `embed = \"always\"` meanwhile"
                );
            },
            quote!(false),
        ),
        (EmbedProfiles::Always, None) => (empty, quote!(false)),
    };
    Ok(quote! {
        {
            #items
            ::cachekiller_core::service::EmbeddedFiles::__new(
                &CACHEKILLER_EMBEDDED,
                #carried,
                #manifest_dir,
                &[#(#left_on_disk),*],
            )
        }
    })
}

fn compile_error(error: &Error, argument_span: Span, options: &[MacroOption]) -> TokenStream2 {
    let option_named = |key: &str, occurrence: usize| {
        options
            .iter()
            .filter(|option| option.call_option.key == key)
            .nth(occurrence)
    };
    let span = match error {
        // Blame the second one: the first was fine until it was repeated.
        Error::RepeatedConfigKey {
            key,
            origin: ConfigOrigin::MacroArgument,
        } => option_named(key, 1).map(|option| option.key_span),
        Error::InvalidConfigValue {
            key,
            origin: ConfigOrigin::MacroArgument,
            ..
        } => option_named(key, 0).map(|option| option.value_span),
        Error::UnknownConfigKey {
            key,
            origin: ConfigOrigin::MacroArgument,
            ..
        } => option_named(key, 0).map(|option| option.key_span),
        _ => None,
    }
    .unwrap_or(argument_span);
    syn::Error::new(span, error).to_compile_error()
}
