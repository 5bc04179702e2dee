//! The `protobuf(<field path>[,<type>])` and `ungrpc(<field path>[,<type>])` converters: a
//! field of a Protocol Buffers message (of each gRPC message of a body, for `ungrpc`), found
//! by its dotted path of field numbers (`1.2`: field 2 of the message in field 1). With no
//! type, the field's raw bytes; with one, its value as an integer. The walk is HAProxy's own,
//! quirks included (see `lookup`).

use super::convert::{arg, Run};
use super::{Unsupported, Value};
use hapee_compiler::expr::sample::Call;

/// How the found field is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Binary,
    /// `int32`, `uint32`, `int64`, `uint64`, `bool`, `enum`.
    Varint,
    /// `sint32`, `sint64`: zigzag-encoded.
    ZigZag,
    Fixed32,
    SFixed32,
    Float,
    Fixed64,
    Double,
}

fn kind(name: &str) -> Option<Kind> {
    Some(match name {
        "" => Kind::Binary,
        "int32" | "uint32" | "int64" | "uint64" | "bool" | "enum" => Kind::Varint,
        "sint32" | "sint64" => Kind::ZigZag,
        "fixed32" => Kind::Fixed32,
        "sfixed32" => Kind::SFixed32,
        "float" => Kind::Float,
        "fixed64" | "sfixed64" => Kind::Fixed64,
        "double" => Kind::Double,
        _ => return None,
    })
}

/// Prepares `protobuf` and `ungrpc`.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let grpc = match c.name.as_str() {
        "protobuf" => false,
        "ungrpc" => true,
        _ => return Ok(None),
    };
    let path: Vec<u64> = arg(c, 0)
        .split('.')
        .map(|n| n.trim().parse::<u64>().ok().filter(|&n| n > 0))
        .collect::<Option<_>>()
        .ok_or_else(|| Unsupported(format!("{}: field path '{}'", c.name, arg(c, 0))))?;
    let kind = kind(arg(c, 1))
        .ok_or_else(|| Unsupported(format!("Wrong protocol buffer type '{}'", arg(c, 1))))?;
    Ok(Some(Box::new(
        move |v: Value, _: Option<&crate::txn::Txn>| {
            let data = v.as_bin()?;
            let found = if grpc {
                ungrpc(&data, &path, kind)
            } else {
                lookup(&mut &data[..], &path, kind)
            };
            found.map(|f| match f {
                Field::Bytes(b) => Value::Bin(bytes::Bytes::copy_from_slice(b)),
                Field::Int(n) => Value::Int(n),
            })
        },
    )))
}

enum Field<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

/// The first gRPC message (5-byte header: a compression flag, a big-endian length) in which
/// the field is found. As in HAProxy, the next message is looked for where the walk of the
/// previous one stopped.
fn ungrpc<'a>(data: &'a [u8], path: &[u64], kind: Kind) -> Option<Field<'a>> {
    const HEADER: usize = 5;
    let mut pos = data;
    let mut left = data.len();
    while left > HEADER {
        let len = u32::from_be_bytes(pos.get(1..HEADER)?.try_into().ok()?) as usize;
        pos = pos.get(HEADER..)?;
        left -= HEADER;
        if left < len {
            return None;
        }
        let mut message = pos.get(..len)?;
        if let Some(f) = lookup(&mut message, path, kind) {
            return Some(f);
        }
        let walked = len - message.len();
        pos = pos.get(walked..)?;
        left -= len;
    }
    None
}

/// A varint (at most 10 bytes); `None` when it is cut or too long.
fn varint(pos: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let (&b, rest) = pos.split_first()?;
        *pos = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
        if pos.is_empty() {
            return None;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Walks `pos` for the field at `path`. Like HAProxy, a field of the path that matches is
/// entered whatever its wire type (a length-delimited one is its nested message), and the
/// walk starts again from the path's first number once a nested message is over.
fn lookup<'a>(pos: &mut &'a [u8], path: &[u64], kind: Kind) -> Option<Field<'a>> {
    let mut nested_left: i64 = 0;
    let mut depth = 0;
    while depth < path.len() {
        if pos.is_empty() {
            return None;
        }
        let mut before = pos.len();
        let key = varint(pos)?;
        let (wire, number) = (key & 7, key >> 3);
        let found = number == path[depth];
        let mut vlen = 0usize;
        match wire {
            0 => {
                if !found {
                    varint(pos)?;
                }
            }
            1 | 5 => {
                let size = if wire == 1 { 8 } else { 4 };
                if !found {
                    *pos = pos.get(size..)?;
                }
            }
            2 => {
                let len = varint(pos)?;
                if len > pos.len() as u64 {
                    return None;
                }
                vlen = len as usize;
                nested_left = len as i64;
                before = pos.len();
                if !found {
                    *pos = &pos[vlen..];
                }
            }
            _ => return None,
        }
        if found && depth == path.len() - 1 {
            return store(pos, wire, vlen, kind);
        }
        if nested_left > 0 {
            nested_left -= (before - pos.len()) as i64;
        }
        if found {
            depth += 1;
        } else if nested_left <= 0 {
            depth = 0;
        }
    }
    None
}

/// The value of the found field, which starts `pos` (`vlen` long when length-delimited).
/// Floating-point values become integers by truncation, as HAProxy converts them.
fn store(pos: &[u8], wire: u64, vlen: usize, kind: Kind) -> Option<Field<'_>> {
    let le4 = |p: &[u8]| p.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok());
    let le8 = |p: &[u8]| p.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok());
    Some(match (wire, kind) {
        (0, Kind::Binary) => {
            let mut rest = pos;
            varint(&mut rest)?;
            Field::Bytes(&pos[..pos.len() - rest.len()])
        }
        (0, Kind::Varint) => Field::Int(varint(&mut &pos[..])? as i64),
        (0, Kind::ZigZag) => {
            let v = varint(&mut &pos[..])?;
            Field::Int(((v >> 1) ^ (v & 1).wrapping_neg()) as i64)
        }
        (1, Kind::Binary) => Field::Bytes(pos.get(..8)?),
        (1, Kind::Fixed64) => Field::Int(u64::from_le_bytes(le8(pos)?) as i64),
        (1, Kind::Double) => Field::Int(f64::from_le_bytes(le8(pos)?) as u64 as i64),
        (2, Kind::Binary) => Field::Bytes(pos.get(..vlen)?),
        (5, Kind::Binary) => Field::Bytes(pos.get(..4)?),
        (5, Kind::Fixed32) => Field::Int(i64::from(u32::from_le_bytes(le4(pos)?))),
        (5, Kind::SFixed32) => Field::Int(i64::from(i32::from_le_bytes(le4(pos)?))),
        (5, Kind::Float) => Field::Int(i64::from(f32::from_le_bytes(le4(pos)?) as u32)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{ 1: "hi", 2: { 1: -3 (sint32), 3: 300 } , 4: fixed32 7 }`
    const MESSAGE: &[u8] = &[
        0x0a, 2, b'h', b'i', // field 1, "hi"
        0x12, 5, 0x08, 0x05, 0x18, 0xac, 0x02, // field 2: { 1: zigzag 5 = -3, 3: 300 }
        0x25, 7, 0, 0, 0, // field 4, fixed32 7
    ];

    fn int(path: &[u64], kind: Kind) -> Option<i64> {
        match lookup(&mut &MESSAGE[..], path, kind)? {
            Field::Int(n) => Some(n),
            Field::Bytes(_) => None,
        }
    }

    #[test]
    fn fields_by_path_and_type() {
        assert!(matches!(
            lookup(&mut &MESSAGE[..], &[1], Kind::Binary),
            Some(Field::Bytes(b"hi"))
        ));
        assert_eq!(int(&[2, 1], Kind::ZigZag), Some(-3));
        assert_eq!(int(&[2, 3], Kind::Varint), Some(300));
        assert_eq!(int(&[4], Kind::Fixed32), Some(7));
        assert_eq!(int(&[1], Kind::Varint), None);
        assert_eq!(int(&[9], Kind::Varint), None);
        let mut grpc = vec![0, 0, 0, 0, MESSAGE.len() as u8];
        grpc.extend_from_slice(MESSAGE);
        assert!(matches!(
            ungrpc(&grpc, &[2, 3], Kind::Varint),
            Some(Field::Int(300))
        ));
        assert!(ungrpc(&grpc[..10], &[2, 3], Kind::Varint).is_none());
    }
}
