//! The header a `log-forward` section writes on what it relays, and the `rfc3164` and `short`
//! headers of the process's own lines, side by side with Debian's haproxy. A relay takes each
//! message apart into its fields (time, host, program, process id, message id, structured
//! data) and writes them again in each target's format; a target without `format` takes the
//! one the fields call for, so a line that came with an RFC 5424 header leaves with one (a
//! reg-test's ring relayed such lines where hapee wrote RFC 3164). `format rfc3164` always
//! names a host (`localhost` when none is set), `format short` names the level alone.

use super::harness::*;
use std::net::UdpSocket;
use std::time::Duration;

/// `line` with what varies between runs masked past its priority: month names, runs of digits
/// and of spaces (times, process ids).
fn masked(line: &str) -> String {
    let at = line.find('>').map_or(0, |i| i + 1);
    let mut rest = line[at..].to_string();
    for m in [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ] {
        rest = rest.replace(m, "Mmm");
    }
    let mut out = line[..at].to_string();
    for c in rest.chars() {
        let c = if c.is_ascii_digit() { '0' } else { c };
        if (c == '0' || c == ' ') && out.ends_with(c) && out.len() > at {
            continue;
        }
        out.push(c);
    }
    out
}

/// Datagrams of `socket` until it stays silent for a while, masked.
fn datagrams(socket: &UdpSocket, want: usize) -> Vec<String> {
    socket
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let mut out = Vec::new();
    while out.len() < want {
        let Ok(n) = socket.recv(&mut buf) else {
            break;
        };
        let line = String::from_utf8_lossy(&buf[..n]);
        out.push(masked(line.trim_end()));
    }
    out
}

fn sockets(n: usize) -> Vec<UdpSocket> {
    (0..n)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect()
}

fn port_of(s: &UdpSocket) -> u16 {
    s.local_addr().unwrap().port()
}

const RELAYED: [&str; 6] = [
    // HAProxy's own line: no host, so its program is read as the host.
    "<134>Dec  3 18:02:32 haproxy[51]: 1.2.3.4:5 [03/Dec] fe be/s",
    "<134>Dec  3 18:02:32 host1 app[42]: with a host",
    "<165>1 2026-12-03T18:02:32.1Z host app 42 ID47 [x a=\"b\"] structured",
    "<14>1 - - app - - - a nil time and host",
    "<13>only a priority",
    "no priority at all",
];

#[test]
fn a_relay_writes_the_header_its_fields_and_its_targets_call_for() {
    let (mine, theirs) = both_with(
        || sockets(4),
        |port, s| {
            format!(
                "log-forward relay
    bind 127.0.0.1:{port}
    log 127.0.0.1:{} local1
    log 127.0.0.1:{} format rfc5424 local1
    log 127.0.0.1:{} format rfc3164 local1
    log 127.0.0.1:{} format short local1
",
                port_of(&s[0]),
                port_of(&s[1]),
                port_of(&s[2]),
                port_of(&s[3])
            )
        },
        |port, s| {
            let mut framed = Vec::new();
            for m in RELAYED {
                framed.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
            }
            let mut c = connect(("127.0.0.1", port));
            std::io::Write::write_all(&mut c, &framed).unwrap();
            s.iter()
                .map(|s| datagrams(s, RELAYED.len()))
                .collect::<Vec<_>>()
        },
    );
    // No format: each message keeps the shape it came with.
    let plain = &mine[0];
    assert_eq!(plain.len(), 6, "{mine:?}");
    assert_eq!(
        plain[0],
        "<134>Mmm 0 0:0:0 haproxy[0]: 0.0.0.0:0 [0/Mmm] fe be/s"
    );
    assert_eq!(plain[1], "<134>Mmm 0 0:0:0 host0 app[0]: with a host");
    assert_eq!(
        plain[2],
        "<165>0 0-0-0T0:0:0.0Z host app 0 ID0 [x a=\"b\"] structured"
    );
    assert!(
        plain[3].starts_with("<14>Mmm ") && plain[3].ends_with(" app: a nil time and host"),
        "{mine:?}"
    );
    assert_eq!(plain[4..], ["<13>only a priority", "no priority at all"]);
    assert_eq!(
        mine[1][0],
        "<134>0 0-0-0T0:0:0-0:0 haproxy[0]: - - - - 0.0.0.0:0 [0/Mmm] fe be/s"
    );
    assert!(
        mine[2][4].starts_with("<13>Mmm ") && mine[2][4].ends_with(" localhost only a priority"),
        "{mine:?}"
    );
    assert!(
        mine[2][5].starts_with("<136>Mmm ")
            && mine[2][5].ends_with(" localhost no priority at all"),
        "{mine:?}"
    );
    assert_eq!(mine[3][1], "<6>with a host");
    assert_eq!(mine[3][5], "<0>no priority at all");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn rfc3164_names_a_host_and_short_names_the_level() {
    let (mine, theirs) = both_with(
        || sockets(3),
        |port, s| {
            format!(
                "global
    log 127.0.0.1:{} format rfc3164 local0
    log 127.0.0.1:{} format short local0
    log 127.0.0.1:{} local0
{DEFAULTS}
    log global
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200
",
                port_of(&s[0]),
                port_of(&s[1]),
                port_of(&s[2])
            )
        },
        |port, s| {
            assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
            s.iter()
                .map(|s| {
                    let lines = datagrams(s, 1);
                    // The header only: the connection's line follows it.
                    lines.into_iter().map(|l| {
                        let end = l.find("]: ").map_or(l.len().min(3), |i| i + 3);
                        l[..end].to_string()
                    })
                })
                .flat_map(|l| l.take(1))
                .collect::<Vec<_>>()
        },
    );
    assert_eq!(
        mine,
        [
            "<134>Mmm 0 0:0:0 localhost haproxy[0]: ",
            "<6>",
            "<134>Mmm 0 0:0:0 haproxy[0]: ",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
