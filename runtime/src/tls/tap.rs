//! What rustls keeps to itself about a session, read off the wire: the TCP stream under a TLS
//! session watches the server's side of the handshake as it crosses the socket (written by
//! the proxy on a bind, read from a server on a `server … ssl` line) and keeps the session ID
//! of the ServerHello and, in TLS 1.2, the ticket of a NewSessionTicket. The watch ends at
//! the first record that is not a clear handshake record (TLS 1.2's ChangeCipherSpec, TLS
//! 1.3's encrypted flight), and is dropped once the handshake is over: afterwards the stream
//! costs one branch per read or write. The other way, it keeps the ClientHello's random, the
//! name under which rustls logs a TLS 1.2 master secret (`keys`).

use crate::held_records::Scan;
use std::io;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A handshake message larger than this ends the watch (a certificate chain is far smaller).
const MAX_MESSAGE: usize = 1 << 17;

/// A TCP stream whose TLS handshake is watched.
pub struct Tapped {
    tcp: TcpStream,
    watch: Option<Box<FlightWatch>>,
    /// The session's secrets, once taken from the key log.
    secrets: std::sync::OnceLock<super::keys::Secrets>,
    /// Counts the connection among the open TLS ones (`maxsslconn`) while it lives.
    _counted: Option<super::limits::Counted>,
}

impl Tapped {
    /// The stream of a TLS server (a bind): its writes carry the server's flight.
    pub fn server(tcp: TcpStream) -> Tapped {
        Tapped::watching(tcp, true)
    }

    /// The stream of a TLS client (towards a server): its reads carry the server's flight.
    pub fn client(tcp: TcpStream) -> Tapped {
        Tapped::watching(tcp, false)
    }

    fn watching(tcp: TcpStream, outgoing: bool) -> Tapped {
        let watch = FlightWatch {
            outgoing,
            ..FlightWatch::default()
        };
        Tapped {
            tcp,
            watch: Some(Box::new(watch)),
            secrets: std::sync::OnceLock::new(),
            _counted: None,
        }
    }

    /// Keeps the client's whole ClientHello message (`Seen::client_hello`), for
    /// `tune.ssl.capture-buffer-size`.
    pub fn keeping_hello(mut self, keep: bool) -> Tapped {
        if let Some(w) = self.watch.as_mut() {
            w.keep_hello = keep;
        }
        self
    }

    /// Counts the connection among the open TLS ones until it closes.
    pub fn counted(mut self, counted: super::limits::Counted) -> Tapped {
        self._counted = Some(counted);
        self
    }

    /// The session's secrets, taken from the key log the first time (so they must be asked
    /// for before the watch ends): a client connection's from the binds' table, a server
    /// connection's from the servers' one.
    pub fn secrets(&self) -> &super::keys::Secrets {
        self.secrets.get_or_init(|| {
            self.watch
                .as_ref()
                .and_then(|w| {
                    let table = if w.outgoing {
                        super::keys::MasterKeys::binds()
                    } else {
                        super::keys::MasterKeys::shared()
                    };
                    table.take(&w.seen.client_random?)
                })
                .unwrap_or_default()
        })
    }

    /// Moves the socket to the calling thread's poller: a duplicate of its descriptor is
    /// registered there, and the old descriptor leaves the poller it was registered with
    /// (another thread's) as it closes. rustls' state around the stream stays as it is.
    pub fn rehome(&mut self) -> std::io::Result<()> {
        use std::os::fd::AsFd;
        let fd = self.tcp.as_fd().try_clone_to_owned()?;
        // The duplicate shares the open file, non-blocking mode included.
        self.tcp = TcpStream::from_std(std::net::TcpStream::from(fd))?;
        Ok(())
    }

    /// What the watch has seen so far (`None` once ended by `seen`).
    pub fn seen_so_far(&self) -> Option<&Seen> {
        self.watch.as_ref().map(|w| &w.seen)
    }

    /// Ends the watch and gives what it saw.
    pub fn seen(&mut self) -> Seen {
        self.watch.take().map(|w| w.seen).unwrap_or_default()
    }
}

impl Deref for Tapped {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.tcp
    }
}

/// What the server's clear handshake messages carried.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The ServerHello's session ID (empty when it sent none).
    pub session_id: Vec<u8>,
    /// The last TLS 1.2 NewSessionTicket's ticket (empty: none).
    pub ticket: Vec<u8>,
    /// The ClientHello's random.
    pub client_random: Option<[u8; 32]>,
    /// The ServerHello's random.
    pub server_random: Option<[u8; 32]>,
    /// The client's first ClientHello message, header included (when asked to keep it).
    pub client_hello: Option<Vec<u8>>,
}

/// A record header, a handshake header and the version come before the ClientHello's random.
const RANDOM_AT: usize = 5 + 4 + 2;

#[derive(Default)]
struct FlightWatch {
    outgoing: bool,
    done: bool,
    /// Bytes not yet making a whole record.
    records: Vec<u8>,
    /// Handshake bytes not yet making a whole message.
    messages: Vec<u8>,
    /// The client's first bytes, up to the end of the ClientHello's random (or of the whole
    /// ClientHello when `keep_hello`).
    hello: Vec<u8>,
    keep_hello: bool,
    /// The client's side is read no more.
    hello_done: bool,
    /// The ClientHello asked for a version below TLS 1.2 (see [`super::hello::below_tls12`]).
    hello_below_tls12: bool,
    seen: Seen,
}

impl FlightWatch {
    fn feed(&mut self, data: &[u8]) {
        if self.done || data.is_empty() {
            return;
        }
        self.records.extend_from_slice(data);
        let mut at = 0;
        while let Some(head) = self.records.get(at..at + 5) {
            let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
            let (kind, end) = (head[0], at + 5 + len);
            if kind != 22 {
                // What came before it is read first.
                self.read_messages();
                self.finish();
                return;
            }
            let Some(body) = self.records.get(at + 5..end) else {
                break;
            };
            self.messages.extend_from_slice(body);
            at = end;
        }
        self.records.drain(..at);
        self.read_messages();
    }

    /// Reads the client's side: its first record starts with the ClientHello.
    fn feed_hello(&mut self, data: &[u8]) {
        let random_end = RANDOM_AT + 32;
        let want = if self.keep_hello {
            MAX_MESSAGE
        } else {
            random_end
        };
        if self.hello_done || data.is_empty() {
            return;
        }
        let had = self.hello.len();
        let take = (want - had).min(data.len());
        self.hello.extend_from_slice(&data[..take]);
        let hello = &self.hello;
        if had < random_end && hello.len() >= random_end && hello[0] == 22 && hello[5] == 1 {
            self.seen.client_random = hello[RANDOM_AT..random_end].try_into().ok();
            self.hello_below_tls12 = super::hello::below_tls12(hello);
        }
        let message = if self.keep_hello {
            client_hello_message(hello)
        } else {
            Scan::Not
        };
        match message {
            Scan::More if hello.len() < want => return,
            Scan::Found(m) => {
                // The message's own random, should the first record have cut it.
                self.seen.client_random = m.get(6..38).and_then(|r| r.try_into().ok());
                self.seen.client_hello = Some(m);
            }
            _ if hello.len() < want => return,
            _ => {}
        }
        self.hello_done = true;
        self.hello = Vec::new();
    }

    fn read_messages(&mut self) {
        let mut at = 0;
        while let Some(head) = self.messages.get(at..at + 4) {
            let len = usize::from_be_bytes([0, 0, 0, 0, 0, head[1], head[2], head[3]]);
            if len > MAX_MESSAGE {
                self.finish();
                return;
            }
            let kind = head[0];
            let Some(body) = self.messages.get(at + 4..at + 4 + len) else {
                break;
            };
            match kind {
                // ServerHello: version, random, then the session ID with its length.
                2 => {
                    self.seen.server_random = body.get(2..34).and_then(|r| r.try_into().ok());
                    if let Some(id) = body
                        .get(34)
                        .and_then(|&n| body.get(35..35 + usize::from(n)))
                    {
                        self.seen.session_id = id.to_vec();
                    }
                }
                // NewSessionTicket (TLS 1.2's is in clear): a lifetime hint, then the ticket.
                4 => {
                    if let Some(ticket) = body.get(4..6).and_then(|n| {
                        body.get(6..6 + usize::from(u16::from_be_bytes([n[0], n[1]])))
                    }) {
                        self.seen.ticket = ticket.to_vec();
                    }
                }
                _ => {}
            }
            at += 4 + len;
        }
        self.messages.drain(..at);
    }

    /// OpenSSL's alert where rustls sends another for the same failure, in a fatal alert
    /// record the server is about to write in clear (`bufs`, starting at a record's start):
    /// the record with the alert replaced, or `None` when nothing differs.
    ///
    /// - TLS 1.2 has no `certificate_required` alert (TLS 1.3 added it, and sends it
    ///   encrypted): a client without the certificate `verify required` asks for gets
    ///   `handshake_failure` there, as the TLS 1.2 RFC has it and OpenSSL sends. rustls
    ///   decides this before the bind's verifier is asked, so no verifier can choose.
    /// - A hello below TLS 1.2 is refused for its version (`protocol_version`) before
    ///   anything else; rustls first wants the signature algorithms extension such hellos
    ///   lack and answers `handshake_failure`, with no setting to reorder its checks.
    fn openssl_alert<B: Deref<Target = [u8]>>(&self, bufs: &[B]) -> Option<Vec<u8>> {
        if !self.outgoing || self.done || !self.records.is_empty() {
            return None;
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let byte = |mut at: usize| {
            for b in bufs {
                match b.deref().get(at) {
                    Some(&v) => return Some(v),
                    None => at -= b.len(),
                }
            }
            None
        };
        let mut at = 0;
        let mut fix = None;
        while at + 7 <= total {
            let (kind, len) = (
                byte(at)?,
                usize::from(u16::from_be_bytes([byte(at + 3)?, byte(at + 4)?])),
            );
            // A fatal alert alone in its record.
            if kind == 21 && len == 2 && byte(at + 5)? == 2 {
                let openssl = match byte(at + 6)? {
                    116 => Some(40),
                    40 if self.hello_below_tls12 && self.seen.server_random.is_none() => Some(70),
                    _ => None,
                };
                fix = openssl.map(|alert| (at + 6, alert));
            }
            at += 5 + len;
        }
        let (at, alert) = fix?;
        let mut out = Vec::with_capacity(total);
        for b in bufs {
            out.extend_from_slice(b);
        }
        out[at] = alert;
        Some(out)
    }

    fn finish(&mut self) {
        self.done = true;
        self.records = Vec::new();
        self.messages = Vec::new();
    }
}

/// The first handshake message of the client's records, once whole, when it is a
/// ClientHello (it may span records).
fn client_hello_message(raw: &[u8]) -> Scan<Vec<u8>> {
    let mut message = Vec::new();
    let mut at = 0;
    while let Some(head) = raw.get(at..at + 5) {
        let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
        if head[0] != 22 {
            return Scan::Not;
        }
        let Some(body) = raw.get(at + 5..at + 5 + len) else {
            break;
        };
        message.extend_from_slice(body);
        if message.len() >= 4 {
            if message[0] != 1 {
                return Scan::Not;
            }
            let need =
                4 + usize::from_be_bytes([0, 0, 0, 0, 0, message[1], message[2], message[3]]);
            if message.len() >= need {
                message.truncate(need);
                return Scan::Found(message);
            }
        }
        at += 5 + len;
    }
    Scan::More
}

impl AsyncRead for Tapped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if let Some(w) = this.watch.as_mut() {
            if w.outgoing {
                w.feed_hello(&buf.filled()[before..]);
            } else {
                w.feed(&buf.filled()[before..]);
            }
        }
        polled
    }
}

impl AsyncWrite for Tapped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let fixed = this.watch.as_ref().and_then(|w| w.openssl_alert(&[buf]));
        let buf = fixed.as_deref().unwrap_or(buf);
        let polled = Pin::new(&mut this.tcp).poll_write(cx, buf);
        if let (Some(w), Poll::Ready(Ok(n))) = (this.watch.as_mut(), &polled) {
            if w.outgoing {
                w.feed(&buf[..*n]);
            } else {
                w.feed_hello(&buf[..*n]);
            }
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(fixed) = this.watch.as_ref().and_then(|w| w.openssl_alert(bufs)) {
            // The whole flight in one write, with the alert replaced.
            let polled = Pin::new(&mut this.tcp).poll_write(cx, &fixed);
            if let (Some(w), Poll::Ready(Ok(n))) = (this.watch.as_mut(), &polled) {
                w.feed(&fixed[..*n]);
            }
            return polled;
        }
        let polled = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        if let (Some(w), Poll::Ready(Ok(n))) = (this.watch.as_mut(), &polled) {
            let mut left = *n;
            for b in bufs {
                let take = left.min(b.len());
                if w.outgoing {
                    w.feed(&b[..take]);
                } else {
                    w.feed_hello(&b[..take]);
                }
                left -= take;
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn reads_the_session_id_and_ticket_across_split_records() {
        let mut hello = vec![3, 3];
        hello.extend_from_slice(&[7; 32]);
        hello.push(4);
        hello.extend_from_slice(&[1, 2, 3, 4, 0x13, 0x01, 0]);
        let mut nst = vec![0, 0, 1, 0, 0, 3];
        nst.extend_from_slice(b"tkt");
        let mut flight = message(2, &hello);
        flight.extend(message(11, &[0; 3000]));
        let (first, second) = flight.split_at(50);
        let mut wire = record(22, first);
        wire.extend(record(22, second));
        wire.extend(record(22, &message(4, &nst)));
        wire.extend(record(20, &[1]));
        wire.extend(record(22, &message(4, b"\0\0\0\0\0\x01z")));
        for size in [7, wire.len()] {
            let mut w = FlightWatch::default();
            for chunk in wire.chunks(size) {
                w.feed(chunk);
            }
            assert_eq!(w.seen.session_id, vec![1, 2, 3, 4]);
            // What follows the ChangeCipherSpec is not read.
            assert_eq!(w.seen.ticket, b"tkt".to_vec(), "{size}");
            assert!(w.done && w.records.is_empty());
        }
    }

    #[test]
    fn reads_the_client_random_across_writes() {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[0; 40]);
        let wire = record(22, &message(1, &body));
        let mut w = FlightWatch::default();
        for chunk in wire.chunks(3) {
            w.feed_hello(chunk);
        }
        assert_eq!(w.seen.client_random, Some([9; 32]));
        // Not a ClientHello: no random.
        let mut w = FlightWatch::default();
        w.feed_hello(&record(23, &body));
        assert_eq!(w.seen.client_random, None);
    }

    #[test]
    fn keeps_a_client_hello_split_across_records() {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[5; 32]);
        body.extend_from_slice(&[0; 60]);
        let hello = message(1, &body);
        let (first, second) = hello.split_at(20);
        let mut wire = record(22, first);
        wire.extend(record(22, second));
        wire.extend(record(20, &[1]));
        let mut w = FlightWatch {
            keep_hello: true,
            ..FlightWatch::default()
        };
        for chunk in wire.chunks(7) {
            w.feed_hello(chunk);
        }
        assert_eq!(w.seen.client_hello, Some(hello.clone()));
        assert_eq!(w.seen.client_random, Some([5; 32]));
        assert!(w.hello_done && w.hello.is_empty());
        // Not kept unless asked.
        let mut w = FlightWatch::default();
        w.feed_hello(&record(22, &hello));
        assert_eq!(w.seen.client_hello, None);
        assert_eq!(w.seen.client_random, Some([5; 32]));
    }

    #[test]
    fn rustls_alerts_become_openssls() {
        let alert = |desc: u8| record(21, &[2, desc]);
        // TLS 1.2's missing certificate, in a flight split across slices.
        let w = FlightWatch {
            outgoing: true,
            ..FlightWatch::default()
        };
        let wire = alert(116);
        let fixed = w.openssl_alert(&[&wire[..3], &wire[3..]]);
        assert_eq!(fixed, Some(alert(40)));
        // handshake_failure stays, unless the hello was below TLS 1.2 and not answered.
        assert_eq!(w.openssl_alert(&[&alert(40)[..]]), None);
        let mut hello = vec![22, 3, 1, 0, 80, 1, 0, 0, 76, 3, 2];
        hello.extend_from_slice(&[0; 70]);
        let mut old = FlightWatch {
            outgoing: true,
            ..FlightWatch::default()
        };
        old.feed_hello(&hello);
        assert_eq!(old.openssl_alert(&[&alert(40)[..]]), Some(alert(70)));
        // Other alerts, warnings and a record cut in two are left alone.
        assert_eq!(old.openssl_alert(&[&alert(42)[..]]), None);
        assert_eq!(old.openssl_alert(&[&record(21, &[1, 40])[..]]), None);
        assert_eq!(old.openssl_alert(&[&alert(40)[..6]]), None);
    }

    #[test]
    fn garbage_ends_the_watch_without_a_panic() {
        let mut w = FlightWatch::default();
        w.feed(&[22, 3, 3, 0, 4, 2, 0xff, 0xff, 0xff]);
        assert!(w.done);
        let mut w = FlightWatch::default();
        w.feed(&record(22, &message(2, &[3, 3, 1])));
        assert_eq!(w.seen, Seen::default());
    }
}
