//! A TCP-mode connection that goes on in HTTP mode: after `tcp-request content switch-mode
//! http [proto <name>]`, or when its backend is in HTTP mode (HAProxy's implicit upgrade). The
//! bytes the content rules held are read again by the HTTP side; the protocol is the one
//! `proto` names, else HTTP/2 when the bytes start with its preface, else HTTP/1. The
//! variables the TCP rules set belong to the first request; later requests of the connection
//! go through the `tcp-request content` rules again, in HTTP mode.

use crate::client_stream::ClientStream;
pub use crate::client_stream::Replay;
use crate::txn::Txn;
use bytes::{Bytes, BytesMut};
use std::io;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio::io::AsyncReadExt;

/// What the TCP side hands to the HTTP side.
pub struct Upgrade {
    pub stream: ClientStream,
    /// What the content rules read and held.
    pub held: Bytes,
    pub txn: Txn,
    /// `switch-mode http proto <name>`.
    pub proto: Option<String>,
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// Reads into `held` until it holds enough of the stream's first bytes to tell HTTP/2's
/// preface from an HTTP/1 request (most requests tell at their first byte); answers whether
/// they are the preface. The stream's end or an error stops the reading with what came.
pub(crate) async fn read_h2_preface<R: AsyncRead + Unpin>(
    stream: &mut R,
    held: &mut BytesMut,
) -> io::Result<bool> {
    while held.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(held) {
        if stream.read_buf(held).await? == 0 {
            break;
        }
    }
    Ok(held.starts_with(H2_PREFACE))
}

/// Serves the rest of the connection in HTTP mode, on the context `ctx` made for it.
pub async fn serve(
    mut up: Upgrade,
    mut ctx: crate::http::ConnCtx,
    stopping: crate::stop::Stopping,
) {
    // Enough of the first bytes to tell HTTP/2's preface from an HTTP/1 request.
    let wait = ctx
        .frontend()
        .timeouts
        .client
        .unwrap_or(Duration::from_secs(5));
    let mut held = BytesMut::from(&up.held[..]);
    let _ = tokio::time::timeout(wait, read_h2_preface(&mut up.stream, &mut held)).await;
    up.held = held.freeze();
    let preface = up.held.starts_with(H2_PREFACE);
    let h2 = match up.proto.as_deref() {
        Some("h1") if preface => {
            // HTTP/1 forced: the preface is a bad request, answered with the 400 page.
            let page = ctx.frontend().bad_request_page.clone();
            let _ = tokio::io::AsyncWriteExt::write_all(&mut up.stream, &page).await;
            return;
        }
        Some(p) => p == "h2",
        None => preface,
    };
    // An HTTP/1 connection's first request is the TCP stream itself, with what its rules
    // set; HTTP/2 streams are new ones.
    ctx.switched = Some(if h2 { 0 } else { 1 });
    if !h2 {
        ctx.sess_vars.carry(&up.txn);
        ctx.switched_stream.set(Some(up.txn.request_counter()));
    }
    let ctx = Rc::new(ctx);
    let held = up.held;
    let stream = Replay::new(held, up.stream);
    if h2 {
        crate::proto::h2::serve(stream, ctx, stopping).await
    } else {
        crate::proto::h1::serve(stream, ctx, stopping).await
    }
}
