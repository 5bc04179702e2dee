//! Responses the proxy makes itself: HAProxy's built-in error pages, `errorfile` contents,
//! `return`/`deny` replies and redirects.

use super::replies::{ErrorFiles, Page};
use super::ResBody;
use crate::rules::{Reply, ReplyBody};
use crate::txn::Txn;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::Response;

/// Reason phrase and message of HAProxy's built-in pages, and whether they close the connection.
fn builtin(status: u16) -> (&'static str, &'static str, bool) {
    match status {
        200 => ("OK", "Service ready.", false),
        400 => ("Bad request", "Your browser sent an invalid request.", true),
        401 => ("Unauthorized", "You need a valid user and password to access this content.", false),
        403 => ("Forbidden", "Request forbidden by administrative rules.", false),
        404 => ("Not Found", "The resource could not be found.", false),
        405 => ("Method Not Allowed", "A request was made of a resource using a request method not supported by that resource", false),
        407 => ("Unauthorized", "You need a valid user and password to access this content.", false),
        408 => ("Request Time-out", "Your browser didn't send a complete request in time.", true),
        410 => ("Gone", "The resource is no longer available and will not be available again.", false),
        413 => ("Payload Too Large", "The request entity exceeds the maximum allowed.", false),
        421 => ("Misdirected Request", "Request sent to a non-authoritative server.", false),
        422 => ("Unprocessable Content", "The server cannot process the contained instructions.", false),
        425 => ("Too Early", "Your browser sent early data.", false),
        429 => ("Too Many Requests", "You have sent too many requests in a given amount of time.", false),
        501 => ("Not Implemented", ".The server does not support the functionality required to fulfill the request.", false),
        502 => ("Bad Gateway", "The server returned an invalid or incomplete response.", false),
        503 => ("Service Unavailable", "No server is available to handle this request.", false),
        504 => ("Gateway Time-out", "The server didn't respond in time.", false),
        _ => ("Internal Server Error", "An internal server error occurred.", false),
    }
}

pub fn full(b: impl Into<Bytes>) -> ResBody {
    http_body_util::Either::Left(Full::new(b.into()))
}

fn known(status: u16) -> u16 {
    match status {
        200 | 400 | 401 | 403 | 404 | 405 | 407 | 408 | 410 | 413 | 421 | 422 | 425 | 429 | 500
        | 501 | 502 | 503 | 504 => status,
        _ => 500,
    }
}

/// Parses a raw HTTP response (an `errorfile`) into a response, keeping its reason phrase.
fn parse_raw(raw: &Bytes) -> Option<Response<ResBody>> {
    parse_raw_parts(raw).map(|(resp, _)| resp)
}

/// [`parse_raw`], with the page's body beside the response.
fn parse_raw_parts(raw: &Bytes) -> Option<(Response<ResBody>, Bytes)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = r.parse(raw).ok()? else {
        return None;
    };
    let mut b = Response::builder().status(r.code?);
    let mut framed = false;
    // HAProxy's HTTP/1 side writes a page's `connection` field after all the others.
    let is_connection = |h: &&httparse::Header| h.name.eq_ignore_ascii_case("connection");
    for h in r.headers.iter().filter(|h| !is_connection(h)) {
        framed |= h.name.eq_ignore_ascii_case("content-length")
            || h.name.eq_ignore_ascii_case("transfer-encoding");
        b = b.header(h.name, h.value);
    }
    for h in r.headers.iter().filter(is_connection) {
        b = b.header(h.name, h.value);
    }
    let body = raw.slice(head..);
    let mut resp = b.body(full(body.clone())).ok()?;
    keep_reason(&mut resp, r.reason.unwrap_or(""));
    if !framed {
        let http10 = r.version == Some(0);
        resp.extensions_mut()
            .insert(CloseDelimited(body.clone(), PageVersion(http10)));
    }
    Some((resp, body))
}

/// Whether a page's status line says HTTP/1.0 (Debian's `errorfile` pages do): HAProxy writes
/// the version the page has.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageVersion(pub bool);

/// A page (an `errorfile`) that gives no length: HAProxy sends it as it is, its body ending
/// with the connection, where hyper would add a length. Holds the body and the page's version.
#[derive(Clone, Debug)]
pub struct CloseDelimited(pub Bytes, pub PageVersion);

/// The bytes of a [`CloseDelimited`] page as HAProxy writes it over HTTP/1: its status line in
/// the page's version, its headers (names in lower case, as HAProxy's internal form keeps
/// them), then the body. An HTTP/1.1 page says `connection: close` (unless it has a
/// `Connection` header); an HTTP/1.0 one, which closes anyway, has none.
pub fn close_delimited_wire(resp: &Response<ResBody>, body: &Bytes, version: PageVersion) -> Bytes {
    let PageVersion(http10) = version;
    wire_of(resp, body, http10, (!http10).then_some("close"))
}

/// Marks an answer after which the connection closes though the answer does not say so: the
/// 502 of a server that ended (or broke its protocol) before answering, which HAProxy sends as
/// usual and then closes the client's connection after (`SH`).
#[derive(Clone, Copy, Debug)]
pub struct CloseAfter;

/// The bytes of a [`CloseAfter`] answer: `resp` as it would go out over HTTP/1.1, with the
/// `Connection` field an answer to its request has (`connection`, unless `resp` has one), and
/// `body` (empty for the answer to HEAD).
pub fn close_after_wire(resp: &Response<ResBody>, body: &Bytes, connection: Option<&str>) -> Bytes {
    wire_of(resp, body, false, connection)
}

/// The body of an answer the proxy made itself (a page), which is all there at once.
pub fn made_body(resp: &mut Response<ResBody>) -> Option<Bytes> {
    use http_body_util::BodyExt;
    use std::future::Future;
    let http_body_util::Either::Left(full) = resp.body_mut() else {
        return None;
    };
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(&mut full.frame()).poll(&mut cx) {
        std::task::Poll::Ready(Some(Ok(frame))) => frame.into_data().ok(),
        std::task::Poll::Ready(None) => Some(Bytes::new()),
        _ => None,
    }
}

/// `resp` on the wire: the status line (HTTP/1.0 or 1.1), the headers as they are kept (names
/// in lower case), `connection: <connection>` when given and no `Connection` header is there,
/// then `body`.
fn wire_of(
    resp: &Response<ResBody>,
    body: &Bytes,
    http10: bool,
    connection: Option<&str>,
) -> Bytes {
    let status = resp.status();
    let reason = resp
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string());
    let line_version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    let mut wire = format!("{line_version} {} {reason}\r\n", status.as_u16()).into_bytes();
    for (name, value) in resp.headers() {
        if http10 && name == hyper::header::CONNECTION {
            continue;
        }
        wire.extend_from_slice(name.as_str().as_bytes());
        wire.extend_from_slice(b": ");
        wire.extend_from_slice(value.as_bytes());
        wire.extend_from_slice(b"\r\n");
    }
    if let Some(token) =
        connection.filter(|_| !resp.headers().contains_key(hyper::header::CONNECTION))
    {
        wire.extend_from_slice(format!("connection: {token}\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(body);
    Bytes::from(wire)
}

/// Makes hyper write `reason` rather than the standard phrase of the status.
fn keep_reason(resp: &mut Response<ResBody>, reason: &str) {
    if !reason.is_empty() && resp.status().canonical_reason() != Some(reason) {
        if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(reason.as_bytes()) {
            resp.extensions_mut().insert(reason);
        }
    }
}

/// Marks a response that must not be sent: the connection closes without an answer, as
/// HAProxy does when the page configured for the status is empty (`errorfile 500 /dev/null`).
#[derive(Clone, Copy, Debug)]
pub struct CloseUnanswered;

/// Marks an unanswered close that logs no status (`-1`): a rule aborted the stream before
/// any response (`tcp-response content reject`).
#[derive(Clone, Copy, Debug)]
pub struct NoStatus;

/// A close without an answer and without a status to log.
#[cold]
#[inline(never)]
pub fn aborted() -> Response<ResBody> {
    let mut resp = Response::new(full(Bytes::new()));
    resp.extensions_mut().insert(CloseUnanswered);
    resp.extensions_mut().insert(NoStatus);
    resp
}

/// The status a response is logged and counted with when its status line says another: a
/// proxy page's file may carry another status (a 503 page may well be a `302` redirect), and
/// a `set-status` (rule or script) rewrites the status line alone. HAProxy logs the status the
/// response had when it was made: the server's, or the one the proxy answered with.
#[derive(Clone, Copy, Debug)]
pub struct LoggedStatus(pub u16);

impl LoggedStatus {
    /// Notes that the status line changed from `made` to `now`: the first status stays the
    /// logged one, whatever later rewrites do.
    pub fn keep_made(extensions: &mut hyper::http::Extensions, made: u16, now: u16) {
        if made != now && extensions.get::<LoggedStatus>().is_none() {
            extensions.insert(LoggedStatus(made));
        }
    }
}

/// The response of a raw page: the page itself, or (empty) a close without an answer.
fn message(status: u16, raw: &Bytes) -> Response<ResBody> {
    let mut resp = page_of(status, raw);
    if resp.status().as_u16() != status {
        resp.extensions_mut().insert(LoggedStatus(status));
    }
    resp
}

fn page_of(status: u16, raw: &Bytes) -> Response<ResBody> {
    if raw.is_empty() {
        let mut resp = Response::new(full(Bytes::new()));
        *resp.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        resp.extensions_mut().insert(CloseUnanswered);
        return resp;
    }
    parse_raw(raw).unwrap_or_else(|| builtin_page(status))
}

/// One of HAProxy's built-in pages.
struct BuiltinPage {
    status: u16,
    reason: &'static str,
    /// The connection closes after it.
    close: bool,
    body: String,
}

impl BuiltinPage {
    fn of(status: u16) -> BuiltinPage {
        let status = known(status);
        let (reason, message, close) = builtin(status);
        let body = format!("<html><body><h1>{status} {reason}</h1>\n{message}\n</body></html>\n");
        BuiltinPage {
            status,
            reason,
            close,
            body,
        }
    }

    /// The header fields as HAProxy's raw pages have them, which only its connection layer
    /// sends as they are (the 400 and 408 answers to a request head that failed).
    fn raw_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("Content-length", self.body.len().to_string()),
            ("Cache-Control", "no-cache".to_string()),
        ];
        if self.close {
            fields.push(("Connection", "close".to_string()));
        }
        fields.push(("Content-Type", "text/html".to_string()));
        fields
    }

    /// The header fields as a page answering a request goes out: HAProxy's HTTP/1 side writes
    /// the names in lower case and its own `connection` field last (hyper writes names in
    /// lower case and fields in the order they are given).
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("content-length", self.body.len().to_string()),
            ("cache-control", "no-cache".to_string()),
            ("content-type", "text/html".to_string()),
        ];
        if self.close {
            fields.push(("connection", "close".to_string()));
        }
        fields
    }
}

/// The error page for `status`: the proxy's own when it has one (the backend's before the
/// frontend's, as `files` lists them), else HAProxy's. Without a transaction, the parts of a
/// reply rendered per transaction are left empty.
// Cold, like the other error paths: the branches that lead here are then laid out away from
// the request path's usual ones, which stay together in fewer instruction cache lines.
#[cold]
#[inline(never)]
pub fn error(status: u16, files: &[&ErrorFiles]) -> Response<ResBody> {
    proxy_page(status, files, None)
}

/// [`error`] for a transaction, which `http-error` replies may show (`lf-string`, `hdr`).
#[cold]
#[inline(never)]
pub fn error_in(status: u16, files: &[&ErrorFiles], txn: &Txn) -> Response<ResBody> {
    proxy_page(status, files, Some(txn))
}

fn proxy_page(status: u16, files: &[&ErrorFiles], txn: Option<&Txn>) -> Response<ResBody> {
    match files.iter().find_map(|f| f.get(&status)) {
        Some(Page::Message(raw)) => message(status, raw),
        Some(Page::Reply(r)) => built(r, txn),
        None => builtin_page(status),
    }
}

/// HAProxy's built-in page for `status`.
fn builtin_page(status: u16) -> Response<ResBody> {
    let page = BuiltinPage::of(status);
    let mut b = Response::builder().status(page.status);
    for (name, value) in page.fields() {
        b = b.header(name, value);
    }
    let mut resp = b
        .body(full(page.body))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())));
    // HAProxy's reason phrases are not all the standard ones ("Gateway Time-out", "Bad
    // request"); hyper writes the standard one unless told otherwise.
    keep_reason(&mut resp, page.reason);
    resp
}

/// The error page for `status` as bytes on the wire, for a connection that has no request
/// to answer through (a request head that never completed or could not be parsed): always
/// HAProxy's built-in page, byte for byte, unless the proxy maps the status to an empty
/// page, which closes without an answer (HAProxy's connection layer looks at its proxy's
/// pages only to see whether one is empty).
pub fn error_wire(status: u16, files: &[&ErrorFiles]) -> Bytes {
    if let Some(Page::Message(raw)) = files.iter().find_map(|f| f.get(&status)) {
        if raw.is_empty() {
            return Bytes::new();
        }
    }
    let page = BuiltinPage::of(status);
    let mut wire = format!("HTTP/1.1 {} {}\r\n", page.status, page.reason);
    for (name, value) in page.raw_fields() {
        wire.push_str(&format!("{name}: {value}\r\n"));
    }
    wire.push_str("\r\n");
    wire.push_str(&page.body);
    Bytes::from(wire)
}

/// The page for `status` as bytes on the wire, written as HAProxy's HTTP/1 side writes a
/// page that answers a request it gave up on (the abort under `option abortonclose`): the
/// proxy's `errorfile` page or HAProxy's built-in one, names in lower case, `connection:
/// close` last; empty when the proxy's page is (no answer).
pub fn answer_wire(status: u16, files: &[&ErrorFiles]) -> Bytes {
    if let Some(Page::Message(raw)) = files.iter().find_map(|f| f.get(&status)) {
        if raw.is_empty() {
            return Bytes::new();
        }
        if let Some((resp, body)) = parse_raw_parts(raw) {
            let version = resp
                .extensions()
                .get::<CloseDelimited>()
                .map_or(PageVersion::default(), |page| page.1);
            let mut headers = resp.headers().clone();
            headers.remove(hyper::header::CONNECTION);
            let mut page = Response::new(full(Bytes::new()));
            *page.status_mut() = resp.status();
            *page.headers_mut() = headers;
            if let Some(reason) = resp.extensions().get::<hyper::ext::ReasonPhrase>() {
                page.extensions_mut().insert(reason.clone());
            }
            return close_delimited_wire(&page, &body, version);
        }
    }
    let page = BuiltinPage::of(status);
    let mut wire = format!("HTTP/1.1 {} {}\r\n", page.status, page.reason);
    for (name, value) in page.fields() {
        wire.push_str(&format!("{name}: {value}\r\n"));
    }
    if !page.close {
        wire.push_str("connection: close\r\n");
    }
    wire.push_str("\r\n");
    wire.push_str(&page.body);
    Bytes::from(wire)
}

/// A `return` (or `deny` with a reply of its own) reply.
pub fn reply(r: &Reply, txn: &Txn, files: &[&ErrorFiles]) -> Response<ResBody> {
    match &r.body {
        ReplyBody::Message(raw) => message(r.status, raw),
        ReplyBody::ProxyPage => {
            // Only `http-request auth` gives a page headers (its challenge), which a proxied
            // request gets as a proxy's (`option http-use-proxy-header`).
            let proxy = txn.proxy_auth && !r.headers.is_empty();
            let status = if proxy { 407 } else { r.status };
            let mut page = error_in(status, files, txn);
            for (name, value) in &r.headers {
                let name = if proxy { "proxy-authenticate" } else { name };
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    crate::http::header_values::from_text(&value.render(txn)),
                ) {
                    page.headers_mut().append(n, v);
                }
            }
            page
        }
        ReplyBody::Section(name) => {
            let raw = txn
                .shared
                .error_sections
                .get(name)
                .and_then(|pages| pages.get(&r.status));
            match raw {
                Some(raw) => message(r.status, raw),
                // The section has no page for the status: an empty reply.
                None => built(
                    &Reply {
                        body: ReplyBody::Empty,
                        ..r.clone()
                    },
                    Some(txn),
                ),
            }
        }
        _ => built(r, Some(txn)),
    }
}

/// A reply made of parts, in HAProxy's order: the status line, the `hdr` headers, the
/// length, then the content type when there is a payload.
fn built(r: &Reply, txn: Option<&Txn>) -> Response<ResBody> {
    let render = |f: &crate::logfmt::Format| txn.map(|t| f.render(t)).unwrap_or_default();
    let body: Bytes = match &r.body {
        ReplyBody::Text(t) => t.clone(),
        ReplyBody::Format(f) => Bytes::from(hapee_compiler::bytestr::into_bytes(render(f))),
        _ => Bytes::new(),
    };
    let Ok(status) = hyper::StatusCode::from_u16(r.status) else {
        return Response::new(full(Bytes::new()));
    };
    // Filled in place rather than through `Response::builder()`, whose every step moves the
    // whole head and parses the header names again: this runs for each `return`.
    // Room for one more than the fields written: hyper's HTTP/2 looks for `content-length`
    // through `entry`, which first grows (and copies) a map that is full.
    let mut headers = hyper::HeaderMap::with_capacity(r.headers.len() + 3);
    for (n, v) in &r.headers {
        let value = render(v);
        if value.is_empty() {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            crate::http::header_values::from_text(&value),
        ) {
            headers.append(n, v);
        }
    }
    headers.append(CONTENT_LENGTH, HeaderValue::from(body.len()));
    if let Some(ct) = r.content_type.as_deref().filter(|_| !body.is_empty()) {
        // As the builder did: a content type that is no header value makes an empty reply.
        let Ok(ct) = crate::http::header_values::from_text(ct) else {
            return Response::new(full(Bytes::new()));
        };
        headers.append(CONTENT_TYPE, ct);
    }
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_pages_keep_haproxy_reason_phrases() {
        let page = error(504, &[]);
        let reason = page.extensions().get::<hyper::ext::ReasonPhrase>();
        assert_eq!(reason.map(|r| r.as_bytes()), Some(&b"Gateway Time-out"[..]));
        // The standard phrase needs no override.
        assert!(error(503, &[])
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .is_none());
        let wire = error_wire(408, &[]);
        assert!(wire.starts_with(b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\n"));
        assert!(wire.ends_with(b"didn't send a complete request in time.\n</body></html>\n"));
        // Answering a request: lower-case names, `connection` last.
        let answer = answer_wire(400, &[]);
        assert!(answer.starts_with(b"HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\n"));
        assert!(answer.ends_with(
            b"content-type: text/html\r\nconnection: close\r\n\r\n<html><body>\
              <h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"
        ));
    }
}
