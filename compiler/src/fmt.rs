//! The canonical layout of a configuration (`hapee-lb fmt`): section lines flush left, everything
//! inside a section indented by four spaces, one space between words, comments and blank-line
//! grouping kept (runs of blank lines folded to one), and quotes dropped only where the word
//! means exactly the same without them. Formatting works on the lossless syntax tree, so the
//! words HAProxy reads are unchanged: the configuration means the same after formatting.

use crate::source::SourceDb;
use crate::syntax::{LineKind, SyntaxFile, Word};

const INDENT: &str = "    ";

/// The raw text of a word, without quotes when they change nothing.
fn word_text<'a>(db: &'a SourceDb, w: &'a Word) -> &'a str {
    let raw = db.text(w.span);
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let plain = !inner.is_empty()
            && inner == w.value.as_str()
            && !inner.bytes().any(|b| {
                b.is_ascii_whitespace() || matches!(b, b'#' | b'"' | b'\'' | b'\\' | b'$')
            });
        if plain {
            return inner;
        }
    }
    raw
}

/// Formats one file of the tree.
pub fn format_file(db: &SourceDb, file: &SyntaxFile) -> String {
    let source = db.file(file.file);
    let mut out = String::with_capacity(source.text.len());
    let mut in_section = false;
    let mut previous_blank = true;
    for line in &file.lines {
        let raw = &source.text[line.span.range()];
        if line.kind == LineKind::Blank || raw.trim().is_empty() {
            if !previous_blank {
                out.push('\n');
            }
            previous_blank = true;
            continue;
        }
        previous_blank = false;
        if line.kind == LineKind::SectionHeader {
            in_section = true;
        }
        let indent = if in_section && line.kind != LineKind::SectionHeader {
            INDENT
        } else {
            ""
        };
        out.push_str(indent);
        if line.kind == LineKind::Comment {
            out.push_str(line.comment.map_or(raw.trim(), |c| db.text(c)).trim_end());
        } else if line.words.is_empty() {
            // A line the lexer could not read, or a scope line: kept verbatim.
            out.push_str(raw.trim());
        } else {
            let words: Vec<&str> = line.words.iter().map(|w| word_text(db, w)).collect();
            out.push_str(&join_words(&line.words, &words));
            if let Some(c) = line.comment {
                out.push(' ');
                out.push_str(db.text(c).trim_end());
            }
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// One space between words, except between pieces of one `${VAR[*]}` expansion, which share
/// their raw text and are written once.
fn join_words(words: &[Word], texts: &[&str]) -> String {
    let mut out = String::new();
    for (i, (w, t)) in words.iter().zip(texts).enumerate() {
        if i > 0 && words[i - 1].span == w.span {
            continue;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}
