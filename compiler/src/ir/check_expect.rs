//! The words of a `tcp-check expect` or `http-check expect` rule, in HAProxy 2.7's order: the
//! options and the one pattern as written (a `!` before a pattern negates it, and no option
//! takes one), then the `on-success` and `on-error` log-format strings, then the pattern's own
//! form (status codes, hex string, regular expression, log-format string, header name and
//! value), and last a rule with no pattern at all.

use super::build::{Builder, Stmt};
use super::check_words::{expression, format_string, read_uint, say, until_empty, Refusal};
use super::model::*;

/// What the rule matches, as far as its parsing cares.
#[derive(Clone, Copy, PartialEq)]
enum Pattern {
    None,
    /// A plain string or a status list (the `status` form is read last).
    Text,
    Status,
    Binary,
    Regex,
    Format,
    Header,
    Custom,
}

/// How a header name or value is matched: as a log-format string, by a regex, or as text.
#[derive(Clone, Copy, PartialEq)]
enum Match {
    Text,
    Format,
    Regex,
}

pub(super) fn expect(
    b: &mut Builder,
    index: usize,
    set: RuleSet,
    stmt: &Stmt,
    at: usize,
) -> Result<(), Refusal> {
    let http = set == RuleSet::HttpCheck;
    if stmt.word(at + 1).is_empty() {
        return say(
            "expects at least a matching pattern as arguments".into(),
            at,
        );
    }
    let end = until_empty(stmt, at + 1);
    let mut pattern = Pattern::None;
    // The pattern's word, and a header rule's name and value with how each is matched.
    let mut pattern_at = 0;
    let mut name: Option<(usize, Match)> = None;
    let mut value: Option<(usize, Match)> = None;
    let (mut on_success, mut on_error) = (None, None);
    let mut i = at + 1;
    while i < end {
        let mut word = stmt.word(i);
        let mut negated = false;
        if word.starts_with('!') {
            negated = true;
            word = word.trim_start_matches('!');
            if word.is_empty() {
                i += 1;
                word = stmt.word(i);
            }
        }
        let one_pattern = |p: Pattern| -> Result<(), Refusal> {
            match p {
                Pattern::None => Ok(()),
                _ => say("only on pattern expected".into(), i),
            }
        };
        let no_negation = || -> Result<(), Refusal> {
            if negated {
                return say(format!("[!] not supported with '{word}'"), i);
            }
            Ok(())
        };
        let bad = || {
            let message = if http {
                format!("'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{word}' as argument.")
            } else {
                format!("'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '{word}' as argument.")
            };
            say(message, i)
        };
        let value_of = |what: &str| -> Result<(), Refusal> {
            if stmt.word(i + 1).is_empty() {
                return say(format!("'{word}' expects {what} as argument"), i);
            }
            Ok(())
        };
        match word {
            "min-recv" => {
                no_negation()?;
                value_of("a integer")?;
                i += 1;
                let n = crate::cnum::atol(stmt.word(i));
                if !(-1..=i64::from(i32::MAX)).contains(&n) {
                    return say(
                        format!("'{word}' expects -1 or an integer from 0 to INT_MAX"),
                        i - 1,
                    );
                }
            }
            "string" | "rstring" | "binary" | "rbinary" | "string-lf" | "binary-lf" | "status"
            | "rstatus" => {
                let kind = match word {
                    "status" => Pattern::Status,
                    "string" => Pattern::Text,
                    "binary" => Pattern::Binary,
                    "string-lf" | "binary-lf" => Pattern::Format,
                    _ => Pattern::Regex,
                };
                // Binary patterns are TCP's, status ones HTTP's.
                let wrong_side = if http {
                    matches!(word, "binary" | "rbinary" | "binary-lf")
                } else {
                    matches!(word, "status" | "rstatus")
                };
                if wrong_side {
                    return bad();
                }
                one_pattern(pattern)?;
                pattern = kind;
                value_of("a <pattern>")?;
                i += 1;
                pattern_at = i;
            }
            "custom" => {
                no_negation()?;
                one_pattern(pattern)?;
                pattern = Pattern::Custom;
            }
            "hdr" | "fhdr" if http => {
                one_pattern(pattern)?;
                pattern = Pattern::Header;
                let (n, n1, n2) = (stmt.word(i + 1), stmt.word(i + 2), word);
                if n.is_empty() || n1.is_empty() || !matches!(n, "name" | "name-lf") {
                    return say(format!("'{n2}' expects at the name keyword as first argument followed by a pattern"), i);
                }
                let format = n == "name-lf";
                i += 2;
                let how = if stmt.word(i) == "-m" {
                    let how = method(stmt, i, word, format)?;
                    i += 2;
                    how
                } else {
                    Match::Text
                };
                name = Some((i, if format { Match::Format } else { how }));
                let v = stmt.word(i + 1);
                if v == "value" || v == "value-lf" {
                    let format = v == "value-lf";
                    let how = if stmt.word(i + 2) == "-m" {
                        i += 2;
                        method(stmt, i, word, format)?
                    } else {
                        Match::Text
                    };
                    if stmt.word(i + 2).is_empty() {
                        return say(
                            format!("'{word}' expect a pattern with the value keyword"),
                            i,
                        );
                    }
                    value = Some((i + 2, if format { Match::Format } else { how }));
                    i += 2;
                }
            }
            "comment" | "on-success" | "on-error" | "ok-status" | "error-status"
            | "tout-status" => {
                no_negation()?;
                value_of("a string")?;
                let v = stmt.word(i + 1);
                let known: &[&str] = match word {
                    "ok-status" => &["L7OK", "L7OKC", "L6OK", "L4OK"],
                    "error-status" => &["L7RSP", "L7STS", "L7OKC", "L6RSP", "L4CON"],
                    "tout-status" => &["L7TOUT", "L6TOUT", "L4TOUT"],
                    _ => &[],
                };
                let listed = match word {
                    "ok-status" => "'L4OK', 'L6OK', 'L7OK' or 'L7OKC'",
                    "error-status" => "'L4CON', 'L6RSP', 'L7RSP' or 'L7STS'",
                    "tout-status" => "'L4TOUT', 'L6TOUT' or 'L7TOUT'",
                    _ => "",
                };
                if !listed.is_empty() && !known.iter().any(|k| k.eq_ignore_ascii_case(v)) {
                    return say(
                        format!("'{word}' only supports {listed} status (got '{v}')."),
                        i,
                    );
                }
                match word {
                    "on-success" => on_success = Some(i + 1),
                    "on-error" => on_error = Some(i + 1),
                    _ => {}
                }
                i += 1;
            }
            "status-code" => {
                no_negation()?;
                value_of("an expression")?;
                i += 1;
                let what = format!(
                    "'{} expect' : error detected while parsing status-code expression : ",
                    set.keyword()
                );
                expression(b, index, stmt, i, &what)?;
            }
            _ => return bad(),
        }
        i += 1;
    }
    let rule = format!("'{} expect'", set.keyword());
    for at in [on_success, on_error].into_iter().flatten() {
        format_string(b, index, stmt, at, &format!("{rule} : '{}'", stmt.word(at)))?;
    }
    let regex = |i: usize| match crate::pcre::message(stmt.word(i)) {
        Some(message) => say(message, i),
        None => Ok(()),
    };
    match pattern {
        Pattern::Status => status_codes(stmt.word(pattern_at), pattern_at),
        Pattern::Binary => match super::check_words::binary(stmt.word(pattern_at)) {
            Err(e) => say(format!("invalid binary string ({e})"), pattern_at),
            Ok(()) => Ok(()),
        },
        Pattern::Regex => regex(pattern_at),
        Pattern::Format => {
            let what = format!("{rule} : '{}'", stmt.word(pattern_at));
            format_string(b, index, stmt, pattern_at, &what)
        }
        Pattern::Header => {
            let Some((n, how)) = name else { return Ok(()) };
            match how {
                Match::Regex => regex(n)?,
                Match::Format => {
                    format_string(b, index, stmt, n, &format!("{rule} : '{}'", stmt.word(n)))?
                }
                Match::Text => {}
            }
            match value {
                Some((v, Match::Regex)) => regex(v),
                // HAProxy names the header's name in this message.
                Some((v, Match::Format)) => {
                    format_string(b, index, stmt, v, &format!("{rule} : '{}'", stmt.word(n)))
                }
                _ => Ok(()),
            }
        }
        Pattern::None => say("pattern not found".into(), at),
        Pattern::Text | Pattern::Custom => Ok(()),
    }
}

/// The matching method after a header's `-m` at `i`.
fn method(stmt: &Stmt, i: usize, keyword: &str, format: bool) -> Result<Match, Refusal> {
    let m = stmt.word(i + 1);
    match m {
        "" => say(format!("'{keyword}' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')"), i),
        "str" | "beg" | "end" | "sub" => Ok(Match::Text),
        "reg" if format => say(format!("'{keyword}': log-format string is not supported with a regex matching method"), i + 1),
        "reg" => Ok(Match::Regex),
        _ => say(format!("'{keyword}' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '{m}')"), i + 1),
    }
}

/// An `http-check expect status` list: codes or `low-high` ranges separated by commas.
fn status_codes(list: &str, at: usize) -> Result<(), Refusal> {
    let mut rest = list;
    loop {
        let (low, n) = read_uint(rest);
        rest = &rest[n..];
        let mut high = low;
        if let Some(after) = rest.strip_prefix('-') {
            let (h, n) = read_uint(after);
            high = h;
            rest = &after[n..];
        }
        if low > high {
            return say(format!("invalid range of status codes '{list}'"), at);
        }
        match rest.chars().next() {
            None => return Ok(()),
            Some(',') => rest = &rest[1..],
            Some(c) => {
                return say(
                    format!("invalid character '{c}' in the list of status codes"),
                    at,
                )
            }
        }
    }
}
