//! Server states carried over a reload. Before a reload the operator saves `show servers
//! state` (format version 1) to the `server-state-file` (or a backend's own file); the new
//! process reads it at start and gives each server back what the old one had: operational and
//! administrative state, weight, check state, and its port (and, for a server named by a
//! hostname, its address: `init-addr last`). HAProxy 2.7's rules decide what a changed
//! configuration overrides: a server disabled or enabled in the configuration follows the
//! configuration, a weight set at run time is kept only while the configured weight is the
//! one it was set against, and so on (see [`apply_line`]).

use crate::state::{
    BackendRt, ServerRt, Shared, ADMIN_FDRAIN, ADMIN_FMAINT, ADMIN_IDRAIN, ADMIN_IMAINT,
    ADMIN_MAINT,
};
use hapee_compiler::plan::server_state::StateSource;
use hapee_compiler::plan::Plan;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;

/// The only format version there is.
const VERSION: i64 = 1;
/// Longest line read, terminator included; a longer one makes the file corrupted.
const LINE_MAX: usize = 2000;
/// Fields of a version 1 line: the first 20 are required, 5 more may follow.
const FIELDS_MIN: usize = 20;
const FIELDS_MAX: usize = 25;

/// HAProxy's `SRV_ADMF_*` bits as the file spells them.
const FMAINT: i64 = 0x01;
const IMAINT: i64 = 0x02;
const CMAINT: i64 = 0x04;
const FDRAIN: i64 = 0x08;
const IDRAIN: i64 = 0x10;
const RMAINT: i64 = 0x20;
const HMAINT: i64 = 0x40;
/// `CHK_ST_CONFIGURED`, `CHK_ST_ENABLED`, and every bit a saved check state may carry.
const CHECK_CONFIGURED: i64 = 0x02;
const CHECK_ENABLED: i64 = 0x04;
const CHECK_BITS: i64 = 0x1f;
/// HAProxy tests the saved `bk_f_forced_id` (0 or 1) against its option bit for a forced id
/// (0x80), so the test never passes: a backend renamed since the file was written never takes
/// the file's lines, forced id or not. Kept as it is, for the same outcome.
const FORCED_ID_BIT: i64 = 0x80;
/// `HCHK_STATUS_SIZE`: check status codes are below it.
const CHECK_STATUS_COUNT: i64 = 21;

fn warning(msg: &str) {
    eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
}

fn notice(msg: &str) {
    eprintln!("[NOTICE]   ({}) : {msg}", std::process::id());
}

/// `strtol` on base 10: the integer the text starts with (after blanks), whatever follows;
/// `None` when it starts with none or overflows.
fn leading_int(text: &str) -> Option<i64> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    let value: i64 = digits[..end].parse().ok()?;
    Some(if negative { -value } else { value })
}

/// Why a state file gives nothing.
#[derive(Debug)]
enum Unreadable {
    Open(std::io::Error),
    Empty,
    NoVersion,
    /// A line (numbered from the one after the version) is cut or has too few fields.
    Corrupted(usize),
}

/// One line's fields: `be_id be_name srv_id srv_name` and then the server's state.
type Fields = Vec<String>;

/// Splits one line (terminator removed) on blanks; `None` for a blank or comment line.
fn split_line(line: &str) -> Option<Fields> {
    let body = line.trim_start_matches([' ', '\t']);
    if body.is_empty() || body.starts_with('#') {
        return None;
    }
    Some(
        body.split([' ', '\t'])
            .filter(|f| !f.is_empty())
            .take(FIELDS_MAX)
            .map(str::to_string)
            .collect(),
    )
}

/// Reads a state file: its lines of fields in order, or why there are none.
fn read(path: &str) -> Result<Vec<Fields>, Unreadable> {
    let bytes = std::fs::read(path).map_err(Unreadable::Open)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or(Unreadable::Empty)?;
    let version_ok = first.len() < LINE_MAX
        && first
            .strip_suffix('\n')
            .and_then(|v| {
                let t = v.trim_start_matches([' ', '\t']);
                let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
                (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| leading_int(t))
                    .flatten()
            })
            .is_some_and(|v| v == VERSION);
    if !version_ok {
        return Err(Unreadable::NoVersion);
    }
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        let number = n + 1;
        let Some(body) = line.strip_suffix('\n').filter(|_| line.len() < LINE_MAX) else {
            return Err(Unreadable::Corrupted(number));
        };
        if let Some(fields) = split_line(body) {
            if !(FIELDS_MIN..=FIELDS_MAX).contains(&fields.len()) {
                return Err(Unreadable::Corrupted(number));
            }
            out.push(fields);
        }
    }
    Ok(out)
}

/// The text `strerror` gives for an open failure.
fn os_reason(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map(|c| nix::errno::Errno::from_raw(c).desc().to_string())
        .unwrap_or_else(|| e.to_string())
}

/// Server lines by `(backend name, server name)`; the first of duplicates wins.
type Lines = HashMap<(String, String), Fields>;

fn index(into: &mut Lines, backend: &str, fields: Fields) {
    into.entry((backend.to_string(), fields[3].clone()))
        .or_insert(fields);
}

/// Loads the global file: every line, keyed by the backend name it gives.
fn load_global(path: &str) -> Option<Lines> {
    match read(path) {
        Ok(lines) => {
            let mut out = Lines::new();
            for fields in lines {
                let backend = fields[1].clone();
                index(&mut out, &backend, fields);
            }
            Some(out)
        }
        Err(Unreadable::Open(e)) => {
            let msg = format!(
                "config: Can't open global server state file '{path}': {}",
                os_reason(&e)
            );
            if e.kind() == std::io::ErrorKind::NotFound {
                notice(&msg)
            } else {
                warning(&msg)
            }
            None
        }
        Err(Unreadable::Empty) => {
            notice(&format!("config: Empty global server state file '{path}'."));
            None
        }
        Err(Unreadable::NoVersion) => {
            warning(&format!(
                "config: Can't get version of the global server state file '{path}'."
            ));
            None
        }
        Err(Unreadable::Corrupted(n)) => {
            warning(&format!(
                "config: corrupted global server state file '{path}' at line {n}."
            ));
            None
        }
    }
}

/// Loads a backend's own file: the lines that name this backend (by name; by id alone they
/// are reported and skipped, see [`FORCED_ID_BIT`]).
fn load_local(be: &BackendRt, path: &str) -> Option<Lines> {
    let px = &*be.name;
    let lines = match read(path) {
        Ok(lines) => lines,
        Err(Unreadable::Open(e)) => {
            let msg = format!(
                "Proxy '{px}': Can't open server state file '{path}': {}.",
                os_reason(&e)
            );
            if e.kind() == std::io::ErrorKind::NotFound {
                notice(&msg)
            } else {
                warning(&msg)
            }
            return None;
        }
        Err(Unreadable::Empty) => {
            notice(&format!("Proxy '{px}': Empty server state file '{path}'."));
            return None;
        }
        Err(Unreadable::NoVersion) => {
            warning(&format!(
                "Proxy '{px}': Can't get version of the server state file '{path}'."
            ));
            return None;
        }
        Err(Unreadable::Corrupted(n)) => {
            warning(&format!(
                "Proxy '{px}': corrupted server state file '{path}' at line {n}."
            ));
            return None;
        }
    };
    let mut out = Lines::new();
    for fields in lines {
        let same_id = leading_int(&fields[0]).unwrap_or(0) == i64::from(be.id);
        let same_name = fields[1] == px;
        let forced_id = leading_int(&fields[15]).unwrap_or(0) & FORCED_ID_BIT != 0;
        if !same_id && !same_name {
            continue;
        }
        if !same_id {
            warning(&format!(
                "Proxy '{px}': backend ID mismatch: from server state file: '{}', from running config '{}'",
                fields[0], be.id
            ));
        } else if !same_name {
            warning(&format!(
                "Proxy '{px}': backend name mismatch: from server state file: '{}', from running config '{px}'",
                fields[1]
            ));
            if !forced_id {
                continue;
            }
        }
        index(&mut out, px, fields);
    }
    Some(out)
}

/// Restores the saved states of the servers of every backend that loads them.
pub fn apply(shared: &Shared, plan: &Plan) {
    let mut global: Option<Option<Lines>> = None;
    for (b, bp) in plan.backends.iter().enumerate() {
        let Some(be) = shared.backends.get(b) else {
            continue;
        };
        if be.servers.is_empty() {
            continue;
        }
        match &bp.server_state {
            None => {}
            Some(StateSource::Global(None)) => warning(&format!(
                "backend '{}' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!",
                be.name
            )),
            Some(StateSource::Global(Some(path))) => {
                let lines = global.get_or_insert_with(|| load_global(path));
                if let Some(lines) = lines {
                    apply_backend(be, lines);
                }
            }
            Some(StateSource::Local(path)) => {
                if let Some(mut lines) = load_local(be, path) {
                    apply_backend(be, &mut lines);
                    let mut left: Vec<_> = lines.into_keys().collect();
                    left.sort();
                    for (_, server) in left {
                        warning(&format!(
                            "Proxy '{0}': can't find server '{server}' in backend '{0}'",
                            be.name
                        ));
                    }
                }
            }
        }
    }
    // What the servers inherit through `track` follows what was restored.
    let servers = || shared.backends.iter().flat_map(|b| b.servers.iter());
    for s in servers() {
        s.admin
            .fetch_and(!(ADMIN_IMAINT | ADMIN_IDRAIN), Ordering::Relaxed);
    }
    servers().for_each(|s| s.hand_down_admin());
}

/// Applies to each server of `be` its line, taking it out of `lines`.
fn apply_backend(be: &BackendRt, lines: &mut Lines) {
    for srv in &be.servers {
        let key = (be.name.to_string(), srv.name.to_string());
        if let Some(fields) = lines.remove(&key) {
            if let Err(problems) = apply_line(srv, &fields[4..]) {
                warning(&format!(
                    "server-state application failed for server '{}/{}'{problems}",
                    be.name, srv.name
                ));
            }
        }
    }
}

/// A field as an integer when `valid` accepts it; else notes `, invalid <name> value '<text>'`.
fn field(
    state: &[String],
    i: usize,
    name: &str,
    valid: impl Fn(i64) -> bool,
    problems: &mut String,
) -> i64 {
    let text = state.get(i).map_or("", String::as_str);
    match leading_int(text).filter(|&v| valid(v)) {
        Some(v) => v,
        None => {
            problems.push_str(&format!(", invalid {name} value '{text}'"));
            0
        }
    }
}

/// The saved state of one server (the fields after `srv_name`), checked whole before any of
/// it is applied. `Err` lists what is wrong, in HAProxy's words.
fn apply_line(srv: &ServerRt, state: &[String]) -> Result<(), String> {
    let mut problems = String::new();
    let p = &mut problems;
    let op_state = field(state, 1, "srv_op_state", |v| (0..=3).contains(&v), p);
    // Inherited and resolution-driven flags are the new process's own to compute.
    let own = |v: i64| v & !(IDRAIN | IMAINT | HMAINT | RMAINT);
    let admin_ok =
        |v: i64| [0, FMAINT, CMAINT, CMAINT | FMAINT, CMAINT | FDRAIN, FDRAIN].contains(&own(v));
    let admin = own(field(state, 2, "srv_admin_state", admin_ok, p));
    let weight_ok = |v: i64| (0..=256).contains(&v);
    let uweight = field(state, 3, "srv_uweight", weight_ok, p);
    let iweight = field(state, 4, "srv_iweight", weight_ok, p);
    let since_change = field(state, 5, "srv_last_time_change", |_| true, p);
    let check_status = field(
        state,
        6,
        "srv_check_status",
        |v| (0..CHECK_STATUS_COUNT).contains(&v),
        p,
    );
    field(state, 7, "srv_check_result", |v| (0..=4).contains(&v), p);
    let check_health = field(state, 8, "srv_check_health", |_| true, p);
    let bits_ok = |v: i64| v & !CHECK_BITS == 0;
    let check_state = field(state, 9, "srv_check_state", bits_ok, p);
    field(state, 10, "srv_agent_state", bits_ok, p);
    let flag_ok = |v: i64| v == 0 || v == 1;
    field(state, 11, "bk_f_forced_id", flag_ok, p);
    field(state, 12, "srv_f_forced_id", flag_ok, p);
    let fqdn = state[13].as_str();
    if fqdn != "-" && !valid_domain(fqdn) {
        p.push_str(&format!(", invalid srv_fqdn value '{fqdn}'"));
    }
    let port = leading_digits(&state[14]);
    if port.is_none() {
        p.push_str(&format!(", invalid srv_port value '{}'", state[14]));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    restore_operational(srv, op_state, check_health);
    restore_admin(srv, admin, iweight);
    srv.check.last_change.store(
        crate::api::health::unix_now().saturating_sub(since_change.max(0) as u64),
        Ordering::Relaxed,
    );
    srv.check.restore_status(check_status as u8);
    // The one check change carried over: `disable health` given at run time.
    if srv.check.configured
        && check_state & CHECK_CONFIGURED != 0
        && check_state & CHECK_ENABLED == 0
    {
        srv.check.enabled.store(false, Ordering::Relaxed);
    }
    // A weight set at run time outlives the reload only if the configured weight it was set
    // against is still the configured one.
    if iweight == i64::from(srv.weight) {
        srv.uweight.store(uweight as u32, Ordering::Relaxed);
    }
    restore_address(srv, &state[0], port);
    Ok(())
}

/// `strl2uic`: the number the digits at the start make (0 without any); `None` past 65535.
fn leading_digits(text: &str) -> Option<u16> {
    let mut value: u64 = 0;
    for b in text.bytes().take_while(u8::is_ascii_digit) {
        value = value * 10 + u64::from(b - b'0');
        if value > u64::from(u16::MAX) {
            return None;
        }
    }
    u16::try_from(value).ok()
}

/// A name DNS could hold: at most 255 characters of letters, digits, `-`, `_` and `.`.
fn valid_domain(name: &str) -> bool {
    name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The operational state: 0 stopped, 1 starting, 2 running, 3 stopping. A server without
/// checks has no operational state of its own (nothing would ever bring it back up).
fn restore_operational(srv: &ServerRt, op_state: i64, saved_health: i64) {
    let check = &srv.check;
    if !check.configured {
        return;
    }
    let (rise, fall) = (check.rise, check.fall);
    let max = rise + fall - 1;
    let health = u32::try_from(saved_health.max(0)).unwrap_or(u32::MAX);
    let (up, health) = match op_state {
        0 => (false, 0),
        1 if rise == 1 => (true, max),
        1 => (
            true,
            if health < 1 || health >= rise {
                rise - 1
            } else {
                health
            },
        ),
        // With `fall 1` there is no stopping state: the server is down.
        3 if fall == 1 => (false, 0),
        3 => {
            let health = if health < rise || health > rise + fall - 2 {
                rise
            } else {
                health
            };
            srv.set_stopping();
            check.health.store(health, Ordering::Relaxed);
            return;
        }
        _ => (true, max),
    };
    srv.set_up(up);
    check.health.store(health, Ordering::Relaxed);
}

/// Maintenance and drain: a change of `disabled` in the configuration wins; otherwise the
/// saved forced maintenance or readiness stays. A forced drain stays unless it only came from
/// a configured weight of 0 that the configuration has since raised.
fn restore_admin(srv: &ServerRt, saved: i64, saved_iweight: i64) {
    let configured_maint = srv.disabled;
    let set = |maint: bool, drain: bool| {
        let bits = if maint { ADMIN_FMAINT } else { 0 } | if drain { ADMIN_FDRAIN } else { 0 };
        srv.admin.store(bits, Ordering::Relaxed);
    };
    let saved_configured = saved & CMAINT != 0;
    let saved_forced = saved & FMAINT != 0;
    if saved_configured != configured_maint {
        set(configured_maint, false);
    } else if saved_forced && !configured_maint {
        set(true, false);
    } else if !saved_forced && configured_maint {
        set(false, false);
    }
    let maint_now = srv.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0;
    if !maint_now && saved & FDRAIN != 0 && (saved_iweight > 0 || srv.weight == 0) {
        set(false, true);
    }
}

/// The port always comes back; the address only for a server named by a hostname whose
/// `init-addr` tries `last` before anything that found an address.
fn restore_address(srv: &ServerRt, saved_addr: &str, saved_port: Option<u16>) {
    let current = srv.addr();
    let mut ip = current.map(|a| a.ip());
    if let Some(last) = saved_addr
        .parse::<IpAddr>()
        .ok()
        .filter(|_| takes_last(srv))
    {
        ip = Some(last);
    }
    let port = saved_port.or(current.map(|a| a.port())).unwrap_or(0);
    let Some(ip) = ip else { return };
    let addr = SocketAddr::new(ip, port);
    if Some(addr) == current {
        return;
    }
    match &srv.dynamic {
        Some(d) => d.seed(addr),
        None => srv.set_addr(addr),
    }
}

/// Whether `init-addr` (default `last,libc`) takes the saved address: `last` comes before
/// any method that gave the server its address. Servers of SRV records are DNS's alone.
fn takes_last(srv: &ServerRt) -> bool {
    let Some(host) = srv.plan.host.as_deref() else {
        return false;
    };
    if host.starts_with('_') {
        return false;
    }
    let methods = option(&srv.plan.options, "init-addr").unwrap_or("last,libc");
    for method in methods.split(',') {
        match method {
            "last" => return true,
            // `libc` gave the address when there is one; otherwise the next method runs.
            "libc" if srv.addr().is_some() => return false,
            "libc" => {}
            _ => return false,
        }
    }
    false
}

fn option<'a>(options: &'a [String], name: &str) -> Option<&'a str> {
    let i = options.iter().position(|o| o == name)?;
    options.get(i + 1).map(String::as_str)
}

#[cfg(test)]
mod tests;
