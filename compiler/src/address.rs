//! Address syntax of `bind`, `server`, `log`, `peer`, `nameserver`, `source` and `stats socket`
//! lines, with HAProxy's `str2sa_range` rules: protocol prefixes, UNIX paths, IPv4/IPv6 literals,
//! host names, ports, port ranges and port offsets.
//!
//! Pure parsing only: host names are accepted as names and never resolved here (the compiler does
//! no network I/O). The runtime, the checker and the anonymizer share this one parser.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// No family forced: IPv4 or IPv6 literal, or a host name.
    Unspec,
    Inet,
    Inet6,
    Unix,
    /// Linux abstract namespace socket (`abns@`).
    Abstract,
    /// An inherited file descriptor (`fd@N`).
    Fd,
    /// A socket pair end received over a UNIX socket (`sockpair@N`).
    SockPair,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Stream,
    Datagram,
    /// QUIC over UDP (`quic4@`, `quic6@`).
    Quic,
}

/// Where the port of an address comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Port {
    /// No port written (servers then use the client's destination port).
    None,
    Range {
        low: u16,
        high: u16,
    },
    /// `+N`/`-N`: relative to the client's destination port (servers only).
    Offset {
        offset: i32,
    },
}

/// A parsed address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Address {
    /// The prefix as written (`ipv4@`, `quic4@`, `unix@`, … or empty).
    pub prefix: &'static str,
    pub family: Family,
    pub transport: Transport,
    /// Host part: an IP literal, a host name, a socket path, or a file descriptor number.
    /// Inline up to 24 bytes: no allocation for the addresses of thousands of servers.
    pub host: compact_str::CompactString,
    /// The IP when `host` is a literal (`*` and empty mean the wildcard address).
    pub ip: Option<IpAddr>,
    pub port: Port,
}

impl Address {
    /// Whether the host is a name that would need resolution.
    pub fn is_hostname(&self) -> bool {
        matches!(self.family, Family::Unspec | Family::Inet | Family::Inet6) && self.ip.is_none()
    }
}

/// What the context accepts (HAProxy's `PA_O_*` options).
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules {
    pub port_ok: bool,
    pub port_mandatory: bool,
    pub port_range: bool,
    pub port_offset: bool,
    /// Host names are accepted (resolved later by whoever uses the address).
    pub names: bool,
    /// Any text that is not an address is kept as a name to resolve later, whatever its
    /// characters: HAProxy only finds such a name bad when it prepares its resolution
    /// (servers, see [`dns_name_ok`]) or when resolving it fails.
    pub any_name: bool,
    /// `fd@` is accepted.
    pub fd: bool,
    /// Only stream sockets are accepted: a datagram address (`udp@`, `uxdg@`, `dgram+…`) is
    /// refused once the rest of it has been read.
    pub stream_only: bool,
}

impl Rules {
    /// `bind` lines: port mandatory, ranges allowed, names resolved at start-up, fds allowed.
    pub const BIND: Rules = Rules {
        port_ok: true,
        port_mandatory: true,
        port_range: true,
        port_offset: false,
        names: true,
        any_name: false,
        fd: true,
        stream_only: true,
    };
    /// `server` lines: optional port or offset, names allowed.
    pub const SERVER: Rules = Rules {
        port_ok: true,
        port_mandatory: false,
        port_range: false,
        port_offset: true,
        names: true,
        any_name: true,
        fd: false,
        stream_only: true,
    };
    /// `nameserver` lines of a resolvers section: port mandatory, names resolved while the line
    /// is read.
    pub const NAMESERVER: Rules = Rules {
        port_ok: true,
        port_mandatory: true,
        port_range: false,
        port_offset: false,
        names: true,
        any_name: false,
        fd: false,
        stream_only: false,
    };
    /// `mailer` lines of a mailers section: a stream address with its port, names resolved
    /// while the line is read.
    pub const MAILER: Rules = Rules {
        port_ok: true,
        port_mandatory: true,
        port_range: false,
        port_offset: false,
        names: true,
        any_name: false,
        fd: false,
        stream_only: true,
    };
    /// The address a server's `usesrc` shows as the connection's source: an optional port,
    /// neither a range nor an offset.
    pub const USESRC: Rules = Rules {
        port_ok: true,
        port_mandatory: false,
        port_range: false,
        port_offset: false,
        names: true,
        any_name: false,
        fd: false,
        stream_only: true,
    };
    /// `log` targets and similar: optional port, names allowed, fds allowed.
    pub const LOG: Rules = Rules {
        port_ok: true,
        port_mandatory: false,
        port_range: false,
        port_offset: false,
        names: true,
        any_name: false,
        fd: true,
        stream_only: false,
    };
}

const PREFIXES: [(&str, Family, Option<Transport>); 17] = [
    ("unix@", Family::Unix, None),
    ("uxdg@", Family::Unix, Some(Transport::Datagram)),
    ("uxst@", Family::Unix, Some(Transport::Stream)),
    ("abns@", Family::Abstract, None),
    ("ip@", Family::Unspec, None),
    ("ipv4@", Family::Inet, None),
    ("ipv6@", Family::Inet6, None),
    ("tcp4@", Family::Inet, Some(Transport::Stream)),
    ("udp4@", Family::Inet, Some(Transport::Datagram)),
    ("tcp6@", Family::Inet6, Some(Transport::Stream)),
    ("udp6@", Family::Inet6, Some(Transport::Datagram)),
    ("tcp@", Family::Unspec, Some(Transport::Stream)),
    ("udp@", Family::Unspec, Some(Transport::Datagram)),
    ("quic4@", Family::Inet, Some(Transport::Quic)),
    ("quic6@", Family::Inet6, Some(Transport::Quic)),
    ("fd@", Family::Fd, None),
    ("sockpair@", Family::SockPair, None),
];

/// Longest UNIX socket path (`sun_path` less HAProxy's temporary suffix `.<pid>.<bak|tmp>`).
const MAX_UNIX_PATH: usize = 107 - (1 + 5 + 1 + 3);

/// Expands `$NAME` and `${NAME}` anywhere in an address, like HAProxy's `env_expand` does before
/// parsing addresses (unset variables become empty).
pub fn env_expand<'a>(
    text: &'a str,
    env: &dyn crate::syntax::Environment,
) -> std::borrow::Cow<'a, str> {
    if !text.as_bytes().contains(&b'$') {
        return std::borrow::Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let Some(d) = text[i..].find('$').map(|p| p + i) else {
            out.push_str(&text[i..]);
            break;
        };
        out.push_str(&text[i..d]);
        let mut start = d + 1;
        if b.get(start) == Some(&b'{') {
            start += 1;
        }
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        if let Some(v) = env.var(&text[start..end]) {
            out.push_str(&v);
        }
        i = if b.get(end) == Some(&b'}') && start > d + 1 {
            end + 1
        } else {
            end
        };
    }
    std::borrow::Cow::Owned(out)
}

/// Whether HAProxy ends this address error with a line break of its own (its `str2sa_range`
/// does for a bad host, a bad port character and a socket type the line does not take): the
/// words a caller puts after the message then go to a line of their own.
pub fn message_ends_line(message: &str) -> bool {
    message.starts_with("invalid address:")
        || message.starts_with("invalid character '")
        || message.starts_with("stream-type address")
        || message.starts_with("dgram-type address")
        || message.contains("resolves to an empty address")
}

/// [`parse`] of one address as written, once its variables are expanded ([`env_expand`]):
/// HAProxy's messages quote the address as it is written, `$PORT` and all.
pub fn parse_written(
    written: &str,
    env: &dyn crate::syntax::Environment,
    rules: Rules,
) -> Result<Address, String> {
    let expanded = env_expand(written, env);
    parse(&expanded, rules).map_err(|e| {
        let quoted = format!("'{expanded}'");
        match e.rfind(&quoted) {
            Some(at) if written != expanded => {
                format!("{}'{written}'{}", &e[..at], &e[at + quoted.len()..])
            }
            _ => e,
        }
    })
}

/// Parses one address (not a comma list) with HAProxy's wording for errors.
pub fn parse(text: &str, rules: Rules) -> Result<Address, String> {
    // Most addresses of a large configuration are `a.b.c.d:port`: read in one pass.
    if let Some((ip, port, colon)) = ipv4_with_port(text).filter(|_| rules.port_ok) {
        return Ok(Address {
            prefix: "",
            family: Family::Unspec,
            transport: Transport::Stream,
            host: text[..colon].into(),
            ip: Some(IpAddr::V4(ip)),
            port: Port::Range {
                low: port,
                high: port,
            },
        });
    }
    parse_general(text, rules)
}

/// [`parse`] of any address.
fn parse_general(text: &str, rules: Rules) -> Result<Address, String> {
    if text.is_empty() {
        return Err(format!(
            "'{text}' resolves to an empty address (environment variable missing?)"
        ));
    }
    let mut rest = text;
    let mut transport = Transport::Stream;
    if let Some(r) = rest.strip_prefix("stream+") {
        rest = r;
    } else if let Some(r) = rest.strip_prefix("dgram+") {
        rest = r;
        transport = Transport::Datagram;
    }
    // Every prefix ends with '@': a plain `10.0.0.1:80` is not compared with the 17 of them.
    let prefixed = rest.contains('@');
    let found = PREFIXES
        .iter()
        .filter(|_| prefixed)
        .find(|(p, _, _)| rest.starts_with(p));
    let (prefix, family) = match found {
        Some(&(p, family, t)) => {
            rest = &rest[p.len()..];
            if let Some(t) = t {
                transport = t;
            }
            (p, family)
        }
        None if rest.starts_with('/') => ("", Family::Unix),
        None => ("", Family::Unspec),
    };
    let mut base = Address {
        prefix,
        family,
        transport,
        host: compact_str::CompactString::default(),
        ip: None,
        port: Port::None,
    };
    let address = match family {
        Family::Fd | Family::SockPair => {
            if rest.is_empty() || rest.parse::<u32>().is_err() {
                return Err(format!(
                    "file descriptor '{rest}' is not a valid integer in '{text}'"
                ));
            }
            if family == Family::Fd && !rules.fd {
                return Err(format!(
                    "a file descriptor is not acceptable here in '{text}'"
                ));
            }
            base.host = rest.into();
            Ok(base)
        }
        Family::Unix | Family::Abstract => {
            let max = if family == Family::Abstract {
                107
            } else {
                MAX_UNIX_PATH
            };
            if rest.len() > max {
                return Err(format!("socket path '{text}' too long (max {max})"));
            }
            base.host = rest.into();
            Ok(base)
        }
        Family::Unspec | Family::Inet | Family::Inet6 => parse_inet(text, rest, base, rules),
    }?;
    if rules.stream_only && address.transport == Transport::Datagram {
        return Err(format!("dgram-type address not acceptable in '{text}'"));
    }
    Ok(address)
}

/// `text` when it is a dotted IPv4 address and a port from 1 to 65535, both without leading zeros
/// (what the general path reads the same way): the address, the port and where the `:` is.
fn ipv4_with_port(text: &str) -> Option<(Ipv4Addr, u16, usize)> {
    /// Reads a decimal number of at most `digits` digits and no leading zero from `bytes[at..]`.
    fn number(bytes: &[u8], at: &mut usize, digits: usize) -> Option<u32> {
        let start = *at;
        let mut value = 0u32;
        while *at < bytes.len() && bytes[*at].is_ascii_digit() && *at - start < digits {
            value = value * 10 + u32::from(bytes[*at] - b'0');
            *at += 1;
        }
        let len = *at - start;
        (len > 0 && (len == 1 || bytes[start] != b'0')).then_some(value)
    }
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut octets = [0u8; 4];
    for (i, octet) in octets.iter_mut().enumerate() {
        if i > 0 {
            (bytes.get(at) == Some(&b'.')).then_some(())?;
            at += 1;
        }
        *octet = u8::try_from(number(bytes, &mut at, 3)?).ok()?;
    }
    let colon = at;
    (bytes.get(at) == Some(&b':')).then_some(())?;
    at += 1;
    let port = number(bytes, &mut at, 5)?;
    if at != bytes.len() || port == 0 {
        return None;
    }
    Some((Ipv4Addr::from(octets), u16::try_from(port).ok()?, colon))
}

fn parse_inet(text: &str, rest: &str, mut addr: Address, rules: Rules) -> Result<Address, String> {
    // The last ':' after any ']' separates the port.
    let cut = rest
        .char_indices()
        .rev()
        .find(|&(_, c)| c == ']' || c == ':');
    let (host, port_text) = match cut {
        Some((i, ':')) => {
            if !rules.port_ok {
                return Err(format!("port specification not permitted here in '{text}'"));
            }
            (&rest[..i], &rest[i + 1..])
        }
        _ => {
            if rules.port_mandatory {
                return Err(format!("missing port specification in '{text}'"));
            }
            (rest, "")
        }
    };
    addr.port = parse_port(text, port_text, rules)?;
    // Brackets hold an IPv6 literal only from "[::]" (4 bytes) up to 47 bytes, closed by
    // ']': anything else (`[]`, what `[$UNSET]` expands to) is a name, which resolves to
    // nothing, as HAProxy reads it.
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .filter(|_| (4..48).contains(&host.len()))
        .unwrap_or(host);
    addr.ip = if bare.is_empty() || bare == "*" {
        Some(match addr.family {
            Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        })
    } else {
        match addr.family {
            Family::Inet => bare.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
            Family::Inet6 => bare.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
            _ => bare.parse::<IpAddr>().ok(),
        }
    };
    addr.host = bare.into();
    // Only a host that is not an IP literal needs to be a name.
    let named = || rules.any_name || is_hostname(bare);
    if addr.ip.is_none() && !(rules.names && named()) {
        return Err(format!("invalid address: '{bare}' in '{text}'"));
    }
    Ok(addr)
}

fn parse_port(text: &str, port: &str, rules: Rules) -> Result<Port, String> {
    let first = port.chars().next();
    match first {
        None if rules.port_mandatory => Err(format!("missing port specification in '{text}'")),
        None => Ok(Port::None),
        Some(c) if c.is_ascii_digit() => {
            let (low_text, high_text) = match port.split_once('-') {
                Some((l, h)) => {
                    if !rules.port_range {
                        return Err(format!("port range not permitted here in '{text}'"));
                    }
                    (l, h)
                }
                None => (port, port),
            };
            let min = i64::from(rules.port_mandatory);
            let low = crate::ir::values::atol(low_text);
            // A single port (no range) is read once.
            let high = if std::ptr::eq(low_text, high_text) {
                low
            } else {
                crate::ir::values::atol(high_text)
            };
            if low < min || low > 65535 {
                return Err(format!("invalid port '{low_text}'"));
            }
            if high < min || high > 65535 {
                return Err(format!("invalid port '{high_text}'"));
            }
            if low > high {
                return Err(format!("invalid port range '{low}-{high}'"));
            }
            Ok(Port::Range {
                low: low as u16,
                high: high as u16,
            })
        }
        Some(sign @ ('+' | '-')) => {
            if !rules.port_offset {
                return Err(format!("port offset not permitted here in '{text}'"));
            }
            let n = crate::ir::values::atol(&port[1..]).clamp(0, 65535) as i32;
            Ok(Port::Offset {
                offset: if sign == '-' { -n } else { n },
            })
        }
        Some(c) => Err(format!(
            "invalid character '{c}' in port number '{port}' in '{text}'"
        )),
    }
}

/// Whether a server's host name can be turned into DNS labels, as HAProxy does when it prepares
/// the name's resolution while reading the line: no empty label (a leading dot or two dots in a
/// row; one trailing dot is allowed) and room for the encoded name in a 16 KiB buffer.
pub fn dns_name_ok(name: &str) -> bool {
    !name.starts_with('.') && !name.contains("..") && name.len() + 2 <= 16384
}

/// A plausible DNS name: labels of letters, digits, '-' and '_', separated by dots, whose last
/// label is not all digits (that would be a malformed IPv4 literal).
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && !s
            .rsplit('.')
            .next()
            .unwrap_or("")
            .bytes()
            .all(|b| b.is_ascii_digit())
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_quote_the_address_as_written() {
        let mut env = crate::syntax::MapEnv::default();
        env.0.insert("HOST".into(), "10.0.0.1".into());
        // An unset variable leaves the port empty; the message shows the variable's name.
        assert_eq!(
            parse_written("*:$PORT", &env, Rules::BIND).err().as_deref(),
            Some("missing port specification in '*:$PORT'")
        );
        // The host part is quoted as read, the whole address as written.
        assert_eq!(
            parse_written("${HOST}..x:80", &env, Rules::LOG)
                .err()
                .as_deref(),
            Some("invalid address: '10.0.0.1..x' in '${HOST}..x:80'")
        );
        assert!(parse_written("${HOST}:80", &env, Rules::BIND).is_ok());
    }

    /// Brackets too short for an IPv6 literal hold a name (HAProxy 2.7: "could not resolve
    /// address '[]'"), not the wildcard an empty host is.
    #[test]
    fn empty_brackets_are_a_name_not_the_wildcard() {
        let server = parse("[]:5433", Rules::SERVER).unwrap();
        assert_eq!((server.ip, &*server.host), (None, "[]"));
        assert!(parse("[]:80", Rules::BIND).map_or(true, |a| a.ip.is_none()));
        let any6 = parse("[::]:80", Rules::BIND).unwrap();
        assert_eq!(any6.ip, Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        assert_eq!(
            parse(":80", Rules::BIND).unwrap().ip,
            Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        );
    }

    #[test]
    fn listeners_and_servers_take_stream_addresses_only() {
        // HAProxy reads the whole address first, then refuses a datagram socket where only
        // stream ones are accepted; log targets and name servers take datagram ones.
        for text in [
            "udp@:11013",
            "udp6@:9001",
            "uxdg@/tmp/x.sock",
            "dgram+ipv4@:9000",
            "stream+udp@:9000",
        ] {
            assert_eq!(
                parse(text, Rules::BIND).err(),
                Some(format!("dgram-type address not acceptable in '{text}'"))
            );
        }
        assert_eq!(
            parse("udp@1.2.3.4:53", Rules::SERVER).err().as_deref(),
            Some("dgram-type address not acceptable in 'udp@1.2.3.4:53'")
        );
        // The port is read before the socket type.
        assert_eq!(
            parse("udp@:0", Rules::BIND).err().as_deref(),
            Some("invalid port '0'")
        );
        assert!(parse("udp@10.0.0.1:514", Rules::LOG).is_ok());
        assert!(parse("udp@10.0.0.1:53", Rules::NAMESERVER).is_ok());
        assert!(parse("tcp@:80", Rules::BIND).is_ok());
        assert!(parse("quic4@:443", Rules::BIND).is_ok());
    }

    #[test]
    fn every_prefix_ends_with_at() {
        // `parse` looks for a prefix only in addresses holding an '@'.
        assert!(PREFIXES.iter().all(|(p, _, _)| p.ends_with('@')));
    }

    #[test]
    fn bind_addresses() {
        let a = parse(":80", Rules::BIND).unwrap();
        assert_eq!(a.ip, Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        assert_eq!(a.port, Port::Range { low: 80, high: 80 });
        let v6 = parse("2001:db8::1:8443", Rules::BIND).unwrap();
        assert_eq!(v6.host, "2001:db8::1");
        assert_eq!(
            parse("[2001:db8::1]:80", Rules::BIND).unwrap().host,
            "2001:db8::1"
        );
        assert_eq!(
            parse("quic4@:443", Rules::BIND).unwrap().transport,
            Transport::Quic
        );
        assert_eq!(
            parse("10.0.0.1:8000-8010", Rules::BIND).unwrap().port,
            Port::Range {
                low: 8000,
                high: 8010
            }
        );
        assert_eq!(
            parse("/var/run/x.sock", Rules::BIND).unwrap().family,
            Family::Unix
        );
        assert_eq!(
            parse("10.0.0.1", Rules::BIND),
            Err("missing port specification in '10.0.0.1'".into())
        );
        assert_eq!(
            parse("10.0.0.1:99999", Rules::BIND),
            Err("invalid port '99999'".into())
        );
        assert_eq!(
            parse("10.0.0.1:x8", Rules::BIND).unwrap_err(),
            "invalid character 'x' in port number 'x8' in '10.0.0.1:x8'"
        );
        assert!(
            parse("10.0.0.1:8x", Rules::BIND).is_ok(),
            "atoi semantics: trailing junk ignored"
        );
        assert_eq!(
            parse("300.1.1.1:80", Rules::BIND).unwrap_err(),
            "invalid address: '300.1.1.1' in '300.1.1.1:80'"
        );
    }

    #[test]
    fn plain_ipv4_addresses_read_as_the_general_path_reads_them() {
        let texts = [
            "10.0.0.1:8080",
            "0.0.0.0:1",
            "255.255.255.255:65535",
            "256.0.0.1:80",
            "10.0.0.1:0",
            "10.0.0.1:65536",
            "10.0.0.1:080",
            "010.0.0.1:80",
            "10.0.0:80",
            "10.0.0.1.5:80",
            "10.0.0.1:",
            "10.0.0.1:8x",
            "10.0.0.1",
            "1.2.3.4:123456",
            "1.2.3.4444:80",
            "",
        ];
        for rules in [Rules::BIND, Rules::SERVER, Rules::NAMESERVER] {
            for text in texts {
                assert_eq!(parse(text, rules), parse_general(text, rules), "{text}");
            }
        }
    }

    #[test]
    fn server_addresses() {
        assert_eq!(parse("app.internal:8080", Rules::SERVER).unwrap().ip, None);
        assert_eq!(
            parse("10.0.0.1:+1000", Rules::SERVER).unwrap().port,
            Port::Offset { offset: 1000 }
        );
        assert_eq!(parse("10.0.0.1", Rules::SERVER).unwrap().port, Port::None);
        assert!(parse("10.0.0.1:80-90", Rules::SERVER)
            .unwrap_err()
            .contains("port range not permitted"));
        assert!(parse("fd@3", Rules::SERVER).is_err());
        // Whatever is not an address is a name for the resolver to refuse later.
        let placeholder = parse("<pg-node1-ip>:5432", Rules::SERVER).unwrap();
        assert_eq!(
            (placeholder.ip, placeholder.host.as_str()),
            (None, "<pg-node1-ip>")
        );
        assert_eq!(
            parse("bad host:80", Rules::SERVER).unwrap().host.as_str(),
            "bad host"
        );
        // Only empty labels keep HAProxy from preparing the name's resolution, which the
        // server line refuses in its own words.
        for name in ["a..b", ".a", "."] {
            let a = parse(&format!("{name}:80"), Rules::SERVER).unwrap();
            assert!(!dns_name_ok(&a.host), "{name}");
        }
        assert!(dns_name_ok("a.b.") && dns_name_ok("bad host"));
    }
}
