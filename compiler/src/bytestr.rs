//! Byte strings carried in Rust strings, losslessly.
//!
//! HAProxy's strings (a configuration word with a `\xE0` escape, a string sample, a header
//! value) are bytes: they need not be UTF-8. hapee keeps them in `String`s, "carried text":
//!
//! - bytes that form valid UTF-8 are kept as those characters (nearly all text, not copied);
//! - every other byte `b` (necessarily 0x80..=0xFF) is kept as the single character
//!   U+10FF00 + `b`, one of the 128 code points U+10FF80..=U+10FFFF (the end of plane 16's
//!   private-use area; the last two are noncharacters), called "byte characters" here;
//! - a byte character that valid UTF-8 itself spells (its four bytes `F4 8F BE|BF xx`) is kept
//!   as four byte characters, one per byte.
//!
//! So inside carried text a byte character always stands for one byte, and [`to_bytes`] of
//! [`from_bytes`] gives back any byte string unchanged: nothing a user writes, however odd,
//! can be read back as different bytes. That holds for text that entered through
//! [`from_bytes`] or [`push_bytes`]: configuration files ([`crate::source::SourceDb`]), the
//! environment, the lexer's `\xHH` escapes, and the runtime's header bytes and decoders. A
//! `String` built elsewhere is carried text as long as it holds no byte character, which
//! Rust literals and messages never do.
//!
//! Where carried text leaves (header values, log lines, bodies) it goes through [`to_bytes`];
//! lengths and byte-wise comparisons use [`to_bytes`] or [`byte_len`]. Plain text costs one
//! scan for the two lead bytes `F4 8F` and no copy, in both directions.

use std::borrow::Cow;

/// The first code point of the range: byte `b` (0x80..=0xFF) is `BASE + b`.
const BASE: u32 = 0x10FF00;

/// The lead bytes of the range's characters in UTF-8 (`F4 8F BE 80` to `F4 8F BF BF`).
const LEAD: [u8; 2] = [0xF4, 0x8F];

/// The character standing for byte `b` (0x80..=0xFF).
fn escape(b: u8) -> char {
    char::from_u32(BASE + u32::from(b)).expect("within Unicode")
}

/// The byte a character stands for, when it is one of the range's.
pub fn escaped_byte(c: char) -> Option<u8> {
    let n = u32::from(c);
    (n >= BASE + 0x80).then(|| (n - BASE) as u8)
}

/// Whether `b` holds UTF-8 that spells one of the range's characters (`F4 8F BE`/`BF`).
fn has_range_char(b: &[u8]) -> bool {
    memchr::memmem::find_iter(b, &LEAD).any(|i| matches!(b.get(i + 2), Some(0xBE | 0xBF)))
}

/// The text carrying bytes `b`: valid UTF-8 as it is, every other byte as its character.
pub fn from_bytes(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) if !has_range_char(b) => Cow::Borrowed(s),
        _ => {
            let mut out = String::with_capacity(b.len() + 8);
            push_bytes(&mut out, b);
            Cow::Owned(out)
        }
    }
}

/// Appends bytes `b` to `out` (a `String` or the lexer's word) as [`from_bytes`] carries them.
pub fn push_bytes(out: &mut impl std::fmt::Write, b: &[u8]) {
    // Writing to a string cannot fail.
    let mut put = |c: char| {
        let _ = out.write_char(c);
    };
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match escaped_byte(c) {
                Some(_) => c
                    .encode_utf8(&mut [0; 4])
                    .bytes()
                    .for_each(|b| put(escape(b))),
                None => put(c),
            }
        }
        chunk.invalid().iter().for_each(|&b| put(escape(b)));
    }
}

/// The bytes text `s` carries: each of the range's characters as its byte.
pub fn to_bytes(s: &str) -> Cow<'_, [u8]> {
    if !has_range_char(s.as_bytes()) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match escaped_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// The bytes text `s` carries, reusing its buffer when it is plain UTF-8.
pub fn into_bytes(s: String) -> Vec<u8> {
    match to_bytes(&s) {
        Cow::Borrowed(_) => s.into_bytes(),
        Cow::Owned(bytes) => bytes,
    }
}

/// Whether text `s` carries bytes that are not UTF-8.
pub fn has_bytes(s: &str) -> bool {
    has_range_char(s.as_bytes())
}

/// How many bytes text `s` carries (`to_bytes(s).len()`, without copying).
pub fn byte_len(s: &str) -> usize {
    if !has_range_char(s.as_bytes()) {
        return s.len();
    }
    // A byte character is four bytes of UTF-8 standing for one.
    s.len() - 3 * s.chars().filter(|&c| escaped_byte(c).is_some()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_bytes() {
        let cases: [&[u8]; 7] = [
            b"plain",
            b"-\xE0-",
            b"\xC3\xA9t\xC3",
            b"\xFF\xFE\x80",
            // U+10FF80 and U+10FFFF themselves, spelled in UTF-8.
            b"a\xF4\x8F\xBE\x80b\xF4\x8F\xBF\xBF",
            b"\xF4\x8F",
            b"",
        ];
        for b in cases {
            let text = from_bytes(b);
            assert_eq!(to_bytes(&text).as_ref(), b, "{b:?}");
        }
        assert!(matches!(from_bytes(b"caf\xC3\xA9"), Cow::Borrowed("café")));
        assert_eq!(from_bytes(b"-\xE0-").chars().count(), 3);
        assert!(has_bytes(&from_bytes(b"\xE0")) && !has_bytes("é"));
        // A range character read from UTF-8 stays four characters, so it is not a byte.
        assert_eq!(from_bytes("\u{10FFE0}".as_bytes()).chars().count(), 4);
        assert_eq!(byte_len(&from_bytes("\u{10FFE0}".as_bytes())), 4);
        assert_eq!(byte_len(&from_bytes(b"-\xE0\xC3\xA9")), 4);
        assert_eq!(byte_len("caf\u{e9}"), 5);
    }

    #[test]
    fn plain_text_is_not_copied() {
        assert!(matches!(
            to_bytes("caf\u{e9}"),
            Cow::Borrowed(b"caf\xC3\xA9")
        ));
        assert!(matches!(from_bytes(b"a\xF4\x8F\x80\x80"), Cow::Borrowed(_)));
        assert!(matches!(to_bytes(&from_bytes(b"\xE0")), Cow::Owned(_)));
        assert_eq!(into_bytes(from_bytes(b"a\xE0").into_owned()), b"a\xE0");
    }
}
