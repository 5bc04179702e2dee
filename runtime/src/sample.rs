//! Sample fetches and converters over one transaction (sans-I/O): the values ACLs, rules,
//! `use_backend %[…]` and log formats read.

use crate::txn::Txn;
use hapee_compiler::expr::sample::{Call, SampleExpr};
use std::net::IpAddr;
use std::sync::Arc;

/// A sample value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Ip(IpAddr),
    /// Bytes that need not be text (`req.payload`, a certificate, a serial number); shown
    /// in hexadecimal as text, compared as bytes by ACLs.
    Bin(bytes::Bytes),
}

impl Value {
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Str(s) => s.as_str().into(),
            Value::Int(i) => i.to_string().into(),
            Value::Bool(b) => if *b { "1" } else { "0" }.into(),
            Value::Ip(ip) => ip.to_string().into(),
            Value::Bin(b) => b
                .iter()
                .map(|x| format!("{x:02X}"))
                .collect::<String>()
                .into(),
        }
    }

    /// The sample's bytes: binary samples as they are, the others as their text.
    pub fn as_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Value::Bin(b) => b.as_ref().into(),
            Value::Str(s) => s.as_bytes().into(),
            other => other.as_text().into_owned().into_bytes().into(),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Str(s) => s.trim().parse().ok(),
            Value::Ip(_) | Value::Bin(_) => None,
        }
    }

    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Value::Ip(ip) => Some(*ip),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// One converter with its arguments prepared (regexes compiled, maps loaded).
#[derive(Debug)]
pub enum Converter {
    Lower,
    /// `x509_v_err_str`: an OpenSSL verification code's name.
    X509VErrStr,
    Upper,
    HostOnly,
    PortOnly,
    Length,
    Base64,
    B64Dec,
    Hex,
    Hex2i,
    Json,
    UrlDec,
    Ipmask(IpAddr, u8),
    Field(i64, String),
    Word(i64, String),
    Regsub(regex::Regex, String, bool),
    Map {
        file: Arc<crate::patref::PatRef>,
        how: MapMatch,
        default: Option<String>,
    },
    Add(i64),
    Sub(i64),
    Mul(i64),
    Div(i64),
    Not,
    Bool,
    /// A `table_*` converter or `in_table`.
    Table(Box<crate::tables::fetch::TableRead>),
    /// `lua.<name>(args)`: a converter a script registered.
    Script(String, Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapMatch {
    Str,
    Beg,
    End,
    Sub,
    Dom,
    Reg,
    Ip,
    Int,
}

/// A sample expression ready to evaluate.
#[derive(Debug)]
pub struct Expr {
    pub fetch: Fetch,
    pub converters: Vec<Converter>,
}

/// A sample fetch with its arguments.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub name: String,
    pub args: Vec<String>,
    /// Where in a transaction it has something to fetch (HAProxy's check point bits).
    pub places: u32,
    /// A stick table fetch (`sc_*`, `src_*`, `table_cnt`…), read from the tables.
    pub table: Option<Box<crate::tables::fetch::TableRead>>,
}

/// Why an expression cannot run.
#[derive(Debug)]
pub struct Unsupported(pub String);

pub use hapee_compiler::registry::support::{CONVERTERS, FETCHES};

impl Expr {
    pub fn compile(e: &SampleExpr) -> Result<Expr, Unsupported> {
        let table = crate::tables::fetch::TableRead::fetch(&e.fetch.name, &e.fetch.args);
        if !FETCHES.contains(&e.fetch.name.as_str()) && !e.fetch.name.starts_with("lua.") {
            return Err(Unsupported(format!("sample fetch '{}'", e.fetch.name)));
        }
        let converters = e
            .converters
            .iter()
            .map(converter)
            .collect::<Result<_, _>>()?;
        Ok(Expr {
            fetch: Fetch {
                places: hapee_compiler::registry::capabilities::fetch_places(&e.fetch.name)
                    .unwrap_or(u32::MAX),
                name: e.fetch.name.clone(),
                args: e.fetch.args.clone(),
                table: table.map(Box::new),
            },
            converters,
        })
    }

    /// Parses and compiles `text` (`req.hdr(host),lower`).
    pub fn parse(text: &str) -> Result<Expr, Unsupported> {
        let (e, _) =
            hapee_compiler::expr::sample::parse(text, false).map_err(|e| Unsupported(e.message))?;
        Expr::compile(&e)
    }

    /// The value of the expression (last occurrence for multi-valued fetches).
    pub fn eval(&self, txn: &Txn) -> Option<Value> {
        let v = fetch(&self.fetch, txn).pop()?;
        self.convert(v, txn)
    }

    /// Every value of the fetch, converted: ACLs match any of them.
    pub fn eval_all(&self, txn: &Txn) -> Vec<Value> {
        fetch(&self.fetch, txn)
            .into_iter()
            .filter_map(|v| self.convert(v, txn))
            .collect()
    }

    fn convert(&self, mut v: Value, txn: &Txn) -> Option<Value> {
        for c in &self.converters {
            v = match c {
                Converter::Table(t) => t.convert_value(&v, txn)?,
                Converter::Script(name, args) => {
                    crate::script::hooks()?.convert(name, args, v, txn)?
                }
                _ => apply(c, v)?,
            };
        }
        Some(v)
    }
}

fn arg(c: &Call, i: usize) -> &str {
    c.args.get(i).map_or("", String::as_str)
}

fn int_arg(c: &Call, i: usize) -> Result<i64, Unsupported> {
    arg(c, i)
        .parse()
        .map_err(|_| Unsupported(format!("converter '{}' argument", c.name)))
}

fn converter(c: &Call) -> Result<Converter, Unsupported> {
    Ok(match c.name.as_str() {
        "lower" => Converter::Lower,
        "x509_v_err_str" => Converter::X509VErrStr,
        "upper" => Converter::Upper,
        "host_only" => Converter::HostOnly,
        "port_only" => Converter::PortOnly,
        "length" => Converter::Length,
        "base64" => Converter::Base64,
        "b64dec" => Converter::B64Dec,
        "hex" => Converter::Hex,
        "hex2i" => Converter::Hex2i,
        "json" => Converter::Json,
        "url_dec" => Converter::UrlDec,
        "not" => Converter::Not,
        "bool" => Converter::Bool,
        "add" => Converter::Add(int_arg(c, 0)?),
        "sub" => Converter::Sub(int_arg(c, 0)?),
        "mul" => Converter::Mul(int_arg(c, 0)?),
        "div" => Converter::Div(int_arg(c, 0)?),
        "ipmask" => {
            let bits: u8 = arg(c, 0)
                .parse()
                .or_else(|_| {
                    arg(c, 0)
                        .parse::<std::net::Ipv4Addr>()
                        .map(|m| u32::from(m).count_ones() as u8)
                })
                .map_err(|_| Unsupported("ipmask argument".into()))?;
            Converter::Ipmask(IpAddr::from([0, 0, 0, 0]), bits)
        }
        "field" => Converter::Field(int_arg(c, 0)?, arg(c, 1).to_string()),
        "word" => Converter::Word(int_arg(c, 0)?, arg(c, 1).to_string()),
        "regsub" => {
            let re = regex::Regex::new(arg(c, 0)).map_err(|e| Unsupported(e.to_string()))?;
            Converter::Regsub(re, hap_subst(arg(c, 1)), arg(c, 2).contains('g'))
        }
        name if name.starts_with("map") => {
            let how = match name {
                "map" | "map_str" => MapMatch::Str,
                "map_beg" => MapMatch::Beg,
                "map_end" => MapMatch::End,
                "map_sub" => MapMatch::Sub,
                "map_dom" => MapMatch::Dom,
                "map_reg" => MapMatch::Reg,
                "map_ip" => MapMatch::Ip,
                "map_int" => MapMatch::Int,
                _ => return Err(Unsupported(format!("converter '{name}'"))),
            };
            let file = crate::patref::load(arg(c, 0), crate::patref::Kind::Map)
                .map_err(|e| Unsupported(format!("map file '{}': {e}", arg(c, 0))))?;
            Converter::Map {
                file,
                how,
                default: c.args.get(1).cloned(),
            }
        }
        name if name.starts_with("lua.") => {
            Converter::Script(name["lua.".len()..].to_string(), c.args.clone())
        }
        other => match crate::tables::fetch::TableRead::converter(other, &c.args) {
            Some(t) if CONVERTERS.contains(&other) => Converter::Table(Box::new(t)),
            _ => return Err(Unsupported(format!("converter '{other}'"))),
        },
    })
}

/// Applies converter `name` with `args` to `v` (scripts call converters by name).
pub fn convert_by_name(
    name: &str,
    args: &[String],
    v: Value,
) -> Result<Option<Value>, Unsupported> {
    let call = Call {
        name: name.to_string(),
        args: args.to_vec(),
        start: 0,
        end: 0,
    };
    Ok(apply(&converter(&call)?, v))
}

/// HAProxy's `\1` back-references become the regex crate's `${1}`.
pub fn hap_subst(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

pub fn map_lookup(file: &crate::patref::PatRef, how: MapMatch, key: &str) -> Option<String> {
    file.entries()
        .iter()
        .map(|e| (e.key.as_str(), &e.value))
        .find(|&(k, _)| match how {
            MapMatch::Str | MapMatch::Int => k == key,
            MapMatch::Beg => key.starts_with(k),
            MapMatch::End => key.ends_with(k),
            MapMatch::Sub => key.contains(k),
            MapMatch::Dom => crate::acl::dom_match(key, k, false),
            MapMatch::Reg => regex::Regex::new(k).is_ok_and(|r| r.is_match(key)),
            MapMatch::Ip => match (key.parse::<IpAddr>(), crate::acl::Cidr::parse(k)) {
                (Ok(ip), Some(net)) => net.contains(ip),
                _ => false,
            },
        })
        .map(|(_, v)| v.clone())
}

fn apply(c: &Converter, v: Value) -> Option<Value> {
    Some(match c {
        Converter::Lower => Value::Str(v.as_text().to_ascii_lowercase()),
        Converter::Upper => Value::Str(v.as_text().to_ascii_uppercase()),
        Converter::HostOnly => Value::Str(host_only(&v.as_text()).to_string()),
        Converter::PortOnly => Value::Int(port_only(&v.as_text())),
        Converter::Length => Value::Int(v.as_text().len() as i64),
        Converter::Base64 => Value::Str(base64_encode(v.as_text().as_bytes())),
        Converter::B64Dec => {
            Value::Str(String::from_utf8_lossy(&base64_decode(&v.as_text())?).into_owned())
        }
        Converter::Hex => Value::Str(match &v {
            Value::Bin(_) => v.as_text().into_owned(),
            // An integer is hexed as HAProxy casts it to binary: 8 bytes, big-endian.
            Value::Int(i) => format!("{:016X}", *i as u64),
            _ => v.as_text().bytes().map(|b| format!("{b:02X}")).collect(),
        }),
        Converter::X509VErrStr => Value::Str(
            hapee_compiler::registry::x509_error_name(i32::try_from(v.as_int()?).ok()?)?
                .to_string(),
        ),
        Converter::Hex2i => Value::Int(hex2i(&v.as_text())?),
        Converter::Json => Value::Str(json_escape(&v.as_text())),
        Converter::UrlDec => Value::Str(url_decode(&v.as_text())),
        Converter::Not => Value::Bool(v.as_int()? == 0),
        Converter::Bool => Value::Bool(v.as_int()? != 0),
        Converter::Script(..) => return None,
        Converter::Add(n) => Value::Int(v.as_int()?.wrapping_add(*n)),
        Converter::Sub(n) => Value::Int(v.as_int()?.wrapping_sub(*n)),
        Converter::Mul(n) => Value::Int(v.as_int()?.wrapping_mul(*n)),
        Converter::Div(n) => Value::Int(if *n == 0 { i64::MAX } else { v.as_int()? / n }),
        Converter::Ipmask(_, bits) => Value::Ip(mask_ip(v.as_ip()?, *bits)),
        Converter::Field(i, delims) => Value::Str(field(&v.as_text(), *i, delims, false)?),
        Converter::Word(i, delims) => Value::Str(field(&v.as_text(), *i, delims, true)?),
        Converter::Regsub(re, subst, global) => {
            let text = v.as_text();
            Value::Str(if *global {
                re.replace_all(&text, subst.as_str()).into_owned()
            } else {
                re.replace(&text, subst.as_str()).into_owned()
            })
        }
        Converter::Table(_) => return None,
        Converter::Map { file, how, default } => {
            match map_lookup(file, *how, &v.as_text()).or_else(|| default.clone()) {
                Some(s) => Value::Str(s),
                None => return None,
            }
        }
    })
}

/// `hex2i`: a hexadecimal text as a signed 64-bit integer (HAProxy reads at most 16 digits
/// and stops at the first non-hex character; none at all gives no sample).
fn hex2i(text: &str) -> Option<i64> {
    let digits: String = text
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .take(16)
        .collect();
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(&digits, 16).ok().map(|v| v as i64)
}

/// The 2.7 `host_only` converter: the host part of a `Host` value, without the port.
pub fn host_only(v: &str) -> &str {
    if v.starts_with('[') {
        // `[v6]:port` keeps the brackets; without a closing bracket there is nothing to strip.
        return v.find(']').map_or(v, |close| &v[..=close]);
    }
    match v.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => v,
    }
}

/// The 2.7 `port_only` converter: the port of a `Host` value, 0 when absent.
pub fn port_only(v: &str) -> i64 {
    let tail = match v.rfind(']') {
        Some(close) => &v[close + 1..],
        None if v.matches(':').count() == 1 => &v[v.find(':').unwrap_or(0)..],
        None => "",
    };
    tail.strip_prefix(':')
        .and_then(|p| p.parse::<u16>().ok())
        .map_or(0, i64::from)
}

fn mask_ip(ip: IpAddr, bits: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits.min(32)))
            };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits.min(128)))
            };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

fn field(s: &str, index: i64, delims: &str, skip_empty: bool) -> Option<String> {
    let parts: Vec<&str> = s
        .split(|c| delims.contains(c))
        .filter(|p| !skip_empty || !p.is_empty())
        .collect();
    let i = if index > 0 {
        index as usize - 1
    } else if index < 0 {
        parts.len().checked_sub(index.unsigned_abs() as usize)?
    } else {
        return None;
    };
    parts.get(i).map(|p| p.to_string())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes().filter(|b| *b != b'=') {
        let v = B64.iter().position(|c| *c == b)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Evaluates one fetch; multi-valued fetches (headers) give every occurrence in order.
pub fn fetch(f: &Fetch, txn: &Txn) -> Vec<Value> {
    if f.places & txn.places.get() == 0 {
        return Vec::new();
    }
    if let Some(t) = &f.table {
        return t.fetch_value(txn).into_iter().collect();
    }
    let a0 = f.args.first().map_or("", String::as_str);
    let one = |v: Option<Value>| v.into_iter().collect::<Vec<_>>();
    match f.name.as_str() {
        "src" => one(Some(Value::Ip(txn.client.ip()))),
        "src_port" => one(Some(Value::Int(i64::from(txn.client.port())))),
        "dst" => one(Some(Value::Ip(txn.local.ip()))),
        "dst_port" => one(Some(Value::Int(i64::from(txn.local.port())))),
        "fe_name" => one(Some(Value::Str(txn.frontend.to_string()))),
        "fc_rcvd_proxy" => one(Some(Value::Bool(txn.proxy.is_some()))),
        "fc_pp_authority" | "fc_pp_unique_id" => {
            use crate::proto::proxy_protocol::tlv;
            let kind = if f.name == "fc_pp_authority" {
                tlv::AUTHORITY
            } else {
                tlv::UNIQUE_ID
            };
            let value = txn.proxy.as_ref().and_then(|h| h.tlv(kind));
            one(value.map(|v| Value::Str(String::from_utf8_lossy(v).into_owned())))
        }
        "be_name" => one(txn.backend.as_ref().map(|b| Value::Str(b.to_string()))),
        "always_true" => one(Some(Value::Bool(true))),
        "always_false" => one(Some(Value::Bool(false))),
        "int" => one(a0.parse().ok().map(Value::Int)),
        "str" => one(Some(Value::Str(a0.to_string()))),
        "fc_err" => one(Some(Value::Int(txn.conn_error.map_or(0, |e| e.code())))),
        "fc_err_str" => one(txn.conn_error.map(|e| Value::Str(e.message().to_string()))),
        name if name.starts_with("ssl_") => {
            crate::tls::fetch::fetch(name, &f.args, txn.tls.as_deref()).unwrap_or_default()
        }
        "var" => one(txn.vars.get(a0).cloned()),
        name if crate::inspect::provides(name) => crate::inspect::fetch(name, &f.args, txn),
        name if name.starts_with("lua.") => {
            one(crate::script::hooks().and_then(|h| h.fetch(&name["lua.".len()..], &f.args, txn)))
        }
        "req.body" => one(txn
            .request_body
            .as_ref()
            .map(|b| Value::Str(String::from_utf8_lossy(b).into_owned()))),
        "req.body_len" => one(Some(Value::Int(
            txn.request_body.as_ref().map_or(0, |b| b.len() as i64),
        ))),
        "nbsrv" => one(Some(Value::Int(txn.nbsrv(a0)))),
        "status" => one(txn
            .response
            .as_ref()
            .map(|r| Value::Int(i64::from(r.status)))),
        "res.hdr" | "shdr" => match &txn.response {
            Some(r) => header_values(&r.headers, a0, f.args.get(1)),
            None => Vec::new(),
        },
        _ => match &txn.request {
            Some(req) => request_fetch(f, req, a0),
            None => Vec::new(),
        },
    }
}

fn header_values(h: &hyper::HeaderMap, name: &str, occ: Option<&String>) -> Vec<Value> {
    let mut all: Vec<Value> = h
        .get_all(name)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(|s| Value::Str(s.trim().to_string()))
        .collect();
    if let Some(occ) = occ.and_then(|o| o.parse::<i64>().ok()) {
        let i = if occ > 0 {
            occ as usize - 1
        } else {
            all.len().saturating_sub(occ.unsigned_abs() as usize)
        };
        all = all.get(i).cloned().into_iter().collect();
    }
    all
}

fn request_fetch(f: &Fetch, req: &crate::txn::RequestView, a0: &str) -> Vec<Value> {
    let s = |v: &str| vec![Value::Str(v.to_string())];
    match f.name.as_str() {
        "method" => s(req.method.as_str()),
        "path" => s(req.uri.path()),
        "url" => s(&req.uri.to_string()),
        "query" => req.uri.query().map(s).unwrap_or_default(),
        "base" => {
            let host = req
                .headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            s(&format!("{host}{}", req.uri.path()))
        }
        "req.ver" => s(match req.version {
            hyper::Version::HTTP_10 => "1.0",
            _ => "1.1",
        }),
        "url_param" | "urlp" => req
            .uri
            .query()
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .filter(|(k, _)| *k == a0)
            .map(|(_, v)| Value::Str(v.to_string()))
            .collect(),
        "hdr" | "req.hdr" => header_values(&req.headers, a0, f.args.get(1)),
        "hdr_ip" | "req.hdr_ip" => header_values(&req.headers, a0, f.args.get(1))
            .into_iter()
            .filter_map(|v| v.as_ip().map(Value::Ip))
            .collect(),
        "req.fhdr" | "capture.req.hdr" => req
            .headers
            .get_all(a0)
            .iter()
            .map(|v| Value::Str(v.to_str().unwrap_or("").to_string()))
            .collect(),
        "hdr_cnt" | "req.hdr_cnt" => vec![Value::Int(
            header_values(&req.headers, a0, None).len() as i64
        )],
        "cookie" | "req.cook" => req
            .headers
            .get_all("cookie")
            .iter()
            .flat_map(|v| v.to_str().unwrap_or("").split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .filter(|(k, _)| *k == a0)
            .map(|(_, v)| Value::Str(v.to_string()))
            .collect(),
        "http_auth" => vec![Value::Bool(false)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_only() {
        assert_eq!(host_only("example.com:8080"), "example.com");
        assert_eq!(host_only("example.com"), "example.com");
        assert_eq!(host_only("[::1]:443"), "[::1]");
        assert_eq!(host_only("[exampl+.ocm:8080"), "[exampl+.ocm:8080");
        assert_eq!(port_only("example.com:8080"), 8080);
        assert_eq!(port_only("example.com"), 0);
        assert_eq!(port_only("[::1]:443"), 443);
    }

    #[test]
    fn converters_chain() {
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(field("a,b,c", 2, ",", false).as_deref(), Some("b"));
        assert_eq!(field("a,b,c", -1, ",", false).as_deref(), Some("c"));
        assert_eq!(
            mask_ip("10.1.2.3".parse().unwrap(), 16),
            "10.1.0.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(hap_subst("\\1-x"), "${1}-x");
        assert_eq!(url_decode("a%20b+c"), "a b c");
        assert_eq!(url_decode("%%1ѐ%4"), "%%1ѐ%4");
    }
}
