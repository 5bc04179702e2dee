//! HAProxy's global classes scripts construct or receive: `Map`, `Regex`, and the `Proxy`,
//! `Server` and `Listener` objects of `core.proxies`/`core.backends`.

use crate::state::State;
use hapee_compiler::plan::CliLevel;
use hapee_runtime::api::cli::Session;
use hapee_runtime::api::commands::Handler;
use hapee_runtime::api::fields::Val;
use hapee_runtime::api::{servers, stat};
use hapee_runtime::patref::{self, PatRef};
use hapee_runtime::sample::MapMatch;
use hapee_runtime::state::{ServerRt, Shared, ADMIN_DRAIN};
use mlua::{Lua, MultiValue, UserData, UserDataMethods, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Installs `Map` and `Regex`.
pub fn install(state: &State) -> mlua::Result<()> {
    let lua = &state.lua;
    let map = lua.create_table()?;
    let serving = state.serving.clone();
    // HAProxy's match methods, numbered as it numbers them, each under its name and `_name`.
    for (i, name) in MATCH_METHODS.iter().enumerate() {
        map.set(*name, i)?;
        map.set(format!("_{name}"), i)?;
    }
    map.set(
        "new",
        lua.create_function(move |lua, args: MultiValue| {
            if !(1..=2).contains(&args.len()) {
                return Err(mlua::Error::runtime("'new' needs at least 1 argument."));
            }
            let (file, method): (String, Option<usize>) = crate::errors::convert(lua, args, false)?;
            // As in HAProxy, maps are loaded while starting (top level and init functions).
            if serving.load(Ordering::Relaxed) {
                return Err(mlua::Error::runtime(
                    "'new': map: cannot load map at runtime.",
                ));
            }
            // `found`, `bool`, `bin` and `len` are methods of ACLs that no map converter has:
            // refused here (the README's list of what is left out).
            let how = match method.map(|m| MATCH_METHODS.get(m).copied()) {
                None => MapMatch::Str,
                Some(Some(name)) => MapMatch::parse(name)
                    .ok_or_else(|| mlua::Error::runtime("'new' needs a valid match method."))?,
                Some(None) => {
                    return Err(mlua::Error::runtime("'new' needs a valid match method."))
                }
            };
            let file = patref::load(&file, patref::Kind::Map)
                .map_err(|e| mlua::Error::runtime(format!("map file '{file}': {e}")))?;
            Ok(Map { file, how })
        })?,
    )?;
    lua.globals().set("Map", map)?;
    let regex = lua.create_table()?;
    regex.set(
        "new",
        // `Regex.new(pattern, case_sensitive)`: whether it compiled, then the regex or why not.
        crate::errors::function(lua, |lua, (pattern, cs): (String, Value)| {
            let Value::Boolean(cs) = cs else {
                return Err(crate::errors::arg_error(2, "boolean expected"));
            };
            let re = regex::RegexBuilder::new(&pattern)
                .case_insensitive(!cs)
                .build();
            Ok(match re {
                Ok(re) => {
                    let ud = lua.create_userdata(Regex(re))?;
                    (
                        true,
                        Value::Table(crate::object::shaped(lua, ud, "hapee.Regex")?),
                    )
                }
                Err(e) => (false, Value::String(lua.create_string(e.to_string())?)),
            })
        })?,
    )?;
    lua.globals().set("Regex", regex)?;
    Ok(())
}

/// HAProxy's pattern match methods in its order: `Map.str` (and `Map._str`) is 6.
const MATCH_METHODS: [&str; 14] = [
    "found", "bool", "int", "ip", "bin", "len", "str", "beg", "sub", "dir", "dom", "end", "reg",
    "regm",
];

struct Map {
    file: Arc<PatRef>,
    how: MapMatch,
}

impl UserData for Map {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        crate::errors::add_method(m, "lookup", |_, this, key: String| {
            Ok(hapee_runtime::sample::map_lookup(
                &this.file, this.how, &key,
            ))
        });
        crate::errors::add_method(m, "slookup", |_, this, key: String| {
            Ok(hapee_runtime::sample::map_lookup(&this.file, this.how, &key).unwrap_or_default())
        });
    }
}

struct Regex(regex::Regex);

impl UserData for Regex {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        crate::errors::add_method(m, "exec", |_, this, s: String| Ok(this.0.is_match(&s)));
        crate::errors::add_method(m, "match", |lua, this, s: String| {
            // The captures, the whole match first, in a table that is empty without a match.
            let list = lua.create_table()?;
            let Some(caps) = this.0.captures(&s) else {
                return Ok((false, list));
            };
            // Up to the first group that took no part in the match.
            for (i, c) in caps.iter().map_while(|c| c).enumerate() {
                list.raw_set(i + 1, c.as_str())?;
            }
            Ok((true, list))
        });
    }
}

/// A proxy object (`core.proxies[name]`): a frontend, a backend, or both (a `listen`
/// section, whose capability HAProxy names `proxy`), with its servers.
#[derive(Clone)]
pub struct Proxy {
    shared: Arc<Shared>,
    name: Arc<str>,
    frontend: Option<usize>,
    backend: Option<usize>,
}

impl Proxy {
    pub fn new(
        shared: &Arc<Shared>,
        name: &Arc<str>,
        frontend: Option<usize>,
        backend: Option<usize>,
    ) -> Proxy {
        Proxy {
            shared: shared.clone(),
            name: name.clone(),
            frontend,
            backend,
        }
    }

    fn mode(&self) -> hapee_compiler::ir::Mode {
        match (self.frontend, self.backend) {
            (Some(f), _) => self.shared.frontends[f].mode,
            (None, Some(b)) => self.shared.backends[b].mode,
            (None, None) => hapee_compiler::ir::Mode::Tcp,
        }
    }

    fn id(&self) -> u32 {
        match (self.frontend, self.backend) {
            (Some(f), _) => self.shared.frontends[f].id,
            (None, Some(b)) => self.shared.backends[b].id,
            (None, None) => 0,
        }
    }
}

/// A statistics row as HAProxy gives it to scripts: column name to value, blanks left out.
fn stats_table(lua: &Lua, row: &stat::Row) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    for (spec, v) in stat::COLUMNS.iter().zip(&row.values) {
        match v {
            Val::Empty => {}
            Val::Str(s) => t.set(spec.name, s.as_str())?,
            Val::U32(n) | Val::U64(n) => t.set(spec.name, *n)?,
            Val::S32(n) => t.set(spec.name, *n)?,
        }
    }
    Ok(t)
}

/// A proxy as HAProxy hands it to scripts: a table with the proxy at `[0]` and its `name`,
/// `uuid` (a string), `servers` (by name), `listeners` and, when it declares one, `stktable`
/// set in it, so that `pairs()` and `type()` see what they see with HAProxy; the methods come
/// from the class's shared metatable.
pub fn proxy_object(lua: &Lua, p: Proxy) -> mlua::Result<mlua::Table> {
    let servers = lua.create_table()?;
    if let Some(b) = p.backend {
        for s in &p.shared.backends[b].servers {
            let server = Server::new(&p.shared, b, s);
            let object = crate::object::shaped(lua, lua.create_userdata(server)?, "hapee.Server")?;
            object.raw_set("name", &*s.name)?;
            object.raw_set("puid", s.id.to_string())?;
            servers.raw_set(&*s.name, object)?;
        }
    }
    // Only a table the proxy declares itself (`stick-table`): a peers section's tables are
    // named `<peers>/<table>`, never a proxy's name.
    let stktable = match p.shared.tables.get(&p.name) {
        Some(t) => Some(crate::stktable::object(lua, t)?),
        None => None,
    };
    let listeners = listener_objects(lua, &p)?;
    let name = p.name.to_string();
    let uuid = p.id().to_string();
    let object = crate::object::shaped(lua, lua.create_userdata(p)?, "hapee.Proxy")?;
    object.raw_set("name", name)?;
    object.raw_set("uuid", uuid)?;
    object.raw_set("servers", servers)?;
    object.raw_set("listeners", listeners)?;
    object.raw_set("stktable", stktable)?;
    Ok(object)
}

/// A frontend's listeners as HAProxy lists them for scripts (`proxy.listeners`): each under
/// its `name`, else `sock-<n>`, `n` counting the unnamed ones from 1, except with `option
/// socket-stats`, which names each unnamed one `sock-<id>` as its statistics row does; empty
/// for a backend.
fn listener_objects(lua: &Lua, p: &Proxy) -> mlua::Result<mlua::Table> {
    let list = lua.create_table()?;
    let Some(f) = p.frontend else {
        return Ok(list);
    };
    let fe = &p.shared.frontends[f];
    let mut unnamed = 0;
    for (i, l) in fe.listeners.iter().enumerate() {
        let key = if l.named || fe.socket_stats {
            l.stat_name.clone()
        } else {
            unnamed += 1;
            format!("sock-{unnamed}")
        };
        let ud = lua.create_userdata(Listener {
            shared: p.shared.clone(),
            frontend: f,
            listener: i,
        })?;
        list.raw_set(key, crate::object::shaped(lua, ud, "hapee.Listener")?)?;
    }
    Ok(list)
}

/// A listener object (`proxy.listeners[name]`).
struct Listener {
    shared: Arc<Shared>,
    frontend: usize,
    listener: usize,
}

impl UserData for Listener {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        // Its `option socket-stats` row. A listener of a frontend without the option has no
        // counters of its own: HAProxy then fills nothing and hands back what its buffer
        // last held (the last `get_stats` of the thread), hapee an empty table.
        m.add_method("get_stats", |lua, this, ()| {
            let fe = &this.shared.frontends[this.frontend];
            match fe.listeners.get(this.listener).filter(|_| fe.socket_stats) {
                Some(l) => stats_table(lua, &stat::listener_row(fe, l)),
                None => lua.create_table(),
            }
        });
    }
}

impl UserData for Proxy {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("get_name", |_, this, ()| Ok(this.name.to_string()));
        m.add_method("get_uuid", |_, this, ()| Ok(this.id()));
        m.add_method("get_cap", |_, this, ()| {
            Ok(match (this.frontend, this.backend) {
                (Some(_), Some(_)) => "proxy",
                (Some(_), None) => "frontend",
                _ => "backend",
            })
        });
        m.add_method("get_mode", |_, this, ()| {
            Ok(match this.mode() {
                hapee_compiler::ir::Mode::Http => "http",
                _ => "tcp",
            })
        });
        // Pausing stops the frontend's listeners from accepting, as `disable frontend` does.
        for (name, pause) in [("pause", true), ("resume", false)] {
            m.add_method(name, move |_, this, ()| {
                if let Some(f) = this.frontend {
                    this.shared.frontends[f]
                        .paused
                        .store(pause, Ordering::Relaxed);
                }
                Ok(())
            });
        }
        m.add_method("shut_bcksess", |_, _, ()| Ok(()));
        m.add_method("get_stats", |lua, this, ()| {
            let row = match (this.backend, this.frontend) {
                (Some(b), _) => stat::backend_row(&this.shared.backends[b]),
                (None, Some(f)) => {
                    let rates = this.shared.process.frontend_rates(f);
                    let maxconn = this.shared.process.maxconn.load(Ordering::Relaxed);
                    stat::frontend_row(&this.shared.frontends[f], rates, maxconn)
                }
                (None, None) => return Ok(None),
            };
            stats_table(lua, &row).map(Some)
        });
    }
}

/// A server object: its getters read, and its setters change, the same state the Runtime
/// API's `set server`/`get weight` commands do (they run those commands' handlers).
pub struct Server {
    shared: Arc<Shared>,
    backend: usize,
    server: Arc<ServerRt>,
}

impl Server {
    fn new(shared: &Arc<Shared>, backend: usize, server: &Arc<ServerRt>) -> Server {
        Server {
            shared: shared.clone(),
            backend,
            server: server.clone(),
        }
    }

    /// Runs Runtime API handler `handler` with `words` (`@` standing for `<backend>/<server>`)
    /// at admin level: `nil` when it succeeds silently, else what it said.
    fn command(&self, handler: Handler, words: &[&str]) -> Option<String> {
        let mut session = Session::new(CliLevel::Admin);
        let target = format!(
            "{}/{}",
            self.shared.backends[self.backend].name, self.server.name
        );
        let args: Vec<String> = words
            .iter()
            .map(|w| {
                if *w == "@" {
                    target.clone()
                } else {
                    w.to_string()
                }
            })
            .collect();
        // Scripts get the message without the line end the socket adds.
        match handler(&self.shared, &mut session, &args) {
            Ok(text) if text.is_empty() => None,
            Ok(text) | Err(text) => Some(text.trim_end_matches('\n').to_string()),
        }
    }
}

impl UserData for Server {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("get_name", |_, this, ()| Ok(this.server.name.to_string()));
        m.add_method("get_puid", |_, this, ()| Ok(this.server.id));
        m.add_method("get_weight", |_, this, ()| Ok(this.server.current_weight()));
        m.add_method("get_maxconn", |_, this, ()| {
            Ok(this.server.maxconn.unwrap_or(0))
        });
        m.add_method("get_addr", |_, this, ()| {
            Ok(this
                .server
                .addr()
                .map(|a| format!("{}:{}", a.ip(), a.port())))
        });
        // HAProxy answers 1 or 0.
        m.add_method("is_draining", |_, this, ()| {
            Ok(i64::from(
                this.server.admin.load(Ordering::Relaxed) & ADMIN_DRAIN != 0,
            ))
        });
        m.add_method("get_stats", |lua, this, ()| {
            let be = &this.shared.backends[this.backend];
            stats_table(lua, &stat::server_row(be, &this.server))
        });
        crate::errors::add_method(m, "set_weight", |_, this, weight: String| {
            Ok(this.command(
                servers::set_server,
                &["set", "server", "@", "weight", &weight],
            ))
        });
        crate::errors::add_method(
            m,
            "set_addr",
            |_, this, (addr, port): (String, Option<String>)| {
                let mut words = vec!["set", "server", "@", "addr", &addr];
                if let Some(p) = &port {
                    words.extend(["port", p.as_str()]);
                }
                // HAProxy's answer is nil once the address has changed.
                Ok(this
                    .command(servers::set_server, &words)
                    .filter(|t| !t.starts_with("IP changed")))
            },
        );
        for (name, state) in [
            ("set_maint", "maint"),
            ("set_drain", "drain"),
            ("set_ready", "ready"),
        ] {
            m.add_method(name, move |_, this, ()| {
                this.command(servers::set_server, &["set", "server", "@", "state", state]);
                Ok(())
            });
        }
        // Health checks: turned on and off, or their verdict forced, as the Runtime API's
        // `enable|disable health` and `set server … health` do.
        for (name, words) in [
            ("check_enable", &["enable", "health", "@"][..]),
            ("check_disable", &["disable", "health", "@"][..]),
            (
                "check_force_up",
                &["set", "server", "@", "health", "up"][..],
            ),
            (
                "check_force_nolb",
                &["set", "server", "@", "health", "stopping"][..],
            ),
            (
                "check_force_down",
                &["set", "server", "@", "health", "down"][..],
            ),
        ] {
            let handler: Handler = if words[0] == "set" {
                servers::set_server
            } else {
                servers::toggle_server
            };
            m.add_method(name, move |_, this, ()| {
                this.command(handler, words);
                Ok(())
            });
        }
        // hapee runs no agent checks: there is nothing to change.
        for name in [
            "agent_enable",
            "agent_disable",
            "agent_force_up",
            "agent_force_down",
        ] {
            m.add_method(name, |_, _, ()| Ok(()));
        }
        crate::errors::add_method(m, "set_maxconn", |_, this, maxconn: String| {
            Ok(this.command(
                servers::set_maxconn,
                &["set", "maxconn", "server", "@", &maxconn],
            ))
        });
        // Every session on the server ends at once, as `shutdown sessions server` does.
        m.add_method("shut_sess", |_, this, ()| {
            hapee_runtime::api::sessions::kill_server(
                &this.shared,
                this.backend,
                &this.server.name,
            );
            Ok(())
        });
    }
}
