//! RDP cookies in TCP mode (`persist rdp-cookie`, `balance rdp-cookie`): real RDP connection
//! requests sent through hapee and, side by side, Debian's haproxy 2.6 on the same
//! configuration, to servers that answer with their name.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// A TCP server that reads the client's first bytes and answers its name, then closes.
fn named_server(name: &'static str) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in l.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(name.as_bytes());
        }
    });
    addr
}

/// An X.224 connection request carrying `Cookie: <cookie>` as Microsoft's clients send it.
fn connection_request(cookie: &str) -> Vec<u8> {
    let line = format!("Cookie: {cookie}\r\n");
    let total = 11 + line.len() + 8;
    let mut req = vec![0x03, 0x00, (total >> 8) as u8, total as u8];
    req.extend([(total - 5) as u8, 0xe0, 0, 0, 0, 0, 0]);
    req.extend(line.as_bytes());
    req.extend([0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]);
    req
}

/// The name of the server that answered `cookie`.
fn served_by(port: u16, cookie: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&connection_request(cookie)).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
}

/// The `msts` value that names `addr`: the address's and the port's bytes in network order,
/// read as numbers of a little-endian host.
fn msts(addr: SocketAddr) -> String {
    let SocketAddr::V4(v4) = addr else { panic!() };
    let ip = u32::from_le_bytes(v4.ip().octets());
    format!("msts={ip}.{}.0000", v4.port().swap_bytes())
}

#[test]
fn rdp_cookies_pick_and_keep_servers_as_haproxy_does() {
    let servers = [named_server("a"), named_server("b"), named_server("c")];
    let cfg = |port: u16| {
        format!(
            "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen farm
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 5s
    tcp-request content accept if RDP_COOKIE
    persist rdp-cookie
    balance rdp-cookie
    server a {}
    server b {}
    server c {}
",
            servers[0], servers[1], servers[2]
        )
    };
    let drive = |port: u16| {
        let mut seen = Vec::new();
        // The persistence cookie names each server in turn.
        for addr in servers.iter().rev() {
            seen.push(served_by(port, &msts(*addr)));
        }
        // Without one, the user's hash picks a server, the same each time.
        for user in ["alice", "bob", "carol", "dave", "erin", "frank"] {
            let first = served_by(port, &format!("mstshash={user}"));
            assert_eq!(
                served_by(port, &format!("mstshash={user}")),
                first,
                "{user}"
            );
            seen.push(first);
        }
        seen
    };
    let (mine, theirs) = both(cfg, drive);
    assert_eq!(mine[..3], ["c", "b", "a"], "{mine:?}");
    // Six users are not all on one server.
    assert!(mine[3..].iter().any(|s| s != &mine[3]), "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
