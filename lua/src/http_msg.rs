//! HAProxy's `HTTPMessage` class (`http_msg` in a filter's callbacks, `txn.http_req` and
//! `txn.http_res`): the head of the request or response, and, in `http_payload`, the body
//! bytes the filter has not let go yet. Offsets count from the first of those bytes.

use crate::txn::{with_txn, TxnCell};
use bytes::BytesMut;
use hapee_runtime::http::header_order;
use mlua::{Lua, MultiValue, UserData, UserDataMethods, Value};
use std::sync::{Arc, Mutex};

/// The body bytes an `http_payload` callback works on.
#[derive(Default)]
pub struct Payload {
    pub data: BytesMut,
    /// How many leading bytes of `data` the callback has forwarded (`forward`, `send`).
    pub forwarded: usize,
    /// No more body follows.
    pub eom: bool,
}

impl Payload {
    fn input(&self) -> usize {
        self.data.len() - self.forwarded
    }
}

pub type SharedPayload = Arc<Mutex<Payload>>;

pub struct HttpMsg {
    pub cell: TxnCell,
    pub response: bool,
    /// Set during `http_payload` for the message it filters.
    pub payload: Option<SharedPayload>,
}

fn payload(this: &HttpMsg) -> mlua::Result<std::sync::MutexGuard<'_, Payload>> {
    let p = this
        .payload
        .as_ref()
        .ok_or_else(|| mlua::Error::runtime("only available in the http_payload callback"))?;
    p.lock()
        .map_err(|_| mlua::Error::runtime("payload poisoned"))
}

/// An offset as HAProxy reads one over `input` bytes: a negative one counts from the end.
fn offset_in(input: usize, offset: Option<i64>) -> mlua::Result<usize> {
    let o = match offset.unwrap_or(0) {
        o if o < 0 => (input as i64 + o).max(0),
        o => o,
    };
    if o as usize > input {
        return Err(mlua::Error::runtime("offset out of range."));
    }
    Ok(o as usize)
}

fn args_between(args: &MultiValue, min: usize, max: usize, what: &str) -> mlua::Result<()> {
    if args.len() < min || args.len() > max {
        return Err(mlua::Error::runtime(what.to_string()));
    }
    Ok(())
}

fn int_at(args: &MultiValue, i: usize) -> mlua::Result<Option<i64>> {
    match args.get(i) {
        None => Ok(None),
        Some(Value::Integer(n)) => Ok(Some(*n)),
        Some(Value::Number(n)) => Ok(Some(*n as i64)),
        Some(Value::String(s)) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| crate::errors::arg_error(i + 2, "number expected")),
        Some(_) => Err(crate::errors::arg_error(i + 2, "number expected")),
    }
}

fn bytes_at(args: &MultiValue, i: usize) -> mlua::Result<Vec<u8>> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Integer(n)) => Ok(n.to_string().into_bytes()),
        Some(Value::Number(n)) => Ok(n.to_string().into_bytes()),
        _ => Err(crate::errors::arg_error(i + 2, "string expected")),
    }
}

/// Puts `text` at `at` (an index into `data`), the bytes from `at` on moved after it.
fn splice(data: &mut BytesMut, at: usize, remove: usize, text: &[u8]) {
    let tail = data.split_off(at);
    data.extend_from_slice(text);
    data.extend_from_slice(&tail[remove.min(tail.len())..]);
}

impl UserData for HttpMsg {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("is_resp", |_, this, ()| Ok(this.response));
        m.add_method("get_stline", |lua, this, ()| {
            let t = lua.create_table()?;
            with_txn(&this.cell, |txn| -> mlua::Result<()> {
                if this.response {
                    if let Some(r) = &txn.response {
                        t.set("version", hapee_runtime::logfmt::version(r.version))?;
                        t.set("code", r.status.to_string())?;
                        let reason = hyper::StatusCode::from_u16(r.status)
                            .ok()
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or("");
                        t.set("reason", reason)?;
                    }
                } else if let Some(r) = &txn.request {
                    t.set("method", r.method.as_str())?;
                    t.set("uri", r.uri.to_string())?;
                    t.set("version", hapee_runtime::logfmt::version(r.version))?;
                }
                Ok(())
            })??;
            Ok(t)
        });
        m.add_method("get_headers", |lua, this, ()| {
            let h = with_txn(&this.cell, |t| {
                crate::txn::heads(t, this.response)
                    .map(|h| h.clone())
                    .unwrap_or_default()
            })?;
            crate::txn::headers_table(lua, &h)
        });
        for (name, replace) in [("set_header", true), ("add_header", false)] {
            m.add_method(name, move |_, this, (n, v): (String, String)| {
                let (n, v) = crate::txn::header_pair(&n, &v)?;
                with_txn(&this.cell, |t| {
                    crate::txn::put_header(t, this.response, n, v, replace)
                })
            });
        }
        m.add_method("del_header", |_, this, n: String| {
            let (n, _) = crate::txn::header_pair(&n, "")?;
            with_txn(&this.cell, |t| {
                if let Some(h) = crate::txn::heads(t, this.response) {
                    header_order::remove(h, &n);
                }
            })
        });
        for (name, per_value) in [("rep_header", false), ("rep_value", true)] {
            m.add_method(
                name,
                move |_, this, (n, regex, replace): (String, String, String)| {
                    let (n, _) = crate::txn::header_pair(&n, "")?;
                    let re = regex::Regex::new(&regex)
                        .map_err(|e| mlua::Error::runtime(e.to_string()))?;
                    with_txn(&this.cell, |t| {
                        if let Some(h) = crate::txn::heads(t, this.response) {
                            crate::txn::replace_values(h, &n, &re, &replace, per_value);
                        }
                    })
                },
            );
        }
        m.add_method("set_method", |_, this, method: String| {
            request_only(this)?;
            with_txn(&this.cell, |t| crate::txn::set_method(t, &method))
        });
        m.add_method("set_path", |_, this, path: String| {
            request_only(this)?;
            with_txn(&this.cell, |t| {
                crate::txn::rewrite_uri(t, |u| match u.query() {
                    Some(q) => format!("{path}?{q}"),
                    None => path.clone(),
                })
            })
        });
        m.add_method("set_query", |_, this, query: String| {
            request_only(this)?;
            with_txn(&this.cell, |t| {
                crate::txn::rewrite_uri(t, |u| format!("{}?{query}", u.path()))
            })
        });
        m.add_method("set_uri", |_, this, uri: String| {
            request_only(this)?;
            with_txn(&this.cell, |t| crate::txn::rewrite_uri(t, |_| uri.clone()))
        });
        m.add_method(
            "set_status",
            |_, this, (status, _reason): (i64, Option<String>)| {
                if !this.response {
                    return Err(mlua::Error::runtime("not a response"));
                }
                let Ok(status) = u16::try_from(status) else {
                    return Ok(false);
                };
                if !(100..=999).contains(&status) {
                    return Ok(false);
                }
                with_txn(&this.cell, |t| {
                    t.response.as_mut().map(|r| r.status = status).is_some()
                })
            },
        );
        m.add_method("is_full", |_, _, ()| Ok(false));
        m.add_method("may_recv", |_, this, ()| {
            Ok(this
                .payload
                .as_ref()
                .is_some_and(|p| p.lock().is_ok_and(|p| !p.eom)))
        });
        m.add_method("eom", |_, this, ()| {
            Ok(this
                .payload
                .as_ref()
                .is_some_and(|p| p.lock().is_ok_and(|p| p.eom)))
        });
        m.add_method("input", |_, this, ()| {
            Ok(this
                .payload
                .as_ref()
                .and_then(|p| p.lock().ok().map(|p| p.input()))
                .unwrap_or(0))
        });
        m.add_method("output", |_, this, ()| {
            Ok(this
                .payload
                .as_ref()
                .and_then(|p| p.lock().ok().map(|p| p.forwarded))
                .unwrap_or(0))
        });
        m.add_method("body", |lua, this, args: MultiValue| {
            args_between(&args, 0, 2, "'data' expects at most 2 arguments")?;
            let p = payload(this)?;
            let input = p.input();
            let start = offset_in(input, int_at(&args, 0)?)?;
            let len = match int_at(&args, 1)? {
                None | Some(-1) => input - start,
                Some(n) if n < 0 => return Err(mlua::Error::runtime("length out of range.")),
                Some(n) => (n as usize).min(input - start),
            };
            if len == 0 {
                return Ok(Value::Nil);
            }
            let from = p.forwarded + start;
            Ok(Value::String(lua.create_string(&p.data[from..from + len])?))
        });
        m.add_method("set", |_, this, args: MultiValue| {
            args_between(
                &args,
                1,
                3,
                "'set' expects at least 1 argument and at most 3 arguments",
            )?;
            let text = bytes_at(&args, 0)?;
            let mut p = payload(this)?;
            let input = p.input();
            let start = offset_in(input, int_at(&args, 1)?)?;
            let len = match int_at(&args, 2)? {
                None | Some(-1) => input - start,
                Some(n) if n < 0 || start + n as usize > input => {
                    return Err(mlua::Error::runtime("length out of range."))
                }
                Some(n) => n as usize,
            };
            let at = p.forwarded + start;
            splice(&mut p.data, at, len, &text);
            Ok(text.len() as i64)
        });
        for (name, front) in [("append", false), ("prepend", true)] {
            m.add_method(name, move |_, this, text: mlua::String| {
                let mut p = payload(this)?;
                let at = if front { p.forwarded } else { p.data.len() };
                splice(&mut p.data, at, 0, &text.as_bytes());
                Ok(text.as_bytes().len() as i64)
            });
        }
        m.add_method("insert", |_, this, args: MultiValue| {
            args_between(
                &args,
                1,
                2,
                "'insert' expects at least 1 argument and at most 2 arguments",
            )?;
            let text = bytes_at(&args, 0)?;
            let mut p = payload(this)?;
            let start = offset_in(p.input(), int_at(&args, 1)?)?;
            let at = p.forwarded + start;
            splice(&mut p.data, at, 0, &text);
            Ok(text.len() as i64)
        });
        m.add_method("remove", |_, this, args: MultiValue| {
            args_between(&args, 0, 2, "'remove' expects at most 2 arguments")?;
            let mut p = payload(this)?;
            let input = p.input();
            let start = offset_in(input, int_at(&args, 0)?)?;
            let len = match int_at(&args, 1)? {
                None | Some(-1) => input - start,
                Some(n) if n < 0 || start + n as usize > input => {
                    return Err(mlua::Error::runtime("length out of range."))
                }
                Some(n) => n as usize,
            };
            let at = p.forwarded + start;
            splice(&mut p.data, at, len, b"");
            Ok(len as i64)
        });
        m.add_method("forward", |_, this, n: i64| {
            let mut p = payload(this)?;
            let n = (n.max(0) as usize).min(p.input());
            p.forwarded += n;
            Ok(())
        });
        m.add_method("send", |_, this, text: mlua::String| {
            let mut p = payload(this)?;
            let at = p.forwarded;
            splice(&mut p.data, at, 0, &text.as_bytes());
            p.forwarded += text.as_bytes().len();
            Ok(text.as_bytes().len() as i64)
        });
        m.add_method("set_eom", |_, this, ()| {
            payload(this)?.eom = true;
            Ok(())
        });
        m.add_method("unset_eom", |_, this, ()| {
            payload(this)?.eom = false;
            Ok(())
        });
    }
}

fn request_only(this: &HttpMsg) -> mlua::Result<()> {
    if this.response {
        return Err(mlua::Error::runtime("not a request"));
    }
    Ok(())
}

/// An `HTTPMessage` object: the userdata at `[0]`, its `channel` field the transaction's
/// channel object of the same side.
pub fn object(lua: &Lua, msg: HttpMsg, channel: Value) -> mlua::Result<mlua::Table> {
    let ud = lua.create_userdata(msg)?;
    let object = crate::object::shaped(lua, ud, "hapee.HTTPMessage")?;
    object.raw_set("channel", channel)?;
    Ok(object)
}
