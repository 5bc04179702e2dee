//! Which server connection a request goes on when it is not a plain HTTP/1 one: a FastCGI
//! application's kept connection, a WebSocket stream's, a stream of a multiplexed (HTTP/2)
//! connection (shared with other sessions as `http-reuse` says, or the session's own), one
//! being established that it may wait on, or a new one, placed where it may serve others.

use super::websocket::Way;
use super::ConnCtx;
use crate::state::{BackendRt, ServerRt};
use crate::upstream::h2::Connected;
use crate::upstream::pool::Connecting;
use crate::upstream::reuse::{ReuseMode, Sharing};
use crate::upstream::{self};
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// How a request uses the multiplexed connections of its server.
#[derive(Clone, Copy, Debug)]
pub(super) struct MuxUse {
    /// Its connections serve other sessions as `http-reuse` allows: each new one is offered to
    /// them, and busy or idle ones are taken from the server's pool.
    pub shared: bool,
    /// No other session may use its connections (`http-reuse never`, `send-proxy`, a
    /// transparent target): the session keeps each new one for its later requests and its
    /// other streams.
    pub own: bool,
    /// A new connection is offered to the requests that may share it while it is being
    /// established (`proto h2` under `http-reuse always`): such requests wait on it.
    pub early: bool,
}

impl MuxUse {
    /// For a request to `server` that may go over HTTP/2 (`may_multiplex`), the way a
    /// protocol switch says (`way`), with the server connection closed after the response
    /// (`close_server`) or not, to a transparent target (`private`) or not.
    pub(super) fn of(
        be: &BackendRt,
        server: &ServerRt,
        may_multiplex: bool,
        way: Option<Way>,
        close_server: bool,
        private: bool,
    ) -> MuxUse {
        let shared = be.reuse != ReuseMode::Never
            && server.send_proxy.is_none()
            && !close_server
            && !private;
        let plain = may_multiplex && way.is_none();
        MuxUse {
            shared,
            own: plain && !shared && !close_server,
            early: plain
                && shared
                && server.plan.mux.h2
                && Sharing::joinable_while_connecting(be.reuse, false),
        }
    }

    /// A connection to the server being established that the request may wait on.
    pub(super) fn join(&self, ctx: &ConnCtx, pool_key: (usize, usize)) -> Option<Rc<Connecting>> {
        self.early
            .then(|| ctx.conns.join_connecting(pool_key))
            .flatten()
    }
}

/// The connection the request waits on (`joined`) once established, else a new one made by
/// `dial`: a multiplexed one offered to the requests that may share it (from the start, with
/// [`MuxUse::early`]), or kept as the session's own. `None` when it failed.
pub(super) async fn joined_or_new(
    ctx: &ConnCtx,
    pool_key: (usize, usize),
    server: &ServerRt,
    be: &BackendRt,
    mux: MuxUse,
    joined: Option<Rc<Connecting>>,
    dial: impl Future<Output = Option<Connected>>,
) -> Option<Connected> {
    let max_reuse = server.plan.mux.max_reuse;
    if let Some(connecting) = joined {
        // Bounded as the connection itself is (the TLS handshake's default bound when
        // `timeout connect` is not set): past it the request makes its own attempt.
        let limit = be.timeouts.connect.unwrap_or(Duration::from_secs(10));
        return connecting.wait(limit).await.map(Connected::H2);
    }
    let dialing = mux
        .early
        .then(|| ctx.conns.dialing(pool_key, max_reuse))
        .flatten();
    let fresh = dial.await;
    let h2 = match &fresh {
        Some(Connected::H2(h2)) => Some(h2),
        _ => None,
    };
    if let Some(h2) = h2 {
        if mux.shared {
            ctx.conns
                .offer_h2(pool_key, h2, be.reuse, max_reuse, &server.idle);
        } else if mux.own {
            ctx.conns.keep_h2(pool_key, h2);
        }
    }
    // Offered first: the requests waiting on it open their streams where they are counted.
    if let Some(dialing) = dialing {
        dialing.settle(h2);
    }
    fresh
}

/// What a request that is not a plain HTTP/1 one may take from the idle connections: a
/// FastCGI application's kept connection, a WebSocket stream's, or a stream of a shared
/// HTTP/2 connection (else an HTTP/1 one).
pub(super) struct IdleWanted<'a> {
    pub fcgi: Option<&'a Arc<upstream::fcgi::App>>,
    pub ws_reuse: Option<Way>,
    pub upgrade: bool,
    pub mux: MuxUse,
    pub shared_reuse: Option<upstream::pool::Wanted>,
    pub reuse: upstream::reuse::ReuseMode,
    pub private: bool,
    pub addr: SocketAddr,
    /// The PROXY header the request would open a connection with.
    pub proxy_line: Option<&'a [u8]>,
}

impl IdleWanted<'_> {
    /// Out of line: the plain HTTP/1 request of [`super::forward::forward`] never runs this.
    #[inline(never)]
    pub(super) fn take(
        self,
        ctx: &ConnCtx,
        pool_key: (usize, usize),
        server: &ServerRt,
    ) -> Option<Connected> {
        let mux = &server.plan.mux;
        let h1 = || {
            ctx.conns
                .take(pool_key, self.shared_reuse, &server.idle, self.proxy_line)
                .filter(|c| !self.private || c.peer_addr() == Some(self.addr))
        };
        let h2 = || {
            if self.mux.own {
                let peer = self.private.then_some(self.addr);
                return ctx.conns.own_h2(pool_key, peer, mux.max_reuse);
            }
            ctx.conns.take_h2(
                pool_key,
                self.shared_reuse,
                self.reuse,
                mux.max_reuse,
                &server.idle,
            )
        };
        if let Some(app) = self.fcgi {
            return app
                .keep_conn
                .then(|| {
                    ctx.conns
                        .take(pool_key, self.shared_reuse, &server.idle, self.proxy_line)
                })
                .flatten()
                .map(Connected::H1);
        }
        match self.ws_reuse {
            Some(Way::H2 | Way::AlpnH2) if self.mux.shared => h2().map(Connected::H2),
            Some(Way::H1 { .. }) => h1().map(Connected::H1),
            Some(_) => None,
            // Another upgrade, or a CONNECT tunnel, opens its own connection.
            None if self.upgrade => None,
            // A multiplexing server: a stream of a shared (or the session's own) connection,
            // else an HTTP/1 one.
            None => h2().map(Connected::H2).or_else(|| h1().map(Connected::H1)),
        }
    }
}
