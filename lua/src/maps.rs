//! `core.add_acl`, `core.del_acl`, `core.set_map` and `core.del_map`: scripts change the same
//! runtime ACL and map references as the Runtime API (`add acl`, `set map` …), seen at once by
//! every thread.

use crate::errors::exact;
use hapee_runtime::patref::{self, Kind, PatRef};
use mlua::{Lua, MultiValue, Table};
use std::sync::Arc;

/// The reference loaded from file `name` (an ACL's or a map's: HAProxy looks both up alike).
fn reference(call: &str, what: &str, name: &str) -> mlua::Result<Arc<PatRef>> {
    patref::find(name, Kind::Acl)
        .or_else(|| patref::find(name, Kind::Map))
        .ok_or_else(|| mlua::Error::runtime(format!("'{call}': unknown {what} file '{name}'")))
}

pub fn install(lua: &Lua, core: &Table) -> mlua::Result<()> {
    core.set(
        "add_acl",
        lua.create_function(|lua, args: MultiValue| {
            let (name, key): (String, String) = exact(lua, args, false, 2, "add_acl")?;
            let r = reference("add_acl", "acl", &name)?;
            if !r.entries().iter().any(|e| e.key == key) {
                r.add(&key, "");
            }
            Ok(())
        })?,
    )?;
    core.set(
        "del_acl",
        lua.create_function(|lua, args: MultiValue| {
            let (name, key): (String, String) = exact(lua, args, false, 2, "del_acl")?;
            reference("del_acl", "acl", &name)?.delete(&key);
            Ok(())
        })?,
    )?;
    core.set(
        "del_map",
        lua.create_function(|lua, args: MultiValue| {
            let (name, key): (String, String) = exact(lua, args, false, 2, "del_map")?;
            // HAProxy's message names an acl file here too.
            reference("del_map", "acl", &name)?.delete(&key);
            Ok(())
        })?,
    )?;
    core.set(
        "set_map",
        lua.create_function(|lua, args: MultiValue| {
            let (name, key, value): (String, String, String) =
                exact(lua, args, false, 3, "set_map")?;
            let r = reference("set_map", "map", &name)?;
            if !r.set(&key, &value) {
                r.add(&key, &value);
            }
            Ok(())
        })?,
    )?;
    Ok(())
}
