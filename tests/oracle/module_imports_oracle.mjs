// es-module-lexer's and V8's readings of ES modules, the oracles of
// tests/tests/module_lexer_oracle.rs.
//
//   node --experimental-vm-modules module_imports_oracle.mjs NODE_MODULES FILE_LIST [--v8-calls]
//
// FILE_LIST holds one path a line. For each, one JSON line on standard output:
//   {"file": …,
//    "imports": [{"kind": "static" | "dynamic", "specifier": …, "line": …, "column": …},
//                {"kind": "computed", "line": …}, …]   (or "error": "…" when es-module-lexer
//                                                        rejects the module),
//    "requests": […] | null,
//    "calls": [{"kind": "dynamic", …} | {"kind": "computed", …}, …] | null}
// `requests` are the specifiers of the module's import and export declarations as V8 itself
// parses them (`vm.SourceTextModule`'s `dependencySpecifiers`, each once), or null when V8
// does not parse the file as a module (CommonJS with a top-level `return`, …).
//
// `calls` (only with --v8-calls, and only where V8 parses the module) are the module's
// `import(…)` calls as V8 reads them, in the shape of `imports`. V8 has no API that lists them,
// so each word `import` is asked about on its own: the module is parsed again with `# `
// written just before that word. Inside a comment, a string, a template's text or a regular
// expression the two characters are text and V8 still parses the module; where the word is
// code they are a syntax error (`#` starts a private name, which a space cannot follow). So
// V8's own tokenizer, not a reading of ours, says which words are code, and so which `/` was a
// division and which a regular expression. A code word `import` followed by `(` is a call
// (preceded by `.`, not `...`, it is a property: `a.import(…)`); its argument is a literal
// when it is one string literal or one template literal without `${`, followed by `)` or `,`.
// Those last readings are textual, which is enough for the generated modules they are made
// for (tests/tests/module_lexer_oracle.rs): their specifiers hold no quote and no backslash,
// and no method of theirs is named `import` (which would read as a call here).
//
// Kinds: es-module-lexer's minimal build (the v2-shaped one: numeric `t`, `n` left undefined for
// a template with substitutions, where the full build reports a glob) numbers them 1 static
// (re-exports too), 2 dynamic, 3 import.meta (left out: it names no module), 4 and 6 the
// source and defer phases of a static import, 5 and 7 those of a dynamic one. A dynamic import
// without `n` has a computed argument: its line is that of its `import` (`ss`).
// Lines end at \r\n, \n, \r, U+2028 and U+2029; columns count code points from 1, at the
// specifier's opening quote (`s` - 1 for a static import, `s` for a dynamic one).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import vm from 'node:vm';

const [nodeModules, fileList, ...options] = process.argv.slice(2);
const withCalls = options.includes('--v8-calls');
// Resolved through the package's own `exports`, from the node_modules tests/run installed.
const require = createRequire(join(nodeModules, '..', 'package.json'));
const { init, parse } = require('es-module-lexer/minimal');
await init();

const STATIC = new Set([1, 4, 6]);
const DYNAMIC = new Set([2, 5, 7]);

function lineStarts(source) {
  const starts = [0];
  for (const match of source.matchAll(/\r\n|[\n\r\u2028\u2029]/g)) {
    starts.push(match.index + match[0].length);
  }
  return starts;
}

function locate(source, starts, offset) {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  const column = [...source.slice(starts[low], offset)].length + 1;
  return { line: low + 1, column };
}

function parsesAsModule(source) {
  try {
    new vm.SourceTextModule(source);
    return true;
  } catch {
    return false;
  }
}

// The `import(…)` calls of a module V8 parses (see `calls` above).
function v8Calls(source, starts) {
  const calls = [];
  for (const { index } of source.matchAll(/(?<![\w$\\\u0080-\uffff])import(?![\w$\\\u0080-\uffff])/g)) {
    if (parsesAsModule(`${source.slice(0, index)}# ${source.slice(index)}`)) continue;
    const before = source.slice(0, index).trimEnd();
    if (before.endsWith('.') && !before.endsWith('...')) continue;
    const after = source.slice(index + 'import'.length);
    const open = after.match(/^\s*\(\s*/);
    if (open === null) continue;
    const argumentAt = index + 'import'.length + open[0].length;
    const literal = source
      .slice(argumentAt)
      .match(/^(?:"([^"\\\n]*)"|'([^'\\\n]*)'|`([^`\\$]*)`)\s*[,)]/);
    if (literal === null) {
      calls.push({ kind: 'computed', line: locate(source, starts, index).line });
    } else {
      const specifier = literal[1] ?? literal[2] ?? literal[3];
      calls.push({ kind: 'dynamic', specifier, ...locate(source, starts, argumentAt) });
    }
  }
  return calls;
}

for (const file of readFileSync(fileList, 'utf8').split('\n').filter(Boolean)) {
  let source = readFileSync(file, 'utf8');
  // A browser drops the byte order mark when it decodes the module; es-module-lexer would read
  // it as the start of the first word (and miss an `import` right after it).
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  let requests = null;
  try {
    requests = new vm.SourceTextModule(source).dependencySpecifiers;
  } catch {
    // Not a module V8 accepts: es-module-lexer's reading is the only one.
  }
  const starts = lineStarts(source);
  const calls = withCalls && requests !== null ? v8Calls(source, starts) : null;
  let imports;
  try {
    [imports] = parse(source);
  } catch (error) {
    console.log(JSON.stringify({ file, error: String(error.message ?? error), requests, calls }));
    continue;
  }
  const found = [];
  for (const { t, n, s, ss } of imports) {
    if (STATIC.has(t)) {
      found.push({ kind: 'static', specifier: n, ...locate(source, starts, s - 1) });
    } else if (DYNAMIC.has(t) && n !== undefined) {
      found.push({ kind: 'dynamic', specifier: n, ...locate(source, starts, s) });
    } else if (DYNAMIC.has(t)) {
      found.push({ kind: 'computed', line: locate(source, starts, ss).line });
    } else if (t !== 3) {
      throw new Error(`${file}: an import of a type this oracle does not know: ${t}`);
    }
  }
  console.log(JSON.stringify({ file, imports: found, requests, calls }));
}
