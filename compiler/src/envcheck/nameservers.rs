//! Nameservers as HAProxy tries them once the configuration is read: for each datagram one,
//! a UDP socket connected to its address. A connect the system refuses (no route to the
//! address, a broadcast address…) leaves the nameserver unusable, with a warning.

use crate::address::{self, Family, Rules};
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::ir::Config;
use crate::registry::SectionKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};

pub fn check(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for section in config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Resolvers)
    {
        let resolvers = section.name.as_ref().map_or("", |n| n.value.as_str());
        for d in section
            .lines
            .iter()
            .filter(|d| d.keyword == "nameserver" && d.prefix.is_none())
        {
            let (Some(name), Some(text)) = (d.args.first(), d.args.get(1)) else {
                continue;
            };
            let Some(to) = datagram_target(text) else {
                continue;
            };
            if let Err(e) = try_connect(to) {
                out.push(
                    Diagnostic::new(
                        "W270",
                        format!(
                            "resolvers '{resolvers}': can't connect socket for nameserver '{name}'."
                        ),
                    )
                    .at(d.span)
                    .form(HaproxyForm::Bare)
                    .label(format!("this machine cannot send to {to}: {e}"))
                    .help("give an address this machine has a route to (a broadcast address is refused)"),
                );
            }
        }
    }
    out
}

/// The address a datagram nameserver is queried at (`None`: a stream one, a UNIX socket, an
/// environment variable, or a name that does not resolve, all reported elsewhere).
fn datagram_target(text: &str) -> Option<SocketAddr> {
    if text.contains('$') || text.starts_with("stream+") {
        return None;
    }
    let a = address::parse(text, Rules::NAMESERVER).ok()?;
    // Unprefixed, a nameserver is queried over UDP; `tcp@` makes it a stream one.
    if a.prefix.starts_with("tcp")
        || !matches!(a.family, Family::Unspec | Family::Inet | Family::Inet6)
    {
        return None;
    }
    let address::Port::Range { low: port, .. } = a.port else {
        return None;
    };
    match a.ip {
        Some(ip) => Some(SocketAddr::new(ip, port)),
        None => (a.host.as_str(), port).to_socket_addrs().ok()?.next(),
    }
}

fn try_connect(to: SocketAddr) -> std::io::Result<()> {
    let local: IpAddr = match to {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    UdpSocket::bind((local, 0))?.connect(to)
}
