//! HAProxy's keyed hashes: `HA_ANON` (XXH32 seeded with the key, low 24 bits as `%06x`), the
//! `ID(…)`/`PATH(…)` forms, and `hash_ipanon`'s address rules.

use hapee_compiler::address::{self, Family, Port, Rules};
use hapee_compiler::syntax::Environment;
use std::net::IpAddr;
use xxhash_rust::xxh32::xxh32;

/// An anonymization key; 0 means "do not anonymize".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key(pub u32);

impl Key {
    /// Parses a key like HAProxy's `atoll()` stored in a `u32`: leading sign and digits, wrapped
    /// modulo 2^32; anything non-numeric gives 0.
    pub fn parse(text: &str) -> Key {
        Key(hapee_compiler::ir::values::atol(text) as u32)
    }
}

/// `HA_ANON`: the 24-bit keyed hash of `s`.
pub fn hash_token(key: Key, s: &str) -> u32 {
    xxh32(s.as_bytes(), key.0) & 0x00ff_ffff
}

/// `hash_anon`: `prefix` + `%06x` + `suffix`, or `s` unchanged when empty, a single space, or
/// when the key is 0.
pub fn hash_anon(key: Key, s: &str, prefix: &str, suffix: &str) -> String {
    if key.0 == 0 || s.is_empty() || s == " " {
        return s.to_string();
    }
    format!("{prefix}{:06x}{suffix}", hash_token(key, s))
}

/// `hash_ipanon`: hides an address, keeping loopback, broadcast, wildcard, standard streams and
/// inherited file descriptors readable. Host names are not resolved here, so they are hashed as
/// plain strings (as HAProxy does for names it cannot resolve).
pub fn hash_ipanon(key: Key, s: &str, has_port: bool, env: &dyn Environment) -> String {
    if key.0 == 0 {
        return s.to_string();
    }
    if s == "localhost"
        || s == "stdout"
        || s == "stderr"
        || s.starts_with("fd@")
        || s.starts_with("sockpair@")
    {
        return s.to_string();
    }
    // HAProxy reads the address as one a connection could be made to: datagram-only
    // families (UDP, QUIC) have no connect, so the word is hashed whole.
    if ["udp@", "udp4@", "udp6@", "quic4@", "quic6@", "uxdg@"]
        .iter()
        .any(|p| s.starts_with(p))
    {
        return hash_anon(key, s, "", "");
    }
    let expanded = address::env_expand(s, env);
    let bare = || hash_anon(key, s, "", "");
    let rules = Rules {
        port_ok: has_port,
        port_mandatory: false,
        port_range: true,
        port_offset: true,
        names: true,
        any_name: false,
        fd: true,
        stream_only: false,
    };
    let Ok(addr) = address::parse(&expanded, rules) else {
        return bare();
    };
    let port = match addr.port {
        Port::Range { low, .. } => i64::from(low),
        // The offset is kept in the address's 16-bit port field: -1000 reads as 64536.
        Port::Offset { offset } => i64::from(offset as u16),
        Port::None => 0,
    };
    match (addr.family, addr.ip) {
        (Family::Unix | Family::Abstract, _) => bare(),
        (Family::Fd | Family::SockPair, _) => s.to_string(),
        (_, Some(IpAddr::V4(ip))) => {
            let text = ip.to_string();
            if text.starts_with("127") || text.starts_with("255") || text.starts_with('0') {
                return s.to_string();
            }
            with_port(format!("IPV4({:06x})", hash_token(key, &text)), port)
        }
        (_, Some(IpAddr::V6(ip))) => {
            let text = inet6_text(ip);
            if text == "::1" {
                return s.to_string();
            }
            with_port(format!("IPV6({:06x})", hash_token(key, &text)), port)
        }
        // `localhost` resolves to a loopback address, which stays readable.
        (_, None) if addr.host.eq_ignore_ascii_case("localhost") => s.to_string(),
        (_, None) => bare(),
    }
}

/// An IPv6 address as the C library's `inet_ntop` writes it: as Rust does, except that an
/// IPv4-compatible address (`::1.1.1.1`, 96 zero bits then a non-zero pair) keeps its dotted
/// tail.
fn inet6_text(ip: std::net::Ipv6Addr) -> String {
    let s = ip.segments();
    if s[..6].iter().all(|&w| w == 0) && s[6] != 0 {
        let [.., a, b, c, d] = ip.octets();
        return format!("::{a}.{b}.{c}.{d}");
    }
    ip.to_string()
}

fn with_port(base: String, port: i64) -> String {
    if port != 0 {
        format!("{base}:{port}")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hapee_compiler::syntax::MapEnv;

    #[test]
    fn keys_wrap_like_atoll_into_u32() {
        assert_eq!(Key::parse("4294967303"), Key(7));
        assert_eq!(Key::parse("-1"), Key(4294967295));
        assert_eq!(Key::parse("line"), Key(0));
        assert_eq!(Key::parse("123456"), Key(123456));
    }

    #[test]
    fn matches_the_documented_examples() {
        let k = Key(1234);
        let env = MapEnv::default();
        assert_eq!(hash_anon(k, "www", "ID(", ")"), "ID(361f60)");
        assert_eq!(hash_anon(k, "app1", "ID(", ")"), "ID(461ee9)");
        assert_eq!(hash_ipanon(k, ":80", true, &env), ":80");
        assert_eq!(
            hash_ipanon(k, "192.168.1.10:443", true, &env),
            "IPV4(a94ee8):443"
        );
        assert_eq!(
            hash_ipanon(k, "2001:db8::1:8443", true, &env),
            "IPV6(6671b5):8443"
        );
        assert_eq!(hash_ipanon(k, "/var/run/www.sock", true, &env), "7f8d9a");
        assert_eq!(
            hash_ipanon(k, "localhost:8080", true, &env),
            "localhost:8080"
        );
        assert_eq!(
            hash_ipanon(k, "unresolvable-host.invalid:80", true, &env),
            "b4820c"
        );
        assert_eq!(
            hash_ipanon(k, "10.0.0.5:514", true, &env),
            "IPV4(1ba2c2):514"
        );
        assert_eq!(hash_anon(k, "admin:secret", "", ""), "1c30ec");
    }

    /// HAProxy 2.7.0's `-dC123` on `server a [$NOPE_X]:5433` and `server b []:5434`: empty
    /// brackets do not parse as an address, so the word is hashed as written.
    #[test]
    fn empty_brackets_are_hashed_as_written() {
        let k = Key(123);
        let env = MapEnv::default();
        assert_eq!(hash_ipanon(k, "[$NOPE_X]:5433", true, &env), "c7e26c");
        assert_eq!(hash_ipanon(k, "[]:5434", true, &env), "d58518");
    }

    /// HAProxy 2.7.0's `-dC123` on addresses of its own tests/conf files: an IPv4-compatible
    /// IPv6 address hashed in its dotted form, a negative port offset as its 16-bit value,
    /// datagram-only families hashed whole.
    #[test]
    fn addresses_as_haproxy_prints_them() {
        let k = Key(123);
        let env = MapEnv::default();
        assert_eq!(
            hash_ipanon(k, "::1.1.1.1:80", true, &env),
            "IPV6(44d71e):80"
        );
        assert_eq!(
            hash_ipanon(k, "1.1.1.4:-1000", true, &env),
            "IPV4(bb38e3):64536"
        );
        assert_eq!(hash_ipanon(k, "udp@:11013", true, &env), "fc6cae");
    }
}
