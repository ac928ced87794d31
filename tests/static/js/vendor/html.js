// A vendored library, named by a bare specifier: `[package.metadata.cachekiller.imports]`.
export const html = (strings, ...values) =>
  strings.reduce((markup, text, index) => markup + text + (values[index] ?? ""), "");
