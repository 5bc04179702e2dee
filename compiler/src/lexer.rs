//! HAProxy's word rules for one configuration line, on top of a `logos` tokenizer.
//!
//! The tokenizer splits a line into spaces, comments, quoted strings, escapes and plain text;
//! [`lex_line`] then glues adjacent pieces into words and cooks them exactly as HAProxy's
//! `parse_line` does: weak (`"…"`) and strong (`'…'`) quotes, backslash escapes, `$VAR` expansion
//! inside double quotes only (`${VAR}`, `${VAR-default}`, `${VAR[*]}`, `.LINE`/`.FILE`/`.SECTION`),
//! `#` comments anywhere outside quotes, and the 64-word limit. Every word keeps the span of its
//! raw text and its cooked value.

use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::source::{FileId, Span};
use crate::syntax::{Environment, Word};
use logos::Logos;

/// Most words a line may hold (`MAX_LINE_ARGS`).
pub const MAX_LINE_WORDS: usize = 64;

/// The most words [`plain_words`] takes on its fast path.
const PLAIN_LINE_WORDS: usize = 24;

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    #[regex(r"[ \t\x0b\x0c]+")]
    Space,
    #[regex(r"#.*")]
    Comment,
    /// A double-quoted string, closed (`true`) or running to the line's end. Quoted strings
    /// are scanned by hand: as patterns, the generated matcher called itself once per
    /// character, and a long string overflowed the stack.
    #[token("\"", double_quoted)]
    DoubleQuoted(bool),
    /// A single-quoted string, closed (`true`) or running to the line's end.
    #[token("'", single_quoted)]
    SingleQuoted(bool),
    /// A lone backslash: what follows is read by the escape rules (a regex `.` would cut UTF-8).
    #[token("\\")]
    Escape,
    #[regex(r#"[^ \t\x0b\x0c#"'\\]+"#)]
    Text,
}

/// Takes the rest of a double-quoted string (backslash escapes included): whether it is closed.
fn double_quoted(lex: &mut logos::Lexer<Piece>) -> bool {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'"' => {
                lex.bump(i + 1);
                return true;
            }
            // The escaped character is skipped whatever it is (a byte of it suffices: the
            // bytes looked for are ASCII, never part of a longer character).
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    lex.bump(rest.len());
    false
}

/// Takes the rest of a single-quoted string (no escapes inside): whether it is closed.
fn single_quoted(lex: &mut logos::Lexer<Piece>) -> bool {
    let rest = lex.remainder();
    let (taken, closed) = rest
        .find('\'')
        .map_or((rest.len(), false), |i| (i + 1, true));
    lex.bump(taken);
    closed
}

/// The byte a `\xHH` escape at the start of `text` gives, if it is one.
fn hex_escape(text: &[u8]) -> Option<u8> {
    match text {
        [b'\\', b'x', h, l, ..] => {
            let digit = |c: &u8| (*c as char).to_digit(16);
            Some((digit(h)? * 16 + digit(l)?) as u8)
        }
        _ => None,
    }
}

/// What the pseudo-variables expand to on this line.
pub struct LineContext<'a> {
    pub file: FileId,
    /// Byte offset of the line in its file.
    pub offset: usize,
    pub file_name: &'a str,
    pub line_number: usize,
    /// Name of the current section (`.SECTION`).
    pub section: &'a str,
    pub env: &'a dyn Environment,
}

/// The words of one line, its trailing comment, and any lexical error (the line is then unusable,
/// as in HAProxy).
#[derive(Debug, Default)]
pub struct LexedLine {
    pub words: thin_vec::ThinVec<Word>,
    pub comment: Option<Span>,
    pub error: Option<Diagnostic>,
}

/// Which lexical error stopped the line (HAProxy reports them in this priority).
enum Stop {
    Brace(usize),
    VarName(usize),
    Hex(usize),
    Expand(usize),
}

struct Cooker<'c, 'a> {
    ctx: &'c LineContext<'a>,
    line: &'c str,
    words: thin_vec::ThinVec<Word>,
    value: compact_str::CompactString,
    start: Option<usize>,
    end: usize,
    /// HAProxy's argument index: incremented by every separator.
    arg: usize,
    too_many: bool,
}

impl Cooker<'_, '_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(
            self.ctx.file,
            self.ctx.offset + start,
            self.ctx.offset + end,
        )
    }

    fn touch(&mut self, start: usize, end: usize) {
        if self.start.is_none() {
            self.start = Some(start);
        }
        self.end = end;
    }

    /// A separator: closes the current word (even an empty one) and opens the next.
    fn separate(&mut self) {
        let start = self.start.take().unwrap_or(self.end);
        let word = Word {
            span: self.span(start, self.end),
            value: std::mem::take(&mut self.value),
        };
        self.words.push(word);
        self.arg += 1;
        if self.arg >= MAX_LINE_WORDS {
            self.too_many = true;
        }
    }

    fn finish(mut self) -> (thin_vec::ThinVec<Word>, bool) {
        // The last word only counts when it has content (HAProxy drops a trailing empty one).
        if !self.value.is_empty() {
            let start = self.start.unwrap_or(self.end);
            let word = Word {
                span: self.span(start, self.end),
                value: std::mem::take(&mut self.value),
            };
            self.words.push(word);
        }
        (self.words, self.too_many)
    }

    /// Cooks `\c` at byte `at` (the backslash); returns bytes consumed.
    fn escape(&mut self, at: usize, in_dquote: bool) -> Result<usize, Stop> {
        let rest = &self.line.as_bytes()[at..];
        let next = rest.get(1).copied();
        let (out, used): (Option<char>, usize) = match next {
            Some(b' ') => (Some(' '), 2),
            Some(b'\\') => (Some('\\'), 2),
            Some(b't') => (Some('\t'), 2),
            Some(b'n') => (Some('\n'), 2),
            Some(b'r') => (Some('\r'), 2),
            Some(b'#') => (Some('#'), 2),
            Some(b'\'') => (Some('\''), 2),
            Some(b'"') => (Some('"'), 2),
            Some(b'$') if in_dquote => (Some('$'), 2),
            Some(b'x') => {
                let Some(byte) = hex_escape(rest) else {
                    return Err(Stop::Hex(at));
                };
                if byte < 0x80 {
                    (Some(char::from(byte)), 4)
                } else {
                    return Ok(self.escaped_bytes(rest));
                }
            }
            _ => (Some('\\'), 1),
        };
        if let Some(c) = out {
            self.value.push(c);
        }
        Ok(used)
    }

    /// Cooks the run of `\xHH` escapes at the start of `rest` (the first one of a byte above
    /// 0x7F): HAProxy puts those bytes in the word as they are, so bytes that spell UTF-8
    /// (`\xC3\xA9`) become their character; the others (a lone `\xE9`) are carried as
    /// [`crate::bytestr`] keeps bytes, and leave as that byte. Returns bytes consumed.
    fn escaped_bytes(&mut self, rest: &[u8]) -> usize {
        let mut bytes = Vec::new();
        while let Some(byte) = rest.get(bytes.len() * 4..).and_then(hex_escape) {
            bytes.push(byte);
        }
        crate::bytestr::push_bytes(&mut self.value, &bytes);
        bytes.len() * 4
    }

    /// Expands `$…` at byte `at` (the dollar) inside double quotes; returns bytes consumed.
    fn variable(&mut self, at: usize, span_start: usize, span_end: usize) -> Result<usize, Stop> {
        let b = self.line.as_bytes();
        let mut i = at + 1;
        let brace = b.get(i) == Some(&b'{');
        if brace {
            i += 1;
        }
        let first = b.get(i).copied().unwrap_or(0);
        if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') {
            return Err(Stop::VarName(i));
        }
        let name_start = i;
        if first == b'.' {
            i += 1;
        }
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let name = &self.line[name_start..i];
        let mut value = if let Some(pseudo) = name.strip_prefix('.') {
            match pseudo {
                "LINE" => Some(self.ctx.line_number.to_string()),
                "FILE" => Some(self.ctx.file_name.to_string()),
                "SECTION" => Some(self.ctx.section.to_string()),
                _ => return Err(Stop::VarName(name_start)),
            }
        } else {
            self.ctx.env.var(name)
        };
        let mut expand = false;
        if brace && b.get(i) == Some(&b'[') {
            if b.get(i + 1) != Some(&b'*') || b.get(i + 2) != Some(&b']') {
                return Err(Stop::Expand(i));
            }
            expand = true;
            i += 3;
        }
        if brace {
            if b.get(i) == Some(&b'-') {
                let close = self.line[i..].find('}').map(|p| p + i);
                let Some(close) = close else {
                    return Err(Stop::Brace(at + 1));
                };
                if value.is_none() {
                    value = Some(self.line[i + 1..close].to_string());
                }
                i = close;
            }
            if b.get(i) != Some(&b'}') {
                return Err(Stop::Brace(at + 1));
            }
            i += 1;
        }
        if let Some(v) = value {
            if expand {
                let mut parts = v.split(|c: char| c.is_ascii_whitespace()).peekable();
                // Consecutive spaces collapse, but a leading space still separates.
                let mut first_part = true;
                while let Some(part) = parts.next() {
                    if !first_part {
                        if part.is_empty() && parts.peek().is_some() {
                            continue;
                        }
                        self.end = span_end;
                        self.separate();
                        self.start = Some(span_start);
                    }
                    first_part = false;
                    self.value.push_str(part);
                }
            } else {
                self.value.push_str(&v);
            }
        }
        Ok(i - at)
    }

    /// Cooks the inside of a double-quoted piece spanning `[start, end)` (quotes included).
    fn double_quoted(&mut self, start: usize, end: usize, closed: bool) -> Result<(), Stop> {
        let inner_end = if closed { end - 1 } else { end };
        let b = self.line.as_bytes();
        let mut i = start + 1;
        while i < inner_end {
            match b[i] {
                b'\\' => i += self.escape(i, true)?,
                b'$' => i += self.variable(i, start, end)?,
                _ => {
                    let run = self.line[i..inner_end]
                        .find(['\\', '$'])
                        .map_or(inner_end, |p| p + i);
                    self.value.push_str(&self.line[i..run]);
                    i = run;
                }
            }
        }
        Ok(())
    }
}

/// Splits one line (without its terminator; a `\r` or NUL ends it early) into words.
pub fn lex_line(line: &str, ctx: &LineContext) -> LexedLine {
    let line = line_content(line);
    match plain_words(line, ctx.file, ctx.offset) {
        Some(words) => LexedLine {
            words,
            comment: None,
            error: None,
        },
        None => lex_cooked(line, ctx),
    }
}

/// The general path: tokenize, then glue and cook the pieces into words (`line` already cut by
/// [`line_content`]; [`lex_line`] takes this path for lines that are not plain).
pub(crate) fn lex_cooked(line: &str, ctx: &LineContext) -> LexedLine {
    let mut cooker = Cooker {
        ctx,
        line,
        // Exact room for the usual case (one word per blank-separated chunk) keeps big configs small.
        words: thin_vec::ThinVec::with_capacity(line.split_ascii_whitespace().count()),
        value: compact_str::CompactString::default(),
        start: None,
        end: 0,
        arg: 0,
        too_many: false,
    };
    let mut comment = None;
    let mut unmatched_quote = None;
    let mut stop = None;
    let mut lexer = Piece::lexer(line);
    // Leading blanks are skipped before HAProxy reads words.
    let mut leading = true;
    while let Some(piece) = lexer.next() {
        let range = lexer.span();
        let (s, e) = (range.start, range.end);
        let Ok(piece) = piece else {
            // Unreachable with the patterns above (they cover every character); keep the text.
            cooker.touch(s, e);
            cooker.value.push_str(&line[s..e]);
            continue;
        };
        if piece == Piece::Space {
            if !leading {
                cooker.separate();
            }
            continue;
        }
        leading = false;
        let result = match piece {
            Piece::Space => Ok(()),
            Piece::Comment => {
                comment = Some(cooker.span(s, e));
                break;
            }
            Piece::Text => {
                cooker.touch(s, e);
                cooker.value.push_str(&line[s..e]);
                Ok(())
            }
            Piece::SingleQuoted(closed) => {
                cooker.touch(s, e);
                cooker
                    .value
                    .push_str(&line[s + 1..if closed { e - 1 } else { e }]);
                if !closed {
                    unmatched_quote = Some(s);
                }
                Ok(())
            }
            Piece::DoubleQuoted(closed) => {
                cooker.touch(s, e);
                if !closed {
                    unmatched_quote = Some(s);
                }
                cooker.double_quoted(s, e, closed)
            }
            Piece::Escape => {
                cooker.touch(s, e);
                match cooker.escape(s, false) {
                    // The escape consumed the characters after the backslash (all ASCII).
                    Ok(used) => {
                        let extra = (used - 1).min(line.len() - e);
                        lexer.bump(extra);
                        cooker.end = e + extra;
                        Ok(())
                    }
                    Err(stop) => Err(stop),
                }
            }
        };
        if let Err(s) = result {
            stop = Some(s);
            break;
        }
    }
    let error = match (stop, unmatched_quote) {
        (Some(Stop::Brace(at)), _) => Some(("unmatched brace in environment variable name", at)),
        (Some(Stop::VarName(at)), _) => {
            Some(("forbidden first char in environment variable name", at))
        }
        (Some(Stop::Hex(at)), _) => Some(("truncated or invalid hexadecimal sequence", at)),
        (Some(Stop::Expand(at)), _) => Some(("truncated or invalid word expansion sequence", at)),
        (None, Some(at)) => Some(("unmatched quote", at)),
        (None, None) => None,
    };
    if let Some((what, at)) = error {
        let span = cooker.span(at, (at + 1).min(line.len()).max(at));
        let d = Diagnostic::new("E001", format!("{what} at position {}:", at + 1))
            .at(span)
            .label(what)
            .form(HaproxyForm::ParsingTight);
        return LexedLine {
            words: thin_vec::ThinVec::new(),
            comment,
            error: Some(lexical_code(d, what)),
        };
    }
    let (words, too_many) = cooker.finish();
    if too_many {
        let last = words
            .get(MAX_LINE_WORDS - 1)
            .map_or("", |w| w.value.as_str())
            .to_string();
        let position: usize = words
            .iter()
            .take(MAX_LINE_WORDS - 1)
            .map(|w| w.value.len() + 1)
            .sum::<usize>()
            + 1;
        let span = words.get(MAX_LINE_WORDS).map_or_else(
            || words.last().map_or(cooker_span(ctx, line), |w| w.span),
            |w| w.span,
        );
        let d = Diagnostic::new(
            "E002",
            format!("too many words, truncating after word {MAX_LINE_WORDS}, position {position}: <{last}>."),
        )
        .at(span)
        .label("65th word")
        .form(HaproxyForm::ParsingTight);
        return LexedLine {
            words: thin_vec::ThinVec::new(),
            comment,
            error: Some(d),
        };
    }
    LexedLine {
        words,
        comment,
        error: None,
    }
}

/// The part of a line the lexer reads, as HAProxy reads it: a `\r` or NUL ends it early.
pub fn line_content(line: &str) -> &str {
    // Both stops are ASCII, so the cut is on a character boundary.
    &line[..memchr::memchr2(b'\r', b'\0', line.as_bytes()).unwrap_or(line.len())]
}

/// [`PLAIN_CLASS`] of a byte that belongs to a word.
const WORD: u8 = 0;
/// [`PLAIN_CLASS`] of a blank between words.
const BLANK: u8 = 1;
/// [`PLAIN_CLASS`] of a quote, escape or comment start: the line takes the long way.
const SPECIAL: u8 = 2;

/// The class of every byte for [`plain_words`]: one table load per byte instead of a chain of
/// comparisons (the scan is most of the lexing of a large file).
static PLAIN_CLASS: [u8; 256] = {
    let mut class = [WORD; 256];
    class[b' ' as usize] = BLANK;
    class[b'\t' as usize] = BLANK;
    class[0x0b] = BLANK;
    class[0x0c] = BLANK;
    class[b'"' as usize] = SPECIAL;
    class[b'\'' as usize] = SPECIAL;
    class[b'\\' as usize] = SPECIAL;
    class[b'#' as usize] = SPECIAL;
    class
};

/// The first position from `at` on whose byte is not of `class` (the end if none): a tight
/// loop over a slice, without the bounds checks of indexing.
fn skip_class(bytes: &[u8], at: usize, class: u8) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| PLAIN_CLASS[usize::from(b)] != class)
        .map_or(bytes.len(), |p| at + p)
}

/// The first position from `at` on whose byte is not a blank: [`skip_class`] for blanks, with
/// a run of spaces (a line's indent) passed eight bytes at a time.
pub(crate) fn skip_blanks(bytes: &[u8], at: usize) -> usize {
    skip_class(bytes, skip_spaces(bytes, at), BLANK)
}

/// The first position from `at` on whose byte is not a space, eight bytes at a time: a line's
/// indent cost a loop turn a byte, three times a line (the parse's look, the build's counts
/// and its scan).
pub(crate) fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut block = [0u8; 8];
        block.copy_from_slice(chunk);
        let other = u64::from_le_bytes(block) ^ SPACES;
        if other != 0 {
            // Little-endian: the lowest non-zero byte is the first that is not a space.
            return at + (other.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b' ')
        .count()
}

/// [`skip_class`] for word bytes, eight bytes at a time: every byte that ends a word (a blank,
/// a quote, an escape or a comment start) is below 0x28 or is a backslash, and the first such
/// byte of a block is found with a few word-wide operations (the byte loop cost most of the
/// scan of a large file, words being most of its bytes). A byte found that belongs to words
/// after all (`!`, `$`, `%`, `&`, a control byte) is stepped over.
fn skip_word(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut block = [0u8; 8];
        block.copy_from_slice(chunk);
        let x = u64::from_le_bytes(block);
        // The lowest flag of each test is exact (a borrow only carries above a true one), so
        // the lowest of both is the first byte below 0x28 or equal to 0x5c.
        let below = x.wrapping_sub(ONES * 0x28) & !x & HIGHS;
        let y = x ^ (ONES * 0x5c);
        let slash = y.wrapping_sub(ONES) & !y & HIGHS;
        let found = below | slash;
        if found == 0 {
            at += 8;
            continue;
        }
        let first = at + (found.trailing_zeros() / 8) as usize;
        if PLAIN_CLASS[usize::from(bytes[first])] != WORD {
            return first;
        }
        at = first + 1;
    }
    skip_class(bytes, at, WORD)
}

/// The words of a line without quotes, escapes or comments (most lines): each word is its raw
/// text, so the tokenizer and the cooking can be skipped. `None` sends the line the long way;
/// `offset` is the line's byte offset in `file`.
pub(crate) fn plain_words(
    line: &str,
    file: FileId,
    offset: usize,
) -> Option<thin_vec::ThinVec<Word>> {
    Some(PlainBounds::scan(line)?.words(line, file, offset))
}

/// The first word of `line` if it is plain (what [`PlainBounds::scan`] accepts) and has a word:
/// the look of a parse that may leave the line unlexed, in one pass that keeps no bounds.
pub(crate) fn plain_first_word(line: &str) -> Option<&str> {
    let mut first = None;
    visit_plain_words(line, |start, end| {
        first.get_or_insert(start..end);
    })?;
    // The bounds are those of ASCII blanks: character boundaries.
    first.map(|range| &line[range])
}

/// The lines of `source` holding a quote, an escape or a comment start: the only lines
/// [`plain_first_word`] refuses for a byte (the others only for their number of words), found
/// in one pass over the whole file instead of one per line.
pub(crate) fn special_lines(source: &crate::source::SourceFile) -> crate::source::LineSet {
    source.lines_holding(&[
        &|bytes| memchr::memchr3(b'"', b'\'', b'#', bytes),
        &|bytes| memchr::memchr(b'\\', bytes),
    ])
}

/// [`plain_first_word`] of a line outside [`special_lines`]: only the first word is read when
/// the line has too few blanks for more words than the plain way takes.
pub(crate) fn plain_first_word_unspecial(line: &str) -> Option<&str> {
    // A line of n words has at least n - 1 blanks; a short line cannot have enough of them.
    let few = line.len() <= 2 * PLAIN_LINE_WORDS || low_bytes(line.as_bytes()) < PLAIN_LINE_WORDS;
    if !few {
        return plain_first_word(line);
    }
    let first = first_word_of_plain(line);
    (!first.is_empty()).then_some(first)
}

/// How many bytes of `bytes` are at most 0x20 (the blanks among them, and the other control
/// bytes): at least the number of blanks, so fewer than n of them means fewer than n blanks.
/// Eight bytes at a time: the byte loop cost 200 instructions on a 50-byte line, as many as
/// the rest of its parse.
fn low_bytes(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const LOWS: u64 = u64::from_le_bytes([0x7f; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut count = 0;
    for chunk in &mut chunks {
        let mut block = [0u8; 8];
        block.copy_from_slice(chunk);
        let x = u64::from_le_bytes(block);
        // A byte's high bit is set here when its low seven bits exceed 0x20 or it has the high
        // bit itself (no carry crosses bytes: 0x7f + 0x5f < 0x100): the others are at most 0x20.
        let above = ((x & LOWS) + ONES * 0x5f) | x;
        let low = (!above & HIGHS) >> 7;
        // One per low byte; the product sums the eight bytes into the top one.
        count += (low.wrapping_mul(ONES) >> 56) as usize;
    }
    count + chunks.remainder().iter().filter(|&&b| b <= 0x20).count()
}

/// Calls `word` with the bounds of each word of `line` when the line is plain, and returns how
/// many there were; `None` when the line is not plain or has more words than the plain way
/// takes ([`PLAIN_LINE_WORDS`]): such lines go the long way. One pass over the bytes: blanks,
/// quotes, escapes and comments are all ASCII, so a word's bounds are character boundaries
/// whatever the text between them.
#[inline(always)]
fn visit_plain_words(line: &str, mut word: impl FnMut(usize, usize)) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut count = 0;
    let mut at = skip_blanks(bytes, 0);
    while at < bytes.len() {
        let start = at;
        at = skip_word(bytes, at);
        // A word ends at a blank or at the end; a quote, escape or comment sends the line
        // the long way (also when it starts a word: the word is then empty here).
        if at < bytes.len() && PLAIN_CLASS[usize::from(bytes[at])] != BLANK {
            return None;
        }
        // Long lines, the word limit and its message belong to the long way.
        if count == PLAIN_LINE_WORDS {
            return None;
        }
        word(start, at);
        count += 1;
        at = skip_class(bytes, at, BLANK);
    }
    Some(count)
}

/// The first word of a line known to be plain (a line [`plain_first_word`] accepted), without
/// a look at the rest of it.
pub(crate) fn first_word_of_plain(line: &str) -> &str {
    let bytes = line.as_bytes();
    let start = skip_blanks(bytes, 0);
    let end = if start < bytes.len() {
        skip_word(bytes, start)
    } else {
        start
    };
    &line[start..end]
}

/// Where the words of a plain line are (see [`plain_words`]): a line is scanned once, and its
/// words made only when they are wanted.
pub(crate) struct PlainBounds {
    bounds: [(u32, u32); PLAIN_LINE_WORDS],
    count: usize,
}

impl PlainBounds {
    /// The bounds of `line`'s words, or `None` when it is not plain. Inlined: returned by
    /// value, the 200-byte table was copied once more per line.
    #[inline(always)]
    pub(crate) fn scan(line: &str) -> Option<Self> {
        // Bounds are kept as u32: a line longer than that takes the long way.
        u32::try_from(line.len()).ok()?;
        // Room for the words of ordinary lines only: the array is cleared for every line, and
        // a longer line takes the long way, which lexes it the same.
        let mut bounds = [(0u32, 0u32); PLAIN_LINE_WORDS];
        let mut next = 0;
        let count = visit_plain_words(line, |start, end| {
            // Both fit in u32 as the line's length does; the visit stops before the array's
            // length.
            bounds[next] = (start as u32, end as u32);
            next += 1;
        })?;
        Some(PlainBounds { bounds, count })
    }

    /// The start and end of each word, in the line.
    pub(crate) fn bounds(&self) -> &[(u32, u32)] {
        &self.bounds[..self.count]
    }

    /// [`PlainBounds::scan`], with the words as slices of `line` in an array whose first
    /// [`PlainBounds::bounds`]`.len()` entries are the words. A statement's words are read
    /// some twenty times as it is built: sliced once here, each read is an index, where a slice
    /// made at every read tested both ends for character boundaries again (3.9 of the 45
    /// million instructions of acl 20k's main thread).
    #[inline(always)]
    pub(crate) fn scan_words(line: &str) -> Option<(Self, [&str; PLAIN_LINE_WORDS])> {
        u32::try_from(line.len()).ok()?;
        let mut bounds = [(0u32, 0u32); PLAIN_LINE_WORDS];
        let mut words = [""; PLAIN_LINE_WORDS];
        let mut next = 0;
        let count = visit_plain_words(line, |start, end| {
            bounds[next] = (start as u32, end as u32);
            debug_assert!(line.is_char_boundary(start) && line.is_char_boundary(end));
            // SAFETY: `visit_plain_words` reports the words of `line` itself, `start <= end <=
            // line.len()`; a word starts at the line's start or after a blank, and ends at a
            // blank, a quote, an escape, a comment start or the line's end. Those bytes are all
            // ASCII, so both positions are character boundaries of `line`: the slice is valid
            // UTF-8 without the two tests `get` makes.
            words[next] = unsafe { line.get_unchecked(start..end) };
            next += 1;
        })?;
        Some((PlainBounds { bounds, count }, words))
    }

    /// The words of the scanned `line`, which starts at `offset` in `file`.
    pub(crate) fn words(&self, line: &str, file: FileId, offset: usize) -> thin_vec::ThinVec<Word> {
        // Exact room (large configurations keep every line's words), taken once: a mapped
        // slice is collected without a test of the room left per word.
        self.bounds[..self.count]
            .iter()
            .map(|&(start, end)| {
                let (start, end) = (start as usize, end as usize);
                Word {
                    span: Span::new(file, offset + start, offset + end),
                    value: line[start..end].into(),
                }
            })
            .collect()
    }
}

fn cooker_span(ctx: &LineContext, line: &str) -> Span {
    Span::new(ctx.file, ctx.offset, ctx.offset + line.len())
}

/// Picks the code of a lexical error from its kind.
fn lexical_code(mut d: Diagnostic, what: &str) -> Diagnostic {
    d.code = match what {
        "unmatched quote" => "E001",
        "unmatched brace in environment variable name" => "E003",
        "forbidden first char in environment variable name" => "E004",
        "truncated or invalid hexadecimal sequence" => "E005",
        _ => "E006",
    };
    d
}

#[cfg(test)]
mod tests;
