//! What a server's health check last found, as the Runtime API reports it: HAProxy's check
//! status codes (`show servers state`) and names (`show stat`), written by the one thread that
//! runs the check and read by any.

use hapee_compiler::plan::ServerPlan;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// HAProxy's `healthcheck_status` values that hapee's checks produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CheckStatus {
    Unknown = 0,
    Init = 1,
    L4Ok = 6,
    L4Timeout = 7,
    L4Conn = 8,
    L7Timeout = 12,
    L7Response = 13,
    L7Ok = 15,
    L7Status = 17,
}

impl CheckStatus {
    fn from_code(code: u8) -> CheckStatus {
        use CheckStatus::*;
        [
            Unknown, Init, L4Ok, L4Timeout, L4Conn, L7Timeout, L7Response, L7Ok, L7Status,
        ]
        .into_iter()
        .find(|s| *s as u8 == code)
        .unwrap_or(Unknown)
    }

    /// The short name `show stat` prints (`check_status`).
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Unknown => "UNK",
            CheckStatus::Init => "INI",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Timeout => "L4TOUT",
            CheckStatus::L4Conn => "L4CON",
            CheckStatus::L7Timeout => "L7TOUT",
            CheckStatus::L7Response => "L7RSP",
            CheckStatus::L7Ok => "L7OK",
            CheckStatus::L7Status => "L7STS",
        }
    }

    /// The long description (`check_desc`).
    pub fn description(self) -> &'static str {
        match self {
            CheckStatus::Unknown => "Unknown",
            CheckStatus::Init => "Initializing",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Timeout => "Layer4 timeout",
            CheckStatus::L4Conn => "Layer4 connection problem",
            CheckStatus::L7Timeout => "Layer7 timeout",
            CheckStatus::L7Response => "Layer7 invalid response",
            CheckStatus::L7Ok => "Layer7 check passed",
            CheckStatus::L7Status => "Layer7 wrong status",
        }
    }

    pub fn passed(self) -> bool {
        matches!(self, CheckStatus::L4Ok | CheckStatus::L7Ok)
    }
}

/// A server's check: configuration and last outcome.
pub struct CheckState {
    /// `check` is on the server line.
    pub configured: bool,
    /// `enable/disable health`: a disabled check stops probing and leaves the state alone.
    pub enabled: AtomicBool,
    /// `enable/disable agent`; hapee runs no agent checks, the flag is kept for reports.
    pub agent_enabled: AtomicBool,
    pub rise: u32,
    pub fall: u32,
    status: AtomicU8,
    /// HTTP status of the last L7 check, 0 when none.
    pub code: AtomicU32,
    pub duration_ms: AtomicU64,
    /// HAProxy's health counter: 0 … rise + fall - 1, up from `fall` on.
    pub health: AtomicU32,
    /// Failed checks (`chkfail`) and up-to-down transitions (`chkdown`).
    pub failures: AtomicU64,
    pub downs: AtomicU64,
    /// When the server last changed state (seconds since the epoch): `lastchg`.
    pub last_change: AtomicU64,
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl CheckState {
    pub fn new(s: &ServerPlan) -> CheckState {
        let p = &s.check_params;
        CheckState {
            configured: s.check,
            enabled: AtomicBool::new(s.check),
            agent_enabled: AtomicBool::new(false),
            rise: p.rise,
            fall: p.fall,
            status: AtomicU8::new(CheckStatus::Init as u8),
            code: AtomicU32::new(0),
            duration_ms: AtomicU64::new(0),
            health: AtomicU32::new(p.rise + p.fall - 1),
            failures: AtomicU64::new(0),
            downs: AtomicU64::new(0),
            last_change: AtomicU64::new(unix_now()),
        }
    }

    pub fn status(&self) -> CheckStatus {
        CheckStatus::from_code(self.status.load(Ordering::Relaxed))
    }

    /// Records one probe's outcome.
    pub fn record(&self, status: CheckStatus, code: u32, duration_ms: u64, health: u32) {
        self.status.store(status as u8, Ordering::Relaxed);
        self.code.store(code, Ordering::Relaxed);
        self.duration_ms.store(duration_ms, Ordering::Relaxed);
        self.health.store(health, Ordering::Relaxed);
        if !status.passed() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Takes back the status a server-state file saved (a `healthcheck_status` code).
    pub fn restore_status(&self, code: u8) {
        self.status.store(code, Ordering::Relaxed);
    }

    /// HAProxy's `CHK_ST_*` bits for `show servers state`.
    pub fn state_bits(&self) -> u32 {
        if !self.configured {
            return 0;
        }
        let enabled = if self.enabled.load(Ordering::Relaxed) {
            0x4
        } else {
            0
        };
        0x2 | enabled
    }
}
