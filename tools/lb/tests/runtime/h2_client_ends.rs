//! How an HTTP/2 client's stream ends when the client leaves in the middle of its upload, as
//! HAProxy logs it: the connection closed with a FIN (after a GOAWAY, or without one) is an
//! input that ended early (`CH`, a 400 queued for no one and counted), a reset stream or a
//! reset connection an error (`CD`, no status, no bytes); in each case the connection is
//! still counted open in the line, as HAProxy's session outlives its streams. The frames are
//! written by the test: no packaged client leaves mid-upload in a chosen way.

use crate::h2_wire::{frame, literal};
use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How the client leaves.
#[derive(Clone, Copy, Debug)]
enum Leave {
    /// GOAWAY, then a FIN once it read what the proxy sent.
    GoawayThenClose,
    /// A FIN once it read what the proxy sent.
    Close,
    /// RST_STREAM (CANCEL), then a FIN.
    ResetStream,
    /// A TCP reset (linger 0).
    ResetConnection,
}

/// POSTs 10 kB of a 100 kB body on stream 1, then leaves as `leave` says.
fn leave_mid_upload(port: u16, leave: Leave) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(4, 0, 0, &[]));
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "t"),
        (":path", "/upload"),
        ("content-length", "100000"),
    ] {
        literal(&mut block, name, value);
    }
    out.extend(frame(1, 0x4, 1, &block));
    out.extend(frame(0, 0, 1, &[b'u'; 10_000]));
    s.write_all(&out).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    match leave {
        Leave::GoawayThenClose => s.write_all(&frame(7, 0, 0, &[0; 8])).unwrap(),
        Leave::ResetStream => s.write_all(&frame(3, 0, 1, &8u32.to_be_bytes())).unwrap(),
        Leave::ResetConnection => {
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            return;
        }
        Leave::Close => {}
    }
    // Everything the proxy sent is read first, so that the close is a FIN, not a reset.
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 65536];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

/// The end of each `/upload` line: status, bytes, cookies, termination state and counts.
fn upload_ends(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("/upload"))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let at = fields.iter().position(|f| f.starts_with('"'))?;
            Some(fields.get(at.checked_sub(7)?..at)?.join(" "))
        })
        .collect()
}

#[test]
fn an_http2_client_leaving_mid_upload_is_logged_as_haproxy_logs_it() {
    let server = silent_server();
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog\n{}",
            fe_to_app(port, "", server)
                .replace(&format!("{port}\n"), &format!("{port} proto h2\n"))
        )
    };
    let leaves = [
        Leave::GoawayThenClose,
        Leave::Close,
        Leave::ResetStream,
        Leave::ResetConnection,
    ];
    // One client at a time: each line is written before the next client comes.
    let drive = |port: u16, side: &Side| {
        for (n, leave) in leaves.into_iter().enumerate() {
            leave_mid_upload(port, leave);
            side.selected(upload_ends, n + 1);
        }
        side.selected(upload_ends, leaves.len())
    };
    let (mine, debian) = both_reading(1, cfg, drive);
    let ch = "400 206 - - CH-- 1/1/0/0/0 0/0";
    let cd = "-1 0 - - CD-- 1/1/0/0/0 0/0";
    assert_eq!(mine, [ch, ch, cd, cd]);
    if let Some(theirs) = debian {
        assert_eq!(theirs, mine);
    }
    if let Some(((), log)) = with_haproxy_27(cfg, |port| {
        for leave in leaves {
            leave_mid_upload(port, leave);
            std::thread::sleep(Duration::from_millis(500));
        }
    }) {
        assert_eq!(upload_ends(&log), mine);
    }
}
