//! HAProxy's argument-list syntax `(<a>,<b>,…)` used by sample fetches, converters and the `.if`
//! predicates: quotes, backslash escapes, commas and the closing parenthesis, with its error texts.

/// One argument as written: its decoded text and its byte range in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// The outcome of reading an argument list at the start of `input`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgList {
    pub args: Vec<Arg>,
    /// Bytes consumed, closing parenthesis included.
    pub consumed: usize,
}

/// An argument-list error: HAProxy's message, the argument position it reports, and the byte
/// offset in `input` it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError {
    pub message: String,
    pub position: usize,
    pub at: usize,
}

/// Argument types (as messages name them) that an empty text cannot stand for.
const NEEDS_TEXT: [&str; 8] = [
    "integer",
    "IPv4 address",
    "IPv4 mask",
    "IPv6 address",
    "IPv6 mask",
    "delay",
    "size",
    "Protocol buffers field number",
];

/// Reads `(a,b,…)` from `input` (which starts right after the keyword), accepting at most
/// `max` arguments of which `min` are mandatory. `type_names[i]` names the type of argument `i`
/// for messages. Without a parenthesis the list is empty.
pub fn parse(
    input: &str,
    min: usize,
    max: usize,
    type_names: &[&str],
) -> Result<ArgList, ArgError> {
    let bytes = input.as_bytes();
    let type_name = |i: usize| type_names.get(i).copied().unwrap_or("string");
    let mut args = Vec::new();
    let empty = !input.starts_with('(');
    let mut i = usize::from(!empty);
    if max > 0 && !(empty && min == 0) {
        while args.len() < max {
            let start = i;
            let mut out = Vec::new();
            let (mut squote, mut dquote) = (false, false);
            while i < bytes.len() && !empty {
                let c = bytes[i];
                if c == b'"' && !squote {
                    dquote = !dquote;
                    i += 1;
                } else if c == b'\'' && !dquote {
                    squote = !squote;
                    i += 1;
                } else if c == b'\\' && !squote && i + 1 < bytes.len() {
                    match bytes[i + 1] {
                        b'\\' | b' ' | b'"' | b'\'' => out.push(bytes[i + 1]),
                        b'r' => out.push(b'\r'),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        _ => {
                            out.push(b'\\');
                            i += 1;
                            continue;
                        }
                    }
                    i += 2;
                } else if !squote && !dquote && (c == b',' || c == b')') {
                    break;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            if out.is_empty() && NEEDS_TEXT.contains(&type_name(args.len())) {
                // Numbers, addresses, masks, delays and sizes cannot be empty: the list ends
                // here, which is an error while mandatory arguments remain.
                if args.len() < min {
                    return Err(ArgError {
                        message: format!(
                            "expected type '{}' at position {}, but got nothing",
                            type_name(args.len()),
                            args.len() + 1
                        ),
                        position: args.len(),
                        at: i,
                    });
                }
                break;
            }
            args.push(Arg {
                text: String::from_utf8_lossy(&out).into_owned(),
                start,
                end: i,
            });
            if empty || i >= bytes.len() || bytes[i] == b')' || args.len() >= max {
                break;
            }
            i += 1; // the comma
        }
    }
    let mut pos = args.len();
    if pos < min {
        return Err(ArgError {
            message: format!(
                "missing arguments (got {pos}/{min}), type '{}' expected",
                type_name(pos)
            ),
            position: pos,
            at: i,
        });
    }
    if empty {
        return Ok(ArgList { args, consumed: 0 });
    }
    if bytes.get(i) == Some(&b')') {
        return Ok(ArgList {
            args,
            consumed: i + 1,
        });
    }
    let rest = &input[i.min(input.len())..];
    let message = if rest.is_empty() {
        "expected ')'".to_string()
    } else {
        format!("expected ')' before '{rest}'")
    };
    if pos > 1 {
        pos -= 1;
    }
    Err(ArgError {
        message,
        position: pos,
        at: i,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_and_escaped_arguments() {
        let l = parse("(a,'b,c',\"d\\\"e\")", 1, 3, &[]).unwrap();
        let texts: Vec<&str> = l.args.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["a", "b,c", "d\"e"]);
        assert_eq!(l.consumed, 16);
    }

    #[test]
    fn reports_haproxy_errors() {
        let e = parse("(A,B)", 1, 1, &["string"]).unwrap_err();
        assert_eq!(e.message, "expected ')' before ',B)'");
        assert_eq!(e.position, 1);
        let e = parse("", 2, 2, &["string", "string"]).unwrap_err();
        assert_eq!(
            e.message,
            "missing arguments (got 1/2), type 'string' expected"
        );
        // An empty number ends the list: an error while mandatory arguments remain.
        let e = parse("", 2, 2, &["integer", "integer"]).unwrap_err();
        assert_eq!(
            e.message,
            "expected type 'integer' at position 1, but got nothing"
        );
        let e = parse("(1,)", 2, 2, &["integer", "IPv4 mask"]).unwrap_err();
        assert_eq!(
            e.message,
            "expected type 'IPv4 mask' at position 2, but got nothing"
        );
        assert_eq!(e.position, 1);
        assert_eq!(parse("()", 0, 1, &["integer"]).unwrap().args, []);
        let e = parse("(a", 1, 1, &[]).unwrap_err();
        assert_eq!(e.message, "expected ')'");
    }
}
