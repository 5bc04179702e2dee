//! HTTP/2 clients through a reload: an old worker's graceful stop must cost them no request,
//! including the ones a client queues on reading a response and drops itself when a GOAWAY
//! comes in the same read (as nghttp2 does: h2load, nghttp, curl).

use crate::h2_wire::frame;
use crate::harness::*;
use crate::reload::{master_cli, start_master, wait_new_worker, workers};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Streams each client keeps open, as `h2load -m10`.
const IN_FLIGHT: u32 = 10;

/// `GET /` to host `t`, HPACK-coded from the static table and literals (no dynamic table).
const REQUEST_BLOCK: [u8; 6] = [0x82, 0x86, 0x84, 0x01, 0x01, b't'];

/// What one client saw.
#[derive(Default)]
struct Tally {
    answered: usize,
    failures: Vec<String>,
    /// Whether the server said GOAWAY before the connection ended.
    goaway: bool,
}

/// An HTTP/2 client that behaves as nghttp2 does around a GOAWAY: it reads all that waits on
/// the socket (after a short pause, so responses pile up as on a busy client), queues a new
/// request for each response that ends, answers PINGs ahead of those requests, and sends
/// what it queued only after the read. A GOAWAY met in the read drops the queued requests
/// (counted as failures); a GOAWAY whose last stream is below an open stream, a reset or the
/// connection's end with streams open fail those streams.
fn client(port: u16, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // SETTINGS_INITIAL_WINDOW_SIZE 2^30 and as much for the connection.
    out.extend(frame(4, 0, 0, &[0, 4, 0x40, 0, 0, 0]));
    out.extend(frame(8, 0, 0, &0x4000_0000u32.to_be_bytes()));
    let mut next_id = 1u32;
    let mut open: Vec<(u32, bool)> = Vec::new(); // (stream, status 200 seen)
    for _ in 0..IN_FLIGHT {
        out.extend(frame(1, 0x5, next_id, &REQUEST_BLOCK));
        open.push((next_id, false));
        next_id += 2;
    }
    s.write_all(&out).unwrap();
    let mut pending = Vec::new();
    let mut chunk = vec![0u8; 65536];
    loop {
        // One read as nghttp2's event loop does it: wait for bytes, then take all there is.
        s.set_nonblocking(false).unwrap();
        let mut eof = match s.read(&mut chunk) {
            Ok(0) => true,
            Ok(n) => {
                pending.extend_from_slice(&chunk[..n]);
                false
            }
            Err(e) => {
                tally.failures.push(format!("read: {e}"));
                return tally;
            }
        };
        std::thread::sleep(Duration::from_millis(20));
        s.set_nonblocking(true).unwrap();
        while !eof {
            match s.read(&mut chunk) {
                Ok(0) => eof = true,
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => eof = true,
            }
        }
        let (mut urgent, mut requests) = (Vec::new(), Vec::new());
        let mut queued = 0;
        let mut goaway_now = false;
        while pending.len() >= 9 {
            let len = u32::from_be_bytes([0, pending[0], pending[1], pending[2]]) as usize;
            if pending.len() < 9 + len {
                break;
            }
            let (kind, flags) = (pending[3], pending[4]);
            let id =
                u32::from_be_bytes([pending[5], pending[6], pending[7], pending[8]]) & !(1 << 31);
            let payload = pending[9..9 + len].to_vec();
            pending.drain(..9 + len);
            match kind {
                4 if flags & 1 == 0 => urgent.extend(frame(4, 1, 0, &[])),
                6 if flags & 1 == 0 => urgent.extend(frame(6, 1, 0, &payload)),
                7 => {
                    let last = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                    tally.goaway = true;
                    goaway_now = true;
                    for (stream, _) in open.iter().filter(|(st, _)| *st > last) {
                        tally
                            .failures
                            .push(format!("stream {stream} refused by GOAWAY({last})"));
                    }
                    open.retain(|(st, _)| *st <= last);
                }
                3 => {
                    tally.failures.push(format!("stream {id} reset"));
                    open.retain(|(st, _)| *st != id);
                }
                0 | 1 => {
                    if kind == 1 && payload.first() == Some(&0x88) {
                        if let Some(o) = open.iter_mut().find(|(st, _)| *st == id) {
                            o.1 = true;
                        }
                    }
                    if flags & 1 == 1 {
                        if let Some(at) = open.iter().position(|(st, _)| *st == id) {
                            let (_, ok) = open.remove(at);
                            if ok {
                                tally.answered += 1;
                            } else {
                                tally.failures.push(format!("stream {id}: not a 200"));
                            }
                            if !tally.goaway && Instant::now() < deadline {
                                queued += 1;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if goaway_now && queued > 0 {
            tally.failures.push(format!(
                "{queued} queued requests dropped: a GOAWAY came in the read with their responses"
            ));
            queued = 0;
        }
        for _ in 0..queued {
            requests.extend(frame(1, 0x5, next_id, &REQUEST_BLOCK));
            open.push((next_id, false));
            next_id += 2;
        }
        urgent.extend(requests);
        if !urgent.is_empty() && !eof {
            s.set_nonblocking(false).unwrap();
            if let Err(e) = s.write_all(&urgent) {
                tally.failures.push(format!("write: {e}"));
                return tally;
            }
        }
        if eof || (open.is_empty() && (tally.goaway || Instant::now() >= deadline)) {
            for (stream, _) in &open {
                tally
                    .failures
                    .push(format!("stream {stream}: the connection ended first"));
            }
            return tally;
        }
    }
}

fn config(port: u16, origin: &Origin) -> String {
    format!(
        "global
    hard-stop-after 30s
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server s {}
",
        origin.addr
    )
}

#[test]
fn a_reload_costs_http2_clients_no_stream() {
    let origin = Origin::start("o");
    let port = free_port();
    let (proxy, cli) = start_master(&config(port, &origin), port);
    let (first, _) = workers(&master_cli(&cli, "show proc"));
    // Eight connections keep ten streams each in flight until the old worker's GOAWAY.
    let stop_by = Instant::now() + Duration::from_secs(8);
    let clients: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || client(port, stop_by)))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    proxy.signal("USR2");
    wait_new_worker(&cli, first[0]);
    let mut answered = 0;
    for c in clients {
        let tally = c.join().unwrap();
        assert!(tally.failures.is_empty(), "{:?}", tally.failures);
        assert!(tally.goaway, "the old worker said GOAWAY to each client");
        answered += tally.answered;
    }
    assert!(answered > 40, "only {answered} streams were answered");
}
