//! Script filters (`core.register_filter`, `filter lua.<name> [args…]`) as HAProxy 2.7 runs
//! them: at start each `filter` line gets its own shallow copy of the registered class, which
//! the registered function gets with the line's arguments; each stream then gets an instance
//! from the copy's `new`, whose callbacks (`start_analyze`, `http_headers`, `http_payload`…)
//! run to their end without waiting, each with a `TXN` that also carries the `HTTPMessage`
//! objects `http_req` and `http_res`.

use crate::http_msg::{HttpMsg, Payload, SharedPayload};
use crate::state::State;
use hapee_compiler::plan::filters::ScriptFilter as FilterLine;
use hapee_compiler::registry::RuleSet;
use hapee_runtime::script::{FilterStep, FilterVerdict, ScriptFilter};
use hapee_runtime::txn::Txn;
use mlua::{Function, MultiValue, Table, UserData, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The callbacks a class defines, read (as HAProxy reads them) when its `filter` line is set
/// up: a callback added later is never called.
#[derive(Clone, Copy, Default)]
pub struct Ops {
    start_analyze: bool,
    end_analyze: bool,
    http_headers: bool,
    http_payload: bool,
    http_end: bool,
    tcp_payload: bool,
}

/// One `filter lua.<name>` line, set up in a state.
pub struct Config {
    /// The line's copy of the class, as the registered function left it.
    class: Table,
    ops: Ops,
    /// The class's `flags` (`filter.FLT_CFG_FL_HTX`: it may filter HTTP streams).
    flags: i64,
}

/// What `__filter` holds in a filter instance: which channels' data it filters.
#[derive(Default)]
pub struct Mark {
    /// Request, response.
    data: [AtomicBool; 2],
}

/// Sets up the `filter` lines whose filter `state`'s scripts registered; the alerts of those
/// that failed.
pub fn set_up<'a>(state: &State, lines: impl Iterator<Item = &'a FilterLine>) -> Vec<String> {
    let mut errors = Vec::new();
    for line in lines {
        let registered = state
            .registered
            .lock()
            .ok()
            .and_then(|r| r.filters.get(&line.name).cloned());
        let Some((class, func)) = registered else {
            continue;
        };
        match config(state, &class, &func, line) {
            Ok(config) => {
                if let Ok(mut r) = state.registered.lock() {
                    r.filter_configs.insert(line.id, Arc::new(config));
                }
            }
            Err(e) => errors.push(format!(
                "Lua filter '{}' : runtime error : {}",
                line.name,
                crate::errors::describe(state.id, &e)
            )),
        }
    }
    errors
}

fn config(
    state: &State,
    class: &Table,
    func: &Function,
    line: &FilterLine,
) -> mlua::Result<Config> {
    let has = |name: &str| matches!(class.get::<Value>(name), Ok(Value::Function(_)));
    let ops = Ops {
        start_analyze: has("start_analyze"),
        end_analyze: has("end_analyze"),
        http_headers: has("http_headers"),
        http_payload: has("http_payload"),
        http_end: has("http_end"),
        tcp_payload: has("tcp_payload"),
    };
    let flags = match class.get::<Value>("flags")? {
        Value::Integer(n) => n,
        Value::Number(n) => n as i64,
        _ => 0,
    };
    let lua = &state.lua;
    let copy = lua.create_table()?;
    for pair in class.clone().pairs::<Value, Value>() {
        let (k, v) = pair?;
        copy.raw_set(k, v)?;
    }
    let args = lua.create_table()?;
    for (i, a) in line.args.iter().enumerate() {
        args.raw_set(i + 1, lua.create_string(a)?)?;
    }
    state.run_now(
        func,
        MultiValue::from_iter([Value::Table(copy.clone()), Value::Table(args)]),
        None,
    )?;
    Ok(Config {
        class: copy,
        ops,
        flags,
    })
}

/// A stream's instance of line `line`'s filter, made by its class's `new`.
pub fn attach(
    state: &State,
    config: &Config,
    line: &FilterLine,
    http: bool,
    txn: &Txn,
) -> Option<Box<dyn ScriptFilter>> {
    if http && config.flags & 1 == 0 {
        return None;
    }
    let report = |message: String| {
        crate::report_line(
            state,
            &format!("Lua filter '{}'{message}", line.name),
            Some(&txn.frontend),
        )
    };
    let new = match config.class.get::<Value>("new") {
        Ok(Value::Function(f)) => f,
        _ => {
            report(": 'new' field is not a function.".into());
            return None;
        }
    };
    let made = state.run_now(
        &new,
        MultiValue::from_iter([Value::Table(config.class.clone())]),
        state.limits.session,
    );
    let instance = match made {
        Ok(values) => match values.front() {
            Some(Value::Table(t)) => t.clone(),
            _ => return None,
        },
        Err(e) => {
            report(format!(" : {}.", crate::errors::describe(state.id, &e)));
            return None;
        }
    };
    let mark = Arc::new(Mark::default());
    let ud = state.lua.create_userdata(MarkRef(mark.clone())).ok()?;
    instance.set("__filter", ud).ok()?;
    Some(Box::new(LuaFilter {
        state: state.clone(),
        name: line.name.clone(),
        instance,
        ops: config.ops,
        mark,
        http,
        wake: None,
        privates: Default::default(),
    }))
}

/// The userdata `__filter` holds.
pub struct MarkRef(pub Arc<Mark>);

impl UserData for MarkRef {}

/// `filter.register_data_filter(self, chn)` and `unregister_data_filter`: `self` must be a
/// filter instance, `chn` a channel.
pub fn set_data(filter: &Table, channel: &Table, on: bool, name: &str) -> mlua::Result<()> {
    let mark = match filter.get::<Value>("__filter")? {
        Value::UserData(ud) => ud.borrow::<MarkRef>().ok().map(|m| m.0.clone()),
        _ => None,
    }
    .ok_or_else(|| mlua::Error::runtime(format!("'{name}': not a filter instance")))?;
    let response = match channel.raw_get::<Value>(0)? {
        Value::UserData(ud) => ud
            .borrow::<crate::channel::Channel>()
            .ok()
            .map(|c| c.response),
        _ => None,
    }
    .ok_or_else(|| crate::errors::arg_error(2, "Channel expected"))?;
    mark.data[usize::from(response)].store(on, Ordering::Relaxed);
    Ok(())
}

struct LuaFilter {
    state: State,
    name: String,
    instance: Table,
    ops: Ops,
    mark: Arc<Mark>,
    http: bool,
    /// The wake time the last payload callback set.
    wake: Option<std::time::Duration>,
    /// The private values of its callbacks (`txn:set_priv`), the request's and the
    /// response's: HAProxy runs each direction of a filter in a Lua context of its own.
    privates: [Arc<crate::txn::AppletPrivate>; 2],
}

fn timed_out(e: &mlua::Error) -> bool {
    e.to_string().contains(crate::state::TIMEOUT)
}

/// An integer as Lua's `tointeger` reads a value (0 when it is none).
fn integer(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        Value::Number(n) if n.fract() == 0.0 => *n as i64,
        Value::String(s) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

impl LuaFilter {
    /// Calls callback `name` with the instance, a `TXN` and the channel or message of its
    /// side. `Ok(None)`: the instance has no such function.
    fn call(
        &self,
        name: &str,
        response: bool,
        message: bool,
        payload: Option<SharedPayload>,
        txn: Box<Txn>,
    ) -> (Box<Txn>, mlua::Result<Option<MultiValue>>, usize) {
        let state = &self.state;
        let func = match self.instance.get::<Value>(name) {
            Ok(Value::Function(f)) => f,
            _ => return (txn, Ok(None), 0),
        };
        let lent = match crate::txn::LuaTxn::lend(state) {
            Ok(lent) => lent,
            Err(e) => return (txn, Err(e), 0),
        };
        lent.keep_private(Some(self.privates[usize::from(response)].clone()));
        // The callback fetches for its channel's side.
        let set = match (self.http, response) {
            (true, false) => RuleSet::HttpRequest,
            (true, true) => RuleSet::HttpResponse,
            (false, false) => RuleSet::TcpRequestContent,
            (false, true) => RuleSet::TcpResponseContent,
        };
        let places = txn.fetch_at(hapee_runtime::rules::places(set));
        *lent.cell.lock().unwrap_or_else(|e| e.into_inner()) = Some(txn);
        let result = (|| {
            let mut third = Value::Nil;
            let mut messages = Vec::new();
            for (side, field, chn) in [(false, "http_req", "req"), (true, "http_res", "res")] {
                let channel: Value = lent.object.raw_get(chn)?;
                if self.http {
                    let msg = crate::http_msg::object(
                        &state.lua,
                        HttpMsg {
                            cell: lent.cell.clone(),
                            response: side,
                            payload: payload.clone().filter(|_| side == response),
                        },
                        channel.clone(),
                    )?;
                    lent.object.raw_set(field, msg.clone())?;
                    messages.push(field);
                    if side == response && message {
                        third = Value::Table(msg);
                    }
                }
                if side == response && !message {
                    third = channel;
                }
            }
            let args = MultiValue::from_iter([
                Value::Table(self.instance.clone()),
                Value::Table(lent.object.clone()),
                third,
            ]);
            let out = state.run_now(&func, args, state.limits.session);
            for field in messages {
                lent.object.raw_set(field, Value::Nil)?;
            }
            out
        })();
        let txn = crate::take_back(&lent.cell);
        txn.fetch_at(places);
        let outgoing = lent.outgoing(response);
        crate::txn::LuaTxn::give_back(state, lent);
        (txn, result.map(Some), outgoing)
    }

    fn report(&self, e: &mlua::Error, txn: &Txn) {
        let line = format!(
            "Lua filter '{}' : {}.",
            self.name,
            crate::errors::describe(self.state.id, e)
        );
        crate::report_line(&self.state, &line, Some(&txn.frontend));
    }
}

impl ScriptFilter for LuaFilter {
    fn step(
        &mut self,
        step: FilterStep,
        response: bool,
        txn: Box<Txn>,
    ) -> (Box<Txn>, FilterVerdict) {
        let (name, defined, message) = match step {
            FilterStep::StartAnalyze => ("start_analyze", self.ops.start_analyze, false),
            FilterStep::EndAnalyze => ("end_analyze", self.ops.end_analyze, false),
            FilterStep::HttpHeaders => ("http_headers", self.ops.http_headers, true),
            FilterStep::HttpEnd => ("http_end", self.ops.http_end, true),
        };
        if !defined {
            return (txn, FilterVerdict::Continue);
        }
        crate::core::clear_wake_time();
        let (txn, result, _) = self.call(name, response, message, None, txn);
        let verdict = match result {
            Ok(None) => FilterVerdict::Continue,
            Ok(Some(values)) => match values.back().map(integer) {
                None => FilterVerdict::Continue,
                Some(n) if n < 0 => FilterVerdict::Error,
                Some(0) => FilterVerdict::Wait(crate::core::take_wake_time()),
                Some(_) => FilterVerdict::Continue,
            },
            Err(e) if timed_out(&e) => {
                let line = format!(
                    "Lua filter '{}' : '{name}' callback execution timeout.",
                    self.name
                );
                crate::report_line(&self.state, &line, Some(&txn.frontend));
                FilterVerdict::Continue
            }
            Err(e) => {
                self.report(&e, &txn);
                FilterVerdict::Error
            }
        };
        (txn, verdict)
    }

    fn payload(
        &mut self,
        response: bool,
        tcp: bool,
        txn: Box<Txn>,
        data: &mut bytes::BytesMut,
        eom: bool,
    ) -> (Box<Txn>, Option<usize>) {
        let (name, defined) = if tcp {
            ("tcp_payload", self.ops.tcp_payload)
        } else {
            ("http_payload", self.ops.http_payload)
        };
        if !defined {
            return (txn, Some(data.len()));
        }
        crate::core::clear_wake_time();
        let (txn, result, forwarded) = if tcp {
            // A TCP stream's bytes are its channel's, as the content rules hold them.
            let mut txn = txn;
            let held = Some(std::mem::take(data).freeze());
            if response {
                (txn.res_payload, txn.res_payload_final) = (held, eom);
            } else {
                (txn.payload, txn.payload_final) = (held, eom);
            }
            let (mut txn, result, outgoing) = self.call(name, response, false, None, txn);
            let back = if response {
                txn.res_payload.take()
            } else {
                txn.payload.take()
            };
            *data = bytes::BytesMut::from(&back.unwrap_or_default()[..]);
            (txn, result, outgoing.min(data.len()))
        } else {
            let shared = Arc::new(Mutex::new(Payload {
                data: std::mem::take(data),
                forwarded: 0,
                eom,
            }));
            let (txn, result, _) = self.call(name, response, true, Some(shared.clone()), txn);
            let p = std::mem::take(&mut *shared.lock().unwrap_or_else(|e| e.into_inner()));
            *data = p.data;
            (txn, result, p.forwarded)
        };
        self.wake = crate::core::take_wake_time();
        let input = data.len() - forwarded;
        let passed = match result {
            Ok(Some(values)) => match values.back().map(integer) {
                None => Some(input),
                Some(n) if n < 0 => None,
                Some(n) => Some((n as usize).min(input)),
            },
            Ok(None) => Some(input),
            Err(e) if timed_out(&e) => Some(input),
            Err(e) => {
                self.report(&e, &txn);
                None
            }
        };
        (txn, passed.map(|n| forwarded + n))
    }

    fn filters_data(&self, response: bool) -> bool {
        self.mark.data[usize::from(response)].load(Ordering::Relaxed)
    }

    fn wake_time(&mut self) -> Option<std::time::Duration> {
        self.wake.take()
    }
}
