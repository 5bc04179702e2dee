//! Sample expressions: `fetch(args),converter(args),…`, parsed like HAProxy's `sample_parse_expr`,
//! with the fetch→converter chain type-checked and object references left for the checker.

use crate::arglist;
use crate::registry::{self, ArgType, SampleType};
use serde::Serialize;

/// One fetch or converter call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Call {
    pub name: String,
    pub args: Vec<String>,
    /// Byte range of the call in the expression text.
    pub start: usize,
    pub end: usize,
}

/// An argument naming a configuration object, resolved later by the checker.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectRef {
    pub kind: ArgType,
    pub value: String,
    /// 1-based argument position, for HAProxy's messages.
    pub position: usize,
    /// The keyword whose argument it is (fetch name).
    pub keyword: String,
    /// The converter name when the argument belongs to a converter.
    pub converter: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleExpr {
    pub fetch: Call,
    pub converters: Vec<Call>,
    pub output: SampleType,
    pub refs: Vec<ObjectRef>,
}

/// A parse error: HAProxy's message and the byte offset it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    pub message: String,
    pub at: usize,
}

fn is_idchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b':')
}

fn type_name(t: ArgType) -> &'static str {
    match t {
        ArgType::Sint => "integer",
        ArgType::Str => "string",
        ArgType::Backend => "backend",
        ArgType::Frontend => "frontend",
        ArgType::Table => "table",
        ArgType::Server => "server",
        ArgType::Userlist => "user list",
        ArgType::Regex => "regex",
        ArgType::Var => "variable",
        ArgType::Ipv4 => "IPv4 address",
        ArgType::Ipv6 => "IPv6 address",
        ArgType::Msk4 => "IPv4 mask",
        ArgType::Msk6 => "IPv6 mask",
        ArgType::Time => "delay",
        ArgType::Size => "size",
        ArgType::PbufFieldNum => "Protocol buffers field number",
        ArgType::Map => "map",
    }
}

/// Checks typed arguments the way `make_arg_list` converts them; returns object references.
fn check_args(
    args: &[arglist::Arg],
    spec: &registry::ArgSpec,
    keyword: &str,
    converter: Option<&str>,
    refs: &mut Vec<ObjectRef>,
) -> Result<(), (String, usize)> {
    for (i, arg) in args.iter().enumerate() {
        let Some(&t) = spec.types.get(i) else { break };
        let text = arg.text.as_str();
        let bad = || {
            (
                format!(
                    "failed to parse '{text}' as type '{}' at position {}",
                    type_name(t),
                    i + 1
                ),
                i,
            )
        };
        let optional_empty = text.is_empty() && i >= spec.mandatory as usize;
        let invalid = match t {
            ArgType::Sint => {
                let t2 = text.trim();
                let digits = t2.strip_prefix(['-', '+']).unwrap_or(t2);
                !optional_empty
                    && (digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()))
            }
            ArgType::Time => {
                !text.is_empty()
                    && crate::ir::values::parse_time(text, crate::ir::values::TimeUnit::Ms).is_err()
            }
            ArgType::Size => !text.is_empty() && crate::ir::values::parse_size(text).is_err(),
            ArgType::Ipv4 | ArgType::Ipv6 | ArgType::Msk4 | ArgType::Msk6 => {
                !optional_empty && !address_arg_ok(t, text)
            }
            _ => false,
        };
        if invalid {
            return Err(bad());
        }
        match t {
            ArgType::Backend
            | ArgType::Frontend
            | ArgType::Table
            | ArgType::Server
            | ArgType::Userlist => refs.push(ObjectRef {
                kind: t,
                value: text.to_string(),
                position: i + 1,
                keyword: keyword.to_string(),
                converter: converter.map(String::from),
            }),
            _ => {}
        }
    }
    Ok(())
}

/// An address or mask argument as HAProxy converts it: `inet_pton` for addresses; a mask is
/// dotted (IPv4, a '.' in it) or written with colons (IPv6), else a prefix length read by
/// `strtol` (leading blanks and a sign allowed, nothing after the digits) of at most 32 or 128.
fn address_arg_ok(t: ArgType, text: &str) -> bool {
    let length_at_most = |max: u64| {
        let t = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
        let n = digits.parse::<u64>().unwrap_or(u64::MAX);
        // `(unsigned)len > max`: a negative length wraps around, but for zero.
        if t.starts_with('-') {
            n == 0
        } else {
            n <= max
        }
    };
    match t {
        ArgType::Ipv4 => text.parse::<std::net::Ipv4Addr>().is_ok(),
        ArgType::Ipv6 => text.parse::<std::net::Ipv6Addr>().is_ok(),
        ArgType::Msk4 if text.contains('.') => text.parse::<std::net::Ipv4Addr>().is_ok(),
        ArgType::Msk4 => length_at_most(32),
        ArgType::Msk6 if text.contains(':') => text.parse::<std::net::Ipv6Addr>().is_ok(),
        ArgType::Msk6 => length_at_most(128),
        _ => true,
    }
}

/// The checks HAProxy runs on the arguments of the payload fetches once their list is read
/// (`val_payload_lv`): the message after `invalid args in fetch method '…' :`.
fn payload_args_error(keyword: &str, args: &[&str]) -> Option<String> {
    if !matches!(keyword, "payload_lv" | "req.payload_lv" | "res.payload_lv") {
        return None;
    }
    // The two integers were checked already; HAProxy reads them as 64-bit numbers.
    let int = |i: usize| {
        let a = args.get(i).copied().unwrap_or_default().trim();
        a.strip_prefix('+').unwrap_or(a).parse::<i64>().unwrap_or(0)
    };
    let (offset1, length) = (int(0), int(1));
    if offset1 < 0 {
        return Some("payload offset1 must be positive".into());
    }
    if length == 0 {
        return Some("payload length must be > 0".into());
    }
    let offset2 = args.get(2).copied().unwrap_or_default();
    if offset2.is_empty() {
        return None;
    }
    // `read_int64`: an optional sign, then digits up to the end.
    let digits = offset2.strip_prefix(['+', '-']).unwrap_or(offset2);
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Some("payload offset2 is not a number".into());
    }
    let magnitude = digits
        .parse::<i64>()
        .unwrap_or(if digits.is_empty() { 0 } else { i64::MAX });
    let value = if offset2.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    (offset1.saturating_add(length).saturating_add(value) < 0)
        .then(|| "payload offset2 too negative".into())
}

fn texts(args: &[arglist::Arg]) -> Vec<&str> {
    args.iter().map(|a| a.text.as_str()).collect()
}

/// A `lua.<name>` keyword exists once a script registered it (when the registrations are known).
fn lua_known(keyword: &str, converter: bool) -> bool {
    keyword
        .strip_prefix("lua.")
        .is_none_or(|name| crate::lua::sample_known(name, converter))
}

/// Parses a sample expression from `text`. With `stop_at_junk`, parsing ends at the first
/// character that cannot continue the expression (used inside `%[…]`); `consumed` says where.
pub fn parse(text: &str, stop_at_junk: bool) -> Result<(SampleExpr, usize), ExprError> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && is_idchar(b[i]) {
        i += 1;
    }
    if i == 0 {
        return Err(ExprError {
            message: "missing fetch method".into(),
            at: 0,
        });
    }
    let fkw = &text[..i];
    let Some(fetch) = registry::fetch(fkw).filter(|_| lua_known(fkw, false)) else {
        return Err(ExprError {
            message: format!("unknown fetch method '{fkw}'"),
            at: 0,
        });
    };
    let spec = &fetch.args;
    let mut refs = Vec::new();
    let list = arglist::parse(
        &text[i..],
        spec.mandatory as usize,
        spec.types.len(),
        &spec.types.iter().map(|t| type_name(*t)).collect::<Vec<_>>(),
    )
    .map_err(|e| ExprError {
        message: format!("fetch method '{fkw}' : {}", e.message),
        at: i + e.at,
    })?;
    check_args(&list.args, spec, fkw, None, &mut refs).map_err(|(m, _)| ExprError {
        message: format!("fetch method '{fkw}' : {m}"),
        at: i,
    })?;
    let fetch_args = texts(&list.args);
    if let Some(m) = super::vars::sample_args_error(fkw, false, &fetch_args)
        .or_else(|| payload_args_error(fkw, &fetch_args))
    {
        return Err(ExprError {
            message: format!("invalid args in fetch method '{fkw}' : {m}"),
            at: i,
        });
    }
    let mut end = i + list.consumed;
    let fetch_call = Call {
        name: fkw.to_string(),
        args: list.args.iter().map(|a| a.text.clone()).collect(),
        start: 0,
        end,
    };
    let mut output = fetch.output;
    let mut converters = Vec::new();
    let mut last = None::<String>;
    loop {
        if end < b.len() && b[end] != b',' {
            if stop_at_junk {
                break;
            }
            let message = match &last {
                Some(c) => format!("missing comma after converter '{c}'"),
                None => format!("missing comma after fetch keyword '{fkw}'"),
            };
            return Err(ExprError { message, at: end });
        }
        while end < b.len() && b[end] == b',' {
            end += 1;
        }
        if end >= b.len() {
            break;
        }
        let start = end;
        let mut j = start;
        while j < b.len() && is_idchar(b[j]) {
            j += 1;
        }
        let ckw = &text[start..j];
        let Some(conv) = registry::converter(ckw).filter(|_| lua_known(ckw, true)) else {
            return Err(ExprError {
                message: format!("unknown converter '{ckw}'"),
                at: start,
            });
        };
        if !output.casts_to(conv.input) {
            return Err(ExprError {
                message: format!("converter '{ckw}' cannot be applied"),
                at: start,
            });
        }
        output = conv.output;
        let cspec = &conv.args;
        let names: Vec<&str> = cspec.types.iter().map(|t| type_name(*t)).collect();
        let list = arglist::parse(
            &text[j..],
            cspec.mandatory as usize,
            cspec.types.len(),
            &names,
        )
        .map_err(|e| ExprError {
            message: format!(
                "invalid arg {} in converter '{ckw}' : {}",
                e.position + 1,
                e.message
            ),
            at: j + e.at,
        })?;
        check_args(&list.args, cspec, fkw, Some(ckw), &mut refs).map_err(|(m, pos)| ExprError {
            message: format!("invalid arg {} in converter '{ckw}' : {m}", pos + 1),
            at: j,
        })?;
        let arg_texts = texts(&list.args);
        if let Some(m) = super::vars::sample_args_error(ckw, true, &arg_texts)
            .or_else(|| super::crypto::converter_args_error(ckw, &arg_texts))
        {
            return Err(ExprError {
                message: format!("invalid args in converter '{ckw}' : {m}"),
                at: j,
            });
        }
        end = j + list.consumed;
        converters.push(Call {
            name: ckw.to_string(),
            args: list.args.iter().map(|a| a.text.clone()).collect(),
            start,
            end,
        });
        last = Some(ckw.to_string());
    }
    Ok((
        SampleExpr {
            fetch: fetch_call,
            converters,
            output,
            refs,
        },
        end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s, false).unwrap_err().message
    }

    #[test]
    fn parses_chains() {
        let (e, _) = parse("req.hdr(host),lower,host_only", false).unwrap();
        assert_eq!(e.fetch.name, "req.hdr");
        assert_eq!(e.converters.len(), 2);
        assert_eq!(e.output, SampleType::Str);
        let (e, _) = parse("src,table_expire(st,0)", false).unwrap();
        assert_eq!(e.refs[0].kind, ArgType::Table);
        let (e, used) = parse("hdr(host)]rest", true).unwrap();
        assert_eq!((e.fetch.name.as_str(), used), ("hdr", 9));
    }

    #[test]
    fn address_and_mask_arguments_are_converted_as_haproxy_does() {
        assert_eq!(
            err("hdr(arg),ipmask(a)"),
            "invalid arg 1 in converter 'ipmask' : failed to parse 'a' as type 'IPv4 mask' at position 1"
        );
        assert_eq!(
            err("src,ipmask(24,129)"),
            "invalid arg 2 in converter 'ipmask' : failed to parse '129' as type 'IPv6 mask' at position 2"
        );
        assert_eq!(
            err("ipv4(10.0.0)"),
            "fetch method 'ipv4' : failed to parse '10.0.0' as type 'IPv4 address' at position 1"
        );
        for ok in [
            "src,ipmask(24)",
            "src,ipmask(255.255.255.0)",
            "src,ipmask(+32,64)",
            "src,ipmask(24,ffff:ffff::)",
            "ipv4(10.0.0.1)",
            "ipv6(::1)",
        ] {
            assert!(parse(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "src,ipmask(33)",
            "src,ipmask(-1)",
            "src,ipmask(24x)",
            "ipv6(1.2.3.4)",
        ] {
            assert!(parse(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn payload_lv_arguments_are_validated() {
        assert_eq!(
            err("payload_lv(0,0)"),
            "invalid args in fetch method 'payload_lv' : payload length must be > 0"
        );
        assert_eq!(
            err("req.payload_lv(-1,2)"),
            "invalid args in fetch method 'req.payload_lv' : payload offset1 must be positive"
        );
        assert_eq!(
            err("req.payload_lv(1,1,-5)"),
            "invalid args in fetch method 'req.payload_lv' : payload offset2 too negative"
        );
        assert_eq!(
            err("res.payload_lv(0,2,x)"),
            "invalid args in fetch method 'res.payload_lv' : payload offset2 is not a number"
        );
        assert!(parse("req.payload_lv(0,2,+4)", false).is_ok());
        assert!(parse("req.payload_lv(4,2,-6)", false).is_ok());
        // `payload` itself takes a zero length (the whole buffer).
        assert!(parse("req.payload(0,0)", false).is_ok());
    }

    #[test]
    fn errors_match_haproxy() {
        assert_eq!(err("nosuch"), "unknown fetch method 'nosuch'");
        assert_eq!(err("src,nosuch"), "unknown converter 'nosuch'");
        assert_eq!(
            err("req.hdr(host),port_only(1)"),
            "invalid arg 1 in converter 'port_only' : expected ')' before '1)'"
        );
        assert_eq!(err("src,table_idle(t,abc)"), "invalid arg 2 in converter 'table_idle' : failed to parse 'abc' as type 'integer' at position 2");
        assert_eq!(
            err("method,x509_v_err_str"),
            "converter 'x509_v_err_str' cannot be applied"
        );
        assert_eq!(err(""), "missing fetch method");
    }
}
