//! `slowstart <time>`: a server coming back up (its checks pass again, or it leaves
//! maintenance) takes its share of the load progressively over that time. As in HAProxy the
//! ramp counts whole seconds since the transition, the effective weight starts at a sixteenth
//! step of the configured one, and a server's first start is not a slow start. The weight only
//! ramps under dynamic algorithms (not `static-rr` nor map-based hashing).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// HAProxy's weight scale of the dynamic algorithms (`BE_WEIGHT_SCALE`): the effective weight
/// is kept in sixteenths of the user weight.
const SCALE: u64 = 16;

#[derive(Default)]
pub struct Warmup {
    /// The configured ramp in seconds (HAProxy rounds the time up to a second); 0: none.
    period_s: u64,
    /// When the current ramp began (unix seconds); 0 when the server runs at full weight.
    since_s: AtomicU64,
    /// Whether the backend's algorithm takes weight changes on the fly.
    ramps_weight: AtomicBool,
}

impl Warmup {
    /// The ramp of a server's `slowstart` (in milliseconds; none without it).
    pub fn new(period_ms: Option<u32>) -> Warmup {
        Warmup {
            period_s: u64::from(period_ms.unwrap_or(0)).div_ceil(1000),
            ..Warmup::default()
        }
    }

    /// Set once the backend's algorithm is known: whether the weight ramps too.
    pub fn set_weight_ramp(&self, on: bool) {
        self.ramps_weight.store(on, Ordering::Relaxed);
    }

    /// The server has just come back up: the ramp starts now.
    pub fn start(&self) {
        if self.period_s > 0 {
            self.since_s
                .store(crate::api::health::unix_now(), Ordering::Relaxed);
        }
    }

    /// Whether the server has a ramp at all.
    pub fn configured(&self) -> bool {
        self.period_s > 0
    }

    /// While warming up: its connection limit scaled down, whatever the algorithm, by the
    /// share of the ramp elapsed (in whole percents, at least one connection).
    pub fn throttle_conns(&self, max: u32) -> u32 {
        match self.elapsed() {
            Some(elapsed) => {
                let ratio = 100 * elapsed / self.period_s;
                u32::try_from(u64::from(max) * ratio / 100).map_or(max, |m| m.max(1))
            }
            None => max,
        }
    }

    /// Seconds into the ramp, while it lasts.
    fn elapsed(&self) -> Option<u64> {
        let since = self.since_s.load(Ordering::Relaxed);
        if since == 0 {
            return None;
        }
        let elapsed = crate::api::health::unix_now().checked_sub(since)?;
        (elapsed < self.period_s).then_some(elapsed)
    }

    /// The effective weight in sixteenths of `uweight` (HAProxy's `eweight`), and whether the
    /// server is still warming up.
    fn scaled(&self, uweight: u32) -> (u64, bool) {
        match self.elapsed() {
            Some(elapsed) if self.ramps_weight.load(Ordering::Relaxed) => {
                let step = (SCALE * elapsed + self.period_s) / self.period_s;
                (u64::from(uweight) * step, true)
            }
            elapsed => (u64::from(uweight) * SCALE, elapsed.is_some()),
        }
    }

    /// The weight in force for a user weight of `uweight` (what `show stat` shows).
    pub fn weight(&self, uweight: u32) -> u32 {
        if self.period_s == 0 {
            return uweight;
        }
        let (scaled, _) = self.scaled(uweight);
        u32::try_from(scaled.div_ceil(SCALE)).unwrap_or(u32::MAX)
    }

    /// While warming up: the share of its weight and `maxconn` the server is given, in percent
    /// (`show stat`'s `throttle`).
    pub fn throttle(&self, uweight: u32) -> Option<u32> {
        let (scaled, warming) = self.scaled(uweight);
        if !warming {
            return None;
        }
        if uweight == 0 {
            return Some(100);
        }
        // HAProxy's rounding: up by the scale only, not to the next percent.
        let rate = (100 * scaled + SCALE - 1) / (SCALE * u64::from(uweight));
        Some(u32::try_from(rate).unwrap_or(100))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warm(period_s: u64, elapsed: u64, ramps: bool) -> Warmup {
        let w = Warmup {
            period_s,
            ..Warmup::default()
        };
        w.set_weight_ramp(ramps);
        w.since_s
            .store(crate::api::health::unix_now() - elapsed, Ordering::Relaxed);
        w
    }

    #[test]
    fn the_weight_ramps_in_sixteenths_over_the_period() {
        // 10 s ramp, weight 100: eweight = 100 * ((16 * t + 10) / 10).
        assert_eq!(warm(10, 0, true).weight(100), 7); // 100/16, rounded up
        assert_eq!(warm(10, 0, true).throttle(100), Some(6));
        assert_eq!(warm(10, 5, true).weight(100), 57); // 900/16, rounded up
        assert_eq!(warm(10, 5, true).throttle(100), Some(56));
        assert_eq!(warm(10, 10, true).throttle(100), None);
        assert_eq!(warm(10, 10, true).weight(100), 100);
    }

    #[test]
    fn the_connection_limit_ramps_in_percents() {
        assert_eq!(warm(10, 0, false).throttle_conns(50), 1);
        assert_eq!(warm(10, 3, false).throttle_conns(50), 15);
        assert_eq!(warm(10, 10, false).throttle_conns(50), 50);
    }

    #[test]
    fn static_algorithms_keep_the_weight_but_throttle_shows() {
        let w = warm(10, 2, false);
        assert_eq!(w.weight(8), 8);
        assert_eq!(w.throttle(8), Some(100));
    }

    #[test]
    fn no_ramp_before_a_transition() {
        let w = Warmup::new(Some(1500));
        assert_eq!(w.period_s, 2);
        assert_eq!(w.weight(10), 10);
        assert_eq!(w.throttle(10), None);
    }
}
