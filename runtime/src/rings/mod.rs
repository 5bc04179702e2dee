//! Rings: bounded in-memory buffers of messages (HAProxy's `ring` sections and its built-in
//! `buf0`). Log lines (`log ring@<name>`) and traces are written to them; `show events`
//! reads them back, and a ring's `server` lines forward every message to syslog servers over
//! TCP (octet-counted framing, RFC 6587). `log-forward` sections (`forward`) receive syslog
//! and relay it to their `log` targets.

pub mod forward;
pub mod syslog;

use hapee_compiler::plan::rings::RingPlan;
use hapee_compiler::plan::{LogHeader, Plan};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// One ring and its lines, each with a sequence number so readers can follow it.
pub struct Ring {
    pub name: String,
    pub description: String,
    pub format: LogHeader,
    pub maxlen: usize,
    size: usize,
    lines: Mutex<Lines>,
    notify: tokio::sync::Notify,
}

#[derive(Default)]
struct Lines {
    lines: VecDeque<(u64, String)>,
    bytes: usize,
    next: u64,
    dropped: u64,
}

impl Ring {
    fn new(name: &str, description: &str, format: LogHeader, maxlen: usize, size: usize) -> Ring {
        Ring {
            name: name.to_string(),
            description: description.to_string(),
            format,
            maxlen,
            size,
            lines: Mutex::new(Lines::default()),
            notify: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a message (cut at `maxlen`), dropping the oldest ones beyond the ring's size.
    pub fn push(&self, message: &str) {
        let mut text = message.to_string();
        if text.len() > self.maxlen {
            let mut cut = self.maxlen;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let mut l = self.lock();
        l.bytes += text.len();
        let seq = l.next;
        l.next += 1;
        l.lines.push_back((seq, text));
        while l.bytes > self.size {
            let Some((_, old)) = l.lines.pop_front() else {
                break;
            };
            l.bytes -= old.len();
            l.dropped += 1;
        }
        drop(l);
        self.notify.notify_waiters();
    }

    /// The lines from sequence number `from` on, and the next sequence number.
    pub fn since(&self, from: u64) -> (Vec<String>, u64) {
        let l = self.lock();
        let lines = l
            .lines
            .iter()
            .filter(|(seq, _)| *seq >= from)
            .map(|(_, t)| t.clone())
            .collect();
        (lines, l.next)
    }

    /// Messages pushed out by newer ones before anything read them.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Waits for a new message (or a short while: a message pushed between a reader's last
    /// look and this wait is then seen on the next look).
    pub async fn changed(&self) {
        let _ = tokio::time::timeout(Duration::from_millis(250), self.notify.notified()).await;
    }
}

/// HAProxy's built-in ring: 1 MB, raw messages.
pub const BUF0: &str = "buf0";

fn registry() -> &'static RwLock<Vec<Arc<Ring>>> {
    static RINGS: OnceLock<RwLock<Vec<Arc<Ring>>>> = OnceLock::new();
    RINGS.get_or_init(|| {
        RwLock::new(vec![Arc::new(Ring::new(
            BUF0,
            "in-memory ring buffer",
            LogHeader::Raw,
            1 << 20,
            1 << 20,
        ))])
    })
}

/// The ring named `name`.
pub fn get(name: &str) -> Option<Arc<Ring>> {
    registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|r| r.name == name)
        .cloned()
}

/// The built-in `buf0`.
pub fn buf0() -> Arc<Ring> {
    get(BUF0).unwrap_or_else(|| Arc::new(Ring::new(BUF0, "", LogHeader::Raw, 1 << 20, 1 << 20)))
}

/// Every ring, in declaration order after `buf0`.
pub fn all() -> Vec<Arc<Ring>> {
    registry().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Declares the configuration's rings (before the log targets that name them are opened).
pub fn configure(rings: &[RingPlan]) {
    let mut list = registry().write().unwrap_or_else(|e| e.into_inner());
    for r in rings {
        let ring = Arc::new(Ring::new(
            &r.name,
            r.description.as_deref().unwrap_or(""),
            r.format,
            r.maxlen,
            r.size,
        ));
        list.retain(|x| x.name != r.name);
        list.push(ring);
    }
}

/// Declares the rings, binds the log-forward listeners (errors name them) and runs the
/// forwarding on a thread of its own.
pub fn start(plan: &Plan) -> Result<(), Vec<String>> {
    configure(&plan.rings);
    let listeners = forward::bind_all(&plan.log_forwards, &plan.global.log_tag)?;
    let mut errors = Vec::new();
    let mut forwarders = Vec::new();
    for r in &plan.rings {
        let Some(ring) = get(&r.name) else { continue };
        for (name, addr, tls, octet_count) in &r.servers {
            let tls = match tls {
                Some(t) => {
                    let mut warnings = Vec::new();
                    let built = crate::tls::client::ServerTlsConfig::build(t, &mut warnings);
                    for w in warnings {
                        eprintln!(
                            "[WARNING]  ({}) : ring '{}' server '{name}': {w}",
                            std::process::id(),
                            r.name
                        );
                    }
                    match built {
                        Ok(c) => Some(Arc::new(c)),
                        Err(e) => {
                            errors.push(format!("ring '{}' server '{name}': {e}", r.name));
                            continue;
                        }
                    }
                }
                None => None,
            };
            forwarders.push(Forwarder {
                ring: ring.clone(),
                addr: addr.strip_prefix("tcp@").unwrap_or(addr).to_string(),
                connect: Duration::from_millis(u64::from(r.timeout_connect.max(1))),
                tls,
                octet_count: *octet_count,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if listeners.is_empty() && forwarders.is_empty() {
        return Ok(());
    }
    crate::side_thread::spawn("hapee-rings", move || async move {
        for f in forwarders {
            tokio::task::spawn_local(send_to_server(f));
        }
        for l in listeners {
            l.spawn();
        }
        std::future::pending::<()>().await;
    })
    .map(|_| ())
    .map_err(|e| vec![format!("cannot start the ring forwarding thread: {e}")])
}

/// One ring `server` line: where its messages go, and how.
struct Forwarder {
    /// `log-proto octet-count`: each message after its length; else each on its own line.
    octet_count: bool,
    ring: Arc<Ring>,
    addr: String,
    connect: Duration,
    /// `ssl`: syslog over TLS.
    tls: Option<Arc<crate::tls::client::ServerTlsConfig>>,
}

/// Connects to a ring's server, over TLS when it has `ssl`.
async fn open(f: &Forwarder) -> Option<Box<dyn tokio::io::AsyncWrite + Unpin>> {
    let tcp = tokio::time::timeout(f.connect, tokio::net::TcpStream::connect(&f.addr))
        .await
        .ok()?
        .ok()?;
    let Some(tls) = &f.tls else {
        return Some(Box::new(tcp));
    };
    let peer = tcp.peer_addr().ok()?;
    let host = f.addr.rsplit_once(':').map_or(f.addr.as_str(), |(h, _)| h);
    let name = rustls_pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .unwrap_or_else(|_| rustls_pki_types::ServerName::IpAddress(peer.ip().into()));
    let stream = tls.handshake(name, tcp, f.connect).await?;
    Some(Box::new(stream))
}

/// Sends a ring's messages to a TCP syslog server, each as `<length> <message>` or a line
/// (RFC 6587's two framings), from the oldest one still in the ring; reconnects after a
/// failure.
async fn send_to_server(f: Forwarder) {
    let ring = &f.ring;
    let mut from = 0;
    loop {
        let Some(mut stream) = open(&f).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        loop {
            let (lines, next) = ring.since(from);
            let mut frames = Vec::new();
            for l in &lines {
                // The bytes a log line carries ([`hapee_compiler::bytestr`]), not its text.
                let l = hapee_compiler::bytestr::to_bytes(l);
                if f.octet_count {
                    frames.extend_from_slice(format!("{} ", l.len()).as_bytes());
                }
                frames.extend_from_slice(&l);
                if !f.octet_count {
                    frames.push(b'\n');
                }
            }
            if !frames.is_empty()
                && (stream.write_all(&frames).await.is_err() || stream.flush().await.is_err())
            {
                break;
            }
            from = next;
            ring.changed().await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_keep_their_newest_lines() {
        let r = Ring::new("t", "", LogHeader::Raw, 8, 19);
        r.push("0123456789abc");
        assert_eq!(r.since(0).0, vec!["01234567".to_string()]);
        r.push("second");
        r.push("third!");
        let (lines, next) = r.since(0);
        assert_eq!(lines, vec!["second".to_string(), "third!".to_string()]);
        assert_eq!(next, 3);
        assert_eq!(r.dropped(), 1);
        assert_eq!(r.since(2).0, vec!["third!".to_string()]);
    }
}
