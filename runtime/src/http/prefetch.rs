//! A request body as it goes to the server: the part that had already arrived when the request
//! was routed, then the rest as the client sends it.
//!
//! Before a server is contacted, whatever of the body the client has already sent is read and
//! decoded. A body whose framing is broken (a bad chunk size, a premature end) and that is all
//! there is then gets its 400 without any server seeing a byte of it, as HAProxy's parser
//! refuses it while reading the head's packet; and a small body that has fully arrived becomes
//! one the proxy holds whole, which a retry can send again.

use super::IncomingBody;
use crate::upstream::BoxError;
use bytes::{Bytes, BytesMut};
use hyper::body::{Body, Frame, SizeHint};
use hyper::HeaderMap;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A client's request body: what was read ahead, then the rest of the stream.
pub struct ClientBody {
    read: Option<Bytes>,
    /// Boxed: rare, and the body is moved several times per request (an inline map made
    /// every request's body 88 bytes larger to copy).
    trailers: Option<Box<HeaderMap>>,
    rest: Option<IncomingBody>,
    /// The upload limits the transaction enabled (`set-bandwidth-limit`), if any.
    paced: Option<Box<crate::bwlim::Paced>>,
    /// The script filters that registered the request's data, which see it as it streams.
    filters: Option<Box<dyn super::filters::BodyFilter>>,
    /// The timer of their wake time.
    retry: super::script_hold::Retry,
}

/// A body whose framing is broken.
#[derive(Debug)]
pub struct Malformed;

/// What had arrived of a body when it was looked at.
pub enum Arrived {
    /// All of it.
    Whole(Bytes),
    /// A part, or none: the rest is still to come.
    Partial(ClientBody),
}

impl ClientBody {
    pub fn streaming(incoming: IncomingBody) -> ClientBody {
        ClientBody {
            read: None,
            trailers: None,
            rest: Some(incoming),
            paced: None,
            filters: None,
            retry: Default::default(),
        }
    }

    /// A body read whole, then its trailers.
    pub fn held(data: Bytes, trailers: HeaderMap) -> ClientBody {
        ClientBody {
            read: (!data.is_empty()).then_some(data),
            trailers: Some(Box::new(trailers)),
            rest: None,
            paced: None,
            filters: None,
            retry: Default::default(),
        }
    }

    /// Sends the body through `filter` as it streams (its length then changes, so it is no
    /// longer told).
    pub fn filter(&mut self, filter: Box<dyn super::filters::BodyFilter>) {
        self.filters = Some(filter);
    }

    /// Whether filters see the body as it streams: it cannot then be read ahead unfiltered.
    pub fn filtered(&self) -> bool {
        self.filters.is_some()
    }

    /// The next frame once through the filters: a chunk they hold back entirely is not sent
    /// as an empty frame, and what they add at the end comes before the end (or trailers).
    /// A filter's failure fails the body.
    fn poll_unpaced(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let Some(mut filters) = self.filters.take() else {
            return self.poll_raw(cx);
        };
        let failed = || -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            Poll::Ready(Some(Err(Box::new(std::io::Error::other(
                "a filter failed on the request body",
            )))))
        };
        loop {
            // A filter's wake time passed: what the filters hold is offered again. While
            // they hold a full buffer the client is not read, as HAProxy stops reading a
            // full channel.
            let polled = if self.retry.poll(filters.wake_at(), cx).is_ready() {
                Poll::Ready(Some(Ok(Frame::data(Bytes::new()))))
            } else if filters.full() {
                self.filters = Some(filters);
                return Poll::Pending;
            } else {
                self.poll_raw(cx)
            };
            let data = match polled {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        let out = if data.is_empty() {
                            filters.retry()
                        } else {
                            filters.data(data)
                        };
                        if filters.failed() {
                            self.rest = None;
                            return failed();
                        }
                        if out.is_empty() {
                            continue;
                        }
                        self.filters = Some(filters);
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                    // The trailers come after what the filters add at the end.
                    Err(frame) => {
                        self.trailers = frame.into_trailers().ok().map(Box::new);
                        filters.end()
                    }
                },
                Poll::Ready(None) => filters.end(),
                other => {
                    self.filters = Some(filters);
                    return other;
                }
            };
            if filters.failed() {
                self.rest = None;
                self.trailers = None;
                return failed();
            }
            if data.is_empty() {
                return self.poll_raw(cx);
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
    }

    /// Paces what goes to the server with the transaction's upload limits.
    pub fn pace(&mut self, pacer: crate::bwlim::Pacer) {
        self.paced = crate::bwlim::Paced::new(pacer);
    }

    fn poll_raw(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(read) = self.read.take() {
            return Poll::Ready(Some(Ok(Frame::data(read))));
        }
        if let Some(rest) = self.rest.as_mut() {
            match Pin::new(rest).poll_frame(cx) {
                Poll::Ready(None) => self.rest = None,
                polled => return polled,
            }
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(*t))))
    }

    /// Reads what has arrived of the body, up to about `limit` bytes: frames are taken until
    /// the client's connection has nothing more to give. hyper decodes the body in the
    /// connection's own task, so the wait lets that task run once more (a yield) before
    /// concluding that nothing more is there.
    pub async fn read_arrived(mut self, limit: usize) -> Result<Arrived, Malformed> {
        self.take_arrived(limit).await?;
        Ok(self.settled())
    }

    /// [`ClientBody::read_arrived`] in place: what has arrived is kept read ahead.
    pub async fn take_arrived(&mut self, limit: usize) -> Result<(), Malformed> {
        let Some(mut rest) = self.rest.take() else {
            return Ok(());
        };
        let mut read = BytesMut::from(self.read.take().unwrap_or_default().as_ref());
        let mut idle_rounds = 0;
        while read.len() < limit && idle_rounds < 2 {
            let frame = std::future::poll_fn(|cx| match Pin::new(&mut rest).poll_frame(cx) {
                Poll::Pending => Poll::Ready(None),
                Poll::Ready(f) => Poll::Ready(Some(f)),
            })
            .await;
            match frame {
                None => {
                    idle_rounds += 1;
                    tokio::task::yield_now().await;
                }
                Some(None) => {
                    self.read = (!read.is_empty()).then(|| read.freeze());
                    return Ok(());
                }
                Some(Some(Err(_))) => return Err(Malformed),
                Some(Some(Ok(frame))) => {
                    idle_rounds = 0;
                    match frame.into_data() {
                        Ok(data) => read.extend_from_slice(&data),
                        Err(frame) => self.trailers = frame.into_trailers().ok().map(Box::new),
                    }
                }
            }
        }
        self.read = (!read.is_empty()).then(|| read.freeze());
        // A body with a known length may be complete before its end is signalled.
        if !rest.is_end_stream() {
            self.rest = Some(rest);
        }
        Ok(())
    }

    /// Reads the body until all of it, `at_least` bytes (0: all) or `limit` bytes have
    /// arrived, or `until`; also answers whether `until` passed first.
    pub async fn wait_for(
        mut self,
        until: tokio::time::Instant,
        at_least: usize,
        limit: usize,
    ) -> Result<(Arrived, bool), Malformed> {
        use http_body_util::BodyExt;
        let Some(mut rest) = self.rest.take() else {
            return Ok((self.settled(), false));
        };
        let mut read = BytesMut::from(self.read.take().unwrap_or_default().as_ref());
        let mut timed_out = false;
        let mut ended = false;
        while read.len() < limit && (at_least == 0 || read.len() < at_least) {
            match tokio::time::timeout_at(until, rest.frame()).await {
                Err(_) => {
                    timed_out = true;
                    break;
                }
                Ok(None) => {
                    ended = true;
                    break;
                }
                Ok(Some(Err(_))) => return Err(Malformed),
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => read.extend_from_slice(&data),
                    Err(frame) => self.trailers = frame.into_trailers().ok().map(Box::new),
                },
            }
        }
        self.read = (!read.is_empty()).then(|| read.freeze());
        if !ended && !rest.is_end_stream() {
            self.rest = Some(rest);
        }
        Ok((self.settled(), timed_out))
    }

    /// Waits for the next frame of the stream and keeps it read ahead (a script filter
    /// waiting for the body's progress); false when there is nothing more to wait for.
    pub async fn read_more(&mut self) -> bool {
        use http_body_util::BodyExt;
        let Some(rest) = self.rest.as_mut() else {
            return false;
        };
        match rest.frame().await {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    let mut read = BytesMut::from(self.read.take().unwrap_or_default().as_ref());
                    read.extend_from_slice(&data);
                    self.read = Some(read.freeze());
                }
                Err(frame) => self.trailers = frame.into_trailers().ok().map(Box::new),
            },
            // Its end is news too.
            None => self.rest = None,
            Some(Err(_)) => {
                self.rest = None;
                return false;
            }
        }
        true
    }

    /// What has been read ahead of the stream.
    pub fn arrived(&self) -> Option<Bytes> {
        self.read.clone()
    }

    fn settled(self) -> Arrived {
        if self.rest.is_none() && self.trailers.is_none() {
            Arrived::Whole(self.read.unwrap_or_default())
        } else {
            Arrived::Partial(self)
        }
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        crate::bwlim::poll_paced(
            self.get_mut(),
            cx,
            |b| &mut b.paced,
            ClientBody::poll_unpaced,
        )
    }

    fn is_end_stream(&self) -> bool {
        self.filters.is_none()
            && self.paced.as_ref().is_none_or(|p| !p.holds_data())
            && self.read.is_none()
            && self.trailers.is_none()
            && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        if self.filters.is_some() {
            return SizeHint::default();
        }
        let read = self.read.as_ref().map_or(0, |r| r.len() as u64);
        let rest = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint);
        let mut hint = SizeHint::new();
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + read);
        }
        hint.set_lower(rest.lower() + read);
        hint
    }
}

/// Reads the whole request body (`option http-buffer-request`), up to `limit` bytes; a larger
/// one is refused with 413.
pub(super) async fn buffered_body<B>(body: B, limit: usize) -> Result<Bytes, u16>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    buffered_with_trailers(body, limit)
        .await
        .map(|(data, _)| data)
}

/// [`buffered_body`] with the trailers that ended it, which HAProxy forwards after a body
/// it waited for.
pub(super) async fn buffered_with_trailers<B>(
    body: B,
    limit: usize,
) -> Result<(Bytes, Option<hyper::HeaderMap>), u16>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt;
    let collected = http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map_err(|_| 413u16)?;
    let trailers = collected.trailers().cloned();
    Ok((collected.to_bytes(), trailers))
}
