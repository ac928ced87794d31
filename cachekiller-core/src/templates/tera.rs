//! `static(path="css/app.css")` and `integrity(path="js/app.js")` for Tera templates.
//!
//! ```ignore
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let mut templates = tera::Tera::new("templates/**/*.html")?;
//! cachekiller_core::templates::tera::register_asset_functions(&mut templates, &static_files);
//! // <link rel="stylesheet" href="{{ static(path='css/app.css') }}">
//! ```

use std::collections::HashMap;

use tera::ast::{Expr, ExprVal, FunctionCall, Node};
use tera::{Function, Template, Tera, Value};

use super::check::{AssetCall, AssetKind};
use crate::service::StaticFiles;

/// Registers `static(path=…)` (the URL `cdnstatic!` would give, marked safe: not escaped) and
/// `integrity(path=…, algorithm="sha384")` on `tera`. An unknown file is a render error
/// naming the path and the closest existing one (Tera adds the template).
pub fn register_asset_functions(tera: &mut Tera, static_files: &StaticFiles) {
    tera.register_function(
        "static",
        AssetFunction {
            static_files: static_files.clone(),
            integrity: false,
        },
    );
    tera.register_function(
        "integrity",
        AssetFunction {
            static_files: static_files.clone(),
            integrity: true,
        },
    );
}

struct AssetFunction {
    static_files: StaticFiles,
    integrity: bool,
}

impl Function for AssetFunction {
    fn call(&self, arguments: &HashMap<String, Value>) -> tera::Result<Value> {
        let name = if self.integrity {
            "integrity"
        } else {
            "static"
        };
        let path = arguments
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg(format!("{name}() takes path=\"…\", a string")))?;
        let value = if self.integrity {
            let algorithm =
                super::integrity_algorithm(arguments.get("algorithm").and_then(Value::as_str))
                    .map_err(tera::Error::msg)?;
            self.static_files.integrity(path, algorithm)
        } else {
            self.static_files.url(path)
        };
        value
            .map(Value::String)
            .map_err(|error| tera::Error::msg(error.to_string()))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// The literal asset calls Tera makes when it renders `template`: `static(path='…')` and
/// `integrity(path='…', algorithm='…')` with a string literal for `path`, wherever an
/// expression stands (output, filters' arguments, tests, conditions, loops, `set`, macros'
/// bodies, defaults and calls' arguments, filter sections, arrays, concatenations), read from
/// Tera's own parse, which leaves out comments and raw blocks.
///
/// Tera's parse holds no positions: the line is that of the path's literal, the first one
/// not yet taken in the template's tags (`{{ … }}`, `{% … %}`), in the order of the parse.
pub(super) fn asset_calls(template: &str) -> Result<Vec<AssetCall>, String> {
    let parsed = Template::new("template", None, template).map_err(|error| {
        // Tera's own message is a summary; its source holds the parser's.
        std::iter::successors(Some(&error as &dyn std::error::Error), |error| {
            error.source()
        })
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
    })?;
    let mut found = Vec::new();
    // Explicit stacks, children pushed last first: the calls come in the order of the text.
    let mut nodes: Vec<&Node> = parsed.ast.iter().rev().collect();
    let mut expressions: Vec<&Expr> = Vec::new();
    while !nodes.is_empty() || !expressions.is_empty() {
        if let Some(expression) = expressions.pop() {
            if let ExprVal::FunctionCall(call) = &expression.val {
                found.extend(asset_call(call));
            }
            let start = expressions.len();
            push_children_of_expression(expression, &mut expressions);
            expressions[start..].reverse();
        } else if let Some(node) = nodes.pop() {
            let (node_start, expression_start) = (nodes.len(), expressions.len());
            push_children_of_node(node, &mut nodes, &mut expressions);
            nodes[node_start..].reverse();
            expressions[expression_start..].reverse();
        }
    }
    let literals = literals_in_tags(template);
    let mut taken = vec![false; literals.len()];
    Ok(found
        .into_iter()
        .map(|(path, kind)| {
            let line = literals
                .iter()
                .enumerate()
                .find(|(index, (value, _))| !taken[*index] && *value == path)
                .map_or(1, |(index, (_, line))| {
                    taken[index] = true;
                    *line
                });
            AssetCall { line, path, kind }
        })
        .collect())
}

/// The call's path and helper, if it calls `static` or `integrity` with a literal path.
fn asset_call(call: &FunctionCall) -> Option<(String, AssetKind)> {
    let literal = |name: &str| match call.args.get(name) {
        Some(Expr {
            val: ExprVal::String(value),
            negated: false,
            filters,
        }) if filters.is_empty() => Some(value.clone()),
        _ => None,
    };
    let path = literal("path")?;
    let kind = AssetKind::named(&call.name, || literal("algorithm"))?;
    Some((path, kind))
}

/// Pushes the nodes and expressions `node` holds.
fn push_children_of_node<'a>(
    node: &'a Node,
    nodes: &mut Vec<&'a Node>,
    expressions: &mut Vec<&'a Expr>,
) {
    match node {
        Node::VariableBlock(_, expression) => expressions.push(expression),
        Node::MacroDefinition(_, definition, _) => {
            expressions.extend(definition.args.values().flatten());
            nodes.extend(&definition.body);
        }
        Node::Set(_, set) => expressions.push(&set.value),
        Node::FilterSection(_, section, _) => {
            expressions.extend(section.filter.args.values());
            nodes.extend(&section.body);
        }
        Node::Block(_, block, _) => nodes.extend(&block.body),
        Node::Forloop(_, for_loop, _) => {
            expressions.push(&for_loop.container);
            nodes.extend(&for_loop.body);
            nodes.extend(for_loop.empty_body.iter().flatten());
        }
        Node::If(condition, _) => {
            for (_, expression, body) in &condition.conditions {
                expressions.push(expression);
                nodes.extend(body);
            }
            nodes.extend(condition.otherwise.iter().flat_map(|(_, body)| body));
        }
        Node::Super
        | Node::Text(_)
        | Node::Extends(..)
        | Node::Include(..)
        | Node::ImportMacro(..)
        | Node::Raw(..)
        | Node::Break(_)
        | Node::Continue(_)
        | Node::Comment(..) => {}
    }
}

/// Pushes the expressions `expression` holds: its value's and its filters' arguments.
fn push_children_of_expression<'a>(expression: &'a Expr, expressions: &mut Vec<&'a Expr>) {
    match &expression.val {
        // The values of a concatenation are not expressions of their own (no filters).
        ExprVal::String(_)
        | ExprVal::Int(_)
        | ExprVal::Float(_)
        | ExprVal::Bool(_)
        | ExprVal::Ident(_)
        | ExprVal::StringConcat(_) => {}
        ExprVal::Math(operation) => {
            expressions.push(&operation.lhs);
            expressions.push(&operation.rhs);
        }
        ExprVal::Logic(operation) => {
            expressions.push(&operation.lhs);
            expressions.push(&operation.rhs);
        }
        ExprVal::Test(test) => expressions.extend(&test.args),
        ExprVal::MacroCall(call) => expressions.extend(call.args.values()),
        ExprVal::FunctionCall(call) => expressions.extend(call.args.values()),
        ExprVal::Array(items) => expressions.extend(items),
        ExprVal::In(operation) => {
            expressions.push(&operation.lhs);
            expressions.push(&operation.rhs);
        }
    }
    for filter in &expression.filters {
        expressions.extend(filter.args.values());
    }
}

/// The string literals in the tags of `template` (`{{ … }}`, `{% … %}`; not in comments
/// `{# … #}` nor raw blocks), each with the line it starts on, in order. Tera's strings take
/// `"`, `'` or a backtick and have no escapes: their value is their text.
fn literals_in_tags(template: &str) -> Vec<(String, usize)> {
    let bytes = template.as_bytes();
    let mut literals = Vec::new();
    let mut at = 0;
    let mut line = 1;
    // The closing delimiter of the tag `at` is in, if it is in one.
    let mut closing: Option<&[u8]> = None;
    while at < bytes.len() {
        let rest = &bytes[at..];
        match closing {
            None if rest.starts_with(b"{#") => {
                let end = find(bytes, at + 2, b"#}").map_or(bytes.len(), |end| end + 2);
                line += count_lines(&bytes[at..end]);
                at = end;
                continue;
            }
            None if is_raw_block_start(rest) => {
                let end = find_raw_block_end(bytes, at).unwrap_or(bytes.len());
                line += count_lines(&bytes[at..end]);
                at = end;
                continue;
            }
            None if rest.starts_with(b"{{") => closing = Some(b"}}"),
            None if rest.starts_with(b"{%") => closing = Some(b"%}"),
            Some(end) if rest.starts_with(end) => closing = None,
            Some(_) if matches!(rest[0], b'"' | b'\'' | b'`') => {
                let quote = rest[0];
                if let Some(length) = rest[1..].iter().position(|&byte| byte == quote) {
                    let value = &template[at + 1..at + 1 + length];
                    literals.push((value.to_owned(), line));
                    line += count_lines(value.as_bytes());
                    at += length + 2;
                    continue;
                }
            }
            _ => {}
        }
        if bytes[at] == b'\n' {
            line += 1;
        }
        at += 1;
    }
    literals
}

/// `{% raw %}` (with any `-` of whitespace control) starts `rest`.
fn is_raw_block_start(rest: &[u8]) -> bool {
    let Some(tag) = rest.strip_prefix(b"{%") else {
        return false;
    };
    let tag = tag.strip_prefix(b"-").unwrap_or(tag).trim_ascii_start();
    let Some(after_name) = tag.strip_prefix(b"raw") else {
        return false;
    };
    let after_name = after_name.trim_ascii_start();
    after_name.starts_with(b"%}") || after_name.starts_with(b"-%}")
}

/// Where the raw block starting at `from` ends: after its `{% endraw %}`.
fn find_raw_block_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from + 2;
    while let Some(tag) = find(bytes, at, b"{%") {
        let inside = bytes[tag + 2..]
            .strip_prefix(b"-")
            .unwrap_or(&bytes[tag + 2..]);
        if inside.trim_ascii_start().starts_with(b"endraw") {
            return find(bytes, tag, b"%}").map(|end| end + 2);
        }
        at = tag + 2;
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| from + offset)
}

/// The line feeds in `bytes`.
fn count_lines(bytes: &[u8]) -> usize {
    bytes.split(|&byte| byte == b'\n').count() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_and_paths(template: &str) -> Vec<(usize, String)> {
        asset_calls(template)
            .unwrap()
            .into_iter()
            .map(|call| (call.line, call.path))
            .collect()
    }

    /// Tera's parse holds no positions: each call takes the first literal of its path not yet
    /// taken in the tags, so the same path in text, comments or raw blocks, or twice, is put
    /// on its own line.
    #[test]
    fn a_call_is_put_on_the_line_of_its_literal_in_the_tags() {
        let template = "<a href=\"css/a.css\">css/a.css</a>\n\
                        {# {{ static(path=\"css/a.css\") }} #}\n\
                        {% raw %}\n{{ static(path='css/a.css') }}\n{% endraw %}\n\
                        {{ static(path='css/a.css') }}\n\
                        {% if x %}\n  {{ integrity(path=`css/a.css`, algorithm=\"sha512\") }}\n{% endif %}\n\
                        {{ static(\n  path=\"css/b.css\"\n) }}";
        assert_eq!(
            lines_and_paths(template),
            [
                (6, "css/a.css".to_owned()),
                (8, "css/a.css".to_owned()),
                (11, "css/b.css".to_owned()),
            ]
        );
    }

    #[test]
    fn literals_in_tags_skip_comments_and_raw_blocks() {
        let template = "'text' {{ 'a' ~ \"b\" }}\n{#- 'comment' -#}{%- raw -%}'raw'{% endraw %}\
                        {% set c = `c` %}";
        assert_eq!(
            literals_in_tags(template),
            [
                ("a".to_owned(), 1),
                ("b".to_owned(), 1),
                ("c".to_owned(), 2)
            ]
        );
    }
}
