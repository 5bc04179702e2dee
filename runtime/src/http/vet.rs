//! Checks on a request head before the rules see it, so that the rules, the logs and the
//! server all read one unambiguous request (RFC 9112 §3.2, §6, RFC 9110 §7.6.1). hyper has
//! already refused what its parser cannot read; this refuses what it lets through but HAProxy
//! (or the RFCs) do not: conflicting Host values, a Host that contradicts the target, transfer
//! codings other than one final `chunked`. It also removes what the proxy answers itself
//! (`Expect: 100-continue`) and the fields the client marked as hop-by-hop.
//!
//! The usual request (one Host, no Transfer-Encoding, no Connection options) costs a few
//! header lookups and no allocation.

use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING, UPGRADE};
use hyper::{Method, Uri, Version};

/// Why a request head is refused: the status to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 400: ambiguous or malformed framing or Host.
    BadRequest,
    /// 422: a transfer coding other than `chunked` (HAProxy answers these with 422).
    UnknownCoding,
    /// 413: an HTTP/1.0 GET, HEAD or DELETE request with a body.
    PayloadNotAllowed,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::BadRequest => 400,
            Refusal::UnknownCoding => 422,
            Refusal::PayloadNotAllowed => 413,
        }
    }
}

/// `h1-accept-payload-with-any-method`, a process-wide setting as in HAProxy.
static PAYLOAD_WITH_ANY_METHOD: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Sets `h1-accept-payload-with-any-method` for the process.
pub fn accept_payload_with_any_method(on: bool) {
    PAYLOAD_WITH_ANY_METHOD.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// HTTP/1.0 gives GET, HEAD and DELETE no body, so one that carries one (a non-zero
/// `Content-Length`, or chunked) is refused with a 413 as HAProxy does, unless
/// `h1-accept-payload-with-any-method` is set. HTTP/1.1 leaves it to the server.
fn payload_allowed(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
    present: Present,
) -> bool {
    if version != Version::HTTP_10
        || !matches!(*method, Method::GET | Method::HEAD | Method::DELETE)
        || PAYLOAD_WITH_ANY_METHOD.load(std::sync::atomic::Ordering::Relaxed)
    {
        return true;
    }
    let chunked = present.transfer_encoding && headers.contains_key(TRANSFER_ENCODING);
    let sized = (headers.get_all(CONTENT_LENGTH).iter()).any(|v| {
        v.as_bytes()
            .iter()
            .any(|b| b.is_ascii_digit() && *b != b'0')
    });
    !(chunked || sized)
}

/// Which of the fields these checks look for a request head has, found in one pass over its
/// names. The usual request has none of them, and each lookup in the map would hash the name:
/// a field not seen here is absent, one seen is looked up as before.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Present {
    pub transfer_encoding: bool,
    pub connection: bool,
    pub upgrade: bool,
    pub expect: bool,
}

impl Present {
    pub fn of(headers: &HeaderMap) -> Present {
        let mut present = Present::default();
        for name in headers.keys() {
            if name == TRANSFER_ENCODING {
                present.transfer_encoding = true;
            } else if name == CONNECTION {
                present.connection = true;
            } else if name == UPGRADE {
                present.upgrade = true;
            } else if name == EXPECT {
                present.expect = true;
            }
        }
        present
    }
}

/// Checks and normalises a request head in place.
pub fn vet(
    method: &Method,
    uri: &Uri,
    version: Version,
    headers: &mut HeaderMap,
) -> Result<(), Refusal> {
    let present = Present::of(headers);
    vet_present(method, uri, version, headers, present)
}

/// [`vet`], for a head whose fields were surveyed already (`present`).
pub fn vet_present(
    method: &Method,
    uri: &Uri,
    version: Version,
    headers: &mut HeaderMap,
    present: Present,
) -> Result<(), Refusal> {
    if present.transfer_encoding && headers.contains_key(TRANSFER_ENCODING) {
        transfer_codings(headers)?;
    }
    // RFC 9112 §3.2: a target is ASCII; hyper lets other bytes through in the path.
    if uri.path().bytes().any(|b| !b.is_ascii()) {
        return Err(Refusal::BadRequest);
    }
    // RFC 9112 §3.2.3: CONNECT names a host and a port.
    if method == Method::CONNECT && uri.port_u16().is_none() {
        return Err(Refusal::BadRequest);
    }
    host(method, uri, version, headers)?;
    if !payload_allowed(method, version, headers, present) {
        return Err(Refusal::PayloadNotAllowed);
    }
    if present.connection && headers.contains_key(CONNECTION) {
        drop_connection_options(headers);
    }
    // hyper sends the `100 Continue` itself when the body is first read: the server must not
    // be asked for another one.
    if present.expect
        && version == Version::HTTP_11
        && headers
            .get(EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
    {
        headers.remove(EXPECT);
    }
    Ok(())
}

/// An HTTP/1 request's protocol switch as HAProxy reads it, before anything else looks at
/// the request: with a body, `Connection: upgrade` switches nothing and its `Upgrade` header is
/// removed; a WebSocket handshake (`websocket` among the `Upgrade` protocols) must carry a
/// `Sec-WebSocket-Key` of 24 characters (the base64 of RFC 6455's 16-byte nonce), or it is
/// refused with a 400. HTTP/2 and HTTP/3 requests have no such switch.
pub fn upgrade(version: Version, headers: &mut HeaderMap, present: Present) -> Result<(), Refusal> {
    if version > Version::HTTP_11
        || !present.connection
        || !headers.contains_key(CONNECTION)
        || !crate::upstream::connection_has(headers, "upgrade")
    {
        return Ok(());
    }
    let body = headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get_all(CONTENT_LENGTH)
            .iter()
            .any(|v| v.as_bytes().trim_ascii() != b"0");
    if body {
        headers.remove(UPGRADE);
        return Ok(());
    }
    let websocket =
        elements(headers.get_all(UPGRADE).iter()).any(|p| p.eq_ignore_ascii_case(b"websocket"));
    let keyed = headers
        .get_all(super::websocket::KEY)
        .iter()
        .any(|k| k.len() == 24);
    if websocket && !keyed {
        return Err(Refusal::BadRequest);
    }
    Ok(())
}

/// The elements of comma-separated field values, trimmed of spaces and tabs (empty ones too).
fn elements<'a>(values: impl Iterator<Item = &'a HeaderValue>) -> impl Iterator<Item = &'a [u8]> {
    values.flat_map(|v| v.as_bytes().split(|&b| b == b',').map(<[u8]>::trim_ascii))
}

/// RFC 9112 §6.1: `chunked` once and last. An empty element, `chunked` twice or a coding
/// after it is a framing error (400); any other coding before it is one the proxy cannot
/// vouch for (422, as HAProxy answers). hyper has already refused a list not ending in
/// `chunked`.
fn transfer_codings(headers: &HeaderMap) -> Result<(), Refusal> {
    let mut chunked = false;
    let mut other = false;
    for coding in elements(headers.get_all(TRANSFER_ENCODING).iter()) {
        if coding.is_empty() || chunked {
            // Nothing may follow `chunked`, not even a second one.
            return Err(Refusal::BadRequest);
        }
        if coding.eq_ignore_ascii_case(b"chunked") {
            chunked = true;
        } else {
            other = true;
        }
    }
    match (chunked, other) {
        (true, false) => Ok(()),
        (_, true) => Err(Refusal::UnknownCoding),
        (false, false) => Err(Refusal::BadRequest),
    }
}

/// RFC 9112 §3.2: one Host (repeats of the same value are merged); in absolute form the
/// target's authority is the Host (a Host that names another one is refused, as HAProxy does;
/// a missing one is taken from the target); an HTTP/1.1 request must have one.
fn host(
    method: &Method,
    uri: &Uri,
    version: Version,
    headers: &mut HeaderMap,
) -> Result<(), Refusal> {
    let mut values = headers.get_all(HOST).iter();
    let came = values.next().is_some();
    let repeated = values.next().is_some();
    if repeated {
        let first = headers.get(HOST).expect("a Host came").clone();
        if headers
            .get_all(HOST)
            .iter()
            .any(|v| !v.as_bytes().eq_ignore_ascii_case(first.as_bytes()))
        {
            return Err(Refusal::BadRequest);
        }
        headers.insert(HOST, first);
    }
    let authority = uri.authority().map(|a| a.as_str());
    // The authority without any `user@` part: HAProxy compares and forwards the host only.
    let authority = authority.map(|a| a.rsplit_once('@').map_or(a, |(_, host)| host));
    match authority {
        Some(authority) => match headers.get(HOST) {
            Some(host)
                if !same_authority(uri.scheme_str(), authority.as_bytes(), host.as_bytes()) =>
            {
                return Err(Refusal::BadRequest);
            }
            Some(_) => {}
            None => {
                let value = HeaderValue::from_str(authority).map_err(|_| Refusal::BadRequest)?;
                headers.insert(HOST, value);
            }
        },
        // An origin-form target (the usual one) needs only to know whether a Host came.
        None if !came && version == Version::HTTP_11 && method != Method::CONNECT => {
            return Err(Refusal::BadRequest);
        }
        None => {}
    }
    Ok(())
}

/// Whether a target's authority and a Host value name the same origin: equal ignoring case,
/// or equal hosts where one side omits the scheme's default port.
fn same_authority(scheme: Option<&str>, authority: &[u8], host: &[u8]) -> bool {
    if authority.eq_ignore_ascii_case(host) {
        return true;
    }
    let default_port: &[u8] = match scheme {
        Some(s) if s.eq_ignore_ascii_case("http") => b"80",
        Some(s) if s.eq_ignore_ascii_case("https") => b"443",
        _ => return false,
    };
    let (a_host, a_port) = split_port(authority);
    let (h_host, h_port) = split_port(host);
    let port_ok = |p: Option<&[u8]>| p.is_none_or(|p| p == default_port);
    a_port.is_none() != h_port.is_none()
        && port_ok(a_port)
        && port_ok(h_port)
        && a_host.eq_ignore_ascii_case(h_host)
}

/// `host[:port]`, with IPv6 literals in brackets kept whole.
fn split_port(value: &[u8]) -> (&[u8], Option<&[u8]>) {
    match value.iter().rposition(|&b| b == b':') {
        Some(i) if !value[i..].contains(&b']') => (&value[..i], Some(&value[i + 1..])),
        _ => (value, None),
    }
}

/// Fields a `Connection` option never removes: they are meant for every recipient (RFC 9110
/// §7.6.1 forbids naming them), and dropping them would hide from the server what the rules
/// and logs saw (the Host, the framing) or what identifies the client to it.
fn end_to_end(name: &[u8]) -> bool {
    const KEPT: [&[u8]; 12] = [
        b"host",
        b"content-length",
        b"transfer-encoding",
        b"content-type",
        b"content-encoding",
        b"cache-control",
        b"authorization",
        b"cookie",
        b"forwarded",
        b"via",
        b"x-real-ip",
        b"expect",
    ];
    KEPT.iter().any(|k| name.eq_ignore_ascii_case(k))
        || name
            .get(..12)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"x-forwarded-"))
}

/// RFC 9110 §7.6.1: the fields a `Connection` header names are for this hop only and go no
/// further, except those meant for every recipient (`end_to_end`). `close`, `keep-alive` and
/// `upgrade` are the connection's own options, handled where the request is forwarded.
pub(crate) fn drop_connection_options(headers: &mut HeaderMap) {
    let mut named: Vec<HeaderName> = Vec::new();
    for token in elements(headers.get_all(CONNECTION).iter()) {
        if token.is_empty()
            || token.eq_ignore_ascii_case(b"close")
            || token.eq_ignore_ascii_case(b"keep-alive")
            || token.eq_ignore_ascii_case(b"upgrade")
            || end_to_end(token)
        {
            continue;
        }
        if let Ok(name) = HeaderName::from_bytes(token) {
            named.push(name);
        }
    }
    if !named.is_empty() {
        super::header_order::remove_where(headers, |n| named.contains(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        target: &str,
        version: Version,
        fields: &[(&str, &str)],
    ) -> Result<HeaderMap, Refusal> {
        let mut headers = HeaderMap::new();
        for (n, v) in fields {
            headers.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let uri: Uri = target.parse().unwrap();
        let method = if uri.path_and_query().is_none() {
            Method::CONNECT
        } else {
            Method::GET
        };
        vet(&method, &uri, version, &mut headers).map(|()| headers)
    }

    const V11: Version = Version::HTTP_11;

    fn switch(version: Version, fields: &[(&str, &str)]) -> Result<HeaderMap, Refusal> {
        let mut headers = HeaderMap::new();
        for (n, v) in fields {
            headers.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let present = Present::of(&headers);
        upgrade(version, &mut headers, present).map(|()| headers)
    }

    #[test]
    fn a_websocket_handshake_needs_a_key_of_24_characters() {
        let ws = [
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "foo, WebSocket"),
        ];
        assert_eq!(switch(V11, &ws), Err(Refusal::BadRequest));
        assert_eq!(switch(Version::HTTP_10, &ws), Err(Refusal::BadRequest));
        let short = [ws[0], ws[1], ("sec-websocket-key", "abc")];
        assert_eq!(switch(V11, &short), Err(Refusal::BadRequest));
        let key = ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        assert!(switch(V11, &[ws[0], ws[1], ("sec-websocket-key", "abc"), key]).is_ok());
        // Not a WebSocket switch, or no switch at all: nothing to check.
        assert!(switch(V11, &[ws[0], ("upgrade", "h2c")]).is_ok());
        assert!(switch(V11, &[("upgrade", "websocket")]).is_ok());
        // HTTP/2's extended CONNECT reaches the request path in this form, without a key.
        assert!(switch(Version::HTTP_2, &ws).is_ok());
    }

    #[test]
    fn a_request_with_a_body_switches_nothing() {
        let h = switch(
            V11,
            &[
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("content-length", "2"),
            ],
        )
        .unwrap();
        assert!(!h.contains_key(UPGRADE));
        let h = switch(
            V11,
            &[
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("content-length", "0"),
            ],
        );
        assert_eq!(h, Err(Refusal::BadRequest), "an empty body is none");
    }

    #[test]
    fn host_values_must_agree_and_are_merged() {
        let h = check("/", V11, &[("host", "a"), ("host", "A")]).unwrap();
        assert_eq!(h.get_all(HOST).iter().count(), 1);
        assert_eq!(
            check("/", V11, &[("host", "a"), ("host", "b")]),
            Err(Refusal::BadRequest)
        );
        assert_eq!(check("/", V11, &[]), Err(Refusal::BadRequest));
        assert!(check("/", Version::HTTP_10, &[]).is_ok());
    }

    #[test]
    fn an_absolute_target_is_the_host() {
        assert!(check("http://a/x", V11, &[("host", "a")]).is_ok());
        assert!(check("http://a:80/x", V11, &[("host", "A")]).is_ok());
        assert!(check("https://a/x", V11, &[("host", "a:443")]).is_ok());
        for host in ["b", "a:8080", "a:443"] {
            assert_eq!(
                check("http://a/x", V11, &[("host", host)]),
                Err(Refusal::BadRequest),
                "{host}"
            );
        }
        let h = check("http://u@a:81/x", V11, &[]).unwrap();
        assert_eq!(h[HOST], "a:81");
        assert!(check("a:443", V11, &[("host", "a:443")]).is_ok());
        assert_eq!(
            check("a", V11, &[("host", "a")]).err(),
            Some(Refusal::BadRequest)
        );
        assert_eq!(
            check("a:443", V11, &[("host", "b:443")]),
            Err(Refusal::BadRequest)
        );
    }

    #[test]
    fn chunked_once_and_only_chunked() {
        let ok = [("host", "a"), ("transfer-encoding", "Chunked")];
        assert!(check("/", V11, &ok).is_ok());
        for (te, refusal) in [
            ("chunked, chunked", Refusal::BadRequest),
            ("chunked,", Refusal::BadRequest),
            (", chunked", Refusal::BadRequest),
            ("identity, chunked", Refusal::UnknownCoding),
            ("gzip, chunked", Refusal::UnknownCoding),
        ] {
            assert_eq!(
                check("/", V11, &[("host", "a"), ("transfer-encoding", te)]),
                Err(refusal),
                "{te}"
            );
        }
        let twice = [
            ("host", "a"),
            ("transfer-encoding", "chunked"),
            ("transfer-encoding", "chunked"),
        ];
        assert_eq!(check("/", V11, &twice), Err(Refusal::BadRequest));
    }

    #[test]
    fn connection_options_never_remove_end_to_end_fields() {
        let h = check(
            "/",
            V11,
            &[
                ("host", "a"),
                (
                    "connection",
                    "Host, X-Forwarded-For, x-trace, close, Content-Length",
                ),
                ("x-forwarded-for", "1.2.3.4"),
                ("x-trace", "1"),
                ("content-length", "0"),
            ],
        )
        .unwrap();
        assert!(h.contains_key(HOST) && h.contains_key("x-forwarded-for"));
        assert!(h.contains_key("content-length"));
        assert!(!h.contains_key("x-trace"));
    }

    #[test]
    fn expect_100_continue_is_answered_here() {
        let h = check("/", V11, &[("host", "a"), ("expect", "100-Continue")]).unwrap();
        assert!(!h.contains_key(EXPECT));
    }
}
