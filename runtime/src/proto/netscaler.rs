//! The NetScaler Client IP insertion header (`accept-netscaler-cip <magic>`): a NetScaler
//! sends it first on each connection, carrying the IP and TCP headers of the client's own
//! connection, from which the client's and destination's addresses are taken. Two forms
//! exist, both after the agreed 4-byte magic number (big-endian):
//! - legacy: a 4-byte length of what follows, then the IP and TCP headers;
//! - standard: a 4-byte CIP length, a 2-byte type (byte 8 is 0), a 2-byte length of what
//!   follows, then the IP and TCP headers.
//!
//! As in HAProxy, the header must have arrived whole with the connection's first bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A header read: the original connection's ends and how many bytes it takes.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientIp {
    pub source: SocketAddr,
    pub destination: SocketAddr,
    pub len: usize,
}

const TCP: u8 = 6;

/// Reads the header at the start of `buf` (all the bytes available); `Err` names why the
/// connection is refused.
pub fn parse(buf: &[u8], magic: u32) -> Result<ClientIp, &'static str> {
    let u16_at = |at: usize| {
        buf.get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        buf.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if buf.is_empty() {
        return Err("the connection closed before its NetScaler header");
    }
    if buf.len() < 12 {
        return Err("truncated NetScaler header");
    }
    if u32_at(0) != Some(magic) {
        return Err("bad NetScaler magic number");
    }
    let (start, len) = if buf[8] & 0xD0 == 0x40 {
        (8, u32_at(4).unwrap_or(0) as usize)
    } else if buf[8] == 0 {
        (12, usize::from(u16_at(10).unwrap_or(0)))
    } else {
        return Err("unknown NetScaler header form");
    };
    if buf.len() < 20 {
        return Err("truncated NetScaler header");
    }
    let ip = &buf[start..];
    let (source, destination, tcp_at) = match ip[0] >> 4 {
        4 => {
            if buf.len() < 40 || buf.len() < len {
                return Err("truncated NetScaler header");
            }
            if ip[9] != TCP {
                return Err("the NetScaler header is not of a TCP connection");
            }
            let v4 =
                |at: usize| IpAddr::V4(Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]));
            (v4(12), v4(16), usize::from(ip[0] & 0x0F) * 4)
        }
        6 => {
            if buf.len() < 60 || buf.len() < len {
                return Err("truncated NetScaler header");
            }
            if ip[6] != TCP {
                return Err("the NetScaler header is not of a TCP connection");
            }
            let v6 = |at: usize| {
                let octets: [u8; 16] = ip[at..at + 16].try_into().unwrap_or([0; 16]);
                IpAddr::V6(Ipv6Addr::from(octets))
            };
            (v6(8), v6(24), 40)
        }
        _ => return Err("the NetScaler header is not of IPv4 or IPv6"),
    };
    let ports = ip
        .get(tcp_at..tcp_at + 4)
        .ok_or("truncated NetScaler header")?;
    let port = |at: usize| u16::from_be_bytes([ports[at], ports[at + 1]]);
    let total = start + len;
    if total > buf.len() {
        return Err("truncated NetScaler header");
    }
    Ok(ClientIp {
        source: SocketAddr::new(source, port(0)),
        destination: SocketAddr::new(destination, port(2)),
        len: total,
    })
}

/// A header for `source` → `destination` in either form, as a NetScaler sends it (for tests,
/// and for whoever needs to speak to such a listener).
pub fn header(magic: u32, source: SocketAddr, destination: SocketAddr, standard: bool) -> Vec<u8> {
    let mut ip = match (source.ip(), destination.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, TCP, 0, 0];
            h.extend(s.octets());
            h.extend(d.octets());
            h
        }
        (s, d) => {
            let octets = |a: IpAddr| match a {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            let mut h = vec![0x60, 0, 0, 0, 0, 20, TCP, 64];
            h.extend(octets(s));
            h.extend(octets(d));
            h
        }
    };
    // The TCP header: ports, then sequence numbers, offset and flags, window, checksum.
    ip.extend(source.port().to_be_bytes());
    ip.extend(destination.port().to_be_bytes());
    ip.extend([0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xFF, 0xFF, 0, 0, 0, 0]);
    let mut out = magic.to_be_bytes().to_vec();
    if standard {
        out.extend((12 + ip.len() as u32).to_be_bytes());
        out.extend([0, 1]);
        out.extend((ip.len() as u16).to_be_bytes());
    } else {
        out.extend((ip.len() as u32).to_be_bytes());
    }
    out.extend(ip);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_give_the_client_and_the_destination() {
        let src: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        let dst: SocketAddr = "198.51.100.1:443".parse().unwrap();
        for standard in [false, true] {
            let mut h = header(0x1234, src, dst, standard);
            let len = h.len();
            h.extend(b"GET / HTTP/1.1\r\n");
            let got = parse(&h, 0x1234).unwrap();
            assert_eq!((got.source, got.destination, got.len), (src, dst, len));
            assert_eq!(parse(&h, 0x1235), Err("bad NetScaler magic number"));
            assert!(parse(&h[..30], 0x1234).is_err());
        }
        let src6: SocketAddr = "[2001:db8::7]:5000".parse().unwrap();
        let dst6: SocketAddr = "[2001:db8::1]:80".parse().unwrap();
        let h = header(7, src6, dst6, true);
        assert_eq!(parse(&h, 7).unwrap().source, src6);
        assert!(parse(&[], 7).is_err());
    }
}
