//! Extensions for HTTP messages in Hyper.
//!
//! This module provides types and utilities that extend the capabilities of HTTP requests and responses
//! in Hyper. Extensions are additional pieces of information or features that can be attached to HTTP
//! messages via the [`http::Extensions`] map, which is
//! accessible through methods like [`http::Request::extensions`] and [`http::Response::extensions`].
//!
//! # What are extensions?
//!
//! Extensions allow Hyper to associate extra metadata or behaviors with HTTP messages, beyond the standard
//! headers and body. These can be used by advanced users and library authors to access protocol-specific
//! features, track original header casing, handle informational responses, and more.
//!
//! # How to access extensions
//!
//! Extensions are stored in the `Extensions` map of a request or response. You can access them using:
//!
//! ```rust
//! # let response = http::Response::new(());
//! if let Some(ext) = response.extensions().get::<hyper::ext::ReasonPhrase>() {
//!     // use the extension
//! }
//! ```
//!
//! # Extension Groups
//!
//! The extensions in this module can be grouped as follows:
//!
//! - **HTTP/1 Reason Phrase**: [`ReasonPhrase`] — Access non-canonical reason phrases in HTTP/1 responses.
//! - **Informational Responses**: [`on_informational`] — Register callbacks for 1xx HTTP/1 responses on the client.
//! - **Header Case Tracking**: Internal types for tracking the original casing and order of headers as received.
//! - **HTTP/2 Protocol Extensions**: [`Protocol`] — Access the `:protocol` pseudo-header for Extended CONNECT in HTTP/2.
//!
//! Some extensions are only available for specific protocols (HTTP/1 or HTTP/2) or use cases (client, server, FFI).
//!
//! See the documentation on each item for details about its usage and requirements.

#[cfg(all(any(feature = "client", feature = "server"), feature = "http1"))]
use bytes::Bytes;
#[cfg(any(
    all(any(feature = "client", feature = "server"), feature = "http1"),
    feature = "ffi"
))]
use http::header::HeaderName;
#[cfg(all(any(feature = "client", feature = "server"), feature = "http1"))]
use http::header::{HeaderMap, IntoHeaderName, ValueIter};
#[cfg(feature = "ffi")]
use std::collections::HashMap;
#[cfg(feature = "http2")]
use std::fmt;

#[cfg(any(feature = "http1", feature = "ffi"))]
mod h1_reason_phrase;
#[cfg(any(feature = "http1", feature = "ffi"))]
pub use h1_reason_phrase::ReasonPhrase;

/// hapee patch: marks a server's HTTP/1 response whose body ends when the connection closes.
/// Such a body of unknown length goes out as it is, neither chunked nor given a length, and
/// the connection closes after it, whatever version the response line says (a proxy passing
/// on a close-delimited response as it came).
#[cfg(all(feature = "http1", feature = "server"))]
#[derive(Clone, Copy, Debug)]
pub struct CloseDelimited;

/// hapee patch: marks a response that opens a tunnel (a CONNECT's 2xx): it says nothing of
/// the connection's fate in `Connection`, as HAProxy's HTTP/1 side leaves a tunnel's head.
#[cfg(all(feature = "http1", feature = "server"))]
#[derive(Clone, Copy, Debug)]
pub struct Tunnel;

/// hapee patch: marks a 2xx answer to CONNECT that opens no tunnel (the proxy answered it
/// itself). It goes out as any other response, its body framed by a length or chunks, and the
/// connection closes after it, as HAProxy does.
#[cfg(all(feature = "http1", feature = "server"))]
#[derive(Clone, Copy, Debug)]
pub struct NoTunnel;

/// hapee patch: marks a request whose framing closes the connection after its response, as
/// HAProxy forces it: a `Transfer-Encoding` beside a `Content-Length` (the length was
/// dropped, the body read as chunked), or a `Transfer-Encoding` in HTTP/1.0. The server has
/// already stopped keeping the connection; answers written past it can say so.
#[cfg(all(feature = "http1", feature = "server"))]
#[derive(Clone, Copy, Debug)]
pub struct ForcedClose;

/// hapee patch: a request target as its client wrote it, when it has bytes a proxy takes
/// (HAProxy reads any byte from 33 to 126 in a target) but `Uri` refuses: `<`, `>`, `` ` ``
/// and `"`. The request's `Uri` is `parsed`, the same target with those bytes
/// percent-encoded; `raw` is what goes on to the next hop and into the logs while the
/// request's `Uri` is still `parsed`.
#[cfg(all(feature = "http1", feature = "server"))]
#[derive(Clone, Debug)]
pub struct RawTarget {
    /// The target's bytes as they came.
    pub raw: bytes::Bytes,
    /// The `Uri` the request was given for it.
    pub parsed: http::Uri,
}

#[cfg(all(feature = "http1", feature = "server"))]
impl RawTarget {
    /// `raw` with `<`, `>`, `` ` `` and `"` percent-encoded, if that makes it a `Uri`; `None`
    /// for a target with other bytes outside 33 to 126.
    pub fn encoded(raw: &[u8]) -> Option<http::Uri> {
        if !raw.iter().all(|b| (0x21..0x7f).contains(b)) {
            return None;
        }
        let mut text = String::with_capacity(raw.len() + 8);
        for &b in raw {
            match b {
                b'<' | b'>' | b'`' | b'"' => text.push_str(&format!("%{b:02X}")),
                _ => text.push(b as char),
            }
        }
        http::Uri::try_from(text).ok()
    }
}

/// hapee patch: the names of a message's header lines in order, one per line, given only
/// when the lines of a name are not all together (`a`, `b`, `a`), which a `HeaderMap`
/// cannot show. A server sets it on a request whose lines came so; on a response it is the
/// order its lines go out in (the n-th line of a name taking the name's n-th value, any
/// value no line stands for going after all of them).
#[cfg(all(feature = "http1", feature = "server"))]
#[derive(Clone, Debug)]
pub struct HeaderLines(pub Vec<HeaderName>);

#[cfg(feature = "server")]
mod interim;
#[cfg(feature = "server")]
pub use interim::Interim;

#[cfg(all(feature = "http1", feature = "client"))]
mod informational;
#[cfg(all(feature = "http1", feature = "client"))]
pub use informational::on_informational;
#[cfg(all(feature = "http1", feature = "client"))]
pub(crate) use informational::OnInformational;
#[cfg(all(feature = "http1", feature = "client", feature = "ffi"))]
pub(crate) use informational::{on_informational_raw, OnInformationalCallback};

#[cfg(feature = "http2")]
/// Extension type representing the `:protocol` pseudo-header in HTTP/2.
///
/// The `Protocol` extension allows access to the value of the `:protocol` pseudo-header
/// used by the [Extended CONNECT Protocol](https://datatracker.ietf.org/doc/html/rfc8441#section-4).
/// This extension is only sent on HTTP/2 CONNECT requests, most commonly with the value `websocket`.
///
/// # Example
///
/// ```rust
/// use hyper::ext::Protocol;
/// use http::{Request, Method, Version};
///
/// let mut req = Request::new(());
/// *req.method_mut() = Method::CONNECT;
/// *req.version_mut() = Version::HTTP_2;
/// req.extensions_mut().insert(Protocol::from_static("websocket"));
/// // Now the request will include the `:protocol` pseudo-header with value "websocket"
/// ```
#[derive(Clone, Eq, PartialEq)]
pub struct Protocol {
    inner: h2::ext::Protocol,
}

#[cfg(feature = "http2")]
impl Protocol {
    /// Converts a static string to a protocol name.
    pub const fn from_static(value: &'static str) -> Self {
        Self {
            inner: h2::ext::Protocol::from_static(value),
        }
    }

    /// Returns a str representation of the header.
    pub fn as_str(&self) -> &str {
        self.inner.as_str()
    }

    #[cfg(feature = "server")]
    pub(crate) fn from_inner(inner: h2::ext::Protocol) -> Self {
        Self { inner }
    }

    #[cfg(all(feature = "client", feature = "http2"))]
    pub(crate) fn into_inner(self) -> h2::ext::Protocol {
        self.inner
    }
}

#[cfg(feature = "http2")]
impl<'proto> From<&'proto str> for Protocol {
    fn from(value: &'proto str) -> Self {
        Self {
            inner: h2::ext::Protocol::from(value),
        }
    }
}

#[cfg(feature = "http2")]
impl AsRef<[u8]> for Protocol {
    fn as_ref(&self) -> &[u8] {
        self.inner.as_ref()
    }
}

#[cfg(feature = "http2")]
impl fmt::Debug for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A map from header names to their original casing as received in an HTTP message.
///
/// If an HTTP/1 response `res` is parsed on a connection whose option
/// [`preserve_header_case`] was set to true and the response included
/// the following headers:
///
/// ```ignore
/// x-Bread: Baguette
/// X-BREAD: Pain
/// x-bread: Ficelle
/// ```
///
/// Then `res.extensions().get::<HeaderCaseMap>()` will return a map with:
///
/// ```ignore
/// HeaderCaseMap({
///     "x-bread": ["x-Bread", "X-BREAD", "x-bread"],
/// })
/// ```
///
/// [`preserve_header_case`]: /client/struct.Client.html#method.preserve_header_case
///
/// hapee patch: public, so that a proxy can name the case of the lines it sends
/// (HAProxy's `h1-case-adjust`): the n-th line of a name goes out spelled as the n-th
/// spelling given for it ([`HeaderCaseMap::push`]), lines past the spellings as usual.
#[cfg(all(any(feature = "client", feature = "server"), feature = "http1"))]
#[derive(Clone, Debug)]
pub struct HeaderCaseMap(HeaderMap<Bytes>);

#[cfg(all(any(feature = "client", feature = "server"), feature = "http1"))]
impl HeaderCaseMap {
    /// Returns a view of all spellings associated with that header name,
    /// in the order they were found.
    #[cfg(feature = "client")]
    pub(crate) fn get_all<'hdr>(
        &'hdr self,
        name: &HeaderName,
    ) -> impl Iterator<Item = impl AsRef<[u8]> + 'hdr> + 'hdr {
        self.get_all_internal(name)
    }

    /// Returns a view of all spellings associated with that header name,
    /// in the order they were found.
    #[cfg(any(feature = "client", feature = "server"))]
    pub(crate) fn get_all_internal(&self, name: &HeaderName) -> ValueIter<'_, Bytes> {
        self.0.get_all(name).into_iter()
    }

    #[cfg(any(feature = "client", feature = "server"))]
    pub(crate) fn default() -> Self {
        Self(HeaderMap::default())
    }

    /// hapee patch: an empty map.
    pub fn new() -> Self {
        Self(HeaderMap::default())
    }

    /// hapee patch: the next line of `name` goes out spelled `orig`.
    pub fn push(&mut self, name: HeaderName, orig: Bytes) {
        self.0.append(name, orig);
    }

    #[cfg(any(test, feature = "ffi"))]
    pub(crate) fn insert(&mut self, name: HeaderName, orig: Bytes) {
        self.0.insert(name, orig);
    }

    #[cfg(any(feature = "client", feature = "server"))]
    pub(crate) fn append<N>(&mut self, name: N, orig: Bytes)
    where
        N: IntoHeaderName,
    {
        self.0.append(name, orig);
    }
}

#[cfg(feature = "ffi")]
#[derive(Clone, Debug)]
/// Hashmap<Headername, numheaders with that name>
pub(crate) struct OriginalHeaderOrder {
    /// Stores how many entries a Headername maps to. This is used
    /// for accounting.
    num_entries: HashMap<HeaderName, usize>,
    /// Stores the ordering of the headers. ex: `vec[i] = (headerName, idx)`,
    /// The vector is ordered such that the ith element
    /// represents the ith header that came in off the line.
    /// The `HeaderName` and `idx` are then used elsewhere to index into
    /// the multi map that stores the header values.
    entry_order: Vec<(HeaderName, usize)>,
}

#[cfg(all(feature = "http1", feature = "ffi"))]
impl OriginalHeaderOrder {
    pub(crate) fn default() -> Self {
        OriginalHeaderOrder {
            num_entries: HashMap::new(),
            entry_order: Vec::new(),
        }
    }

    pub(crate) fn insert(&mut self, name: HeaderName) {
        if !self.num_entries.contains_key(&name) {
            let idx = 0;
            self.num_entries.insert(name.clone(), 1);
            self.entry_order.push((name, idx));
        }
        // Replacing an already existing element does not
        // change ordering, so we only care if its the first
        // header name encountered
    }

    pub(crate) fn append<N>(&mut self, name: N)
    where
        N: IntoHeaderName + Into<HeaderName> + Clone,
    {
        let name: HeaderName = name.into();
        let idx = match self.num_entries.entry(name.clone()) {
            std::collections::hash_map::Entry::Occupied(mut entry) => {
                let idx = *entry.get();
                *entry.get_mut() += 1;
                idx
            }
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(1);
                0
            }
        };
        self.entry_order.push((name, idx));
    }

    // No doc test is run here because `RUSTFLAGS='--cfg hyper_unstable_ffi'`
    // is needed to compile. Once ffi is stabilized `no_run` should be removed
    // here.
    /// This returns an iterator that provides header names and indexes
    /// in the original order received.
    pub(crate) fn get_in_order(&self) -> impl Iterator<Item = &(HeaderName, usize)> {
        self.entry_order.iter()
    }
}
