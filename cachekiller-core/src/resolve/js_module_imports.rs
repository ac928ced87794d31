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
//! Each rule is pinned by a unit test below, and `tests/tests/module_lexer_oracle.rs`
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

use std::fmt;

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

/// Source text a module cannot be lexed from, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSyntaxError {
    /// The line of the token at fault (the start of an unterminated one), from 1.
    pub line: u32,
    /// Its column, from 1, in characters.
    pub column: u32,
    /// What is wrong there.
    pub kind: ModuleSyntaxErrorKind,
}

/// What makes source text impossible to lex as a module.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModuleSyntaxErrorKind {
    /// A string literal without its closing quote on the same line.
    UnterminatedString,
    /// A template literal without its closing backtick.
    UnterminatedTemplate,
    /// A `/*` comment without its `*/`.
    UnterminatedComment,
    /// A regular expression literal without its closing `/` on the same line.
    UnterminatedRegularExpression,
    /// A bracket still open at the end of the module: `(`, `[`, `{` or the `${` of a template.
    UnclosedBracket {
        /// The bracket as written.
        opening: &'static str,
    },
    /// A closing bracket that matches no open one.
    UnmatchedClosingBracket {
        /// The closing bracket as written.
        closing: char,
        /// The innermost bracket still open there, if any.
        open: Option<&'static str>,
    },
    /// An escape sequence a specifier cannot hold: an octal escape (not allowed in modules), a
    /// `\x` without two hex digits, a `\u` without four or a code point in braces.
    InvalidEscape {
        /// The escape as written.
        escape: String,
    },
    /// A `\u` escape of half a surrogate pair without the other half: no string a specifier
    /// is made of can hold it.
    LoneSurrogate {
        /// The escape as written.
        escape: String,
    },
    /// An import or export declaration that does not end with `from` and a quoted specifier.
    MissingModuleSpecifier {
        /// `import` or `export`.
        declaration: &'static str,
    },
}

impl fmt::Display for ModuleSyntaxErrorKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModuleSyntaxErrorKind::UnterminatedString => formatter.write_str(
                "unterminated string literal: its closing quote is not on the same line (a line \
                 break inside a string is written `\\n`)",
            ),
            ModuleSyntaxErrorKind::UnterminatedTemplate => {
                formatter.write_str("unterminated template literal: no closing backtick")
            }
            ModuleSyntaxErrorKind::UnterminatedComment => {
                formatter.write_str("unterminated comment: no `*/` closes this `/*`")
            }
            ModuleSyntaxErrorKind::UnterminatedRegularExpression => formatter.write_str(
                "unterminated regular expression: this `/` stands where an expression starts (after \
                 `(`, `=`, an operator, `return`, …) and no `/` closes it on the same line",
            ),
            ModuleSyntaxErrorKind::UnclosedBracket { opening } => {
                write!(formatter, "`{opening}` is never closed")
            }
            ModuleSyntaxErrorKind::UnmatchedClosingBracket {
                closing,
                open: None,
            } => write!(formatter, "`{closing}` closes no open bracket"),
            ModuleSyntaxErrorKind::UnmatchedClosingBracket {
                closing,
                open: Some(open),
            } => write!(formatter, "`{closing}` cannot close the `{open}` still open"),
            ModuleSyntaxErrorKind::InvalidEscape { escape } => write!(
                formatter,
                "`{escape}` is not an escape sequence of a module specifier (modules allow no \
                 octal escapes; `\\x` takes two hex digits, `\\u` four or a code point in braces)"
            ),
            ModuleSyntaxErrorKind::LoneSurrogate { escape } => write!(
                formatter,
                "`{escape}` is half of a surrogate pair without its other half, which no module \
                 specifier can hold"
            ),
            ModuleSyntaxErrorKind::MissingModuleSpecifier { declaration } => write!(
                formatter,
                "this `{declaration}` declaration does not end with `from` and a quoted module \
                 specifier"
            ),
        }
    }
}

impl fmt::Display for ModuleSyntaxError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} (line {}, column {})",
            self.kind, self.line, self.column
        )
    }
}

impl std::error::Error for ModuleSyntaxError {}

/// The modules `source`, the text of one ES module, imports and re-exports.
///
/// # Errors
///
/// A string, template literal, comment or regular expression without its end, an unbalanced
/// bracket (also in a template's `${…}`), an escape no specifier can hold, or an import or
/// export declaration without its specifier: [`ModuleSyntaxError`] says which and where.
///
/// ```
/// use cachekiller_core::__private::js_module_imports::{module_imports, ImportKind};
///
/// let found = module_imports("import { html } from 'lit';\nconst page = import(`./${name}.js`);")?;
/// assert_eq!(found.imports[0].specifier, "lit");
/// assert_eq!(found.imports[0].kind, ImportKind::Static);
/// assert_eq!(found.computed_dynamic_imports, [2]);
/// # Ok::<(), cachekiller_core::__private::js_module_imports::ModuleSyntaxError>(())
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

/// A syntax error at a byte offset, located in lines and columns only when it is returned.
struct Failure {
    at: usize,
    kind: ModuleSyntaxErrorKind,
}

type Step<T = ()> = Result<T, Failure>;

/// What the last significant token leaves the lexer expecting: whether a `/` starts a regular
/// expression or divides, whether a `{` opens a block or an object literal, whether `function`
/// and `class` start a declaration or an expression, and whether a word may be a keyword, a
/// label or only a property name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Previous {
    /// A statement may start: the start of the module, `;`, the `{` or `}` of a block, the `:`
    /// of a label or a `case`, `else`, `do`, `try`, `finally`, the `)` of `if (…)` and its
    /// kin, the end of an import or export declaration, a line break after `return`.
    StatementStart,
    /// An expression starts: an operator, `(`, `[`, `,`, `?`, the `:` of a property or a
    /// condition, `${`, and the keywords that take an operand (`typeof`, `in`, `of` in a
    /// `for` head, `case`, `return` on the same line, `extends`, …).
    ExpressionStart,
    /// A value ended: a name, a number, a string, a template, a regular expression, `]`, a `)`
    /// other than a statement head's, a postfix `++` or `--`, and the `}` of an object literal
    /// or of a function or class expression.
    Operand,
    /// A name that starts a statement: a value, or a label when a `:` follows.
    StatementName,
    /// The `)` of an `import(…)` with a computed argument: a value, unless a `{` follows on
    /// the same line, which makes the whole a method named `import` and no call.
    ComputedImportEnd,
    /// `.` and `?.`: the next word names a property (`a.import(…)`, `a.return`), never a
    /// keyword.
    MemberAccess,
    /// The `{` of an object literal or a `,` in one, the `{` of a class body or a `;` or a
    /// method's `}` in one, and `static`, `async`, `get`, `set` or `*` there: the next word
    /// names a property or a member (`{ if: 1, default: 2 }`, `class { static import() {} }`),
    /// never a keyword or a label.
    PropertyName,
    /// `if`, `for` (and `for await`), `while`, `with`, `switch`, `catch`: their `(…)` is a
    /// statement's head, after which a statement starts.
    StatementKeyword,
    /// `return`, `yield`: an expression follows on the same line; after a line break the
    /// statement has ended (automatic semicolon insertion).
    ReturnOrYield,
    /// `break`, `continue`: a label may follow on the same line; then the statement ends.
    BreakOrContinue,
    /// `=>`: a `{` opens the function's body, anything else starts its expression.
    Arrow,
    /// `default` in a `switch`: a `:` follows, after which statements start.
    SwitchDefault,
    /// A top-level `export` that names no module: a declaration follows, or `default`.
    Export,
    /// `export default`: an expression (where `{` opens an object literal) or a function or
    /// class declaration.
    ExportDefault,
}

impl Previous {
    /// The previous token was the end of a value, after which `/` divides.
    fn ends_value(self) -> bool {
        matches!(
            self,
            Previous::Operand | Previous::StatementName | Previous::ComputedImportEnd
        )
    }

    /// What the restricted productions make of a line break (`return⏎`, `break⏎`): the
    /// statement ends there.
    fn settled(self, line_break_before: bool) -> Previous {
        match self {
            Previous::ReturnOrYield | Previous::BreakOrContinue if line_break_before => {
                Previous::StatementStart
            }
            Previous::ReturnOrYield => Previous::ExpressionStart,
            other => other,
        }
    }

    /// A `{` after it opens an object literal rather than a block.
    fn brace_opens_object(self) -> bool {
        matches!(
            self,
            Previous::ExpressionStart
                | Previous::ExportDefault
                | Previous::PropertyName
                | Previous::MemberAccess
        )
    }

    /// A `function` or `class` after it is an expression rather than a declaration.
    fn function_is_expression(self) -> bool {
        matches!(self, Previous::ExpressionStart | Previous::Arrow)
    }
}

/// What a `{` opened, and so what its `}` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BraceKind {
    /// A block: a statement's, a method's or an arrow function's body. A statement starts
    /// after its `}`.
    Block,
    /// An object literal or pattern: its `}` ends a value.
    Object,
    /// The body of a function: its `}` ends a value if the function is an expression
    /// (`x = function () {} / 2`), a statement if it is a declaration.
    FunctionBody { of_expression: bool },
    /// The body of a class, the same; inside, member names (`import() {}`, `static if = 1`)
    /// are no keywords.
    ClassBody { of_expression: bool },
}

/// An open bracket, and what its closing one needs to know.
#[derive(Debug, Clone, Copy)]
enum Bracket {
    Paren {
        at: usize,
        /// It is the head of `if`, `for`, `while`, `with`, `switch` or `catch`.
        statement_head: bool,
        /// It is the argument list of an `import(…)` with a computed argument: the line of its
        /// `import`.
        computed_import_line: Option<u32>,
    },
    Square {
        at: usize,
    },
    Brace {
        at: usize,
        kind: BraceKind,
        /// Conditions (`a ? b : c`) whose `?` was read directly inside and whose `:` was not
        /// yet: the next `:` is theirs, not a `case`'s.
        open_conditions: u32,
        /// A `case` was read directly inside (a `switch` body) and its `:` not yet.
        awaiting_case_colon: bool,
    },
    /// The `${` of a template literal: its `}` resumes the template.
    Substitution {
        at: usize,
        /// The template's opening backtick, where an unterminated template is reported.
        template_at: usize,
    },
}

impl Bracket {
    fn at(self) -> usize {
        match self {
            Bracket::Paren { at, .. }
            | Bracket::Square { at }
            | Bracket::Brace { at, .. }
            | Bracket::Substitution { at, .. } => at,
        }
    }

    fn opening(self) -> &'static str {
        match self {
            Bracket::Paren { .. } => "(",
            Bracket::Square { .. } => "[",
            Bracket::Brace { .. } => "{",
            Bracket::Substitution { .. } => "${",
        }
    }
}

/// A `function` or `class` keyword whose body's `{` is still to come: the first `{` at the
/// same depth of brackets (past parameters' defaults and an `extends` expression, which hold
/// brackets of their own).
#[derive(Debug, Clone, Copy)]
struct PendingBody {
    /// The number of brackets open at the keyword.
    depth: usize,
    of_expression: bool,
    class: bool,
}

/// How a piece of a template literal ends.
enum TemplateChunkEnd {
    Backtick,
    Substitution,
}

struct Lexer<'s> {
    source: &'s str,
    bytes: &'s [u8],
    position: usize,
    previous: Previous,
    brackets: Vec<Bracket>,
    /// The `function` and `class` keywords waiting for their body, innermost last.
    pending_bodies: Vec<PendingBody>,
    lines: LineLocator<'s>,
    found: ModuleImports,
}

impl<'s> Lexer<'s> {
    fn new(source: &'s str) -> Self {
        Lexer {
            source,
            bytes: source.as_bytes(),
            position: 0,
            previous: Previous::StatementStart,
            brackets: Vec::new(),
            pending_bodies: Vec::new(),
            lines: LineLocator::new(source.as_bytes()),
            found: ModuleImports::default(),
        }
    }

    fn read_module(&mut self) -> Step {
        // A hashbang is a comment only at the very start of the source text, which a byte
        // order mark (dropped by the decoder) does not belong to.
        let start = if self.source.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        self.position = if self.source[start..].starts_with("#!") {
            self.line_comment_end(start + 2)
        } else {
            start
        };
        loop {
            let trivia_start = self.position;
            self.position = self.skip_trivia(self.position)?;
            let Some(&byte) = self.bytes.get(self.position) else {
                break;
            };
            let start = self.position;
            let line_break_before = self.line_break_between(trivia_start, start);
            self.previous = self.previous.settled(line_break_before);
            match byte {
                b'"' | b'\'' => {
                    self.position = self.string_end(start)?;
                    self.previous = Previous::Operand;
                }
                b'`' => self.template(start, start + 1)?,
                b'/' => {
                    if self.previous.ends_value() {
                        self.punctuator(1, Previous::ExpressionStart);
                    } else {
                        self.position = self.regex_end(start)?;
                        self.previous = Previous::Operand;
                    }
                }
                b'(' => {
                    self.brackets.push(Bracket::Paren {
                        at: start,
                        statement_head: self.previous == Previous::StatementKeyword,
                        computed_import_line: None,
                    });
                    self.punctuator(1, Previous::ExpressionStart);
                }
                b')' => self.close_paren(start)?,
                b'[' => {
                    self.brackets.push(Bracket::Square { at: start });
                    self.punctuator(1, Previous::ExpressionStart);
                }
                b']' => match self.brackets.pop() {
                    Some(Bracket::Square { .. }) => {
                        self.drop_pending_bodies_deeper_than(self.brackets.len());
                        self.punctuator(1, Previous::Operand);
                    }
                    open => return Err(unmatched(start, ']', open)),
                },
                b'{' => self.open_brace(start, line_break_before),
                // A generator method: `{ *items() {} }`.
                b'*' if self.previous == Previous::PropertyName => {
                    self.punctuator(1, Previous::PropertyName);
                }
                b'}' => self.close_brace(start)?,
                b'.' => match self.bytes.get(start + 1) {
                    Some(b'0'..=b'9') => {
                        self.position = self.number_end(start + 1);
                        self.previous = Previous::Operand;
                    }
                    Some(b'.') if self.bytes.get(start + 2) == Some(&b'.') => {
                        self.punctuator(3, Previous::ExpressionStart);
                    }
                    _ => self.punctuator(1, Previous::MemberAccess),
                },
                b'?' => self.question_mark(start),
                b':' => self.colon(),
                b',' => self.comma(),
                b'+' | b'-' if self.bytes.get(start + 1) == Some(&byte) => {
                    self.increment_or_decrement(line_break_before);
                }
                b'=' if self.bytes.get(start + 1) == Some(&b'>') => {
                    self.punctuator(2, Previous::Arrow);
                }
                b';' => self.semicolon(),
                b'0'..=b'9' => {
                    self.position = self.number_end(start);
                    self.previous = Previous::Operand;
                }
                _ if is_word_start(byte) => self.word(start)?,
                _ => self.punctuator(1, Previous::ExpressionStart),
            }
        }
        match self.brackets.last() {
            Some(&open) => Err(Failure {
                at: open.at(),
                kind: ModuleSyntaxErrorKind::UnclosedBracket {
                    opening: open.opening(),
                },
            }),
            None => Ok(()),
        }
    }

    fn punctuator(&mut self, length: usize, previous: Previous) {
        self.position += length;
        self.previous = previous;
    }

    /// A line terminator in the white space and comments `from..to` (a `/* … */` over lines
    /// counts, as it does for automatic semicolon insertion).
    fn line_break_between(&self, from: usize, to: usize) -> bool {
        let trivia = &self.bytes[from..to];
        trivia.iter().enumerate().any(|(offset, &byte)| match byte {
            b'\n' | b'\r' => true,
            0xE2 => is_line_separator(&trivia[offset..]),
            _ => false,
        })
    }

    /// Forgets the `function` and `class` keywords read inside brackets now closed, which had
    /// no body there (a property named `class` in a class body, say).
    fn drop_pending_bodies_deeper_than(&mut self, depth: usize) {
        while self
            .pending_bodies
            .last()
            .is_some_and(|pending| pending.depth > depth)
        {
            self.pending_bodies.pop();
        }
    }

    /// `?`, `??` or `?.`.
    fn question_mark(&mut self, at: usize) {
        match self.bytes.get(at + 1) {
            // `??` (and `??=`, whose `=` reads next).
            Some(b'?') => self.punctuator(2, Previous::ExpressionStart),
            // `?.` is optional chaining unless a digit follows (`a ?.5 : b`).
            Some(b'.') if !self.bytes.get(at + 2).is_some_and(u8::is_ascii_digit) => {
                self.punctuator(2, Previous::MemberAccess);
            }
            _ => {
                if let Some(Bracket::Brace {
                    open_conditions, ..
                }) = self.brackets.last_mut()
                {
                    *open_conditions += 1;
                }
                self.punctuator(1, Previous::ExpressionStart);
            }
        }
    }

    /// A `,` in an object literal comes before a property name.
    fn comma(&mut self) {
        let in_object = matches!(
            self.brackets.last(),
            Some(Bracket::Brace {
                kind: BraceKind::Object,
                ..
            })
        );
        self.punctuator(
            1,
            if in_object {
                Previous::PropertyName
            } else {
                Previous::ExpressionStart
            },
        );
    }

    /// `++` or `--`: postfix after a value on the same line; after a line break, the prefix of
    /// the next statement (`a⏎++b`).
    fn increment_or_decrement(&mut self, line_break_before: bool) {
        let postfix = self.previous.ends_value() && !line_break_before;
        self.punctuator(
            2,
            if postfix {
                Previous::Operand
            } else {
                Previous::ExpressionStart
            },
        );
    }

    fn semicolon(&mut self) {
        // Nothing waits for a body past the end of a statement (a class field named `class`).
        let depth = self.brackets.len();
        while self
            .pending_bodies
            .last()
            .is_some_and(|pending| pending.depth >= depth)
        {
            self.pending_bodies.pop();
        }
        // The `;` of a `for (…;…;…)` head ends no statement; in a class body, a member.
        let previous = match self.brackets.last() {
            Some(Bracket::Paren { .. }) => Previous::ExpressionStart,
            _ if self.in_class_body() => Previous::PropertyName,
            _ => Previous::StatementStart,
        };
        self.punctuator(1, previous);
    }

    /// A `:` ends a label (`outer:`), a `case …:` or `default:`, after which statements
    /// start; or a condition's `? … :` or a property's name, after which an expression does.
    fn colon(&mut self) {
        let previous = match (self.previous, self.brackets.last_mut()) {
            (Previous::StatementName | Previous::SwitchDefault, _) => Previous::StatementStart,
            (
                _,
                Some(Bracket::Brace {
                    open_conditions,
                    awaiting_case_colon,
                    ..
                }),
            ) => {
                if *open_conditions > 0 {
                    *open_conditions -= 1;
                    Previous::ExpressionStart
                } else if *awaiting_case_colon {
                    *awaiting_case_colon = false;
                    Previous::StatementStart
                } else {
                    Previous::ExpressionStart
                }
            }
            _ => Previous::ExpressionStart,
        };
        self.punctuator(1, previous);
    }

    fn close_paren(&mut self, at: usize) -> Step {
        let Some(Bracket::Paren {
            statement_head,
            computed_import_line,
            ..
        }) = self.brackets.pop()
        else {
            return Err(unmatched(at, ')', self.brackets.last().copied()));
        };
        self.drop_pending_bodies_deeper_than(self.brackets.len());
        let previous = if let Some(line) = computed_import_line {
            self.found.computed_dynamic_imports.push(line);
            Previous::ComputedImportEnd
        } else if statement_head {
            Previous::StatementStart
        } else {
            Previous::Operand
        };
        self.punctuator(1, previous);
        Ok(())
    }

    fn open_brace(&mut self, at: usize, line_break_before: bool) {
        if self.previous == Previous::ComputedImportEnd && !line_break_before {
            // `import(name) {` is no call (a call and a block need a line break between
            // them) but a method named `import` whose name was not read as one (after a class
            // field without `;`), pushed by its `)` just before.
            self.found.computed_dynamic_imports.pop();
        }
        let depth = self.brackets.len();
        let kind = match self.pending_bodies.last() {
            Some(&PendingBody {
                depth: pending_depth,
                of_expression,
                class,
            }) if pending_depth == depth => {
                self.pending_bodies.pop();
                if class {
                    BraceKind::ClassBody { of_expression }
                } else {
                    BraceKind::FunctionBody { of_expression }
                }
            }
            _ if self.previous.brace_opens_object() => BraceKind::Object,
            _ => BraceKind::Block,
        };
        self.brackets.push(Bracket::Brace {
            at,
            kind,
            open_conditions: 0,
            awaiting_case_colon: false,
        });
        self.punctuator(
            1,
            match kind {
                BraceKind::Object | BraceKind::ClassBody { .. } => Previous::PropertyName,
                BraceKind::Block | BraceKind::FunctionBody { .. } => Previous::StatementStart,
            },
        );
    }

    /// The innermost bracket is the body of a class: the next word names a member.
    fn in_class_body(&self) -> bool {
        matches!(
            self.brackets.last(),
            Some(Bracket::Brace {
                kind: BraceKind::ClassBody { .. },
                ..
            })
        )
    }

    fn close_brace(&mut self, at: usize) -> Step {
        match self.brackets.pop() {
            Some(Bracket::Brace { kind, .. }) => {
                self.drop_pending_bodies_deeper_than(self.brackets.len());
                let previous = match kind {
                    // A method's body or a static block, in a class body.
                    _ if self.in_class_body() => Previous::PropertyName,
                    BraceKind::Object
                    | BraceKind::FunctionBody {
                        of_expression: true,
                    }
                    | BraceKind::ClassBody {
                        of_expression: true,
                    } => Previous::Operand,
                    BraceKind::Block
                    | BraceKind::FunctionBody {
                        of_expression: false,
                    }
                    | BraceKind::ClassBody {
                        of_expression: false,
                    } => Previous::StatementStart,
                };
                self.punctuator(1, previous);
                Ok(())
            }
            Some(Bracket::Substitution { template_at, .. }) => self.template(template_at, at + 1),
            open => {
                if let Some(open) = open {
                    self.brackets.push(open);
                }
                Err(unmatched(at, '}', open))
            }
        }
    }

    /// Reads a template literal from `from`, just after its backtick or the `}` of a
    /// substitution, to its end or its next `${`.
    fn template(&mut self, template_at: usize, from: usize) -> Step {
        let (end, ends_with) = self.template_chunk_end(template_at, from)?;
        self.position = end;
        match ends_with {
            TemplateChunkEnd::Backtick => self.previous = Previous::Operand,
            TemplateChunkEnd::Substitution => {
                self.brackets.push(Bracket::Substitution {
                    at: end - 2,
                    template_at,
                });
                self.previous = Previous::ExpressionStart;
            }
        }
        Ok(())
    }

    fn word(&mut self, start: usize) -> Step {
        let end = self.word_end(start);
        self.position = end;
        if self.previous == Previous::MemberAccess {
            // `a.import("x")`, `a?.export`, `a.return / 2`: property names.
            self.previous = Previous::Operand;
            return Ok(());
        }
        let word = &self.source[start..end];
        if self.previous == Previous::PropertyName {
            // `{ import() {} }`, `{ if: 1 }`, `class { static import = 1 }`: a modifier
            // followed by a name leaves a name to come.
            let modifier = matches!(word, "static" | "async" | "get" | "set" | "accessor");
            if !modifier || !self.name_follows(end)? {
                self.previous = Previous::Operand;
            }
            return Ok(());
        }
        match word {
            "import" => return self.import_keyword(start, end),
            // Declarations stand at the top level only, as es-module-lexer requires; inside
            // brackets `export` is a property name.
            "export" if self.brackets.is_empty() => return self.export_keyword(start, end),
            _ => {}
        }
        self.previous = match word {
            "if" | "for" | "while" | "with" | "switch" | "catch" => Previous::StatementKeyword,
            // `for await (…)`.
            "await" if self.previous == Previous::StatementKeyword => Previous::StatementKeyword,
            "else" | "do" | "try" | "finally" | "debugger" => Previous::StatementStart,
            "return" | "yield" => Previous::ReturnOrYield,
            "break" | "continue" => Previous::BreakOrContinue,
            "case" => {
                if let Some(Bracket::Brace {
                    awaiting_case_colon,
                    ..
                }) = self.brackets.last_mut()
                {
                    *awaiting_case_colon = true;
                }
                Previous::ExpressionStart
            }
            "default" if self.previous == Previous::Export => Previous::ExportDefault,
            "default" => Previous::SwitchDefault,
            "function" | "class" => {
                self.pending_bodies.push(PendingBody {
                    depth: self.brackets.len(),
                    of_expression: self.previous.function_is_expression(),
                    class: word == "class",
                });
                Previous::Operand
            }
            "async" => {
                // `async function` is a declaration or an expression as `function` alone
                // would be there.
                let next = self.skip_trivia(end)?;
                if self.word_at(next) == "function" && !self.line_break_between(end, next) {
                    return Ok(());
                }
                self.name_previous()
            }
            // `of` is a keyword only between a binding and an expression in a `for` head.
            "of" if self.previous.ends_value()
                && matches!(
                    self.brackets.last(),
                    Some(Bracket::Paren {
                        statement_head: true,
                        ..
                    })
                ) =>
            {
                Previous::ExpressionStart
            }
            "await" | "delete" | "extends" | "in" | "instanceof" | "new" | "throw" | "typeof"
            | "void" | "let" | "const" | "var" => Previous::ExpressionStart,
            // The label of `break label` or `continue label`, which ends the statement.
            _ if self.previous == Previous::BreakOrContinue => Previous::StatementStart,
            _ => self.name_previous(),
        };
        Ok(())
    }

    /// A member's name (or a `*` before it) is the next token after `at`.
    fn name_follows(&self, at: usize) -> Step<bool> {
        let next = self.skip_trivia(at)?;
        Ok(self.bytes.get(next).is_some_and(|&byte| {
            is_word_start(byte) || matches!(byte, b'*' | b'[' | b'"' | b'\'' | b'0'..=b'9')
        }))
    }

    /// A name ends a value, and may be a label at the start of a statement: where a statement
    /// may start, or after a value (no expression goes on with a name: `a⏎label: {}` is two
    /// statements).
    fn name_previous(&self) -> Previous {
        if self.previous == Previous::StatementStart || self.previous.ends_value() {
            Previous::StatementName
        } else {
            Previous::Operand
        }
    }

    /// After the keyword `import` (`start..end`): a call, `import.meta`, a declaration, or a
    /// property named `import` (`{ import: 1 }`, a class field).
    fn import_keyword(&mut self, start: usize, end: usize) -> Step {
        let next = self.skip_trivia(end)?;
        match self.bytes.get(next) {
            Some(b'(') => self.import_call(start, next),
            Some(b'.') => {
                let name_start = self.skip_trivia(next + 1)?;
                let name_end = self.word_end(name_start);
                if matches!(&self.source[name_start..name_end], "source" | "defer") {
                    let paren = self.skip_trivia(name_end)?;
                    if self.bytes.get(paren) == Some(&b'(') {
                        return self.import_call(start, paren);
                    }
                }
                // `import.meta`: the main loop reads `.meta` as a property.
                self.previous = Previous::Operand;
                Ok(())
            }
            _ if self.brackets.is_empty() => self.import_declaration(start, next),
            _ => {
                self.previous = Previous::Operand;
                Ok(())
            }
        }
    }

    /// `import(` (or `import.source(`, `import.defer(`) with its `(` at `paren`: a literal
    /// argument is recorded now; a computed one when its `)` shows that it is not a method.
    fn import_call(&mut self, import_at: usize, paren: usize) -> Step {
        let argument = self.skip_trivia(paren + 1)?;
        let literal_end = match self.bytes.get(argument) {
            Some(b'"' | b'\'') => Some(self.string_end(argument)?),
            Some(b'`') => match self.template_chunk_end(argument, argument + 1)? {
                (end, TemplateChunkEnd::Backtick) => Some(end),
                (_, TemplateChunkEnd::Substitution) => None,
            },
            _ => None,
        };
        let literal_end = match literal_end {
            Some(end) if matches!(self.bytes.get(self.skip_trivia(end)?), Some(b')' | b',')) => end,
            _ => {
                // Computed: the main loop reads the argument, from its first token.
                let line = self.lines.locate(import_at).0;
                self.brackets.push(Bracket::Paren {
                    at: paren,
                    statement_head: false,
                    computed_import_line: Some(line),
                });
                self.position = paren + 1;
                self.previous = Previous::ExpressionStart;
                return Ok(());
            }
        };
        let specifier = self.literal_value(argument, literal_end)?;
        self.record(specifier, ImportKind::Dynamic, argument);
        self.brackets.push(Bracket::Paren {
            at: paren,
            statement_head: false,
            computed_import_line: None,
        });
        self.position = literal_end;
        self.previous = Previous::Operand;
        Ok(())
    }

    /// An import declaration, from the first token after `import`: `"m"`, or a clause
    /// (`x`, `{ a as b }`, `* as ns`, `source x`, `defer * as ns`, …) then `from "m"`.
    fn import_declaration(&mut self, import_at: usize, mut at: usize) -> Step {
        let mut inside_braces = false;
        // True at the start (`import "m"`) and after `from`.
        let mut specifier_may_follow = true;
        loop {
            at = self.skip_trivia(at)?;
            match self.bytes.get(at) {
                Some(b'"' | b'\'') => {
                    let end = self.string_end(at)?;
                    if !inside_braces {
                        if !specifier_may_follow {
                            break;
                        }
                        let specifier = self.literal_value(at, end)?;
                        self.record(specifier, ImportKind::Static, at);
                        self.position = end;
                        self.previous = Previous::StatementStart;
                        return Ok(());
                    }
                    // A quoted export name: `import { "a-b" as ab } from "m"`.
                    at = end;
                }
                Some(b'{') if !inside_braces => {
                    inside_braces = true;
                    specifier_may_follow = false;
                    at += 1;
                }
                Some(b'}') if inside_braces => {
                    inside_braces = false;
                    at += 1;
                }
                Some(b',' | b'*') => {
                    specifier_may_follow = false;
                    at += 1;
                }
                Some(&byte) if is_word_start(byte) => {
                    let end = self.word_end(at);
                    // `import from from "m"` imports a binding named `from`.
                    specifier_may_follow = !inside_braces && &self.source[at..end] == "from";
                    at = end;
                }
                _ => break,
            }
        }
        Err(Failure {
            at: import_at,
            kind: ModuleSyntaxErrorKind::MissingModuleSpecifier {
                declaration: "import",
            },
        })
    }

    /// After a top-level `export`: `* from "m"`, `* as ns from "m"`, `{ … } from "m"` are
    /// recorded; `{ … }` alone, `default`, `const`, `function`, `class` are left to the main
    /// loop.
    fn export_keyword(&mut self, export_at: usize, end: usize) -> Step {
        let missing_specifier = Failure {
            at: export_at,
            kind: ModuleSyntaxErrorKind::MissingModuleSpecifier {
                declaration: "export",
            },
        };
        let next = self.skip_trivia(end)?;
        let mut at = match self.bytes.get(next) {
            Some(b'*') => {
                let mut at = self.skip_trivia(next + 1)?;
                if self.word_at(at) == "as" {
                    let name = self.skip_trivia(at + 2)?;
                    at = match self.bytes.get(name) {
                        Some(b'"' | b'\'') => self.string_end(name)?,
                        _ => self.word_end(name),
                    };
                }
                at
            }
            Some(b'{') => {
                let mut at = next + 1;
                loop {
                    at = self.skip_trivia(at)?;
                    match self.bytes.get(at) {
                        Some(b'}') => break at + 1,
                        Some(b'"' | b'\'') => at = self.string_end(at)?,
                        Some(b',') => at += 1,
                        Some(&byte) if is_word_start(byte) => at = self.word_end(at),
                        _ => return Err(missing_specifier),
                    }
                }
            }
            _ => {
                self.previous = Previous::Export;
                return Ok(());
            }
        };
        let closing = at;
        at = self.skip_trivia(at)?;
        if self.word_at(at) != "from" {
            if self.bytes[next] == b'{' {
                // `export { a as b }`: local bindings, no module named.
                self.position = closing;
                self.previous = Previous::StatementStart;
                return Ok(());
            }
            return Err(missing_specifier);
        }
        at = self.skip_trivia(at + 4)?;
        if !matches!(self.bytes.get(at), Some(b'"' | b'\'')) {
            return Err(missing_specifier);
        }
        let end = self.string_end(at)?;
        let specifier = self.literal_value(at, end)?;
        self.record(specifier, ImportKind::Export, at);
        self.position = end;
        self.previous = Previous::StatementStart;
        Ok(())
    }

    fn record(&mut self, specifier: String, kind: ImportKind, literal_at: usize) {
        let (line, column) = self.lines.locate(literal_at);
        self.found.imports.push(ModuleImport {
            specifier,
            kind,
            line,
            column,
        });
    }

    /// The string value of the string or template literal `open..end` (delimiters included).
    fn literal_value(&self, open: usize, end: usize) -> Step<String> {
        let is_template = self.bytes[open] == b'`';
        string_value(&self.source[open + 1..end - 1], is_template).map_err(|(offset, kind)| {
            Failure {
                at: open + 1 + offset,
                kind,
            }
        })
    }

    /// The word starting at `at`, empty if none does.
    fn word_at(&self, at: usize) -> &'s str {
        &self.source[at..self.word_end(at)]
    }

    /// Skips white space (JavaScript's, Unicode's included), line terminators and comments.
    fn skip_trivia(&self, mut at: usize) -> Step<usize> {
        loop {
            match self.bytes.get(at) {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C) => at += 1,
                Some(b'/') => match self.bytes.get(at + 1) {
                    Some(b'/') => at = self.line_comment_end(at + 2),
                    Some(b'*') => match self.source[at + 2..].find("*/") {
                        Some(offset) => at += 2 + offset + 2,
                        None => {
                            return Err(Failure {
                                at,
                                kind: ModuleSyntaxErrorKind::UnterminatedComment,
                            })
                        }
                    },
                    _ => return Ok(at),
                },
                Some(&byte) if byte >= 0x80 => match self.char_at(at) {
                    Some(character) if is_whitespace(character) => at += character.len_utf8(),
                    _ => return Ok(at),
                },
                _ => return Ok(at),
            }
        }
    }

    /// Where the line comment whose text starts at `from` ends: at its line terminator.
    fn line_comment_end(&self, from: usize) -> usize {
        let rest = &self.bytes[from..];
        let mut offset = 0;
        while let Some(&byte) = rest.get(offset) {
            if byte == b'\n' || byte == b'\r' || is_line_separator(&rest[offset..]) {
                break;
            }
            offset += 1;
        }
        from + offset
    }

    /// Where the string literal whose quote is at `quote_at` ends, after its closing quote.
    fn string_end(&self, quote_at: usize) -> Step<usize> {
        let quote = self.bytes[quote_at];
        let mut at = quote_at + 1;
        while let Some(&byte) = self.bytes.get(at) {
            match byte {
                _ if byte == quote => return Ok(at + 1),
                b'\\' => {
                    // A line continuation takes its `\r\n` whole.
                    at += if self.bytes[at + 1..].starts_with(b"\r\n") {
                        3
                    } else {
                        2
                    };
                }
                b'\n' | b'\r' => break,
                _ => at += 1,
            }
        }
        Err(Failure {
            at: quote_at,
            kind: ModuleSyntaxErrorKind::UnterminatedString,
        })
    }

    /// Where a piece of the template literal opened at `template_at` ends, read from `from`:
    /// after its closing backtick or after its next `${`. Bytes suffice: every delimiter is
    /// ASCII, and no byte of a multi-byte character is.
    fn template_chunk_end(
        &self,
        template_at: usize,
        from: usize,
    ) -> Step<(usize, TemplateChunkEnd)> {
        let mut at = from;
        while let Some(&byte) = self.bytes.get(at) {
            match byte {
                b'\\' => at += 2,
                b'`' => return Ok((at + 1, TemplateChunkEnd::Backtick)),
                b'$' if self.bytes.get(at + 1) == Some(&b'{') => {
                    return Ok((at + 2, TemplateChunkEnd::Substitution))
                }
                _ => at += 1,
            }
        }
        Err(Failure {
            at: template_at,
            kind: ModuleSyntaxErrorKind::UnterminatedTemplate,
        })
    }

    /// Where the regular expression literal whose `/` is at `slash_at` ends, after its flags.
    fn regex_end(&self, slash_at: usize) -> Step<usize> {
        let unterminated = Failure {
            at: slash_at,
            kind: ModuleSyntaxErrorKind::UnterminatedRegularExpression,
        };
        let mut at = slash_at + 1;
        let mut in_class = false;
        loop {
            let rest = &self.bytes[at.min(self.bytes.len())..];
            match rest.first() {
                None | Some(b'\n' | b'\r') => return Err(unterminated),
                _ if is_line_separator(rest) => return Err(unterminated),
                Some(b'\\') => {
                    if matches!(rest.get(1), None | Some(b'\n' | b'\r'))
                        || is_line_separator(&rest[1..])
                    {
                        return Err(unterminated);
                    }
                    at += 2;
                }
                // A `/` inside a class (`/[/]/`) does not end the literal.
                Some(b'[') => {
                    in_class = true;
                    at += 1;
                }
                Some(b']') => {
                    in_class = false;
                    at += 1;
                }
                Some(b'/') if !in_class => return Ok(self.word_end(at + 1)),
                _ => at += 1,
            }
        }
    }

    /// Where a number starting at `from` ends. Its exact grammar does not matter here, only
    /// that it is a value and never hides a keyword or a punctuator that could.
    fn number_end(&self, from: usize) -> usize {
        let mut at = from;
        while self
            .bytes
            .get(at)
            .is_some_and(|&byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'.')
        {
            at += 1;
        }
        at
    }

    /// Where the word (identifier, keyword, private name `#x`) starting at `from` ends: `from`
    /// itself if none starts there. Any character beyond ASCII that is not white space is
    /// part of a word, as no such character is a punctuator; `\u0041` and `\u{41}` escapes are.
    fn word_end(&self, from: usize) -> usize {
        let mut at = from;
        if self.bytes.get(at) == Some(&b'#') {
            at += 1;
        }
        while let Some(&byte) = self.bytes.get(at) {
            match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'$' | b'_' => at += 1,
                b'\\' => {
                    at += 1;
                    if self.bytes.get(at) == Some(&b'u') {
                        at += 1;
                        if self.bytes.get(at) == Some(&b'{') {
                            while self.bytes.get(at).is_some_and(|&byte| byte != b'}') {
                                at += 1;
                            }
                            at += 1;
                        }
                    }
                }
                _ if byte >= 0x80 => match self.char_at(at) {
                    Some(character) if is_whitespace(character) => break,
                    Some(character) => at += character.len_utf8(),
                    None => at += 1,
                },
                _ => break,
            }
        }
        at.min(self.bytes.len())
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.source.get(at..)?.chars().next()
    }
}

fn unmatched(at: usize, closing: char, open: Option<Bracket>) -> Failure {
    Failure {
        at,
        kind: ModuleSyntaxErrorKind::UnmatchedClosingBracket {
            closing,
            open: open.map(Bracket::opening),
        },
    }
}

fn is_word_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || matches!(byte, b'$' | b'_' | b'\\' | b'#') || byte >= 0x80
}

/// JavaScript's white space and line terminators beyond ASCII (ECMA-262 `WhiteSpace`,
/// `LineTerminator`): the byte order mark, no-break space and Unicode's `Zs`.
fn is_whitespace(character: char) -> bool {
    matches!(
        character,
        '\u{a0}' | '\u{feff}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// U+2028 LINE SEPARATOR or U+2029 PARAGRAPH SEPARATOR starts `bytes`.
fn is_line_separator(bytes: &[u8]) -> bool {
    matches!(bytes, [0xE2, 0x80, 0xA8 | 0xA9, ..])
}

/// The string value of a string literal's or a template's text (between its delimiters), or
/// the offset in `text` of an escape no specifier can hold.
fn string_value(text: &str, is_template: bool) -> Result<String, (usize, ModuleSyntaxErrorKind)> {
    let mut value = String::with_capacity(text.len());
    // A high surrogate written as an escape waits for its low half: `"\uD83D\uDE00"` is 😀.
    let mut high_surrogate: Option<(u32, usize, usize)> = None;
    let mut at = 0;
    let bytes = text.as_bytes();
    while at < text.len() {
        let character = text[at..].chars().next().unwrap_or_default();
        let escape_at = at;
        at += character.len_utf8();
        let code_point = match character {
            '\\' => {
                let escaped = text[at..].chars().next().unwrap_or_default();
                at += escaped.len_utf8();
                match escaped {
                    'n' => u32::from('\n'),
                    't' => u32::from('\t'),
                    'r' => u32::from('\r'),
                    'b' => 0x08,
                    'f' => 0x0C,
                    'v' => 0x0B,
                    '0' if !bytes.get(at).is_some_and(u8::is_ascii_digit) => 0,
                    '0'..='9' => return Err(invalid_escape(text, escape_at, at)),
                    'x' => {
                        let digits = text
                            .get(at..at + 2)
                            .filter(|digits| digits.bytes().all(|byte| byte.is_ascii_hexdigit()));
                        let Some(digits) = digits else {
                            return Err(invalid_escape(text, escape_at, (at + 2).min(text.len())));
                        };
                        at += 2;
                        u32::from_str_radix(digits, 16).unwrap_or_default()
                    }
                    'u' => {
                        let (code_point, end) = unicode_escape(text, at)
                            .ok_or_else(|| invalid_escape(text, escape_at, at))?;
                        at = end;
                        code_point
                    }
                    // Line continuations: nothing.
                    '\r' => {
                        if bytes.get(at) == Some(&b'\n') {
                            at += 1;
                        }
                        continue;
                    }
                    '\n' | '\u{2028}' | '\u{2029}' => continue,
                    other => u32::from(other),
                }
            }
            // A template's raw line breaks are `\n` in its value.
            '\r' if is_template => {
                if bytes.get(at) == Some(&b'\n') {
                    at += 1;
                }
                u32::from('\n')
            }
            other => u32::from(other),
        };
        match (high_surrogate.take(), code_point) {
            (Some((high, _, _)), 0xDC00..=0xDFFF) => {
                let combined = 0x10000 + ((high - 0xD800) << 10) + (code_point - 0xDC00);
                value.push(char::from_u32(combined).unwrap_or_default());
            }
            (Some((_, start, end)), _) => return Err(lone_surrogate(text, start, end)),
            (None, 0xD800..=0xDBFF) => high_surrogate = Some((code_point, escape_at, at)),
            (None, 0xDC00..=0xDFFF) => return Err(lone_surrogate(text, escape_at, at)),
            (None, _) => value.push(char::from_u32(code_point).unwrap_or_default()),
        }
    }
    match high_surrogate {
        Some((_, start, end)) => Err(lone_surrogate(text, start, end)),
        None => Ok(value),
    }
}

/// The code point of the `\u` escape whose `u` ends at `at` (`XXXX` or `{X…}` up to
/// `10FFFF`), and where the escape ends.
fn unicode_escape(text: &str, at: usize) -> Option<(u32, usize)> {
    let rest = text.get(at..)?;
    if let Some(braced) = rest.strip_prefix('{') {
        let digits = &braced[..braced.find('}')?];
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        let code_point = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|&code_point| code_point <= 0x0010_FFFF)?;
        return Some((code_point, at + 1 + digits.len() + 1));
    }
    let digits = rest.get(..4)?;
    if !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    Some((u32::from_str_radix(digits, 16).ok()?, at + 4))
}

fn invalid_escape(text: &str, start: usize, end: usize) -> (usize, ModuleSyntaxErrorKind) {
    let end = (start..=end.min(text.len()))
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or(start);
    (
        start,
        ModuleSyntaxErrorKind::InvalidEscape {
            escape: text[start..end].to_owned(),
        },
    )
}

fn lone_surrogate(text: &str, start: usize, end: usize) -> (usize, ModuleSyntaxErrorKind) {
    (
        start,
        ModuleSyntaxErrorKind::LoneSurrogate {
            escape: text[start..end].to_owned(),
        },
    )
}

/// Lines and columns of byte offsets, read forward from the last one asked for, so that
/// locating every import of a long minified line stays linear.
struct LineLocator<'s> {
    bytes: &'s [u8],
    offset: usize,
    line: u32,
    /// Characters between the start of the line and `offset`.
    column: u32,
}

impl<'s> LineLocator<'s> {
    fn new(bytes: &'s [u8]) -> Self {
        // Editors do not show a byte order mark, nor count it.
        let offset = if bytes.starts_with("\u{feff}".as_bytes()) {
            3
        } else {
            0
        };
        LineLocator {
            bytes,
            offset,
            line: 1,
            column: 0,
        }
    }

    /// The line and column of the byte at `target`, both from 1.
    fn locate(&mut self, target: usize) -> (u32, u32) {
        if target < self.offset {
            *self = LineLocator::new(self.bytes);
        }
        let mut at = self.offset;
        while at < target {
            let rest = &self.bytes[at..];
            let line_break_length = match rest {
                // `\r\n` is one line break, counted at its `\n`.
                [b'\r', b'\n', ..] => 0,
                [b'\n' | b'\r', ..] => 1,
                _ if is_line_separator(rest) => 3,
                _ => 0,
            };
            if line_break_length > 0 {
                self.line = self.line.saturating_add(1);
                self.column = 0;
                at += line_break_length;
            } else {
                // Counts characters: every byte but UTF-8's continuation bytes starts one.
                if rest[0] & 0xC0 != 0x80 {
                    self.column = self.column.saturating_add(1);
                }
                at += 1;
            }
        }
        self.offset = at;
        (self.line, self.column.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::ImportKind::{Dynamic, Export, Static};
    use super::{module_imports, ImportKind, ModuleSyntaxErrorKind};
    use std::fmt::Write as _;

    /// Each case: a name, the module, the imports it names (specifier, kind, line), and the
    /// lines of its computed `import(…)` calls.
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, ImportKind, u32)],
        &'static [u32],
    );

    const TRAPS: &[Case] = &[
        // What every module does.
        (
            "declarations of every form",
            "import x, { y as z } from \"m1\";\nimport * as ns from 'm2';\nimport 'm3';\n\
             import {} from \"m4\";\nimport { \"a-b\" as ab } from \"m5\";\n\
             import from from \"m6\";\nimport x2, * as ns2 from \"m7\";",
            &[
                ("m1", Static, 1),
                ("m2", Static, 2),
                ("m3", Static, 3),
                ("m4", Static, 4),
                ("m5", Static, 5),
                ("m6", Static, 6),
                ("m7", Static, 7),
            ],
            &[],
        ),
        (
            "declarations without spaces",
            "import{a}from\"m1\";import*as b from'm2';import\"m3\";export*from\"m4\";\
             export{c}from'm5'",
            &[
                ("m1", Static, 1),
                ("m2", Static, 1),
                ("m3", Static, 1),
                ("m4", Export, 1),
                ("m5", Export, 1),
            ],
            &[],
        ),
        (
            "re-exports",
            "export * from \"s\";\nexport * as ns from \"t\";\nexport * as \"n s\" from \"u\";\n\
             export { a as b, default } from \"v\";\nexport { \"x-y\" as xy } from \"w\";",
            &[
                ("s", Export, 1),
                ("t", Export, 2),
                ("u", Export, 3),
                ("v", Export, 4),
                ("w", Export, 5),
            ],
            &[],
        ),
        (
            "exports that name no module",
            "const a = 1;\nexport { a as b };\nexport { a as default };\nexport default function () {}\n\
             export const c = 'export * from \"no\"';\nexport class D {}\nexport function e() {}",
            &[],
            &[],
        ),
        (
            "import attributes",
            "import j from \"./a.json\" with { type: \"json\" };\n\
             import k from \"./b.json\" assert { type: 'json' };\n\
             const c = await import(\"./c.json\", { with: { type: \"json\" } });",
            &[
                ("./a.json", Static, 1),
                ("./b.json", Static, 2),
                ("./c.json", Dynamic, 3),
            ],
            &[],
        ),
        (
            "phases",
            "import source wasm from \"./m.wasm\";\nimport defer * as heavy from \"./heavy.js\";\n\
             import.source(\"./n.wasm\");\nimport.defer(\"./later.js\");",
            &[
                ("./m.wasm", Static, 1),
                ("./heavy.js", Static, 2),
                ("./n.wasm", Dynamic, 3),
                ("./later.js", Dynamic, 4),
            ],
            &[],
        ),
        (
            "a declaration over lines and comments",
            "import {\n  a,\n  b, // import \"no\"\n} from\n// from \"no\"\n/* \"no\" */ \"m\";",
            &[("m", Static, 6)],
            &[],
        ),
        (
            "`from` and the specifier on later lines",
            "import x\nfrom\n\n\"m\"\nexport *\n  from\n    'n'",
            &[("m", Static, 4), ("n", Export, 7)],
            &[],
        ),
        // Dynamic imports.
        (
            "dynamic imports with literal arguments",
            "import(\"a\");\nawait import('b');\nconst c = () => import(`c`);\n\
             import ( \"d\" );\nimport\n(\"e\");\nimport(/* webpackChunkName: \"x\" */ './f.js');\n\
             import(\"g\").then(start);\nif (ready) import(\"h\");\nnew import(\"i\");\n\
             import(\"j\",);",
            &[
                ("a", Dynamic, 1),
                ("b", Dynamic, 2),
                ("c", Dynamic, 3),
                ("d", Dynamic, 4),
                ("e", Dynamic, 6),
                ("./f.js", Dynamic, 7),
                ("g", Dynamic, 8),
                ("h", Dynamic, 9),
                ("i", Dynamic, 10),
                ("j", Dynamic, 11),
            ],
            &[],
        ),
        (
            "computed dynamic imports are reported by line, not guessed",
            "import(name);\nimport(\"./\" + name);\nimport(`./${name}.js`);\n\
             import(`./locales/${`${lang}`}.js`);\nimport(cond ? \"a\" : \"b\");\n\
             import((\"paren\"));\nimport(\"x\" /* then */ + suffix);",
            &[],
            &[1, 2, 3, 4, 5, 6, 7],
        ),
        (
            "an import after a spread, which es-module-lexer takes for a property",
            "f(...import(\"spread\"));",
            &[("spread", Dynamic, 1)],
            &[],
        ),
        (
            "a computed import holding a literal one",
            "import(await import(\"./resolver.js\").then((m) => m.url));",
            &[("./resolver.js", Dynamic, 1)],
            &[1],
        ),
        (
            "import.meta is no import",
            "const url = new URL(\"./data.bin\", import.meta.url);\nimport.meta.resolve(\"x\");\n\
             import . meta;",
            &[],
            &[],
        ),
        // Words that hold `import` and are not the keyword.
        (
            "properties named import",
            "a.import(\"z\");\nobj?.import(\"w\");\nchain\n  .import(\"v\");\na. import(\"u\");\n\
             this.#import(\"t\");\nb.export * from(\"s\");",
            &[],
            &[],
        ),
        (
            "identifiers containing import",
            "reimport(\"x\");\nimport_x(\"y\");\n$import(\"z\");\n_import(\"w\");\n\
             importé(\"v\");\nimport2(\"u\");\nexporter(\"t\");",
            &[],
            &[],
        ),
        (
            "import and export as keys, fields and methods",
            "const o = { import: 1, export: 2, 'import': 3 };\n\
             class A { import(x) { return x; } static import = 4; export() {} }\n\
             const p = { import(name) { return name; }, async import(a, b) {} };",
            &[],
            &[],
        ),
        // Comments and strings.
        (
            "imports in comments",
            "// import \"a\"\n/* import(\"b\")\n export * from \"c\" */\nimport \"d\"; // import \"e\"\n\
             /** @example import('f') */",
            &[("d", Static, 4)],
            &[],
        ),
        (
            "imports in strings",
            "const s = \"import('x')\";\nconst t = 'export * from \"y\"';\n\
             const u = \"\\\" import('z') \\\"\";\nconst v = 'it\\'s import(\"w\")';\nimport \"after\";",
            &[("after", Static, 5)],
            &[],
        ),
        (
            "a line continuation inside a string",
            "const s = \"one \\\ntwo import('x') \\\r\nthree\";\nimport(\"after\");",
            &[("after", Dynamic, 4)],
            &[],
        ),
        // Template literals.
        (
            "imports in template text",
            "const t = `import(\"no\") ${1} export * from \"no\"`;\nconst u = `\\${ import(\"no\") }`;",
            &[],
            &[],
        ),
        (
            "imports in substitutions, nested templates and braces",
            "const t = `a ${ import(\"y\") } b`;\n\
             const u = `a ${ `b ${ import(\"nested\") } c` } d`;\n\
             const v = `${ { key: 1 }.key } ${ (() => { return import(\"in-arrow\"); })() }`;\n\
             const w = `${ '}' } ${ \"`\" } ${ /}`/.source } ${ import(\"after-traps\") }`;",
            &[
                ("y", Dynamic, 1),
                ("nested", Dynamic, 2),
                ("in-arrow", Dynamic, 3),
                ("after-traps", Dynamic, 4),
            ],
            &[],
        ),
        (
            "a regular expression after a template, and a division after a substitution",
            "const a = `x` / 2 / import(\"divided\");\nconst b = `${x}` / y / import(\"divided2\");",
            &[("divided", Dynamic, 1), ("divided2", Dynamic, 2)],
            &[],
        ),
        // Regular expressions and divisions.
        (
            "imports in regular expressions",
            "const re = /import(\"x\")/;\nconst re2 = /[/]import(\"x\")[/]/g;\n\
             const re3 = /\\/import(\"x\")\\//;\nconst re4 = /[\\]/]import(\"x\")/u;\nimport(\"after\");",
            &[("after", Dynamic, 5)],
            &[],
        ),
        (
            "a regular expression after punctuators",
            "f(/import(\"a\")/);\nx = [/import(\"b\")/, !/import(\"c\")/];\n\
             y = c ? /import(\"d\")/ : /import(\"e\")/;\nz = a && /import(\"f\")/ || /import(\"g\")/;\n\
             w = { k: /import(\"h\")/ };\nv = a + /import(\"i\")/.source;\nu = () => /import(\"j\")/;",
            &[],
            &[],
        ),
        (
            "a regular expression after keywords",
            "function f(a) {\n  return /import(\"a\")/.test(a);\n}\n\
             function* g() { yield /import(\"b\")/; }\nasync function h() { await /import(\"c\")/; }\n\
             x = typeof /import(\"d\")/;\nswitch (x) { case /import(\"e\")/: break; }\n\
             do /import(\"f\")/.test(x); while (0);\nif (a) b(); else /import(\"g\")/.test(x);\n\
             x = void /import(\"h\")/;\ny = 'a' in /import(\"i\")/;\nthrow /import(\"j\")/;\n\
             export default /import(\"k\")/;",
            &[],
            &[],
        ),
        (
            "a division after values",
            "a / import(\"after-identifier\") / 2;\n1 / import(\"after-number\") / 2;\n\
             .5 / import(\"after-fraction\") / 2;\n(a) / import(\"after-paren\") / (b);\n\
             x[0] / import(\"after-bracket\") / 2;\ni++ / import(\"after-increment\") / 2;\n\
             this / import(\"after-this\") / 2;\n'a' / import(\"after-string\") / 2;\n\
             /re/ / import(\"after-regex\") / 2;\nnaïve / import(\"after-unicode\") / 2;\n\
             a.return / import(\"after-property\") / 2;\na /= import(\"after-assignment\") / 2;",
            &[
                ("after-identifier", Dynamic, 1),
                ("after-number", Dynamic, 2),
                ("after-fraction", Dynamic, 3),
                ("after-paren", Dynamic, 4),
                ("after-bracket", Dynamic, 5),
                ("after-increment", Dynamic, 6),
                ("after-this", Dynamic, 7),
                ("after-string", Dynamic, 8),
                ("after-regex", Dynamic, 9),
                ("after-unicode", Dynamic, 10),
                ("after-property", Dynamic, 11),
                ("after-assignment", Dynamic, 12),
            ],
            &[],
        ),
        (
            "a division across a line break is still a division, as JavaScript reads it",
            "a = b\n/import(\"divided\")/g.exec(c);",
            &[("divided", Dynamic, 2)],
            &[],
        ),
        (
            "the `)` of a condition",
            "if (a) /import(\"no\")/.test(b);\nwhile (a) /import(\"no\")/.test(b);\n\
             for (;;) /import(\"no\")/.test(b);\nf(a) / import(\"divided\") / 2;",
            &[("divided", Dynamic, 4)],
            &[],
        ),
        (
            "the `}` of a block, a class body or an object literal",
            "function f() {}\n/import(\"no\")/.test(s);\nif (a) { b(); }\n/import(\"no\")/.test(s);\n\
             class A {}\n/import(\"no\")/.test(s);\ntry {} catch {}\n/import(\"no\")/.test(s);\n\
             x = () => {}\n/import(\"no\")/.test(s);\nconst o = {}\n/ import(\"divided\") / 2;",
            &[("divided", Dynamic, 12)],
            &[],
        ),
        // What the previous token leaves to come (issue 30: each refused, or misread, before).
        (
            "a regular expression after `of` in a `for` head",
            "for (const quote of /[\"']/g.exec(input) ?? []) render(quote);\n\
             for (const [a, b] of /import(\"no\")/.exec(s)) ;\n\
             for (const { length } of /'/g.exec(s) || []) ;\n\
             for await (const chunk of /`/g.exec(s) ?? []) ;\n\
             for (x of /import(\"no\")/.exec(s)) ;\nfor (const of of /'/.exec(s)) ;\n\
             import(\"after\");",
            &[("after", Dynamic, 7)],
            &[],
        ),
        (
            "`of` is a name outside a `for` head, and divides",
            "x = of / import(\"divided\") / 2;\nx = a.of / import(\"divided2\") / 2;",
            &[("divided", Dynamic, 1), ("divided2", Dynamic, 2)],
            &[],
        ),
        (
            "a block after `case x:` or `default:`, then a regular expression",
            "switch (v) {\n  case 1: { use(); }\n  /[\"']import(\"no\")/.test(s);\n\
             case a ? {} : b: {}\n  /'/.test(s);\n  default: {}\n  /`/.test(s);\n}\n\
             import(\"after\");",
            &[("after", Dynamic, 9)],
            &[],
        ),
        (
            "a condition's `:` in a `case` is not the `case`'s",
            "switch (v) { case a ? b : c: { x = d ? {} : {} }\n/'/.test(s) }\nimport(\"after\");",
            &[("after", Dynamic, 3)],
            &[],
        ),
        (
            "a block after a label, then a regular expression",
            "outer: { break outer; }\n/[\"']import(\"no\")/.test(s);\n\
             a = b\nnext: {}\n/'/.test(s);\nimport(\"after\");",
            &[("after", Dynamic, 6)],
            &[],
        ),
        (
            "an object literal's keys are not labels, nor keywords",
            "x = { a: {}, if: 1, case: {}, default: 2, class: {}, function: 3 }\n\
             / import(\"divided\") / 2;",
            &[("divided", Dynamic, 2)],
            &[],
        ),
        (
            "a block after a line without `;` (automatic semicolon insertion)",
            "let a = value\n{ use(a); }\n/[\"']import(\"no\")/.test(s);\n\
             x = [1, 2]\n{}\n/'/.test(s);\nuse()\n{}\n/`/.test(s);\nimport(\"after\");",
            &[("after", Dynamic, 10)],
            &[],
        ),
        (
            "a block at the start of the module, then a regular expression",
            "{ use(); }\n/'import(\"no\")/.test(s);\nimport(\"after\");",
            &[("after", Dynamic, 3)],
            &[],
        ),
        (
            "a line break ends `return`, `break`, `continue` and `yield`",
            "function f() {\n  return\n  { use(); }\n  /'/.test(s)\n}\n\
             while (a) { break\n/'import(\"no\")/.test(s) }\n\
             while (a) { continue\n/'/.test(s) }\nloop: for (;;) { break loop\n/'/.test(s) }\n\
             function* g() { yield\n{}\n/'/.test(s) }\nimport(\"after\");",
            &[("after", Dynamic, 15)],
            &[],
        ),
        (
            "an object literal after `return` on the same line",
            "function f() { return {} / import(\"divided\") / 2; }",
            &[("divided", Dynamic, 1)],
            &[],
        ),
        (
            "a division after a function or class expression",
            "x = function () {} / import(\"after-function\") / 2;\n\
             x = async function () {}\n/ import(\"after-async\") / 2;\n\
             x = function* () { yield /'/; } / import(\"after-generator\") / 2;\n\
             use(function (a = {}) {} / import(\"after-argument\") / 2);\n\
             x = class extends Base { method() {} } / import(\"after-class\") / 2;\n\
             x = class { static { use(); } }\n/ import(\"after-static-block\") / 2;",
            &[
                ("after-function", Dynamic, 1),
                ("after-async", Dynamic, 3),
                ("after-generator", Dynamic, 4),
                ("after-argument", Dynamic, 5),
                ("after-class", Dynamic, 6),
                ("after-static-block", Dynamic, 8),
            ],
            &[],
        ),
        (
            "a regular expression after a function or class declaration",
            "function f(a = function () {}) {}\n/'import(\"no\")/.test(s);\n\
             async function g() {}\n/'/.test(s);\nclass A extends mixin({ a: 1 }) {}\n/'/.test(s);\n\
             class B extends (class {}) { static { use(); } }\n/'/.test(s);\n\
             export class C {}\n/'/.test(s);\nexport async function h() {}\n/'/.test(s);\n\
             export default function () {}\n/'/.test(s);\nimport(\"after\");",
            &[("after", Dynamic, 15)],
            &[],
        ),
        (
            "a division after `export default {…}`",
            "export default {} / import(\"divided\") / 2;",
            &[("divided", Dynamic, 1)],
            &[],
        ),
        (
            "a regular expression after `extends`",
            "class A extends /'import(\"no\")/.constructor {}\nimport(\"after\");",
            &[("after", Dynamic, 2)],
            &[],
        ),
        (
            "a `++` after a line break starts the next statement",
            "a\n++/'import(\"no\")/.lastIndex;\nb++ / import(\"divided\") / 2;",
            &[("divided", Dynamic, 3)],
            &[],
        ),
        (
            "a regular expression after an import declaration, on the next line",
            "import x from \"./x.js\"\n/'/.test(s);\nimport y from \"./y.json\" with { type: \"json\" }\n\
             /'/.test(s);",
            &[("./x.js", Static, 1), ("./y.json", Static, 3)],
            &[],
        ),
        (
            "a computed `import(…)`, then a block on the next line",
            "x = import(name)\n{ use(); }\n/'import(\"no\")/.test(s);",
            &[],
            &[1],
        ),
        (
            "class members named like keywords",
            "class A { if() {} static import(a) { return /'/; } get case() {} *for() {}\n\
             static { use(); } x = {}\nimport(b) {} }\n/'import(\"no\")/.test(s);\n\
             import(\"after\");",
            &[("after", Dynamic, 5)],
            &[],
        ),
        (
            "`??` is no condition",
            "switch (v) { case a ?? b: {}\n/'/.test(s) }\nimport(\"after\");",
            &[("after", Dynamic, 3)],
            &[],
        ),
        // The start of a module.
        (
            "a hashbang",
            "#!/usr/bin/env node import(\"no\")\nimport \"x\";",
            &[("x", Static, 2)],
            &[],
        ),
        (
            "a byte order mark",
            "\u{feff}import \"bom\";\nimport(\"b\");",
            &[("bom", Static, 1), ("b", Dynamic, 2)],
            &[],
        ),
        (
            "a byte order mark then a hashbang",
            "\u{feff}#!/usr/bin/env node\nimport \"x\";",
            &[("x", Static, 2)],
            &[],
        ),
        (
            "a regular expression at the start of a module",
            "/import(\"no\")/.test(a);\nimport \"x\";",
            &[("x", Static, 2)],
            &[],
        ),
        // Line breaks.
        (
            "CRLF, CR and the Unicode line separators",
            "import \"a\";\r\nimport \"b\";\rimport \"c\";\u{2028}import \"d\";\u{2029}import \"e\";\n\
             // comment\u{2028}import \"f\";",
            &[
                ("a", Static, 1),
                ("b", Static, 2),
                ("c", Static, 3),
                ("d", Static, 4),
                ("e", Static, 5),
                ("f", Static, 7),
            ],
            &[],
        ),
        (
            "Unicode white space between tokens",
            "import\u{a0}x\u{3000}from\u{2003}\"m\";\nx;\u{feff}import(\"n\");",
            &[("m", Static, 1), ("n", Dynamic, 2)],
            &[],
        ),
        // Specifiers' values.
        (
            "escapes in specifiers",
            "import \"\\u0041\\x42\\'\\u{43}\\\"\";\nimport('./\\u{1F600}.js');\n\
             import(\"\\uD83D\\uDE00\");\nimport \"line\\\ncontinued\";\nimport(`tab\\there`);\n\
             import \"\\0\";",
            &[
                ("AB'C\"", Static, 1),
                ("./😀.js", Dynamic, 2),
                ("😀", Dynamic, 3),
                ("linecontinued", Static, 4),
                ("tab\there", Dynamic, 6),
                ("\0", Static, 7),
            ],
            &[],
        ),
        (
            "a template specifier's line break is \\n",
            "import(`a\r\nb`);",
            &[("a\nb", Dynamic, 1)],
            &[],
        ),
    ];

    fn found(source: &str) -> (Vec<(String, ImportKind, u32)>, Vec<u32>) {
        let found = module_imports(source).unwrap_or_else(|error| panic!("{source:?}: {error}"));
        let imports = found
            .imports
            .into_iter()
            .map(|import| (import.specifier, import.kind, import.line))
            .collect();
        (imports, found.computed_dynamic_imports)
    }

    #[test]
    fn traps() {
        for (name, source, imports, computed) in TRAPS {
            let expected: Vec<_> = imports
                .iter()
                .map(|&(specifier, kind, line)| (specifier.to_owned(), kind, line))
                .collect();
            assert_eq!(
                found(source),
                (expected, computed.to_vec()),
                "{name}: {source:?}"
            );
        }
    }

    #[test]
    fn columns_count_characters_from_the_opening_quote() {
        let source = "import \"a\";\nconst é = 1; import('b');\n\u{2003}import(`c`)";
        let columns: Vec<_> = module_imports(source)
            .unwrap()
            .imports
            .iter()
            .map(|import| (import.line, import.column))
            .collect();
        assert_eq!(columns, [(1, 8), (2, 21), (3, 9)]);

        let with_bom = module_imports("\u{feff}import 'x'").unwrap();
        assert_eq!(with_bom.imports[0].column, 8);
    }

    #[test]
    fn errors_name_the_token_at_fault() {
        use ModuleSyntaxErrorKind::{
            UnterminatedComment, UnterminatedRegularExpression, UnterminatedString,
            UnterminatedTemplate,
        };
        let unclosed = |opening| ModuleSyntaxErrorKind::UnclosedBracket { opening };
        let unmatched =
            |closing, open| ModuleSyntaxErrorKind::UnmatchedClosingBracket { closing, open };
        let escape = |escape: &str| ModuleSyntaxErrorKind::InvalidEscape {
            escape: escape.to_owned(),
        };
        let lone = |escape: &str| ModuleSyntaxErrorKind::LoneSurrogate {
            escape: escape.to_owned(),
        };
        let missing = |declaration| ModuleSyntaxErrorKind::MissingModuleSpecifier { declaration };
        // Each case: the module, then the line and column of the error, and what it is.
        let cases = [
            ("import \"a;\nimport 'b';", 1, 8, UnterminatedString),
            ("x = 'a\\'", 1, 5, UnterminatedString),
            (
                "x = 1;\nconst t = `abc ${x} def",
                2,
                11,
                UnterminatedTemplate,
            ),
            (
                "x = `${ `inner ${ a } and the rest",
                1,
                9,
                UnterminatedTemplate,
            ),
            (
                "x = 1; /* never closed\nimport 'a';",
                1,
                8,
                UnterminatedComment,
            ),
            ("x = /abc\n/;", 1, 5, UnterminatedRegularExpression),
            ("x = /[/\n]/;", 1, 5, UnterminatedRegularExpression),
            ("x = `${ a", 1, 6, unclosed("${")),
            ("f(a", 1, 2, unclosed("(")),
            ("f(a, { b: [1 }", 1, 14, unmatched('}', Some("["))),
            ("a = 1;\n}", 2, 1, unmatched('}', None)),
            ("a = (1]", 1, 7, unmatched(']', Some("("))),
            ("import \"\\x4g\";", 1, 9, escape("\\x4g")),
            ("import \"\\1\";", 1, 9, escape("\\1")),
            ("import(`\\08`);", 1, 9, escape("\\0")),
            ("import \"\\u{110000}\";", 1, 9, escape("\\u")),
            ("import('\\uD800');", 1, 9, lone("\\uD800")),
            ("import('a\\uDE00');", 1, 10, lone("\\uDE00")),
            ("a();\nimport x from y;", 2, 1, missing("import")),
            ("import x = 1;", 1, 1, missing("import")),
            ("export * from y;", 1, 1, missing("export")),
            ("a;\n  export * as ns;", 2, 3, missing("export")),
            ("export { a } from b;", 1, 1, missing("export")),
            ("export { a = 1 };", 1, 1, missing("export")),
        ];
        for (source, line, column, kind) in cases {
            let error = module_imports(source).expect_err(source);
            assert_eq!(
                (error.line, error.column, &error.kind),
                (line, column, &kind),
                "{source:?}: {error}"
            );
        }
    }

    #[test]
    fn error_messages() {
        let error = module_imports("import x from y;").unwrap_err();
        assert_eq!(
            error.to_string(),
            "this `import` declaration does not end with `from` and a quoted module specifier \
             (line 1, column 1)"
        );
        let error = module_imports("x = 1;\nx = /abc").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unterminated regular expression: this `/` stands where an expression starts (after \
             `(`, `=`, an operator, `return`, …) and no `/` closes it on the same line (line 2, \
             column 5)"
        );
    }

    /// A megabyte of nesting is read with stacks of the lexer's own: an unclosed one is an
    /// error, a closed one is read to its end, and neither overflows the thread's stack.
    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        const DEPTH: usize = 350_000;
        let unclosed = "`${".repeat(DEPTH);
        let error = module_imports(&unclosed).unwrap_err();
        assert_eq!(
            error.kind,
            ModuleSyntaxErrorKind::UnclosedBracket { opening: "${" }
        );
        assert_eq!(error.column, u32::try_from(DEPTH * 3 - 1).unwrap());

        let closed = format!(
            "{}import(\"deep\"){}",
            "`${".repeat(DEPTH),
            "}`".repeat(DEPTH)
        );
        assert_eq!(found(&closed).0, [("deep".to_owned(), Dynamic, 1)]);

        let brackets = format!(
            "{}import(\"deep\"){}",
            "({[".repeat(DEPTH),
            "]})".repeat(DEPTH)
        );
        assert_eq!(found(&brackets).0, [("deep".to_owned(), Dynamic, 1)]);
    }

    /// Every import of a long minified line is located from where the last one was: a
    /// quadratic locator would take minutes here.
    #[test]
    fn a_long_line_of_imports() {
        const IMPORTS: usize = 20_000;
        let mut source = String::new();
        for index in 0..IMPORTS {
            write!(source, "import(\"./m{index}.js\");").unwrap();
        }
        let found = module_imports(&source).unwrap();
        assert_eq!(found.imports.len(), IMPORTS);
        let last = found.imports.last().unwrap();
        assert_eq!(last.specifier, format!("./m{}.js", IMPORTS - 1));
        assert_eq!(
            usize::try_from(last.column).unwrap(),
            source.rfind('"').unwrap() - format!("./m{}.js", IMPORTS - 1).len()
        );
    }
}
