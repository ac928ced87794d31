//! `{{static "css/app.css"}}` and `{{integrity "js/app.js"}}` for Handlebars templates.
//!
//! ```ignore
//! let static_files = StaticFiles::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"), cdnsettings!())?;
//! let mut templates = handlebars::Handlebars::new();
//! cachekiller_core::templates::handlebars::register_asset_helpers(&mut templates, &static_files);
//! // <link rel="stylesheet" href="{{static "css/app.css"}}">
//! ```

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonValue, Output, RenderContext,
    RenderError, RenderErrorReason,
};

use super::check::{AssetCall, AssetKind};
use crate::service::StaticFiles;

/// Registers `{{static "…"}}` (the URL `cdnstatic!` would give, written as it is: helpers'
/// output is not escaped) and `{{integrity "…" "sha384"}}` on `handlebars`. An unknown file
/// is a render error naming the path and the closest existing one (Handlebars adds the
/// template and line).
pub fn register_asset_helpers(handlebars: &mut Handlebars<'_>, static_files: &StaticFiles) {
    handlebars.register_helper(
        "static",
        Box::new(AssetHelper {
            static_files: static_files.clone(),
            integrity: false,
        }),
    );
    handlebars.register_helper(
        "integrity",
        Box::new(AssetHelper {
            static_files: static_files.clone(),
            integrity: true,
        }),
    );
}

struct AssetHelper {
    static_files: StaticFiles,
    integrity: bool,
}

impl HelperDef for AssetHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        helper: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = if self.integrity {
            "integrity"
        } else {
            "static"
        };
        let failed = |message: String| RenderError::from(RenderErrorReason::Other(message));
        let path = helper
            .param(0)
            .and_then(|parameter| parameter.value().as_str())
            .ok_or_else(|| failed(format!("{{{{{name} \"…\"}}}} takes a path, a string")))?;
        let value = if self.integrity {
            let algorithm = super::integrity_algorithm(
                helper
                    .param(1)
                    .and_then(|parameter| parameter.value().as_str()),
            )
            .map_err(failed)?;
            self.static_files.integrity(path, algorithm)
        } else {
            self.static_files.url(path)
        };
        let value = value.map_err(|error| failed(error.to_string()))?;
        out.write(&value)?;
        Ok(())
    }
}

/// The literal asset calls Handlebars makes when it renders `template`: `{{static "…"}}` and
/// `{{integrity "…" "…"}}` with a string literal for the path, wherever a helper is called
/// (`{{ }}`, `{{{ }}}` and `{{~ ~}}` expressions, blocks and their `else`, subexpressions
/// `(static "…")` in any helper's or partial's parameters and hash, partial blocks), read
/// from Handlebars' own parse, which leaves out comments, raw blocks and escaped `\{{`. The
/// line is that of the `{{` that holds the call, which is the line Handlebars reports when
/// the call fails at render.
pub(super) fn asset_calls(template: &str) -> Result<Vec<AssetCall>, String> {
    let parsed = Template::compile(template).map_err(|error| error.to_string())?;
    let mut calls = Vec::new();
    // Explicit stacks: templates in blocks, and elements with the line of their `{{`.
    let mut templates = vec![&parsed];
    let mut elements: Vec<(&TemplateElement, usize)> = Vec::new();
    while !templates.is_empty() || !elements.is_empty() {
        if let Some(nested) = templates.pop() {
            for (element, mapping) in nested.elements.iter().zip(&nested.mapping) {
                elements.push((element, mapping.0));
            }
        }
        if let Some((element, line)) = elements.pop() {
            let (name, params, hash, bodies) = match element {
                TemplateElement::Expression(helper)
                | TemplateElement::HtmlExpression(helper)
                | TemplateElement::HelperBlock(helper) => {
                    calls.extend(asset_call(helper, line));
                    (
                        &helper.name,
                        &helper.params,
                        &helper.hash,
                        [helper.template.as_ref(), helper.inverse.as_ref()],
                    )
                }
                TemplateElement::DecoratorExpression(decorator)
                | TemplateElement::DecoratorBlock(decorator)
                | TemplateElement::PartialExpression(decorator)
                | TemplateElement::PartialBlock(decorator) => (
                    &decorator.name,
                    &decorator.params,
                    &decorator.hash,
                    [decorator.template.as_ref(), None],
                ),
                _ => continue,
            };
            templates.extend(bodies.into_iter().flatten());
            for parameter in std::iter::once(name).chain(params).chain(hash.values()) {
                if let Parameter::Subexpression(subexpression) = parameter {
                    elements.push((subexpression.as_element(), line));
                }
            }
        }
    }
    Ok(calls)
}

/// The asset call `helper` makes, if it calls `static` or `integrity` with a literal path.
fn asset_call(helper: &HelperTemplate, line: usize) -> Option<AssetCall> {
    let literal = |index: usize| match helper.params.get(index) {
        Some(Parameter::Literal(JsonValue::String(value))) => Some(value.clone()),
        _ => None,
    };
    let name = helper.name.as_name()?;
    let path = literal(0)?;
    let kind = AssetKind::named(name, || literal(1))?;
    Some(AssetCall { line, path, kind })
}
