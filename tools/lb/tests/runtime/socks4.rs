//! Servers behind a SOCKS4 proxy (`socks4`, `check-via-socks4`): a real SOCKS4 relay written
//! here records what it is asked, connects where it is told and relays the bytes. Requests
//! and health checks reach the origin through it, the request is the one HAProxy sends (same
//! bytes with Debian's haproxy on the same configuration), and a relay that refuses makes
//! the server unreachable (503) for both.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A SOCKS4 relay on 127.0.0.1: every request it got (the 8-byte header and the user id),
/// and whether it grants them.
struct Relay {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Relay {
    fn start(grant: bool) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || serve(client, grant, &seen));
            }
        });
        Relay { addr, requests }
    }

    fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().unwrap().clone()
    }
}

/// One SOCKS4 CONNECT: read the header and the NUL-terminated user id, answer, relay.
fn serve(mut client: TcpStream, grant: bool, seen: &Mutex<Vec<Vec<u8>>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let mut req = vec![0u8; 8];
    if client.read_exact(&mut req).is_err() {
        return;
    }
    let mut byte = [0u8; 1];
    loop {
        if client.read_exact(&mut byte).is_err() || req.len() > 300 {
            return;
        }
        req.push(byte[0]);
        if byte[0] == 0 {
            break;
        }
    }
    seen.lock().unwrap().push(req.clone());
    let port = u16::from_be_bytes([req[2], req[3]]);
    let ip = std::net::Ipv4Addr::new(req[4], req[5], req[6], req[7]);
    let server = match (req[0], req[1], grant) {
        (4, 1, true) => TcpStream::connect((ip, port)).ok(),
        _ => None,
    };
    let Some(server) = server else {
        let _ = client.write_all(&[0, 91, 0, 0, 0, 0, 0, 0]);
        return;
    };
    if client.write_all(&[0, 90, 0, 0, 0, 0, 0, 0]).is_err() {
        return;
    }
    let _ = client.set_read_timeout(None);
    let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut c, mut s) = (client, server);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut s2);
        let _ = s2.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut s, &mut c);
    let _ = c.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

/// The configuration for `port`: `via` serves through the granting relay with its checks
/// too, `refused` through the refusing one.
fn config(port: u16, origin: SocketAddr, relay: SocketAddr, refusing: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    use_backend refused if {{ path_beg /refused }}
    default_backend via
backend via
    option httpchk GET /health
    # A check's exchange (through the relay's threads) gets more than `inter` on a loaded
    # machine: one that timed out would take the server down (fall 1).
    timeout check 10s
    server s1 {origin} socks4 {relay} check-via-socks4 check inter 1s rise 1 fall 1
backend refused
    server s2 {origin} socks4 {refusing}
"
    )
}

/// What a proxy on `port` answered and what the relays were asked.
fn drive(port: u16, relay: &Relay) -> (u16, String, u16) {
    // The checks go through the relay (before any request).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while relay.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no check came through the relay"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/through")]);
    let (refused, _) = curl(&[&format!("http://127.0.0.1:{port}/refused")]);
    (code, body, refused)
}

#[test]
fn servers_and_checks_go_through_a_socks4_relay_like_haproxy() {
    let origin = Origin::start("o");
    let relay = Relay::start(true);
    let refusing = Relay::start(false);
    let port = free_port();
    let (code, body, refused) = {
        let _p = Proxy::start(&config(port, origin.addr, relay.addr, refusing.addr), port);
        drive(port, &relay)
    };
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("path=/through"), "{body}");
    assert_eq!(refused, 503);
    // HAProxy's request: version 4, CONNECT, the origin's port and address, user "HAProxy".
    let mut expected = vec![4, 1];
    expected.extend(origin.addr.port().to_be_bytes());
    expected.extend([127, 0, 0, 1]);
    expected.extend(b"HAProxy\0");
    let asked = relay.requests();
    assert!(asked.len() >= 2, "a check and a request: {asked:?}");
    assert!(asked.iter().all(|r| *r == expected), "{asked:?}");
    // Refused connections are retried (`retries` 3 by default), each asked the same way.
    let refusals = refusing.requests();
    assert!(
        !refusals.is_empty() && refusals.iter().all(|r| *r == expected),
        "{refusals:?}"
    );
    // Debian's haproxy, same configuration, fresh relays: same answers, same requests.
    let relay2 = Relay::start(true);
    let refusing2 = Relay::start(false);
    if let Some((theirs, _)) = with_haproxy(
        |port| config(port, origin.addr, relay2.addr, refusing2.addr),
        |port| drive(port, &relay2),
    ) {
        assert_eq!((theirs.0, theirs.2), (code, refused), "{}", theirs.1);
        assert!(relay2.requests().iter().all(|r| *r == expected));
        assert_eq!(refusing2.requests().len(), refusals.len());
        assert!(refusing2.requests().iter().all(|r| *r == expected));
    }
}
