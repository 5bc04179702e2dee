//! HTTP/2 clients people use beyond curl and nghttp, against hapee and HAProxy on the same
//! configuration: Python's httpx, and the h2 library driven for legal but unusual client
//! behaviours (`:authority` and `Host` that differ, a PRIORITY storm, a zero header table, a
//! small stream window), from `testdata/h2/h2_client.py`; and `curl --compressed` over
//! HTTP/2 through a compressing frontend.

use crate::harness::*;
use crate::tls::have;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn has_python_h2() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import h2, httpx"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "httpx and h2 are missing; .ci/run installs them"
        );
        eprintln!("SKIP: httpx/h2 are not installed (pip install 'httpx[http2]')");
    }
    ok
}

fn h2_client(port: u16) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/h2/h2_client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn python_http2_clients_are_served_as_haproxy_serves_them() {
    if !has_python_h2() {
        return;
    }
    let origin = Origin::start("o");
    let big: Vec<u8> = [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n"[..],
        &[b'b'; 1_000_000][..],
    ]
    .concat();
    let big = raw_server(
        Box::leak(big.into_boxed_slice()),
        Duration::ZERO,
        Duration::ZERO,
    );
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} proto h2
    use_backend big if {{ path /big }}
    default_backend app
backend app
    server s1 {}
backend big
    server s1 {big}
",
            origin.addr
        )
    };
    let (mine, debian) = both(cfg, h2_client);
    // The first line names the port the client used; the others are the same on each side.
    assert!(
        mine[0].starts_with("httpx-get 200 HTTP/2 host=127.0.0.1:"),
        "{mine:?}"
    );
    assert_eq!(
        mine[1..],
        [
            "httpx-post 200 body=100000",
            // HAProxy takes `:authority` over the Host field.
            "authority-and-host 200 host=a.example",
            "priority-storm 200 host=t.example",
            "header-table-0 200 200 200",
            "small-window 200 1000000",
        ]
    );
    if let Some(theirs) = debian {
        assert_eq!(theirs[1..], mine[1..]);
    }
    if let Some((theirs, _)) = with_haproxy_27(cfg, h2_client) {
        assert_eq!(theirs[1..], mine[1..]);
    }
}

/// The response head's field names `curl --compressed` gets over HTTP/2.
fn compressed_h2_names(port: u16) -> Vec<String> {
    let out = Command::new("curl")
        .args(["-s", "--http2-prior-knowledge", "--compressed", "-D", "-"])
        .args(["-o", "/dev/null", "--max-time", "20"])
        .arg(format!("http://127.0.0.1:{port}/c"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("HTTP/2 200"), "{text}");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect()
}

#[test]
fn a_compressed_http2_answer_says_vary_before_its_encoding() {
    if !have("curl", &["--version"]) {
        return;
    }
    let reply: Vec<u8> = [
        &b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2000\r\nX-After: 1\r\n\r\n"[..],
        &[b'x'; 2000][..],
    ]
    .concat();
    let server = raw_server(
        Box::leak(reply.into_boxed_slice()),
        Duration::ZERO,
        Duration::ZERO,
    );
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port} proto h2\n    compression algo gzip\n    compression type text/plain\n    default_backend app\nbackend app\n    server s1 {server}\n"
        )
    };
    let (mine, debian) = both(cfg, compressed_h2_names);
    // The server's Content-Length goes (and the chunking HTTP/1 would say): Vary, then the
    // encoding, are added after the server's own fields.
    assert_eq!(
        mine,
        ["content-type", "x-after", "vary", "content-encoding"]
    );
    if let Some(theirs) = debian {
        assert_eq!(theirs, mine);
    }
    if let Some((theirs, _)) = with_haproxy_27(cfg, compressed_h2_names) {
        assert_eq!(theirs, mine);
    }
}
