//! TCP mode: `tcp-request` rules, backend and server choice with retries, then bytes both ways
//! with idle timeouts; one `tcplog` line at the end.

use crate::rules::{self, Verdict};
use crate::state::Shared;
use crate::txn::Txn;
use crate::upstream::reuse::{should_retry, Attempts, Failure};
use hapee_compiler::registry::RuleSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The inactivity limit of one direction, in milliseconds (0: none); the other direction
/// shortens it to `client-fin`/`server-fin` once it has seen its end.
type Limit = std::sync::atomic::AtomicU64;

fn ms(d: Option<Duration>) -> u64 {
    d.map_or(0, |d| d.as_millis().max(1) as u64)
}

/// Copies `from` to `to` until EOF, an error, or the current limit passes without data.
async fn pipe<R, W>(
    mut from: R,
    mut to: W,
    limit: &Limit,
    changed: &tokio::sync::Notify,
    count: &AtomicU64,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let t = limit.load(Ordering::Relaxed);
        let read = from.read(&mut buf);
        let wait = async {
            if t == 0 {
                std::future::pending::<()>().await
            } else {
                tokio::time::sleep(Duration::from_millis(t)).await
            }
        };
        // A read is cancel-safe: when the limit changes, start over with the new one.
        let n = tokio::select! {
            r = read => r,
            _ = wait => break,
            _ = changed.notified() => continue,
        };
        match n {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
    let _ = to.shutdown().await;
}

/// Inactivity limits of a tunnel: each side's idle timeout, and the shorter one it gets once
/// the other side has closed its half (`timeout client-fin` / `server-fin`).
#[derive(Clone, Copy, Default)]
pub struct Limits {
    pub a_idle: Option<Duration>,
    pub b_idle: Option<Duration>,
    pub a_fin: Option<Duration>,
    pub b_fin: Option<Duration>,
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

/// Bytes both ways between two streams; returns (a→b, b→a) byte counts.
pub async fn pipe_both<A, B>(a: A, b: B, limits: Limits) -> (u64, u64)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let up = AtomicU64::new(0);
    let down = AtomicU64::new(0);
    let a_limit = Limit::new(ms(limits.a_idle));
    let b_limit = Limit::new(ms(limits.b_idle));
    let (a_changed, b_changed) = (tokio::sync::Notify::new(), tokio::sync::Notify::new());
    let a_to_b = async {
        pipe(ar, bw, &a_limit, &a_changed, &up).await;
        // B's write side is now shut: B has `b_fin` (when set) to finish.
        if limits.b_fin.is_some() {
            b_limit.store(ms(limits.b_fin), Ordering::Relaxed);
            b_changed.notify_one();
        }
    };
    let b_to_a = async {
        pipe(br, aw, &b_limit, &b_changed, &down).await;
        if limits.a_fin.is_some() {
            a_limit.store(ms(limits.a_fin), Ordering::Relaxed);
            a_changed.notify_one();
        }
    };
    tokio::join!(a_to_b, b_to_a);
    (up.load(Ordering::Relaxed), down.load(Ordering::Relaxed))
}

/// Serves one TCP-mode connection.
pub async fn serve(stream: TcpStream, shared: Arc<Shared>, fe_index: usize) {
    let fe = &shared.frontends[fe_index];
    let (Ok(client), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let mut txn = Txn::new(shared.clone(), client, local, fe.name.clone());
    txn.counters[0] = shared.active.load(Ordering::Relaxed);
    txn.counters[1] = fe.active.load(Ordering::Relaxed);
    for set in [
        RuleSet::TcpRequestConnection,
        RuleSet::TcpRequestSession,
        RuleSet::TcpRequestContent,
    ] {
        if matches!(
            rules::run(&fe.rules, set, &mut txn),
            Verdict::Reject | Verdict::Deny(_)
        ) {
            txn.term = *b"PR";
            finish(&txn);
            return;
        }
        if set == RuleSet::TcpRequestSession {
            txn.stick.count_session();
        }
    }
    let Some(be_index) = crate::route::choose_backend(&shared, fe, &txn) else {
        txn.term = *b"SC";
        finish(&txn);
        return;
    };
    let be = &shared.backends[be_index];
    txn.backend = Some(be.name.clone());
    let key = Some(be.hashing.source_key(client.ip()));
    let mut tries = Attempts::default();
    let start = crate::clock::now();
    let server_stream = loop {
        let Some(si) = be.pick(key.filter(|_| be.algorithm.is_hash()), tries.avoid) else {
            txn.term = *b"SC";
            finish(&txn);
            return;
        };
        let server = &be.servers[si];
        txn.server = Some(server.name.clone());
        let Some(addr) = server.addr else {
            finish(&txn);
            return;
        };
        match connect_within(addr, be.timeouts.connect).await {
            Some(s) => {
                server.active.fetch_add(1, Ordering::Relaxed);
                break (s, server.clone());
            }
            None if should_retry(
                &be.retry_on,
                Failure::Connect,
                tries.count,
                be.retries,
                true,
            ) =>
            {
                tries.failed(si, be.redispatch);
                txn.retries = tries.count;
            }
            None => {
                txn.term = *b"SC";
                finish(&txn);
                return;
            }
        }
    };
    let (sstream, server) = server_stream;
    txn.timings.queue = 0;
    txn.timings.connect = (crate::clock::now() - start).as_millis() as i64;
    let _ = sstream.set_nodelay(true);
    let limits = Limits {
        a_idle: fe.timeouts.client,
        b_idle: be.timeouts.server,
        a_fin: fe.timeouts.client_fin,
        b_fin: be.timeouts.server_fin,
    };
    let (up, down) = pipe_both(stream, sstream, limits).await;
    server.active.fetch_sub(1, Ordering::Relaxed);
    txn.bytes_in = up;
    txn.bytes_out = down;
    finish(&txn);
}

fn finish(txn: &Txn) {
    crate::http::log_txn(txn);
}
