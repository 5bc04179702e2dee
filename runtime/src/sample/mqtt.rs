//! MQTT converters over a payload (`mqtt_is_valid`, `mqtt_field_value`): the CONNECT and
//! CONNACK packets of MQTT 3.1, 3.1.1 and 5.0, checked and read as HAProxy reads them.

use super::convert::{arg, Run};
use super::{Unsupported, Value};
use crate::txn::Txn;
use hapee_compiler::bytestr;
use hapee_compiler::expr::sample::Call;
use std::collections::HashMap;

const CONNECT: u8 = 1;
const CONNACK: u8 = 2;
/// The flags each packet type must carry in its fixed header (types 1 to 15).
const TYPE_FLAGS: [u8; 16] = [0, 0, 0, 0x0f, 0, 0, 0x02, 0, 0x02, 0, 0x02, 0, 0, 0, 0, 0];
const TYPE_NAMES: [&str; 16] = [
    "",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "AUTH",
];

const FLAG_RESERVED: u8 = 0x01;
const FLAG_WILL: u8 = 0x04;
const FLAG_WILL_QOS: u8 = 0x18;
const FLAG_WILL_RETAIN: u8 = 0x20;
const FLAG_PASSWORD: u8 = 0x40;
const FLAG_USERNAME: u8 = 0x80;

/// Field names (the named fields, then MQTT 5 properties by number) each packet type has.
const CONNECT_FIELDS: &[&str] = &[
    "flags",
    "protocol_name",
    "protocol_version",
    "client_identifier",
    "will_topic",
    "will_payload",
    "username",
    "password",
    "keepalive",
    "1",
    "2",
    "3",
    "8",
    "9",
    "17",
    "21",
    "22",
    "23",
    "24",
    "25",
    "33",
    "34",
    "38",
    "39",
];
const CONNACK_FIELDS: &[&str] = &[
    "flags",
    "reason_code",
    "protocol_version",
    "17",
    "18",
    "19",
    "21",
    "22",
    "26",
    "28",
    "31",
    "33",
    "34",
    "36",
    "37",
    "38",
    "39",
    "40",
    "41",
    "42",
];
/// Fields of the other packet types: accepted in a configuration, never found (HAProxy reads
/// only CONNECT and CONNACK).
const OTHER_FIELDS: &[(u8, &[&str])] = &[
    (3, &["1", "2", "3", "8", "9", "11", "35", "38"]),
    (4, &["reason_code", "31", "38"]),
    (5, &["reason_code", "31", "38"]),
    (6, &["reason_code", "31", "38"]),
    (7, &["reason_code", "31", "38"]),
    (8, &["11", "38"]),
    (9, &["31", "38"]),
    (10, &["38"]),
    (11, &["31", "38"]),
    (14, &["reason_code", "17", "28", "31", "38"]),
    (15, &["21", "22", "31", "38"]),
];

/// The MQTT converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let run: Run = match c.name.as_str() {
        "mqtt_is_valid" => Box::new(|v: Value, txn: Option<&Txn>| match parse(&v.as_bin()?) {
            Parse::Valid(_) => Some(Value::Bool(true)),
            Parse::Invalid => Some(Value::Bool(false)),
            Parse::NeedMore => super::proto::may_change(txn),
        }),
        "mqtt_field_value" => {
            let kind = packet_type(arg(c, 0)).ok_or_else(|| {
                Unsupported(format!(
                    "mqtt_field_value: Unknown MQTT type '{}'",
                    arg(c, 0)
                ))
            })?;
            let field = arg(c, 1).to_ascii_lowercase();
            let known = match kind {
                CONNECT => CONNECT_FIELDS,
                CONNACK => CONNACK_FIELDS,
                k => OTHER_FIELDS
                    .iter()
                    .find(|(t, _)| *t == k)
                    .map_or(&[][..], |(_, f)| f),
            };
            if !known.contains(&field.as_str()) {
                return Err(Unsupported(format!(
                    "mqtt_field_value: Unknown MQTT field name '{}' for packet type '{}'",
                    arg(c, 1),
                    arg(c, 0)
                )));
            }
            Box::new(
                move |v: Value, txn: Option<&Txn>| match parse(&v.as_bin()?) {
                    Parse::Valid(p) if p.kind == kind => {
                        let value = p.fields.get(field.as_str())?;
                        Some(Value::Str(bytestr::from_bytes(value).into_owned()))
                    }
                    Parse::NeedMore => super::proto::may_change(txn),
                    _ => None,
                },
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(run))
}

/// A packet type by name or number.
fn packet_type(name: &str) -> Option<u8> {
    if let Ok(n) = name.parse::<u8>() {
        return (1..=15).contains(&n).then_some(n);
    }
    TYPE_NAMES
        .iter()
        .position(|t| !t.is_empty() && t.eq_ignore_ascii_case(name))
        .map(|i| i as u8)
}

enum Parse {
    Valid(Packet),
    Invalid,
    NeedMore,
}

/// A CONNECT or CONNACK packet's fields, as text (numbers in decimal).
struct Packet {
    kind: u8,
    fields: HashMap<&'static str, Vec<u8>>,
}

/// A reader over the packet's bytes; every read fails (`None`) past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn int(&mut self, n: usize) -> Option<u32> {
        Some(
            self.take(n)?
                .iter()
                .fold(0, |v, b| (v << 8) | u32::from(*b)),
        )
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.int(2)? as usize;
        self.take(len)
    }

    /// A variable-length integer (at most 4 bytes); `Err` when it is longer.
    fn varint(&mut self) -> Result<u32, ()> {
        let mut value = 0u32;
        for i in 0..4 {
            let Some(&b) = self.0.first() else {
                return Ok(value);
            };
            self.0 = &self.0[1..];
            value |= u32::from(b & 0x7f) << (7 * i);
            if b <= 127 {
                return Ok(value);
            }
        }
        Err(())
    }
}

/// How a property is read and checked.
#[derive(Clone, Copy)]
enum Prop {
    /// A one-byte integer that is 0 or 1.
    Flag,
    U16,
    /// A two-byte integer that must not be 0.
    U16NonZero,
    U32,
    U32NonZero,
    Text,
    TextNonEmpty,
    /// A name and a value, kept nowhere (HAProxy does not give them out).
    User,
}

const CONNECT_PROPS: &[(u8, &str, Prop)] = &[
    (0x11, "17", Prop::U32),
    (0x21, "33", Prop::U16NonZero),
    (0x27, "39", Prop::U32NonZero),
    (0x22, "34", Prop::U16),
    (0x19, "25", Prop::Flag),
    (0x17, "23", Prop::Flag),
    (0x26, "38", Prop::User),
    (0x15, "21", Prop::Text),
    (0x16, "22", Prop::Text),
];
const WILL_PROPS: &[(u8, &str, Prop)] = &[
    (0x18, "24", Prop::U32),
    (0x01, "1", Prop::Flag),
    (0x02, "2", Prop::U32),
    (0x03, "3", Prop::Text),
    (0x08, "8", Prop::Text),
    (0x09, "9", Prop::Text),
    (0x26, "38", Prop::User),
];
const CONNACK_PROPS: &[(u8, &str, Prop)] = &[
    (0x11, "17", Prop::U32),
    (0x21, "33", Prop::U16NonZero),
    (0x24, "36", Prop::Flag),
    (0x25, "37", Prop::Flag),
    (0x27, "39", Prop::U32NonZero),
    (0x12, "18", Prop::TextNonEmpty),
    (0x22, "34", Prop::U16),
    (0x1f, "31", Prop::Text),
    (0x28, "40", Prop::Flag),
    (0x29, "41", Prop::Flag),
    (0x2a, "42", Prop::Flag),
    (0x13, "19", Prop::U16),
    (0x1a, "26", Prop::Text),
    (0x1c, "28", Prop::Text),
    (0x26, "38", Prop::User),
    (0x15, "21", Prop::Text),
    (0x16, "22", Prop::Text),
];

/// What reading a property block found wrong.
enum PropError {
    Invalid,
    /// An unknown CONNACK property: HAProxy then answers "need more data".
    Unknown,
}

/// Reads a property block into `fields` (numeric properties of MQTT 5 default to 0, as
/// HAProxy reports them when absent).
fn properties(
    r: &mut Reader,
    table: &[(u8, &'static str, Prop)],
    fields: &mut HashMap<&'static str, Vec<u8>>,
    unknown: PropError,
) -> Result<(), PropError> {
    for (_, name, kind) in table {
        if !matches!(kind, Prop::Text | Prop::TextNonEmpty | Prop::User) {
            fields.insert(name, b"0".to_vec());
        }
    }
    let len = r.varint().map_err(|_| PropError::Invalid)? as usize;
    let mut props = Reader(r.take(len).ok_or(PropError::Invalid)?);
    let mut seen = Vec::new();
    while let Some(&id) = props.0.first() {
        props.0 = &props.0[1..];
        let Some(&(_, name, kind)) = table.iter().find(|(i, ..)| *i == id) else {
            return Err(unknown);
        };
        if !matches!(kind, Prop::User) {
            if seen.contains(&id) {
                return Err(PropError::Invalid);
            }
            seen.push(id);
        }
        let number = |n: Option<u32>, ok: fn(u32) -> bool| match n {
            Some(v) if ok(v) => Ok(v.to_string().into_bytes()),
            _ => Err(PropError::Invalid),
        };
        let value = match kind {
            Prop::Flag => number(props.int(1), |v| v <= 1)?,
            Prop::U16 => number(props.int(2), |_| true)?,
            Prop::U16NonZero => number(props.int(2), |v| v != 0)?,
            Prop::U32 => number(props.int(4), |_| true)?,
            Prop::U32NonZero => number(props.int(4), |v| v != 0)?,
            Prop::Text | Prop::TextNonEmpty => {
                let s = props.string().ok_or(PropError::Invalid)?;
                if s.is_empty() && matches!(kind, Prop::TextNonEmpty) {
                    return Err(PropError::Invalid);
                }
                s.to_vec()
            }
            Prop::User => {
                props.string().ok_or(PropError::Invalid)?;
                props.string().ok_or(PropError::Invalid)?;
                continue;
            }
        };
        fields.insert(name, value);
    }
    Ok(())
}

/// Checks and reads one packet at the start of `msg`.
fn parse(msg: &[u8]) -> Parse {
    if msg.len() < 2 {
        return Parse::NeedMore;
    }
    let (kind, flags) = (msg[0] >> 4, msg[0] & 0x0f);
    if kind == 0 || flags != TYPE_FLAGS[usize::from(kind)] {
        return Parse::Invalid;
    }
    let mut r = Reader(&msg[1..]);
    let Ok(remaining) = r.varint() else {
        return Parse::Invalid;
    };
    let remaining = remaining as usize;
    if r.0.len() < remaining {
        return Parse::NeedMore;
    }
    let before = r.0.len();
    let mut fields = HashMap::new();
    let parsed = match kind {
        CONNECT => connect(&mut r, &mut fields),
        CONNACK => connack(&mut r, &mut fields),
        _ => return Parse::Invalid,
    };
    match parsed {
        Ok(()) if before - r.0.len() == remaining => Parse::Valid(Packet { kind, fields }),
        Err(PropError::Unknown) => Parse::NeedMore,
        _ => Parse::Invalid,
    }
}

fn connect(r: &mut Reader, f: &mut HashMap<&'static str, Vec<u8>>) -> Result<(), PropError> {
    let bad = || PropError::Invalid;
    let name = r.string().ok_or_else(bad)?;
    if !name.eq_ignore_ascii_case(b"MQTT") && !name.eq_ignore_ascii_case(b"MQIsdp") {
        return Err(bad());
    }
    let version = r.int(1).ok_or_else(bad)? as u8;
    if !matches!(version, 3..=5) {
        return Err(bad());
    }
    let flags = r.int(1).ok_or_else(bad)? as u8;
    if flags & FLAG_RESERVED != 0
        || flags & (FLAG_WILL | FLAG_WILL_QOS | FLAG_WILL_RETAIN) == FLAG_WILL_QOS
    {
        return Err(bad());
    }
    let keepalive = r.int(2).ok_or_else(bad)?;
    f.insert("protocol_name", name.to_vec());
    f.insert("protocol_version", version.to_string().into_bytes());
    f.insert("flags", flags.to_string().into_bytes());
    f.insert("keepalive", keepalive.to_string().into_bytes());
    if version == 5 {
        properties(r, CONNECT_PROPS, f, PropError::Invalid)?;
        if !f.contains_key("21") && f.contains_key("22") {
            return Err(bad());
        }
    }
    text(r, f, "client_identifier")?;
    if version == 5 && flags & FLAG_WILL != 0 {
        properties(r, WILL_PROPS, f, PropError::Invalid)?;
    }
    if flags & FLAG_WILL != 0 {
        text(r, f, "will_topic")?;
        text(r, f, "will_payload")?;
    }
    if flags & FLAG_USERNAME != 0 {
        text(r, f, "username")?;
    }
    if flags & FLAG_PASSWORD != 0 {
        text(r, f, "password")?;
    }
    Ok(())
}

/// A string field, kept when it is not empty.
fn text(
    r: &mut Reader,
    f: &mut HashMap<&'static str, Vec<u8>>,
    name: &'static str,
) -> Result<(), PropError> {
    let s = r.string().ok_or(PropError::Invalid)?;
    if !s.is_empty() {
        f.insert(name, s.to_vec());
    }
    Ok(())
}

fn connack(r: &mut Reader, f: &mut HashMap<&'static str, Vec<u8>>) -> Result<(), PropError> {
    let bad = || PropError::Invalid;
    let version: u8 = match r.0.len() {
        0 | 1 => return Err(bad()),
        2 => 4,
        _ => 5,
    };
    let flags = r.int(1).ok_or_else(bad)?;
    if flags & 0xfe != 0 {
        return Err(bad());
    }
    let reason = r.int(1).ok_or_else(bad)?;
    f.insert("flags", flags.to_string().into_bytes());
    f.insert("reason_code", reason.to_string().into_bytes());
    f.insert("protocol_version", version.to_string().into_bytes());
    if version == 5 {
        properties(r, CONNACK_PROPS, f, PropError::Unknown)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn connect_and_connack() {
        let minimal = hex("100c00044d5154540402003c0000");
        assert!(matches!(parse(&minimal[..1]), Parse::NeedMore));
        assert!(matches!(parse(&minimal[..5]), Parse::NeedMore));
        let Parse::Valid(p) = parse(&minimal) else {
            panic!("a valid 3.1.1 CONNECT")
        };
        assert_eq!(p.fields["protocol_name"], b"MQTT");
        assert_eq!(p.fields["protocol_version"], b"4");
        assert_eq!(p.fields["flags"], b"2");
        assert!(!p.fields.contains_key("client_identifier"));
        let connack = hex("20020000");
        let Parse::Valid(p) = parse(&connack) else {
            panic!("a valid CONNACK")
        };
        assert_eq!(p.fields["reason_code"], b"0");
        assert!(matches!(parse(&hex("30020000")), Parse::Invalid));
        assert_eq!(packet_type("connack"), Some(2));
    }
}
