//! String converters: case, `field`/`word`, `regsub`, trims, `concat`, `add_item`, `strcmp`,
//! `iif`, `bytes`, `host_only`/`port_only`.

use super::convert::{arg, int_arg, pure, with_txn, Run};
use super::{is_var_name, var, Unsupported, Value};
use hapee_compiler::bytestr;
use hapee_compiler::expr::sample::Call;

/// The string converters this module prepares (`None`: not one of them).
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let text = |f: fn(&str) -> Value| pure(move |v| Some(f(&v.as_text())));
    Ok(Some(match c.name.as_str() {
        "lower" => text(|s| Value::Str(s.to_ascii_lowercase())),
        "upper" => text(|s| Value::Str(s.to_ascii_uppercase())),
        // An OpenSSL verification code's name (a 2.7 converter).
        "x509_v_err_str" => pure(|v| {
            let code = i32::try_from(v.as_int()?).ok()?;
            Some(Value::Str(
                hapee_compiler::registry::x509_error_name(code)?.to_string(),
            ))
        }),
        "host_only" => text(|s| Value::Str(host_only(s).to_ascii_lowercase())),
        "port_only" => text(|s| Value::Int(port_only(s))),
        // A binary input is read as text first, which ends it at its first NUL byte.
        "length" => pure(|v| {
            let len = match &v {
                Value::Bin(b) => b.iter().position(|c| *c == 0).unwrap_or(b.len()),
                other => other.as_bytes().len(),
            };
            Some(Value::Int(len as i64))
        }),
        "cut_crlf" => text(|s| Value::Str(s.split(['\r', '\n']).next().unwrap_or("").into())),
        "ltrim" | "rtrim" => {
            let chars: Vec<char> = arg(c, 0).chars().collect();
            let left = c.name == "ltrim";
            pure(move |v| {
                let s = v.as_text();
                let cut = |ch: char| chars.contains(&ch);
                Some(Value::Str(
                    if left {
                        s.trim_start_matches(cut)
                    } else {
                        s.trim_end_matches(cut)
                    }
                    .into(),
                ))
            })
        }
        "field" | "word" => {
            let (index, delims) = (int_arg(c, 0, 0)?, bytestr::to_bytes(arg(c, 1)).to_vec());
            let count = int_arg(c, 2, 1)?;
            let words = c.name == "word";
            pure(move |v| {
                let s = v.as_bytes();
                let (start, end) = if words {
                    word(&s, index, &delims, count)?
                } else {
                    field(&s, index, &delims, count)?
                };
                Some(Value::Str(bytestr::from_bytes(&s[start..end]).into_owned()))
            })
        }
        "regsub" => {
            let re = regex::Regex::new(arg(c, 0)).map_err(|e| Unsupported(e.to_string()))?;
            let subst = hap_subst(arg(c, 1));
            let global = arg(c, 2).contains('g');
            pure(move |v| {
                let text = v.as_text();
                Some(Value::Str(if global {
                    re.replace_all(&text, subst.as_str()).into_owned()
                } else {
                    re.replace(&text, subst.as_str()).into_owned()
                }))
            })
        }
        "concat" => {
            let (start, name, end) = (arg(c, 0).to_string(), var_arg(c, 1), arg(c, 2).to_string());
            with_txn(move |v, txn| {
                let middle = name.as_deref().and_then(|n| var(txn, n));
                let middle = middle.as_ref().map(Value::as_text).unwrap_or_default();
                Some(Value::Str(format!("{}{start}{middle}{end}", v.as_text())))
            })
        }
        "add_item" => {
            let (delim, name, suffix) =
                (arg(c, 0).to_string(), var_arg(c, 1), arg(c, 2).to_string());
            with_txn(move |v, txn| {
                let item = name.as_deref().and_then(|n| var(txn, n));
                let item = item.as_ref().map(Value::as_text);
                let mut out = v.as_text().into_owned();
                let item_len = item.as_ref().map_or(0, |i| i.len());
                if !out.is_empty() && (item_len > 0 || !suffix.is_empty()) {
                    out.push_str(&delim);
                }
                out.push_str(item.as_deref().unwrap_or(""));
                out.push_str(&suffix);
                Some(Value::Str(out))
            })
        }
        "strcmp" => {
            let name = require_var(c, 0)?;
            with_txn(move |v, txn| {
                let other = var(txn, &name)?;
                Some(Value::Int(compare(&v.as_text(), &other.as_text())))
            })
        }
        "iif" => {
            let (yes, no) = (arg(c, 0).to_string(), arg(c, 1).to_string());
            pure(move |v| {
                let truth = v.as_int()? != 0;
                Some(Value::Str(if truth { yes.clone() } else { no.clone() }))
            })
        }
        "bytes" => {
            let offset = int_arg(c, 0, 0)?.max(0) as usize;
            let length = match c.args.get(1).filter(|a| !a.is_empty()) {
                Some(_) => Some(int_arg(c, 1, 0)?.max(0) as usize),
                None => None,
            };
            pure(move |v| {
                let b = v.as_bin()?;
                let rest = b.get(offset..).unwrap_or(&[]);
                let end = length.map_or(rest.len(), |l| l.min(rest.len()));
                Some(Value::Bin(bytes::Bytes::copy_from_slice(&rest[..end])))
            })
        }
        "language" => {
            let (wanted, default) = (arg(c, 0).to_string(), c.args.get(1).cloned());
            pure(move |v| {
                let best = preferred_language(&v.as_text(), &wanted).or_else(|| default.clone())?;
                (!best.is_empty()).then_some(Value::Str(best))
            })
        }
        // The usable servers of the backend the input names.
        "nbsrv" => with_txn(|v, txn| {
            let name = v.as_text();
            txn.shared.backend_by_name(&name)?;
            Some(Value::Int(txn.nbsrv(&name)))
        }),
        // The requests waiting in the queue of the server the input names: `backend/server`,
        // or a bare name, looked up in the proxy whose rule runs (a frontend has no servers,
        // so none there), or outside rules in the stream's backend.
        "srv_queue" => with_txn(|v, txn| {
            let server = super::fetch::server(txn, &v.as_text())?;
            Some(Value::Int(server.queue.current() as i64))
        }),
        // Prints nothing here: hapee has no trace sink for it, and the sample passes unchanged.
        "debug" => pure(Some),
        _ => return Ok(None),
    }))
}

/// `language(list[,default])`: of the `;`-separated `list`, the entry the `Accept-Language`
/// value prefers (highest q-value; the first on a tie).
fn preferred_language(header: &str, wanted: &str) -> Option<String> {
    let mut best: Option<(u32, &str)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        if range.is_empty() {
            continue;
        }
        let Some(word) = wanted.split(';').find(|w| language_matches(range, w)) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q").map(|q| q.trim_start()))
            .and_then(|q| q.strip_prefix('='))
            .map_or(1000, |q| qvalue(q.trim()));
        if best.is_none_or(|(b, _)| q > b) {
            best = Some((q, word));
            if q >= 1000 {
                break;
            }
        }
    }
    best.filter(|(q, _)| *q > 0).map(|(_, w)| w.to_string())
}

/// Whether language range `range` of a header covers `tag`: the same tag, or the tag and a
/// `-` subtag (`en-US` covers `en`). Case matters, as in HAProxy.
fn language_matches(range: &str, tag: &str) -> bool {
    let (r, t) = (range.as_bytes(), tag.as_bytes());
    r == t || (r.len() > t.len() && r.starts_with(t) && r[t.len()] == b'-')
}

/// An HTTP q-value in thousandths (`1` and `1.000` are 1000, `0.5` is 500).
fn qvalue(q: &str) -> u32 {
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if int.starts_with('1') {
        return 1000;
    }
    let digits: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(3)
        .collect();
    format!("{digits:0<3}").parse().unwrap_or(0)
}

/// A converter argument that names a variable (`None` when empty).
fn var_arg(c: &Call, i: usize) -> Option<String> {
    let a = arg(c, i);
    (!a.is_empty()).then(|| a.to_string())
}

/// `strcmp`: the C comparison of the common prefix (the first differing bytes' difference),
/// then -1 or 1 when one string is a prefix of the other.
fn compare(a: &str, b: &str) -> i64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.len().min(b.len());
    for i in 0..common {
        // C's comparison stops at a NUL byte.
        if a[i] != b[i] {
            return i64::from(a[i]) - i64::from(b[i]);
        }
        if a[i] == 0 {
            return 0;
        }
    }
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// How `field` and `word` walk a string: from its start for a positive index, from its end
/// for a negative one.
struct Scan {
    forward: bool,
    len: usize,
}

impl Scan {
    fn new(s: &[u8], index: i64) -> Scan {
        Scan {
            forward: index > 0,
            len: s.len(),
        }
    }

    /// Each byte in the walk's order, with the boundary the walk crosses before it (`near`)
    /// and the one after it (`far`).
    fn bytes<'a>(&self, s: &'a [u8]) -> impl Iterator<Item = (u8, usize, usize)> + 'a {
        let (forward, len) = (self.forward, self.len);
        (0..len).map(move |k| {
            let i = if forward { k } else { len - 1 - k };
            let (near, far) = if forward { (i, i + 1) } else { (i + 1, i) };
            (s[i], near, far)
        })
    }

    /// Where the walk starts.
    fn origin(&self) -> usize {
        if self.forward {
            0
        } else {
            self.len
        }
    }

    /// Where the walk ends.
    fn edge(&self) -> usize {
        self.len - self.origin()
    }
}

/// Two boundaries met in either order, as a byte range.
fn span(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

/// `field(index,delimiters[,count])`: the byte range of `count` fields from field `index`
/// (negative: counted from the end); no such field gives no sample.
fn field(s: &[u8], index: i64, delims: &[u8], count: i64) -> Option<(usize, usize)> {
    if index == 0 {
        return None;
    }
    let mut count = count;
    let scan = Scan::new(s, index);
    let step = index.signum();
    // The field being read, and its first boundary.
    let (mut field, mut mark) = (step, scan.origin());
    for (b, near, far) in scan.bytes(s) {
        if delims.contains(&b) {
            if field == index {
                if count == 1 {
                    return Some(span(mark, near));
                } else if count > 1 {
                    count -= 1;
                }
            } else {
                mark = far;
                field += step;
            }
        }
    }
    (field == index).then_some(span(mark, scan.edge()))
}

/// `word(index,delimiters[,count])`: like `field`, but runs of delimiters count as one and
/// leading or trailing ones are ignored; no such word gives an empty string.
fn word(s: &[u8], index: i64, delims: &[u8], count: i64) -> Option<(usize, usize)> {
    if index == 0 {
        return None;
    }
    let mut count = count;
    let scan = Scan::new(s, index);
    let step = index.signum();
    // The last word entered, and its first boundary.
    let (mut word, mut in_word, mut mark) = (0i64, false, scan.origin());
    for (b, near, _) in scan.bytes(s) {
        let sep = delims.contains(&b);
        if !in_word {
            if !sep {
                if word != index {
                    word += step;
                    mark = near;
                }
                in_word = true;
            }
        } else if sep {
            if word == index {
                if count == 1 {
                    return Some(span(mark, near));
                } else if count > 1 {
                    count -= 1;
                }
            }
            in_word = false;
        }
    }
    Some(if word == index {
        span(mark, scan.edge())
    } else {
        (0, 0)
    })
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

/// Whether `arg` of a converter that takes a variable names one (for the arguments that
/// HAProxy requires to be variables).
pub fn require_var(c: &Call, i: usize) -> Result<String, Unsupported> {
    let a = arg(c, i);
    if is_var_name(a) {
        Ok(a.to_string())
    } else {
        Err(Unsupported(format!(
            "converter '{}': '{a}' is not a variable name",
            c.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str, i: i64, d: &str, n: i64) -> Option<String> {
        field(s.as_bytes(), i, d.as_bytes(), n).map(|(a, b)| s[a..b].to_string())
    }

    fn w(s: &str, i: i64, d: &str, n: i64) -> Option<String> {
        word(s.as_bytes(), i, d.as_bytes(), n).map(|(a, b)| s[a..b].to_string())
    }

    #[test]
    fn fields_and_words() {
        assert_eq!(f("a,b,c", 2, ",", 1).as_deref(), Some("b"));
        assert_eq!(f("a,b,c", -1, ",", 1).as_deref(), Some("c"));
        assert_eq!(f("a,b,c", 2, ",", 2).as_deref(), Some("b,c"));
        assert_eq!(f("a,b,c", -2, ",", 2).as_deref(), Some("a,b"));
        assert_eq!(f("a,b,c", 4, ",", 1), None);
        assert_eq!(f("/a//b", 3, "/", 1).as_deref(), Some(""));
        assert_eq!(w("//a//b/c", 2, "/", 1).as_deref(), Some("b"));
        assert_eq!(w("//a//b/c", -1, "/", 1).as_deref(), Some("c"));
        assert_eq!(w("//a//b/c", 1, "/", 2).as_deref(), Some("a//b"));
        assert_eq!(w("a", 3, "/", 1).as_deref(), Some(""));
    }

    #[test]
    fn host_and_port_only() {
        assert_eq!(host_only("example.com:8080"), "example.com");
        assert_eq!(host_only("example.com"), "example.com");
        assert_eq!(host_only("[::1]:443"), "[::1]");
        assert_eq!(host_only("[exampl+.ocm:8080"), "[exampl+.ocm:8080");
        assert_eq!(port_only("example.com:8080"), 8080);
        assert_eq!(port_only("example.com"), 0);
        assert_eq!(port_only("[::1]:443"), 443);
        assert_eq!(hap_subst("\\1-x"), "${1}-x");
    }

    #[test]
    fn languages() {
        let h = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5";
        assert_eq!(preferred_language(h, "en;de").as_deref(), Some("en"));
        assert_eq!(
            preferred_language("de;q=0.7,en-GB;q=0.8", "en-GB;de").as_deref(),
            Some("en-GB")
        );
        assert_eq!(preferred_language("es", "en;fr"), None);
        assert_eq!(preferred_language("en-US", "en").as_deref(), Some("en"));
        assert_eq!(qvalue("0.25"), 250);
    }

    #[test]
    fn strcmp_is_c_like() {
        assert_eq!(compare("abc", "abc"), 0);
        assert_eq!(compare("abc", "abd"), -1);
        assert_eq!(compare("abc", "ab"), 1);
        assert_eq!(compare("ab", "abc"), -1);
        assert_eq!(compare("b", "a"), 1);
    }
}
