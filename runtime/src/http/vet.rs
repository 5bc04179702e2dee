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
    !announces_body(headers, present)
}

/// Whether a request head announces a body: chunked, or a `Content-Length` other than zero,
/// read as the number it is (hyper has already refused one that is not), as HAProxy's parser
/// reads it.
fn announces_body(headers: &HeaderMap, present: Present) -> bool {
    let chunked = present.transfer_encoding && headers.contains_key(TRANSFER_ENCODING);
    chunked
        || (headers.get_all(CONTENT_LENGTH).iter()).any(|v| {
            v.as_bytes()
                .iter()
                .any(|b| b.is_ascii_digit() && *b != b'0')
        })
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

/// How strictly a request head is read: `option accept-invalid-http-request` lets through
/// what HAProxy's parser then only notes (a target with non-ASCII bytes, a Host that names
/// another authority than the target, a CONNECT authority without a port).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Leniency {
    pub accept_invalid: bool,
}

/// Checks and normalises a request head in place.
pub fn vet(
    method: &Method,
    uri: &mut Uri,
    version: Version,
    headers: &mut HeaderMap,
    leniency: Leniency,
) -> Result<(), Refusal> {
    let present = Present::of(headers);
    vet_present(method, uri, version, headers, present, leniency)
}

/// [`vet`], for a head whose fields were surveyed already (`present`).
pub fn vet_present(
    method: &Method,
    uri: &mut Uri,
    version: Version,
    headers: &mut HeaderMap,
    present: Present,
    leniency: Leniency,
) -> Result<(), Refusal> {
    if present.transfer_encoding && headers.contains_key(TRANSFER_ENCODING) {
        transfer_codings(headers)?;
    }
    // RFC 9112 §3.2: a target is ASCII; hyper lets other (UTF-8) bytes through.
    let strict = !leniency.accept_invalid;
    if strict
        && uri
            .path_and_query()
            .is_some_and(|pq| !pq.as_str().is_ascii())
    {
        return Err(Refusal::BadRequest);
    }
    // RFC 9112 §3.2.3: CONNECT names a host and a port.
    if strict && method == Method::CONNECT && uri.port_u16().is_none() {
        return Err(Refusal::BadRequest);
    }
    host(method, uri, version, headers, strict)?;
    if !payload_allowed(method, version, headers, present) {
        return Err(Refusal::PayloadNotAllowed);
    }
    if present.connection && headers.contains_key(CONNECTION) {
        drop_connection_options(headers);
    }
    // hyper sends the `100 Continue` itself when the body is first read (HTTP/1.1 and, with
    // hapee's patch, HTTP/2): the server must not be asked for another one. An HTTP/2 client
    // waiting for it (curl does, for a second) would otherwise never get the server's, which
    // the server side does not pass on.
    if present.expect
        && (version == Version::HTTP_11 || version == Version::HTTP_2)
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
    if announces_body(headers, present) {
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
pub(super) fn elements<'a>(
    values: impl Iterator<Item = &'a HeaderValue>,
) -> impl Iterator<Item = &'a [u8]> {
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

/// Whether HAProxy's HTTP/1 parser refuses a head that parsed for the fields it checks as it
/// reads them: `Content-Length` values (in one line or several) that are not all the same
/// number, Host lines that differ, a target naming another authority than its Host (what
/// [`host`] refuses, a missing Host aside). A TCP content rule's HTTP fetches find no request
/// in such bytes (`req.proto_http` is false), as HAProxy's do.
pub fn parser_refuses(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let Ok(text) = value.to_str() else {
            return true;
        };
        for part in text.split(',') {
            let part = part.trim_matches([' ', '\t']);
            let Some(n) = (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u64>().ok())
                .flatten()
            else {
                return true;
            };
            if length.replace(n).is_some_and(|m| m != n) {
                return true;
            }
        }
    }
    let hosts = headers.get_all(HOST).iter().count();
    if hosts < 2 && uri.authority().is_none() {
        return false;
    }
    // An HTTP/1.0 head: a missing Host is not what is asked here.
    host(
        method,
        &mut uri.clone(),
        Version::HTTP_10,
        &mut headers.clone(),
        true,
    )
    .is_err()
}

/// RFC 9112 §3.2: one Host (repeats of the same value are merged); in absolute form the
/// target's authority is the Host, as HAProxy 2.7 compares them (a Host that names another
/// one is refused unless `strict` is off; a missing one is taken from the target); an
/// HTTP/1.1 request must have one. A scheme's default port is then dropped from an absolute
/// target and from every Host (RFC 3986 §6.2.3), and from a CONNECT's Host.
fn host(
    method: &Method,
    uri: &mut Uri,
    version: Version,
    headers: &mut HeaderMap,
    strict: bool,
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
    // The authority without any `user@` part: HAProxy compares and forwards the host only.
    let Some(authority) = super::target::host_of(uri) else {
        // An origin-form target (the usual one) needs only to know whether a Host came.
        if !came && version == Version::HTTP_11 && method != Method::CONNECT {
            return Err(Refusal::BadRequest);
        }
        return Ok(());
    };
    if method == Method::CONNECT {
        if let Some(host) = headers.get(HOST) {
            match connect_host(authority.as_bytes(), host.as_bytes()) {
                Some(normal) if normal.len() < host.len() => {
                    let normal = HeaderValue::from_bytes(normal).expect("part of a value");
                    headers.insert(HOST, normal);
                }
                Some(_) => {}
                None if strict => return Err(Refusal::BadRequest),
                None => {}
            }
            return Ok(());
        }
    } else if let Some(host) = headers.get(HOST) {
        if strict && !same_authority(uri.scheme_str(), authority.as_bytes(), host.as_bytes()) {
            return Err(Refusal::BadRequest);
        }
    }
    match without_default_port(uri) {
        Some((target, host)) => {
            *uri = target;
            // The Host becomes the target's host, as HAProxy rewrites every Host line.
            let host = HeaderValue::from_str(&host).map_err(|_| Refusal::BadRequest)?;
            headers.insert(HOST, host);
        }
        None if !headers.contains_key(HOST) => {
            let value = HeaderValue::from_str(authority).map_err(|_| Refusal::BadRequest)?;
            headers.insert(HOST, value);
        }
        None => {}
    }
    Ok(())
}

/// A CONNECT's Host against its `host:port` target, as HAProxy 2.7 reads them: with a port,
/// the same host and port (a default one, 80 or 443, then dropped from the Host); without
/// one, the same host with a default port in the target. The Host to forward, or `None` for
/// a Host that names another place.
fn connect_host<'a>(authority: &[u8], host: &'a [u8]) -> Option<&'a [u8]> {
    let (a_host, a_port) = split_port(authority);
    let a_port = a_port.filter(|p| !p.is_empty())?;
    let (h_host, h_port) = split_port(host);
    let default = a_port == b"80" || a_port == b"443";
    if !h_host.eq_ignore_ascii_case(a_host) {
        return None;
    }
    match h_port {
        Some(p) if !p.is_empty() => (p == a_port).then_some(if default { h_host } else { host }),
        _ => default.then_some(host),
    }
}

/// Whether a target's authority and a Host value name the same origin, as HAProxy 2.7 reads
/// them: equal ignoring case, or equal hosts when each port either side gives is the
/// scheme's default one (an empty port counts as the default).
fn same_authority(scheme: Option<&str>, authority: &[u8], host: &[u8]) -> bool {
    if authority.eq_ignore_ascii_case(host) {
        return true;
    }
    let Some(scheme) = scheme else {
        return false;
    };
    let (a_host, a_port) = split_port(authority);
    let (h_host, h_port) = split_port(host);
    if a_port.is_none() && h_port.is_none() {
        return false;
    }
    let default = |p: Option<&[u8]>| p.is_none_or(|p| is_default_port(scheme, p));
    default(a_port) && default(h_port) && a_host.eq_ignore_ascii_case(h_host)
}

/// Whether `port` is the default one of `scheme` (HTTP 80, HTTPS 443); an empty port is.
fn is_default_port(scheme: &str, port: &[u8]) -> bool {
    port.is_empty()
        || (port == b"80" && scheme.eq_ignore_ascii_case("http"))
        || (port == b"443" && scheme.eq_ignore_ascii_case("https"))
}

/// An absolute target whose authority gives its scheme's default port (or an empty one),
/// without it, and the host left: RFC 3986 §6.2.3's scheme-based normalization, which
/// HAProxy 2.7 applies to every absolute-form target it receives.
fn without_default_port(uri: &Uri) -> Option<(Uri, String)> {
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?.as_str();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, hostport)) => (Some(user), hostport),
        None => (None, authority),
    };
    let (host, port) = split_port(hostport.as_bytes());
    if !is_default_port(scheme, port?) {
        return None;
    }
    let host = std::str::from_utf8(host).ok()?;
    let mut text = format!("{scheme}://");
    if let Some(user) = userinfo {
        text.push_str(user);
        text.push('@');
    }
    text.push_str(host);
    // A target with nothing after its authority stays so (see `target::lacks_path`).
    if let Some(pq) = uri.path_and_query() {
        if !super::target::lacks_path(uri, Version::HTTP_11) {
            text.push_str(pq.as_str());
        }
    }
    let target = Uri::try_from(text).ok()?;
    Some((target, host.to_string()))
}

/// `host[:port]` as HAProxy splits it: the port is the digits (maybe none) after the last
/// `:` when only digits follow it, so an IPv6 literal in brackets stays whole.
fn split_port(value: &[u8]) -> (&[u8], Option<&[u8]>) {
    let digits = value
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let colon = value.len() - digits;
    match colon.checked_sub(1) {
        Some(i) if value[i] == b':' => (&value[..i], Some(&value[colon..])),
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
    // The usual values, each one of the connection's own options alone, name no field: they
    // are told apart without splitting them into tokens.
    let own = |v: &HeaderValue| {
        let v = v.as_bytes();
        v.eq_ignore_ascii_case(b"keep-alive") || v.eq_ignore_ascii_case(b"close")
    };
    if headers.get_all(CONNECTION).iter().all(own) {
        return;
    }
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
        check_as(target, version, fields, Leniency::default()).map(|(_, h)| h)
    }

    #[test]
    fn connection_options_beside_an_own_option() {
        // A value that is an own option alone names nothing; another line still can.
        let h = check(
            "/",
            Version::HTTP_11,
            &[("host", "a"), ("connection", "Keep-Alive"), ("x-hop", "1")],
        )
        .unwrap();
        assert!(h.contains_key("x-hop"));
        let h = check(
            "/",
            Version::HTTP_11,
            &[
                ("host", "a"),
                ("connection", "keep-alive"),
                ("connection", "x-hop"),
                ("x-hop", "1"),
            ],
        )
        .unwrap();
        assert!(!h.contains_key("x-hop"));
    }

    /// The target and the fields a request leaves [`vet`] with.
    fn check_as(
        target: &str,
        version: Version,
        fields: &[(&str, &str)],
        leniency: Leniency,
    ) -> Result<(String, HeaderMap), Refusal> {
        let mut headers = HeaderMap::new();
        for (n, v) in fields {
            headers.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let mut uri: Uri = target.parse().unwrap();
        let method = if uri.path_and_query().is_none() {
            Method::CONNECT
        } else {
            Method::GET
        };
        vet(&method, &mut uri, version, &mut headers, leniency)?;
        Ok((super::super::target::text(&uri, version), headers))
    }

    #[test]
    fn a_default_port_is_dropped_from_an_absolute_target_and_its_host() {
        let ok = |target: &str, host: &str| {
            let (t, h) = check_as(target, V11, &[("host", host)], Leniency::default()).unwrap();
            let host = h.get(HOST).map(|v| v.to_str().unwrap().to_string());
            (t, host.unwrap_or_default())
        };
        let pair = |t: &str, h: &str| (t.to_string(), h.to_string());
        assert_eq!(ok("http://a:80/x", "a:80"), pair("http://a/x", "a"));
        assert_eq!(ok("http://a:80/x", "a"), pair("http://a/x", "a"));
        assert_eq!(ok("http://A:80/x?q", "a:"), pair("http://A/x?q", "A"));
        assert_eq!(ok("http://a:/x", "a"), pair("http://a/x", "a"));
        assert_eq!(ok("https://a:443/x", "a:443"), pair("https://a/x", "a"));
        assert_eq!(ok("http://u@a:80", "a"), pair("http://u@a", "a"));
        // No port in the target: nothing is normalized, the Host stays as it came.
        assert_eq!(ok("http://a/x", "a:80"), pair("http://a/x", "a:80"));
        // Another scheme's default port is no default here.
        assert_eq!(
            ok("http://a:443/x", "a:443"),
            pair("http://a:443/x", "a:443")
        );
        assert_eq!(
            check("http://a:443/x", V11, &[("host", "a")]),
            Err(Refusal::BadRequest)
        );
        // An origin-form target leaves the Host alone.
        assert_eq!(ok("/x", "a:80"), pair("/x", "a:80"));
    }

    #[test]
    fn a_connect_host_with_a_default_port_loses_it() {
        let host = |target: &str, host: &str| {
            check(target, V11, &[("host", host)]).map(|h| h[HOST].to_str().unwrap().to_string())
        };
        assert_eq!(host("a:443", "a:443"), Ok("a".into()));
        assert_eq!(host("a:443", "A"), Ok("A".into()));
        assert_eq!(host("a:8443", "a:8443"), Ok("a:8443".into()));
        assert_eq!(host("a:8443", "a"), Err(Refusal::BadRequest));
        assert_eq!(host("a:443", "a:80"), Err(Refusal::BadRequest));
    }

    #[test]
    fn accept_invalid_http_request_lets_a_mismatch_and_non_ascii_through() {
        let lenient = Leniency {
            accept_invalid: true,
        };
        assert!(check_as("http://a/x", V11, &[("host", "b")], lenient).is_ok());
        assert!(check_as("b:443", V11, &[("host", "c")], lenient).is_ok());
        assert!(check_as("/caf\u{e9}", V11, &[("host", "a")], lenient).is_ok());
        assert_eq!(
            check_as("/caf\u{e9}", V11, &[("host", "a")], Leniency::default()).err(),
            Some(Refusal::BadRequest)
        );
        assert_eq!(
            check_as("/?caf\u{e9}", V11, &[("host", "a")], Leniency::default()).err(),
            Some(Refusal::BadRequest)
        );
        // A default port still goes, and every Host becomes the target's host.
        let (t, h) = check_as("http://a:80/", V11, &[("host", "b")], lenient).unwrap();
        assert_eq!((t.as_str(), h[HOST].to_str().unwrap()), ("http://a/", "a"));
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
    fn the_parser_refuses_framing_and_host_conflicts() {
        let refuses = |target: &str, fields: &[(&str, &str)]| {
            let mut headers = HeaderMap::new();
            for (n, v) in fields {
                headers.append(
                    HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            parser_refuses(&Method::GET, &target.parse().unwrap(), &headers)
        };
        assert!(!refuses(
            "/",
            &[("content-length", "3, 3"), ("content-length", "3")]
        ));
        assert!(refuses(
            "/",
            &[("content-length", "3"), ("content-length", "4")]
        ));
        assert!(refuses("/", &[("content-length", "3,4")]));
        assert!(refuses("/", &[("content-length", "x")]));
        assert!(!refuses("/", &[("host", "a"), ("host", "A")]));
        assert!(refuses("/", &[("host", "a"), ("host", "b")]));
        assert!(!refuses("/", &[]));
        assert!(!refuses("http://a/x", &[("host", "a")]));
        assert!(refuses("http://a/x", &[("host", "b")]));
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
        assert!(check("a:443", V11, &[("host", "a")]).is_ok());
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
