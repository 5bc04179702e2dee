//! Process commands: `show info` (plain, `typed`, `json`), `show version`, `show env`,
//! `show activity`, `show errors`, `show cli level`, `set maxconn global`, `set rate-limit`.

use super::cli::Session;
use super::counters::Counter;
use super::fields::{json_field, typed_line, Spec, Val};
use crate::state::Shared;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The HAProxy release hapee answers as, for tools that read `show info`.
pub const HAPROXY_VERSION: &str = "2.7.0";
pub const RELEASE_DATE: &str = "2022/12/01";

macro_rules! specs {
    ($($name:literal $tags:literal),* $(,)?) => { &[$(Spec { name: $name, tags: $tags }),*] };
}

/// HAProxy 2.7's 72 `show info` fields, in order, with their tags.
pub const INFO: &[Spec] = specs![
    "Name" "POS", "Version" "POS", "Release_date" "POS", "Nbthread" "CGS", "Nbproc" "CGS",
    "Process_num" "KGP", "Pid" "SGP", "Uptime" "MDP", "Uptime_sec" "MDP", "Memmax_MB" "CLP",
    "PoolAlloc_MB" "MGP", "PoolUsed_MB" "MGP", "PoolFailed" "MCP", "Ulimit-n" "CLP",
    "Maxsock" "CLP", "Maxconn" "CLP", "Hard_maxconn" "CLP", "CurrConns" "MGP",
    "CumConns" "MCP", "CumReq" "MCP", "MaxSslConns" "MMP", "CurrSslConns" "MGP",
    "CumSslConns" "MCP", "Maxpipes" "CLP", "PipesUsed" "MGP", "PipesFree" "MGP",
    "ConnRate" "MRP", "ConnRateLimit" "CLP", "MaxConnRate" "MMP", "SessRate" "MRP",
    "SessRateLimit" "CLP", "MaxSessRate" "MRP", "SslRate" "MRP", "SslRateLimit" "CLP",
    "MaxSslRate" "MMP", "SslFrontendKeyRate" "MGP", "SslFrontendMaxKeyRate" "MMP",
    "SslFrontendSessionReuse_pct" "MGP", "SslBackendKeyRate" "MRP",
    "SslBackendMaxKeyRate" "MMP", "SslCacheLookups" "MCP", "SslCacheMisses" "MCP",
    "CompressBpsIn" "MRP", "CompressBpsOut" "MRP", "CompressBpsRateLim" "CLP",
    "ZlibMemUsage" "MGP", "MaxZlibMemUsage" "CLP", "Tasks" "MGP", "Run_queue" "MGP",
    "Idle_pct" "MaP", "node" "COS", "description" "COS", "Stopping" "MGP", "Jobs" "MGP",
    "Unstoppable Jobs" "MGP", "Listeners" "MGP", "ActivePeers" "MGP", "ConnectedPeers" "MGP",
    "DroppedLogs" "MGP", "BusyPolling" "MGP", "FailedResolutions" "MGP",
    "TotalBytesOut" "MGP", "TotalSplicdedBytesOut" "MGP", "BytesOutRate" "MRP",
    "DebugCommandsIssued" "MGP", "CumRecvLogs" "MCP", "Build info" "POS",
    "Memmax_bytes" "CLP", "PoolAlloc_bytes" "MGP", "PoolUsed_bytes" "MGP",
    "Start_time_sec" "MDP", "Tainted" "SGP",
];

fn ulimit_n() -> u64 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(0, |(soft, _)| soft)
}

/// The values of the 72 fields, `Empty` where hapee has nothing to report.
pub fn values(shared: &Shared) -> Vec<Val> {
    let p = &shared.process;
    let up = p.uptime_secs();
    let u = Val::U32;
    let maxconn = p.maxconn.load(Ordering::Relaxed);
    let bytes_out: u64 = shared
        .frontends
        .iter()
        .map(|f| f.counters.get(Counter::BytesOut))
        .sum();
    let (conn_rate, conn_rate_max) = p.conn_rates();
    let (ssl_conns, ssl_rate) = crate::tls::limits::figures();
    let (zlib_used, zlib_max) = crate::http::compress::zlib_memory();
    let listeners = shared.frontends.len() as u64 + p.stats.sockets.len() as u64;
    let active = shared.active.load(Ordering::Relaxed);
    let start = p
        .started
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    vec![
        Val::Str("HAProxy".into()),
        Val::Str(HAPROXY_VERSION.into()),
        Val::Str(RELEASE_DATE.into()),
        u(u64::from(p.nbthread)),
        u(1),
        u(1),
        u(u64::from(std::process::id())),
        Val::Str(format!(
            "{}d {}h{:02}m{:02}s",
            up / 86400,
            up / 3600 % 24,
            up / 60 % 60,
            up % 60
        )),
        u(up),
        u(0),
        u(0),
        u(0),
        u(0),
        u(ulimit_n()),
        u(ulimit_n()),
        u(maxconn),
        u(p.hard_maxconn),
        u(active),
        u(p.counters.get(Counter::Connections)),
        u(crate::txn::streams_started()),
        u(ssl_conns[0]),
        u(ssl_conns[1]),
        u(ssl_conns[2]),
        u(0),
        u(0),
        u(0),
        u(conn_rate),
        u(p.conn_rate_limit.load(Ordering::Relaxed)),
        u(conn_rate_max),
        u(conn_rate),
        u(p.sess_rate_limit.load(Ordering::Relaxed)),
        u(conn_rate_max),
        u(ssl_rate[0]),
        u(ssl_rate[1]),
        u(ssl_rate[2]),
        u(0),
        u(0),
        u(0),
        u(0),
        u(0),
        u(0),
        u(0),
        u(0),
        u(0),
        u(crate::http::compress::rate_limit()),
        u(zlib_used),
        u(zlib_max),
        u(active + listeners),
        u(0),
        u(100),
        Val::Str(p.node.clone()),
        p.description.clone().map_or(Val::Empty, Val::Str),
        u(u64::from(shared.stopping.load(Ordering::Relaxed))),
        u(active + listeners),
        u(0),
        u(listeners),
        u(0),
        u(0),
        u(0),
        u(0),
        u(0),
        Val::U64(bytes_out),
        Val::U64(0),
        Val::U64(0),
        u(0),
        u(0),
        Val::Str(format!("hapee {VERSION}")),
        u(0),
        Val::U64(0),
        Val::U64(0),
        u(start),
        Val::Str("0".into()),
    ]
}

/// `show info [typed|json|desc]`.
pub fn show_info(shared: &Shared, _s: &mut Session, args: &[String]) -> Result<String, String> {
    let vals = values(shared);
    let typed = args.iter().any(|a| a == "typed");
    let json = args.iter().any(|a| a == "json");
    let mut out = String::new();
    let present = INFO
        .iter()
        .zip(&vals)
        .enumerate()
        .filter(|(_, (_, v))| **v != Val::Empty);
    if json {
        let fields: Vec<String> = present
            .map(|(pos, (spec, v))| json_field(None, pos, spec, v))
            .collect();
        out.push('[');
        out.push_str(&fields.join(","));
        out.push_str("]\n");
    } else if typed {
        for (pos, (spec, v)) in present {
            typed_line(&mut out, "", pos, spec, v);
        }
    } else {
        for (_, (spec, v)) in present {
            let _ = writeln!(out, "{}: {}", spec.name, v.text());
        }
    }
    Ok(out)
}

/// The same version as the master's (`@1 show version` and `show version` read alike).
pub fn show_version(_: &Shared, _: &mut Session, _: &[String]) -> Result<String, String> {
    Ok(format!("{}\n", crate::lifecycle::VERSION))
}

/// `show env [name]`: the process environment, or one variable.
pub fn show_env(_: &Shared, _: &mut Session, args: &[String]) -> Result<String, String> {
    match args.get(2) {
        Some(name) => match std::env::var(name) {
            Ok(v) => Ok(format!("{name}={v}\n")),
            Err(_) => Err("Variable not found\n".into()),
        },
        None => Ok(std::env::vars()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect()),
    }
}

/// `show activity`: per-thread figures (hapee keeps per-thread counters, not HAProxy's
/// scheduler statistics; the thread count and date lines are the same).
pub fn show_activity(shared: &Shared, _: &mut Session, _: &[String]) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let p = &shared.process;
    let mut out = format!(
        "thread_id: 0 (1..{})\ndate_now: {}.{:06}\n",
        p.nbthread,
        now.as_secs(),
        now.subsec_micros()
    );
    let up = p.started_at.elapsed();
    let _ = writeln!(
        out,
        "uptime_now: {}.{:06}",
        up.as_secs(),
        up.subsec_micros()
    );
    let _ = writeln!(out, "accepted:{}", per_thread(&shared.loads.accepted()));
    let _ = writeln!(out, "accq_pushed:{}", per_thread(&shared.loads.pushed()));
    Ok(out)
}

/// A per-thread figure as `show activity` prints it: the total, then with several threads
/// each thread's value in brackets (` 7 [ 3 4 ]`).
fn per_thread(values: &[u64]) -> String {
    let total: u64 = values.iter().sum();
    if values.len() < 2 {
        return format!(" {total}");
    }
    let each: String = values.iter().map(|v| format!(" {v}")).collect();
    format!(" {total} [{each} ]")
}

/// `show errors`: hapee keeps no captures of invalid requests yet; the header is HAProxy's.
pub fn show_errors(_: &Shared, _: &mut Session, _: &[String]) -> Result<String, String> {
    let date = chrono::Local::now().format("%d/%b/%Y:%H:%M:%S%.3f");
    Ok(format!("Total events captured on [{date}] : 0\n"))
}

pub fn show_cli_level(_: &Shared, s: &mut Session, _: &[String]) -> Result<String, String> {
    Ok(format!("{}\n", s.level.name()))
}

/// `user` / `operator`: lowers the session's level (never raises it).
pub fn lower_level(_: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    if let Some(l) = hapee_compiler::plan::CliLevel::parse(&args[0]) {
        s.level = s.level.min(l);
    }
    Ok(String::new())
}

/// `set maxconn global <n>`.
pub fn set_maxconn_global(
    shared: &Shared,
    _: &mut Session,
    args: &[String],
) -> Result<String, String> {
    let n = integer(args.get(3))?;
    let hard = shared.process.hard_maxconn;
    if n > hard as i64 {
        return Err("Value out of range.\n".into());
    }
    // 0 or less: back to the process's own limit (none when the configuration set none).
    let (shown, enforced) = match u64::try_from(n) {
        Ok(n) if n > 0 => (n, n),
        _ => (hard, shared.process.configured_maxconn),
    };
    shared.process.maxconn.store(shown, Ordering::Relaxed);
    shared
        .process
        .maxconn_limit
        .store(enforced, Ordering::Relaxed);
    Ok(String::new())
}

/// A value read as HAProxy's CLI reads one with `atoi`: missing is an error, words that are
/// no number read 0.
fn integer(word: Option<&String>) -> Result<i64, String> {
    match word.filter(|w| !w.is_empty()) {
        Some(w) => Ok(i64::from(super::commands::atoi(w))),
        None => Err("Expects an integer value.\n".into()),
    }
}

/// `set rate-limit connections|sessions|ssl-sessions global <n>` (0: no limit).
pub fn set_rate_limit(shared: &Shared, _: &mut Session, args: &[String]) -> Result<String, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = &shared.process;
    enum Slot<'a> {
        Counter(&'a std::sync::atomic::AtomicU64),
        Tls,
        Compression,
    }
    let slot = match words.get(2..4) {
        Some(["connections", "global"]) => Slot::Counter(&p.conn_rate_limit),
        Some(["sessions", "global"]) => Slot::Counter(&p.sess_rate_limit),
        Some(["ssl-sessions", "global"]) => Slot::Tls,
        Some(["http-compression", "global"]) => Slot::Compression,
        _ => {
            return Err("'set rate-limit' only supports :\n   - 'connections global' to set the per-process maximum connection rate\n   - 'sessions global' to set the per-process maximum session rate\n   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n".into())
        }
    };
    let n = integer(args.get(4))?;
    let Ok(n) = u64::try_from(n) else {
        return Err("Value out of range.\n".into());
    };
    match slot {
        Slot::Counter(c) => c.store(n, Ordering::Relaxed),
        Slot::Tls => crate::tls::limits::set_rate_limit(n),
        // Given in kB/s, kept in bytes per second.
        Slot::Compression => crate::http::compress::set_rate_limit(n.saturating_mul(1024)),
    }
    Ok(String::new())
}

/// `set timeout cli <delay>`: this session's idle timeout (seconds unless a unit is given).
pub fn set_timeout(_: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    if args.get(2).map(String::as_str) != Some("cli") {
        return Err("'set timeout' only supports 'cli'.\n".into());
    }
    let delay = args.get(3).map(String::as_str).unwrap_or("");
    match hapee_compiler::ir::values::parse_time(delay, hapee_compiler::ir::values::TimeUnit::S) {
        Ok(d) if d.trailing_junk.is_none() => {
            s.timeout = Some(std::time::Duration::from_secs(u64::from(d.value)));
            Ok(String::new())
        }
        _ => Err("Expects an integer value.\n".into()),
    }
}
