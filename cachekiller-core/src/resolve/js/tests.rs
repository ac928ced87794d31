//! The lexer's rules, one case each (see the module docs of `resolve::js`).

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
