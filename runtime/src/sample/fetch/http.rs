//! HTTP fetches: the request line, headers, cookies, authorization and body of the request,
//! the status, headers and cookies of the response.

use crate::sample::{leading_int, Value};
use crate::txn::{RequestView, Txn};
use hyper::HeaderMap;

/// Evaluates an HTTP fetch (nothing when the message it reads is not there yet).
pub fn fetch(name: &str, args: &[String], txn: &Txn) -> Vec<Value> {
    let a0 = args.first().map_or("", String::as_str);
    if let Some(v) = response_fetch(name, args, txn) {
        return v;
    }
    match name {
        // HAProxy keeps the request line only for frontends that log it.
        "capture.req.method" | "capture.req.uri" if !logs_request(txn) => Vec::new(),
        "capture.req.method" => one(txn
            .request
            .as_ref()
            .map(|r| Value::Str(r.method.to_string()))),
        // The path and query of the target of the request line as it came (before the
        // rules), as HAProxy's http_parse_path finds it: none for `*`, an authority (a
        // CONNECT's) or an absolute target without a path.
        "capture.req.uri" => one(txn.logged_line().and_then(|(_, uri)| {
            let version = txn
                .request
                .as_ref()
                .map_or(hyper::Version::HTTP_11, |r| r.version);
            let target = crate::http::target::written(txn, uri, version);
            let path = crate::http::target::path_of(target.as_bytes());
            (!path.is_empty())
                .then(|| Value::Str(hapee_compiler::bytestr::from_bytes(path).into_owned()))
        })),
        "capture.req.ver" => one(txn
            .request
            .as_ref()
            .map(|r| Value::Str(format!("HTTP/{}", version(r.version))))),
        "http_first_req" => vec![Value::Bool(txn.first_request)],
        // A proxied request's credentials (`option http-use-proxy-header`).
        "http_auth_type" | "http_auth_user" | "http_auth_pass" if txn.proxy_auth => {
            proxy_auth_fetch(name, txn)
        }
        "http_auth_bearer" if txn.proxy_auth && a0.is_empty() => proxy_auth_fetch(name, txn),
        // Binary, as HAProxy's: a body need not be text.
        "req.body" => one(txn.request_body().cloned().map(Value::Bin)),
        "req.body_len" => body_len(txn.request_body()),
        "req.body_size" => body_size(txn.request_body(), txn.request.as_ref().map(|r| &r.headers)),
        "req.body_param" => match txn.request_body() {
            Some(b) => params(&String::from_utf8_lossy(b), a0, '&'),
            None => Vec::new(),
        },
        "method" if txn.request.is_some() => method_seen(txn).map_or_else(Vec::new, text),
        _ => match &txn.request {
            Some(req) => request_fetch(name, args, req),
            // TCP mode: the request the client's held bytes begin with, if whole.
            None if hapee_compiler::registry::capabilities::reads_http_request(name) => {
                crate::inspect::held_request(txn)
                    .map_or_else(Vec::new, |req| request_fetch(name, args, &req))
            }
            None => Vec::new(),
        },
    }
}

/// The `http_auth_*` fetches of a request whose credentials come in `Proxy-Authorization`:
/// read as the others, from that field given the name of the usual one.
fn proxy_auth_fetch(name: &str, txn: &Txn) -> Vec<Value> {
    let Some(req) = &txn.request else {
        return Vec::new();
    };
    let mut headers = HeaderMap::new();
    for v in req.headers.get_all(hyper::header::PROXY_AUTHORIZATION) {
        headers.append(hyper::header::AUTHORIZATION, v.clone());
    }
    request_fetch(
        name,
        &[],
        &RequestView {
            method: req.method.clone(),
            uri: req.uri.clone(),
            version: req.version,
            headers,
            lines: Default::default(),
        },
    )
}

/// Whether the transaction's frontend keeps the request line: a field of its format strings
/// needs it ([`crate::log_wait::LogWait::request_line`]), whether it logs or not.
fn logs_request(txn: &Txn) -> bool {
    txn.shared
        .frontends
        .iter()
        .find(|f| f.name == txn.frontend)
        .is_some_and(|f| f.log_wait.request_line)
}

fn one(v: Option<Value>) -> Vec<Value> {
    v.into_iter().collect()
}

fn text(s: &str) -> Vec<Value> {
    vec![Value::Str(s.to_string())]
}

/// The response fetch that fetch `name`, which reads either message, is when fetched for the
/// response (`hdr` is `res.hdr` there, `cookie` the response's `res.cook`).
pub(super) fn response_reading(name: &str) -> &str {
    match name {
        "hdr" => "res.hdr",
        "cookie" => "res.cook",
        _ => name,
    }
}

/// Fetches of the response (`None`: not one).
fn response_fetch(name: &str, args: &[String], txn: &Txn) -> Option<Vec<Value>> {
    let a0 = args.first().map_or("", String::as_str);
    let res = txn.response.as_ref();
    let headers = || res.map(|r| &r.headers);
    Some(match name {
        "status" => one(res.map(|r| Value::Int(i64::from(r.status)))),
        "res.body" => one(txn.response_body().cloned().map(Value::Bin)),
        "res.body_len" => body_len(txn.response_body()),
        "res.body_size" => body_size(txn.response_body(), headers()),
        "res.ver" | "resp_ver" => one(res.map(|r| Value::Str(version(r.version).into()))),
        "capture.res.ver" => one(res.map(|r| Value::Str(format!("HTTP/{}", version(r.version))))),
        "res.hdr" | "shdr" => {
            headers().map_or_else(Vec::new, |h| header_values(h, a0, args.get(1)))
        }
        "res.fhdr" => headers().map_or_else(Vec::new, |h| full_values(h, a0, args.get(1))),
        "res.hdr_cnt" | "shdr_cnt" => count(headers(), |h| header_values(h, a0, None).len()),
        "res.fhdr_cnt" => count(headers(), |h| full_values(h, a0, None).len()),
        "res.hdr_ip" | "shdr_ip" => headers().map_or_else(Vec::new, |h| ips(h, a0, args.get(1))),
        "res.hdr_val" | "shdr_val" => {
            headers().map_or_else(Vec::new, |h| ints(header_values(h, a0, args.get(1))))
        }
        "res.hdr_names" => one(headers().map(|h| names(h, args))),
        "res.hdrs" => one(headers().map(|h| Value::Str(head_block(h)))),
        "res.cook" | "scook" => headers().map_or_else(Vec::new, |h| set_cookies(h, a0)),
        "res.cook_cnt" | "scook_cnt" => count(headers(), |h| set_cookies(h, a0).len()),
        "res.cook_val" | "scook_val" => {
            headers().map_or_else(Vec::new, |h| ints(set_cookies(h, a0)))
        }
        _ => return None,
    })
}

/// The body bytes that arrived (`req.body_len`, `res.body_len`).
fn body_len(body: Option<&bytes::Bytes>) -> Vec<Value> {
    vec![Value::Int(body.map_or(0, |b| b.len() as i64))]
}

/// The body's announced length (its `Content-Length`), or what arrived of it when none is
/// announced (chunked) (`req.body_size`, `res.body_size`).
fn body_size(body: Option<&bytes::Bytes>, headers: Option<&HeaderMap>) -> Vec<Value> {
    let announced = headers
        .and_then(|h| h.get(hyper::header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    match announced {
        Some(n) => vec![Value::Int(n)],
        None => body_len(body),
    }
}

fn count(h: Option<&HeaderMap>, n: impl Fn(&HeaderMap) -> usize) -> Vec<Value> {
    one(h.map(|h| Value::Int(n(h) as i64)))
}

/// Whether a request target has no path: the asterisk form (`OPTIONS *`), the authority
/// form of a CONNECT, or an absolute form with nothing after its authority (`http://a`).
fn target_without_path(uri: &hyper::Uri, version: hyper::Version) -> bool {
    uri.path() == "*"
        || (uri.scheme().is_none() && uri.authority().is_some())
        || crate::http::target::lacks_path(uri, version)
}

fn request_fetch(name: &str, args: &[String], req: &RequestView) -> Vec<Value> {
    let a0 = args.first().map_or("", String::as_str);
    let h = &req.headers;
    let host = || h.get("host").and_then(|v| v.to_str().ok()).unwrap_or("");
    // A target without a path (`*`, or a CONNECT's authority) gives `path` nothing, as in
    // HAProxy; `base` is then the host alone.
    let has_path = !target_without_path(&req.uri, req.version);
    let path_and_query = || {
        req.uri
            .path_and_query()
            .map_or_else(|| req.uri.path().to_string(), |p| p.as_str().to_string())
    };
    let base = |with_query: bool| {
        let path = if with_query {
            path_and_query()
        } else {
            req.uri.path().to_string()
        };
        match (host(), has_path) {
            ("", false) => Vec::new(),
            ("", true) => text(&path),
            (host, false) => text(host),
            (host, true) => text(&format!("{host}{path}")),
        }
    };
    match name {
        "method" => text(req.method.as_str()),
        "path" if has_path => text(req.uri.path()),
        "pathq" if has_path => text(&path_and_query()),
        "path" | "pathq" => Vec::new(),
        "url" => text(&crate::http::target::text(&req.uri, req.version)),

        "query" => req.uri.query().map(text).unwrap_or_default(),
        "base" => base(false),
        "baseq" => base(true),
        "url_ip" => one(req.uri.host().and_then(|h| h.parse().ok()).map(Value::Ip)),
        // Only an absolute URL has a port (80 unless it says otherwise).
        "url_port" => one(req
            .uri
            .host()
            .map(|_| Value::Int(i64::from(req.uri.port_u16().unwrap_or(80))))),
        "req.ver" | "req_ver" => text(version(req.version)),

        "req.proto_http" | "req_proto_http" => vec![Value::Bool(true)],
        "fc_http_major" => vec![Value::Int(match req.version {
            hyper::Version::HTTP_2 => 2,
            hyper::Version::HTTP_3 => 3,
            _ => 1,
        })],
        "url_param" | "urlp" => params(req.uri.query().unwrap_or(""), a0, '&'),
        "urlp_val" => ints(params(req.uri.query().unwrap_or(""), a0, '&')),
        "hdr" | "req.hdr" => header_values(h, a0, args.get(1)),
        "hdr_ip" | "req.hdr_ip" => ips(h, a0, args.get(1)),
        "hdr_val" | "req.hdr_val" => ints(header_values(h, a0, args.get(1))),
        "req.fhdr" => full_values(h, a0, args.get(1)),
        "hdr_cnt" | "req.hdr_cnt" => vec![Value::Int(header_values(h, a0, None).len() as i64)],
        "req.fhdr_cnt" => vec![Value::Int(full_values(h, a0, None).len() as i64)],
        "req.hdr_names" => vec![names(h, args)],
        "req.hdrs" => vec![Value::Str(head_block(h))],
        "cookie" | "req.cook" | "cook" => cookies(h, a0),
        "req.cook_cnt" | "cook_cnt" => vec![Value::Int(cookies(h, a0).len() as i64)],
        "req.cook_val" | "cook_val" => ints(cookies(h, a0)),
        "http_auth_type" => one(authorization(h).map(|(scheme, _)| Value::Str(scheme))),
        "http_auth_user" | "http_auth_pass" => {
            let credentials = basic_credentials(h);
            one(credentials
                .map(|(user, pass)| Value::Str(if name == "http_auth_user" { user } else { pass })))
        }
        "http_auth_bearer" => {
            let field = if a0.is_empty() { "authorization" } else { a0 };
            let value = h.get(field).and_then(|v| v.to_str().ok()).unwrap_or("");
            one(value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| Value::Str(token.trim().to_string())))
        }
        _ => Vec::new(),
    }
}

fn version(v: hyper::Version) -> &'static str {
    match v {
        hyper::Version::HTTP_10 => "1.0",
        hyper::Version::HTTP_2 => "2.0",
        hyper::Version::HTTP_3 => "3.0",
        _ => "1.1",
    }
}

/// The values of `name=value` pairs separated by `sep` whose name is `name` (all values
/// when `name` is empty).
fn params(s: &str, name: &str, sep: char) -> Vec<Value> {
    s.split(sep)
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .filter(|(k, _)| name.is_empty() || *k == name)
        .map(|(_, v)| Value::Str(v.to_string()))
        .collect()
}

/// Each sample's leading integer.
fn ints(values: Vec<Value>) -> Vec<Value> {
    values
        .into_iter()
        .filter_map(|v| leading_int(v.as_text().as_bytes()).map(Value::Int))
        .collect()
}

/// The occurrence `occ` (1 the first, -1 the last) of `all`, or all of them.
fn occurrence(mut all: Vec<Value>, occ: Option<&String>) -> Vec<Value> {
    if let Some(occ) = occ.and_then(|o| o.trim().parse::<i64>().ok()) {
        let i = if occ > 0 {
            occ as usize - 1
        } else {
            all.len().saturating_sub(occ.unsigned_abs() as usize)
        };
        all = all.get(i).cloned().into_iter().collect();
    }
    all
}

/// A header's values, each comma-separated element on its own.
fn header_values(h: &HeaderMap, name: &str, occ: Option<&String>) -> Vec<Value> {
    let all = h
        .get_all(name)
        .iter()
        .flat_map(|v| crate::http::header_values::split(v.as_bytes()))
        .map(bytes_value)
        .collect();
    occurrence(all, occ)
}

/// A header's full values, commas and all, each trimmed of the spaces and tabs around it
/// (HAProxy's header lookup trims every value it finds, one a rule wrote with a trailing
/// space too).
fn full_values(h: &HeaderMap, name: &str, occ: Option<&String>) -> Vec<Value> {
    let all = h
        .get_all(name)
        .iter()
        .map(|v| bytes_value(v.as_bytes().trim_ascii()))
        .collect();
    occurrence(all, occ)
}

/// Header bytes as a string sample, whatever bytes they are (converters, formats and
/// headers written from it see the bytes the client sent).
fn bytes_value(b: &[u8]) -> Value {
    Value::Str(hapee_compiler::bytestr::from_bytes(b).into_owned())
}

fn ips(h: &HeaderMap, name: &str, occ: Option<&String>) -> Vec<Value> {
    header_values(h, name, occ)
        .into_iter()
        .filter_map(|v| v.as_ip().map(Value::Ip))
        .collect()
}

/// `hdr_names([delimiter])`: the header names in order, joined by the delimiter (`,`).
fn names(h: &HeaderMap, args: &[String]) -> Value {
    let delim = args
        .first()
        .filter(|d| !d.is_empty())
        .map_or(",", String::as_str);
    let list: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
    Value::Str(list.join(delim))
}

/// The header block as it is sent: `name: value` lines and the empty line that ends them.
fn head_block(h: &HeaderMap) -> String {
    let mut out = String::new();
    for (n, v) in h {
        out.push_str(n.as_str());
        out.push_str(": ");
        out.push_str(&String::from_utf8_lossy(v.as_bytes()));
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

/// The request cookies named `name` (every cookie when empty), in order.
fn cookies(h: &HeaderMap, name: &str) -> Vec<Value> {
    h.get_all("cookie")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(';')
                .filter_map(|c| c.trim().split_once('='))
                .filter(|(k, _)| name.is_empty() || k.trim() == name)
                .map(|(_, v)| Value::Str(v.trim().to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The response cookies named `name` (each `Set-Cookie` sets one).
fn set_cookies(h: &HeaderMap, name: &str) -> Vec<Value> {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            let s = String::from_utf8_lossy(v.as_bytes()).into_owned();
            let first = s.split(';').next()?.to_string();
            let (k, v) = first.split_once('=')?;
            (name.is_empty() || k.trim() == name).then(|| Value::Str(v.trim().to_string()))
        })
        .collect()
}

/// The scheme and the credentials of the `Authorization` header.
fn authorization(h: &HeaderMap) -> Option<(String, String)> {
    let v = h.get("authorization")?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    Some((scheme.to_string(), rest.trim().to_string()))
}

/// The user and password of a `Basic` authorization.
fn basic_credentials(h: &HeaderMap) -> Option<(String, String)> {
    let (scheme, encoded) = authorization(h)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = crate::sample::base64_decode(&encoded)?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// The method as `method` reports it: HAProxy keeps a method it knows (one of the eight of
/// RFC 9110, as spelt there) as the client sent it, whatever `set-method` writes later, and
/// reads any other from the request line as it is now.
fn method_seen(txn: &Txn) -> Option<&str> {
    const KNOWN: [&str; 8] = [
        "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT",
    ];
    match txn.logged_line() {
        Some((sent, _)) if KNOWN.contains(&sent.as_str()) => Some(sent.as_str()),
        _ => txn.request.as_ref().map(|r| r.method.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_credentials() {
        let mut h = HeaderMap::new();
        h.append("cookie", "a=1; b=2".parse().unwrap());
        h.append("cookie", "a=3".parse().unwrap());
        h.append("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
        h.append("set-cookie", "s=9; Path=/".parse().unwrap());
        assert_eq!(cookies(&h, "a").len(), 2);
        assert_eq!(cookies(&h, "").len(), 3);
        assert_eq!(ints(cookies(&h, "b")), vec![Value::Int(2)]);
        assert_eq!(
            basic_credentials(&h),
            Some(("user".to_string(), "pass".to_string()))
        );
        assert_eq!(set_cookies(&h, "s"), vec![Value::Str("9".into())]);
        assert_eq!(
            names(&h, &[]),
            Value::Str("cookie,cookie,authorization,set-cookie".into())
        );
    }
}
