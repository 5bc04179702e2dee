//! What a resolution knows (sans-I/O): the targets of the last good answers, kept or dropped
//! as `hold` says, and how they fill a template's server slots.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One server a DNS answer names: an address and port, and the SRV weight and priority if
/// any (A/AAAA answers have neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    pub weight: Option<u16>,
    pub priority: u16,
    /// The SRV record's target name (A/AAAA answers have none).
    pub host: Option<String>,
    /// Whether the SRV answer's additional section carried the address.
    pub additional: bool,
}

/// What identifies a record over time: an A/AAAA record by its address, an SRV record by its
/// target name and port (its address may change under it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKey {
    Address(SocketAddr),
    Service(String, u16),
}

impl Target {
    pub fn key(&self) -> RecordKey {
        match &self.host {
            Some(host) => RecordKey::Service(host.to_ascii_lowercase(), self.addr.port()),
            None => RecordKey::Address(self.addr),
        }
    }

    /// HAProxy's server weight for an SRV weight: 0-65535 onto 0-256, rounded up, so that an
    /// SRV weight of 0 gives a server that takes no load-balanced traffic and any other weight
    /// at least 1 (`(w + 255) / 256`: 1-256 -> 1, 600 -> 3, 65535 -> 256).
    pub fn server_weight(&self) -> Option<u32> {
        self.weight.map(|w| u32::from(w).div_ceil(256))
    }
}

/// The outcome of one resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Valid(Vec<Target>),
    NxDomain,
    Refused,
    Timeout,
    Other,
}

/// `hold` periods, per outcome.
#[derive(Debug, Clone, Copy)]
pub struct Hold {
    pub nx: Duration,
    pub other: Duration,
    pub refused: Duration,
    pub timeout: Duration,
    pub obsolete: Duration,
}

/// The targets known, each with when an answer last named it.
#[derive(Debug, Default)]
pub struct RecordSet {
    entries: Vec<(Target, Instant)>,
    last_valid: Option<Instant>,
    /// Whether the answers decide the servers' addresses yet: once one was valid, or a failure
    /// outlasted its hold. Before that a server keeps the address it started with.
    decided: bool,
}

impl RecordSet {
    /// A resolution that starts at `now`: as in HAProxy, failures count their hold from its
    /// start until a first valid answer, so that a server keeps the address `init-addr` gave
    /// it meanwhile.
    pub fn started(now: Instant) -> RecordSet {
        RecordSet {
            last_valid: Some(now),
            ..RecordSet::default()
        }
    }

    /// Whether the servers' addresses follow these records yet.
    pub fn decided(&self) -> bool {
        self.decided
    }

    /// Takes in the outcome of a resolution made at `now`.
    pub fn update(&mut self, outcome: Outcome, now: Instant, hold: &Hold) {
        let failed_hold = match outcome {
            Outcome::Valid(found) => {
                self.last_valid = Some(now);
                self.decided = true;
                for t in found {
                    match self.entries.iter_mut().find(|(e, _)| e.key() == t.key()) {
                        Some(e) => *e = (t, now),
                        None => self.entries.push((t, now)),
                    }
                }
                // A record the answers no longer name goes after `hold obsolete`.
                self.entries
                    .retain(|(_, seen)| now.duration_since(*seen) <= hold.obsolete);
                return;
            }
            Outcome::NxDomain => hold.nx,
            Outcome::Refused => hold.refused,
            Outcome::Timeout => hold.timeout,
            Outcome::Other => hold.other,
        };
        // A failure keeps the last good answer for its `hold` period, then drops it.
        if self
            .last_valid
            .is_none_or(|t| now.duration_since(t) > failed_hold)
        {
            self.entries.clear();
            self.decided = true;
        }
    }

    pub fn targets(&self) -> Vec<Target> {
        self.entries.iter().map(|(t, _)| t.clone()).collect()
    }
}

/// The targets that get a slot when the answers name more than there are `slots`: lowest SRV
/// priority first, then highest weight, then those already in a slot (so that equal records
/// do not swap places between answers), then the order of the answer. HAProxy 2.7 gives every
/// record a slot while there are enough, whatever its priority (it reads the field and never
/// uses it), and so does this: priorities only decide who is left out of a full template.
pub fn choose(
    mut targets: Vec<Target>,
    slots: usize,
    in_slot: impl Fn(&Target) -> bool,
) -> Vec<Target> {
    if targets.len() <= slots {
        return targets;
    }
    targets.sort_by_key(|t| {
        (
            t.priority,
            std::cmp::Reverse(t.weight.unwrap_or(0)),
            !in_slot(t),
        )
    });
    targets.truncate(slots);
    targets
}

/// Where HAProxy files an SRV record among an answer's records, which it goes through in
/// that order: XXH32 of the target's name in DNS label form (each label after its length,
/// no root label), seeded with the SRV type (33). The order looks arbitrary but is the same
/// in every process.
pub fn service_order(host: &str) -> u32 {
    let mut labels = Vec::with_capacity(host.len() + 1);
    for label in host.trim_end_matches('.').split('.') {
        labels.push(label.len() as u8);
        labels.extend_from_slice(label.as_bytes());
    }
    xxhash_rust::xxh32::xxh32(&labels, 33)
}

/// An SRV record as an answer is taken in: named by it, or `gone` (named before, not now).
#[derive(Debug, Clone, Copy)]
pub struct ServiceRecord<'a> {
    pub target: &'a Target,
    pub gone: bool,
}

/// The records known `before` an answer and `now`, in the order HAProxy goes through them:
/// by [`service_order`] of their targets, those of one target in the order they first came
/// (the records known before first, those that went included, then the new ones).
pub fn service_records<'a>(before: &'a [Target], now: &'a [Target]) -> Vec<ServiceRecord<'a>> {
    let mut records: Vec<ServiceRecord> = before
        .iter()
        .map(|b| match now.iter().find(|t| t.key() == b.key()) {
            Some(t) => ServiceRecord {
                target: t,
                gone: false,
            },
            None => ServiceRecord {
                target: b,
                gone: true,
            },
        })
        .collect();
    let new = now
        .iter()
        .filter(|t| !before.iter().any(|b| b.key() == t.key()));
    records.extend(new.map(|target| ServiceRecord {
        target,
        gone: false,
    }));
    records.sort_by_key(|r| service_order(r.target.host.as_deref().unwrap_or_default()));
    records
}

/// The records among `records` (in [`service_records`] order) that the answer's additional
/// section gives their target's address, as HAProxy links an additional record to one SRV
/// record of its target: the record known `before` that had that address from it (even one
/// that went, which then takes it away), else the first record that had none from it. The
/// other records of the target resolve it themselves. One additional record per target and
/// address is assumed, as servers give them.
pub fn additional_receivers(before: &[Target], records: &[ServiceRecord]) -> Vec<RecordKey> {
    let host = |t: &Target| match t.key() {
        RecordKey::Service(h, _) => Some(h),
        RecordKey::Address(_) => None,
    };
    let had = |r: &ServiceRecord, ip: Option<std::net::IpAddr>| {
        let key = r.target.key();
        before
            .iter()
            .any(|b| b.additional && b.key() == key && ip.is_none_or(|ip| b.addr.ip() == ip))
    };
    let mut done: Vec<(String, std::net::IpAddr)> = Vec::new();
    let mut receivers = Vec::new();
    for r in records.iter().filter(|r| !r.gone && r.target.additional) {
        let Some(name) = host(r.target) else {
            continue;
        };
        let ip = r.target.addr.ip();
        if done.contains(&(name.clone(), ip)) {
            continue;
        }
        done.push((name.clone(), ip));
        let of_target = || {
            records
                .iter()
                .filter(|x| host(x.target).as_ref() == Some(&name))
        };
        let receiver = match of_target().find(|x| had(x, Some(ip))) {
            Some(older) => Some(older).filter(|o| !o.gone),
            None => of_target().find(|x| !x.gone && !had(x, None)),
        };
        receivers.extend(receiver.map(|x| x.target.key()));
    }
    receivers
}

/// The slots of an SRV-driven template: the record each holds, and the free ones in the order
/// they take new records (as HAProxy keeps them: in declaration order at first, and a slot
/// whose record went to the back).
#[derive(Debug, Clone)]
pub struct ServiceSlots {
    held: Vec<Option<RecordKey>>,
    free: std::collections::VecDeque<usize>,
}

impl ServiceSlots {
    pub fn new(slots: usize) -> ServiceSlots {
        ServiceSlots {
            held: vec![None; slots],
            free: (0..slots).collect(),
        }
    }

    pub fn held(&self) -> &[Option<RecordKey>] {
        &self.held
    }

    /// The slot holding `key`.
    pub fn holder(&self, key: &RecordKey) -> Option<usize> {
        self.held.iter().position(|k| k.as_ref() == Some(key))
    }

    /// Empties `slot`, which then takes a new record after the slots free before it.
    pub fn release(&mut self, slot: usize) {
        if self.held[slot].take().is_some() {
            self.free.push_back(slot);
        }
    }

    /// Gives `key` the slot free the longest, if any.
    pub fn take(&mut self, key: RecordKey) -> Option<usize> {
        let slot = self.free.pop_front()?;
        self.held[slot] = Some(key);
        Some(slot)
    }
}

/// The slots that resolve their SRV target's name themselves (their record came without
/// its address, or with another one), per target, in the order they started to: as in
/// HAProxy, only the first is told which nameserver answered, the others say `DNS cache`.
#[derive(Debug, Default)]
pub struct TargetRequesters(Vec<(String, usize, usize)>);

impl TargetRequesters {
    /// Slot `slot` of group `group` resolves `host` (once, however often asked).
    pub fn link(&mut self, host: &str, group: usize, slot: usize) {
        let host = host.to_ascii_lowercase();
        if !self.0.iter().any(|r| *r == (host.clone(), group, slot)) {
            self.unlink(group, slot);
            self.0.push((host, group, slot));
        }
    }

    pub fn unlink(&mut self, group: usize, slot: usize) {
        self.0.retain(|(_, g, s)| (*g, *s) != (group, slot));
    }

    /// The slots resolving `host`, first linked first.
    pub fn of(&self, host: &str) -> Vec<(usize, usize)> {
        let host = host.to_ascii_lowercase();
        let linked = self.0.iter().filter(|(h, _, _)| *h == host);
        linked.map(|(_, g, s)| (*g, *s)).collect()
    }
}

/// Fills server slots from `targets`: a slot whose address is still named keeps it (its
/// connections and its place in the balancing stay), the new targets take the empty slots
/// in order, and a slot whose target has gone is emptied.
pub fn assign(targets: &[Target], slots: &[Option<SocketAddr>]) -> Vec<Option<Target>> {
    let mut out: Vec<Option<Target>> = Vec::with_capacity(slots.len());
    for slot in slots {
        // Only the first slot with an address keeps it (template slots may start alike).
        let kept = slot
            .filter(|a| !out.iter().flatten().any(|o: &Target| o.addr == *a))
            .and_then(|a| targets.iter().find(|t| t.addr == a).cloned());
        out.push(kept);
    }
    let taken: Vec<SocketAddr> = out.iter().flatten().map(|t| t.addr).collect();
    let mut free = targets.iter().filter(|t| !taken.contains(&t.addr));
    for slot in out.iter_mut().filter(|s| s.is_none()) {
        match free.next() {
            Some(t) => *slot = Some(t.clone()),
            None => break,
        }
    }
    out
}

/// Moves each slot with preferred networks (`resolve-net`) whose target is outside them to a
/// target inside them that no slot holds, the first the answers name: HAProxy scores an
/// address in a preferred network above one that is free or current, below the preferred
/// family (which the question asked already decides here).
pub fn prefer_networks<'a>(
    targets: &[Target],
    assigned: &mut [Option<Target>],
    nets: impl Fn(usize) -> &'a [crate::acl::Cidr],
) {
    let inside = |nets: &[crate::acl::Cidr], t: &Target| {
        nets.iter()
            .any(|n| n.addr.is_ipv4() == t.addr.is_ipv4() && n.contains(t.addr.ip()))
    };
    for i in 0..assigned.len() {
        let nets = nets(i);
        if nets.is_empty() || assigned[i].as_ref().is_some_and(|t| inside(nets, t)) {
            continue;
        }
        let free = targets
            .iter()
            .find(|t| inside(nets, t) && !assigned.iter().flatten().any(|a| a.addr == t.addr));
        if let Some(t) = free {
            assigned[i] = Some(t.clone());
        }
    }
}

/// Gives the slots left empty that may share an address (`resolve-opts allow-dup-ip`) one
/// that other slots have taken: the one such a slot holds while the answers still name it,
/// else the first the answers name (HAProxy takes the best-scored record, and a taken one
/// scores alike for every slot, so the order of the answer decides).
pub fn share(
    targets: &[Target],
    slots: &[Option<SocketAddr>],
    assigned: &mut [Option<Target>],
    may_share: impl Fn(usize) -> bool,
) {
    for (i, slot) in assigned.iter_mut().enumerate() {
        if slot.is_some() || !may_share(i) {
            continue;
        }
        let held = slots
            .get(i)
            .copied()
            .flatten()
            .and_then(|a| targets.iter().find(|t| t.addr == a));
        *slot = held.or(targets.first()).cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str, w: Option<u16>) -> Target {
        Target {
            addr: s.parse().unwrap(),
            weight: w,
            priority: 0,
            host: None,
            additional: false,
        }
    }

    fn srv(s: &str, priority: u16, weight: u16) -> Target {
        Target {
            priority,
            ..t(s, Some(weight))
        }
    }

    #[test]
    fn srv_weights_map_as_haproxy_maps_them() {
        // The values Debian's haproxy 2.6 showed in `show servers state` for these SRV weights.
        for (srv_weight, server_weight) in [
            (0, 0),
            (1, 1),
            (100, 1),
            (256, 1),
            (257, 2),
            (600, 3),
            (768, 3),
            (65535, 256),
        ] {
            assert_eq!(
                t("10.0.0.1:80", Some(srv_weight)).server_weight(),
                Some(server_weight),
                "SRV weight {srv_weight}"
            );
        }
        assert_eq!(t("10.0.0.1:80", None).server_weight(), None);
    }

    #[test]
    fn a_full_template_keeps_the_lowest_priorities() {
        let answer = vec![
            srv("10.0.0.1:80", 20, 65535),
            srv("10.0.0.2:80", 0, 10),
            srv("10.0.0.3:80", 10, 600),
            srv("10.0.0.4:80", 0, 500),
        ];
        // Enough slots: every record, in the answer's order, whatever its priority.
        assert_eq!(choose(answer.clone(), 4, |_| false), answer);
        let got: Vec<String> = choose(answer.clone(), 2, |_| false)
            .iter()
            .map(|t| t.addr.to_string())
            .collect();
        assert_eq!(got, ["10.0.0.4:80", "10.0.0.2:80"]);
        // Among equals, those already in a slot stay.
        let equal = vec![srv("10.0.0.1:80", 0, 1), srv("10.0.0.2:80", 0, 1)];
        let held: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let kept = choose(equal, 1, |t| t.addr == held);
        assert_eq!(kept[0].addr.to_string(), "10.0.0.2:80");
    }

    #[test]
    fn slots_allowed_to_share_take_a_taken_address() {
        let answer = [t("10.0.0.1:0", None), t("10.0.0.2:0", None)];
        let b = "10.0.0.2:0".parse().ok();
        let slots = [None, None, None, b];
        let mut got = assign(&answer, &slots);
        // Distinct addresses first: slot 3 keeps its own, slot 0 takes the other one.
        let addr = |g: &[Option<Target>], i: usize| g[i].as_ref().map(|t| t.addr.to_string());
        assert_eq!(addr(&got, 0).as_deref(), Some("10.0.0.1:0"));
        assert_eq!((got[1].clone(), got[2].clone()), (None, None));
        // Only slot 2 may share (allow-dup-ip): it takes the answer's first address.
        share(&answer, &slots, &mut got, |i| i == 2);
        assert_eq!(got[1], None, "prevent-dup-ip: left without an address");
        assert_eq!(addr(&got, 2).as_deref(), Some("10.0.0.1:0"));
        assert_eq!(addr(&got, 3).as_deref(), Some("10.0.0.2:0"));
        // A sharing slot holding a named address keeps it.
        let mut again = vec![None, None];
        share(&answer, &[None, b], &mut again, |_| true);
        assert_eq!(addr(&again, 1).as_deref(), Some("10.0.0.2:0"));
    }

    fn record(host: &str, ip: &str, port: u16) -> Target {
        Target {
            host: Some(host.to_string()),
            ..t(&format!("{ip}:{port}"), Some(10))
        }
    }

    #[test]
    fn srv_records_go_in_haproxy_order_and_slots_queue_when_freed() {
        // The order Debian's haproxy went through these targets' records.
        let order = ["web4", "web3", "web2", "web5", "web1"];
        let keys: Vec<u32> = order
            .iter()
            .map(|n| service_order(&format!("{n}.hapee.test")))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:x?}");
        let a = record("web1.hapee.test", "10.0.0.1", 80);
        let b = record("web2.hapee.test", "10.0.0.2", 80);
        let b_other_port = record("web2.hapee.test", "10.0.0.2", 81);
        let (before, now) = ([a.clone(), b.clone()], [b_other_port.clone()]);
        let seen = service_records(&before, &now);
        let got: Vec<(u16, bool)> = seen
            .iter()
            .map(|r| (r.target.addr.port(), r.gone))
            .collect();
        // web2's records before web1's; of web2's, the one known before first.
        assert_eq!(got, [(80, true), (81, false), (80, true)]);
        // An address an older record of the target had from the additional section stays
        // with that record; else it goes to the first record of the target.
        let carried = |t: &Target| Target {
            additional: true,
            ..t.clone()
        };
        let (b, b_other_port) = (carried(&b), carried(&b_other_port));
        let now = [b_other_port.clone(), b.clone()];
        let receivers =
            |before: &[Target]| additional_receivers(before, &service_records(before, &now));
        assert_eq!(receivers(&[]), [b_other_port.key()]);
        assert_eq!(receivers(std::slice::from_ref(&b)), [b.key()]);
        let gone_before = [carried(&record("web2.hapee.test", "10.0.0.2", 82))];
        assert_eq!(receivers(&gone_before), []);
        let mut slots = ServiceSlots::new(3);
        assert_eq!(slots.take(a.key()), Some(0));
        assert_eq!(slots.take(b.key()), Some(1));
        slots.release(0);
        // The slot free the longest first.
        assert_eq!(slots.take(b_other_port.key()), Some(2));
        assert_eq!(slots.holder(&b_other_port.key()), Some(2));
        assert_eq!(slots.take(a.key()), Some(0));
        assert_eq!(slots.take(record("x", "10.0.0.3", 80).key()), None);
    }

    #[test]
    fn the_first_slot_to_resolve_a_target_stays_first() {
        let mut asking = TargetRequesters::default();
        asking.link("Web.test", 1, 0);
        asking.link("web.test", 0, 2);
        asking.link("web.test", 1, 0);
        assert_eq!(asking.of("web.test"), [(1, 0), (0, 2)]);
        asking.unlink(1, 0);
        asking.link("web.test", 1, 0);
        assert_eq!(asking.of("WEB.test"), [(0, 2), (1, 0)]);
    }

    fn hold() -> Hold {
        let s = Duration::from_secs;
        Hold {
            nx: s(30),
            other: s(30),
            refused: s(30),
            timeout: s(5),
            obsolete: s(0),
        }
    }

    #[test]
    fn slots_keep_their_target_take_new_ones_and_empty_when_gone() {
        let a = "10.0.0.1:80".parse().ok();
        let b = "10.0.0.2:80".parse().ok();
        let now = [t("10.0.0.2:80", None), t("10.0.0.3:80", None)];
        let got = assign(&now, &[a, b, None]);
        // 10.0.0.1 has gone: its slot takes the new 10.0.0.3; 10.0.0.2 stays put.
        let addr = |i: usize| got[i].as_ref().map(|t| t.addr.to_string());
        assert_eq!(addr(0).as_deref(), Some("10.0.0.3:80"));
        assert_eq!(addr(1).as_deref(), Some("10.0.0.2:80"));
        assert_eq!(got[2], None);
        // Slots that start on the same address: one keeps it, another target fills the next.
        let same = assign(&now, &[b, b]);
        assert_ne!(same[0], same[1]);
        // More targets than slots: the slots are all filled, the rest wait.
        let many: Vec<Target> = (1..=5)
            .map(|i| t(&format!("10.0.1.{i}:80"), None))
            .collect();
        assert_eq!(assign(&many, &[None, None]).iter().flatten().count(), 2);
    }

    #[test]
    fn failures_before_any_answer_decide_nothing_until_their_hold_is_over() {
        let start = Instant::now();
        let mut set = RecordSet::started(start);
        set.update(Outcome::Timeout, start + Duration::from_secs(3), &hold());
        assert!(!set.decided());
        set.update(Outcome::Refused, start + Duration::from_secs(20), &hold());
        assert!(!set.decided());
        set.update(Outcome::Refused, start + Duration::from_secs(31), &hold());
        assert!(set.decided() && set.targets().is_empty());
        let mut set = RecordSet::started(start);
        set.update(Outcome::Valid(vec![t("10.0.0.1:80", None)]), start, &hold());
        assert!(set.decided());
    }

    #[test]
    fn hold_keeps_answers_through_failures_for_a_while_and_obsolete_records_go() {
        let start = Instant::now();
        let mut set = RecordSet::default();
        let h = hold();
        set.update(
            Outcome::Valid(vec![t("10.0.0.1:80", Some(512)), t("10.0.0.2:80", None)]),
            start,
            &h,
        );
        assert_eq!(set.targets().len(), 2);
        assert_eq!(set.targets()[0].server_weight(), Some(2));
        set.update(Outcome::Timeout, start + Duration::from_secs(3), &h);
        assert_eq!(set.targets().len(), 2, "within hold timeout");
        set.update(Outcome::Timeout, start + Duration::from_secs(6), &h);
        assert!(set.targets().is_empty(), "past hold timeout");
        set.update(
            Outcome::Valid(vec![t("10.0.0.1:80", None), t("10.0.0.2:80", None)]),
            start + Duration::from_secs(7),
            &h,
        );
        set.update(
            Outcome::Valid(vec![t("10.0.0.2:80", None)]),
            start + Duration::from_secs(8),
            &h,
        );
        assert_eq!(
            set.targets(),
            vec![t("10.0.0.2:80", None)],
            "obsolete at once"
        );
    }
}
