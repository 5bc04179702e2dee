//! Streaming anonymizer for HAProxy log lines: httplog, httplog clf, tcplog and httpslog, with or
//! without an RFC3164/RFC5424 syslog header. Fields are recognised by position, so names map to
//! the same tokens as in the anonymized configuration. Lines it does not recognise still get a
//! generic scrub (addresses, emails, host names, long tokens, and every word that could be a
//! name). Lines are never dropped or merged.

mod escaped;
mod scrub;
mod syslog;
mod words;

pub(crate) use escaped::{decode as decode_escapes, encode_into as encode_escapes_into};
use scrub::{generic, is_email};
pub(crate) use scrub::{generic_with, scrub_token};
use syslog::split_syslog;

use crate::keyed::{looks_like_hostname, Anonymizer};
use crate::logformat::LogFormats;
use std::io::{self, BufRead, Write};
use std::net::IpAddr;

/// Anonymizes every line of `input` into `output`; memory stays constant whatever the size.
/// `BufRead::read_until(b'\n')` with a vectorised newline search (the standard one scans
/// byte by byte, which was the largest single cost of `hapee-anon log`).
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    let mut read = 0;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(read);
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                line.extend_from_slice(&buf[..=i]);
                input.consume(i + 1);
                return Ok(read + i + 1);
            }
            None => {
                let n = buf.len();
                line.extend_from_slice(buf);
                input.consume(n);
                read += n;
            }
        }
    }
}

pub fn anonymize_stream(
    anon: &mut Anonymizer,
    input: impl BufRead,
    output: impl Write,
) -> io::Result<u64> {
    anonymize_stream_with(anon, None, input, output)
}

/// As [`anonymize_stream`], reading lines by the log formats of a configuration when given.
pub fn anonymize_stream_with(
    anon: &mut Anonymizer,
    formats: Option<&LogFormats>,
    mut input: impl BufRead,
    mut output: impl Write,
) -> io::Result<u64> {
    let mut line = Vec::with_capacity(1024);
    let mut out = String::with_capacity(1024);
    let mut count = 0;
    loop {
        line.clear();
        if read_line(&mut input, &mut line)? == 0 {
            break;
        }
        let newline = line.last() == Some(&b'\n');
        let body = if newline {
            &line[..line.len() - 1]
        } else {
            &line[..]
        };
        // Valid UTF-8 is the norm: validate (fast) and only repair lines that need it.
        let text = match std::str::from_utf8(body) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(body),
        };
        out.clear();
        anonymize_line_with(anon, formats, &text, &mut out);
        output.write_all(out.as_bytes())?;
        if newline {
            output.write_all(b"\n")?;
        }
        count += 1;
    }
    output.flush()?;
    Ok(count)
}

/// Anonymizes one line (without its line feed) into `out`.
pub fn anonymize_line(anon: &mut Anonymizer, line: &str, out: &mut String) {
    anonymize_line_with(anon, None, line, out);
}

/// Anonymizes one line: by the formats of a configuration when given, else by HAProxy's
/// standard formats, else with the generic scrub.
pub fn anonymize_line_with(
    anon: &mut Anonymizer,
    formats: Option<&LogFormats>,
    line: &str,
    out: &mut String,
) {
    let message = split_syslog(anon, formats, line, out);
    if formats.is_some_and(|f| f.anonymize(anon, message, out))
        || haproxy_message(anon, message, out)
    {
        return;
    }
    match formats {
        Some(f) => f.scrub(anon, message, out),
        None => generic(anon, message, out),
    }
}

/// `s.split_once(byte)` with a vectorised search (`str::split_once(char)` falls back to a
/// scalar scan, a measurable cost per log field).
fn split_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    // Splitting at an ASCII byte keeps both halves valid UTF-8.
    memchr::memchr(b, s.as_bytes()).map(|i| (&s[..i], &s[i + 1..]))
}

/// `s.rsplit_once(byte)`, vectorised.
fn rsplit_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    memchr::memrchr(b, s.as_bytes()).map(|i| (&s[..i], &s[i + 1..]))
}

/// `ip:port` as HAProxy prints `%ci:%cp` (IPv6 without brackets: the last colon is the port),
/// appended to `out` anonymized; false when `s` is not of that shape.
fn client_into(anon: &mut Anonymizer, s: &str, out: &mut String) -> bool {
    let Some((ip, port)) = rsplit_byte(s, b':') else {
        return false;
    };
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    anon.ip_into(out, ip);
    out.push(':');
    out.push_str(port);
    true
}

fn client(anon: &mut Anonymizer, s: &str) -> Option<String> {
    let mut out = String::new();
    client_into(anon, s, &mut out).then_some(out)
}

pub(crate) fn name_or_special_into(anon: &mut Anonymizer, s: &str, out: &mut String) {
    if s.starts_with('<') || s == "-" || s.is_empty() {
        out.push_str(s);
    } else {
        anon.name_into(out, s);
    }
}

/// httplog, httpslog and tcplog: `ip:port [date] fe be/srv …`, or CLF: `ip - - [date] "req" …`.
fn haproxy_message(anon: &mut Anonymizer, msg: &str, out: &mut String) -> bool {
    let Some((first, rest)) = split_byte(msg, b' ') else {
        return false;
    };
    if let Some(rest) = rest.strip_prefix("- - [") {
        return clf(anon, first, rest, out);
    }
    let mark = out.len();
    if !client_into(anon, first, out) {
        out.truncate(mark);
        return false;
    }
    let parsed = (|| {
        let rest = rest.strip_prefix('[')?;
        let (date, rest) = split_byte(rest, b']')?;
        let rest = rest.strip_prefix(' ')?;
        let (fe, rest) = split_byte(rest, b' ')?;
        let (rest_be, tail) = split_byte(rest, b' ').unwrap_or((rest, ""));
        let (be, srv) = split_byte(rest_be, b'/')?;
        Some((date, fe, be, srv, tail))
    })();
    let Some((date, fe, be, srv, tail)) = parsed else {
        out.truncate(mark);
        return false;
    };
    let (fe_name, tilde) = fe.strip_suffix('~').map_or((fe, ""), |f| (f, "~"));
    out.push_str(" [");
    out.push_str(date);
    out.push_str("] ");
    name_or_special_into(anon, fe_name, out);
    out.push_str(tilde);
    out.push(' ');
    name_or_special_into(anon, be, out);
    out.push('/');
    name_or_special_into(anon, srv, out);
    if !tail.is_empty() {
        out.push(' ');
        http_tail(anon, tail, out);
    }
    true
}

/// The part after `be/srv`: counters are kept; `{captures}`, the quoted request and any
/// trailing TLS fields are anonymized.
fn http_tail(anon: &mut Anonymizer, tail: &str, out: &mut String) {
    let mut rest = tail;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('{') {
            let end = memchr::memchr(b'}', inner.as_bytes()).unwrap_or(inner.len());
            out.push('{');
            captures_into(anon, &inner[..end], out);
            out.push('}');
            rest = inner.get(end + 1..).unwrap_or("");
        } else if let Some(inner) = rest.strip_prefix('"') {
            let end = memchr::memchr(b'"', inner.as_bytes()).unwrap_or(inner.len());
            out.push('"');
            request_line(anon, &inner[..end], out);
            if end < inner.len() {
                out.push('"');
            }
            rest = inner.get(end + 1..).unwrap_or("");
        } else {
            let end = rest
                .bytes()
                .position(|b| matches!(b, b' ' | b'{' | b'"'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            plain_word_into(anon, word, out);
            rest = &rest[end..];
            if let Some(r) = rest.strip_prefix(' ') {
                out.push(' ');
                rest = r;
            }
        }
    }
}

/// Captured header values, `|`-separated (inside the braces).
pub(crate) fn captures_into(anon: &mut Anonymizer, inner: &str, out: &mut String) {
    for (i, v) in inner.split('|').enumerate() {
        if i > 0 {
            out.push('|');
        }
        header_value_into(anon, v, out);
    }
}

/// Counters and flags stay; anything that carries identity (addresses, names, SNI…) does not.
fn plain_word_into(anon: &mut Anonymizer, w: &str, out: &mut String) {
    let numeric = w
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'+'));
    let flags = w.len() <= 4 && w.bytes().all(|b| b.is_ascii_uppercase() || b == b'-');
    if numeric || flags {
        out.push_str(w);
    } else {
        generic(anon, w, out);
    }
}

pub(crate) fn header_value_into(anon: &mut Anonymizer, v: &str, out: &mut String) {
    if v.is_empty() || v == "-" {
        out.push_str(v);
    } else if let Some((host, port)) = v
        .rsplit_once(':')
        .filter(|(h, p)| looks_like_hostname(h) && p.bytes().all(|b| b.is_ascii_digit()))
    {
        anon.hostname_into(out, host);
        out.push(':');
        out.push_str(port);
    } else if looks_like_hostname(v) {
        anon.hostname_into(out, v);
    } else if is_email(v) {
        // The token an email gets wherever it appears.
        out.push_str(&anon.email(v));
    } else if let Some(a) = anon.address_text(v) {
        out.push_str(&a);
    } else {
        anon.string_into(out, v);
    }
}

fn header_value(anon: &mut Anonymizer, v: &str) -> String {
    let mut out = String::new();
    header_value_into(anon, v, &mut out);
    out
}

/// `METHOD URI VERSION`: method and version kept; path segments and query values replaced,
/// query keys kept so the shape of the request stays readable.
pub(crate) fn request_line(anon: &mut Anonymizer, req: &str, out: &mut String) {
    let mut parts = req.splitn(3, ' ');
    let method = parts.next().unwrap_or("");
    let uri = parts.next();
    let version = parts.next();
    out.push_str(method);
    let Some(uri) = uri else { return };
    out.push(' ');
    uri_into(anon, uri, out);
    if let Some(v) = version {
        out.push(' ');
        out.push_str(v);
    }
}

/// A URI (absolute or origin form, or a query string alone from `?`): path segments and query
/// values replaced, query keys kept.
pub(crate) fn uri_into(anon: &mut Anonymizer, uri: &str, out: &mut String) {
    let scheme_end = uri.find(':').filter(|&i| uri[i..].starts_with("://"));
    let (authority, path_query) = match scheme_end.map(|i| (&uri[..i], &uri[i + 3..])) {
        Some((scheme, rest)) => {
            let slash = rest.find('/').unwrap_or(rest.len());
            let host = &rest[..slash];
            let host = header_value(anon, host);
            (Some(format!("{scheme}://{host}")), &rest[slash..])
        }
        None => (None, uri),
    };
    if let Some(a) = authority {
        out.push_str(&a);
    }
    let (path, query) = path_query
        .split_once('?')
        .map_or((path_query, None), |(p, q)| (p, Some(q)));
    if path == "*" || path.is_empty() {
        out.push_str(path);
    } else {
        anon.path_into(out, path);
    }
    if let Some(q) = query {
        out.push('?');
        for (i, pair) in q.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((k, v)) => {
                    out.push_str(k);
                    out.push('=');
                    if !v.is_empty() {
                        anon.string_into(out, v);
                    }
                }
                None => anon.string_into(out, pair),
            }
        }
    }
}

/// `%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s …`.
fn clf(anon: &mut Anonymizer, ip: &str, rest: &str, out: &mut String) -> bool {
    let Ok(addr) = ip.parse::<IpAddr>() else {
        return false;
    };
    let Some((date, rest)) = rest.split_once("] ") else {
        return false;
    };
    anon.ip_into(out, addr);
    out.push_str(" - - [");
    out.push_str(date);
    out.push_str("] ");
    // Quoted fields in order: request, referer, user agent, frontend, backend, server, captures.
    let mut quoted = 0;
    let mut rest = rest;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('"') {
            let end = memchr::memchr(b'"', inner.as_bytes()).unwrap_or(inner.len());
            let v = &inner[..end];
            out.push('"');
            match quoted {
                0 => request_line(anon, v, out),
                3..=5 => name_or_special_into(anon, v, out),
                _ => header_value_into(anon, v, out),
            }
            out.push('"');
            quoted += 1;
            rest = inner.get(end + 1..).unwrap_or("");
        } else {
            let end = rest
                .bytes()
                .position(|b| b == b' ' || b == b'"')
                .unwrap_or(rest.len());
            plain_word_into(anon, &rest[..end], out);
            rest = &rest[end..];
            if let Some(r) = rest.strip_prefix(' ') {
                out.push(' ');
                rest = r;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon(line: &str) -> String {
        let mut a = Anonymizer::new(42);
        let mut out = String::new();
        anonymize_line(&mut a, line, &mut out);
        out
    }

    #[test]
    fn httplog_fields() {
        let line = r#"127.1.1.2:42300 [24/Nov/2026:00:01:09.795] www_http web_servers/web-01.internal.example.com 0/0/0/0/0 200 141 - - ---- 1/1/0/0/0 0/0 {shop1.example.org|Mozilla/5.0 (X11; Linux) client-1} "GET /products/1?user=alice1&token=s3cr3t1 HTTP/1.1""#;
        let out = anon(line);
        for secret in [
            "127.1.1.2",
            "www_http",
            "web_servers",
            "web-01",
            "shop1.example.org",
            "alice1",
            "s3cr3t1",
            "products",
        ] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(
            out.contains(" 0/0/0/0/0 200 141 - - ---- 1/1/0/0/0 0/0 {"),
            "{out}"
        );
        assert!(
            out.contains("?user=") && out.contains("&token=") && out.ends_with(" HTTP/1.1\""),
            "{out}"
        );
    }

    #[test]
    fn tcplog_clf_and_syslog() {
        let out = anon("<134>Nov 24 00:01:22 lb1.corp.example haproxy[123]: 127.30.1.2:48702 [24/Nov/2026:00:01:22.015] db_tcp tcp_origin/pg-primary 1/0/1 166 -- 1/1/0/0/0 0/0");
        assert!(
            out.starts_with("<134>Nov 24 00:01:22 h") && out.contains("haproxy[123]: 10."),
            "{out}"
        );
        assert!(
            !out.contains("pg-primary") && !out.contains("lb1.corp"),
            "{out}"
        );
        let clf = anon(
            r#"127.20.0.5 - - [24/Nov/2026:00:01:12 +0000] "GET /clf/4 HTTP/1.1" 200 141 "" "" 36380 873 "www_clf" "web_servers" "web-02" 0 0 0 0 0 ---- 1 1 0 0 0 0 0 "" "" "#,
        );
        assert!(
            !clf.contains("127.20.0.5") && !clf.contains("web-02") && !clf.contains("www_clf"),
            "{clf}"
        );
        assert!(
            clf.ends_with(r#" 0 0 0 0 0 ---- 1 1 0 0 0 0 0 "" "" "#),
            "{clf}"
        );
    }

    #[test]
    fn lines_of_a_raw_header_block_lose_their_values() {
        // `log-format "%[var(txn.h)]"` holding `req.hdrs`: HAProxy writes its CR LF as they are,
        // so each header is a line of its own, ending with CR.
        for line in [
            "10.0.0.1 hdrs=\"host: shop.customer-one.example\r",
            "x-real-ip: 203.0.113.77\r",
        ] {
            let out = anon(line);
            assert!(
                !out.contains("customer-one") && !out.contains("203.0.113.77"),
                "{out:?}"
            );
            assert!(out.ends_with('\r'), "{out:?}");
        }
    }

    #[test]
    fn unknown_lines_are_scrubbed() {
        let out = anon("Server web/app1 is DOWN, reason: Layer4 timeout, check from 192.0.2.7 for admin@corp.example.com via db.internal.example.net");
        assert!(
            !out.contains("192.0.2.7")
                && !out.contains("admin@corp")
                && !out.contains("db.internal"),
            "{out}"
        );
    }

    #[test]
    fn urls_and_queries_in_unknown_lines_lose_their_values() {
        let out = anon("blocked \"/account/x?user=bob.jones&token=s3cr3t\" from https://portal.corp.example/login?next=/admin");
        for secret in [
            "account",
            "bob.jones",
            "s3cr3t",
            "portal.corp",
            "login",
            "admin",
        ] {
            assert!(!out.contains(secret), "{secret}: {out}");
        }
        // The words around them could be names too: each is a name's token.
        assert!(
            out.starts_with('n')
                && out.contains(" \"/")
                && out.contains("?user=")
                && out.contains("&token="),
            "{out}"
        );
        assert!(out.contains("\" from https://"), "{out}");
    }

    #[test]
    fn uris_inside_words_lose_their_values() {
        let out = anon(
            r#"seen uri=/a/b?user=alice.smith@mail.example&token=s3cr3tvalue {"q":"?user=bob@corp.example&pw=hunter2","u":"https://shop.example/x?id=carol","ua":"curl/8.0"} mail=dave@corp.example&x=1"#,
        );
        for secret in [
            "alice.smith",
            "mail.example",
            "s3cr3tvalue",
            "bob@corp",
            "hunter2",
            "shop.example",
            "carol",
            "dave@corp",
        ] {
            assert!(!out.contains(secret), "{secret}: {out}");
        }
        assert!(
            out.contains(" uri=/") && out.contains("?user=") && out.contains("&token="),
            "{out}"
        );
        assert!(
            out.contains(r#"{"q":"?user="#) && out.contains(r#"","ua":"curl/8.0"}"#),
            "{out}"
        );
    }

    #[test]
    fn host_names_with_ports_or_underscores_are_scrubbed() {
        let out = anon("resolver ns1 answered for db_primary.corp.example and cache.corp.example:6379 after 3 tries");
        assert!(
            !out.contains("db_primary")
                && !out.contains("cache.corp")
                && !out.contains("corp.example")
                && !out.contains("ns1"),
            "{out}"
        );
        assert!(out.contains(":6379 after 3 n"), "{out}");
    }

    /// HAProxy's own RFC3164 header has no host name unless `log-send-hostname` is set, and a
    /// syslog daemon's file has no `<PRI>` (its timestamp may be RFC3339): the message behind
    /// each is read as httplog all the same, so captured cookies and headers are replaced.
    #[test]
    fn syslog_headers_with_and_without_priority_host_name_or_rfc3164_stamp() {
        let msg = r#"127.0.0.1:56036 [05/Dec/2026:13:49:22.929] fe_web be_shop/web1.shop.example 0/0/0/3/3 404 500 session=SeSsIoN9f8e7d6c - ---- 1/1/0/0/0 0/0 {shop.example.com|Mozilla/5.0 (alice-laptop)} "GET /login?user=alice HTTP/1.1""#;
        let headers = [
            (
                "<134>Dec  5 13:49:22 haproxy[5092]: ",
                "<134>Dec  5 13:49:22 haproxy[5092]: ",
            ),
            (
                "<134>Dec 15 13:49:22 haproxy: ",
                "<134>Dec 15 13:49:22 haproxy: ",
            ),
            (
                "Dec  5 13:49:22 lb1.corp.example haproxy[5092]: ",
                "Dec  5 13:49:22 h",
            ),
            (
                "2026-12-05T13:49:22.123456+00:00 lb1.corp.example haproxy[5092]: ",
                "2026-12-05T13:49:22.123456+00:00 h",
            ),
        ];
        let mut messages = Vec::new();
        for (header, kept) in headers {
            let out = anon(&format!("{header}{msg}"));
            assert!(out.starts_with(kept), "{out}");
            for secret in ["SeSsIoN", "alice", "lb1.corp", "127.0.0.1", "shop.example"] {
                assert!(!out.contains(secret), "{secret}: {out}");
            }
            // The message follows the tag's colon.
            let (_, message) = out.split_once(": ").unwrap();
            messages.push(message.to_string());
        }
        // The same message, whichever header carried it.
        assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:#?}");
    }

    /// `log-format-sd` values are what the proxy logged: replaced as a message's words are, the
    /// escapes and the elements' shape kept.
    #[test]
    fn structured_data_values_are_scrubbed() {
        let out = anon(
            r#"<142>1 2026-12-05T13:55:28.764804+00:00 lb1.corp.example haproxy 2953 - [meta@32473 client="192.0.2.7" host="shop.acme-corp.com" note="say \"hi\" to bob@corp.example \] ok"][other x="-"] 192.0.2.7:41012 [05/Dec/2026:13:55:28.762] fe be/srv 0/0/0/1/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#,
        );
        for secret in ["192.0.2.7", "acme-corp", "bob@corp", "lb1.corp"] {
            assert!(!out.contains(secret), "{secret}: {out}");
        }
        assert!(out.contains(" - [meta@32473 client=\"10."), "{out}");
        // Words that could be names (`hi`) are replaced inside their escapes.
        assert!(
            out.contains(r#" note="n"#) && out.contains(r#" \"n"#),
            "{out}"
        );
        assert!(out.contains(r#"\" to u"#), "{out}");
        assert!(out.contains(r#" \] ok"][other x="-"] 10."#), "{out}");
    }
}
