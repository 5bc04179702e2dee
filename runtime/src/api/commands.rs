//! The table of Runtime API commands: the words that select each, its usage line for `help`,
//! the lowest level allowed to run it at all, and its handler (an empty usage line keeps a
//! command out of `help` and out of the suggestions). Handlers check finer levels
//! themselves (HAProxy answers `Permission denied` from inside some commands).

use super::cli::Session;
use super::{anon, info, maps, servers, sessions, ssl, stat, tls_keys, trace};
use crate::state::Shared;
use hapee_compiler::plan::CliLevel;

pub type Handler = fn(&Shared, &mut Session, &[String]) -> Result<String, String>;

/// A command of a CLI table: the words that select it, its usage column and help text for
/// `help`, the lowest level that may run it, and what runs it. The master CLI's table shares
/// the struct without a handler of its own (`Run = ()`): it answers its commands elsewhere.
pub struct Command<Run = Handler> {
    pub words: &'static [&'static str],
    pub usage: &'static str,
    pub help: &'static str,
    pub level: CliLevel,
    pub run: Run,
}

/// One row of a command table.
pub(crate) const fn cmd<Run>(
    words: &'static [&'static str],
    usage: &'static str,
    help: &'static str,
    level: CliLevel,
    run: Run,
) -> Command<Run> {
    Command {
        words,
        usage,
        help,
        level,
        run,
    }
}

use CliLevel::{Admin, Operator, User};

#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    cmd(
        &["show", "info"],
        "show info [desc|json|typed|float]*",
        "process-wide figures and settings",
        User,
        info::show_info,
    ),
    cmd(
        &["show", "stat"],
        "show stat [desc|json|no-maint|typed|up]*",
        "counters of every proxy and server",
        User,
        show_stat,
    ),
    cmd(
        &["show", "version"],
        "show version",
        "the version this process answers as",
        User,
        info::show_version,
    ),
    cmd(
        &["show", "env"],
        "show env [var]",
        "the process environment, or one variable of it",
        Operator,
        info::show_env,
    ),
    cmd(
        &["show", "activity"],
        "show activity",
        "per-thread activity figures",
        User,
        info::show_activity,
    ),
    cmd(
        &["show", "errors"],
        "show errors [<px>] [request|response]",
        "captured invalid requests and responses",
        Operator,
        info::show_errors,
    ),
    cmd(
        &["show", "cli", "level"],
        "show cli level",
        "this session's access level",
        User,
        info::show_cli_level,
    ),
    cmd(
        &["user"],
        "user",
        "lower this session's level to user",
        User,
        info::lower_level,
    ),
    cmd(
        &["operator"],
        "operator",
        "lower this session's level to operator",
        User,
        info::lower_level,
    ),
    cmd(
        &["show", "backend"],
        "show backend",
        "the backends of the running configuration",
        User,
        servers::show_backend,
    ),
    cmd(
        &["show", "servers", "state"],
        "show servers state [<backend>]",
        "servers' volatile state (all, or one backend's)",
        User,
        servers::show_servers_state,
    ),
    cmd(
        &["show", "servers", "conn"],
        "show servers conn [<backend>]",
        "servers' connection figures (all, or one backend's)",
        User,
        servers::show_servers_conn,
    ),
    cmd(
        &["set", "server"],
        "set server <bk>/<srv> [opts]",
        "change a server's state, weight, address or health",
        User,
        servers::set_server,
    ),
    cmd(
        &["get", "weight"],
        "get weight <bk>/<srv>",
        "a server's weight in force and its configured one",
        User,
        servers::get_weight,
    ),
    cmd(
        &["set", "weight"],
        "set weight <bk>/<srv>  (DEPRECATED)",
        "change a server's weight (prefer 'set server')",
        User,
        servers::set_weight,
    ),
    cmd(
        &["enable", "server"],
        "enable server  (DEPRECATED)",
        "take a server out of maintenance (prefer 'set server')",
        User,
        servers::toggle_server,
    ),
    cmd(
        &["disable", "server"],
        "disable server (DEPRECATED)",
        "put a server into maintenance (prefer 'set server')",
        User,
        servers::toggle_server,
    ),
    cmd(
        &["enable", "health"],
        "enable health",
        "resume a server's health checks",
        User,
        servers::toggle_server,
    ),
    cmd(
        &["disable", "health"],
        "disable health",
        "pause a server's health checks",
        User,
        servers::toggle_server,
    ),
    cmd(
        &["enable", "agent"],
        "enable agent",
        "resume a server's agent checks",
        User,
        servers::toggle_server,
    ),
    cmd(
        &["disable", "agent"],
        "disable agent",
        "pause a server's agent checks",
        User,
        servers::toggle_server,
    ),
    cmd(
        &["enable", "frontend"],
        "enable frontend <frontend>",
        "accept connections on a frontend again",
        User,
        servers::toggle_frontend,
    ),
    cmd(
        &["disable", "frontend"],
        "disable frontend <frontend>",
        "stop accepting connections on a frontend for now",
        User,
        servers::toggle_frontend,
    ),
    cmd(
        &["set", "maxconn", "frontend"],
        "set maxconn frontend <frontend> <value>",
        "change a frontend's maxconn",
        User,
        servers::set_maxconn,
    ),
    cmd(
        &["set", "maxconn", "server"],
        "set maxconn server <bk>/<srv>",
        "change a server's maxconn",
        User,
        servers::set_maxconn,
    ),
    cmd(
        &["set", "maxconn", "global"],
        "set maxconn global <value>",
        "change the process's maxconn",
        Admin,
        info::set_maxconn_global,
    ),
    cmd(
        &["set", "rate-limit"],
        "set rate-limit <setting> <value>",
        "change a process-wide rate limit",
        Admin,
        info::set_rate_limit,
    ),
    cmd(
        &["set", "anon"],
        "set anon [on|off] [key]",
        "anonymize this session's output, or stop",
        User,
        anon::set_anon,
    ),
    cmd(
        &["show", "anon"],
        "show anon",
        "whether this session's output is anonymized",
        User,
        anon::show_anon,
    ),
    cmd(&["show", "sess"], "show sess [id]", "the current sessions, or one of them in detail", Operator, sessions::show),
    cmd(&["shutdown", "sessions", "server"], "shutdown sessions server <bk>/<srv>", "end every session on a server", Admin, sessions::shutdown_server),
    cmd(&["shutdown", "session"], "shutdown session <id>", "end one session", Admin, sessions::shutdown),
    cmd(&["show", "map"], "show map [@ver] [map]", "the maps, or one map's entries", User, maps::show),
    cmd(&["show", "acl"], "show acl [@<ver>] <acl>]", "the ACL pattern files, or one file's patterns", User, maps::show),
    cmd(&["add", "map"], "add map [@<ver>] <map> <key> <val>", "add an entry to a map (or a payload of entries)", User, maps::add),
    cmd(&["add", "acl"], "add acl [@<ver>] <acl> <pattern>", "add a pattern to an ACL file", User, maps::add),
    cmd(&["del", "map"], "del map <map> [<key>|#<ref>]", "remove a map's entries with this key", User, maps::del),
    cmd(&["del", "acl"], "del acl <acl> [<key>|#<ref>]", "remove an ACL file's matching patterns", User, maps::del),
    cmd(&["set", "map"], "set map <map> [<key>|#<ref>] <value>", "change the value of a map entry", User, maps::set),
    cmd(&["prepare", "map"], "prepare map <map>", "start a new version of a map", User, maps::prepare),
    cmd(&["prepare", "acl"], "prepare acl <acl>", "start a new version of an ACL file", User, maps::prepare),
    cmd(&["commit", "map"], "commit map @<ver> <map>", "put a map's version in force", User, maps::commit),
    cmd(&["commit", "acl"], "commit acl @<ver> <acl>", "put an ACL file's version in force", User, maps::commit),
    cmd(&["clear", "map"], "clear map [@<ver>] <map>", "remove every entry of a map", User, maps::clear),
    cmd(&["clear", "acl"], "clear acl [@<ver>] <acl>", "remove every pattern of an ACL file", User, maps::clear),
    cmd(&["set", "timeout"], "set timeout [cli] <delay>", "change this session's idle timeout", User, info::set_timeout),
    cmd(&["show", "table"], "show table [<table> [data.<type> <op> <value>|key <key>]]", "the stick tables, or one table's entries", User, table_command),
    cmd(&["clear", "table"], "clear table <table> [data.<type> <op> <value>|key <key>]", "remove a stick table's entries", Operator, table_command),
    cmd(&["set", "table"], "set table <table> key <key> [data.<type> <value>]*", "change a stick table entry", Operator, table_command),
    cmd(&["show", "cache"], "show cache", "show cache status", Admin, show_cache),
    cmd(&["show", "ssl", "cert"], "show ssl cert [<certfile>]", "the certificate files, or one file's details", Operator, ssl::show),
    cmd(&["new", "ssl", "cert"], "new ssl cert <certfile>", "an empty certificate file for a crt-list to use", Admin, ssl::new),
    cmd(&["set", "ssl", "cert"], "set ssl cert <certfile> <payload>", "replace a certificate file (in a transaction)", Admin, ssl::set),
    cmd(&["commit", "ssl", "cert"], "commit ssl cert <certfile>", "put a certificate file's transaction in force", Admin, ssl::commit),
    cmd(&["abort", "ssl", "cert"], "abort ssl cert <certfile>", "drop a certificate file's transaction", Admin, ssl::abort),
    cmd(&["del", "ssl", "cert"], "del ssl cert <certfile>", "remove a certificate file nothing uses", Admin, ssl::del),
    cmd(&["show", "ssl", "ca-file"], "show ssl ca-file [<cafile>[:<index>]]", "the CA files, or one file's certificates", Operator, ssl::show),
    cmd(&["new", "ssl", "ca-file"], "new ssl ca-file <cafile>", "an empty CA file", Admin, ssl::new),
    cmd(&["set", "ssl", "ca-file"], "set ssl ca-file <cafile> <payload>", "replace a CA file (in a transaction)", Admin, ssl::set),
    cmd(&["add", "ssl", "ca-file"], "add ssl ca-file <cafile> <payload>", "append certificates to a CA file (in a transaction)", Admin, ssl::set),
    cmd(&["commit", "ssl", "ca-file"], "commit ssl ca-file <cafile>", "put a CA file's transaction in force", Admin, ssl::commit),
    cmd(&["abort", "ssl", "ca-file"], "abort ssl ca-file <cafile>", "drop a CA file's transaction", Admin, ssl::abort),
    cmd(&["del", "ssl", "ca-file"], "del ssl ca-file <cafile>", "remove a CA file nothing uses", Admin, ssl::del),
    cmd(&["show", "ssl", "crl-file"], "show ssl crl-file [<crlfile>[:<index>]]", "the CRL files, or one file's lists", Operator, ssl::show),
    cmd(&["new", "ssl", "crl-file"], "new ssl crl-file <crlfile>", "an empty CRL file", Admin, ssl::new),
    cmd(&["set", "ssl", "crl-file"], "set ssl crl-file <crlfile> <payload>", "replace a CRL file (in a transaction)", Admin, ssl::set),
    cmd(&["commit", "ssl", "crl-file"], "commit ssl crl-file <crlfile>", "put a CRL file's transaction in force", Admin, ssl::commit),
    cmd(&["abort", "ssl", "crl-file"], "abort ssl crl-file <crlfile>", "drop a CRL file's transaction", Admin, ssl::abort),
    cmd(&["del", "ssl", "crl-file"], "del ssl crl-file <crlfile>", "remove a CRL file nothing uses", Admin, ssl::del),
    cmd(&["show", "ssl", "crt-list"], "show ssl crt-list [-n] [<list>]", "the crt-lists, or one list's lines", Operator, ssl::show_crt_list),
    cmd(&["add", "ssl", "crt-list"], "add ssl crt-list <list> <cert> [opts]*", "add a line to a crt-list (or a payload line)", Admin, ssl::add_crt_list),
    cmd(&["del", "ssl", "crt-list"], "del ssl crt-list <list> <cert[:line]>", "remove a line from a crt-list", Admin, ssl::del_crt_list),
    // HAProxy 2.7 asks for no level for these two.
    cmd(&["show", "tls-keys"], "show tls-keys [id|*]", "the TLS ticket key files, or their keys", User, tls_keys::show),
    cmd(&["set", "ssl", "tls-key"], "set ssl tls-key [id|file] <key>", "a newest TLS ticket key for a key file", User, tls_keys::set),
    cmd(&["show", "ssl", "ocsp-response"], "show ssl ocsp-response [id]", "the OCSP responses in memory", Operator, ssl::show_ocsp),
    cmd(&["trace"], "trace [<module> [cmd [args...]]]", "show or change the trace sources", Admin, trace_command),
    cmd(&["show", "trace"], "show trace", "the trace sources, their states and sinks", User, show_trace),
    cmd(&["show", "events"], "show events [<sink>] [-w] [-n]", "the event sinks, or a ring's lines", Operator, show_events),
    // Unlisted in `help`, as in HAProxy (an empty usage line).
    cmd(&["expert-mode"], "", "", Admin, super::cli::mode_switch),
    cmd(&["experimental-mode"], "", "", Admin, super::cli::mode_switch),
    cmd(
        &["clear", "counters"],
        "clear counters [all]",
        "reset the peak figures (or every counter)",
        Operator,
        clear_counters,
    ),
];

/// `show|clear|set table …`: the stick tables (`crate::tables::cli`).
fn table_command(shared: &Shared, _: &mut Session, args: &[String]) -> Result<String, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::tables::cli::command(&shared.tables, &words, crate::tables::now_ms())
        .unwrap_or_else(|| Err("Unknown command.\n".into()))
}

/// `show cache`: the HTTP caches and their fresh entries (`crate::http::cache`).
fn show_cache(shared: &Shared, _: &mut Session, _: &[String]) -> Result<String, String> {
    Ok(crate::http::cache::show(&shared.filters.caches))
}

fn show_trace(_: &Shared, _: &mut Session, _: &[String]) -> Result<String, String> {
    Ok(trace::show_trace())
}

/// `trace …`.
fn trace_command(_: &Shared, _: &mut Session, args: &[String]) -> Result<String, String> {
    let words: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    trace::command(&words)
}

/// `show events [<sink>] [-w] [-n]`: `-n` skips the lines already there, `-w` keeps sending
/// new ones until the client sends something.
fn show_events(_: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    let mut sink = None;
    let (mut wait, mut only_new) = (false, false);
    for a in &args[2..] {
        match a.as_str() {
            "-w" => wait = true,
            "-n" => only_new = true,
            "-wn" | "-nw" => (wait, only_new) = (true, true),
            name => sink = Some(name),
        }
    }
    let Some(sink) = sink else {
        return Ok(trace::list_sinks());
    };
    if !trace::is_sink(sink) {
        return Err("No such event sink\n".into());
    }
    let Some(ring) = crate::rings::get(sink) else {
        // The standard streams keep nothing to show.
        return Ok(String::new());
    };
    let (lines, next) = ring.since(if only_new { u64::MAX } else { 0 });
    if wait {
        s.follow_events = Some((sink.to_string(), next));
    }
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

/// `show stat [domain proxy] [<iid|proxy> <type> <sid>] [json|typed|desc|up|no-maint]*`, read
/// as HAProxy reads it: the filter only when three words follow (numbers read as `atoi`
/// does, a proxy by name or number, 0 refused), then the options, other words ignored.
fn show_stat(shared: &Shared, _: &mut Session, args: &[String]) -> Result<String, String> {
    let mut words = &args[2..];
    if words.first().is_some_and(|w| w == "domain") {
        match words.get(1).map(String::as_str) {
            Some("proxy") => words = &words[2..],
            Some("resolvers") => return Ok(super::resolver_stats::render(shared, &words[2..])),
            _ => return Err("Invalid statistics domain.\n".into()),
        }
    }
    let mut form = stat::Form::Csv;
    let mut filter = stat::Filter::default();
    if let [proxy, types, sid, ..] = words {
        let id = shared
            .frontends
            .iter()
            .find(|f| &*f.name == proxy)
            .map(|f| i64::from(f.id))
            .or_else(|| shared.backend_by_name(proxy).map(|b| i64::from(b.id)))
            .unwrap_or_else(|| i64::from(atoi(proxy)));
        if id == 0 {
            return Err("No such proxy.\n".into());
        }
        filter.proxy_id = id;
        filter.types = i64::from(atoi(types));
        filter.server_id = i64::from(atoi(sid));
        words = &words[3..];
    }
    for a in words {
        match a.as_str() {
            "typed" => form = stat::Form::Typed,
            "json" => form = stat::Form::Json,
            "up" => filter.up_only = true,
            "no-maint" => filter.no_maint = true,
            _ => {}
        }
    }
    Ok(stat::render(&stat::rows(shared, &filter), form))
}

/// C's `atoi` as glibc has it: blanks, a sign and the digits that follow, read as `strtol`
/// (held at the `long` range) and cut to an `int`; 0 when there are no digits.
pub fn atoi(word: &str) -> i32 {
    let t = word.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let magnitude = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i128, |n, d| (n * 10 + i128::from(d - b'0')).min(1 << 64));
    let long = if negative { -magnitude } else { magnitude };
    // Truncating to 32 bits is what the C cast from long to int does.
    long.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64 as i32
}

/// `clear counters [all]`: peaks only, or every counter (`all`, admin).
fn clear_counters(shared: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    let all = args.get(2).is_some_and(|a| a == "all");
    if all {
        s.need(Admin)?;
    }
    for fe in &shared.frontends {
        fe.peak_active.reset();
        for l in &fe.listeners {
            l.peak_conns.reset();
        }
        if all {
            fe.counters.clear();
            for l in &fe.listeners {
                l.counters.clear();
            }
        }
    }
    for be in &shared.backends {
        be.peak_active.reset();
        be.queue.reset_peak();
        if all {
            be.counters.clear();
        }
        for srv in &be.servers {
            srv.peak_active.reset();
            srv.queue.reset_peak();
            if all {
                srv.counters.clear();
            }
        }
    }
    shared.process.peak_conns.reset();
    Ok(String::new())
}
