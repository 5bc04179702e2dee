//! SIGHUP in a process that serves: the state of every server and proxy on standard error,
//! in HAProxy's words and order (declaration order, a `listen` section once). HAProxy 2.7 also
//! lists its internal `<HTTPCLIENT>` proxy, which hapee does not have.

use crate::api::counters::Counter;
use crate::state::{BackendRt, FrontendRt, Shared, ADMIN_MAINT};
use std::sync::atomic::Ordering;

fn warn(msg: &str) {
    eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
}

/// One proxy of the dump: its frontend side, its backend side, or both (`listen`).
struct Proxy<'a> {
    decl: usize,
    fe: Option<&'a FrontendRt>,
    be: Option<&'a BackendRt>,
}

/// Whether a server takes traffic: up and running (not stopping), not in maintenance or
/// drained, with a weight.
fn usable(s: &crate::state::ServerRt) -> bool {
    s.up.load(Ordering::Relaxed)
        && !s.is_nolb()
        && s.admin.load(Ordering::Relaxed) == 0
        && s.uweight.load(Ordering::Relaxed) > 0
}

/// Writes the dump.
pub fn dump(shared: &Shared) {
    warn("SIGHUP received, dumping servers states.");
    let mut proxies: Vec<Proxy> = shared
        .frontends
        .iter()
        .map(|fe| Proxy {
            decl: fe.decl,
            fe: Some(fe),
            be: fe.own_backend.and_then(|b| shared.backends.get(b)),
        })
        .collect();
    for be in &shared.backends {
        if !proxies
            .iter()
            .any(|p| p.be.is_some_and(|b| std::ptr::eq(b, be)))
        {
            proxies.push(Proxy {
                decl: be.decl,
                fe: None,
                be: Some(be),
            });
        }
    }
    proxies.sort_by_key(|p| p.decl);
    for p in proxies {
        let name =
            p.fe.map_or_else(|| p.be.map_or("", |b| &b.name), |f| &f.name);
        let feconn = p.fe.map_or(0, |f| f.active.load(Ordering::Relaxed));
        let fe_total = p.fe.map_or(0, |f| f.counters.get(Counter::Sessions));
        let servers = p.be.map_or(&[][..], |b| &b.servers[..]);
        for s in servers {
            warn(&format!(
                "SIGHUP: Server {name}/{} is {}. Conn: {} act, {} pend, {} tot.",
                s.name,
                // A server in maintenance (`disabled`) is stopped, whatever its checks say.
                if s.up.load(Ordering::Relaxed)
                    && s.admin.load(Ordering::Relaxed) & ADMIN_MAINT == 0
                {
                    "UP"
                } else {
                    "DOWN"
                },
                s.active.load(Ordering::Relaxed),
                s.queue.current(),
                s.total.load(Ordering::Relaxed),
            ));
        }
        let (beconn, be_total, queued) = p.be.map_or((0, 0, 0), |b| {
            (
                b.active.load(Ordering::Relaxed),
                b.counters.get(Counter::Sessions),
                b.queue.current(),
            )
        });
        // The backend's count holds every waiting request; those of no server in particular
        // are what the servers' counts leave.
        let assigned: u64 = servers.iter().map(|s| s.queue.current()).sum();
        let pending = queued.max(assigned);
        let unassigned = pending - assigned;
        let conns = format!(
            "Conn: act(FE+BE): {feconn}+{beconn}, {pending} pend ({unassigned} unass), tot(FE+BE): {fe_total}+{be_total}."
        );
        let active = servers.iter().filter(|s| !s.backup && usable(s)).count();
        let backup = servers.iter().filter(|s| s.backup && usable(s)).count();
        if servers.is_empty() {
            warn(&format!("SIGHUP: Proxy {name} has no servers. {conns}"));
        } else if active == 0 {
            let how = if backup > 0 {
                "is running on backup servers"
            } else {
                "has no server available"
            };
            warn(&format!("SIGHUP: Proxy {name} {how} ! {conns}"));
        } else {
            warn(&format!(
                "SIGHUP: Proxy {name} has {active} active servers and {backup} backup servers available. {conns}"
            ));
        }
    }
}
