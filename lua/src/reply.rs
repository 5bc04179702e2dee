//! The reply object of `txn:reply()`, as HAProxy makes it: a plain table with the fields
//! `status`, `reason`, `headers` (name to a list of values) and `body`, whose methods
//! (`set_status`, `add_header`, `del_header`, `set_body`) come from a metatable all replies
//! share and only change those fields. Scripts set the fields directly as often as they call
//! the methods, and `txn:done()` takes any table of that form ([`Reply::read`]).

use hapee_runtime::http::reason;
use hapee_runtime::script::ScriptReply;
use mlua::{Lua, Table, Value};

/// Where a state keeps the metatable replies share.
const REPLY_CLASS: &str = "hapee.Reply";

/// A new reply (`txn:reply(init)`): status 200 and its phrase unless `init` gives a number
/// `status`, `init`'s string `body`, and a copy of `init`'s headers, each value a string or a
/// list (whose non-string items are dropped). As in HAProxy, the phrase is always the
/// status's own: `init.reason` is not taken, and a status that is not a number is ignored.
pub fn new(lua: &Lua, init: Option<Table>) -> mlua::Result<Table> {
    let mut status = 200;
    let mut body = None;
    let headers = lua.create_table()?;
    if let Some(init) = &init {
        match init.get::<Value>("status")? {
            Value::Integer(n) => status = n,
            Value::Number(n) => status = integral(n),
            _ => {}
        }
        if let Value::String(b) = init.get::<Value>("body")? {
            body = Some(b);
        }
        if let Value::Table(given) = init.get::<Value>("headers")? {
            for pair in given.pairs::<Value, Value>() {
                let (name, values) = pair?;
                let list = lua.create_table()?;
                match values {
                    Value::String(_) | Value::Integer(_) | Value::Number(_) => {
                        list.raw_set(1, values)?;
                    }
                    Value::Table(values) => {
                        for v in values.pairs::<Value, Value>() {
                            let (_, v) = v?;
                            if is_string(&v) {
                                list.raw_set(list.raw_len() + 1, v)?;
                            }
                        }
                    }
                    _ => continue,
                }
                headers.set(name, list)?;
            }
        }
    }
    // In HAProxy's order (the order `pairs()` walks them in under a given hash seed).
    let reply = lua.create_table()?;
    reply.set_metatable(Some(class(lua)?));
    reply.raw_set("status", status)?;
    reply.raw_set("reason", phrase(status))?;
    reply.raw_set("body", body)?;
    reply.raw_set("headers", headers)?;
    Ok(reply)
}

/// Lua's `lua_isstring`: a string, or a number (which reads as one).
fn is_string(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Integer(_) | Value::Number(_))
}

/// Lua's `lua_tointeger` of a float: its value when it is a whole number in range, else 0.
fn integral(n: f64) -> i64 {
    if n.fract() == 0.0 && n >= i64::MIN as f64 && n < i64::MAX as f64 {
        n as i64
    } else {
        0
    }
}

/// HAProxy's phrase for a status a script gave as a Lua integer.
fn phrase(status: i64) -> &'static str {
    u16::try_from(status).map_or("Other", reason::of)
}

/// The methods' shared metatable, made on first use.
fn class(lua: &Lua) -> mlua::Result<Table> {
    if let Some(meta) = lua.named_registry_value::<Option<Table>>(REPLY_CLASS)? {
        return Ok(meta);
    }
    let methods = lua.create_table()?;
    methods.raw_set("set_status", crate::errors::function(lua, set_status)?)?;
    methods.raw_set(
        "add_header",
        crate::errors::function(lua, |lua, (this, name, value)| {
            add_header(lua, this, name, value)
        })?,
    )?;
    methods.raw_set(
        "del_header",
        crate::errors::function(lua, |_, (this, name): (Value, mlua::String)| {
            let headers = headers(self_table(this)?)?;
            headers.set(name, Value::Nil)?;
            Ok(true)
        })?,
    )?;
    methods.raw_set(
        "set_body",
        crate::errors::function(lua, |_, (this, body): (Value, mlua::String)| {
            self_table(this)?.set("body", body)?;
            Ok(true)
        })?,
    )?;
    let meta = lua.create_table()?;
    meta.raw_set("__index", methods)?;
    lua.set_named_registry_value(REPLY_CLASS, &meta)?;
    Ok(meta)
}

/// `reply:set_status(status[, reason])`: `false` for a status outside 100-599, else the
/// status and its phrase (the one given, else HAProxy's) set and `true`.
fn set_status(_: &Lua, (this, status, given): (Value, i64, Option<String>)) -> mlua::Result<bool> {
    let this = self_table(this)?;
    if !(100..=599).contains(&status) {
        return Ok(false);
    }
    let reason = given.unwrap_or_else(|| phrase(status).to_string());
    this.set("status", status)?;
    this.set("reason", reason)?;
    Ok(true)
}

/// `reply:add_header(name, value)`: `value` appended to the list of `name`'s values.
fn add_header(
    lua: &Lua,
    this: Value,
    name: mlua::String,
    value: mlua::String,
) -> mlua::Result<bool> {
    let headers = headers(self_table(this)?)?;
    let list = match headers.get::<Value>(&name)? {
        Value::Nil => {
            let list = lua.create_table()?;
            headers.set(&name, &list)?;
            list
        }
        Value::Table(list) => list,
        other => {
            return Err(mlua::Error::runtime(format!(
                "Reply['headers']['{}'] is expected to be an array. {} found",
                name.to_string_lossy(),
                lua_type(&other)
            )))
        }
    };
    list.raw_set(list.raw_len() + 1, value)?;
    Ok(true)
}

/// The reply's `headers` table; HAProxy's error (its typo included) when it is not one.
fn headers(this: Table) -> mlua::Result<Table> {
    match this.get::<Value>("headers")? {
        Value::Table(h) => Ok(h),
        other => Err(mlua::Error::runtime(format!(
            "Reply['headers'] is expected to a an array. {} found",
            lua_type(&other)
        ))),
    }
}

/// The methods' `self`, which must be a table (checked after their other arguments, as
/// HAProxy checks it).
fn self_table(this: Value) -> mlua::Result<Table> {
    match this {
        Value::Table(t) => Ok(t),
        other => Err(crate::errors::arg_error(
            1,
            &format!("table expected, got {}", lua_type(&other)),
        )),
    }
}

/// A value's type as Lua names it (`number` for integers too).
fn lua_type(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "number",
        Value::Nil => "nil",
        other => other.type_name(),
    }
}

/// A reply a script ends its transaction with (`txn:done(reply)`), read from a table of the
/// reply's form as HAProxy reads it.
#[derive(Clone, Default)]
pub struct Reply {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    /// The reply `t` describes: a number `status` (else 200), a string `reason` (else the
    /// status's phrase), a string `body` (else none), and from `headers` each name whose value
    /// is a list, with the list's strings. Any `content-length` given is dropped: the body's
    /// length is written, unless a `transfer-encoding` given says chunked.
    pub fn read(t: &Table) -> mlua::Result<Reply> {
        let status = match t.get::<Value>("status")? {
            Value::Integer(n) => n,
            Value::Number(n) => integral(n),
            _ => 200,
        };
        let status = u16::try_from(status).unwrap_or(0);
        let reason = match t.get::<Value>("reason")? {
            Value::String(s) => s.to_string_lossy(),
            _ => reason::of(status).to_string(),
        };
        let body = match t.get::<Value>("body")? {
            Value::String(b) => b.as_bytes().to_vec(),
            _ => Vec::new(),
        };
        let mut headers = Vec::new();
        if let Value::Table(h) = t.get::<Value>("headers")? {
            for pair in h.pairs::<Value, Value>() {
                let (name, values) = pair?;
                let (true, Value::Table(values)) = (is_string(&name), values) else {
                    continue;
                };
                let name = text(&name);
                if name.eq_ignore_ascii_case("content-length") {
                    continue;
                }
                for v in values.pairs::<Value, Value>() {
                    let (_, v) = v?;
                    if is_string(&v) {
                        headers.push((name.clone(), text(&v)));
                    }
                }
            }
        }
        let chunked = headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("transfer-encoding")
                && v.split(',')
                    .any(|c| c.trim().eq_ignore_ascii_case("chunked"))
        });
        if !chunked {
            headers.push(("content-length".into(), body.len().to_string()));
        }
        Ok(Reply {
            status,
            reason,
            headers,
            body,
        })
    }

    pub fn to_reply(&self) -> ScriptReply {
        ScriptReply {
            status: self.status,
            reason: Some(self.reason.clone()),
            headers: self.headers.clone(),
            body: bytes::Bytes::from(self.body.clone()),
            cut: false,
            rest: None,
        }
    }
}

/// A string or number as Lua's `tostring` writes it.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(n) => n.to_string(),
        Value::Number(n) => format!("{n:?}"),
        _ => String::new(),
    }
}
