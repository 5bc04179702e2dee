//! An HTTP origin whose answers each test describes in the request's query string, and the
//! raw-socket client helpers the cache and compression tests read its answers with.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) type OriginBody = http_body_util::Either<Full<Bytes>, Streamed>;

/// A body the origin sends as its pieces come (chunked on the wire).
pub(crate) struct Streamed(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for Streamed {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// An origin whose answers the test describes per path: the query string gives the status
/// (`status`), headers (`h=name:value`, repeatable), the body size (`size`, default 64), and
/// whether the body is sent chunked (`chunked=1`). Each answer's body starts with the number
/// of the request, so that a cached answer can be told from a fresh one.
pub(crate) struct Scripted {
    pub(crate) addr: SocketAddr,
    pub(crate) hits: Arc<AtomicUsize>,
    /// What the requests carried, by request number (header name → value).
    pub(crate) seen: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// Streamed bodies wait here for the test to let them finish.
    pub(crate) gate: Arc<tokio::sync::Notify>,
    _rt: tokio::runtime::Runtime,
}

pub(crate) fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Scripted {
    pub(crate) fn start() -> Scripted {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Notify::new());
        let (h, s, g) = (hits.clone(), seen.clone(), gate.clone());
        rt.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (h, s, g) = (h.clone(), s.clone(), g.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let n = h.fetch_add(1, Ordering::SeqCst) + 1;
                        s.lock().unwrap().push(
                            req.headers()
                                .iter()
                                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect(),
                        );
                        let g = g.clone();
                        async move { Ok::<_, std::convert::Infallible>(answer(n, req, g)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Scripted {
            addr,
            hits,
            seen,
            gate,
            _rt: rt,
        }
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn answer(
    n: usize,
    req: Request<Incoming>,
    gate: Arc<tokio::sync::Notify>,
) -> Response<OriginBody> {
    let pairs = query_pairs(req.uri().query().unwrap_or(""));
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let size: usize = get("size").and_then(|s| s.parse().ok()).unwrap_or(64);
    let mut body = format!("request {n}\n").into_bytes();
    let filler = b"the quick brown fox jumps over the lazy dog ";
    while body.len() < size {
        body.push(filler[body.len() % filler.len()]);
    }
    body.truncate(size.max(10));
    let mut resp =
        Response::builder().status(get("status").and_then(|s| s.parse().ok()).unwrap_or(200u16));
    for (_, v) in pairs.iter().filter(|(k, _)| k == "h") {
        if let Some((name, value)) = v.split_once(':') {
            resp = resp.header(name.trim(), value.trim());
        }
    }
    if get("chunked").is_some() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let half = body.len() / 2;
        let (first, second) = (
            Bytes::copy_from_slice(&body[..half]),
            Bytes::copy_from_slice(&body[half..]),
        );
        let wait = get("wait").is_some();
        tokio::spawn(async move {
            let _ = tx.send(first).await;
            if wait {
                gate.notified().await;
            }
            let _ = tx.send(second).await;
        });
        return resp
            .body(http_body_util::Either::Right(Streamed(rx)))
            .unwrap();
    }
    resp.body(http_body_util::Either::Left(Full::new(Bytes::from(body))))
        .unwrap()
}

/// A raw HTTP/1.1 exchange on a new connection: the status, the headers (lowercase names) and
/// the body (de-chunked).
pub(crate) fn exchange(
    port: u16,
    path: &str,
    headers: &[&str],
) -> (u16, HashMap<String, String>, Vec<u8>) {
    exchange_method(port, "GET", path, headers)
}

pub(crate) fn exchange_method(
    port: u16,
    method: &str,
    path: &str,
    headers: &[&str],
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    let raw = raw_bytes(port, req.as_bytes());
    parse_response(&raw, method == "HEAD")
}

pub(crate) fn raw_bytes(port: u16, request: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

pub(crate) fn parse_response(
    raw: &[u8],
    head_only: bool,
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers: HashMap<String, String> = HashMap::new();
    for l in lines {
        if let Some((n, v)) = l.split_once(':') {
            let n = n.trim().to_ascii_lowercase();
            let v = v.trim().to_string();
            headers
                .entry(n)
                .and_modify(|old| {
                    old.push_str(", ");
                    old.push_str(&v);
                })
                .or_insert(v);
        }
    }
    let mut body = raw[split + 4..].to_vec();
    if head_only || status == 304 || status == 204 {
        body.clear();
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        body = dechunk(&body);
    }
    (status, headers, body)
}

pub(crate) fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

pub(crate) fn gunzip(b: &[u8]) -> String {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut s)
        .expect("a gzip body");
    s
}
