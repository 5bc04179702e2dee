//! Socket settings of `bind` lines seen from real sockets, side by side with Debian's
//! haproxy: the accept queue's length (`backlog`, as `ss` shows it), the segment size
//! advertised to clients (`mss`, as the client's socket takes it), the interface listened on
//! (`interface lo`) and the unacknowledged-data limit (`tcp-ut`, accepted and served).

use super::harness::*;
use std::process::Command;

/// The accept queue's length of the socket listening on `port`: `ss`'s Send-Q column.
fn listen_backlog(port: u16) -> String {
    let out = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(2).unwrap_or("").to_string()
}

/// The segment size a client connection to `port` settled on.
fn client_mss(port: u16) -> u32 {
    let s = connect(("127.0.0.1", port));
    socket2::SockRef::from(&s).mss().expect("TCP_MAXSEG")
}

#[test]
fn bind_socket_settings_reach_the_listening_socket() {
    let cfg = |port: u16| {
        let other = port + 1;
        format!(
            "{LOGGED_DEFAULTS}frontend tuned
    bind 127.0.0.1:{port} backlog 77 mss 1000 interface lo tcp-ut 20s
    http-request return status 200 content-type text/plain string tuned
frontend plain
    bind 127.0.0.1:{other}
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both_reading(2, cfg, |port, _| {
        let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        (
            status,
            body,
            listen_backlog(port),
            client_mss(port) <= 1000,
            client_mss(port + 1) > 1000,
        )
    });
    assert_eq!(
        mine,
        (200, "tuned".to_string(), "77".to_string(), true, true)
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
