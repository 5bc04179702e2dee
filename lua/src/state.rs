//! One Lua state (the shared one of `lua-load`, or one thread's of `lua-load-per-thread`): what
//! its scripts registered, its limits, and how its functions are run — in a coroutine driven by
//! the worker thread's event loop, yielding every `tune.lua.forced-yield` instructions and
//! stopped once it has run longer than its timeout.

use hapee_runtime::script::Phase;
use hapee_runtime::state::Shared;
use mlua::{Function, HookTriggers, Lua, MultiValue, ThreadStatus, Value, VmState};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The limits of `tune.lua.*`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub forced_yield: u32,
    pub maxmem: usize,
    pub session: Option<Duration>,
    pub task: Option<Duration>,
    pub service: Option<Duration>,
    /// Script logs also go to stderr.
    pub log_stderr: bool,
    /// Script logs go to the proxy's (or the global) loggers.
    pub log_loggers: bool,
}

/// A registered action.
pub struct Action {
    pub func: Function,
    pub phases: Vec<Phase>,
    /// Arguments the rule must give (`nb_args`).
    pub nargs: usize,
}

/// What a state's scripts registered with `core.register_*`.
#[derive(Default)]
pub struct Registered {
    /// Actions by name: one name may carry different functions for different phases (a
    /// script registers `cors` once for `http-req` and once for `http-res`).
    pub actions: HashMap<String, Vec<Arc<Action>>>,
    /// Action names in registration order (HAProxy lists them so).
    pub action_order: Vec<String>,
    pub fetches: HashMap<String, Function>,
    pub converters: HashMap<String, Function>,
    /// Services, and whether each is an HTTP one (else TCP).
    pub services: HashMap<String, (Function, bool)>,
    pub tasks: Vec<Function>,
    pub inits: Vec<Function>,
    /// Runtime API commands (`core.register_cli`).
    pub cli: Vec<crate::cli::Command>,
}

/// A Lua state with what belongs to it. Cloning shares it.
#[derive(Clone)]
pub struct State {
    pub lua: Lua,
    /// HAProxy's state id: 0 for the shared state, the thread number (from 1) for the others.
    pub id: usize,
    pub registered: Arc<Mutex<Registered>>,
    pub limits: Arc<Limits>,
    /// The runtime's shared state, known once the proxy starts.
    pub shared: Arc<OnceLock<Arc<Shared>>>,
    /// The global loggers (`log` lines of the global section).
    pub loggers: Arc<Vec<Arc<hapee_runtime::log::Sink>>>,
    /// Calls a function under `xpcall` with [`traceback`] as the message handler.
    pub caller: Function,
}

/// What the caller gave back: the function's results, or its failure.
fn outcome(mut values: MultiValue) -> mlua::Result<MultiValue> {
    match values.pop_front() {
        Some(Value::Boolean(true)) => Ok(values),
        _ => {
            let message = match values.pop_front() {
                Some(Value::String(s)) => s.to_string_lossy(),
                Some(Value::Error(e)) => bare(&e),
                Some(other) => format!("{other:?}"),
                None => "unknown runtime error".into(),
            };
            if message == "not enough memory" {
                return Err(mlua::Error::MemoryError(message));
            }
            Err(mlua::Error::RuntimeError(message))
        }
    }
}

/// The message of an error raised by Rust code (the innermost cause).
fn bare(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => bare(cause),
        mlua::Error::WithContext { cause, .. } => bare(cause),
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// What a script sees of an error that a Rust function raised: HAProxy's functions raise plain
/// strings, where mlua raises a userdata whose text carries its own traceback. Lua's own
/// wording for a bad argument (`bad argument #1 to '?' (number expected, got string)`).
fn script_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            script_message(cause)
        }
        mlua::Error::BadArgument { to, pos, cause, .. } => {
            let inner = match cause.as_ref() {
                mlua::Error::FromLuaConversionError { from, to, .. } => {
                    let expected = lua_type_name(to);
                    let got = if *from == "nil" { "no value" } else { from };
                    format!("{expected} expected, got {got}")
                }
                other => script_message(other),
            };
            // A method's arguments are counted after `self`, and Lua names the method.
            match to.as_deref().and_then(|t| t.rsplit_once('.')) {
                Some((_, method)) => {
                    format!(
                        "bad argument #{} to '{method}' ({inner})",
                        pos.saturating_sub(1)
                    )
                }
                None => format!("bad argument #{pos} to '?' ({inner})"),
            }
        }
        other => bare(other),
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

/// Replaces `pcall` and `xpcall` with ones that hand scripts the plain message of an error a
/// Rust function raised ([`script_message`]), as HAProxy's C functions raise it; errors that
/// Lua code raised pass unchanged.
pub fn plain_errors(lua: &Lua) -> mlua::Result<()> {
    let message = lua.create_function(|lua, err: Value| match err {
        Value::Error(e) => Ok(Value::String(lua.create_string(script_message(&e))?)),
        other => Ok(other),
    })?;
    lua.load(
        "local pcall, xpcall, message = pcall, xpcall, ...\n\
         local function fix(ok, ...)\n\
           if ok then return ok, ... end\n\
           return false, message((...))\n\
         end\n\
         _G.pcall = function(f, ...) return fix(pcall(f, ...)) end\n\
         _G.xpcall = function(f, h, ...) return xpcall(f, function(e) return h(message(e)) end, ...) end",
    )
    .set_name("=hapee")
    .call::<()>(message)
}

/// Makes the function that runs scripts' functions: `xpcall` with a message handler that
/// adds HAProxy's traceback to the error (` from file:line: in function line N, …`). The call
/// is a tail call, so that nothing of the wrapper shows in the traceback.
pub fn make_caller(lua: &Lua) -> mlua::Result<Function> {
    let handler = lua.create_function(|lua, err: Value| {
        let message = match &err {
            Value::String(s) => s.to_string_lossy(),
            Value::Error(e) => bare(e),
            Value::Nil => "nil".into(),
            other => other.to_string().unwrap_or_default(),
        };
        Ok(format!("{message} from {}", traceback(lua)))
    })?;
    lua.load("local xpcall, handler = xpcall, ...; return function(f, ...) return xpcall(f, handler, ...) end")
        .set_name("=hapee")
        .call::<Function>(handler)
}

/// Where the running code is, as HAProxy describes it: each level's `file:line: ` and the
/// function's name (or `in function line N` where it was defined), nameless C levels left out.
fn traceback(lua: &Lua) -> String {
    let mut parts = Vec::new();
    // Level 0 is the handler itself; the two bottom levels are `xpcall` and the caller.
    let mut level = 1;
    let mut bottom = 1;
    while lua.inspect_stack(bottom).is_some() {
        bottom += 1;
    }
    while level + 2 < bottom {
        let Some(d) = lua.inspect_stack(level) else {
            break;
        };
        level += 1;
        let names = d.names();
        let source = d.source();
        let line = d.curr_line();
        let nameless = names.name_what.is_none_or(str::is_empty) && names.name.is_none();
        if line < 0 && source.what == "C" && nameless {
            continue;
        }
        let src = source.short_src.as_deref().unwrap_or("?");
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
            _ if source.what != "C" => part.push_str(&format!(
                "in function line {}",
                source.line_defined.unwrap_or(0)
            )),
            _ => part.push('?'),
        }
        parts.push(part);
    }
    parts.join(", ")
}

/// Lua's error message for an execution that ran out of time (the hook raises it).
pub const TIMEOUT: &str = "execution timeout";

#[derive(Clone, Copy)]
struct Running {
    deadline: Option<Instant>,
    /// The coroutine that may be yielded (its address), 0 for none.
    thread: usize,
}

thread_local! {
    /// The Lua execution running on this thread now, for the instruction-count hook.
    static RUNNING: Cell<Option<Running>> = const { Cell::new(None) };
}

/// Called every `forced-yield` instructions: past the deadline the execution fails; else the
/// coroutine this thread drives yields, so that other work goes on.
fn hook(lua: &Lua, _: mlua::Debug) -> mlua::Result<VmState> {
    let Some(run) = RUNNING.get() else {
        return Ok(VmState::Continue);
    };
    if run.deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(mlua::Error::runtime(TIMEOUT));
    }
    if run.thread != 0 && lua.current_thread().to_pointer() as usize == run.thread {
        return Ok(VmState::Yield);
    }
    Ok(VmState::Continue)
}

impl State {
    fn triggers(&self) -> HookTriggers {
        HookTriggers::new().every_nth_instruction(self.limits.forced_yield)
    }

    /// Runs `func(args)` as a coroutine on this thread's event loop: it may wait (`core.sleep`)
    /// while other work goes on, is yielded every `forced-yield` instructions, and fails once
    /// it has run (waits not counted) longer than `limit`. A failure's message is HAProxy's:
    /// the error, then ` from ` and where it happened.
    pub async fn run(
        &self,
        func: Function,
        args: MultiValue,
        limit: Option<Duration>,
    ) -> mlua::Result<MultiValue> {
        use futures_util::StreamExt;
        let thread = self.lua.create_thread(self.caller.clone())?;
        let address = thread.to_pointer() as usize;
        let mut all = MultiValue::from_iter([Value::Function(func)]);
        all.extend(args);
        let mut stream = thread.clone().into_async::<MultiValue>(all);
        let mut used = Duration::ZERO;
        loop {
            let item = std::future::poll_fn(|cx| {
                // One hook per state is active at a time, for one coroutine: set it again for
                // this one before each step.
                thread.set_hook(self.triggers(), hook);
                let start = Instant::now();
                let previous = RUNNING.replace(Some(Running {
                    deadline: limit.map(|l| start + l.saturating_sub(used)),
                    thread: address,
                }));
                let step = stream.poll_next_unpin(cx);
                RUNNING.set(previous);
                used += start.elapsed();
                step
            })
            .await;
            match item {
                None => return Ok(MultiValue::new()),
                Some(Err(e)) => return Err(e),
                Some(Ok(values)) => {
                    if thread.status() != ThreadStatus::Resumable {
                        return outcome(values);
                    }
                    // A forced (or explicit) yield: let the thread's other work run.
                    tokio::task::yield_now().await;
                }
            }
        }
    }

    /// Runs `func(args)` to its end without yielding (fetches, converters, loading): it fails
    /// once it has run longer than `limit`.
    pub fn run_now(
        &self,
        func: &Function,
        args: MultiValue,
        limit: Option<Duration>,
    ) -> mlua::Result<MultiValue> {
        self.lua.set_hook(self.triggers(), hook);
        let previous = RUNNING.replace(Some(Running {
            deadline: limit.map(|l| Instant::now() + l),
            thread: 0,
        }));
        let mut all = MultiValue::from_iter([Value::Function(func.clone())]);
        all.extend(args);
        let result = self.caller.call::<MultiValue>(all);
        RUNNING.set(previous);
        outcome(result?)
    }

    /// The action registered as `name` for `phase`, else any registered as `name`.
    pub fn action(&self, name: &str, phase: Phase) -> Option<Arc<Action>> {
        let reg = self.registered.lock().ok()?;
        let all = reg.actions.get(name)?;
        all.iter()
            .find(|a| a.phases.contains(&phase))
            .or_else(|| all.first())
            .cloned()
    }

    pub fn fetch(&self, name: &str) -> Option<Function> {
        self.registered.lock().ok()?.fetches.get(name).cloned()
    }

    pub fn converter(&self, name: &str) -> Option<Function> {
        self.registered.lock().ok()?.converters.get(name).cloned()
    }

    pub fn service(&self, name: &str) -> Option<(Function, bool)> {
        self.registered.lock().ok()?.services.get(name).cloned()
    }

    /// Writes a script's log line at `level` (syslog numbering) to the loggers of frontend
    /// `frontend` (else the global ones) and to stderr, as HAProxy does.
    pub fn log(&self, level: u8, message: &str, frontend: Option<&str>) {
        let message = message.trim_end_matches('\n');
        if self.limits.log_loggers {
            let fe_sinks = frontend.and_then(|name| {
                let shared = self.shared.get()?;
                let fe = shared.frontends.iter().find(|f| &*f.name == name)?;
                Some(fe.logs.clone())
            });
            for sink in fe_sinks.as_deref().unwrap_or(&self.loggers) {
                sink.send(level, message);
            }
        }
        if self.limits.log_stderr && level < 7 {
            eprintln!("{}", stderr_line(level, message));
        }
    }
}

const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// HAProxy's stderr form of a script log: `[info] 336/152530 (pid) : message` (day of year,
/// then local time).
fn stderr_line(level: u8, message: &str) -> String {
    use chrono::{Datelike, Timelike};
    let now = chrono::Local::now();
    format!(
        "[{}] {:03}/{:02}{:02}{:02} ({}) : {message}",
        LEVELS[usize::from(level.min(7))],
        now.ordinal0(),
        now.hour(),
        now.minute(),
        now.second(),
        std::process::id()
    )
}

/// The message HAProxy gives a failed execution (after `<what> '<name>': `).
pub fn describe(state_id: usize, e: &mlua::Error) -> String {
    match e {
        mlua::Error::MemoryError(_) => "out of memory error".to_string(),
        other => format!("[state-id {state_id}] runtime error: {}", bare(other)),
    }
}

/// Loads `file` into `lua` as a chunk named after its path (so errors say `file:line`) and
/// runs it with `args`, which the script reads with `table.pack(...)`.
pub fn load_file(state: &State, file: &str, args: &[String]) -> Result<(), String> {
    let source = std::fs::read(file).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
            _ => e.to_string(),
        };
        format!("error in Lua file '{file}': cannot open {file}: {why}")
    })?;
    let chunk = state
        .lua
        .load(&source[..])
        .set_name(format!("@{file}"))
        .into_function()
        .map_err(|e| match e {
            mlua::Error::SyntaxError { message, .. } => {
                format!("error in Lua file '{file}': {message}")
            }
            other => format!("error in Lua file '{file}': {other}"),
        })?;
    let args: MultiValue = args
        .iter()
        .map(|a| state.lua.create_string(a).map(mlua::Value::String))
        .collect::<mlua::Result<_>>()
        .map_err(|e| format!("Lua runtime error: {e}"))?;
    // Called directly, not through the traceback handler: `haproxy -c` shows the bare error.
    state.lua.set_hook(state.triggers(), hook);
    chunk
        .call::<()>(args)
        .map_err(|e| format!("Lua runtime error: {}", runtime_message(&e)))
}

/// The bare message of an error raised while loading (no state id), as `haproxy -c` shows it.
fn runtime_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => runtime_message(cause),
        // mlua appends Lua's own traceback, which HAProxy does not show.
        mlua::Error::RuntimeError(m) => m.split("\nstack traceback:").next().unwrap_or(m).into(),
        mlua::Error::MemoryError(m) => m.clone(),
        other => other.to_string(),
    }
}
