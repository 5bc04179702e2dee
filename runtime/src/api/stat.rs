//! `show stat`: one row per frontend, server and backend with HAProxy 2.7.0's 101 static
//! columns in order (2.7.0, not Debian's 2.6.12 with its two later backported columns: tools
//! written for 2.7 read column 100 as `agg_server_check_status`). Then the `-` column that
//! separates the build's module counters. HAProxy lists them there whatever the stats page
//! shows; hapee lists none (its page's `stats show-modules` columns, `page_modules`, show
//! the few it keeps), so the line ends at that column.

use super::counters::{Counter, Counters};
use super::fields::{csv_value, json_field, typed_line, Spec, Val};
use crate::state::{
    BackendRt, FrontendRt, ServerRt, Shared, ADMIN_DRAIN, ADMIN_IMAINT, ADMIN_MAINT,
};
use hapee_compiler::ir::Mode;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

macro_rules! specs {
    ($($name:literal $tags:literal),* $(,)?) => { &[$(Spec { name: $name, tags: $tags }),*] };
}

/// The 101 static columns of HAProxy 2.7.0, with their tags.
pub const COLUMNS: &[Spec] = specs![
    "pxname" "KNS", "svname" "KNS", "qcur" "MGP", "qmax" "MMP", "scur" "MGP", "smax" "MMP",
    "slim" "CLP", "stot" "MCP", "bin" "MCP", "bout" "MCP", "dreq" "MCP", "dresp" "MCP",
    "ereq" "MCP", "econ" "MCP", "eresp" "MCP", "wretr" "MCP", "wredis" "MCP", "status" "SGP",
    "weight" "MaP", "act" "MGP", "bck" "MGP", "chkfail" "MCP", "chkdown" "MCP",
    "lastchg" "MAP", "downtime" "MCP", "qlimit" "CLP", "pid" "KGP", "iid" "KGS", "sid" "KGS",
    "throttle" "MGP", "lbtot" "MCP", "tracked" "CGP", "type" "CGS", "rate" "MRP",
    "rate_lim" "CLP", "rate_max" "MMP", "check_status" "MOP", "check_code" "MOP",
    "check_duration" "MDP", "hrsp_1xx" "MCP", "hrsp_2xx" "MCP", "hrsp_3xx" "MCP",
    "hrsp_4xx" "MCP", "hrsp_5xx" "MCP", "hrsp_other" "MCP", "hanafail" "MCP",
    "req_rate" "MRP", "req_rate_max" "MMP", "req_tot" "MCP", "cli_abrt" "MCP",
    "srv_abrt" "MCP", "comp_in" "MCP", "comp_out" "MCP", "comp_byp" "MCP", "comp_rsp" "MCP",
    "lastsess" "MAP", "last_chk" "MOP", "last_agt" "MOP", "qtime" "MaP", "ctime" "MaP",
    "rtime" "MaP", "ttime" "MaP", "agent_status" "MOP", "agent_code" "MOP",
    "agent_duration" "MDP", "check_desc" "MOP", "agent_desc" "MOP", "check_rise" "CGS",
    "check_fall" "CGS", "check_health" "CGS", "agent_rise" "CGS", "agent_fall" "CGS",
    "agent_health" "CGS", "addr" "CGS", "cookie" "CGS", "mode" "CGS", "algo" "CGS",
    "conn_rate" "MRP", "conn_rate_max" "MMP", "conn_tot" "MCP", "intercepted" "MCP",
    "dcon" "MCP", "dses" "MCP", "wrew" "MCP", "connect" "MCP", "reuse" "MCP",
    "cache_lookups" "MCP", "cache_hits" "MCP", "srv_icur" "MGP", "src_ilim" "MGP",
    "qtime_max" "MMP", "ctime_max" "MMP", "rtime_max" "MMP", "ttime_max" "MMP",
    "eint" "MCP", "idle_conn_cur" "MGP", "safe_conn_cur" "MGP", "used_conn_cur" "MGP",
    "need_conn_est" "MGP", "uweight" "MaP", "agg_server_check_status" "MGP",
];

/// The CSV header line.
pub fn header() -> String {
    let mut h = String::from("# ");
    for c in COLUMNS {
        h.push_str(c.name);
        h.push(',');
    }
    h.push_str("-,\n");
    h
}

/// Which object a row describes: `type` column values 0, 1, 2, 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Frontend,
    Backend,
    Server,
    /// A listener of a frontend with `option socket-stats`.
    Listener,
}

impl Kind {
    fn letter(self) -> &'static str {
        match self {
            Kind::Frontend => "F",
            Kind::Backend => "B",
            Kind::Server => "S",
            Kind::Listener => "L",
        }
    }
    fn json_name(self) -> &'static str {
        match self {
            Kind::Frontend => "Frontend",
            Kind::Backend => "Backend",
            Kind::Server => "Server",
            Kind::Listener => "Listener",
        }
    }
    fn bit(self) -> i64 {
        match self {
            Kind::Frontend => 1,
            Kind::Backend => 2,
            Kind::Server => 4,
            Kind::Listener => 8,
        }
    }
}

/// One row: the object's kind, proxy id, server id and its 101 values.
pub struct Row {
    pub kind: Kind,
    pub proxy_id: u32,
    pub server_id: u32,
    pub values: Vec<Val>,
}

/// Columns present in HTTP mode only.
const HTTP_ONLY: &[usize] = &[
    39, 40, 41, 42, 43, 44, 46, 47, 48, 51, 52, 53, 54, 83, 86, 87,
];

fn u32v(v: u64) -> Val {
    Val::U32(v)
}
fn u64v(v: u64) -> Val {
    Val::U64(v)
}

/// The values every kind takes from its counters.
fn counted(values: &mut [Val], c: &Counters) {
    values[7] = u64v(c.get(Counter::Sessions));
    values[8] = u64v(c.get(Counter::BytesIn));
    values[9] = u64v(c.get(Counter::BytesOut));
    for (i, k) in [
        Counter::Hrsp1xx,
        Counter::Hrsp2xx,
        Counter::Hrsp3xx,
        Counter::Hrsp4xx,
        Counter::Hrsp5xx,
        Counter::HrspOther,
    ]
    .into_iter()
    .enumerate()
    {
        values[39 + i] = u64v(c.get(k));
    }
    values[48] = u64v(c.get(Counter::Requests));
}

/// The average times (`qtime` … `ttime`) and their maxima (`qtime_max` … `ttime_max`).
fn timed(values: &mut [Val], c: &Counters) {
    use super::counters::Time;
    for (i, t) in [Time::Queue, Time::Connect, Time::Response, Time::Total]
        .into_iter()
        .enumerate()
    {
        values[58 + i] = u32v(c.average(t));
        values[90 + i] = u32v(c.max_time(t));
    }
}

fn mode_name(m: Mode) -> &'static str {
    if m == Mode::Http {
        "http"
    } else {
        "tcp"
    }
}

fn blank_http_only(values: &mut [Val], mode: Mode) {
    if mode != Mode::Http {
        for &i in HTTP_ONLY {
            values[i] = Val::Empty;
        }
    }
}

pub fn frontend_row(fe: &FrontendRt, rates: [u64; 4], process_maxconn: u64) -> Row {
    let mut v = vec![Val::Empty; COLUMNS.len()];
    let c = &fe.counters;
    v[0] = Val::Str(fe.name.to_string());
    v[1] = Val::Str("FRONTEND".into());
    v[4] = u32v(fe.active.load(Ordering::Relaxed));
    v[5] = u32v(fe.peak_active.get());
    v[6] = u32v(match fe.maxconn.load(Ordering::Relaxed) {
        0 => process_maxconn,
        m => m,
    });
    counted(&mut v, c);
    v[10] = u64v(c.get(Counter::DeniedReq));
    v[11] = u64v(c.get(Counter::DeniedResp));
    v[12] = u64v(c.get(Counter::ErrorsReq));
    let paused = fe.paused.load(Ordering::Relaxed);
    v[17] = Val::Str(if paused { "STOP" } else { "OPEN" }.into());
    v[26] = u32v(1);
    v[27] = u32v(u64::from(fe.id));
    v[28] = u32v(0);
    v[32] = u32v(0);
    v[33] = u32v(rates[0]);
    v[34] = u32v(0);
    v[35] = u32v(rates[1]);
    v[46] = u32v(rates[2]);
    v[47] = u32v(rates[3]);
    v[51..=54].fill(u64v(0));
    v[75] = Val::Str(mode_name(fe.mode).into());
    v[77] = u32v(rates[0]);
    v[78] = u32v(rates[1]);
    v[79] = u64v(c.get(Counter::Connections));
    v[80] = u64v(c.get(Counter::Intercepted));
    v[81] = u64v(0);
    v[82] = u64v(0);
    v[83] = u64v(c.get(Counter::FailedRewrites));
    v[86] = u64v(0);
    v[87] = u64v(0);
    v[94] = u64v(0);
    blank_http_only(&mut v, fe.mode);
    Row {
        kind: Kind::Frontend,
        proxy_id: fe.id,
        server_id: 0,
        values: v,
    }
}

/// The row of a listener of a frontend with `option socket-stats`: its connections, bytes,
/// denials and errors, `OPEN` or `FULL` at its `maxconn`.
pub fn listener_row(fe: &FrontendRt, l: &crate::listener::ListenerRt) -> Row {
    let mut v = vec![Val::Empty; COLUMNS.len()];
    let c = &l.counters;
    let open = l.conns.load(Ordering::Relaxed) as u64;
    v[0] = Val::Str(fe.name.to_string());
    v[1] = Val::Str(l.stat_name.clone());
    v[4] = u32v(open);
    v[5] = u32v(l.peak_conns.get());
    v[6] = u32v(l.maxconn);
    v[7] = u64v(c.get(Counter::Sessions));
    v[8] = u64v(c.get(Counter::BytesIn));
    v[9] = u64v(c.get(Counter::BytesOut));
    v[10] = u64v(c.get(Counter::DeniedReq));
    v[11] = u64v(c.get(Counter::DeniedResp));
    v[12] = u64v(c.get(Counter::ErrorsReq));
    let full = l.maxconn != 0 && open >= l.maxconn;
    v[17] = Val::Str(if full { "FULL" } else { "OPEN" }.into());
    v[26] = u32v(1);
    v[27] = u32v(u64::from(fe.id));
    v[28] = u32v(u64::from(l.id));
    v[32] = u32v(3);
    v[73] = Val::Str(l.addr.clone());
    v[75] = Val::Str(mode_name(fe.mode).into());
    v[81] = u64v(0);
    v[82] = u64v(0);
    v[83] = u64v(c.get(Counter::FailedRewrites));
    v[94] = u64v(0);
    Row {
        kind: Kind::Listener,
        proxy_id: fe.id,
        server_id: l.id,
        values: v,
    }
}

/// HAProxy's server status words: `UP`, `UP 1/3` while failing checks take it down, `DOWN`,
/// `DOWN 1/2` while passing checks bring it up, `DOWN (agent)` when its agent said so,
/// `DRAIN`, `DRAIN 1/3`, `DRAIN (agent)`, `NOLB` and `NOLB 1/3` for a stopping server, `MAINT`,
/// and `no check` for a server up unchecked; `MAINT (via be/s)` for a maintenance inherited from a
/// tracked server.
///
/// As in HAProxy, a check counts only while it runs: after `disable health` (or `disable
/// agent`) the status is that of an unchecked server, whatever the last results were.
pub fn server_status(be: &BackendRt, s: &ServerRt) -> String {
    let admin = s.admin.load(Ordering::Relaxed);
    if admin & ADMIN_IMAINT != 0 {
        if let Some(tracked) = s.tracked_name(&be.name) {
            return format!("MAINT (via {tracked})");
        }
    }
    if admin & ADMIN_MAINT != 0 {
        return "MAINT".into();
    }
    // A tracking server shows the checks of the server its chain ends at, as in HAProxy.
    let root = s.tracked_root();
    let check = &root.as_deref().unwrap_or(s).check;
    let checking = check.configured && check.enabled.load(Ordering::Relaxed);
    let asking_agent = check.agent_configured && check.agent_enabled.load(Ordering::Relaxed);
    let health = check.health.load(Ordering::Relaxed);
    let (rise, fall) = (check.rise, check.fall);
    let going_down = checking && health < rise + fall - 1;
    let counts = || format!("{}/{fall}", (health + 1).saturating_sub(rise));
    if s.is_nolb() {
        return if going_down {
            format!("NOLB {}", counts())
        } else {
            "NOLB".into()
        };
    }
    if s.up.load(Ordering::Relaxed) {
        return match (admin & ADMIN_DRAIN != 0, going_down) {
            (true, _) if asking_agent => "DRAIN (agent)".into(),
            (true, true) => format!("DRAIN {}", counts()),
            (true, false) => "DRAIN".into(),
            (false, true) => format!("UP {}", counts()),
            (false, false) if !checking => "no check".into(),
            (false, false) => "UP".into(),
        };
    }
    if asking_agent && check.agent_health.load(Ordering::Relaxed) == 0 {
        "DOWN (agent)".into()
    } else if (!checking && !asking_agent) || (checking && health == 0) {
        "DOWN".into()
    } else {
        format!("DOWN {health}/{rise}")
    }
}

/// `lastsess`: seconds since the last session began (at `last`, seconds since the epoch),
/// -1 before the first.
fn last_session(last: u64, now: u64) -> Val {
    if last == 0 {
        Val::S32(-1)
    } else {
        Val::S32(now.saturating_sub(last).min(i32::MAX as u64) as i64)
    }
}

fn addr_text(s: &ServerRt) -> Val {
    s.addr().map_or(Val::Empty, |a| Val::Str(a.to_string()))
}

pub fn server_row(be: &BackendRt, s: &ServerRt) -> Row {
    let mut v = vec![Val::Empty; COLUMNS.len()];
    let c = &s.counters;
    let now = super::health::unix_now();
    v[0] = Val::Str(be.name.to_string());
    v[1] = Val::Str(s.name.to_string());
    v[2] = u32v(s.queue.current());
    v[3] = u32v(s.queue.peak());
    v[4] = u32v(s.active.load(Ordering::Relaxed));
    v[5] = u32v(s.peak_active.get());
    if let Some(m) = s.maxconn {
        v[6] = u32v(u64::from(m));
    }
    counted(&mut v, c);
    v[7] = u64v(s.total.load(Ordering::Relaxed));
    v[11] = u64v(c.get(Counter::DeniedResp));
    v[13] = u64v(c.get(Counter::ErrorsConn));
    v[14] = u64v(c.get(Counter::ErrorsResp));
    v[15] = u64v(c.get(Counter::Retries));
    v[16] = u64v(c.get(Counter::Redispatches));
    v[17] = Val::Str(server_status(be, s));
    v[18] = u32v(u64::from(s.current_weight()));
    v[19] = u32v(u64::from(!s.backup));
    v[20] = u32v(u64::from(s.backup));
    let check = &s.check;
    let last_change = check.last_change.load(Ordering::Relaxed);
    v[23] = u32v(now.saturating_sub(last_change));
    let maint = s.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0;
    // The counters show while the check runs; its last result only while maintenance does
    // not pause it (HAProxy's CHK_ST_ENABLED and CHK_ST_PAUSED).
    if check.configured && check.enabled.load(Ordering::Relaxed) {
        v[21] = u64v(check.failures.load(Ordering::Relaxed));
        v[22] = u64v(check.downs.load(Ordering::Relaxed));
        v[24] = u32v(check.downtime(s.stopped()));
    }
    if check.shown(maint) {
        let status = check.status();
        v[36] = Val::Str(super::health::status_text(status, &check.probing));
        if status.has_code() {
            v[37] = u32v(u64::from(check.code.load(Ordering::Relaxed)));
        }
        v[38] = u64v(check.duration_ms.load(Ordering::Relaxed));
        if let Some(o) = &s.observer {
            v[45] = u64v(o.failures.load(Ordering::Relaxed));
        }
        v[56] = Val::Str(check.last_info());
        v[65] = Val::Str(status.description().into());
        v[67] = u32v(u64::from(check.rise));
        v[68] = u32v(u64::from(check.fall));
        v[69] = u32v(u64::from(check.health.load(Ordering::Relaxed)));
    }
    // Shown while the agent check runs (not after `disable agent`), as HAProxy does.
    if check.agent_configured && check.agent_enabled.load(Ordering::Relaxed) {
        let status = check.agent_status();
        v[62] = Val::Str(super::health::status_text(status, &check.agent_probing));
        if status.has_code() {
            v[63] = u32v(0);
        }
        v[64] = u64v(check.agent_duration_ms.load(Ordering::Relaxed));
        v[66] = Val::Str(status.description().into());
        v[57] = Val::Str(check.agent_desc());
        v[70] = u32v(u64::from(super::health::AGENT_RISE_FALL));
        v[71] = u32v(u64::from(super::health::AGENT_RISE_FALL));
        v[72] = u32v(u64::from(check.agent_health.load(Ordering::Relaxed)));
    }
    v[26] = u32v(1);
    v[27] = u32v(u64::from(be.id));
    v[28] = u32v(u64::from(s.id));
    if s.admin.load(Ordering::Relaxed) & ADMIN_DRAIN == 0 {
        if let Some(t) = s.warmup.throttle(s.uweight.load(Ordering::Relaxed)) {
            v[29] = u32v(u64::from(t));
        }
    }
    v[30] = u64v(s.total.load(Ordering::Relaxed));
    v[32] = u32v(2);
    let rate = u64::from(s.session_rate());
    v[33] = u32v(rate);
    v[35] = u32v(s.sess_rate_max.get().max(rate));
    v[49] = u64v(c.get(Counter::ClientAborts));
    v[50] = u64v(c.get(Counter::ServerAborts));
    v[55] = last_session(s.last_sess.load(Ordering::Relaxed), now);
    v[73] = addr_text(s);
    v[75] = Val::Str(mode_name(be.mode).into());
    v[83] = u64v(c.get(Counter::FailedRewrites));
    v[84] = u64v(c.get(Counter::ServerConnects));
    v[85] = u64v(c.get(Counter::ServerReuses));
    // Idle connections: all (`srv_icur`), the limit (`srv_ilim`, `pool-max-conn`), then
    // those not yet proven safe (`idle_conn_cur`) and the safe ones (`safe_conn_cur`).
    let (idle, safe) = (s.idle.idle(), s.idle.safe());
    v[88] = u32v(u64::from(idle));
    if let Ok(limit) = u64::try_from(s.idle.limit()) {
        v[89] = u32v(limit);
    }
    v[94..=98].fill(u32v(0));
    v[94] = u64v(0);
    v[95] = u32v(u64::from(idle.saturating_sub(safe)));
    v[96] = u32v(u64::from(safe));
    // Connections in use (`used_conn_cur`) and the estimate of those needed (`need_conn_est`).
    let (used, _, need) = s.idle.used();
    v[97] = u32v(u64::from(used));
    v[98] = u32v(u64::from(need));
    timed(&mut v, c);
    v[99] = u32v(u64::from(s.current_weight()));
    blank_http_only(&mut v, be.mode);
    Row {
        kind: Kind::Server,
        proxy_id: be.id,
        server_id: s.id,
        values: v,
    }
}

pub fn backend_row(be: &BackendRt) -> Row {
    let mut v = vec![Val::Empty; COLUMNS.len()];
    let c = &be.counters;
    let usable: Vec<&std::sync::Arc<ServerRt>> =
        be.servers.iter().filter(|s| s.is_usable()).collect();
    v[0] = Val::Str(be.name.to_string());
    v[1] = Val::Str("BACKEND".into());
    v[2] = u32v(be.queue.current());
    v[3] = u32v(be.queue.peak());
    v[4] = u32v(be.active.load(Ordering::Relaxed));
    v[5] = u32v(be.peak_active.get());
    v[6] = u32v(be.fullconn.map_or(0, u64::from));
    counted(&mut v, c);
    v[10] = u64v(c.get(Counter::DeniedReq));
    v[11] = u64v(c.get(Counter::DeniedResp));
    v[13] = u64v(c.get(Counter::ErrorsConn));
    v[14] = u64v(c.get(Counter::ErrorsResp));
    v[15] = u64v(c.get(Counter::Retries));
    v[16] = u64v(c.get(Counter::Redispatches));
    // A backend without servers (a stats page's, a service's) is up, as in HAProxy.
    let up = !usable.is_empty() || be.servers.is_empty();
    v[17] = Val::Str(if up { "UP" } else { "DOWN" }.into());
    let weight: u64 = usable
        .iter()
        .filter(|s| !s.backup)
        .map(|s| u64::from(s.current_weight()))
        .sum();
    v[18] = u32v(weight);
    v[19] = u32v(usable.iter().filter(|s| !s.backup).count() as u64);
    v[20] = u32v(usable.iter().filter(|s| s.backup).count() as u64);
    v[22] = u64v(0);
    v[23] = u32v(0);
    v[24] = u32v(0);
    v[26] = u32v(1);
    v[27] = u32v(u64::from(be.id));
    v[28] = u32v(0);
    v[30] = u64v(
        be.servers
            .iter()
            .map(|s| s.total.load(Ordering::Relaxed))
            .sum(),
    );
    v[32] = u32v(1);
    // Its sessions are its servers' (the peak is theirs at most: sampled by the servers).
    let rate: u64 = be.servers.iter().map(|s| u64::from(s.session_rate())).sum();
    v[33] = u32v(rate);
    let peak = be.servers.iter().map(|s| s.sess_rate_max.get()).max();
    v[35] = u32v(peak.unwrap_or(0).max(rate));
    v[49] = u64v(c.get(Counter::ClientAborts));
    v[50] = u64v(c.get(Counter::ServerAborts));
    v[51..=54].fill(u64v(0));
    let last = be
        .servers
        .iter()
        .map(|s| s.last_sess.load(Ordering::Relaxed))
        .max();
    v[55] = last_session(last.unwrap_or(0), super::health::unix_now());
    v[75] = Val::Str(mode_name(be.mode).into());
    v[76] = Val::Str(be.algorithm.name().into());
    v[83] = u64v(c.get(Counter::FailedRewrites));
    v[84] = u64v(c.get(Counter::ServerConnects));
    v[85] = u64v(c.get(Counter::ServerReuses));
    v[86] = u64v(0);
    v[87] = u64v(0);
    v[94] = u64v(0);
    v[99] = u32v(weight);
    // `agg_server_check_status`: HAProxy 2.7 keeps the column and always reports 0.
    v[100] = u32v(0);
    timed(&mut v, c);
    blank_http_only(&mut v, be.mode);
    Row {
        kind: Kind::Backend,
        proxy_id: be.id,
        server_id: 0,
        values: v,
    }
}

/// `show stat` options: output form and the `<iid> <type> <sid>` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Csv,
    Typed,
    Json,
}

pub struct Filter {
    pub proxy_id: i64,
    pub types: i64,
    pub server_id: i64,
    pub up_only: bool,
    pub no_maint: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            proxy_id: -1,
            types: -1,
            server_id: -1,
            up_only: false,
            no_maint: false,
        }
    }
}

impl Filter {
    fn keeps(&self, row: &Row) -> bool {
        (self.proxy_id == -1 || self.proxy_id == i64::from(row.proxy_id))
            && (self.types == -1 || self.types & row.kind.bit() != 0)
            && (!matches!(row.kind, Kind::Server | Kind::Listener)
                || self.server_id == -1
                || self.server_id == i64::from(row.server_id))
    }
}

/// Whether `show stat up` leaves server `s` out: down and not on its way up (no check or
/// agent running, or one that has no health left), as HAProxy decides.
fn down_for_good(s: &ServerRt) -> bool {
    let c = &s.check;
    let checking = c.configured && c.enabled.load(Ordering::Relaxed);
    let asking = c.agent_configured && c.agent_enabled.load(Ordering::Relaxed);
    !s.up.load(Ordering::Relaxed)
        && ((!checking && !asking)
            || (asking && c.agent_health.load(Ordering::Relaxed) == 0)
            || (checking && c.health.load(Ordering::Relaxed) == 0))
}

/// Every row in HAProxy's order: for each proxy by id, its frontend, servers, backend.
pub fn rows(shared: &Shared, filter: &Filter) -> Vec<Row> {
    let rates = |i: usize| shared.process.frontend_rates(i);
    let mut objects: Vec<(u32, Vec<Row>)> = Vec::new();
    let mut by_id = std::collections::HashMap::new();
    for (i, fe) in shared.frontends.iter().enumerate() {
        let maxconn = shared.process.maxconn.load(Ordering::Relaxed);
        by_id.insert(fe.id, objects.len());
        let mut rows = vec![frontend_row(fe, rates(i), maxconn)];
        if fe.socket_stats {
            rows.extend(fe.listeners.iter().map(|l| listener_row(fe, l)));
        }
        objects.push((fe.id, rows));
    }
    for be in &shared.backends {
        let mut rows: Vec<Row> = be
            .servers
            .iter()
            .filter(|s| {
                let maint = s.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0;
                !(filter.no_maint && maint) && !(filter.up_only && (maint || down_for_good(s)))
            })
            .map(|s| server_row(be, s))
            .collect();
        let mut backend = backend_row(be);
        if filter.up_only || filter.no_maint {
            // With either option HAProxy counts the servers not stopped, of all.
            let up = be.servers.iter().filter(|s| !s.stopped()).count();
            if let Val::Str(status) = &mut backend.values[17] {
                let _ = write!(status, " ({up}/{})", be.servers.len());
            }
        }
        rows.push(backend);
        // A listen section's frontend and backend share an id: one table.
        match by_id.get(&be.id) {
            Some(&at) => objects[at].1.extend(rows),
            None => {
                by_id.insert(be.id, objects.len());
                objects.push((be.id, rows));
            }
        }
    }
    objects.sort_by_key(|o| o.0);
    objects
        .into_iter()
        .flat_map(|o| o.1)
        .filter(|r| filter.keeps(r))
        .collect()
}

/// A column's tags in a row of `kind`: HAProxy tags a few fields of some rows otherwise than
/// the column (a backend's session rate and its peak are plain gauges, a server's active and
/// backup flags are statuses).
fn tagged(kind: Kind, spec: &Spec) -> Spec {
    let tags = match (kind, spec.name) {
        (Kind::Backend, "rate" | "rate_max") => "MGP",
        (Kind::Server, "act" | "bck") => "SGP",
        _ => spec.tags,
    };
    Spec {
        name: spec.name,
        tags,
    }
}

pub fn render(rows: &[Row], form: Form) -> String {
    let mut out = String::new();
    match form {
        Form::Csv => {
            out.push_str(&header());
            for r in rows {
                for v in &r.values {
                    out.push_str(&csv_value(&v.text()));
                    out.push(',');
                }
                out.push_str("-,\n");
            }
        }
        Form::Typed => {
            for r in rows {
                let prefix = format!("{}.{}.{}.", r.kind.letter(), r.proxy_id, r.server_id);
                for (pos, (spec, v)) in COLUMNS.iter().zip(&r.values).enumerate() {
                    if *v != Val::Empty {
                        typed_line(&mut out, &prefix, pos, &tagged(r.kind, spec), v);
                    }
                }
            }
        }
        Form::Json => {
            let objects: Vec<String> = rows
                .iter()
                .map(|r| {
                    let fields: Vec<String> = COLUMNS
                        .iter()
                        .zip(&r.values)
                        .enumerate()
                        .filter(|(_, (_, v))| **v != Val::Empty)
                        .map(|(pos, (spec, v))| {
                            json_field(
                                Some((r.kind.json_name(), r.proxy_id, r.server_id)),
                                pos,
                                &tagged(r.kind, spec),
                                v,
                            )
                        })
                        .collect();
                    format!("[{}]", fields.join(","))
                })
                .collect();
            out.push('[');
            out.push_str(&objects.join(","));
            out.push_str("]\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_has_2_7_0_columns_in_order() {
        assert_eq!(COLUMNS.len(), 101);
        let h = header();
        assert!(h.starts_with("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,"));
        assert!(h.ends_with(",need_conn_est,uweight,agg_server_check_status,-,\n"));
        assert_eq!(COLUMNS[73].name, "addr");
        assert_eq!(COLUMNS[48].name, "req_tot");
    }
}
