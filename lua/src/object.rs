//! HAProxy's shape for the objects it hands to scripts: a table holding the object's userdata at
//! `[0]`, its per-object fields set in the table itself, its methods found through a metatable
//! that every object of the class shares (whose `__index` is the methods table). Scripts can then
//! `pairs()` an object, set fields on it, see `type(o) == "table"` and read `getmetatable(o)` as
//! they do with HAProxy, and each field or method read is a plain table read. Methods take such a
//! table as their `self` (the vendored mlua's `table_self`).

use mlua::{AnyUserData, Function, IntoLuaMulti, Lua, Table, Value};
use std::sync::OnceLock;

/// A new object of the class whose shared metatable the registry keeps under `class`, around
/// `ud`. The table starts empty and grows with each field the caller sets, in HAProxy's order:
/// where Lua's hash part puts each key (so the order `pairs()` walks them in) depends on the
/// table's growth as well as on the keys, so an object built as HAProxy builds it walks as it
/// does under the same hash seed (preallocating would place colliding keys otherwise).
pub fn shaped(lua: &Lua, ud: AnyUserData, class: &'static str) -> mlua::Result<Table> {
    let meta = class_metatable(lua, &ud, class)?;
    let object = lua.create_table()?;
    object.set_metatable(Some(meta));
    object.raw_set(0, ud)?;
    Ok(object)
}

/// The metatable the objects of `class` share, made from the first object's userdata: its
/// `__index` (the methods table, or the lazily filled functions of `Fetches`/`Converters`).
fn class_metatable(lua: &Lua, ud: &AnyUserData, class: &'static str) -> mlua::Result<Table> {
    if let Some(meta) = lua.named_registry_value::<Option<Table>>(class)? {
        return Ok(meta);
    }
    let meta = lua.create_table()?;
    meta.raw_set("__index", ud.metatable()?.get::<Value>("__index")?)?;
    lua.set_named_registry_value(class, &meta)?;
    Ok(meta)
}

/// Builds the objects of a class that carry many fields (the applets) with one call of a Lua
/// function: Lua's table constructor sets every field at once, where each field written
/// through mlua costs a round of its stack and reference machinery.
#[derive(Default)]
pub struct Maker(OnceLock<Function>);

impl Maker {
    /// The object of class `class` around `ud`: the Lua function `constructor` (made on first
    /// use, with `setmetatable` and the class's `meta` as upvalues) called with `args`, which
    /// start with `ud`.
    pub fn make(
        &self,
        lua: &Lua,
        class: &'static str,
        constructor: &str,
        ud: &AnyUserData,
        args: impl IntoLuaMulti,
    ) -> mlua::Result<Table> {
        let make = match self.0.get() {
            Some(make) => make,
            None => {
                let meta = class_metatable(lua, ud, class)?;
                let made = lua
                    .load(format!(
                        "local setmetatable, meta = setmetatable, ...\nreturn {constructor}"
                    ))
                    .set_name(format!("={class}"))
                    .call::<Function>(meta)?;
                self.0.get_or_init(|| made)
            }
        };
        make.call(args)
    }
}
