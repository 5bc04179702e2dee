//! The mistakes PCRE2 (the regex library of the reference HAProxy build) refuses a pattern for,
//! found without compiling it: unbalanced parentheses, an unterminated character class, a
//! quantifier with nothing to repeat, a trailing backslash, a `{n,m}` or a class range out of
//! order. Each is reported with PCRE2's own wording and offset, which HAProxy prints as
//! `regex '<pattern>' is invalid (error=<message>, erroffset=<offset>)`. A pattern with none of
//! these is taken as valid: rarer errors (unknown properties, bad group names…) pass.

/// PCRE2's message and byte offset for the first error of `pattern`, or `None`.
pub fn error(pattern: &str) -> Option<(&'static str, usize)> {
    let b = pattern.as_bytes();
    let mut depth = 0usize;
    // Whether the item just read can take a quantifier, and whether a quantifier was just read
    // (one `?` or `+` may follow it as a modifier).
    let (mut repeatable, mut quantified) = (false, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                if i + 1 >= b.len() {
                    return Some(("\\ at end of pattern", b.len()));
                }
                i += 2;
                repeatable = true;
                quantified = false;
                continue;
            }
            b'[' => {
                i = match class_error(b, i) {
                    Ok(end) => end,
                    Err(e) => return Some(e),
                };
                repeatable = true;
                quantified = false;
                continue;
            }
            b'(' => {
                depth += 1;
                // A group's options or name come after `(?`, a verb after `(*`: read as
                // written, without checking them.
                i += 1;
                if b.get(i) == Some(&b'?') {
                    i += 1;
                    while i < b.len() && !matches!(b[i], b':' | b')' | b'(' | b'|') {
                        i += 1;
                    }
                    if b.get(i) == Some(&b':') {
                        i += 1;
                    }
                } else if b.get(i) == Some(&b'*') {
                    return None;
                }
                repeatable = false;
                quantified = false;
                continue;
            }
            b')' => {
                if depth == 0 {
                    return Some(("unmatched closing parenthesis", i));
                }
                depth -= 1;
                repeatable = true;
                quantified = false;
            }
            b'|' => {
                repeatable = false;
                quantified = false;
            }
            b'*' | b'+' | b'?' => {
                if quantified && c != b'*' {
                    // A lazy or possessive modifier: nothing may follow it but an item.
                    quantified = false;
                    repeatable = false;
                } else if !repeatable {
                    return Some(("quantifier does not follow a repeatable item", i));
                } else {
                    quantified = true;
                    repeatable = false;
                }
            }
            b'{' => match counted(b, i) {
                Some(Ok(end)) => {
                    if !repeatable {
                        return Some(("quantifier does not follow a repeatable item", i));
                    }
                    quantified = true;
                    repeatable = false;
                    i = end;
                    continue;
                }
                Some(Err(e)) => return Some(e),
                None => {
                    repeatable = true;
                    quantified = false;
                }
            },
            _ => {
                repeatable = true;
                quantified = false;
            }
        }
        i += 1;
    }
    (depth > 0).then_some(("missing closing parenthesis", b.len()))
}

/// Reads the character class opening at `start`: its end (past its `]`), or PCRE2's error.
fn class_error(b: &[u8], start: usize) -> Result<usize, (&'static str, usize)> {
    let mut i = start + 1;
    if b.get(i) == Some(&b'^') {
        i += 1;
    }
    // A `]` first in the class is a literal.
    if b.get(i) == Some(&b']') {
        i += 1;
    }
    let mut previous: Option<u8> = None;
    while i < b.len() {
        match b[i] {
            b']' => return Ok(i + 1),
            b'\\' => {
                if i + 1 >= b.len() {
                    return Err(("\\ at end of pattern", b.len()));
                }
                previous = None;
                i += 2;
                continue;
            }
            b'[' if b.get(i + 1) == Some(&b':') => {
                // A POSIX class `[:name:]`, left unchecked.
                match b[i + 2..].windows(2).position(|w| w == b":]") {
                    Some(p) => i += p + 4,
                    None => i += 1,
                }
                previous = None;
                continue;
            }
            b'-' if previous.is_some()
                && i + 1 < b.len()
                && !matches!(b[i + 1], b']' | b'\\' | b'[') =>
            {
                let (low, high) = (previous.unwrap_or_default(), b[i + 1]);
                if high < low {
                    return Err(("range out of order in character class", i + 1));
                }
                previous = None;
                i += 2;
                continue;
            }
            c => previous = Some(c),
        }
        i += 1;
    }
    Err(("missing terminating ] for character class", b.len()))
}

/// A `{n}`, `{n,}` or `{n,m}` quantifier at `start`: its end, or PCRE2's error for numbers out
/// of order or too big; `None` when the brace is a literal.
fn counted(b: &[u8], start: usize) -> Option<Result<usize, (&'static str, usize)>> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let number = |from: usize, n: usize| -> Option<u64> {
        std::str::from_utf8(&b[from..from + n]).ok()?.parse().ok()
    };
    let n1 = digits(start + 1);
    if n1 == 0 {
        return None;
    }
    let mut i = start + 1 + n1;
    let low = number(start + 1, n1).unwrap_or(u64::MAX);
    if low > 65535 {
        return Some(Err(("number too big in {} quantifier", i)));
    }
    let mut high = low;
    if b.get(i) == Some(&b',') {
        let n2 = digits(i + 1);
        if n2 > 0 {
            high = number(i + 1, n2).unwrap_or(u64::MAX);
            if high > 65535 {
                return Some(Err(("number too big in {} quantifier", i + 1 + n2)));
            }
        }
        i += 1 + n2;
    }
    if b.get(i) != Some(&b'}') {
        return None;
    }
    if high < low {
        return Some(Err(("numbers out of order in {} quantifier", i)));
    }
    Some(Ok(i + 1))
}

/// HAProxy's message for a pattern `regex_comp` refuses.
pub fn message(pattern: &str) -> Option<String> {
    error(pattern)
        .map(|(what, at)| format!("regex '{pattern}' is invalid (error={what}, erroffset={at})"))
}

#[cfg(test)]
mod tests {
    use super::error;

    #[test]
    fn pcre2_errors_and_offsets() {
        let cases: &[(&str, Option<(&str, usize)>)] = &[
            ("foo(", Some(("missing closing parenthesis", 4))),
            ("(a(b)", Some(("missing closing parenthesis", 5))),
            ("a)b)", Some(("unmatched closing parenthesis", 1))),
            (
                "[abc",
                Some(("missing terminating ] for character class", 4)),
            ),
            (
                "a[b",
                Some(("missing terminating ] for character class", 3)),
            ),
            (
                "*abc",
                Some(("quantifier does not follow a repeatable item", 0)),
            ),
            (
                "a|*b",
                Some(("quantifier does not follow a repeatable item", 2)),
            ),
            (
                "(+a)",
                Some(("quantifier does not follow a repeatable item", 1)),
            ),
            (
                "a**",
                Some(("quantifier does not follow a repeatable item", 2)),
            ),
            ("a\\", Some(("\\ at end of pattern", 2))),
            ("a{2,1}", Some(("numbers out of order in {} quantifier", 5))),
            ("[z-a]", Some(("range out of order in character class", 3))),
            ("a{99999}", Some(("number too big in {} quantifier", 7))),
            ("x++", None),
            ("a*?b+?c??", None),
            ("(?P<n>a)", None),
            ("(?:a|b)*", None),
            ("[]a]", None),
            ("[^]a]", None),
            ("[a-]", None),
            ("[[:alpha:]]+", None),
            ("a{,2}", None),
            ("a{x}", None),
            ("^/api/(v1|v2)/.*$", None),
            ("\\(", None),
        ];
        for (pattern, expected) in cases {
            assert_eq!(error(pattern), *expected, "{pattern}");
        }
    }
}
