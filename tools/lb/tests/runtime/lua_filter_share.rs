//! Script filters and Lua code holding the same stream (`testdata/lua/filters_share.lua`),
//! side by side with Debian's haproxy: a `tcp-response` action that sleeps does not hold up
//! the filters of the client's bytes, and a TCP service and the filters act on one
//! transaction (the service sees what the filters set, and so does the log line).

use super::harness::{both_reading, Side};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn script() -> String {
    super::lua_public::script("filters_share.lua")
}

/// The log lines starting with `tag`, without it, once there are `n`. (Their format shows
/// `%B`: without a field known only at the end, HAProxy logs a TCP stream once its server
/// connection is up, and hapee does the same.)
fn logged(side: &Side, tag: &str, n: usize) -> Vec<String> {
    side.selected(
        |out| {
            out.lines()
                .filter_map(|l| l.strip_prefix(tag))
                .map(str::to_string)
                .collect::<Vec<_>>()
        },
        n,
    )
}

/// A server that greets each connection ("hi\n"), then answers the line it gets with
/// "got <line>" and closes.
fn greeter() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let _ = conn.write_all(b"hi\n");
                let mut line = String::new();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let _ = reader.read_line(&mut line);
                let _ = conn.write_all(format!("got {line}").as_bytes());
            });
        }
    });
    port
}

/// The client's bytes come while a `tcp-response content` action sleeps on the server's
/// greeting: the filter counts them at once (HAProxy runs a channel's filters while a Lua
/// action of the other channel yields), so the action, once awake, finds them counted;
/// hapee's filters waited for the action to give the transaction back.
#[test]
fn filters_run_while_a_tcp_response_action_sleeps_as_in_haproxy() {
    let file = script();
    let server = greeter();
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n    log stdout format raw local0\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    log global\n    option dontlognull\nlisten a\n    bind 127.0.0.1:{port}\n    log-format \"sharelog %B %[var(txn.during)] %[var(txn.count_req)] %[var(txn.count_res)]\"\n    filter lua.count\n    tcp-response inspect-delay 3s\n    tcp-response content lua.wait\n    server s 127.0.0.1:{server}\n"
        )
    };
    let drive = |port: u16, side: &Side| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // Well within the action's sleep, after the greeting reached the proxy.
        std::thread::sleep(Duration::from_millis(250));
        s.write_all(b"ping\n").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        (
            String::from_utf8_lossy(&out).into_owned(),
            logged(side, "sharelog ", 1),
        )
    };
    let (mine, theirs) = both_reading(1, cfg, drive);
    assert_eq!(
        mine,
        ("hi\ngot ping\n".to_string(), vec!["12 5 5 12".to_string()])
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine, "Debian's haproxy");
    }
}

/// A TCP service reads a line the filter let through: it sees the variable the filter set
/// on the stream's transaction, and so does the log line (hapee's filters acted on a copy
/// of it while the service ran).
#[test]
fn a_tcp_service_and_the_filters_share_the_transaction_as_in_haproxy() {
    let file = script();
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n    log stdout format raw local0\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    log global\n    option dontlognull\nlisten a\n    bind 127.0.0.1:{port}\n    log-format \"sharelog %B %[var(txn.count_req)] %[var(txn.count_res)]\"\n    filter lua.count\n    tcp-request content use-service lua.echo\n"
        )
    };
    let drive = |port: u16, side: &Side| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"ping\n").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        (
            String::from_utf8_lossy(&out).into_owned(),
            logged(side, "sharelog ", 1),
        )
    };
    let (mine, theirs) = both_reading(1, cfg, drive);
    assert_eq!(mine, ("[5 5]\n".to_string(), vec!["6 5 6".to_string()]));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine, "Debian's haproxy");
    }
}
