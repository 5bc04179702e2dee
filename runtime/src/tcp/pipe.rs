//! A tunnel's bytes both ways: each direction copied with its idle limit, its counters, its
//! pacing and its script filters; the first bytes of the server held for `tcp-response` rules.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The inactivity limit of one direction, in milliseconds (0: none); the other direction
/// shortens it to `client-fin`/`server-fin` once it has seen its end.
type Limit = std::sync::atomic::AtomicU64;

fn ms(d: Option<Duration>) -> u64 {
    d.map_or(0, |d| d.as_millis().max(1) as u64)
}

/// What one direction of a tunnel does to its bytes besides copying them.
struct Way<'a> {
    upload: Upload,
    /// The proxies' counters they count into as they go (`option contstats`).
    live: Option<&'a crate::api::LiveBytes>,
    pacer: crate::bwlim::Pacer,
    /// The script filters they go through.
    scripts: Option<&'a crate::http::script_tcp::TcpFilters>,
    /// When its source last sent something, in microseconds since the tunnel opened.
    last_read: &'a Idle,
}

/// When each side of a tunnel last sent something; which one's idle limit passed first.
struct Idle {
    opened: std::time::Instant,
    at: AtomicU64,
    /// The side closed its half: no limit of its own can pass any more.
    ended: std::sync::atomic::AtomicBool,
}

impl Idle {
    fn new(opened: std::time::Instant) -> Idle {
        Idle {
            opened,
            at: AtomicU64::new(0),
            ended: Default::default(),
        }
    }

    fn touch(&self) {
        let now = self.opened.elapsed().as_micros() as u64;
        self.at.store(now, Ordering::Relaxed);
    }

    /// When this side's limit (ms, 0: none) passes, in microseconds since the tunnel opened.
    fn deadline(&self, limit: &Limit) -> u64 {
        if self.ended.load(Ordering::Relaxed) {
            return u64::MAX;
        }
        match limit.load(Ordering::Relaxed) {
            0 => u64::MAX,
            ms => self.at.load(Ordering::Relaxed).saturating_add(ms * 1000),
        }
    }
}

/// How one direction of a tunnel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PipeEnd {
    /// The source closed its half, or the current limit passed without data.
    Closed,
    /// Reading the source failed (a reset): the stream aborts on that side.
    ReadFailed,
    /// The current limit passed without data; the destination's half is closed as for
    /// `Closed`.
    TimedOut,
    /// Writing to the destination failed (it was gone): the stream aborts on that side.
    WriteFailed,
}

/// Copies `from` to `to` until EOF, an error, or the current limit passes without data. The
/// bytes read are counted even when they could not be delivered, as HAProxy counts what it
/// received (`%B` of a client gone while the server still answered).
async fn pipe<R, W>(
    mut from: R,
    mut to: W,
    limit: &Limit,
    changed: &tokio::sync::Notify,
    count: &AtomicU64,
    way: Way<'_>,
) -> PipeEnd
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Way {
        upload,
        live,
        mut pacer,
        scripts,
        last_read,
    } = way;
    let mut buf = vec![0u8; 16 * 1024];
    let response = !upload;
    let mut ended = false;
    loop {
        let t = limit.load(Ordering::Relaxed);
        // While the script filters hold a full buffer the source is not read, as HAProxy
        // stops reading a full channel; at their wake time they are offered it again. Once
        // the source has closed, they are offered what they hold until they let it go.
        let full = ended || scripts.is_some_and(|f| f.full(response));
        let wake = scripts.and_then(|f| f.wake_at(response));
        if ended && wake.is_none() {
            break;
        }
        let read = async {
            if full {
                std::future::pending().await
            } else {
                from.read(&mut buf).await
            }
        };
        let retry = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let wait = async {
            if t == 0 {
                std::future::pending::<()>().await
            } else {
                tokio::time::sleep(Duration::from_millis(t)).await
            }
        };
        // A read is cancel-safe: when the limit changes, start over with the new one.
        let got = tokio::select! {
            r = read => Some(r),
            // Nothing new: what the filters hold is offered again.
            _ = retry => None,
            _ = wait => {
                let _ = to.shutdown().await;
                return PipeEnd::TimedOut;
            }
            _ = changed.notified() => continue,
        };
        let (n, retried) = match got {
            None => (0, true),
            Some(Ok(0)) => {
                last_read.ended.store(true, Ordering::Relaxed);
                if ended || !scripts.is_some_and(|f| f.holds(response)) {
                    break;
                }
                ended = true;
                continue;
            }
            Some(Err(_)) => return PipeEnd::ReadFailed,
            Some(Ok(n)) => {
                last_read.touch();
                (n, false)
            }
        };
        // Script filters may change the bytes, or hold some back.
        txn_lent(scripts).await;
        let filtered = scripts.map(|f| f.pass(response, &buf[..n], false));
        let out = filtered.as_deref().unwrap_or(&buf[..n]);
        if !retried || !out.is_empty() {
            if let Err(end) = send(&mut to, out, &mut pacer, count, live, upload).await {
                return end;
            }
        }
    }
    // What the filters still hold goes with the end.
    txn_lent(scripts).await;
    if let Some(tail) = scripts.filter(|f| f.holds(response)) {
        let tail = tail.pass(response, &[], true);
        if let Err(end) = send(&mut to, &tail, &mut pacer, count, live, upload).await {
            return end;
        }
    }
    let _ = to.shutdown().await;
    PipeEnd::Closed
}

/// Waits, when a step of the `tcp-response` rules or of a script runs on the transaction the
/// script filters act on, until it is back in their slot.
async fn txn_lent(scripts: Option<&crate::http::script_tcp::TcpFilters>) {
    if let Some(f) = scripts {
        f.wait_lent().await;
    }
}

/// `start_analyze` on the response for the script filters that have not started it, each
/// called again while it waits as the server's bytes arrive (read ahead within a buffer) or
/// at its wake time; what was read ahead. Only this direction waits: the client's bytes go
/// on meanwhile.
async fn start_response<R: AsyncRead + Unpin>(
    from: &mut R,
    scripts: &crate::http::script_tcp::TcpFilters,
    limit: &Limit,
) -> Result<bytes::Bytes, crate::tcp_response::Refusal> {
    use crate::http::script_tcp::Started;
    use crate::tcp_response::Refusal;
    let room = scripts.room();
    let mut ahead = bytes::BytesMut::new();
    let mut ended = false;
    loop {
        let at = match scripts.start_response(&ahead) {
            Started::Done => return Ok(ahead.freeze()),
            Started::Failed(at) => return Err(Refusal::FilterFailed(at)),
            Started::Wait(at) => at,
        };
        let more = room.saturating_sub(ahead.len());
        let readable = !ended && more > 0;
        let t = limit.load(Ordering::Relaxed);
        let read = async {
            match readable {
                true => (&mut *from).take(more as u64).read_buf(&mut ahead).await,
                false => std::future::pending().await,
            }
        };
        let wake = async {
            match at {
                Some(at) => tokio::time::sleep(at).await,
                None => std::future::pending().await,
            }
        };
        let idle = async {
            match t {
                0 => std::future::pending().await,
                t => tokio::time::sleep(Duration::from_millis(t)).await,
            }
        };
        let read = tokio::select! {
            r = read => Some(r),
            () = wake => None,
            () = idle => return Err(Refusal::StartTimedOut),
        };
        // The source's end is news once.
        if let Some(Ok(0) | Err(_)) = read {
            ended = true;
        }
    }
}

/// Writes `out` to `to`, in the pieces bandwidth limits allow, counting it as it goes.
async fn send<W: AsyncWrite + Unpin>(
    to: &mut W,
    out: &[u8],
    pacer: &mut crate::bwlim::Pacer,
    count: &AtomicU64,
    live: Option<&crate::api::LiveBytes>,
    upload: Upload,
) -> Result<(), PipeEnd> {
    let n = out.len();
    let mut at = 0;
    while at < n {
        let piece = if pacer.is_empty() {
            n - at
        } else {
            std::future::poll_fn(|cx| pacer.poll_allow(cx, n - at, false)).await
        };
        if to.write_all(&out[at..at + piece]).await.is_err() {
            count.fetch_add((n - at) as u64, Ordering::Relaxed);
            return Err(PipeEnd::WriteFailed);
        }
        count.fetch_add(piece as u64, Ordering::Relaxed);
        if let Some(live) = live {
            live.add_one_way(piece as u64, upload);
        }
        at += piece;
    }
    Ok(())
}

/// Whether bytes go from the client to the server (`true`) or back.
type Upload = bool;

/// Inactivity limits of a tunnel: each side's idle timeout, and the shorter one it gets once
/// the other side has closed its half (`timeout client-fin` / `server-fin`).
#[derive(Clone, Copy, Default)]
pub struct Limits {
    pub a_idle: Option<Duration>,
    pub b_idle: Option<Duration>,
    pub a_fin: Option<Duration>,
    pub b_fin: Option<Duration>,
}

impl Limits {
    /// A stream's limits once it is a plain tunnel (a TCP stream connected, an HTTP stream
    /// upgraded): `timeout tunnel` on both sides when set, else each side's own (`timeout
    /// client`, the server's as the backend or `set-timeout server` gave it).
    pub fn of_tunnel(
        txn: &crate::txn::Txn,
        fe: &crate::state::FrontendRt,
        be: &crate::state::BackendRt,
    ) -> Limits {
        let tunnel = txn.timeout_tunnel.or(be.timeouts.tunnel);
        Limits {
            a_idle: tunnel.or(fe.timeouts.client),
            b_idle: tunnel.or(txn.timeout_server).or(be.timeouts.server),
            a_fin: fe.timeouts.client_fin,
            b_fin: be.timeouts.server_fin,
        }
    }
}

/// How a tunnel ended: its bytes both ways, and the termination state of an idle limit that
/// passed (`cD` the client's side, `sD` the server's: the side whose limit passed first).
pub struct Piped {
    pub up: u64,
    pub down: u64,
    pub timed_out: Option<[u8; 2]>,
    /// The client's direction ended before the server's (its bytes all forwarded).
    pub client_first: bool,
}

/// A TCP connection to `addr`, given up after `timeout` (`timeout connect`) when there is one.
pub async fn connect_within(
    addr: std::net::SocketAddr,
    timeout: Option<Duration>,
) -> Option<TcpStream> {
    let connecting = TcpStream::connect(addr);
    match timeout {
        Some(t) => tokio::time::timeout(t, connecting).await.ok()?.ok(),
        None => connecting.await.ok(),
    }
}

/// Bytes both ways between two streams.
pub async fn pipe_both<A, B>(a: A, b: B, limits: Limits) -> Piped
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let paced = Default::default();
    let (piped, _) = pipe_both_inspected(
        a,
        b,
        limits,
        None,
        paced,
        None,
        std::future::pending(),
        None,
    )
    .await;
    piped
}

/// Bytes both ways between a client (`a`) and a server (`b`); with a gate, what the server
/// sends first is held for the backend's `tcp-response content` rules while the client's
/// bytes keep flowing. Answers the byte counts both ways, and what the rules decided instead
/// of forwarding when they refused (both connections are then closed). With `live` (`option
/// contstats`), the bytes are counted into the proxies' counters as they go.
#[allow(clippy::too_many_arguments)]
pub async fn pipe_both_inspected<A, B>(
    a: A,
    b: B,
    limits: Limits,
    gate: Option<crate::tcp_response::Gate<'_>>,
    paced: crate::bwlim::TxnLimits,
    live: Option<&crate::api::LiveBytes>,
    killed: impl std::future::Future<Output = ()>,
    scripts: Option<&crate::http::script_tcp::TcpFilters>,
) -> (Piped, Option<crate::tcp_response::Refusal>)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (ar, mut aw) = tokio::io::split(a);
    let (mut br, bw) = tokio::io::split(b);
    let up = AtomicU64::new(0);
    let down = AtomicU64::new(0);
    let a_limit = Limit::new(ms(limits.a_idle));
    let b_limit = Limit::new(ms(limits.b_idle));
    let (a_changed, b_changed) = (tokio::sync::Notify::new(), tokio::sync::Notify::new());
    let refused = tokio::sync::Notify::new();
    let opened = std::time::Instant::now();
    let (a_read, b_read) = (Idle::new(opened), Idle::new(opened));
    let timed_out = std::cell::OnceCell::new();
    // Which direction ended first (true: the client's).
    let first = std::cell::OnceCell::new();
    // Whichever direction notices first, the side whose limit passed first is the one logged.
    let note_timeout = || {
        let (a, b) = (a_read.deadline(&a_limit), b_read.deadline(&b_limit));
        // On a tie (both idle since the tunnel opened, under one limit) HAProxy, which
        // checks the client's side first, logs that side.
        let client = a <= b;
        let _ = timed_out.set(if client { *b"cD" } else { *b"sD" });
    };
    use crate::tcp_response::Refusal;
    // A failed read or write aborts the whole stream on the side it failed on, as HAProxy
    // closes both connections then and logs `CD` or `SD`.
    let a_to_b = async {
        tokio::select! {
            end = pipe(ar, bw, &a_limit, &a_changed, &up, Way { upload: true, live, pacer: paced.upload, scripts, last_read: &a_read }) => match end {
                PipeEnd::Closed => {}
                PipeEnd::TimedOut => note_timeout(),
                PipeEnd::ReadFailed => return Err(Refusal::ClientAborted),
                PipeEnd::WriteFailed => return Err(Refusal::ServerAborted),
            },
            _ = refused.notified() => return Ok(()),
        }
        let _ = first.set(true);
        // B's write side is now shut: B has `b_fin` (when set) to finish.
        if limits.b_fin.is_some() {
            b_limit.store(ms(limits.b_fin), Ordering::Relaxed);
            b_changed.notify_one();
        }
        Ok(())
    };
    let b_to_a = async {
        let mut download = paced.download;
        // The script filters start the response's analysis with the tunnel: what the server
        // sends while one waits is read ahead, and goes first.
        let early = match scripts.filter(|s| s.response_unstarted()) {
            Some(s) => start_response(&mut br, s, &b_limit).await?,
            None => bytes::Bytes::new(),
        };
        let mut br = crate::client_stream::Replay::new(early, br);
        if let Some(gate) = gate {
            match crate::tcp_response::inspect(&mut br, gate).await {
                Ok(forward) => {
                    if !forward.limits.is_empty() {
                        download = forward.limits;
                    }
                    // What the rules held goes through the script filters as what follows
                    // does (they forward the channel's data after the rules, in HAProxy).
                    let held = match scripts {
                        Some(s) if !forward.held.is_empty() => s.pass(true, &forward.held, false),
                        _ => forward.held,
                    };
                    let sent = aw.write_all(&held).await.is_ok();
                    down.fetch_add(held.len() as u64, Ordering::Relaxed);
                    if let Some(live) = live {
                        live.add(0, held.len() as u64);
                    }
                    if !sent {
                        return Err(Refusal::ClientAborted);
                    }
                    if !forward.more {
                        // `close`: the server connection ends here.
                        let _ = aw.shutdown().await;
                        refused.notify_one();
                        return Ok(());
                    }
                }
                Err(refusal) => return Err(refusal),
            }
        }
        let end = pipe(
            br,
            aw,
            &b_limit,
            &b_changed,
            &down,
            Way {
                upload: false,
                live,
                pacer: download,
                scripts,
                last_read: &b_read,
            },
        )
        .await;
        match end {
            PipeEnd::Closed => {}
            PipeEnd::TimedOut => note_timeout(),
            PipeEnd::ReadFailed => return Err(Refusal::ServerAborted),
            PipeEnd::WriteFailed => return Err(Refusal::ClientAborted),
        }
        let _ = first.set(false);
        if limits.a_fin.is_some() {
            a_limit.store(ms(limits.a_fin), Ordering::Relaxed);
            a_changed.notify_one();
        }
        Ok(())
    };
    // A killed session stops both directions where they are, and so does a failure of either.
    let refusal = tokio::select! {
        biased;
        ended = async { tokio::try_join!(a_to_b, b_to_a) } => ended.err(),
        () = killed => Some(Refusal::Killed),
    };
    let piped = Piped {
        up: up.load(Ordering::Relaxed),
        down: down.load(Ordering::Relaxed),
        timed_out: timed_out.get().copied(),
        client_first: first.get().copied().unwrap_or(false),
    };
    (piped, refusal)
}
