//! Scalar value parsers with HAProxy's exact semantics: durations, sizes, integers.
//!
//! These are pure functions; callers turn their errors into diagnostics with HAProxy's wording.

/// Unit a bare number is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Us,
    Ms,
    S,
}

/// Why a duration did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Offset of the first unexpected character.
    Char(usize),
    /// At or above 2^31 of the unit.
    Overflow,
    /// A non-zero value that rounds to zero.
    Underflow,
}

/// A parsed duration, plus the offset of trailing junk after a valid unit (HAProxy only warns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    pub value: u32,
    pub trailing_junk: Option<usize>,
}

/// Parses `10`, `10ms`, `5s`, `2m`, `1h`, `1d`, `100us` into `unit` units, rounding up like HAProxy.
pub fn parse_time(text: &str, unit: TimeUnit) -> Result<Duration, TimeError> {
    let bytes = text.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_digit) {
        return Err(TimeError::Char(0));
    }
    let (mut omult, mut odiv): (u128, u128) = match unit {
        TimeUnit::Us => (1_000_000, 1),
        TimeUnit::Ms => (1000, 1),
        TimeUnit::S => (1, 1),
    };
    let mut i = 0;
    let mut value: u128 = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        value = value
            .saturating_mul(10)
            .saturating_add((bytes[i] - b'0') as u128);
        i += 1;
    }
    let (mut imult, mut idiv): (u128, u128) = (1, 1);
    let mut trailing_junk = None;
    if i == bytes.len() {
        imult = 1;
        idiv = 1;
        omult = 1;
        odiv = 1;
    } else {
        match bytes[i] {
            b's' => {}
            b'u' if bytes.get(i + 1) == Some(&b's') => {
                idiv = 1_000_000;
                i += 1;
            }
            b'm' if bytes.get(i + 1) == Some(&b's') => {
                idiv = 1000;
                i += 1;
            }
            b'm' => imult = 60,
            b'h' => imult = 3600,
            b'd' => imult = 86400,
            _ => return Err(TimeError::Char(i)),
        }
        i += 1;
        if i < bytes.len() {
            trailing_junk = Some(i);
        }
    }
    if omult % idiv == 0 {
        omult /= idiv;
        idiv = 1;
    }
    if idiv % omult == 0 {
        idiv /= omult;
        omult = 1;
    }
    if imult % odiv == 0 {
        imult /= odiv;
        odiv = 1;
    }
    if odiv % imult == 0 {
        odiv /= imult;
        imult = 1;
    }
    let result = value.saturating_mul(imult * omult).div_ceil(idiv * odiv);
    if result >= 0x8000_0000 {
        return Err(TimeError::Overflow);
    }
    if result == 0 && value != 0 {
        return Err(TimeError::Underflow);
    }
    Ok(Duration {
        value: result as u32,
        trailing_junk,
    })
}

/// Parses a size with an optional `k`/`m`/`g` suffix (powers of 1024) into a `u32`.
/// Returns the offset of the offending character on error.
pub fn parse_size(text: &str) -> Result<u32, usize> {
    let bytes = text.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_digit) {
        return Err(0);
    }
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add((bytes[i] - b'0') as u32))
            .ok_or(i)?;
        i += 1;
    }
    if i == bytes.len() {
        return Ok(value);
    }
    let shift = match bytes[i] {
        b'k' | b'K' => 10,
        b'm' | b'M' => 20,
        b'g' | b'G' => 30,
        _ => return Err(i),
    };
    if value > u32::MAX >> shift {
        return Err(i);
    }
    if i + 1 != bytes.len() {
        return Err(i + 1);
    }
    Ok(value << shift)
}

/// `atol`-like: leading optional sign and digits; `None` when there is no digit or junk follows.
pub fn parse_int(text: &str) -> Option<i64> {
    let t = text.strip_prefix('+').unwrap_or(text);
    if t.is_empty() {
        return None;
    }
    t.parse::<i64>().ok()
}

pub use crate::cnum::atol;

/// Whether an ACL pattern of the `ip` match is certainly invalid, as HAProxy's `pat_parse_ip`
/// would find it: a bad mask, or an address made of digits and dots that is no IPv4 address
/// in any of the forms the C library accepts (`10.0.0` and `167772161` are). Other words are
/// host names HAProxy resolves while parsing, unless `dns` is off (the ACL's `-n` flag).
pub fn ip_pattern_invalid(text: &str, dns: bool) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let (addr, mask) = match text.rsplit_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    if addr.parse::<Ipv6Addr>().is_ok() {
        return !mask.is_none_or(|m| m.parse::<u8>().is_ok_and(|n| n <= 128));
    }
    let mask_ok = mask
        .is_none_or(|m| m.parse::<u8>().is_ok_and(|n| n <= 32) || m.parse::<Ipv4Addr>().is_ok());
    if !mask_ok {
        return true;
    }
    if addr.parse::<Ipv4Addr>().is_ok() {
        return false;
    }
    if addr.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return !inet_aton_digits(addr);
    }
    !dns
}

/// The address or host name of an `ip` match pattern, without its mask.
pub fn ip_pattern_address(text: &str) -> &str {
    text.rsplit_once('/').map_or(text, |(a, _)| a)
}

/// Whether a valid pattern of the `ip` match is a host name (to resolve) rather than an address.
pub fn ip_pattern_is_host(text: &str) -> bool {
    let addr = ip_pattern_address(text);
    addr.parse::<std::net::IpAddr>().is_err()
        && !addr.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The C library's `inet_aton` on a text of digits and dots: one to four parts, the last one
/// filling the bytes left; a leading `0` makes a part octal.
fn inet_aton_digits(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 {
        return false;
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        let value = if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8)
        } else {
            p.parse::<u64>()
        };
        match value {
            Ok(v) if v <= u64::from(u32::MAX) => values.push(v),
            _ => return false,
        }
    }
    let (last, leading) = values.split_last().unwrap_or((&0, &[]));
    leading.iter().all(|&v| v <= 255) && *last < 1u64 << (8 * (4 - leading.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_patterns_follow_the_c_library() {
        for ok in [
            "10.0.0.1",
            "10.0.0.0/8",
            "10.0.0.0/255.255.0.0",
            "10.0.0",
            "167772161",
            "::1",
            "2001:db8::/32",
            "localhost",
            "010.0.0.1",
        ] {
            assert!(!ip_pattern_invalid(ok, true), "{ok}");
        }
        for bad in [
            "1.2.3.4.5",
            "10.0.0.256",
            "10.0.0.0/33",
            "::1/129",
            "09.0.0.1",
            "1.2.3.4/x",
        ] {
            assert!(ip_pattern_invalid(bad, true), "{bad}");
        }
        assert!(ip_pattern_invalid("localhost", false));
    }

    #[test]
    fn durations_follow_haproxy_rounding() {
        let ms = |t| parse_time(t, TimeUnit::Ms).map(|d| d.value);
        assert_eq!(ms("5s"), Ok(5000));
        assert_eq!(ms("100"), Ok(100));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("1500us"), Ok(2));
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert_eq!(ms("25d"), Err(TimeError::Overflow));
        assert_eq!(ms("abc"), Err(TimeError::Char(0)));
        assert_eq!(ms("5x"), Err(TimeError::Char(1)));
        assert_eq!(
            parse_time("1us", TimeUnit::S).map(|d| d.value),
            Ok(1),
            "rounds up"
        );
        assert_eq!(
            parse_time("5sec", TimeUnit::Ms).unwrap().trailing_junk,
            Some(2)
        );
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(parse_size("16k"), Ok(16384));
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        assert_eq!(parse_size("4g"), Err(1));
        assert_eq!(parse_size("10kb"), Err(3));
        assert_eq!(atol("12abc"), 12);
    }
}
