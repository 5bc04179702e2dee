//! Encoding converters: base64 (standard and URL-safe), hexadecimal, big-endian integers as
//! text (`be2dec`, `be2hex`), URL encoding and decoding, JSON string escapes.

use super::convert::{arg, int_arg, pure, Run};
use super::{Unsupported, Value};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hapee_compiler::bytestr;
use hapee_compiler::expr::sample::Call;

/// URL-safe base64 without padding, reading input with or without it (`ub64enc`/`ub64dec`).
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What `url_enc` leaves as it is: RFC 3986's unreserved characters.
const QUERY_RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The encoding converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let bin = |f: fn(&[u8]) -> Option<Value>| pure(move |v| f(&v.as_bin()?));
    Ok(Some(match c.name.as_str() {
        "base64" => bin(|b| Some(Value::Str(STANDARD.encode(b)))),
        "b64dec" => pure(|v| Some(Value::Bin(base64_decode(&v.as_text())?.into()))),
        "ub64enc" => bin(|b| Some(Value::Str(URL_SAFE.encode(b)))),
        "ub64dec" => pure(|v| {
            Some(Value::Bin(
                URL_SAFE.decode(v.as_text().as_bytes()).ok()?.into(),
            ))
        }),
        "hex" => bin(|b| Some(Value::Str(hex(b)))),
        "hex2i" => pure(|v| Some(Value::Int(hex2i(&v.as_text())?))),
        "be2dec" => {
            let separator = arg(c, 0).as_bytes().to_vec();
            let chunk = int_arg(c, 1, 0)?;
            if !(1..=8).contains(&chunk) {
                return Err(Unsupported(format!(
                    "be2dec: chunk_size out of [1..8] range ({chunk})"
                )));
            }
            let truncate = truncate_arg(c)?;
            pure(move |v| {
                let b = v.as_bin()?;
                Some(Value::Str(be2dec(&b, &separator, chunk as usize, truncate)))
            })
        }
        "be2hex" => {
            let separator = arg(c, 0).as_bytes().to_vec();
            let chunk = int_arg(c, 1, 0)?;
            let truncate = truncate_arg(c)?;
            if chunk <= 0 && (!separator.is_empty() || truncate) {
                return Err(Unsupported(format!(
                    "be2hex: chunk_size needs to be positive ({chunk})"
                )));
            }
            pure(move |v| {
                let b = v.as_bin()?;
                Some(Value::Str(be2hex(
                    &b,
                    &separator,
                    chunk.max(0) as usize,
                    truncate,
                )))
            })
        }
        "url_enc" => {
            if !matches!(arg(c, 0), "" | "query") {
                return Err(Unsupported(format!(
                    "url_enc: unknown encoding type '{}'",
                    arg(c, 0)
                )));
            }
            pure(|v| {
                let b = v.as_bytes();
                Some(Value::Str(
                    percent_encoding::percent_encode(&b, QUERY_RESERVED).to_string(),
                ))
            })
        }
        "url_dec" => {
            let in_form = int_arg(c, 0, 0)? != 0;
            pure(move |v| {
                let b = v.as_bytes();
                let decoded = url_dec(&b, in_form)?;
                Some(Value::Str(bytestr::from_bytes(&decoded).into_owned()))
            })
        }
        "json" => {
            let mode = match arg(c, 0) {
                "" | "ascii" => JsonInput::Ascii,
                "utf8" => JsonInput::Utf8 {
                    skip: false,
                    permissive: false,
                },
                "utf8s" => JsonInput::Utf8 {
                    skip: true,
                    permissive: false,
                },
                "utf8p" => JsonInput::Utf8 {
                    skip: false,
                    permissive: true,
                },
                "utf8ps" => JsonInput::Utf8 {
                    skip: true,
                    permissive: true,
                },
                other => {
                    return Err(Unsupported(format!(
                        "json: unexpected input type '{other}'"
                    )))
                }
            };
            pure(move |v| {
                let b = v.as_bytes();
                let out = json_escape(&b, mode)?;
                Some(Value::Str(bytestr::from_bytes(&out).into_owned()))
            })
        }
        _ => return Ok(None),
    }))
}

fn truncate_arg(c: &Call) -> Result<bool, Unsupported> {
    match int_arg(c, 2, 0)? {
        0 => Ok(false),
        1 => Ok(true),
        n => Err(Unsupported(format!(
            "{}: Unsupported truncate value ({n})",
            c.name
        ))),
    }
}

/// Upper-case hexadecimal of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Standard base64 with padding, as HAProxy decodes it (`None` when invalid).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.as_bytes()).ok()
}

/// `hex2i`: a hexadecimal text as a signed 64-bit integer: every digit shifts in (so the
/// last 16 count), a character that is not one fails, an empty text is 0.
fn hex2i(text: &str) -> Option<i64> {
    text.chars().try_fold(0i64, |n, c| {
        Some(n.wrapping_shl(4) | i64::from(c.to_digit(16)? as u8))
    })
}

/// The positions of the chunks `be2dec`/`be2hex` print: every `chunk` bytes, the last short
/// one dropped when truncating.
fn chunks(b: &[u8], chunk: usize, truncate: bool) -> impl Iterator<Item = &[u8]> {
    let last = if truncate {
        (b.len() + 1).saturating_sub(chunk)
    } else {
        b.len()
    };
    b.chunks(chunk.max(1))
        .enumerate()
        .take_while(move |(i, _)| i * chunk.max(1) < last)
        .map(|(_, c)| c)
}

/// `be2dec(separator,chunk_size[,truncate])`: each chunk of big-endian bytes as a decimal.
fn be2dec(b: &[u8], separator: &[u8], chunk: usize, truncate: bool) -> String {
    let parts: Vec<String> = chunks(b, chunk, truncate)
        .map(|c| {
            c.iter()
                .fold(0u64, |n, x| (n << 8) | u64::from(*x))
                .to_string()
        })
        .collect();
    parts.join(&*String::from_utf8_lossy(separator))
}

/// `be2hex([separator[,chunk_size[,truncate]]])`: each chunk in upper-case hexadecimal.
fn be2hex(b: &[u8], separator: &[u8], chunk: usize, truncate: bool) -> String {
    let chunk = if separator.is_empty() && !truncate {
        b.len()
    } else {
        chunk
    };
    let parts: Vec<String> = chunks(b, chunk, truncate).map(hex).collect();
    parts.join(&*String::from_utf8_lossy(separator))
}

/// [`url_dec`] of a query string's part: `None` for a bad escape.
pub fn url_decode_form(b: &[u8]) -> Option<Vec<u8>> {
    url_dec(b, true)
}

/// HAProxy's URL decoding: `%XX` escapes, `+` as a space in a form (or after a `?`); a bad
/// escape fails, a NUL byte ends the input.
fn url_dec(b: &[u8], in_form: bool) -> Option<Vec<u8>> {
    let mut in_form = in_form;
    let mut out = Vec::with_capacity(b.len());
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    let b = &b[..end];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(if in_form { b' ' } else { b'+' }),
            b'%' => {
                let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
                let (h, l) = (hex(b.get(i + 1))?, hex(b.get(i + 2))?);
                out.push((h * 16 + l) as u8);
                i += 2;
            }
            b'?' => {
                in_form = true;
                out.push(b'?');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Lenient form decoding for the statistics page: `+` is a space, bad escapes stay as they are.
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How `json` reads its input: bytes, or UTF-8 that fails on a bad sequence (or skips it),
/// the permissive forms accepting over-long and surrogate encodings.
#[derive(Clone, Copy)]
enum JsonInput {
    Ascii,
    Utf8 { skip: bool, permissive: bool },
}

/// One UTF-8 character at the start of `b`: its code point and length, or the error and the
/// bytes to skip. `lax` problems (over-long forms, surrogates) are separate from bad bytes.
fn utf8_next(b: &[u8]) -> (u32, usize, Utf8Problem) {
    let first = b[0];
    let (len, init) = match first {
        0x00..=0x7f => return (u32::from(first), 1, Utf8Problem::None),
        0xc0..=0xdf => (2, u32::from(first & 0x1f)),
        0xe0..=0xef => (3, u32::from(first & 0x0f)),
        0xf0..=0xf7 => (4, u32::from(first & 0x07)),
        _ => return (0, 1, Utf8Problem::Bad),
    };
    let mut code = init;
    for i in 1..len {
        match b.get(i) {
            Some(c) if c & 0xc0 == 0x80 => code = (code << 6) | u32::from(c & 0x3f),
            _ => return (0, i, Utf8Problem::Bad),
        }
    }
    let min = [0, 0, 0x80, 0x800, 0x10000][len];
    let problem = if code < min || (0xd800..=0xdfff).contains(&code) {
        Utf8Problem::Lax
    } else if code > 0x10ffff {
        Utf8Problem::Bad
    } else {
        Utf8Problem::None
    };
    (code, len, problem)
}

#[derive(PartialEq)]
enum Utf8Problem {
    None,
    /// Over-long form or surrogate: accepted by the permissive modes.
    Lax,
    Bad,
}

/// `json`: the input escaped for a JSON string (`None` when the mode rejects the input).
fn json_escape(b: &[u8], mode: JsonInput) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = match mode {
            JsonInput::Ascii => {
                i += 1;
                u32::from(b[i - 1])
            }
            JsonInput::Utf8 { skip, permissive } => {
                let (c, len, problem) = utf8_next(&b[i..]);
                i += len;
                let rejected = match problem {
                    Utf8Problem::None => false,
                    Utf8Problem::Lax => !permissive,
                    Utf8Problem::Bad => true,
                };
                if rejected || c > 0xffff {
                    if skip {
                        continue;
                    }
                    return None;
                }
                c
            }
        };
        match c {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x2f => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x09 => out.extend_from_slice(b"\\t"),
            // Printable ASCII as it is; anything else as a \u escape.
            0x20..=0x7e => out.push(c as u8),
            _ => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex() {
        assert_eq!(STANDARD.encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(
            URL_SAFE.encode([0x14, 0xfb, 0x9c, 0x03, 0xd9, 0x7f]),
            "FPucA9l_"
        );
        assert_eq!(URL_SAFE.decode("FPucA9l_Etl-").unwrap().len(), 9);
        assert_eq!(hex2i("ff"), Some(255));
        assert_eq!(hex2i("zz"), None);
        assert_eq!(hex2i(""), Some(0));
        assert_eq!(hex2i("1122334455667788AB"), Some(0x2233_4455_6677_88AB));
    }

    #[test]
    fn big_endian_chunks() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05];
        assert_eq!(be2dec(&b, b":", 1, false), "1:2:3:4:5");
        assert_eq!(be2dec(&b, b"-", 3, false), "66051-1029");
        assert_eq!(be2dec(&b, b"::", 3, true), "66051");
        assert_eq!(be2hex(&b, b"", 0, false), "0102030405");
        assert_eq!(be2hex(&b, b"--", 3, false), "010203--0405");
        assert_eq!(be2hex(&b, b".", 3, true), "010203");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_dec(b"a%20b+c", false).unwrap(), b"a b+c");
        assert_eq!(url_dec(b"a+b?c+d", false).unwrap(), b"a+b?c d");
        assert_eq!(url_dec(b"a+b", true).unwrap(), b"a b");
        assert!(url_dec(b"%zz", false).is_none());
        assert_eq!(url_decode("%%1ѐ%4"), "%%1ѐ%4");
        assert_eq!(
            percent_encoding::percent_encode(b"foo=bar+42 42 ", QUERY_RESERVED).to_string(),
            "foo%3Dbar%2B42%2042%20"
        );
    }

    #[test]
    fn json_modes() {
        let j = |s: &[u8], m| json_escape(s, m).map(|o| String::from_utf8(o).unwrap());
        assert_eq!(j(b"foo 1/2", JsonInput::Ascii).unwrap(), "foo 1\\/2");
        let strict = JsonInput::Utf8 {
            skip: false,
            permissive: false,
        };
        let skip = JsonInput::Utf8 {
            skip: true,
            permissive: false,
        };
        assert_eq!(j(b"\xE0", strict), None);
        assert_eq!(j(b"-\xE0-", skip).unwrap(), "--");
        assert_eq!(j("é".as_bytes(), strict).unwrap(), "\\u00e9");
    }
}
