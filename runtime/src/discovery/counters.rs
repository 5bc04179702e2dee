//! What each nameserver was sent and what its answers were, counted as HAProxy 2.7 counts
//! them for `show stat domain resolvers`: one count per query sent, one per answer by its
//! kind, `valid` for the answer a resolution took and `update` when that answer gave a server
//! a new address. HAProxy 2.7 counts no `timeout` nor `cname` (both stay 0), and neither does
//! hapee.

use super::dns::{Reply, Response};
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters, in the order of HAProxy's columns after `id` and `pid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Sent,
    SendError,
    Valid,
    Update,
    Cname,
    CnameError,
    AnyErr,
    Nx,
    Timeout,
    Refused,
    Other,
    Invalid,
    TooBig,
    Truncated,
    Outdated,
}

/// How many counters there are.
pub const COUNTS: usize = 15;

/// One nameserver's counters.
#[derive(Debug, Default)]
pub struct NameserverCounters {
    values: [AtomicU64; COUNTS],
}

impl NameserverCounters {
    pub fn add(&self, count: Count) {
        self.values[count as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Every counter's value, in column order.
    pub fn values(&self) -> [u64; COUNTS] {
        std::array::from_fn(|i| self.values[i].load(Ordering::Relaxed))
    }

    /// Counts an answer that is not (or not yet) a resolution's result: an error kind, or
    /// nothing for one a resolution may take (its `valid` is counted when it is taken).
    /// `srv`: an SRV query, whose truncated answers HAProxy still reads.
    pub fn answered(&self, reply: &Reply, srv: bool) {
        let kind = match &reply.response {
            Response::NxDomain => Count::Nx,
            Response::Refused => Count::Refused,
            Response::Other => Count::Other,
            _ if reply.truncated && !srv => Count::Truncated,
            // HAProxy takes an answer without records for an error.
            Response::Records(_) if reply.answer_count == 0 => Count::AnyErr,
            Response::Records(_) => return,
        };
        self.add(kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_counted_by_kind() {
        let c = NameserverCounters::default();
        let reply = |response, truncated, answer_count| Reply {
            response,
            truncated,
            answer_count,
        };
        c.answered(&reply(Response::NxDomain, false, 0), false);
        c.answered(&reply(Response::Refused, false, 0), false);
        c.answered(&reply(Response::Records(Vec::new()), false, 0), false);
        c.answered(&reply(Response::Records(Vec::new()), true, 1), false);
        // A truncated SRV answer and a full one wait for the resolution to take them.
        c.answered(&reply(Response::Records(Vec::new()), true, 1), true);
        c.answered(&reply(Response::Records(Vec::new()), false, 1), false);
        c.add(Count::Sent);
        let v = c.values();
        assert_eq!(v[Count::Nx as usize], 1);
        assert_eq!(v[Count::Refused as usize], 1);
        assert_eq!(v[Count::AnyErr as usize], 1);
        assert_eq!(v[Count::Truncated as usize], 1);
        assert_eq!(v[Count::Sent as usize], 1);
        assert_eq!(v.iter().sum::<u64>(), 5);
    }
}
