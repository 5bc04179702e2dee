//! The process-wide compression limits and zlib settings: `maxzlibmem` (with `show info`'s
//! ZlibMemUsage and MaxZlibMemUsage), `maxcompcpuusage`, `tune.zlib.windowsize` and
//! `tune.zlib.memlevel`, through real sockets. Debian's haproxy is built with libslz, which
//! has no zlib memory nor window: only the CPU limit is compared side by side.

use crate::api::ask;
use crate::harness::*;
use crate::scripted_origin::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

fn config(port: u16, origin: std::net::SocketAddr, global: &str, algo: &str) -> String {
    format!(
        "global\n{global}{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    compression algo {algo}\n    server s1 {origin}\n"
    )
}

/// A gzip-accepting request whose response the origin holds after its first half: the
/// connection and what came so far (the head at least).
fn held(port: u16) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /held?chunked=1&wait=1&size=40000 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).expect("the head arrives");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    (s, got)
}

/// Lets the origin finish every held body (a body whose first half is still on its way when
/// the gate opens waits for the next opening) and answers all each connection received.
fn finish(origin: &Scripted, streams: Vec<(TcpStream, Vec<u8>)>) -> Vec<Vec<u8>> {
    let readers: Vec<_> = streams
        .into_iter()
        .map(|(mut s, mut got)| {
            std::thread::spawn(move || {
                let _ = s.read_to_end(&mut got);
                got
            })
        })
        .collect();
    wait_until(Duration::from_secs(15), || {
        origin.gate.notify_waiters();
        readers.iter().all(|r| r.is_finished())
    });
    readers.into_iter().map(|r| r.join().unwrap()).collect()
}

fn gzipped(head: &[u8]) -> bool {
    String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("content-encoding: gzip")
}

/// `show info`'s ZlibMemUsage and MaxZlibMemUsage.
fn zlib_info(sock: &Path) -> (u64, u64) {
    let info = ask(sock, "show info\n");
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .unwrap_or_else(|| panic!("no {name} in {info}"))
            .trim()
            .parse()
            .unwrap()
    };
    (field("ZlibMemUsage"), field("MaxZlibMemUsage"))
}

/// With `maxzlibmem 1` (1 MiB), four default compressors (zlib's 2^17 + 2^17 bytes each) fit
/// and a fifth response goes out uncompressed; once they end, compression resumes.
#[test]
fn maxzlibmem_caps_the_running_compressors_and_show_info_counts_them() {
    let origin = Scripted::start();
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-zlib-{}-{port}", std::process::id()));
    let sock = dir.join("admin.sock");
    let global = format!(
        "    maxzlibmem 1\n    stats socket {} level admin\n",
        sock.display()
    );
    let _p = Proxy::start(&config(port, origin.addr, &global, "gzip"), port);
    assert_eq!(zlib_info(&sock), (0, 1 << 20));
    let mut streams: Vec<(TcpStream, Vec<u8>)> = (0..4).map(|_| held(port)).collect();
    assert!(streams.iter().all(|(_, head)| gzipped(head)));
    assert_eq!(zlib_info(&sock), (1 << 20, 1 << 20));
    let fifth = held(port);
    assert!(!gzipped(&fifth.1), "{}", String::from_utf8_lossy(&fifth.1));
    streams.push(fifth);
    for (i, got) in finish(&origin, streams).into_iter().enumerate() {
        let (status, h, body) = parse_response(&got, false);
        assert_eq!(status, 200);
        let plain = if i < 4 {
            assert_eq!(h["content-encoding"], "gzip");
            gunzip(&body).into_bytes()
        } else {
            body
        };
        assert_eq!(plain.len(), 40000, "response {i}");
    }
    assert!(
        wait_until(Duration::from_secs(5), || zlib_info(&sock).0 == 0),
        "{:?}",
        zlib_info(&sock)
    );
    let (_, h, _) = exchange(port, "/after?size=5000", &["Accept-Encoding: gzip"]);
    assert_eq!(h.get("content-encoding").map(String::as_str), Some("gzip"));
}

/// `tune.zlib.memlevel` and `tune.zlib.windowsize` reach the compressor: the memory counted
/// follows zlib's formula, the zlib header names the window, and a memory level of 1 (blocks
/// of 128 symbols) compresses the same body worse than the default.
#[test]
fn zlib_window_and_memory_level_reach_the_compressor() {
    let origin = Scripted::start();
    let body_of = |global: &str, algo: &str, encoding: &str| -> (Option<String>, Vec<u8>) {
        let port = free_port();
        let _p = Proxy::start(&config(port, origin.addr, global, algo), port);
        let (_, h, body) = exchange(
            port,
            "/w?size=40000",
            &[&format!("Accept-Encoding: {encoding}")],
        );
        (h.get("content-encoding").cloned(), body)
    };
    let inflate = |b: &[u8]| {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out.len()
    };
    // The zlib header's first byte: 8 (deflate) and the window's bits minus 8 above it.
    for (bits, first) in [("15", 0x78), ("10", 0x28), ("8", 0x18)] {
        let global = format!("    tune.zlib.windowsize {bits}\n");
        let (encoding, body) = body_of(&global, "deflate", "deflate");
        assert_eq!(encoding.as_deref(), Some("deflate"), "window {bits}");
        assert_eq!(body[0], first, "window {bits}");
        assert_eq!(inflate(&body), 40000, "window {bits}");
    }
    // zlib refuses an 8-bit window for gzip: the response goes out as it is.
    let (encoding, body) = body_of("    tune.zlib.windowsize 8\n", "gzip", "gzip");
    assert_eq!((encoding, body.len()), (None, 40000));
    // A body of varied numbers, at level 6, where deflate builds its own Huffman trees for
    // each block: blocks of 128 symbols each carry their trees.
    let numbers: String = (0..8000u32)
        .map(|i| format!("{} ", i * 7919 % 10007))
        .collect();
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{numbers}",
        numbers.len()
    );
    let varied = raw_server(
        Box::leak(reply.into_bytes().into_boxed_slice()),
        Duration::ZERO,
        Duration::ZERO,
    );
    let gzip_of = |global: &str| -> Vec<u8> {
        let port = free_port();
        let _p = Proxy::start(&config(port, varied, global, "gzip"), port);
        let (_, h, body) = exchange(port, "/n", &["Accept-Encoding: gzip"]);
        assert_eq!(h.get("content-encoding").map(String::as_str), Some("gzip"));
        body
    };
    let default = gzip_of("    tune.comp.maxlevel 6\n");
    let small = gzip_of("    tune.comp.maxlevel 6\n    tune.zlib.memlevel 1\n");
    assert_eq!(gunzip(&small), numbers);
    assert!(
        small.len() > default.len(),
        "memlevel 1: {} bytes, default: {} bytes",
        small.len(),
        default.len()
    );
    // And the memory counted for one compressor: 2^(9+2) + 2^(1+9) bytes.
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-zlib-{}-{port}", std::process::id()));
    let sock = dir.join("admin.sock");
    let global = format!(
        "    tune.zlib.memlevel 1\n    tune.zlib.windowsize 9\n    stats socket {} level admin\n",
        sock.display()
    );
    let _p = Proxy::start(&config(port, origin.addr, &global, "gzip"), port);
    let held = held(port);
    assert!(gzipped(&held.1));
    assert_eq!(zlib_info(&sock), (2048 + 1024, 0));
    let got = finish(&origin, vec![held]).remove(0);
    let (_, _, body) = parse_response(&got, false);
    assert_eq!(gunzip(&body).len(), 40000);
}

/// `maxcompcpuusage 50`: a response that follows more than half a second of work on its
/// thread (a script burning CPU) goes out uncompressed; after an idle while, compression
/// resumes. Compared with haproxy, which measures its threads' idle time the same way.
#[test]
fn above_maxcompcpuusage_new_responses_go_out_uncompressed() {
    let dir = Scratch::dir(&format!("hapee-cpu-{}", std::process::id()));
    let script = dir.join("burn.lua");
    std::fs::write(
        &script,
        "core.register_action(\"burn\", { \"http-req\" }, function(txn)\n    local t = os.clock()\n    while os.clock() - t < 1.2 do end\nend)\n",
    )
    .unwrap();
    let run = |port: u16, _: &Scripted| -> Vec<bool> {
        let gzip = |path: &str| {
            let (status, h, _) = exchange(port, path, &["Accept-Encoding: gzip"]);
            assert_eq!(status, 200);
            h.get("content-encoding").is_some_and(|e| e == "gzip")
        };
        let first = gzip("/first?size=5000");
        // The script burns 1.2 s of the proxy's CPU time, which a loaded machine may stretch
        // well past `exchange`'s 10 s read limit: this one waits up to a minute.
        let burnt = {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            s.write_all(b"GET /burn?size=5000 HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n")
                .unwrap();
            let mut raw = Vec::new();
            let _ = s.read_to_end(&mut raw);
            let (status, h, _) = parse_response(&raw, false);
            assert_eq!(status, 200);
            h.get("content-encoding").is_some_and(|e| e == "gzip")
        };
        let mut seen = vec![first, burnt];
        std::thread::sleep(Duration::from_millis(1500));
        seen.push(gzip("/later?size=5000"));
        seen
    };
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| {
            format!(
                "global\n    nbthread 1\n    maxcompcpuusage 50\n    lua-load {}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request lua.burn if {{ path_beg /burn }}\n    default_backend be\nbackend be\n    compression algo gzip\n    server s1 {}\n",
                script.display(),
                origin.addr
            )
        },
        run,
    );
    assert_eq!(ours, [true, false, true]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
