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
    let mut out = String::with_capacity(db.file(file.file).text.len());
    for line in formatted_lines(db, file).into_iter().flatten() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Each line of the file as [`format_file`] writes it (without its line feed), or `None` for
/// a line it leaves out (a blank line after another, at the start or at the end). Editors get
/// their edits line by line from this, so that what formatting leaves alone stays untouched.
pub fn formatted_lines(db: &SourceDb, file: &SyntaxFile) -> Vec<Option<String>> {
    let source = db.file(file.file);
    let mut out = Vec::with_capacity(file.lines.len());
    let mut in_section = false;
    let mut previous_blank = true;
    for (index, line) in file.lines.iter().enumerate() {
        // A `\r` alone ends HAProxy's reading of the line but not the line: what follows it
        // (which an editor shows as lines of their own) is kept as written, and so is the line.
        if source.may_have_lone_cr() {
            let whole = &source.text[source.line_range(index)];
            if whole.contains('\r') {
                out.push(Some(whole.to_string()));
                previous_blank = false;
                in_section |= line.kind == LineKind::SectionHeader;
                continue;
            }
        }
        let raw = &source.text[line.span.range()];
        if line.kind == LineKind::Blank || raw.trim().is_empty() {
            out.push((!previous_blank).then(String::new));
            previous_blank = true;
            continue;
        }
        previous_blank = false;
        if line.kind == LineKind::SectionHeader {
            in_section = true;
        }
        let mut text = String::new();
        if in_section && line.kind != LineKind::SectionHeader {
            text.push_str(INDENT);
        }
        if line.kind == LineKind::Comment {
            text.push_str(line.comment.map_or(raw.trim(), |c| db.text(c)).trim_end());
        } else if line.words.is_empty() {
            // A line the lexer could not read, or a scope line: kept verbatim.
            text.push_str(raw.trim());
        } else {
            let words: Vec<&str> = line.words.iter().map(|w| word_text(db, w)).collect();
            text.push_str(&join_words(&line.words, &words));
            // Words that come to nothing at the end of a line (`maxconn "${UNSET}"`) are not
            // among the words HAProxy reads, but they are the file's text: with the variable
            // set they are read. Kept as written.
            let end = line.comment.map_or(line.span.end, |c| c.start) as usize;
            let last = line.words.last().map_or(end, |w| w.span.end as usize);
            let tail = source.text.get(last..end).unwrap_or("").trim();
            if !tail.is_empty() {
                text.push(' ');
                text.push_str(tail);
            }
            if let Some(c) = line.comment {
                text.push(' ');
                text.push_str(db.text(c).trim_end());
            }
        }
        out.push(Some(text));
    }
    // No blank line at the end (every other line is some text).
    for last in out.iter_mut().rev() {
        match last {
            Some(text) if text.is_empty() => *last = None,
            Some(_) => break,
            None => {}
        }
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
