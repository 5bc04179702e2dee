//! The first health checks at start are spread over the check interval (capped by
//! `max-spread-checks`) rather than all sent at once, as Debian's haproxy spreads them.

use super::harness::{both_with, wait_until};
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Servers that note when each was first connected to (by a check), and greet each
/// connection with `+OK` (the check waits for it: a connect-only check from haproxy resets
/// the connection before it can be accepted).
struct FirstContacts {
    ports: Vec<u16>,
    first: Arc<Mutex<Vec<Option<Instant>>>>,
}

impl FirstContacts {
    fn start(count: usize) -> FirstContacts {
        let first = Arc::new(Mutex::new(vec![None; count]));
        let ports = (0..count)
            .map(|i| {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let port = listener.local_addr().unwrap().port();
                let first = first.clone();
                std::thread::spawn(move || {
                    for conn in listener.incoming() {
                        let now = Instant::now();
                        first.lock().unwrap()[i].get_or_insert(now);
                        if let Ok(mut conn) = conn {
                            let _ = conn.write_all(b"+OK\r\n");
                        }
                    }
                });
                port
            })
            .collect();
        FirstContacts { ports, first }
    }

    /// Each server's first contact, in milliseconds after the earliest one, once every
    /// server has been contacted (`None` if one was not within 30 s).
    fn offsets(&self) -> Option<Vec<u64>> {
        let all = || self.first.lock().unwrap().iter().all(Option::is_some);
        if !wait_until(Duration::from_secs(30), all) {
            return None;
        }
        let first: Vec<Instant> = self
            .first
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .copied()
            .collect();
        let earliest = *first.iter().min()?;
        Some(
            first
                .iter()
                .map(|t| t.duration_since(earliest).as_millis() as u64)
                .collect(),
        )
    }
}

fn config(port: u16, global: &str, inter: &str, servers: &FirstContacts) -> String {
    let servers: String = servers
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server s{i} 127.0.0.1:{p} check inter {inter}\n"))
        .collect();
    format!(
        "global
    nbthread 1
{global}
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    option tcp-check
    tcp-check expect string +OK
{servers}"
    )
}

/// The first contacts of four servers checked under `global` every `inter`, in hapee and
/// (when installed) in haproxy.
fn first_contacts(global: &'static str, inter: &'static str) -> (Vec<u64>, Option<Vec<u64>>) {
    let (ours, theirs) = both_with(
        || FirstContacts::start(4),
        |port, servers| config(port, global, inter, servers),
        |_, servers| servers.offsets(),
    );
    let ours = ours.expect("every server checked by hapee");
    let theirs = theirs.map(|t| t.expect("every server checked by haproxy"));
    (ours, theirs)
}

/// Checked in the servers' order, the last well after the first.
fn spread_in_order(offsets: &[u64], at_least: u64) -> bool {
    offsets.windows(2).all(|w| w[0] < w[1]) && offsets[offsets.len() - 1] >= at_least
}

#[test]
fn first_checks_are_spread_over_the_interval() {
    // Every 2 s, four servers: first checks near 0, 0.5, 1 and 1.5 s (the bounds are loose,
    // the machine being shared; sent at once, they would be a few ms apart in any order).
    let (ours, theirs) = first_contacts("", "2s");
    assert!(spread_in_order(&ours, 700), "hapee: {ours:?}");
    if let Some(theirs) = theirs {
        assert!(spread_in_order(&theirs, 700), "haproxy: {theirs:?}");
    }
}

#[test]
fn max_spread_checks_caps_the_spread() {
    // Every 20 s, the first checks would spread over 15 s; capped at 1 s, they come within
    // about 0.75 s of the first one.
    let (ours, theirs) = first_contacts("    max-spread-checks 1s", "20s");
    let within = |o: &[u64]| o.iter().all(|&t| t < 10_000) && spread_in_order(o, 300);
    assert!(within(&ours), "hapee: {ours:?}");
    if let Some(theirs) = theirs {
        assert!(within(&theirs), "haproxy: {theirs:?}");
    }
}
