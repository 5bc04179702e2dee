//! Content inspection (sans-I/O): the fetches that read the client's first bytes held for
//! `tcp-request content` rules (`req.len`, `req.payload`, `req.payload_lv`, the TLS ClientHello
//! fetches, `wait_end`, and the HTTP request HTTP fetches read there in TCP mode), and whether
//! the rules must wait for more of them.
//!
//! A fetch that could answer differently with more data marks the transaction (`may_change`)
//! unless the payload is final; a condition that then neither passes nor fails waits, as
//! HAProxy waits on `ACL_TEST_MISS` until `tcp-request inspect-delay` passes.

use crate::decide::Head;
use crate::held_records::{distcc, hello_extensions, hello_type, Scan};
use crate::sample::Value;
use crate::txn::{RequestView, Txn};
use bytes::Bytes;

/// The fetches this module answers.
pub const FETCHES: &[&str] = &[
    "req.len",
    "req_len",
    "req.payload",
    "req.payload_lv",
    "req.ssl_hello_type",
    "req_ssl_hello_type",
    "req.ssl_sni",
    "req_ssl_sni",
    "req.ssl_ver",
    "req_ssl_ver",
    "wait_end",
    "res.len",
    "res.payload",
    "res.payload_lv",
    "req.ssl_alpn",
    "req.ssl_ec_ext",
    "req.ssl_st_ext",
    "res.ssl_hello_type",
    "rep_ssl_hello_type",
    // The direction's own `req.*` or `res.*` bytes.
    "distcc_body",
    "distcc_param",
    // The direction's own `req.payload*` or `res.payload*`.
    "payload",
    "payload_lv",
    "req.rdp_cookie",
    "rdp_cookie",
    "req.rdp_cookie_cnt",
    "rdp_cookie_cnt",
];

pub fn provides(name: &str) -> bool {
    FETCHES.contains(&name)
}

/// Whether samples are being fetched for `tcp-response content` rules.
fn inspecting_response(txn: &Txn) -> bool {
    use hapee_compiler::registry::capabilities::at;
    txn.places.get() & (at::FE_RES_CNT | at::BE_RES_CNT) != 0
        && txn.places.get() & (at::FE_REQ_CNT | at::BE_REQ_CNT) == 0
}

/// Evaluates one content fetch, on the client's held bytes (`req.*`) or the server's
/// (`res.*`; `wait_end` follows the rules that run).
pub fn fetch(name: &str, args: &[String], txn: &Txn) -> Vec<Value> {
    let name = match (name, inspecting_response(txn)) {
        ("payload", false) => "req.payload",
        ("payload", true) => "res.payload",
        ("payload_lv", false) => "req.payload_lv",
        ("payload_lv", true) => "res.payload_lv",
        (other, _) => other,
    };
    let int_arg = |i: usize| args.get(i).and_then(|a| a.trim().parse::<usize>().ok());
    let response = match name {
        "rep_ssl_hello_type" => true,
        "wait_end" | "distcc_body" | "distcc_param" => inspecting_response(txn),
        _ => name.starts_with("res."),
    };
    let (held, complete) = if response {
        (txn.res_payload.as_ref(), txn.res_payload_final)
    } else {
        (txn.payload.as_ref(), txn.payload_final)
    };
    let Some(data) = held else {
        // HTTP mode: HAProxy counts the message in its internal form, head and body held.
        return match name {
            "req.len" | "req_len" | "res.len" => crate::http::htx::data_len(txn, response)
                .map_or_else(Vec::new, |n| vec![Value::Int(n)]),
            // The response ends with the message, which a tunnel's never does (its rules
            // wait out the delay: `crate::tcp_response::wait_message_end`); otherwise nothing
            // more will come and the rules run on what is there.
            "wait_end" if response && !txn.res_payload_final => {
                txn.may_change.set(true);
                Vec::new()
            }
            "wait_end" => vec![Value::Bool(true)],
            _ => Vec::new(),
        };
    };
    let waiting = |txn: &Txn| {
        if !complete {
            txn.may_change.set(true);
        }
    };
    match name {
        "req.len" | "req_len" | "res.len" => {
            waiting(txn);
            vec![Value::Int(data.len() as i64)]
        }
        "req.payload" | "res.payload" => {
            let (offset, len) = (int_arg(0).unwrap_or(0), int_arg(1).unwrap_or(0));
            match slice(data, offset, len) {
                Some(b) => {
                    if len == 0 {
                        waiting(txn);
                    }
                    vec![Value::Bin(b)]
                }
                None => {
                    waiting(txn);
                    Vec::new()
                }
            }
        }
        "req.payload_lv" | "res.payload_lv" => match length_value(data, args) {
            Some(b) => vec![Value::Bin(b)],
            None => {
                waiting(txn);
                Vec::new()
            }
        },
        "req.rdp_cookie" | "rdp_cookie" | "req.rdp_cookie_cnt" | "rdp_cookie_cnt" => {
            use crate::rdp::{rdp_cookie, RdpCookie};
            let found = match rdp_cookie(data, args.first().map_or("", String::as_str)) {
                RdpCookie::Found(v) => Some(v),
                // More bytes may hold it: the rules wait (until the inspect delay) unless
                // nothing more will come.
                RdpCookie::TooShort if !complete => {
                    txn.may_change.set(true);
                    return Vec::new();
                }
                RdpCookie::TooShort | RdpCookie::NotCookie => None,
            };
            if name.ends_with("_cnt") {
                vec![Value::Int(i64::from(found.is_some()))]
            } else {
                found.map(|v| vec![Value::Str(v)]).unwrap_or_default()
            }
        }
        "wait_end" => {
            if complete {
                vec![Value::Bool(true)]
            } else {
                txn.may_change.set(true);
                Vec::new()
            }
        }
        "req.ssl_hello_type" | "req_ssl_hello_type" | "res.ssl_hello_type"
        | "rep_ssl_hello_type" => scanned(hello_type(data), txn, complete)
            .map(|t| vec![Value::Int(i64::from(t))])
            .unwrap_or_default(),
        // Whether the ClientHello has a SessionTicket extension (2 when it carries a ticket,
        // 1 when empty, 0 when absent) or an elliptic curves one (no sample when absent).
        "req.ssl_st_ext" | "req.ssl_ec_ext" => {
            let Some(exts) = scanned(hello_extensions(data), txn, complete) else {
                return Vec::new();
            };
            let find = |kind: u16| exts.iter().find(|e| e.0 == kind);
            match name {
                "req.ssl_st_ext" => {
                    let ticket = find(35).map_or(0, |e| if e.1 > 0 { 2 } else { 1 });
                    vec![Value::Int(ticket)]
                }
                _ => find(10)
                    .map(|_| vec![Value::Bool(true)])
                    .unwrap_or_default(),
            }
        }
        "distcc_param" | "distcc_body" => distcc_fetch(name, data, args, txn, complete),
        _ => match client_hello(data) {
            Hello::Complete(h) => match name {
                // HAProxy gives the major version in the high 16 bits: TLS 1.0 is 0x30001.
                "req.ssl_ver" | "req_ssl_ver" => vec![Value::Int(
                    (i64::from(h.version >> 8) << 16) + i64::from(h.version & 0xff),
                )],
                "req.ssl_alpn" => h.alpn.map(|s| vec![Value::Str(s)]).unwrap_or_default(),
                _ => h
                    .server_name
                    .map(|s| vec![Value::Str(s)])
                    .unwrap_or_default(),
            },
            Hello::Incomplete => {
                waiting(txn);
                Vec::new()
            }
            Hello::NotTls => Vec::new(),
        },
    }
}

/// A scan's answer; while more bytes could change it, the transaction is marked to wait
/// (unless nothing more will come).
fn scanned<T>(scan: Scan<T>, txn: &Txn, complete: bool) -> Option<T> {
    match scan {
        Scan::Found(v) => Some(v),
        Scan::More => {
            if !complete {
                txn.may_change.set(true);
            }
            None
        }
        Scan::Not => None,
    }
}

/// `distcc_param(<token>[,<occ>])` and `distcc_body(<token>[,<occ>])`. A body not all held
/// yet waits for its bytes; once nothing more will come it is what is held of it, as
/// HAProxy cuts a body its buffer cannot hold.
fn distcc_fetch(
    name: &str,
    data: &Bytes,
    args: &[String],
    txn: &Txn,
    complete: bool,
) -> Vec<Value> {
    let token = args.first().map_or("", String::as_str).as_bytes();
    let occurrence = args.get(1).and_then(|a| a.trim().parse().ok()).unwrap_or(0);
    let Some(t) = scanned(distcc(data, token, occurrence), txn, complete) else {
        return Vec::new();
    };
    if name == "distcc_param" {
        return vec![Value::Int(i64::from(t.param))];
    }
    let end = t.body_at.saturating_add(t.body_len);
    if end > data.len() && !complete {
        txn.may_change.set(true);
        return Vec::new();
    }
    let held = data.len().min(end);
    vec![Value::Bin(data.slice(t.body_at.min(held)..held))]
}

/// The HTTP/1 request at the start of the client's held bytes (TCP mode), which HAProxy's
/// HTTP fetches parse there: `None` when there is none, and the transaction is marked to
/// wait for more while a head has begun but not ended.
pub fn held_request(txn: &Txn) -> Option<RequestView> {
    let data = txn.payload.as_ref()?;
    // HAProxy's HTTP/1 parser reads HTTP/2's preface as a request (`PRI * HTTP/2.0`) with
    // no header, so that a TCP frontend can see HTTP in it and switch to HTTP mode.
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\n";
    let head = if data.starts_with(PREFACE) {
        Head::Complete(RequestView {
            method: hyper::Method::from_bytes(b"PRI").ok()?,
            uri: hyper::Uri::from_static("*"),
            version: hyper::Version::HTTP_2,
            headers: hyper::HeaderMap::new(),
            lines: Default::default(),
        })
    } else if PREFACE.starts_with(data) {
        Head::Partial
    } else {
        crate::decide::read_head(data)
    };
    match head {
        Head::Complete(view) => Some(view),
        Head::Partial => {
            if !txn.payload_final {
                txn.may_change.set(true);
            }
            None
        }
        Head::Invalid => None,
    }
}

/// `len` bytes at `offset` (`len` 0: all from `offset`), if that much is there.
fn slice(data: &Bytes, offset: usize, len: usize) -> Option<Bytes> {
    if len == 0 {
        return (offset <= data.len()).then(|| data.slice(offset..));
    }
    let end = offset.checked_add(len)?;
    (end <= data.len()).then(|| data.slice(offset..end))
}

/// `req.payload_lv(<len offset>,<len size>[,<offset2>])`: a big-endian length field, then
/// the block it announces (at the field's end, or at `offset2`; `+n` is relative).
fn length_value(data: &Bytes, args: &[String]) -> Option<Bytes> {
    let at: usize = args.first()?.trim().parse().ok()?;
    let size: usize = args.get(1)?.trim().parse().ok()?;
    if size == 0 || size > 8 {
        return None;
    }
    let field = slice(data, at, size)?;
    let len = field.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)) as usize;
    let start = match args.get(2).map(|s| s.trim()) {
        None | Some("") => at + size,
        Some(rel) if rel.starts_with('+') || rel.starts_with('-') => {
            let delta: isize = rel.parse().ok()?;
            (at + size).checked_add_signed(delta)?
        }
        Some(abs) => abs.parse().ok()?,
    };
    if len == 0 {
        return (start <= data.len()).then(|| data.slice(start..start));
    }
    slice(data, start, len)
}

/// What the start of a TLS connection holds.
enum Hello {
    Complete(ClientHello),
    /// Looks like TLS but the ClientHello is not all there yet.
    Incomplete,
    NotTls,
}

struct ClientHello {
    /// The record layer's version as written (`0x0301` for TLS 1.0).
    version: u16,
    server_name: Option<String>,
    /// The first protocol of the ALPN extension (`req.ssl_alpn`).
    alpn: Option<String>,
}

/// Reads the ClientHello of the first TLS record (the SNI parse is small enough to write
/// here rather than pull in a TLS parser for it).
fn client_hello(data: &[u8]) -> Hello {
    if data.is_empty() {
        return Hello::Incomplete;
    }
    if data[0] != 22 {
        return Hello::NotTls;
    }
    if data.len() < 5 {
        return Hello::Incomplete;
    }
    let version = u16::from_be_bytes([data[1], data[2]]);
    let record_len = usize::from(u16::from_be_bytes([data[3], data[4]]));
    let Some(record) = data.get(5..5 + record_len) else {
        return Hello::Incomplete;
    };
    match parse_hello(record) {
        Some((server_name, alpn)) => Hello::Complete(ClientHello {
            version,
            server_name,
            alpn,
        }),
        None => Hello::NotTls,
    }
}

/// The SNI and the first ALPN protocol of a ClientHello handshake message (`None` when it
/// is not one).
fn parse_hello(msg: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let mut r = Reader(msg);
    if r.u8()? != 1 {
        return None;
    }
    let len = r.u24()?;
    let body = r.take(len)?;
    let mut r = Reader(body);
    r.take(2 + 32)?; // client version, random
    let session = r.u8()?;
    r.take(usize::from(session))?;
    r.block16()?; // cipher suites
    let compression = r.u8()?;
    r.take(usize::from(compression))?;
    let (mut server_name, mut alpn) = (None, None);
    if r.0.is_empty() {
        return Some((server_name, alpn));
    }
    let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_string);
    let mut exts = Reader(r.block16()?);
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let mut ext = Reader(exts.block16()?);
        match kind {
            0 => {
                let mut names = Reader(ext.block16()?);
                while !names.0.is_empty() {
                    let name_type = names.u8()?;
                    let name = names.block16()?;
                    if name_type == 0 && server_name.is_none() {
                        server_name = text(name);
                    }
                }
            }
            16 => {
                let mut protocols = Reader(ext.block16()?);
                let len = protocols.u8()?;
                alpn = text(protocols.take(usize::from(len))?);
            }
            _ => {}
        }
    }
    Some((server_name, alpn))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// A block announced by a 16-bit length.
    fn block16(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello for `name`, as TLS clients send it (one record).
    fn hello(name: &str) -> Vec<u8> {
        let mut sni = Vec::new();
        sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name.as_bytes());
        let mut exts = vec![0, 0];
        exts.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        exts.extend_from_slice(&sni);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0); // no session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
        body.extend_from_slice(&[1, 0]); // null compression
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut msg = vec![1];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        rec.extend_from_slice(&msg);
        rec
    }

    #[test]
    fn the_sni_is_read_from_a_whole_client_hello_only() {
        let h = hello("www.example.com");
        match client_hello(&h) {
            Hello::Complete(c) => {
                assert_eq!(c.server_name.as_deref(), Some("www.example.com"));
                assert_eq!(c.version, 0x0301);
            }
            _ => panic!("a whole ClientHello"),
        }
        for cut in [0, 3, 10, h.len() - 1] {
            assert!(
                matches!(client_hello(&h[..cut]), Hello::Incomplete),
                "{cut}"
            );
        }
        assert!(matches!(client_hello(b"GET / HTTP/1.1\r\n"), Hello::NotTls));
        // Junk inside a record never panics.
        let mut junk = h.clone();
        for b in junk.iter_mut().skip(9) {
            *b = 0xff;
        }
        assert!(matches!(client_hello(&junk), Hello::NotTls));
    }

    #[test]
    fn payload_slices_and_length_prefixed_blocks() {
        let data = Bytes::from_static(b"\x00\x03abcdef");
        assert_eq!(slice(&data, 2, 3).as_deref(), Some(&b"abc"[..]));
        assert_eq!(slice(&data, 2, 0).as_deref(), Some(&b"abcdef"[..]));
        assert!(slice(&data, 6, 3).is_none());
        let lv = length_value(&data, &["0".into(), "2".into()]);
        assert_eq!(lv.as_deref(), Some(&b"abc"[..]));
        let lv = length_value(&data, &["0".into(), "2".into(), "+1".into()]);
        assert_eq!(lv.as_deref(), Some(&b"bcd"[..]));
    }
}
