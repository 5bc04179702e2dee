//! hapee's own keyed anonymizer (beyond HAProxy's `-dC`): every replacement is a valid value of
//! the same kind, and the same key always gives the same token for the same input, in configs,
//! logs and runtime output alike.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use xxhash_rust::xxh32::xxh32;
use xxhash_rust::xxh64::xxh64;

/// Counts of what was replaced, for `--report`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub names: u64,
    pub addresses: u64,
    pub hostnames: u64,
    pub paths: u64,
    pub strings: u64,
    pub emails: u64,
}

/// The keyed anonymizer.
#[derive(Clone, Debug)]
pub struct Anonymizer {
    key: u64,
    prefix_preserving: bool,
    pub report: Report,
    /// Per-kind 32-bit seeds, derived once from the key.
    seeds: [u32; 6],
}

const KINDS: [&str; 6] = ["name", "host", "str", "path", "email", "ipv4"];

/// Appends `v` as exactly `width` lower-case hexadecimal digits.
fn push_hex(out: &mut String, v: u32, width: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..width).rev() {
        out.push(HEX[((v >> (i * 4)) & 0xf) as usize] as char);
    }
}

/// Appends an IPv4 address in dotted form without allocating.
fn push_ipv4(out: &mut String, ip: Ipv4Addr) {
    for (i, o) in ip.octets().iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let o = *o;
        if o >= 100 {
            out.push((b'0' + o / 100) as char);
        }
        if o >= 10 {
            out.push((b'0' + o / 10 % 10) as char);
        }
        out.push((b'0' + o % 10) as char);
    }
}

/// The key of a key given as text (`hapee-anon --key`, the Runtime API's `set anon on <n>`).
pub fn key_from_text(text: &str) -> u64 {
    xxh64(text.as_bytes(), 0)
}

impl Anonymizer {
    pub fn new(key: u64) -> Self {
        let seeds = KINDS.map(|k| (key as u32) ^ xxh32(k.as_bytes(), (key >> 32) as u32));
        Anonymizer {
            key,
            prefix_preserving: false,
            report: Report::default(),
            seeds,
        }
    }

    fn seed(&self, kind: &str) -> u32 {
        match KINDS.iter().position(|k| *k == kind) {
            Some(i) => self.seeds[i],
            None => (self.key as u32) ^ xxh32(kind.as_bytes(), (self.key >> 32) as u32),
        }
    }

    /// [`Anonymizer::name`] appended to `out`.
    pub fn name_into(&mut self, out: &mut String, s: &str) {
        self.report.names += 1;
        out.push('n');
        push_hex(out, xxh32(s.as_bytes(), self.seeds[0]), 8);
    }

    /// [`Anonymizer::hostname`] appended to `out`.
    pub fn hostname_into(&mut self, out: &mut String, s: &str) {
        self.report.hostnames += 1;
        out.push('h');
        let h = if s.bytes().any(|b| b.is_ascii_uppercase()) {
            xxh32(s.to_ascii_lowercase().as_bytes(), self.seeds[1])
        } else {
            xxh32(s.as_bytes(), self.seeds[1])
        };
        push_hex(out, h, 8);
        out.push_str(".example.invalid");
    }

    /// [`Anonymizer::string`] appended to `out`.
    pub fn string_into(&mut self, out: &mut String, s: &str) {
        self.report.strings += 1;
        out.push('s');
        push_hex(out, xxh32(s.as_bytes(), self.seeds[2]), 8);
    }

    /// [`Anonymizer::path`] appended to `out`.
    pub fn path_into(&mut self, out: &mut String, s: &str) {
        self.report.paths += 1;
        for (i, seg) in s.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if !seg.is_empty() {
                out.push('p');
                push_hex(out, xxh32(seg.as_bytes(), self.seeds[3]) & 0xff_ffff, 6);
            }
        }
    }

    /// [`Anonymizer::ip`] appended to `out`.
    pub fn ip_into(&mut self, out: &mut String, ip: IpAddr) {
        match self.ip(ip) {
            IpAddr::V4(v4) => push_ipv4(out, v4),
            IpAddr::V6(v6) => {
                use std::fmt::Write as _;
                let _ = write!(out, "{v6}");
            }
        }
    }

    /// Maps addresses so that two addresses sharing an n-bit prefix map to addresses sharing an
    /// n-bit prefix (Crypto-PAn's construction with a keyed hash as the pseudo-random function).
    pub fn prefix_preserving(mut self, on: bool) -> Self {
        self.prefix_preserving = on;
        self
    }

    fn h32(&self, kind: &str, s: &str) -> u32 {
        xxh32(s.as_bytes(), self.seed(kind))
    }

    fn h64(&self, kind: &str, s: &[u8]) -> u64 {
        xxh64(s, self.key ^ xxh64(kind.as_bytes(), 0))
    }

    /// A configuration object name (proxy, server, ACL, table…): stays a valid name.
    pub fn name(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(9);
        self.name_into(&mut out, s);
        out
    }

    /// A host name: stays a host name, in a domain reserved for documentation.
    pub fn hostname(&mut self, s: &str) -> String {
        self.report.hostnames += 1;
        format!(
            "h{:08x}.example.invalid",
            self.h32("host", &s.to_ascii_lowercase())
        )
    }

    /// A free string: letters and digits only, so it stays valid as a pattern, header value or
    /// regex.
    pub fn string(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(9);
        self.string_into(&mut out, s);
        out
    }

    /// A path or URL path: every segment replaced, slashes and the shape kept.
    pub fn path(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 8);
        self.path_into(&mut out, s);
        out
    }

    pub fn email(&mut self, s: &str) -> String {
        self.report.emails += 1;
        format!("u{:08x}@example.invalid", self.h32("email", s))
    }

    pub fn ip(&mut self, ip: IpAddr) -> IpAddr {
        self.report.addresses += 1;
        match ip {
            IpAddr::V4(v4) => IpAddr::V4(self.ipv4(v4)),
            IpAddr::V6(v6) => IpAddr::V6(self.ipv6(v6)),
        }
    }

    fn ipv4(&self, ip: Ipv4Addr) -> Ipv4Addr {
        let bits = u32::from(ip);
        if self.prefix_preserving {
            return Ipv4Addr::from(self.pan(bits as u128, 32) as u32);
        }
        // Into 10.0.0.0/8 so the result is a private, harmless address.
        let h = xxh32(&bits.to_be_bytes(), self.seeds[5]) & 0x00ff_ffff;
        Ipv4Addr::from(0x0a00_0000 | h)
    }

    fn ipv6(&self, ip: Ipv6Addr) -> Ipv6Addr {
        let bits = u128::from(ip);
        if self.prefix_preserving {
            return Ipv6Addr::from(self.pan(bits, 128));
        }
        // Into fd00::/8 (unique local addresses).
        let h = self.h64("ipv6", &bits.to_be_bytes());
        Ipv6Addr::from(
            (0xfdu128 << 120)
                | (u128::from(h) << 56 >> 8)
                | u128::from(self.h32("ipv6b", &bits.to_string())),
        )
    }

    /// Crypto-PAn: bit i of the output is bit i of the input flipped by a keyed function of the
    /// first i input bits.
    fn pan(&self, bits: u128, width: u32) -> u128 {
        let mut out = 0u128;
        for i in 0..width {
            let prefix = if i == 0 { 0 } else { bits >> (width - i) };
            let flip = self.h64(
                "pan",
                &[&prefix.to_be_bytes()[..], &i.to_be_bytes()[..]].concat(),
            ) & 1;
            let bit = (bits >> (width - 1 - i)) & 1;
            out = (out << 1) | (bit ^ flip as u128);
        }
        out
    }

    /// An address with an optional port, IPv6 in brackets or bare: the port is kept.
    pub fn address_text(&mut self, s: &str) -> Option<String> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Some(self.ip(ip).to_string());
        }
        if let Some(rest) = s.strip_prefix('[') {
            let (ip, port) = rest.split_once(']')?;
            let ip: Ipv6Addr = ip.parse().ok()?;
            return Some(format!("[{}]{port}", self.ipv6(ip)));
        }
        let (host, port) = s.rsplit_once(':')?;
        if !port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let ip: Ipv4Addr = host.parse().ok()?;
        self.report.addresses += 1;
        Some(format!("{}:{port}", self.ipv4(ip)))
    }
}

/// Whether `s` looks like a DNS host name (at least one dot, a letter in the last label).
pub fn looks_like_hostname(s: &str) -> bool {
    // One pass, no allocation: labels of letters, digits and '-', at least two of them, the last
    // one with a letter and two characters or more.
    let b = s.as_bytes();
    if b.is_empty() || b[0] == b'.' || b[b.len() - 1] == b'.' {
        return false;
    }
    let (mut dots, mut label_len, mut label_alpha, mut prev_dot) = (0, 0usize, false, false);
    for &c in b {
        if c == b'.' {
            if prev_dot {
                return false;
            }
            dots += 1;
            label_len = 0;
            label_alpha = false;
            prev_dot = true;
        } else if c.is_ascii_alphanumeric() || c == b'-' {
            label_len += 1;
            label_alpha |= c.is_ascii_alphabetic();
            prev_dot = false;
        } else {
            return false;
        }
    }
    dots >= 1 && label_alpha && label_len >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistent_and_keyed() {
        let mut a = Anonymizer::new(1);
        let mut b = Anonymizer::new(2);
        assert_eq!(a.name("web"), a.name("web"));
        assert_ne!(a.name("web"), b.name("web"));
        assert!(a.hostname("shop.example.org").ends_with(".example.invalid"));
        assert_eq!(a.path("/a/b?x").matches('/').count(), 2);
        let ip: IpAddr = "127.1.1.2".parse().unwrap();
        assert_ne!(a.ip(ip), ip);
        assert!(a
            .address_text("192.168.1.10:443")
            .unwrap()
            .ends_with(":443"));
    }

    #[test]
    fn prefix_preserving_keeps_subnets() {
        let a = Anonymizer::new(7).prefix_preserving(true);
        let x = a.ipv4("192.168.1.10".parse().unwrap());
        let y = a.ipv4("192.168.1.200".parse().unwrap());
        let z = a.ipv4("10.0.0.1".parse().unwrap());
        assert_eq!(
            u32::from(x) >> 8,
            u32::from(y) >> 8,
            "same /24 stays the same /24"
        );
        assert_ne!(u32::from(x) >> 24, u32::from(z) >> 24);
    }
}
