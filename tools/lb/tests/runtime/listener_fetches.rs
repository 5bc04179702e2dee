//! `so_id` (the listener's id, numbered as HAProxy numbers listeners without one) and
//! `dst_conn` (the connections open on the listener, the evaluated one included). Side by
//! side with Debian's haproxy.

use super::harness::{both_reading, connect, raw};
use std::time::Duration;

fn config(port: u16) -> String {
    let other = port + 1;
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    bind 127.0.0.1:{other} id 1
    http-request return status 200 content-type text/plain lf-string \"so_id=%[so_id] dst_conn=%[dst_conn]\"
"
    )
}

fn answers(port: u16) -> Vec<String> {
    let ask = |p: u16| {
        let out = raw(
            p,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            Duration::from_secs(2),
        );
        out.split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string()
    };
    // Two idle connections held open on the first listener.
    let held = [connect(("127.0.0.1", port)), connect(("127.0.0.1", port))];
    std::thread::sleep(Duration::from_millis(200));
    let out = vec![ask(port), ask(port + 1)];
    drop(held);
    out
}

#[test]
fn listener_id_and_its_connections() {
    let (mine, theirs) = both_reading(2, config, |port, _| answers(port));
    // The first listener has no id: 1 is the second's, so it gets 2.
    assert_eq!(mine[0], "so_id=2 dst_conn=3", "{mine:?}");
    assert_eq!(mine[1], "so_id=1 dst_conn=1", "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
