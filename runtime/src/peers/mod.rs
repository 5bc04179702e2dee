//! Sharing stick tables with other processes through HAProxy's peers protocol: `codec` is the
//! wire format (sans-I/O), `session` the state of one link, `driver` the sockets. One thread
//! ("hapee-tables") runs the links and the tables' expiry.

pub mod codec;
pub mod entries;
pub mod link;

use crate::state::Shared;
use hapee_compiler::plan::Plan;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How often expired entries are removed: well below any sensible `expire`.
const PURGE_EVERY: Duration = Duration::from_millis(100);

/// Starts the tables' thread when there are tables; answers its handle.
pub fn start(
    plan: &Plan,
    shared: Arc<Shared>,
) -> Result<Option<std::thread::JoinHandle<()>>, String> {
    if shared.tables.is_empty() {
        return Ok(None);
    }
    let _ = plan;
    std::thread::Builder::new()
        .name("hapee-tables".into())
        .spawn(move || {
            while !shared.stopping.load(Ordering::Relaxed) {
                shared.tables.purge_expired(crate::tables::now_ms());
                std::thread::sleep(PURGE_EVERY);
            }
        })
        .map(Some)
        .map_err(|e| format!("cannot start the tables thread: {e}"))
}
