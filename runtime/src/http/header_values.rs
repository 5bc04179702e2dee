//! A header line's comma-separated values as HAProxy cuts them: at each comma outside a
//! double-quoted string (where a backslash escapes the next byte), so that
//! `x: "a,b", c` has the two values `"a,b"` and `c`.

/// The byte ranges of the values of `line`, untrimmed, in order (one, empty, for an empty
/// line). Cuts fall on ASCII commas only, so ranges of a `str` are character boundaries.
pub fn ranges(line: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    ranges_cut_at(line, |b| b == b',')
}

/// [`ranges`] with cuts at every byte `cut` accepts outside double-quoted strings (a
/// `Cookie` value is cut at `;` and `,`).
pub fn ranges_cut_at<'a>(
    line: &'a [u8],
    cut: impl Fn(u8) -> bool + 'a,
) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, &b) in line.iter().enumerate().skip(from) {
            if escaped {
                escaped = false;
            } else if quoted {
                match b {
                    b'\\' => escaped = true,
                    b'"' => quoted = false,
                    _ => {}
                }
            } else if b == b'"' {
                quoted = true;
            } else if cut(b) {
                start = Some(i + 1);
                return Some(from..i);
            }
        }
        start = None;
        Some(from..line.len())
    })
}

/// The values of `line`, trimmed of spaces and tabs.
pub fn split(line: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    ranges(line).map(move |r| line[r].trim_ascii())
}

/// The header value of text a rule or a format wrote, with the bytes it carries
/// ([`hapee_compiler::bytestr`]): a byte that is not UTF-8 goes out as that byte.
pub fn from_text(
    text: &str,
) -> Result<hyper::header::HeaderValue, hyper::header::InvalidHeaderValue> {
    hyper::header::HeaderValue::from_bytes(&hapee_compiler::bytestr::to_bytes(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_inside_quotes_do_not_cut() {
        let got: Vec<&[u8]> = split(br#"a, "b,c" ,"d\",e",, f"#).collect();
        assert_eq!(got, [&b"a"[..], br#""b,c""#, br#""d\",e""#, b"", b"f"]);
        assert_eq!(split(b"").collect::<Vec<_>>(), [b""]);
        // An unclosed quote runs to the end.
        assert_eq!(split(br#"x, "y, z"#).count(), 2);
    }
}
