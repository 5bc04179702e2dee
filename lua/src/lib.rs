//! Lua 5.4 scripts (mlua, vendored) behind the runtime's script hooks: `lua-load` files run in
//! one state shared by every worker thread (mlua's `send` mode locks it while Lua runs, as
//! HAProxy's global Lua lock does, and releases it while a script waits), `lua-load-per-thread`
//! files in one state per thread. Scripts see HAProxy's API: `core` (with `core.tcp()`
//! cosockets, `core.httpclient()`, ACL and map changes, `core.register_cli`), `TXN`, `HTTP`,
//! `Channel`, `AppletHTTP`/`AppletTCP`, `Fetches`/`Converters`, `Map`, `Regex`, proxies and
//! servers, and the filters scripts register (`filter`, `HTTPMessage`).

mod applet;
mod channel;
mod classes;
mod cli;
mod core;
mod errors;
mod filter;
mod http_msg;
mod httpclient;
mod maps;
mod object;
mod reply;
mod socket;
mod state;
mod stktable;
mod txn;
mod txn_samples;
mod values;
pub mod vars;

use hapee_compiler::plan::lua::LuaPlan;
use hapee_runtime::sample::Value as Sample;
use hapee_runtime::script::{ActionEnd, Hooks, LocalFuture, Phase, ScriptCall, ScriptReply};
use hapee_runtime::state::Shared;
use hapee_runtime::txn::Txn;
use mlua::{Lua, MultiValue, Value};
use state::{Limits, State};
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The error message that ends a script early without failing it (`core.done`, `txn:done`).
pub(crate) const DONE: &str = "hapee: the script ended the transaction";

/// The scripts of a configuration, loaded.
pub struct LuaEngine {
    shared_state: Option<State>,
    /// One per worker thread when `lua-load-per-thread` is used.
    per_thread: Vec<State>,
    runtime: Arc<OnceLock<Arc<Shared>>>,
}

fn limits(plan: &LuaPlan) -> Limits {
    let ms = |v: Option<u32>| v.map(|v| Duration::from_millis(u64::from(v)));
    Limits {
        forced_yield: plan.forced_yield.max(1),
        maxmem: plan.maxmem as usize,
        session: ms(plan.session_timeout),
        task: ms(plan.task_timeout),
        service: ms(plan.service_timeout),
        // HAProxy 2.7 always copies script logs to stderr (unless started quiet).
        log_stderr: plan.log_stderr != "off",
        log_loggers: plan.log_loggers,
    }
}

impl LuaEngine {
    /// Loads every script of `plan` (running their top-level code, which registers their
    /// functions): the shared ones once, the per-thread ones once per thread. Errors are
    /// HAProxy's start-up messages.
    pub fn load(
        plan: &LuaPlan,
        threads: usize,
        loggers: Vec<Arc<hapee_runtime::log::Sink>>,
    ) -> Result<LuaEngine, Vec<String>> {
        let limits = Arc::new(limits(plan));
        let loggers = Arc::new(loggers);
        let runtime = Arc::new(OnceLock::new());
        let serving = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let new_state = |id: usize| -> Result<State, Vec<String>> {
            let lua = Lua::new();
            let caller =
                errors::make_caller(&lua).map_err(|e| vec![format!("Lua runtime error: {e}")])?;
            let state = State::new(state::StateParts {
                lua,
                caller,
                id,
                registered: Default::default(),
                limits: limits.clone(),
                shared: runtime.clone(),
                serving: serving.clone(),
                idle: Arc::default(),
                idle_txns: Default::default(),
                idle_samples: Default::default(),
                applet_http: Default::default(),
                applet_tcp: Default::default(),
                hooked: Default::default(),
                loggers: loggers.clone(),
            });
            prepare(&state, plan).map_err(|e| vec![format!("Lua runtime error: {e}")])?;
            Ok(state)
        };
        let mut errors = Vec::new();
        let shared_state = if plan.loads.iter().any(|l| !l.per_thread) {
            let s = new_state(0)?;
            for l in plan.loads.iter().filter(|l| !l.per_thread) {
                if let Err(e) = state::load_file(&s, &l.file, &l.args) {
                    errors.push(e);
                }
            }
            Some(s)
        } else {
            None
        };
        let mut per_thread = Vec::new();
        if plan.loads.iter().any(|l| l.per_thread) {
            for t in 0..threads.max(1) {
                let s = new_state(t + 1)?;
                for l in plan.loads.iter().filter(|l| l.per_thread) {
                    if let Err(e) = state::load_file(&s, &l.file, &l.args) {
                        // Every thread would say the same.
                        if t == 0 {
                            errors.push(e);
                        }
                    }
                }
                per_thread.push(s);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(LuaEngine {
            shared_state,
            per_thread,
            runtime,
        })
    }

    fn states(&self) -> impl Iterator<Item = &State> {
        self.shared_state.iter().chain(self.per_thread.iter())
    }

    /// The names the scripts registered, by kind: actions, fetches, converters, services.
    pub fn names(&self) -> [Vec<String>; 4] {
        let mut out: [Vec<String>; 4] = Default::default();
        for s in self.states() {
            if let Ok(r) = s.registered.lock() {
                out[0].extend(r.actions.keys().cloned());
                out[1].extend(r.fetches.keys().cloned());
                out[2].extend(r.converters.keys().cloned());
                out[3].extend(r.services.keys().cloned());
            }
        }
        for list in &mut out {
            list.sort();
            list.dedup();
        }
        out
    }
}

/// Sets up a new state: memory cap, module paths, HAProxy's API.
fn prepare(state: &State, plan: &LuaPlan) -> mlua::Result<()> {
    let lua = &state.lua;
    if state.limits.maxmem > 0 {
        lua.set_memory_limit(state.limits.maxmem)?;
    }
    let package: mlua::Table = lua.globals().get("package")?;
    for (path, cpath) in &plan.prepend_path {
        let key = if *cpath { "cpath" } else { "path" };
        let current: String = package.get(key)?;
        package.set(key, format!("{path};{current}"))?;
    }
    core::install(state)?;
    errors::plain_errors(lua)
}

impl hapee_runtime::script::Engine for LuaEngine {
    fn start(&self, shared: &Arc<Shared>) -> Result<(), Vec<String>> {
        let _ = self.runtime.set(shared.clone());
        let mut errors = Vec::new();
        for s in self.states() {
            if let Err(e) = core::publish_proxies(s) {
                errors.push(format!("Lua runtime error: {e}"));
            }
            let inits = s
                .registered
                .lock()
                .map(|r| r.inits.clone())
                .unwrap_or_default();
            for f in inits {
                if let Err(e) = s.run_now(&f, MultiValue::new(), None) {
                    errors.push(format!("Lua init: {}", errors::describe(s.id, &e)));
                }
            }
        }
        for s in self.states() {
            errors.extend(filter::set_up(s, shared.filters.scripts()));
        }
        for s in self.states() {
            s.serving.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let has_cli = self
            .states()
            .any(|s| s.registered.lock().is_ok_and(|r| !r.cli.is_empty()));
        if has_cli {
            // The shared state answers, else the first thread's.
            let states = self.states().take(2).cloned().collect();
            hapee_runtime::script::set_cli_commands(Arc::new(cli::ScriptCommands { states }));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn for_thread(&self, thread: usize) -> Rc<dyn Hooks> {
        Rc::new(ThreadHooks {
            own: self.per_thread.get(thread).cloned(),
            shared: self.shared_state.clone(),
            first: thread == 0,
            resolved: Default::default(),
        })
    }
}

/// One worker thread's view of the scripts: its own state first, then the shared one.
struct ThreadHooks {
    own: Option<State>,
    shared: Option<State>,
    /// The shared state's tasks run on the first thread.
    first: bool,
    /// The actions rules called, found again by the rule's own name (the same shared text
    /// each time) instead of a lock and a hash of the name per call.
    resolved: std::cell::RefCell<Vec<ResolvedAction>>,
}

/// An action a rule named, as [`ThreadHooks::resolve`] found it.
struct ResolvedAction {
    name: Arc<str>,
    phase: Phase,
    /// [`state::registrations`] when it was found: a script registering an action since
    /// may have changed what the name stands for.
    registrations: usize,
    state: State,
    action: Arc<state::Action>,
}

/// How many actions a thread keeps found ([`ThreadHooks::resolved`]); more are looked up
/// each time.
const RESOLVED_ACTIONS: usize = 64;

impl ThreadHooks {
    fn find<T>(&self, get: impl Fn(&State) -> Option<T>) -> Option<(State, T)> {
        self.own
            .iter()
            .chain(self.shared.iter())
            .find_map(|s| get(s).map(|v| (s.clone(), v)))
    }

    /// The action `call` names for `phase`, and its state.
    fn resolve(&self, call: &ScriptCall, phase: Phase) -> Option<(State, Arc<state::Action>)> {
        let registrations = state::registrations();
        let same = |r: &ResolvedAction| {
            Arc::ptr_eq(&r.name, &call.name) && r.phase == phase && r.registrations == registrations
        };
        if let Some(r) = self.resolved.borrow().iter().find(|r| same(r)) {
            return Some((r.state.clone(), r.action.clone()));
        }
        let (state, action) = self.find(|s| s.action(&call.name, phase))?;
        let mut resolved = self.resolved.borrow_mut();
        resolved.retain(|r| r.registrations == registrations);
        if resolved.len() < RESOLVED_ACTIONS {
            resolved.push(ResolvedAction {
                name: call.name.clone(),
                phase,
                registrations,
                state: state.clone(),
                action: action.clone(),
            });
        }
        Some((state, action))
    }
}

/// Reports a failed execution as HAProxy does: an alert on stderr and an error to the
/// frontend's loggers, `<what> '<name>': <message>.`
fn report(state: &State, what: &str, e: &mlua::Error, frontend: Option<&str>) {
    let line = format!("{what}: {}.", errors::describe(state.id, e));
    report_line(state, &line, frontend);
}

/// Writes `line` as HAProxy writes a script's failure: an alert, and a line of the frontend's
/// logs.
fn report_line(state: &State, line: &str, frontend: Option<&str>) {
    eprintln!("[ALERT]    ({}) : {line}", std::process::id());
    if let Some(fe) = frontend.and_then(|name| state.shared.get()?.frontend_by_name(name)) {
        for sink in &fe.logs {
            sink.send(3, line);
        }
    }
}

/// When HAProxy calls an action a last time, where it may no longer wait: a TCP content
/// action's when its inspection delay ends (now without one, or once it ended); never in
/// HTTP rules.
fn last_call(phase: Phase, txn: &Txn) -> Option<tokio::time::Instant> {
    match phase {
        Phase::HttpRequest | Phase::HttpResponse => None,
        Phase::TcpRequest | Phase::TcpResponse => Some(
            txn.rare()
                .and_then(|r| r.feed.as_ref())
                .map_or_else(tokio::time::Instant::now, |f| f.until),
        ),
    }
}

/// Whether an action returning `act.YIELD` may be run again later: always in HTTP rules, in
/// TCP content rules only while their inspection delay runs.
fn may_yield(phase: Phase, txn: &Txn) -> bool {
    last_call(phase, txn).is_none_or(|at| at > tokio::time::Instant::now())
}

/// HAProxy's word for an action still waiting at its last call, or yielding there; the
/// next rule goes on.
fn abandoned(state: &State, name: &str, txn: &Txn) -> ActionEnd {
    let line = format!("Lua function '{name}': aborting Lua processing on expired timeout.");
    report_line(state, &line, Some(&txn.frontend));
    ActionEnd::Continue
}

fn is_done(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::CallbackError { cause, .. } => is_done(cause),
        mlua::Error::RuntimeError(m) => m.contains(DONE),
        _ => false,
    }
}

fn strings(lua: &Lua, args: &[String]) -> mlua::Result<Vec<Value>> {
    args.iter()
        .map(|a| lua.create_string(a).map(Value::String))
        .collect()
}

/// Gives the transaction back from a script.
fn take_back(cell: &txn::TxnCell) -> Box<Txn> {
    cell.lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .expect("only the hook takes the transaction back")
}

/// A copy of what a fetch reads of a transaction, for a script fetch (which gets a `TXN`).
fn snapshot(t: &Txn) -> Txn {
    let mut c = Txn::new(t.shared.clone(), t.client, t.local, t.frontend.clone());
    c.backend = t.backend.clone();
    c.server = t.server.clone();
    c.request = t.request.clone();
    if let Some(body) = t.request_body() {
        c.rare_mut().request_body = Some(body.clone());
    }
    c.response = t.response.clone();
    c.vars = t.vars.clone();
    c.places.set(t.places.get());
    if let Some(p) = t.rare().and_then(txn::Private::of) {
        c.rare_mut().script_data = Some(Box::new(p));
    }
    c
}

impl Hooks for ThreadHooks {
    fn action(
        &self,
        call: &ScriptCall,
        phase: Phase,
        txn: Box<Txn>,
    ) -> LocalFuture<(Box<Txn>, ActionEnd)> {
        let name = call.name.clone();
        let args = call.args.clone();
        let Some((state, action)) = self.resolve(call, phase) else {
            return Box::pin(async move { (txn, ActionEnd::Failed) });
        };
        Box::pin(async move {
            if !action.phases.contains(&phase) || args.len() < action.nargs {
                let e = if action.phases.contains(&phase) {
                    mlua::Error::runtime(format!(
                        "expects {} argument(s), {} given",
                        action.nargs,
                        args.len()
                    ))
                } else {
                    mlua::Error::runtime(format!("the action is not registered for {phase:?}"))
                };
                let what = format!("Lua function '{name}'");
                report(&state, &what, &e, Some(&txn.frontend));
                return (txn, ActionEnd::Continue);
            }
            // The `TXN` object, read again once the script has run for how it ended; on the
            // stream's slot when filters run beside the script.
            let lend_to = txn.rare().and_then(|r| r.lend_to.clone());
            let slot = lend_to.as_ref().and_then(|l| l.slot());
            let lent = match txn::LuaTxn::lend_on(&state, slot) {
                Ok(lent) => lent,
                Err(e) => {
                    report(
                        &state,
                        &format!("Lua function '{name}'"),
                        &e,
                        Some(&txn.frontend),
                    );
                    return (txn, ActionEnd::Continue);
                }
            };
            core::clear_wake_time();
            let last = last_call(phase, &txn);
            // The script fetches as the rules around it do (for the response in a response
            // rule).
            let places = txn.fetch_at(hapee_runtime::rules::places(phase.rule_set()));
            *lent.cell.lock().unwrap_or_else(|e| e.into_inner()) = Some(txn);
            if let Some(l) = &lend_to {
                l.wake();
            }
            let result = async {
                // The function and the object go by reference (no registry copies); the
                // rule's arguments, usually none, in a list.
                let rest = args
                    .iter()
                    .map(|a| state.lua.create_string(a).map(Value::String))
                    .collect::<mlua::Result<MultiValue>>()?;
                let call = (&action.func, &lent.object, rest);
                state.run_until(call, state.limits.session, last).await
            }
            .await;
            let txn = take_back(&lent.cell);
            txn.fetch_at(places);
            let ending = result.as_ref().err().and_then(|_| lent.ending());
            txn::LuaTxn::give_back(&state, lent);
            let end = match result {
                // A TCP content action may not wait once the inspection delay is over (or
                // without one), neither in a sleep or a call nor by returning `act.YIELD`.
                Ok(state::Ran::Abandoned) => abandoned(&state, &name, &txn),
                Ok(state::Ran::Returned(code)) => match core::action_end(&code) {
                    ActionEnd::Yield(_) if !may_yield(phase, &txn) => {
                        abandoned(&state, &name, &txn)
                    }
                    end => end,
                },
                Err(e) => match ending {
                    Some(reply) => ActionEnd::Done(reply),
                    None if is_done(&e) => ActionEnd::Continue,
                    // HAProxy reports the failure and goes on with the next rule.
                    None => {
                        let what = format!("Lua function '{name}'");
                        report(&state, &what, &e, Some(&txn.frontend));
                        ActionEnd::Continue
                    }
                },
            };
            (txn, end)
        })
    }

    fn service(
        &self,
        name: &str,
        txn: Txn,
        body: bytes::Bytes,
    ) -> LocalFuture<(Txn, Option<ScriptReply>)> {
        let name = name.to_string();
        let Some((state, (func, true))) = self.find(|s| s.service(&name)) else {
            return Box::pin(async move { (txn, None) });
        };
        Box::pin(applet::serve(state, name, func, txn, body))
    }

    fn tcp_service(
        &self,
        name: &str,
        stream: hapee_runtime::script::ServiceIo,
        txn: Txn,
    ) -> LocalFuture<Txn> {
        let name = name.to_string();
        let Some((state, (func, false))) = self.find(|s| s.service(&name)) else {
            return Box::pin(async move { txn });
        };
        Box::pin(async move {
            let frontend = txn.frontend.to_string();
            // What the content rules held is the service's to read first.
            let held = txn.payload.clone().unwrap_or_default();
            // On the stream's slot when filters run beside the service.
            let lend_to = txn.rare().and_then(|r| r.lend_to.clone());
            let slot = lend_to.as_ref().and_then(|l| l.slot());
            let samples = txn::SampleSet::lend_on(&state, slot);
            let cell: txn::TxnCell = match &samples {
                Ok(samples) => samples.cell.clone(),
                Err(_) => Arc::default(),
            };
            *cell.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(txn));
            if let Some(l) = &lend_to {
                l.wake();
            }
            let io = Arc::new(tokio::sync::Mutex::new(applet::TcpIo::new(stream, &held)));
            let applet = applet::AppletTcp {
                cell: cell.clone(),
                io: io.clone(),
                state_id: state.id,
            };
            let result = async {
                let object = applet.object(&state, samples.as_ref().map_err(Clone::clone)?)?;
                state.run((&func, &object), state.limits.service).await
            }
            .await;
            if let Err(e) = result {
                if !is_done(&e) {
                    let what = format!("Lua applet tcp '<lua.{name}>'");
                    report(&state, &what, &e, Some(&frontend));
                }
            }
            let mut txn = *take_back(&cell);
            if let Ok(samples) = samples {
                samples.give_back(&state);
            }
            let mut io = io.lock().await;
            io.close().await;
            txn.bytes_in = io.received;
            txn.bytes_out = io.sent;
            txn
        })
    }

    fn fetch(&self, name: &str, args: &[String], txn: &Txn) -> Option<Sample> {
        let (state, func) = self.find(|s| s.fetch(name))?;
        let result = (|| {
            let lent = txn::LuaTxn::lend(&state)?;
            *lent.cell.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(snapshot(txn)));
            let mut all = vec![Value::Table(lent.object.clone())];
            all.extend(strings(&state.lua, args)?);
            let result = state.run_now(&func, MultiValue::from_iter(all), state.limits.session);
            take_back(&lent.cell);
            txn::LuaTxn::give_back(&state, lent);
            result
        })();
        match result {
            // HAProxy reads the last value returned.
            Ok(values) => values.back().map(values::from_lua),
            Err(e) => {
                let what = format!("Lua sample-fetch '{name}'");
                report(&state, &what, &e, Some(&txn.frontend));
                None
            }
        }
    }

    fn convert(&self, name: &str, args: &[String], value: Sample, txn: &Txn) -> Option<Sample> {
        let (state, func) = self.find(|s| s.converter(name))?;
        let result = (|| {
            let mut all = vec![values::to_lua(&state.lua, &value)?];
            all.extend(strings(&state.lua, args)?);
            state.run_now(&func, MultiValue::from_iter(all), state.limits.session)
        })();
        match result {
            // HAProxy reads the last value returned.
            Ok(values) => values.back().map(values::from_lua),
            Err(e) => {
                let what = format!("Lua converter '{name}'");
                report(&state, &what, &e, Some(&txn.frontend));
                None
            }
        }
    }

    fn filter(
        &self,
        line: &hapee_compiler::plan::filters::ScriptFilter,
        http: bool,
        txn: &Txn,
    ) -> Option<Box<dyn hapee_runtime::script::ScriptFilter>> {
        let (state, config) = self.find(|s| {
            s.registered
                .lock()
                .ok()?
                .filter_configs
                .get(&line.id)
                .cloned()
        })?;
        filter::attach(&state, &config, line, http, txn)
    }

    fn tasks(&self) -> Vec<LocalFuture<()>> {
        let mut states: Vec<State> = self.own.iter().cloned().collect();
        if self.first {
            states.extend(self.shared.iter().cloned());
        }
        let mut out: Vec<LocalFuture<()>> = Vec::new();
        for state in states {
            let tasks = state
                .registered
                .lock()
                .map(|r| r.tasks.clone())
                .unwrap_or_default();
            for func in tasks {
                let state = state.clone();
                out.push(Box::pin(async move {
                    if let Err(e) = state.run(func, state.limits.task).await {
                        if !is_done(&e) {
                            report(&state, "Lua task", &e, None);
                        }
                    }
                }));
            }
        }
        out
    }
}

/// Loads scripts for `hapee-lb check` as HAProxy does while it parses `lua-load`: into one
/// state, in order, their top level run; tells what they registered.
#[derive(Default)]
pub struct Checker {
    state: Mutex<Option<State>>,
}

impl hapee_compiler::lua::ScriptLoader for Checker {
    fn load(
        &self,
        file: &std::path::Path,
        args: &[String],
    ) -> Result<hapee_compiler::lua::LuaNames, String> {
        let mut slot = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let plan = LuaPlan::default();
            let lua = Lua::new();
            let caller =
                errors::make_caller(&lua).map_err(|e| format!("Lua runtime error: {e}"))?;
            let s = State::new(state::StateParts {
                lua,
                caller,
                id: 0,
                registered: Default::default(),
                limits: Arc::new(limits(&plan)),
                shared: Arc::default(),
                serving: Arc::default(),
                idle: Arc::default(),
                idle_txns: Default::default(),
                idle_samples: Default::default(),
                applet_http: Default::default(),
                applet_tcp: Default::default(),
                hooked: Default::default(),
                loggers: Arc::default(),
            });
            prepare(&s, &plan).map_err(|e| format!("Lua runtime error: {e}"))?;
            *slot = Some(s);
        }
        let Some(s) = slot.as_ref() else {
            return Err("Lua runtime error: no state".into());
        };
        state::load_file(s, &file.display().to_string(), args)?;
        let r = s.registered.lock().unwrap_or_else(|e| e.into_inner());
        let actions = r
            .action_order
            .iter()
            .map(|name| {
                let sets = r.actions[name]
                    .iter()
                    .flat_map(|a| a.phases.iter())
                    .map(|p| p.rule_set())
                    .collect();
                (name.clone(), sets)
            })
            .collect();
        Ok(hapee_compiler::lua::LuaNames {
            actions,
            fetches: r.fetches.keys().cloned().collect(),
            converters: r.converters.keys().cloned().collect(),
            services: r
                .services
                .iter()
                .map(|(name, (_, http))| (name.clone(), *http))
                .collect(),
            filters: r.filters.keys().cloned().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use hapee_compiler::lua::ScriptLoader;

    /// `core`'s helpers, checked by a script that fails to load when one is wrong.
    #[test]
    fn core_helpers_behave_as_in_haproxy() {
        let dir = std::env::temp_dir().join(format!("hapee-lua-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("helpers.lua");
        std::fs::write(
            &file,
            r#"
local args = table.pack(...)
assert(args.n == 2 and args[1] == "x" and args[2] == "y", "arguments")
local t = core.tokenize("a,b,,c", ",", true)
assert(#t == 3 and t[3] == "c", "tokenize noblank")
assert(#core.tokenize("a,b,,c", ",") == 4, "tokenize")
local c = core.concat()
c:add("ab") c:add("cd")
assert(c:dump() == "abcd", "concat")
assert(core.match_addr(core.parse_addr("10.0.0.0/8"), core.parse_addr("10.1.2.3")), "match")
assert(not core.match_addr(core.parse_addr("10.0.0.0/8"), core.parse_addr("11.1.2.3")), "no match")
assert(core.parse_addr("nonsense") == nil, "parse_addr")
local compiled, re = Regex.new("^a(b+)$", false)
local ok, caps = re:match("ABBB")
assert(compiled and ok and caps[2] == "BBB", "regex")
local _, cs = Regex.new("^a(b+)$", true)
assert(not cs:match("ABBB") and cs:exec("abb"), "case-sensitive regex")
assert(not Regex.new("(", true), "bad regex")
assert(core.info == 6 and core.debug == 7, "levels")
core.register_fetches("f", function() return 1 end)
core.register_converters("c", function(v) return v end)
core.register_service("s", "http", function() end)
"#,
        )
        .unwrap();
        let names = super::Checker::default()
            .load(&file, &["x".into(), "y".into()])
            .unwrap();
        assert_eq!(names.fetches, ["f"]);
        assert_eq!(names.converters, ["c"]);
        assert_eq!(names.services, [("s".to_string(), true)]);
        let err = super::Checker::default().load(&file, &[]).unwrap_err();
        assert!(err.starts_with("Lua runtime error: "), "{err}");
        assert!(err.ends_with("helpers.lua:3: arguments"), "{err}");
    }
}
