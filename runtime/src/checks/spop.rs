//! The SPOP agent's answer to `spop-check`'s hello (SPOE protocol 2.0): an AGENT-HELLO frame
//! passes, an AGENT-DISCONNECT frame fails with the agent's message.

const AGENT_HELLO: u8 = 101;
const AGENT_DISCONNECT: u8 = 102;

/// SPOP's variable-length integer.
fn varint(data: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = data.split_first()?;
    *data = rest;
    let mut value = u64::from(first);
    if first < 240 {
        return Some(value);
    }
    let mut shift = 4;
    loop {
        let (&b, rest) = data.split_first()?;
        *data = rest;
        value = value.checked_add(u64::from(b).checked_shl(shift)?)?;
        shift += 7;
        if b < 128 || shift > 63 {
            return Some(value);
        }
    }
}

fn bytes<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(varint(data)?).ok()?;
    let (head, rest) = (data.get(..len)?, data.get(len..)?);
    *data = rest;
    Some(head)
}

/// A typed value; strings and numbers are kept, the others skipped.
enum Typed {
    Text(String),
    Number(u64),
    Other,
}

fn typed(data: &mut &[u8]) -> Option<Typed> {
    let (&kind, rest) = data.split_first()?;
    *data = rest;
    Some(match kind & 0x0f {
        0 | 1 => Typed::Other,
        2..=5 => Typed::Number(varint(data)?),
        6 => {
            *data = data.get(4..)?;
            Typed::Other
        }
        7 => {
            *data = data.get(16..)?;
            Typed::Other
        }
        8 => Typed::Text(String::from_utf8_lossy(bytes(data)?).into_owned()),
        9 => {
            bytes(data)?;
            Typed::Other
        }
        _ => return None,
    })
}

/// The key-value list of a frame's payload.
fn key_values(mut data: &[u8]) -> Option<Vec<(String, Typed)>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = String::from_utf8_lossy(bytes(&mut data)?).into_owned();
        out.push((key, typed(&mut data)?));
    }
    Some(out)
}

/// Checks the frame (without its length prefix); the error text says what is wrong.
pub fn agent_hello(frame: &[u8]) -> Result<(), String> {
    let invalid = || "invalid frame received".to_string();
    let (&kind, mut rest) = frame.split_first().ok_or_else(invalid)?;
    // Metadata: flags, stream id, frame id.
    rest = rest.get(4..).ok_or_else(invalid)?;
    varint(&mut rest).ok_or_else(invalid)?;
    varint(&mut rest).ok_or_else(invalid)?;
    let kv = key_values(rest).ok_or_else(invalid)?;
    match kind {
        AGENT_HELLO => {
            let version = kv.iter().find_map(|(k, v)| match (k.as_str(), v) {
                ("version", Typed::Text(t)) => Some(t.clone()),
                _ => None,
            });
            match version {
                Some(v) if v.trim().starts_with("2.") => Ok(()),
                Some(_) => Err("unsupported version".into()),
                None => Err("expected version".into()),
            }
        }
        AGENT_DISCONNECT => {
            let message = kv.iter().find_map(|(k, v)| match (k.as_str(), v) {
                ("message", Typed::Text(t)) => Some(t.clone()),
                _ => None,
            });
            let code = kv.iter().find_map(|(k, v)| match (k.as_str(), v) {
                ("status-code", Typed::Number(n)) => Some(*n),
                _ => None,
            });
            Err(match (message, code) {
                (Some(m), _) => m,
                (None, Some(c)) => format!("agent disconnected (status code {c})"),
                (None, None) => "agent disconnected".into(),
            })
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_haproxy_encoding() {
        // 16380 as HAProxy encodes it.
        let mut data: &[u8] = &[0xfc, 0xf0, 0x06];
        assert_eq!(varint(&mut data), Some(16380));
        let mut small: &[u8] = &[7];
        assert_eq!(varint(&mut small), Some(7));
    }

    #[test]
    fn hello_and_disconnect() {
        let mut hello = vec![AGENT_HELLO, 0, 0, 0, 1, 0, 0];
        hello.push(7);
        hello.extend_from_slice(b"version");
        hello.extend_from_slice(&[8, 3]);
        hello.extend_from_slice(b"2.0");
        assert_eq!(agent_hello(&hello), Ok(()));
        let mut bye = vec![AGENT_DISCONNECT, 0, 0, 0, 1, 0, 0];
        bye.push(7);
        bye.extend_from_slice(b"message");
        bye.extend_from_slice(&[8, 4]);
        bye.extend_from_slice(b"gone");
        assert_eq!(agent_hello(&bye), Err("gone".into()));
        assert!(agent_hello(&[]).is_err());
    }
}
