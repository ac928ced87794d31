//! `static("css/app.css")` and `integrity("js/app.js")` for `MiniJinja` templates.
//!
//! ```ignore
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let mut templates = minijinja::Environment::new();
//! cachekiller_core::templates::minijinja::add_asset_functions(&mut templates, static_files.clone());
//! // <link rel="stylesheet" href="{{ static('css/app.css') }}">
//! ```

use minijinja::machinery::{self, ast};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

use super::check::{AssetCall, AssetKind};
use crate::service::StaticFiles;

/// Adds `static(path)` (the URL `cdnstatic!` would give, a safe string: not escaped) and
/// `integrity(path, algorithm="sha384")` to `environment`. An unknown file is a render error
/// naming the template, the line, the path and the closest existing one.
pub fn add_asset_functions(environment: &mut Environment<'_>, static_files: StaticFiles) {
    let urls = static_files.clone();
    // The template's values, kept as long as the service keeps the URLs (a `Value` clone is a
    // reference count, where a new safe string from `url()` would be two allocations).
    let values = crate::service::url_memo::<Value>();
    environment.add_function("static", move |path: &str| -> Result<Value, Error> {
        // Made past the service's memo: this one is the only one on the way.
        values.get_or_make(path, || {
            urls.make_url(path)
                .map(Value::from_safe_string)
                .map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))
        })
    });
    environment.add_function(
        "integrity",
        move |path: &str, algorithm: Option<&str>| -> Result<Value, Error> {
            let algorithm = super::integrity_algorithm(algorithm)
                .map_err(|message| Error::new(ErrorKind::InvalidOperation, message))?;
            static_files
                .integrity(path, algorithm)
                .map(Value::from_safe_string)
                .map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))
        },
    );
}

/// The literal asset calls `MiniJinja` makes when it renders `template`: `static('…')` and
/// `integrity('…', '…')` with a constant first argument (a string, or constants it folds:
/// `'css/' ~ 'app.css'`), wherever an expression stands (output, filters and their
/// arguments, tests, conditions, loops, `set`, `with`, macros' bodies and defaults, `call`
/// blocks, `include` and `extends` names), read from `MiniJinja`'s own parse: its escapes
/// resolved, its comments and raw blocks left out. The line is that of the path's literal,
/// which is the line `MiniJinja` reports when the call fails at render.
pub(super) fn asset_calls(template: &str) -> Result<Vec<AssetCall>, String> {
    let parsed = machinery::parse(template, "<template>", SyntaxConfig::default())
        .map_err(|error| error.to_string())?;
    let mut calls = Vec::new();
    // Explicit stacks: a template's nesting is as deep as its author made it.
    let mut statements: Vec<&ast::Stmt<'_>> = vec![&parsed];
    let mut expressions: Vec<&ast::Expr<'_>> = Vec::new();
    while !statements.is_empty() || !expressions.is_empty() {
        if let Some(statement) = statements.pop() {
            children_of_statement(statement, &mut statements, &mut expressions);
        }
        if let Some(expression) = expressions.pop() {
            if let ast::Expr::Call(call) = expression {
                calls.extend(asset_call(call));
            }
            children_of_expression(expression, &mut expressions);
        }
    }
    Ok(calls)
}

/// The asset call `call` makes, if it calls `static` or `integrity` with a constant path.
fn asset_call(call: &ast::Call<'_>) -> Option<AssetCall> {
    let ast::Expr::Var(function) = &call.expr else {
        return None;
    };
    let mut positional = call.args.iter().filter_map(|argument| match argument {
        ast::CallArg::Pos(expression) => Some(expression),
        _ => None,
    });
    let path_expression = positional.next()?;
    let path = path_expression.as_const()?.as_str()?.to_owned();
    let kind = AssetKind::named(function.id, || {
        positional
            .next()
            .and_then(ast::Expr::as_const)
            .and_then(|algorithm| algorithm.as_str().map(str::to_owned))
    })?;
    Some(AssetCall {
        line: usize::from(path_expression.span().start_line),
        path,
        kind,
    })
}

/// Pushes the statements and expressions `statement` holds.
// The statements without expressions are left to the wildcard: `Continue` and `Break` exist
// only with MiniJinja's feature `loop_controls`, which an application may turn on.
#[allow(clippy::match_wildcard_for_single_variants)]
fn children_of_statement<'a>(
    statement: &'a ast::Stmt<'a>,
    statements: &mut Vec<&'a ast::Stmt<'a>>,
    expressions: &mut Vec<&'a ast::Expr<'a>>,
) {
    match statement {
        ast::Stmt::Template(template) => statements.extend(&template.children),
        ast::Stmt::EmitExpr(emit) => expressions.push(&emit.expr),
        ast::Stmt::ForLoop(for_loop) => {
            expressions.push(&for_loop.iter);
            expressions.extend(&for_loop.filter_expr);
            statements.extend(&for_loop.body);
            statements.extend(&for_loop.else_body);
        }
        ast::Stmt::IfCond(condition) => {
            expressions.push(&condition.expr);
            statements.extend(&condition.true_body);
            statements.extend(&condition.false_body);
        }
        ast::Stmt::WithBlock(with) => {
            expressions.extend(with.assignments.iter().map(|(_, value)| value));
            statements.extend(&with.body);
        }
        ast::Stmt::Set(set) => expressions.push(&set.expr),
        ast::Stmt::SetBlock(set) => {
            expressions.extend(&set.filter);
            statements.extend(&set.body);
        }
        ast::Stmt::AutoEscape(auto_escape) => {
            expressions.push(&auto_escape.enabled);
            statements.extend(&auto_escape.body);
        }
        ast::Stmt::FilterBlock(filter) => {
            expressions.push(&filter.filter);
            statements.extend(&filter.body);
        }
        ast::Stmt::Block(block) => statements.extend(&block.body),
        ast::Stmt::Import(import) => expressions.push(&import.expr),
        ast::Stmt::FromImport(import) => expressions.push(&import.expr),
        ast::Stmt::Extends(extends) => expressions.push(&extends.name),
        ast::Stmt::Include(include) => expressions.push(&include.name),
        ast::Stmt::Macro(definition) => {
            expressions.extend(&definition.defaults);
            statements.extend(&definition.body);
        }
        ast::Stmt::CallBlock(block) => {
            push_call(&block.call, expressions);
            expressions.extend(&block.macro_decl.defaults);
            statements.extend(&block.macro_decl.body);
        }
        ast::Stmt::Do(call) => push_call(&call.call, expressions),
        _ => {}
    }
}

/// Pushes a call that stands as a statement (`{% do %}`, `{% call %}`): its callee and
/// arguments, and itself as a call.
fn push_call<'a>(call: &'a ast::Call<'a>, expressions: &mut Vec<&'a ast::Expr<'a>>) {
    expressions.push(&call.expr);
    expressions.extend(call.args.iter().map(argument_expression));
}

/// Pushes the expressions `expression` holds.
fn children_of_expression<'a>(
    expression: &'a ast::Expr<'a>,
    expressions: &mut Vec<&'a ast::Expr<'a>>,
) {
    match expression {
        ast::Expr::Var(_) | ast::Expr::Const(_) => {}
        ast::Expr::Slice(slice) => {
            expressions.push(&slice.expr);
            expressions.extend(&slice.start);
            expressions.extend(&slice.stop);
            expressions.extend(&slice.step);
        }
        ast::Expr::UnaryOp(operation) => expressions.push(&operation.expr),
        ast::Expr::BinOp(operation) => {
            expressions.push(&operation.left);
            expressions.push(&operation.right);
        }
        ast::Expr::Compare(comparison) => {
            expressions.push(&comparison.expr);
            expressions.extend(comparison.ops.iter().map(|operation| &operation.expr));
        }
        ast::Expr::IfExpr(condition) => {
            expressions.push(&condition.test_expr);
            expressions.push(&condition.true_expr);
            expressions.extend(&condition.false_expr);
        }
        ast::Expr::Filter(filter) => {
            expressions.extend(&filter.expr);
            expressions.extend(filter.args.iter().map(argument_expression));
        }
        ast::Expr::Test(test) => {
            expressions.push(&test.expr);
            expressions.extend(test.args.iter().map(argument_expression));
        }
        ast::Expr::GetAttr(attribute) => expressions.push(&attribute.expr),
        ast::Expr::GetItem(item) => {
            expressions.push(&item.expr);
            expressions.push(&item.subscript_expr);
        }
        ast::Expr::Call(call) => {
            expressions.push(&call.expr);
            expressions.extend(call.args.iter().map(argument_expression));
        }
        ast::Expr::List(list) => expressions.extend(&list.items),
        ast::Expr::Tuple(tuple) => expressions.extend(&tuple.items),
        ast::Expr::Map(map) => {
            expressions.extend(&map.keys);
            expressions.extend(&map.values);
        }
    }
}

fn argument_expression<'a>(argument: &'a ast::CallArg<'a>) -> &'a ast::Expr<'a> {
    match argument {
        ast::CallArg::Pos(expression)
        | ast::CallArg::Kwarg(_, expression)
        | ast::CallArg::PosSplat(expression)
        | ast::CallArg::KwargSplat(expression) => expression,
    }
}
