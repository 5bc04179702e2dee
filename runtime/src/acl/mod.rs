//! ACLs and `if`/`unless` conditions (sans-I/O): compiled once from the plan's words, matched
//! against a transaction.

use crate::patref::PatRef;
use crate::sample::{Expr, Fetch, Unsupported, Value};
use crate::txn::Txn;
use hapee_compiler::bytestr;
use hapee_compiler::expr::condition::{self, CondTerm};
use std::collections::HashMap;
use std::sync::Arc;

mod patterns;

use patterns::{
    default_method, derived_keyword, dotted_patterns, dotted_versions, fold_operators,
    method_of_type, pattern, pattern_error, Pattern,
};
pub use patterns::{dir_match, dom_match, hex_bytes, Cidr, Method};

/// One `acl` line (or an anonymous ACL).
#[derive(Debug)]
pub struct AclLine {
    expr: Expr,
    method: Method,
    nocase: bool,
    patterns: Vec<Pattern>,
    /// `-f` files: shared references the Runtime API may change.
    files: Vec<Arc<PatRef>>,
    /// The files' patterns, compiled at the files' versions; rebuilt by the first lookup
    /// that sees a newer version.
    from_files: arc_swap::ArcSwap<FilePatterns>,
}

#[derive(Debug, Default)]
struct FilePatterns {
    versions: Vec<u64>,
    patterns: Vec<Pattern>,
}

/// Patterns of the `-f` files at their current versions; a pattern the method cannot read
/// (added through the Runtime API, which checks them) is skipped.
fn compile_files(files: &[Arc<PatRef>], method: Method, nocase: bool) -> FilePatterns {
    FilePatterns {
        versions: files.iter().map(|f| f.version()).collect(),
        patterns: files
            .iter()
            .flat_map(|f| {
                f.entries()
                    .iter()
                    .map(|e| e.key.clone())
                    .collect::<Vec<_>>()
            })
            .filter_map(|p| pattern(method, &p, nocase).ok())
            .collect(),
    }
}

impl AclLine {
    /// Compiles `criterion [flags] [patterns]`.
    pub fn compile(words: &[String]) -> Result<AclLine, Unsupported> {
        let first = words.first().map_or("", String::as_str);
        let (expr_text, mut method) = match derived_keyword(first) {
            Some((e, m)) => (e, Some(m)),
            None => (first.to_string(), None),
        };
        let expr = Expr::parse(&expr_text)?;
        let mut nocase = false;
        let mut raw = Vec::new();
        let mut files = Vec::new();
        let mut i = 1;
        while let Some(w) = words.get(i) {
            match w.as_str() {
                "-i" => nocase = true,
                "-n" => {}
                "-f" => {
                    let path = words.get(i + 1).map_or("", String::as_str);
                    let r = crate::patref::load(path, crate::patref::Kind::Acl)
                        .map_err(|e| Unsupported(format!("ACL pattern file '{path}': {e}")))?;
                    files.push(r);
                    i += 1;
                }
                "-m" => {
                    method = Method::from_suffix(words.get(i + 1).map_or("", String::as_str));
                    i += 1;
                }
                "-u" | "-M" => i += 1,
                "--" => {
                    raw.extend(words[i + 1..].iter().cloned());
                    break;
                }
                _ => {
                    raw.extend(words[i..].iter().cloned());
                    break;
                }
            }
            i += 1;
        }
        // `-m int` reads plain integers; the keyword's own parser reads dotted versions.
        let keyword_parser = method.is_none() && expr.converters.is_empty();
        let method = method.unwrap_or_else(|| match (&expr.fetch.table, expr.converters.last()) {
            // Table fetches and converters give integers (`sc_tracked` a boolean).
            (_, Some(crate::sample::Converter::Table(t))) | (Some(t), None) => {
                use crate::tables::fetch::Metric;
                match t.metric {
                    Metric::Tracked | Metric::Present => Method::Bool,
                    _ => Method::Int,
                }
            }
            // After converters, the last one's output type decides, as in HAProxy.
            (_, Some(_)) => {
                method_of_type(expr.output).unwrap_or_else(|| default_method(&expr.fetch.name))
            }
            _ => default_method(&expr.fetch.name),
        });
        if keyword_parser && dotted_versions(&expr_text) {
            raw = dotted_patterns(&raw)
                .ok_or_else(|| Unsupported(format!("ACL patterns '{}'", raw.join(" "))))?;
        }
        let patterns = raw
            .iter()
            .map(|p| pattern(method, p, nocase))
            .collect::<Result<_, _>>()?;
        for f in &files {
            f.add_check(Box::new(move |p: &str| pattern_error(method, p)));
        }
        let from_files = arc_swap::ArcSwap::from_pointee(compile_files(&files, method, nocase));
        Ok(AclLine {
            expr,
            method,
            nocase,
            patterns,
            files,
            from_files,
        })
    }

    /// A match passes; a miss whose fetch may still change waits; anything else fails.
    fn outcome(&self, txn: &Txn) -> Outcome {
        txn.may_change.set(false);
        if self.matches(txn) {
            Outcome::Pass
        } else if txn.may_change.get() {
            Outcome::Miss
        } else {
            Outcome::Fail
        }
    }

    /// The `-f` files' patterns as they are now.
    fn file_patterns(&self) -> arc_swap::Guard<Arc<FilePatterns>> {
        let cached = self.from_files.load();
        let current = self
            .files
            .iter()
            .zip(&cached.versions)
            .all(|(f, v)| f.version() == *v);
        if current {
            return cached;
        }
        self.from_files.store(Arc::new(compile_files(
            &self.files,
            self.method,
            self.nocase,
        )));
        self.from_files.load()
    }

    pub fn matches(&self, txn: &Txn) -> bool {
        let values = self.expr.eval_all(txn);
        match self.method {
            Method::Found => !values.is_empty(),
            Method::Bool => values.iter().any(|v| v.as_int().is_some_and(|i| i != 0)),
            _ if self.files.is_empty() => values
                .iter()
                .any(|v| self.patterns.iter().any(|p| self.test(p, v))),
            _ => {
                let from_files = self.file_patterns();
                values.iter().any(|v| {
                    self.patterns
                        .iter()
                        .chain(&from_files.patterns)
                        .any(|p| self.test(p, v))
                })
            }
        }
    }

    fn test(&self, p: &Pattern, v: &Value) -> bool {
        match (p, self.method) {
            (Pattern::Net(n), _) => v.as_ip().is_some_and(|ip| n.contains(ip)),
            (Pattern::IntRange(lo, hi), Method::Len) => {
                let l = bytestr::byte_len(&v.as_text()) as i64;
                *lo <= l && l <= *hi
            }
            (Pattern::IntRange(lo, hi), _) => v.as_int().is_some_and(|i| *lo <= i && i <= *hi),
            (Pattern::Regex(r), _) => r.is_match(&v.as_text()),
            (Pattern::Bytes(b), _) => v.as_bytes().as_ref() == b.as_slice(),
            // Binary samples (`req.payload`) compare their bytes, not their hex text.
            (Pattern::Text(t), m) if matches!(v, Value::Bin(_)) => {
                bytes_match(m, &v.as_bytes(), &bytestr::to_bytes(t))
            }
            (Pattern::Text(t), m) => {
                let s = v.as_text();
                let (s, t) = if self.nocase {
                    (s.to_ascii_lowercase().into(), t.to_ascii_lowercase())
                } else {
                    (s, t.clone())
                };
                // Text carrying bytes that are not UTF-8 compares as those bytes: a pattern's
                // lone `\xC3` begins `\xC3\xA9` there, as in HAProxy.
                let carried = bytestr::has_bytes(&s) || bytestr::has_bytes(&t);
                if carried && !matches!(m, Method::Dir | Method::Dom) {
                    return bytes_match(m, &bytestr::to_bytes(&s), &bytestr::to_bytes(&t));
                }
                match m {
                    Method::Beg => s.starts_with(t.as_str()),
                    Method::End => s.ends_with(t.as_str()),
                    Method::Sub => s.contains(t.as_str()),
                    Method::Dir => dir_match(&s, &t),
                    Method::Dom => dom_match(&s, &t, false),
                    _ => s == t,
                }
            }
        }
    }
}

/// Whether sample bytes `b` match pattern bytes `t` by `method` (`beg`, `end`, `sub`, or else
/// equality).
fn bytes_match(method: Method, b: &[u8], t: &[u8]) -> bool {
    match method {
        Method::Beg => b.starts_with(t),
        Method::End => b.ends_with(t),
        Method::Sub => t.is_empty() || b.windows(t.len()).any(|w| w == t),
        _ => b == t,
    }
}

/// A named ACL: every line with that name, OR-ed.
#[derive(Debug, Default)]
pub struct Acl {
    lines: Vec<AclLine>,
}

impl Acl {
    pub fn matches(&self, txn: &Txn) -> bool {
        self.outcome(txn) == Outcome::Pass
    }

    fn outcome(&self, txn: &Txn) -> Outcome {
        self.lines
            .iter()
            .map(|l| l.outcome(txn))
            .max()
            .unwrap_or(Outcome::Fail)
    }
}

/// A condition's outcome while data may still arrive: HAProxy's PASS, MISS (cannot tell yet)
/// and FAIL. AND takes the lowest, OR the highest, and negation leaves MISS as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Fail,
    Miss,
    Pass,
}

impl Outcome {
    fn negated(self, negate: bool) -> Outcome {
        match (self, negate) {
            (Outcome::Pass, true) => Outcome::Fail,
            (Outcome::Fail, true) => Outcome::Pass,
            (o, _) => o,
        }
    }
}

/// The ACLs HAProxy predefines.
fn predefined(name: &str) -> Option<Vec<String>> {
    let words: &[&str] = match name {
        "TRUE" => &["always_true"],
        "FALSE" => &["always_false"],
        "LOCALHOST" => &["src", "127.0.0.1/8", "::1"],
        "HTTP" => &["req.proto_http"],
        "HTTP_1.0" => &["req.ver", "1.0"],
        "HTTP_1.1" => &["req.ver", "1.1"],
        "HTTP_CONTENT" => &["hdr_val(content-length)", "gt", "0"],
        "HTTP_URL_ABS" => &["url_reg", "^[^/:]*://"],
        "HTTP_URL_SLASH" => &["url_beg", "/"],
        "HTTP_URL_STAR" => &["url", "*"],
        "METH_CONNECT" => &["method", "CONNECT"],
        "METH_DELETE" => &["method", "DELETE"],
        "METH_GET" => &["method", "GET", "HEAD"],
        "METH_HEAD" => &["method", "HEAD"],
        "METH_OPTIONS" => &["method", "OPTIONS"],
        "METH_POST" => &["method", "POST"],
        "METH_PUT" => &["method", "PUT"],
        "METH_TRACE" => &["method", "TRACE"],
        "REQ_CONTENT" => &["req.len", "gt", "0"],
        "RDP_COOKIE" => &["req.rdp_cookie_cnt", "gt", "0"],
        "WAIT_END" => &["wait_end"],
        _ => return None,
    };
    Some(words.iter().map(|w| w.to_string()).collect())
}

/// The ACLs of one proxy by name.
#[derive(Debug, Default)]
pub struct AclSet {
    named: HashMap<String, Arc<Acl>>,
}

impl AclSet {
    pub fn compile(acls: &[hapee_compiler::plan::Acl]) -> Result<AclSet, Unsupported> {
        let mut named: HashMap<String, Acl> = HashMap::new();
        for a in acls {
            let line = AclLine::compile(&fold_operators(&a.criterion))?;
            named.entry(a.name.clone()).or_default().lines.push(line);
        }
        Ok(AclSet {
            named: named.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
        })
    }

    fn get(&self, name: &str) -> Result<Arc<Acl>, Unsupported> {
        if let Some(a) = self.named.get(name) {
            return Ok(a.clone());
        }
        let words = predefined(name).ok_or_else(|| Unsupported(format!("unknown ACL '{name}'")))?;
        Ok(Arc::new(Acl {
            lines: vec![AclLine::compile(&fold_operators(&words))?],
        }))
    }
}

#[derive(Debug)]
enum Term {
    Acl(Arc<Acl>, bool),
    Inline(AclLine, bool),
}

/// A compiled `if`/`unless` condition; an empty one always holds.
#[derive(Debug, Default)]
pub struct Condition {
    unless: bool,
    alternatives: Vec<Vec<Term>>,
}

impl Condition {
    pub fn compile(words: &[String], acls: &AclSet) -> Result<Condition, Unsupported> {
        if words.is_empty() {
            return Ok(Condition::default());
        }
        let parts: Vec<(hapee_compiler::Span, &str)> = words
            .iter()
            .map(|w| (hapee_compiler::Span::default(), w.as_str()))
            .collect();
        let c = condition::parse_parts(&parts).map_err(|e| Unsupported(e.message))?;
        let alternatives = c
            .alternatives
            .iter()
            .map(|alt| {
                alt.iter()
                    .map(|t| match t {
                        CondTerm::Named(u) => Ok(Term::Acl(acls.get(&u.name)?, u.negated)),
                        CondTerm::Anonymous(a) => {
                            let words: Vec<String> =
                                a.words.iter().map(|w| w.value.to_string()).collect();
                            Ok(Term::Inline(
                                AclLine::compile(&fold_operators(&words))?,
                                a.negated,
                            ))
                        }
                    })
                    .collect::<Result<Vec<_>, Unsupported>>()
            })
            .collect::<Result<_, _>>()?;
        Ok(Condition {
            unless: c.unless,
            alternatives,
        })
    }

    /// Whether there is no condition at all.
    pub fn is_always(&self) -> bool {
        self.alternatives.is_empty()
    }

    pub fn holds(&self, txn: &Txn) -> bool {
        self.outcome(txn) == Outcome::Pass
    }

    /// Whether the condition holds, fails, or waits on data that may still come.
    pub fn outcome(&self, txn: &Txn) -> Outcome {
        if self.alternatives.is_empty() {
            return Outcome::Pass;
        }
        let any = self
            .alternatives
            .iter()
            .map(|alt| {
                alt.iter()
                    .map(|t| match t {
                        Term::Acl(a, neg) => a.outcome(txn).negated(*neg),
                        Term::Inline(l, neg) => l.outcome(txn).negated(*neg),
                    })
                    .min()
                    .unwrap_or(Outcome::Pass)
            })
            .max()
            .unwrap_or(Outcome::Fail);
        any.negated(self.unless)
    }
}

/// The fetch behind a sample expression text, for callers that need only the name.
pub fn fetch_of(text: &str) -> Option<Fetch> {
    Expr::parse(text).ok().map(|e| e.fetch)
}
