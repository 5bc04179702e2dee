//! HAProxy's `AppletHTTP`: a script service answering a request itself. The request body has
//! been read before the service starts; the response is gathered and sent when it returns.

use crate::txn::{headers_table, vars_methods, TxnCell};
use bytes::Bytes;
use mlua::{UserData, UserDataMethods, Value};
use std::sync::{Arc, Mutex};

/// What the service has said so far.
#[derive(Default)]
pub struct Response {
    pub status: u16,
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub started: bool,
}

pub struct AppletHttp {
    pub cell: TxnCell,
    pub body: Bytes,
    /// How much of the body `receive`/`getline` have consumed.
    pub read: usize,
    pub response: Arc<Mutex<Response>>,
}

impl AppletHttp {
    fn respond<R>(&self, f: impl FnOnce(&mut Response) -> R) -> mlua::Result<R> {
        self.response
            .lock()
            .map(|mut r| f(&mut r))
            .map_err(|_| mlua::Error::runtime("applet poisoned"))
    }

    fn request<R>(
        &self,
        f: impl FnOnce(&hapee_runtime::txn::RequestView) -> R,
    ) -> mlua::Result<Option<R>> {
        crate::txn::with_txn(&self.cell, |t| t.request.as_ref().map(f))
    }
}

impl UserData for AppletHttp {
    fn add_fields<F: mlua::UserDataFields<Self>>(f: &mut F) {
        f.add_field_method_get("method", |_, this| {
            this.request(|r| r.method.as_str().to_string())
        });
        f.add_field_method_get("path", |_, this| this.request(|r| r.uri.path().to_string()));
        f.add_field_method_get("qs", |_, this| {
            this.request(|r| r.uri.query().unwrap_or("").to_string())
        });
        f.add_field_method_get("version", |_, this| {
            this.request(|r| match r.version {
                hyper::Version::HTTP_10 => "1.0",
                hyper::Version::HTTP_2 => "2.0",
                _ => "1.1",
            })
        });
        f.add_field_method_get("length", |_, this| Ok(this.body.len()));
        f.add_field_method_get("headers", |lua, this| {
            let h = this.request(|r| r.headers.clone())?.unwrap_or_default();
            headers_table(lua, &h)
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        vars_methods(m, |a: &AppletHttp| &a.cell);
        m.add_method(
            "set_status",
            |_, this, (status, reason): (u16, Option<String>)| {
                this.respond(|r| {
                    r.status = status;
                    r.reason = reason;
                })
            },
        );
        m.add_method("add_header", |_, this, (name, value): (String, Value)| {
            let value = match value {
                Value::String(s) => s.to_string_lossy(),
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                other => other.to_string()?,
            };
            this.respond(|r| r.headers.push((name, value)))
        });
        m.add_method("start_response", |_, this, ()| {
            this.respond(|r| r.started = true)
        });
        m.add_method("send", |_, this, data: mlua::String| {
            this.respond(|r| {
                r.started = true;
                r.body.extend_from_slice(&data.as_bytes());
            })
        });
        m.add_method_mut("receive", |lua, this, size: Option<usize>| {
            let rest = &this.body[this.read..];
            let n = size.unwrap_or(rest.len()).min(rest.len());
            let out = lua.create_string(&rest[..n])?;
            this.read += n;
            Ok(out)
        });
        m.add_method_mut("getline", |lua, this, ()| {
            let rest = &this.body[this.read..];
            let n = rest
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let out = lua.create_string(&rest[..n])?;
            this.read += n;
            Ok(out)
        });
    }
}
