//! The syslog header in front of a log line (RFC3164 or RFC5424, with or without `<PRI>`),
//! copied with its host name and structured data anonymized.

use super::scrub::generic;
use super::split_byte;
use crate::keyed::Anonymizer;
use crate::logformat::LogFormats;

/// Copies (anonymized) a syslog header into `out` and returns the message part: `<PRI>`
/// optional (files written by a syslog daemon have none), then RFC5424's fields, or a
/// timestamp (RFC3164's `Mmm dd hh:mm:ss` or RFC3339's, as rsyslog writes) followed by an
/// optional host name and the tag (`haproxy[123]:`). HAProxy sends no host name unless told to
/// (`log-send-hostname`).
pub(super) fn split_syslog<'a>(
    anon: &mut Anonymizer,
    formats: Option<&LogFormats>,
    line: &'a str,
    out: &mut String,
) -> &'a str {
    let after = match pri_len(line) {
        Some(len) => {
            out.push_str(&line[..len]);
            &line[len..]
        }
        None => line,
    };
    if after.len() < line.len() {
        if let Some(v5424) = after.strip_prefix("1 ") {
            out.push_str("1 ");
            return rfc5424(anon, formats, v5424, out);
        }
    }
    let Some(ts_len) = timestamp_len(after) else {
        return after;
    };
    let (ts, rest) = (&after[..ts_len], &after[ts_len + 1..]);
    let (first, tail) = split_byte(rest, b' ').unwrap_or((rest, ""));
    if is_tag(first) {
        out.push_str(ts);
        out.push(' ');
        out.push_str(first);
        out.push(' ');
        return tail;
    }
    let (tag, msg) = split_byte(tail, b' ').unwrap_or((tail, ""));
    if is_tag(tag) {
        let host = anon.hostname(first);
        out.push_str(&format!("{ts} {host} {tag} "));
        return msg;
    }
    // A header this reader does not know: the rest is scrubbed whole.
    after
}

/// The length of a `<PRI>` prefix (`<134>`), if the line starts with one.
fn pri_len(line: &str) -> Option<usize> {
    let rest = line.strip_prefix('<')?;
    let close = rest.find('>')?;
    (close > 0 && close <= 3 && rest[..close].bytes().all(|b| b.is_ascii_digit()))
        .then_some(close + 2)
}

/// The length of the timestamp a syslog header starts with: RFC3164's `Mmm dd hh:mm:ss`
/// (the day padded with a space) or an RFC3339 one (`2026-12-05T13:49:22.123+00:00`).
fn timestamp_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if b.len() > 16
        && b[..3].iter().all(u8::is_ascii_alphabetic)
        && b[3] == b' '
        && (digit(4) || b[4] == b' ')
        && digit(5)
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' '
    {
        return Some(15);
    }
    let (word, _) = split_byte(s, b' ')?;
    let w = word.as_bytes();
    let rfc3339 = w.len() >= 19
        && (0..4).all(digit)
        && w[4] == b'-'
        && w[7] == b'-'
        && w[10] == b'T'
        && w[13] == b':';
    rfc3339.then_some(word.len())
}

/// Whether `w` is a syslog tag with its colon: `haproxy:`, `haproxy[123]:`.
fn is_tag(w: &str) -> bool {
    let Some(name) = w.strip_suffix(':') else {
        return false;
    };
    let name = match name.strip_suffix(']').and_then(|n| n.split_once('[')) {
        Some((name, pid)) if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return false,
        None => name,
    };
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

/// RFC5424 after its version: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG;
/// the header goes to `out` (the host name and the structured data's values anonymized), the
/// message is answered.
fn rfc5424<'a>(
    anon: &mut Anonymizer,
    formats: Option<&LogFormats>,
    v5424: &'a str,
    out: &mut String,
) -> &'a str {
    let mut parts = v5424.splitn(6, ' ');
    let ts = parts.next().unwrap_or("");
    let host = parts.next().unwrap_or("");
    let app = parts.next().unwrap_or("");
    let pid = parts.next().unwrap_or("");
    let msgid = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    let host = if host == "-" {
        host.to_string()
    } else {
        anon.hostname(host)
    };
    out.push_str(&format!("{ts} {host} {app} {pid} {msgid} "));
    // Structured data is `-` or bracketed elements (`log-format-sd`).
    if let Some(m) = rest.strip_prefix("- ") {
        out.push_str("- ");
        return m;
    }
    if !rest.starts_with('[') {
        return rest;
    }
    let end = structured_data_into(anon, formats, rest, out);
    let msg = &rest[end..];
    if let Some(m) = msg.strip_prefix(' ') {
        out.push(' ');
        return m;
    }
    msg
}

/// Copies the structured-data elements that `sd` starts with into `out`, each parameter's value
/// scrubbed as a message is (`[meta client="192.0.2.1" host="shop.example"]`: values are what
/// `log-format-sd` logged), and answers their length. Values keep their escapes (`\"`, `\\`,
/// `\]`) around the replaced text.
fn structured_data_into(
    anon: &mut Anonymizer,
    formats: Option<&LogFormats>,
    sd: &str,
    out: &mut String,
) -> usize {
    let bytes = sd.as_bytes();
    let mut i = 0;
    while bytes.get(i) == Some(&b'[') {
        // The element's id and parameter names, up to each value's opening quote.
        let mut value = String::new();
        loop {
            let Some(at) = sd[i..].find(['"', ']']).map(|p| p + i) else {
                out.push_str(&sd[i..]);
                return sd.len();
            };
            out.push_str(&sd[i..=at]);
            i = at + 1;
            if bytes[at] == b']' {
                break;
            }
            // The value, unescaped, up to its closing quote.
            value.clear();
            while let Some(mut c) = sd[i..].chars().next() {
                if c == '"' {
                    break;
                }
                // An escape stands for the character after it.
                if c == '\\' {
                    match sd[i + 1..].chars().next() {
                        Some(next) => {
                            i += 1;
                            c = next;
                        }
                        None => break,
                    }
                }
                value.push(c);
                i += c.len_utf8();
            }
            let mut scrubbed = String::new();
            match formats {
                Some(f) => f.scrub(anon, &value, &mut scrubbed),
                None => generic(anon, &value, &mut scrubbed),
            }
            for c in scrubbed.chars() {
                if matches!(c, '"' | '\\' | ']') {
                    out.push('\\');
                }
                out.push(c);
            }
            if i < bytes.len() {
                out.push('"');
                i += 1;
            }
        }
    }
    i
}
