//! HAProxy's global classes scripts construct or receive: `Map`, `Regex`, and the `Proxy` and
//! `Server` objects of `core.proxies`/`core.backends`.

use crate::state::State;
use hapee_runtime::patref::{self, PatRef};
use hapee_runtime::sample::MapMatch;
use hapee_runtime::state::{ServerRt, Shared};
use mlua::{Lua, UserData, UserDataMethods};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Installs `Map` and `Regex`.
pub fn install(state: &State) -> mlua::Result<()> {
    let lua = &state.lua;
    let map = lua.create_table()?;
    for (i, name) in [
        "_str", "_beg", "_end", "_sub", "_dom", "_reg", "_ip", "_int",
    ]
    .iter()
    .enumerate()
    {
        map.set(*name, i)?;
    }
    map.set(
        "new",
        lua.create_function(|_, (file, method): (String, Option<usize>)| {
            let how = [
                MapMatch::Str,
                MapMatch::Beg,
                MapMatch::End,
                MapMatch::Sub,
                MapMatch::Dom,
                MapMatch::Reg,
                MapMatch::Ip,
                MapMatch::Int,
            ]
            .get(method.unwrap_or(0))
            .copied()
            .unwrap_or(MapMatch::Str);
            let file = patref::load(&file, patref::Kind::Map)
                .map_err(|e| mlua::Error::runtime(format!("map file '{file}': {e}")))?;
            Ok(Map { file, how })
        })?,
    )?;
    lua.globals().set("Map", map)?;
    let regex = lua.create_table()?;
    regex.set(
        "new",
        lua.create_function(|_, (pattern, nocase): (String, Option<bool>)| {
            let re = regex::RegexBuilder::new(&pattern)
                .case_insensitive(nocase.unwrap_or(false))
                .build();
            Ok(match re {
                Ok(re) => (Some(Regex(re)), None),
                Err(e) => (None, Some(e.to_string())),
            })
        })?,
    )?;
    lua.globals().set("Regex", regex)?;
    Ok(())
}

struct Map {
    file: Arc<PatRef>,
    how: MapMatch,
}

impl UserData for Map {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("lookup", |_, this, key: String| {
            Ok(hapee_runtime::sample::map_lookup(
                &this.file, this.how, &key,
            ))
        });
        m.add_method("slookup", |_, this, key: String| {
            Ok(hapee_runtime::sample::map_lookup(&this.file, this.how, &key).unwrap_or_default())
        });
    }
}

struct Regex(regex::Regex);

impl UserData for Regex {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("exec", |_, this, s: String| Ok(this.0.is_match(&s)));
        m.add_method("match", |lua, this, s: String| {
            let Some(caps) = this.0.captures(&s) else {
                return Ok((false, None));
            };
            let list = lua.create_table()?;
            for (i, c) in caps.iter().enumerate() {
                list.raw_set(i + 1, c.map_or("", |m| m.as_str()))?;
            }
            Ok((true, Some(list)))
        });
    }
}

/// A proxy object: its name and, for a backend, its servers.
pub fn proxy(
    lua: &Lua,
    shared: &Arc<Shared>,
    name: &str,
    backend: Option<usize>,
) -> mlua::Result<mlua::Table> {
    let p = lua.create_table()?;
    p.set("name", name)?;
    let servers = lua.create_table()?;
    if let Some(b) = backend {
        for s in &shared.backends[b].servers {
            servers.set(&*s.name, Server(s.clone()))?;
        }
    }
    p.set("servers", servers)?;
    let n = name.to_string();
    p.set(
        "get_name",
        lua.create_function(move |_, _: mlua::Value| Ok(n.clone()))?,
    )?;
    Ok(p)
}

struct Server(Arc<ServerRt>);

impl UserData for Server {
    fn add_fields<F: mlua::UserDataFields<Self>>(f: &mut F) {
        f.add_field_method_get("name", |_, this| Ok(this.0.name.to_string()));
    }

    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("get_name", |_, this, ()| Ok(this.0.name.to_string()));
        m.add_method("get_weight", |_, this, ()| Ok(this.0.weight));
        m.add_method("get_addr", |_, this, ()| {
            Ok(this.0.addr().map(|a| a.to_string()))
        });
        m.add_method("is_draining", |_, _, ()| Ok(false));
        m.add_method("get_stats", |lua, this, ()| {
            let t = lua.create_table()?;
            let status = if this.0.disabled {
                "MAINT"
            } else if this.0.up.load(Ordering::Relaxed) {
                "UP"
            } else {
                "DOWN"
            };
            t.set("status", status)?;
            t.set("weight", this.0.weight)?;
            t.set("scur", this.0.active.load(Ordering::Relaxed))?;
            t.set("stot", this.0.total.load(Ordering::Relaxed))?;
            t.set("svname", this.0.name.to_string())?;
            Ok(t)
        });
    }
}
