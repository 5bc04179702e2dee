//! The post-parse checks of each proxy, run on all cores when a configuration has many
//! proxies: each proxy's checks read the finished model and report into a list of their own, so
//! the proxies can be checked in any order, and their findings are handed back in the model's.

use super::model::{Config, Proxy};
use crate::diagnostic::Diagnostic;

/// From this many proxies, their checks are shared between the cores: a proxy's checks run a
/// thousand to two thousand instructions, and a thread costs some tens of microseconds.
const PARALLEL_PROXIES: usize = 512;

/// Proxies taken at once by a thread: small enough for the threads to end together (a large
/// frontend costs as much as hundreds of backends), large enough to make the shared counter rare.
const SHARE: usize = 32;

/// A proxy's index in the model and what its checks found (never empty).
pub(super) type Found = (usize, Vec<Diagnostic>);

/// Runs `check` on every proxy of `config` and returns the findings of those that have some,
/// in the proxies' order: on one thread for a small configuration, else on all cores.
pub(super) fn each_proxy<F>(config: &Config, check: F) -> Vec<Found>
where
    F: Fn(&Proxy, &mut Vec<Diagnostic>) + Sync,
{
    let proxies = &config.proxies;
    let workers = if proxies.len() >= PARALLEL_PROXIES {
        crate::cores()
    } else {
        1
    };
    let run = |from: usize, to: usize, found: &mut Vec<Found>| {
        for (i, p) in proxies[from..to].iter().enumerate() {
            let mut out = Vec::new();
            check(p, &mut out);
            if !out.is_empty() {
                found.push((from + i, out));
            }
        }
    };
    if workers < 2 {
        let mut found = Vec::new();
        run(0, proxies.len(), &mut found);
        return found;
    }
    let shares = proxies.len().div_ceil(SHARE);
    let slots: Vec<std::sync::Mutex<Vec<Found>>> =
        (0..shares).map(|_| Default::default()).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(slot) = slots.get(i) else {
            break;
        };
        // Each share is taken by one thread only: the lock is never contended.
        let mut found = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        run(i * SHARE, ((i + 1) * SHARE).min(proxies.len()), &mut found);
    };
    // The `lua.<name>` lookups of a helper thread answer as this thread's would.
    let lua_scope = crate::lua::scope();
    let lua_seen = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 1..workers {
            // A thread the system refuses leaves its shares to the others and to this one.
            let _ = std::thread::Builder::new().spawn_scoped(scope, || {
                let ((), seen) = crate::lua::within(&lua_scope, work);
                if let Ok(mut all) = lua_seen.lock() {
                    all.extend(seen);
                }
            });
        }
        work();
    });
    crate::lua::record_seen(
        lua_seen
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    slots
        .into_iter()
        .flat_map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}
