//! `tls-ticket-keys <file>`: the keys that protect a listener's TLS session tickets, one per
//! line in base64, each 48 bytes (a 16-byte name, an AES-128 key and a 16-byte HMAC key) or 80
//! bytes (a 16-byte name, an AES-256 key and a 32-byte HMAC key), all of one size. Read here
//! for `check` and by the runtime alike, so both refuse a file with HAProxy's words.

use base64::Engine;

/// How many keys are in use at a time (HAProxy's default `TLS_TICKETS_NO`): the file's last
/// ones. Tickets are made with the second of them and any of them opens one.
pub const KEYS_IN_USE: usize = 3;

/// The two key sizes, in bytes.
pub const AES128_KEY_SIZE: usize = 48;
pub const AES256_KEY_SIZE: usize = 80;

/// The keys of a file (`shown` is its path as written), oldest first, each decoded: the last
/// [`KEYS_IN_USE`] of them, the ones in use.
pub fn parse(shown: &str, text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let key = decode(line)
            .ok_or_else(|| format!("'{shown}' : unable to decode base64 key on line {}", n + 1))?;
        let size = keys.first().map_or(key.len(), Vec::len);
        if key.len() != size || !matches!(size, AES128_KEY_SIZE | AES256_KEY_SIZE) {
            return Err(format!("'{shown}' : wrong sized key on line {}", n + 1));
        }
        keys.push(key);
    }
    if keys.len() < KEYS_IN_USE {
        return Err(format!(
            "'{shown}' : please supply at least {KEYS_IN_USE} keys in the tls-tickets-file"
        ));
    }
    Ok(keys.split_off(keys.len() - KEYS_IN_USE))
}

/// A key in base64 (as the Runtime API's `set ssl tls-key` takes it too); `None` when it is
/// not base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// A key in base64, as `show tls-keys` prints it.
pub fn encode(key: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fill: u8, size: usize) -> String {
        encode(&vec![fill; size])
    }

    #[test]
    fn keeps_the_last_three_keys_of_one_size() {
        let text = format!(
            "{}\n{}\r\n{}\n{}\n",
            key(1, 48),
            key(2, 48),
            key(3, 48),
            key(4, 48)
        );
        let keys = parse("k", &text).unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0][0], 2);
        assert_eq!(keys[2][0], 4);
        let text = format!("{}\n{}\n{}", key(1, 80), key(2, 80), key(3, 80));
        assert_eq!(parse("k", &text).unwrap()[1], vec![2; 80]);
    }

    #[test]
    fn refuses_with_haproxys_words() {
        assert_eq!(
            parse("k", &format!("{}\n{}\n", key(1, 48), key(2, 48))),
            Err("'k' : please supply at least 3 keys in the tls-tickets-file".into())
        );
        assert_eq!(
            parse("k", &format!("{}\n{}\n", key(1, 48), key(2, 80))),
            Err("'k' : wrong sized key on line 2".into())
        );
        assert_eq!(
            parse("k", &format!("{}\n", key(1, 32))),
            Err("'k' : wrong sized key on line 1".into())
        );
        assert_eq!(
            parse("k", "not base64!\n"),
            Err("'k' : unable to decode base64 key on line 1".into())
        );
        assert_eq!(
            parse("k", ""),
            Err("'k' : please supply at least 3 keys in the tls-tickets-file".into())
        );
    }
}
