use super::*;
use crate::syntax::MapEnv;

/// The word scan eight bytes at a time stops where the byte loop does, whatever byte ends
/// the word and wherever it stands in a block.
#[test]
fn word_scan_stops_where_the_byte_loop_does() {
    for b in 0..=255u8 {
        for before in 0..20 {
            for after in [0, 1, 5, 9] {
                let mut bytes = vec![b'a'; before];
                bytes.push(b);
                bytes.extend(std::iter::repeat_n(b'z', after));
                for from in 0..bytes.len() {
                    assert_eq!(
                        skip_word(&bytes, from),
                        skip_class(&bytes, from, WORD),
                        "{bytes:?} from {from}"
                    );
                }
            }
        }
    }
}

#[test]
fn plain_lines_lex_the_same_both_ways() {
    let env = MapEnv::default();
    let ctx = LineContext {
        file: FileId(3),
        offset: 40,
        file_name: "t",
        line_number: 1,
        section: "global",
        env: &env,
    };
    let many = |n: usize| {
        (0..n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let lines = [
        String::new(),
        "   ".into(),
        "    server s1 10.0.0.1:80 check".into(),
        "\tbind\t:443  ssl crt /x.pem   ".into(),
        "a\x0bb\x0cc".into(),
        "use_backend b if { hdr(host) -i café.example }".into(),
        "server".into(),
        "  servers s1".into(),
        "acl a hdr(x) -m str \"y\"".into(),
        "  http-request set-var(txn.x) str(a!b$c%d&e\x01f) if !{ path_beg /x }".into(),
        "server s1 averylongword.example.com:8080 check\\inter".into(),
        "bind :443 ssl crt /etc/ssl/a-very-long-path/certificaté.pem alpn h2#x".into(),
        "# a comment".into(),
        many(PLAIN_LINE_WORDS),
        many(PLAIN_LINE_WORDS + 1),
        many(63),
        many(64),
        many(65),
    ];
    for line in &lines {
        let fast = lex_line(line, &ctx);
        let slow = lex_cooked(line, &ctx);
        assert_eq!(fast.words, slow.words, "{line:?}");
        assert_eq!(fast.error.is_some(), slow.error.is_some(), "{line:?}");
        // The parse's look at a line it may defer, and the build's at a deferred one.
        let first = plain_words(line, FileId(3), 40).and_then(|w| w.first().cloned());
        assert_eq!(
            plain_first_word(line),
            first.as_ref().map(|w| w.value.as_str()),
            "{line:?}"
        );
        if let Some(first) = &first {
            assert_eq!(first_word_of_plain(line), first.value.as_str(), "{line:?}");
        }
        // The build's words of a deferred line, sliced once: those of the plain way.
        let words = plain_words(line, FileId(3), 40);
        let scanned = PlainBounds::scan_words(line);
        assert_eq!(words.is_some(), scanned.is_some(), "{line:?}");
        if let (Some(words), Some((bounds, strs))) = (&words, &scanned) {
            let values: Vec<&str> = words.iter().map(|w| w.value.as_str()).collect();
            assert_eq!(values, strs[..bounds.bounds().len()], "{line:?}");
        }
        let special = crate::source::SourceFile::new("t", format!("{line}\n"));
        if !special_lines(&special).contains(0) {
            assert_eq!(
                plain_first_word_unspecial(line),
                plain_first_word(line),
                "{line:?}"
            );
        }
    }
}

#[test]
fn special_lines_are_those_holding_a_quote_escape_or_comment() {
    let text = "a b\n\"q\"\nc\\ d\n  e # f\nplain\r\n'x'\n  \"last";
    let source = crate::source::SourceFile::new("t", text);
    let set = special_lines(&source);
    let found: Vec<usize> = (0..source.line_count())
        .filter(|&i| set.contains(i))
        .collect();
    assert_eq!(found, [1, 2, 3, 5, 6]);
}

fn lex_env(line: &str, env: &MapEnv) -> Result<Vec<String>, String> {
    let ctx = LineContext {
        file: FileId(0),
        offset: 0,
        file_name: "t.cfg",
        line_number: 7,
        section: "fe",
        env,
    };
    let l = lex_line(line, &ctx);
    match l.error {
        Some(d) => Err(d.message.into_owned()),
        None => Ok(l.words.into_iter().map(|w| w.value.to_string()).collect()),
    }
}

fn lex(line: &str) -> Result<Vec<String>, String> {
    let env = MapEnv(
        [("HOST", "a b  c"), ("EMPTY", ""), ("PORT", "80")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    lex_env(line, &env)
}

fn words(line: &str) -> Vec<String> {
    lex(line).expect("no lexical error")
}

#[test]
fn splits_and_collapses_blanks() {
    assert_eq!(words("  bind   :80\tssl "), ["bind", ":80", "ssl"]);
    assert_eq!(words(""), Vec::<String>::new());
}

#[test]
fn comments_end_the_line_even_mid_word() {
    assert_eq!(words("a#b c"), ["a"]);
    assert_eq!(words("a \\#b"), ["a", "#b"]);
    assert_eq!(words("a \"#b\""), ["a", "#b"]);
}

#[test]
fn quotes() {
    assert_eq!(words("foo\"bar baz\"qux"), ["foobar bazqux"]);
    assert_eq!(words("a '$HOST \\n' \"$PORT\""), ["a", "$HOST \\n", "80"]);
    assert_eq!(words("a \"\" b"), ["a", "", "b"]);
    assert_eq!(words("a \"\""), ["a"], "a trailing empty word is dropped");
    assert_eq!(
        words("x $PORT"),
        ["x", "$PORT"],
        "no expansion outside double quotes"
    );
}

#[test]
fn escapes() {
    assert_eq!(words("a\\ b \\\\ \\1 \\x41"), ["a b", "\\", "\\1", "A"]);
    assert_eq!(words("\"\\$PORT\" \\$PORT"), ["$PORT", "\\$PORT"]);
    assert_eq!(words("end\\"), ["end\\"]);
    // Escaped bytes that spell UTF-8 are that character, in or out of quotes; a byte that
    // does not is carried as a byte (`bytestr`), and leaves as it came.
    let w = words("\\xC3\\xA9 \"x\\xE2\\x82\\xACy\" \\x41\\xC3\\xA9\\xFF \"a\\xE0b\"");
    assert_eq!(w[..2], ["\u{e9}", "x\u{20ac}y"]);
    let bytes: Vec<_> = w[2..]
        .iter()
        .map(|w| crate::bytestr::to_bytes(w).into_owned())
        .collect();
    assert_eq!(bytes, [&b"A\xC3\xA9\xFF"[..], b"a\xE0b"]);
    assert_eq!(words("'\\xC3\\xA9'"), ["\\xC3\\xA9"]);
}

#[test]
fn variables() {
    assert_eq!(
        words("\"${PORT}\" \"${NOPE-5s}\" \"${EMPTY-x}\""),
        ["80", "5s", ""].map(String::from).to_vec()[..2].to_vec()
    );
    assert_eq!(words("x \"${HOST[*]}\" y"), ["x", "a", "b", "c", "y"]);
    assert_eq!(words("\"$.LINE:${.FILE}:$.SECTION\""), ["7:t.cfg:fe"]);
    assert_eq!(words("\"${NOPE}\" z"), ["", "z"]);
}

#[test]
fn errors_with_positions() {
    assert_eq!(
        lex("  bind \"abc"),
        Err("unmatched quote at position 8:".into())
    );
    assert_eq!(
        lex("x \"${PORT\""),
        Err("unmatched brace in environment variable name at position 5:".into())
    );
    assert_eq!(
        lex("x \"$1\""),
        Err("forbidden first char in environment variable name at position 5:".into())
    );
    assert_eq!(
        lex("x \\x4"),
        Err("truncated or invalid hexadecimal sequence at position 3:".into())
    );
    assert_eq!(
        lex("x \"${HOST[x]}\""),
        Err("truncated or invalid word expansion sequence at position 10:".into())
    );
    assert_eq!(
        lex("x \"$.NOPE\""),
        Err("forbidden first char in environment variable name at position 5:".into())
    );
}

#[test]
fn word_limit() {
    let ok: Vec<String> = (0..64).map(|i| format!("w{i}")).collect();
    assert_eq!(words(&ok.join(" ")).len(), 64);
    let err = lex(&format!("{} ", ok.join(" "))).unwrap_err();
    assert!(
        err.starts_with("too many words, truncating after word 64, position "),
        "{err}"
    );
    assert!(err.ends_with(": <w63>."), "{err}");
    assert!(lex(&format!("{} extra", ok.join(" "))).is_err());
}

#[test]
fn spans_cover_raw_text() {
    let env = MapEnv::default();
    let ctx = LineContext {
        file: FileId(0),
        offset: 100,
        file_name: "t",
        line_number: 1,
        section: "",
        env: &env,
    };
    let l = lex_line("  acl x \"a b\" # c", &ctx);
    let spans: Vec<(u32, u32)> = l.words.iter().map(|w| (w.span.start, w.span.end)).collect();
    assert_eq!(spans, [(102, 105), (106, 107), (108, 113)]);
    assert_eq!(l.comment.map(|c| (c.start, c.end)), Some((114, 117)));
}

mod unicode {
    use super::*;
    use crate::syntax::MapEnv;

    #[test]
    fn multibyte_after_backslash_and_in_quotes() {
        let env = MapEnv::default();
        let ctx = LineContext {
            file: FileId(0),
            offset: 0,
            file_name: "t",
            line_number: 1,
            section: "",
            env: &env,
        };
        for line in [
            "a \\é b",
            "\"\\é\"",
            "'é",
            "\"é",
            "é#é",
            "\\",
            "\"\\",
            "\u{fffd}\\\u{fffd}\"\\\u{fffd}",
        ] {
            let _ = lex_line(line, &ctx);
        }
    }
}

/// The count of low bytes eight at a time is the byte loop's, whatever byte stands wherever
/// in a block or in the tail.
#[test]
fn low_byte_count_is_the_byte_loops() {
    for b in 0..=255u8 {
        for len in [1, 7, 8, 9, 16, 23, 50] {
            for at in [0, len / 2, len - 1] {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b;
                if len > 2 {
                    bytes[len - 2] = b' ';
                }
                let plain = bytes.iter().filter(|&&c| c <= 0x20).count();
                assert_eq!(low_bytes(&bytes), plain, "{b:#x} at {at} of {len}");
            }
        }
    }
    let all: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    let plain = all.iter().filter(|&&c| c <= 0x20).count();
    assert_eq!(low_bytes(&all), plain);
}

/// The indent skipped eight bytes at a time ends where the byte loop's does, whatever byte
/// ends it and wherever.
#[test]
fn blank_skip_stops_where_the_byte_loop_does() {
    for b in 0..=255u8 {
        for spaces in 0..20 {
            for from in [0, 1, 3] {
                let mut bytes = vec![b' '; spaces];
                bytes.push(b);
                bytes.extend_from_slice(b" \tx ");
                let from = from.min(bytes.len());
                assert_eq!(
                    skip_blanks(&bytes, from),
                    skip_class(&bytes, from, BLANK),
                    "{b:#x} after {spaces} from {from}"
                );
                let plain = from + bytes[from..].iter().take_while(|&&c| c == b' ').count();
                assert_eq!(skip_spaces(&bytes, from), plain);
            }
        }
    }
}
