//! Retry and connection-reuse policy (sans-I/O): what `retry-on` covers, and whether an idle
//! server connection may carry a request.

use super::pool::Wanted;

/// `http-reuse` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReuseMode {
    Never,
    Safe,
    Aggressive,
    Always,
}

impl ReuseMode {
    pub fn parse(s: &str) -> ReuseMode {
        match s {
            "never" => ReuseMode::Never,
            "aggressive" => ReuseMode::Aggressive,
            "always" => ReuseMode::Always,
            _ => ReuseMode::Safe,
        }
    }
}

/// The failures `retry-on` lets the proxy retry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryOn {
    pub conn_failure: bool,
    pub empty_response: bool,
    pub junk_response: bool,
    pub response_timeout: bool,
    pub zero_rtt_rejected: bool,
    pub statuses: Vec<u16>,
}

impl RetryOn {
    pub fn parse(words: &[String]) -> RetryOn {
        let mut r = RetryOn::default();
        for w in words {
            match w.as_str() {
                "none" => r = RetryOn::default(),
                "conn-failure" => r.conn_failure = true,
                "empty-response" => r.empty_response = true,
                "junk-response" => r.junk_response = true,
                "response-timeout" => r.response_timeout = true,
                "0rtt-rejected" => r.zero_rtt_rejected = true,
                "all-retryable-errors" => {
                    r.conn_failure = true;
                    r.empty_response = true;
                    r.junk_response = true;
                    r.response_timeout = true;
                    r.zero_rtt_rejected = true;
                    r.statuses.extend([500, 502, 503, 504]);
                }
                s => {
                    if let Ok(code) = s.parse() {
                        r.statuses.push(code);
                    }
                }
            }
        }
        r
    }

    /// The 2.7 rule: with these three covered, a failed reused connection is retried on a new
    /// one, so an idle connection may carry even a client's first request.
    pub fn covers_reuse_failures(&self) -> bool {
        self.conn_failure && self.empty_response && self.response_timeout
    }
}

/// Which idle connections of the server's shared pool may carry this request, if any. (The
/// session's own connection, kept from its previous response, always may.) A session's
/// later requests, or a first one whose failure on a reused connection would be retried,
/// take any; otherwise `aggressive` lets a first request take only a connection that proved
/// the server keeps connections open (a safe one), and `always` a safe one first, then any.
pub fn may_reuse(mode: ReuseMode, first_request: bool, retry_on: &RetryOn) -> Option<Wanted> {
    if mode == ReuseMode::Never {
        return None;
    }
    if !first_request || retry_on.covers_reuse_failures() {
        return Some(Wanted::Any);
    }
    match mode {
        ReuseMode::Aggressive => Some(Wanted::Safe),
        ReuseMode::Always => Some(Wanted::SafeFirst),
        _ => None,
    }
}

/// Who may open a stream on a busy multiplexed (HTTP/2) server connection besides the
/// requests already on it, as HAProxy 2.7 decides it:
///
/// - `always`: a new connection serves every request of its thread at once, a session's
///   first request included.
/// - `safe`: a new connection belongs to the client session that opened it. That session's
///   other requests (the other streams of an HTTP/2 client) may multiplex onto it; other
///   sessions may not, and open their own. One exception, which HAProxy has: when HTTP/2 was
///   chosen by ALPN in the TLS handshake rather than set by `proto h2`, the connection is
///   settled after the point where it would join the session, and goes nowhere, as under
///   `aggressive`.
/// - `aggressive`: a new connection carries only the stream that opened it; not even its
///   session's other streams join it.
///
/// Whatever its start, a connection whose last stream ends is idle in the server's pool,
/// shared by the rules of idle connections. An idle one taken by a request stays with that
/// request's session under `safe` while busy, and serves the whole thread under `aggressive`
/// and `always`. A connection carrying only its opener that keeps streams after one ends
/// serves the thread from then on. Under `never` a connection is its session's for its whole
/// life, never in the pool (see `pool::session_h2`). A new connection is offered from the
/// moment it is being established only where it serves the thread at once
/// ([`Sharing::joinable_while_connecting`]); others, once established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// Any request of the connection's thread.
    Thread,
    /// Only the requests of one client session (its id).
    Session(u64),
    /// Only the stream that opened it.
    Opener,
}

impl Sharing {
    /// A new connection's, opened by a request of `session`; `by_alpn`: HTTP/2 was chosen in
    /// the TLS handshake.
    pub fn opened(mode: ReuseMode, by_alpn: bool, session: u64) -> Sharing {
        match mode {
            ReuseMode::Always => Sharing::Thread,
            ReuseMode::Never => Sharing::Session(session),
            ReuseMode::Safe if !by_alpn => Sharing::Session(session),
            ReuseMode::Safe | ReuseMode::Aggressive => Sharing::Opener,
        }
    }

    /// Whether requests other than its opener may wait on a new connection while it is still
    /// being established, rather than dial their own: under `always` only, where it serves the
    /// thread from its creation (HAProxy lists it among the available connections at once). A
    /// connection a session holds (`safe`, `never`) is handed to that session's other requests
    /// only once established, as HAProxy passes over its session's connections still waiting
    /// for their transport; and one whose protocol ALPN settles is not known to multiplex yet.
    pub fn joinable_while_connecting(mode: ReuseMode, by_alpn: bool) -> bool {
        !by_alpn && Sharing::opened(mode, by_alpn, 0) == Sharing::Thread
    }

    /// An idle connection's, taken by a request of `session`.
    pub fn taken_idle(mode: ReuseMode, session: u64) -> Sharing {
        match mode {
            ReuseMode::Safe | ReuseMode::Never => Sharing::Session(session),
            _ => Sharing::Thread,
        }
    }

    /// After one of its streams ended while others go on.
    pub fn after_a_stream(self) -> Sharing {
        match self {
            Sharing::Opener => Sharing::Thread,
            held => held,
        }
    }

    /// Whether a request of `session` may open a stream on it.
    pub fn admits(self, session: u64) -> bool {
        match self {
            Sharing::Thread => true,
            Sharing::Session(s) => s == session,
            Sharing::Opener => false,
        }
    }

    /// As one word, for an atomic: 0 the thread, `u64::MAX` the opener, else a session id
    /// (sessions are numbered from 1, see [`session_id`]).
    pub fn to_word(self) -> u64 {
        match self {
            Sharing::Thread => 0,
            Sharing::Session(s) => s,
            Sharing::Opener => u64::MAX,
        }
    }

    pub fn from_word(word: u64) -> Sharing {
        match word {
            0 => Sharing::Thread,
            u64::MAX => Sharing::Opener,
            s => Sharing::Session(s),
        }
    }
}

/// A new client session's id, for [`Sharing::Session`]: never 0 nor `u64::MAX`.
pub fn session_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Failures met while forwarding one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Connect,
    /// A TLS 1.3 server's refusal of the connection (of our certificate, say) met in place of
    /// the first response: in TLS 1.3 the client's handshake ends before the server has
    /// judged it, so the refusal comes after the request was written. HAProxy reads it before
    /// writing anything and counts a failed connection, as here.
    Refused,
    EmptyResponse,
    JunkResponse,
    ResponseTimeout,
}

/// Whether `failure` may be retried: covered by `retry-on`, attempts left, and a request that
/// can be replayed (nothing of its body consumed).
pub fn should_retry(
    retry_on: &RetryOn,
    failure: Failure,
    attempt: u32,
    retries: u32,
    replayable: bool,
) -> bool {
    if attempt >= retries {
        return false;
    }
    match failure {
        Failure::Connect => retry_on.conn_failure,
        Failure::Refused => replayable && retry_on.conn_failure,
        Failure::EmptyResponse => replayable && retry_on.empty_response,
        Failure::JunkResponse => replayable && retry_on.junk_response,
        Failure::ResponseTimeout => replayable && retry_on.response_timeout,
    }
}

/// Where a request stands in its retries: how many were made, and the server to avoid on the
/// next one (`option redispatch`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Attempts {
    pub count: u32,
    pub avoid: Option<usize>,
    /// The next attempt may go to another server (`option redispatch`): logs mark `%rc`
    /// with a `+`.
    pub redispatched: bool,
    /// The server the last failed attempt went to, which the next one goes back to unless
    /// it redispatches: HAProxy keeps a request's server across its retries.
    retry_on: Option<usize>,
}

impl Attempts {
    /// Records a failed attempt on `server`.
    pub fn failed(&mut self, server: usize, redispatch: bool) {
        self.count += 1;
        self.retry_on = (!redispatch).then_some(server);
        if redispatch {
            self.avoid = Some(server);
            self.redispatched = true;
        }
    }

    /// The server the next attempt goes back to, if it does not redispatch.
    pub fn kept(&self) -> Option<usize> {
        self.retry_on
    }

    /// How long to wait before the next attempt after a connection the network refused
    /// (refused, reset: not a `timeout connect`, which already took its time): HAProxy's
    /// turn-around of one second, or `timeout connect` when shorter, so that a server
    /// restarting is not hammered and has a moment to come back. None when the retry may go
    /// to another server right away: `option redispatch` with more than one usable server
    /// and a balancing that is not a hash (the failed one is avoided); and none after a
    /// failure before anything went out (`at_once`: a source that cannot be bound, no free
    /// port, a UNIX socket not there), which HAProxy retries at once.
    pub fn turnaround(
        be: &crate::state::BackendRt,
        attempt: std::time::Duration,
        at_once: bool,
    ) -> Option<std::time::Duration> {
        let connect = be.timeouts.connect;
        if at_once || connect.is_some_and(|c| attempt >= c) {
            return None;
        }
        let usable = be
            .servers
            .iter()
            .filter(|s| !s.backup && s.is_usable())
            .count();
        if be.redispatch && usable > 1 && !be.algorithm.is_hash() {
            return None;
        }
        let second = std::time::Duration::from_secs(1);
        Some(connect.map_or(second, |c| c.min(second)))
    }

    /// Tells the transaction (its log's `%rc`) how many attempts failed, and whether one was
    /// redispatched.
    pub fn report(&self, txn: &mut crate::txn::Txn) {
        txn.retries = self.count;
        txn.redispatched = self.redispatched;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn first_request_reuse_needs_the_three_retryable_failures() {
        let weak = RetryOn::parse(&words("conn-failure"));
        let strong = RetryOn::parse(&words("conn-failure empty-response response-timeout"));
        assert_eq!(may_reuse(ReuseMode::Safe, true, &weak), None);
        assert_eq!(may_reuse(ReuseMode::Safe, true, &strong), Some(Wanted::Any));
        assert_eq!(may_reuse(ReuseMode::Safe, false, &weak), Some(Wanted::Any));
        assert_eq!(may_reuse(ReuseMode::Never, false, &strong), None);
        assert_eq!(
            may_reuse(ReuseMode::Always, true, &weak),
            Some(Wanted::SafeFirst)
        );
        // `aggressive`: a first request only on a connection that carried two already.
        assert_eq!(
            may_reuse(ReuseMode::Aggressive, true, &weak),
            Some(Wanted::Safe)
        );
        assert_eq!(
            may_reuse(ReuseMode::Aggressive, false, &weak),
            Some(Wanted::Any)
        );
    }

    #[test]
    fn a_busy_h2_connection_is_shared_as_haproxy_shares_it() {
        let (a, b) = (session_id(), session_id());
        // `always`: the thread, at once.
        let always = Sharing::opened(ReuseMode::Always, false, a);
        assert!(always.admits(a) && always.admits(b));
        // `safe`: the opening session only, unless ALPN settled the protocol.
        let safe = Sharing::opened(ReuseMode::Safe, false, a);
        assert!(safe.admits(a) && !safe.admits(b));
        assert_eq!(safe.after_a_stream(), safe);
        assert_eq!(Sharing::opened(ReuseMode::Safe, true, a), Sharing::Opener);
        // While it connects, only `always` offers it, and not when ALPN is to settle it.
        assert!(Sharing::joinable_while_connecting(ReuseMode::Always, false));
        assert!(!Sharing::joinable_while_connecting(ReuseMode::Always, true));
        for mode in [ReuseMode::Safe, ReuseMode::Aggressive, ReuseMode::Never] {
            assert!(!Sharing::joinable_while_connecting(mode, false));
        }
        // `aggressive`: the opening stream only, until a stream ends with others open.
        let aggressive = Sharing::opened(ReuseMode::Aggressive, false, a);
        assert!(!aggressive.admits(a) && !aggressive.admits(b));
        assert_eq!(aggressive.after_a_stream(), Sharing::Thread);
        // An idle connection taken: the session under `safe`, else the thread.
        assert_eq!(Sharing::taken_idle(ReuseMode::Safe, b), Sharing::Session(b));
        assert_eq!(
            Sharing::taken_idle(ReuseMode::Aggressive, b),
            Sharing::Thread
        );
        for s in [always, safe, aggressive] {
            assert_eq!(Sharing::from_word(s.to_word()), s);
        }
    }

    #[test]
    fn retries_are_bounded_and_replay_safe() {
        let r = RetryOn::parse(&words("all-retryable-errors"));
        assert!(r.statuses.contains(&503));
        assert!(should_retry(&r, Failure::Connect, 0, 3, false));
        assert!(!should_retry(&r, Failure::EmptyResponse, 0, 3, false));
        assert!(!should_retry(&r, Failure::Connect, 3, 3, true));
    }
}
