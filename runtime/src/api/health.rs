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
    /// `observe`: the server's traffic had too many consecutive errors.
    Hana = 4,
    SockErr = 5,
    L4Ok = 6,
    L4Timeout = 7,
    L4Conn = 8,
    L6Ok = 9,
    L6Timeout = 10,
    L6Response = 11,
    L7Timeout = 12,
    L7Response = 13,
    L7Ok = 15,
    L7OkCond = 16,
    L7Status = 17,
    /// `option external-check`: the command failed, ran past its time, or passed.
    ProcErr = 18,
    ProcTimeout = 19,
    ProcOk = 20,
}

impl CheckStatus {
    fn from_code(code: u8) -> CheckStatus {
        use CheckStatus::*;
        [
            Unknown,
            Init,
            Hana,
            SockErr,
            L4Ok,
            L4Timeout,
            L4Conn,
            L6Ok,
            L6Timeout,
            L6Response,
            L7Timeout,
            L7Response,
            L7Ok,
            L7OkCond,
            L7Status,
            ProcErr,
            ProcTimeout,
            ProcOk,
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
            CheckStatus::Hana => "HANA",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Timeout => "L4TOUT",
            CheckStatus::L4Conn => "L4CON",
            CheckStatus::SockErr => "SOCKERR",
            CheckStatus::L6Ok => "L6OK",
            CheckStatus::L6Timeout => "L6TOUT",
            CheckStatus::L6Response => "L6RSP",
            CheckStatus::L7OkCond => "L7OKC",
            CheckStatus::L7Timeout => "L7TOUT",
            CheckStatus::L7Response => "L7RSP",
            CheckStatus::L7Ok => "L7OK",
            CheckStatus::L7Status => "L7STS",
            CheckStatus::ProcErr => "PROCERR",
            CheckStatus::ProcTimeout => "PROCTOUT",
            CheckStatus::ProcOk => "PROCOK",
        }
    }

    /// The long description (`check_desc`).
    pub fn description(self) -> &'static str {
        match self {
            CheckStatus::Unknown => "Unknown",
            CheckStatus::Init => "Initializing",
            CheckStatus::Hana => "Health analyze",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Timeout => "Layer4 timeout",
            CheckStatus::L4Conn => "Layer4 connection problem",
            CheckStatus::SockErr => "Socket error",
            CheckStatus::L6Ok => "Layer6 check passed",
            CheckStatus::L6Timeout => "Layer6 timeout",
            CheckStatus::L6Response => "Layer6 invalid response",
            CheckStatus::L7OkCond => "Layer7 check conditionally passed",
            CheckStatus::L7Timeout => "Layer7 timeout",
            CheckStatus::L7Response => "Layer7 invalid response",
            CheckStatus::L7Ok => "Layer7 check passed",
            CheckStatus::L7Status => "Layer7 wrong status",
            CheckStatus::ProcErr => "External check error",
            CheckStatus::ProcTimeout => "External check timeout",
            CheckStatus::ProcOk => "External check passed",
        }
    }

    pub fn passed(self) -> bool {
        matches!(
            self,
            CheckStatus::L4Ok
                | CheckStatus::L6Ok
                | CheckStatus::L7Ok
                | CheckStatus::L7OkCond
                | CheckStatus::ProcOk
        )
    }

    /// The status named as in configurations (`ok-status L6OK`).
    pub fn from_name(name: &str) -> Option<CheckStatus> {
        use CheckStatus::*;
        [
            SockErr, L4Ok, L4Timeout, L4Conn, L6Ok, L6Timeout, L6Response, L7Timeout, L7Response,
            L7Ok, L7OkCond, L7Status,
        ]
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Statuses from layer 5 up carry a code in reports (`, code: N`).
    pub fn has_code(self) -> bool {
        self as u8 >= 14
    }
}

/// A server's check: configuration and last outcome.
pub struct CheckState {
    /// `check` is on the server line.
    pub configured: bool,
    /// `enable/disable health`: a disabled check stops probing and leaves the state alone.
    pub enabled: AtomicBool,
    /// `enable/disable agent`: a disabled agent check stops asking the agent.
    pub agent_enabled: AtomicBool,
    /// A health probe is under way: `show stat` marks its status `* `, as HAProxy does.
    pub probing: AtomicBool,
    /// An agent probe is under way (the same mark on `agent_status`).
    pub agent_probing: AtomicBool,
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
    /// Seconds spent stopped before the current state began (`downtime` adds the current
    /// stop to it): see [`CheckState::changed`].
    pub down_time: AtomicU64,
    /// The last result's info text (`last_chk`): why it failed (`Connection refused`, the
    /// server's reason phrase…), empty while a probe runs.
    last_info: std::sync::Mutex<String>,
    /// `agent-check` is on the server line.
    pub agent_configured: bool,
    /// The agent check's last result: status, and the agent's own words.
    agent_status: AtomicU8,
    agent_desc: std::sync::Mutex<String>,
    pub agent_duration_ms: AtomicU64,
    /// The agent's verdict on HAProxy's scale of one (rise 1, fall 1): 1 until it says
    /// `down`, `fail` or `stopped`, 1 again when it says `up`.
    pub agent_health: AtomicU32,
}

/// Raises a probe-under-way flag for as long as it lives, whichever way the probe's turn
/// ends.
pub struct Probing<'a>(&'a AtomicBool);

impl<'a> Probing<'a> {
    fn start(flag: &'a AtomicBool) -> Probing<'a> {
        flag.store(true, Ordering::Relaxed);
        Probing(flag)
    }
}

impl Drop for Probing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// A status as `show stat` prints it: `* ` before it while a probe runs.
pub fn status_text(status: CheckStatus, probing: &AtomicBool) -> String {
    if probing.load(Ordering::Relaxed) {
        format!("* {}", status.name())
    } else {
        status.name().into()
    }
}

/// The longest info text a check keeps (HAProxy's `HCHK_DESC_LEN` less its NUL).
const INFO_MAX: usize = 127;

/// Replaces a check's text with `text`, cut to [`INFO_MAX`] bytes (at a character boundary).
fn set_text(slot: &std::sync::Mutex<String>, text: &str) {
    let mut end = text.len().min(INFO_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Ok(mut d) = slot.lock() {
        d.clear();
        d.push_str(&text[..end]);
    }
}

/// An agent check's rise and fall: its verdict counts at once.
pub const AGENT_RISE_FALL: u32 = 1;

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
            agent_enabled: AtomicBool::new(p.agent),
            probing: AtomicBool::new(false),
            agent_probing: AtomicBool::new(false),
            rise: p.rise,
            fall: p.fall,
            status: AtomicU8::new(CheckStatus::Init as u8),
            code: AtomicU32::new(0),
            duration_ms: AtomicU64::new(0),
            // Up, but the first failure takes it down (as in HAProxy).
            health: AtomicU32::new(p.rise),
            failures: AtomicU64::new(0),
            downs: AtomicU64::new(0),
            last_change: AtomicU64::new(unix_now()),
            down_time: AtomicU64::new(0),
            last_info: Default::default(),
            agent_configured: p.agent,
            agent_status: AtomicU8::new(CheckStatus::Init as u8),
            agent_desc: Default::default(),
            agent_duration_ms: AtomicU64::new(0),
            agent_health: AtomicU32::new(AGENT_RISE_FALL),
        }
    }

    /// A health probe begins: its status shows `* ` until the guard drops, and the last
    /// result's info text is cleared, as HAProxy clears it when a check starts.
    pub fn start_probe(&self) -> Probing<'_> {
        set_text(&self.last_info, "");
        Probing::start(&self.probing)
    }

    /// An agent probe begins: `* ` on its status, and the agent's last words cleared, as
    /// HAProxy clears them when a check starts.
    pub fn start_agent_probe(&self) -> Probing<'_> {
        if let Ok(mut d) = self.agent_desc.lock() {
            d.clear();
        }
        Probing::start(&self.agent_probing)
    }

    /// Records an agent check's result (it never changes `health` itself).
    pub fn record_agent(&self, status: CheckStatus, desc: &str, took_ms: u64) {
        self.agent_status.store(status as u8, Ordering::Relaxed);
        self.agent_duration_ms.store(took_ms, Ordering::Relaxed);
        set_text(&self.agent_desc, desc);
    }

    pub fn agent_status(&self) -> CheckStatus {
        CheckStatus::from_code(self.agent_status.load(Ordering::Relaxed))
    }

    pub fn agent_desc(&self) -> String {
        self.agent_desc
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    pub fn status(&self) -> CheckStatus {
        CheckStatus::from_code(self.status.load(Ordering::Relaxed))
    }

    /// The last health check's info text: `show stat`'s `last_chk`.
    pub fn last_info(&self) -> String {
        self.last_info.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Records one probe's outcome, with its info text. `counted_failure`: a failure that
    /// took a point of health off (`chkfail` counts only those, as HAProxy does: a server
    /// already down fails its checks without counting them).
    pub fn record(
        &self,
        status: CheckStatus,
        code: u32,
        info: &str,
        duration_ms: u64,
        health: u32,
        counted_failure: bool,
    ) {
        set_text(&self.last_info, info);
        self.status.store(status as u8, Ordering::Relaxed);
        self.code.store(code, Ordering::Relaxed);
        self.duration_ms.store(duration_ms, Ordering::Relaxed);
        self.health.store(health, Ordering::Relaxed);
        if counted_failure {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The server changed state now (`lastchg` starts again); `was_stopped`: the state it
    /// leaves was a stopped one (down or in maintenance), whose length goes to `downtime`.
    pub fn changed(&self, was_stopped: bool) {
        let now = unix_now();
        let since = self.last_change.swap(now, Ordering::Relaxed);
        if was_stopped {
            self.down_time
                .fetch_add(now.saturating_sub(since), Ordering::Relaxed);
        }
    }

    /// `downtime`: the seconds stopped so far, the current stop included when `stopped`.
    pub fn downtime(&self, stopped: bool) -> u64 {
        let before = self.down_time.load(Ordering::Relaxed);
        if stopped {
            before + unix_now().saturating_sub(self.last_change.load(Ordering::Relaxed))
        } else {
            before
        }
    }

    /// Takes back the status a server-state file saved (a `healthcheck_status` code).
    pub fn restore_status(&self, code: u8) {
        self.status.store(code, Ordering::Relaxed);
    }

    /// HAProxy's `CHK_ST_*` bits for `show servers state`; `maint`: the server is in
    /// maintenance, which pauses its running check (`CHK_ST_PAUSED`).
    pub fn state_bits(&self, maint: bool) -> u32 {
        if !self.configured {
            return 0;
        }
        if self.enabled.load(Ordering::Relaxed) {
            0x2 | 0x4 | if maint { 0x8 } else { 0 }
        } else {
            0x2
        }
    }

    /// Whether the check runs and is not paused by maintenance: HAProxy shows its status,
    /// code, duration, description, rise, fall and health only then.
    pub fn shown(&self, maint: bool) -> bool {
        self.configured && self.enabled.load(Ordering::Relaxed) && !maint
    }
}
