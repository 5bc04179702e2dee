//! Event rates over a sliding period, with HAProxy's arithmetic (its `freq_ctr`): a counter
//! keeps the events of the current period and of the previous one, and a reading weighs the
//! previous period by the share of it still inside the sliding window. Times are HAProxy ticks:
//! milliseconds on a wrapping 32-bit clock.

/// One rate counter. The three fields are what peers exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreqCtr {
    /// Start of the current period (ms tick; the low bit is always clear).
    pub curr_tick: u32,
    /// Events in the current period.
    pub curr_ctr: u32,
    /// Events in the previous period.
    pub prev_ctr: u32,
}

impl FreqCtr {
    /// Adds `inc` events at `now`, moving to a new period when the current one is over (two
    /// periods or more without events start afresh). Answers the current period's count.
    pub fn update(&mut self, period: u32, inc: u32, now: u32) -> u32 {
        let period = period.max(1);
        if now.wrapping_sub(self.curr_tick) < period {
            self.curr_ctr = self.curr_ctr.wrapping_add(inc);
            return self.curr_ctr;
        }
        self.prev_ctr = std::mem::replace(&mut self.curr_ctr, inc);
        let mut tick = self.curr_tick.wrapping_add(period);
        if now.wrapping_sub(tick) >= period {
            // At least two periods went by without an event: nothing of them counts.
            self.prev_ctr = 0;
            tick = now;
        }
        self.curr_tick = tick & !1;
        inc
    }

    /// Events over the sliding window times `period` (HAProxy's `freq_ctr_total` with no
    /// pending events): `prev × remain + curr × period`, where `remain` is what is left of the
    /// current period. Past the current period the counts shift by one; past two, nothing is
    /// left. Very low rates (no current event, at most one before) read as the previous count,
    /// so that the rate does not flap between 0 and 1.
    fn total(&self, period: u32, now: u32) -> u64 {
        let (curr, past, remain) = self.window(period, now);
        if curr == 0 && past <= 1 {
            return past * u64::from(period);
        }
        (past as i64 * i64::from(remain) + (curr * u64::from(period)) as i64).max(0) as u64
    }

    /// Events over the sliding window times `period`, with `pend` events about to come and no
    /// low-rate correction (HAProxy's `freq_ctr_total` with a pending count).
    fn total_with(&self, period: u32, now: u32, pend: u32) -> u64 {
        let (curr, past, remain) = self.window(period, now);
        let total =
            past as i64 * i64::from(remain) + ((curr + u64::from(pend)) * u64::from(period)) as i64;
        total.max(0) as u64
    }

    /// The current and previous periods' counts as seen at `now`, and what is left of the
    /// current period: past its end the counts shift by one, past two nothing is left.
    fn window(&self, period: u32, now: u32) -> (u64, u64, i32) {
        let (mut curr, mut past) = (u64::from(self.curr_ctr), u64::from(self.prev_ctr));
        let mut remain = self.curr_tick.wrapping_add(period).wrapping_sub(now) as i32;
        if remain < 0 {
            remain = remain.wrapping_add(period as i32);
            past = if remain >= 0 { curr } else { 0 };
            curr = 0;
        }
        (curr, past, remain)
    }

    /// How many more events may happen at `now` without going over `freq` events per
    /// `period` (HAProxy's `freq_ctr_remain_period`).
    pub fn remain(&self, period: u32, freq: u32, pend: u32, now: u32) -> u32 {
        let period = period.max(1);
        let avg = (self.total_with(period, now, pend) / u64::from(period)).min(u64::from(freq));
        freq - avg as u32
    }

    /// How far the current period's count is ahead of an even pace of `freq` events per
    /// `period` (HAProxy's `freq_ctr_overshoot_period`); 0 or less when it is not.
    pub fn overshoot(&self, period: u32, freq: u32, now: u32) -> i64 {
        let elapsed = now.wrapping_sub(self.curr_tick) as i32;
        if elapsed < 0 || elapsed as u32 > period {
            return 0;
        }
        let paced = u64::from(elapsed as u32) * u64::from(freq) / u64::from(period.max(1));
        i64::from(self.curr_ctr) - paced as i64
    }

    /// The milliseconds to wait before `pend` more events keep within `freq` per `period`
    /// (HAProxy's `next_event_delay_period`): 0 when they may happen now, else at least 1.
    pub fn next_event_delay(&self, period: u32, freq: u32, pend: u32, now: u32) -> u32 {
        let period = period.max(1);
        let total = self.total_with(period, now, pend);
        let limit = u64::from(freq) * u64::from(period);
        if total < limit {
            return 0;
        }
        (((total - limit) / u64::from(freq.max(1))) as u32).max(1)
    }

    /// The rate over `period` at `now` (HAProxy's `read_freq_ctr_period`).
    pub fn read(&self, period: u32, now: u32) -> u32 {
        let period = period.max(1);
        (self.total(period, now) / u64::from(period)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u32 = 10_000;

    /// A clock far from 0, as HAProxy's is: a fresh counter's tick is 0, so an event
    /// within one period of tick 0 would count in a period that started at 0.
    const B: u32 = 1_000_000;

    /// Events at the given ticks (after `B`), then a reading at `B + at`.
    fn rate_after(events: &[u32], at: u32) -> u32 {
        let mut f = FreqCtr::default();
        for &t in events {
            f.update(P, 1, B + t);
        }
        f.read(P, B + at)
    }

    #[test]
    fn first_event_starts_the_period_at_its_time() {
        let mut f = FreqCtr::default();
        assert_eq!(f.update(P, 1, 123_457), 1);
        // The tick's low bit is reserved by HAProxy as a rotation lock: it is cleared.
        assert_eq!((f.curr_tick, f.curr_ctr, f.prev_ctr), (123_456, 1, 0));
    }

    #[test]
    fn rates_match_haproxy_for_given_event_times() {
        // 100 events at t=1000 in one period: rate = curr = 100 while the period lasts.
        let burst: Vec<u32> = vec![1000; 100];
        assert_eq!(rate_after(&burst, 1000), 100);
        assert_eq!(rate_after(&burst, 10_999), 100);
        // At t=13500 the period started at 1000 ended at 11000: prev=100, curr=0,
        // remain = 1000 + 10000 - 13500 + 10000 = 7500 → total = 100×7500, rate = 75.
        assert_eq!(rate_after(&burst, 13_500), 75);
        // Two periods later nothing is left.
        assert_eq!(rate_after(&burst, 21_001), 0);
        // 40 events in the first period, 10 in the second (which starts at 11000, one
        // period after the first, not at the event): at t=16000, remain = 11000+10000-16000
        // = 5000 → (40×5000 + 10×10000) / 10000 = 30.
        let mut two: Vec<u32> = vec![1000; 40];
        two.extend([12_000; 10]);
        assert_eq!(rate_after(&two, 16_000), 30);
        // A single past event reads as 1 (no flapping), not as a fraction rounded down.
        assert_eq!(rate_after(&[1000], 15_000), 1);
    }

    #[test]
    fn a_long_silence_restarts_the_period() {
        let mut f = FreqCtr::default();
        f.update(P, 5, 1000);
        f.update(P, 1, 50_001);
        assert_eq!((f.curr_tick, f.curr_ctr, f.prev_ctr), (50_000, 1, 0));
    }

    #[test]
    fn ticks_wrap_around() {
        let start = u32::MAX - 2000;
        let mut f = FreqCtr::default();
        f.update(P, 1, start);
        f.update(P, 7, start.wrapping_add(5000));
        assert_eq!(f.read(P, start.wrapping_add(9000)), 8);
    }
}
