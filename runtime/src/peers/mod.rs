//! Sharing stick tables with other processes through HAProxy's peers protocol: `codec` is the
//! wire format (sans-I/O), `session` the state of one link, `driver` the sockets. One thread
//! ("hapee-tables") runs the links and the tables' expiry.

pub mod codec;
pub mod driver;
pub mod entries;
pub mod link;

use crate::state::Shared;
use hapee_compiler::plan::Plan;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How often expired entries are removed: well below any sensible `expire`.
const PURGE_EVERY: Duration = Duration::from_millis(100);

/// The name of this process in peers sections: `localpeer` (or `-L`), else the host name.
fn local_name(plan: &Plan) -> String {
    plan.global
        .localpeer
        .clone()
        .unwrap_or_else(crate::log::hostname)
}

/// An address as written on a `peer` or `bind` line (`ipv4@` and friends allowed).
fn socket_addr(text: &str) -> Option<SocketAddr> {
    let bare = text.split_once('@').map_or(text, |(_, a)| a);
    bare.to_socket_addrs().ok()?.next()
}

/// The TLS a link to `address` uses, when its peer line asks for it.
fn link_tls(
    section: &str,
    peer: &hapee_compiler::plan::tables::PeerPlan,
) -> Result<Option<driver::LinkTls>, String> {
    let Some(settings) = &peer.tls else {
        return Ok(None);
    };
    let mut warnings = Vec::new();
    let built = crate::tls::client::ServerTlsConfig::build(settings, &mut warnings)
        .map_err(|e| format!("peers '{section}', peer '{}': {e}", peer.name))?;
    // The name checked is `verifyhost` when given; otherwise the address, which the
    // certificate is only matched against when `verifyhost` or `sni` asks for a name.
    let host = peer
        .address
        .as_deref()
        .map(|a| a.split_once('@').map_or(a, |(_, r)| r))
        .and_then(|a| a.rsplit_once(':'))
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_string());
    let name = settings
        .verifyhost
        .clone()
        .or(host)
        .and_then(|n| rustls_pki_types::ServerName::try_from(n).ok())
        .unwrap_or(rustls_pki_types::ServerName::IpAddress(
            std::net::IpAddr::from([127, 0, 0, 1]).into(),
        ));
    Ok(Some(driver::LinkTls {
        config: built.config,
        name,
    }))
}

/// The peers sections this process takes part in, with the tables they share.
pub fn sections(plan: &Plan, shared: &Shared) -> Result<Vec<driver::Section>, String> {
    let local = local_name(plan);
    let mut out = Vec::new();
    for p in plan.peers.iter().filter(|p| !p.disabled) {
        let Some(me) = p.peers.iter().find(|m| m.name == local) else {
            continue;
        };
        let tables: Vec<_> = shared
            .tables
            .iter()
            .filter(|t| t.peers.as_deref() == Some(p.name.as_str()))
            .cloned()
            .collect();
        if tables.is_empty() {
            continue;
        }
        let listen_tls = match &p.bind_tls {
            Some(t) => {
                let mut warnings = Vec::new();
                let built = crate::tls::config::BindTlsConfig::build(t, &mut warnings)
                    .map_err(|e| format!("peers '{}': bind: {e}", p.name))?;
                Some(built.config)
            }
            None => None,
        };
        let mut remotes = Vec::new();
        for m in p.peers.iter().filter(|m| m.name != local) {
            if let Some(addr) = &m.address {
                remotes.push(driver::Remote {
                    name: m.name.clone(),
                    address: addr.clone(),
                    shard: m.shard,
                    tls: link_tls(&p.name, m)?,
                });
            }
        }
        out.push(driver::Section {
            listen_tls,
            // A stopping process reaches its successor as the local peer line says.
            local_tls: link_tls(&p.name, me)?,
            name: p.name.clone(),
            local: local.clone(),
            listen: me
                .address
                .as_deref()
                .or(p.bind.as_deref())
                .and_then(socket_addr),
            remotes,
            tables,
            max_updates: plan.global.peers_max_updates as usize,
        });
    }
    Ok(out)
}

/// Starts the tables' thread when there are tables: expiry, and the peers sections.
pub fn start(
    plan: &Plan,
    shared: Arc<Shared>,
) -> Result<Option<std::thread::JoinHandle<()>>, String> {
    if shared.tables.is_empty() {
        return Ok(None);
    }
    let sections = sections(plan, &shared)?;
    // Bound here, before the process says it is ready: a reload then stops the process this
    // one replaces, which hands its tables over to this address at once (and gives up when
    // nothing listens there yet).
    let bound: Vec<_> = sections.iter().map(driver::bind).collect();
    crate::side_thread::spawn("hapee-tables", move || async move {
        let running: Vec<_> = sections
            .into_iter()
            .zip(bound)
            .map(|(section, bound)| driver::spawn(section, bound))
            .collect();
        while !shared.stopping.load(Ordering::Relaxed) {
            shared.tables.purge_expired(crate::tables::now_ms());
            tokio::time::sleep(PURGE_EVERY).await;
        }
        // A reload: the process that replaces this one learns the tables from it.
        for section in running {
            driver::hand_over(section).await;
        }
    })
    .map(Some)
    .map_err(|e| format!("cannot start the tables thread: {e}"))
}
