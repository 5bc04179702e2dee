//! Build facts and the `.if`/`.elif` condition language (also `hapee-lb -cc`).
//!
//! Grammar (HAProxy 2.7): `expr := and ('||' and)*`, `and := term ('&&' term)*`,
//! `term := '!'* (integer | '(' expr ')' | predicate '(' args ')')`. An empty condition is false.

use crate::arglist;
use crate::syntax::Environment;

/// What `.if` predicates test: the HAProxy version hapee is compatible with and its build.
#[derive(Clone, Debug)]
pub struct BuildInfo {
    pub version: String,
    /// HAProxy's feature string (`+OPENSSL -QUIC …`).
    pub features: String,
    pub ssl_version: String,
    pub ssl_name: String,
}

impl Default for BuildInfo {
    /// HAProxy 2.7.0 on Linux with OpenSSL 3.0, Lua 5.4, PCRE2, zlib and threads (the build the
    /// parity corpus was checked with), plus QUIC, which hapee's runtime serves with quinn.
    fn default() -> Self {
        BuildInfo {
            version: "2.7.0".into(),
            features: "+EPOLL -KQUEUE +NETFILTER +PCRE2 +PCRE2_JIT +POLL +THREAD +BACKTRACE -STATIC_PCRE -STATIC_PCRE2 \
+TPROXY +LINUX_TPROXY +LINUX_SPLICE +LIBCRYPT +CRYPT_H -ENGINE +GETADDRINFO +OPENSSL +LUA +ACCEPT4 -CLOSEFROM \
+ZLIB -SLZ +CPU_AFFINITY +TFO +NS +DL +RT -DEVICEATLAS -51DEGREES -WURFL +SYSTEMD -OBSOLETE_LINKER +PRCTL \
-PROCCTL +THREAD_DUMP -EVPORTS -OT +QUIC -PROMEX -MEMORY_PROFILING"
                .into(),
            ssl_version: "3.0.11".into(),
            ssl_name: "OpenSSL".into(),
        }
    }
}

/// A condition error: HAProxy's message and the byte offset in the condition text it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    pub message: String,
    pub at: usize,
}

const MAX_RECURSION: usize = 1024;

struct Parser<'a> {
    text: &'a str,
    build: &'a BuildInfo,
    env: &'a dyn Environment,
}

/// Evaluates a condition; `text` is the words after `.if` joined by single spaces.
pub fn evaluate(text: &str, build: &BuildInfo, env: &dyn Environment) -> Result<bool, CondError> {
    if text.is_empty() {
        return Ok(false);
    }
    let p = Parser { text, build, env };
    match p.expr(0, MAX_RECURSION)? {
        Some((value, end)) => {
            let rest = skip_blanks(text, end);
            if rest < text.len() {
                let tail = &text[rest..];
                let c = tail.chars().next().unwrap_or(' ');
                return Err(CondError {
                    message: format!(
                        "unexpected character '{c}' at the end of conditional expression '{tail}'"
                    ),
                    at: rest,
                });
            }
            Ok(value)
        }
        None => Err(CondError {
            message: format!("unparsable conditional expression '{text}'"),
            at: 0,
        }),
    }
}

fn skip_blanks(text: &str, mut i: usize) -> usize {
    let b = text.as_bytes();
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

impl Parser<'_> {
    /// `Ok(None)` means "nothing to parse here" (HAProxy's return 0).
    fn expr(&self, at: usize, depth: usize) -> Result<Option<(bool, usize)>, CondError> {
        if at >= self.text.len() {
            return Ok(None);
        }
        if depth == 0 {
            return Err(self.unparsable("unparsable conditional expression", at));
        }
        let Some((left, end)) = self.and(at, depth - 1)? else {
            return Err(self.unparsable("unparsable conditional expression", at));
        };
        let i = skip_blanks(self.text, end);
        if !self.text[i..].starts_with("||") {
            return Ok(Some((left, i)));
        }
        let j = skip_blanks(self.text, i + 2);
        match self.expr(j, depth - 1)? {
            Some((right, end)) => Ok(Some((left || right, end))),
            None => Ok(None),
        }
    }

    fn and(&self, at: usize, depth: usize) -> Result<Option<(bool, usize)>, CondError> {
        if at >= self.text.len() {
            return Ok(None);
        }
        if depth == 0 {
            return Err(self.unparsable("unparsable conditional sub-expression", at));
        }
        let Some((left, end)) = self.term(at, depth - 1)? else {
            return Err(self.unparsable("unparsable conditional sub-expression", at));
        };
        let i = skip_blanks(self.text, end);
        if !self.text[i..].starts_with("&&") {
            return Ok(Some((left, i)));
        }
        let j = skip_blanks(self.text, i + 2);
        match self.and(j, depth - 1)? {
            Some((right, end)) => Ok(Some((left && right, end))),
            None => Ok(None),
        }
    }

    fn unparsable(&self, what: &str, at: usize) -> CondError {
        CondError {
            message: format!("{what} '{}'", &self.text[at.min(self.text.len())..]),
            at,
        }
    }

    fn term(&self, at: usize, depth: usize) -> Result<Option<(bool, usize)>, CondError> {
        let b = self.text.as_bytes();
        let mut i = skip_blanks(self.text, at);
        if i >= b.len() {
            return Ok(None);
        }
        if depth == 0 {
            return Err(self.unparsable("unparsable conditional expression", at));
        }
        let mut neg = false;
        while i < b.len() && b[i] == b'!' {
            neg = !neg;
            i = skip_blanks(self.text, i + 1);
        }
        let number = crate::cnum::strtol(&self.text[i..], 0);
        if number.converted() {
            return Ok(Some(((number.value != 0) != neg, i + number.end)));
        }
        if b.get(i) == Some(&b'(') {
            let inner = skip_blanks(self.text, i + 1);
            let Some((value, end)) = self.expr(inner, depth - 1)? else {
                return Err(self.unparsable("unparsable conditional expression", at));
            };
            let close = skip_blanks(self.text, end);
            if b.get(close) != Some(&b')') {
                return Err(CondError {
                    message: format!(
                        "expected ')' after conditional expression '{}'",
                        &self.text[at..]
                    ),
                    at,
                });
            }
            return Ok(Some((value != neg, skip_blanks(self.text, close + 1))));
        }
        let word_len = self.text[i..]
            .find([' ', '('])
            .unwrap_or(self.text.len() - i);
        let name = &self.text[i..i + word_len];
        let Some(nargs) = predicate_arity(name) else {
            return Err(self.unparsable("unparsable conditional expression", at));
        };
        let args_at = i + word_len;
        let list = arglist::parse(&self.text[args_at..], nargs, nargs, &["string", "string"])
            .map_err(|e| CondError {
                message: format!(
                    "{} in argument {} of predicate '{name}' used in conditional expression",
                    e.message, e.position
                ),
                at: args_at + e.at,
            })?;
        let args: Vec<&str> = list.args.iter().map(|a| a.text.as_str()).collect();
        let value = self.predicate(name, &args);
        Ok(Some((value != neg, args_at + list.consumed)))
    }

    fn predicate(&self, name: &str, args: &[&str]) -> bool {
        let arg = |i: usize| args.get(i).copied().unwrap_or("");
        match name {
            "defined" => self.env.var(arg(0)).is_some(),
            "feature" => has_feature(&self.build.features, arg(0)),
            "streq" => arg(0) == arg(1),
            "strneq" => arg(0) != arg(1),
            "version_atleast" => compare_version(&self.build.version, arg(0)) <= 0,
            "version_before" => compare_version(&self.build.version, arg(0)) > 0,
            "openssl_version_atleast" => {
                compare_version(&self.build.ssl_version, arg(0)) == -1
                    || compare_version(&self.build.ssl_version, arg(0)) == 0
            }
            "openssl_version_before" => compare_version(&self.build.ssl_version, arg(0)) == 1,
            "ssllib_name_startswith" => self.build.ssl_name.starts_with(arg(0)),
            _ => false,
        }
    }
}

/// Number of arguments of each predicate (all strings).
fn predicate_arity(name: &str) -> Option<usize> {
    match name {
        "defined"
        | "feature"
        | "version_atleast"
        | "version_before"
        | "openssl_version_atleast"
        | "openssl_version_before"
        | "ssllib_name_startswith" => Some(1),
        "streq" | "strneq" => Some(2),
        _ => None,
    }
}

/// HAProxy's feature test: `NAME` preceded by `+` and followed by a space or the end.
pub(crate) fn has_feature(features: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(pos) = features[from..].find(name).map(|p| p + from) {
        let after = features.as_bytes().get(pos + name.len());
        if pos > 0 && (after.is_none() || after == Some(&b' ')) {
            match features.as_bytes()[pos - 1] {
                b'+' => return true,
                b'-' => return false,
                _ => {}
            }
        }
        from = pos + 1;
    }
    false
}

/// HAProxy's `split_version`: `a.b.c.d[-tagN][-commit]` into seven numbers; `None` if unparsable.
fn split_version(v: &str) -> Option<[i64; 7]> {
    let mut out = [0i64, 0, 0, 0, 3, 0, 0];
    if v.is_empty() {
        return None;
    }
    let num = |s: &str| -> (i64, usize) {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (s[..n].parse().unwrap_or(0), n)
    };
    let mut rest = v;
    let mut tag = None;
    for slot in out.iter_mut().take(4) {
        let (n, len) = num(rest);
        *slot = n;
        rest = &rest[len..];
        match rest.as_bytes().first() {
            None => return Some(out),
            Some(b'-') => {
                tag = Some(&rest[1..]);
                break;
            }
            Some(b'.') => rest = &rest[1..],
            _ => return None,
        }
    }
    let mut p = tag?;
    if !p.starts_with(|c: char| c.is_ascii_digit()) {
        let stage = [("dev", 1), ("rc", 2), ("pre", 2)]
            .into_iter()
            .find(|(t, _)| p.starts_with(t));
        if let Some((t, value)) = stage {
            out[4] = value;
            p = &p[t.len()..];
            let (n, len) = num(p);
            out[5] = n;
            p = &p[len..];
            match p.as_bytes().first() {
                None => return Some(out),
                Some(b'-') => p = &p[1..],
                _ => return None,
            }
        }
    }
    let commit = p.rsplit_once('-').map_or(p, |(_, c)| c);
    if p.contains('-') && commit.is_empty() {
        return None;
    }
    out[6] = commit.parse().unwrap_or(0);
    Some(out)
}

/// -1 when `other` is older than `current`, 0 when equal, 1 when newer; -3 when unparsable.
fn compare_version(current: &str, other: &str) -> i32 {
    let (Some(loc), Some(m)) = (split_version(current), split_version(other)) else {
        return -3;
    };
    for i in 0..7 {
        if m[i] < loc[i] {
            return -1;
        }
        if m[i] > loc[i] {
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::MapEnv;

    fn eval(s: &str) -> Result<bool, String> {
        let env = MapEnv(std::iter::once(("SET".to_string(), "".to_string())).collect());
        evaluate(s, &BuildInfo::default(), &env).map_err(|e| e.message)
    }

    #[test]
    fn predicates() {
        assert_eq!(eval("defined(SET)"), Ok(true));
        assert_eq!(eval("defined(UNSET)"), Ok(false));
        assert_eq!(eval("feature(OPENSSL)"), Ok(true));
        assert_eq!(eval("feature(QUIC)"), Ok(true));
        assert_eq!(eval("feature(PROMEX)"), Ok(false));
        assert_eq!(eval("feature(SSL)"), Ok(false));
        assert_eq!(eval("streq(a,a) && strneq(a,b)"), Ok(true));
        assert_eq!(eval("version_atleast(2.5-dev0)"), Ok(true));
        assert_eq!(eval("version_atleast(2.8)"), Ok(false));
        assert_eq!(eval("version_before(2.7.1)"), Ok(true));
        assert_eq!(eval("openssl_version_atleast(1.1.1)"), Ok(true));
        assert_eq!(eval("ssllib_name_startswith(Open)"), Ok(true));
        assert_eq!(eval("!0 && (1 || 0)"), Ok(true));
        assert_eq!(eval("0x10"), Ok(true));
        assert_eq!(eval(""), Ok(false));
    }

    #[test]
    fn errors_use_haproxy_texts() {
        assert_eq!(eval("defined(A,B)"), Err("expected ')' before ',B)' in argument 1 of predicate 'defined' used in conditional expression".into()));
        assert_eq!(
            eval("1 2"),
            Err("unexpected character '2' at the end of conditional expression '2'".into())
        );
        assert_eq!(
            eval("foo"),
            Err("unparsable conditional expression 'foo'".into())
        );
        assert_eq!(
            eval("(1"),
            Err("expected ')' after conditional expression '(1'".into())
        );
    }
}
