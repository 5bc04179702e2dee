//! The HTTP/1.1 wire format of the server side: how a request's body is framed and its head
//! written, and how a response head is parsed and its body's framing decided (RFC 9112 §6).
//! No I/O here: `exchange` and the upload feed these bytes to and from the socket.

use super::body::{Chunk, State};
use super::reuse::Failure;
use super::{ExchangeError, MAX_HEADERS};
use crate::http::ReqBody;
use bytes::{Buf, BytesMut};
use hyper::body::Body;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION};
use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode, Version};
use std::mem::MaybeUninit;

/// How the request body goes on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sending {
    Nothing,
    AsIs,
    Chunked,
}

/// Sets the framing headers of the request for its body, as hyper's client does: an empty body
/// sends nothing (only the last chunk when the client sent it chunked); a `Transfer-Encoding` is chunked; a valid `Content-Length` is kept; a body
/// of unknown length gets chunked, except on methods that never carry one.
pub(super) fn request_framing(req: &mut Request<ReqBody>) -> Sending {
    let empty = req.body().is_end_stream();
    let known = req.body().size_hint().exact();
    let method_without_body = matches!(*req.method(), Method::GET | Method::HEAD | Method::CONNECT);
    let headers = req.headers_mut();
    if empty {
        // Most requests without a body have no `Transfer-Encoding` to look at or remove.
        if headers.get_all(TRANSFER_ENCODING).iter().next().is_none() {
            return Sending::Nothing;
        }
        if is_chunked(headers) {
            return Sending::Chunked;
        }
        headers.remove(TRANSFER_ENCODING);
        return Sending::Nothing;
    }
    if headers.contains_key(TRANSFER_ENCODING) {
        if !is_chunked(headers) {
            headers.append(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        }
        headers.remove(CONTENT_LENGTH);
        return Sending::Chunked;
    }
    if content_length(headers).is_ok_and(|l| l.is_some()) {
        return Sending::AsIs;
    }
    headers.remove(CONTENT_LENGTH);
    match known {
        Some(len) => {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            Sending::AsIs
        }
        None if method_without_body => Sending::Nothing,
        None => {
            headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
            Sending::Chunked
        }
    }
}

/// Whether the last transfer coding is `chunked`.
pub(super) fn is_chunked(headers: &HeaderMap) -> bool {
    headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// The `Content-Length` of a message: none, one value (repeats must agree), or invalid.
pub(super) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ()> {
    content_length_of(
        headers
            .get_all(CONTENT_LENGTH)
            .iter()
            .map(HeaderValue::as_bytes),
    )
}

/// The length the values of a message's `Content-Length` fields give (see `content_length`).
pub(super) fn content_length_of<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<u64>, ()> {
    let mut length = None;
    for value in values {
        for part in value.split(|&b| b == b',') {
            let n = decimal(part.trim_ascii()).ok_or(())?;
            if length.is_some_and(|l| l != n) {
                return Err(());
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// A non-empty run of decimal digits that fits in a u64.
pub(super) fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then_some(())
            .and_then(|()| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
    })
}

/// Whether a `Connection` header lists `token`.
pub(crate) fn connection_has(headers: &HeaderMap, token: &str) -> bool {
    lists_token(
        headers
            .get_all(CONNECTION)
            .iter()
            .map(HeaderValue::as_bytes),
        token,
    )
}

/// Whether comma-separated lists (the values of `Connection` fields) have `token`.
pub(super) fn lists_token<'a>(mut values: impl Iterator<Item = &'a [u8]>, token: &str) -> bool {
    values.any(|v| {
        v.split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

pub(super) fn encode_head(req: &Request<ReqBody>, out: &mut Vec<u8>) {
    use std::io::Write;
    out.extend_from_slice(req.method().as_str().as_bytes());
    out.push(b' ');
    // An origin-form target (the usual one) is its path and query as they are; others go
    // through `Uri`'s formatting.
    let raw = req
        .extensions()
        .get::<hyper::ext::RawTarget>()
        .filter(|r| r.parsed == *req.uri());
    match req.uri().path_and_query() {
        // As the client wrote it, bytes `Uri` cannot hold included.
        _ if raw.is_some() => out.extend_from_slice(raw.map_or(&[][..], |r| &r.raw)),
        Some(pq) if req.uri().scheme().is_none() && req.uri().authority().is_none() => {
            out.extend_from_slice(pq.as_str().as_bytes())
        }
        // As the client wrote it: an absolute target with nothing after its authority
        // (`http://a`) goes without a `/`, as HAProxy forwards it.
        _ => {
            let _ = write!(
                out,
                "{}",
                crate::http::target::AsWritten(req.uri(), req.version())
            );
        }
    }
    out.extend_from_slice(if req.version() == Version::HTTP_10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    let case = req
        .extensions()
        .get::<crate::http::case_adjust::ToServer>()
        .map(|c| &*c.0);
    let order = req
        .extensions()
        .get::<crate::http::header_order::Lines>()
        .and_then(|l| l.get());
    match (order, case) {
        (Some(order), _) => {
            for (name, value) in crate::http::header_order::in_order(req.headers(), order) {
                encode_field_as(name, value, case, out);
            }
            out.extend_from_slice(b"\r\n");
        }
        (None, Some(case)) => {
            for (name, value) in req.headers() {
                encode_field_as(name, value, Some(case), out);
            }
            out.extend_from_slice(b"\r\n");
        }
        (None, None) => encode_fields(req.headers(), out),
    }
}

/// A header line, its name spelled as `case` says (`h1-case-adjust`) when it has it.
fn encode_field_as(
    name: &HeaderName,
    value: &HeaderValue,
    case: Option<&crate::http::case_adjust::CaseMap>,
    out: &mut Vec<u8>,
) {
    match case.and_then(|c| c.spelling(name)) {
        Some(spelled) => {
            out.extend_from_slice(spelled);
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        None => encode_field(name, value, out),
    }
}

fn encode_field(name: &HeaderName, value: &HeaderValue, out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Header (or trailer) lines and the empty line that ends them.
pub(super) fn encode_fields(fields: &HeaderMap, out: &mut Vec<u8>) {
    for (name, value) in fields {
        encode_field(name, value, out);
    }
    out.extend_from_slice(b"\r\n");
}

pub(super) fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

pub(super) fn encode_last_chunk(trailers: Option<&HeaderMap>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    encode_fields(trailers.unwrap_or(&HeaderMap::new()), out);
}

/// How many fields of a response head `parse_head` notes on the stack.
const INLINE_FIELDS: usize = 24;

pub(super) struct ParsedHead {
    pub(super) response: Response<State>,
    pub(super) keep_alive: bool,
}

/// Parses a response head from the front of `buf`, skipping interim (1xx) responses other
/// than 101. `None` when more bytes are needed. A `lenient` parse (`option
/// accept-invalid-http-response`) leaves out the header lines it cannot read, where HAProxy
/// forwards them as they came: a header map holds only valid names.
pub(super) fn parse_head(
    buf: &mut BytesMut,
    method: &Method,
    lenient: bool,
) -> Result<Option<ParsedHead>, ExchangeError> {
    let junk = ExchangeError::Server(Failure::JunkResponse);
    loop {
        let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut []);
        let base = buf.as_ptr() as usize;
        let mut config = httparse::ParserConfig::default();
        config.ignore_invalid_headers_in_responses(lenient);
        let len = match config.parse_response_with_uninit_headers(&mut parsed, buf, &mut slots) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(junk),
        };
        let status = parsed
            .code
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or(junk)?;
        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            buf.advance(len);
            if buf.is_empty() {
                return Ok(None);
            }
            continue;
        }
        let version = if parsed.version == Some(0) {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        // httparse hands over a reason phrase that is not UTF-8 as a static empty string; it
        // is then read from the status line itself, to be forwarded as it came.
        let reason = parsed
            .reason
            .and_then(|r| offsets(base, len, r.as_bytes()))
            .or_else(|| status_line_reason(&buf[..len]))
            .filter(|&(rs, re)| Some(&buf[rs..re]) != status.canonical_reason().map(str::as_bytes));
        // Where each field lies, noted while `parsed` borrows the buffer: on the stack for
        // the usual few fields (a list of MAX_HEADERS would be set to zero for each response).
        let count = parsed.headers.len();
        let mut inline = [((0, 0), (0, 0)); INLINE_FIELDS];
        let mut spilled = Vec::new();
        let fields = if count <= INLINE_FIELDS {
            &mut inline[..count]
        } else {
            spilled.resize(count, ((0, 0), (0, 0)));
            &mut spilled[..]
        };
        for (h, field) in parsed.headers.iter().zip(fields.iter_mut()) {
            let name = offsets(base, len, h.name.as_bytes()).ok_or(junk)?;
            let value = offsets(base, len, h.value).unwrap_or_default();
            *field = (name, value);
        }
        let head = buf.split_to(len).freeze();
        let mut headers = HeaderMap::with_capacity(count);
        // Which of the fields that frame the response are there, noted on the way: most
        // responses lack some, and each lookup in the map would hash its name again.
        let mut present = Framing::default();
        // Whether a name came back after other names (`a`, `b`, `a`): the map cannot show
        // that order, which is then kept beside it.
        let mut interleaved = false;
        let mut previous = (0, 0);
        for &((ns, ne), (vs, ve)) in fields.iter() {
            let name = &head[ns..ne];
            let name = match usual_name(name) {
                Some(known) => known,
                None => match HeaderName::from_bytes(name) {
                    Ok(name) => name,
                    Err(_) if lenient => continue,
                    Err(_) => return Err(junk),
                },
            };
            // SAFETY (an invariant, not memory safety: `HeaderValue` checks it in debug
            // builds): httparse accepted every byte of a field value only if it is a tab, a
            // visible ASCII character, a space or a byte of 0x80 and above
            // (`is_header_value_token`), which is exactly the set `HeaderValue` allows.
            let value = unsafe { HeaderValue::from_maybe_shared_unchecked(head.slice(vs..ve)) };
            present.note(&name, (vs, ve));
            if headers.append(name, value) && !interleaved {
                interleaved = !head[previous.0..previous.1].eq_ignore_ascii_case(&head[ns..ne]);
            }
            previous = (ns, ne);
        }
        let state = body_state(status, method, &head, &headers, present).ok_or(junk)?;
        // As HAProxy reads a coded body (h1.c): a length beside the coding is dropped, and a
        // coding beside a length or in HTTP/1.0 ends the connection after the response.
        let coded =
            present.transfer_encoding && matches!(state, State::Chunk(_) | State::UntilClose);
        let with_length = coded && present.content_length != Seen::No;
        if with_length {
            headers.remove(CONTENT_LENGTH);
        }
        let forced_close = with_length || (coded && version == Version::HTTP_10);
        let keep_alive = !forced_close
            && matches!(state, State::Length(_) | State::Chunk(_))
            && if version == Version::HTTP_10 {
                lists_token(
                    present.connection.values(&head, &headers, CONNECTION),
                    "keep-alive",
                )
            } else {
                !lists_token(
                    present.connection.values(&head, &headers, CONNECTION),
                    "close",
                )
            };
        let mut response = Response::new(state);
        *response.status_mut() = status;
        *response.version_mut() = version;
        *response.headers_mut() = headers;
        if let Some((rs, re)) = reason {
            if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(head.slice(rs..re)) {
                response.extensions_mut().insert(phrase);
            }
        }
        if interleaved {
            let order = fields
                .iter()
                .map(|&((ns, ne), _)| {
                    let name = &head[ns..ne];
                    usual_name(name).map_or_else(|| HeaderName::from_bytes(name), Ok)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| junk)?;
            response
                .extensions_mut()
                .insert(hyper::ext::HeaderLines(order));
        }
        return Ok(Some(ParsedHead {
            response,
            keep_alive,
        }));
    }
}

/// The names servers send most, spelt as they usually spell them: matched as they are, where
/// `HeaderName::from_bytes` first lowercases each name into a buffer to look it up. Any other
/// spelling takes that way and gives the same name.
fn usual_name(name: &[u8]) -> Option<HeaderName> {
    use hyper::header::{
        ACCEPT_RANGES, CACHE_CONTROL, CONTENT_TYPE, DATE, ETAG, EXPIRES, LAST_MODIFIED, LOCATION,
        SERVER, SET_COOKIE, VARY,
    };
    Some(match name {
        b"Content-Length" => CONTENT_LENGTH,
        b"Content-Type" => CONTENT_TYPE,
        b"Date" => DATE,
        b"Server" => SERVER,
        b"Connection" => CONNECTION,
        b"Transfer-Encoding" => TRANSFER_ENCODING,
        b"Cache-Control" => CACHE_CONTROL,
        b"Last-Modified" => LAST_MODIFIED,
        b"ETag" => ETAG,
        b"Accept-Ranges" => ACCEPT_RANGES,
        b"Vary" => VARY,
        b"Set-Cookie" => SET_COOKIE,
        b"Location" => LOCATION,
        b"Expires" => EXPIRES,
        _ => return None,
    })
}

/// Where the reason phrase of a status line (`HTTP/1.x NNN reason`) lies in `head`.
pub(super) fn status_line_reason(head: &[u8]) -> Option<(usize, usize)> {
    const BEFORE_REASON: usize = "HTTP/1.1 200 ".len();
    let end = head.iter().position(|&b| b == b'\n')?;
    let end = if end > 0 && head[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    (end > BEFORE_REASON).then_some((BEFORE_REASON, end))
}

/// Where `part` lies in the buffer of `len` bytes at address `base`; `None` when it is not in
/// it (httparse gives a reason phrase that is not UTF-8 as a static empty string).
pub(super) fn offsets(base: usize, len: usize, part: &[u8]) -> Option<(usize, usize)> {
    let start = (part.as_ptr() as usize).checked_sub(base)?;
    let end = start + part.len();
    (end <= len).then_some((start, end))
}

/// Which of the fields that frame a response its head has, and where the value of one that
/// came once lies, so that the usual head (one `Content-Length`, one `Connection`) is read
/// without looking its fields up in the map again.
#[derive(Clone, Copy, Default)]
pub(super) struct Framing {
    pub(super) transfer_encoding: bool,
    pub(super) content_length: Seen,
    pub(super) connection: Seen,
}

impl Framing {
    fn note(&mut self, name: &HeaderName, value: (usize, usize)) {
        if name == TRANSFER_ENCODING {
            self.transfer_encoding = true;
        } else if name == CONTENT_LENGTH {
            self.content_length.add(value);
        } else if name == CONNECTION {
            self.connection.add(value);
        }
    }
}

/// How many times a head has a field: not at all, once (with where its value lies in the
/// head), or more.
#[derive(Clone, Copy, Default, PartialEq, Debug)]
pub(super) enum Seen {
    #[default]
    No,
    Once(usize, usize),
    More,
}

impl Seen {
    fn add(&mut self, (start, end): (usize, usize)) {
        *self = match self {
            Seen::No => Seen::Once(start, end),
            _ => Seen::More,
        };
    }

    /// The field's values: from the head when it came once, else from the map.
    fn values<'a>(
        self,
        head: &'a [u8],
        headers: &'a HeaderMap,
        name: HeaderName,
    ) -> impl Iterator<Item = &'a [u8]> {
        let once = match self {
            Seen::Once(start, end) => Some(&head[start..end]),
            _ => None,
        };
        let more = (self == Seen::More).then(|| headers.get_all(name).into_iter());
        once.into_iter()
            .chain(more.into_iter().flatten().map(HeaderValue::as_bytes))
    }
}

/// The response body's framing (RFC 9112 §6.3); `None` for a response that cannot be read.
pub(super) fn body_state(
    status: StatusCode,
    method: &Method,
    head: &[u8],
    h: &HeaderMap,
    present: Framing,
) -> Option<State> {
    if status == StatusCode::SWITCHING_PROTOCOLS
        || (*method == Method::CONNECT && status.is_success())
    {
        return Some(State::Upgraded);
    }
    if status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || *method == Method::HEAD
    {
        return Some(State::Length(0));
    }
    if present.transfer_encoding {
        // HTTP/1.0 included: HAProxy reads its coding as in HTTP/1.1, and closes after it.
        return Some(if is_chunked(h) {
            State::Chunk(Chunk::Size)
        } else {
            State::UntilClose
        });
    }
    match present.content_length {
        Seen::No => return Some(State::UntilClose),
        // The usual value, plain digits, needs no splitting at commas nor trimming.
        Seen::Once(start, end) => {
            if let Some(n) = decimal(&head[start..end]) {
                return Some(State::Length(n));
            }
        }
        Seen::More => {}
    }
    match content_length_of(present.content_length.values(head, h, CONTENT_LENGTH)) {
        Ok(Some(n)) => Some(State::Length(n)),
        Ok(None) => Some(State::UntilClose),
        Err(()) => None,
    }
}
