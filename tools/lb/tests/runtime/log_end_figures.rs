//! The connection counters of a log line (`%ac/%fc/%bc/%sc/%rc`, in `option httplog` and
//! `option tcplog`) are read when the line is written, as HAProxy reads them: the stream has
//! let its server and its backend go, while its client connection still counts. With requests
//! queued behind a server's single slot, each line counts the ones still waiting. Side by side
//! with haproxy.
//!
//! And the timers: a request no backend takes (`use_backend %[…]` naming none, no default)
//! logs `%TR`, `%Tq` and `%Td` -1 as HAProxy does, and a kept-alive connection's next request
//! counts its idle time in `%Tt` (not out of `%Ta`).

use crate::harness::*;
use crate::queues::queue_of;
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// A holding server's address and the requests that reach it.
type Server = (SocketAddr, mpsc::Receiver<(String, mpsc::Sender<()>)>);

/// A server that holds each request until the test lets it answer: every request (its first
/// line, or a TCP client's first bytes) comes out of the receiver with its release. The
/// answer closes the connection.
fn holding_server(http: bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (arrived, arrivals) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let arrived = arrived.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while got.is_empty() || (http && !got.windows(4).any(|w| w == b"\r\n\r\n")) {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let first = String::from_utf8_lossy(&got);
                let first = first.lines().next().unwrap_or("").to_string();
                let (release, released) = mpsc::channel();
                if arrived.send((first, release)).is_err() || released.recv().is_err() {
                    return;
                }
                let answer: &[u8] = if http {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                } else {
                    b"pong"
                };
                let _ = conn.write_all(answer);
            });
        }
    });
    (addr, arrivals)
}

/// The configuration of the proxy on `port`; the guard of its socket's folder joins `dirs`,
/// which the test keeps until both sides are done.
fn config(port: u16, server: SocketAddr, mode: &str, dirs: &RefCell<Vec<Scratch>>) -> String {
    dirs.borrow_mut().push(Scratch::dir(&socket_dir_name(port)));
    let sock = socket_path(port);
    format!(
        "global
    nbthread 1
    log stdout format raw local0
    stats socket {} level admin
defaults
    mode {mode}
    log global
    option {mode}log
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout queue 30s
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 {server} maxconn 1
",
        sock.display()
    )
}

/// The folder of the stats socket of the proxy on `port`, under the temp folder.
fn socket_dir_name(port: u16) -> String {
    format!("hapee-logconns-{}-{port}", std::process::id())
}

/// Where the proxy on `port` has its stats socket.
fn socket_path(port: u16) -> std::path::PathBuf {
    std::env::temp_dir()
        .join(socket_dir_name(port))
        .join("admin.sock")
}

/// The `%ac/%fc/%bc/%sc/%rc %sq/%bq` fields of the lines of frontend `fe`, in order.
fn counters(log: &str, http: bool) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(" fe app/s1 "))
        .map(|l| {
            let words: Vec<&str> = l.split(' ').collect();
            // After them, httplog has the request line's three words.
            let end = words.len() - if http { 3 } else { 0 };
            words[end - 2..end].join(" ")
        })
        .collect()
}

/// Four clients on their own connections: the first holds the server's slot and three queue
/// behind it, each sent once the one before is counted in the backend's queue. Then each is
/// let through in turn, its line read before the next goes: HTTP clients keep their
/// connections open, TCP ones close theirs once answered.
fn drive_queued(port: u16, side: &Side, server: &Server, http: bool) -> Vec<String> {
    let sock = socket_path(port);
    let (_, arrivals) = server;
    let next = || arrivals.recv_timeout(Duration::from_secs(20)).unwrap();
    let mut clients = Vec::new();
    let mut holder = None;
    for i in 0..4 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let sent = if http {
            format!("GET /c{i} HTTP/1.1\r\nHost: q\r\n\r\n")
        } else {
            format!("ping{i}")
        };
        c.write_all(sent.as_bytes()).unwrap();
        clients.push(c);
        if i == 0 {
            holder = Some(next());
            continue;
        }
        let waiting = i;
        assert!(
            wait_until(Duration::from_secs(20), || queue_of(&sock, "app,BACKEND").0
                == waiting),
            "{}: request {i} not queued",
            side.name()
        );
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let (first, release) = holder.take().unwrap_or_else(next);
        let want = if http {
            format!("GET /c{i} ")
        } else {
            format!("ping{i}")
        };
        assert!(first.starts_with(&want), "{}: {first}", side.name());
        release.send(()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        let answered = |got: &[u8]| got.ends_with(if http { b"\r\n\r\nok" } else { b"pong" });
        while !answered(&got) {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        assert!(
            answered(&got),
            "{}: {}",
            side.name(),
            String::from_utf8_lossy(&got)
        );
        if !http {
            c.shutdown(std::net::Shutdown::Both).unwrap();
        }
        side.stdout_when(|log| counters(log, http).len() > i);
    }
    counters(&side.stdout(), http)
}

#[test]
fn httplog_counters_are_read_when_the_line_is_written() {
    let dirs = RefCell::new(Vec::new());
    let (mine, theirs) = both_sides(
        1,
        || holding_server(true),
        |port, s| config(port, s.0, "http", &dirs),
        |port, s, side| drive_queued(port, side, s, true),
    );
    // The first line counts the three requests still waiting on the backend, none on the
    // server (the slot went back before the line), and all four client connections.
    assert_eq!(
        mine,
        [
            "4/4/3/0/0 0/0",
            "4/4/2/0/0 0/1",
            "4/4/1/0/0 0/2",
            "4/4/0/0/0 0/3"
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn tcplog_counters_are_read_when_the_line_is_written() {
    let dirs = RefCell::new(Vec::new());
    let (mine, theirs) = both_sides(
        1,
        || holding_server(false),
        |port, s| config(port, s.0, "tcp", &dirs),
        |port, s, side| drive_queued(port, side, s, false),
    );
    // Each client closed before the next was let through: one connection fewer each time.
    assert_eq!(
        mine,
        [
            "4/4/3/0/0 0/0",
            "3/3/2/0/0 0/1",
            "2/2/1/0/0 0/2",
            "1/1/0/0/0 0/3"
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// A dynamic `use_backend` whose name names no backend, and no default: the frontend answers
/// 503 without any backend's request processing, and HAProxy logs `%TR`, `%Tq` and `%Td` -1
/// (a request a backend took logs them as numbers, `%Td` -1 when no server answered).
#[test]
fn a_request_no_backend_takes_logs_no_request_time() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"%HU %b/%s %TR/%Tw/%Tc/%Tr/%Ta Tq=%Tq Td=%Td %ST %ts\"
    use_backend %[req.hdr(x-be)]
backend app
    http-request return status 200 if {{ path /ret }}
    server s1 127.0.0.1:1
"
        )
    };
    // The durations of a request the backend answered vary: whether each is -1 is compared.
    let shape = |line: &str| -> String {
        line.split([' ', '/', '='])
            .map(|w| match w.parse::<i64>() {
                Ok(-1) => "-1",
                Ok(_) => "n",
                Err(_) => w,
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.starts_with("/none") || l.starts_with("/ret"))
            .map(shape)
            .collect()
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let none = curl(&[&format!("http://127.0.0.1:{port}/none"), "-H", "x-be: nope"]).0;
        let ret = curl(&[&format!("http://127.0.0.1:{port}/ret"), "-H", "x-be: app"]).0;
        (none, ret, side.selected(lines, 2))
    });
    assert_eq!(
        mine,
        (
            503,
            200,
            vec![
                shape("/none fe/<NOSRV> -1/-1/-1/-1/0 Tq=-1 Td=-1 503 SC"),
                shape("/ret app/<NOSRV> 0/-1/-1/-1/0 Tq=0 Td=-1 200 LR"),
            ]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// A second request on a kept-alive connection, after the client waited: `%Ti` holds the wait,
/// `%Ta` the request's own time, and `%Tt` both (hapee logged `%Ta` negative and `%Tt`
/// without the wait). Side by side with haproxy.
#[test]
fn a_kept_alive_request_counts_its_idle_time_in_tt() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"T %HU %Ti %Ta %Tt\"
    default_backend app
backend app
    server s1 {}
",
            origin.addr
        )
    };
    // Whether the idle time is there and the three add up.
    let timers = |log: &str| -> Vec<(String, bool)> {
        log.lines()
            .filter_map(|l| l.strip_prefix("T "))
            .map(|l| {
                let w: Vec<&str> = l.split(' ').collect();
                let n = |i: usize| w.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(-1);
                let (ti, ta, tt) = (n(1), n(2), n(3));
                (w[0].to_string(), ti >= 200 && ta >= 0 && tt == ti + ta)
            })
            .collect()
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        for path in ["/first", "/second"] {
            if path == "/second" {
                // The idle time to measure, not a wait for anything.
                std::thread::sleep(Duration::from_millis(250));
            }
            c.write_all(format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&got).contains("body=") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        }
        side.selected(timers, 2)
    });
    assert_eq!(
        mine,
        [("/first".to_string(), false), ("/second".to_string(), true)]
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
