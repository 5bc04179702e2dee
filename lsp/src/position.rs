//! Byte offsets ↔ LSP positions (lines and UTF-16 code units, or bytes when the client
//! offered UTF-8).

use hapee_compiler::source::{SourceFile, Span};
use lsp_types::{Position, Range};

/// How a server counts the columns of positions: in UTF-16 units (the protocol's default) or in
/// bytes, chosen at `initialize` when the client offers UTF-8 (which spares it converting every
/// column it gets). Each server carries its own, so servers sharing a process agree with their
/// own clients only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Encoding {
    bytes: bool,
}

impl Encoding {
    /// The protocol's default: columns in UTF-16 units.
    pub const UTF16: Encoding = Encoding { bytes: false };
    /// Columns in bytes, as the server's texts hold them.
    pub const UTF8: Encoding = Encoding { bytes: true };

    /// Whether columns count bytes.
    pub fn counts_bytes(self) -> bool {
        self.bytes
    }

    /// The LSP position of byte `offset` in `file`.
    pub fn position(self, file: &SourceFile, offset: usize) -> Position {
        if file.may_have_lone_cr() {
            let offset = offset.min(file.text.len());
            let (line, start) = editor_line_of(&file.text, offset);
            return Position {
                line: line as u32,
                character: self.columns(&file.text[start..offset]),
            };
        }
        self.in_line(file, file.line_index(offset), offset)
    }

    /// How many columns `prefix` (the start of a line) spans.
    fn columns(self, prefix: &str) -> u32 {
        if self.bytes || prefix.is_ascii() {
            prefix.len() as u32
        } else {
            prefix.encode_utf16().count() as u32
        }
    }

    /// The offset of `character` columns into `line` (clamped to the line).
    fn column_offset(self, line: &str, character: u32) -> usize {
        if self.bytes {
            return byte_in(line, character);
        }
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= character {
                return i;
            }
            units += c.len_utf16() as u32;
        }
        line.len()
    }

    /// The LSP position of byte `offset` of line `line` of `file`.
    fn in_line(self, file: &SourceFile, line: usize, offset: usize) -> Position {
        let start = file.line_starts()[line] as usize;
        let offset = offset.min(file.text.len());
        let prefix = file.text.get(start..offset).unwrap_or("");
        // ASCII text is one UTF-16 unit per byte: most lines are, and counting them unit by unit
        // was most of the cost of placing thousands of diagnostics.
        Position {
            line: line as u32,
            character: self.columns(prefix),
        }
    }

    pub fn range(self, file: &SourceFile, span: Span) -> Range {
        self.range_near(file, span, &mut 0)
    }

    /// [`Encoding::range`] for spans that mostly come in the order of their lines: the line of `span`'s start
    /// is looked for from `line` on, in steps that double, before the whole file is searched, and
    /// `line` is left at that line (the diagnostics of a large file, placed one after the other,
    /// are a few lines apart).
    pub fn range_near(self, file: &SourceFile, span: Span, line: &mut usize) -> Range {
        if file.may_have_lone_cr() {
            *line = file.line_index(span.start as usize);
            return Range {
                start: self.position(file, span.start as usize),
                end: self.position(file, span.end as usize),
            };
        }
        let starts = file.line_starts();
        let offset = span.start as usize;
        let at_or_before = |l: usize| starts.get(l).is_some_and(|&s| s as usize <= offset);
        *line = if at_or_before(*line) {
            // The line is at or after `line`: bracket it, then search the bracket.
            let (mut low, mut step) = (*line, 1);
            while at_or_before(low + step) {
                low += step;
                step *= 2;
            }
            let high = (low + step).min(starts.len());
            low + starts[low..high].partition_point(|&s| s as usize <= offset) - 1
        } else {
            file.line_index(offset)
        };
        let start = self.in_line(file, *line, offset);
        // Most spans end on the line they start on: that line is tried before a search.
        let line = start.line as usize;
        let next_line = file.line_starts().get(line + 1).map(|&s| s as usize);
        let on_line = span.end >= span.start && next_line.is_none_or(|n| (span.end as usize) < n);
        let end = if on_line {
            self.in_line(file, line, span.end as usize)
        } else {
            self.position(file, span.end as usize)
        };
        Range { start, end }
    }

    /// The byte offset of an LSP position (clamped to the line and the text).
    pub fn offset(self, file: &SourceFile, pos: Position) -> usize {
        if file.may_have_lone_cr() {
            return self.editor_offset(file, pos);
        }
        let starts = file.line_starts();
        let Some(&start) = starts.get(pos.line as usize) else {
            return file.text.len();
        };
        let range = file.line_range(pos.line as usize);
        start as usize + self.column_offset(&file.text[range], pos.character)
    }

    /// The byte offset of an LSP position in a document being edited, found with its line index
    /// (clamped to the line, before its line feed, and to the text).
    pub fn line_offset(self, file: &SourceFile, pos: Position) -> usize {
        if file.may_have_lone_cr() {
            return self.editor_offset(file, pos);
        }
        let text = file.text.as_str();
        let starts = file.line_starts();
        let Some(&start) = starts.get(pos.line as usize) else {
            return text.len();
        };
        let start = start as usize;
        // The next line's start is just after this line's line feed.
        let line_end = starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |&next| next as usize - 1);
        start + self.column_offset(&text[start..line_end], pos.character)
    }
}

impl Encoding {
    /// [`Encoding::offset`] in a text whose lines an editor ends at `\r` too.
    fn editor_offset(self, file: &SourceFile, pos: Position) -> usize {
        let text = &file.text;
        let Some(start) = editor_line_start(text, pos.line as usize) else {
            return text.len();
        };
        let end = memchr::memchr2(b'\n', b'\r', &text.as_bytes()[start..])
            .map_or(text.len(), |i| start + i);
        start + self.column_offset(&text[start..end], pos.character)
    }
}

/// Where the line holding byte `at` starts as an editor counts lines: after the last `\n` or
/// `\r` before it (HAProxy's lines end at `\n` only; see [`SourceFile::may_have_lone_cr`]).
pub fn line_start(file: &SourceFile, at: usize) -> usize {
    let at = at.min(file.text.len());
    if !file.may_have_lone_cr() {
        return file.line_starts()[file.line_index(at)] as usize;
    }
    memchr::memrchr2(b'\n', b'\r', &file.text.as_bytes()[..at]).map_or(0, |i| i + 1)
}

/// The line ends of `text` as an editor counts them: each `\n`, and each `\r` not before a
/// `\n`; the offsets just after them.
fn editor_line_ends(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(b'\n', b'\r', bytes)
        .filter(move |&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n'))
        .map(|i| i + 1)
}

/// The editor's line holding byte `at` of `text`, and where it starts.
fn editor_line_of(text: &str, at: usize) -> (usize, usize) {
    editor_line_ends(text)
        .take_while(|&end| end <= at)
        .fold((0, 0), |(line, _), end| (line + 1, end))
}

/// Where the editor's line `line` of `text` starts, if it has one.
fn editor_line_start(text: &str, line: usize) -> Option<usize> {
    match line {
        0 => Some(0),
        n => editor_line_ends(text).nth(n - 1),
    }
}

/// The byte offset in `line` of a position `character` bytes in: clamped to the line, and
/// back to the start of a character it would cut.
fn byte_in(line: &str, character: u32) -> usize {
    let mut i = (character as usize).min(line.len());
    while !line.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offset of every position of a text (the line feeds counted, characters outside
    /// ASCII taking their UTF-16 units), and positions past a line's end or the text's.
    #[test]
    fn text_offsets_of_positions() {
        let text = "global\n  maxconn é10\n\nlast 𝄞x";
        let file = SourceFile::new("a.cfg", text);
        let utf16 = Encoding::UTF16;
        let at = |line, character| utf16.line_offset(&file, Position { line, character });
        assert_eq!(at(0, 0), 0);
        assert_eq!(at(0, 3), 3);
        assert_eq!(at(0, 99), 6, "clamped to the line's end");
        assert_eq!(at(1, 0), 7);
        assert_eq!(at(1, 11), 7 + 10 + 2, "é is one unit and two bytes");
        assert_eq!(at(2, 0), 22);
        assert_eq!(at(3, 5), 28);
        assert_eq!(at(3, 7), 28 + 4, "𝄞 is two units and four bytes");
        assert_eq!(at(3, 9), text.len());
        assert_eq!(at(4, 0), text.len(), "past the last line");
        // Counting bytes, the same columns are bytes (a column inside a character goes back
        // to its start), whichever encoding another server in the process counts in.
        let bytes =
            |line, character| Encoding::UTF8.line_offset(&file, Position { line, character });
        assert_eq!(bytes(1, 11), 7 + 10, "inside é");
        assert_eq!(bytes(1, 12), 7 + 10 + 2);
        assert_eq!(bytes(3, 7), 28, "inside 𝄞");
        assert_eq!(bytes(3, 9), 28 + 4);
        assert_eq!(at(3, 7), 28 + 4, "the other encoding is not disturbed");
        let offset = |line, character| Encoding::UTF8.offset(&file, Position { line, character });
        assert_eq!(offset(3, 9), 28 + 4);
        assert_eq!(offset(3, 10), text.len());
    }

    /// A span's range is the positions of its ends, whether it ends on its first line or not.
    #[test]
    fn ranges_are_the_positions_of_their_ends() {
        let text = "global\n  maxconn é10\n\nlast 𝄞x\n";
        let file = SourceFile::new("a.cfg", text);
        let ends: Vec<u32> = (0..=text.len() as u32 + 2)
            .filter(|&i| text.is_char_boundary((i as usize).min(text.len())))
            .collect();
        for enc in [Encoding::UTF16, Encoding::UTF8] {
            for &start in &ends {
                for &end in &ends {
                    let span = Span {
                        file: hapee_compiler::FileId(0),
                        start,
                        end,
                    };
                    let want = Range {
                        start: enc.position(&file, start as usize),
                        end: enc.position(&file, end as usize),
                    };
                    assert_eq!(enc.range(&file, span), want, "{start}..{end}");
                    for hint in 0..6 {
                        let mut line = hint;
                        assert_eq!(enc.range_near(&file, span, &mut line), want);
                        assert_eq!(line as u32, want.start.line);
                    }
                }
            }
        }
    }
}
