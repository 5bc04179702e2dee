//! The rule interpreter of a health check, without I/O: it says what to do next (connect,
//! send, read more) and, fed with what the server answered, decides the outcome the way
//! HAProxy's tcp-check engine does (statuses, codes and the info text of reports).

use super::expect::{self, Eval};
use crate::api::health::CheckStatus;
use crate::sample::Value;
use hapee_compiler::plan::checks::{
    is_bookkeeping, CheckKind, CheckRule, ConnectRule, ExpectRule, HealthCheck, Info, SendRule,
};
use std::collections::HashMap;

/// What the driver must do next.
#[derive(Debug)]
pub enum Step<'a> {
    Connect(&'a ConnectRule),
    Send(Vec<u8>),
    /// Read more bytes (or learn that the server closed).
    Recv,
    Done(Outcome),
}

/// A finished check: HAProxy's status, code and info text (`check_desc` in reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: CheckStatus,
    pub code: u32,
    pub info: String,
}

impl Outcome {
    pub fn new(status: CheckStatus, info: impl Into<String>) -> Outcome {
        Outcome {
            status,
            code: 0,
            info: info.into(),
        }
    }
}

/// Where a failure happened, for the messages of connection errors and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Connecting,
    TlsHandshake,
    Exchanging,
}

/// One run of a check's rules.
pub struct Session<'a> {
    check: &'a HealthCheck,
    /// The next rule to evaluate.
    next: usize,
    /// The rule being evaluated (its step number appears in messages).
    current: Option<usize>,
    /// Bytes received since the last connect.
    pub received: Vec<u8>,
    /// The server closed its side (or the buffer is full).
    pub closed: bool,
    must_read: bool,
    pub phase: Phase,
    /// The last connection is TLS (a final connect step reports L6OK).
    pub tls: bool,
    /// The check's variables (`check.*`, `set-var`).
    pub vars: HashMap<String, Value>,
    /// The `check.` variables' bytes, counted against `tune.vars.check-max-size`.
    var_bytes: crate::var_limits::CheckVars,
    pub code: u32,
    /// The response headers of an HTTP check, once received.
    pub response: Option<Vec<(String, String)>>,
    /// `http-check disable-on-404` applies to this run: the server is not stopped (a 404
    /// only takes a serving server out of the balancing; to a stopped one it is a failure).
    accepts_404: bool,
}

/// The most a check reads from a server (HAProxy's buffer size).
pub const MAX_RECEIVED: usize = 16384;

impl<'a> Session<'a> {
    /// A run of `check` on a server that is serving (`server_serving`: up, not in
    /// maintenance) or not.
    pub fn new(check: &'a HealthCheck, server_serving: bool) -> Session<'a> {
        Session {
            accepts_404: check.disable_on_404 && server_serving,
            check,
            next: 0,
            current: None,
            received: Vec::new(),
            closed: false,
            must_read: true,
            phase: Phase::Connecting,
            tls: false,
            vars: HashMap::new(),
            var_bytes: Default::default(),
            code: 0,
            response: None,
        }
    }

    /// Whether a 404 answer is a conditional success (see `accepts_404`).
    pub fn disable_on_404(&self) -> bool {
        self.accepts_404
    }

    pub fn kind(&self) -> CheckKind {
        self.check.kind
    }

    pub fn rules(&self) -> &'a [CheckRule] {
        &self.check.rules
    }

    pub fn current_rule(&self) -> Option<&'a CheckRule> {
        self.current.map(|i| &self.check.rules[i])
    }

    /// Data from the server.
    pub fn on_data(&mut self, data: &[u8]) {
        let room = MAX_RECEIVED.saturating_sub(self.received.len());
        self.received
            .extend_from_slice(&data[..data.len().min(room)]);
        if self.received.len() >= MAX_RECEIVED {
            self.closed = true;
        }
    }

    pub fn on_close(&mut self) {
        self.closed = true;
    }

    /// HAProxy's step number of a rule: its line's place among the check lines, counted
    /// from 1; the implicit first connect is step 0.
    pub fn step_id(&self, index: usize) -> usize {
        match self.check.rules.first() {
            Some(CheckRule::Connect(c)) if c.implicit => index,
            _ => index + 1,
        }
    }

    /// Advances through the rules until I/O is needed or the check is decided. `render`
    /// evaluates log-format strings and sample expressions with the check's variables.
    pub fn next_step(&mut self, env: &dyn Environment) -> Step<'a> {
        while let Some(rule) = self.check.rules.get(self.next) {
            let index = self.next;
            if !is_bookkeeping(rule) {
                if self.current != Some(index) {
                    // Each rule starts without a code, as in HAProxy.
                    self.code = 0;
                }
                self.current = Some(index);
            }
            match rule {
                CheckRule::Comment(_) => {}
                CheckRule::SetVar { name, expr } => {
                    if let Some(v) = env.eval(expr, self) {
                        let old = self.vars.remove(name);
                        if self.var_bytes.set(name, old.as_ref(), &v) {
                            self.vars.insert(name.clone(), v);
                        }
                    }
                }
                CheckRule::UnsetVar { name } => {
                    let old = self.vars.remove(name);
                    self.var_bytes.unset(name, old.as_ref());
                }
                CheckRule::Connect(c) => {
                    self.next += 1;
                    self.received.clear();
                    self.closed = false;
                    self.must_read = true;
                    self.phase = Phase::Connecting;
                    return Step::Connect(c);
                }
                CheckRule::Send(s) => {
                    self.next += 1;
                    self.must_read = true;
                    // What was read so far is dropped when a new request goes out.
                    self.received.clear();
                    let data = match s {
                        SendRule::Bytes(b) => b.clone(),
                        SendRule::Format { text, binary } => {
                            let text = env.render(text, self);
                            if *binary {
                                match hapee_compiler::plan::checks::hex(text.trim()) {
                                    Some(b) => b,
                                    None => {
                                        return Step::Done(Outcome::new(
                                            CheckStatus::L7Response,
                                            "Failed to parse hexastring resulting of eval of a log-format string",
                                        ))
                                    }
                                }
                            } else {
                                text.into_bytes()
                            }
                        }
                        SendRule::SslHello => ssl_hello(env.unix_time()),
                    };
                    return Step::Send(data);
                }
                CheckRule::HttpSend(h) => {
                    self.next += 1;
                    self.must_read = true;
                    self.received.clear();
                    return Step::Send(super::http::request(h, self, env));
                }
                CheckRule::Expect(e) => {
                    if self.must_read && !self.closed {
                        self.must_read = false;
                        return Step::Recv;
                    }
                    return self.evaluate_expect(index, e, env);
                }
            }
            self.next += 1;
        }
        Step::Done(self.success(env))
    }

    fn evaluate_expect(
        &mut self,
        index: usize,
        rule: &'a ExpectRule,
        env: &dyn Environment,
    ) -> Step<'a> {
        if self.closed && self.received.is_empty() {
            return Step::Done(self.empty_reply(index, rule));
        }
        match expect::evaluate(self, index, rule, env) {
            Eval::Wait if self.closed => Step::Done(self.empty_reply(index, rule)),
            // The same expect is evaluated again with more data.
            Eval::Wait => Step::Recv,
            Eval::Continue => self.after_expect(env),
            Eval::Stop(o) => Step::Done(o),
        }
    }

    fn after_expect(&mut self, env: &dyn Environment) -> Step<'a> {
        self.next += 1;
        // The next expect reads again only if the buffer is empty.
        self.must_read = self.received.is_empty();
        self.next_step(env)
    }

    fn empty_reply(&self, index: usize, rule: &ExpectRule) -> Outcome {
        let status = named_status(rule.error_status.as_deref()).unwrap_or(CheckStatus::L7Response);
        Outcome::new(
            status,
            format!(
                "TCPCHK got an empty response at step {}",
                self.step_id(index)
            ),
        )
    }

    /// Every rule passed: the status follows the last rule, as in HAProxy.
    fn success(&mut self, env: &dyn Environment) -> Outcome {
        let last = self.current.map(|i| &self.check.rules[i]);
        let tcp_check = self.check.kind == CheckKind::TcpCheck;
        match last {
            Some(CheckRule::Expect(e)) => {
                if self.accepts_404 && self.code == 404 {
                    return Outcome {
                        status: CheckStatus::L7OkCond,
                        code: 404,
                        info: String::new(),
                    };
                }
                let mut info = e
                    .on_success
                    .as_ref()
                    .map(|i| render_info(i, self, env))
                    .unwrap_or_default();
                if info.is_empty() && tcp_check && e.on_success.is_none() {
                    info = "(tcp-check)".into();
                }
                if let Some(code) = &e.status_code {
                    if let Ok(c) = render_info(code, self, env).trim().parse() {
                        self.code = c;
                    }
                }
                Outcome {
                    status: named_status(e.ok_status.as_deref()).unwrap_or(CheckStatus::L7Ok),
                    code: self.code,
                    info,
                }
            }
            Some(CheckRule::Connect(c)) => {
                let status = if self.tls {
                    CheckStatus::L6Ok
                } else {
                    CheckStatus::L4Ok
                };
                let info = if c.implicit { "" } else { "(tcp-check)" };
                Outcome::new(status, info)
            }
            _ => Outcome::new(CheckStatus::L7Ok, "(tcp-check)"),
        }
    }

    /// A connection (or TLS handshake) that failed, or a read or write error.
    pub fn io_failure(&self, error: &std::io::Error) -> Outcome {
        let status = match self.phase {
            Phase::Connecting => CheckStatus::L4Conn,
            Phase::TlsHandshake => CheckStatus::L6Response,
            Phase::Exchanging => CheckStatus::SockErr,
        };
        let text = error_text(error);
        Outcome::new(status, format!("{text}{}", self.where_text()))
    }

    /// The check timed out.
    pub fn timeout(&self) -> Outcome {
        let status = match (self.phase, self.current_rule()) {
            (Phase::Connecting, _) => CheckStatus::L4Timeout,
            (Phase::TlsHandshake, _) => CheckStatus::L6Timeout,
            (Phase::Exchanging, Some(CheckRule::Expect(e))) => {
                named_status(e.tout_status.as_deref()).unwrap_or(CheckStatus::L7Timeout)
            }
            _ => CheckStatus::L7Timeout,
        };
        Outcome::new(status, self.where_text())
    }

    /// ` at step N of tcp-check (…)`: where a plain tcp-check failed, as HAProxy reports it.
    fn where_text(&self) -> String {
        if self.check.kind != CheckKind::TcpCheck {
            return String::new();
        }
        let Some(index) = self.current else {
            return " at initial connection step of tcp-check".into();
        };
        let step = self.step_id(index);
        if step == 0 {
            return " at initial connection step of tcp-check".into();
        }
        let mut out = format!(" at step {step} of tcp-check");
        let rule = &self.check.rules[index];
        match rule {
            CheckRule::Connect(c) => match c.port {
                Some(p) => out.push_str(&format!(" (connect port {p})")),
                None => out.push_str(" (connect)"),
            },
            CheckRule::Expect(e) => out.push_str(&format!(" ({})", expect::describe(e))),
            CheckRule::Send(_) | CheckRule::HttpSend(_) => out.push_str(" (send)"),
            _ => {}
        }
        let comment = match rule {
            CheckRule::Connect(c) => c.comment.as_deref(),
            CheckRule::Expect(e) => e.comment.as_deref(),
            _ => None,
        };
        if let Some(c) = comment {
            out.push_str(&format!(" comment: '{c}'"));
        }
        out
    }
}

/// An OS error as HAProxy prints it: strerror's text (`Connection refused`), without the
/// " (os error N)" Rust appends.
pub(crate) fn error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let full = std::io::Error::from_raw_os_error(code).to_string();
            // Rust appends " (os error N)".
            full.split(" (os error").next().unwrap_or(&full).to_string()
        }
        None => e.to_string(),
    }
}

/// A status from its configuration name (`L7STS`).
pub fn named_status(name: Option<&str>) -> Option<CheckStatus> {
    name.and_then(CheckStatus::from_name)
}

/// What evaluates expressions and log-format strings for a check.
pub trait Environment {
    fn render(&self, format: &str, session: &Session) -> String;
    fn eval(&self, expr: &str, session: &Session) -> Option<Value>;
    fn unix_time(&self) -> u32;
    /// `X-Haproxy-Server-State` for `http-check send-state`.
    fn server_state(&self) -> Option<String> {
        None
    }
}

/// An info text or code from its template.
pub fn render_info(info: &Info, session: &Session, env: &dyn Environment) -> String {
    match info {
        Info::Text(t) => t.clone(),
        Info::Format(f) => env.render(f, session),
        Info::Payload {
            offset,
            len,
            ltrim,
            cut_crlf,
        } => {
            let data = session.received.get(*offset..).unwrap_or(&[]);
            let data = if *len > 0 {
                &data[..data.len().min(*len)]
            } else {
                data
            };
            let mut text = String::from_utf8_lossy(data).into_owned();
            if *ltrim {
                text = text.trim_start_matches(' ').to_string();
            }
            if *cut_crlf {
                if let Some(at) = text.find(['\r', '\n']) {
                    text.truncate(at);
                }
            }
            text
        }
    }
}

/// The SSLv3 client hello of `ssl-hello-chk`: the ciphers HAProxy offers, the time in the
/// random, and "HAPROXYSSLCHK" twice as the rest of the random.
pub fn ssl_hello(unix_time: u32) -> Vec<u8> {
    let mut out = vec![
        0x16, 0x03, 0x00, 0x00, 0x79, 0x01, 0x00, 0x00, 0x75, 0x03, 0x00,
    ];
    out.extend_from_slice(&unix_time.to_be_bytes());
    out.extend_from_slice(b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n");
    out.push(0x00);
    out.extend_from_slice(&[0x00, 0x4E]);
    for c in (0x01u16..=0x1B).chain(0x2F..=0x3A) {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out.extend_from_slice(&[0x01, 0x00]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_hello_lengths_match_its_header() {
        let hello = ssl_hello(0);
        assert_eq!(hello.len(), 5 + 0x79);
        assert_eq!(&hello[5..9], &[0x01, 0x00, 0x00, 0x75]);
    }
}
