//! HAProxy's `AppletHTTP`: a script service answering a request itself. The request body has
//! been read before the service starts; the response goes out once the script has begun it and
//! waits (or ends), and the rest of its body as the script sends it. A script sending more
//! than a buffer's worth (`tune.bufsize`) without waiting is yielded until the client takes
//! it, as HAProxy's `applet:send` waits for room: a large body is not held whole.

use crate::state::State;
use crate::txn::{headers_table, vars_methods, SampleSet, TxnCell};
use bytes::Bytes;
use hapee_runtime::script::{ScriptBody, ScriptReply, StreamedBody};
use hapee_runtime::txn::Txn;
use mlua::{Function, Table, UserData, UserDataMethods, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// What the service has said so far.
#[derive(Default)]
pub struct Response {
    pub status: u16,
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub started: bool,
    /// How many body bytes the script has sent in all.
    pub sent: u64,
    /// The `content-length` the script gave, kept here once its head has gone out.
    length: Option<u64>,
}

impl Response {
    /// Whether what the script has sent completes the `content-length` it gave: the client's
    /// side then takes no more, and a script waiting to send would never be run on.
    fn complete(&self) -> bool {
        self.length().is_some_and(|length| self.sent >= length)
    }

    fn length(&self) -> Option<u64> {
        self.length.or_else(|| {
            self.headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse().ok())
        })
    }
}

pub struct AppletHttp {
    pub cell: TxnCell,
    pub body: Bytes,
    /// How much of the body `receive`/`getline` have consumed.
    pub read: usize,
    pub response: Arc<Mutex<Response>>,
    /// The state the service runs in (it yields the service when its buffer is full).
    pub state: State,
    /// How many bytes sent and not yet taken by the client's side make `send` yield.
    pub room: usize,
}

impl AppletHttp {
    fn respond<R>(&self, f: impl FnOnce(&mut Response) -> R) -> mlua::Result<R> {
        self.response
            .lock()
            .map(|mut r| f(&mut r))
            .map_err(|_| mlua::Error::runtime("applet poisoned"))
    }
}

impl AppletHttp {
    /// The object an HTTP service gets, shaped as HAProxy's `AppletHTTP`: its userdata at `[0]`,
    /// its `f`, `sf`, `c` and `sc` objects (`samples`, reading `self.cell`), the request's
    /// `method`, `path`, `qs`, `version`, `length` and `headers`, and an empty `response`
    /// table as fields, set before the script starts, as HAProxy sets them.
    fn object(self, samples: &SampleSet, txn: &Txn) -> mlua::Result<Table> {
        let state = self.state.clone();
        let lua = &state.lua;
        let length = self.body.len();
        let ud = lua.create_userdata(self)?;
        let Some(r) = txn.request.as_ref() else {
            return Err(mlua::Error::runtime("no request"));
        };
        // The start line's version as HAProxy's HTX holds it.
        let version = match r.version {
            hyper::Version::HTTP_10 => "HTTP/1.0",
            hyper::Version::HTTP_2 => "HTTP/2.0",
            hyper::Version::HTTP_3 => "HTTP/3.0",
            _ => "HTTP/1.1",
        };
        let (f, sf, c, sc) = samples.objects();
        let args = (
            &ud,
            f,
            sf,
            c,
            sc,
            r.method.as_str(),
            r.uri.path(),
            r.uri.query().unwrap_or(""),
            version,
            length,
            headers_table(lua, &r.headers)?,
        );
        state
            .applet_http
            .make(lua, "hapee.AppletHTTP", HTTP_OBJECT, &ud, args)
    }
}

/// An `AppletHTTP` object from its userdata, fetches, converters and request fields; HAProxy's
/// carry an empty `response` table too.
const HTTP_OBJECT: &str = "function(ud, f, sf, c, sc, method, path, qs, version, length, headers)
  return setmetatable({ [0] = ud, f = f, sf = sf, c = c, sc = sc, method = method, path = path,
    qs = qs, version = version, length = length, headers = headers, response = {} }, meta)
end";

/// An `AppletTCP` object from its userdata, fetches and converters.
const TCP_OBJECT: &str = "function(ud, f, sf, c, sc)
  return setmetatable({ [0] = ud, f = f, sf = sf, c = c, sc = sc }, meta)
end";

impl UserData for AppletHttp {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        vars_methods(m, |a: &AppletHttp| &a.cell);
        crate::txn::priv_methods(m, |a: &AppletHttp| {
            crate::txn::PrivSlot::Stream(&a.cell, a.state.id)
        });
        crate::errors::add_method(
            m,
            "set_status",
            |_, this, (status, reason): (u16, Option<String>)| {
                this.respond(|r| {
                    r.status = status;
                    r.reason = reason;
                })
            },
        );
        crate::errors::add_method(
            m,
            "add_header",
            |_, this, (name, value): (String, Value)| {
                let value = match value {
                    Value::String(s) => s.to_string_lossy(),
                    Value::Integer(i) => i.to_string(),
                    Value::Number(n) => n.to_string(),
                    other => other.to_string()?,
                };
                this.respond(|r| r.headers.push((name, value)))
            },
        );
        m.add_method("start_response", |_, this, ()| {
            this.respond(|r| r.started = true)
        });
        crate::errors::add_method(m, "send", |lua, this, data: mlua::String| {
            let full = this.respond(|r| {
                r.started = true;
                let data = data.as_bytes();
                r.body.extend_from_slice(&data);
                r.sent += data.len() as u64;
                r.body.len() >= this.room && !r.complete()
            })?;
            // The script goes on once the response body has taken what it sent, which it
            // does as the client reads (`Streaming`): the response then streams.
            if full {
                this.state.yield_soon(lua);
            }
            Ok(())
        });
        crate::errors::add_method_mut(m, "receive", |lua, this, size: Option<usize>| {
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

/// [`AppletHttp::room`] before the proxy has started (HAProxy's default `tune.bufsize`).
const DEFAULT_ROOM: usize = 16384;

/// A service's script, running (boxed, so that the response body can run it on).
type Run = Pin<Box<dyn Future<Output = mlua::Result<()>>>>;

/// Runs HTTP service `func` (registered as `name`) on `txn`, whose request body is `body`,
/// until the script ends or, once it has begun its response, waits: the reply then carries
/// the rest of the body, which runs the script on as the client reads it.
pub async fn serve(
    state: State,
    name: String,
    func: Function,
    txn: Txn,
    body: Bytes,
) -> (Txn, Option<ScriptReply>) {
    let frontend = txn.frontend.clone();
    let samples = match SampleSet::lend(&state) {
        Ok(samples) => samples,
        Err(e) => {
            let what = format!("Lua applet http '<lua.{name}>'");
            crate::report(&state, &what, &e, Some(&frontend));
            return (txn, None);
        }
    };
    let cell = samples.cell.clone();
    let response: Arc<Mutex<Response>> = Arc::default();
    let room = state
        .shared
        .get()
        .map_or(DEFAULT_ROOM, |s| s.bufsize.max(1024));
    let applet = AppletHttp {
        cell: cell.clone(),
        body,
        read: 0,
        response: response.clone(),
        state: state.clone(),
        room,
    };
    // The object is made before the transaction is lent: its fields are read from the request.
    let object = applet.object(&samples, &txn);
    *cell.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(txn));
    let mut run: Run = {
        let state = state.clone();
        Box::pin(async move { state.run((&func, &object?), state.limits.service).await })
    };
    let service = Service {
        state: state.clone(),
        name,
        frontend,
        response,
    };
    let ended = std::future::poll_fn(|cx| match run.as_mut().poll(cx) {
        Poll::Ready(result) => Poll::Ready(Some(result)),
        Poll::Pending if service.respond(|r| r.started) => Poll::Ready(None),
        Poll::Pending => Poll::Pending,
    })
    .await;
    let reply = match ended {
        Some(result) => service.ended(result),
        // The script runs on with its objects: they are not kept for another applet.
        None => {
            let reply = service.streamed(run, cell.clone());
            return (*crate::take_back(&cell), Some(reply));
        }
    };
    let txn = *crate::take_back(&cell);
    drop(run);
    samples.give_back(&state);
    (txn, reply)
}

/// A service's script and what it has said so far.
#[derive(Clone)]
struct Service {
    state: State,
    name: String,
    frontend: Arc<str>,
    response: Arc<Mutex<Response>>,
}

impl Service {
    fn respond<R>(&self, f: impl FnOnce(&mut Response) -> R) -> R {
        f(&mut self.response.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether the script failed (and reports it as HAProxy does); `core.done()` is no
    /// failure.
    fn failed(&self, result: &mlua::Result<()>) -> bool {
        match result {
            Err(e) if !crate::is_done(e) => {
                let what = format!("Lua applet http '<lua.{}>'", self.name);
                crate::report(&self.state, &what, e, Some(&self.frontend));
                true
            }
            _ => false,
        }
    }

    /// The reply of a script that ran to its end before its response went out.
    fn ended(&self, result: mlua::Result<()>) -> Option<ScriptReply> {
        let r = self.respond(std::mem::take);
        let failed = self.failed(&result);
        if !r.started {
            // Before the response began (the script failed, or ended without one), HAProxy
            // answers 500 in its place, with an alert only for a failure.
            return None;
        }
        // After, the client keeps what was sent, and a failure cuts its connection.
        Some(ScriptReply {
            status: if r.status == 0 { 200 } else { r.status },
            reason: r.reason,
            headers: r.headers,
            body: Bytes::from(r.body),
            cut: failed,
            rest: None,
        })
    }

    /// The head of a response begun by a script that runs on: its body is what the script
    /// sends, from what it sent so far.
    fn streamed(self, run: Run, slot: TxnCell) -> ScriptReply {
        let (status, reason, headers) = self.respond(|r| {
            r.length = r.length();
            (r.status, r.reason.take(), std::mem::take(&mut r.headers))
        });
        ScriptReply {
            status: if status == 0 { 200 } else { status },
            reason,
            headers,
            body: Bytes::new(),
            cut: false,
            rest: Some(StreamedBody {
                slot,
                source: Box::new(Streaming {
                    run: Some(run),
                    service: self,
                    failed: false,
                }),
            }),
        }
    }
}

/// The body of a response whose script runs on.
struct Streaming {
    /// `None` once the script has ended.
    run: Option<Run>,
    service: Service,
    failed: bool,
}

impl ScriptBody for Streaming {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, ()>>> {
        if let Some(run) = self.run.as_mut() {
            if let Poll::Ready(result) = run.as_mut().poll(cx) {
                self.run = None;
                self.failed = self.service.failed(&result);
            }
        }
        let sent = self.service.respond(|r| std::mem::take(&mut r.body));
        if !sent.is_empty() {
            return Poll::Ready(Some(Ok(Bytes::from(sent))));
        }
        match (self.run.is_some(), self.failed) {
            (true, _) => Poll::Pending,
            (false, true) => Poll::Ready(Some(Err(()))),
            (false, false) => Poll::Ready(None),
        }
    }
}

impl Drop for Streaming {
    /// hyper drops a body once it has sent the announced length: a script that waits after
    /// sending all of it (a forced yield, `core.sleep`) runs on to its end in a task of its
    /// own, as HAProxy runs an applet to its end; its `TXN` is over by then. A script whose
    /// client left before its response was complete is stopped, as HAProxy stops it. (Outside
    /// a task, as when a worker stops, there is nobody left to run it.)
    fn drop(&mut self) {
        let Some(run) = self.run.take() else {
            return;
        };
        if !self.service.respond(|r| r.complete()) || tokio::task::try_id().is_none() {
            return;
        }
        let service = self.service.clone();
        tokio::task::spawn_local(async move {
            let result = run.await;
            service.failed(&result);
        });
    }
}

/// The client connection of a TCP service, with what has been read but not yet consumed.
pub struct TcpIo {
    stream: hapee_runtime::script::ServiceIo,
    buffered: Vec<u8>,
    eof: bool,
    pub received: u64,
    pub sent: u64,
}

impl TcpIo {
    /// The client's connection, `held` being what was already read from it.
    pub fn new(stream: hapee_runtime::script::ServiceIo, held: &[u8]) -> TcpIo {
        TcpIo {
            stream,
            buffered: held.to_vec(),
            eof: false,
            received: held.len() as u64,
            sent: 0,
        }
    }

    /// Reads more from the client; false at the end of its data.
    async fn fill(&mut self) -> bool {
        use tokio::io::AsyncReadExt;
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.received += n as u64;
                self.buffered.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Takes the first `n` buffered bytes (all of them when fewer).
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buffered.len());
        self.buffered.drain(..n).collect()
    }

    pub async fn close(&mut self) {
        use tokio::io::AsyncWriteExt;
        let _ = self.stream.shutdown().await;
    }
}

/// HAProxy's `AppletTCP`: a script service speaking to the client connection itself.
pub struct AppletTcp {
    pub cell: TxnCell,
    pub io: Arc<tokio::sync::Mutex<TcpIo>>,
    /// The id of the state the service runs in (whose private value it reads).
    pub state_id: usize,
}

impl AppletTcp {
    /// The object a TCP service gets, shaped as HAProxy's `AppletTCP`: its userdata at `[0]`
    /// and its `f`, `sf`, `c` and `sc` objects (`samples`, reading `self.cell`) as fields.
    pub fn object(self, state: &State, samples: &SampleSet) -> mlua::Result<Table> {
        let ud = state.lua.create_userdata(self)?;
        let (f, sf, c, sc) = samples.objects();
        state.applet_tcp.make(
            &state.lua,
            "hapee.AppletTCP",
            TCP_OBJECT,
            &ud,
            (&ud, f, sf, c, sc),
        )
    }
}

/// Bytes for Lua: an empty string once the client has nothing more to give, as in HAProxy.
fn chunk(lua: &mlua::Lua, data: Vec<u8>) -> mlua::Result<Value> {
    Ok(Value::String(lua.create_string(&data)?))
}

impl UserData for AppletTcp {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        vars_methods(m, |a: &AppletTcp| &a.cell);
        crate::txn::priv_methods(m, |a: &AppletTcp| {
            crate::txn::PrivSlot::Stream(&a.cell, a.state_id)
        });
        crate::errors::add_async_method(
            m,
            "receive",
            |lua, this, size: Option<usize>| async move {
                let mut io = this.io.lock().await;
                match size {
                    Some(n) => while io.buffered.len() < n && io.fill().await {},
                    None => while io.fill().await {},
                }
                let data = io.take(size.unwrap_or(usize::MAX));
                chunk(&lua, data)
            },
        );
        m.add_async_method("getline", |lua, this, ()| async move {
            let mut io = this.io.lock().await;
            loop {
                if let Some(i) = io.buffered.iter().position(|b| *b == b'\n') {
                    let line = io.take(i + 1);
                    return chunk(&lua, line);
                }
                if !io.fill().await {
                    let rest = io.take(usize::MAX);
                    return chunk(&lua, rest);
                }
            }
        });
        crate::errors::add_async_method(m, "send", |_, this, data: mlua::String| async move {
            use tokio::io::AsyncWriteExt;
            let bytes = data.as_bytes().to_vec();
            let mut io = this.io.lock().await;
            if io.stream.write_all(&bytes).await.is_ok() {
                io.sent += bytes.len() as u64;
            }
            Ok(())
        });
    }
}
