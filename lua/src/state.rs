//! One Lua state (the shared one of `lua-load`, or one thread's of `lua-load-per-thread`): what
//! its scripts registered, its limits, and how its functions are run — in a coroutine driven by
//! the worker thread's event loop, yielding every `tune.lua.forced-yield` instructions and
//! stopped once it has run longer than its timeout.

use crate::errors::{ended, outcome};
use hapee_runtime::script::Phase;
use hapee_runtime::state::Shared;
use mlua::{Function, HookTriggers, IntoLuaMulti, Lua, MultiValue, ThreadStatus, Value, VmState};
use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// How many times scripts registered an action (`core.register_action`), in any state: an
/// action found by its name before may since stand for another.
static ACTION_REGISTRATIONS: AtomicUsize = AtomicUsize::new(0);

/// [`ACTION_REGISTRATIONS`] now.
pub fn registrations() -> usize {
    ACTION_REGISTRATIONS.load(Ordering::Relaxed)
}

/// Counts a registration of an action (see [`registrations`]).
pub fn action_registered() {
    ACTION_REGISTRATIONS.fetch_add(1, Ordering::Relaxed);
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
    /// Filters (`core.register_filter`) by name: the class, and the function that makes an
    /// instance.
    pub filters: HashMap<String, (mlua::Table, Function)>,
    /// The `filter lua.<name>` lines set up in this state, by line number.
    pub filter_configs: HashMap<usize, Arc<crate::filter::Config>>,
    /// Runtime API commands (`core.register_cli`).
    pub cli: Vec<crate::cli::Command>,
}

/// A Lua state with what belongs to it. Cloning shares it, for the price of one count: every
/// script call holds one.
#[derive(Clone)]
pub struct State(Arc<StateParts>);

impl State {
    pub fn new(parts: StateParts) -> State {
        State(Arc::new(parts))
    }
}

impl std::ops::Deref for State {
    type Target = StateParts;

    fn deref(&self) -> &StateParts {
        &self.0
    }
}

/// What a [`State`] is made of.
pub struct StateParts {
    pub lua: Lua,
    /// HAProxy's state id: 0 for the shared state, the thread number (from 1) for the others.
    pub id: usize,
    pub registered: Arc<Mutex<Registered>>,
    pub limits: Arc<Limits>,
    /// The runtime's shared state, known once the proxy starts.
    pub shared: Arc<OnceLock<Arc<Shared>>>,
    /// Set once the init functions ran: what only start-up may do (`Map.new`) fails after.
    pub serving: Arc<std::sync::atomic::AtomicBool>,
    /// The global loggers (`log` lines of the global section).
    pub loggers: Arc<Vec<Arc<hapee_runtime::log::Sink>>>,
    /// Coroutines that ran a function to its end, kept for the next calls: a new one per call
    /// costs its allocation, the growth of its stack and later the collector's work.
    pub idle: Arc<Mutex<Vec<mlua::Thread>>>,
    /// `TXN` objects of finished actions, kept for the next ones ([`crate::txn::LuaTxn::lend`]).
    pub idle_txns: Mutex<Vec<crate::txn::LentTxn>>,
    /// Applets' `f`/`sf`/`c`/`sc` objects, kept for the next applets ([`crate::txn::SampleSet`]).
    pub idle_samples: Mutex<Vec<crate::txn::SampleSet>>,
    /// How the state builds `AppletHTTP` and `AppletTCP` objects.
    pub applet_http: crate::object::Maker,
    pub applet_tcp: crate::object::Maker,
    /// The coroutine (its address) the instruction-count hook was last set on, 0 when it was
    /// set on the state itself since: Lua runs the hook only for the coroutine it was last set
    /// for, so it is set again only when another one runs.
    pub hooked: std::sync::atomic::AtomicUsize,
    /// Calls a function under `xpcall` with HAProxy's message and traceback as the message
    /// handler ([`crate::errors::make_caller`]).
    pub caller: Function,
}

/// How many finished coroutines a state keeps for reuse: as many as calls commonly run at
/// once on a busy thread.
pub const IDLE_THREADS: usize = 64;

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
    /// Why the coroutine this thread drives stopped in its last step, when it did.
    static STOPPED: Cell<Stop> = const { Cell::new(Stop::Waits) };
}

/// Why a coroutine's step ended without its function's end: what HAProxy's last call of an
/// action (its inspection delay over) tells apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A real wait (a sleep, the HTTP client, a socket): at the last call the script is
    /// abandoned.
    Waits,
    /// A turn given to other work (a forced yield, `core.yield`): the script goes on.
    GivesTurn,
    /// Waiting for a channel's bytes, which the last call answers with what is there.
    ReadsChannel,
}

/// Marks the step of the coroutine being run as stopped for `why`, when it stops now.
fn stopped_for(why: Stop) {
    STOPPED.set(why);
}

/// `fut`, a wait that gives other work its turn and is no real wait (`core.yield`): at an
/// action's last call the script goes on after it.
pub async fn giving_turn<F: Future>(fut: F) -> F::Output {
    marked(fut, Stop::GivesTurn).await
}

/// `fut`, a wait for a channel's bytes: at an action's last call the read itself answers
/// what is there, and the script is not abandoned for it.
pub async fn reading_channel<F: Future>(fut: F) -> F::Output {
    marked(fut, Stop::ReadsChannel).await
}

async fn marked<F: Future>(fut: F, why: Stop) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let step = fut.as_mut().poll(cx);
        if step.is_pending() {
            stopped_for(why);
        }
        step
    })
    .await
}

/// How a script action's run ended.
pub enum Ran {
    /// Its function returned: its first result.
    Returned(Value),
    /// It was still waiting at its last call (HAProxy's "aborting Lua processing on expired
    /// timeout"): its coroutine was closed.
    Abandoned,
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
        stopped_for(Stop::GivesTurn);
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
    /// the error, then ` from ` and where it happened. `call` is the function followed by its
    /// arguments (references to them push them without a registry copy); its results are
    /// dropped.
    pub async fn run(&self, call: impl IntoLuaMulti, limit: Option<Duration>) -> mlua::Result<()> {
        self.run_returning(call, limit).await.map(|_| ())
    }

    /// [`State::run`], answering the function's first result (an action's `act.*` code).
    pub async fn run_returning(
        &self,
        call: impl IntoLuaMulti,
        limit: Option<Duration>,
    ) -> mlua::Result<Value> {
        match self.run_until(call, limit, None).await? {
            Ran::Returned(v) => Ok(v),
            Ran::Abandoned => Ok(Value::Nil),
        }
    }

    /// [`State::run_returning`] for an action that HAProxy calls a last time at `last_call`
    /// (a TCP content action when its inspection delay ends; now without one): from then on
    /// the script may no longer wait. Channel reads answer what is there and given turns
    /// (forced yields, `core.yield`) go on, but a script found in a real wait (a sleep, the
    /// HTTP client, a socket) at or after that instant is abandoned: its coroutine is closed
    /// and what it borrowed is let go at once.
    pub async fn run_until(
        &self,
        call: impl IntoLuaMulti,
        limit: Option<Duration>,
        last_call: Option<tokio::time::Instant>,
    ) -> mlua::Result<Ran> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let thread = match pooled {
            Some(thread) => thread,
            None => {
                let thread = self.lua.create_thread(self.caller.clone())?;
                // A new coroutine may sit where one that had the hook was.
                self.hooked.store(0, Ordering::Relaxed);
                thread
            }
        };
        let address = thread.to_pointer() as usize;
        // mlua's future of a coroutine, unlike its stream, neither hands back what a yield
        // gives nor wakes the task once the coroutine has ended: a yield (forced, or
        // `core.yield`) wakes it and lets the thread's other work run first.
        // Read as the caller's first two results (`true`, or `false` and the failure): no list
        // of results is made.
        // Wakes the run at its last call, to look at how it waits then.
        let mut last = last_call.map(|at| Box::pin(tokio::time::sleep_until(at)));
        let mut used = Duration::ZERO;
        // The coroutine's future goes at the block's end, before an abandoned coroutine is
        // closed.
        let values = {
            let mut run = std::pin::pin!(thread.clone().into_async::<(Value, Value)>(call));
            std::future::poll_fn(|cx| {
                // One hook per state is active at a time, for one coroutine: set it again for
                // this one before a step when another one had it since.
                if self.hooked.swap(address, Ordering::Relaxed) != address {
                    thread.set_hook(self.triggers(), hook);
                }
                let start = Instant::now();
                let previous = RUNNING.replace(Some(Running {
                    deadline: limit.map(|l| start + l.saturating_sub(used)),
                    thread: address,
                }));
                let outer = STOPPED.replace(Stop::Waits);
                let step = run.as_mut().poll(cx);
                let why = STOPPED.replace(outer);
                RUNNING.set(previous);
                used += start.elapsed();
                match step {
                    std::task::Poll::Ready(values) => std::task::Poll::Ready(values.map(Some)),
                    std::task::Poll::Pending => {
                        // Past it already (no delay, or a loaded thread late), else the
                        // timer, polled to wake the run then: the timer alone fires only at
                        // its next tick, which a short sleep begun meanwhile may outrun.
                        let past = last_call.is_some_and(|at| at <= tokio::time::Instant::now());
                        let last_now = past
                            || last
                                .as_mut()
                                .is_some_and(|at| at.as_mut().poll(cx).is_ready());
                        if last_now && why == Stop::Waits {
                            std::task::Poll::Ready(Ok(None))
                        } else {
                            std::task::Poll::Pending
                        }
                    }
                }
            })
            .await
        };
        let Some((ok, first)) = values? else {
            self.close(thread);
            return Ok(Ran::Abandoned);
        };
        self.recycle(thread);
        // The caller's second result is the failure, or the function's first result.
        let ok_flag = matches!(ok, Value::Boolean(true));
        ended(ok, first.clone())?;
        Ok(Ran::Returned(if ok_flag { first } else { Value::Nil }))
    }

    /// Closes `thread`, abandoned while it waited (its future dropped): its to-be-closed
    /// variables are closed and its stack emptied, then a full collection drops the wait it
    /// was in, with what that wait borrowed (the `TXN`'s objects, which later actions use),
    /// as HAProxy renews an abandoned context. It is then kept for a later call.
    fn close(&self, thread: mlua::Thread) {
        if thread.reset(self.caller.clone()).is_err() {
            return;
        }
        let _ = self.lua.gc_collect();
        self.keep_idle(thread);
    }

    /// Makes the coroutine this thread drives yield at its next instruction, as a forced yield
    /// does, when `lua`'s running coroutine is that one (a coroutine the script made itself
    /// runs on): what a call that must let the caller catch up (`applet:send` with its buffer
    /// full) does, as HAProxy yields in the middle of such calls. Whether it will yield.
    pub fn yield_soon(&self, lua: &Lua) -> bool {
        let current = lua.current_thread();
        let driven = RUNNING
            .get()
            .is_some_and(|run| run.thread != 0 && current.to_pointer() as usize == run.thread);
        if driven {
            // The count hook, at every instruction, yields the driven coroutine; `run` sets
            // the usual count again before resuming it, as it no longer sees it hooked.
            current.set_hook(HookTriggers::new().every_nth_instruction(1), hook);
            self.hooked.store(0, Ordering::Relaxed);
        }
        driven
    }

    /// Keeps `thread`, which ran to its end, for a later call (up to [`IDLE_THREADS`]). One
    /// stopped midway (its request went away while it waited) is left to the collector.
    fn recycle(&self, thread: mlua::Thread) {
        if thread.status() != ThreadStatus::Finished || thread.reset(self.caller.clone()).is_err() {
            return;
        }
        self.keep_idle(thread);
    }

    /// Keeps a coroutine made ready again for a later call, while the pool has room.
    fn keep_idle(&self, thread: mlua::Thread) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_THREADS {
                idle.push(thread);
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
        self.hooked.store(0, Ordering::Relaxed);
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
    pub fn log(&self, level: u8, message: &[u8], frontend: Option<&str>) {
        let room = self.shared.get().map_or(16384, |s| s.bufsize.max(1024));
        let message = clean_log_message(message, room);
        let message = message.as_str();
        // While the scripts load (before the proxy is built) HAProxy writes their messages
        // to stderr only.
        if self.limits.log_loggers && self.shared.get().is_some() {
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

/// A script's log message as HAProxy sends it: cut at its first NUL (a C string), each byte
/// that is not printable ASCII (line ends, tabs, UTF-8) shown as `.`, and one that would not
/// fit a buffer of `room` bytes cut to end with ` ...`.
pub fn clean_log_message(message: &[u8], room: usize) -> String {
    let end = message
        .iter()
        .position(|b| *b == 0)
        .unwrap_or(message.len());
    let mut out: Vec<u8> = message[..end]
        .iter()
        .map(|&b| if (0x20..0x7f).contains(&b) { b } else { b'.' })
        .collect();
    let most = room.saturating_sub(1);
    if out.len() > most && most >= 4 {
        out.truncate(most);
        out[most - 4..].copy_from_slice(b" ...");
    }
    String::from_utf8(out).unwrap_or_default()
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
    state.hooked.store(0, Ordering::Relaxed);
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

#[cfg(test)]
mod log_tests {
    use super::clean_log_message;

    #[test]
    fn log_messages_are_cleaned_as_haproxy_cleans_them() {
        assert_eq!(clean_log_message(b"to: a\n", 100), "to: a.");
        assert_eq!(clean_log_message("t\u{e9}\tx".as_bytes(), 100), "t...x");
        assert_eq!(clean_log_message(b"ab\0cd", 100), "ab");
        assert_eq!(clean_log_message(b"abcdefghij", 8), "abc ...");
        assert_eq!(clean_log_message(b"abcdefg", 8), "abcdefg");
    }
}
