//! The transaction's sample objects as scripts see them: `txn.f`/`txn.sf` (HAProxy's fetches)
//! and `txn.c`/`txn.sc` (its converters), each called by its name with `_` for `.`.

use crate::state::State;
use crate::txn::{TxnCell, IDLE_TXNS};
use crate::values::{from_lua, to_lua};
use hapee_runtime::sample::Value as Sample;
use mlua::{Either, Lua, MultiValue, Table, UserData, Value};
use std::sync::{Arc, Mutex};

/// `txn.f` and `txn.sf`: HAProxy's sample fetches, named with `_` for `.` (`req_hdr`).
pub struct Fetches {
    cell: TxnCell,
    /// `sf`: results as strings, `""` when there is none.
    strings: bool,
    /// False for a service's: HAProxy's services may not fetch from the HTTP messages.
    http: bool,
}

impl Fetches {
    /// The fetches of a transaction, `http` when they may read its HTTP messages.
    pub fn of(cell: &TxnCell, strings: bool, http: bool) -> Fetches {
        Fetches {
            cell: cell.clone(),
            strings,
            http,
        }
    }
}

/// The names of a transaction's or an applet's `Fetches` and `Converters` objects, in the
/// order of [`sample_objects`].
pub const SAMPLE_FIELDS: [&str; 4] = ["f", "sf", "c", "sc"];

/// New `f`, `sf`, `c` and `sc` objects reading the transaction lent through `cell` (a
/// service's when not `http`).
pub(crate) fn sample_objects(lua: &Lua, cell: &TxnCell, http: bool) -> mlua::Result<[Table; 4]> {
    let fetches = |strings| {
        let ud = lua.create_userdata(Fetches::of(cell, strings, http))?;
        crate::object::shaped(lua, ud, "hapee.Fetches")
    };
    let converters = |strings| {
        let ud = lua.create_userdata(Converters { strings })?;
        crate::object::shaped(lua, ud, "hapee.Converters")
    };
    Ok([
        fetches(false)?,
        fetches(true)?,
        converters(false)?,
        converters(true)?,
    ])
}

/// The `f`, `sf`, `c` and `sc` objects of an applet with the cell through which they reach its
/// transaction, kept by the state for the next applet once one has ended (as `TXN` objects
/// are), so that an applet does not make eight new objects.
pub struct SampleSet {
    pub cell: TxnCell,
    objects: [Table; 4],
    /// Made on a stream's own slot ([`SampleSet::lend_on`]): not kept for another applet.
    on_slot: bool,
}

impl SampleSet {
    /// A kept set, or a new one; the call's alone until [`SampleSet::give_back`].
    pub fn lend(state: &State) -> mlua::Result<SampleSet> {
        if let Some(set) = state
            .idle_samples
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop())
        {
            return Ok(set);
        }
        SampleSet::on(state, Arc::new(Mutex::new(None)), false)
    }

    /// As [`SampleSet::lend`], or with `slot` a new set reaching the transaction through it
    /// (the stream's own slot, as [`crate::txn::LuaTxn::lend_on`]), not kept after the applet.
    pub fn lend_on(state: &State, slot: Option<TxnCell>) -> mlua::Result<SampleSet> {
        match slot {
            Some(cell) => SampleSet::on(state, cell, true),
            None => SampleSet::lend(state),
        }
    }

    fn on(state: &State, cell: TxnCell, on_slot: bool) -> mlua::Result<SampleSet> {
        let objects = sample_objects(&state.lua, &cell, false)?;
        Ok(SampleSet {
            cell,
            objects,
            on_slot,
        })
    }

    /// Keeps `self`, whose applet has ended and whose transaction was taken back.
    pub fn give_back(self, state: &State) {
        if self.on_slot {
            return;
        }
        if let Ok(mut idle) = state.idle_samples.lock() {
            if idle.len() < IDLE_TXNS {
                idle.push(self);
            }
        }
    }

    /// The `f`, `sf`, `c` and `sc` objects.
    pub fn objects(&self) -> (&Table, &Table, &Table, &Table) {
        let [f, sf, c, sc] = &self.objects;
        (f, sf, c, sc)
    }
}

/// The fetch a script name stands for: `req_hdr` is `req.hdr`.
pub fn fetch_name(lua_name: &str) -> String {
    hapee_runtime::sample::FETCHES
        .iter()
        .find(|f| f.len() == lua_name.len() && f.replace('.', "_") == lua_name)
        .map_or_else(|| lua_name.to_string(), |f| f.to_string())
}

fn string_args(args: &MultiValue) -> impl Iterator<Item = String> + '_ {
    args.iter().map(|v| match v {
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        _ => String::new(),
    })
}

/// Whether `args`, all strings, are `kept`.
fn same_args(kept: &[String], args: &MultiValue) -> bool {
    kept.len() == args.len()
        && kept.iter().zip(args.iter()).all(|(k, a)| match a {
            Value::String(s) => *s.as_bytes() == *k.as_bytes(),
            _ => false,
        })
}

/// The value given back to a script: `nil` (or `""` for string objects) without a sample.
/// Text goes onto Lua's stack as it is (`Left`), without a registry copy of a Lua string.
fn result(lua: &Lua, v: Option<Sample>, strings: bool) -> mlua::Result<Either<String, Value>> {
    Ok(match (v, strings) {
        (Some(Sample::Str(text)), _) => Either::Left(text),
        (Some(v), true) => Either::Left(v.as_text().into_owned()),
        (Some(v), false) => Either::Right(to_lua(lua, &v)?),
        (None, true) => Either::Left(String::new()),
        (None, false) => Either::Right(Value::Nil),
    })
}

/// A table of functions by name, filled on first use by `make(name)`: the `__index` of the
/// `Fetches` and `Converters` objects, so that a script's `txn.sf:req_hdr(...)` finds its
/// function with a plain table read instead of building a closure on every call.
fn lazy_functions(
    lua: &Lua,
    make: impl Fn(&Lua, String) -> mlua::Result<Option<mlua::Function>> + mlua::MaybeSend + 'static,
) -> mlua::Result<mlua::Table> {
    let functions = lua.create_table()?;
    let meta = lua.create_table()?;
    meta.raw_set(
        "__index",
        lua.create_function(move |lua, (t, name): (mlua::Table, mlua::String)| {
            let Some(f) = make(lua, name.to_string_lossy())? else {
                return Ok(None);
            };
            t.raw_set(name, &f)?;
            Ok(Some(f))
        })?,
    )?;
    functions.set_metatable(Some(meta));
    Ok(functions)
}

impl UserData for Fetches {
    fn add_fields<F: mlua::UserDataFields<Self>>(f: &mut F) {
        f.add_meta_field_with("__index", |lua| {
            lazy_functions(lua, |lua, name| {
                // HAProxy's class has its fetches only: another name reads as nil.
                let known = hapee_compiler::registry::FETCHES
                    .iter()
                    .any(|f| f.name.len() == name.len() && f.name.replace('.', "_") == name);
                if !known {
                    return Ok(None);
                }
                // The fetch of each call: its name made once, its arguments those of the call.
                let name = fetch_name(&name);
                let reads_http = hapee_compiler::registry::capabilities::reads_http(&name);
                let table = hapee_runtime::tables::fetch::TableRead::fetch(&name, &[]);
                let fetch = std::cell::RefCell::new(hapee_runtime::sample::Fetch {
                    name,
                    args: Vec::new(),
                    places: u32::MAX,
                    table: table.map(Box::new),
                });
                lua.create_function(
                    move |lua, (this, args): (mlua::UserDataRef<Fetches>, MultiValue)| {
                        if !this.http && reads_http {
                            return Err(crate::errors::unplaced(format!(
                                "the sample-fetch '{}' needs an HTTP parser which is not available in Lua services",
                                fetch.borrow().name
                            )));
                        }
                        let mut fetch = fetch
                            .try_borrow_mut()
                            .map_err(|_| mlua::Error::runtime("fetch called from itself"))?;
                        // A script passes the same arguments call after call: they are read
                        // again only when they changed.
                        if !same_args(&fetch.args, &args) {
                            fetch.args.clear();
                            fetch.args.extend(string_args(&args));
                            // A stick-table fetch (`sc_*`, `src_*`, `table_*`) reads the tables.
                            fetch.table = hapee_runtime::tables::fetch::TableRead::fetch(
                                &fetch.name,
                                &fetch.args,
                            )
                            .map(Box::new);
                        }
                        let v = crate::channel::with_fed(&this.cell, |t| {
                            hapee_runtime::sample::fetch(&fetch, t).pop()
                        })?;
                        result(lua, v, this.strings)
                    },
                )
                .map(Some)
            })
        });
    }
}

/// `txn.c` and `txn.sc`: HAProxy's converters, called with the value first.
pub struct Converters {
    pub strings: bool,
}

impl UserData for Converters {
    fn add_fields<F: mlua::UserDataFields<Self>>(f: &mut F) {
        f.add_meta_field_with("__index", |lua| {
            lazy_functions(lua, |lua, name| {
                lua.create_function(
                    move |lua,
                          (this, value, args): (
                        mlua::UserDataRef<Converters>,
                        Value,
                        MultiValue,
                    )| {
                        let strings = this.strings;
                        let input = from_lua(&value);
                        let out = hapee_runtime::sample::convert_by_name(
                            &name,
                            &string_args(&args).collect::<Vec<_>>(),
                            input,
                        )
                        .map_err(|e| {
                            mlua::Error::runtime(format!("converter '{name}': {}", e.0))
                        })?;
                        result(lua, out, strings)
                    },
                )
                .map(Some)
            })
        });
    }
}
