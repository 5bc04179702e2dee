//! The `core` table scripts see: registration (`core.register_*`), logs, time and waits, the
//! proxies, and HAProxy's helpers (`concat`, `tokenize`, `parse_addr`, `match_addr`).

use crate::errors::exact;
use crate::state::{Action, State};
use hapee_runtime::script::Phase;
use mlua::{Function, Lua, MultiValue, Table, UserData};
use std::sync::Arc;
use std::time::Duration;

/// Syslog levels by the names scripts use (`core.info`…).
const LEVEL_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Installs `core` (and HAProxy's global classes) in the state.
pub fn install(state: &State) -> mlua::Result<()> {
    let lua = &state.lua;
    let core = lua.create_table()?;
    for (i, name) in LEVEL_NAMES.iter().enumerate() {
        core.set(*name, i)?;
    }
    core.set("thread", state.id)?;
    core.set("proxies", lua.create_table()?)?;
    core.set("frontends", lua.create_table()?)?;
    core.set("backends", lua.create_table()?)?;
    register_functions(state, &core)?;
    log_functions(state, &core)?;
    time_functions(lua, &core)?;
    date_functions(lua, &core)?;
    helpers(lua, &core)?;
    core.set("tcp", lua.create_function(crate::socket::new_socket)?)?;
    core.set("httpclient", crate::httpclient::constructor(state)?)?;
    crate::maps::install(lua, &core)?;
    lua.globals().set("core", core)?;
    install_act(lua)?;
    crate::classes::install(state)?;
    Ok(())
}

/// HAProxy's action return codes (`act.CONTINUE`…), in its order.
const ACT_CODES: [&str; 8] = [
    "CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID",
];

/// The global `act`: what an action may return, and `act:wake_time(ms)`.
fn install_act(lua: &Lua) -> mlua::Result<()> {
    let act = lua.create_table()?;
    for (i, name) in ACT_CODES.iter().enumerate() {
        act.set(*name, i)?;
    }
    // Kept for the action running on this thread: it returns `act.YIELD` to be run again
    // then (see `action_end`).
    act.set(
        "wake_time",
        lua.create_function(|lua, args: MultiValue| {
            let ms: i64 = exact(lua, args, false, 1, "wake_time")?;
            // HAProxy reads it as an unsigned count of milliseconds.
            let ms = u64::from(ms as u32);
            WAKE.set(Some(Duration::from_millis(ms)));
            Ok(())
        })?,
    )?;
    lua.globals().set("act", act.clone())?;
    install_filter(lua, &act)
}

/// The global `filter`: what a filter's callbacks return, the configuration flag of filters
/// that handle HTTP, and the functions a running filter calls. hapee does not run script
/// filters yet: outside one (as during loading) the functions do nothing, as in HAProxy.
fn install_filter(lua: &Lua, act: &Table) -> mlua::Result<()> {
    let filter = lua.create_table()?;
    filter.set("CONTINUE", 1)?;
    filter.set("WAIT", 0)?;
    filter.set("ERROR", -1)?;
    filter.set("FLT_CFG_FL_HTX", 1)?;
    filter.set("wake_time", act.get::<Function>("wake_time")?)?;
    for (name, on) in [
        ("register_data_filter", true),
        ("unregister_data_filter", false),
    ] {
        filter.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let (filter, channel): (Table, Table) = exact(lua, args, false, 2, name)?;
                crate::filter::set_data(&filter, &channel, on, name)
            })?,
        )?;
    }
    lua.globals().set("filter", filter)
}

thread_local! {
    /// The wake time the action running on this thread set (`act.wake_time`).
    static WAKE: std::cell::Cell<Option<Duration>> = const { std::cell::Cell::new(None) };
}

/// The wake time the script that just ran set, if any.
pub fn take_wake_time() -> Option<Duration> {
    WAKE.take()
}

/// Forgets a wake time set outside the action about to run.
pub fn clear_wake_time() {
    WAKE.set(None);
}

/// How an action ended by the value it returned, read as HAProxy reads it (an integer, else
/// `act.CONTINUE`). `DONE` ends the rule list as `STOP` does; `YIELD` carries the wake time
/// the action set; codes HAProxy does not define go on with the next rule.
pub fn action_end(code: &mlua::Value) -> hapee_runtime::script::ActionEnd {
    use hapee_runtime::script::ActionEnd;
    let code = match code {
        mlua::Value::Integer(i) => *i,
        mlua::Value::Number(n) if n.fract() == 0.0 => *n as i64,
        mlua::Value::String(s) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        _ => 0,
    };
    match code {
        1 => ActionEnd::Stop,
        4 => ActionEnd::RulesDone,
        2 => ActionEnd::Yield(WAKE.take()),
        3 => ActionEnd::Failed,
        5 => ActionEnd::Deny,
        6 => ActionEnd::Abort,
        7 => ActionEnd::Invalid,
        _ => ActionEnd::Continue,
    }
}

fn register_functions(state: &State, core: &Table) -> mlua::Result<()> {
    let lua = &state.lua;
    let reg = state.registered.clone();
    core.set(
        "register_action",
        crate::errors::function(
            lua,
            move |_, (name, kinds, func, nargs): (String, Table, Function, Option<usize>)| {
                let mut phases = Vec::new();
                for kind in kinds.sequence_values::<String>() {
                    phases.push(match kind?.as_str() {
                        "http-req" => Phase::HttpRequest,
                        "http-res" => Phase::HttpResponse,
                        "tcp-req" => Phase::TcpRequest,
                        "tcp-res" => Phase::TcpResponse,
                        other => {
                            return Err(mlua::Error::runtime(format!(
                                "Lua action '{name}': unknown action type '{other}'"
                            )))
                        }
                    });
                }
                let action = Action {
                    func,
                    phases,
                    nargs: nargs.unwrap_or(0),
                };
                let mut reg = lock(&reg)?;
                let again = reg.actions.get(&name).is_some_and(|same| {
                    same.iter()
                        .any(|a| a.phases.iter().any(|p| action.phases.contains(p)))
                });
                if again {
                    registered_twice("action", &name);
                }
                crate::state::action_registered();
                if !reg.actions.contains_key(&name) {
                    reg.action_order.push(name.clone());
                }
                // A later registration for a phase replaces the earlier one for that phase.
                let same = reg.actions.entry(name).or_default();
                for old in same.iter_mut() {
                    let left: Vec<Phase> = old
                        .phases
                        .iter()
                        .copied()
                        .filter(|p| !action.phases.contains(p))
                        .collect();
                    if left.len() != old.phases.len() {
                        *old = Arc::new(Action {
                            func: old.func.clone(),
                            phases: left,
                            nargs: old.nargs,
                        });
                    }
                }
                same.retain(|a| !a.phases.is_empty());
                same.push(Arc::new(action));
                Ok(())
            },
        )?,
    )?;
    let reg = state.registered.clone();
    core.set(
        "register_fetches",
        crate::errors::function(lua, move |_, (name, func): (String, Function)| {
            if lock(&reg)?.fetches.insert(name.clone(), func).is_some() {
                registered_twice("sample-fetch", &name);
            }
            Ok(())
        })?,
    )?;
    let reg = state.registered.clone();
    core.set(
        "register_converters",
        crate::errors::function(lua, move |_, (name, func): (String, Function)| {
            if lock(&reg)?.converters.insert(name.clone(), func).is_some() {
                registered_twice("converter", &name);
            }
            Ok(())
        })?,
    )?;
    let reg = state.registered.clone();
    core.set(
        "register_service",
        crate::errors::function(
            lua,
            move |_, (name, mode, func): (String, String, Function)| {
                let http = match mode.as_str() {
                    "http" => true,
                    "tcp" => false,
                    other => {
                        return Err(mlua::Error::runtime(format!(
                    "Lua service '{name}': unknown service mode '{other}', expects 'tcp' or 'http'"
                )))
                    }
                };
                if lock(&reg)?
                    .services
                    .insert(name.clone(), (func, http))
                    .is_some()
                {
                    registered_twice("service", &name);
                }
                Ok(())
            },
        )?,
    )?;
    let reg = state.registered.clone();
    core.set(
        "register_filter",
        crate::errors::function(lua, move |lua, args: MultiValue| {
            let (name, class, func): (String, Table, Function) =
                exact(lua, args, false, 3, "register_filter")?;
            if lock(&reg)?
                .filters
                .insert(name.clone(), (class, func))
                .is_some()
            {
                registered_twice("filter", &name);
            }
            Ok(())
        })?,
    )?;
    let reg = state.registered.clone();
    core.set(
        "register_task",
        crate::errors::function(lua, move |_, func: Function| {
            lock(&reg)?.tasks.push(func);
            Ok(())
        })?,
    )?;
    let reg = state.registered.clone();
    core.set(
        "register_init",
        crate::errors::function(lua, move |_, func: Function| {
            lock(&reg)?.inits.push(func);
            Ok(())
        })?,
    )?;
    let reg = state.registered.clone();
    core.set(
        "register_cli",
        crate::errors::function(
            lua,
            move |_, (path, _usage, func): (Table, mlua::String, Function)| {
                let words = path
                    .sequence_values::<String>()
                    .collect::<mlua::Result<Vec<_>>>()?;
                if words.len() > 5 {
                    return Err(crate::errors::arg_error(
                        1,
                        "1st argument must be a table with a maximum of 5 entries",
                    ));
                }
                if words.is_empty() {
                    return Err(mlua::Error::runtime(
                        "'register_cli': the command needs 1 to 5 words",
                    ));
                }
                // The same words again: the later function replaces the earlier.
                let mut reg = lock(&reg)?;
                match reg.cli.iter_mut().find(|c| c.words == words) {
                    Some(same) => {
                        registered_twice("CLI keyword", &words.join(" "));
                        same.func = func;
                    }
                    None => reg.cli.push(crate::cli::Command { words, func }),
                }
                Ok(())
            },
        )?,
    )?;
    Ok(())
}

/// HAProxy's warning for a name a state registers again (the later function is kept).
fn registered_twice(kind: &str, name: &str) {
    eprintln!(
        "[WARNING]  ({}) : config : Trying to register {kind} 'lua.{name}' more than once. This will become a hard error in version 2.5.",
        std::process::id()
    );
}

fn lock<T>(m: &std::sync::Mutex<T>) -> mlua::Result<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| mlua::Error::runtime("registration poisoned"))
}

fn log_functions(state: &State, core: &Table) -> mlua::Result<()> {
    let lua = &state.lua;
    for (name, level) in [("Debug", 7u8), ("Info", 6), ("Warning", 4), ("Alert", 1)] {
        let s = state.clone();
        // HAProxy names them in lower case in its argument check.
        let label = name.to_lowercase();
        core.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let msg: mlua::String = exact(lua, args, false, 1, &label)?;
                s.log(level, &msg.as_bytes(), None);
                Ok(())
            })?,
        )?;
    }
    let s = state.clone();
    core.set(
        "log",
        lua.create_function(move |lua, args: MultiValue| {
            let (level, msg): (i64, mlua::String) = exact(lua, args, false, 2, "log")?;
            let level = log_level(level, 1)?;
            s.log(level, &msg.as_bytes(), None);
            Ok(())
        })?,
    )?;
    Ok(())
}

/// A script's log level (`core.log`, `txn:log`), checked as HAProxy checks it: a wrong one is
/// a bad argument `pos`.
pub fn log_level(level: i64, pos: usize) -> mlua::Result<u8> {
    u8::try_from(level)
        .ok()
        .filter(|l| *l <= 7)
        .ok_or_else(|| crate::errors::arg_error(pos, "Invalid loglevel."))
}

fn time_functions(lua: &Lua, core: &Table) -> mlua::Result<()> {
    core.set(
        "now",
        lua.create_function(|lua, ()| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let t = lua.create_table()?;
            t.set("sec", now.as_secs())?;
            t.set("usec", now.subsec_micros())?;
            Ok(t)
        })?,
    )?;
    core.set(
        "sleep",
        lua.create_async_function(|lua, args: MultiValue| async move {
            let secs: u64 = exact(&lua, args, false, 1, "sleep")?;
            tokio::time::sleep(Duration::from_secs(secs)).await;
            Ok(())
        })?,
    )?;
    core.set(
        "msleep",
        lua.create_async_function(|lua, args: MultiValue| async move {
            let ms: u64 = exact(&lua, args, false, 1, "msleep")?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(())
        })?,
    )?;
    core.set(
        "yield",
        lua.create_async_function(|_, ()| async move {
            crate::state::giving_turn(tokio::task::yield_now()).await;
            Ok(())
        })?,
    )?;
    // `core.done()` ends the running function as if it returned.
    core.set(
        "done",
        lua.create_function(|_, _: MultiValue| -> mlua::Result<()> {
            Err(mlua::Error::runtime(crate::DONE))
        })?,
    )?;
    Ok(())
}

/// Which of HTTP's three date forms a date is written in: IMF-fixdate (`Sun, 06 Nov 1994
/// 08:49:37 GMT`), RFC 850's (`Sunday, 06-Nov-94 …`) or asctime's (`Sun Nov  6 …`).
#[derive(Clone, Copy, PartialEq)]
enum DateForm {
    Imf,
    Rfc850,
    Asctime,
}

fn date_form(date: &str) -> DateForm {
    match date.find(',') {
        Some(3) => DateForm::Imf,
        Some(_) => DateForm::Rfc850,
        None => DateForm::Asctime,
    }
}

/// `core.http_date` (any of the three forms), `core.imf_date`, `core.rfc850_date` and
/// `core.asctime_date` (that form only): the date as seconds since the epoch, `nil` when it is
/// not one. `core.set_nice` is taken and has no effect: hapee's scheduler has no task niceness.
fn date_functions(lua: &Lua, core: &Table) -> mlua::Result<()> {
    for (name, form) in [
        ("http_date", None),
        ("imf_date", Some(DateForm::Imf)),
        ("rfc850_date", Some(DateForm::Rfc850)),
        ("asctime_date", Some(DateForm::Asctime)),
    ] {
        let parse = crate::errors::function(lua, move |_, date: mlua::String| {
            let date = date.to_str()?;
            if form.is_some_and(|f| f != date_form(&date)) {
                return Ok(None);
            }
            let time = httpdate::parse_http_date(&date).ok();
            Ok(time
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64))
        })?;
        core.set(name, parse)?;
    }
    core.set(
        "set_nice",
        lua.create_function(|lua, args: MultiValue| {
            exact::<i64>(lua, args, false, 1, "set_nice").map(drop)
        })?,
    )?;
    Ok(())
}

fn helpers(lua: &Lua, core: &Table) -> mlua::Result<()> {
    core.set(
        "concat",
        lua.create_function(|_, ()| Ok(Concat(Vec::new())))?,
    )?;
    core.set(
        "tokenize",
        crate::errors::function(
            lua,
            |lua, (text, separators, noblank): (mlua::String, mlua::String, Option<bool>)| {
                let seps = separators.as_bytes().to_vec();
                let text = text.as_bytes().to_vec();
                let parts = text
                    .split(|b| seps.contains(b))
                    .filter(|p| !(noblank.unwrap_or(false) && p.is_empty()))
                    .map(|p| lua.create_string(p))
                    .collect::<mlua::Result<Vec<_>>>()?;
                lua.create_sequence_from(parts)
            },
        )?,
    )?;
    core.set(
        "parse_addr",
        crate::errors::function(lua, |_, text: String| Ok(Network::parse(&text)))?,
    )?;
    core.set(
        "match_addr",
        crate::errors::function(
            lua,
            |_, (a, b): (mlua::UserDataRef<Network>, mlua::UserDataRef<Network>)| Ok(a.matches(&b)),
        )?,
    )?;
    core.set(
        "get_info",
        lua.create_function(|lua, ()| {
            let t = lua.create_table()?;
            t.set("Name", "hapee")?;
            t.set("Version", env!("CARGO_PKG_VERSION"))?;
            t.set("Pid", std::process::id())?;
            Ok(t)
        })?,
    )?;
    Ok(())
}

/// `core.concat()`: a string builder.
struct Concat(Vec<u8>);

impl UserData for Concat {
    fn add_methods<M: mlua::UserDataMethods<Self>>(m: &mut M) {
        crate::errors::add_method_mut(m, "add", |_, this, s: mlua::String| {
            this.0.extend_from_slice(&s.as_bytes());
            Ok(())
        });
        m.add_method("dump", |lua, this, ()| lua.create_string(&this.0));
    }
}

/// An address with its mask (`core.parse_addr`), parsed as ACL patterns are.
#[derive(Clone, Copy)]
struct Network(hapee_runtime::acl::Cidr);

impl Network {
    fn parse(text: &str) -> Option<Network> {
        hapee_runtime::acl::Cidr::parse(text).map(Network)
    }

    /// Whether the two networks overlap: the one with the shorter mask holds the other's
    /// address.
    fn matches(&self, other: &Network) -> bool {
        let (wide, narrow) = if self.0.bits <= other.0.bits {
            (&self.0, &other.0)
        } else {
            (&other.0, &self.0)
        };
        wide.addr.is_ipv4() == narrow.addr.is_ipv4() && wide.contains(narrow.addr)
    }
}

impl UserData for Network {}

/// A proxy as declared: (declaration rank, name, frontend index, backend index); a `listen`
/// section is one, with both.
type DeclaredProxy<'a> = (usize, &'a Arc<str>, Option<usize>, Option<usize>);

/// Fills `core.proxies`, `core.frontends` and `core.backends` once the proxy runs; a
/// `listen` section is one proxy, in both lists. Each table gets the proxies in the order
/// they were declared, as HAProxy walks its proxy list to build them: the order keys go in
/// decides where colliding keys land, so `pairs()` then walks them as HAProxy's would under
/// the same hash seed.
pub fn publish_proxies(state: &State) -> mlua::Result<()> {
    use crate::classes::Proxy;
    let Some(shared) = state.shared.get() else {
        return Ok(());
    };
    let lua = &state.lua;
    let core: Table = lua.globals().get("core")?;
    let mut proxies: Vec<DeclaredProxy> = Vec::new();
    for (f, fe) in shared.frontends.iter().enumerate() {
        let own = shared.backends.iter().position(|b| b.decl == fe.decl);
        proxies.push((fe.decl, &fe.name, Some(f), own));
    }
    for (b, be) in shared.backends.iter().enumerate() {
        if !shared.frontends.iter().any(|f| f.decl == be.decl) {
            proxies.push((be.decl, &be.name, None, Some(b)));
        }
    }
    proxies.sort_by_key(|p| p.0);
    // Each list holds objects of its own, as in HAProxy, each list filled in turn.
    for (list, wanted) in [
        ("proxies", (true, true)),
        ("frontends", (true, false)),
        ("backends", (false, true)),
    ] {
        let table: Table = core.get(list)?;
        for &(_, name, f, b) in &proxies {
            if (wanted.0 && f.is_some()) || (wanted.1 && b.is_some()) {
                let p = Proxy::new(shared, name, f, b);
                table.raw_set(&**name, crate::classes::proxy_object(lua, p)?)?;
            }
        }
    }
    Ok(())
}
