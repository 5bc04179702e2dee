//! Resolutions: each name is asked of every nameserver of its section at once (over UDP, or
//! TCP for a `tcp@` nameserver), the other address family at once when every nameserver
//! answered with an error, again after `timeout retry` without an answer, `resolve_retries`
//! times at most (see [`ask`]), and again `timeout resolve` after each resolution ended
//! (`hold valid` does not space them, as in HAProxy). The first answer with records wins;
//! when every nameserver answers with an error, the last error counts. A UDP answer the server truncated (TC bit) is asked again over TCP
//! from the same server, as RFC 7766 has it (HAProxy 2.7 itself uses what a truncated SRV
//! answer holds and fails a truncated A/AAAA one; it does the same when the TCP retry fails).
//! What the answers say goes to the servers.

use super::counters::{Count, NameserverCounters};
use super::dns::{self, Answer, Kind, Reply, Response};
use super::records::{self, Hold, Outcome, RecordSet, Target};
use super::report;
use super::services;
use crate::state::ServerRt;
use hapee_compiler::plan::resolvers::ResolversPlan;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A nameserver: its address, and whether it is asked over TCP (`tcp@`) rather than UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nameserver {
    pub addr: SocketAddr,
    pub stream: bool,
}

/// A `resolvers` section, ready for queries.
pub struct Section {
    pub name: String,
    nameservers: Vec<Nameserver>,
    /// Each nameserver's `<id>`, in the same order.
    ids: Vec<Arc<str>>,
    /// Each nameserver's counters, in the same order.
    counters: Vec<Arc<NameserverCounters>>,
    /// The global `log` targets, where a nameserver that cannot be reached is reported.
    log: Arc<Vec<crate::log::Sink>>,
    retries: u32,
    retry: Duration,
    interval: Duration,
    hold: Hold,
    payload: u16,
}

impl Section {
    pub fn from_plan(
        r: &ResolversPlan,
        log: Arc<Vec<crate::log::Sink>>,
    ) -> Result<Section, String> {
        let ms = |v: u32| Duration::from_millis(u64::from(v));
        let mut nameservers = Vec::new();
        let mut ids: Vec<Arc<str>> = Vec::new();
        for (i, ns) in r.nameservers.iter().enumerate() {
            nameservers.push(nameserver(ns).ok_or_else(|| {
                format!(
                    "resolvers '{}': nameserver address '{ns}' is not usable",
                    r.name
                )
            })?);
            ids.push(r.nameserver_ids.get(i).map_or(ns.as_str(), |id| id).into());
        }
        if r.parse_resolv_conf {
            let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            for line in conf.lines() {
                let mut words = line.split_whitespace();
                if words.next() == Some("nameserver") {
                    if let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) {
                        nameservers.push(Nameserver {
                            addr: SocketAddr::new(ip, 53),
                            stream: false,
                        });
                        // Named after its address, as HAProxy names them.
                        ids.push(ip.to_string().into());
                    }
                }
            }
        }
        Ok(Section {
            name: r.name.clone(),
            counters: nameservers.iter().map(|_| Arc::default()).collect(),
            nameservers,
            ids,
            log,
            retries: r.resolve_retries.max(1),
            retry: ms(r.timeout_retry.max(1)),
            interval: ms(r.timeout_resolve.max(1)),
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

impl Section {
    /// Each nameserver's `<id>` and counters, in declaration order.
    pub fn nameserver_counters(&self) -> impl Iterator<Item = (&str, &NameserverCounters)> {
        self.ids
            .iter()
            .map(|id| &**id)
            .zip(self.counters.iter().map(|c| &**c))
    }
}

/// A nameserver address read as HAProxy reads it (`str2sa_range`): `1.2.3.4:53`, `[::1]:53`,
/// `:53` (the wildcard address, what an unset `${VAR}:53` leaves), or a host name resolved
/// now; UDP unless the prefix is `tcp@`, `tcp4@`, `tcp6@` or the address starts with `stream+`.
fn nameserver(text: &str) -> Option<Nameserver> {
    use hapee_compiler::address::{self, Family, Port, Rules};
    // The checker already refused an address without a port; read one here as port 53.
    let rules = Rules {
        port_mandatory: false,
        ..Rules::NAMESERVER
    };
    let a = address::parse(text, rules).ok()?;
    if !matches!(a.family, Family::Unspec | Family::Inet | Family::Inet6) {
        return None;
    }
    let port = match a.port {
        Port::Range { low, .. } => low,
        _ => 53,
    };
    let stream = a.prefix.starts_with("tcp") || text.starts_with("stream+");
    let addr = match a.ip {
        Some(ip) => SocketAddr::new(ip, port),
        None => std::net::ToSocketAddrs::to_socket_addrs(&(a.host.as_str(), port))
            .ok()?
            .find(|s| match a.family {
                Family::Inet => s.is_ipv4(),
                Family::Inet6 => s.is_ipv6(),
                _ => true,
            })?,
    };
    Some(Nameserver { addr, stream })
}

/// A server a resolution fills: its own port (for A/AAAA answers) and `resolve-opts`.
pub struct Slot {
    pub server: Arc<ServerRt>,
    pub port: u16,
    pub opts: super::ResolveOpts,
    /// `resolve-net`: the networks whose addresses the server prefers.
    pub prefer_nets: Vec<crate::acl::Cidr>,
}

/// The servers of one backend that a resolution fills.
pub struct Group {
    pub backend: usize,
    pub backend_name: String,
    pub slots: Vec<Slot>,
    /// Where the backend reports its servers' state changes (stderr and its `log` lines).
    pub reporter: crate::checks::Reporter,
}

/// One name and the servers its answers fill, backend by backend: HAProxy asks a name once
/// for every server of a section that uses it, whatever its backend.
pub struct Resolution {
    pub section: Arc<Section>,
    pub name: String,
    pub prefer_v4: bool,
    /// In declaration order.
    pub groups: Vec<Group>,
    /// The process's state, whose backends the report of a server going down counts.
    pub shared: Arc<crate::state::Shared>,
}

impl Resolution {
    /// Whether the name is a service's (`_service._proto.name`), asked for SRV records.
    pub fn is_service(&self) -> bool {
        self.name.starts_with('_')
    }

    pub fn key(&self) -> (&str, &str, bool) {
        (
            self.section.name.as_str(),
            self.name.as_str(),
            self.prefer_v4,
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
    let mut known = RecordSet::started(Instant::now());
    // What each group's slots hold, for a resolution of SRV records, and which slots resolve
    // their target's name themselves.
    let mut services: Vec<records::ServiceSlots> = if res.is_service() {
        let sizes = res.groups.iter().map(|g| g.slots.len());
        sizes.map(records::ServiceSlots::new).collect()
    } else {
        Vec::new()
    };
    let mut asking = records::TargetRequesters::default();
    loop {
        let (outcome, answered_by) = resolve(&res).await;
        let cause = maintenance_cause(&outcome);
        let failed = !matches!(outcome, Outcome::Valid(_));
        let before = known.targets();
        known.update(outcome, Instant::now(), &res.section.hold);
        let by = answered_by
            .and_then(|i| res.section.ids.get(i))
            .map_or_else(
                || "DNS cache".to_string(),
                |id| format!("{}/{id}", res.section.name),
            );
        let targets = known.targets();
        let first_moved = if !known.decided() {
            false
        } else if res.is_service() {
            let answer = services::ServiceAnswer {
                before: &before,
                targets: &targets,
                failed,
            };
            services::apply(&res, &mut services, &mut asking, &answer, &by)
        } else {
            let mut first_moved = false;
            for (g, group) in res.groups.iter().enumerate() {
                // Only the first server of the resolution names the nameserver that answered.
                let by = (g == 0).then_some(by.as_str());
                let moved = apply(&res, group, &targets, cause, by);
                first_moved |= g == 0 && moved;
            }
            first_moved
        };
        if first_moved {
            // HAProxy counts the update on the nameserver whose answer moved the first
            // server of the resolution.
            if let Some(counters) = answered_by.and_then(|i| res.section.counters.get(i)) {
                counters.add(Count::Update);
            }
        }
        tokio::time::sleep(res.section.interval).await;
    }
}

/// Why a server the resolution leaves without an address enters maintenance, as HAProxy
/// says it (its text for a valid answer without an address ends with a space).
fn maintenance_cause(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Valid(_) => "No IP for server ",
        Outcome::NxDomain => "DNS NX status",
        Outcome::Timeout => "DNS timeout status",
        Outcome::Refused => "DNS refused status",
        Outcome::Other => "unspecified DNS error",
    }
}

/// Gives each server of `group` its slot's target (or none). A/AAAA answers name addresses
/// without a port: they fill slots by address, and each server keeps its own port. `cause`:
/// why a server left without an address enters maintenance; `by`: who answered, for the
/// group of the resolution's first server (the others say `DNS cache`). Whether the group's
/// first server got a new address.
fn apply(
    res: &Resolution,
    group: &Group,
    targets: &[Target],
    cause: &str,
    by: Option<&str>,
) -> bool {
    let mut moved = false;
    let slots: Vec<Option<SocketAddr>> = group
        .slots
        .iter()
        .map(|s| s.server.addr().map(|a| SocketAddr::new(a.ip(), 0)))
        .collect();
    let chosen = records::choose(targets.to_vec(), slots.len(), |t| {
        slots.contains(&Some(t.addr))
    });
    let mut assigned = records::assign(&chosen, &slots);
    records::prefer_networks(targets, &mut assigned, |i| &group.slots[i].prefer_nets);
    records::share(targets, &slots, &mut assigned, |i| {
        group.slots[i].opts.allow_dup_ip
    });
    let backend = &res.shared.backends[group.backend];
    for (i, (slot, target)) in group.slots.iter().zip(assigned).enumerate() {
        let server = &slot.server;
        let Some(dynamic) = server.dynamic.as_ref() else {
            continue;
        };
        let addr = target.map(|t| SocketAddr::new(t.addr.ip(), slot.port));
        let before = dynamic.addr();
        if before == addr {
            continue;
        }
        dynamic.set(addr, server.weight);
        let first = i == 0;
        moved |= first && addr.is_some();
        let reporter = &group.reporter;
        let by = by.filter(|_| first).unwrap_or("DNS cache");
        match (before, addr) {
            (old, Some(new)) if old.map(|a| a.ip()) != Some(new.ip()) => {
                report::address_changed(reporter, server, old.map(|a| a.ip()), new.ip(), by);
                if old.is_none() {
                    report::resolves_again(reporter, server, &res.name, true);
                }
            }
            (Some(_), None) => report::enters_maintenance(reporter, backend, server, cause),
            _ => {}
        }
    }
    moved
}

/// One resolution of the name: its targets, or why there are none; and which nameserver
/// gave the answer the targets come from.
async fn resolve(res: &Resolution) -> (Outcome, Option<usize>) {
    let s = &res.section;
    if res.is_service() {
        let (answers, by) = match ask(s, &res.name, Kind::Srv, None).await {
            Some((Response::Records(a), by)) => (a, by),
            other => return (failure(other), None),
        };
        let mut targets = Vec::new();
        for a in &answers {
            let Answer::Service {
                target,
                port,
                weight,
                priority,
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
                    priority: *priority,
                    host: Some(target.clone()),
                    additional: carried.is_some(),
                });
            }
        }
        return (Outcome::Valid(targets), Some(by));
    }
    let first = if res.prefer_v4 { Kind::A } else { Kind::Aaaa };
    let other = if res.prefer_v4 { Kind::Aaaa } else { Kind::A };
    let (found, by) = match ask(s, &res.name, first, Some(other)).await {
        Some((Response::Records(a), by)) => (ips(&a), by),
        r => return (failure(r), None),
    };
    let targets = found
        .into_iter()
        .map(|ip| Target {
            addr: SocketAddr::new(ip, 0),
            weight: None,
            priority: 0,
            host: None,
            additional: false,
        })
        .collect();
    (Outcome::Valid(targets), Some(by))
}

fn failure(r: Option<(Response, usize)>) -> Outcome {
    match r.map(|(response, _)| response) {
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

/// The first address of `name`, of the preferred family if it has one (`do-resolve`).
pub async fn lookup(s: &Section, name: &str, prefer_v4: bool) -> Option<IpAddr> {
    addresses(s, name, prefer_v4).await.first().copied()
}

/// The addresses of an SRV target, preferred family first.
async fn addresses(s: &Section, name: &str, prefer_v4: bool) -> Vec<IpAddr> {
    let (first, other) = if prefer_v4 {
        (Kind::A, Kind::Aaaa)
    } else {
        (Kind::Aaaa, Kind::A)
    };
    match ask(s, name, first, Some(other)).await {
        Some((Response::Records(a), _)) => ips(&a),
        _ => Vec::new(),
    }
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

/// How one round of queries (one kind, to every nameserver, for at most `timeout retry`)
/// ended.
enum Round {
    /// An answer with records, and the nameserver that gave it.
    Answered(Response, usize),
    /// Every nameserver answered, each with an error: the last one.
    Failed(Response, usize),
    /// The time ran out: the last error among the answers, if any came.
    Unfinished(Option<(Response, usize)>),
}

/// Asks for `name` as HAProxy runs a resolution: every nameserver at once, the first answer
/// with records wins. When every nameserver answered with an error (an answer without
/// records is one), the `fallback` kind (the other address family) is asked at once; when
/// that fails too, or when `timeout retry` passes without every answer, the preferred kind is
/// asked again, `resolve_retries` tries in all. The winning answer, else the last error,
/// each with the index of the nameserver that gave it; `None` when the last try went
/// unanswered (a timeout).
async fn ask(
    s: &Section,
    name: &str,
    preferred: Kind,
    fallback: Option<Kind>,
) -> Option<(Response, usize)> {
    let mut tries_left = s.retries - 1;
    let mut kind = preferred;
    let mut last = None;
    loop {
        let deadline = tokio::time::Instant::now() + s.retry;
        let (answered, failed) = match round(s, name, kind, deadline).await {
            Round::Answered(response, i) => return Some((response, i)),
            Round::Failed(response, i) => {
                last = Some((response, i));
                match fallback {
                    Some(other) if kind == preferred => {
                        kind = other;
                        continue;
                    }
                    _ => (true, true),
                }
            }
            Round::Unfinished(error) => {
                let answered = error.is_some();
                if answered {
                    last = error;
                }
                (answered, false)
            }
        };
        // After the fallback failed, HAProxy gives up at once; a kind without a fallback
        // waits for the end of its try first.
        if tries_left == 0 && failed && kind != preferred {
            return last;
        }
        tokio::time::sleep_until(deadline).await;
        if tries_left == 0 {
            return if answered { last } else { None };
        }
        match fallback {
            Some(other) if answered && kind == preferred => kind = other,
            _ => {
                kind = preferred;
                tries_left -= 1;
            }
        }
    }
}

/// One round of queries for `name`, answered by `deadline`. Once it has its answer, what the
/// other nameservers still answer to it is counted `outdated`, as HAProxy counts an answer to
/// a query it no longer waits for.
async fn round(s: &Section, name: &str, kind: Kind, deadline: tokio::time::Instant) -> Round {
    let id = next_id();
    let Some(query) = dns::query(id, name, kind, s.payload) else {
        return Round::Unfinished(None);
    };
    let query: std::rc::Rc<[u8]> = query.into();
    let open = std::rc::Rc::new(std::cell::Cell::new(true));
    let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
    let mut asked = tokio::task::JoinSet::new();
    for (i, (ns, ns_id)) in s.nameservers.iter().zip(&s.ids).enumerate() {
        let to = Peer {
            addr: *ns,
            id: ns_id.clone(),
            log: s.log.clone(),
            counters: s.counters[i].clone(),
            open: open.clone(),
        };
        let exchanged = exchange(to, id, query.clone(), kind, s.payload, wait);
        asked.spawn_local(async move { (i, exchanged.await) });
    }
    let mut last = None;
    let mut unanswered = false;
    while let Some(done) = asked.join_next().await {
        let Ok((i, Some(reply))) = done else {
            unanswered = true;
            continue;
        };
        match reply.response {
            Response::Records(a) if reply.answer_count > 0 => {
                // HAProxy counts as valid the answer a resolution takes.
                s.counters[i].add(Count::Valid);
                open.set(false);
                asked.detach_all();
                return Round::Answered(Response::Records(a), i);
            }
            // An answer without records is an error (`other`), as in HAProxy.
            Response::Records(_) => last = Some((Response::Other, i)),
            response => last = Some((response, i)),
        }
    }
    match last {
        Some((response, i)) if !unanswered => Round::Failed(response, i),
        _ => Round::Unfinished(last),
    }
}

/// A nameserver as one query sees it: its address, its id and the global log (where one
/// that cannot be reached is reported), and its counters.
struct Peer {
    addr: Nameserver,
    id: Arc<str>,
    log: Arc<Vec<crate::log::Sink>>,
    counters: Arc<NameserverCounters>,
    /// Whether the round still waits for answers: one that comes later is `outdated`.
    open: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Peer {
    /// Counts an answer by its kind while the round waits for it, else as outdated; the
    /// answer, when the round still waits for it.
    fn answered(&self, reply: Reply, srv: bool) -> Option<Reply> {
        if !self.open.get() {
            self.counters.add(Count::Outdated);
            return None;
        }
        self.counters.answered(&reply, srv);
        Some(reply)
    }

    /// Reports, as HAProxy does at each query, that no socket to the nameserver could be
    /// connected (a warning to the global log; it names the nameserver twice).
    fn report(&self) {
        let text = format!(
            "DNS : section '{0}': can't connect socket for nameserver '{0}'.",
            self.id
        );
        for sink in self.log.iter() {
            sink.send(4, &text);
        }
    }
}

/// One query to one nameserver, answered within `wait` (and, for a truncated UDP answer,
/// the TCP retry within `wait` more); each answer counted by its kind.
async fn exchange(
    to: Peer,
    id: u16,
    query: std::rc::Rc<[u8]>,
    kind: Kind,
    payload: u16,
    wait: Duration,
) -> Option<Reply> {
    let srv = kind == Kind::Srv;
    if to.addr.stream {
        let reply = tokio::time::timeout(wait, over_tcp(&to, id, &query))
            .await
            .ok()??;
        return to.answered(reply, srv);
    }
    let reply = tokio::time::timeout(wait, over_udp(&to, id, &query, payload))
        .await
        .ok()??;
    let reply = to.answered(reply, srv)?;
    if !reply.truncated {
        return Some(reply);
    }
    match tokio::time::timeout(wait, over_tcp(&to, id, &query)).await {
        Ok(Some(whole)) => to.answered(whole, srv),
        // No TCP answer: what HAProxy does with the truncated datagram.
        _ if srv => Some(reply),
        _ => Some(Reply {
            response: Response::Other,
            ..reply
        }),
    }
}

async fn over_udp(to: &Peer, id: u16, query: &[u8], payload: u16) -> Option<Reply> {
    let addr = to.addr.addr;
    let any = if addr.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = tokio::net::UdpSocket::bind(any).await.ok()?;
    // Connected: the kernel drops datagrams from anyone but the nameserver.
    if socket.connect(addr).await.is_err() {
        to.report();
        return None;
    }
    if socket.send(query).await.is_err() {
        to.counters.add(Count::SendError);
        return None;
    }
    to.counters.add(Count::Sent);
    // One byte more than announced, to see an answer too big for it.
    let limit = usize::from(payload.max(512));
    let mut buf = vec![0u8; limit + 1];
    loop {
        let n = socket.recv(&mut buf).await.ok()?;
        if n > limit {
            to.counters.add(Count::TooBig);
            continue;
        }
        if let Some(r) = read_counted(to, id, &buf[..n]) {
            return Some(r);
        }
    }
}

/// Reads a response to query `id`, counting a message that cannot be read (`invalid`) or
/// answers another query (`outdated`).
fn read_counted(to: &Peer, id: u16, message: &[u8]) -> Option<Reply> {
    match dns::answered_id(message) {
        None => to.counters.add(Count::Invalid),
        Some(other) if other != id => to.counters.add(Count::Outdated),
        Some(_) => {
            let reply = dns::read_response(id, message);
            if reply.is_none() {
                to.counters.add(Count::Invalid);
            }
            return reply;
        }
    }
    None
}

/// A query over TCP: each message preceded by its length on two bytes (RFC 1035 4.2.2).
async fn over_tcp(to: &Peer, id: u16, query: &[u8]) -> Option<Reply> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(to.addr.addr).await.ok()?;
    let len = u16::try_from(query.len()).ok()?;
    let mut out = Vec::with_capacity(query.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(query);
    if stream.write_all(&out).await.is_err() {
        to.counters.add(Count::SendError);
        return None;
    }
    to.counters.add(Count::Sent);
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.ok()?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut msg).await.ok()?;
        if let Some(r) = read_counted(to, id, &msg) {
            return Some(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_addresses_and_their_transport() {
        let ns = |t: &str| nameserver(t).map(|n| (n.addr.to_string(), n.stream));
        let udp = |a: &str| Some((a.to_string(), false));
        let tcp = |a: &str| Some((a.to_string(), true));
        assert_eq!(ns("127.0.0.1:5353"), udp("127.0.0.1:5353"));
        assert_eq!(ns("udp@127.0.0.1:5353"), udp("127.0.0.1:5353"));
        assert_eq!(ns("ipv4@10.0.0.1"), udp("10.0.0.1:53"));
        assert_eq!(ns("tcp@127.0.0.1:5353"), tcp("127.0.0.1:5353"));
        assert_eq!(ns("tcp6@[::1]:53"), tcp("[::1]:53"));
        assert_eq!(ns("tcp4@10.0.0.3"), tcp("10.0.0.3:53"));
        assert_eq!(ns(":53"), udp("0.0.0.0:53"));
        assert_eq!(ns("unix@/run/dns.sock"), None);
        assert_eq!(ns("tcp@nameserver.example:53"), None);
    }
}
