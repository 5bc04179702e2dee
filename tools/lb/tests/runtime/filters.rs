//! The HTTP cache and compression: real origins whose responses the test scripts, a real
//! proxy, curl and raw sockets; where Debian's haproxy runs the same configuration, the same
//! requests must give the same answers.

use crate::harness::*;
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

type OriginBody = http_body_util::Either<Full<Bytes>, Streamed>;

/// A body the origin sends as its pieces come (chunked on the wire).
struct Streamed(tokio::sync::mpsc::Receiver<Bytes>);

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
struct Scripted {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    /// What the requests carried, by request number (header name → value).
    seen: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// Streamed bodies wait here for the test to let them finish.
    gate: Arc<tokio::sync::Notify>,
    _rt: tokio::runtime::Runtime,
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
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
    fn start() -> Scripted {
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

    fn hits(&self) -> usize {
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
fn exchange(port: u16, path: &str, headers: &[&str]) -> (u16, HashMap<String, String>, Vec<u8>) {
    exchange_method(port, "GET", path, headers)
}

fn exchange_method(
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

fn raw_bytes(port: u16, request: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn parse_response(raw: &[u8], head_only: bool) -> (u16, HashMap<String, String>, Vec<u8>) {
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

fn dechunk(mut b: &[u8]) -> Vec<u8> {
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

fn gunzip(b: &[u8]) -> String {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut s)
        .expect("a gzip body");
    s
}

const CACHE_SECTION: &str = "cache c1
    total-max-size 4
    max-age 20
    max-object-size 100000
";

fn cache_config(port: u16, origin: SocketAddr, extra: &str, cache: &str) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    http-request cache-use c1
    server s1 {origin}
    http-response cache-store c1
    http-response set-header X-Cache-Hit %[res.cache_hit]
    http-response set-header X-Cache-Name %[res.cache_name]
{extra}
{cache}"
    )
}

/// Two identical requests for `path` (with `headers`): whether the second came from the
/// cache, by the origin's count.
fn second_is_cached(port: u16, origin: &Scripted, path: &str, headers: &[&str]) -> bool {
    let before = origin.hits();
    exchange(port, path, headers);
    exchange(port, path, headers);
    origin.hits() - before == 1
}

/// What is cached, and what not, as the cases go: hapee, then Debian's haproxy on the same
/// configuration, must agree on every case.
#[test]
fn what_is_cached_follows_haproxys_rules() {
    let cases: &[(&str, &[&str], bool)] = &[
        ("/a?h=cache-control:max-age%3D60", &[], true),
        ("/b?h=cache-control:no-cache", &[], false),
        ("/c?h=cache-control:private", &[], false),
        ("/d?h=cache-control:no-store", &[], false),
        ("/e?h=cache-control:max-age%3D60&status=201", &[], false),
        (
            "/f?h=cache-control:max-age%3D60",
            &["Authorization: Basic eDp5"],
            false,
        ),
        (
            "/g?h=cache-control:max-age%3D60&h=vary:accept-encoding",
            &[],
            false,
        ),
        ("/h?h=etag:%22v1%22", &[], true),
        (
            "/i?h=cache-control:max-age%3D60",
            &["Cache-Control: no-cache"],
            false,
        ),
        (
            "/j?h=cache-control:max-age%3D60&h=pragma:no-cache",
            &[],
            false,
        ),
        ("/k?h=cache-control:max-age%3D60&h=age:100", &[], false),
        ("/l?h=cache-control:max-age%3D60&size=200000", &[], false),
        (
            "/m?h=cache-control:max-age%3D60&chunked=1&size=3000",
            &[],
            true,
        ),
        (
            "/n?h=cache-control:max-age%3D60",
            &["Pragma: no-cache"],
            false,
        ),
        (
            "/o?h=expires:Thu,%2001%20Jan%201970%2000:00:00%20GMT",
            &[],
            false,
        ),
        ("/p", &[], false),
        (
            "/q?h=last-modified:Thu,%2001%20Jan%201970%2000:00:00%20GMT",
            &[],
            true,
        ),
        (
            "/r?h=cache-control:max-age%3D60&h=set-cookie:a%3Db",
            &[],
            true,
        ),
        (
            "/s?h=cache-control:max-age%3D60,%20no-cache%3D%22set-cookie%22",
            &[],
            false,
        ),
    ];
    let run = |port: u16, origin: &Scripted| -> Vec<bool> {
        cases
            .iter()
            .map(|(path, headers, _)| second_is_cached(port, origin, path, headers))
            .collect()
    };
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&cache_config(port, origin.addr, "", CACHE_SECTION), port);
    let ours = run(port, &origin);
    let expected: Vec<bool> = cases.iter().map(|c| c.2).collect();
    assert_eq!(ours, expected, "{cases:?}");
    let theirs_origin = Scripted::start();
    if let Some((theirs, _)) = with_haproxy(
        |port| cache_config(port, theirs_origin.addr, "", CACHE_SECTION),
        |port| run(port, &theirs_origin),
    ) {
        assert_eq!(ours, theirs, "hapee and haproxy disagree on {cases:?}");
    }
}

/// `res.cache_hit` and `res.cache_name` on a miss then a hit, as HAProxy renders them.
#[test]
fn the_cache_fetches_render_as_haproxys() {
    let drive = |port: u16| -> Vec<(Option<String>, Option<String>)> {
        (0..2)
            .map(|_| {
                let (_, h, _) = exchange(port, "/fetch?h=cache-control:max-age%3D60", &[]);
                (
                    h.get("x-cache-hit").cloned(),
                    h.get("x-cache-name").cloned(),
                )
            })
            .collect()
    };
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&cache_config(port, origin.addr, "", CACHE_SECTION), port);
    let ours = drive(port);
    assert_eq!(ours[1], (Some("1".into()), Some("c1".into())));
    assert_eq!(ours[0].0.as_deref(), Some("0"));
    let theirs_origin = Scripted::start();
    if let Some((theirs, _)) = with_haproxy(
        |port| cache_config(port, theirs_origin.addr, "", CACHE_SECTION),
        drive,
    ) {
        assert_eq!(ours, theirs);
    }
}

/// A request that skips the lookup (`Cache-Control: no-cache`) still fills the cache, as in
/// HAProxy; one with `no-store` does not.
#[test]
fn a_request_that_skips_the_lookup_still_fills_the_cache() {
    let drive = |port: u16, origin: &Scripted| -> usize {
        let path = "/skip?h=cache-control:max-age%3D60";
        exchange(port, path, &["Cache-Control: no-cache"]);
        exchange(port, path, &[]);
        exchange(port, path, &[]);
        let other = "/nostore?h=cache-control:max-age%3D60";
        exchange(port, other, &["Cache-Control: no-store"]);
        exchange(port, other, &[]);
        origin.hits()
    };
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&cache_config(port, origin.addr, "", CACHE_SECTION), port);
    let ours = drive(port, &origin);
    assert_eq!(ours, 3);
    let theirs_origin = Scripted::start();
    if let Some((theirs, _)) = with_haproxy(
        |port| cache_config(port, theirs_origin.addr, "", CACHE_SECTION),
        |port| drive(port, &theirs_origin),
    ) {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn hits_carry_age_and_the_cache_fetches_and_a_post_invalidates() {
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&cache_config(port, origin.addr, "", CACHE_SECTION), port);
    let path = "/obj?h=cache-control:max-age%3D60&h=etag:%22e1%22";
    let (s1, h1, b1) = exchange(port, path, &[]);
    assert_eq!((s1, h1["x-cache-hit"].as_str()), (200, "0"));
    let (s2, h2, b2) = exchange(port, path, &[]);
    assert_eq!(s2, 200);
    assert_eq!(b1, b2, "the stored body");
    assert_eq!(h2["x-cache-hit"], "1");
    assert_eq!(h2["x-cache-name"], "c1");
    assert!(h2["age"].parse::<u32>().is_ok(), "{h2:?}");
    assert_eq!(h2["etag"], "\"e1\"");
    assert_eq!(origin.hits(), 1);
    // Conditional requests are answered 304 from the cache.
    let (s3, h3, b3) = exchange(port, path, &["If-None-Match: \"e1\""]);
    assert_eq!((s3, b3.len()), (304, 0), "{h3:?}");
    let (s4, _, _) = exchange(port, path, &["If-None-Match: \"other\""]);
    assert_eq!(s4, 200);
    let (s5, _, _) = exchange(
        port,
        path,
        &["If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT"],
    );
    assert_eq!(s5, 304);
    assert_eq!(origin.hits(), 1);
    // A HEAD is answered from the cache too, without a body.
    let (s6, h6, _) = exchange_method(port, "HEAD", path, &[]);
    assert_eq!((s6, h6["x-cache-hit"].as_str()), (200, "1"));
    // A successful POST to the URL drops what is stored for it.
    let (s7, _, _) = exchange_method(port, "POST", path, &["Content-Length: 0"]);
    assert_eq!(s7, 200);
    let before = origin.hits();
    let (_, h8, _) = exchange(port, path, &[]);
    assert_eq!(h8["x-cache-hit"], "0");
    assert_eq!(origin.hits(), before + 1);
}

#[test]
fn show_cache_lists_caches_and_entries() {
    let origin = Scripted::start();
    let port = free_port();
    let api = free_port();
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{api} level admin\n{}",
        cache_config(port, origin.addr, "", CACHE_SECTION)
    );
    let _p = Proxy::start(&cfg, port);
    exchange(port, "/listed?h=cache-control:max-age%3D60", &[]);
    let out = raw(api, b"show cache\n", Duration::from_secs(5));
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.contains(": c1 (shctx:") && first.contains("available blocks:"),
        "{out}"
    );
    let entry = lines.next().unwrap_or_default();
    let re = regex::Regex::new(
        r"^0x[0-9a-f]+ hash:\d+ vary:0x[0-9a-f]{40} size:\d+ \(\d+ blocks\), refcount:1, expire:(\d+)$",
    )
    .unwrap();
    let caps = re.captures(entry).unwrap_or_else(|| panic!("{out}"));
    let expire: u32 = caps[1].parse().unwrap();
    assert!(
        (15..=20).contains(&expire),
        "max-age 20 caps the entry: {out}"
    );
}

#[test]
fn vary_on_accept_encoding_keeps_one_variant_per_encoding() {
    let section = format!("{CACHE_SECTION}    process-vary on\n");
    let drive = |port: u16, origin: &Scripted| -> Vec<(String, usize)> {
        let gz = "/v?h=cache-control:max-age%3D60&h=vary:accept-encoding&h=content-encoding:gzip";
        let mut seen = Vec::new();
        for headers in [
            &["Accept-Encoding: gzip"][..],
            &["Accept-Encoding: br, gzip;q=0.5"][..],
            &["Accept-Encoding: br"][..],
            &["Accept-Encoding: deflate, gzip"][..],
        ] {
            let (_, h, _) = exchange(port, gz, headers);
            seen.push((h["x-cache-hit"].clone(), origin.hits()));
        }
        seen
    };
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&cache_config(port, origin.addr, "", &section), port);
    let ours = drive(port, &origin);
    assert_eq!(
        ours,
        [
            ("0".to_string(), 1),
            ("1".to_string(), 1),
            ("0".to_string(), 2),
            ("1".to_string(), 2)
        ]
    );
    let theirs_origin = Scripted::start();
    if let Some((theirs, _)) = with_haproxy(
        |port| cache_config(port, theirs_origin.addr, "", &section),
        |port| drive(port, &theirs_origin),
    ) {
        assert_eq!(ours, theirs);
    }
}

fn compression_config(port: u16, origin: SocketAddr, settings: &str) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
{settings}
    server s1 {origin}
"
    )
}

/// The headers compression changes, and whether the body came compressed.
/// A response's status, the headers compression changes, and whether its body is gzip.
type CompressionView = (u16, Vec<(String, String)>, bool);

fn compression_view(port: u16, path: &str, headers: &[&str]) -> CompressionView {
    let (status, h, body) = exchange(port, path, headers);
    let mut shown: Vec<(String, String)> = ["content-encoding", "vary", "etag", "content-length"]
        .iter()
        .filter_map(|n| h.get(*n).map(|v| (n.to_string(), v.clone())))
        .collect();
    // The compressed length depends on the deflate implementation: only its presence counts.
    for (n, v) in &mut shown {
        if n == "content-length" && h.contains_key("content-encoding") {
            *v = "present".into();
        }
    }
    let gzip = body.starts_with(&[0x1f, 0x8b]);
    (status, shown, gzip)
}

#[test]
fn compression_applies_where_haproxy_compresses_and_rewrites_the_same_headers() {
    let settings = "    compression algo gzip\n    compression type text/plain text/html";
    let cases: &[(&str, &[&str])] = &[
        (
            "/1?h=content-type:text/plain&h=etag:%22t1%22&size=5000",
            &["Accept-Encoding: gzip"],
        ),
        (
            "/2?h=content-type:text/plain&chunked=1&size=5000",
            &["Accept-Encoding: deflate;q=0.5, gzip"],
        ),
        (
            "/3?h=content-type:image/png&size=5000",
            &["Accept-Encoding: gzip"],
        ),
        ("/4?h=content-type:text/plain&size=5000", &[]),
        (
            "/5?h=content-type:text/plain&size=5000",
            &["Accept-Encoding: gzip;q=0"],
        ),
        (
            "/6?h=content-type:text/plain&h=cache-control:no-transform&size=5000",
            &["Accept-Encoding: gzip"],
        ),
        (
            "/7?h=content-type:text/plain&h=content-encoding:br&size=5000",
            &["Accept-Encoding: gzip"],
        ),
        (
            "/8?h=content-type:text/plain&status=201&size=5000",
            &["Accept-Encoding: gzip"],
        ),
        (
            "/9?h=content-type:text/plain&status=404&size=5000",
            &["Accept-Encoding: gzip"],
        ),
        (
            "/10?h=content-type:text/plain&h=etag:W/%22w%22&size=5000",
            &["Accept-Encoding: *"],
        ),
        (
            "/11?h=content-type:text/plain&h=etag:bad&size=5000",
            &["Accept-Encoding: gzip"],
        ),
        (
            "/12?h=content-type:text/plain&size=5000",
            &[
                "Accept-Encoding: gzip",
                "User-Agent: Mozilla/4.0 (compatible)",
            ],
        ),
    ];
    let run = |port: u16| -> Vec<CompressionView> {
        cases
            .iter()
            .map(|(path, headers)| compression_view(port, path, headers))
            .collect()
    };
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&compression_config(port, origin.addr, settings), port);
    let ours = run(port);
    let compressed: Vec<bool> = ours.iter().map(|c| c.2).collect();
    assert_eq!(
        compressed,
        [true, true, false, false, false, false, false, true, false, true, false, false],
        "{ours:#?}"
    );
    let first = &ours[0].1;
    assert!(
        first.contains(&("etag".into(), "W/\"t1\"".into())),
        "{first:?}"
    );
    assert!(
        first.contains(&("vary".into(), "Accept-Encoding".into())),
        "{first:?}"
    );
    let theirs_origin = Scripted::start();
    if let Some((theirs, _)) = with_haproxy(
        |port| compression_config(port, theirs_origin.addr, settings),
        run,
    ) {
        assert_eq!(ours, theirs, "hapee then haproxy");
    }
}

#[test]
fn curl_compressed_gets_the_origins_bytes_back() {
    if !have_tool("curl", "--version") {
        return;
    }
    let origin = Scripted::start();
    let port = free_port();
    let settings = "    compression algo raw-deflate deflate gzip\n    compression offload";
    let _p = Proxy::start(&compression_config(port, origin.addr, settings), port);
    let url = format!("http://127.0.0.1:{port}/c?size=20000&chunked=1");
    let (code, body) = curl(&["--compressed", &url]);
    assert_eq!(code, 200);
    assert_eq!(body.len(), 20000);
    assert!(body.starts_with("request 1\n"), "{}", &body[..20]);
    // With offload, the server never sees what the client accepts.
    let seen = origin.seen.lock().unwrap();
    assert!(!seen[0].contains_key("accept-encoding"), "{:?}", seen[0]);
    drop(seen);
    let (_, h, raw) = exchange(port, "/d?size=3000", &["Accept-Encoding: deflate"]);
    assert_eq!(h["content-encoding"], "deflate");
    // The first algorithm the client accepts among those configured: raw deflate.
    let mut plain = String::new();
    use std::io::Read;
    flate2::read::DeflateDecoder::new(&raw[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert_eq!(plain.len(), 3000);
}

/// The compressed body streams: its first bytes reach the client while the origin still
/// holds the rest back (it sends the rest only when the test has seen them).
#[test]
fn compression_streams_without_waiting_for_the_whole_body() {
    use std::io::{Read, Write};
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(
        &compression_config(port, origin.addr, "    compression algo gzip"),
        port,
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /s?chunked=1&wait=1&size=40000 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    // Read until the head and some compressed bytes are in.
    while !got.windows(4).any(|w| w == b"\r\n\r\n") || got.len() < 200 {
        let n = s
            .read(&mut buf)
            .expect("the first half arrives before the origin ends");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    origin.gate.notify_one();
    let _ = s.read_to_end(&mut got);
    let (status, h, body) = parse_response(&got, false);
    assert_eq!((status, h["content-encoding"].as_str()), (200, "gzip"));
    assert_eq!(gunzip(&body).len(), 40000);
}

/// The cache stores what the server sent; compression (after it) compresses hits as well as
/// misses, for the clients that accept it.
#[test]
fn cache_then_compression_serve_each_client_its_encoding() {
    let origin = Scripted::start();
    let port = free_port();
    let extra = "    compression algo gzip\n    compression type text/plain";
    let _p = Proxy::start(&cache_config(port, origin.addr, extra, CACHE_SECTION), port);
    let path = "/cc?h=cache-control:max-age%3D60&h=content-type:text/plain&size=4000";
    let (_, h1, b1) = exchange(port, path, &["Accept-Encoding: gzip"]);
    assert_eq!(h1["content-encoding"], "gzip");
    let plain1 = gunzip(&b1);
    let (_, h2, b2) = exchange(port, path, &[]);
    assert_eq!(h2["x-cache-hit"], "1");
    assert!(!h2.contains_key("content-encoding"));
    assert_eq!(String::from_utf8_lossy(&b2), plain1);
    let (_, h3, b3) = exchange(port, path, &["Accept-Encoding: gzip"]);
    assert_eq!(
        (h3["x-cache-hit"].as_str(), h3["content-encoding"].as_str()),
        ("1", "gzip")
    );
    assert_eq!(gunzip(&b3), plain1);
    assert_eq!(origin.hits(), 1);
}

/// Compression in the frontend runs before the backend's cache: HAProxy then keeps nothing in
/// the cache for compressed responses.
#[test]
fn a_compressing_frontend_keeps_the_backends_cache_out() {
    let origin = Scripted::start();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    compression algo gzip
    default_backend be
backend be
    http-request cache-use c1
    server s1 {}
    http-response cache-store c1
{CACHE_SECTION}",
        origin.addr
    );
    let _p = Proxy::start(&cfg, port);
    let path = "/f?h=cache-control:max-age%3D60&size=4000";
    assert!(!second_is_cached(
        port,
        &origin,
        path,
        &["Accept-Encoding: gzip"]
    ));
    assert!(second_is_cached(
        port,
        &origin,
        "/g?h=cache-control:max-age%3D60",
        &[]
    ));
}

/// An `Expires` set by a rule (`date` and `http_date`, as in HAProxy's own cache tests) gives
/// the freshness: in the future the response is served from the cache, in the past it is not.
#[test]
fn an_expires_set_by_a_rule_decides_freshness() {
    let cfg = |port: u16, origin: SocketAddr| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    use_backend past if {{ path_beg /past }}
    default_backend future
backend future
    http-request cache-use c1
    server s1 {origin}
    http-response set-header Expires %[date(5),http_date]
    http-response cache-store c1
backend past
    http-request cache-use c1
    server s1 {origin}
    http-response set-header Expires %[date(-1),http_date]
    http-response cache-store c1
{CACHE_SECTION}"
        )
    };
    let drive = |port: u16, origin: &Scripted| -> (bool, bool, bool) {
        let (_, h, _) = exchange(port, "/future/x", &[]);
        let parsed = h
            .get("expires")
            .is_some_and(|e| httpdate::parse_http_date(e).is_ok());
        (
            parsed,
            second_is_cached(port, origin, "/future/y", &[]),
            second_is_cached(port, origin, "/past/z", &[]),
        )
    };
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&cfg(port, origin.addr), port);
    let ours = drive(port, &origin);
    assert_eq!(ours, (true, true, false));
    let theirs_origin = Scripted::start();
    if let Some((theirs, _)) = with_haproxy(
        |port| cfg(port, theirs_origin.addr),
        |port| drive(port, &theirs_origin),
    ) {
        assert_eq!(ours, theirs);
    }
}
