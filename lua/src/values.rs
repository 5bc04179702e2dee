//! Sample values to and from Lua values.

use hapee_runtime::sample::Value as Sample;
use mlua::{Lua, Value};

/// A sample as Lua sees it: strings, integers, booleans; addresses as strings.
pub fn to_lua(lua: &Lua, v: &Sample) -> mlua::Result<Value> {
    Ok(match v {
        Sample::Str(s) => Value::String(lua.create_string(s)?),
        Sample::Int(i) => Value::Integer(*i),
        Sample::Bool(b) => Value::Boolean(*b),
        Sample::Ip(ip) => Value::String(lua.create_string(ip.to_string())?),
        // Lua strings hold any bytes.
        Sample::Bin(b) => Value::String(lua.create_string(b)?),
    })
}

/// A Lua value as a sample; tables, functions and `nil` have none.
pub fn from_lua(v: &Value) -> Option<Sample> {
    Some(match v {
        Value::String(s) => Sample::Str(s.to_string_lossy()),
        Value::Integer(i) => Sample::Int(*i),
        Value::Number(n) if n.fract() == 0.0 => Sample::Int(*n as i64),
        Value::Number(n) => Sample::Str(n.to_string()),
        Value::Boolean(b) => Sample::Bool(*b),
        _ => return None,
    })
}
