//! Which server answers: the origins' turns under a balance algorithm, as servers are taken
//! out and put back.

use super::{both_sides, raw, Origin, Side, DEFAULTS};
use std::time::Duration;

/// The origin that answered each of `n` requests for `path`, one connection each.
pub fn origins_in_turn(port: u16, path: &str, n: usize) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let turns: Vec<String> = (0..n)
        .map(|_| {
            let answer = raw(port, request.as_bytes(), Duration::from_secs(3));
            let origin = answer.lines().find_map(|l| l.strip_prefix("x-origin: "));
            origin.unwrap_or("-").to_string()
        })
        .collect();
    turns.join(" ")
}

/// Mine and Debian's haproxy's turns among four servers `a` to `d` (weights 1, 2, 3, 2) under
/// `balance <balance>`: for each step, the Runtime API command run first (none when empty),
/// then the number of requests whose origins are listed.
pub fn turns_as_servers_change(
    balance: &str,
    steps: &[(&str, usize)],
) -> (Vec<String>, Option<Vec<String>>) {
    let cfg = |port: u16, origins: &Vec<Origin>| {
        format!(
            "global\n    stats socket 127.0.0.1:{} level admin\n{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance {balance}
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
        steps
            .iter()
            .map(|&(command, requests)| {
                if !command.is_empty() {
                    cli(port, command);
                }
                origins_in_turn(port, "/", requests)
            })
            .collect::<Vec<_>>()
    };
    both_sides(2, origins, cfg, drive)
}
