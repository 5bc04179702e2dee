//! The FastCGI record layer, without I/O: records are encoded into a byte vector and decoded
//! from whatever bytes have arrived. Written here rather than taken from a crate: the FastCGI
//! client crates own the socket and buffer whole responses, where a proxy needs to stream the
//! application's output as it comes and to interleave it with its own connection handling.

use bytes::{Buf, Bytes, BytesMut};

/// The only version of the protocol.
pub const VERSION: u8 = 1;
/// The fixed size of a record header.
pub const HEADER_LEN: usize = 8;
/// The most content one record carries.
pub const MAX_CONTENT: usize = 0xffff;

/// Record types (FastCGI 1.0 §8).
pub mod kind {
    pub const BEGIN_REQUEST: u8 = 1;
    pub const ABORT_REQUEST: u8 = 2;
    pub const END_REQUEST: u8 = 3;
    pub const PARAMS: u8 = 4;
    pub const STDIN: u8 = 5;
    pub const STDOUT: u8 = 6;
    pub const STDERR: u8 = 7;
    pub const DATA: u8 = 8;
    pub const GET_VALUES: u8 = 9;
    pub const GET_VALUES_RESULT: u8 = 10;
    pub const UNKNOWN_TYPE: u8 = 11;
}

/// The responder role, the one a web server asks for.
const ROLE_RESPONDER: u16 = 1;
/// `BEGIN_REQUEST` flag: the application keeps the connection after the request.
const FLAG_KEEP_CONN: u8 = 1;

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: u8,
    pub id: u16,
    pub content: Bytes,
}

/// Why bytes from the application cannot be read as FastCGI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A record header with another version than 1.
    Version(u8),
    /// A name-value pair whose lengths run past its record.
    Truncated,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Version(v) => write!(f, "FastCGI record of version {v}"),
            DecodeError::Truncated => f.write_str("truncated FastCGI name-value pair"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Appends records of `kind` carrying `content`, split at the record size limit. Empty content
/// gives one empty record (the end of a stream).
pub fn encode_record(kind: u8, id: u16, content: &[u8], out: &mut Vec<u8>) {
    let mut chunks = content.chunks(MAX_CONTENT).peekable();
    if chunks.peek().is_none() {
        push_header(kind, id, 0, out);
        return;
    }
    for chunk in chunks {
        push_header(kind, id, chunk.len(), out);
        out.extend_from_slice(chunk);
    }
}

fn push_header(kind: u8, id: u16, len: usize, out: &mut Vec<u8>) {
    let [id_hi, id_lo] = id.to_be_bytes();
    let [len_hi, len_lo] = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    out.extend_from_slice(&[VERSION, kind, id_hi, id_lo, len_hi, len_lo, 0, 0]);
}

/// `BEGIN_REQUEST` for a responder, with the keep-connection flag when asked.
pub fn encode_begin_request(id: u16, keep_conn: bool, out: &mut Vec<u8>) {
    let [role_hi, role_lo] = ROLE_RESPONDER.to_be_bytes();
    let flags = if keep_conn { FLAG_KEEP_CONN } else { 0 };
    encode_record(
        kind::BEGIN_REQUEST,
        id,
        &[role_hi, role_lo, flags, 0, 0, 0, 0, 0],
        out,
    );
}

/// One name-value pair: each length on one byte below 128, else on four with the top bit set.
pub fn encode_pair(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    for len in [name.len(), value.len()] {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let len = u32::try_from(len).unwrap_or(u32::MAX >> 1) | 0x8000_0000;
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(name);
    out.extend_from_slice(value);
}

/// The `PARAMS` stream of a request: the pairs in records, then the empty record ending it.
pub fn encode_params(id: u16, pairs: &[(Vec<u8>, Vec<u8>)], out: &mut Vec<u8>) {
    let mut content = Vec::new();
    for (name, value) in pairs {
        encode_pair(name, value, &mut content);
    }
    if !content.is_empty() {
        encode_record(kind::PARAMS, id, &content, out);
    }
    encode_record(kind::PARAMS, id, &[], out);
}

/// Reads the name-value pairs of a `PARAMS` or `GET_VALUES_RESULT` record.
pub fn decode_pairs(mut content: &[u8]) -> Result<Vec<(Bytes, Bytes)>, DecodeError> {
    fn length(content: &mut &[u8]) -> Result<usize, DecodeError> {
        let first = *content.first().ok_or(DecodeError::Truncated)?;
        if first < 0x80 {
            content.advance(1);
            return Ok(usize::from(first));
        }
        if content.len() < 4 {
            return Err(DecodeError::Truncated);
        }
        let len = content.get_u32() & 0x7fff_ffff;
        usize::try_from(len).map_err(|_| DecodeError::Truncated)
    }
    let mut out = Vec::new();
    while !content.is_empty() {
        let name_len = length(&mut content)?;
        let value_len = length(&mut content)?;
        let total = name_len
            .checked_add(value_len)
            .ok_or(DecodeError::Truncated)?;
        if content.len() < total {
            return Err(DecodeError::Truncated);
        }
        let name = Bytes::copy_from_slice(&content[..name_len]);
        let value = Bytes::copy_from_slice(&content[name_len..total]);
        content.advance(total);
        out.push((name, value));
    }
    Ok(out)
}

/// The application's status in an `END_REQUEST` record: its exit code and the protocol status
/// (0 request complete, 1 cannot multiplex, 2 overloaded, 3 unknown role).
pub fn decode_end_request(content: &[u8]) -> (u32, u8) {
    let app = content
        .get(..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    (app, content.get(4).copied().unwrap_or(0))
}

/// Splits a byte stream into records as they complete.
#[derive(Default)]
pub struct Decoder {
    buf: BytesMut,
}

impl Decoder {
    /// Where bytes read from the connection go.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes received and not yet part of a returned record.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete record, `None` when more bytes are needed.
    pub fn next_record(&mut self) -> Result<Option<Record>, DecodeError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let h = &self.buf[..HEADER_LEN];
        if h[0] != VERSION {
            return Err(DecodeError::Version(h[0]));
        }
        let kind = h[1];
        let id = u16::from_be_bytes([h[2], h[3]]);
        let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
        let padding = usize::from(h[6]);
        if self.buf.len() < HEADER_LEN + len + padding {
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        let content = self.buf.split_to(len).freeze();
        self.buf.advance(padding);
        Ok(Some(Record { kind, id, content }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_begin_request_is_laid_out_as_the_specification_says() {
        let mut out = Vec::new();
        encode_begin_request(1, true, &mut out);
        assert_eq!(out, [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
        out.clear();
        encode_begin_request(258, false, &mut out);
        assert_eq!(&out[..4], &[1, 1, 1, 2]);
        assert_eq!(out[10], 0);
    }

    #[test]
    fn pairs_use_long_lengths_from_128_bytes_and_read_back() {
        let long = vec![b'v'; 300];
        let mut out = Vec::new();
        encode_pair(b"SHORT", b"x", &mut out);
        assert_eq!(&out[..2], &[5, 1]);
        let at = out.len();
        encode_pair(b"LONG", &long, &mut out);
        assert_eq!(&out[at..at + 5], &[4, 0x80, 0, 1, 44]);
        let pairs = decode_pairs(&out).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(&pairs[1].0[..], b"LONG");
        assert_eq!(pairs[1].1.len(), 300);
        // Lengths that run past the record are refused, never read out of bounds.
        assert_eq!(decode_pairs(&[5, 1, b'a']), Err(DecodeError::Truncated));
        assert_eq!(decode_pairs(&[0x80, 0]), Err(DecodeError::Truncated));
        assert_eq!(
            decode_pairs(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn large_content_is_split_and_the_stream_ends_with_an_empty_record() {
        let mut out = Vec::new();
        encode_record(kind::STDIN, 1, &vec![7u8; MAX_CONTENT + 10], &mut out);
        encode_record(kind::STDIN, 1, &[], &mut out);
        let mut d = Decoder::default();
        let mut sizes = Vec::new();
        // Fed a few bytes at a time, as a socket may deliver them.
        for piece in out.chunks(1000) {
            d.buffer().extend_from_slice(piece);
            while let Some(r) = d.next_record().unwrap() {
                assert_eq!((r.kind, r.id), (kind::STDIN, 1));
                sizes.push(r.content.len());
            }
        }
        assert_eq!(sizes, [MAX_CONTENT, 10, 0]);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn padding_is_skipped_and_bad_versions_are_errors() {
        let mut d = Decoder::default();
        d.buffer()
            .extend_from_slice(&[1, kind::STDOUT, 0, 1, 0, 2, 3, 0, b'h', b'i', 0, 0, 0]);
        let r = d.next_record().unwrap().unwrap();
        assert_eq!(&r.content[..], b"hi");
        assert_eq!(d.pending(), 0);
        d.buffer().extend_from_slice(&[2, 6, 0, 1, 0, 0, 0, 0]);
        assert_eq!(d.next_record(), Err(DecodeError::Version(2)));
        assert_eq!(decode_end_request(&[0, 0, 0, 3, 0, 0, 0, 0]), (3, 0));
        assert_eq!(decode_end_request(&[]), (0, 0));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders() {
        // A small linear congruential generator: reproducible inputs without a dependency.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as u8
        };
        for round in 0..2000 {
            let len = usize::from(next()) % 64;
            let mut bytes: Vec<u8> = (0..len).map(|_| next()).collect();
            if round % 2 == 0 && !bytes.is_empty() {
                bytes[0] = VERSION;
            }
            let _ = decode_pairs(&bytes);
            let _ = decode_end_request(&bytes);
            let mut d = Decoder::default();
            d.buffer().extend_from_slice(&bytes);
            while let Ok(Some(_)) = d.next_record() {}
        }
    }
}
