//! The request path without sockets: parse a request head, run the frontend's rules, choose
//! the backend and server, and render the log line. The fuzz target and unit tests drive it;
//! the live path (`http`) runs the same rules, routing and formats.

use crate::rules::{self, Verdict};
use crate::state::Shared;
use crate::txn::{RequestView, Txn};
use hapee_compiler::registry::RuleSet;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the proxy would do with one request.
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    /// `continue`, `deny 403`, `reply 200`, `redirect 302 <location>`, …
    pub verdict: String,
    pub backend: Option<String>,
    pub server: Option<String>,
    pub log: String,
}

/// Parses `head` as an HTTP/1.x request head; `None` when hyper's parser would reject it, or
/// HAProxy's (see [`crate::http::vet::parser_refuses`]).
pub fn parse_head(head: &[u8]) -> Option<RequestView> {
    match read_head(head) {
        Head::Complete(view) => Some(view),
        Head::Partial | Head::Invalid => None,
    }
}

/// What the start of a byte stream holds, read as an HTTP/1.x request. Returned at once,
/// never stored: boxing the request would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Head {
    Complete(RequestView),
    /// A request head so far, not ended yet.
    Partial,
    /// Not an HTTP/1.x request head (or one with more than 101 header fields, HAProxy's
    /// default `tune.http.maxhdr`).
    Invalid,
}

/// Reads the HTTP/1.x request head at the start of `data`.
pub fn read_head(data: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; 101];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(data) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::Invalid,
    }
    let view = || {
        let method = hyper::Method::from_bytes(req.method?.as_bytes()).ok()?;
        let uri: hyper::Uri = req.path?.parse().ok()?;
        let version = if req.version? == 0 {
            hyper::Version::HTTP_10
        } else {
            hyper::Version::HTTP_11
        };
        let mut map = hyper::HeaderMap::new();
        for h in req.headers.iter() {
            let name = hyper::header::HeaderName::from_bytes(h.name.as_bytes()).ok()?;
            let value = hyper::header::HeaderValue::from_bytes(h.value).ok()?;
            map.append(name, value);
        }
        // What HAProxy's parser refuses past the syntax is no request either.
        if crate::http::vet::parser_refuses(&method, &uri, &map) {
            return None;
        }
        Some(RequestView {
            method,
            uri,
            version,
            headers: map,
            lines: Default::default(),
        })
    };
    view().map_or(Head::Invalid, Head::Complete)
}

/// Decides what frontend `fe` does with the request `head` from `client`.
pub fn decide(
    shared: &Arc<Shared>,
    fe: usize,
    client: SocketAddr,
    local: SocketAddr,
    head: &[u8],
) -> Option<Decision> {
    let view = parse_head(head)?;
    let frontend = shared.frontends.get(fe)?;
    let mut txn = Txn::new(shared.clone(), client, local, frontend.name.clone());
    txn.request = Some(view);
    let verdict = match rules::run(&frontend.rules, RuleSet::HttpRequest, &mut txn) {
        Verdict::Continue => "continue".to_string(),
        Verdict::Deny(s) => format!("deny {s}"),
        Verdict::Tarpit(s) => format!("tarpit {s}"),
        Verdict::Reject => "reject".to_string(),
        Verdict::Close => "close".to_string(),
        Verdict::Service(s) => format!("use-service {s}"),
        Verdict::Reply(r) => format!("reply {}", r.status),
        Verdict::Redirect(r) => {
            format!("redirect {} {}", r.code, rules::redirect_location(r, &txn))
        }
        Verdict::Script(call, _) => format!("lua.{}", call.name),
        Verdict::WaitBody(..) => "wait-for-body".to_string(),
        Verdict::Resolve(..) => "do-resolve".to_string(),
        Verdict::Spoe(..) => "send-spoe-group".to_string(),
        Verdict::RewriteFailed => "rewrite failed (500)".into(),
    };
    let mut backend = None;
    let mut server = None;
    if verdict == "continue" {
        if let Some(b) = crate::route::choose_backend(shared, frontend, &txn) {
            let be = &shared.backends[b];
            backend = Some(be.name.to_string());
            txn.backend = Some(be.name.clone());
            if !crate::route::is_own_backend(shared, frontend, b) {
                let _ = rules::run(&be.rules, RuleSet::HttpRequest, &mut txn);
            }
            if let Some(s) = be.pick(None, None) {
                server = Some(be.servers[s].name.to_string());
                txn.server = Some(be.servers[s].name.clone());
            }
        }
    }
    let log = frontend
        .log_format
        .as_ref()
        .map(|f| f.render(&txn))
        .unwrap_or_default();
    Some(Decision {
        verdict,
        backend,
        server,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(cfg: &str) -> Arc<Shared> {
        let c = hapee_compiler::testkit::compile_text("t.cfg", cfg, false);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let plan = hapee_compiler::plan::build(&c.config, 1);
        Arc::new(Shared::build(&plan).expect("runtime supports the test config"))
    }

    #[test]
    fn rules_routing_and_log_line() {
        let s = shared(
            "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
             frontend fe\n  bind :8080\n  log-format \"%ci %b/%s %[var(txn.host)] %{+Q}r\"\n\
             acl api path_beg -i /API\n  http-request deny if { hdr_cnt(x-bad) gt 0 }\n\
             http-request set-var(txn.host) req.hdr(host),host_only\n\
             http-request redirect location /new code 308 if { path /old }\n\
             use_backend api if api\n  default_backend app\n\
             backend app\n  server a 127.0.0.1:1\nbackend api\n  server b 127.0.0.1:2\n",
        );
        let c: SocketAddr = "192.0.2.7:5555".parse().unwrap();
        let l: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let d = decide(
            &s,
            0,
            c,
            l,
            b"GET /api/x HTTP/1.1\r\nHost: Shop.Example:81\r\n\r\n",
        )
        .unwrap();
        assert_eq!(d.verdict, "continue");
        assert_eq!(d.backend.as_deref(), Some("api"));
        assert_eq!(
            d.log,
            // `host_only` lower-cases the host, as HAProxy 2.7 does.
            "192.0.2.7 api/b shop.example \"GET /api/x HTTP/1.1\""
        );
        let d = decide(&s, 0, c, l, b"GET / HTTP/1.1\r\nX-Bad: 1\r\n\r\n").unwrap();
        assert_eq!((d.verdict.as_str(), d.backend), ("deny 403", None));
        let d = decide(&s, 0, c, l, b"GET /old HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(d.verdict, "redirect 308 /new");
        assert!(decide(&s, 0, c, l, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n").is_none());
    }
}
