//! Load-balancing algorithms (sans-I/O): pick a server among those usable, by weight.

use std::sync::atomic::{AtomicU64, Ordering};

/// `balance` algorithms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Algorithm {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Uri,
    UrlParam(String),
    Hdr(String),
    Random,
}

impl Algorithm {
    /// Parses the arguments of `balance`; `None` for algorithms the runtime lacks.
    pub fn parse(text: &str) -> Option<Algorithm> {
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or("roundrobin");
        Some(match first {
            "roundrobin" => Algorithm::RoundRobin,
            "static-rr" => Algorithm::StaticRr,
            "leastconn" => Algorithm::LeastConn,
            "first" => Algorithm::First,
            "source" => Algorithm::Source,
            "uri" => Algorithm::Uri,
            "url_param" => Algorithm::UrlParam(words.next()?.to_string()),
            "random" => Algorithm::Random,
            h if h.starts_with("hdr(") && h.ends_with(')') => {
                Algorithm::Hdr(h[4..h.len() - 1].to_ascii_lowercase())
            }
            _ => return None,
        })
    }

    pub fn is_hash(&self) -> bool {
        matches!(
            self,
            Algorithm::Source | Algorithm::Uri | Algorithm::UrlParam(_) | Algorithm::Hdr(_)
        )
    }
}

/// What the algorithm needs to know about one server.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub weight: u32,
    pub active_conns: u64,
    pub maxconn: Option<u32>,
}

/// 32-bit FNV-1a, enough to spread keys over servers.
pub fn hash(data: &[u8]) -> u64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    u64::from(h)
}

fn by_weight(candidates: &[Candidate], point: u64) -> Option<usize> {
    let total: u64 = candidates.iter().map(|c| u64::from(c.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut at = point % total;
    for (i, c) in candidates.iter().enumerate() {
        if at < u64::from(c.weight) {
            return Some(i);
        }
        at -= u64::from(c.weight);
    }
    None
}

thread_local! {
    static RNG: std::cell::Cell<u64> = std::cell::Cell::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64) | 1,
    );
}

fn random() -> u64 {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        x
    })
}

/// Picks an index into `candidates`. `key` is the hashed input of hash algorithms (absent when
/// the request lacks it: HAProxy then falls back to round robin).
pub fn pick(
    algo: &Algorithm,
    candidates: &[Candidate],
    rr: &AtomicU64,
    key: Option<u64>,
) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    match algo {
        Algorithm::LeastConn => {
            let score = |c: &Candidate| c.active_conns * 1000 / u64::from(c.weight.max(1));
            let best = candidates.iter().map(score).min()?;
            let tied: Vec<usize> = (0..candidates.len())
                .filter(|&i| score(&candidates[i]) == best)
                .collect();
            Some(tied[(rr.fetch_add(1, Ordering::Relaxed) as usize) % tied.len()])
        }
        Algorithm::First => candidates
            .iter()
            .position(|c| c.maxconn.is_none_or(|m| c.active_conns < u64::from(m)))
            .or(Some(0)),
        Algorithm::Random => by_weight(candidates, random()),
        a if a.is_hash() && key.is_some() => by_weight(candidates, key.unwrap_or(0)),
        _ => by_weight(candidates, rr.fetch_add(1, Ordering::Relaxed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(weight: u32, active: u64) -> Candidate {
        Candidate {
            weight,
            active_conns: active,
            maxconn: Some(2),
        }
    }

    #[test]
    fn weighted_round_robin_follows_weights() {
        let rr = AtomicU64::new(0);
        let servers = [c(3, 0), c(1, 0)];
        let picks: Vec<usize> = (0..8)
            .map(|_| pick(&Algorithm::RoundRobin, &servers, &rr, None).unwrap())
            .collect();
        assert_eq!(picks.iter().filter(|&&p| p == 0).count(), 6);
    }

    #[test]
    fn leastconn_first_and_hash() {
        let rr = AtomicU64::new(0);
        assert_eq!(
            pick(&Algorithm::LeastConn, &[c(1, 5), c(1, 2)], &rr, None),
            Some(1)
        );
        assert_eq!(
            pick(&Algorithm::First, &[c(1, 2), c(1, 0)], &rr, None),
            Some(1)
        );
        let k = Some(hash(b"10.0.0.1"));
        let a = pick(&Algorithm::Source, &[c(1, 0), c(1, 0), c(1, 0)], &rr, k);
        let b = pick(&Algorithm::Source, &[c(1, 0), c(1, 0), c(1, 0)], &rr, k);
        assert_eq!(a, b);
        assert_eq!(
            Algorithm::parse("url_param id"),
            Some(Algorithm::UrlParam("id".into()))
        );
        assert_eq!(
            Algorithm::parse("hdr(Host)"),
            Some(Algorithm::Hdr("host".into()))
        );
        assert_eq!(Algorithm::parse("uri whole"), Some(Algorithm::Uri));
    }
}
