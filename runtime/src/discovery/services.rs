//! How the slots of SRV-driven `server-template`s take in an SRV answer, in HAProxy's order
//! and words (see [`apply`]).

use super::records::{self, Target};
use super::report;
use super::resolver::{Resolution, Slot};

/// Why a template slot loses its SRV record, whatever made the record go (HAProxy's words).
const SRV_RECORD_GONE: &str = "entry removed from SRV record";

/// An SRV answer as the records it leaves: those known `before` it and now (`targets`), and
/// whether a failure past its hold emptied them.
pub struct ServiceAnswer<'a> {
    pub before: &'a [Target],
    pub targets: &'a [Target],
    pub failed: bool,
}

/// A slot waiting for its target's own resolution: its record is new (`took`), or its
/// address changed.
struct OwnResolution {
    group: usize,
    slot: usize,
    target: Target,
    took: bool,
}

/// Gives the slots of every group their records, in HAProxy's order and words. A valid
/// answer goes record by record ([`records::service_records`]), each through every group:
/// a record that went empties its slot (which enters maintenance and queues last); a new
/// record takes the slot free the longest (if the template is full it waits for a later
/// answer), its target named in the log (`changed its FQDN`) and its address given at once
/// `by DNS additional record` when the answer carried it. A failure past its hold empties
/// the slots group by group. Then the targets' own resolutions answer for the slots whose
/// record came without its address or with another one: the first slot to resolve a target
/// names the nameserver (`by`), the others say `DNS cache`. Weights change silently. Whether
/// the first slot to resolve a target got a new address.
pub fn apply(
    res: &Resolution,
    services: &mut [records::ServiceSlots],
    asking: &mut records::TargetRequesters,
    answer: &ServiceAnswer,
    by: &str,
) -> bool {
    let records = records::service_records(answer.before, answer.targets);
    let order: Vec<(usize, usize)> = if answer.failed {
        let groups = 0..services.len();
        groups
            .flat_map(|g| (0..records.len()).map(move |r| (g, r)))
            .collect()
    } else {
        (0..records.len())
            .flat_map(|r| (0..services.len()).map(move |g| (g, r)))
            .collect()
    };
    // Which new records may take a slot: all while there are enough.
    let chosen: Vec<Vec<records::RecordKey>> = services
        .iter()
        .map(|held| {
            let in_slot = |t: &Target| held.holder(&t.key()).is_some();
            let chosen = records::choose(answer.targets.to_vec(), held.held().len(), in_slot);
            chosen.iter().map(Target::key).collect()
        })
        .collect();
    let receivers = records::additional_receivers(answer.before, &records);
    let mut waiting = Vec::new();
    for (g, r) in order {
        let record = records[r];
        let step = ServiceStep {
            res,
            group: g,
            held: &mut services[g],
            asking,
            receivers: &receivers,
        };
        if let Some(w) = step.take_in(record, &chosen[g]) {
            waiting.push(w);
        }
    }
    own_resolutions_answer(res, asking, waiting, by)
}

/// One group's slots as one record of an answer is taken in.
struct ServiceStep<'a> {
    res: &'a Resolution,
    group: usize,
    held: &'a mut records::ServiceSlots,
    asking: &'a mut records::TargetRequesters,
    /// The records the answer's additional section gives their address.
    receivers: &'a [records::RecordKey],
}

impl ServiceStep<'_> {
    /// Takes in `record` (a new one only if `chosen`); the slot that must wait for its
    /// target's own resolution, if any.
    fn take_in(
        self,
        record: records::ServiceRecord,
        chosen: &[records::RecordKey],
    ) -> Option<OwnResolution> {
        let group = &self.res.groups[self.group];
        let reporter = &group.reporter;
        let target = record.target;
        let key = target.key();
        let holder = self.held.holder(&key);
        if record.gone {
            let i = holder?;
            self.held.release(i);
            self.asking.unlink(self.group, i);
            let server = &group.slots[i].server;
            let dynamic = server.dynamic.as_ref()?;
            dynamic.set(None, server.weight);
            let backend = &self.res.shared.backends[group.backend];
            report::enters_maintenance(reporter, backend, server, SRV_RECORD_GONE);
            return None;
        }
        let host = target.host.as_deref().unwrap_or_default();
        let group_index = self.group;
        let waiting = |asking: &mut records::TargetRequesters, slot, took| {
            asking.link(host, group_index, slot);
            Some(OwnResolution {
                group: group_index,
                slot,
                target: target.clone(),
                took,
            })
        };
        if let Some(i) = holder {
            let slot = &group.slots[i];
            let dynamic = slot.server.dynamic.as_ref()?;
            let old = dynamic.addr();
            dynamic.set(old, slot_weight(slot, target));
            if old == Some(target.addr) {
                if target.additional {
                    self.asking.unlink(self.group, i);
                }
                return None;
            }
            return waiting(self.asking, i, false);
        }
        if !chosen.contains(&key) {
            return None;
        }
        let carried = self.receivers.contains(&key);
        let i = self.held.take(key)?;
        let slot = &group.slots[i];
        let server = &slot.server;
        let dynamic = server.dynamic.as_ref()?;
        if !carried {
            dynamic.set(None, slot_weight(slot, target));
            report::fqdn_changed(reporter, server, None, host, "SRV record");
            return waiting(self.asking, i, true);
        }
        self.asking.unlink(self.group, i);
        dynamic.set(Some(target.addr), slot_weight(slot, target));
        let ip = target.addr.ip();
        report::address_changed(reporter, server, None, ip, "DNS additional record");
        report::fqdn_changed(reporter, server, None, host, "SRV record");
        report::resolves_again(reporter, server, host, false);
        None
    }
}

/// A slot's weight for `target`'s SRV weight, unless `ignore-weight`.
fn slot_weight(slot: &Slot, target: &Target) -> u32 {
    target
        .server_weight()
        .filter(|_| !slot.opts.ignore_weight)
        .unwrap_or(slot.server.weight)
}

/// The targets' own resolutions answer the `waiting` slots, target by target in the order
/// they were first waited for: each slot takes its address (and leaves the maintenance a
/// new record starts in), the first slot resolving a target naming `by`. Whether that first
/// slot moved.
fn own_resolutions_answer(
    res: &Resolution,
    asking: &records::TargetRequesters,
    waiting: Vec<OwnResolution>,
    by: &str,
) -> bool {
    let mut hosts: Vec<String> = Vec::new();
    for w in &waiting {
        let host = w
            .target
            .host
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    let mut moved = false;
    for host in hosts {
        for (n, (g, i)) in asking.of(&host).into_iter().enumerate() {
            let Some(w) = waiting.iter().find(|w| (w.group, w.slot) == (g, i)) else {
                continue;
            };
            let group = &res.groups[g];
            let slot = &group.slots[i];
            let Some(dynamic) = slot.server.dynamic.as_ref() else {
                continue;
            };
            let old = dynamic.addr().map(|a| a.ip());
            dynamic.set(Some(w.target.addr), dynamic.weight());
            moved |= n == 0;
            let by = if n == 0 { by } else { "DNS cache" };
            let reporter = &group.reporter;
            report::address_changed(reporter, &slot.server, old, w.target.addr.ip(), by);
            if w.took {
                let name = w.target.host.as_deref().unwrap_or_default();
                report::resolves_again(reporter, &slot.server, name, true);
            }
        }
    }
    moved
}
