//! Syslog messages as a `log-forward` section relays them: taken apart into HAProxy's header
//! fields (priority, time, host, program, process id, message id, structured data) and given
//! for each target a header built from those fields, the way HAProxy 2.7 rebuilds them. A
//! target with no `format` takes the header the fields call for: RFC 5424 for a message
//! naming a host with an ISO time, RFC 3164 for one naming a host with a BSD time, the local
//! form (no host) for one naming only a program, the bare priority for one that had only a
//! priority, and nothing at all for one without a priority.

use chrono::{Datelike, Local, Utc};
use hapee_compiler::plan::LogHeader;

/// A relayed message taken apart. Each text field is empty when the message had none (or
/// the RFC 5424 nil value `-`), but for `time`, which keeps a nil `-`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Message<'a> {
    /// The facility and the level of its `<PRI>`; none without a priority.
    pub facility: Option<u8>,
    pub level: Option<u8>,
    pub time: &'a str,
    pub host: &'a str,
    pub tag: &'a str,
    pub pid: &'a str,
    pub msgid: &'a str,
    pub sd: &'a str,
    /// What follows the header (the whole line when there was no priority).
    pub text: &'a str,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// A BSD time, `Mmm dd hh:mm:ss`.
const LEGACY_TIME: usize = 15;
/// The shortest ISO time, `yyyy-mm-ddThh:mm:ssZ`.
const ISO_TIME_MIN: usize = 20;

/// The word of `b` that starts at `at` and ends before the next space; none when it is empty
/// or runs to the end (the message must go on after it).
fn word(b: &[u8], at: usize) -> Option<usize> {
    if at >= b.len() || b[at] == b' ' {
        return None;
    }
    let len = b[at..].iter().position(|&c| c == b' ')?;
    Some(at + len)
}

/// `-` is no value.
fn nil(field: &str) -> &str {
    if field == "-" {
        ""
    } else {
        field
    }
}

/// Parses a message as HAProxy 2.7's log-forward does: a `<PRI>` then an RFC 5424 header or
/// an RFC 3164 one; a header it cannot read leaves the priority alone and the rest as text.
pub fn parse(line: &str) -> Message<'_> {
    let mut m = Message {
        text: line,
        ..Message::default()
    };
    let b = line.as_bytes();
    if b.len() < 2 || b[0] != b'<' {
        return m;
    }
    let Some(close) = b.iter().position(|&c| c == b'>') else {
        return m;
    };
    if !b[1..close].iter().all(u8::is_ascii_digit) {
        return m;
    }
    let pri = b[1..close].iter().fold(0u32, |n, d| {
        n.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
    });
    m.facility = Some((pri >> 3) as u8);
    m.level = Some((pri & 7) as u8);
    let rest = &line[close + 1..];
    m.text = rest;
    let parsed = if rest.len() > 2 && rest.starts_with("1 ") {
        rfc5424(rest, &mut m)
    } else if rest.len() > LEGACY_TIME {
        rfc3164(rest, &mut m)
    } else {
        Some(())
    };
    if parsed.is_none() {
        // A header that cannot be read: only the priority is kept.
        m = Message {
            facility: m.facility,
            level: m.level,
            text: rest,
            ..Message::default()
        };
    }
    m
}

/// `1 TIME HOST APP PROCID MSGID SD MSG`.
fn rfc5424<'a>(rest: &'a str, m: &mut Message<'a>) -> Option<()> {
    let b = rest.as_bytes();
    let mut p = 2;
    if b.len() > 4 && b[2] == b'-' && b[3] == b' ' {
        m.time = "-";
        p = 3;
    } else if b.len() - 2 > ISO_TIME_MIN {
        let start = p;
        p += 19;
        if b.get(p) == Some(&b'.') {
            p += 1;
            loop {
                match b.get(p)? {
                    b'Z' | b'+' | b'-' => break,
                    c if c.is_ascii_digit() => p += 1,
                    _ => return None,
                }
            }
        }
        p += if b.get(p) == Some(&b'Z') { 1 } else { 6 };
        if b.get(p) != Some(&b' ') {
            return None;
        }
        m.time = rest.get(start..p)?;
    } else {
        return None;
    }
    let mut fields = [""; 4];
    for f in &mut fields {
        let end = word(b, p + 1)?;
        *f = nil(&rest[p + 1..end]);
        p = end;
    }
    [m.host, m.tag, m.pid, m.msgid] = fields;
    p += 1;
    let start = p;
    match b.get(p)? {
        b'[' => {
            let mut inside = false;
            loop {
                let c = *b.get(p)?;
                if inside {
                    if c == b']' && b[p - 1] != b'\\' {
                        inside = false;
                    }
                } else if c == b'[' {
                    inside = true;
                } else if c == b' ' {
                    break;
                } else {
                    return None;
                }
                p += 1;
            }
        }
        b'-' if b.get(p + 1) == Some(&b' ') => p += 1,
        _ => return None,
    }
    m.sd = nil(&rest[start..p]);
    m.text = &rest[p + 1..];
    Some(())
}

/// `Mmm dd hh:mm:ss HOST [TAG[PID]: ]MSG`; the host is required, the program is not.
fn rfc3164<'a>(rest: &'a str, m: &mut Message<'a>) -> Option<()> {
    let b = rest.as_bytes();
    if !MONTHS.iter().any(|mo| b.starts_with(mo.as_bytes())) {
        return None;
    }
    m.time = rest.get(..LEGACY_TIME)?;
    if b.get(LEGACY_TIME) != Some(&b' ') {
        return None;
    }
    let end = word(b, LEGACY_TIME + 1)?;
    m.host = &rest[LEGACY_TIME + 1..end];
    let body = &rest[end + 1..];
    m.text = body;
    // A program name ends with ':' and a space, before any other space.
    let bb = body.as_bytes();
    let Some(colon) = bb.iter().position(|&c| c == b' ' || c == b':') else {
        return Some(());
    };
    if bb[colon] != b':' || bb.get(colon + 1) != Some(&b' ') {
        return Some(());
    }
    let (mut tag_end, mut pid) = (None, None::<(usize, Option<usize>)>);
    for (i, &c) in bb[..colon].iter().enumerate() {
        if c == b'[' {
            tag_end = Some(i);
            pid = Some((i + 1, None));
        } else if let (b']', Some((start, _))) = (c, pid) {
            if bb[i + 1] != b':' {
                // HAProxy stops here: the program so far, no process id, the text after the host.
                m.tag = &body[..tag_end.unwrap_or(0)];
                return Some(());
            }
            pid = Some((start, Some(i)));
        }
    }
    m.tag = &body[..tag_end.filter(|&t| t > 0).unwrap_or(colon)];
    if let Some((start, Some(end))) = pid {
        m.pid = &body[start..end];
    }
    m.text = &body[colon + 2..];
    Some(())
}

/// The format a target without one gives a relayed message (HAProxy's unspecified format).
fn implied(m: &Message<'_>) -> LogHeader {
    if !m.host.is_empty() {
        if m.time == "-" || m.time.len() >= ISO_TIME_MIN {
            LogHeader::Rfc5424
        } else {
            LogHeader::Rfc3164
        }
    } else if !m.tag.is_empty() {
        LogHeader::Local
    } else if m.level.is_some() {
        // Only a priority: `<PRI>` and the text.
        LogHeader::Short
    } else {
        LogHeader::Raw
    }
}

/// The header of a relayed message for a target of `format`, sent at `level` and `facility`.
pub fn header(format: LogHeader, level: u8, facility: u8, m: &Message<'_>) -> String {
    let (format, priority_only) = match format {
        LogHeader::Unspec => match implied(m) {
            LogHeader::Short => (LogHeader::Short, true),
            f => (f, false),
        },
        f => (f, false),
    };
    let mut out = String::new();
    let pri = u32::from(facility) * 8 + u32::from(level);
    match format {
        LogHeader::Raw => return out,
        // `short` names the level alone; a relayed message with only a priority keeps it.
        LogHeader::Short if priority_only => return format!("<{pri}>"),
        LogHeader::Short => return format!("<{level}>"),
        _ => out.push_str(&format!("<{pri}>")),
    }
    let t = m.time.as_bytes();
    if format == LogHeader::Rfc5424 {
        out.push_str("1 ");
        if m.time == "-" || m.time.len() >= ISO_TIME_MIN {
            out.push_str(m.time);
            out.push(' ');
        } else if let Some(month) = (t.len() == LEGACY_TIME)
            .then(|| MONTHS.iter().position(|mo| t.starts_with(mo.as_bytes())))
            .flatten()
        {
            // A BSD time has no year: this year's, or last year's for a later month.
            let now = Local::now();
            let year = now.year() - i32::from(now.month0() < month as u32);
            let day = if t[4] == b' ' { '0' } else { char::from(t[4]) };
            out.push_str(&format!(
                "{year:4}-{:02}-{day}{}T{}-00:00 ",
                month + 1,
                char::from(t[5]),
                &m.time[7..15]
            ));
        } else {
            out.push_str(&format!(
                "{} ",
                Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f%:z")
            ));
        }
        for f in [m.host, m.tag, m.pid, m.msgid, m.sd] {
            out.push_str(if f.is_empty() { "-" } else { f });
            out.push(' ');
        }
        return out;
    }
    // RFC 3164 and local.
    if t.len() == LEGACY_TIME {
        out.push_str(m.time);
        out.push(' ');
    } else if let Some(month) = (t.len() >= ISO_TIME_MIN)
        .then(|| {
            let n = |i: usize| t[i].wrapping_sub(b'0');
            let month = usize::from(n(5)) * 10 + usize::from(n(6));
            month.saturating_sub(1)
        })
        .filter(|&mo| mo <= 11)
    {
        let day = if t[8] == b'0' { ' ' } else { char::from(t[8]) };
        out.push_str(&format!(
            "{} {day}{} {} ",
            MONTHS[month],
            char::from(t[9]),
            m.time.get(11..19).unwrap_or("00:00:00")
        ));
    } else {
        out.push_str(&format!("{} ", Local::now().format("%b %e %H:%M:%S")));
    }
    if format == LogHeader::Rfc3164 {
        out.push_str(if m.host.is_empty() {
            "localhost"
        } else {
            m.host
        });
        out.push(' ');
    }
    if !m.tag.is_empty() {
        out.push_str(m.tag);
        if !m.pid.is_empty() {
            out.push_str(&format!("[{}]", m.pid));
        }
        out.push_str(": ");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3164_and_rfc5424_messages_are_taken_apart() {
        let m = parse("<134>Dec  3 18:02:32 host1 haproxy[123]: 127.0.0.1:4242 [03/Dec] fe");
        assert_eq!((m.facility, m.level), (Some(16), Some(6)));
        assert_eq!(
            (m.time, m.host, m.tag, m.pid),
            ("Dec  3 18:02:32", "host1", "haproxy", "123")
        );
        assert_eq!(m.text, "127.0.0.1:4242 [03/Dec] fe");
        // HAProxy's own lines name no host: the program is read as the host.
        let m = parse("<134>Dec  3 18:02:32 haproxy[123]: 127.0.0.1:4242 [03/Dec] fe");
        assert_eq!(
            (m.host, m.tag, m.text),
            ("haproxy[123]:", "", "127.0.0.1:4242 [03/Dec] fe")
        );
        let m = parse("<165>1 2026-12-03T18:02:32.1Z host app 42 ID47 [x a=\"b\"] payload here");
        assert_eq!(
            (m.facility, m.level, m.tag, m.pid),
            (Some(20), Some(5), "app", "42")
        );
        assert_eq!(
            (m.time, m.msgid, m.sd),
            ("2026-12-03T18:02:32.1Z", "ID47", "[x a=\"b\"]")
        );
        assert_eq!(m.text, "payload here");
        let m = parse("<14>1 2026-12-03T18:02:32Z h a - - - text");
        assert_eq!((m.host, m.tag, m.pid, m.text), ("h", "a", "", "text"));
        // Unreadable headers keep only the priority.
        let m = parse("<14>1 yesterday h a - - - text");
        assert_eq!(
            (m.level, m.host, m.text),
            (Some(6), "", "1 yesterday h a - - - text")
        );
        assert_eq!(parse("no header").text, "no header");
        assert_eq!(parse("no header").level, None);
    }

    #[test]
    fn headers_follow_the_fields_when_no_format_is_given() {
        let relay = |line: &str, f| {
            let m = parse(line);
            header(f, m.level.unwrap_or(0), m.facility.unwrap_or(16), &m) + m.text
        };
        let bsd = "<134>Dec  3 18:02:32 haproxy[51]: 1.2.3.4:5 [03/Dec] fe";
        assert_eq!(relay(bsd, LogHeader::Unspec), bsd);
        assert!(relay(bsd, LogHeader::Rfc5424)
            .ends_with("-12-03T18:02:32-00:00 haproxy[51]: - - - - 1.2.3.4:5 [03/Dec] fe"));
        let iso = "<134>1 2026-12-03T18:02:32-00:00 haproxy[51]: - - - - msg";
        assert_eq!(relay(iso, LogHeader::Unspec), iso);
        assert_eq!(
            relay(iso, LogHeader::Rfc3164),
            "<134>Dec  3 18:02:32 haproxy[51]: msg"
        );
        assert_eq!(relay("<13>hello", LogHeader::Unspec), "<13>hello");
        assert_eq!(relay("hello", LogHeader::Unspec), "hello");
        assert_eq!(
            relay("<13>Dec 13 08:00:01 h app: hi", LogHeader::Short),
            "<5>hi"
        );
    }
}
