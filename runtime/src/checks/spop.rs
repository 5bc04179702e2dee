//! The SPOP agent's answer to `spop-check`'s hello (SPOE protocol 2.0): an AGENT-HELLO frame
//! passes, an AGENT-DISCONNECT frame fails with the agent's message.

use crate::spoe::codec::{key_values, Typed, AGENT_DISCONNECT, AGENT_HELLO};
use crate::varint::get_varint as varint;

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
                ("version", Typed::Str(t)) => Some(t.clone()),
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
                ("message", Typed::Str(t)) => Some(t.clone()),
                _ => None,
            });
            let code = kv.iter().find_map(|(k, v)| match (k.as_str(), v) {
                ("status-code", Typed::Uint32(n)) => Some(u64::from(*n)),
                ("status-code", Typed::Int32(n)) => Some(*n as u64),
                ("status-code", Typed::Uint64(n)) => Some(*n),
                ("status-code", Typed::Int64(n)) => Some(*n as u64),
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
