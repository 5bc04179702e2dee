//! Script hooks: what the runtime asks of a scripting engine (Lua, in the `hapee-lua` crate)
//! without depending on it. `hapee-lb` builds the engine from the plan and hands it to
//! [`crate::run_with`]; each worker thread then takes its own [`Hooks`] (its per-thread script
//! states, and access to the shared one) and keeps them in a thread-local, so the request path
//! reaches them without carrying them around.
//!
//! Actions and services may wait (`core.sleep`): they take the transaction by value and give it
//! back when done, so that nothing borrowed is held across the wait. Filters
//! (`filter lua.<name>`) never wait: each stream gets its instances ([`ScriptFilter`]), whose
//! callbacks `crate::http::script_filters` calls where HAProxy's filter analyzers would.

use crate::sample::Value;
use crate::txn::Txn;
use bytes::Bytes;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// A future run on the calling worker thread.
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// What a TCP service reads its client from and answers it on: the client's connection, or
/// the service's end of a pipe whose other end goes through the stream's script filters.
pub type ServiceIo = Box<dyn ServiceStream>;

/// A connection a TCP service can take ([`ServiceIo`]).
pub trait ServiceStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> ServiceStream for T {}

/// Builds the hooks of each worker thread.
pub trait Engine: Send + Sync {
    /// Called once the runtime's state is built, before any thread serves: scripts may now
    /// see the proxies, and their init functions run. Errors stop the start.
    fn start(&self, shared: &std::sync::Arc<crate::state::Shared>) -> Result<(), Vec<String>>;
    /// The hooks worker thread `thread` (0-based) uses.
    fn for_thread(&self, thread: usize) -> Rc<dyn Hooks>;
}

/// A response made by a script (an HTTP service, or `txn:done(reply)`).
#[derive(Debug, Default)]
pub struct ScriptReply {
    pub status: u16,
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The script failed after it began its response: the client gets the head and `body`
    /// (what was sent), then its connection is cut, as HAProxy cannot end such a response.
    pub cut: bool,
    /// A service still running once its response began: the rest of its body, after
    /// `body`, as it sends it.
    pub rest: Option<StreamedBody>,
}

/// A transaction lent to a script: the script's objects reach it through the slot while the
/// script runs, and find it empty once it has been given back.
pub type TxnSlot = std::sync::Arc<std::sync::Mutex<Option<Box<Txn>>>>;

/// Where a stream's transaction stays while a script action or service holds it, so that the
/// stream's script filters reach it between the script's steps, as HAProxy's Lua code and
/// filters share one stream: a script that sleeps does not hold the filters up. Set on the
/// transaction ([`crate::txn::TxnRare::lend_to`]) where filters run beside the script (a TCP
/// tunnel's `tcp-response` rules, a TCP service); the script then keeps the transaction in
/// that slot rather than in its own, and wakes the filters waiting for it. Held weakly: the
/// slot may hold the very transaction that names it.
#[derive(Clone)]
pub struct LendTo {
    slot: std::sync::Weak<std::sync::Mutex<Option<Box<Txn>>>>,
    back: std::sync::Weak<tokio::sync::Notify>,
}

impl LendTo {
    /// Lending to `slot`, waking `back`'s waiters whenever the transaction is put there.
    pub fn new(slot: &TxnSlot, back: &std::sync::Arc<tokio::sync::Notify>) -> LendTo {
        LendTo {
            slot: std::sync::Arc::downgrade(slot),
            back: std::sync::Arc::downgrade(back),
        }
    }

    /// The slot, while the stream has it.
    pub fn slot(&self) -> Option<TxnSlot> {
        self.slot.upgrade()
    }

    /// Wakes what waits for the transaction: it is in the slot now.
    pub fn wake(&self) {
        if let Some(back) = self.back.upgrade() {
            back.notify_waiters();
        }
    }
}

/// What a service still has to send once its response began, sent as the script sends it
/// (at each of its waits), as HAProxy streams an applet's output.
pub struct StreamedBody {
    /// Where the script finds the transaction: the response body lends it there whenever it
    /// runs the script on, and takes it back after.
    pub slot: TxnSlot,
    pub source: Box<dyn ScriptBody>,
}

impl std::fmt::Debug for StreamedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamedBody")
    }
}

/// Marks a response whose body runs a script on ([`StreamedBody`]): the transaction goes to
/// the slot while the body is read, and comes back after each read.
#[derive(Clone)]
pub struct LentTxn(pub TxnSlot);

/// The rest of a service's response body, made as the script runs on.
pub trait ScriptBody {
    /// Runs the script on (the transaction is in its slot meanwhile): the bytes it sent
    /// since; `None` once it has ended; `Err(())` when it failed (already reported), after
    /// which the client's connection is cut.
    fn poll_next(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, ()>>>;
}

/// How a script action ended.
#[derive(Debug)]
pub enum ActionEnd {
    /// The next rule runs.
    Continue,
    /// `txn:done()`: the transaction ends here, with this response if one was given.
    Done(Option<ScriptReply>),
    /// The script failed (already reported), or returned `act.ERROR`: the transaction ends
    /// with an internal error.
    Failed,
    /// `act.STOP`: the rest of the rule list the action is in is skipped, as after `allow`.
    Stop,
    /// `act.DONE`: as [`ActionEnd::Stop`], and in `http-request` rules HAProxy also skips
    /// what follows the proxy's rules: the header-name restriction, the stats URI and the
    /// `redirect` rules.
    RulesDone,
    /// `act.DENY`: the request is denied (403), a TCP stream rejected; a response's rules end
    /// there, the response going out as it is, logged `PH` (as HAProxy 2.6 and 2.7.0 do).
    Deny,
    /// `act.YIELD`: the action runs again from its start once the wake time it set
    /// (`act.wake_time`) has come. [`run_action`] runs it again itself: its callers never see
    /// this.
    Yield(Option<std::time::Duration>),
    /// `act.ABORT`: the transaction ends where it stands. A request gets the 503 HAProxy sends
    /// a stream left without a target; a response goes out as it is (logged `PH`); a TCP
    /// stream is closed.
    Abort,
    /// `act.INVALID`: the message is taken as malformed: a request gets a 400, a response
    /// becomes a 502, a TCP stream is closed.
    Invalid,
}

/// Where in the transaction an action runs (`http-req`, `http-res`, `tcp-req`, `tcp-res`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    HttpRequest,
    HttpResponse,
    TcpRequest,
    TcpResponse,
}

impl Phase {
    /// The rules the action is written in.
    pub fn rule_set(self) -> hapee_compiler::registry::RuleSet {
        use hapee_compiler::registry::RuleSet;
        match self {
            Phase::HttpRequest => RuleSet::HttpRequest,
            Phase::HttpResponse => RuleSet::HttpResponse,
            Phase::TcpRequest => RuleSet::TcpRequestContent,
            Phase::TcpResponse => RuleSet::TcpResponseContent,
        }
    }
}

/// A call of a script action written in a rule (`http-request lua.<name> [args]`).
#[derive(Debug, Clone)]
pub struct ScriptCall {
    /// The registered name, without `lua.`.
    pub name: std::sync::Arc<str>,
    /// Shared, as routing hands a copy of the call to each script it runs.
    pub args: std::sync::Arc<[String]>,
}

/// What one worker thread's scripts offer the request path.
pub trait Hooks {
    /// Runs action `call`; gives the transaction back with how it ended.
    ///
    /// The transaction travels boxed: it is large, and moved by value into the script's
    /// future and back it cost a copy of itself at every step.
    fn action(
        &self,
        call: &ScriptCall,
        phase: Phase,
        txn: Box<Txn>,
    ) -> LocalFuture<(Box<Txn>, ActionEnd)>;
    /// Runs HTTP service `name` on a request whose body has been read, until it ends or, once
    /// its response has begun, waits (the rest of its body is then [`ScriptReply::rest`]);
    /// `None` when the service failed before its response began (already reported).
    fn service(&self, name: &str, txn: Txn, body: Bytes)
        -> LocalFuture<(Txn, Option<ScriptReply>)>;
    /// Runs TCP service `name` on the client connection; gives the transaction back (with
    /// the bytes counted) once the service has returned.
    fn tcp_service(&self, name: &str, stream: ServiceIo, txn: Txn) -> LocalFuture<Txn>;
    /// Sample fetch `lua.<name>(args)`.
    fn fetch(&self, name: &str, args: &[String], txn: &Txn) -> Option<Value>;
    /// Converter `lua.<name>(args)`.
    fn convert(&self, name: &str, args: &[String], value: Value, txn: &Txn) -> Option<Value>;
    /// The background tasks (`core.register_task`) this thread runs, started once.
    fn tasks(&self) -> Vec<LocalFuture<()>>;
    /// A stream's own instance of the script filter a `filter lua.<name>` line declares;
    /// `None` when it does not attach to this stream (an HTTP stream and a filter without
    /// `FLT_CFG_FL_HTX`, or a `new` that returned no table or failed, already reported).
    fn filter(
        &self,
        filter: &hapee_compiler::plan::filters::ScriptFilter,
        http: bool,
        txn: &Txn,
    ) -> Option<Box<dyn ScriptFilter>>;
}

/// A callback of a script filter that sees no payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterStep {
    StartAnalyze,
    EndAnalyze,
    HttpHeaders,
    HttpEnd,
}

/// What a filter callback answered (`filter.CONTINUE`, `filter.WAIT`, `filter.ERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterVerdict {
    Continue,
    /// Called again later: at its wake time (`filter.wake_time`), if it set one.
    Wait(Option<std::time::Duration>),
    /// The stream ends: a request with a 400, a response with a 502.
    Error,
}

/// One stream's instance of a script filter. The transaction travels boxed, as to actions.
pub trait ScriptFilter: Send {
    /// Runs `step` on the request (`response` false) or response channel.
    fn step(
        &mut self,
        step: FilterStep,
        response: bool,
        txn: Box<Txn>,
    ) -> (Box<Txn>, FilterVerdict);
    /// Runs `http_payload` (`tcp_payload` when `tcp`) on `data`, the channel's input the
    /// filter has not forwarded yet, which it may change; `eom`: no more data follows. How
    /// many leading bytes of `data` go on; `None` when the filter failed.
    fn payload(
        &mut self,
        response: bool,
        tcp: bool,
        txn: Box<Txn>,
        data: &mut bytes::BytesMut,
        eom: bool,
    ) -> (Box<Txn>, Option<usize>);
    /// Whether it filters the data of the channel (`filter.register_data_filter`).
    fn filters_data(&self, response: bool) -> bool;
    /// The wake time (`filter.wake_time`) its last payload callback set: it is then offered
    /// what it holds again at that time, though nothing new came.
    fn wake_time(&mut self) -> Option<std::time::Duration> {
        None
    }
}

/// Lends `txn` to `f` boxed, as [`run_action`] lends it, for a call that does not wait.
pub fn lend_now<R>(txn: &mut Txn, f: impl FnOnce(Box<Txn>) -> (Box<Txn>, R)) -> R {
    let lent = take_out(txn);
    let (mut back, r) = f(lent);
    std::mem::swap(txn, &mut back);
    SPARE.set(Some(back));
    r
}

/// Lends `txn` through `slot` while `fut` runs (the filters of a body streaming meanwhile
/// reach it there), and takes it back when `fut` is done or dropped.
pub async fn lend_during<F: Future>(txn: &mut Txn, slot: &TxnSlot, fut: F) -> F::Output {
    struct Back<'a>(&'a mut Txn, &'a TxnSlot);
    impl Drop for Back<'_> {
        fn drop(&mut self) {
            if let Some(mut back) = self.1.lock().unwrap_or_else(|e| e.into_inner()).take() {
                std::mem::swap(self.0, &mut back);
                SPARE.set(Some(back));
            }
        }
    }
    let lent = take_out(txn);
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(lent);
    let _back = Back(txn, slot);
    fut.await
}

thread_local! {
    static HOOKS: RefCell<Option<Rc<dyn Hooks>>> = const { RefCell::new(None) };
}

/// Makes `hooks` the calling worker thread's hooks.
pub fn enter_thread(hooks: Rc<dyn Hooks>) {
    HOOKS.with(|h| *h.borrow_mut() = Some(hooks));
}

/// The calling thread's hooks, if scripts are loaded.
pub fn hooks() -> Option<Rc<dyn Hooks>> {
    HOOKS.with(|h| h.borrow().clone())
}

thread_local! {
    /// The box of the last transaction lent to a script action on this thread, holding its
    /// placeholder, kept for the next action: lending then costs no allocation, no new
    /// placeholder and no copy into cold memory.
    static SPARE: std::cell::Cell<Option<Box<Txn>>> = const { std::cell::Cell::new(None) };
}

/// Takes `txn` out, boxed, leaving its placeholder (in the spare box when there is one) in its
/// place.
fn take_out(txn: &mut Txn) -> Box<Txn> {
    let mut lent = match SPARE.take() {
        Some(mut spare) => {
            stand_in(&mut spare, txn);
            spare
        }
        None => Box::new(placeholder(txn)),
    };
    std::mem::swap(txn, &mut lent);
    lent
}

/// Runs a script action on `txn` in place: the transaction is lent to the script while it
/// runs. Without an engine, the action fails.
pub async fn run_action(call: &ScriptCall, phase: Phase, txn: &mut Txn) -> ActionEnd {
    let Some(hooks) = hooks() else {
        return ActionEnd::Failed;
    };
    let lent = take_out(txn);
    let (mut back, mut end) = hooks.action(call, phase, lent).await;
    // `act.YIELD`: HAProxy leaves the rule pending and calls the action anew when the stream
    // wakes (at the wake time), the transaction staying lent meanwhile.
    while let ActionEnd::Yield(wake) = end {
        tokio::time::sleep(yield_wait(&back, wake)).await;
        (back, end) = hooks.action(call, phase, back).await;
    }
    // Nothing touches the placeholder while the script runs: it goes back to the spare box
    // as it was.
    std::mem::swap(txn, &mut back);
    SPARE.set(Some(back));
    end
}

/// How long an action that returned `act.YIELD` waits before it runs again: its wake time,
/// within what is left of a TCP inspection delay. Without a wake time HAProxy waits for the
/// stream's next event, which a complete HTTP request never gets; hapee runs the action again
/// after the frontend's client timeout (1 s without one) rather than hold the stream forever.
fn yield_wait(txn: &Txn, wake: Option<std::time::Duration>) -> std::time::Duration {
    let until_deadline = txn.rare().and_then(|r| r.feed.as_ref()).map(|f| {
        f.until
            .saturating_duration_since(tokio::time::Instant::now())
    });
    let wait = wake.unwrap_or_else(|| {
        until_deadline.unwrap_or_else(|| {
            txn.frontend_rt()
                .and_then(|f| f.timeouts.client)
                .unwrap_or(std::time::Duration::from_secs(1))
        })
    });
    until_deadline.map_or(wait, |d| wait.min(d))
}

/// How a script action of TCP content rules gets the stream's bytes while it runs: the stream
/// keeps reading its source (up to a buffer) for it, as HAProxy's channel keeps receiving while
/// a Lua action yields, so what came while the script slept is there when it reads. Set on the
/// transaction only while waiting is allowed (an inspect delay that has not passed).
#[derive(Clone)]
pub struct Feed {
    /// Whether it feeds the response channel (`tcp-response content`), else the request's.
    pub response: bool,
    /// When the inspection delay ends: an action may yield (`act.YIELD`) until then.
    pub until: tokio::time::Instant,
    /// What the stream read ahead for the script, not yet added to the held bytes.
    ahead: std::sync::Arc<std::sync::Mutex<Ahead>>,
    /// Wakes a script waiting for bytes when some came, or the source closed.
    news: std::sync::Arc<tokio::sync::Notify>,
    /// Wakes the reader when the script took bytes (room was made in a full buffer).
    room_made: std::sync::Arc<tokio::sync::Notify>,
    /// Bytes for the client, written by the feeder at once (`txn.res:send()` in a
    /// `tcp-request content` action); `None` on the response side.
    replies: Option<tokio::sync::mpsc::UnboundedSender<Bytes>>,
}

/// The bytes a [`Feed`] read ahead, and how much more its buffer takes.
#[derive(Default)]
struct Ahead {
    data: bytes::BytesMut,
    /// The source closed (or failed): nothing more will come.
    closed: bool,
    /// How many more bytes the buffer takes (with those held and those read ahead).
    room: usize,
}

/// What a waiting script gets from [`Feed::more`].
#[derive(Debug)]
pub enum More {
    /// New bytes came (now added to the held ones).
    Data,
    /// The peer closed its side (or failed): nothing more will ever come.
    Closed,
    /// The inspect delay passed: the rules decide on what is held.
    Over,
}

impl Feed {
    /// Waits until bytes were read ahead, the source closed, or the delay passed.
    pub async fn more(&self) -> More {
        loop {
            let news = self.news.notified();
            let mut news = std::pin::pin!(news);
            news.as_mut().enable();
            {
                let ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
                if !ahead.data.is_empty() {
                    return More::Data;
                }
                if ahead.closed {
                    return More::Closed;
                }
            }
            if tokio::time::timeout_at(self.until, news).await.is_err() {
                return More::Over;
            }
        }
    }

    /// Sends `data` to the client now, while the action runs on (a SOCKS-style exchange
    /// needs the answer out before the client sends more); false where no client is fed.
    pub fn reply(&self, data: Bytes) -> bool {
        self.replies.as_ref().is_some_and(|r| r.send(data).is_ok())
    }
}

/// Adds what the stream read ahead for a script (`Txn::feed`) to the bytes `txn` holds, with
/// the source's close; a no-op without a feed. The channel's readers call it before they
/// look, and the stream once the action returns.
pub fn absorb(txn: &mut Txn) {
    let Some(feed) = txn.rare().and_then(|r| r.feed.clone()) else {
        return;
    };
    let (data, closed) = {
        let mut ahead = feed.ahead.lock().unwrap_or_else(|e| e.into_inner());
        (ahead.data.split().freeze(), ahead.closed)
    };
    let bufsize = txn.shared.bufsize.max(1024);
    let (payload, fin, gone) = if feed.response {
        (
            &mut txn.res_payload,
            &mut txn.res_payload_final,
            &mut txn.res_payload_closed,
        )
    } else {
        (
            &mut txn.payload,
            &mut txn.payload_final,
            &mut txn.payload_closed,
        )
    };
    if !data.is_empty() {
        let mut all = payload.as_deref().unwrap_or_default().to_vec();
        all.extend_from_slice(&data);
        *payload = Some(Bytes::from(all));
    }
    let held = payload.as_ref().map_or(0, |p| p.len());
    *fin |= closed || held >= bufsize;
    *gone |= closed;
    let mut ahead = feed.ahead.lock().unwrap_or_else(|e| e.into_inner());
    let room = bufsize.saturating_sub(held);
    if room > ahead.room {
        feed.room_made.notify_one();
    }
    ahead.room = room;
}

/// Runs a script action of a TCP content rule set on `txn` in place, the stream reading more of
/// `source` (within a buffer, until `deadline`) while it runs. Once the held bytes are final
/// the script gets no more than what is held; without a deadline, or once it passed, the
/// script may not wait at all, as in HAProxy (whose last call of the action comes when the
/// inspect delay ends). What the script sends the client goes to `client` (the request side's
/// actions): at once while it runs, else when it returns. Without a source (an HTTP request,
/// whole already) nothing more is read.
pub async fn run_action_fed(
    call: &ScriptCall,
    phase: Phase,
    txn: &mut Txn,
    source: Option<&mut (dyn tokio::io::AsyncRead + Unpin)>,
    mut client: Option<&mut (dyn tokio::io::AsyncWrite + Unpin)>,
    deadline: Option<tokio::time::Instant>,
) -> ActionEnd {
    let response = phase == Phase::TcpResponse;
    // Set while the delay runs, even over final bytes: the script may still wait (sleep)
    // until it ends.
    let open = deadline.filter(|d| *d > tokio::time::Instant::now());
    let end = match open {
        None => run_action(call, phase, txn).await,
        Some(deadline) => {
            let (replies_tx, mut replies) = tokio::sync::mpsc::unbounded_channel();
            let (held, fin) = if response {
                (&txn.res_payload, txn.res_payload_final)
            } else {
                (&txn.payload, txn.payload_final)
            };
            let held = held.as_ref().map_or(0, |p| p.len());
            let room = match source {
                Some(_) if !fin => txn.shared.bufsize.max(1024).saturating_sub(held),
                _ => 0,
            };
            let feed = Feed {
                response,
                until: deadline,
                ahead: std::sync::Arc::new(std::sync::Mutex::new(Ahead {
                    room,
                    ..Ahead::default()
                })),
                news: Default::default(),
                room_made: Default::default(),
                replies: client.is_some().then_some(replies_tx),
            };
            txn.rare_mut().feed = Some(feed.clone());
            let end = {
                let action = std::pin::pin!(run_action(call, phase, txn));
                let feeder = std::pin::pin!(feed_from(
                    source,
                    client.as_deref_mut(),
                    &feed,
                    &mut replies,
                ));
                match futures_select(action, feeder).await {
                    Ok(end) => end,
                    Err(never) => match never {},
                }
            };
            // What was read ahead and not looked at goes on with the held bytes.
            absorb(txn);
            let rare = txn.rare_mut();
            rare.feed = None;
            // What the feeder had no turn to write.
            while let Ok(data) = replies.try_recv() {
                rare.to_client.extend_from_slice(&data);
            }
            end
        }
    };
    let waiting = txn.rare().is_some_and(|r| !r.to_client.is_empty());
    if let Some(client) = client.filter(|_| waiting) {
        use tokio::io::AsyncWriteExt;
        let out = std::mem::take(&mut txn.rare_mut().to_client);
        // A client gone meanwhile is seen when the stream next reads or writes.
        let _ = client.write_all(&out).await;
        let _ = client.flush().await;
    }
    end
}

/// The first of `a` (which ends) and `b` (which never does) to be ready.
async fn futures_select<A: Future, B: Future>(
    mut a: Pin<&mut A>,
    mut b: Pin<&mut B>,
) -> Result<A::Output, B::Output> {
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
            return std::task::Poll::Ready(Ok(v));
        }
        b.as_mut().poll(cx).map(Err)
    })
    .await
}

/// Reads `source` ahead for the script while its buffer has room, until `feed`'s deadline or
/// the source's close, and writes what the script sends the client to `client`; never
/// returns.
async fn feed_from<'c>(
    mut source: Option<&mut (dyn tokio::io::AsyncRead + Unpin)>,
    mut client: Option<&mut (dyn tokio::io::AsyncWrite + Unpin + 'c)>,
    feed: &Feed,
    replies: &mut tokio::sync::mpsc::UnboundedReceiver<Bytes>,
) -> std::convert::Infallible {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut chunk = vec![0u8; 16384];
    loop {
        let room = {
            let ahead = feed.ahead.lock().unwrap_or_else(|e| e.into_inner());
            match ahead.closed {
                true => 0,
                false => ahead.room.saturating_sub(ahead.data.len()),
            }
        };
        let readable = room > 0 && source.is_some();
        let room_made = feed.room_made.notified();
        let read = async {
            match source.as_deref_mut() {
                Some(s) if readable => s.read(&mut chunk[..room.min(16384)]).await,
                _ => std::future::pending().await,
            }
        };
        // What the script sent goes out before the next read: the client may wait for that
        // answer before it sends more.
        tokio::select! {
            biased;
            Some(data) = replies.recv(), if client.is_some() => {
                if let Some(c) = client.as_deref_mut() {
                    let _ = c.write_all(&data).await;
                    let _ = c.flush().await;
                }
            }
            got = tokio::time::timeout_at(feed.until, read), if readable => {
                let mut ahead = feed.ahead.lock().unwrap_or_else(|e| e.into_inner());
                match got {
                    Ok(Ok(n)) if n > 0 => ahead.data.extend_from_slice(&chunk[..n]),
                    Ok(_) => ahead.closed = true,
                    // The delay is over: the stream reads no more for the script.
                    Err(_) => source = None,
                }
                drop(ahead);
                feed.news.notify_one();
            }
            () = room_made => {}
        }
    }
}

/// Runs HTTP service `name` on `txn` in place.
pub async fn run_service(name: &str, txn: &mut Txn, body: Bytes) -> Option<ScriptReply> {
    let hooks = hooks()?;
    let lent = std::mem::replace(txn, placeholder(txn));
    let (back, reply) = hooks.service(name, lent, body).await;
    *txn = back;
    reply
}

/// Runs TCP service `name` on `stream`; the connection closes when it returns.
pub async fn run_tcp_service(name: &str, stream: ServiceIo, txn: Txn) -> Txn {
    match hooks() {
        Some(hooks) => hooks.tcp_service(name, stream, txn).await,
        None => txn,
    }
}

/// What stays in place of a transaction lent to a script: if the client leaves meanwhile, it
/// is what gets logged.
fn placeholder(txn: &Txn) -> Txn {
    let mut p = Txn::new(
        txn.shared.clone(),
        txn.client,
        txn.local,
        txn.frontend.clone(),
    );
    stand_in(&mut p, txn);
    p
}

/// Makes `p`, a placeholder made for another transaction and untouched since, `txn`'s.
fn stand_in(p: &mut Txn, txn: &Txn) {
    p.shared = txn.shared.clone();
    p.client = txn.client;
    p.local = txn.local;
    p.frontend = txn.frontend.clone();
    p.accept_date = txn.accept_date;
    p.request_date = crate::clock::date();
    p.start = txn.start;
    p.backend = txn.backend.clone();
}

/// Runtime API commands added by scripts (`core.register_cli`).
pub trait CliCommands: Send + Sync {
    /// Runs the command `args` names, if a script registered one: what it printed.
    fn run(&self, args: &[String]) -> Option<String>;
}

static CLI_COMMANDS: std::sync::RwLock<Option<std::sync::Arc<dyn CliCommands>>> =
    std::sync::RwLock::new(None);

/// Makes `commands` the script commands the Runtime API looks in for a command it lacks.
pub fn set_cli_commands(commands: std::sync::Arc<dyn CliCommands>) {
    *CLI_COMMANDS.write().unwrap_or_else(|e| e.into_inner()) = Some(commands);
}

/// The output of script command `args`, when a script registered it.
pub fn cli_command(args: &[String]) -> Option<String> {
    let commands = CLI_COMMANDS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()?;
    commands.run(args)
}
