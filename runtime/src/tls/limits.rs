//! The process's TLS limits: `maxsslconn` (TLS connections open at once, client and server
//! sides together; past it a new one is closed before its handshake, as HAProxy's TLS layer
//! refuses to start) and `maxsslrate` (new TLS client connections per second; TLS listeners
//! leave the others in their backlog). The figures are process-wide, as HAProxy's are, and
//! `show info` reports them.

use std::sync::atomic::{AtomicU64, Ordering};

static OPEN: AtomicU64 = AtomicU64::new(0);
static TOTAL: AtomicU64 = AtomicU64::new(0);
/// `maxsslconn`; 0 is no limit.
static MAX_OPEN: AtomicU64 = AtomicU64::new(0);
/// TLS client connections accepted, and that count at the last sampling of the rates.
static ACCEPTED: AtomicU64 = AtomicU64::new(0);
static ACCEPTED_BEFORE: AtomicU64 = AtomicU64::new(0);
/// The rate over the last whole second, and its peak.
static RATE: AtomicU64 = AtomicU64::new(0);
static RATE_PEAK: AtomicU64 = AtomicU64::new(0);
/// `maxsslrate` (or `set rate-limit ssl-sessions global`); 0 is no limit.
static RATE_LIMIT: AtomicU64 = AtomicU64::new(0);

/// Sets the limits the configuration gives, at start.
pub fn configure(t: &hapee_compiler::plan::tls_process::TlsProcess) {
    MAX_OPEN.store(u64::from(t.maxsslconn), Ordering::Relaxed);
    RATE_LIMIT.store(u64::from(t.maxsslrate), Ordering::Relaxed);
}

/// One open TLS connection, counted until it is dropped.
#[derive(Debug)]
pub struct Counted(());

impl Drop for Counted {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a new TLS connection; `None` when `maxsslconn` connections are already open.
pub fn open_one() -> Option<Counted> {
    let max = MAX_OPEN.load(Ordering::Relaxed);
    let before = OPEN.fetch_add(1, Ordering::Relaxed);
    if max != 0 && before >= max {
        OPEN.fetch_sub(1, Ordering::Relaxed);
        return None;
    }
    TOTAL.fetch_add(1, Ordering::Relaxed);
    Some(Counted(()))
}

/// Counts a TLS client connection accepted (before its handshake, as HAProxy counts it).
pub fn count_accept() {
    ACCEPTED.fetch_add(1, Ordering::Relaxed);
}

/// Whether a TLS listener may accept one more connection this second.
pub fn may_accept() -> bool {
    let limit = RATE_LIMIT.load(Ordering::Relaxed);
    limit == 0
        || ACCEPTED
            .load(Ordering::Relaxed)
            .saturating_sub(ACCEPTED_BEFORE.load(Ordering::Relaxed))
            < limit
}

/// Called once a second with the other rates.
pub fn sample_rate() {
    let now = ACCEPTED.load(Ordering::Relaxed);
    let rate = now.saturating_sub(ACCEPTED_BEFORE.swap(now, Ordering::Relaxed));
    RATE.store(rate, Ordering::Relaxed);
    RATE_PEAK.fetch_max(rate, Ordering::Relaxed);
}

/// `set rate-limit ssl-sessions global <n>`.
pub fn set_rate_limit(n: u64) {
    RATE_LIMIT.store(n, Ordering::Relaxed);
}

/// What `show info` reports: `MaxSslConns`, `CurrSslConns`, `CumSslConns`, then `SslRate`,
/// `SslRateLimit`, `MaxSslRate`.
pub fn figures() -> ([u64; 3], [u64; 3]) {
    (
        [
            MAX_OPEN.load(Ordering::Relaxed),
            OPEN.load(Ordering::Relaxed),
            TOTAL.load(Ordering::Relaxed),
        ],
        [
            RATE.load(Ordering::Relaxed),
            RATE_LIMIT.load(Ordering::Relaxed),
            RATE_PEAK.load(Ordering::Relaxed),
        ],
    )
}
