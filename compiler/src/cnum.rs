//! Integers read the way HAProxy's C code reads them: `strtol` (and `atoi`/`atol`, which are
//! `strtol` in base 10 with the stopping point thrown away). Every place in the compiler that
//! must agree with one of those calls goes through [`strtol`] or [`atol`], so that blanks,
//! signs, bases, overflow and the stopping point are decided once.

/// The outcome of one `strtol` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strtol {
    /// The value, saturated to `i64::MIN`/`i64::MAX` on overflow as glibc does; 0 when
    /// nothing was converted.
    pub value: i64,
    /// The byte offset where reading stopped (C's `*endptr - nptr`): 0 when no digit was read,
    /// even after blanks or a sign.
    pub end: usize,
}

impl Strtol {
    /// Whether at least one digit was read.
    pub fn converted(self) -> bool {
        self.end > 0
    }
}

/// C's `isspace` in the C locale (Rust's `is_ascii_whitespace` leaves out `\v`).
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `strtol(text, &end, base)` for base 0 (a `0x` prefix means hexadecimal, a leading `0`
/// octal, anything else decimal), 8, 10 or 16: leading blanks, an optional sign, then as many
/// digits of the base as follow. `0x` with no hexadecimal digit after it reads as the `0`.
pub fn strtol(text: &str, base: u32) -> Strtol {
    let b = text.as_bytes();
    let mut i = b.iter().take_while(|c| is_c_space(**c)).count();
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let hex_prefix = b.get(i) == Some(&b'0')
        && matches!(b.get(i + 1), Some(b'x' | b'X'))
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
    let radix = match base {
        0 if hex_prefix => 16,
        0 if b.get(i) == Some(&b'0') => 8,
        0 => 10,
        r => r,
    };
    if radix == 16 && hex_prefix {
        i += 2;
    }
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    let start = i;
    while let Some(d) = b.get(i).and_then(|&c| digit(c, radix)) {
        match magnitude
            .checked_mul(u64::from(radix))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return Strtol { value: 0, end: 0 };
    }
    let value = if neg {
        if overflow || magnitude > i64::MIN.unsigned_abs() {
            i64::MIN
        } else {
            0i64.wrapping_sub_unsigned(magnitude)
        }
    } else if overflow || magnitude > i64::MAX as u64 {
        i64::MAX
    } else {
        magnitude as i64
    };
    Strtol { value, end: i }
}

/// The value of `c` as a digit of `radix` (at most 36), if it is one.
fn digit(c: u8, radix: u32) -> Option<u32> {
    let d = match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'z' => c - b'a' + 10,
        b'A'..=b'Z' => c - b'A' + 10,
        _ => return None,
    };
    (u32::from(d) < radix).then_some(u32::from(d))
}

/// C's `atoi`/`atol`: the decimal number the text starts with (after blanks and a sign), 0 when
/// there is none; whatever follows is ignored. HAProxy reads many directives this way without
/// checking, so junk after the digits passes silently.
#[inline]
pub fn atol(text: &str) -> i64 {
    // Most values are a few plain digits (`weight 10`): read here, without blanks, signs or
    // overflow to mind (18 digits stay below `i64::MAX`).
    let b = text.as_bytes();
    if (1..=18).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        return b.iter().fold(0, |v, &c| v * 10 + i64::from(c - b'0'));
    }
    strtol(text, 10).value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, base: u32) -> (i64, usize) {
        let r = strtol(text, base);
        (r.value, r.end)
    }

    #[test]
    fn reads_like_c() {
        assert_eq!(s("", 10), (0, 0));
        assert_eq!(s("  +8x", 10), (8, 4));
        assert_eq!(s("-", 10), (0, 0));
        assert_eq!(s(" -12", 10), (-12, 4));
        assert_eq!(s("\x0b7", 10), (7, 2));
        assert_eq!(s("0x1f", 0), (31, 4));
        assert_eq!(s("0x", 0), (0, 1));
        assert_eq!(s("0xg", 0), (0, 1));
        assert_eq!(s("017", 0), (15, 3));
        assert_eq!(s("09", 0), (0, 1));
        assert_eq!(s("017", 10), (17, 3));
        assert_eq!(s("99999999999999999999", 10), (i64::MAX, 20));
        assert_eq!(s("-99999999999999999999", 10), (i64::MIN, 21));
        assert_eq!(s("-9223372036854775808", 10), (i64::MIN, 20));
        assert_eq!(atol("12abc"), 12);
        assert_eq!(atol("abc"), 0);
        assert_eq!(atol("10"), 10);
        assert_eq!(atol("007"), 7);
        assert_eq!(atol("999999999999999999"), 999_999_999_999_999_999);
        assert_eq!(atol("9999999999999999999"), i64::MAX);
        assert_eq!(s("fF", 16), (255, 2));
        assert_eq!(s("19a", 8), (1, 1));
    }
}
