//! The tokens of a module, and what the previous one says the next `/` or `{` is (see the
//! module docs of `resolve::js`).

use super::errors::{unmatched, Failure, ModuleSyntaxErrorKind, Step};
use super::lines::LineLocator;
use super::literals::string_value;
use super::{ImportKind, ModuleImport, ModuleImports};

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
pub(super) enum BraceKind {
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
pub(super) enum Bracket {
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

    pub(super) fn opening(self) -> &'static str {
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

pub(super) struct Lexer<'s> {
    source: &'s str,
    bytes: &'s [u8],
    position: usize,
    previous: Previous,
    brackets: Vec<Bracket>,
    /// The `function` and `class` keywords waiting for their body, innermost last.
    pending_bodies: Vec<PendingBody>,
    pub(super) lines: LineLocator<'s>,
    pub(super) found: ModuleImports,
}

impl<'s> Lexer<'s> {
    pub(super) fn new(source: &'s str) -> Self {
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

    pub(super) fn read_module(&mut self) -> Step {
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
pub(super) fn is_line_separator(bytes: &[u8]) -> bool {
    matches!(bytes, [0xE2, 0x80, 0xA8 | 0xA9, ..])
}
