//! Traces and the figures computed over time, over a real socket: the `trace` directive and
//! command send HTTP/1 and stream events to the `buf0` ring, `show events` reads it back (also
//! following it with `-w`), and `show stat` reports request rates and average times after
//! known traffic (lower bounds only: the values depend on timing).

use crate::api::{stat_row, Fixture};
use crate::harness::Scratch;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

#[test]
fn traces_reach_the_ring_and_show_events_follows_it() {
    let f = Fixture::start(
        "    expose-experimental-directives
    trace h1 sink buf0
    trace h1 level developer
    trace h1 start now",
    );
    let trace = f.admin("show trace\n");
    assert!(
        trace.contains(" [R] h1         -> buf0 [drp 0]  [HTTP/1 multiplexer]\n"),
        "{trace}"
    );
    assert!(trace.contains(" [.] h2         -> none [drp 0]  [HTTP/2 multiplexer]\n"));
    // The stream source is started from the CLI; an operator may not.
    assert_eq!(
        f.admin("operator; trace stream start now\n"),
        "\nPermission denied\n\n"
    );
    assert_eq!(
        f.admin("trace stream sink buf0; trace stream start now\n"),
        "\n\n"
    );
    assert_eq!(f.get("/traced").0, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let events = f.admin("show events buf0\n");
        if events.contains("|stream|") || Instant::now() > deadline {
            break events;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        events.lines().any(|l| l.starts_with("<0>20")
            && l.contains("|h1|2|")
            && l.ends_with("request headers: GET /traced HTTP/1.1")),
        "{events}"
    );
    assert!(
        events.lines().any(|l| l.contains("|stream|1|")
            && l.contains("-> app/s")
            && l.contains("status 200")),
        "{events}"
    );
    // `-w -n`: only what comes after, as it comes, until the client sends a key.
    let mut follow = UnixStream::connect(f.sock("admin")).unwrap();
    follow
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    follow.write_all(b"show events buf0 -w -n\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(f.get("/followed").0, 200);
    let mut reader = BufReader::new(follow.try_clone().unwrap());
    let mut seen = Vec::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "closed before the event came: {seen:?}");
        assert!(!line.contains("/traced"), "an old event was sent: {line}");
        seen.push(line.clone());
        if line.contains("GET /followed") {
            break;
        }
    }
    follow.write_all(b"\n").unwrap();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
    // Errors and the stop of everything.
    assert_eq!(f.admin("trace nope\n"), "No such trace source\n\n");
    assert_eq!(f.admin("trace h1 level loud\n"), "No such trace level\n\n");
    assert_eq!(f.admin("show events nope\n"), "No such event sink\n\n");
    assert!(f
        .admin("show events\n")
        .contains("    buf0       : type=buffer, 0 dropped, in-memory ring buffer\n"));
    assert_eq!(f.admin("trace 0\n"), "All traces now stopped\n\n");
    assert!(f.admin("show trace\n").contains(" [.] h1         -> buf0"));
}

#[test]
fn request_rates_and_average_times_after_slow_requests() {
    let f = Fixture::start("");
    for _ in 0..4 {
        assert_eq!(f.get("/slow/120").0, 200);
    }
    // Rates are sampled once a second: wait for a sample that saw the requests.
    let deadline = Instant::now() + Duration::from_secs(20);
    let csv = loop {
        let csv = f.admin("show stat\n");
        let fe = stat_row(&csv, "web", "FRONTEND");
        if fe["req_rate_max"] != "0" || Instant::now() > deadline {
            break csv;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let fe = stat_row(&csv, "web", "FRONTEND");
    assert!(fe["req_rate_max"].parse::<u64>().unwrap() >= 1, "{fe:?}");
    assert_eq!(fe["qtime"], "", "frontends have no times");
    let number = |row: &std::collections::HashMap<String, String>, col: &str| {
        row[col]
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{col}: {row:?}"))
    };
    let be = stat_row(&csv, "app", "BACKEND");
    assert!(number(&be, "rtime") >= 120, "{be:?}");
    assert!(number(&be, "ttime") >= number(&be, "rtime"), "{be:?}");
    assert!(number(&be, "rtime_max") >= 120, "{be:?}");
    assert!(number(&be, "ttime_max") >= number(&be, "ttime"), "{be:?}");
    let s1 = stat_row(&csv, "app", "s1");
    assert!(number(&s1, "rtime") >= 120, "{s1:?}");
    // The typed form carries them with their nature (an average).
    let typed = f.admin("show stat typed\n");
    assert!(
        typed
            .lines()
            .any(|l| l.starts_with("B.") && l.contains(".rtime.1:MaP:u32:")),
        "{typed}"
    );
}

/// A TCP syslog collector: the octet-counted frames it receives, as they come.
fn tcp_collector() -> (u16, std::sync::mpsc::Receiver<String>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                let mut s = s;
                while let Ok(n) = std::io::Read::read(&mut s, &mut buf) {
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    // `<length> <message>` frames.
                    while let Some(space) = data.iter().position(|&b| b == b' ') {
                        let Ok(len) = String::from_utf8_lossy(&data[..space]).parse::<usize>()
                        else {
                            let _ =
                                tx.send(format!("unframed: {}", String::from_utf8_lossy(&data)));
                            return;
                        };
                        if data.len() < space + 1 + len {
                            break;
                        }
                        let frame =
                            String::from_utf8_lossy(&data[space + 1..space + 1 + len]).into_owned();
                        data.drain(..space + 1 + len);
                        let _ = tx.send(frame);
                    }
                }
            });
        }
    });
    (port, rx)
}

#[test]
fn logs_go_through_log_forward_into_a_ring_and_on_to_a_tcp_server() {
    let (collector, frames) = tcp_collector();
    let relay_udp = crate::harness::free_port();
    let relay_tcp = crate::harness::free_port();
    let out = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    out.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let out_port = out.local_addr().unwrap().port();
    let origin = crate::harness::Origin::start("a");
    let port = crate::harness::free_port();
    let dir = Scratch::dir(&format!("hapee-rings-{}-{port}", std::process::id()));
    let sock = dir.join("admin.sock");
    let config = format!(
        "global
    stats socket {} level admin
{}
frontend web
    bind 127.0.0.1:{port}
    option httplog
    log 127.0.0.1:{relay_udp} local0
    default_backend app

backend app
    server s1 {}

ring myring
    description \"My local buffer\"
    format rfc5424
    maxlen 1200
    size 32764
    timeout connect 5s
    timeout server 10s
    server collector 127.0.0.1:{collector} log-proto octet-count

log-forward syslog2ring
    dgram-bind 127.0.0.1:{relay_udp}
    log ring@myring local0

log-forward tcp2udp
    bind 127.0.0.1:{relay_tcp}
    maxconn 10
    timeout client 10s
    log 127.0.0.1:{out_port} local0
",
        sock.display(),
        crate::harness::DEFAULTS,
        origin.addr
    );
    let proxy = crate::harness::Proxy::start(&config, port);
    let (status, _) = crate::harness::curl(&[&format!("http://127.0.0.1:{port}/forwarded")]);
    assert_eq!(status, 200);
    // The frontend's log line: UDP to the log-forward section, into the ring (RFC 5424
    // header, the proxy's own tag), then over TCP to the collector.
    // (The harness's readiness probe is logged first, as a `<BADREQ>`.)
    let frame = loop {
        let frame = frames
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no frame reached the collector: {}", proxy.stderr()));
        if frame.contains("/forwarded") {
            break frame;
        }
    };
    assert!(frame.starts_with("<134>1 "), "{frame}");
    assert!(frame.contains(" web app/s1 "), "{frame}");
    assert!(frame.ends_with("\"GET /forwarded HTTP/1.1\""), "{frame}");
    let events = crate::api::ask(&sock, "show events myring\n");
    assert!(events.contains("GET /forwarded"), "{events}");
    assert!(crate::api::ask(&sock, "show events\n")
        .contains("    myring     : type=buffer, 0 dropped, My local buffer\n"));
    // TCP syslog in, octet-counted and newline-framed, out over UDP with its own program name.
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", relay_tcp)).unwrap();
    let first = "<13>Dec  3 18:02:32 myapp[77]: first message";
    tcp.write_all(
        format!(
            "{} {first}<14>Dec  3 18:02:33 host2 other: second\n",
            first.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while got.len() < 2 {
        let n = out.recv(&mut buf).expect("a relayed message");
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(got[0].starts_with("<13>"), "{got:?}");
    assert!(got[0].ends_with(" myapp[77]: first message"), "{got:?}");
    assert!(got[1].starts_with("<14>"), "{got:?}");
    assert!(got[1].ends_with(" other: second"), "{got:?}");
}

/// A ring server without `log-proto` gets each message on a line of its own (`legacy`, the
/// default), and with `log-proto octet-count` after its length, as HAProxy sends them.
#[test]
fn ring_servers_frame_messages_as_their_log_proto_says() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    let collector = || {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let keep = got.clone();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    keep.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            }
        });
        (addr, got)
    };
    let fixture = || (collector(), collector());
    type Collected = (std::net::SocketAddr, Arc<Mutex<Vec<u8>>>);
    let cfg = |port: u16, ((legacy, _), (counted, _)): &(Collected, Collected)| {
        format!(
            "{}frontend web
    bind 127.0.0.1:{port}
    log 127.0.0.1:{relay} local0
    log-format \"hit %HU\"
    http-request return status 200
log-forward relay
    dgram-bind 127.0.0.1:{relay}
    log ring@lines local0
    log ring@counted local0
ring lines
    format raw
    maxlen 200
    size 32764
    timeout connect 1s
    timeout server 1s
    server c {legacy}
ring counted
    format raw
    maxlen 200
    size 32764
    timeout connect 1s
    timeout server 1s
    server c {counted} log-proto octet-count
",
            crate::harness::DEFAULTS,
            relay = port + 1
        )
    };
    let (mine, theirs) =
        crate::harness::both_sides(2, fixture, cfg, |port, ((_, lines), (_, counted)), _| {
            crate::harness::curl(&[&format!("http://127.0.0.1:{port}/framed")]);
            let text = |got: &Arc<Mutex<Vec<u8>>>| {
                String::from_utf8_lossy(&got.lock().unwrap()).to_string()
            };
            crate::harness::wait_until(Duration::from_secs(10), || {
                text(lines).contains("/framed") && text(counted).contains("/framed")
            });
            // The harness's readiness probe may be logged first.
            let last = |t: String| t.rsplit_once("hit ").map(|(_, m)| m.to_string());
            let counted_text = text(counted);
            let length = counted_text.rsplit_once(" hit ").and_then(|(before, _)| {
                before
                    .rsplit(|c: char| !c.is_ascii_digit())
                    .next()
                    .map(str::to_string)
            });
            (last(text(lines)), last(counted_text), length)
        });
    assert_eq!(
        mine,
        (
            Some("/framed\n".to_string()),
            Some("/framed".to_string()),
            Some("11".to_string())
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

#[test]
fn a_frontend_logs_into_a_ring_that_show_events_reads() {
    let sock_name = |port: u16| format!("hapee-ring-{}-{port}.sock", std::process::id());
    let sock = |port: u16| std::env::temp_dir().join(sock_name(port));
    // Each side's socket, removed once the comparison is over.
    let sockets = std::cell::RefCell::new(Vec::new());
    let cfg = |port: u16| {
        sockets.borrow_mut().push(Scratch::file(&sock_name(port)));
        format!(
            "global
    stats socket {} level admin
{}
frontend web
    bind 127.0.0.1:{port}
    log ring@lines local0
    option httplog
    http-request return status 200

ring lines
    format rfc5424
    size 32764
",
            sock(port).display(),
            crate::harness::DEFAULTS,
        )
    };
    let drive = |port: u16| {
        let (status, _) = crate::harness::curl(&[&format!("http://127.0.0.1:{port}/ringed")]);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let events = crate::api::ask(&sock(port), "show events lines\n");
            if events.contains("/ringed") || Instant::now() > deadline {
                let line = events.lines().find(|l| l.contains("/ringed"));
                // The RFC 5424 header and the request line, without the varying fields.
                break (
                    status,
                    line.map(|l| (l.starts_with("<134>1 "), l.contains(" web web/<NOSRV> "))),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let (mine, theirs) = crate::harness::both(cfg, drive);
    assert_eq!(mine, (200, Some((true, true))));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
