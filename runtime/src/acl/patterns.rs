//! ACL patterns: the match methods (`-m`), the method a criterion implies, and the patterns
//! read for a method (integer ranges, dotted versions, networks, regexes, hex bytes).

use crate::sample::Unsupported;
use std::net::IpAddr;

/// How patterns are compared with the sample (`-m` methods).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dir,
    Dom,
    Len,
    Int,
    Ip,
    Bool,
    Found,
    /// `-m bin`: the sample's bytes equal the pattern's hexadecimal bytes.
    Bin,
}

impl Method {
    pub(super) fn from_suffix(s: &str) -> Option<Method> {
        Some(match s {
            "str" => Method::Str,
            "beg" => Method::Beg,
            "end" => Method::End,
            "sub" => Method::Sub,
            "reg" => Method::Reg,
            "dir" => Method::Dir,
            "dom" => Method::Dom,
            "len" => Method::Len,
            "int" | "val" => Method::Int,
            "ip" => Method::Ip,
            "bool" => Method::Bool,
            "found" => Method::Found,
            "bin" => Method::Bin,
            _ => return None,
        })
    }
}

/// An IPv4/IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => match b.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => u32::from(b.parse::<std::net::Ipv4Addr>().ok()?).count_ones() as u8,
            },
        };
        Some(Cidr { addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (_, ip) => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = if self.bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.bits))
                };
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = if self.bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.bits))
                };
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
}

/// `dom` matching: the pattern equals a run of whole words of the sample, words being separated
/// by '.', '/', '?' or ':' (so `example.com` matches the Host `www.example.com:8443`).
pub fn dom_match(sample: &str, pattern: &str, nocase: bool) -> bool {
    word_match(sample, pattern, nocase, b"./?:")
}

/// `dir` matching: the pattern equals a run of whole '/'- or '?'-separated words of the sample.
pub fn dir_match(sample: &str, pattern: &str) -> bool {
    word_match(sample, pattern, false, b"/?")
}

/// The pattern, with the delimiters at its ends left out, found in the sample starting where a
/// word starts (at the start or after a delimiter) and ending where one ends (at the end or
/// before a delimiter), as HAProxy matches words. A pattern of delimiters only matches nothing.
fn word_match(sample: &str, pattern: &str, nocase: bool, delims: &[u8]) -> bool {
    let delim = |c: &u8| delims.contains(c);
    let (s, p) = (sample.as_bytes(), pattern.as_bytes());
    let start = p.iter().position(|c| !delim(c)).unwrap_or(p.len());
    let end = p.iter().rposition(|c| !delim(c)).map_or(start, |i| i + 1);
    let p = &p[start..end];
    if p.is_empty() || p.len() > s.len() {
        return false;
    }
    let same = |a: &[u8]| {
        if nocase {
            a.eq_ignore_ascii_case(p)
        } else {
            a == p
        }
    };
    (0..=s.len() - p.len()).any(|i| {
        (i == 0 || delim(&s[i - 1]))
            && same(&s[i..i + p.len()])
            && s.get(i + p.len()).is_none_or(delim)
    })
}

/// One pattern, prepared for its method.
#[derive(Debug)]
pub(super) enum Pattern {
    Text(String),
    Regex(regex::Regex),
    IntRange(i64, i64),
    Net(Cidr),
    Bytes(Vec<u8>),
}

/// Why `p` is not a valid pattern for ACLs of `method`, in HAProxy's words where it has them
/// (the Runtime API's `add acl` check).
pub(super) fn pattern_error(method: Method, p: &str) -> Option<String> {
    pattern(method, p, false).err()?;
    Some(match method {
        Method::Ip => format!("'{p}' is not a valid IPv4 or IPv6 address."),
        Method::Int | Method::Len => format!("'{p}' is not a number."),
        Method::Reg => format!("'{p}' is not a valid regular expression."),
        _ => format!("'{p}' is not a valid pattern."),
    })
}

/// Splits `path_beg`, `hdr_dom(host)` and friends into the fetch and the implied method.
pub(super) fn derived_keyword(first: &str) -> Option<(String, Method)> {
    let (name, rest) = match first.find(['(', ',']) {
        Some(i) => (&first[..i], &first[i..]),
        None => (first, ""),
    };
    if crate::sample::FETCHES.contains(&name) {
        return None;
    }
    let (base, suffix) = name.rsplit_once('_')?;
    let method = Method::from_suffix(suffix)?;
    let base = match base {
        "hdr" | "req.hdr" | "path" | "url" | "base" | "cook" | "req.cook" | "urlp"
        | "url_param" | "res.hdr" | "shdr" | "query" | "src" | "dst" | "method" | "var" => base,
        _ => return None,
    };
    let base = if base == "cook" { "cookie" } else { base };
    Some((format!("{base}{rest}"), method))
}

pub(super) fn default_method(fetch: &str) -> Method {
    match fetch {
        "src" | "dst" | "hdr_ip" | "req.hdr_ip" => Method::Ip,
        "src_port"
        | "dst_port"
        | "status"
        | "hdr_cnt"
        | "req.hdr_cnt"
        | "nbsrv"
        | "int"
        | "req.len"
        | "req_len"
        | "res.len"
        | "req.rdp_cookie_cnt"
        | "rdp_cookie_cnt"
        | "internal.htx.data"
        | "internal.htx.size"
        | "internal.htx.used"
        | "internal.htx.free"
        | "internal.htx.free_data"
        | "internal.htx.nbblks"
        | "req.ssl_hello_type"
        | "req_ssl_hello_type"
        | "req.ssl_ver"
        | "req_ssl_ver"
        | "ssl_c_verify"
        | "ssl_c_err"
        | "ssl_c_ca_err"
        | "ssl_fc_err"
        | "ssl_fc_use_keysize"
        | "ssl_fc_alg_keysize"
        | "ssl_c_version"
        | "ssl_f_version" => Method::Int,
        "always_true"
        | "always_false"
        | "ssl_fc"
        | "http_auth"
        | "srv_is_up"
        | "wait_end"
        | "ssl_fc_is_resumed"
        | "ssl_fc_has_sni"
        | "ssl_fc_has_crt"
        | "ssl_c_used"
        | "req.proto_http"
        | "req_proto_http"
        | "internal.htx.has_eom" => Method::Bool,
        "req.payload" | "req.payload_lv" | "payload" | "payload_lv" => Method::Bin,
        // Otherwise the fetch's output type decides, as in HAProxy (`res.body_len gt 0`);
        // binary output has no default there, text is lenient here.
        _ => hapee_compiler::registry::fetch(fetch)
            .and_then(|f| method_of_type(f.output))
            .filter(|m| *m != Method::Bin)
            .unwrap_or(Method::Str),
    }
}

/// The match method of a sample type, when the type has one.
pub(super) fn method_of_type(t: hapee_compiler::registry::SampleType) -> Option<Method> {
    use hapee_compiler::registry::SampleType as T;
    Some(match t {
        T::Sint => Method::Int,
        T::Bool => Method::Bool,
        T::Addr | T::Ipv4 | T::Ipv6 => Method::Ip,
        T::Bin => Method::Bin,
        T::Str | T::Meth => Method::Str,
        T::Any => return None,
    })
}

fn int_range(p: &str) -> Option<(i64, i64)> {
    let (lo, hi) = match p.split_once(':') {
        Some((a, b)) => (
            if a.is_empty() {
                i64::MIN
            } else {
                a.parse().ok()?
            },
            if b.is_empty() {
                i64::MAX
            } else {
                b.parse().ok()?
            },
        ),
        None => {
            let v = p.parse().ok()?;
            (v, v)
        }
    };
    Some((lo, hi))
}

/// Whether `criterion` names a fetch whose integer patterns HAProxy reads as dotted versions
/// (`3.1` is `(3 << 16) + 1`), operators (`lt 3`) included.
pub(super) fn dotted_versions(criterion: &str) -> bool {
    matches!(criterion, "req_ssl_ver" | "req.ssl_ver")
}

/// A dotted version `major[.minor]`, each part below 65536, as the integer HAProxy compares.
fn dotted(p: &str) -> Option<i64> {
    let (major, minor) = p.split_once('.').unwrap_or((p, "0"));
    let part = |s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|n| (0..65536).contains(n) && !s.starts_with('+'))
    };
    Some((part(major)? << 16) + part(minor)?)
}

/// Dotted-version patterns (`3.0-3.1`, `3.1:`, `gt 3.1`) as the integer ranges `int_range` reads.
/// An operator holds for every value after it until the next one, as in HAProxy; a value with
/// a ':' or '-' is a range whatever the operator.
pub(super) fn dotted_patterns(words: &[String]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut operator = "eq";
    for w in words {
        if matches!(w.as_str(), "eq" | "ge" | "gt" | "le" | "lt") {
            operator = w.as_str();
            continue;
        }
        // The first ':' or '-' separates the bounds; either may be missing, not both.
        out.push(match (w.find([':', '-']), operator) {
            (None, "ge") => format!("{}:", dotted(w)?),
            (None, "gt") => format!("{}:", dotted(w)? + 1),
            (None, "le") => format!(":{}", dotted(w)?),
            (None, "lt") => format!(":{}", dotted(w)? - 1),
            (None, _) => {
                let v = dotted(w)?;
                format!("{v}:{v}")
            }
            (Some(0), _) if w.len() > 1 => format!(":{}", dotted(&w[1..])?),
            (Some(at), _) if at + 1 == w.len() => format!("{}:", dotted(&w[..at])?),
            (Some(at), _) => format!("{}:{}", dotted(&w[..at])?, dotted(&w[at + 1..])?),
        });
    }
    Some(out)
}

pub(super) fn pattern(method: Method, p: &str, nocase: bool) -> Result<Pattern, Unsupported> {
    let bad = || Unsupported(format!("ACL pattern '{p}'"));
    Ok(match method {
        Method::Int | Method::Len => {
            let (lo, hi) = int_range(p).ok_or_else(bad)?;
            Pattern::IntRange(lo, hi)
        }
        Method::Ip => Pattern::Net(Cidr::parse(p).ok_or_else(bad)?),
        Method::Bin => Pattern::Bytes(hex_bytes(p).ok_or_else(bad)?),
        Method::Reg => Pattern::Regex(
            regex::RegexBuilder::new(p)
                .case_insensitive(nocase)
                .build()
                .map_err(|_| bad())?,
        ),
        _ => Pattern::Text(p.to_string()),
    })
}

/// The bytes a `-m bin` pattern (or the `bin()` fetch) spells in hexadecimal.
pub fn hex_bytes(p: &str) -> Option<Vec<u8>> {
    if !p.len().is_multiple_of(2) {
        return None;
    }
    (0..p.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(p.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Operators like `ge 5` become ranges; they precede the value in HAProxy's syntax.
pub(super) fn fold_operators(words: &[String]) -> Vec<String> {
    // Dotted versions keep their operators for `dotted_patterns`.
    if words.first().is_some_and(|w| dotted_versions(w)) && !words.iter().any(|w| w == "-m") {
        return words.to_vec();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let next = words.get(i + 1);
        let folded = match (words[i].as_str(), next.and_then(|n| n.parse::<i64>().ok())) {
            ("eq", Some(n)) => Some(format!("{n}")),
            ("ge", Some(n)) => Some(format!("{n}:")),
            ("gt", Some(n)) => Some(format!("{}:", n + 1)),
            ("le", Some(n)) => Some(format!(":{n}")),
            ("lt", Some(n)) => Some(format!(":{}", n - 1)),
            _ => None,
        };
        match folded {
            Some(f) => {
                out.push(f);
                i += 2;
            }
            None => {
                out.push(words[i].clone());
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_domains() {
        let n = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.2.3.4".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(dom_match("www.example.com", "example.com", false));
        assert!(!dom_match("myexample.com", "example.com", false));
        assert!(dir_match("/api/v1", "api"));
        assert!(!dir_match("/apis/v1", "api"));
        // ':' separates words for dom (a Host's port), not for dir; delimiters at the
        // pattern's ends are left out.
        assert!(dom_match("www.example.com:8443", "example.com", false));
        assert!(!dir_match("/a:b/c", "a"));
        assert!(dom_match("example.com", ".example.com.", false));
        assert!(dir_match("/api", "/api/"));
        assert!(!dir_match("/api/v1", "/"));
    }

    #[test]
    fn derived_keywords_and_operators() {
        assert_eq!(
            derived_keyword("path_beg"),
            Some(("path".into(), Method::Beg))
        );
        assert_eq!(
            derived_keyword("hdr_dom(host)"),
            Some(("hdr(host)".into(), Method::Dom))
        );
        assert_eq!(derived_keyword("src_port"), None);
        assert_eq!(derived_keyword("hdr_cnt(x)"), None);
        let w: Vec<String> = ["status", "ge", "500"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(fold_operators(&w), vec!["status", "500:"]);
        // Versions are dotted numbers, operators included.
        let w: Vec<String> = ["req_ssl_ver", "lt", "3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(fold_operators(&w), w);
        let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            dotted_patterns(&words(&["3.0-3.1", "lt", "3", "gt", "3.1", "3.3", ":3.2"])),
            Some(words(&[
                "196608:196609",
                ":196607",
                "196610:",
                "196612:",
                ":196610"
            ]))
        );
        assert_eq!(dotted_patterns(&words(&["3.x"])), None);
        assert_eq!(int_range("200:299"), Some((200, 299)));
    }
}
