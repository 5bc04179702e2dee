//! The sockets of the peers sections: each process listens on its own `peer` address,
//! connects to every other peer (again 5 s after a session ends or fails, as HAProxy does),
//! answers hellos, and drives one `Link` per peer. A newer session with a peer replaces the
//! older, so that two processes dialling each other settle on one. On start each section
//! asks one peer for a full lesson (resynchronisation) before it teaches its own updates.
//!
//! Links run over TLS when the section says so (`bind … ssl crt …` or `default-bind ssl …` for
//! the listener, `ssl` on a `server`/`peer` line or `default-server` for the links this
//! process opens), with the same rustls configurations as frontends and servers.
//!
//! On a reload the tables carry over through the local peer, as in HAProxy: the stopping
//! process closes its peers listener, connects to its own `peer` address (now answered by
//! the process that replaces it) under its own name, and teaches it everything it holds.

use super::codec::{self, decode, encode, CLASS_CONTROL, CTRL_HEARTBEAT};
use super::link::{Event, Link};
use crate::tables::{now_ms, Table};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A link's byte stream: plain TCP or TLS over it.
trait PeerIo: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> PeerIo for T {}
type Stream = Box<dyn PeerIo>;

/// How a link this process opens speaks TLS: the client configuration and the name given to
/// the other end.
#[derive(Clone)]
pub struct LinkTls {
    pub config: Arc<rustls::ClientConfig>,
    pub name: rustls_pki_types::ServerName<'static>,
}

/// Another peer of a section.
#[derive(Clone)]
pub struct Remote {
    pub name: String,
    pub address: String,
    pub shard: u32,
    pub tls: Option<LinkTls>,
}

const HEARTBEAT: Duration = Duration::from_secs(3);
/// A peer silent this long (no heartbeat) is gone; also the delay before dialling again.
const RECONNECT: Duration = Duration::from_secs(5);
const RESYNC_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a session looks for local updates to send.
const POLL: Duration = Duration::from_millis(50);

/// A peers section as this process runs it.
pub struct Section {
    pub name: String,
    pub local: String,
    pub listen: Option<SocketAddr>,
    /// TLS on the listener.
    pub listen_tls: Option<Arc<rustls::ServerConfig>>,
    /// TLS towards the local peer's address (a reload's hand-over).
    pub local_tls: Option<LinkTls>,
    /// The other peers.
    pub remotes: Vec<Remote>,
    pub tables: Vec<Arc<Table>>,
    pub max_updates: usize,
}

#[derive(Default)]
struct PeerState {
    /// Bumped by each new session; an older session that sees it moved ends.
    generation: Cell<u64>,
    active: Cell<bool>,
    /// The last update the peer acknowledged, per table.
    acked: RefCell<Vec<u32>>,
    next_connect: Cell<Option<Instant>>,
    /// It answered a lesson with "partial": not asked again.
    not_up_to_date: Cell<bool>,
}

/// Who the other end of a session is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counterpart {
    /// Another peer of the section.
    Remote,
    /// The process this one replaces, handing its tables over: we learn everything from it.
    OldSelf,
    /// The process that replaces this one: we teach it everything, then end.
    NewSelf,
}

struct Running {
    section: Section,
    /// One state per remote peer, then one for the local peer (this process's own name, the
    /// other end of a reload's hand-over).
    peers: Vec<PeerState>,
    resync_done: Cell<bool>,
    learning_from: Cell<Option<usize>>,
    resync_deadline: Cell<Instant>,
}

impl Running {
    fn up_to_date(&self) -> bool {
        if !self.resync_done.get() && Instant::now() >= self.resync_deadline.get() {
            // Nobody taught us in time: go on with what we have, as HAProxy does.
            self.resync_done.set(true);
        }
        self.resync_done.get()
    }
}

/// A section running on the current `LocalSet`.
pub struct Handle {
    run: Rc<Running>,
    listener: Option<tokio::task::JoinHandle<()>>,
}

/// Binds a section's listener (its local peer's address); a failure is reported, and the
/// section then runs without one.
pub fn bind(section: &Section) -> Option<std::net::TcpListener> {
    let addr = section.listen?;
    // Shared with the process a reload starts or stops (SO_REUSEPORT), as frontends are.
    crate::listener::bind(addr, 128)
        .map_err(|e| {
            eprintln!(
                "[ALERT]    ({}) : peers '{}': cannot bind {addr}: {e}",
                std::process::id(),
                section.name
            )
        })
        .ok()
}

/// Runs a section's listener (`bound` by [`bind`]) and dialers on the current `LocalSet`
/// until the process stops.
pub fn spawn(section: Section, bound: Option<std::net::TcpListener>) -> Handle {
    let peers = (0..=section.remotes.len())
        .map(|_| PeerState {
            acked: RefCell::new(vec![0; section.tables.len()]),
            ..Default::default()
        })
        .collect();
    let run = Rc::new(Running {
        section,
        peers,
        resync_done: Cell::new(false),
        learning_from: Cell::new(None),
        resync_deadline: Cell::new(Instant::now() + RESYNC_TIMEOUT),
    });
    if run.section.remotes.is_empty() {
        run.resync_done.set(true);
    }
    let listener = bound.map(|l| tokio::task::spawn_local(listen(run.clone(), l)));
    for i in 0..run.section.remotes.len() {
        tokio::task::spawn_local(dial(run.clone(), i));
    }
    Handle { run, listener }
}

/// A stopping process hands its tables to its successor: it closes its listener, so that its
/// own address reaches the new process only, connects there as the local peer, and teaches it
/// everything (bounded by the resynchronisation timeout). Nothing happens without a successor.
pub async fn hand_over(handle: Handle) {
    let Some(addr) = handle.run.section.listen else {
        return;
    };
    if let Some(listener) = handle.listener {
        listener.abort();
        let _ = listener.await;
    }
    let local = handle.run.section.local.clone();
    let tls = handle.run.section.local_tls.clone();
    let Some((stream, rest)) = connect(&addr.to_string(), &local, &local, tls.as_ref()).await
    else {
        return;
    };
    let i = handle.run.section.remotes.len();
    let teach = session(handle.run, i, stream, rest, Counterpart::NewSelf);
    let _ = tokio::time::timeout(RESYNC_TIMEOUT, teach).await;
}

async fn listen(run: Rc<Running>, bound: std::net::TcpListener) {
    let Ok(listener) = TcpListener::from_std(bound) else {
        return;
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::task::spawn_local(accept(run.clone(), stream));
    }
}

/// Reads lines until `n` of them came; answers them and the bytes after them.
async fn read_lines(stream: &mut Stream, n: usize) -> Option<(Vec<String>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let complete = buf.iter().filter(|b| **b == b'\n').count() >= n;
        if complete {
            let mut lines = Vec::new();
            let mut rest = &buf[..];
            for _ in 0..n {
                let end = rest.iter().position(|b| *b == b'\n')?;
                lines.push(String::from_utf8_lossy(&rest[..end]).trim_end().to_string());
                rest = &rest[end + 1..];
            }
            return Some((lines, rest.to_vec()));
        }
        if buf.len() > 4096 {
            return None;
        }
        let got = stream.read(&mut chunk).await.ok()?;
        if got == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..got]);
    }
}

async fn accept(run: Rc<Running>, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let mut stream: Stream = match &run.section.listen_tls {
        Some(config) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => Box::new(tls),
                _ => return,
            }
        }
        None => Box::new(tcp),
    };
    let hello = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_lines(&mut stream, 3)).await;
    let Ok(Some((lines, rest))) = hello else {
        return;
    };
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let remotes = &run.section.remotes;
    let local = &run.section.local;
    // Our own name: the process we replace, handing its tables over.
    let (status, peer) = codec::check_hello(&lines, local, |p| {
        p == local || remotes.iter().any(|r| r.name == p)
    });
    // Flushed: over TLS, written bytes may wait in the session until then.
    let answer = format!("{status}\n");
    if stream.write_all(answer.as_bytes()).await.is_err() || stream.flush().await.is_err() {
        return;
    }
    if peer.as_deref() == Some(local.as_str()) {
        let i = remotes.len();
        return session(run, i, stream, rest, Counterpart::OldSelf).await;
    }
    let Some(i) = peer.and_then(|p| remotes.iter().position(|r| r.name == p)) else {
        return;
    };
    session(run, i, stream, rest, Counterpart::Remote).await;
}

/// A small delay spread so that two processes dialling each other drift apart.
fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(u64::from(nanos % 500))
}

async fn dial(run: Rc<Running>, i: usize) {
    let remote = run.section.remotes[i].clone();
    loop {
        let state = &run.peers[i];
        let due = state.next_connect.get().is_none_or(|t| Instant::now() >= t);
        if !state.active.get() && due {
            state
                .next_connect
                .set(Some(Instant::now() + RECONNECT + jitter()));
            let (addr, name, tls) = (&remote.address, &remote.name, remote.tls.as_ref());
            if let Some((stream, rest)) = connect(addr, name, &run.section.local, tls).await {
                session(run.clone(), i, stream, rest, Counterpart::Remote).await;
                continue;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connect(
    addr: &str,
    remote: &str,
    local: &str,
    tls: Option<&LinkTls>,
) -> Option<(Stream, Vec<u8>)> {
    // `ipv4@` and friends name the family; the address follows.
    let addr = addr.split_once('@').map_or(addr, |(_, a)| a);
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    let _ = tcp.set_nodelay(true);
    let mut stream: Stream = match tls {
        Some(t) => {
            let connector = tokio_rustls::TlsConnector::from(t.config.clone());
            let handshake = connector.connect(t.name.clone(), tcp);
            Box::new(
                tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
                    .await
                    .ok()?
                    .ok()?,
            )
        }
        None => Box::new(tcp),
    };
    let hello = codec::hello(remote, local, std::process::id());
    stream.write_all(hello.as_bytes()).await.ok()?;
    stream.flush().await.ok()?;
    let (lines, rest) = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_lines(&mut stream, 1))
        .await
        .ok()??;
    (lines[0].trim() == "200").then_some((stream, rest))
}

/// One established session with peer `i`, until it fails, goes silent or is replaced; with
/// the local peer, until the hand-over is done.
async fn session(
    run: Rc<Running>,
    i: usize,
    stream: Stream,
    mut buf: Vec<u8>,
    counterpart: Counterpart,
) {
    let state = &run.peers[i];
    let generation = state.generation.get() + 1;
    state.generation.set(generation);
    state.active.set(true);
    let tables = run
        .section
        .tables
        .iter()
        .cloned()
        .zip(state.acked.borrow().iter().copied())
        .collect();
    let shard = run.section.remotes.get(i).map_or(0, |r| r.shard);
    let mut link = Link::new(tables, run.section.max_updates, shard);
    if counterpart == Counterpart::OldSelf {
        link.learn();
    }
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut chunk = vec![0u8; 16384];
    let (mut last_rx, mut last_tx) = (Instant::now(), Instant::now());
    let mut poll = tokio::time::interval(POLL);
    'session: loop {
        let remote = counterpart == Counterpart::Remote;
        if remote
            && !run.up_to_date()
            && run.learning_from.get().is_none()
            && !state.not_up_to_date.get()
        {
            run.learning_from.set(Some(i));
            link.learn();
        }
        tokio::select! {
            got = rd.read(&mut chunk) => match got {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    last_rx = Instant::now();
                }
            },
            _ = poll.tick() => {}
        }
        if state.generation.get() != generation || last_rx.elapsed() > RECONNECT {
            break;
        }
        loop {
            let m = match decode(&mut buf) {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(_) => break 'session,
            };
            match link.receive(&m, now_ms()) {
                Ok(Some(Event::LearnFinished)) => {
                    run.resync_done.set(true);
                    if remote {
                        run.learning_from.set(None);
                    }
                }
                Ok(Some(Event::LearnPartial)) if !remote => {}
                Ok(Some(Event::LearnPartial)) => {
                    state.not_up_to_date.set(true);
                    run.learning_from.set(None);
                    run.resync_deadline.set(Instant::now() + RESYNC_TIMEOUT);
                }
                Ok(None) => {}
                Err(_) => break 'session,
            }
        }
        let mut out = Vec::new();
        link.send(&mut out, now_ms(), run.up_to_date());
        if out.is_empty() && last_tx.elapsed() >= HEARTBEAT {
            encode(&mut out, CLASS_CONTROL, CTRL_HEARTBEAT, &[]);
        }
        if !out.is_empty() {
            let write = async {
                wr.write_all(&out).await?;
                wr.flush().await
            };
            let sent = tokio::time::timeout(RECONNECT, write).await;
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
            last_tx = Instant::now();
        }
        // The successor confirmed the whole lesson: the hand-over is done.
        if counterpart == Counterpart::NewSelf && link.lessons_given > 0 {
            break;
        }
    }
    if state.generation.get() == generation {
        state.active.set(false);
        *state.acked.borrow_mut() = link.acked();
    }
    if run.learning_from.get() == Some(i) && link.learning {
        run.learning_from.set(None);
    }
}
