//! HAProxy's `Channel` class (`txn.req`, `txn.res`): the bytes a TCP-mode stream holds while
//! its `tcp-request content` rules run. The request channel's bytes are what the client sent
//! and the rules held; what a script leaves there (changed, added, removed) is what the server
//! receives first. `send` and `forward` move bytes to the outgoing part, ahead of the rest.
//! In HTTP mode only the informative functions answer (`input`, `output`, `is_full`,
//! `may_recv`, `is_resp`), as in HAProxy, where the others may not alter an HTTP message.

use crate::txn::{with_txn, TxnCell};
use bytes::Bytes;
use hapee_runtime::script::More;
use hapee_runtime::txn::Txn;
use mlua::{Lua, UserData, UserDataMethods, Value, Variadic};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Channel {
    pub cell: TxnCell,
    pub response: bool,
    /// How many leading bytes of the held data are outgoing (forwarded or sent).
    pub outgoing: Arc<AtomicUsize>,
}

/// [`with_txn`] once what the stream read ahead for a waiting script is added to the held
/// bytes: a script that slept sees what came meanwhile (its channel reads, its fetches), as
/// in HAProxy.
pub fn with_fed<R>(cell: &TxnCell, f: impl FnOnce(&mut Txn) -> R) -> mlua::Result<R> {
    with_txn(cell, |t| {
        hapee_runtime::script::absorb(t);
        f(t)
    })
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

/// Offset and length as HAProxy reads them over the incoming `len` bytes for the functions
/// that change them: a negative offset counts from the end; no length (or -1) is everything
/// after the offset.
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

/// Whether the peer closed its side of `t`'s channel.
fn held_closed(t: &Txn, response: bool) -> bool {
    if response {
        t.res_payload_closed
    } else {
        t.payload_closed
    }
}

/// The room a channel's buffer has (HAProxy's `tune.bufsize`).
fn bufsize(t: &Txn) -> usize {
    t.shared.bufsize.max(1024)
}

const HTTP_MODE: &str = "Cannot manipulate HAProxy channels in HTTP mode.";

/// Where a read starts in the `input` incoming bytes, as HAProxy reads an offset: negative
/// counts from the end; past the end is an error.
fn start_at(input: usize, offset: Option<i64>) -> mlua::Result<usize> {
    let input_i = input as i64;
    let start = match offset.unwrap_or(0) {
        o if o < 0 => (input_i + o).max(0),
        o => o,
    };
    if start > input_i {
        return Err(mlua::Error::runtime("offset out of range."));
    }
    Ok(start as usize)
}

/// How many bytes a read wants from `start`: all the incoming ones without a length, the
/// buffer's size for -1.
fn wanted(input: usize, start: usize, length: Option<i64>, bufsize: usize) -> mlua::Result<usize> {
    match length {
        None => Ok(input - start),
        Some(-1) => Ok(bufsize),
        Some(l) if l < 0 => Err(mlua::Error::runtime("length out of range.")),
        Some(l) => Ok(l as usize),
    }
}

impl Channel {
    /// Runs `f` on (outgoing, incoming) bytes; what it returns as the new incoming bytes
    /// replaces them. HTTP streams refuse: their messages are not raw bytes.
    fn edit<R>(&self, f: impl FnOnce(&[u8], &mut Vec<u8>) -> (R, bool)) -> mlua::Result<Option<R>> {
        let out = self.outgoing.load(Ordering::Relaxed);
        let response = self.response;
        let outgoing = self.outgoing.clone();
        with_fed(&self.cell, |t| {
            if t.request.is_some() {
                return Err(mlua::Error::runtime(HTTP_MODE));
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

    /// `txn.res:send()` in a `tcp-request content` action, before the server has said
    /// anything: the bytes go to the client as the script sends them (or once it returns,
    /// when the stream is not reading for it); `None` elsewhere.
    fn to_client(&self, bytes: &[u8]) -> mlua::Result<Option<usize>> {
        if !self.response {
            return Ok(None);
        }
        with_txn(&self.cell, |t| {
            if t.request.is_some() {
                return Err(mlua::Error::runtime(HTTP_MODE));
            }
            if t.res_payload.is_some() {
                return Ok(None);
            }
            let data = Bytes::copy_from_slice(bytes);
            let fed = t.rare().and_then(|r| r.feed.as_ref());
            if !fed.filter(|f| !f.response).is_some_and(|f| f.reply(data)) {
                t.rare_mut().to_client.extend_from_slice(bytes);
            }
            Ok(Some(bytes.len()))
        })?
    }

    fn input_len(&self) -> mlua::Result<usize> {
        let out = self.outgoing.load(Ordering::Relaxed);
        let response = self.response;
        with_fed(&self.cell, |t| {
            match (held(t, response), t.request_body()) {
                (Some(d), _) => d.len().saturating_sub(out),
                (None, Some(body)) if !response => body.len(),
                _ => 0,
            }
        })
    }

    /// Makes `n` more incoming bytes outgoing.
    fn forward(&self, n: usize) -> mlua::Result<usize> {
        let n = n.min(self.input_len()?);
        self.outgoing.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    /// The incoming bytes, and whether the peer closed its side; `None` outside the content
    /// rules of a TCP stream.
    fn incoming(&self) -> mlua::Result<Option<(Bytes, bool)>> {
        let out = self.outgoing.load(Ordering::Relaxed);
        let response = self.response;
        with_fed(&self.cell, |t| {
            if t.request.is_some() {
                return Err(mlua::Error::runtime(HTTP_MODE));
            }
            Ok(held(t, response).map(|d| {
                let out = out.min(d.len());
                (d.slice(out..), held_closed(t, response))
            }))
        })?
    }

    /// Waits for more incoming bytes, as HAProxy's channel functions yield until data
    /// arrives: false (at once) when none will come before the rules decide — the peer
    /// closed, the buffer is full, the inspect delay passed (the action's last call, where
    /// a read answers what is there), or the action may not wait.
    async fn wait_more(&self) -> mlua::Result<bool> {
        let response = self.response;
        let now = tokio::time::Instant::now();
        let feed = with_fed(&self.cell, |t| {
            let feed = t
                .rare()
                .and_then(|r| r.feed.clone())
                .filter(|f| f.response == response && f.until > now);
            let len = held(t, response).map_or(0, |d| d.len());
            let open = !held_final(t, response) && len < bufsize(t);
            feed.filter(|_| open)
        })?;
        let Some(feed) = feed else {
            return Ok(false);
        };
        // Answered with what is there when the delay ends: no reason to abandon the script.
        let more = crate::state::reading_channel(feed.more()).await;
        with_fed(&self.cell, |t| match more {
            More::Data => true,
            More::Closed => false,
            More::Over => {
                if response {
                    t.res_payload_final = true;
                } else {
                    t.payload_final = true;
                }
                false
            }
        })
    }

    /// `data` and `line`: `len` bytes from `offset` (waiting for them while more may come),
    /// up to the first line feed for `line`.
    async fn read(
        &self,
        offset: Option<i64>,
        length: Option<i64>,
        line: bool,
    ) -> mlua::Result<Option<Bytes>> {
        loop {
            let Some((input, _)) = self.incoming()? else {
                return Ok(None);
            };
            let start = start_at(input.len(), offset)?;
            let len = with_txn(&self.cell, |t| {
                wanted(input.len(), start, length, bufsize(t))
            })??;
            if len == 0 {
                return Ok(Some(Bytes::new()));
            }
            let there = &input[start..];
            if line {
                if let Some(i) = there.iter().take(len).position(|b| *b == b'\n') {
                    return Ok(Some(input.slice(start..start + i + 1)));
                }
            }
            if start + len > input.len() && self.wait_more().await? {
                continue;
            }
            return Ok(Some(input.slice(start..start + len.min(there.len()))));
        }
    }

    /// `get` and `getline`: takes the incoming bytes (through the first line feed for
    /// `getline`, waiting for one while more may come); nil once the peer closed and nothing
    /// is left.
    async fn take(&self, line: bool) -> mlua::Result<Option<Vec<u8>>> {
        loop {
            let Some((input, closed)) = self.incoming()? else {
                return Ok(None);
            };
            if input.is_empty() && closed {
                return Ok(None);
            }
            let end = match input.iter().position(|b| *b == b'\n') {
                Some(i) if line => i + 1,
                _ if line && self.wait_more().await? => continue,
                _ => input.len(),
            };
            return self.edit(|_, inc| {
                let end = end.min(inc.len());
                (inc.drain(..end).collect(), true)
            });
        }
    }
}

/// Bytes for Lua (an empty string is a string), `nil` for none.
fn bytes_or_nil(lua: &Lua, data: Option<&[u8]>) -> mlua::Result<Value> {
    match data {
        Some(d) => Ok(Value::String(lua.create_string(d)?)),
        None => Ok(Value::Nil),
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
            with_fed(&this.cell, |t| {
                held(t, this.response).is_some_and(|p| p.len() >= t.shared.bufsize.max(1024))
            })
        });
        m.add_method("may_recv", |_, this, ()| {
            with_fed(&this.cell, |t| {
                let len = held(t, this.response).map_or(0, |d| d.len());
                !held_closed(t, this.response) && len < bufsize(t)
            })
        });
        for (name, line) in [("data", false), ("line", true)] {
            crate::errors::add_async_method(m,
                name,
                move |lua, this, (offset, length, extra): (Option<i64>, Option<i64>, Variadic<Value>)| async move {
                    if !extra.is_empty() {
                        return Err(mlua::Error::runtime(format!(
                            "'{name}' expects at most 2 arguments"
                        )));
                    }
                    let d = this.read(offset, length, line).await?;
                    bytes_or_nil(&lua, d.as_deref())
                },
            );
        }
        m.add_method("dup", |lua, this, ()| match this.incoming()? {
            Some((input, closed)) if !(input.is_empty() && closed) => {
                bytes_or_nil(lua, Some(&input))
            }
            _ => Ok(Value::Nil),
        });
        for (name, line) in [("get", false), ("getline", true)] {
            m.add_async_method(name, move |lua, this, ()| async move {
                let d = this.take(line).await?;
                bytes_or_nil(&lua, d.as_deref())
            });
        }
        crate::errors::add_method(
            m,
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
        crate::errors::add_method(
            m,
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
        crate::errors::add_method(
            m,
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
            crate::errors::add_method(m, name, move |_, this, data: mlua::String| {
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
        crate::errors::add_method(m, "send", |_, this, data: mlua::String| {
            let bytes = data.as_bytes().to_vec();
            if let Some(n) = this.to_client(&bytes)? {
                return Ok(n as i64);
            }
            let n = this.edit(|_, inc| {
                inc.splice(0..0, bytes.iter().copied());
                (bytes.len(), true)
            })?;
            match n {
                Some(n) => Ok(this.forward(n)? as i64),
                None => Ok(-1),
            }
        });
        crate::errors::add_method(m, "forward", |_, this, n: usize| this.forward(n));
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
