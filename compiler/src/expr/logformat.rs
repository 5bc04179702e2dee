//! Log-format strings (`log-format`, `unique-id-format`, `set-header` values, `%[…]` in
//! redirects and `use_backend`): literal text, `%alias`, `%{flags}alias` and `%[expression]`.

use super::sample::{self, SampleExpr};
use serde::Serialize;

/// The aliases of HAProxy 2.7 and whether they need `mode http`.
pub const ALIASES: &[(&str, bool)] = &[
    ("o", false),
    ("B", false),
    ("CC", true),
    ("CS", true),
    ("H", false),
    ("ID", false),
    ("ST", false),
    ("T", false),
    ("Ta", true),
    ("Tc", false),
    ("Th", false),
    ("Ti", true),
    ("Tl", false),
    ("Tq", true),
    ("Tr", true),
    ("TR", true),
    ("Td", false),
    ("Ts", false),
    ("Tt", false),
    ("Tu", false),
    ("Tw", false),
    ("U", false),
    ("ac", false),
    ("b", false),
    ("bc", false),
    ("bi", false),
    ("bp", false),
    ("bq", false),
    ("ci", false),
    ("cp", false),
    ("f", false),
    ("fc", false),
    ("fi", false),
    ("fp", false),
    ("ft", false),
    ("hr", false),
    ("hrl", false),
    ("hs", false),
    ("hsl", false),
    ("HM", true),
    ("HP", true),
    ("HPO", true),
    ("HQ", true),
    ("HU", true),
    ("HV", true),
    ("lc", false),
    ("ms", false),
    ("pid", false),
    ("r", true),
    ("rc", false),
    ("rt", false),
    ("s", false),
    ("sc", false),
    ("si", false),
    ("sp", false),
    ("sq", false),
    ("sslc", false),
    ("sslv", false),
    ("t", false),
    ("tr", true),
    ("trg", true),
    ("trl", true),
    ("ts", false),
    ("tsc", false),
];

/// Whether HAProxy refuses alias `name` outside `mode http`.
pub fn http_only(name: &str) -> bool {
    ALIASES.iter().any(|&(a, http)| http && a == name)
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Item {
    Text(String),
    Alias {
        name: String,
        flags: Option<String>,
    },
    Expr {
        expr: SampleExpr,
        flags: Option<String>,
        start: usize,
        end: usize,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LogFormat {
    pub items: Vec<Item>,
}

impl LogFormat {
    pub fn expressions(&self) -> impl Iterator<Item = &SampleExpr> {
        self.items.iter().filter_map(|i| match i {
            Item::Expr { expr, .. } => Some(expr),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
    pub at: usize,
}

/// Parses a log-format string with HAProxy's error texts.
pub fn parse(fmt: &str) -> Result<LogFormat, FormatError> {
    let b = fmt.as_bytes();
    let mut items = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            let next = fmt[i..].find('%').map_or(b.len(), |p| p + i);
            text.push_str(&fmt[i..next]);
            i = next;
            continue;
        }
        let mut j = i + 1;
        let mut flags = None;
        match b.get(j) {
            None => {
                return Err(FormatError {
                    message: "truncated line after '%'".into(),
                    at: i,
                })
            }
            Some(b'%') => {
                text.push('%');
                i += 2;
                continue;
            }
            Some(c) if c.is_ascii_digit() || *c == b' ' || *c == b'\t' => {
                return Err(FormatError {
                    message: format!(
                        "unexpected variable name near '{}' at position {} line : '{fmt}'. Maybe you want to write a single '%', use the syntax '%%'",
                        *c as char,
                        j + 1
                    ),
                    at: j,
                });
            }
            Some(b'{') => {
                let Some(close) = fmt[j..].find('}').map(|p| p + j) else {
                    return Err(FormatError {
                        message: format!("truncated line after '{}'", &fmt[j + 1..]),
                        at: j,
                    });
                };
                flags = Some(fmt[j + 1..close].to_string());
                j = close + 1;
                if !b
                    .get(j)
                    .is_some_and(|c| *c == b'[' || c.is_ascii_alphanumeric())
                {
                    return Err(FormatError {
                        message: format!(
                            "parse argument modifier without variable name near '%{{{}}}'",
                            &fmt[i + 2..close]
                        ),
                        at: i,
                    });
                }
            }
            Some(_) => {}
        }
        if !text.is_empty() {
            items.push(Item::Text(std::mem::take(&mut text)));
        }
        if b.get(j) == Some(&b'[') {
            let start = j + 1;
            let (expr, used) = sample::parse(&fmt[start..], true).map_err(|e| FormatError {
                message: format!(
                    "failed to parse sample expression <{}> : {}",
                    &fmt[start..],
                    e.message
                ),
                at: start + e.at,
            })?;
            let end = start + used;
            match b.get(end) {
                Some(b']') => {}
                Some(c) => {
                    return Err(FormatError {
                        message: format!(
                            "expected ']' after '{}', but found '{}'",
                            &fmt[start..end],
                            *c as char
                        ),
                        at: end,
                    })
                }
                None => {
                    return Err(FormatError {
                        message: format!("missing ']' after '{}'", &fmt[start..end]),
                        at: end,
                    })
                }
            }
            items.push(Item::Expr {
                expr,
                flags,
                start,
                end,
            });
            i = end + 1;
        } else if b.get(j).is_some_and(u8::is_ascii_alphabetic)
            || (flags.is_some() && b.get(j).is_some_and(u8::is_ascii_alphanumeric))
        {
            let end = j + fmt[j..]
                .bytes()
                .take_while(u8::is_ascii_alphanumeric)
                .count();
            let name = &fmt[j..end];
            if !ALIASES.iter().any(|(a, _)| *a == name) {
                return Err(FormatError {
                    message: format!("no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"),
                    at: j,
                });
            }
            items.push(Item::Alias {
                name: name.to_string(),
                flags,
            });
            i = end;
        } else {
            // '%' followed by anything else is kept as text.
            text.push('%');
            i = j;
        }
    }
    if !text.is_empty() {
        items.push(Item::Text(text));
    }
    Ok(LogFormat { items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_httplog_and_expressions() {
        let f = parse("%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r").unwrap();
        assert!(f.items.iter().any(
            |i| matches!(i, Item::Alias { name, flags: Some(fl) } if name == "r" && fl == "+Q")
        ));
        let f = parse("x-%[req.hdr(host),lower]-100%%").unwrap();
        assert_eq!(f.expressions().count(), 1);
        assert_eq!(f.items.last(), Some(&Item::Text("-100%".into())));
    }

    #[test]
    fn errors_match_haproxy() {
        assert_eq!(parse("%zz").unwrap_err().message, "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'");
        assert_eq!(
            parse("%[src").unwrap_err().message,
            "missing ']' after 'src'"
        );
        assert!(parse("%[req.hdr(host),port_only(1)]")
            .unwrap_err()
            .message
            .contains("invalid arg 1 in converter 'port_only' : expected ')' before '1)]'"));
        assert!(parse("50% off")
            .unwrap_err()
            .message
            .starts_with("unexpected variable name near ' '"));
    }
}
