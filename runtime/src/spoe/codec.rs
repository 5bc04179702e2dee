//! SPOP 2.0 frames, sans I/O: what hapee sends (HAPROXY-HELLO, NOTIFY and its fragments,
//! HAPROXY-DISCONNECT) and what it reads back (AGENT-HELLO, ACK, AGENT-DISCONNECT). A frame is
//! a 32-bit big-endian length, then its type, its metadata (flags, stream id, frame id) and
//! its payload.

use bytes::{BufMut, Bytes, BytesMut};
use std::net::IpAddr;

pub const HAPROXY_HELLO: u8 = 1;
pub const HAPROXY_DISCONNECT: u8 = 2;
pub const NOTIFY: u8 = 3;
pub const AGENT_HELLO: u8 = 101;
pub const AGENT_DISCONNECT: u8 = 102;
pub const ACK: u8 = 103;
/// The type of a NOTIFY's fragments after the first.
pub const FRAGMENT: u8 = 0;

/// What HAProxy keeps of each frame for its head: the payload of a NOTIFY (or of each of its
/// fragments) is at most the frame size less this.
const FRAME_HEAD_ROOM: usize = 32;

/// The frame is whole (not fragmented).
const FLAG_FIN: u32 = 1;

const ACTION_SET_VAR: u8 = 1;
const ACTION_UNSET_VAR: u8 = 2;

pub use crate::varint::{get_varint, put_varint};

fn put_bytes(out: &mut BytesMut, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.put_slice(b);
}

fn get_bytes<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(get_varint(data)?).ok()?;
    let head = data.get(..len)?;
    *data = &data[len..];
    Some(head)
}

/// A typed value of SPOP.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Null,
    Bool(bool),
    Int32(i32),
    Uint32(u32),
    Int64(i64),
    Uint64(u64),
    Ip(IpAddr),
    Str(String),
    Bin(Bytes),
}

pub fn put_typed(out: &mut BytesMut, v: &Typed) {
    match v {
        Typed::Null => out.put_u8(0),
        Typed::Bool(b) => out.put_u8(1 | if *b { 0x10 } else { 0 }),
        Typed::Int32(i) => {
            out.put_u8(2);
            put_varint(out, i64::from(*i) as u64);
        }
        Typed::Uint32(i) => {
            out.put_u8(3);
            put_varint(out, u64::from(*i));
        }
        Typed::Int64(i) => {
            out.put_u8(4);
            put_varint(out, *i as u64);
        }
        Typed::Uint64(i) => {
            out.put_u8(5);
            put_varint(out, *i);
        }
        Typed::Ip(IpAddr::V4(a)) => {
            out.put_u8(6);
            out.put_slice(&a.octets());
        }
        Typed::Ip(IpAddr::V6(a)) => {
            out.put_u8(7);
            out.put_slice(&a.octets());
        }
        Typed::Str(s) => {
            out.put_u8(8);
            put_bytes(out, s.as_bytes());
        }
        Typed::Bin(b) => {
            out.put_u8(9);
            put_bytes(out, b);
        }
    }
}

pub fn get_typed(data: &mut &[u8]) -> Option<Typed> {
    let (&kind, rest) = data.split_first()?;
    *data = rest;
    Some(match kind & 0x0f {
        0 => Typed::Null,
        1 => Typed::Bool(kind & 0x10 != 0),
        2 => Typed::Int32(get_varint(data)? as i32),
        3 => Typed::Uint32(get_varint(data)? as u32),
        4 => Typed::Int64(get_varint(data)? as i64),
        5 => Typed::Uint64(get_varint(data)?),
        6 => {
            let b: [u8; 4] = data.get(..4)?.try_into().ok()?;
            *data = &data[4..];
            Typed::Ip(IpAddr::from(b))
        }
        7 => {
            let b: [u8; 16] = data.get(..16)?.try_into().ok()?;
            *data = &data[16..];
            Typed::Ip(IpAddr::from(b))
        }
        8 => Typed::Str(String::from_utf8_lossy(get_bytes(data)?).into_owned()),
        9 => Typed::Bin(Bytes::copy_from_slice(get_bytes(data)?)),
        _ => return None,
    })
}

/// A frame's head: type, metadata; the caller puts the payload after it, then [`seal`].
fn start(kind: u8, stream_id: u64, frame_id: u64, flags: u32) -> BytesMut {
    let mut out = BytesMut::with_capacity(256);
    out.put_u32(0); // the length, set by `seal`
    out.put_u8(kind);
    out.put_u32(flags);
    put_varint(&mut out, stream_id);
    put_varint(&mut out, frame_id);
    out
}

fn seal(mut out: BytesMut) -> Bytes {
    let len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out.freeze()
}

fn put_kv(out: &mut BytesMut, key: &str, v: &Typed) {
    put_bytes(out, key.as_bytes());
    put_typed(out, v);
}

/// HAPROXY-HELLO: the versions, the frame size and the capabilities offered.
pub fn hello(max_frame_size: u32, capabilities: &str, engine_id: &str) -> Bytes {
    let mut out = start(HAPROXY_HELLO, 0, 0, FLAG_FIN);
    put_kv(&mut out, "supported-versions", &Typed::Str("2.0".into()));
    put_kv(&mut out, "max-frame-size", &Typed::Uint32(max_frame_size));
    put_kv(&mut out, "capabilities", &Typed::Str(capabilities.into()));
    put_kv(&mut out, "engine-id", &Typed::Str(engine_id.into()));
    seal(out)
}

/// HAPROXY-DISCONNECT with a status code and its message.
pub fn disconnect(status: u32, message: &str) -> Bytes {
    let mut out = start(HAPROXY_DISCONNECT, 0, 0, FLAG_FIN);
    put_kv(&mut out, "status-code", &Typed::Uint32(status));
    put_kv(&mut out, "message", &Typed::Str(message.into()));
    seal(out)
}

/// One message of a NOTIFY frame: its name and its named arguments.
pub struct Message<'a> {
    pub name: &'a str,
    pub args: Vec<(&'a str, Typed)>,
}

/// NOTIFY carrying `messages`, as frames of at most `max_frame_size`: one, or with `fragment`
/// as many as the payload needs (a NOTIFY without the FIN flag, then frames of type 0, the last
/// with FIN; the agent joins their payloads). `None` when it does not fit and may not be split.
pub fn notify(
    stream_id: u64,
    frame_id: u64,
    messages: &[Message],
    max_frame_size: u32,
    fragment: bool,
) -> Option<Vec<Bytes>> {
    let mut payload = BytesMut::new();
    for m in messages {
        put_bytes(&mut payload, m.name.as_bytes());
        payload.put_u8(u8::try_from(m.args.len()).ok()?);
        for (name, value) in &m.args {
            put_kv(&mut payload, name, value);
        }
    }
    let room = (max_frame_size as usize).checked_sub(FRAME_HEAD_ROOM)?;
    if payload.len() <= room {
        let mut out = start(NOTIFY, stream_id, frame_id, FLAG_FIN);
        out.put_slice(&payload);
        return Some(vec![seal(out)]);
    }
    if !fragment || room == 0 {
        return None;
    }
    let chunks: Vec<&[u8]> = payload.chunks(room).collect();
    let last = chunks.len() - 1;
    let frames = chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let kind = if i == 0 { NOTIFY } else { FRAGMENT };
            let flags = if i == last { FLAG_FIN } else { 0 };
            let mut out = start(kind, stream_id, frame_id, flags);
            out.put_slice(chunk);
            seal(out)
        })
        .collect();
    Some(frames)
}

/// A variable's scope in a SET-VAR/UNSET-VAR action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Proc,
    Sess,
    Txn,
    Req,
    Res,
}

impl Scope {
    fn of(b: u8) -> Option<Scope> {
        Some(match b {
            0 => Scope::Proc,
            1 => Scope::Sess,
            2 => Scope::Txn,
            3 => Scope::Req,
            4 => Scope::Res,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Scope::Proc => "proc",
            Scope::Sess => "sess",
            Scope::Txn => "txn",
            Scope::Req => "req",
            Scope::Res => "res",
        }
    }
}

/// What an ACK asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SetVar(Scope, String, Typed),
    UnsetVar(Scope, String),
}

/// A frame read from the agent.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentFrame {
    /// AGENT-HELLO: the version chosen, the frame size and the capabilities it takes.
    Hello {
        version: String,
        max_frame_size: u32,
        capabilities: String,
    },
    Ack {
        stream_id: u64,
        frame_id: u64,
        actions: Vec<Action>,
    },
    /// AGENT-DISCONNECT: its status code and message.
    Disconnect { status: u32, message: String },
}

/// Why a frame could not be read: SPOP's status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// More bytes are needed.
    Incomplete,
    /// Larger than the size agreed.
    TooBig,
    Invalid,
    /// A fragmented frame (not offered).
    Fragmented,
    /// AGENT-HELLO lacks a field or has a bad version or size.
    NoVersion,
    NoFrameSize,
    BadVersion,
    BadFrameSize,
}

impl FrameError {
    /// The SPOP status code.
    pub fn status(self) -> u32 {
        match self {
            FrameError::Incomplete => 1,
            FrameError::TooBig => 3,
            FrameError::Invalid => 4,
            FrameError::NoVersion => 5,
            FrameError::NoFrameSize => 6,
            FrameError::BadVersion => 8,
            FrameError::BadFrameSize => 9,
            FrameError::Fragmented => 10,
        }
    }
}

/// Reads one frame from the front of `buf`: the frame and the bytes it took.
pub fn read_frame(buf: &[u8], max_frame_size: u32) -> Result<(AgentFrame, usize), FrameError> {
    let Some(head) = buf.get(..4) else {
        return Err(FrameError::Incomplete);
    };
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if len > max_frame_size {
        return Err(FrameError::TooBig);
    }
    let Some(frame) = buf.get(4..4 + len as usize) else {
        return Err(FrameError::Incomplete);
    };
    Ok((parse(frame)?, 4 + len as usize))
}

/// The key-value list of a HELLO or DISCONNECT frame's payload.
pub fn key_values(mut data: &[u8]) -> Option<Vec<(String, Typed)>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = String::from_utf8_lossy(get_bytes(&mut data)?).into_owned();
        out.push((key, get_typed(&mut data)?));
    }
    Some(out)
}

fn parse(frame: &[u8]) -> Result<AgentFrame, FrameError> {
    let invalid = FrameError::Invalid;
    let (&kind, mut rest) = frame.split_first().ok_or(invalid)?;
    let flags = rest.get(..4).ok_or(invalid)?;
    let flags = u32::from_be_bytes([flags[0], flags[1], flags[2], flags[3]]);
    rest = &rest[4..];
    let stream_id = get_varint(&mut rest).ok_or(invalid)?;
    let frame_id = get_varint(&mut rest).ok_or(invalid)?;
    match kind {
        AGENT_HELLO => {
            let kv = key_values(rest).ok_or(invalid)?;
            let text = |k: &str| {
                kv.iter().find(|(n, _)| n == k).map(|(_, v)| match v {
                    Typed::Str(s) => Some(s.clone()),
                    _ => None,
                })
            };
            let version = text("version")
                .ok_or(FrameError::NoVersion)?
                .ok_or(invalid)?;
            if version.trim() != "2.0" {
                return Err(FrameError::BadVersion);
            }
            let size = kv
                .iter()
                .find(|(n, _)| n == "max-frame-size")
                .ok_or(FrameError::NoFrameSize)?;
            let max_frame_size = match size.1 {
                Typed::Uint32(n) => n,
                Typed::Int32(n) if n > 0 => n as u32,
                Typed::Uint64(n) => u32::try_from(n).map_err(|_| FrameError::BadFrameSize)?,
                Typed::Int64(n) => u32::try_from(n).map_err(|_| FrameError::BadFrameSize)?,
                _ => return Err(invalid),
            };
            if max_frame_size < 256 {
                return Err(FrameError::BadFrameSize);
            }
            Ok(AgentFrame::Hello {
                version,
                max_frame_size,
                capabilities: text("capabilities").flatten().unwrap_or_default(),
            })
        }
        AGENT_DISCONNECT => {
            let kv = key_values(rest).ok_or(invalid)?;
            let mut status = 0;
            let mut message = String::new();
            for (k, v) in kv {
                match (k.as_str(), v) {
                    ("status-code", Typed::Uint32(n)) => status = n,
                    ("status-code", Typed::Int32(n)) => status = n as u32,
                    ("message", Typed::Str(s)) => message = s,
                    _ => {}
                }
            }
            Ok(AgentFrame::Disconnect { status, message })
        }
        ACK => {
            if flags & FLAG_FIN == 0 {
                return Err(FrameError::Fragmented);
            }
            let mut actions = Vec::new();
            while !rest.is_empty() {
                let (&kind, after) = rest.split_first().ok_or(invalid)?;
                let (&nargs, after) = after.split_first().ok_or(invalid)?;
                rest = after;
                match (kind, nargs) {
                    (ACTION_SET_VAR, 3) | (ACTION_UNSET_VAR, 2) => {
                        let (&scope, after) = rest.split_first().ok_or(invalid)?;
                        rest = after;
                        let scope = Scope::of(scope).ok_or(invalid)?;
                        let name = String::from_utf8_lossy(get_bytes(&mut rest).ok_or(invalid)?)
                            .into_owned();
                        if kind == ACTION_SET_VAR {
                            let value = get_typed(&mut rest).ok_or(invalid)?;
                            actions.push(Action::SetVar(scope, name, value));
                        } else {
                            actions.push(Action::UnsetVar(scope, name));
                        }
                    }
                    // An action of another kind is skipped, its arguments read past.
                    (_, n) => {
                        for _ in 0..n {
                            get_typed(&mut rest).ok_or(invalid)?;
                        }
                    }
                }
            }
            Ok(AgentFrame::Ack {
                stream_id,
                frame_id,
                actions,
            })
        }
        _ => Err(invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_round(v: u64) -> (Vec<u8>, u64) {
        let mut out = BytesMut::new();
        put_varint(&mut out, v);
        let bytes = out.to_vec();
        let mut s = &bytes[..];
        let back = get_varint(&mut s).unwrap();
        assert!(s.is_empty());
        (bytes, back)
    }

    #[test]
    fn varints_match_the_protocol_examples() {
        // Values from SPOE.txt's encoding rules: one byte below 240, then 4 + 7 bits a byte.
        assert_eq!(varint_round(0).0, [0]);
        assert_eq!(varint_round(239).0, [239]);
        assert_eq!(varint_round(240).0, [240, 0]);
        assert_eq!(varint_round(2287).0, [255, 127]);
        assert_eq!(varint_round(2288).0, [240, 128, 0]);
        for v in [1, 240, 2287, 2288, 264431, 264432, 1 << 40, u64::MAX >> 8] {
            assert_eq!(varint_round(v).1, v);
        }
    }

    #[test]
    fn truncated_varints_are_refused() {
        let mut s: &[u8] = &[240, 128];
        assert_eq!(get_varint(&mut s), None);
        let mut s: &[u8] = &[];
        assert_eq!(get_varint(&mut s), None);
    }

    #[test]
    fn typed_values_round_trip() {
        for v in [
            Typed::Null,
            Typed::Bool(true),
            Typed::Bool(false),
            Typed::Int32(-5),
            Typed::Uint32(70000),
            Typed::Int64(-1),
            Typed::Uint64(1 << 50),
            Typed::Ip("10.1.2.3".parse().unwrap()),
            Typed::Ip("2001:db8::1".parse().unwrap()),
            Typed::Str("héllo".into()),
            Typed::Bin(Bytes::from_static(b"\0\x01")),
        ] {
            let mut out = BytesMut::new();
            put_typed(&mut out, &v);
            let mut s = &out[..];
            assert_eq!(get_typed(&mut s), Some(v));
            assert!(s.is_empty());
        }
    }

    /// A frame as an agent writes it.
    fn agent_frame(kind: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
        let mut body = BytesMut::new();
        body.put_u8(kind);
        body.put_u32(flags);
        put_varint(&mut body, 7);
        put_varint(&mut body, 9);
        body.put_slice(payload);
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn agent_hello_is_read() {
        let mut p = BytesMut::new();
        put_kv(&mut p, "version", &Typed::Str("2.0".into()));
        put_kv(&mut p, "max-frame-size", &Typed::Uint32(16380));
        put_kv(&mut p, "capabilities", &Typed::Str("".into()));
        let f = agent_frame(AGENT_HELLO, 1, &p);
        let (frame, used) = read_frame(&f, 16384).unwrap();
        assert_eq!(used, f.len());
        assert_eq!(
            frame,
            AgentFrame::Hello {
                version: "2.0".into(),
                max_frame_size: 16380,
                capabilities: String::new()
            }
        );
        // Not all there yet.
        assert_eq!(
            read_frame(&f[..f.len() - 1], 16384),
            Err(FrameError::Incomplete)
        );
    }

    #[test]
    fn agent_hello_without_version_or_size_is_refused() {
        let mut p = BytesMut::new();
        put_kv(&mut p, "max-frame-size", &Typed::Uint32(16380));
        let f = agent_frame(AGENT_HELLO, 1, &p);
        assert_eq!(read_frame(&f, 16384), Err(FrameError::NoVersion));
        let mut p = BytesMut::new();
        put_kv(&mut p, "version", &Typed::Str("1.0".into()));
        put_kv(&mut p, "max-frame-size", &Typed::Uint32(16380));
        let f = agent_frame(AGENT_HELLO, 1, &p);
        assert_eq!(read_frame(&f, 16384), Err(FrameError::BadVersion));
    }

    #[test]
    fn ack_actions_are_read() {
        let mut p = BytesMut::new();
        p.put_u8(ACTION_SET_VAR);
        p.put_u8(3);
        p.put_u8(2);
        put_bytes(&mut p, b"score");
        put_typed(&mut p, &Typed::Int32(42));
        p.put_u8(ACTION_UNSET_VAR);
        p.put_u8(2);
        p.put_u8(1);
        put_bytes(&mut p, b"old");
        let f = agent_frame(ACK, 1, &p);
        let (frame, _) = read_frame(&f, 16384).unwrap();
        assert_eq!(
            frame,
            AgentFrame::Ack {
                stream_id: 7,
                frame_id: 9,
                actions: vec![
                    Action::SetVar(Scope::Txn, "score".into(), Typed::Int32(42)),
                    Action::UnsetVar(Scope::Sess, "old".into()),
                ]
            }
        );
        // A fragmented ACK is not taken.
        let f = agent_frame(ACK, 0, &p);
        assert_eq!(read_frame(&f, 16384), Err(FrameError::Fragmented));
        // Nor a frame larger than agreed, nor a cut action.
        assert_eq!(
            read_frame(&agent_frame(ACK, 1, &p), 8),
            Err(FrameError::TooBig)
        );
        let cut = agent_frame(ACK, 1, &p[..p.len() - 2]);
        assert_eq!(read_frame(&cut, 16384), Err(FrameError::Invalid));
    }

    #[test]
    fn notify_holds_its_messages_and_respects_the_frame_size() {
        let msgs = [Message {
            name: "check-ip",
            args: vec![("ip", Typed::Ip("127.0.0.1".parse().unwrap()))],
        }];
        let f = notify(3, 1, &msgs, 16384, false).unwrap();
        assert_eq!(f.len(), 1);
        let f = &f[0];
        let len = u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize;
        assert_eq!(len, f.len() - 4);
        assert_eq!(f[4], NOTIFY);
        let mut rest = &f[9..];
        assert_eq!(get_varint(&mut rest), Some(3));
        assert_eq!(get_varint(&mut rest), Some(1));
        assert_eq!(get_bytes(&mut rest), Some(&b"check-ip"[..]));
        assert_eq!(rest[0], 1);
        assert!(notify(3, 1, &msgs, 10, false).is_none());
    }

    #[test]
    fn a_notify_too_big_for_a_frame_is_fragmented_when_allowed() {
        let big = "x".repeat(600);
        let msgs = [Message {
            name: "m",
            args: vec![("big", Typed::Str(big.clone()))],
        }];
        assert!(notify(3, 1, &msgs, 256, false).is_none());
        let frames = notify(3, 1, &msgs, 256, true).unwrap();
        assert_eq!(frames.len(), 3);
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let len = u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize;
            assert_eq!(len, f.len() - 4);
            assert!(len <= 256);
            assert_eq!(f[4], if i == 0 { NOTIFY } else { FRAGMENT });
            let flags = u32::from_be_bytes([f[5], f[6], f[7], f[8]]);
            assert_eq!(flags, u32::from(i == 2));
            let mut rest = &f[9..];
            assert_eq!(get_varint(&mut rest), Some(3));
            assert_eq!(get_varint(&mut rest), Some(1));
            joined.extend_from_slice(rest);
        }
        let mut rest = &joined[..];
        assert_eq!(get_bytes(&mut rest), Some(&b"m"[..]));
        assert_eq!(rest[0], 1);
        rest = &rest[1..];
        assert_eq!(get_bytes(&mut rest), Some(&b"big"[..]));
        assert_eq!(get_typed(&mut rest), Some(Typed::Str(big)));
        assert!(rest.is_empty());
    }
}
