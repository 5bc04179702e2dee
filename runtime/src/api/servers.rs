//! Server and proxy commands: `show servers state|conn`, `show backend`, `set server`,
//! `get/set weight`, `enable/disable server|health|agent|frontend`, `set maxconn
//! frontend|server`. Every change is an atomic store the workers read on their next decision.

use super::anon::Masker;
use super::cli::Session;
use crate::checks::{force_health, force_state, set_admin, Admin, Health, Reporter};
use crate::state::{
    BackendRt, ServerRt, Shared, ADMIN_FDRAIN, ADMIN_FMAINT, ADMIN_IDRAIN, ADMIN_IMAINT,
    ADMIN_MAINT,
};
use hapee_compiler::plan::CliLevel;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

type Answer = Result<String, String>;

/// Where an administrative change to a server of `backend` is reported.
fn admin_reporter(shared: &Shared, backend: &BackendRt) -> Reporter {
    let index = shared
        .backends
        .iter()
        .position(|b| std::ptr::eq(b, backend))
        .unwrap_or_default();
    Reporter::for_admin(shared, index)
}

/// `<backend>/<server>`, or HAProxy's error.
pub(super) fn find_server<'a>(
    shared: &'a Shared,
    arg: Option<&String>,
) -> Result<(&'a BackendRt, &'a Arc<ServerRt>), String> {
    let Some((b, s)) = arg.and_then(|a| a.split_once('/')) else {
        return Err("Require 'backend/server'.\n".into());
    };
    let be = shared
        .backend_by_name(b)
        .ok_or_else(|| "No such backend.\n".to_string())?;
    let srv = be
        .servers
        .iter()
        .find(|x| &*x.name == s)
        .ok_or_else(|| "No such server.\n".to_string())?;
    Ok((be, srv))
}

/// Parses a weight: `<n>` or `<n>%` of the configured weight, 0 … 256.
fn parse_weight(s: &ServerRt, text: &str) -> Result<u32, String> {
    let (n, relative) = match text.strip_suffix('%') {
        Some(n) => (n, true),
        None => (text, false),
    };
    let n: u32 = n
        .parse()
        .map_err(|_| "Require <weight> or <weight%>.\n".to_string())?;
    let w = if relative { s.weight * n / 100 } else { n };
    if w > 256 {
        return Err("Absolute weight can only be between 0 and 256 inclusive.\n".into());
    }
    Ok(w)
}

/// `set server <b>/<s> state|weight|addr|health|agent …`.
pub fn set_server(shared: &Shared, s: &mut Session, args: &[String]) -> Answer {
    s.need(CliLevel::Admin)?;
    let (be, srv) = find_server(shared, args.get(2))?;
    let word = |i: usize| args.get(i).map(String::as_str);
    match word(3) {
        Some("state") => {
            let wanted = match word(4) {
                Some("ready") => Admin::Ready,
                Some("drain") => Admin::Drain,
                Some("maint") => Admin::Maint,
                _ => {
                    return Err(
                        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n".into(),
                    )
                }
            };
            set_admin(shared, &admin_reporter(shared, be), be, srv, wanted);
            Ok(String::new())
        }
        Some("weight") => {
            let w = parse_weight(srv, word(4).unwrap_or(""))?;
            srv.uweight.store(w, Ordering::Relaxed);
            Ok(String::new())
        }
        Some("addr") => {
            let Some(ip) = word(4).and_then(|a| a.parse::<std::net::IpAddr>().ok()) else {
                return Err("set server <b>/<s> addr requires an address and optionally a port.\n".into());
            };
            let port = match (word(5), word(6)) {
                (Some("port"), Some(p)) => p
                    .parse::<u16>()
                    .map_err(|_| "Invalid port.\n".to_string())?,
                _ => srv.addr().map_or(0, |a| a.port()),
            };
            let old = srv.addr();
            srv.set_addr(SocketAddr::new(ip, port));
            srv.check.changed(srv.stopped());
            let old_text = old.map_or("(none)".into(), |a| a.ip().to_string());
            let old_port = old.map_or(0, |a| a.port());
            let mut msg = format!("IP changed from '{old_text}' to '{ip}'");
            if old_port != port {
                let _ = write!(msg, ", port changed from '{old_port}' to '{port}'");
            }
            msg.push_str(" by 'stats socket command'\n");
            Ok(msg)
        }
        Some("health") => {
            // An unchecked server takes it too, and keeps that state (HAProxy does the same).
            if srv.tracks() {
                return Err("cannot change health on a tracking server.\n".into());
            }
            let wanted = match word(4) {
                Some("up") => Health::Up,
                Some("stopping") => Health::Stopping,
                Some("down") => Health::Down,
                _ => {
                    return Err(
                        "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n".into(),
                    )
                }
            };
            let reporter = admin_reporter(shared, be);
            force_health(shared, &reporter, be, srv, wanted, "changed from CLI");
            Ok(String::new())
        }
        Some("agent") => {
            let check = &srv.check;
            if !(check.agent_configured && check.agent_enabled.load(Ordering::Relaxed)) {
                return Err("agent checks are not enabled on this server.\n".into());
            }
            let (wanted, health) = match word(4) {
                Some("up") => (Health::Up, crate::api::health::AGENT_RISE_FALL),
                Some("down") => (Health::Down, 0),
                _ => return Err("'set server <srv> agent' expects 'up' or 'down'.\n".into()),
            };
            check.agent_health.store(health, Ordering::Relaxed);
            let reporter = admin_reporter(shared, be);
            force_state(shared, &reporter, be, srv, wanted, "changed from CLI");
            Ok(String::new())
        }
        _ => Err("usage: set server <backend>/<server> addr|agent|agent-addr|agent-port|agent-send|check-addr|check-port|fqdn|health|ssl|state|weight\n".into()),
    }
}

/// `get weight <b>/<s>`.
pub fn get_weight(shared: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let (_, srv) = find_server(shared, args.get(2))?;
    Ok(format!(
        "{} (initial {})\n",
        srv.current_weight(),
        srv.weight
    ))
}

/// `set weight <b>/<s> <w>` (the older form of `set server … weight`).
pub fn set_weight(shared: &Shared, s: &mut Session, args: &[String]) -> Answer {
    s.need(CliLevel::Admin)?;
    let (_, srv) = find_server(shared, args.get(2))?;
    let w = parse_weight(srv, args.get(3).map_or("", String::as_str))?;
    srv.uweight.store(w, Ordering::Relaxed);
    Ok(String::new())
}

/// `enable|disable server|health|agent <b>/<s>`.
pub fn toggle_server(shared: &Shared, s: &mut Session, args: &[String]) -> Answer {
    s.need(CliLevel::Admin)?;
    let (be, srv) = find_server(shared, args.get(2))?;
    let on = args[0] == "enable";
    match args[1].as_str() {
        "server" => {
            let wanted = if on { Admin::Ready } else { Admin::Maint };
            set_admin(shared, &admin_reporter(shared, be), be, srv, wanted);
        }
        "health" => {
            if !srv.check.configured {
                return Err(
                    "Health checks are not configured on this server, cannot enable.\n".into(),
                );
            }
            srv.check.enabled.store(on, Ordering::Relaxed)
        }
        _ => {
            if !srv.plan.check_params.agent {
                return Err("Agent was not configured on this server, cannot enable.\n".into());
            }
            srv.check.agent_enabled.store(on, Ordering::Relaxed)
        }
    }
    Ok(String::new())
}

/// `enable|disable frontend <name>`.
pub fn toggle_frontend(shared: &Shared, s: &mut Session, args: &[String]) -> Answer {
    s.need(CliLevel::Admin)?;
    let Some(name) = args.get(2) else {
        return Err("A frontend name is expected.\n".into());
    };
    let Some(fe) = shared.frontend_by_name(name) else {
        return Err("No such frontend.\n".into());
    };
    let pause = args[0] == "disable";
    if fe.paused.swap(pause, Ordering::Relaxed) == pause {
        return Ok(if pause {
            "Frontend is already disabled.\n"
        } else {
            "Frontend is already enabled.\n"
        }
        .into());
    }
    Ok(String::new())
}

/// `set maxconn frontend <name> <n>` and `set maxconn server <b>/<s> <n>`.
pub fn set_maxconn(shared: &Shared, s: &mut Session, args: &[String]) -> Answer {
    s.need(CliLevel::Admin)?;
    let Some(n) = args.get(4).and_then(|v| v.parse::<u64>().ok()) else {
        return Err("Integer value expected.\n".into());
    };
    if args[2] == "frontend" {
        let Some(fe) = shared.frontend_by_name(&args[3]) else {
            return Err("No such frontend.\n".into());
        };
        fe.maxconn.store(n, Ordering::Relaxed);
        return Ok(String::new());
    }
    let (_, srv) = find_server(shared, args.get(3))?;
    let Some(slots) = &srv.slots else {
        return Err("This server has no maxconn set; hapee cannot add one at run time.\n".into());
    };
    let now = srv.maxconn.unwrap_or(0) as usize;
    let wanted = n as usize;
    if wanted > now {
        slots.add_permits(wanted - now);
    } else {
        slots.forget_permits(now - wanted);
    }
    Ok(String::new())
}

/// `show backend`.
pub fn show_backend(shared: &Shared, s: &mut Session, _: &[String]) -> Answer {
    let mut m = Masker::new(s);
    let mut out = String::from("# name\n");
    for be in &shared.backends {
        out.push_str(&m.name(&be.name));
        out.push('\n');
    }
    Ok(out)
}

/// HAProxy's `SRV_ADMF_*` bits of a server: forced maintenance (1), maintenance inherited
/// through `track` (2), disabled in the configuration (4, whether or not enabled since),
/// forced drain (8), drain inherited (0x10).
fn admin_bits(srv: &ServerRt) -> u32 {
    let admin = srv.admin.load(Ordering::Relaxed);
    let flag = |bit: u8, value: u32| if admin & bit != 0 { value } else { 0 };
    flag(ADMIN_FMAINT, 0x01)
        | flag(ADMIN_IMAINT, 0x02)
        | if srv.disabled { 0x04 } else { 0 }
        | flag(ADMIN_FDRAIN, 0x08)
        | flag(ADMIN_IDRAIN, 0x10)
}

fn backends<'a>(shared: &'a Shared, only: Option<&String>) -> Result<Vec<&'a BackendRt>, String> {
    match only {
        Some(name) => shared
            .backend_by_name(name)
            .map(|b| vec![b])
            .ok_or_else(|| format!("Can't find backend '{name}'.\n")),
        None => Ok(shared.backends.iter().collect()),
    }
}

/// `show servers state [<backend>]`, format version 1.
pub fn show_servers_state(shared: &Shared, s: &mut Session, args: &[String]) -> Answer {
    let list = backends(shared, args.get(3))?;
    let mut m = Masker::new(s);
    let mut out = String::from("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n");
    let now = super::health::unix_now();
    for be in list {
        for srv in &be.servers {
            let check = &srv.check;
            // A server in maintenance is stopped.
            let maint = srv.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0;
            let addr = srv.addr();
            // A server that DNS left without an address is in maintenance for that reason
            // (HAProxy's "resolution" maintenance bit, 0x20), with its configured port.
            let no_ip = srv.dynamic.is_some() && addr.is_none();
            let up = srv.up.load(Ordering::Relaxed) && !maint && !no_ip;
            // HAProxy's SRV_ST_*: stopped 0, running 2, stopping 3.
            let op_state = match (up, srv.is_nolb()) {
                (false, _) => 0,
                (true, false) => 2,
                (true, true) => 3,
            };
            let status = check.status();
            let result = match (check.configured, status) {
                (false, _) => 0,
                (_, super::health::CheckStatus::Init) => 0,
                (_, st) if st.passed() => 3,
                _ => 2,
            };
            let fqdn = srv
                .plan
                .host
                .as_deref()
                .map_or("-".to_string(), |h| m.host(h));
            let _ = writeln!(
                out,
                "{} {} {} {} {} {op_state} {} {} {} {} {} {result} {} {} 0 0 0 {fqdn} {} - 0 {} - - 0",
                be.id,
                m.name(&be.name),
                srv.id,
                m.name(&srv.name),
                addr.map_or("-".into(), |a| m.ip(a.ip())),
                admin_bits(srv) | if no_ip { 0x20 } else { 0 },
                srv.current_weight(),
                srv.weight,
                now.saturating_sub(check.last_change.load(Ordering::Relaxed)),
                status as u8,
                // Maintenance pauses the check with no health left, as in HAProxy.
                if maint { 0 } else { check.health.load(Ordering::Relaxed) },
                check.state_bits(maint),
                addr.map_or_else(|| crate::discovery::port_of(&srv.plan), |a| a.port()),
                srv.plan.check_params.port.unwrap_or(0),
            );
        }
    }
    Ok(out)
}

/// `show servers conn [<backend>]`: connections per server, with its idle connections
/// (those not yet proven safe, the safe ones, the limit, all of them, then per thread).
pub fn show_servers_conn(shared: &Shared, s: &mut Session, args: &[String]) -> Answer {
    let list = backends(shared, args.get(3))?;
    let threads = shared.process.nbthread as usize;
    let mut m = Masker::new(s);
    let mut out = format!("# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[{threads}]\n");
    for be in list {
        for srv in &be.servers {
            let addr = srv.addr();
            let (used, used_max, need) = srv.idle.used();
            let (idle, safe) = (srv.idle.idle(), srv.idle.safe());
            let _ = write!(
                out,
                "{}/{} {}/{} {} {} - {} {used} {used_max} {need} {} {safe} {} {idle}",
                m.name(&be.name),
                m.name(&srv.name),
                be.id,
                srv.id,
                addr.map_or("-".into(), |a| m.ip(a.ip())),
                addr.map_or(0, |a| a.port()),
                srv.idle.purge_delay().as_millis(),
                idle.saturating_sub(safe),
                srv.idle.limit(),
            );
            for n in srv.idle.per_thread().take(threads) {
                let _ = write!(out, " {n}");
            }
            out.push('\n');
        }
    }
    Ok(out)
}
