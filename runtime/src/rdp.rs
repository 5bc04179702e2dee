//! The RDP cookie of a Remote Desktop connection request (`req.rdp_cookie`,
//! `req.rdp_cookie_cnt`): after the 11 bytes of its TPKT and X.224 headers, a
//! `Cookie: <name>=<value>\r\n` line (`mstshash=<user>` from Microsoft's clients).

/// What the client's first bytes hold.
#[derive(Debug, PartialEq, Eq)]
pub enum RdpCookie {
    Found(String),
    /// Not enough bytes yet to tell.
    TooShort,
    NotCookie,
}

/// The cookie `name` (any cookie when `name` is empty; names match without regard to case)
/// in `data`, read as HAProxy reads it.
pub fn rdp_cookie(data: &[u8], name: &str) -> RdpCookie {
    const HEADERS: usize = 11;
    const LABEL: &[u8] = b"Cookie:";
    if data.len() <= HEADERS + LABEL.len() {
        return RdpCookie::TooShort;
    }
    let mut rest = &data[HEADERS..];
    if !rest[..LABEL.len()].eq_ignore_ascii_case(LABEL) {
        return RdpCookie::NotCookie;
    }
    rest = &rest[LABEL.len()..];
    while let [b' ', tail @ ..] = rest {
        rest = tail;
    }
    if name.is_empty() {
        match rest.iter().position(|&c| matches!(c, b'=' | b'\r' | b'\n')) {
            None => return RdpCookie::TooShort,
            Some(at) if rest[at] != b'=' => return RdpCookie::NotCookie,
            Some(at) => rest = &rest[at + 1..],
        }
    } else {
        let n = name.len();
        if rest.len() <= n {
            return RdpCookie::TooShort;
        }
        if rest[n] != b'=' || !rest[..n].eq_ignore_ascii_case(name.as_bytes()) {
            return RdpCookie::NotCookie;
        }
        rest = &rest[n + 1..];
    }
    let end = rest.iter().position(|&c| c == b'\r').unwrap_or(rest.len());
    match rest.get(end..end + 2) {
        None => RdpCookie::TooShort,
        Some(b"\r\n") => RdpCookie::Found(String::from_utf8_lossy(&rest[..end]).into_owned()),
        Some(_) => RdpCookie::NotCookie,
    }
}

/// `persist rdp-cookie[(<name>)]`: the cookie's name (`msts` by default), or `None` for
/// another form.
pub fn persist_cookie_name(persist: &str) -> Option<String> {
    match persist {
        "rdp-cookie" => Some("msts".into()),
        p => p
            .strip_prefix("rdp-cookie(")
            .and_then(|n| n.strip_suffix(')'))
            .map(str::to_string),
    }
}

/// The server a persistence cookie names: `<address>.<port>.<rest>`, the IPv4 address and the
/// port being the numbers whose bytes in memory are those of the address and port in network
/// order, as HAProxy (on a little-endian host) reads them.
pub fn persisted_server(data: &[u8], name: &str) -> Option<std::net::SocketAddrV4> {
    let RdpCookie::Found(value) = rdp_cookie(data, name) else {
        return None;
    };
    let (addr, rest) = leading_number(&value);
    let rest = rest.strip_prefix('.')?;
    let (port, rest) = leading_number(rest);
    rest.strip_prefix('.')?;
    let ip = std::net::Ipv4Addr::from((addr as u32).to_le_bytes());
    Some(std::net::SocketAddrV4::new(ip, (port as u16).swap_bytes()))
}

/// `strtoul` in base 10: the number the text starts with (0 when none), and what follows.
fn leading_number(text: &str) -> (u64, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let n = text[..end].bytes().fold(0u64, |n, d| {
        n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
    });
    (n, &text[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persistence_cookie_names_an_address_and_a_port() {
        // 127.0.0.1 is 0x0100007f read from its bytes in order; port 3389 (0x0d3d) is 15629
        // (0x3d0d).
        let req =
            b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: msts=16777343.15629.0000\r\n";
        assert_eq!(
            persisted_server(req, "msts"),
            Some("127.0.0.1:3389".parse().unwrap())
        );
        assert_eq!(persisted_server(req, "mstshash"), None);
        let no_tail =
            b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: msts=16777343.15629\r\n";
        assert_eq!(persisted_server(no_tail, "msts"), None);
        assert_eq!(persist_cookie_name("rdp-cookie").as_deref(), Some("msts"));
        assert_eq!(persist_cookie_name("rdp-cookie(x)").as_deref(), Some("x"));
    }

    const REQUEST: &[u8] = b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x03\x00\x00\x00";

    #[test]
    fn reads_the_cookie_line() {
        assert_eq!(
            rdp_cookie(REQUEST, "mstshash"),
            RdpCookie::Found("alice".into())
        );
        assert_eq!(
            rdp_cookie(REQUEST, "MSTSHASH"),
            RdpCookie::Found("alice".into())
        );
        assert_eq!(rdp_cookie(REQUEST, ""), RdpCookie::Found("alice".into()));
        assert_eq!(rdp_cookie(REQUEST, "other"), RdpCookie::NotCookie);
        assert_eq!(rdp_cookie(&REQUEST[..30], "mstshash"), RdpCookie::TooShort);
        assert_eq!(
            rdp_cookie(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n", ""),
            RdpCookie::NotCookie
        );
    }
}
