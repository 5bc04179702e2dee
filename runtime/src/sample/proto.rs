//! Protocol converters over a payload: FIX (`fix_is_valid`, `fix_tag_value`); MQTT is in
//! `mqtt`. A message that
//! may still be incomplete marks the transaction so that content rules wait for more.

use super::convert::{arg, Run};
use super::{Unsupported, Value};
use hapee_compiler::expr::sample::Call;

const DELIMITER: u8 = 0x01;
const MIN_SIZE: usize = 26;
const TAG_BEGIN_STRING: u32 = 8;
const TAG_BODY_LENGTH: u32 = 9;
const TAG_CHECKSUM: u32 = 10;
const TAG_MSG_TYPE: u32 = 35;

/// The protocol converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let run: Run = match c.name.as_str() {
        "fix_is_valid" => {
            Box::new(
                |v: Value, txn: Option<&crate::txn::Txn>| match validate(&v.as_bin()?) {
                    Fix::Valid => Some(Value::Bool(true)),
                    Fix::Invalid => Some(Value::Bool(false)),
                    Fix::NeedMore => may_change(txn),
                },
            )
        }
        "fix_tag_value" => {
            let tag = tag_id(arg(c, 0)).ok_or_else(|| {
                Unsupported(format!(
                    "fix_tag_value: Unknown FIX tag name '{}'",
                    arg(c, 0)
                ))
            })?;
            Box::new(move |v: Value, txn: Option<&crate::txn::Txn>| {
                let msg = v.as_bin()?;
                match tag_value(&msg, tag) {
                    Lookup::Found(r) => Some(Value::Bin(bytes::Bytes::copy_from_slice(&msg[r]))),
                    Lookup::NeedMore => may_change(txn),
                    Lookup::Absent => None,
                }
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(run))
}

/// No sample yet: more of the payload may still come, so content rules wait for it.
pub(super) fn may_change(txn: Option<&crate::txn::Txn>) -> Option<Value> {
    if let Some(t) = txn.filter(|t| !t.payload_final) {
        t.may_change.set(true);
    }
    None
}

/// A tag by number or by one of the names HAProxy knows.
fn tag_id(name: &str) -> Option<u32> {
    if let Some(id) = check_id(name.as_bytes(), None) {
        return Some(id);
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "msgtype" => TAG_MSG_TYPE,
        "checksum" => TAG_CHECKSUM,
        "bodylength" => TAG_BODY_LENGTH,
        "targetcompid" => 56,
        "beginstring" => TAG_BEGIN_STRING,
        "sendercompid" => 49,
        _ => return None,
    })
}

/// A tag number: digits only, not 0, and (with a version) within that version's range or
/// among the user-defined tags.
fn check_id(tag: &[u8], version: Option<&[u8]>) -> Option<u32> {
    if tag.is_empty() || !tag.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let id = std::str::from_utf8(tag).ok()?.parse::<u32>().ok()?;
    if id == 0 {
        return None;
    }
    let Some(version) = version else {
        return Some(id);
    };
    if (10_000..=19_999).contains(&id) {
        return Some(id);
    }
    let max = match version {
        b"FIX.4.0" => 140,
        b"FIX.4.1" => 211,
        b"FIX.4.2" => 446,
        b"FIX.4.3" => 659,
        b"FIX.4.4" => 956,
        b"FIXT.1.1" => 1621,
        _ => 0,
    };
    (id <= max).then_some(id)
}

enum Fix {
    Valid,
    Invalid,
    NeedMore,
}

/// One `tag=value<SOH>` field at the start of `rest`: the tag, the value's range in `rest`
/// and the field's length; `Err(true)` when it is not complete, `Err(false)` when malformed.
fn next_field(rest: &[u8]) -> Result<(&[u8], std::ops::Range<usize>, usize), bool> {
    let stop = rest.iter().position(|b| *b == b'=' || *b == DELIMITER);
    let Some(eq) = stop else {
        return Err(true);
    };
    if rest[eq] != b'=' || eq == 0 {
        return Err(false);
    }
    let Some(end) = rest[eq + 1..].iter().position(|b| *b == DELIMITER) else {
        return Err(true);
    };
    if end == 0 {
        return Err(false);
    }
    Ok((&rest[..eq], eq + 1..eq + 1 + end, eq + 2 + end))
}

/// Whether `msg` is a whole, valid FIX message: BeginString, BodyLength and MsgType first,
/// the body length and the checksum right.
fn validate(msg: &[u8]) -> Fix {
    if msg.len() < MIN_SIZE {
        return Fix::NeedMore;
    }
    let (mut at, mut count, mut checksum) = (0usize, 0u32, 0u8);
    let (mut version, mut body_len, mut body_start): (Option<&[u8]>, usize, Option<usize>) =
        (None, 0, None);
    while at < msg.len() {
        let (tag, value, len) = match next_field(&msg[at..]) {
            Ok(f) => f,
            Err(true) => return Fix::NeedMore,
            Err(false) => return Fix::Invalid,
        };
        let value = &msg[at + value.start..at + value.end];
        let Some(id) = check_id(tag, version) else {
            return Fix::Invalid;
        };
        count += 1;
        match count {
            1 => {
                if id != TAG_BEGIN_STRING {
                    return Fix::Invalid;
                }
                let known = [
                    &b"FIX.4.0"[..],
                    b"FIX.4.1",
                    b"FIX.4.2",
                    b"FIX.4.3",
                    b"FIX.4.4",
                    b"FIXT.1.1",
                ];
                if !known.contains(&value) {
                    return Fix::Invalid;
                }
                version = Some(value);
            }
            2 => {
                let n = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<usize>().ok());
                match n {
                    Some(n) if n > 0 && value.iter().all(u8::is_ascii_digit) => body_len = n,
                    _ => return Fix::Invalid,
                }
                body_start = Some(at + len);
            }
            3 if id != TAG_MSG_TYPE => return Fix::Invalid,
            n if n > 3 && id == TAG_CHECKSUM => {
                let in_body = at - body_start.unwrap_or(at);
                let sum = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u32>().ok());
                let valid =
                    in_body == body_len && value.len() == 3 && sum == Some(u32::from(checksum));
                return if valid { Fix::Valid } else { Fix::Invalid };
            }
            _ => {}
        }
        checksum = msg[at..at + len]
            .iter()
            .fold(checksum, |s, b| s.wrapping_add(*b));
        at += len;
    }
    Fix::NeedMore
}

enum Lookup {
    Found(std::ops::Range<usize>),
    NeedMore,
    Absent,
}

/// The value of tag `id` in `msg`.
fn tag_value(msg: &[u8], id: u32) -> Lookup {
    let mut at = 0;
    while at < msg.len() {
        let (tag, value, len) = match next_field(&msg[at..]) {
            Ok(f) => f,
            Err(true) => return Lookup::NeedMore,
            Err(false) => return Lookup::Absent,
        };
        let Some(found) = check_id(tag, None) else {
            return Lookup::Absent;
        };
        if found == id {
            return Lookup::Found(at + value.start..at + value.end);
        }
        if found == TAG_CHECKSUM {
            return Lookup::Absent;
        }
        at += len;
    }
    Lookup::NeedMore
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIX logon message with its body length and checksum computed.
    fn message(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let head = format!("8=FIX.4.4\x019={}\x01", body.len());
        let sum = head
            .bytes()
            .chain(body.bytes())
            .fold(0u8, |s, b| s.wrapping_add(b));
        format!("{head}{body}10={sum:03}\x01").into_bytes()
    }

    #[test]
    fn fix_messages() {
        let msg = message("35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20210101-00:00:00|98=0|108=30|");
        assert!(matches!(validate(&msg), Fix::Valid));
        assert!(matches!(validate(&msg[..msg.len() - 3]), Fix::NeedMore));
        let mut bad = msg.clone();
        let n = bad.len();
        bad[n - 2] = b'9';
        assert!(matches!(validate(&bad), Fix::Invalid));
        let Lookup::Found(r) = tag_value(&msg, tag_id("SenderCompID").unwrap()) else {
            panic!("tag 49 is there")
        };
        assert_eq!(&msg[r], b"CLIENT1");
        assert!(matches!(tag_value(&msg, 999), Lookup::Absent));
    }
}
