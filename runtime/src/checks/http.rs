//! HTTP checks: the request of `option httpchk`/`http-check send`, and `http-check expect`
//! over the parsed response (httparse reads the head).

use super::engine::{named_status, Environment, Session};
use super::expect::{fail, fail_reply, Eval, EMPTY_LOG_FORMAT};
use crate::api::health::CheckStatus;
use hapee_compiler::plan::checks::{ExpectRule, HeaderMatch, HttpSend, Matcher, TextMatch};

/// The request bytes; as HAProxy does, `Connection: close` unless the user set a
/// `Connection` header, and always a content length. Header names go out in lower case, as
/// HAProxy's HTX stores and its HTTP/1 output writes them.
pub fn request(h: &HttpSend, s: &Session, env: &dyn Environment) -> Vec<u8> {
    let render = |t: &str| {
        if t.contains('%') {
            env.render(t, s)
        } else {
            t.to_string()
        }
    };
    let mut out = format!("{} {} {}\r\n", h.method, render(&h.uri), h.version);
    let mut connection = false;
    for (n, v) in &h.headers {
        let value = render(v);
        if value.is_empty() {
            continue;
        }
        connection |= n.eq_ignore_ascii_case("connection");
        out.push_str(&format!("{}: {value}\r\n", n.to_ascii_lowercase()));
    }
    if let Some(state) = env.server_state() {
        out.push_str(&format!("x-haproxy-server-state: {state}\r\n"));
    }
    let body = render(&h.body);
    if !connection {
        out.push_str("connection: close\r\n");
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    out.push_str(&body);
    out.into_bytes()
}

/// A parsed response: status, reason, headers, and where the body starts.
struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body_at: usize,
}

fn parse(data: &[u8]) -> Result<Option<Response>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(data) {
        Ok(httparse::Status::Complete(n)) => Ok(Some(Response {
            status: r.code.unwrap_or(0),
            reason: r.reason.unwrap_or("").to_string(),
            headers: r
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect(),
            body_at: n,
        })),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(()),
    }
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The whole body is there: its length is reached, or the last chunk, or the close.
    fn complete(&self, data: &[u8], closed: bool) -> bool {
        let body = &data[self.body_at.min(data.len())..];
        if closed {
            return true;
        }
        if let Some(len) = self
            .header("content-length")
            .and_then(|l| l.trim().parse::<usize>().ok())
        {
            return body.len() >= len;
        }
        if self
            .header("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            return body.ends_with(b"0\r\n\r\n");
        }
        matches!(self.status, 204 | 304 | 100..=199)
    }

    fn body(&self, data: &[u8]) -> Vec<u8> {
        let raw = &data[self.body_at.min(data.len())..];
        if !self
            .header("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            return match self
                .header("content-length")
                .and_then(|l| l.trim().parse::<usize>().ok())
            {
                Some(len) => raw[..len.min(raw.len())].to_vec(),
                None => raw.to_vec(),
            };
        }
        let mut out = Vec::new();
        let mut rest = raw;
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size_text = String::from_utf8_lossy(&rest[..line_end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or(0);
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size.min(rest.len())]);
            rest = rest.get(size + 2..).unwrap_or(&[]);
        }
        out
    }
}

fn text_match(m: &TextMatch, pattern: &str, candidate: &str, name: bool) -> bool {
    let eq = |a: &str, b: &str| {
        if name {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    match m.method.as_str() {
        "beg" => candidate.len() >= pattern.len() && eq(&candidate[..pattern.len()], pattern),
        "end" => {
            candidate.len() >= pattern.len()
                && eq(&candidate[candidate.len() - pattern.len()..], pattern)
        }
        "sub" => {
            if name {
                candidate
                    .to_ascii_lowercase()
                    .contains(&pattern.to_ascii_lowercase())
            } else {
                candidate.contains(pattern)
            }
        }
        "reg" => regex::RegexBuilder::new(pattern)
            .case_insensitive(name)
            .build()
            .is_ok_and(|r| r.is_match(candidate)),
        _ => eq(candidate, pattern),
    }
}

fn header_matches(h: &HeaderMatch, resp: &Response, s: &Session, env: &dyn Environment) -> bool {
    let pattern = |m: &TextMatch| {
        if m.format {
            env.render(&m.pattern, s)
        } else {
            m.pattern.clone()
        }
    };
    let name_pattern = pattern(&h.name);
    let value_pattern = h.value.as_ref().map(|v| (v, pattern(v)));
    resp.headers
        .iter()
        .filter(|(n, _)| text_match(&h.name, &name_pattern, n, true))
        .any(|(_, v)| match &value_pattern {
            None => true,
            Some((m, p)) if h.full => text_match(m, p, v.trim(), false),
            Some((m, p)) => v
                .split(',')
                .any(|part| text_match(m, p, part.trim(), false)),
        })
}

/// An `http-check expect` rule over the response received so far.
pub fn evaluate(s: &mut Session, index: usize, rule: &ExpectRule, env: &dyn Environment) -> Eval {
    let data = s.received.clone();
    let resp = match parse(&data) {
        Err(()) => return fail(s, index, rule, CheckStatus::L7Response, false, None, env),
        Ok(None) if s.closed => {
            return fail(s, index, rule, CheckStatus::L7Response, false, None, env)
        }
        Ok(None) => return Eval::Wait,
        Ok(Some(r)) => r,
    };
    if !resp.complete(&data, s.closed) {
        return Eval::Wait;
    }
    s.code = u32::from(resp.status);
    // Samples of later rules (`set-var(…) res.hdr(…)`, `status`) read this response.
    s.response = Some(resp.headers.clone());
    if s.disable_on_404() && resp.status == 404 {
        return Eval::Continue;
    }
    let configured = named_status(rule.error_status.as_deref());
    let reason = resp.reason.clone();
    let (matched, status, desc): (bool, CheckStatus, Option<String>) = match &rule.matcher {
        Matcher::Status(ranges) => (
            ranges
                .iter()
                .any(|(lo, hi)| (*lo..=*hi).contains(&resp.status)),
            configured.unwrap_or(CheckStatus::L7Status),
            rule.on_error.is_none().then_some(reason),
        ),
        Matcher::Rstatus(re) => (
            regex::Regex::new(re).is_ok_and(|r| r.is_match(&resp.status.to_string())),
            configured.unwrap_or(CheckStatus::L7Status),
            rule.on_error.is_none().then_some(reason),
        ),
        Matcher::Header(h) => (
            header_matches(h, &resp, s, env),
            configured.unwrap_or(CheckStatus::L7Status),
            rule.on_error.is_none().then_some(reason),
        ),
        Matcher::Body(_) | Matcher::Rbody(_) | Matcher::BodyLf(_) => {
            let body = resp.body(&data);
            let status = configured.unwrap_or(CheckStatus::L7Response);
            if body.is_empty() {
                let desc = rule
                    .on_error
                    .is_none()
                    .then(|| "HTTP content check could not find a response body".to_string());
                return fail(s, index, rule, status, false, desc.as_deref(), env);
            }
            let hit = match &rule.matcher {
                Matcher::Body(p) => body.windows(p.len().max(1)).any(|w| w == p.as_bytes()),
                Matcher::Rbody(re) => regex::bytes::Regex::new(re).is_ok_and(|r| r.is_match(&body)),
                Matcher::BodyLf(f) => {
                    let p = env.render(f, s);
                    if p.is_empty() {
                        return fail_reply(s, index, rule, EMPTY_LOG_FORMAT, env);
                    }
                    body.windows(p.len()).any(|w| w == p.as_bytes())
                }
                _ => false,
            };
            let desc = rule.on_error.is_none().then(|| {
                if rule.negate {
                    "HTTP check matched unwanted content".to_string()
                } else {
                    "HTTP content check did not match".to_string()
                }
            });
            (hit, status, desc)
        }
        _ => (false, configured.unwrap_or(CheckStatus::L7Response), None),
    };
    if matched != rule.negate {
        return Eval::Continue;
    }
    fail(s, index, rule, status, matched, desc.as_deref(), env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_decoded() {
        let data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nall \r\n5\r\nready\r\n0\r\n\r\n";
        let r = parse(data).unwrap().unwrap();
        assert!(r.complete(data, false));
        assert_eq!(r.body(data), b"all ready");
    }

    #[test]
    fn header_patterns() {
        let m = |method: &str, pattern: &str| TextMatch {
            method: method.into(),
            pattern: pattern.into(),
            format: false,
        };
        assert!(text_match(
            &m("beg", "X-Begin-"),
            "X-Begin-",
            "x-begin-foo",
            true
        ));
        assert!(text_match(&m("end", "-End"), "-End", "x-foo-end", true));
        assert!(text_match(
            &m("reg", "^value-reg-[A-Z0-9]+$"),
            "^value-reg-[A-Z0-9]+$",
            "value-reg-ABC",
            false
        ));
        assert!(!text_match(&m("str", "true"), "true", "TRUE", false));
    }
}
