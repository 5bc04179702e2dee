//! The client connection with HAProxy's inactivity limits: `timeout client` while a request is
//! in progress, `timeout http-keep-alive` between requests. A read or write that waits longer
//! than the current limit fails, and hyper closes the connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// The current limit in milliseconds (0: none) and a generation that changes with it, shared
/// with the request handler. Only the connection's own thread touches it; atomics make it
/// `Send` as hyper's upgrade path requires.
#[derive(Clone, Default)]
pub struct Limit(Arc<(AtomicU64, AtomicU64)>);

impl Limit {
    pub fn set(&self, limit: Option<Duration>) {
        let ms = limit.map_or(0, |d| d.as_millis().max(1) as u64);
        if self.0 .1.swap(ms, Ordering::Relaxed) != ms {
            self.0 .0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn get(&self) -> (u64, Option<Duration>) {
        let ms = self.0 .1.load(Ordering::Relaxed);
        (
            self.0 .0.load(Ordering::Relaxed),
            (ms > 0).then(|| Duration::from_millis(ms)),
        )
    }
}

/// One direction's timer. Re-arming a timer on every read would cost more than the read: the
/// timer is armed once per limit period and, when it fires, checks the time of the last
/// activity before giving up (re-arming for the rest of the period if there was some).
struct Timer {
    sleep: Pin<Box<Sleep>>,
    /// Generation of the limit the timer was armed with, when armed.
    armed: Option<u64>,
    last_activity: Instant,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
            armed: None,
            last_activity: Instant::now(),
        }
    }

    fn active(&mut self) {
        self.last_activity = Instant::now();
    }

    /// Called while the I/O is pending: true when the limit has passed without activity.
    fn expired(&mut self, limit: &Limit, cx: &mut Context<'_>) -> bool {
        let (generation, value) = limit.get();
        let Some(t) = value else {
            self.armed = None;
            return false;
        };
        if self.armed != Some(generation) {
            // A new limit counts from now.
            self.last_activity = Instant::now();
            self.sleep.as_mut().reset(self.last_activity + t);
            self.armed = Some(generation);
        }
        while self.sleep.as_mut().poll(cx).is_ready() {
            let deadline = self.last_activity + t;
            if Instant::now() >= deadline {
                return true;
            }
            self.sleep.as_mut().reset(deadline);
        }
        false
    }
}

pub struct IdleLimited {
    stream: TcpStream,
    limit: Limit,
    read: Timer,
    write: Timer,
}

impl IdleLimited {
    pub fn new(stream: TcpStream, limit: Limit) -> IdleLimited {
        IdleLimited {
            stream,
            limit,
            read: Timer::new(),
            write: Timer::new(),
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "client inactivity timeout")
}

impl AsyncRead for IdleLimited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read.active();
                Poll::Ready(r)
            }
            Poll::Pending if this.read.expired(&this.limit, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for IdleLimited {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_write(cx, data) {
            Poll::Ready(r) => {
                this.write.active();
                Poll::Ready(r)
            }
            Poll::Pending if this.write.expired(&this.limit, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.write.active();
                Poll::Ready(r)
            }
            Poll::Pending if this.write.expired(&this.limit, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
