//! `balance leastconn` among servers of equal load takes the one whose load changed least
//! recently, as HAProxy's tree keeps them (an idle server's key is 0 whatever its weight): a
//! server taken out leaves the others' order as it was, and one put back comes after them.
//! Servers are taken out and put back with the Runtime API; side by side with Debian's haproxy.

use crate::harness::*;
use std::time::Duration;

#[test]
fn leastconn_keeps_its_order_when_a_server_goes_down_and_up() {
    let cfg = |port: u16, origins: &Vec<Origin>| {
        format!(
            "global\n    stats socket 127.0.0.1:{} level admin\n{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance leastconn
    server a {} weight 1
    server b {} weight 2
    server c {} weight 3
    server d {} weight 2
",
            port + 1,
            origins[0].addr,
            origins[1].addr,
            origins[2].addr,
            origins[3].addr
        )
    };
    let origins = || {
        ["a", "b", "c", "d"]
            .map(Origin::start)
            .into_iter()
            .collect::<Vec<_>>()
    };
    let cli = |port: u16, command: &str| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port + 1)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("{command}\n").as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
    };
    let drive = |port: u16, _: &Vec<Origin>, _: &Side| {
        use crate::traffic_parity::origins_in_turn;
        let mut turns = vec![origins_in_turn(port, "/", 6)];
        cli(port, "disable server be/d");
        turns.push(origins_in_turn(port, "/", 5));
        cli(port, "enable server be/d");
        turns.push(origins_in_turn(port, "/", 5));
        turns
    };
    let (mine, theirs) = both_sides(2, origins, cfg, drive);
    assert_eq!(mine, ["a b c d a b", "c a b c a", "b c a d b"]);
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
