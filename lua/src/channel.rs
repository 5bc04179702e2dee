//! HAProxy's `Channel` class (`txn.req`, `txn.res`): the bytes a TCP-mode stream holds while
//! its `tcp-request content` rules run. The request channel's bytes are what the client sent
//! and the rules held; what a script leaves there (changed, added, removed) is what the server
//! receives first. `send` and `forward` move bytes to the outgoing part, ahead of the rest.
//! In HTTP mode only the informative functions answer (`input`, `output`, `is_full`,
//! `may_recv`, `is_resp`), as in HAProxy, where the others may not alter an HTTP message.

use crate::txn::{with_txn, TxnCell};
use bytes::Bytes;
use hapee_runtime::txn::Txn;
use mlua::{Lua, UserData, UserDataMethods, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Channel {
    pub cell: TxnCell,
    pub response: bool,
    /// How many leading bytes of the held data are outgoing (forwarded or sent).
    pub outgoing: Arc<AtomicUsize>,
}

/// The held bytes of `t`'s channel (the response side's while `tcp-response content` rules
/// hold the server's first bytes).
fn held(t: &Txn, response: bool) -> Option<Bytes> {
    if response {
        t.res_payload.clone()
    } else {
        t.payload.clone()
    }
}

/// Whether no more bytes will come to `t`'s channel before its rules decide.
fn held_final(t: &Txn, response: bool) -> bool {
    if response {
        t.res_payload_final
    } else {
        t.payload_final
    }
}

/// Offset and length as HAProxy reads them over the incoming `len` bytes: a negative offset
/// counts from the end; no length (or -1) is everything after the offset.
fn span(len: usize, offset: Option<i64>, length: Option<i64>) -> (usize, usize) {
    let len_i = len as i64;
    let start = match offset.unwrap_or(0) {
        o if o < 0 => (len_i + o).max(0),
        o => o.min(len_i),
    } as usize;
    let rest = len - start;
    let n = match length {
        None => rest,
        Some(l) if l < 0 => rest,
        Some(l) => (l as usize).min(rest),
    };
    (start, n)
}

impl Channel {
    /// Runs `f` on (outgoing, incoming) bytes; what it returns as the new incoming bytes
    /// replaces them. HTTP streams refuse: their messages are not raw bytes.
    fn edit<R>(&self, f: impl FnOnce(&[u8], &mut Vec<u8>) -> (R, bool)) -> mlua::Result<Option<R>> {
        let out = self.outgoing.load(Ordering::Relaxed);
        let response = self.response;
        let outgoing = self.outgoing.clone();
        with_txn(&self.cell, |t| {
            if t.request.is_some() {
                return Err(mlua::Error::runtime(
                    "Channel functions that alter or read data cannot be used from an HTTP context",
                ));
            }
            let Some(data) = held(t, response) else {
                return Ok(None);
            };
            let out = out.min(data.len());
            let mut incoming = data[out..].to_vec();
            let (r, changed) = f(&data[..out], &mut incoming);
            if changed {
                let mut all = data[..out].to_vec();
                all.extend_from_slice(&incoming);
                let all = Some(Bytes::from(all));
                if response {
                    t.res_payload = all;
                } else {
                    t.payload = all;
                }
                outgoing.store(out, Ordering::Relaxed);
            }
            Ok(Some(r))
        })?
    }

    fn input_len(&self) -> mlua::Result<usize> {
        let out = self.outgoing.load(Ordering::Relaxed);
        let response = self.response;
        with_txn(&self.cell, |t| match (held(t, response), &t.request_body) {
            (Some(d), _) => d.len().saturating_sub(out),
            (None, Some(body)) if !response => body.len(),
            _ => 0,
        })
    }

    /// Makes `n` more incoming bytes outgoing.
    fn forward(&self, n: usize) -> mlua::Result<usize> {
        let n = n.min(self.input_len()?);
        self.outgoing.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }
}

fn string_or_nil(lua: &Lua, data: Option<Vec<u8>>) -> mlua::Result<Value> {
    match data {
        Some(d) if !d.is_empty() => Ok(Value::String(lua.create_string(&d)?)),
        _ => Ok(Value::Nil),
    }
}

/// The first line of `data` (through its `\n`), else all of it.
fn first_line(data: &[u8]) -> &[u8] {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => &data[..=i],
        None => data,
    }
}

impl UserData for Channel {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("input", |_, this, ()| this.input_len());
        m.add_method("get_in_len", |_, this, ()| this.input_len());
        for name in ["output", "get_out_len"] {
            m.add_method(name, |_, this, ()| {
                Ok(this.outgoing.load(Ordering::Relaxed))
            });
        }
        m.add_method("is_resp", |_, this, ()| Ok(this.response));
        m.add_method("is_full", |_, this, ()| {
            with_txn(&this.cell, |t| {
                held(t, this.response).is_some_and(|p| p.len() >= t.shared.bufsize.max(1024))
            })
        });
        m.add_method("may_recv", |_, this, ()| {
            with_txn(&this.cell, |t| !held_final(t, this.response))
        });
        m.add_method(
            "data",
            |lua, this, (offset, length): (Option<i64>, Option<i64>)| {
                let d = this.edit(|_, inc| {
                    let (s, n) = span(inc.len(), offset, length);
                    (inc[s..s + n].to_vec(), false)
                })?;
                string_or_nil(lua, d)
            },
        );
        m.add_method(
            "line",
            |lua, this, (offset, length): (Option<i64>, Option<i64>)| {
                let d = this.edit(|_, inc| {
                    let (s, n) = span(inc.len(), offset, length);
                    (first_line(&inc[s..s + n]).to_vec(), false)
                })?;
                string_or_nil(lua, d)
            },
        );
        m.add_method("dup", |lua, this, ()| {
            let d = this.edit(|_, inc| (inc.clone(), false))?;
            string_or_nil(lua, d)
        });
        m.add_method("get", |lua, this, ()| {
            let d = this.edit(|_, inc| (std::mem::take(inc), true))?;
            string_or_nil(lua, d)
        });
        m.add_method("getline", |lua, this, ()| {
            let d = this.edit(|_, inc| {
                let n = first_line(inc).len();
                (inc.drain(..n).collect(), true)
            })?;
            string_or_nil(lua, d)
        });
        m.add_method(
            "remove",
            |_, this, (offset, length): (Option<i64>, Option<i64>)| {
                let n = this.edit(|_, inc| {
                    let (s, n) = span(inc.len(), offset, length);
                    inc.drain(s..s + n);
                    (n, true)
                })?;
                Ok(n.unwrap_or(0))
            },
        );
        m.add_method(
            "set",
            |_, this, (data, offset, length): (mlua::String, Option<i64>, Option<i64>)| {
                let bytes = data.as_bytes().to_vec();
                let n = this.edit(|_, inc| {
                    let (s, n) = span(inc.len(), offset, length);
                    inc.splice(s..s + n, bytes.iter().copied());
                    (bytes.len() as i64, true)
                })?;
                Ok(n.unwrap_or(-1))
            },
        );
        m.add_method(
            "insert",
            |_, this, (data, offset): (mlua::String, Option<i64>)| {
                let bytes = data.as_bytes().to_vec();
                let n = this.edit(|_, inc| {
                    let (s, _) = span(inc.len(), offset, Some(0));
                    inc.splice(s..s, bytes.iter().copied());
                    (bytes.len() as i64, true)
                })?;
                Ok(n.unwrap_or(-1))
            },
        );
        for (name, at_end) in [("append", true), ("prepend", false)] {
            m.add_method(name, move |_, this, data: mlua::String| {
                let bytes = data.as_bytes().to_vec();
                let n = this.edit(|_, inc| {
                    let at = if at_end { inc.len() } else { 0 };
                    inc.splice(at..at, bytes.iter().copied());
                    (bytes.len() as i64, true)
                })?;
                Ok(n.unwrap_or(-1))
            });
        }
        // Sent at once: in front of the incoming bytes, and outgoing.
        m.add_method("send", |_, this, data: mlua::String| {
            let bytes = data.as_bytes().to_vec();
            let n = this.edit(|_, inc| {
                inc.splice(0..0, bytes.iter().copied());
                (bytes.len(), true)
            })?;
            match n {
                Some(n) => Ok(this.forward(n)? as i64),
                None => Ok(-1),
            }
        });
        m.add_method("forward", |_, this, n: usize| this.forward(n));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn offsets_and_lengths_read_as_haproxy_reads_them() {
        assert_eq!(super::span(10, None, None), (0, 10));
        assert_eq!(super::span(10, Some(-3), None), (7, 3));
        assert_eq!(super::span(10, Some(2), Some(3)), (2, 3));
        assert_eq!(super::span(10, Some(8), Some(5)), (8, 2));
        assert_eq!(super::span(10, Some(20), Some(-1)), (10, 0));
    }
}
