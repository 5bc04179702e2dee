//! `txn.http:req_set_header` and `res_set_header` edit a head as HAProxy does: the old lines
//! go and the new one comes after all the others (not in the old one's place), and
//! `*_add_header` adds after all the others too, even beside a name already present; the
//! origin and the client see that order. Side by side with Debian's haproxy.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

const SCRIPT: &str = r#"
core.register_action("edit_req", { "http-req" }, function(txn)
  txn.http:req_set_header("x-a", "new")
  txn.http:req_add_header("x-b", "2")
end)
core.register_action("edit_res", { "http-res" }, function(txn)
  txn.http:res_set_header("x-a", "new")
  txn.http:res_add_header("x-b", "2")
end)
"#;

/// A server that answers each request with the names and values of its header lines, in the
/// order they came, and its own head with `x-a`, `x-b` and `x-c` in that order.
fn head_echo() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let lines: Vec<&str> = text
                    .lines()
                    .skip(1)
                    .filter(|l| l.starts_with("x-"))
                    .collect();
                let body = lines.join(",");
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nx-a: old\r\nx-b: 1\r\nx-c: c\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(answer.as_bytes());
            });
        }
    });
    addr
}

fn config(port: u16, origin: SocketAddr, script: &std::path::Path) -> String {
    format!(
        "global
    lua-load {}
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request lua.edit_req
    http-response lua.edit_res
    default_backend app
backend app
    server s1 {origin}
",
        script.display()
    )
}

/// The `x-` lines of the answer's head, in order, and its body (what the origin saw).
fn exchange(port: u16) -> (Vec<String>, String) {
    let answer = send_and_read(
        port,
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: old\r\nX-B: 1\r\nX-C: c\r\nConnection: close\r\n\r\n",
    );
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let lines = head
        .lines()
        .map(str::to_ascii_lowercase)
        .filter(|l| l.starts_with("x-"))
        .collect();
    (lines, body.to_string())
}

#[test]
fn lua_set_header_puts_the_new_line_last_as_haproxy_does() {
    let dir = Scratch::dir(&format!("hapee-lua-hdr-order-{}", std::process::id()));
    let script = dir.join("edit.lua");
    std::fs::write(&script, SCRIPT).unwrap();
    let origin = head_echo();
    let (mine, theirs) = both(|port| config(port, origin, &script), exchange);
    assert_eq!(
        mine,
        (
            vec![
                "x-b: 1".to_string(),
                "x-c: c".to_string(),
                "x-a: new".to_string(),
                "x-b: 2".to_string(),
            ],
            "x-b: 1,x-c: c,x-a: new,x-b: 2".to_string()
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
