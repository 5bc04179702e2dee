//! A message as HAProxy's internal buffer holds it when rules look at it (sizes from
//! `crate::http::room`): the `internal.htx.*` fetches, and `req.len`/`res.len` in HTTP mode,
//! which HAProxy answers with the buffer's data bytes (head and body in internal form) rather
//! than the bytes on the wire.
//!
//! The start line, each header and the end of the head take one block each, the body bytes
//! held one more. The body held is what hapee read before the rules: a request's with
//! `option http-buffer-request` or `wait-for-body`, a response's that came with its head.

use super::room::{held, request_size, response_size, BLOCK};
use crate::sample::Value;
use crate::txn::Txn;
use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::HeaderMap;

/// The fetches this module answers.
const FETCHES: &[&str] = &[
    "internal.htx.data",
    "internal.htx.size",
    "internal.htx.used",
    "internal.htx.free",
    "internal.htx.free_data",
    "internal.htx.nbblks",
    "internal.htx.has_eom",
];

pub fn provides(name: &str) -> bool {
    FETCHES.contains(&name) || name.starts_with("internal.htx_blk.")
}

/// One message in the buffer.
struct Held {
    /// Bytes of the blocks' contents (`htx->data`).
    data: usize,
    blocks: usize,
    /// Body bytes held.
    body: usize,
    /// The message has ended in the buffer (HAProxy's end-of-message flag).
    complete: bool,
}

/// The declared body length: `Some(0)` for none, `None` when chunked or unknown.
fn declared(h: &HeaderMap) -> Option<u64> {
    if h.contains_key(TRANSFER_ENCODING) {
        return None;
    }
    match h.get(CONTENT_LENGTH) {
        Some(v) => v.to_str().ok()?.trim().parse().ok(),
        None => Some(0),
    }
}

fn message(txn: &Txn, response: bool) -> Option<Held> {
    let limits = txn.shared.room;
    let (head, headers, available, bodyless) = if response {
        let r = txn.response.as_ref()?;
        // No body follows these, nor any answer to HEAD.
        let bodyless = matches!(r.status, 100..=199 | 204 | 304)
            || txn
                .request
                .as_ref()
                .is_some_and(|q| q.method == hyper::Method::HEAD);
        (
            response_size(r),
            &r.headers,
            txn.rewrites.response_buffered,
            bodyless,
        )
    } else {
        let r = txn.request.as_ref()?;
        let available = txn.request_body().map_or(0, |b| b.len());
        (request_size(r), &r.headers, available, false)
    };
    let body = held(limits, head, available);
    let complete = bodyless || declared(headers) == Some(body as u64);
    // The head's blocks: the start line, each header, the end of the head.
    let head_blocks = headers.len() + 2;
    let blocks = head_blocks + usize::from(body > 0);
    Some(Held {
        // The end of the head holds one byte, which `room` leaves out.
        data: head - head_blocks * BLOCK + 1 + body,
        blocks,
        body,
        complete,
    })
}

/// Whether samples are being fetched on the response (a response rule), as HAProxy picks a
/// fetch's channel; elsewhere, logs included, on the request.
fn on_response(txn: &Txn) -> bool {
    hapee_compiler::registry::capabilities::for_response(txn.places.get())
}

/// A request head's data bytes in internal form, as it arrived: what HAProxy counts as
/// received from the client for it (`%U`, the `bin` counters), before any body byte. The
/// start line's descriptor, method, target (absolute when the client gave a scheme and an
/// authority) and version, each header's name and value, and one byte for the end of the
/// head.
pub fn request_head_data(
    method: &hyper::Method,
    uri: &hyper::Uri,
    headers: &hyper::HeaderMap,
) -> u64 {
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    let target = match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => scheme.len() + 3 + authority.as_str().len() + path,
        _ => path.max(1),
    };
    let fields = super::room::parsed_fields_len(headers);
    (super::room::START_LINE + method.as_str().len() + target + "HTTP/1.1".len() + fields + 1)
        as u64
}

/// A server response head's data bytes in internal form, as it arrived: what HAProxy counts
/// as sent to the client for it (`%B`, the `bout` counters) before the rules change it. The
/// start line's descriptor, version, status and reason, each header, the end of the head.
/// The proxy's own answers count the same way, as they go out (`parsed` false: their
/// `Connection` header counts whole).
pub fn response_head_data(
    status: hyper::StatusCode,
    extensions: &hyper::http::Extensions,
    headers: &hyper::HeaderMap,
    parsed: bool,
) -> u64 {
    let reason = extensions.get::<hyper::ext::ReasonPhrase>().map_or_else(
        || status.canonical_reason().unwrap_or("").len(),
        |p| p.as_bytes().len(),
    );
    let fields = if parsed {
        super::room::parsed_fields_len(headers)
    } else {
        super::room::fields_len(headers)
    };
    (super::room::START_LINE + "HTTP/1.1".len() + 3 + reason + fields + 1) as u64
}

/// Whether a configuration reads `internal.htx_blk.data`: only then are the body bytes that
/// come with a response's head copied aside for it.
static DATA_WANTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes that an expression reads `internal.htx_blk.data`.
pub fn want_data() {
    DATA_WANTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub fn data_wanted() -> bool {
    DATA_WANTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// One block of a message, as `internal.htx_blk.*` shows it.
enum Block<'a> {
    /// The start line's three parts.
    StartLine {
        response: bool,
        parts: [String; 3],
    },
    Header(&'a str, &'a [u8]),
    EndOfHead,
    /// The body bytes held (`None`: held, but not kept where the fetch can read them).
    Data(usize, Option<bytes::Bytes>),
}

impl Block<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Block::StartLine {
                response: false, ..
            } => "HTX_BLK_REQ_SL",
            Block::StartLine { response: true, .. } => "HTX_BLK_RES_SL",
            Block::Header(..) => "HTX_BLK_HDR",
            Block::EndOfHead => "HTX_BLK_EOH",
            Block::Data(..) => "HTX_BLK_DATA",
        }
    }

    /// The block's data bytes (a start line's fixed part counts in).
    fn size(&self) -> usize {
        match self {
            Block::StartLine { parts, .. } => {
                super::room::START_LINE + parts.iter().map(String::len).sum::<usize>()
            }
            Block::Header(n, v) => n.len() + v.len(),
            Block::EndOfHead => 1,
            Block::Data(n, _) => *n,
        }
    }
}

/// The version as a start line carries it.
fn version_text(v: hyper::Version) -> &'static str {
    match v {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        hyper::Version::HTTP_2 => "HTTP/2.0",
        hyper::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The blocks of a message in the buffer, from its start line.
fn blocks(txn: &Txn, response: bool) -> Option<Vec<Block<'_>>> {
    let m = message(txn, response)?;
    let (start, headers, lines, held) = if response {
        let r = txn.response.as_ref()?;
        let reason = hyper::StatusCode::from_u16(r.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let parts = [
            version_text(r.version).to_string(),
            r.status.to_string(),
            reason.to_string(),
        ];
        let held = txn
            .response_body()
            .cloned()
            .or_else(|| txn.rewrites.response_held.clone());
        (parts, &r.headers, &r.lines, held)
    } else {
        let r = txn.request.as_ref()?;
        let target = r.uri.path_and_query().map_or("/", |p| p.as_str());
        let parts = [
            r.method.to_string(),
            target.to_string(),
            version_text(r.version).to_string(),
        ];
        (parts, &r.headers, &r.lines, txn.request_body().cloned())
    };
    let mut out = vec![Block::StartLine {
        response,
        parts: start,
    }];
    let ordered: Box<dyn Iterator<Item = _>> = match lines.get() {
        Some(order) => Box::new(super::header_order::in_order(headers, order)),
        None => Box::new(headers.iter()),
    };
    out.extend(ordered.map(|(n, v)| Block::Header(n.as_str(), v.as_bytes())));
    out.push(Block::EndOfHead);
    let body_len = m.body;
    if body_len > 0 {
        let bytes = held
            .filter(|b| b.len() >= body_len)
            .map(|b| b.slice(..body_len));
        out.push(Block::Data(body_len, bytes));
    }
    Some(out)
}

/// Evaluates one `internal.htx_blk.*(<pos>)` fetch: `pos` is a block's position from the
/// start line (0), or `head`, `tail`, `first`. A position past the message is an unused
/// block: its type says so, its size is 0 and its contents empty.
pub fn block_fetch(name: &str, pos: &str, txn: &Txn) -> Option<Value> {
    let blocks = blocks(txn, on_response(txn))?;
    let index = match pos {
        "head" | "first" => Some(0),
        "tail" => blocks.len().checked_sub(1),
        digits => digits.parse::<usize>().ok(),
    };
    let block = index.and_then(|i| blocks.get(i));
    let text = |s: Option<String>| Some(Value::Str(s.unwrap_or_default()));
    match name.strip_prefix("internal.htx_blk.")? {
        "type" => Some(Value::Str(
            block.map_or("HTX_BLK_UNUSED", Block::type_name).to_string(),
        )),
        "size" => Some(Value::Int(block.map_or(0, Block::size) as i64)),
        "start_line" => text(match block {
            Some(Block::StartLine { parts, .. }) => Some(parts.join(" ")),
            _ => None,
        }),
        "hdrname" => text(match block {
            Some(Block::Header(n, _)) => Some(n.to_string()),
            _ => None,
        }),
        "hdrval" => text(match block {
            Some(Block::Header(_, v)) => Some(String::from_utf8_lossy(v).into_owned()),
            _ => None,
        }),
        "data" => match block {
            Some(Block::Data(_, bytes)) => bytes.clone().map(Value::Bin),
            _ => Some(Value::Bin(bytes::Bytes::new())),
        },
        _ => None,
    }
}

/// `req.len` / `res.len` in HTTP mode: the message's data bytes in the buffer.
pub fn data_len(txn: &Txn, response: bool) -> Option<i64> {
    message(txn, response).map(|m| m.data as i64)
}

/// Evaluates one `internal.htx.*` fetch.
pub fn fetch(name: &str, txn: &Txn) -> Option<Value> {
    let m = message(txn, on_response(txn))?;
    let size = txn.shared.room.capacity();
    let used = m.data + m.blocks * BLOCK;
    let free = size.saturating_sub(used);
    let int = |n: usize| Some(Value::Int(n as i64));
    match name {
        "internal.htx.data" => int(m.data),
        "internal.htx.size" => int(size),
        "internal.htx.used" => int(used),
        "internal.htx.free" => int(free),
        // The room for one more block's contents.
        "internal.htx.free_data" => int(free.saturating_sub(BLOCK)),
        "internal.htx.nbblks" => int(m.blocks),
        "internal.htx.has_eom" => Some(Value::Bool(m.complete)),
        _ => None,
    }
}
