//! When each check runs first. As HAProxy does, the first checks are not all run at once at
//! start: every configured check (health and agent, over all backends, in configuration
//! order) takes a place, and its first run waits its place's share of the shortest interval
//! (`max-spread-checks` caps that interval), so that the first checks are spread out.

use super::ServerRt;
use crate::state::BackendRt;
use std::time::Duration;

/// Intervals below this (in ms) do not set the spread of the others: a server checked very
/// often would otherwise crowd every first check into a moment (HAProxy's
/// `SRV_CHK_INTER_THRES`).
const SHORTEST_SPREADING_INTER: u32 = 1000;

/// One checked server, the thread that runs its checks and when each of them runs first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub thread: usize,
    pub backend: usize,
    pub server: usize,
    pub first_health: Duration,
    pub first_agent: Duration,
}

/// Every checked server (health or agent check) with the index of the thread that runs its
/// checks and the delays of their first runs.
pub fn assignments(
    backends: &[BackendRt],
    threads: usize,
    max_spread: Option<u32>,
) -> Vec<Assignment> {
    // Each configured check's first interval: a disabled server's checks take their places
    // too, though they do not run until it is enabled.
    let intervals: Vec<u32> = backends
        .iter()
        .flat_map(|be| be.servers.iter())
        .flat_map(|srv| {
            let health = srv.plan.check.then(|| super::current_inter(srv));
            let agent = srv.plan.check_params.agent.then(|| agent_inter(srv));
            health.into_iter().chain(agent)
        })
        .collect();
    let spread = Spread::new(&intervals, max_spread);
    let mut place = 0;
    let mut next_thread = 0;
    let mut out = Vec::new();
    for (b, be) in backends.iter().enumerate() {
        for (s, srv) in be.servers.iter().enumerate() {
            let mut first = |checked: bool, inter: u32| {
                if !checked {
                    return Duration::ZERO;
                }
                place += 1;
                spread.delay(place - 1, inter)
            };
            let first_health = first(srv.plan.check, super::current_inter(srv));
            let first_agent = first(srv.plan.check_params.agent, agent_inter(srv));
            let checked = srv.plan.check || srv.plan.check_params.agent;
            if checked && !srv.disabled {
                out.push(Assignment {
                    thread: next_thread % threads.max(1),
                    backend: b,
                    server: s,
                    first_health,
                    first_agent,
                });
                next_thread += 1;
            }
        }
    }
    out
}

/// The agent check's interval (`agent-inter`, else `inter`).
pub fn agent_inter(server: &ServerRt) -> u32 {
    let p = &server.plan.check_params;
    p.agent_inter.unwrap_or(p.inter)
}

/// How the first checks are spread: over `shortest` (the shortest interval of at least a
/// second, 0 when none is), among `count` places, each wait capped by `max-spread-checks`.
struct Spread {
    shortest: u32,
    count: usize,
    cap: Option<u32>,
}

impl Spread {
    fn new(intervals: &[u32], cap: Option<u32>) -> Spread {
        let shortest = intervals
            .iter()
            .copied()
            .filter(|&i| i >= SHORTEST_SPREADING_INTER)
            .min()
            .unwrap_or(0);
        Spread {
            shortest,
            count: intervals.len(),
            cap: cap.filter(|&c| c > 0),
        }
    }

    /// The first wait of the check at `place` whose own interval is `inter`: never spread
    /// over less than its own interval, never over more than the cap.
    fn delay(&self, place: usize, inter: u32) -> Duration {
        let mut over = u64::from(self.shortest.max(inter));
        if let Some(cap) = self.cap {
            over = over.min(u64::from(cap));
        }
        let ms = over * place as u64 / self.count.max(1) as u64;
        Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;
    use std::time::Duration;

    fn delays(intervals: &[u32], cap: Option<u32>) -> Vec<u64> {
        let spread = Spread::new(intervals, cap);
        intervals
            .iter()
            .enumerate()
            .map(|(place, &i)| spread.delay(place, i).as_millis() as u64)
            .collect()
    }

    #[test]
    fn first_checks_are_spread_over_the_shortest_interval() {
        assert_eq!(delays(&[2000; 4], None), [0, 500, 1000, 1500]);
        // A longer interval spreads its own check over itself.
        assert_eq!(
            delays(&[2000, 2000, 8000, 2000], None),
            [0, 500, 4000, 1500]
        );
        // Intervals under a second do not set the spread.
        assert_eq!(
            delays(&[100, 4000, 4000, 4000], None),
            [0, 1000, 2000, 3000]
        );
        assert_eq!(delays(&[100, 200], None), [0, 100]);
    }

    #[test]
    fn max_spread_checks_caps_the_spread() {
        assert_eq!(delays(&[2000; 4], Some(400)), [0, 100, 200, 300]);
        assert_eq!(delays(&[2000; 4], Some(0)), [0, 500, 1000, 1500]);
        assert_eq!(delays(&[2000; 2], Some(60_000)), [0, 1000]);
        assert_eq!(Spread::new(&[], None).delay(0, 1000), Duration::ZERO);
    }
}
