//! `http-request redirect` and `http-response redirect`: the rule's options in any order, as
//! HAProxy reads them (`code 301 location …`, `prefix … code 301`), the location it builds and
//! the 30x answer (with `set-cookie`/`clear-cookie`).

use super::reply::full;
use super::ResBody;
use crate::logfmt::Format;
use crate::sample::Unsupported;
use crate::txn::Txn;
use bytes::Bytes;
use hyper::Response;

#[derive(Debug)]
pub struct Redirect {
    pub kind: RedirectKind,
    /// `None` for `prefix /`: nothing is put before the path (a redirection to the same
    /// site, HAProxy's special case).
    pub target: Option<Format>,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    /// `ignore-empty`: a `location` that renders empty skips the rule.
    pub ignore_empty: bool,
    /// The `Set-Cookie` value of `set-cookie`/`clear-cookie`.
    pub cookie: Option<String>,
    /// Written as the `redirect` directive, which runs after the `http-request` rules.
    pub plain: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

impl Redirect {
    /// Reads the rule's words (after `redirect`) up to its condition.
    pub fn compile(args: &[String]) -> Result<Redirect, Unsupported> {
        Redirect::compile_with(args, Format::parse)
    }

    /// The same for the `redirect` directive, whose destination is used as written: HAProxy
    /// reads a log-format there only in `http-request redirect`.
    pub fn compile_plain(args: &[String]) -> Result<Redirect, Unsupported> {
        let mut r = Redirect::compile_with(args, |text| Ok(Format::literal(text)))?;
        r.plain = true;
        Ok(r)
    }

    fn compile_with(
        args: &[String],
        destination: impl Fn(&str) -> Result<Format, Unsupported>,
    ) -> Result<Redirect, Unsupported> {
        let mut kind = None;
        let mut target = "";
        let mut code = 302;
        let mut r = Redirect {
            kind: RedirectKind::Location,
            target: None,
            code,
            drop_query: false,
            append_slash: false,
            ignore_empty: false,
            cookie: None,
            plain: false,
        };
        let mut words = args.iter().map(String::as_str);
        while let Some(w) = words.next() {
            let mut value = || {
                words
                    .next()
                    .ok_or_else(|| Unsupported(format!("redirect: missing argument for '{w}'")))
            };
            match w {
                "location" | "prefix" | "scheme" => {
                    kind = Some(match w {
                        "location" => RedirectKind::Location,
                        "prefix" => RedirectKind::Prefix,
                        _ => RedirectKind::Scheme,
                    });
                    target = value()?;
                }
                "code" => {
                    let v = value()?;
                    code = v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|c| matches!(c, 301..=303 | 307 | 308))
                        .ok_or_else(|| Unsupported(format!("redirect code '{v}'")))?;
                }
                "set-cookie" => r.cookie = Some(format!("{}; path=/;", value()?)),
                "clear-cookie" => r.cookie = Some(format!("{}; path=/; Max-Age=0;", value()?)),
                "drop-query" => r.drop_query = true,
                "append-slash" => r.append_slash = true,
                "ignore-empty" => r.ignore_empty = true,
                "if" | "unless" => break,
                other => return Err(Unsupported(format!("redirect option '{other}'"))),
            }
        }
        r.kind = kind.ok_or_else(|| Unsupported("redirect without a type".into()))?;
        r.code = code;
        if !(r.kind == RedirectKind::Prefix && target == "/") {
            r.target = Some(destination(target)?);
        }
        Ok(r)
    }

    /// Whether the rule is skipped for this transaction (`ignore-empty` on a `location`
    /// that renders empty).
    pub fn skipped(&self, txn: &Txn) -> bool {
        self.ignore_empty
            && self.kind == RedirectKind::Location
            && self
                .target
                .as_ref()
                .is_none_or(|f| f.render(txn).is_empty())
    }

    /// The `Location` value for this transaction.
    pub fn location(&self, txn: &Txn) -> String {
        let mut out = self
            .target
            .as_ref()
            .map_or_else(String::new, |f| f.render(txn));
        if self.kind == RedirectKind::Location {
            return out;
        }
        let path = path_of(txn, self.drop_query);
        if self.kind == RedirectKind::Scheme {
            let host = txn
                .request
                .as_ref()
                .and_then(|r| r.headers.get("host"))
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            out.push_str("://");
            out.push_str(host);
        }
        out.push_str(&path);
        if self.append_slash && !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out
    }

    /// The 30x answer: no body, `Cache-Control: no-cache` on the temporary codes only.
    pub fn response(&self, txn: &Txn) -> Response<ResBody> {
        let location = self.location(txn);
        let mut b = Response::builder()
            .status(self.code)
            .header("content-length", "0")
            .header("location", location);
        if matches!(self.code, 302 | 303 | 307) {
            b = b.header("cache-control", "no-cache");
        }
        if let Some(c) = &self.cookie {
            b = b.header("set-cookie", c.as_str());
        }
        // HAProxy closes after answering an HTTP/1 request whose body it has not passed on
        // (the rules run before the body is forwarded), its connection field coming last.
        if txn.request.as_ref().is_some_and(has_body) {
            b = b.header("connection", "close");
        }
        b.body(full(Bytes::new()))
            .unwrap_or_else(|_| super::reply::error(500, &[]))
    }
}

/// Whether an HTTP/1 request announces a body (chunked, or a length above 0).
fn has_body(req: &crate::txn::RequestView) -> bool {
    let length = req.headers.get(hyper::header::CONTENT_LENGTH);
    req.version <= hyper::Version::HTTP_11
        && (req.headers.contains_key(hyper::header::TRANSFER_ENCODING)
            || length.is_some_and(|v| v.as_bytes().iter().any(|&c| c != b'0')))
}

/// The request's path with its query string (unless dropped), `/` when its target has no
/// path: an asterisk-form (`OPTIONS *`) or authority-form (`CONNECT a:443`) target, which
/// HAProxy's URI parser gives no path, so `redirect scheme` sends `OPTIONS *` to `…://host/`.
fn path_of(txn: &Txn, drop_query: bool) -> String {
    let Some(req) = txn.request.as_ref() else {
        return "/".to_string();
    };
    let asterisk = req.uri.scheme().is_none() && req.uri.path() == "*";
    match (req.uri.path(), req.uri.query()) {
        ("", _) => "/".to_string(),
        _ if asterisk => "/".to_string(),
        (p, Some(q)) if !drop_query => format!("{p}?{q}"),
        (p, _) => p.to_string(),
    }
}

/// A server's `redir <prefix>`: a 302 to the prefix followed by the request's path and query
/// (the prefix `/` alone adds nothing), closing the connection, as HAProxy answers it.
#[cold]
#[inline(never)]
pub fn to_server(prefix: &str, txn: &Txn) -> Response<ResBody> {
    let path = path_of(txn, false);
    let location = if prefix == "/" {
        path
    } else {
        format!("{prefix}{path}")
    };
    Response::builder()
        .status(302)
        .header("cache-control", "no-cache")
        .header("connection", "close")
        .header("content-length", "0")
        .header("location", location)
        .body(full(Bytes::new()))
        .unwrap_or_else(|_| super::reply::error(500, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_come_in_any_order() {
        let r = Redirect::compile(&words("code 301 location /x ignore-empty")).unwrap();
        assert_eq!(
            (r.kind, r.code, r.ignore_empty),
            (RedirectKind::Location, 301, true)
        );
        let r = Redirect::compile(&words("prefix http://a code 308 drop-query if x")).unwrap();
        assert_eq!(
            (r.kind, r.code, r.drop_query),
            (RedirectKind::Prefix, 308, true)
        );
        let r = Redirect::compile(&words("prefix / set-cookie A=1")).unwrap();
        assert!(r.target.is_none());
        assert_eq!(r.cookie.as_deref(), Some("A=1; path=/;"));
        assert!(Redirect::compile(&words("location /x code 304")).is_err());
        assert!(Redirect::compile(&words("code 301")).is_err());
        assert!(Redirect::compile(&words("location")).is_err());
    }

    #[test]
    fn a_target_without_a_path_redirects_to_the_root() {
        let r = Redirect::compile(&words("scheme https")).unwrap();
        let at = |method: hyper::Method, target: &str| {
            let mut txn = Txn::for_checks("127.0.0.1:1".parse().unwrap());
            let mut headers = hyper::HeaderMap::new();
            headers.insert("host", hyper::header::HeaderValue::from_static("a.example"));
            txn.request = Some(crate::txn::RequestView {
                method,
                uri: target.parse().unwrap(),
                version: hyper::Version::HTTP_11,
                headers,
                lines: Default::default(),
            });
            r.location(&txn)
        };
        assert_eq!(at(hyper::Method::OPTIONS, "*"), "https://a.example/");
        assert_eq!(at(hyper::Method::GET, "/x?y"), "https://a.example/x?y");
        assert_eq!(at(hyper::Method::GET, "http://b/"), "https://a.example/");
    }
}
