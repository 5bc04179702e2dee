//! What happens to an accepted connection before its protocol starts: the `tcp-request
//! connection` rules (against the peer as connected), then the PROXY protocol header when the
//! bind has `accept-proxy` or a rule said `expect-proxy layer4` (after a NetScaler Client IP
//! header, for `accept-netscaler-cip` or `expect-netscaler-cip layer4`). From then on the transaction
//! sees the original client and destination that the header carried. Last, the `tcp-request
//! session` rules, and the session counts on what the rules track (`track-sc*`).

use crate::listener::Serving;
use crate::proto::netscaler::{self, ClientIp};
use crate::proto::proxy_protocol::{self, Parsed, ProxyHeader};
use crate::rules::{self, Verdict};
use crate::state::Shared;
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The outcome of a connection's opening.
pub enum Opened {
    /// Go on with this transaction (its addresses are the original ones).
    Ready(Box<Txn>),
    /// A `tcp-request connection` or `session` rule refused it: HAProxy ends such a
    /// connection without a log line, as no stream was made (a connection rule's with a reset).
    Rejected,
    /// The PROXY header was missing, broken or late: the connection is closed unlogged.
    Failed,
}

/// Runs the opening of one accepted connection.
pub async fn open(
    stream: &mut TcpStream,
    shared: &Arc<Shared>,
    serving: &Serving,
    client: SocketAddr,
    local: SocketAddr,
) -> Opened {
    let fe = &shared.frontends[serving.frontend];
    let mut txn = Box::new(Txn::new(shared.clone(), client, local, fe.name.clone()));
    txn.unix_listener = serving.unix_id;
    txn.listener = Some(serving.rank);
    txn.client_fd = Some(crate::sockopt::ClientFd(std::os::fd::AsRawFd::as_raw_fd(
        &*stream,
    )));
    if matches!(
        rules::run(&fe.rules, RuleSet::TcpRequestConnection, &mut txn),
        Verdict::Reject | Verdict::Deny(_)
    ) {
        crate::listener::reset_on_close(stream);
        return Opened::Rejected;
    }
    // A rule asking for the header on a bind without `accept-netscaler-cip` expects the magic
    // number that bind has, none: 0 (as HAProxy).
    let netscaler_magic = serving
        .netscaler_magic
        .or(txn.expect_netscaler.then_some(0));
    if let Some(magic) = netscaler_magic {
        let limit = fe.timeouts.client.unwrap_or(Duration::from_secs(30));
        match tokio::time::timeout(limit, read_netscaler(stream, magic)).await {
            Ok(Ok(cip)) => {
                txn.client = cip.source;
                txn.local = cip.destination;
                txn.unix_listener = None;
            }
            _ => return Opened::Failed,
        }
    }
    if serving.accept_proxy || txn.expect_proxy {
        // The header is part of the connection's handshake, bounded like it by `timeout client`.
        let limit = fe.timeouts.client.unwrap_or(Duration::from_secs(30));
        let header = match tokio::time::timeout(limit, read_header(stream)).await {
            Ok(Ok(h)) => h,
            _ => return Opened::Failed,
        };
        if let (Some(src), Some(dst)) = (header.source, header.destination) {
            txn.client = src;
            txn.local = dst;
            txn.unix_listener = None;
        }
        txn.proxy = Some(Arc::new(header));
    }
    if matches!(
        rules::run(&fe.rules, RuleSet::TcpRequestSession, &mut txn),
        Verdict::Reject | Verdict::Deny(_)
    ) {
        return Opened::Rejected;
    }
    txn.stick.count_session();
    Opened::Ready(txn)
}

/// Reads a NetScaler Client IP header and nothing after it. As in HAProxy, the header is
/// looked at once, in the bytes that came first: one segment carries it whole.
async fn read_netscaler(stream: &mut TcpStream, magic: u32) -> Result<ClientIp, String> {
    let mut buf = vec![0u8; 4096];
    let n = stream.peek(&mut buf).await.map_err(|e| e.to_string())?;
    let cip = netscaler::parse(&buf[..n], magic)?;
    stream
        .read_exact(&mut buf[..cip.len])
        .await
        .map_err(|e| e.to_string())?;
    Ok(cip)
}

/// Reads a PROXY protocol header and nothing after it: bytes are peeked first, and only
/// those that belong to the header are taken from the socket.
pub async fn read_header(stream: &mut TcpStream) -> Result<ProxyHeader, String> {
    let mut taken: Vec<u8> = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = stream.peek(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed before its PROXY header ended".into());
        }
        let mut view = taken.clone();
        view.extend_from_slice(&buf[..n]);
        match proxy_protocol::parse(&view) {
            Parsed::Done { header, len } => {
                let mut rest = vec![0u8; len - taken.len()];
                stream
                    .read_exact(&mut rest)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(header);
            }
            // Everything seen so far is header: take it and wait for more.
            Parsed::Incomplete => {
                let mut part = vec![0u8; n];
                stream
                    .read_exact(&mut part)
                    .await
                    .map_err(|e| e.to_string())?;
                taken.extend_from_slice(&part);
            }
            Parsed::Invalid(why) => return Err(why.to_string()),
        }
    }
}
