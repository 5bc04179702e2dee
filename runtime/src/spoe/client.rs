//! Connections to an SPOE agent: opened to a server of the agent's backend through the
//! upstream connect path and greeted with HAPROXY-HELLO, which offers what the engine allows
//! (`pipelining`, `async`); the agent's AGENT-HELLO says what it takes (and whether it reads
//! fragmented NOTIFY frames, `fragmentation`). A connection then
//! carries one NOTIFY at a time, or up to `max-waiting-frames` when the agent pipelines; an
//! ACK is matched to its frame by stream id and frame id, on any connection of the engine when
//! the agent is asynchronous. Each connection has a reader task on its worker thread (whose
//! runtime drives its socket), which also closes it after `timeout idle` without traffic.

use super::codec::{self, Action, AgentFrame, FrameError};
use super::Engine;
use bytes::{Bytes, BytesMut};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::oneshot;

/// How a processing failed: HAProxy's status codes for `option set-on-error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// `timeout processing` expired.
    pub const TIMEOUT: ErrorCode = ErrorCode(1);
    /// No connection to the agent could be had (`maxconnrate` reached with none open).
    pub const RESOURCE: ErrorCode = ErrorCode(2);
    /// The messages do not fit in a frame.
    pub const TOO_BIG: ErrorCode = ErrorCode(3);
    /// A content rule could not wait for the answer.
    pub const INTERRUPTED: ErrorCode = ErrorCode(5);
    /// Anything else.
    pub const UNKNOWN: ErrorCode = ErrorCode(255);

    /// A connection failed with an SPOP status: reported as 0x100 plus that status.
    fn connection(status: u32) -> ErrorCode {
        ErrorCode(0x100 + status)
    }
}

/// SPOP's status of an I/O error, and of a timeout.
const STATUS_IO: u32 = 1;
const STATUS_TIMEOUT: u32 = 2;

/// HAProxy's words for the SPOP statuses it closes a connection with.
fn reason(status: u32) -> &'static str {
    match status {
        0 => "normal",
        1 => "I/O error",
        2 => "a timeout occurred",
        3 => "frame is too big",
        4 => "invalid frame received",
        5 => "version value not found",
        6 => "max-frame-size value not found",
        7 => "capabilities value not found",
        8 => "unsupported version",
        9 => "max-frame-size too big or too small",
        10 => "fragmentation not supported",
        _ => "an unknown error occurred",
    }
}

/// One open, greeted connection to the agent.
struct Conn {
    engine: usize,
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    /// The frame size both sides agreed on.
    max_frame_size: u32,
    /// Frames it may carry at once: `max-waiting-frames` when the agent pipelines, else 1.
    capacity: u32,
    /// The agent may answer a frame on another connection of the engine.
    async_mode: bool,
    /// The agent takes a NOTIFY in fragments.
    fragmentation: bool,
    /// NOTIFY frames sent on it and not answered yet.
    in_flight: AtomicU32,
    closed: AtomicBool,
    /// When it last sent or received a frame, in milliseconds since `EPOCH`.
    last_used: AtomicU64,
}

fn millis_now() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// A stream waiting for the ACK of its frame, and the connection the frame went on.
struct Waiter {
    conn: Arc<Conn>,
    answer: oneshot::Sender<Result<Vec<Action>, ErrorCode>>,
}

/// Frames waiting for their ACK, by engine, stream id and frame id.
type WaitKey = (usize, u64, u64);

fn waiters() -> std::sync::MutexGuard<'static, HashMap<WaitKey, Waiter>> {
    static WAITERS: std::sync::OnceLock<Mutex<HashMap<WaitKey, Waiter>>> =
        std::sync::OnceLock::new();
    WAITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Ends the wait of every frame sent on `conn` with `code`.
fn fail_waiters(conn: &Arc<Conn>, code: ErrorCode) {
    let failed: Vec<Waiter> = {
        let mut map = waiters();
        let keys: Vec<WaitKey> = map
            .iter()
            .filter(|(_, w)| Arc::ptr_eq(&w.conn, conn))
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter_map(|k| map.remove(k)).collect()
    };
    for w in failed {
        w.conn.in_flight.fetch_sub(1, Ordering::Relaxed);
        let _ = w.answer.send(Err(code));
    }
}

/// Recent events of an engine counted per second (`maxconnrate`, `maxerrrate`).
#[derive(Debug, Default)]
pub(super) struct Rate(Mutex<VecDeque<Instant>>);

impl Rate {
    /// Whether fewer than `max` events happened in the last second (always, for 0).
    pub(super) fn allows(&self, max: u32) -> bool {
        if max == 0 {
            return true;
        }
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            seen.pop_front();
        }
        seen.len() < max as usize
    }

    /// Counts one event (only when a limit is set: nothing is kept otherwise).
    pub(super) fn count(&self, max: u32) {
        if max > 0 {
            let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
            seen.push_back(Instant::now());
            if seen.len() > max as usize * 2 {
                seen.pop_front();
            }
        }
    }
}

thread_local! {
    /// The connections of this thread, by engine.
    static POOL: RefCell<HashMap<usize, Vec<Arc<Conn>>>> = RefCell::new(HashMap::new());
}

/// Takes a frame slot on a live connection of this thread, the least busy one.
fn take_slot(engine: &Engine) -> Option<Arc<Conn>> {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let list = pool.get_mut(&engine.key)?;
        list.retain(|c| !c.closed.load(Ordering::Relaxed));
        let conn = list
            .iter()
            .filter(|c| c.in_flight.load(Ordering::Relaxed) < c.capacity)
            .min_by_key(|c| c.in_flight.load(Ordering::Relaxed))?;
        conn.in_flight.fetch_add(1, Ordering::Relaxed);
        Some(conn.clone())
    })
}

/// Whether this thread has a live connection to the engine's agent.
fn has_connection(engine: &Engine) -> bool {
    POOL.with(|pool| {
        pool.borrow()
            .get(&engine.key)
            .is_some_and(|l| l.iter().any(|c| !c.closed.load(Ordering::Relaxed)))
    })
}

fn keep(conn: &Arc<Conn>) {
    POOL.with(|pool| {
        pool.borrow_mut()
            .entry(conn.engine)
            .or_default()
            .push(conn.clone())
    });
}

/// Reads one frame from `reader` into `buf`.
async fn read_frame(
    reader: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    max_frame_size: u32,
) -> Result<AgentFrame, u32> {
    loop {
        match codec::read_frame(buf, max_frame_size) {
            Ok((frame, used)) => {
                let _ = buf.split_to(used);
                return Ok(frame);
            }
            Err(FrameError::Incomplete) => {}
            Err(e) => return Err(e.status()),
        }
        buf.reserve(4096);
        match reader.read_buf(buf).await {
            Ok(0) | Err(_) => return Err(STATUS_IO),
            Ok(_) => {}
        }
    }
}

impl Conn {
    /// Connects to a server of the agent's backend and says hello; the reader task starts.
    async fn open(engine: &Engine, shared: &crate::state::Shared) -> Result<Arc<Conn>, ErrorCode> {
        let backend = shared
            .backend_by_name(&engine.plan.backend)
            .ok_or(ErrorCode::UNKNOWN)?;
        let server = backend
            .pick(None, None)
            .map(|i| &backend.servers[i])
            .ok_or(ErrorCode::connection(STATUS_IO))?;
        let addr = server.addr().ok_or(ErrorCode::connection(STATUS_IO))?;
        let connect_timeout = backend.timeouts.connect;
        // An agent connection is a stream of the process (HAProxy's SPOE applet has one).
        crate::txn::next_stream_number();
        let stream = crate::upstream::dial::connect(addr, server.dial(false), connect_timeout)
            .await
            .map_err(|_| ErrorCode::connection(STATUS_IO))?;
        let plan = &engine.plan;
        let offered: Vec<&str> = [(plan.pipelining, "pipelining"), (plan.async_mode, "async")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect();
        let hello = codec::hello(plan.max_frame_size, &offered.join(","), &plan.id);
        let (mut reader, mut writer) = stream.into_split();
        let mut buf = BytesMut::new();
        // The greeting ends with the agreed frame size and capabilities, or an SPOP status.
        let greet = async {
            if writer.write_all(&hello).await.is_err() {
                return Err(STATUS_IO);
            }
            match read_frame(&mut reader, &mut buf, plan.max_frame_size).await? {
                AgentFrame::Hello {
                    max_frame_size,
                    capabilities,
                    ..
                } if max_frame_size <= plan.max_frame_size => Ok((max_frame_size, capabilities)),
                AgentFrame::Hello { .. } => Err(FrameError::BadFrameSize.status()),
                AgentFrame::Disconnect { status, .. } => Err(status),
                AgentFrame::Ack { .. } => Err(FrameError::Invalid.status()),
            }
        };
        let greeted = match plan.timeout_hello {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms.into()), greet)
                .await
                .unwrap_or(Err(STATUS_TIMEOUT)),
            None => greet.await,
        };
        let (max_frame_size, capabilities) = match greeted {
            Ok(agreed) => agreed,
            Err(status) => {
                // The agent is told why, unless it is the one that left.
                if status != STATUS_IO {
                    let _ = writer
                        .write_all(&codec::disconnect(status, reason(status)))
                        .await;
                }
                return Err(ErrorCode::connection(status));
            }
        };
        let takes = |name: &str| capabilities.split(',').any(|c| c.trim() == name);
        let pipelining = plan.pipelining && takes("pipelining");
        let conn = Arc::new(Conn {
            engine: engine.key,
            writer: tokio::sync::Mutex::new(writer),
            max_frame_size,
            capacity: if pipelining {
                plan.max_waiting_frames.max(1)
            } else {
                1
            },
            async_mode: plan.async_mode && takes("async"),
            fragmentation: takes("fragmentation"),
            in_flight: AtomicU32::new(0),
            closed: AtomicBool::new(false),
            last_used: AtomicU64::new(millis_now()),
        });
        let idle = plan.timeout_idle.map(|ms| Duration::from_millis(ms.into()));
        tokio::task::spawn_local(conn.clone().read_acks(reader, buf, idle));
        Ok(conn)
    }

    /// Hands each ACK to the stream waiting for it, until the connection fails, the agent
    /// leaves, or it stays idle for `idle`.
    async fn read_acks(
        self: Arc<Conn>,
        mut reader: OwnedReadHalf,
        mut buf: BytesMut,
        idle: Option<Duration>,
    ) {
        let status = loop {
            let read = read_frame(&mut reader, &mut buf, self.max_frame_size);
            let frame = match idle {
                Some(idle) => match tokio::time::timeout(idle, read).await {
                    Ok(frame) => frame,
                    Err(_) => {
                        let quiet =
                            millis_now().saturating_sub(self.last_used.load(Ordering::Relaxed));
                        if self.in_flight.load(Ordering::Relaxed) == 0
                            && quiet >= idle.as_millis() as u64
                        {
                            break Some(STATUS_TIMEOUT);
                        }
                        continue;
                    }
                },
                None => read.await,
            };
            self.last_used.store(millis_now(), Ordering::Relaxed);
            match frame {
                Ok(AgentFrame::Ack {
                    stream_id,
                    frame_id,
                    actions,
                }) => {
                    let key = (self.engine, stream_id, frame_id);
                    let waiter = {
                        let mut map = waiters();
                        let ours = map
                            .get(&key)
                            .is_some_and(|w| self.async_mode || Arc::ptr_eq(&w.conn, &self));
                        ours.then(|| map.remove(&key)).flatten()
                    };
                    // An ACK nobody waits for (its stream gave up) is skipped.
                    if let Some(w) = waiter {
                        w.conn.in_flight.fetch_sub(1, Ordering::Relaxed);
                        let _ = w.answer.send(Ok(actions));
                    }
                }
                // The agent leaves: HAProxy reads why and closes, without a frame of its own.
                Ok(AgentFrame::Disconnect { status, .. }) => {
                    self.close(ErrorCode::connection(status), None).await;
                    return;
                }
                Ok(AgentFrame::Hello { .. }) => break Some(FrameError::Invalid.status()),
                Err(STATUS_IO) => {
                    self.close(ErrorCode::connection(STATUS_IO), None).await;
                    return;
                }
                Err(status) => break Some(status),
            }
        };
        if let Some(status) = status {
            self.close(ErrorCode::connection(status), Some(status))
                .await;
        }
    }

    /// Closes the connection, telling the agent why (`tell`), and ends the waits on it.
    async fn close(self: &Arc<Conn>, code: ErrorCode, tell: Option<u32>) {
        self.closed.store(true, Ordering::Relaxed);
        fail_waiters(self, code);
        let mut writer = self.writer.lock().await;
        if let Some(status) = tell {
            let _ = writer
                .write_all(&codec::disconnect(status, reason(status)))
                .await;
        }
        let _ = writer.shutdown().await;
    }

    /// Sends the frames of a NOTIFY (its slot taken), one after the other, and waits for its
    /// ACK.
    async fn exchange(
        self: &Arc<Conn>,
        frames: &[Bytes],
        key: WaitKey,
    ) -> Result<Vec<Action>, ErrorCode> {
        let (answer, answered) = oneshot::channel();
        waiters().insert(
            key,
            Waiter {
                conn: self.clone(),
                answer,
            },
        );
        // A wait given up (`timeout processing`) leaves no waiter behind; the connection of
        // an agent answering one frame at a time is closed, as its late ACK would be taken
        // for the next frame's.
        let mut guard = GiveUp {
            conn: self,
            key,
            armed: true,
        };
        self.last_used.store(millis_now(), Ordering::Relaxed);
        let written = async {
            // The fragments of a NOTIFY go out together: no other frame comes between them.
            let mut writer = self.writer.lock().await;
            for frame in frames {
                writer.write_all(frame).await?;
            }
            Ok::<(), std::io::Error>(())
        }
        .await;
        if written.is_err() {
            self.closed.store(true, Ordering::Relaxed);
            fail_waiters(self, ErrorCode::connection(STATUS_IO));
        }
        let result = answered
            .await
            .unwrap_or(Err(ErrorCode::connection(STATUS_IO)));
        guard.armed = false;
        result
    }
}

/// Removes a waiter whose stream stopped waiting.
struct GiveUp<'a> {
    conn: &'a Arc<Conn>,
    key: WaitKey,
    armed: bool,
}

impl Drop for GiveUp<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let removed = waiters().remove(&self.key);
        if removed.is_some() {
            self.conn.in_flight.fetch_sub(1, Ordering::Relaxed);
            if self.conn.capacity == 1 {
                self.conn.closed.store(true, Ordering::Relaxed);
                let conn = self.conn.clone();
                tokio::task::spawn_local(async move {
                    conn.close(ErrorCode::TIMEOUT, None).await;
                });
            }
        }
    }
}

/// A frame slot on a connection of this thread: a free one, else a new connection while
/// `maxconnrate` allows it, else a wait for a slot. A connection that cannot be opened is
/// tried again (HAProxy starts a new applet while streams wait) until `timeout processing`,
/// which the caller applies, ends the wait.
async fn slot(engine: &Engine, shared: &crate::state::Shared) -> Result<Arc<Conn>, ErrorCode> {
    let plan = &engine.plan;
    loop {
        if let Some(conn) = take_slot(engine) {
            return Ok(conn);
        }
        if engine.connections.allows(plan.maxconnrate) {
            engine.connections.count(plan.maxconnrate);
            match Conn::open(engine, shared).await {
                Ok(conn) => {
                    keep(&conn);
                    continue;
                }
                Err(code) if code == ErrorCode::connection(STATUS_IO) => {}
                Err(code) => return Err(code),
            }
        } else if !has_connection(engine) {
            return Err(ErrorCode::RESOURCE);
        }
        tokio::time::sleep(Duration::from_millis(if has_connection(engine) {
            5
        } else {
            100
        }))
        .await;
    }
}

/// Sends the NOTIFY built by `frames` (given the agreed frame size; fragmented when
/// `option send-frag-payload` allows it) and returns the agent's actions.
pub(super) async fn process(
    engine: &Engine,
    shared: &crate::state::Shared,
    stream_id: u64,
    frame_id: u64,
    frames: impl Fn(u32, bool) -> Option<Vec<Bytes>>,
) -> Result<Vec<Action>, ErrorCode> {
    let key = (engine.key, stream_id, frame_id);
    // A kept connection may have been closed by the agent meanwhile: one fresh try follows.
    for attempt in 0..2 {
        let conn = slot(engine, shared).await?;
        let Some(notify) = frames(conn.max_frame_size, engine.plan.send_frag_payload) else {
            conn.in_flight.fetch_sub(1, Ordering::Relaxed);
            return Err(ErrorCode::TOO_BIG);
        };
        // Fragments for an agent that does not take them: HAProxy gives up the connection
        // and keeps the NOTIFY queued for the next one, which cannot take it either, until
        // `timeout processing` (applied by the caller) ends the wait.
        if notify.len() > 1 && !conn.fragmentation {
            conn.in_flight.fetch_sub(1, Ordering::Relaxed);
            let status = FrameError::Fragmented.status();
            conn.close(ErrorCode::connection(status), Some(status))
                .await;
            return std::future::pending().await;
        }
        match conn.exchange(&notify, key).await {
            Err(code) if attempt == 0 && code == ErrorCode::connection(STATUS_IO) => continue,
            done => return done,
        }
    }
    Err(ErrorCode::connection(STATUS_IO))
}
