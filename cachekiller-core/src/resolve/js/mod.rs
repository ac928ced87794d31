//! The modules an ES module names, read from its source text: `import … from "x"`,
//! `import "x"`, `export … from "x"` and `import("x")`, each with its decoded specifier and
//! where it stands, so that an import map can be made at compile time.
//!
//! A lexer of our own rather than a JavaScript parser crate: it runs inside a proc macro, where
//! a whole parser would be most of the build, and the question is narrower than parsing. It
//! reads tokens (comments, strings, template literals, regular expressions, words, numbers,
//! punctuators) in one pass, keeps the open brackets on a stack of its own (a megabyte of
//! nested `${` cannot overflow the thread's stack), and reads each byte a bounded number of
//! times, lines and columns included: the time is linear in the source.
//!
//! Telling a regular expression from a division is the one thing a lexer of JavaScript cannot
//! know from the characters alone: `/` starts a regular expression where the grammar expects
//! an expression to start, and divides where a value has just ended. So the lexer keeps what
//! a parser would know there, as the tokenizers of Acorn and Babel do: the kind of the
//! previous significant token, and two explicit stacks (no recursion): the open brackets, each
//! with what it opened, and the `function` and `class` keywords still waiting for their body.
//!
//! - **A `/` divides after a value** and starts a regular expression anywhere else. A value
//!   ends with a name, a number, a string, a template, a regular expression, `]`, a postfix
//!   `++` or `--`, a `)` (but the `)` of the head of `if`, `for`, `for await`, `while`,
//!   `with`, `switch` or `catch`, after which a statement starts), and a `}` that closes an
//!   object literal or the body of a function or class *expression*. Keywords are no values:
//!   after `typeof`, `in`, `instanceof`, `new`, `delete`, `void`, `throw`, `await`,
//!   `extends`, `case`, `return`, `yield`, `else`, `do`, `break`, `continue`, `debugger`, a
//!   `/` starts a regular expression, and so does it after `of` between a binding and an
//!   expression in a `for` head (`for (const q of /["']/g.exec(s))`; elsewhere `of` is a
//!   name). A word after `.` or `?.`, a key of an object literal (`{ if: 1 }`) and a
//!   member's name in a class body (`static import() {}`) are names, never keywords.
//! - **A `}` ends a statement or a value, as its `{` decided.** A `{` opens a block where a
//!   statement may start: at the start of the module, after `;`, a block's `{` or `}`, a
//!   label's or a `case`'s or `default`'s `:`, `else`, `do`, `try`, `finally`, `=>`, a
//!   statement head's `)`, and after a value (no expression goes on with `{`, so a line break
//!   there ended the statement: `x = a⏎{ … }`). It opens an object literal where an
//!   expression starts (after an operator, `(`, `,`, `[`, `?`, a property's or a condition's
//!   `:`, `return` on the same line, `export default`). The `{` of a function's or class's
//!   body is the first `{` at the depth of brackets of its keyword, past parameters' defaults
//!   and an `extends` expression; the function is an expression where an expression starts
//!   (`x = function () {} / 2` divides) and a declaration elsewhere (`function f() {}⏎/re/`).
//! - **A `:` ends a label** after a name that starts a statement, **a `case`** after the
//!   `case` read in the same braces, once each condition's `?` read there has had its `:`
//!   (`case a ? b : c:`), and `default:`; any other `:` leaves an expression to come.
//! - **Line breaks count where JavaScript's grammar forbids one**: after `return` and `yield`
//!   (`return⏎{ … }` is a block), after `break` and `continue` (and their label), and before
//!   a postfix `++` or `--` (`a⏎++/re/.lastIndex` increments a property of a regular
//!   expression).
//!
//! Each rule is pinned by a unit test (`tests.rs`), and `tests/tests/module_lexer_oracle.rs`
//! compares the lexer with V8 on thousands of generated modules that put a `/` in every
//! position above. es-module-lexer (`src/lexer.c`), the lexer of es-module-shims and Vite,
//! whose rules this lexer followed before, refuses or misreads some of them: a regular
//! expression after a block opened after `case x:`, a label or a line without `;`, after
//! `extends`, after `export class X {}` and in `for await (… of /re/)`, and a division after
//! a function or class expression. Where else the two part (each pinned by a unit test):
//! - `export default /x/` and `...import("x")` read as JavaScript reads them;
//! - a hashbang line is a comment, and so is a byte order mark white space (es-module-lexer
//!   reads both as code);
//! - lines end at U+2028 and U+2029 too, and Unicode's spaces are white space
//!   (es-module-lexer knows only ASCII's and U+00A0);
//! - a comment without its `*/` is an error rather than the rest of the module;
//! - the argument of `import(…)` that is a template literal with a `${…}` is computed, as in
//!   es-module-lexer's minimal build (its full build reports a glob).
//!
//! `tests/tests/module_lexer_oracle.rs` also compares its output with es-module-lexer's and
//! with V8's module requests on every module of lit, Preact, htm, Stimulus and htmx and on the
//! traps of `tests/fixtures/js-modules`.
//!
//! Cut along its concerns: `lexer.rs` (tokens, the brackets and what a `/` or a `{` means),
//! `literals.rs` (a specifier's string value and its escapes), `errors.rs` (what can be wrong,
//! in words), `lines.rs` (byte offsets as lines and columns).

mod errors;
mod lexer;
mod lines;
mod literals;
#[cfg(test)]
mod tests;

pub use errors::{ModuleSyntaxError, ModuleSyntaxErrorKind};
use lexer::Lexer;

/// How a module names another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// An import declaration: `import x from "m"`, `import { a as b } from "m"`,
    /// `import * as ns from "m"`, `import "m"`, and the phases `import source x from "m"` and
    /// `import defer * as ns from "m"`.
    Static,
    /// A re-export: `export { a } from "m"`, `export * from "m"`, `export * as ns from "m"`.
    Export,
    /// A call `import("m")` (or `import.source("m")`, `import.defer("m")`) whose argument is
    /// one string literal, or one template literal without `${…}`, optionally followed by an
    /// options argument: `import("./data.json", { with: { type: "json" } })`.
    Dynamic,
}

/// A module named by another, as written in its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleImport {
    /// The specifier's string value: escapes such as `\u0041`, `\x41`, `\'` and line
    /// continuations resolved, as the browser resolves them before it looks at the import map.
    pub specifier: String,
    /// The statement or expression that names it.
    pub kind: ImportKind,
    /// The line of the specifier's opening quote, from 1. Lines end at `\n`, `\r\n`, `\r`,
    /// U+2028 and U+2029, as in JavaScript.
    pub line: u32,
    /// The column of the specifier's opening quote, from 1, in characters (Unicode scalar
    /// values) as rustc counts them; a byte order mark is not counted.
    pub column: u32,
}

/// Everything a module imports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleImports {
    /// The modules named by a literal specifier, in source order.
    pub imports: Vec<ModuleImport>,
    /// The lines of the `import` keyword of every `import(…)` whose argument is computed
    /// (`import(name)`, `import("./" + name)`, ``import(`./${name}.js`)``): no import map
    /// can be made for them at compile time, so they are reported rather than guessed.
    pub computed_dynamic_imports: Vec<u32>,
}

/// The modules `source`, the text of one ES module, imports and re-exports.
///
/// # Errors
///
/// A string, template literal, comment or regular expression without its end, an unbalanced
/// bracket (also in a template's `${…}`), an escape no specifier can hold, or an import or
/// export declaration without its specifier: [`ModuleSyntaxError`] says which and where.
///
/// ```
/// use cachekiller_core::__private::js::{module_imports, ImportKind};
///
/// let found = module_imports("import { html } from 'lit';\nconst page = import(`./${name}.js`);")?;
/// assert_eq!(found.imports[0].specifier, "lit");
/// assert_eq!(found.imports[0].kind, ImportKind::Static);
/// assert_eq!(found.computed_dynamic_imports, [2]);
/// # Ok::<(), cachekiller_core::__private::js::ModuleSyntaxError>(())
/// ```
pub fn module_imports(source: &str) -> Result<ModuleImports, ModuleSyntaxError> {
    let mut lexer = Lexer::new(source);
    match lexer.read_module() {
        Ok(()) => Ok(lexer.found),
        Err(failure) => {
            let (line, column) = lexer.lines.locate(failure.at);
            Err(ModuleSyntaxError {
                line,
                column,
                kind: failure.kind,
            })
        }
    }
}
