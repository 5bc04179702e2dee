//! Sample values to and from Lua values.

use hapee_compiler::bytestr;
use hapee_runtime::sample::Value as Sample;
use mlua::{Lua, Value};

/// A sample as Lua sees it: strings, integers, booleans; addresses as strings.
pub fn to_lua(lua: &Lua, v: &Sample) -> mlua::Result<Value> {
    Ok(match v {
        // The bytes the text carries (hapee_compiler::bytestr): Lua strings are bytes.
        Sample::Str(s) => Value::String(lua.create_string(bytestr::to_bytes(s))?),
        Sample::Int(i) => Value::Integer(*i),
        Sample::Bool(b) => Value::Boolean(*b),
        Sample::Ip(ip) => Value::String(lua.create_string(ip.to_string())?),
        // Lua strings hold any bytes.
        Sample::Bin(b) => Value::String(lua.create_string(b)?),
    })
}

/// A Lua value as a sample, as HAProxy converts it (`hlua_lua2smp`): strings and booleans as
/// they are, numbers as integers (a number with a fraction is none: 0), anything else (`nil`,
/// tables, functions, userdata) as the boolean `false`.
pub fn from_lua(v: &Value) -> Sample {
    match v {
        Value::String(s) => Sample::Str(bytestr::from_bytes(&s.as_bytes()).into_owned()),
        Value::Integer(i) => Sample::Int(*i),
        Value::Number(n) => Sample::Int(float_integer(*n).unwrap_or(0)),
        Value::Boolean(b) => Sample::Bool(*b),
        _ => Sample::Bool(false),
    }
}

/// The integer `n` stands for exactly, as Lua's `lua_tointeger` reads a float.
fn float_integer(n: f64) -> Option<i64> {
    // 2^63 as a float: the first value past i64's range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n)).then_some(n as i64)
}

#[cfg(test)]
mod tests {
    use super::{from_lua, Sample, Value};

    #[test]
    fn lua_values_become_samples_as_in_haproxy() {
        assert_eq!(from_lua(&Value::Integer(7)), Sample::Int(7));
        assert_eq!(from_lua(&Value::Number(3.0)), Sample::Int(3));
        assert_eq!(from_lua(&Value::Number(1.5)), Sample::Int(0));
        assert_eq!(from_lua(&Value::Number(f64::NAN)), Sample::Int(0));
        assert_eq!(from_lua(&Value::Number(1e300)), Sample::Int(0));
        assert_eq!(from_lua(&Value::Boolean(true)), Sample::Bool(true));
        assert_eq!(from_lua(&Value::Nil), Sample::Bool(false));
    }

    /// A string sample's bytes that are not UTF-8 reach Lua as those bytes, and come back.
    #[test]
    fn strings_keep_their_bytes() {
        let lua = mlua::Lua::new();
        let sample = Sample::Str(super::bytestr::from_bytes(b"a\xE0").into_owned());
        let v = super::to_lua(&lua, &sample).expect("a Lua string");
        let bytes = v.as_string().expect("a string").as_bytes();
        assert_eq!(&*bytes, &b"a\xE0"[..]);
        assert_eq!(from_lua(&v), sample);
    }
}
