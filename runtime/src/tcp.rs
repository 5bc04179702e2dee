//! TCP mode: `tcp-request` rules, backend and server choice with retries, then bytes both ways
//! with idle timeouts; one `tcplog` line at the end.

use crate::reuse::{should_retry, Failure};
use crate::rules::{self, Verdict};
use crate::state::Shared;
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Copies `from` to `to` until EOF, an error, or `idle` without data; returns the bytes copied.
async fn pipe<R, W>(mut from: R, mut to: W, idle: Option<Duration>, count: &AtomicU64)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = from.read(&mut buf);
        let n = match idle {
            Some(t) => match tokio::time::timeout(t, read).await {
                Ok(r) => r,
                Err(_) => break,
            },
            None => read.await,
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

/// Bytes both ways between two streams; returns (client→server, server→client) byte counts.
pub async fn pipe_both<A, B>(
    a: A,
    b: B,
    a_idle: Option<Duration>,
    b_idle: Option<Duration>,
) -> (u64, u64)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let up = AtomicU64::new(0);
    let down = AtomicU64::new(0);
    // Either side going quiet past its timeout ends the whole session.
    tokio::select! {
        _ = async { tokio::join!(pipe(ar, bw, a_idle, &up), pipe(br, aw, b_idle, &down)) } => {}
    }
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
    for set in [RuleSet::TcpRequestConnection, RuleSet::TcpRequestContent] {
        if matches!(
            rules::run(&fe.rules, set, &mut txn),
            Verdict::Reject | Verdict::Deny(_)
        ) {
            txn.term = *b"PR";
            finish(&txn);
            return;
        }
    }
    let Some(be_index) = crate::route::choose_backend(&shared, fe, &txn) else {
        txn.term = *b"SC";
        finish(&txn);
        return;
    };
    let be = &shared.backends[be_index];
    txn.backend = Some(be.name.clone());
    let key = Some(crate::balance::hash(client.ip().to_string().as_bytes()));
    let mut attempt = 0;
    let mut avoid = None;
    let start = Instant::now();
    let server_stream = loop {
        let Some(si) = be.pick(key.filter(|_| be.algorithm.is_hash()), avoid) else {
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
        let connect = TcpStream::connect(addr);
        let result = match be.timeouts.connect {
            Some(t) => tokio::time::timeout(t, connect)
                .await
                .ok()
                .and_then(Result::ok),
            None => connect.await.ok(),
        };
        match result {
            Some(s) => {
                server.active.fetch_add(1, Ordering::Relaxed);
                break (s, server.clone());
            }
            None if should_retry(&be.retry_on, Failure::Connect, attempt, be.retries, true) => {
                attempt += 1;
                txn.retries = attempt;
                if be.redispatch {
                    avoid = Some(si);
                }
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
    txn.timings.connect = start.elapsed().as_millis() as i64;
    let _ = sstream.set_nodelay(true);
    let (up, down) = pipe_both(stream, sstream, fe.timeouts.client, be.timeouts.server).await;
    server.active.fetch_sub(1, Ordering::Relaxed);
    txn.bytes_in = up;
    txn.bytes_out = down;
    finish(&txn);
}

fn finish(txn: &Txn) {
    crate::http::log_txn(txn);
}
