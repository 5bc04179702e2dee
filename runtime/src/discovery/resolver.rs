//! Resolutions over UDP: each name is asked of every nameserver of its section, again after
//! `timeout retry` without an answer, `resolve_retries` times at most, and again every
//! `hold valid` (at least `timeout resolve`). What the answers say goes to the servers.

use super::dns::{self, Answer, Kind, Response};
use super::records::{self, Hold, Outcome, RecordSet, Target};
use crate::state::ServerRt;
use hapee_compiler::plan::resolvers::ResolversPlan;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `resolvers` section, ready for queries.
pub struct Section {
    pub name: String,
    nameservers: Vec<SocketAddr>,
    retries: u32,
    retry: Duration,
    interval: Duration,
    hold: Hold,
    payload: u16,
}

impl Section {
    pub fn from_plan(r: &ResolversPlan) -> Result<Section, String> {
        let ms = |v: u32| Duration::from_millis(u64::from(v));
        let mut nameservers = Vec::new();
        for ns in &r.nameservers {
            nameservers.push(nameserver(ns).ok_or_else(|| {
                format!(
                    "resolvers '{}': nameserver address '{ns}' is not usable",
                    r.name
                )
            })?);
        }
        if r.parse_resolv_conf {
            let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            for line in conf.lines() {
                let mut words = line.split_whitespace();
                if words.next() == Some("nameserver") {
                    if let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) {
                        nameservers.push(SocketAddr::new(ip, 53));
                    }
                }
            }
        }
        Ok(Section {
            name: r.name.clone(),
            nameservers,
            retries: r.resolve_retries.max(1),
            retry: ms(r.timeout_retry.max(1)),
            interval: ms(r.hold.valid.max(r.timeout_resolve).max(100)),
            hold: Hold {
                nx: ms(r.hold.nx),
                other: ms(r.hold.other),
                refused: ms(r.hold.refused),
                timeout: ms(r.hold.timeout),
                obsolete: ms(r.hold.obsolete),
            },
            payload: r.accepted_payload_size,
        })
    }
}

/// `udp@1.2.3.4:53`, `1.2.3.4:53`, `[::1]:53` or a bare IP (port 53).
fn nameserver(text: &str) -> Option<SocketAddr> {
    let text = text
        .strip_prefix("udp@")
        .or_else(|| text.strip_prefix("udp4@"))
        .or_else(|| text.strip_prefix("udp6@"))
        .unwrap_or(text);
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Some(a);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    // `ipv4:port` is the common form; a bare `ipv6:port` is ambiguous and not accepted.
    let (ip, port) = text.rsplit_once(':')?;
    Some(SocketAddr::new(ip.parse().ok()?, port.parse().ok()?))
}

/// One name and the servers its answers fill.
pub struct Resolution {
    pub section: Arc<Section>,
    pub name: String,
    /// The port of the server line (A/AAAA answers; SRV answers carry their own).
    pub port: u16,
    pub prefer_v4: bool,
    pub backend: usize,
    pub backend_name: String,
    pub servers: Vec<Arc<ServerRt>>,
}

impl Resolution {
    pub fn key(&self) -> (&str, &str, u16, bool, usize) {
        (
            self.section.name.as_str(),
            self.name.as_str(),
            self.port,
            self.prefer_v4,
            self.backend,
        )
    }
}

/// Runs every resolution until the process ends (on the thread `side_thread` sets up).
pub async fn run_all(resolutions: Vec<Resolution>) {
    let tasks: Vec<_> = resolutions
        .into_iter()
        .map(|r| tokio::task::spawn_local(run(r)))
        .collect();
    for t in tasks {
        let _ = t.await;
    }
}

async fn run(res: Resolution) {
    let mut known = RecordSet::default();
    loop {
        let outcome = resolve(&res).await;
        known.update(outcome, Instant::now(), &res.section.hold);
        apply(&res, &known.targets());
        tokio::time::sleep(res.section.interval).await;
    }
}

/// Gives each server its slot's target (or none).
fn apply(res: &Resolution, targets: &[Target]) {
    let slots: Vec<Option<SocketAddr>> = res.servers.iter().map(|s| s.addr()).collect();
    let assigned = records::assign(targets, &slots);
    for (server, target) in res.servers.iter().zip(assigned) {
        let Some(dynamic) = server.dynamic.as_ref() else {
            continue;
        };
        let (addr, weight) = match &target {
            Some(t) => (Some(t.addr), t.server_weight().unwrap_or(server.weight)),
            None => (None, server.weight),
        };
        let before = (dynamic.addr(), dynamic.weight());
        if before == (addr, weight) {
            continue;
        }
        dynamic.set(addr, weight);
        let who = format!("{}/{}", res.backend_name, server.name);
        let pid = std::process::id();
        match (before.0, addr) {
            (Some(old), Some(new)) if old != new => eprintln!(
                "[WARNING]  ({pid}) : {who} changed its IP from {old} to {new} by {}.",
                res.section.name
            ),
            (None, Some(new)) => eprintln!(
                "[WARNING]  ({pid}) : {who} is now at {new} (from resolvers {}).",
                res.section.name
            ),
            (Some(_), None) => eprintln!(
                "[WARNING]  ({pid}) : Server {who} is going DOWN for maintenance (No IP for server).",
            ),
            _ => eprintln!("[WARNING]  ({pid}) : {who} weight is now {weight} (SRV record)."),
        }
    }
}

/// One resolution of the name: its targets, or why there are none.
async fn resolve(res: &Resolution) -> Outcome {
    let s = &res.section;
    if res.name.starts_with('_') {
        let answers = match ask(s, &res.name, Kind::Srv).await {
            Some(Response::Records(a)) => a,
            other => return failure(other),
        };
        let mut targets = Vec::new();
        for a in &answers {
            let Answer::Service {
                target,
                port,
                weight,
                ..
            } = a
            else {
                continue;
            };
            let carried = answers.iter().find_map(|x| match x {
                Answer::Additional(n, ip) if n.eq_ignore_ascii_case(target) => Some(*ip),
                _ => None,
            });
            let ip = match carried {
                Some(ip) => Some(ip),
                None => addresses(s, target, res.prefer_v4).await.first().copied(),
            };
            if let Some(ip) = ip {
                targets.push(Target {
                    addr: SocketAddr::new(ip, *port),
                    weight: Some(*weight),
                });
            }
        }
        return Outcome::Valid(targets);
    }
    let first = if res.prefer_v4 { Kind::A } else { Kind::Aaaa };
    let other = if res.prefer_v4 { Kind::Aaaa } else { Kind::A };
    let mut found = match ask(s, &res.name, first).await {
        Some(Response::Records(a)) => ips(&a),
        r => return failure(r),
    };
    // The preferred family has no address: the other one, as HAProxy falls back.
    if found.is_empty() {
        found = match ask(s, &res.name, other).await {
            Some(Response::Records(a)) => ips(&a),
            r => return failure(r),
        };
    }
    Outcome::Valid(
        found
            .into_iter()
            .map(|ip| Target {
                addr: SocketAddr::new(ip, res.port),
                weight: None,
            })
            .collect(),
    )
}

fn failure(r: Option<Response>) -> Outcome {
    match r {
        None => Outcome::Timeout,
        Some(Response::NxDomain) => Outcome::NxDomain,
        Some(Response::Refused) => Outcome::Refused,
        Some(_) => Outcome::Other,
    }
}

fn ips(answers: &[Answer]) -> Vec<IpAddr> {
    answers
        .iter()
        .filter_map(|a| match a {
            Answer::Address(ip) => Some(*ip),
            _ => None,
        })
        .collect()
}

/// The addresses of an SRV target, preferred family first.
async fn addresses(s: &Section, name: &str, prefer_v4: bool) -> Vec<IpAddr> {
    let order = if prefer_v4 {
        [Kind::A, Kind::Aaaa]
    } else {
        [Kind::Aaaa, Kind::A]
    };
    for kind in order {
        if let Some(Response::Records(a)) = ask(s, name, kind).await {
            let found = ips(&a);
            if !found.is_empty() {
                return found;
            }
        }
    }
    Vec::new()
}

/// A fresh query id: the clock's nanoseconds mixed with a counter.
fn next_id() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(0x9e37, Ordering::Relaxed);
    ((nanos ^ n ^ (nanos >> 16)) & 0xffff) as u16
}

/// Asks every nameserver; `None` when none answered within the retries.
async fn ask(s: &Section, name: &str, kind: Kind) -> Option<Response> {
    let any = if s.nameservers.iter().any(|n| n.is_ipv6()) {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = tokio::net::UdpSocket::bind(any).await.ok()?;
    let mut buf = vec![0u8; usize::from(s.payload.max(512))];
    for _ in 0..s.retries {
        let id = next_id();
        let query = dns::query(id, name, kind, s.payload)?;
        for ns in &s.nameservers {
            let _ = socket.send_to(&query, ns).await;
        }
        let deadline = tokio::time::Instant::now() + s.retry;
        while let Ok(Ok((n, from))) =
            tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await
        {
            if !s.nameservers.contains(&from) {
                continue;
            }
            if let Some(r) = dns::read_response(id, &buf[..n]) {
                return Some(r);
            }
        }
    }
    None
}
