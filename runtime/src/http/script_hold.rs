//! What the script filters of one channel hold, bounded as HAProxy's channel buffer bounds it.
//!
//! In HAProxy a data filter that forwards less than it is offered leaves the rest in the
//! channel's buffer (`tune.bufsize`); once that is full the proxy stops reading the sender
//! until a filter lets some go, and calls the filters again when the stream wakes (at a
//! filter's wake time, say). Here each filter keeps what it was offered and not let go, the
//! filters together keep at most what a full buffer holds (less `tune.maxrewrite`, and on
//! HTTP streams the buffer's and the block's headers: [`super::room::Limits::body_room`]),
//! and what came beyond it waits at the door
//! ([`Hold::full`]): whoever drives the channel then stops reading its source, and offers the
//! held bytes again at the filters' wake time ([`Hold::wake_at`], [`Retry`]).

use bytes::{Bytes, BytesMut};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// The held bytes of one channel's script filters, by place.
pub struct Hold {
    held: Vec<BytesMut>,
    /// What came while the filters held a full buffer: not offered yet.
    door: BytesMut,
    /// What they may hold together.
    limit: usize,
    /// When a filter asked to be offered its bytes again (`filter.wake_time`) on the last pass.
    wake: Option<Instant>,
}

/// What filter `k` made of the bytes it was offered: how many leading ones go on, and when it
/// wants to be called again; `None` when it failed.
pub type Offered = Option<(usize, Option<Duration>)>;

/// A filter failed: the channel's data stops there.
#[derive(Debug)]
pub struct Failed;

impl Hold {
    /// The hold of `filters` filters that may keep `limit` bytes together.
    pub fn new(filters: usize, limit: usize) -> Hold {
        Hold {
            held: (0..filters).map(|_| BytesMut::new()).collect(),
            door: BytesMut::new(),
            limit: limit.max(1),
            wake: None,
        }
    }

    /// Whether they hold a full buffer and more waits at the door: the source is not to be
    /// read until some goes.
    pub fn full(&self) -> bool {
        !self.door.is_empty()
    }

    /// Whether they hold anything.
    pub fn holds(&self) -> bool {
        self.full() || self.held.iter().any(|h| !h.is_empty())
    }

    /// When a filter wants what it holds offered again.
    pub fn wake_at(&self) -> Option<Instant> {
        self.wake
    }

    /// `chunk` (empty: nothing new, the held bytes offered again) through the filters, each
    /// offered what the one before let go plus what it held (`offer(k, held, eom)`, whose
    /// bytes it may change); what the last let go. At `eom` every byte is offered and goes.
    pub fn pass(
        &mut self,
        chunk: &[u8],
        eom: bool,
        mut offer: impl FnMut(usize, &mut BytesMut, bool) -> Offered,
    ) -> Result<Bytes, Failed> {
        self.door.extend_from_slice(chunk);
        self.wake = None;
        let mut out = BytesMut::new();
        loop {
            let room = if eom {
                usize::MAX
            } else {
                self.limit.saturating_sub(self.total())
            };
            let mut carry = self.door.split_to(room.min(self.door.len()));
            for (k, held) in self.held.iter_mut().enumerate() {
                held.unsplit(carry);
                if held.is_empty() && !eom {
                    carry = BytesMut::new();
                    continue;
                }
                let (n, wake) = offer(k, held, eom).ok_or(Failed)?;
                if let Some(wake) = wake {
                    // HAProxy's clock ticks in milliseconds: a wake time of 0 is the next one.
                    let at = Instant::now() + wake.max(Duration::from_millis(1));
                    self.wake = Some(self.wake.map_or(at, |w| w.min(at)));
                }
                carry = if eom {
                    held.split()
                } else {
                    held.split_to(n.min(held.len()))
                };
            }
            out.unsplit(carry);
            // Room made while bytes wait at the door: they are offered on the same pass.
            if self.door.is_empty() || self.total() >= self.limit {
                return Ok(out.freeze());
            }
        }
    }

    fn total(&self) -> usize {
        self.held.iter().map(BytesMut::len).sum()
    }
}

/// The timer of a channel's driver for its filters' wake time.
#[derive(Default)]
pub struct Retry(Option<Pin<Box<tokio::time::Sleep>>>);

impl Retry {
    /// Ready once `at` has passed (pending for ever without one), the task woken then.
    pub fn poll(&mut self, at: Option<Instant>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(at) = at else {
            self.0 = None;
            return Poll::Pending;
        };
        let sleep = self
            .0
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if sleep.deadline() != at {
            sleep.as_mut().reset(at);
        }
        let ready = sleep.as_mut().poll(cx);
        if ready.is_ready() {
            self.0 = None;
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_forwarding_nothing_holds_a_buffer_and_no_more() {
        let mut hold = Hold::new(1, 10);
        let mut seen = 0;
        let out = hold
            .pass(&[b'x'; 25], false, |_, held, _| {
                seen = seen.max(held.len());
                Some((0, None))
            })
            .unwrap();
        assert!(out.is_empty());
        assert_eq!(seen, 10);
        assert!(hold.full());
        // Once it lets go, what waited at the door follows, a buffer at a time.
        let out = hold
            .pass(&[], false, |_, held, _| Some((held.len(), None)))
            .unwrap();
        assert_eq!(out.len(), 25);
        assert!(!hold.holds());
    }

    #[test]
    fn each_filter_sees_what_the_one_before_let_go_and_eom_flushes() {
        let mut hold = Hold::new(2, 100);
        let out = hold
            .pass(b"abcdef", false, |k, _, _| {
                Some((if k == 0 { 4 } else { 2 }, None))
            })
            .unwrap();
        assert_eq!(&out[..], b"ab");
        let out = hold
            .pass(b"", true, |_, held, eom| {
                assert!(eom);
                held.make_ascii_uppercase();
                Some((0, None))
            })
            .unwrap();
        assert_eq!(&out[..], b"CDEF");
        assert!(hold.pass(b"x", false, |_, _, _| None).is_err());
    }
}
