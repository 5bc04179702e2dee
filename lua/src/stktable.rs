//! `StickTable` objects (`core.backends[name].stktable`): a proxy's stick table seen from a
//! script, with HAProxy 2.7's `info()`, `lookup(key)` and `dump([filter])` and the values,
//! types and error strings they give (compared with haproxy 2.7.0 in
//! `tests/runtime/lua_stktable.rs`).

use hapee_compiler::plan::tables::KeyType;
use hapee_runtime::tables::data::{Compare, DataType, Slot};
use hapee_runtime::tables::{key, now_ms, tick, Entry, Table};
use mlua::{Lua, MultiValue, UserData, UserDataMethods, Value};
use std::sync::Arc;

/// At most this many conditions in a `dump` filter (HAProxy's `STKTABLE_FILTER_LEN`).
const FILTER_LEN: usize = 4;

/// The registry name of the class's shared metatable.
const CLASS: &str = "hapee.StickTable";

pub struct StkTable(Arc<Table>);

/// The object scripts get for `table`: a table holding the userdata at `[0]`, as HAProxy's.
pub fn object(lua: &Lua, table: &Arc<Table>) -> mlua::Result<mlua::Table> {
    let ud = lua.create_userdata(StkTable(table.clone()))?;
    crate::object::shaped(lua, ud, CLASS)
}

/// HAProxy's `type` keyword of a table's key.
fn type_word(t: KeyType) -> &'static str {
    match t {
        KeyType::Ip => "ip",
        KeyType::Ipv6 => "ipv6",
        KeyType::Integer => "integer",
        KeyType::String => "string",
        KeyType::Binary => "binary",
    }
}

/// Sets each stored type's value in `out`, by name. An array gives its first element, as
/// HAProxy reads the column's start.
fn entry_values(t: &Table, e: &Entry, now: u64, out: &mlua::Table) -> mlua::Result<()> {
    let slots = e.read();
    let tick = tick(now);
    for c in &t.layout.columns {
        let slot = &slots[c.offset];
        let name = c.data_type.name();
        match (slot.number(c.period, tick), slot) {
            (Some(n), _) => out.raw_set(name, n)?,
            (None, Slot::Dict(d)) => out.raw_set(name, d.as_deref().unwrap_or("-"))?,
            (None, _) => {}
        }
    }
    Ok(())
}

/// One condition of a `dump` filter: the column, the comparison and the value.
struct Condition {
    column: DataType,
    op: Compare,
    value: i64,
}

/// The conditions of `filter`, or HAProxy's message for the first thing wrong with it.
fn parse_filter(t: &Table, filter: &mlua::Table) -> mlua::Result<Result<Vec<Condition>, String>> {
    let mut conditions = Vec::new();
    for pair in filter.pairs::<Value, Value>() {
        let (_, entry) = pair?;
        let n = conditions.len() + 1;
        if conditions.len() >= FILTER_LEN {
            return Ok(Err(format!("Filter table too large (len > {FILTER_LEN})")));
        }
        let triplet = match entry {
            Value::Table(e) if e.raw_len() == 3 => e,
            _ => {
                return Ok(Err(format!(
                "Filter table entry must be a triplet: {{\"data_col\", \"op\", val}} (entry #{n})"
            )))
            }
        };
        let column = match triplet.raw_get::<Value>(1)? {
            Value::String(s) => s,
            _ => {
                return Ok(Err(format!(
                    "Filter table data column must be string (entry #{n})"
                )))
            }
        };
        let Some(column) = std::str::from_utf8(&column.as_bytes())
            .ok()
            .and_then(DataType::from_name)
            .filter(|d| t.layout.column(*d).is_some())
        else {
            return Ok(Err(format!(
                "Filter table data column not present in stick table (entry #{n})"
            )));
        };
        let op = match triplet.raw_get::<Value>(2)? {
            Value::String(s) => Compare::parse(&s.as_bytes()),
            _ => {
                return Ok(Err(format!(
                    "Filter table operator must be string (entry #{n})"
                )))
            }
        };
        let Some(op) = op else {
            return Ok(Err(format!(
                "Unknown operator in filter table (entry #{n})"
            )));
        };
        // Lua's lua_tointeger: a number or numeric string with an integral value, else 0.
        let value = match triplet.raw_get::<Value>(3)? {
            Value::Integer(i) => i,
            Value::Number(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => f as i64,
            Value::String(s) => s
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .unwrap_or(0),
            _ => 0,
        };
        conditions.push(Condition { column, op, value });
    }
    Ok(Ok(conditions))
}

/// Whether `e` meets every condition; a dictionary column is not compared.
fn passes(t: &Table, e: &Entry, conditions: &[Condition], tick: u32) -> bool {
    let slots = e.read();
    conditions.iter().all(|c| {
        let Some(col) = t.layout.column(c.column) else {
            return true;
        };
        match slots[col.offset].number(col.period, tick) {
            Some(v) => c.op.holds(v, c.value),
            None => true,
        }
    })
}

/// An entry's key as `dump` names it. HAProxy pushes an integer key's first byte in memory
/// (the key's low byte on the little-endian machines it runs on), so a script sees 300 as 44;
/// kept so that scripts see what they see there. Binary keys have no name: `None`.
fn dump_key(lua: &Lua, t: &Table, k: &[u8]) -> mlua::Result<Option<Value>> {
    Ok(Some(match t.key_type {
        KeyType::Integer => Value::Integer(k.last().copied().map_or(0, i64::from)),
        KeyType::String => {
            let end = k.iter().position(|b| *b == 0).unwrap_or(k.len());
            Value::String(lua.create_string(&k[..end])?)
        }
        KeyType::Ip | KeyType::Ipv6 => {
            let mut text = String::new();
            key::render(k, t.key_type, &mut text);
            Value::String(lua.create_string(&text)?)
        }
        KeyType::Binary => return Ok(None),
    }))
}

/// `nil, why`: how `dump` fails.
fn failed(lua: &Lua, why: &str) -> mlua::Result<MultiValue> {
    Ok(MultiValue::from_iter([
        Value::Nil,
        Value::String(lua.create_string(why)?),
    ]))
}

impl UserData for StkTable {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("info", |lua, this, ()| {
            let t = &this.0;
            let info = lua.create_table_with_capacity(0, 7)?;
            info.raw_set("type", type_word(t.key_type))?;
            info.raw_set("length", t.key_size)?;
            info.raw_set("size", t.size)?;
            info.raw_set("used", t.used())?;
            info.raw_set("nopurge", t.nopurge)?;
            info.raw_set("expire", t.expire)?;
            let data = lua.create_table()?;
            for c in &t.layout.columns {
                // A rate's period, -1 for the other types.
                let arg = if c.data_type.std_type() == hapee_runtime::tables::data::StdType::Freq {
                    i64::from(c.period)
                } else {
                    -1
                };
                data.raw_set(c.data_type.name(), arg)?;
            }
            info.raw_set("data", data)?;
            Ok(info)
        });
        m.add_method("lookup", |lua, this, k: Value| {
            let t = &this.0;
            let text = match &k {
                Value::String(s) => s.to_string_lossy(),
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return Ok(None),
            };
            let now = now_ms();
            let Some(e) = key::parse(&text, t.key_type, t.key_size).and_then(|k| t.lookup(&k, now))
            else {
                return Ok(None);
            };
            let out = lua.create_table()?;
            out.raw_set("use", e.refs())?;
            out.raw_set("expire", t.remaining(&e, now))?;
            entry_values(t, &e, now, &out)?;
            Ok(Some(out))
        });
        m.add_method("dump", |lua, this, filter: Value| {
            let t = &this.0;
            let conditions = match filter {
                Value::Nil => Vec::new(),
                Value::Table(f) => match parse_filter(t, &f)? {
                    Ok(c) => c,
                    Err(why) => return failed(lua, &why),
                },
                _ => return failed(lua, "filter table expected"),
            };
            let now = now_ms();
            let tick = tick(now);
            let out = lua.create_table()?;
            for e in t.entries() {
                if !passes(t, &e, &conditions, tick) {
                    continue;
                }
                let Some(k) = dump_key(lua, t, &e.key)? else {
                    return failed(lua, "Unsupported stick table key type");
                };
                let values = lua.create_table()?;
                entry_values(t, &e, now, &values)?;
                out.raw_set(k, values)?;
            }
            // One value when it succeeds: `select('#', ...)` tells.
            Ok(MultiValue::from_iter([Value::Table(out)]))
        });
    }
}
