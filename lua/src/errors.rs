//! Errors as HAProxy words them. HAProxy's API functions are C functions that raise plain
//! strings with `luaL_error`/`luaL_argerror`: prefixed with where the calling Lua code is
//! (`file:line: `), naming the function as the call site names it (`bad argument #1 to
//! 'msleep' (…)`), and checking their argument counts (`'info' needs 1 arguments`). Ours are
//! Rust functions raising mlua errors; the message handlers here turn those into HAProxy's
//! strings while the failing call is still on the stack, both for the alert logged when a
//! script fails and for what `pcall`/`xpcall` hand a script.

use futures_util::future::Either;
use mlua::{
    FromLuaMulti, Function, IntoLuaMulti, Lua, MultiValue, UserDataMethods, UserDataRef, Value,
};
use std::sync::Arc;

/// Stands for a failure whose error value is not a string (`error({})`): HAProxy then says
/// `unknown runtime error` instead of `runtime error: <message>`.
const UNKNOWN: &str = "\u{0}unknown";

/// Marks the message of an error HAProxy raises with `lua_error` on a string it pushed
/// itself: no `file:line: ` of the caller goes before it ([`unplaced`]).
const UNPLACED: &str = "\u{0}unplaced";

/// An error worded `message` alone, as HAProxy raises those it does not place.
pub fn unplaced(message: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("{UNPLACED}{message}"))
}

/// The error of HAProxy's functions that raise whatever is on top of their stack with
/// `lua_error` (their last argument, else the object): a string or a number is the message,
/// placed nowhere; another value is HAProxy's `unknown runtime error`.
pub fn raised(lua: &Lua, value: &Value) -> mlua::Error {
    match value {
        Value::String(_) | Value::Integer(_) | Value::Number(_) => {
            let text = lua
                .coerce_string(value.clone())
                .ok()
                .flatten()
                .map_or_else(String::new, |s| s.to_string_lossy());
            unplaced(text)
        }
        _ => unplaced(UNKNOWN),
    }
}

/// What the caller gave back: the function's results, or its failure.
pub fn outcome(mut values: MultiValue) -> mlua::Result<MultiValue> {
    match values.pop_front() {
        Some(Value::Boolean(true)) => Ok(values),
        _ => Err(failure(values.pop_front())),
    }
}

/// [`outcome`] for a call whose results nobody reads: `ok` is the caller's first result,
/// `error` its second, the failure's value when `ok` is not `true`.
pub fn ended(ok: Value, error: Value) -> mlua::Result<()> {
    match ok {
        Value::Boolean(true) => Ok(()),
        _ => Err(failure(Some(error))),
    }
}

/// The error of a failed call whose message handler gave `value`.
fn failure(value: Option<Value>) -> mlua::Error {
    let message = match value {
        Some(Value::String(s)) => s.to_string_lossy(),
        Some(Value::Error(e)) => bare(&e),
        Some(other) => format!("{other:?}"),
        None => "unknown runtime error".into(),
    };
    if message == "not enough memory" {
        return mlua::Error::MemoryError(message);
    }
    mlua::Error::RuntimeError(message)
}

/// The message of an error raised by Rust code (the innermost cause).
pub fn bare(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => bare(cause),
        mlua::Error::WithContext { cause, .. } => bare(cause),
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The message HAProxy gives a failed execution (after `<what> '<name>': `).
pub fn describe(state_id: usize, e: &mlua::Error) -> String {
    match e {
        mlua::Error::MemoryError(_) => "out of memory error".to_string(),
        other => {
            let message = bare(other);
            let message = message.trim_start_matches(UNPLACED);
            match message.strip_prefix(UNKNOWN) {
                Some(rest) => format!("[state-id {state_id}] unknown runtime error{rest}"),
                None => format!("[state-id {state_id}] runtime error: {message}"),
            }
        }
    }
}

/// HAProxy's `check_args`: a function that takes exactly `n` arguments (a method's `self`
/// counted) fails with `'<name>' needs <n> arguments` on any other count. `given` is the
/// count mlua passed on (without `self` for a method, so `method` adds it back).
pub fn check_args(given: usize, method: bool, n: usize, name: &str) -> mlua::Result<()> {
    if given + usize::from(method) == n {
        return Ok(());
    }
    Err(mlua::Error::runtime(format!(
        "'{name}' needs {n} arguments"
    )))
}

/// What Lua's argument errors say of an argument the call did not give at all (`got no
/// value`), as against one given as `nil` (`got nil`).
const ABSENT: &str = "no value";

/// Converts `args` as mlua converts a function's typed arguments, numbering them as Lua does
/// (a method's `self` is #1). Unlike mlua, it tells an argument the call left out from an
/// explicit `nil`, as Lua's own checks do.
pub fn convert<A: FromLuaMulti>(lua: &Lua, args: MultiValue, method: bool) -> mlua::Result<A> {
    let first = 1 + usize::from(method);
    let given = args.len();
    A::from_lua_args(args, first, None, lua).map_err(|e| match e {
        mlua::Error::BadArgument {
            to,
            pos,
            name,
            cause,
        } if pos >= first + given => {
            let cause = match cause.as_ref() {
                mlua::Error::FromLuaConversionError {
                    from: "nil",
                    to,
                    message,
                } => Arc::new(mlua::Error::FromLuaConversionError {
                    from: ABSENT,
                    to: to.clone(),
                    message: message.clone(),
                }),
                _ => cause,
            };
            mlua::Error::BadArgument {
                to,
                pos,
                name,
                cause,
            }
        }
        other => other,
    })
}

/// A Rust function whose typed arguments are read by [`convert`] (so that a missing one and
/// a `nil` one fail in Lua's words).
pub fn function<A, R>(
    lua: &Lua,
    f: impl Fn(&Lua, A) -> mlua::Result<R> + Send + 'static,
) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
{
    lua.create_function(move |lua, args: MultiValue| f(lua, convert(lua, args, false)?))
}

/// Adds a method whose typed arguments are read by [`convert`].
pub fn add_method<T, M, A, R>(
    m: &mut M,
    name: impl ToString,
    f: impl Fn(&Lua, &T, A) -> mlua::Result<R> + Send + 'static,
) where
    M: UserDataMethods<T>,
    A: FromLuaMulti,
    R: IntoLuaMulti,
{
    m.add_method(name, move |lua, this, args: MultiValue| {
        f(lua, this, convert(lua, args, true)?)
    })
}

/// [`add_method`] for a method that changes its object.
pub fn add_method_mut<T, M, A, R>(
    m: &mut M,
    name: impl ToString,
    f: impl Fn(&Lua, &mut T, A) -> mlua::Result<R> + Send + 'static,
) where
    M: UserDataMethods<T>,
    A: FromLuaMulti,
    R: IntoLuaMulti,
{
    m.add_method_mut(name, move |lua, this, args: MultiValue| {
        f(lua, this, convert(lua, args, true)?)
    })
}

/// [`add_method`] for a method that may wait: the arguments are read before it starts.
pub fn add_async_method<T, M, A, R, Fut>(
    m: &mut M,
    name: impl ToString,
    f: impl Fn(Lua, UserDataRef<T>, A) -> Fut + Send + 'static,
) where
    T: 'static,
    M: UserDataMethods<T>,
    A: FromLuaMulti,
    R: IntoLuaMulti + Send + 'static,
    Fut: std::future::Future<Output = mlua::Result<R>> + Send + 'static,
{
    m.add_async_method(name, move |lua, this, args: MultiValue| {
        match convert(&lua, args, true) {
            Ok(a) => Either::Left(f(lua, this, a)),
            Err(e) => Either::Right(std::future::ready(Err(e))),
        }
    })
}

/// [`check_args`], then [`convert`].
pub fn exact<A: FromLuaMulti>(
    lua: &Lua,
    args: MultiValue,
    method: bool,
    n: usize,
    name: &str,
) -> mlua::Result<A> {
    check_args(args.len(), method, n, name)?;
    convert(lua, args, method)
}

/// HAProxy's `luaL_argerror`: argument `pos` (a method's `self` is #1) is wrong for `why`.
pub fn arg_error(pos: usize, why: &str) -> mlua::Error {
    mlua::Error::BadArgument {
        to: None,
        pos,
        name: None,
        cause: std::sync::Arc::new(mlua::Error::runtime(why)),
    }
}

/// One level of the stack, as far as messages need it.
struct Frame {
    /// `file:line: ` for Lua code running a line, else empty.
    location: String,
    name: Option<String>,
    name_what: String,
    is_c: bool,
    /// mlua's Lua wrapper around an async Rust function: it stands for that function.
    async_wrapper: bool,
}

fn frame(lua: &Lua, level: usize) -> Option<Frame> {
    let d = lua.inspect_stack(level)?;
    let source = d.source();
    let names = d.names();
    let line = d.curr_line();
    let short = source.short_src.as_deref().unwrap_or("?");
    let is_c = source.what == "C";
    let location = if !is_c && line > 0 {
        format!("{short}:{line}: ")
    } else {
        String::new()
    };
    Some(Frame {
        location,
        name: names.name.map(|n| n.to_string()),
        name_what: names.name_what.unwrap_or_default().to_string(),
        is_c,
        async_wrapper: !is_c && (short == "[string \"?\"]" || short.contains("__mlua_async_poll")),
    })
}

/// The level of the function the script called when a Rust function at `level` failed: the
/// Rust function itself, or mlua's async wrapper when it is the wrapper's poller.
fn called_level(lua: &Lua, level: usize) -> usize {
    match frame(lua, level + 1) {
        Some(f) if f.async_wrapper => level + 1,
        _ => level,
    }
}

/// The Lua type a Rust conversion target stands for.
fn lua_type_name(rust: &str) -> &str {
    match rust {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "f32" | "f64" | "integer" | "number" => "number",
        "String" | "string" | "BString" | "OsString" | "PathBuf" | "Box<str>" | "CString" => {
            "string"
        }
        "bool" | "boolean" => "boolean",
        "Table" | "table" => "table",
        "Function" | "function" => "function",
        other => other,
    }
}

/// The text of a Rust function's error, worded as HAProxy's C function would have raised it,
/// the function named as the call site names it (`name`, `name_what`).
fn text(e: &mlua::Error, name: Option<&str>, name_what: &str) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            text(cause, name, name_what)
        }
        mlua::Error::BadArgument { pos, cause, .. } => {
            let inner = match cause.as_ref() {
                mlua::Error::FromLuaConversionError { from, to, .. } => {
                    format!("{} expected, got {from}", lua_type_name(to))
                }
                other => text(other, None, ""),
            };
            let name = name.unwrap_or("?");
            // mlua counts a method's `self` as #1; Lua counts from the first argument after it.
            match (name_what == "method", pos.saturating_sub(1)) {
                (true, 0) => format!("calling '{name}' on bad self ({inner})"),
                (true, pos) => format!("bad argument #{pos} to '{name}' ({inner})"),
                (false, _) => format!("bad argument #{pos} to '{name}' ({inner})"),
            }
        }
        other => bare(other),
    }
}

/// HAProxy's message for the error value `err` raised in the function at `level` of the
/// stack: a Rust function's error gets `file:line: ` of its Lua caller and Lua's wording;
/// what Lua code raised passes unchanged.
fn message(lua: &Lua, err: &Value, level: usize) -> Option<String> {
    match err {
        Value::Error(e) if bare(e).starts_with(UNPLACED) => {
            Some(bare(e).trim_start_matches(UNPLACED).to_string())
        }
        Value::Error(e) => {
            let called = called_level(lua, level);
            let (name, name_what) = frame(lua, called)
                .map(|f| (f.name, f.name_what))
                .unwrap_or_default();
            let caller = frame(lua, called + 1)
                .map(|c| c.location)
                .unwrap_or_default();
            Some(format!("{caller}{}", text(e, name.as_deref(), &name_what)))
        }
        _ => None,
    }
}

/// Replaces `pcall` and `xpcall` with ones that hand scripts HAProxy's message for errors a
/// Rust function raised ([`message`], worked out while the failing call is on the stack);
/// errors that Lua code raised pass unchanged.
pub fn plain_errors(lua: &Lua) -> mlua::Result<()> {
    // The handler runs at level 0; with `extra` Lua levels between it and the failing
    // function (the `xpcall` wrapper's own handler), the failing one is at 1 + extra.
    let handler = lua.create_function(|lua, (err, extra): (Value, Option<usize>)| {
        let level = 1 + extra.unwrap_or(0);
        Ok(match message(lua, &err, level) {
            Some(m) => Value::String(lua.create_string(m)?),
            None => err,
        })
    })?;
    lua.load(
        "local pcall, xpcall, handler = pcall, xpcall, ...\n\
         _G.pcall = function(f, ...) return xpcall(f, handler, ...) end\n\
         _G.xpcall = function(f, h, ...) return xpcall(f, function(e) return h(handler(e, 1)) end, ...) end",
    )
    .set_name("=hapee")
    .call::<()>(handler)
}

/// Makes the function that runs scripts' functions: `xpcall` with a message handler that
/// words the error as HAProxy does and adds its traceback (` from file:line: in function
/// line N, …`). The call is a tail call, so that nothing of the wrapper shows in the
/// traceback.
pub fn make_caller(lua: &Lua) -> mlua::Result<Function> {
    let handler = lua.create_function(|lua, err: Value| {
        let text = match (&err, message(lua, &err, 1)) {
            (_, Some(m)) => m,
            (Value::String(s), None) => s.to_string_lossy(),
            (Value::Integer(i), None) => i.to_string(),
            (Value::Number(n), None) => n.to_string(),
            _ => UNKNOWN.to_string(),
        };
        Ok(format!("{text} from {}", traceback(lua)))
    })?;
    lua.load("local xpcall, handler = xpcall, ...; return function(f, ...) return xpcall(f, handler, ...) end")
        .set_name("=hapee")
        .call::<Function>(handler)
}

/// Where the running code is, as HAProxy describes it: each level's `file:line: ` and the
/// function's name (or `in function line N` where it was defined), nameless C levels and
/// mlua's async machinery left out.
fn traceback(lua: &Lua) -> String {
    let mut parts = Vec::new();
    // Level 0 is the handler itself; the two bottom levels are `xpcall` and the caller.
    let mut bottom = 1;
    while lua.inspect_stack(bottom).is_some() {
        bottom += 1;
    }
    let mut level = 1;
    while level + 2 < bottom {
        let Some(d) = lua.inspect_stack(level) else {
            break;
        };
        let Some(f) = frame(lua, level) else {
            break;
        };
        level += 1;
        // An async Rust function: the poller (C) under mlua's wrapper, which shows as the
        // C function the script called.
        if f.is_c && frame(lua, level).is_some_and(|w| w.async_wrapper) {
            continue;
        }
        let names = d.names();
        let source = d.source();
        let line = d.curr_line();
        let nameless = names.name_what.is_none_or(str::is_empty) && names.name.is_none();
        if line < 0 && source.what == "C" && nameless {
            continue;
        }
        let (src, line) = if f.async_wrapper {
            ("[C]", -1)
        } else {
            (source.short_src.as_deref().unwrap_or("?"), line)
        };
        let mut part = if line > 0 {
            format!("{src}:{line}: ")
        } else {
            format!("{src}: ")
        };
        match (names.name_what, &names.name) {
            (Some(what), Some(name)) if !what.is_empty() => {
                part.push_str(&format!("in {what} '{name}'"))
            }
            _ if source.what == "main" => part.push_str("main chunk"),
            _ if source.what != "C" && !f.async_wrapper => part.push_str(&format!(
                "in function line {}",
                source.line_defined.unwrap_or(0)
            )),
            _ => part.push('?'),
        }
        parts.push(part);
    }
    parts.join(", ")
}
