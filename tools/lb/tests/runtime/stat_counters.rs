//! Statistics counters side by side with Debian's haproxy: `option contstats`, whose byte
//! counters grow while a transfer goes on rather than once it ends.

use super::api::{ask, stat_row};
use super::harness::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn socket_name(port: u16) -> String {
    format!("hapee-stat-counters-{}-{port}.sock", std::process::id())
}

/// A stats socket path of its own for the proxy started on `port`.
fn socket_for(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(socket_name(port))
}

/// Sends `request` to `port` and reads until `expected` bytes came back; the connection is
/// answered, still open.
fn read_part(port: u16, request: &[u8], expected: usize) -> std::net::TcpStream {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut got = 0;
    let mut buf = [0u8; 8192];
    while got < expected {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert_eq!(got, expected, "bytes received through port {port}");
    s
}

#[test]
fn contstats_counts_bytes_while_a_transfer_goes_on() {
    // Servers that send a part of their answer and hold the connection open for 10 s.
    let tcp_reply: &'static [u8] = Box::leak(vec![b'a'; 5000].into_boxed_slice());
    let mut http = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".to_vec();
    let head = http.len();
    http.extend(std::iter::repeat_n(b'b', 5000));
    let http_reply: &'static [u8] = Box::leak(http.into_boxed_slice());
    let hold = Duration::from_secs(10);
    let tcp_server = raw_server(tcp_reply, Duration::ZERO, hold);
    let http_server = raw_server(http_reply, Duration::ZERO, hold);
    // Each side's socket, removed once the comparison is over.
    let sockets = std::cell::RefCell::new(Vec::new());
    let cfg = |port: u16| {
        sockets.borrow_mut().push(Scratch::file(&socket_name(port)));
        format!(
            "global
    stats socket {} level admin
{DEFAULTS}listen http_cont
    bind 127.0.0.1:{port}
    option contstats
    server s {http_server}
listen tcp_cont
    mode tcp
    bind 127.0.0.1:{}
    option contstats
    server s {tcp_server}
listen tcp_plain
    mode tcp
    bind 127.0.0.1:{}
    server s {tcp_server}
",
            socket_for(port).display(),
            port + 1,
            port + 2,
        )
    };
    let request = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n";
    let (ours, theirs) = both_reading(3, cfg, |port, _| {
        let _open = [
            read_part(port, request, head + 5000),
            read_part(port + 1, b"hello", 5000),
            read_part(port + 2, b"hello", 5000),
        ];
        // Each proxy counts once its stream has seen the data. HAProxy's TCP streams forward
        // without waking up and count at their 5 s wake-up; hapee counts each write.
        let sock = socket_for(port);
        let deadline = Instant::now() + Duration::from_secs(8);
        let mut csv = ask(&sock, "show stat\n");
        let counted = |csv: &str| {
            ["http_cont", "tcp_cont"]
                .iter()
                .all(|px| stat_row(csv, px, "s")["bout"] != "0")
        };
        while !counted(&csv) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            csv = ask(&sock, "show stat\n");
        }
        let mut rows = Vec::new();
        for px in ["http_cont", "tcp_cont", "tcp_plain"] {
            for sv in ["FRONTEND", "BACKEND", "s"] {
                let row = stat_row(&csv, px, sv);
                rows.push(format!("{px}/{sv} bin={} bout={}", row["bin"], row["bout"]));
            }
        }
        let _ = std::fs::remove_file(&sock);
        rows
    });
    // HTTP bytes are counted as HAProxy counts them, its internal form (HTX) of the head
    // and the body, not the bytes on the wire.
    let (http_in, http_out) = (request.len() + 11, head + 5000 + 11);
    let mut expected = Vec::new();
    for sv in ["FRONTEND", "BACKEND", "s"] {
        expected.push(format!("http_cont/{sv} bin={http_in} bout={http_out}"));
    }
    for sv in ["FRONTEND", "BACKEND", "s"] {
        expected.push(format!("tcp_cont/{sv} bin=5 bout=5000"));
    }
    for sv in ["FRONTEND", "BACKEND", "s"] {
        expected.push(format!("tcp_plain/{sv} bin=0 bout=0"));
    }
    assert_eq!(ours, expected);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

/// The listener rows of `show stat` (type 3), each as the columns `keep` names.
fn listener_rows(csv: &str, keep: &[&str]) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.get(at("type")) == Some(&"3"))
        .map(|f| {
            keep.iter()
                .map(|k| format!("{k}={}", f[at(k)]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn socket_stats_gives_each_listener_its_row_and_metrics() {
    // Each side's socket, removed once the comparison is over.
    let sockets = std::cell::RefCell::new(Vec::new());
    let cfg = |port: u16| {
        sockets.borrow_mut().push(Scratch::file(&socket_name(port)));
        format!(
            "global
    stats socket {} level admin
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} name web
    bind 127.0.0.1:{} maxconn 50
    bind 127.0.0.1:{} id 9
    option socket-stats
    http-request deny if {{ path /no }}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    default_backend app
frontend quiet
    bind 127.0.0.1:{}
    default_backend app
backend app
    http-request return status 200 content-type text/plain string hello
",
            socket_for(port).display(),
            port + 1,
            port + 2,
            port + 3,
        )
    };
    // `smax` (and the exporter's `max_sessions` below) are left out: HAProxy reserves a slot of
    // the listener on every thread woken for a connection before it accepts, and counts the
    // peak with the others' reservations, so one client can read as two when both threads
    // wake (seen with HAProxy 2.6 on a loaded machine: 2 for sock-9's single connection).
    let keep = [
        "pxname", "svname", "scur", "slim", "stot", "bin", "bout", "dreq", "dresp", "ereq",
        "status", "pid", "sid", "type", "addr", "mode", "dcon", "dses", "wrew", "eint", "lbtot",
        "rate", "req_tot",
    ];
    let (ours, theirs) = both_reading(4, cfg, |port, _| {
        for (p, path) in [
            (port, "/"),
            (port + 1, "/"),
            (port + 1, "/no"),
            (port + 3, "/"),
        ] {
            curl(&[&format!("http://127.0.0.1:{p}{path}")]);
        }
        // A request that cannot be read: 400, an error of the listener.
        raw(
            port + 2,
            b"GET / HTTP/1.1\r\nbad header\r\n\r\n",
            Duration::from_secs(1),
        );
        let sock = socket_for(port);
        // Each proxy counts a connection once it closed: wait for the last one.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut csv = ask(&sock, "show stat\n");
        while !csv.contains(",sock-9,")
            || listener_rows(&csv, &["scur"]).iter().any(|r| r != "scur=0")
        {
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            csv = ask(&sock, "show stat\n");
        }
        // Ports relative to the first, which differs between the two runs.
        let mut out: Vec<String> = listener_rows(&csv, &keep)
            .into_iter()
            .map(|r| {
                (0..3).fold(r, |r, k| {
                    r.replace(&format!(":{}", port + k), &format!(":port+{k}"))
                })
            })
            .collect();
        out.push(format!(
            "frontend ereq={}",
            stat_row(&csv, "fe", "FRONTEND")["ereq"]
        ));
        // The type filter (8: listeners) with a listener id.
        let iid = stat_row(&csv, "fe", "FRONTEND")["iid"].clone();
        out.extend(listener_rows(
            &ask(&sock, &format!("show stat {iid} 8 9\n")),
            &["svname"],
        ));
        let metrics = curl(&[&format!("http://127.0.0.1:{port}/metrics?scope=listener")]).1;
        out.extend(
            metrics
                .lines()
                .filter(|l| l.contains("listener=\"sock-9\"") || l.starts_with("# TYPE"))
                .filter(|l| !l.contains("max_sessions"))
                .map(String::from),
        );
        let _ = std::fs::remove_file(&sock);
        out
    });
    let web = &ours[0];
    assert!(
        web.starts_with("pxname=fe svname=web scur=0 slim=0 stot=1 "),
        "{ours:#?}"
    );
    assert!(
        ours[1].contains("svname=sock-2 ") && ours[1].contains(" slim=50 "),
        "{ours:#?}"
    );
    assert!(
        ours[1].contains(" dreq=1 ") && ours[1].contains(" type=3 "),
        "{ours:#?}"
    );
    assert!(
        ours[2].contains("svname=sock-9 ") && ours[2].contains(" ereq=1 "),
        "{ours:#?}"
    );
    assert!(ours[2].contains(" addr=127.0.0.1:port+2 "), "{ours:#?}");
    assert_eq!(ours[3], "frontend ereq=1");
    assert_eq!(ours[4], "svname=sock-9");
    assert!(
        ours.contains(
            &"haproxy_listener_request_errors_total{proxy=\"fe\",listener=\"sock-9\"} 1"
                .to_string()
        ),
        "{ours:#?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
