//! HTTP compression (`compression`, `filter compression`): real origins whose responses the
//! test scripts, a real proxy, curl and raw sockets; where Debian's haproxy runs the same
//! configuration, the same requests must give the same answers.

use crate::filters::{cache_config, second_is_cached, CACHE_SECTION};
use crate::harness::*;
use crate::scripted_origin::*;
use std::net::SocketAddr;
use std::time::Duration;

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
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| compression_config(port, origin.addr, settings),
        |port, _| run(port),
    );
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
    if let Some(theirs) = theirs {
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

#[test]
fn above_maxcomprate_responses_go_out_uncompressed_until_the_rate_falls() {
    // 1 kB/s: the first response's 5000 bytes put the rate above it for the next one.
    let settings = "    compression algo gzip\n    compression type text/plain";
    let path = "/r?h=content-type:text/plain&size=5000";
    let run = |port: u16| -> Vec<CompressionView> {
        let mut seen = vec![
            compression_view(port, path, &["Accept-Encoding: gzip"]),
            compression_view(port, path, &["Accept-Encoding: gzip"]),
        ];
        // Two seconds on, the last second compressed nothing.
        std::thread::sleep(Duration::from_millis(2100));
        seen.push(compression_view(port, path, &["Accept-Encoding: gzip"]));
        seen
    };
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| {
            format!(
                "global\n    maxcomprate 1\n{}",
                compression_config(port, origin.addr, settings)
            )
        },
        |port, _| run(port),
    );
    let compressed: Vec<bool> = ours.iter().map(|c| c.2).collect();
    assert_eq!(compressed, [true, false, true], "{ours:?}");
    // Uncompressed, the response keeps its length and gains no Vary.
    assert!(ours[1]
        .1
        .contains(&("content-length".into(), "5000".into())));
    assert!(!ours[1].1.iter().any(|(n, _)| n == "vary"));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
