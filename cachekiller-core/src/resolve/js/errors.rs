//! What makes a module's source text impossible to read, and where, in words.

use std::fmt;

use super::lexer::Bracket;

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

/// A syntax error at a byte offset, located in lines and columns only when it is returned.
pub(super) struct Failure {
    pub(super) at: usize,
    pub(super) kind: ModuleSyntaxErrorKind,
}

pub(super) type Step<T = ()> = Result<T, Failure>;

pub(super) fn unmatched(at: usize, closing: char, open: Option<Bracket>) -> Failure {
    Failure {
        at,
        kind: ModuleSyntaxErrorKind::UnmatchedClosingBracket {
            closing,
            open: open.map(Bracket::opening),
        },
    }
}
