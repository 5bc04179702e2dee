//! One `tcp-check`/`http-check` line as a rule: its words read as HAProxy reads them.

use super::*;

/// What the runtime cannot run in one `tcp-check`/`http-check` line (after the keyword),
/// named for a U001 report.
pub fn unsupported_rule(keyword: &str, words: &[&str]) -> Option<String> {
    if matches!(words, ["disable-on-404"] | ["send-state"]) {
        return None;
    }
    let first = words.first().copied().unwrap_or("");
    if parse_rule(words).is_none() {
        return Some(format!("'{keyword} {first}'"));
    }
    None
}

/// One `tcp-check`/`http-check` line (after the keyword) as a rule.
pub fn parse_rule(words: &[&str]) -> Option<CheckRule> {
    let (first, rest) = words.split_first()?;
    if let Some(name) = first
        .strip_prefix("set-var(")
        .and_then(|n| n.strip_suffix(')'))
    {
        return Some(CheckRule::SetVar {
            name: name.split(',').next().unwrap_or(name).to_string(),
            expr: rest.join(" "),
        });
    }
    if let Some(name) = first
        .strip_prefix("unset-var(")
        .and_then(|n| n.strip_suffix(')'))
    {
        return Some(CheckRule::UnsetVar {
            name: name.to_string(),
        });
    }
    let (comment, rest) = take_comment(rest);
    Some(match *first {
        "comment" => CheckRule::Comment(rest.join(" ")),
        "connect" => CheckRule::Connect(parse_connect(&rest, comment)),
        // The request form of `http-check send`: one of its words (the registry's list).
        "send"
            if rest
                .iter()
                .any(|w| crate::registry::is_word_of("http-check send", w))
                || rest.is_empty() =>
        {
            CheckRule::HttpSend(parse_http_send(&rest))
        }
        "send" => CheckRule::Send(SendRule::Bytes(rest.first()?.as_bytes().to_vec())),
        "send-lf" => CheckRule::Send(SendRule::Format {
            text: rest.first()?.to_string(),
            binary: false,
        }),
        "send-binary" => CheckRule::Send(SendRule::Bytes(hex(rest.first()?)?)),
        "send-binary-lf" => CheckRule::Send(SendRule::Format {
            text: rest.first()?.to_string(),
            binary: true,
        }),
        "expect" => {
            let mut e = parse_expect(&rest)?;
            e.comment = comment;
            CheckRule::Expect(e)
        }
        _ => return None,
    })
}

/// Takes `comment <text>` out of a rule's words.
fn take_comment<'a>(words: &[&'a str]) -> (Option<String>, Vec<&'a str>) {
    let mut out = Vec::new();
    let mut comment = None;
    let mut i = 0;
    while i < words.len() {
        if words[i] == "comment" && i > 0 {
            comment = words.get(i + 1).map(|c| c.to_string());
            i += 2;
            continue;
        }
        out.push(words[i]);
        i += 1;
    }
    (comment, out)
}

fn parse_connect(words: &[&str], comment: Option<String>) -> ConnectRule {
    let mut c = ConnectRule {
        comment,
        ..ConnectRule::default()
    };
    let mut i = 0;
    while i < words.len() {
        let value = words.get(i + 1).map(|v| v.to_string());
        let takes_value = match words[i] {
            "port" => {
                c.port = value.as_deref().and_then(|v| v.parse().ok());
                true
            }
            "addr" => {
                c.addr = value;
                true
            }
            "sni" => {
                c.sni = value;
                true
            }
            "alpn" => {
                c.alpn = value;
                true
            }
            "proto" => {
                c.proto = value;
                true
            }
            "ssl" => {
                c.ssl = true;
                false
            }
            "send-proxy" => {
                c.send_proxy = true;
                false
            }
            "via-socks4" => {
                c.via_socks4 = true;
                false
            }
            "linger" => {
                c.linger = true;
                false
            }
            "default" => {
                c.default = true;
                false
            }
            _ => false,
        };
        i += if takes_value { 2 } else { 1 };
    }
    c
}

fn parse_http_send(words: &[&str]) -> HttpSend {
    let mut s = HttpSend {
        method: String::new(),
        uri: String::new(),
        version: String::new(),
        headers: Vec::new(),
        body: String::new(),
    };
    let mut i = 0;
    while i < words.len() {
        let v = words.get(i + 1).copied().unwrap_or("").to_string();
        match words[i] {
            "meth" => s.method = v,
            "uri" | "uri-lf" => s.uri = v,
            "ver" => s.version = v,
            "body" | "body-lf" => s.body = v,
            "hdr" => {
                s.headers
                    .push((v, words.get(i + 2).copied().unwrap_or("").to_string()));
                i += 1;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    s
}

/// Hex digits as bytes (`send-binary`, `expect binary`).
pub fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A status list such as `200,301-302`.
fn status_ranges(text: &str) -> Vec<(u16, u16)> {
    text.split(',')
        .filter_map(|p| match p.split_once('-') {
            Some((lo, hi)) => Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?)),
            None => p.trim().parse().ok().map(|c| (c, c)),
        })
        .collect()
}

fn info(text: &str) -> Info {
    if text.contains('%') {
        Info::Format(text.to_string())
    } else {
        Info::Text(text.to_string())
    }
}

fn parse_expect(words: &[&str]) -> Option<ExpectRule> {
    let mut negate = false;
    let mut i = 0;
    // Options may come before the pattern kind.
    let mut options: Vec<(&str, &str)> = Vec::new();
    let mut matcher = None;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied().unwrap_or("");
        match w {
            "!" => {
                negate = true;
                i += 1;
            }
            "min-recv" | "on-success" | "on-error" | "status-code" | "ok-status"
            | "error-status" | "tout-status" => {
                options.push((w, next));
                i += 2;
            }
            "hdr" | "fhdr" => {
                let (m, used) = parse_header_match(w == "fhdr", &words[i + 1..]);
                matcher = Some(Matcher::Header(m));
                i += 1 + used;
            }
            kind if matcher.is_none() => {
                let (kind, neg) = match kind.strip_prefix('!') {
                    Some(k) => (k, true),
                    None => (kind, false),
                };
                negate |= neg;
                matcher = Some(match kind {
                    "string" => Matcher::String(next.into()),
                    "rstring" => Matcher::Rstring(next.into()),
                    "binary" => Matcher::Binary(hex(next)?),
                    "rbinary" => Matcher::Rbinary(next.into()),
                    "string-lf" => Matcher::StringLf(next.into()),
                    "binary-lf" => Matcher::BinaryLf(next.into()),
                    "status" => Matcher::Status(status_ranges(next)),
                    "rstatus" => Matcher::Rstatus(next.into()),
                    _ => return None,
                });
                i += 2;
            }
            _ => i += 1,
        }
    }
    let mut e = ExpectRule::new(matcher?);
    e.negate = negate;
    for (k, v) in options {
        match k {
            "min-recv" => {
                e.min_recv = v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .map(|n| n as usize)
            }
            "on-success" => e.on_success = Some(info(v)),
            "on-error" => e.on_error = Some(info(v)),
            "status-code" => e.status_code = Some(Info::Format(format!("%[{v}]"))),
            "ok-status" => e.ok_status = Some(v.into()),
            "error-status" => e.error_status = Some(v.into()),
            "tout-status" => e.tout_status = Some(v.into()),
            _ => {}
        }
    }
    Some(e)
}

/// `http-check expect string|rstring` on an HTTP check match the body.
pub fn as_http_expect(rule: &mut ExpectRule) {
    rule.matcher = match std::mem::replace(&mut rule.matcher, Matcher::Status(Vec::new())) {
        Matcher::String(s) => Matcher::Body(s),
        Matcher::Rstring(s) => Matcher::Rbody(s),
        Matcher::StringLf(s) => Matcher::BodyLf(s),
        other => other,
    };
}

fn parse_header_match(full: bool, words: &[&str]) -> (HeaderMatch, usize) {
    let mut name = TextMatch {
        method: "str".into(),
        pattern: String::new(),
        format: false,
    };
    let mut value: Option<TextMatch> = None;
    let mut method = "str".to_string();
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "-m" => {
                method = words.get(i + 1).copied().unwrap_or("str").to_string();
                i += 2;
            }
            w @ ("name" | "name-lf" | "value" | "value-lf") => {
                let m = TextMatch {
                    method: std::mem::replace(&mut method, "str".into()),
                    pattern: words.get(i + 1).copied().unwrap_or("").to_string(),
                    format: w.ends_with("-lf"),
                };
                if w.starts_with("name") {
                    name = m;
                } else {
                    value = Some(m);
                }
                i += 2;
            }
            _ => break,
        }
    }
    (HeaderMatch { full, name, value }, i)
}
