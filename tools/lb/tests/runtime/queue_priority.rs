//! `set-priority-class` and `set-priority-offset` order a server's queue: with one slot
//! (`maxconn 1`) held by a slow request, the waiting ones are served by class (lower first),
//! then by their entry time moved by their offset (earlier first), whatever order they came
//! in. Side by side with Debian's haproxy.

use super::api::stat_row;
use super::harness::{both_sides, connect, wait_until, Origin};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn config(port: u16, origin: &Origin) -> String {
    format!(
        "global
    stats socket ipv4@127.0.0.1:{} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout queue 10s
frontend fe
    bind 127.0.0.1:{port}
    http-request set-priority-class int(5) if {{ url_param(id) -m str late }}
    http-request set-priority-class int(-5) if {{ url_param(id) -m str urgent }}
    http-request set-priority-offset int(-2000) if {{ url_param(id) -m str early }}
    default_backend app
backend app
    server s1 {} maxconn 1
",
        port + 1,
        origin.addr
    )
}

/// The server's current sessions and the requests its backend queues (HAProxy queues them on
/// the backend when no server has room, hapee on the server: the backend counts both), from
/// `show stat` on the CLI at `cli`.
fn server_load(cli: u16) -> (String, String) {
    let mut s = connect(("127.0.0.1", cli));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"show stat\n").unwrap();
    let mut csv = String::new();
    let _ = s.read_to_string(&mut csv);
    let server = stat_row(&csv, "app", "s1");
    let backend = stat_row(&csv, "app", "BACKEND");
    (server["scur"].clone(), backend["qcur"].clone())
}

/// The ids of the requests in the order their answers came.
fn served_order(port: u16) -> Vec<String> {
    let done = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    // The first takes the only slot for three seconds; the others queue behind it, each
    // sent once the one before it is in the queue.
    for (queued, id) in ["first", "late", "plain", "early", "urgent"]
        .into_iter()
        .enumerate()
    {
        let done = done.clone();
        threads.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let ms = if id == "first" { 3000 } else { 50 };
            let req =
                format!("GET /slow/{ms}?id={id} HTTP/1.1\r\nHost: q\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/1.1 200") {
                done.lock().unwrap().push(id.to_string());
            }
        }));
        let load = ("1".to_string(), queued.to_string());
        let there = wait_until(Duration::from_secs(10), || server_load(port + 1) == load);
        assert!(
            there,
            "{id}: (scur, qcur) never {load:?}: {:?}",
            server_load(port + 1)
        );
    }
    for t in threads {
        t.join().unwrap();
    }
    let order = done.lock().unwrap().clone();
    order
}

#[test]
fn queued_requests_are_served_by_priority() {
    let (mine, theirs) = both_sides(
        2,
        || Origin::start("o"),
        config,
        |port, _, _| served_order(port),
    );
    assert_eq!(
        mine,
        ["first", "urgent", "early", "plain", "late"],
        "{mine:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
