//! String samples hold bytes, not only UTF-8: a configuration's `\xE0`, a header byte above
//! 0x7F, what `url_dec` decodes. Converters (`json`, `hex`, `lower`, `url_dec`, `length`) and
//! ACL matches (`-m beg`, `-m len`, `-m sub`) see those bytes, and headers, reply bodies and log
//! lines written from them carry them as they are. Side by side with HAProxy (hapee read `\xE0`
//! as the character U+00E0, so `json(utf8)` found valid UTF-8: reg-test `converter/json`; a
//! header's byte went out as U+FFFD).

use super::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

/// The value bytes of each `x-*` header of an answer's head, in order.
fn x_headers(answer: &[u8]) -> Vec<(String, Vec<u8>)> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    answer[..end]
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|b| *b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
            let value = line[colon + 1..].trim_ascii().to_vec();
            name.starts_with("x-").then_some((name, value))
        })
        .collect()
}

fn exchange(port: u16, request: &[u8]) -> Vec<u8> {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn string_samples_carry_bytes_that_are_not_utf8() {
    let cfg = |port: u16| {
        format!(
            r#"global
    log stdout format raw local0
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    log global
    http-request set-var(txn.b) req.hdr(x-b)
    http-request set-var(txn.u) req.hdr(x-u)
    log-format "L [%[str(-\xE0-)]] [%[var(txn.b),lower]] [%[var(txn.u),url_dec]]"
    http-request return status 200 content-type text/plain lf-string "ok%[str(\xE0)]"
    http-after-response set-header x-json-utf8 "%[str(-\xE0-),json(utf8)]"
    http-after-response set-header x-json-utf8s "%[str(-\xE0-),json(utf8s)]"
    http-after-response set-header x-json-ascii "%[str(-\xE0-),json]"
    http-after-response set-header x-json-valid "%[str(\xC3\xA9),json(utf8)]"
    http-after-response set-header x-hex "%[str(-\xE0-),hex]"
    http-after-response set-header x-length "%[str(-\xE0-),length]"
    http-after-response set-header x-raw "%[str(<\xE0>)]"
    http-after-response set-header x-lower "%[var(txn.b),lower]"
    http-after-response set-header x-lower-hex "%[var(txn.b),lower,hex]"
    http-after-response set-header x-copy %[var(txn.b)]
    http-after-response set-header x-urldec "%[var(txn.u),url_dec]"
    http-after-response set-header x-urldec-hex "%[var(txn.u),url_dec,hex]"
    http-after-response set-header x-private "%[str(<{private}>)]"
    http-after-response set-header x-private-len "%[str({private}),length]"
    http-after-response set-header x-beg yes if {{ str(\xC3\xA9) -m beg \xC3 }}
    http-after-response set-header x-len yes if {{ str(\xE0\xE0) -m len 2 }}
    http-after-response set-header x-sub yes if {{ var(txn.b) -m sub \xE0B }}
"#,
            // A character of the range hapee keeps bytes in, written as text: it stays text.
            private = '\u{10FF80}',
        )
    };
    let drive = |port: u16, side: &Side| {
        let answer = exchange(
            port,
            b"GET / HTTP/1.1\r\nHost: a\r\nx-b: A\xE0B\r\nx-u: %E0%41\r\nConnection: close\r\n\r\n",
        );
        let log = side.stdout_bytes_when(|out| out.ends_with(b"\n"));
        let body_at = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |p| p + 4);
        (x_headers(&answer), answer[body_at..].to_vec(), log)
    };
    let (mine, theirs) = both_reading(1, cfg, drive);
    let expected: Vec<(String, Vec<u8>)> = [
        ("x-json-utf8", &b""[..]),
        ("x-json-utf8s", b"--"),
        ("x-json-ascii", b"-\\u00e0-"),
        ("x-json-valid", b"\\u00e9"),
        ("x-hex", b"2DE02D"),
        ("x-length", b"3"),
        ("x-raw", b"<\xE0>"),
        ("x-lower", b"a\xE0b"),
        ("x-lower-hex", b"61E062"),
        ("x-copy", b"A\xE0B"),
        ("x-urldec", b"\xE0A"),
        ("x-urldec-hex", b"E041"),
        ("x-private", b"<\xF4\x8F\xBE\x80>"),
        ("x-private-len", b"4"),
        ("x-beg", b"yes"),
        ("x-len", b"yes"),
        ("x-sub", b"yes"),
    ]
    .map(|(n, v)| (n.to_string(), v.to_vec()))
    .to_vec();
    assert_eq!(mine.0, expected);
    assert_eq!(mine.1, b"ok\xE0");
    assert_eq!(mine.2, b"L [-\xE0-] [a\xE0b] [\xE0A]\n");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
