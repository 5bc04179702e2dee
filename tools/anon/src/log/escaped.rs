//! Values written with backslash escapes, as the `json` converter, the `+json` and `+E` flags
//! write them (`\/`, `\"`, `\\`, `\r`, `\n`, `\t`, `\uXXXX`): read as the text they stand for,
//! so that a header block or a URI inside them is anonymized word by word like any other,
//! then written back with the same escapes.

/// How a value was escaped: what the re-encoding must escape again.
#[derive(Default)]
pub(crate) struct Escapes {
    /// `/` written `\/` (the `json` converter's habit).
    slash: bool,
    /// Characters past ASCII written `\uXXXX` (`json(utf8s)` and `json(ascii)`).
    unicode: bool,
}

/// The text `v` stands for, and how it was escaped; `None` when `v` holds no backslash.
pub(crate) fn decode(v: &str) -> Option<(String, Escapes)> {
    if !v.contains('\\') {
        return None;
    }
    let mut esc = Escapes::default();
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('/') => {
                esc.slash = true;
                out.push('/');
            }
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                {
                    Some(n) => {
                        for _ in 0..4 {
                            chars.next();
                        }
                        esc.unicode = true;
                        // A lone surrogate half stands for itself as a replacement character.
                        out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                    }
                    None => out.push_str("\\u"),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Some((out, esc))
}

/// Writes `text` into `out` with the escapes `esc` describes (quotes, backslashes and control
/// characters always).
pub(crate) fn encode_into(text: &str, esc: &Escapes, out: &mut String) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if esc.slash => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (esc.unicode && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_round_trip() {
        for v in [
            r#"\/a\/b?x=1"#,
            r#"host: a.example\r\nx: \"q\" \\ \t\u00e9"#,
            r#"plain \q"#,
        ] {
            let (text, esc) = decode(v).unwrap();
            let mut back = String::new();
            encode_into(&text, &esc, &mut back);
            assert_eq!(back, v.replace(r"\q", "q"), "{text:?}");
        }
        assert_eq!(decode(r#"a\r\nb"#).unwrap().0, "a\r\nb");
        assert!(decode("no escapes").is_none());
    }
}
