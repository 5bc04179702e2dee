//! The PROXY protocol (versions 1 and 2), sans-I/O: parsing the header a load balancer in
//! front sends before its client's bytes, and building the one hapee sends to servers
//! (`send-proxy`, `send-proxy-v2`). The socket side is in `crate::accept` and
//! `crate::upstream`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12 bytes every version 2 header starts with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 line, CRLF included.
pub const V1_MAX: usize = 107;
const V2_FIXED: usize = 16;

/// TLV types of version 2.
pub mod tlv {
    pub const ALPN: u8 = 0x01;
    pub const AUTHORITY: u8 = 0x02;
    pub const CRC32C: u8 = 0x03;
    pub const NOOP: u8 = 0x04;
    pub const UNIQUE_ID: u8 = 0x05;
    pub const SSL: u8 = 0x20;
    pub const SSL_VERSION: u8 = 0x21;
    pub const SSL_CN: u8 = 0x22;
    pub const SSL_CIPHER: u8 = 0x23;
    pub const SSL_SIG_ALG: u8 = 0x24;
    pub const SSL_KEY_ALG: u8 = 0x25;
    pub const NETNS: u8 = 0x30;
}

/// A received header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    pub version: u8,
    /// The original connection's ends; `None` for `LOCAL` (v2), `UNKNOWN` (v1) or a family
    /// other than TCP over IPv4/IPv6: the connection's own addresses stay.
    pub source: Option<SocketAddr>,
    pub destination: Option<SocketAddr>,
    /// Version 2 TLVs in the order received (the CRC32C one checked and kept).
    pub tlvs: Vec<(u8, Vec<u8>)>,
}

impl ProxyHeader {
    /// The value of the first TLV of `kind`.
    pub fn tlv(&self, kind: u8) -> Option<&[u8]> {
        self.tlvs
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_slice())
    }

    /// A sub-TLV of the SSL TLV (`PP2_SUBTYPE_SSL_*`).
    pub fn ssl_sub_tlv(&self, kind: u8) -> Option<&[u8]> {
        // SSL TLV: client flags (1 byte), verify result (4 bytes), then sub-TLVs.
        let ssl = self.tlv(tlv::SSL)?;
        parse_tlvs(ssl.get(5..)?)
            .ok()?
            .into_iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v)
    }
}

/// What a buffer holds so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole header, taking the buffer's first `len` bytes.
    Done { header: ProxyHeader, len: usize },
    /// A valid start; more bytes are needed.
    Incomplete,
    /// Not a PROXY protocol header, or a broken one.
    Invalid(&'static str),
}

/// Parses the header at the start of `buf`. Never reads past the header: the bytes after it
/// belong to the client's own protocol.
pub fn parse(buf: &[u8]) -> Parsed {
    let v1_prefix = b"PROXY ";
    let n = buf.len().min(V2_SIGNATURE.len());
    if buf[..n] == V2_SIGNATURE[..n] {
        if n < V2_SIGNATURE.len() {
            return Parsed::Incomplete;
        }
        return parse_v2(buf);
    }
    let n = buf.len().min(v1_prefix.len());
    if buf[..n] == v1_prefix[..n] {
        return parse_v1(buf);
    }
    Parsed::Invalid("not a PROXY protocol header")
}

fn parse_v1(buf: &[u8]) -> Parsed {
    let window = &buf[..buf.len().min(V1_MAX)];
    let Some(end) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX {
            Parsed::Invalid("PROXY v1 line too long")
        } else if window.contains(&b'\n') {
            Parsed::Invalid("PROXY v1 line ends without CRLF")
        } else {
            Parsed::Incomplete
        };
    };
    let Ok(line) = std::str::from_utf8(&buf[6..end]) else {
        return Parsed::Invalid("PROXY v1 line is not text");
    };
    let words: Vec<&str> = line.split(' ').collect();
    let header = |source, destination| ProxyHeader {
        version: 1,
        source,
        destination,
        tlvs: Vec::new(),
    };
    match words.as_slice() {
        ["UNKNOWN", ..] => Parsed::Done {
            header: header(None, None),
            len: end + 2,
        },
        [family @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let v6 = *family == "TCP6";
            let ip = |s: &str| -> Option<IpAddr> {
                if v6 {
                    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
                } else {
                    s.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
                }
            };
            // Ports are decimal without sign or leading zeros, as the specification asks.
            let port = |s: &str| -> Option<u16> {
                if s.is_empty() || (s.len() > 1 && s.starts_with('0')) {
                    return None;
                }
                s.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| s.parse().ok())?
            };
            match (ip(src), ip(dst), port(sport), port(dport)) {
                (Some(s), Some(d), Some(sp), Some(dp)) => Parsed::Done {
                    header: header(Some(SocketAddr::new(s, sp)), Some(SocketAddr::new(d, dp))),
                    len: end + 2,
                },
                _ => Parsed::Invalid("PROXY v1 addresses or ports are malformed"),
            }
        }
        _ => Parsed::Invalid("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN"),
    }
}

fn parse_v2(buf: &[u8]) -> Parsed {
    if buf.len() < V2_FIXED {
        return Parsed::Incomplete;
    }
    let ver_cmd = buf[12];
    if ver_cmd >> 4 != 2 {
        return Parsed::Invalid("PROXY v2 version is not 2");
    }
    let local = match ver_cmd & 0x0f {
        0 => true,
        1 => false,
        _ => return Parsed::Invalid("PROXY v2 command is neither LOCAL nor PROXY"),
    };
    let family = buf[13];
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    let total = V2_FIXED + len;
    if buf.len() < total {
        return Parsed::Incomplete;
    }
    let body = &buf[V2_FIXED..total];
    let (addrs, rest): (Option<(SocketAddr, SocketAddr)>, &[u8]) = match family >> 4 {
        1 if body.len() >= 12 => {
            let ip = |o: usize| {
                IpAddr::V4(Ipv4Addr::new(
                    body[o],
                    body[o + 1],
                    body[o + 2],
                    body[o + 3],
                ))
            };
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            (
                Some((
                    SocketAddr::new(ip(0), port(8)),
                    SocketAddr::new(ip(4), port(10)),
                )),
                &body[12..],
            )
        }
        2 if body.len() >= 36 => {
            let ip = |o: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&body[o..o + 16]);
                IpAddr::V6(Ipv6Addr::from(a))
            };
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            (
                Some((
                    SocketAddr::new(ip(0), port(32)),
                    SocketAddr::new(ip(16), port(34)),
                )),
                &body[36..],
            )
        }
        3 if body.len() >= 216 => (None, &body[216..]),
        0 => (None, body),
        1..=3 => return Parsed::Invalid("PROXY v2 address block is too short"),
        _ => return Parsed::Invalid("PROXY v2 address family is unknown"),
    };
    let tlvs = match parse_tlvs(rest) {
        Ok(t) => t
            .into_iter()
            .map(|(k, v)| (k, v.to_vec()))
            .collect::<Vec<_>>(),
        Err(e) => return Parsed::Invalid(e),
    };
    if let Some((_, crc)) = tlvs.iter().find(|(k, _)| *k == tlv::CRC32C) {
        if crc.len() != 4 || !crc_matches(&buf[..total], crc) {
            return Parsed::Invalid("PROXY v2 CRC32C does not match");
        }
    }
    let addrs = addrs.filter(|_| !local);
    Parsed::Done {
        header: ProxyHeader {
            version: 2,
            source: addrs.map(|a| a.0),
            destination: addrs.map(|a| a.1),
            tlvs,
        },
        len: total,
    }
}

fn parse_tlvs(mut rest: &[u8]) -> Result<Vec<(u8, &[u8])>, &'static str> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 3 {
            return Err("PROXY v2 TLV is truncated");
        }
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        let Some(value) = rest.get(3..3 + len) else {
            return Err("PROXY v2 TLV is longer than the header");
        };
        out.push((rest[0], value));
        rest = &rest[3 + len..];
    }
    Ok(out)
}

/// The header's CRC32C, computed with the checksum field zeroed, against `expected`.
fn crc_matches(header: &[u8], expected: &[u8]) -> bool {
    let mut copy = header.to_vec();
    // Zero the CRC TLV's value wherever it sits: find it again by offset.
    if let Some(at) = crc_value_offset(&copy) {
        copy[at..at + 4].fill(0);
    }
    crc32c::crc32c(&copy).to_be_bytes() == expected
}

/// Where the CRC32C TLV's value starts in a whole v2 header.
fn crc_value_offset(header: &[u8]) -> Option<usize> {
    let addr_len = match header.get(13)? >> 4 {
        1 => 12,
        2 => 36,
        3 => 216,
        _ => 0,
    };
    let mut at = V2_FIXED + addr_len;
    while at + 3 <= header.len() {
        let len = usize::from(u16::from_be_bytes([header[at + 1], header[at + 2]]));
        if header[at] == tlv::CRC32C && len == 4 {
            return Some(at + 3);
        }
        at += 3 + len;
    }
    None
}

/// The version 1 line for a connection from `source` to `destination`.
pub fn encode_v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        ),
        (s, d) => {
            // Mixed families are sent as IPv6, the IPv4 side mapped.
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            format!(
                "PROXY TCP6 {} {} {} {}\r\n",
                v6(s),
                v6(d),
                s.port(),
                d.port()
            )
        }
    }
    .into_bytes()
}

/// A version 2 `PROXY` header with `tlvs`; with `crc`, a CRC32C TLV is added and filled.
pub fn encode_v2(
    source: SocketAddr,
    destination: SocketAddr,
    tlvs: &[(u8, &[u8])],
    crc: bool,
) -> Vec<u8> {
    encode_v2_of(Some((source, destination)), tlvs, crc)
}

/// A version 2 header: a `PROXY` command for the connection `ends` (source, destination), or
/// a `LOCAL` one without addresses for `None`; then `tlvs`, after a CRC32C one with `crc`.
pub fn encode_v2_of(
    ends: Option<(SocketAddr, SocketAddr)>,
    tlvs: &[(u8, &[u8])],
    crc: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&V2_SIGNATURE);
    let Some((source, destination)) = ends else {
        out.extend_from_slice(&[0x20, 0x00, 0, 0]);
        return finish_v2(out, tlvs, crc);
    };
    out.push(0x21);
    match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            out.extend_from_slice(&[0x11, 0, 0]);
            out.extend_from_slice(&s.ip().octets());
            out.extend_from_slice(&d.ip().octets());
        }
        (s, d) => {
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            out.extend_from_slice(&[0x21, 0, 0]);
            out.extend_from_slice(&v6(s).octets());
            out.extend_from_slice(&v6(d).octets());
        }
    }
    out.extend_from_slice(&source.port().to_be_bytes());
    out.extend_from_slice(&destination.port().to_be_bytes());
    finish_v2(out, tlvs, crc)
}

/// Appends the TLVs to a version 2 header's fixed part and addresses, and sets its length.
fn finish_v2(mut out: Vec<u8>, tlvs: &[(u8, &[u8])], crc: bool) -> Vec<u8> {
    // The checksum comes first, as HAProxy writes it.
    let crc_at = crc.then(|| {
        push_tlv(&mut out, tlv::CRC32C, &[0; 4]);
        out.len() - 4
    });
    for (kind, value) in tlvs {
        push_tlv(&mut out, *kind, value);
    }
    let len = (out.len() - V2_FIXED) as u16;
    out[14..16].copy_from_slice(&len.to_be_bytes());
    if let Some(at) = crc_at {
        let sum = crc32c::crc32c(&out);
        out[at..at + 4].copy_from_slice(&sum.to_be_bytes());
    }
    out
}

/// Appends one TLV; a value longer than a TLV can carry is cut to the limit.
pub fn push_tlv(out: &mut Vec<u8>, kind: u8, value: &[u8]) {
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    out.push(kind);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(p: Parsed) -> (ProxyHeader, usize) {
        match p {
            Parsed::Done { header, len } => (header, len),
            other => panic!("expected a header, got {other:?}"),
        }
    }

    #[test]
    fn v1_tcp4_and_tcp6_lines_give_both_ends_and_leave_the_payload() {
        let buf = b"PROXY TCP4 192.0.2.1 198.51.100.2 51234 443\r\nGET / HTTP/1.1\r\n";
        let (h, len) = done(parse(buf));
        assert_eq!(&buf[len..len + 3], b"GET");
        assert_eq!(h.source, Some("192.0.2.1:51234".parse().unwrap()));
        assert_eq!(h.destination, Some("198.51.100.2:443".parse().unwrap()));
        let (h, _) = done(parse(b"PROXY TCP6 2001:db8::1 ::1 1 2\r\n"));
        assert_eq!(h.source, Some("[2001:db8::1]:1".parse().unwrap()));
        let (h, len) = done(parse(b"PROXY UNKNOWN whatever\r\n"));
        assert_eq!((h.source, len), (None, 24));
    }

    #[test]
    fn v1_partial_long_and_malformed_lines() {
        assert_eq!(parse(b"PRO"), Parsed::Incomplete);
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4"), Parsed::Incomplete);
        assert!(matches!(parse(b"GET / HTTP/1.1\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse(&[b'P'; 200]), Parsed::Invalid(_)));
        let long = [b"PROXY TCP4 ".as_slice(), &[b'1'; 120]].concat();
        assert!(matches!(parse(&long), Parsed::Invalid(_)));
        for bad in [
            "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 70000 2\r\n",
            "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        ] {
            assert!(matches!(parse(bad.as_bytes()), Parsed::Invalid(_)), "{bad}");
        }
    }

    #[test]
    fn v2_round_trip_with_tlvs_and_crc() {
        let src: SocketAddr = "10.1.2.3:4000".parse().unwrap();
        let dst: SocketAddr = "10.9.9.9:80".parse().unwrap();
        let wire = encode_v2(
            src,
            dst,
            &[(tlv::AUTHORITY, b"example.com"), (tlv::UNIQUE_ID, b"abc")],
            true,
        );
        let mut buf = wire.clone();
        buf.extend_from_slice(b"payload");
        let (h, len) = done(parse(&buf));
        assert_eq!(len, wire.len());
        assert_eq!(
            (h.version, h.source, h.destination),
            (2, Some(src), Some(dst))
        );
        assert_eq!(h.tlv(tlv::AUTHORITY), Some(b"example.com".as_slice()));
        assert_eq!(h.tlv(tlv::UNIQUE_ID), Some(b"abc".as_slice()));
        // Every shorter prefix is incomplete, never a header or an error.
        for cut in 0..wire.len() {
            assert_eq!(parse(&wire[..cut]), Parsed::Incomplete, "cut at {cut}");
        }
        // A changed byte breaks the checksum.
        let mut bad = wire.clone();
        bad[20] ^= 1;
        assert!(matches!(parse(&bad), Parsed::Invalid(_)));
    }

    #[test]
    fn v2_ipv6_local_and_ssl_sub_tlvs() {
        let src: SocketAddr = "[2001:db8::5]:1234".parse().unwrap();
        let dst: SocketAddr = "[::1]:443".parse().unwrap();
        let mut ssl = vec![0x01, 0, 0, 0, 0];
        push_tlv(&mut ssl, tlv::SSL_VERSION, b"TLSv1.3");
        push_tlv(&mut ssl, tlv::SSL_CN, b"client");
        let (h, _) = done(parse(&encode_v2(src, dst, &[(tlv::SSL, &ssl)], false)));
        assert_eq!(h.source, Some(src));
        assert_eq!(h.ssl_sub_tlv(tlv::SSL_CN), Some(b"client".as_slice()));
        assert_eq!(h.ssl_sub_tlv(tlv::SSL_VERSION), Some(b"TLSv1.3".as_slice()));
        // LOCAL: a health check from the balancer; the connection's own addresses stay.
        let mut local = encode_v2(src, dst, &[], false);
        local[12] = 0x20;
        assert_eq!(done(parse(&local)).0.source, None);
        let mut wrong = local.clone();
        wrong[12] = 0x31;
        assert!(matches!(parse(&wrong), Parsed::Invalid(_)));
        // A TLV running past the end.
        let mut trunc = encode_v2(src, dst, &[(tlv::NOOP, b"xy")], false);
        let n = trunc.len();
        trunc[n - 3] = 9;
        assert!(matches!(parse(&trunc), Parsed::Invalid(_)));
    }

    #[test]
    fn v1_encodes_mixed_families_as_tcp6() {
        let v4: SocketAddr = "1.2.3.4:5".parse().unwrap();
        let v6: SocketAddr = "[::1]:6".parse().unwrap();
        assert_eq!(encode_v1(v4, v4), b"PROXY TCP4 1.2.3.4 1.2.3.4 5 5\r\n");
        assert_eq!(
            String::from_utf8(encode_v1(v4, v6)).unwrap(),
            "PROXY TCP6 ::ffff:1.2.3.4 ::1 5 6\r\n"
        );
    }
}
