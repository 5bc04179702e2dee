//! `txn.res:send()` in a `tcp-request content` action (`testdata/lua/handshake.lua`): the
//! proxy answers the client while the action runs on and waits for the client's next line,
//! then the rules route the stream, as a SOCKS-style script needs; side by side with Debian's
//! haproxy, with the logs.

use super::harness::{both_sides, LOGGED_DEFAULTS};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// A TCP server that answers each line with `echo:` and the line.
fn echo_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut out = s.try_clone().unwrap();
                for line in BufReader::new(s).lines() {
                    let Ok(line) = line else { return };
                    if out.write_all(format!("echo:{line}\n").as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// The client's side of the exchange: what it read at each step ("-" for a closed connection).
fn exchange(port: u16, first: &str) -> Vec<String> {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
    let mut out = s.try_clone().unwrap();
    let mut lines = BufReader::new(s);
    let mut read = || {
        let mut l = String::new();
        match lines.read_line(&mut l) {
            Ok(n) if n > 0 => l.trim_end().to_string(),
            _ => "-".to_string(),
        }
    };
    let mut seen = Vec::new();
    out.write_all(first.as_bytes()).unwrap();
    seen.push(read());
    if seen[0].starts_with("ready") {
        out.write_all(b"go\n").unwrap();
        out.write_all(b"payload\n").unwrap();
        seen.push(read());
    }
    seen
}

#[test]
fn a_tcp_action_answers_the_client_then_the_stream_is_routed() {
    let script = super::lua_public::script("handshake.lua");
    let cfg = |port: u16, echo: &SocketAddr| {
        LOGGED_DEFAULTS
            .replacen("global\n", &format!("global\n    lua-load {script}\n"), 1)
            .replacen("mode http", "mode tcp", 1)
            + &format!(
                "frontend socks\n    bind 127.0.0.1:{port}\n    option tcplog\n    tcp-request inspect-delay 2s\n    tcp-request content lua.handshake\n    use_backend echo if {{ var(txn.route) -m str echo }}\n    default_backend none\nbackend echo\n    server e {echo}\nbackend none\n    server n 127.0.0.1:1\n"
            )
    };
    let ((ours, our_log), theirs) = both_sides(1, echo_server, cfg, |port, _, side| {
        let answers = vec![exchange(port, "use echo\n"), exchange(port, "hello\n")];
        let log = side.selected(
            |out: &str| {
                out.lines()
                    .filter(|l| l.contains(" socks "))
                    .map(|l| {
                        let f: Vec<&str> = l.split_whitespace().collect();
                        let at = |i: usize| f.get(i).copied().unwrap_or("");
                        // Backend/server, bytes from the server, termination state.
                        format!("{} {} {}", at(3), at(5), at(6))
                    })
                    .collect()
            },
            2,
        );
        (answers, log)
    });
    assert_eq!(
        ours,
        vec![
            vec!["ready echo".to_string(), "echo:payload".to_string()],
            vec!["refused".to_string()],
        ]
    );
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        assert_eq!(sorted(our_log), sorted(their_log), "the logs differ");
    }
}
