//! HTTP/2 as the frame-level tests write and read it: frames, literal header fields, and the
//! frames a proxy sent, described one a line.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The client connection preface and an empty SETTINGS frame.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";

/// One frame: type, flags, stream and payload.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A literal header field without indexing, its name a literal too.
pub fn literal(block: &mut Vec<u8>, name: &str, value: &str) {
    block.push(0);
    block.push(name.len() as u8);
    block.extend_from_slice(name.as_bytes());
    block.push(value.len() as u8);
    block.extend_from_slice(value.as_bytes());
}

/// A header block of literal fields.
pub fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in fields {
        literal(&mut b, name, value);
    }
    b
}

/// A frame the proxy sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The frame in a few words: `WINDOW_UPDATE 1 +100`, `DATA 1 8 END_STREAM`, `HEADERS 1
    /// :status 200` (from the static table's indexed 200, the only form these tests meet).
    pub fn describe(&self) -> String {
        let end = if self.flags & 1 != 0 && matches!(self.kind, 0 | 1) {
            " END_STREAM"
        } else {
            ""
        };
        match self.kind {
            0 => format!("DATA {} {}{end}", self.stream, self.payload.len()),
            1 => {
                let status = match self.payload.first() {
                    Some(0x88) => " :status 200",
                    _ => "",
                };
                format!("HEADERS {}{status}{end}", self.stream)
            }
            3 => format!("RST_STREAM {}", self.stream),
            4 if self.flags & 1 != 0 => "SETTINGS ack".into(),
            4 => "SETTINGS".into(),
            6 => "PING".into(),
            7 => "GOAWAY".into(),
            8 => {
                let inc = u32::from_be_bytes(self.payload[..4].try_into().unwrap());
                format!("WINDOW_UPDATE {} +{inc}", self.stream)
            }
            k => format!("frame type {k} on {}", self.stream),
        }
    }
}

/// What came until `done` says enough came, the connection closed (the last element is then
/// `None`), or `limit` passed.
pub fn read_frames(
    s: &mut TcpStream,
    limit: Duration,
    done: impl Fn(&[Frame]) -> bool,
) -> Vec<Option<Frame>> {
    let until = Instant::now() + limit;
    let mut got = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut closed = false;
    let mut buf = [0u8; 65536];
    while !done(&frames) && !closed {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => closed = true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        while got.len() >= 9 {
            let len = u32::from_be_bytes([0, got[0], got[1], got[2]]) as usize;
            if got.len() < 9 + len {
                break;
            }
            let head: Vec<u8> = got.drain(..9 + len).collect();
            frames.push(Frame {
                kind: head[3],
                flags: head[4],
                stream: u32::from_be_bytes(head[5..9].try_into().unwrap()) & 0x7fff_ffff,
                payload: head[9..].to_vec(),
            });
        }
    }
    let mut out: Vec<Option<Frame>> = frames.into_iter().map(Some).collect();
    if closed {
        out.push(None);
    }
    out
}

/// Whether a stream's answer ended (a frame with END_STREAM on it).
pub fn answered(frames: &[Frame], stream: u32) -> bool {
    frames
        .iter()
        .any(|f| f.stream == stream && matches!(f.kind, 0 | 1) && f.flags & 1 != 0)
}
