//! Sample fetches and converters over one transaction (sans-I/O): the values ACLs, rules,
//! `use_backend %[…]` and log formats read.
//!
//! `fetch` and its submodules answer the fetches; `convert` prepares converters, which live by
//! family: `text` (strings), `encode` (base64, hex, URL, JSON escapes), `hash` (checksums,
//! digests, HMAC), `arith` (integers), `maps`, `json` (JSON and JWT), `time` (dates) and
//! `proto` (FIX) and `mqtt`.

mod arith;
pub(crate) mod convert;
mod digests;
mod encode;
mod fetch;
mod hash;
mod json;
mod maps;
mod mqtt;
mod proto;
mod protobuf;
mod text;
mod time;

use crate::txn::Txn;
use hapee_compiler::bytestr;
use hapee_compiler::expr::sample::SampleExpr;
use hapee_compiler::registry::SampleType;
use std::net::IpAddr;

pub use convert::{convert_by_name, Converter};
pub use encode::{base64_decode, url_decode, url_decode_form};
pub use fetch::fetch;
pub(crate) use fetch::{backend, current_server, frontend};
pub use maps::{map_lookup, MapMatch};
pub use text::{hap_subst, host_only, port_only};

/// A sample value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Ip(IpAddr),
    /// Bytes that need not be text (`req.payload`, a digest, a certificate serial number).
    Bin(bytes::Bytes),
}

impl Value {
    /// The sample as text, as HAProxy casts it to a string: binary samples end at their first
    /// NUL byte. A string sample may hold any byte: those that are not UTF-8 are carried as
    /// [`bytestr`] carries them, so [`Value::as_bytes`] gives them back.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Str(s) => s.as_str().into(),
            Value::Int(i) => i.to_string().into(),
            Value::Bool(b) => if *b { "1" } else { "0" }.into(),
            Value::Ip(ip) => ip.to_string().into(),
            Value::Bin(b) => {
                let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
                bytestr::from_bytes(&b[..end])
            }
        }
    }

    /// The sample's bytes: binary samples as they are, the others as their text.
    pub fn as_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Value::Bin(b) => b.as_ref().into(),
            Value::Str(s) => bytestr::to_bytes(s),
            other => other.as_text().into_owned().into_bytes().into(),
        }
    }

    /// The sample cast to binary as HAProxy casts it: integers as 8 big-endian bytes,
    /// addresses as their 4 or 16 bytes; booleans have no binary form.
    pub fn as_bin(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        Some(match self {
            Value::Int(i) => i.to_be_bytes().to_vec().into(),
            Value::Ip(IpAddr::V4(a)) => a.octets().to_vec().into(),
            Value::Ip(IpAddr::V6(a)) => a.octets().to_vec().into(),
            Value::Bool(_) => return None,
            other => other.as_bytes(),
        })
    }

    /// The sample as an integer, as HAProxy casts it: text gives its leading number (an empty
    /// text none), addresses their IPv4 value.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Str(s) => leading_int(s.as_bytes()),
            Value::Ip(IpAddr::V4(a)) => Some(i64::from(u32::from(*a))),
            Value::Ip(_) | Value::Bin(_) => None,
        }
    }

    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Value::Ip(ip) => Some(*ip),
            Value::Str(s) => s.parse().ok(),
            Value::Int(i) => Some(IpAddr::V4((*i as u32).into())),
            _ => None,
        }
    }
}

/// The optional sign and digits a text starts with (`12ab` is 12, `ab` is 0), as HAProxy
/// reads a string sample as an integer; an empty text is no integer.
pub fn leading_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0i64, |n, c| {
            n.wrapping_mul(10).wrapping_add(i64::from(c - b'0'))
        });
    Some(if negative { n.wrapping_neg() } else { n })
}

/// A sample expression ready to evaluate.
#[derive(Debug)]
pub struct Expr {
    pub fetch: Fetch,
    pub converters: Vec<Converter>,
    /// The type of what the expression gives (its last converter's, or its fetch's).
    pub output: SampleType,
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
        if e.fetch.name == "internal.htx_blk.data" {
            crate::http::htx::want_data();
        }
        let converters = e
            .converters
            .iter()
            .map(convert::compile)
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
            output: e.output,
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
            v = c.apply(v, Some(txn))?;
        }
        Some(v)
    }
}

/// The value of variable `name` (`txn.x`, `sess.y`…) as the transaction sees it.
pub fn var(txn: &Txn, name: &str) -> Option<Value> {
    txn.var(name)
}

/// Whether a converter argument names a variable rather than giving a value (HAProxy reads
/// an argument with a scope prefix as a variable).
pub fn is_var_name(arg: &str) -> bool {
    ["proc.", "sess.", "txn.", "req.", "res.", "check."]
        .iter()
        .any(|scope| arg.len() > scope.len() && arg.starts_with(scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_haproxy() {
        assert_eq!(Value::Str("12ab".into()).as_int(), Some(12));
        assert_eq!(Value::Str("-7".into()).as_int(), Some(-7));
        assert_eq!(Value::Str("ab".into()).as_int(), Some(0));
        assert_eq!(Value::Str(String::new()).as_int(), None);
        assert_eq!(
            Value::Bin(bytes::Bytes::from_static(b"to\0to")).as_text(),
            "to"
        );
        assert_eq!(
            Value::Int(1).as_bin().unwrap().as_ref(),
            &[0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert!(Value::Bool(true).as_bin().is_none());
        assert!(is_var_name("txn.key") && !is_var_name("txn.") && !is_var_name("abc"));
    }
}
