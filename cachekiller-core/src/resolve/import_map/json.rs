//! The map's JSON, escaped for JSON and for the `<script>` element that holds it.

use std::collections::BTreeMap;

/// Writes `entries` as the members of a JSON object, escaped for JSON and for a `<script>`
/// element (`<` as `\u003c`, so no `</script>` can end it).
pub(super) fn write_json_object(entries: &BTreeMap<String, String>, output: &mut String) {
    for (position, (key, value)) in entries.iter().enumerate() {
        if position > 0 {
            output.push(',');
        }
        write_json_string(key, output);
        output.push(':');
        write_json_string(value, output);
    }
}

pub(super) fn write_json_string(text: &str, output: &mut String) {
    use std::fmt::Write as _;
    output.push('"');
    for character in text.chars() {
        match character {
            '"' => output.push_str("\\\""),
            '\\' => output.push_str("\\\\"),
            '<' => output.push_str("\\u003c"),
            character if u32::from(character) < 0x20 => {
                let _ = write!(output, "\\u{:04x}", u32::from(character));
            }
            character => output.push(character),
        }
    }
    output.push('"');
}
