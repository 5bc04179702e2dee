//! The transaction as scripts see it: HAProxy's `TXN` class (variables, log level, private
//! data, `done`, `reply`), with its `HTTP` (`txn.http`), `Fetches` (`txn.f`, `txn.sf`) and
//! `Converters` (`txn.c`, `txn.sc`) objects.

use crate::errors::exact;
use crate::values::{from_lua, to_lua};
use hapee_runtime::script::ScriptReply;
use hapee_runtime::txn::Txn;
use hyper::header::{HeaderName, HeaderValue};
use mlua::{Lua, MultiValue, Table, UserData, UserDataMethods, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::reply::Reply;
use crate::state::State;
use crate::txn_samples::sample_objects;
pub use crate::txn_samples::{SampleSet, SAMPLE_FIELDS};

/// How many `TXN` objects of finished calls a state keeps for reuse, as many as the coroutines
/// it keeps.
pub(crate) const IDLE_TXNS: usize = crate::state::IDLE_THREADS;

/// A transaction lent to a script; empty once given back.
pub type TxnCell = hapee_runtime::script::TxnSlot;

/// Runs `f` on the lent transaction; a script holding on to a transaction that has ended gets
/// an error.
pub fn with_txn<R>(cell: &TxnCell, f: impl FnOnce(&mut Txn) -> R) -> mlua::Result<R> {
    let mut guard = cell
        .lock()
        .map_err(|_| mlua::Error::runtime("transaction poisoned"))?;
    match guard.as_mut() {
        Some(txn) => Ok(f(txn)),
        None => Err(mlua::Error::runtime("the transaction is over")),
    }
}

/// The userdata of a `TXN` object (at `[0]` of the object's table, [`LuaTxn::lend`]).
pub struct LuaTxn {
    pub cell: TxnCell,
    /// What the call leaves in the object, reset when it is lent again.
    call: Arc<CallMarks>,
    pub state: crate::state::State,
}

/// What a call leaves in its `TXN` object.
#[derive(Default)]
struct CallMarks {
    /// How `txn:done()` ended the transaction: with the reply given, if any.
    done: Mutex<Option<Option<Reply>>>,
    /// The outgoing lengths of the request and response channels (`txn.req:forward`).
    request_out: Arc<AtomicUsize>,
    response_out: Arc<AtomicUsize>,
    /// A private value of the caller's own instead of the stream's (a filter's, one per
    /// direction, as HAProxy gives each filter a Lua context per channel).
    own_private: Mutex<Option<Arc<AppletPrivate>>>,
}

/// A `TXN` object lent to a call, with the (empty) cell through which it reaches the call's
/// transaction; kept by the Rust side too, so that lending it again needs no borrow of the
/// userdata.
pub struct LentTxn {
    /// The object the script gets.
    pub object: Table,
    pub cell: TxnCell,
    call: Arc<CallMarks>,
    /// Made on a stream's own slot ([`LuaTxn::lend_on`]): not kept for another call.
    on_slot: bool,
}

/// Where a state keeps the metatable of its `TXN` objects.
const TXN_CLASS: &str = "hapee.TXN";

impl LuaTxn {
    /// A `TXN` object for a call: one a finished call gave back when there is one, else a new
    /// one. A new object costs fresh Lua memory (its table and eight userdata) and finalizers
    /// that the collector runs later; a kept one costs neither. The object is the call's alone
    /// until [`LuaTxn::give_back`].
    pub fn lend(state: &State) -> mlua::Result<LentTxn> {
        let kept = state.idle_txns.lock().ok().and_then(|mut idle| idle.pop());
        if let Some(lent) = kept {
            // What the last call left: its `txn:done()` (caught by a `pcall`) and its
            // channels' counters.
            if let Ok(mut done) = lent.call.done.lock() {
                *done = None;
            }
            lent.call.request_out.store(0, Ordering::Relaxed);
            lent.call.response_out.store(0, Ordering::Relaxed);
            lent.keep_private(None);
            return Ok(lent);
        }
        let cell: TxnCell = Arc::new(Mutex::new(None));
        let call = Arc::<CallMarks>::default();
        let object = new_object(state, &cell, &call)?;
        Ok(LentTxn {
            object,
            cell,
            call,
            on_slot: false,
        })
    }

    /// As [`LuaTxn::lend`], or with `slot` a new object that reaches the transaction through
    /// it: the stream's own slot, where its script filters reach the transaction while the
    /// call waits (`hapee_runtime::script::LendTo`). Such an object is not kept after the call.
    pub fn lend_on(state: &State, slot: Option<TxnCell>) -> mlua::Result<LentTxn> {
        let Some(cell) = slot else {
            return LuaTxn::lend(state);
        };
        let call = Arc::<CallMarks>::default();
        let object = new_object(state, &cell, &call)?;
        Ok(LentTxn {
            object,
            cell,
            call,
            on_slot: true,
        })
    }

    /// Keeps `lent`, whose call has ended and whose transaction was taken back, for a later
    /// call (up to [`IDLE_TXNS`] per state). Until then a script that kept it reads "the
    /// transaction is over"; once another call has it, that call's transaction (HAProxy's
    /// `TXN` kept past its call points at a freed stream).
    pub fn give_back(state: &State, lent: LentTxn) {
        if lent.on_slot {
            return;
        }
        if let Ok(mut idle) = state.idle_txns.lock() {
            if idle.len() < IDLE_TXNS {
                idle.push(lent);
            }
        }
    }

    fn frontend(&self) -> Option<String> {
        with_txn(&self.cell, |t| t.frontend.to_string()).ok()
    }
}

/// A new `TXN` object, shaped as HAProxy's: a table holding the userdata at `[0]` and its
/// `f`, `sf`, `c`, `sc`, `req`, `res` and `http` objects as fields (set in that order), its methods in the
/// `__index` table of a metatable all objects share. Every read a script makes of it
/// (`txn.sf`, `txn:set_var`) is then a table read, where a userdata's fields and methods
/// go through mlua's `__index` function and a Rust getter. The methods take the table as
/// their `self` (the vendored mlua's `table_self`).
fn new_object(state: &State, cell: &TxnCell, call: &Arc<CallMarks>) -> mlua::Result<Table> {
    let lua = &state.lua;
    let ud = lua.create_userdata(LuaTxn {
        cell: cell.clone(),
        call: call.clone(),
        state: state.clone(),
    })?;
    let object = crate::object::shaped(lua, ud, TXN_CLASS)?;
    for (name, sample) in SAMPLE_FIELDS
        .into_iter()
        .zip(sample_objects(lua, cell, true)?)
    {
        object.raw_set(name, sample)?;
    }
    for (name, response, outgoing) in [
        ("req", false, &call.request_out),
        ("res", true, &call.response_out),
    ] {
        let channel = lua.create_userdata(crate::channel::Channel {
            cell: cell.clone(),
            response,
            outgoing: outgoing.clone(),
        })?;
        object.raw_set(name, crate::object::shaped(lua, channel, "hapee.Channel")?)?;
    }
    // Last, as HAProxy sets it (the order the fields went in is the order `pairs()` sees
    // under a given hash seed).
    let http = lua.create_userdata(Http { cell: cell.clone() })?;
    object.raw_set("http", crate::object::shaped(lua, http, "hapee.HTTP")?)?;
    Ok(object)
}

impl LentTxn {
    /// How many leading bytes of a channel's held data the call made outgoing
    /// (`forward`, `send`).
    pub fn outgoing(&self, response: bool) -> usize {
        let count = if response {
            &self.call.response_out
        } else {
            &self.call.request_out
        };
        count.load(Ordering::Relaxed)
    }

    /// Gives the call's `set_priv`/`get_priv` the private value `own` instead of the
    /// stream's (`None`: the stream's).
    pub fn keep_private(&self, own: Option<Arc<AppletPrivate>>) {
        if let Ok(mut p) = self.call.own_private.lock() {
            *p = own;
        }
    }

    /// How the script ended the transaction with `txn:done()`, if it did.
    pub fn ending(&self) -> Option<Option<ScriptReply>> {
        let ending = self.call.done.lock().ok()?.take();
        ending.map(|reply| reply.map(|r| r.to_reply()))
    }
}

/// Private data a script keeps in the transaction (`set_priv`), with the state that owns it.
#[derive(Clone)]
pub(crate) struct Private {
    state: usize,
    value: Value,
}

impl Private {
    /// The transaction's private value, if a script set one.
    pub(crate) fn of(rare: &hapee_runtime::txn::TxnRare) -> Option<Private> {
        rare.script_data
            .as_ref()?
            .downcast_ref::<Private>()
            .cloned()
    }
}

/// Methods only, no fields: mlua makes the methods table the userdata's `__index`, which
/// [`new_object`] shares with the object's table.
impl UserData for LuaTxn {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        vars_methods(m, |t: &LuaTxn| &t.cell);
        m.add_method("set_loglevel", |lua, this, args: MultiValue| {
            let level: i64 = exact(lua, args, true, 2, "set_loglevel")?;
            let level = u8::try_from(level)
                .ok()
                .filter(|l| *l <= 7)
                .ok_or_else(|| {
                    crate::errors::arg_error(2, "Bad log level. It must be between 0 and 7")
                })?;
            with_txn(&this.cell, |t| t.log_level = Some(level))
        });
        priv_methods(m, |t: &LuaTxn| {
            match t.call.own_private.lock().ok().and_then(|p| p.clone()) {
                Some(own) => PrivSlot::Own(own),
                None => PrivSlot::Stream(&t.cell, t.state.id),
            }
        });
        // The queue priority, limited as `http-request set-priority-class/offset` limit it.
        m.add_method("set_priority_class", |lua, this, args: MultiValue| {
            let class: i64 = exact(lua, args, true, 2, "set_priority_class")?;
            with_txn(&this.cell, |t| {
                t.priority.class = class.clamp(-0x7ff, 0x7ff)
            })
        });
        m.add_method("set_priority_offset", |lua, this, args: MultiValue| {
            let offset: i64 = exact(lua, args, true, 2, "set_priority_offset")?;
            with_txn(&this.cell, |t| {
                t.priority.offset = offset.clamp(-0x7ffff, 0x7ffff)
            })
        });
        // Packet marks and TOS need socket options hapee does not set on client sockets.
        m.add_method("set_tos", |lua, _, args: MultiValue| {
            exact::<i64>(lua, args, true, 2, "set_tos").map(drop)
        });
        m.add_method("set_mark", |lua, _, args: MultiValue| {
            exact::<i64>(lua, args, true, 2, "set_mark").map(drop)
        });
        crate::errors::add_method(m, "reply", |lua, _, init: Option<Value>| {
            let init = match init {
                Some(Value::Table(t)) => Some(t),
                _ => None,
            };
            crate::reply::new(lua, init)
        });
        crate::errors::add_method(m, "done", |_, this, reply: Option<Value>| {
            let reply = match reply {
                Some(Value::Table(t)) => Some(Reply::read(&t)?),
                _ => None,
            };
            if let Ok(mut slot) = this.call.done.lock() {
                *slot = Some(reply);
            }
            Err::<(), _>(mlua::Error::runtime(crate::DONE))
        });
        for (name, level) in [
            ("Debug", 7u8),
            ("Info", 6),
            ("Warning", 4),
            ("Alert", 1),
            ("deflog", 6),
        ] {
            m.add_method(name, move |lua, this, args: MultiValue| {
                let msg: mlua::String = exact(lua, args, true, 2, name)?;
                this.state
                    .log(level, &msg.as_bytes(), this.frontend().as_deref());
                Ok(())
            });
        }
        m.add_method("log", |lua, this, args: MultiValue| {
            let (level, msg): (i64, mlua::String) = exact(lua, args, true, 3, "log")?;
            // HAProxy's check names `self` (argument 1) here.
            let level = crate::core::log_level(level, 1)?;
            this.state
                .log(level, &msg.as_bytes(), this.frontend().as_deref());
            Ok(())
        });
        m.add_method("get_fe_name", |_, this, ()| {
            with_txn(&this.cell, |t| t.frontend.to_string())
        });
        m.add_method("get_be_name", |_, this, ()| {
            with_txn(&this.cell, |t| t.backend.as_deref().map(String::from))
        });
    }
}

/// `set_priv` and `get_priv` of `TXN` and the services' applets: one private value kept with
/// the transaction (of the state `where_of` names), as HAProxy keeps one per stream, so a
/// service reads what an action of its stream set.
pub fn priv_methods<T: 'static, M: UserDataMethods<T>>(
    m: &mut M,
    where_of: fn(&T) -> PrivSlot<'_>,
) {
    m.add_method("set_priv", move |lua, this, args: MultiValue| {
        let value: Value = exact(lua, args, true, 2, "set_priv")?;
        match where_of(this) {
            PrivSlot::Stream(cell, state) => with_txn(cell, |t| {
                t.rare_mut().script_data = Some(Box::new(Private { state, value }))
            }),
            PrivSlot::Own(own) => {
                let key = lua.create_registry_value(value)?;
                if let Ok(mut p) = own.lock() {
                    *p = Some(key);
                }
                Ok(())
            }
        }
    });
    m.add_method("get_priv", move |lua, this, args: MultiValue| {
        exact::<()>(lua, args, true, 1, "get_priv")?;
        match where_of(this) {
            PrivSlot::Stream(cell, state) => with_txn(cell, |t| {
                t.rare()
                    .and_then(Private::of)
                    .filter(|p| p.state == state)
                    .map_or(Value::Nil, |p| p.value)
            }),
            PrivSlot::Own(own) => match own.lock().ok().as_deref().and_then(Option::as_ref) {
                Some(key) => lua.registry_value::<Value>(key),
                None => Ok(Value::Nil),
            },
        }
    });
}

/// Where `set_priv`/`get_priv` keep their value.
pub enum PrivSlot<'a> {
    /// The stream's (of the state numbered so), which its actions, fetches and services share.
    Stream(&'a TxnCell, usize),
    /// A caller's own.
    Own(Arc<AppletPrivate>),
}

/// A command's private value (`set_priv`/`get_priv`): it has no stream to keep it with.
pub type AppletPrivate = Mutex<Option<mlua::RegistryKey>>;

/// `set_priv` and `get_priv` of a command's applet.
pub fn own_priv_methods<T: 'static, M: UserDataMethods<T>>(
    m: &mut M,
    private_of: fn(&T) -> &AppletPrivate,
) {
    m.add_method("set_priv", move |lua, this, args: MultiValue| {
        let value: Value = exact(lua, args, true, 2, "set_priv")?;
        let key = lua.create_registry_value(value)?;
        if let Ok(mut p) = private_of(this).lock() {
            *p = Some(key);
        }
        Ok(())
    });
    m.add_method("get_priv", move |lua, this, args: MultiValue| {
        exact::<()>(lua, args, true, 1, "get_priv")?;
        match private_of(this)
            .lock()
            .ok()
            .as_deref()
            .and_then(Option::as_ref)
        {
            Some(key) => lua.registry_value::<Value>(key),
            None => Ok(Value::Nil),
        }
    });
}

/// `get_var`, `set_var` and `unset_var`, shared by `TXN` and the applets.
pub fn vars_methods<T: 'static, M: UserDataMethods<T>>(m: &mut M, cell_of: fn(&T) -> &TxnCell) {
    m.add_method("set_var", move |lua, this, args: MultiValue| {
        if !(2..=3).contains(&args.len()) {
            return Err(mlua::Error::runtime(
                "'set_var' needs between 3 and 4 arguments",
            ));
        }
        // The usual call, a string name and a value, reads the name in place.
        if let (2, Some(Value::String(name))) = (args.len(), args.front()) {
            if let Ok(name) = name.to_str() {
                let sample = from_lua(&args[1]);
                crate::vars::declare(&name);
                return with_txn(cell_of(this), |t| {
                    t.store_var(&name, sample);
                    true
                });
            }
        }
        let (name, value, ifexist): (String, Value, Option<bool>) =
            crate::errors::convert(lua, args, true)?;
        let sample = from_lua(&value);
        // With `ifexist`, only a name the configuration (or an earlier set) uses is set.
        if ifexist.unwrap_or(false) && !crate::vars::is_declared(&name) {
            return Ok(false);
        }
        crate::vars::declare(&name);
        // False when the variables' size limits refuse it.
        with_txn(cell_of(this), |t| t.store_var(&name, sample))
    });
    m.add_method("get_var", move |lua, this, args: MultiValue| {
        let name: String = exact(lua, args, true, 2, "get_var")?;
        let v = with_txn(cell_of(this), |t| t.var(&name))?;
        v.map_or(Ok(Value::Nil), |v| to_lua(lua, &v))
    });
    m.add_method("unset_var", move |lua, this, args: MultiValue| {
        let name: String = exact(lua, args, true, 2, "unset_var")?;
        with_txn(cell_of(this), |t| t.remove_var(&name))
    });
}

/// `txn.http`: the request and response heads.
pub struct Http {
    pub cell: TxnCell,
}

/// The headers as HAProxy gives them to scripts: lower-case names, each with its values
/// indexed from 0.
pub fn headers_table(lua: &Lua, headers: &hyper::HeaderMap) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    for name in headers.keys() {
        let values = lua.create_table()?;
        for (i, v) in headers.get_all(name).iter().enumerate() {
            values.raw_set(i, lua.create_string(v.as_bytes())?)?;
        }
        t.raw_set(name.as_str(), values)?;
    }
    Ok(t)
}

pub(crate) fn header_pair(name: &str, value: &str) -> mlua::Result<(HeaderName, HeaderValue)> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| mlua::Error::runtime(format!("invalid header name '{name}'")))?;
    let v = HeaderValue::from_str(value)
        .map_err(|_| mlua::Error::runtime(format!("invalid header value for '{name}'")))?;
    Ok((n, v))
}

pub(crate) fn heads(t: &mut Txn, response: bool) -> Option<&mut hyper::HeaderMap> {
    if response {
        t.response.as_mut().map(|r| &mut r.headers)
    } else {
        t.request.as_mut().map(|r| &mut r.headers)
    }
}

/// `set_header` (`replace`) or `add_header` on the request or the response: the new line
/// comes after all the others, a `set` deleting the old ones first, as HAProxy edits a head
/// (the origin sees that order).
pub(crate) fn put_header(
    t: &mut Txn,
    response: bool,
    name: HeaderName,
    value: HeaderValue,
    replace: bool,
) {
    use hapee_runtime::http::header_order;
    let head = if response {
        t.response.as_mut().map(|r| (&mut r.headers, &mut r.lines))
    } else {
        t.request.as_mut().map(|r| (&mut r.headers, &mut r.lines))
    };
    if let Some((h, lines)) = head {
        if replace {
            header_order::remove(h, &name);
        }
        header_order::append(h, lines, name, value);
    }
}

/// `rep_header`/`rep_value`: each value of `name` rewritten by `regex` into `replace`
/// (HAProxy's `\1` references); `rep_value` works on each comma-separated part.
pub(crate) fn replace_values(
    h: &mut hyper::HeaderMap,
    name: &HeaderName,
    re: &regex::Regex,
    replace: &str,
    per_value: bool,
) {
    let subst = hapee_runtime::sample::hap_subst(replace);
    let new: Vec<String> = h
        .get_all(name)
        .iter()
        .map(|v| {
            let text = String::from_utf8_lossy(v.as_bytes());
            if per_value {
                text.split(',')
                    .map(|part| re.replace(part.trim(), subst.as_str()).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                re.replace(&text, subst.as_str()).into_owned()
            }
        })
        .collect();
    h.remove(name);
    for v in new {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.append(name.clone(), v);
        }
    }
}

/// Gives the request method `method`; false when it is not a method or there is no request.
pub(crate) fn set_method(t: &mut Txn, method: &str) -> bool {
    match (
        t.request_line_to_rewrite(),
        hyper::Method::from_bytes(method.as_bytes()),
    ) {
        (Some(req), Ok(m)) => {
            req.method = m;
            true
        }
        _ => false,
    }
}

pub(crate) fn rewrite_uri(t: &mut Txn, f: impl FnOnce(&hyper::Uri) -> String) -> bool {
    let Some(req) = t.request_line_to_rewrite() else {
        return false;
    };
    match f(&req.uri).parse() {
        Ok(uri) => {
            req.uri = uri;
            true
        }
        Err(_) => false,
    }
}

impl Http {
    /// HAProxy's check that a `req_*` function runs for the request and a `res_*` one for
    /// the response (the side of the rules or filter callback the script runs in): on the
    /// other side it raises `top`, its last argument.
    fn side(&self, lua: &Lua, response: bool, top: &Value) -> mlua::Result<()> {
        let side = with_txn(&self.cell, |t| {
            hapee_compiler::registry::capabilities::side(t.places.get())
        })?;
        match side {
            Some(s) if s != response => Err(crate::errors::raised(lua, top)),
            _ => Ok(()),
        }
    }
}

impl UserData for Http {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        for (prefix, response) in [("req", false), ("res", true)] {
            let label = format!("{prefix}_get_headers");
            m.add_method(label.clone(), move |lua, this, args: MultiValue| {
                exact::<()>(lua, args, true, 1, &label)?;
                this.side(lua, response, &Value::Nil)?;
                let h = with_txn(&this.cell, |t| {
                    heads(t, response).map(|h| h.clone()).unwrap_or_default()
                })?;
                headers_table(lua, &h)
            });
            for (op, replace) in [("set", true), ("add", false)] {
                // HAProxy's checks name them `req_set_hdr`, `res_add_hdr`…
                let label = format!("{prefix}_{op}_hdr");
                m.add_method(
                    format!("{prefix}_{op}_header"),
                    move |lua, this, args: MultiValue| {
                        let (name, value): (mlua::String, mlua::String) =
                            exact(lua, args, true, 3, &label)?;
                        this.side(lua, response, &Value::String(value.clone()))?;
                        let (n, v) = header_pair(&name.to_str()?, &value.to_str()?)?;
                        with_txn(&this.cell, |t| put_header(t, response, n, v, replace))
                    },
                );
            }
            let label = format!("{prefix}_del_hdr");
            m.add_method(
                format!("{prefix}_del_header"),
                move |lua, this, args: MultiValue| {
                    let name: mlua::String = exact(lua, args, true, 2, &label)?;
                    this.side(lua, response, &Value::String(name.clone()))?;
                    let (n, _) = header_pair(&name.to_str()?, "")?;
                    with_txn(&this.cell, |t| {
                        if let Some(h) = heads(t, response) {
                            hapee_runtime::http::header_order::remove(h, &n);
                        }
                    })
                },
            );
            for (op, per_value) in [("header", false), ("value", true)] {
                // HAProxy's checks: `req_rep_hdr` for both request ones, `res_rep_val`.
                let label = match (response, per_value) {
                    (true, true) => "res_rep_val".to_string(),
                    _ => format!("{prefix}_rep_hdr"),
                };
                m.add_method(
                    format!("{prefix}_rep_{op}"),
                    move |lua, this, args: MultiValue| {
                        let (name, regex, replace): (String, String, mlua::String) =
                            exact(lua, args, true, 4, &label)?;
                        this.side(lua, response, &Value::String(replace.clone()))?;
                        let replace = replace.to_str()?.to_string();
                        let (n, _) = header_pair(&name, "")?;
                        let re = regex::Regex::new(&regex)
                            .map_err(|e| mlua::Error::runtime(e.to_string()))?;
                        with_txn(&this.cell, |t| {
                            if let Some(h) = heads(t, response) {
                                replace_values(h, &n, &re, &replace, per_value);
                            }
                        })
                    },
                );
            }
        }
        crate::errors::add_method(m, "req_set_method", |lua, this, method: String| {
            this.side(lua, false, &Value::String(lua.create_string(&method)?))?;
            with_txn(&this.cell, |t| set_method(t, &method))
        });
        crate::errors::add_method(m, "req_set_path", |lua, this, path: String| {
            this.side(lua, false, &Value::String(lua.create_string(&path)?))?;
            with_txn(&this.cell, |t| {
                rewrite_uri(t, |u| match u.query() {
                    Some(q) => format!("{path}?{q}"),
                    None => path.clone(),
                })
            })
        });
        crate::errors::add_method(m, "req_set_query", |lua, this, query: String| {
            this.side(lua, false, &Value::String(lua.create_string(&query)?))?;
            with_txn(&this.cell, |t| {
                rewrite_uri(t, |u| {
                    let q = query.trim_start_matches('?');
                    if q.is_empty() {
                        u.path().to_string()
                    } else {
                        format!("{}?{q}", u.path())
                    }
                })
            })
        });
        crate::errors::add_method(m, "req_set_uri", |lua, this, uri: String| {
            this.side(lua, false, &Value::String(lua.create_string(&uri)?))?;
            with_txn(&this.cell, |t| rewrite_uri(t, |_| uri.clone()))
        });
        crate::errors::add_method(
            m,
            "res_set_status",
            |lua, this, (status, reason): (u16, Option<String>)| {
                let top = match &reason {
                    Some(r) => Value::String(lua.create_string(r)?),
                    None => Value::Integer(i64::from(status)),
                };
                this.side(lua, true, &top)?;
                // The phrase given, else HAProxy's for the status (as `set-status` does).
                with_txn(&this.cell, |t| {
                    if let Some(r) = t.response.as_mut() {
                        r.status = status;
                        t.status_reason = Some(reason);
                    }
                })
            },
        );
    }
}
