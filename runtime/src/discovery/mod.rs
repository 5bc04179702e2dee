//! DNS service discovery: servers with `resolvers <name>` (and the slots of a
//! `server-template`) take their addresses, and from SRV records their weights, from DNS
//! answers, refreshed while the proxy runs. Every thread reads the current address and weight
//! of such a server from its [`Dynamic`] state; no reload is involved.
//!
//! - `dns`: queries and responses on the wire (hickory-proto), sans-I/O;
//! - `records`: what the answers mean over time (`hold`) and how they fill server slots;
//! - `resolver`: the queries over UDP with `timeout retry` and `resolve_retries`, one task per
//!   name on a thread of its own;
//! - `report`: the warnings and log lines of a server DNS moves;
//! - `services`: how the slots of SRV-driven templates take in an SRV answer;
//! - `counters`: what each nameserver was sent and answered (`show stat domain resolvers`).

pub mod counters;
pub mod dns;
pub mod do_resolve;
pub mod records;
mod report;
pub mod resolver;
mod services;

use crate::state::Shared;
use hapee_compiler::plan::{Plan, ServerPlan};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

/// The address and weight of a server that DNS answers change.
pub struct Dynamic {
    addr: RwLock<Option<SocketAddr>>,
    weight: AtomicU32,
}

impl Dynamic {
    pub fn new(addr: Option<SocketAddr>, weight: u32) -> Dynamic {
        Dynamic {
            addr: RwLock::new(addr),
            weight: AtomicU32::new(weight),
        }
    }

    pub fn addr(&self) -> Option<SocketAddr> {
        *self.addr.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    /// Starts from `addr` until DNS answers (the address a server-state file saved).
    pub fn seed(&self, addr: SocketAddr) {
        *self.addr.write().unwrap_or_else(|e| e.into_inner()) = Some(addr);
    }

    fn set(&self, addr: Option<SocketAddr>, weight: u32) {
        *self.addr.write().unwrap_or_else(|e| e.into_inner()) = addr;
        self.weight.store(weight, Ordering::Relaxed);
    }
}

/// The value of a server option.
fn option<'a>(s: &'a ServerPlan, name: &str) -> Option<&'a str> {
    hapee_compiler::plan::option_value(&s.options, name)
}

/// A server's `resolve-opts`, read in order (a later word undoes an earlier one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolveOpts {
    /// `allow-dup-ip`: the server may take an address another server of its backend has
    /// from the same name (`prevent-dup-ip`, the default, leaves it without one instead).
    pub allow_dup_ip: bool,
    /// `ignore-weight`: SRV weights leave the server's configured weight alone.
    pub ignore_weight: bool,
}

impl ResolveOpts {
    pub fn of(s: &ServerPlan) -> ResolveOpts {
        let mut o = ResolveOpts::default();
        let values = s
            .options
            .iter()
            .zip(s.options.iter().skip(1))
            .filter(|(k, _)| *k == "resolve-opts");
        for word in values.flat_map(|(_, v)| v.split(',')) {
            match word {
                "allow-dup-ip" => o.allow_dup_ip = true,
                "prevent-dup-ip" => o.allow_dup_ip = false,
                "ignore-weight" => o.ignore_weight = true,
                _ => {}
            }
        }
        o
    }
}

/// The `resolvers` section a server uses, if any.
pub fn resolvers_of(s: &ServerPlan) -> Option<&str> {
    option(s, "resolvers")
}

/// The port a server line names (0 when it names none, as SRV templates do).
pub fn port_of(s: &ServerPlan) -> u16 {
    match s.address.as_ref().map(|a| &a.port) {
        Some(hapee_compiler::address::Port::Range { low, .. }) => *low,
        _ => 0,
    }
}

/// Where a server starts: its IP address, else what `init-addr` (default `last,libc`) finds
/// first: `libc` resolves the name now, an IP is taken as it is, `none` starts without an
/// address (DNS fills it later). `last` needs a server-state file, not read yet.
pub fn initial_address(s: &ServerPlan) -> Option<SocketAddr> {
    let a = s.address.as_ref()?;
    let port = port_of(s);
    if let Some(ip) = a.ip {
        return Some(SocketAddr::new(ip, port));
    }
    for method in option(s, "init-addr").unwrap_or("last,libc").split(',') {
        match method {
            // A service name (`_http._tcp.…`) has no address for libc to find.
            "libc" if !a.host.starts_with('_') => {
                if let Some(found) = (a.host.as_str(), port)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut i| i.next())
                {
                    return Some(found);
                }
            }
            "none" => return None,
            ip => {
                if let Ok(ip) = ip.parse::<IpAddr>() {
                    return Some(SocketAddr::new(ip, port));
                }
            }
        }
    }
    None
}

/// The global `log` targets, where the resolvers report (HAProxy's messages of no proxy).
pub fn global_log(plan: &Plan) -> Arc<Vec<crate::log::Sink>> {
    Arc::new(
        crate::log::Sink::open_list(&plan.global.logs, &plan.global.log_tag)
            .filter_map(|(_, sink)| sink.ok())
            .collect(),
    )
}

/// The plan's `resolvers` sections, then the `default` one HAProxy adds by itself when no
/// section has that name and /etc/resolv.conf names a nameserver. A section that cannot be
/// used is a problem reported in `problems`.
pub fn sections(plan: &Plan, problems: &mut Vec<String>) -> Vec<Arc<resolver::Section>> {
    let log = global_log(plan);
    let mut sections: Vec<Arc<resolver::Section>> = plan
        .resolvers
        .iter()
        .filter_map(|r| {
            resolver::Section::from_plan(r, log.clone())
                .map_err(|e| problems.push(e))
                .ok()
        })
        .map(Arc::new)
        .collect();
    if !plan.resolvers.iter().any(|r| r.name == "default") {
        let implicit = hapee_compiler::plan::resolvers::ResolversPlan::implicit_default();
        if let Ok(s) = resolver::Section::from_plan(&implicit, log) {
            if s.nameserver_counters().next().is_some() {
                sections.push(Arc::new(s));
            }
        }
    }
    sections
}

/// Starts the resolutions the plan needs, on a thread of their own, with the sections the
/// shared state holds (whose counters the Runtime API reads).
pub fn start(shared: &Arc<Shared>, plan: &Plan) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let sections = &shared.resolvers;
    // One resolution per (section, name, family preference), as HAProxy shares one per name;
    // its servers fill, backend by backend in declaration order and whatever their ports:
    // a template's servers are the slots of one resolution, and no two servers of a backend
    // take the same address from it unless `resolve-opts allow-dup-ip` lets them.
    let mut resolutions: Vec<resolver::Resolution> = Vec::new();
    for (b, backend) in plan.backends.iter().enumerate() {
        for (i, s) in backend.servers.iter().enumerate() {
            let (Some(section), Some(host)) = (resolvers_of(s), s.host.as_ref()) else {
                continue;
            };
            let Some(cfg) = sections.iter().find(|r| r.name == section) else {
                errors.push(format!(
                    "server '{}/{}': no resolvers section named '{section}'",
                    backend.name, s.name
                ));
                continue;
            };
            let slot = resolver::Slot {
                server: shared.backends[b].servers[i].clone(),
                port: port_of(s),
                opts: ResolveOpts::of(s),
                prefer_nets: option(s, "resolve-net")
                    .map(|v| v.split(',').filter_map(crate::acl::Cidr::parse).collect())
                    .unwrap_or_default(),
            };
            let prefer_v4 = option(s, "resolve-prefer") == Some("ipv4");
            let key = (section, host.as_str(), prefer_v4);
            let resolution = match resolutions.iter().position(|r| r.key() == key) {
                Some(at) => &mut resolutions[at],
                None => {
                    resolutions.push(resolver::Resolution {
                        section: cfg.clone(),
                        name: host.clone(),
                        prefer_v4,
                        groups: Vec::new(),
                        shared: shared.clone(),
                    });
                    resolutions.last_mut().expect("just pushed")
                }
            };
            match resolution.groups.iter_mut().find(|g| g.backend == b) {
                Some(g) => g.slots.push(slot),
                None => resolution.groups.push(resolver::Group {
                    backend: b,
                    backend_name: backend.name.clone(),
                    slots: vec![slot],
                    reporter: crate::checks::Reporter::new(
                        &shared.backends[b],
                        &shared.backends[b].log_tag,
                    ),
                }),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if resolutions.is_empty() {
        return Ok(());
    }
    crate::side_thread::spawn("hapee-resolvers", move || resolver::run_all(resolutions))
        .map(|_| ())
        .map_err(|e| vec![format!("cannot start the resolvers thread: {e}")])
}
