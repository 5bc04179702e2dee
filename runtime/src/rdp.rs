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

#[cfg(test)]
mod tests {
    use super::*;

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
