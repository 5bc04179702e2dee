//! A TCP tunnel one of whose connections fails (a reset, or a write to a peer that is gone),
//! side by side with Debian's haproxy: the stream ends there on both sides and is logged `CD`
//! (client) or `SD` (server), with every byte received from the server counted, delivered or
//! not.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn config(port: u16, server: std::net::SocketAddr) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s {server}
"
    )
}

/// A one-connection server running `serve` on the connection it accepts; `ready` tells the
/// test when `serve` reached the point it waits for.
struct Peer {
    addr: std::net::SocketAddr,
    ready: mpsc::Receiver<()>,
}

impl Peer {
    fn start(serve: fn(TcpStream, &mpsc::Sender<()>)) -> Peer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, ready) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok((s, _)) = l.accept() {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                serve(s, &tx);
            }
        });
        Peer { addr, ready }
    }

    fn wait(&self) {
        self.ready
            .recv_timeout(Duration::from_secs(10))
            .expect("the server got there");
    }
}

/// Waits until `n` bytes wait unread on `s` (they stay there).
fn unread(s: &TcpStream, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = vec![0u8; n];
    while s.peek(&mut buf).unwrap_or(0) < n {
        assert!(Instant::now() < deadline, "{n} bytes never arrived");
    }
}

/// The bytes and termination state of the stream's tcplog line.
fn ended(side: &Side) -> (String, String) {
    let pick = |out: &str| -> Vec<(String, String)> {
        out.lines()
            .filter(|l| l.contains(" fe be/s "))
            .map(|l| {
                let words: Vec<&str> = l.split(' ').collect();
                let at = words.iter().position(|w| *w == "be/s").unwrap();
                (words[at + 2].to_string(), words[at + 3].to_string())
            })
            .collect()
    };
    side.selected(pick, 1).remove(0)
}

/// The client resets its connection (closes it over bytes it did not read) while the server
/// says nothing more: the stream ends at once, `CD`, with the server's 100 bytes counted.
#[test]
fn a_client_reset_ends_the_tunnel_as_cd() {
    let serve = |mut s: TcpStream, _: &mpsc::Sender<()>| {
        let mut buf = [0u8; 5];
        if s.read_exact(&mut buf).is_ok() && s.write_all(&[b'x'; 100]).is_ok() {
            // Until the proxy closes this side.
            let _ = s.read(&mut [0u8; 16]);
        }
    };
    let (mine, theirs) = both_sides(
        1,
        || Peer::start(serve),
        |port, peer| config(port, peer.addr),
        |port, _, side| {
            let mut c = connect(("127.0.0.1", port));
            c.write_all(b"hello").unwrap();
            unread(&c, 100);
            drop(c);
            ended(side)
        },
    );
    assert_eq!(mine, ("100".to_string(), "CD".to_string()));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The server resets its connection while the client waits: `SD`, nothing counted, and the
/// client's connection is closed.
#[test]
fn a_server_reset_ends_the_tunnel_as_sd() {
    let serve = |mut s: TcpStream, ready: &mpsc::Sender<()>| {
        let mut buf = [0u8; 3];
        if s.read_exact(&mut buf).is_ok() {
            ready.send(()).unwrap();
            // Closed over the client's next bytes, unread: a reset.
            unread(&s, 3);
        }
    };
    let (mine, theirs) = both_sides(
        1,
        || Peer::start(serve),
        |port, peer| config(port, peer.addr),
        |port, peer, side| {
            let mut c = connect(("127.0.0.1", port));
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            c.write_all(b"one").unwrap();
            peer.wait();
            c.write_all(b"two").unwrap();
            let mut out = Vec::new();
            let closed = match c.read_to_end(&mut out) {
                Ok(_) => "closed".to_string(),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => "closed".into(),
                Err(e) => format!("{:?}", e.kind()),
            };
            (closed, ended(side))
        },
    );
    assert_eq!(
        mine,
        ("closed".to_string(), ("0".to_string(), "SD".to_string()))
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The client closes once the server got its request, and the server then sends more than
/// the client would ever read: a write to the client fails, and that ends the stream as `CD`
/// (how many bytes came by then varies).
#[test]
fn a_server_writing_to_a_client_gone_ends_the_tunnel_as_cd() {
    let serve = |mut s: TcpStream, _: &mpsc::Sender<()>| {
        let mut buf = [0u8; 5];
        // The proxy passes the client's end on: the server sees it, then answers.
        if s.read_exact(&mut buf).is_ok() && matches!(s.read(&mut buf), Ok(0)) {
            let chunk = [b'x'; 16 * 1024];
            for _ in 0..1024 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    };
    let (mine, theirs) = both_sides(
        1,
        || Peer::start(serve),
        |port, peer| config(port, peer.addr),
        |port, _, side| {
            let mut c = connect(("127.0.0.1", port));
            c.write_all(b"hello").unwrap();
            drop(c);
            let (bytes, term) = ended(side);
            (bytes.parse::<u64>().unwrap() > 0, term)
        },
    );
    assert_eq!(mine, (true, "CD".to_string()));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
