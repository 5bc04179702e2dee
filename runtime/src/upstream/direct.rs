//! A backend without balancing (`dispatch <address>`, `option transparent`): every stream goes
//! to one destination, through a server without a name. As in HAProxy, its connections are
//! private to their client's session (nothing ties them to a server that others could share),
//! and the logs name no server (`<NOSRV>`).

use crate::state::ServerRt;
use hapee_compiler::plan::direct::Direct as DirectPlan;
use std::net::SocketAddr;
use std::sync::Arc;

/// The index standing for the direct target where a server index is expected (its idle
/// connections' key, the retry bookkeeping); it never indexes a backend's servers.
pub const INDEX: usize = usize::MAX;

pub struct Direct {
    /// `option transparent`: the stream's destination (after `set-dst`, `set-dst-port`).
    pub transparent: bool,
    /// The connection settings and counters of the target.
    pub server: Arc<ServerRt>,
}

impl Direct {
    pub fn new(plan: &DirectPlan, pools: &crate::upstream::pool::PoolLayout) -> Direct {
        Direct {
            transparent: plan.transparent,
            server: Arc::new(ServerRt::new(&plan.server, 0, pools, None, None, None)),
        }
    }

    /// Where this stream connects: the `dispatch` address, or the destination the client
    /// connected to (as rules left it) in transparent mode.
    pub fn addr(&self, destination: SocketAddr) -> Option<SocketAddr> {
        if self.transparent {
            Some(destination)
        } else {
            self.server.addr()
        }
    }
}
