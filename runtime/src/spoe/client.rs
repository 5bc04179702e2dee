//! Connections to an SPOE agent: opened to a server of the agent's backend through the
//! upstream connect path, greeted with HAPROXY-HELLO, then used for one NOTIFY/ACK exchange at a
//! time and kept idle for the next one (`timeout idle`). Each worker thread keeps its own idle
//! connections, as its runtime drives their sockets.

use super::codec::{self, Action, AgentFrame, FrameError};
use super::Engine;
use bytes::{Bytes, BytesMut};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How a processing failed: HAProxy's status codes for `option set-on-error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// `timeout processing` expired.
    pub const TIMEOUT: ErrorCode = ErrorCode(1);
    /// The messages do not fit in a frame.
    pub const TOO_BIG: ErrorCode = ErrorCode(3);
    /// Anything else.
    pub const UNKNOWN: ErrorCode = ErrorCode(255);

    /// A connection failed with an SPOP status: reported as 0x100 plus that status.
    fn connection(status: u32) -> ErrorCode {
        ErrorCode(0x100 + status)
    }
}

/// One open, greeted connection to the agent.
pub(super) struct AgentConn {
    stream: TcpStream,
    /// The frame size both sides agreed on.
    max_frame_size: u32,
    buf: BytesMut,
}

/// An idle connection and when it became idle.
struct Idle {
    conn: AgentConn,
    since: Instant,
}

thread_local! {
    /// Idle agent connections of this thread, by engine.
    static IDLE: RefCell<HashMap<usize, Vec<Idle>>> = RefCell::new(HashMap::new());
}

fn take_idle(engine: &Engine) -> Option<AgentConn> {
    let idle_for = engine
        .plan
        .timeout_idle
        .map(|ms| Duration::from_millis(ms.into()));
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.get_mut(&engine.key)?;
        let now = Instant::now();
        // Connections idle longer than `timeout idle` are closed (dropped) first.
        list.retain(|i| idle_for.is_none_or(|t| now.duration_since(i.since) < t));
        list.pop().map(|i| i.conn)
    })
}

fn keep_idle(engine: &Engine, conn: AgentConn) {
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.entry(engine.key).or_default();
        // As many as a burst used, within reason.
        if list.len() < 64 {
            list.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    });
}

impl AgentConn {
    async fn read_frame(&mut self) -> Result<AgentFrame, ErrorCode> {
        loop {
            match codec::read_frame(&self.buf, self.max_frame_size) {
                Ok((frame, used)) => {
                    let _ = self.buf.split_to(used);
                    return Ok(frame);
                }
                Err(FrameError::Incomplete) => {}
                Err(e) => {
                    let _ = self
                        .stream
                        .write_all(&codec::disconnect(e.status(), "invalid frame received"))
                        .await;
                    return Err(ErrorCode::connection(e.status()));
                }
            }
            self.buf.reserve(4096);
            let n = self
                .stream
                .read_buf(&mut self.buf)
                .await
                .map_err(|_| ErrorCode::connection(1))?;
            if n == 0 {
                return Err(ErrorCode::connection(1));
            }
        }
    }

    /// Connects to a server of the agent's backend and says hello.
    async fn open(engine: &Engine, shared: &crate::state::Shared) -> Result<AgentConn, ErrorCode> {
        let backend = shared
            .backend_by_name(&engine.plan.backend)
            .ok_or(ErrorCode::UNKNOWN)?;
        let server = backend
            .pick(None, None)
            .map(|i| &backend.servers[i])
            .ok_or(ErrorCode::connection(1))?;
        let addr = server.addr().ok_or(ErrorCode::connection(1))?;
        let connect_timeout = backend.timeouts.connect;
        let mut stream = crate::upstream::dial::connect(addr, server.dial(false), connect_timeout)
            .await
            .map_err(|_| ErrorCode::connection(1))?;
        let hello = codec::hello(engine.plan.max_frame_size, "", &engine.plan.id);
        let greet = async {
            stream
                .write_all(&hello)
                .await
                .map_err(|_| ErrorCode::connection(1))?;
            let mut conn = AgentConn {
                stream,
                max_frame_size: engine.plan.max_frame_size,
                buf: BytesMut::new(),
            };
            match conn.read_frame().await? {
                AgentFrame::Hello { max_frame_size, .. } => {
                    if max_frame_size > engine.plan.max_frame_size {
                        return Err(ErrorCode::connection(FrameError::BadFrameSize.status()));
                    }
                    conn.max_frame_size = max_frame_size;
                    Ok(conn)
                }
                AgentFrame::Disconnect { status, .. } => Err(ErrorCode::connection(status)),
                AgentFrame::Ack { .. } => Err(ErrorCode::connection(FrameError::Invalid.status())),
            }
        };
        match engine.plan.timeout_hello {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms.into()), greet)
                .await
                .map_err(|_| ErrorCode::connection(2))?,
            None => greet.await,
        }
    }

    /// Sends one NOTIFY and reads its ACK.
    async fn exchange(
        &mut self,
        frame: &Bytes,
        stream_id: u64,
        frame_id: u64,
    ) -> Result<Vec<Action>, ErrorCode> {
        self.stream
            .write_all(frame)
            .await
            .map_err(|_| ErrorCode::connection(1))?;
        loop {
            match self.read_frame().await? {
                AgentFrame::Ack {
                    stream_id: s,
                    frame_id: f,
                    actions,
                } if s == stream_id && f == frame_id => return Ok(actions),
                // An ACK for an exchange given up (a processing timeout) is skipped.
                AgentFrame::Ack { .. } => continue,
                AgentFrame::Disconnect { status, .. } => return Err(ErrorCode::connection(status)),
                AgentFrame::Hello { .. } => {
                    return Err(ErrorCode::connection(FrameError::Invalid.status()))
                }
            }
        }
    }
}

/// Sends the NOTIFY built by `frame` (given the agreed frame size) and returns the agent's
/// actions. A connection that cannot be opened is tried again (HAProxy starts a new applet while
/// streams wait) until `timeout processing`, which the caller applies, ends the wait.
pub(super) async fn process(
    engine: &Engine,
    shared: &crate::state::Shared,
    stream_id: u64,
    frame_id: u64,
    frame: impl Fn(u32) -> Option<Bytes>,
) -> Result<Vec<Action>, ErrorCode> {
    // A kept connection may have been closed by the agent meanwhile: one fresh try follows.
    if let Some(mut conn) = take_idle(engine) {
        let notify = frame(conn.max_frame_size).ok_or(ErrorCode::TOO_BIG)?;
        if let Ok(actions) = conn.exchange(&notify, stream_id, frame_id).await {
            keep_idle(engine, conn);
            return Ok(actions);
        }
    }
    let mut conn = loop {
        match AgentConn::open(engine, shared).await {
            Ok(conn) => break conn,
            Err(code) if code == ErrorCode::connection(1) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(code) => return Err(code),
        }
    };
    let notify = frame(conn.max_frame_size).ok_or(ErrorCode::TOO_BIG)?;
    let actions = conn.exchange(&notify, stream_id, frame_id).await?;
    keep_idle(engine, conn);
    Ok(actions)
}
