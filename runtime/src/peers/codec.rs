//! The peers protocol's wire format (sans-I/O): the text handshake, HAProxy's variable-length
//! integers, and the binary messages (a class byte, a type byte and, for types from 128 on,
//! a varint length and the payload).

/// The handshake's protocol name and version.
pub const PROTOCOL: &str = "HAProxyS";
pub const VERSION: &str = "2.1";

/// Handshake status codes.
pub const STATUS_OK: u16 = 200;
pub const STATUS_BAD_VERSION: u16 = 502;
pub const STATUS_BAD_HOST: u16 = 503;
pub const STATUS_UNKNOWN_PEER: u16 = 504;

pub const CLASS_CONTROL: u8 = 0;
pub const CLASS_ERROR: u8 = 1;
pub const CLASS_TABLE: u8 = 10;
pub const CLASS_RESERVED: u8 = 255;

pub const CTRL_RESYNC_REQUEST: u8 = 0;
pub const CTRL_RESYNC_FINISHED: u8 = 1;
pub const CTRL_RESYNC_PARTIAL: u8 = 2;
pub const CTRL_RESYNC_CONFIRM: u8 = 3;
pub const CTRL_HEARTBEAT: u8 = 4;

pub const ERR_PROTOCOL: u8 = 0;

pub const TABLE_UPDATE: u8 = 0x80;
pub const TABLE_INCREMENTAL_UPDATE: u8 = 0x81;
pub const TABLE_DEFINE: u8 = 0x82;
pub const TABLE_SWITCH: u8 = 0x83;
pub const TABLE_ACK: u8 = 0x84;
pub const TABLE_UPDATE_TIMED: u8 = 0x85;
pub const TABLE_INCREMENTAL_UPDATE_TIMED: u8 = 0x86;

pub use crate::varint::put_varint;

/// A cursor over a message payload; every read fails cleanly on truncated input.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn varint(&mut self) -> Option<u64> {
        let mut rest = self.data.get(self.pos..)?;
        let v = crate::varint::get_varint(&mut rest);
        self.pos = self.data.len() - rest.len();
        v
    }

    pub fn u32_be(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }
}

/// One binary message as received: class, type and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub class: u8,
    pub kind: u8,
    pub payload: Vec<u8>,
}

/// The largest payload accepted (HAProxy's buffers are 16 kB).
pub const MAX_PAYLOAD: u64 = 1 << 20;

/// Takes one whole message off the front of `buf`: `Ok(None)` when more bytes are needed,
/// `Err` for a payload too large to be real.
pub fn decode(buf: &mut Vec<u8>) -> Result<Option<Message>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (class, kind) = (buf[0], buf[1]);
    if kind < 128 {
        buf.drain(..2);
        return Ok(Some(Message {
            class,
            kind,
            payload: Vec::new(),
        }));
    }
    let mut r = Reader::new(&buf[2..]);
    let Some(len) = r.varint() else {
        // A varint takes at most 10 bytes: more than that and it is malformed.
        return if buf.len() > 12 {
            Err("malformed message length".into())
        } else {
            Ok(None)
        };
    };
    if len > MAX_PAYLOAD {
        return Err(format!("message of {len} bytes"));
    }
    let start = 2 + r.pos;
    let end = start + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    let payload = buf[start..end].to_vec();
    buf.drain(..end);
    Ok(Some(Message {
        class,
        kind,
        payload,
    }))
}

/// Appends a message with a payload.
pub fn encode(out: &mut Vec<u8>, class: u8, kind: u8, payload: &[u8]) {
    out.push(class);
    out.push(kind);
    if kind >= 128 {
        put_varint(out, payload.len() as u64);
        out.extend_from_slice(payload);
    }
}

/// The client's hello: protocol and version, the name it asks for, its own name, pid and
/// relative pid.
pub fn hello(remote: &str, local: &str, pid: u32) -> String {
    format!("{PROTOCOL} {VERSION}\n{remote}\n{local} {pid} 1\n")
}

/// What a server answers to the three hello lines: the status code and, when accepted, the
/// connecting peer's name.
pub fn check_hello(
    lines: &[&str],
    local: &str,
    known: impl Fn(&str) -> bool,
) -> (u16, Option<String>) {
    let version_ok = lines
        .first()
        .and_then(|l| l.strip_prefix(PROTOCOL))
        .and_then(|v| v.trim().split_once('.'))
        .is_some_and(|(major, minor)| major == "2" && minor.parse::<u32>().is_ok_and(|m| m <= 1));
    if !version_ok {
        return (STATUS_BAD_VERSION, None);
    }
    if lines.get(1).map(|l| l.trim()) != Some(local) {
        return (STATUS_BAD_HOST, None);
    }
    let peer = lines
        .get(2)
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("");
    if !known(peer) {
        return (STATUS_UNKNOWN_PEER, None);
    }
    (STATUS_OK, Some(peer.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        out
    }

    #[test]
    fn varints_have_haproxys_sizes_and_round_trip() {
        // Thresholds from HAProxy: 240, 2288, 264432, 33818864 start 2, 3, 4, 5 bytes.
        for (v, len) in [
            (0u64, 1),
            (239, 1),
            (240, 2),
            (2287, 2),
            (2288, 3),
            (264_431, 3),
            (264_432, 4),
            (33_818_863, 4),
            (33_818_864, 5),
            (u64::MAX, 10),
        ] {
            let e = enc(v);
            assert_eq!(e.len(), len, "{v}");
            assert_eq!(Reader::new(&e).varint(), Some(v), "{v}");
        }
        assert_eq!(enc(240), [0xF0, 0x00]);
        assert_eq!(enc(1000), [0xF8, 0x2F]);
        assert_eq!(Reader::new(&[0xF0]).varint(), None);
    }

    #[test]
    fn messages_frame_and_split() {
        let mut wire = Vec::new();
        encode(&mut wire, CLASS_CONTROL, CTRL_HEARTBEAT, &[]);
        encode(&mut wire, CLASS_TABLE, TABLE_ACK, &[1, 0, 0, 0, 7]);
        let mut partial = wire[..4].to_vec();
        assert_eq!(decode(&mut partial).unwrap().unwrap().kind, CTRL_HEARTBEAT);
        assert_eq!(decode(&mut partial).unwrap(), None);
        let mut buf = wire.clone();
        decode(&mut buf).unwrap();
        let ack = decode(&mut buf).unwrap().unwrap();
        assert_eq!(
            (ack.class, ack.kind, ack.payload),
            (10, 0x84, vec![1, 0, 0, 0, 7])
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn hello_lines_are_checked_as_haproxy_does() {
        assert_eq!(hello("b", "a", 42), "HAProxyS 2.1\nb\na 42 1\n");
        let known = |p: &str| p == "a";
        assert_eq!(
            check_hello(&["HAProxyS 2.1", "b", "a 42 1"], "b", known),
            (200, Some("a".into()))
        );
        assert_eq!(
            check_hello(&["HAProxyS 3.0", "b", "a 1 1"], "b", known).0,
            502
        );
        assert_eq!(
            check_hello(&["HAProxyS 2.0", "c", "a 1 1"], "b", known).0,
            503
        );
        assert_eq!(
            check_hello(&["HAProxyS 2.1", "b", "z 1 1"], "b", known).0,
            504
        );
    }
}
