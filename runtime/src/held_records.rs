//! Held bytes read as HAProxy's content fetches read them (sans-I/O): the type of the first
//! TLS handshake message (`req.ssl_hello_type`, `res.ssl_hello_type`), the extensions of a
//! ClientHello (`req.ssl_st_ext`, `req.ssl_ec_ext`) and the tokens of a distcc request
//! (`distcc_param`, `distcc_body`). Each answer tells whether more bytes could change it.

/// What the held bytes say.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan<T> {
    Found(T),
    /// Not enough bytes yet to tell.
    More,
    /// The bytes are not what the fetch reads, and more will not make them so.
    Not,
}

/// The type of the handshake message the first record starts (1 for a ClientHello, 2 for a
/// ServerHello): a record of SSLv3 or later whose first message is whole.
pub fn hello_type(data: &[u8]) -> Scan<u8> {
    let Some(&kind) = data.first() else {
        return Scan::More;
    };
    if !(0x14..=0x17).contains(&kind) && kind != 0xff {
        return Scan::Not;
    }
    if data.len() < 9 {
        return Scan::More;
    }
    if data[1] < 3 || u16::from_be_bytes([data[3], data[4]]) < 4 {
        return Scan::Not;
    }
    let message_len = u24(&data[6..9]);
    if data.len() < 9 + message_len {
        return Scan::More;
    }
    Scan::Found(data[5])
}

/// The extensions (type, length) of the ClientHello the first record carries, checked as
/// HAProxy checks it: a TLS 1.0 or later hello long enough to hold extensions, whole.
pub fn hello_extensions(data: &[u8]) -> Scan<Vec<(u16, usize)>> {
    // Record header, handshake header, version, random, the shortest session ID, cipher
    // list, compression list and extension list, and one extension header.
    const SHORTEST_RECORD: usize = 1 + 3 + 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2;
    const SHORTEST_HELLO: isize = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2;
    if data.is_empty() {
        return Scan::More;
    }
    if data[0] != 0x16 {
        return Scan::Not;
    }
    if data.len() < 3 {
        return Scan::More;
    }
    if data[1] < 3 {
        return Scan::Not;
    }
    if data.len() < 5 {
        return Scan::More;
    }
    if usize::from(u16::from_be_bytes([data[3], data[4]])) < SHORTEST_RECORD {
        return Scan::Not;
    }
    let msg = &data[5..];
    let Some(&msg_type) = msg.first() else {
        return Scan::More;
    };
    if msg_type != 1 {
        return Scan::Not;
    }
    if msg.len() < 4 {
        return Scan::More;
    }
    let mut left = u24(&msg[1..4]) as isize;
    if left < SHORTEST_HELLO {
        return Scan::Not;
    }
    // The whole hello (HAProxy counts its 4-byte header in; reading past the bytes held is
    // not done here, so this waits for them).
    if msg.len() < 4 + left as usize {
        return Scan::More;
    }
    let mut d = &msg[4..4 + left as usize];
    if d[0] < 3 || d[1] < 1 {
        return Scan::Not;
    }
    let session = isize::from(d[34]);
    if session > 32 || session > left - 35 {
        return Scan::Not;
    }
    left -= 35 + session;
    d = &d[35 + session as usize..];
    if left < 4 {
        return Scan::Not;
    }
    let ciphers = u16::from_be_bytes([d[0], d[1]]) as isize;
    if ciphers < 2 || ciphers > left {
        return Scan::Not;
    }
    left -= 2 + ciphers;
    let Some(rest) = d.get(2 + ciphers as usize..) else {
        return Scan::Not;
    };
    d = rest;
    if left < 2 || d[0] < 1 || isize::from(d[0]) > left {
        return Scan::Not;
    }
    left -= 1 + isize::from(d[0]);
    let Some(rest) = d.get(1 + usize::from(d[0])..) else {
        return Scan::Not;
    };
    d = rest;
    if left < 2 {
        return Scan::Not;
    }
    let listed = u16::from_be_bytes([d[0], d[1]]) as isize;
    if listed > left - 2 {
        return Scan::Not;
    }
    left = listed;
    d = &d[2..];
    let mut out = Vec::new();
    while left >= 4 {
        let kind = u16::from_be_bytes([d[0], d[1]]);
        let len = u16::from_be_bytes([d[2], d[3]]) as isize;
        if len > left - 4 {
            return Scan::Not;
        }
        out.push((kind, len as usize));
        left -= 4 + len;
        d = &d[4 + len as usize..];
    }
    Scan::Found(out)
}

/// A distcc token found: its parameter and where its body lies in the held bytes (it may
/// reach past them).
#[derive(Debug, PartialEq, Eq)]
pub struct DistccToken {
    pub param: u32,
    pub body_at: usize,
    pub body_len: usize,
}

/// Token `name` (4 letters) of a distcc request, its `occurrence`-th (from 1; 0 for the
/// first): each token is its name, 8 hexadecimal digits of parameter, and as many bytes of
/// body as the parameter says (none for the tokens that count: ARGC, DIST, NFIL, STAT,
/// DONE).
pub fn distcc(data: &[u8], name: &[u8], occurrence: u32) -> Scan<DistccToken> {
    const BODILESS: [&[u8; 4]; 5] = [b"ARGC", b"DIST", b"NFIL", b"STAT", b"DONE"];
    let mut at = 0usize;
    let mut seen = 0u32;
    loop {
        let Some(head) = data.get(at..at + 12) else {
            return Scan::More;
        };
        let mut param = 0u32;
        for &c in &head[4..] {
            let Some(digit) = char::from(c).to_digit(16) else {
                return Scan::Not;
            };
            param = (param << 4) | digit;
        }
        at += 12;
        let body = if BODILESS.iter().any(|t| &head[..4] == *t) {
            0
        } else {
            param as usize
        };
        if &head[..4] == name {
            seen += 1;
            if occurrence == 0 || occurrence == seen {
                return Scan::Found(DistccToken {
                    param,
                    body_at: at,
                    body_len: body,
                });
            }
        }
        at = at.saturating_add(body);
    }
}

fn u24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_types_are_read_from_whole_messages() {
        let server_hello = [0x16, 3, 3, 0, 8, 2, 0, 0, 4, 1, 2, 3, 4];
        assert_eq!(hello_type(&server_hello), Scan::Found(2));
        assert_eq!(hello_type(&server_hello[..12]), Scan::More);
        assert_eq!(hello_type(b""), Scan::More);
        assert_eq!(hello_type(b"HTTP/1.1 200 OK\r\n"), Scan::Not);
        // SSLv2 and shorter-than-a-header records are not read.
        assert_eq!(hello_type(&[0x16, 2, 0, 0, 8, 2, 0, 0, 0]), Scan::Not);
        assert_eq!(hello_type(&[0x16, 3, 3, 0, 3, 2, 0, 0, 0]), Scan::Not);
    }

    #[test]
    fn distcc_tokens_and_their_bodies() {
        let req = b"DIST00000001ARGC00000002ARGV00000003gccARGV00000002-c";
        let found = |name: &[u8], occ| match distcc(req, name, occ) {
            Scan::Found(t) => Some((t.param, t.body_at, t.body_len)),
            _ => None,
        };
        assert_eq!(found(b"ARGC", 0), Some((2, 24, 0)));
        assert_eq!(found(b"ARGV", 0), Some((3, 36, 3)));
        assert_eq!(found(b"ARGV", 2), Some((2, 51, 2)));
        assert_eq!(distcc(req, b"ARGV", 3), Scan::More);
        assert_eq!(distcc(b"DIST0000000g", b"DIST", 0), Scan::Not);
        // A body length beyond any buffer never overflows.
        assert_eq!(distcc(b"ARGVffffffff", b"DOTI", 0), Scan::More);
    }
}
