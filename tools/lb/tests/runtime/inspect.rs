//! `tcp-request inspect-delay` with content rules in TCP mode: the rules wait for the client's
//! first bytes (here a TLS ClientHello, as SNI routing without termination uses it), decide
//! on them, and the held bytes reach the server first and whole.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A server that records every byte each connection sends it.
fn recorder() -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let record = record.clone();
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut got = Vec::new();
                let _ = s.read_to_end(&mut got);
                record.lock().unwrap().push(got);
            });
        }
    });
    (addr, seen)
}

/// A ClientHello naming `name`, as a TLS client's first record.
fn client_hello(name: &str) -> Vec<u8> {
    let mut list = vec![0];
    list.extend_from_slice(&(name.len() as u16).to_be_bytes());
    list.extend_from_slice(name.as_bytes());
    let mut sni = (list.len() as u16).to_be_bytes().to_vec();
    sni.extend_from_slice(&list);
    super::harness::client_hello(&[(0, &sni)])
}

fn recorded(seen: &Arc<Mutex<Vec<Vec<u8>>>>) -> Vec<Vec<u8>> {
    std::thread::sleep(Duration::from_millis(300));
    seen.lock().unwrap().clone()
}

#[test]
fn content_rules_wait_for_the_client_hello_and_route_by_sni() {
    let (a, seen_a) = recorder();
    let (other, seen_other) = recorder();
    let port = free_port();
    let config = format!(
        "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 3s
    tcp-request content accept if {{ req.ssl_hello_type 1 }}
    tcp-request content reject
    use_backend a if {{ req.ssl_sni -i a.example }}
    default_backend other
backend a
    server s {a}
backend other
    server s {other}
"
    );
    let _p = Proxy::start(&config, port);

    // A ClientHello in two pieces: the rules wait for the whole record, then route by its SNI.
    let hello = client_hello("A.example");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(&hello[..20]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(&hello[20..]).unwrap();
    s.write_all(b"after the hello").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    let got = recorded(&seen_a);
    assert_eq!(got.len(), 1, "routed to `a` once: {got:?}");
    let mut expected = hello.clone();
    expected.extend_from_slice(b"after the hello");
    assert_eq!(
        got[0], expected,
        "the held bytes reach the server first and whole"
    );
    assert!(recorded(&seen_other).is_empty());

    // Another name goes to the default backend.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(&client_hello("b.example")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    assert_eq!(recorded(&seen_other).len(), 1);

    // Plain text is not a ClientHello: rejected once the rules can tell, nothing forwarded.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{rest:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "rejected without waiting for the delay"
    );
    assert_eq!(recorded(&seen_a).len(), 1);
    assert_eq!(recorded(&seen_other).len(), 1);
}

#[test]
fn the_delay_bounds_the_wait_and_then_the_rules_decide_on_what_is_there() {
    let (a, seen_a) = recorder();
    let port = free_port();
    let config = format!(
        "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 400ms
    tcp-request content accept if {{ req.len ge 10 }}
    tcp-request content reject
    default_backend a
backend a
    server s {a}
"
    );
    let _p = Proxy::start(&config, port);
    // Too short and silent: after the delay the rule sees 4 bytes and rejects.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"tiny").unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(350), "waited {waited:?}");
    assert!(recorded(&seen_a).is_empty());
    // Enough bytes: accepted at once (a passing match does not wait, even on a length that
    // may still grow).
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"long enough payload").unwrap();
    std::thread::sleep(Duration::from_millis(700));
    drop(s);
    let got = recorded(&seen_a);
    assert_eq!(got, vec![b"long enough payload".to_vec()]);
}

fn alpn_config(port: u16, server: SocketAddr) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    log-format \"A alpn=%[var(sess.alpn)] sni=%[var(sess.sni)]\"
    tcp-request inspect-delay 3s
    tcp-request content set-var(sess.alpn) req.ssl_alpn
    tcp-request content set-var(sess.sni) req.ssl_sni
    tcp-request content accept if {{ req.ssl_hello_type 1 }}
    default_backend be
backend be
    server s {server}
"
    )
}

/// A real TLS client's hello, with and without ALPN protocols offered.
fn alpn_clients(port: u16) {
    for extra in [&["-alpn", "h2,http/1.1"][..], &[][..]] {
        let _ = std::process::Command::new("timeout")
            .args(["10", "openssl", "s_client", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-servername", "alpn.example"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[test]
fn req_ssl_alpn_reads_the_first_protocol_the_client_hello_offers() {
    if !have_tool("openssl", "version") {
        return;
    }
    let (server, _) = recorder();
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            // The start-up probe's empty connection has no hello.
            .filter(|l| l.starts_with("A ") && l.ends_with("sni=alpn.example"))
            .map(str::to_string)
            .collect()
    };
    let (mine, theirs) = both_reading(
        1,
        |port| alpn_config(port, server),
        |port, side| {
            alpn_clients(port);
            side.selected(lines, 2)
        },
    );
    assert_eq!(
        mine,
        ["A alpn=h2 sni=alpn.example", "A alpn=- sni=alpn.example"]
    );
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
}

/// A backend's own `tcp-request content` rules run in TCP mode once the stream enters it, with
/// the backend's inspection delay, after the frontend's rules (here there are none): a
/// rejected stream never reaches the server and is logged against the backend.
#[test]
fn a_backends_content_rules_run_with_its_own_delay_as_in_haproxy() {
    let cfg = |port: u16, server: &SocketAddr| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    mode tcp
    bind 127.0.0.1:{port}
    log-format \"T %b/%s %ts\"
    default_backend be
backend be
    mode tcp
    tcp-request inspect-delay 3s
    tcp-request content reject if {{ req.payload(0,3) -m str bad }}
    tcp-request content accept if {{ req.len ge 4 }}
    server s {server}
"
        )
    };
    let lines = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.starts_with("T "))
            .map(str::to_string)
            .collect()
    };
    let (mine, theirs) = both_sides(1, recorder, |port, (server, _)| cfg(port, server), {
        move |port, (_, seen), side| {
            // Each message comes in two writes: the rules must wait for the second.
            for message in [&b"bad!"[..], b"good"] {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.write_all(&message[..1]).unwrap();
                std::thread::sleep(Duration::from_millis(200));
                let _ = s.write_all(&message[1..]);
                let _ = s.shutdown(std::net::Shutdown::Write);
                let mut rest = Vec::new();
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let _ = s.read_to_end(&mut rest);
            }
            (recorded(seen), side.selected(lines, 2))
        }
    });
    assert_eq!(mine.0, vec![b"good".to_vec()]);
    assert_eq!(mine.1, ["T be/<NOSRV> PR", "T be/s --"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
