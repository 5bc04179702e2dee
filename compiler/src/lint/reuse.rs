//! Lint findings kept from one compilation to the next (the language server lints after every
//! edit; most proxies did not change).
//!
//! Most rules look at one proxy at a time: what they find in a proxy depends on that proxy's
//! model alone. The incremental build takes the models of unchanged bodies from the previous
//! compilation (see [`crate::ir::reuse`]), moved to where their section now stands; the findings
//! of such a proxy are then the previous ones, moved the same way. Rules across proxies (unused
//! backends, addresses bound twice, rings, globals) run whole every time.

use crate::diagnostic::Diagnostic;
use crate::ir::{Proxy, Shift, Shifter};

/// The rules that look at one proxy at a time, each with its findings kept per proxy.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Slot {
    UnusedAcls,
    RuleOrder,
    ServerAddresses,
    HealthChecks,
    HostMatching,
    Modes,
    Stats,
    Retries,
}

/// What each proxy of a compilation's model got from each per-proxy rule, by proxy index.
#[derive(Default)]
pub struct LintCache {
    proxies: Vec<Vec<(Slot, Vec<Diagnostic>)>>,
    /// How many proxies the run that made it took the findings of from the run before.
    taken: usize,
    /// How many findings that run reported in all (the next run makes room for as many).
    reported: usize,
}

impl LintCache {
    /// How many proxies the last run took the findings of from the run before, instead of
    /// looking at them again.
    pub fn taken(&self) -> usize {
        self.taken
    }
}

/// The findings of one run, taken from the previous run where a proxy is the previous one.
pub(crate) struct LintReuse {
    old: LintCache,
    /// By proxy index of this model: where its findings come from.
    from: Vec<Source>,
    next: LintCache,
}

/// Where a proxy's findings come from.
#[derive(Clone, Copy)]
enum Source {
    /// The rules look at it.
    Rules,
    /// It is the previous model's proxy, in which no rule found anything: nothing to look up.
    Quiet,
    /// It is the previous model's proxy of this index, moved by the shifter.
    Kept(usize, Option<Shifter>),
}

impl LintReuse {
    /// `taken` lists the proxies of this model (index) that are proxies of the previous one
    /// (`old` index), moved by their shifter (see [`crate::ir::reuse::BodyReuse::taken`]);
    /// `proxies` is how many this model has.
    pub(crate) fn new(
        old: LintCache,
        taken: &[(usize, usize, Option<Shifter>)],
        proxies: usize,
    ) -> Self {
        let mut from = vec![Source::Rules; proxies];
        for &(index, old_index, shifter) in taken {
            let Some(kept) = old.proxies.get(old_index) else {
                continue;
            };
            if let Some(slot) = from.get_mut(index) {
                *slot = if kept.is_empty() {
                    Source::Quiet
                } else {
                    Source::Kept(old_index, shifter)
                };
            }
        }
        let mut next = LintCache::default();
        next.proxies.resize_with(proxies, Vec::new);
        next.taken = from.iter().filter(|f| !matches!(f, Source::Rules)).count();
        LintReuse { old, from, next }
    }

    /// The findings kept for the next run.
    pub(crate) fn into_cache(self) -> LintCache {
        self.next
    }

    /// How many findings the previous run reported in all.
    pub(crate) fn reported_before(&self) -> usize {
        self.old.reported
    }

    /// Says how many findings this run reported in all.
    pub(crate) fn set_reported(&mut self, reported: usize) {
        self.next.reported = reported;
    }
}

/// Where the rules' per-proxy findings come from: computed, or (with reuse) taken from the
/// previous run for proxies that are the previous ones.
pub(super) struct Findings<'r> {
    pub reuse: Option<&'r mut LintReuse>,
}

impl Findings<'_> {
    /// Adds to `out` what `rule` finds in proxy `index` (`p`).
    pub fn proxy<'p>(
        &mut self,
        slot: Slot,
        index: usize,
        p: &'p Proxy,
        out: &mut Vec<Diagnostic>,
        rule: impl FnOnce(&'p Proxy, &mut Vec<Diagnostic>),
    ) {
        let Some(r) = self.reuse.as_deref_mut() else {
            rule(p, out);
            return;
        };
        let previous = match r.from.get(index).copied().unwrap_or(Source::Rules) {
            Source::Rules => None,
            Source::Quiet => return,
            Source::Kept(old, shift) => r.old.proxies.get_mut(old).map(|kept| {
                // Each proxy of the previous model is taken at most once; its slot's
                // findings go with it (a slot it never got: the rule found nothing there).
                let found = kept
                    .iter_mut()
                    .find(|(s, _)| *s == slot)
                    .map_or_else(Vec::new, |(_, found)| std::mem::take(found));
                (found, shift)
            }),
        };
        let found = match previous {
            Some((mut found, shift)) => {
                if let Some(s) = shift {
                    for d in &mut found {
                        d.shift(&s);
                    }
                }
                found
            }
            None => {
                let mut found = Vec::new();
                rule(p, &mut found);
                found
            }
        };
        if found.is_empty() {
            return;
        }
        out.extend(found.iter().cloned());
        if let Some(kept) = r.next.proxies.get_mut(index) {
            kept.push((slot, found));
        }
    }
}
