//! Byte offsets as lines and columns, for messages.

use super::lexer::is_line_separator;

/// Lines and columns of byte offsets, read forward from the last one asked for, so that
/// locating every import of a long minified line stays linear.
pub(super) struct LineLocator<'s> {
    bytes: &'s [u8],
    offset: usize,
    line: u32,
    /// Characters between the start of the line and `offset`.
    column: u32,
}

impl<'s> LineLocator<'s> {
    pub(super) fn new(bytes: &'s [u8]) -> Self {
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
    pub(super) fn locate(&mut self, target: usize) -> (u32, u32) {
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
