//! `crt-list` files as HAProxy 2.7 reads them: one certificate a line, its options between
//! `[` and `]`, then the server names it is served for (`!name` excluded, `*.domain`
//! wildcards). `check` reports what is wrong in one (with the place in the file) and the
//! runtime loads its certificates from the same reading.
//!
//! HAProxy's reading, kept as is: a line is skipped only when its first character is `#`, CR
//! or LF (a `#` later on is a word like any other); brackets are words of their own wherever
//! they are written; words between the certificate and `[` are ignored; a `[` without its `]`
//! makes the words after it names; the file's last line must end with a line feed.

use super::tls::{line_option_arity, line_option_value};

/// The longest line HAProxy reads, line feed excluded.
const MAX_LINE: usize = 65535;
/// The most words a line may have.
const MAX_WORDS: usize = 2048;

/// One word of a line and where it starts in the file (a byte offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListWord {
    pub text: String,
    pub at: usize,
}

/// One certificate line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrtListEntry {
    /// Its line number (from 1).
    pub line: usize,
    /// The certificate path as written (`crt-base` not applied).
    pub crt: ListWord,
    /// The words between the brackets, checked: known options with their values.
    pub options: Vec<ListWord>,
    /// The server names (`!name` excludes one).
    pub filters: Vec<ListWord>,
}

impl CrtListEntry {
    pub fn option_words(&self) -> Vec<&str> {
        self.options.iter().map(|w| w.text.as_str()).collect()
    }
}

/// What stopped the reading: HAProxy's message and where in the file (a byte range).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListError {
    pub message: String,
    pub at: usize,
    pub end: usize,
}

/// Reads a crt-list file's text; `shown` is its name as messages give it. Answers the
/// certificate lines before the first error, and that error: HAProxy loads each line's
/// certificate before it reads the next line, so a caller checks the lines it got first.
pub fn parse(shown: &str, text: &str) -> (Vec<CrtListEntry>, Option<ListError>) {
    let mut entries = Vec::new();
    let mut start = 0;
    let mut number = 0;
    while start < text.len() {
        let end = text[start..].find('\n').map(|i| start + i);
        let content = &text[start..end.unwrap_or(text.len())];
        number += 1;
        let at = |o: usize, len: usize| (start + o, start + o + len);
        if content.len() >= MAX_LINE {
            let (at, end) = at(MAX_LINE, 0);
            let message = format!(
                "parsing [{shown}:{number}]: line too long, limit is {MAX_LINE} characters"
            );
            return (entries, Some(ListError { message, at, end }));
        }
        let next = end.map_or(text.len(), |e| e + 1);
        if content.starts_with(['#', '\r']) || content.is_empty() {
            start = next;
            continue;
        }
        match parse_line(shown, number, content, start) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(e) => return (entries, Some(e)),
        }
        if end.is_none() {
            let message = format!(
                "parsing [{shown}:{number}]: Missing LF on last line, file might have been truncated at position {}.",
                content.len() + 1
            );
            return (
                entries,
                Some(ListError {
                    message,
                    at: text.len(),
                    end: text.len(),
                }),
            );
        }
        start = next;
    }
    (entries, None)
}

/// The characters C's `isspace` takes for blanks.
fn blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Reads one line (without its line feed) that starts at byte `offset` of the file; `None`
/// when it holds no word.
pub fn parse_line(
    shown: &str,
    number: usize,
    line: &str,
    offset: usize,
) -> Result<Option<CrtListEntry>, ListError> {
    let fail = |message: String, at: usize, len: usize| ListError {
        message: format!("parsing [{shown}:{number}]: {message}"),
        at: offset + at,
        end: offset + at + len,
    };
    // The words, and after how many words `[` and `]` came (0: not seen).
    let mut words: Vec<ListWord> = Vec::new();
    let (mut open, mut close) = (0, 0);
    let mut word_start = None;
    let bytes = line.as_bytes();
    let finish = |words: &mut Vec<ListWord>, from: Option<usize>, to: usize| {
        if let Some(from) = from {
            words.push(ListWord {
                text: line[from..to].to_string(),
                at: offset + from,
            });
        }
    };
    for (i, &c) in bytes.iter().enumerate() {
        if blank(c) || c == b'[' || c == b']' {
            finish(&mut words, word_start.take(), i);
        }
        match c {
            b'[' if open > 0 => return Err(fail("too many '['".into(), i, 1)),
            b'[' if words.is_empty() => {
                return Err(fail("file must start with a cert".into(), i, 1))
            }
            b'[' => open = words.len(),
            b']' if close > 0 => return Err(fail("too many ']'".into(), i, 1)),
            b']' if open == 0 => return Err(fail("missing '['".into(), i, 1)),
            b']' => close = words.len(),
            c if blank(c) => {}
            _ if word_start.is_none() => {
                if words.len() == MAX_WORDS {
                    return Err(fail("too many args ".into(), i, 0));
                }
                word_start = Some(i);
            }
            _ => {}
        }
    }
    finish(&mut words, word_start.take(), line.len());
    if words.is_empty() {
        return Ok(None);
    }
    // The options: each known keyword with its value, all inside the brackets. HAProxy keeps
    // reading after an option with a bad value, and reports the last such error.
    let mut bad_value: Option<ListError> = None;
    let mut cur = if open > 0 { open } else { 1 };
    while cur < close {
        let word = &words[cur];
        let Some(arity) = line_option_arity(&word.text) else {
            return Err(bad_value.unwrap_or_else(|| ListError {
                message: format!(
                    "parsing [{shown}:{number}]: unknown ssl keyword {}",
                    word.text
                ),
                at: word.at,
                end: word.at + word.text.len(),
            }));
        };
        let value = words.get(cur + 1).filter(|_| arity > 0);
        let value_text = value.map_or("", |v| v.text.as_str());
        if let Err(message) = line_option_value(&word.text, value_text) {
            let place = value.unwrap_or(word);
            bad_value = Some(ListError {
                message,
                at: place.at,
                end: place.at + place.text.len(),
            });
        }
        if cur + 1 + arity > close {
            return Err(ListError {
                message: format!(
                    "parsing [{shown}:{number}]: ssl args out of '[]' for {}",
                    word.text
                ),
                at: word.at,
                end: word.at + word.text.len(),
            });
        }
        cur += 1 + arity;
    }
    if let Some(e) = bad_value {
        return Err(e);
    }
    let options = if open > 0 && close > 0 {
        words[open..close].to_vec()
    } else {
        Vec::new()
    };
    let filters = words[cur..].to_vec();
    Ok(Some(CrtListEntry {
        line: number,
        crt: words[0].clone(),
        options,
        filters,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: &str) -> Result<Option<CrtListEntry>, String> {
        parse_line("l", 1, line, 0).map_err(|e| e.message)
    }

    fn texts(w: &[ListWord]) -> Vec<&str> {
        w.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn lines_split_as_haproxy_splits_them() {
        let e = entry("a.pem [alpn h2 verify none]a.example !b.example *.c")
            .unwrap()
            .unwrap();
        assert_eq!(e.crt.text, "a.pem");
        assert_eq!(texts(&e.options), ["alpn", "h2", "verify", "none"]);
        assert_eq!(texts(&e.filters), ["a.example", "!b.example", "*.c"]);
        assert_eq!(e.filters[0].at, 27);
        // A `#` after the certificate is a name, words before `[` are skipped, and a `[`
        // left open makes names of what follows.
        let e = entry("a.pem # note").unwrap().unwrap();
        assert_eq!(texts(&e.filters), ["#", "note"]);
        let e = entry("a.pem skipped [alpn h2] n").unwrap().unwrap();
        assert_eq!(texts(&e.options), ["alpn", "h2"]);
        assert_eq!(texts(&e.filters), ["n"]);
        let e = entry("a.pem [alpn h2").unwrap().unwrap();
        assert!(e.options.is_empty());
        assert_eq!(texts(&e.filters), ["alpn", "h2"]);
        assert_eq!(entry("   \t").unwrap(), None);
    }

    #[test]
    fn malformed_lines_get_haproxys_messages() {
        for (line, message) in [
            (
                "[alpn h2] a.pem",
                "parsing [l:1]: file must start with a cert",
            ),
            ("a.pem [[alpn h2]", "parsing [l:1]: too many '['"),
            ("a.pem [alpn h2]]", "parsing [l:1]: too many ']'"),
            ("a.pem alpn h2]", "parsing [l:1]: missing '['"),
            ("a.pem [foo]", "parsing [l:1]: unknown ssl keyword foo"),
            (
                "a.pem [alpn]",
                "parsing [l:1]: ssl args out of '[]' for alpn",
            ),
            (
                "a.pem [ssl-min-ver TLSv9]",
                "'TLSv9' : unknown ssl/tls version",
            ),
            (
                "a.pem [verify maybe ssl-max-ver x]",
                "'x' : unknown ssl/tls version",
            ),
        ] {
            assert_eq!(entry(line).unwrap_err(), message, "{line}");
        }
        assert_eq!(parse_line("l", 1, "a.pem [foo]", 10).unwrap_err().at, 17);
    }

    #[test]
    fn files_skip_comments_and_need_their_last_line_feed() {
        let (entries, err) = parse("f", "# c\n\na.pem\r\n\rx\nb.pem [npn h2]\n");
        assert!(err.is_none());
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[1].line, entries[1].crt.at), (5, 15));
        let (entries, err) = parse("f", "a.pem\nb.pem");
        assert_eq!(entries.len(), 2);
        assert_eq!(
            err.unwrap().message,
            "parsing [f:2]: Missing LF on last line, file might have been truncated at position 6."
        );
        let (entries, err) = parse("f", "a.pem\nb.pem [x]\nc.pem\n");
        assert_eq!(entries.len(), 1);
        let err = err.unwrap();
        assert_eq!(err.message, "parsing [f:2]: unknown ssl keyword x");
        assert_eq!(err.at, 13);
        assert!(parse("f", "# only a comment").1.is_none());
    }
}
