//! FastCGI towards servers (`server … proto fcgi` in a backend with `use-fcgi-app`): the
//! request becomes a FastCGI responder request whose parameters the `fcgi-app` section shapes
//! (`docroot`, `index`, `path-info`, `set-param`, `pass-header`), and the application's CGI
//! output becomes the HTTP response, streamed as its records arrive. What it writes on its
//! error stream goes to the section's `log-stderr` targets.
//!
//! One request per connection at a time (FastCGI's request id 1). With `option keep-conn`
//! (the default) the application is asked to keep the connection open, and a connection
//! whose request it ended cleanly goes back to the server's idle pool, to carry another
//! request as `http-reuse` allows, as an HTTP/1.1 one would.
//!
//! With `option get-values`, a new connection first asks the application whether it
//! multiplexes connections and how many requests it takes at once (`FCGI_MPXS_CONNS`,
//! `FCGI_MAX_REQS`; not `FCGI_MAX_CONNS`, as HAProxy leaves it out too), and its first
//! request goes once the answer came. Requests are not multiplexed (`option mpxs-conns` is
//! not acted on): one at a time is within whatever the application allows.

pub mod codec;

use super::body::FrameSource;
use super::reuse::Failure;
use super::{ExchangeError, ServerBody, ServerConn};
use crate::acl::{AclSet, Condition};
use crate::http::ReqBody;
use crate::log::Sink;
use crate::logfmt::Format;
use crate::txn::Txn;
use bytes::{Bytes, BytesMut};
use codec::{kind, Decoder};
use hapee_compiler::plan::fcgi::FcgiAppPlan;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use hyper::{Method, Response, StatusCode};
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The request id of the one request a connection carries.
const REQUEST_ID: u16 = 1;
/// The most bytes of CGI headers accepted before the empty line that ends them.
const MAX_HEAD: usize = 64 * 1024;

/// An `fcgi-app` section, compiled for requests.
pub struct App {
    pub name: String,
    docroot: String,
    index: Option<String>,
    path_info: Option<regex::bytes::Regex>,
    params: Vec<(String, Format, Condition)>,
    headers: Vec<(String, bool, Condition)>,
    stderr: Vec<Sink>,
    /// `option keep-conn`.
    pub keep_conn: bool,
    /// `option get-values`.
    get_values: bool,
    /// `option max-reqs`: requests a connection carries at once, until the application says.
    max_reqs: u32,
    /// `option mpxs-conns`: the application multiplexes, until it says.
    mpxs_conns: bool,
}

/// What an application said of its connections (or the section's options before it said).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppValues {
    /// It multiplexes requests on a connection (`FCGI_MPXS_CONNS` 1).
    pub mpxs_conns: bool,
    /// Requests a connection may carry at once: `FCGI_MAX_REQS` when it multiplexes, else 1.
    pub streams: u32,
}

impl AppValues {
    /// Reads a `GET_VALUES_RESULT` record's content over what the section said, as HAProxy
    /// does: `FCGI_MPXS_CONNS` is on only for "1", `FCGI_MAX_REQS` a decimal count, and a
    /// connection that is not multiplexed carries one request at a time.
    fn answered(mut self, content: &[u8]) -> Result<AppValues, codec::DecodeError> {
        for (name, value) in codec::decode_pairs(content)? {
            if name.eq_ignore_ascii_case(b"FCGI_MPXS_CONNS") {
                self.mpxs_conns = &value[..] == b"1";
            } else if name.eq_ignore_ascii_case(b"FCGI_MAX_REQS") {
                let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
                self.streams = std::str::from_utf8(&value[..digits])
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(0);
            }
        }
        if !self.mpxs_conns {
            self.streams = 1;
        }
        Ok(self)
    }
}

impl App {
    /// `docroot`, as the section gives it.
    pub fn docroot(&self) -> &str {
        &self.docroot
    }

    /// `index`, when the section gives one.
    pub fn index(&self) -> Option<&str> {
        self.index.as_deref()
    }

    pub fn compile(plan: &FcgiAppPlan) -> Result<App, String> {
        let acls = AclSet::compile(&plan.acls).map_err(|e| e.0)?;
        let cond = |words: &[String]| Condition::compile(words, &acls).map_err(|e| e.0);
        let params = plan
            .params
            .iter()
            .map(|p| {
                let format = Format::parse(&p.format).map_err(|e| e.0)?;
                Ok((p.name.clone(), format, cond(&p.condition)?))
            })
            .collect::<Result<_, String>>()?;
        let headers = plan
            .headers
            .iter()
            .map(|h| Ok((h.name.clone(), h.pass, cond(&h.condition)?)))
            .collect::<Result<_, String>>()?;
        let path_info = plan
            .path_info
            .as_deref()
            .map(regex::bytes::Regex::new)
            .transpose()
            .map_err(|e| format!("path-info: {e}"))?;
        Ok(App {
            name: plan.name.clone(),
            docroot: plan.docroot.clone(),
            index: plan.index.clone(),
            path_info,
            params,
            headers,
            stderr: Sink::open_list(&plan.log_stderr, &plan.name)
                .filter_map(|(_, sink)| sink.ok())
                .collect(),
            keep_conn: plan.keep_conn,
            get_values: plan.get_values,
            max_reqs: plan.max_reqs,
            mpxs_conns: plan.mpxs_conns,
        })
    }

    /// Logs a line the application wrote on its error stream (at level `err`).
    fn log_stderr(&self, text: &[u8]) {
        let text = String::from_utf8_lossy(text);
        let text = text.trim_end_matches(['\n', '\r', '\0']);
        for s in &self.stderr {
            s.send(3, text);
        }
    }

    /// The parameters of the request in `txn`, in the order HAProxy sends them: the request
    /// headers (as `HTTP_*`, `CONTENT_LENGTH`, `CONTENT_TYPE`) and the `set-param` values,
    /// then the CGI variables none of those set. `None`: the path cannot name a script.
    pub fn params(&self, txn: &Txn, body_len: Option<u64>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        let req = txn.request.as_ref()?;
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        // Which headers are hidden: the last matching rule for a name decides.
        let mut hidden: Vec<&str> = Vec::new();
        for (name, pass, cond) in &self.headers {
            if cond.holds(txn) {
                hidden.retain(|h| h != name);
                if !pass {
                    hidden.push(name);
                }
            }
        }
        let mut host = None;
        let mut content_length = None;
        for (name, value) in &req.headers {
            let n = name.as_str();
            if hidden.contains(&n) || crate::http::proxy_headers::is_hop_by_hop(name) {
                continue;
            }
            let key = match n {
                "content-length" => {
                    content_length = Some(value.as_bytes().to_vec());
                    continue;
                }
                "content-type" => "CONTENT_TYPE".to_string(),
                _ => {
                    if n == "host" {
                        host = Some(value.as_bytes().to_vec());
                    }
                    format!("HTTP_{}", hapee_compiler::plan::fcgi::param_name(n))
                }
            };
            out.push((key.into_bytes(), value.as_bytes().to_vec()));
        }
        // `set-param`: the last matching rule of a name gives its value.
        let mut set: Vec<(&str, String)> = Vec::new();
        for (name, format, cond) in &self.params {
            if cond.holds(txn) {
                set.retain(|(n, _)| n != name);
                set.push((name, format.render(txn)));
            }
        }
        set.sort_by(|a, b| a.0.cmp(b.0));
        let given = |name: &str| set.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        let uri = given("REQUEST_URI").unwrap_or_else(|| req.uri.to_string());
        let docroot = given("DOCUMENT_ROOT").unwrap_or_else(|| self.docroot.clone());
        let (mut script, mut path_info, query) = self.split_uri(&uri, given("SCRIPT_NAME"))?;
        if let Some(p) = given("PATH_INFO") {
            path_info = p.into_bytes();
        }
        if given("SCRIPT_NAME").is_some() {
            script = given("SCRIPT_NAME").unwrap_or_default().into_bytes();
        }
        let content_length =
            content_length.unwrap_or_else(|| body_len.unwrap_or(0).to_string().into_bytes());
        out.push((b"CONTENT_LENGTH".to_vec(), content_length));
        for (name, value) in &set {
            if !value.is_empty() {
                out.push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
            }
        }
        let concat = |a: &str, b: &[u8]| [a.as_bytes(), b].concat();
        let version = match req.version {
            hyper::Version::HTTP_10 => "HTTP/1.0",
            hyper::Version::HTTP_2 => "HTTP/2.0",
            hyper::Version::HTTP_3 => "HTTP/3.0",
            _ => "HTTP/1.1",
        };
        let defaults: [(&str, Vec<u8>); 16] = [
            ("GATEWAY_INTERFACE", b"CGI/1.1".to_vec()),
            ("DOCUMENT_ROOT", docroot.clone().into_bytes()),
            ("SCRIPT_NAME", script.clone()),
            ("PATH_INFO", path_info.clone()),
            ("REQUEST_URI", uri.clone().into_bytes()),
            ("REQUEST_METHOD", req.method.as_str().as_bytes().to_vec()),
            ("QUERY_STRING", query.into_bytes()),
            (
                "SERVER_NAME",
                host.unwrap_or_else(|| txn.local.ip().to_string().into_bytes()),
            ),
            ("SERVER_PORT", txn.local.port().to_string().into_bytes()),
            ("SERVER_PROTOCOL", version.as_bytes().to_vec()),
            ("REMOTE_ADDR", txn.client.ip().to_string().into_bytes()),
            ("REMOTE_PORT", txn.client.port().to_string().into_bytes()),
            ("SCRIPT_FILENAME", concat(&docroot, &script)),
            (
                "PATH_TRANSLATED",
                if path_info.is_empty() {
                    Vec::new()
                } else {
                    concat(&docroot, &path_info)
                },
            ),
            (
                "SERVER_SOFTWARE",
                format!("HAProxy {}", crate::api::info::HAPROXY_VERSION).into_bytes(),
            ),
            (
                "HTTPS",
                if txn.tls.is_some() {
                    b"on".to_vec()
                } else {
                    Vec::new()
                },
            ),
        ];
        for (name, value) in defaults {
            if !value.is_empty() && given(name).is_none() {
                out.push((name.as_bytes().to_vec(), value));
            }
        }
        Some(out)
    }

    /// The script name, path info and query string of a request URI: the path decoded, cut
    /// by the `path-info` expression (first capture the script, second the path info), with
    /// the `index` added to a script name ending in `/`.
    fn split_uri(
        &self,
        uri: &str,
        script_given: Option<String>,
    ) -> Option<(Vec<u8>, Vec<u8>, String)> {
        // The path of an absolute URI starts after its authority.
        let path_and_query = match uri.find("://") {
            Some(at) => {
                let rest = &uri[at + 3..];
                rest.find('/').map_or("", |p| &rest[p..])
            }
            None => uri,
        };
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, q.to_string()),
            None => (path_and_query, String::new()),
        };
        if script_given.is_some() {
            return Some((Vec::new(), Vec::new(), query));
        }
        if path.is_empty() {
            return None;
        }
        let decoded: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
        let mut script = decoded.clone();
        let mut path_info = Vec::new();
        if let Some(re) = &self.path_info {
            if decoded.contains(&b'\n') || decoded.contains(&0) {
                return None;
            }
            if let Some(caps) = re.captures(&decoded) {
                if let Some(s) = caps.get(1) {
                    script = s.as_bytes().to_vec();
                    if let Some(p) = caps.get(2) {
                        path_info = p.as_bytes().to_vec();
                    }
                }
            }
        }
        if let (Some(index), Some(b'/')) = (&self.index, script.last()) {
            script.extend_from_slice(index.as_bytes());
        }
        Some((script, path_info, query))
    }
}

/// Sends the request to the application and reads the CGI head of its answer, within
/// `timeout` (`timeout server`). The body streams from the returned response.
pub async fn exchange(
    conn: ServerConn,
    app: Arc<App>,
    params: Vec<(Vec<u8>, Vec<u8>)>,
    body: ReqBody,
    method: Method,
    timeout: Option<Duration>,
) -> Result<Response<ServerBody>, ExchangeError> {
    let work = converse(conn, app, params, body, method);
    match timeout {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .unwrap_or(Err(ExchangeError::Server(Failure::ResponseTimeout))),
        None => work.await,
    }
    .map(|r| r.map(|b| ServerBody::multiplexed(b.with_timeout(timeout))))
}

async fn converse(
    mut conn: ServerConn,
    app: Arc<App>,
    params: Vec<(Vec<u8>, Vec<u8>)>,
    mut body: ReqBody,
    method: Method,
) -> Result<Response<FcgiBody>, ExchangeError> {
    let server_gone = ExchangeError::Server(Failure::EmptyResponse);
    // The whole exchange is bounded by the caller, then the body by `FcgiBody`'s own timer.
    conn.timeout = None;
    conn.waits_on_client = false;
    if app.get_values && conn.requests == 0 {
        ask_values(&mut conn, &app).await?;
    }
    conn.requests += 1;
    conn.fastcgi = true;
    let mut wire = Vec::with_capacity(1024);
    codec::encode_begin_request(REQUEST_ID, app.keep_conn, &mut wire);
    codec::encode_params(REQUEST_ID, &params, &mut wire);
    // The request body goes as it arrives; applications such as PHP-FPM read all of it before
    // they answer.
    loop {
        match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        codec::encode_record(kind::STDIN, REQUEST_ID, &data, &mut wire);
                    }
                }
            }
            Some(Err(_)) => return Err(ExchangeError::ClientAborted),
        }
        if wire.len() >= 16 * 1024 {
            conn.write_all(&wire).await.map_err(|_| server_gone)?;
            wire.clear();
        }
    }
    codec::encode_record(kind::STDIN, REQUEST_ID, &[], &mut wire);
    conn.write_all(&wire).await.map_err(|_| server_gone)?;
    let mut reader = FcgiBody {
        conn: Some(conn),
        kept: None,
        decoder: Decoder::default(),
        ready: VecDeque::new(),
        ended: false,
        app,
        timeout: None,
        watchdog: crate::http::idle::Watchdog::default(),
    };
    // The CGI head: header lines up to an empty line, on the output stream.
    let mut head = BytesMut::new();
    let junk = ExchangeError::Server(Failure::JunkResponse);
    let (mut response, rest) = loop {
        if let Some(parsed) = parse_cgi_head(&head)? {
            break parsed;
        }
        if head.len() > MAX_HEAD {
            return Err(junk);
        }
        match std::future::poll_fn(|cx| reader.poll_data(cx)).await {
            Some(Ok(data)) => head.extend_from_slice(&data),
            Some(Err(_)) => return Err(junk),
            None if head.is_empty() => return Err(server_gone),
            None => return Err(junk),
        }
    };
    if !rest.is_empty() {
        reader.ready.push_front(rest);
    }
    // What already arrived may hold the whole answer: it is then sent with its length, as
    // HAProxy does.
    reader.drain_buffered().map_err(|_| junk)?;
    let headers = response.headers_mut();
    if !headers.contains_key(DATE) {
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
        {
            headers.insert(DATE, v);
        }
    }
    let framed = headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
    if method == Method::HEAD {
        reader.ready.clear();
    } else if reader.ended && !framed {
        let len: usize = reader.ready.iter().map(Bytes::len).sum();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    Ok(response.map(|()| reader))
}

/// Asks the application of a new connection for its values and waits for the answer (an
/// `UNKNOWN_TYPE` record will do too: the application does not know the question).
async fn ask_values(conn: &mut ServerConn, app: &App) -> Result<AppValues, ExchangeError> {
    let server_gone = ExchangeError::Server(Failure::EmptyResponse);
    let junk = ExchangeError::Server(Failure::JunkResponse);
    let mut wire = Vec::with_capacity(64);
    let mut pairs = Vec::new();
    codec::encode_pair(b"FCGI_MAX_REQS", b"", &mut pairs);
    codec::encode_pair(b"FCGI_MPXS_CONNS", b"", &mut pairs);
    codec::encode_record(kind::GET_VALUES, 0, &pairs, &mut wire);
    conn.write_all(&wire).await.map_err(|_| server_gone)?;
    let before = AppValues {
        mpxs_conns: app.mpxs_conns,
        streams: app.max_reqs,
    };
    let mut decoder = Decoder::default();
    loop {
        if let Some(record) = decoder.next_record().map_err(|_| junk)? {
            // The answer is the application's first record, and alone: anything else, or
            // anything after it, is not FastCGI as HAProxy reads it.
            let answer = match (record.id, record.kind) {
                (0, kind::GET_VALUES_RESULT) => before.answered(&record.content),
                (0, kind::UNKNOWN_TYPE) => Ok(before),
                _ => return Err(junk),
            };
            return match answer {
                Ok(values) if decoder.pending() == 0 => Ok(values),
                _ => Err(junk),
            };
        }
        let read = std::future::poll_fn(|cx| conn.poll_fill(decoder.buffer(), cx)).await;
        match read {
            Ok(0) | Err(_) => return Err(server_gone),
            Ok(_) => {}
        }
    }
}

/// The response of a CGI head and the output bytes after it; `None` while the head is
/// incomplete. As in HAProxy, a `Status: 404 Not Found` field gives the status and reason
/// (an empty reason stays empty), a `Location` field without it `302 Moved Temporarily`, and
/// a head with neither `200 OK`; the last of the two fields decides.
fn parse_cgi_head(head: &[u8]) -> Result<Option<(Response<()>, Bytes)>, ExchangeError> {
    let junk = ExchangeError::Server(Failure::JunkResponse);
    let mut slots = [httparse::EMPTY_HEADER; super::MAX_HEADERS];
    let (len, fields) = match httparse::parse_headers(head, &mut slots) {
        Ok(httparse::Status::Complete(done)) => done,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(junk),
    };
    let mut response = Response::new(());
    let mut status: Option<(StatusCode, String)> = None;
    for f in fields {
        if f.name.eq_ignore_ascii_case("status") {
            let text = std::str::from_utf8(f.value).map_err(|_| junk)?.trim();
            let (code, reason) = text.split_at(text.len().min(3));
            let code = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or(junk)?;
            status = Some((code, reason.trim().to_string()));
            continue;
        }
        if f.name.eq_ignore_ascii_case("location") {
            status = Some((StatusCode::FOUND, "Moved Temporarily".to_string()));
        }
        let name = HeaderName::from_bytes(f.name.as_bytes()).map_err(|_| junk)?;
        let value = HeaderValue::from_bytes(f.value).map_err(|_| junk)?;
        response.headers_mut().append(name, value);
    }
    if let Some((code, reason)) = status {
        *response.status_mut() = code;
        if Some(reason.as_str()) != code.canonical_reason() {
            if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(Bytes::from(reason)) {
                response.extensions_mut().insert(phrase);
            }
        }
    }
    Ok(Some((response, Bytes::copy_from_slice(&head[len..]))))
}

/// The application's output after the CGI head, read record by record as the client side
/// polls it; the end-of-request record ends it.
pub struct FcgiBody {
    conn: Option<ServerConn>,
    /// The connection, once the application ended the request and kept it open.
    kept: Option<ServerConn>,
    decoder: Decoder,
    /// Output bytes decoded and not yet handed on.
    ready: VecDeque<Bytes>,
    /// The end-of-request record came.
    ended: bool,
    app: Arc<App>,
    timeout: Option<Duration>,
    watchdog: crate::http::idle::Watchdog,
}

impl FcgiBody {
    fn with_timeout(mut self, timeout: Option<Duration>) -> FcgiBody {
        self.timeout = timeout;
        self.watchdog.restart();
        self
    }

    /// Handles one record: output is queued, error output logged, the end noted.
    fn take(&mut self, record: codec::Record) {
        if record.id != REQUEST_ID {
            return;
        }
        match record.kind {
            kind::STDOUT if !record.content.is_empty() => self.ready.push_back(record.content),
            kind::STDERR if !record.content.is_empty() => self.app.log_stderr(&record.content),
            kind::END_REQUEST => {
                self.ended = true;
                // As in HAProxy, the connection carries another request only when the
                // application was asked to keep it, completed the request (not overloaded,
                // nor refusing the role) and sent nothing more after it.
                let (_, protocol_status) = codec::decode_end_request(&record.content);
                let conn = self.conn.take();
                if self.app.keep_conn && protocol_status == 0 && self.decoder.pending() == 0 {
                    self.kept = conn;
                }
            }
            _ => {}
        }
    }

    /// Decodes the records already received, without reading.
    fn drain_buffered(&mut self) -> Result<(), codec::DecodeError> {
        while !self.ended {
            match self.decoder.next_record()? {
                Some(r) => self.take(r),
                None => break,
            }
        }
        Ok(())
    }

    /// The next output bytes; `None` at the end of the request; `Err(true)` when the
    /// application stayed silent past `timeout server`, `Err(false)` on a broken stream.
    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, bool>>> {
        loop {
            if let Some(data) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(data)));
            }
            if self.ended {
                return Poll::Ready(None);
            }
            match self.decoder.next_record() {
                Ok(Some(r)) => {
                    self.take(r);
                    continue;
                }
                Ok(None) => {}
                Err(_) => return Poll::Ready(Some(Err(false))),
            }
            let Some(conn) = self.conn.as_mut() else {
                return Poll::Ready(Some(Err(false)));
            };
            match conn.poll_fill(self.decoder.buffer(), cx) {
                Poll::Ready(Ok(0)) => {
                    // Closed before the end of the request.
                    self.conn = None;
                    return Poll::Ready(Some(Err(false)));
                }
                Poll::Ready(Ok(_)) => self.watchdog.active(),
                Poll::Ready(Err(_)) => return Poll::Ready(Some(Err(false))),
                Poll::Pending => {
                    if self.watchdog.expired(self.timeout, None, cx) {
                        return Poll::Ready(Some(Err(true)));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl FrameSource for FcgiBody {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, bool>>> {
        self.poll_data(cx).map(|d| d.map(|r| r.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.ready.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            SizeHint::with_exact(self.ready.iter().map(|b| b.len() as u64).sum())
        } else {
            SizeHint::default()
        }
    }

    fn take_idle(&mut self) -> Option<ServerConn> {
        self.kept.take().filter(|_| self.is_end_stream())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cgi_head_gives_the_status_and_keeps_the_other_fields() {
        let (r, rest) = parse_cgi_head(b"Status: 404 Not Found\r\nX-A: 1\r\n\r\nbody")
            .unwrap()
            .unwrap();
        assert_eq!(r.status(), 404);
        assert!(!r.headers().contains_key("status"));
        assert_eq!(r.headers()["x-a"], "1");
        assert_eq!(&rest[..], b"body");
        let (r, _) = parse_cgi_head(b"Content-type: text/html\n\n")
            .unwrap()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(parse_cgi_head(b"Content-type: text").unwrap().is_none());
        assert!(parse_cgi_head(b"Status: abc\r\n\r\n").is_err());
        let (r, _) = parse_cgi_head(b"Location: /x\r\n\r\n").unwrap().unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "/x");
        let reason = |r: &Response<()>| {
            r.extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .map(|p| p.as_bytes().to_vec())
        };
        assert_eq!(reason(&r), Some(b"Moved Temporarily".to_vec()));
        let (r, _) = parse_cgi_head(b"Status: 418\r\n\r\n").unwrap().unwrap();
        assert_eq!((r.status().as_u16(), reason(&r)), (418, Some(Vec::new())));
    }

    #[test]
    fn the_applications_values_say_how_many_requests_a_connection_carries() {
        let before = AppValues {
            mpxs_conns: true,
            streams: 10,
        };
        let mut content = Vec::new();
        codec::encode_pair(b"FCGI_MAX_REQS", b"5", &mut content);
        codec::encode_pair(b"FCGI_MPXS_CONNS", b"0", &mut content);
        // PHP-FPM's answer: no multiplexing, so one request at a time whatever MAX_REQS.
        assert_eq!(
            before.answered(&content),
            Ok(AppValues {
                mpxs_conns: false,
                streams: 1
            })
        );
        let mut content = Vec::new();
        codec::encode_pair(b"fcgi_mpxs_conns", b"1", &mut content);
        codec::encode_pair(b"FCGI_MAX_REQS", b"7", &mut content);
        assert_eq!(
            before.answered(&content),
            Ok(AppValues {
                mpxs_conns: true,
                streams: 7
            })
        );
        assert!(before.answered(&[0x80, 1]).is_err());
    }

    fn app(path_info: Option<&str>, index: Option<&str>) -> App {
        let mut plan = FcgiAppPlan {
            name: "php".into(),
            docroot: "/var/www".into(),
            index: index.map(String::from),
            path_info: path_info.map(String::from),
            acls: Vec::new(),
            params: Vec::new(),
            headers: Vec::new(),
            log_stderr: Vec::new(),
            keep_conn: true,
            get_values: false,
            mpxs_conns: false,
            max_reqs: 1,
        };
        plan.params.clear();
        App::compile(&plan).unwrap()
    }

    #[test]
    fn the_path_is_decoded_and_split_by_path_info_then_given_the_index() {
        let a = app(Some(r"^(/.+\.php)(/.*)?$"), Some("index.php"));
        let (s, p, q) = a.split_uri("/app/run.php/extra%20bit?x=1", None).unwrap();
        assert_eq!(
            (&s[..], &p[..], q.as_str()),
            (&b"/app/run.php"[..], &b"/extra bit"[..], "x=1")
        );
        let (s, p, _) = a.split_uri("/dir/", None).unwrap();
        assert_eq!((&s[..], &p[..]), (&b"/dir/index.php"[..], &b""[..]));
        let (s, _, _) = a.split_uri("http://h:1/x.php?y", None).unwrap();
        assert_eq!(&s[..], b"/x.php");
        assert!(a.split_uri("?only", None).is_none());
        let plain = app(None, None);
        let (s, p, _) = plain.split_uri("/a.php/b", None).unwrap();
        assert_eq!((&s[..], &p[..]), (&b"/a.php/b"[..], &b""[..]));
    }
}
