//! Health checks as rule lists, the way HAProxy runs every check kind: `option tcp-check` and
//! `option httpchk` take the user's `tcp-check`/`http-check` lines, and each protocol check
//! (`redis-check`, `mysql-check`, `pgsql-check`, `smtpchk`, `ldap-check`, `ssl-hello-chk`,
//! `spop-check`) is a fixed rule list built here from its options.

use crate::ir::DirectiveLine;
use serde::Serialize;

mod parse;
mod protocols;
pub use parse::{as_http_expect, hex, parse_rule, unsupported_rule};
pub use protocols::spop_hello_frame;
use protocols::{ldap, mysql, pgsql, redis, smtp, spop, ssl_hello};

/// A backend's health check: which kind, and the rules that run it in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    pub kind: CheckKind,
    pub rules: Vec<CheckRule>,
    /// `http-check disable-on-404`.
    pub disable_on_404: bool,
    /// `http-check send-state`: the `X-Haproxy-Server-State` request header.
    pub send_state: bool,
    /// `option log-health-checks`: every change of a check's result is logged.
    pub log_changes: bool,
    /// Where the backend logs (check results and server state changes go there).
    pub logs: Vec<super::LogTarget>,
    /// `email-alert …`: who is mailed about server state changes.
    pub email: Option<super::mailers::EmailAlert>,
    /// `option external-check`: the command run as the check.
    pub external: Option<super::mailers::ExternalCheck>,
}

impl HealthCheck {
    pub fn with_logs(mut self, logs: Vec<super::LogTarget>) -> HealthCheck {
        self.logs = logs;
        self
    }

    pub fn with_email(mut self, email: Option<super::mailers::EmailAlert>) -> HealthCheck {
        self.email = email;
        self
    }

    /// The proxy's first listening address, given to an external check's command.
    pub fn with_listener(mut self, listener: Option<(String, String)>) -> HealthCheck {
        if let Some(ext) = self.external.as_mut() {
            ext.listener = listener;
        }
        self
    }
}

/// The option that chose the check; it decides how results are described (a protocol check
/// never says "(tcp-check)", a plain connect check reports L4OK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// No option: connect, nothing more.
    Connect,
    TcpCheck,
    Http,
    Redis,
    Mysql,
    Pgsql,
    Smtp,
    Ldap,
    SslHello,
    Spop,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckRule {
    Connect(ConnectRule),
    Send(SendRule),
    Expect(ExpectRule),
    /// `http-check send`: one HTTP request.
    HttpSend(HttpSend),
    Comment(String),
    /// `set-var(<name>) <expr>`: `name` includes its scope (`check.x`).
    SetVar {
        name: String,
        expr: String,
    },
    UnsetVar {
        name: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConnectRule {
    pub port: Option<u16>,
    pub addr: Option<String>,
    pub ssl: bool,
    pub sni: Option<String>,
    pub alpn: Option<String>,
    pub proto: Option<String>,
    pub send_proxy: bool,
    pub via_socks4: bool,
    pub linger: bool,
    /// `default`: the server's own check settings (port, TLS, PROXY protocol).
    pub default: bool,
    /// Added by the check kind rather than written by the user.
    pub implicit: bool,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendRule {
    Bytes(Vec<u8>),
    /// A log-format string sent as text (`send-lf`), or, when `binary`, its text read as hex
    /// digits (`send-binary-lf`).
    Format {
        text: String,
        binary: bool,
    },
    /// The SSLv3 client hello of `ssl-hello-chk`, stamped with the current time.
    SslHello,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HttpSend {
    pub method: String,
    pub uri: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Default for HttpSend {
    fn default() -> Self {
        HttpSend {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectRule {
    pub negate: bool,
    pub matcher: Matcher,
    /// Bytes to wait for before matching; `None` waits as long as nothing matched.
    pub min_recv: Option<usize>,
    pub on_success: Option<Info>,
    pub on_error: Option<Info>,
    /// Where the check's code comes from (`status-code`).
    pub status_code: Option<Info>,
    /// HAProxy status names (`L7OK`, `L6RSP`…).
    pub ok_status: Option<String>,
    pub error_status: Option<String>,
    pub tout_status: Option<String>,
    pub comment: Option<String>,
}

impl ExpectRule {
    fn new(matcher: Matcher) -> ExpectRule {
        ExpectRule {
            negate: false,
            matcher,
            min_recv: None,
            on_success: None,
            on_error: None,
            status_code: None,
            ok_status: None,
            error_status: None,
            tout_status: None,
            comment: None,
        }
    }
}

/// What a check's info text (or code) is made of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Info {
    Text(String),
    /// A log-format string, rendered when the rule ends.
    Format(String),
    /// The received bytes from `offset` (`res.payload(offset,len)`, 0 = to the end),
    /// optionally without leading spaces and cut at the first CR or LF.
    Payload {
        offset: usize,
        len: usize,
        ltrim: bool,
        cut_crlf: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Matcher {
    String(String),
    Rstring(String),
    Binary(Vec<u8>),
    /// A regex over the hex dump of the bytes received.
    Rbinary(String),
    StringLf(String),
    BinaryLf(String),
    /// HTTP status codes and ranges (`200-399`).
    Status(Vec<(u16, u16)>),
    Rstatus(String),
    Body(String),
    Rbody(String),
    BodyLf(String),
    Header(HeaderMatch),
    /// A protocol's own reply check.
    Custom(Custom),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Custom {
    MysqlHandshake,
    MysqlOk,
    LdapBindResponse,
    SpopHello,
}

/// `http-check expect hdr|fhdr name … [value …]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeaderMatch {
    /// `fhdr`: the whole value; `hdr`: each comma-separated value.
    pub full: bool,
    pub name: TextMatch,
    pub value: Option<TextMatch>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextMatch {
    /// `str`, `beg`, `end`, `sub` or `reg`.
    pub method: String,
    pub pattern: String,
    /// `name-lf`/`value-lf`: the pattern is a log-format string.
    pub format: bool,
}

/// One `tcp-check` (`http: false`) or `http-check` line: its words after the keyword.
pub type CheckLine = (bool, Vec<String>);

/// The backend's check from its `option` lines and its `tcp-check`/`http-check` lines.
pub fn health_check(lines: &[DirectiveLine], check_lines: &[CheckLine]) -> HealthCheck {
    let mut kind = CheckKind::Connect;
    let mut option_args: Vec<String> = Vec::new();
    let mut log_changes = false;
    let mut external = false;
    for d in lines.iter().filter(|d| d.keyword == "option") {
        let Some(name) = d.args.first() else { continue };
        if name.as_str() == "log-health-checks" {
            log_changes = d.prefix.is_none();
        }
        // `option external-check` replaces whichever check the other options chose.
        if name.as_str() == "external-check" {
            external = d.prefix.is_none();
        }
        let chosen = match name.as_str() {
            "tcp-check" => CheckKind::TcpCheck,
            "httpchk" => CheckKind::Http,
            "redis-check" => CheckKind::Redis,
            "mysql-check" => CheckKind::Mysql,
            "pgsql-check" => CheckKind::Pgsql,
            "smtpchk" => CheckKind::Smtp,
            "ldap-check" => CheckKind::Ldap,
            "ssl-hello-chk" => CheckKind::SslHello,
            "spop-check" => CheckKind::Spop,
            _ => continue,
        };
        if d.prefix.is_some() {
            if kind == chosen {
                kind = CheckKind::Connect;
            }
            continue;
        }
        kind = chosen;
        option_args = d.args[1..].iter().map(|a| a.to_string()).collect();
    }
    let args: Vec<&str> = option_args.iter().map(String::as_str).collect();
    let mut check = HealthCheck {
        kind,
        rules: Vec::new(),
        disable_on_404: false,
        send_state: false,
        log_changes,
        logs: Vec::new(),
        email: None,
        external: if external {
            super::mailers::external_check(lines)
        } else {
            None
        },
    };
    check.rules = match kind {
        CheckKind::Connect => vec![implicit_connect()],
        CheckKind::TcpCheck => user_rules(check_lines, false, &mut check),
        CheckKind::Http => http_rules(&args, check_lines, &mut check),
        CheckKind::Redis => redis(),
        CheckKind::Mysql => mysql(&args),
        CheckKind::Pgsql => pgsql(&args),
        CheckKind::Smtp => smtp(&args),
        CheckKind::Ldap => ldap(),
        CheckKind::SslHello => ssl_hello(),
        CheckKind::Spop => spop(),
    };
    check
}

fn implicit_connect() -> CheckRule {
    CheckRule::Connect(ConnectRule {
        default: true,
        implicit: true,
        ..ConnectRule::default()
    })
}

/// `option httpchk [<method>] [<uri>] [<version>]` and its `http-check` rules. As in HAProxy,
/// the option's request is the default every `http-check send` completes, and without an
/// `expect` rule any status from 200 to 399 passes.
fn http_rules(args: &[&str], lines: &[CheckLine], check: &mut HealthCheck) -> Vec<CheckRule> {
    let mut base = HttpSend::default();
    match args {
        [uri] => base.uri = uri.to_string(),
        [method, uri, rest @ ..] => {
            base.method = method.to_string();
            base.uri = uri.to_string();
            if let Some(v) = rest.first() {
                // HAProxy splits `HTTP/1.1\r\nHost: x` into the version and headers.
                let mut parts = v.split("\r\n");
                base.version = parts.next().unwrap_or("HTTP/1.0").to_string();
                for h in parts {
                    if let Some((n, val)) = h.split_once(':') {
                        base.headers.push((n.trim().into(), val.trim().into()));
                    }
                }
            }
        }
        [] => {}
    }
    let mut rules = user_rules(lines, true, check);
    // Every send completes the option's request; with none, the option's request is sent.
    for r in &mut rules {
        if let CheckRule::HttpSend(s) = r {
            let mut merged = base.clone();
            if !s.method.is_empty() {
                merged.method = std::mem::take(&mut s.method);
            }
            if !s.uri.is_empty() {
                merged.uri = std::mem::take(&mut s.uri);
            }
            if !s.version.is_empty() {
                merged.version = std::mem::take(&mut s.version);
            }
            merged.headers.append(&mut s.headers);
            merged.body = std::mem::take(&mut s.body);
            *s = merged;
        }
    }
    if !rules.iter().any(|r| matches!(r, CheckRule::HttpSend(_))) {
        let at = rules
            .iter()
            .position(|r| matches!(r, CheckRule::Connect(_)))
            .map_or(0, |i| i + 1);
        rules.insert(at, CheckRule::HttpSend(base));
    }
    if !rules.iter().any(|r| matches!(r, CheckRule::Expect(_))) {
        rules.push(CheckRule::Expect(ExpectRule::new(Matcher::Status(vec![(
            200, 399,
        )]))));
    }
    rules
}

/// The user's `tcp-check`/`http-check` lines as rules, in order. A rule list that does not
/// start with a connect gets the implicit one first, as in HAProxy.
fn user_rules(lines: &[CheckLine], http: bool, check: &mut HealthCheck) -> Vec<CheckRule> {
    let mut rules = Vec::new();
    for (_, line) in lines.iter().filter(|(h, _)| *h == http) {
        let words: Vec<&str> = line.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["disable-on-404"] => check.disable_on_404 = true,
            ["send-state"] => check.send_state = true,
            _ => {
                if let Some(mut r) = parse_rule(&words) {
                    if let (CheckRule::Expect(e), true) = (&mut r, http) {
                        as_http_expect(e);
                    }
                    rules.push(r);
                }
            }
        }
    }
    let first_step = rules.iter().find(|r| !is_bookkeeping(r));
    if !matches!(first_step, Some(CheckRule::Connect(_))) {
        rules.insert(0, implicit_connect());
    }
    rules
}

/// Rules that do no I/O (HAProxy skips them when it numbers steps).
pub fn is_bookkeeping(rule: &CheckRule) -> bool {
    matches!(
        rule,
        CheckRule::Comment(_) | CheckRule::SetVar { .. } | CheckRule::UnsetVar { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    /// A backend's check from its lines: `option` lines and `tcp-check`/`http-check` ones.
    fn check_of(lines: &[&str]) -> HealthCheck {
        let options: Vec<DirectiveLine> = lines
            .iter()
            .filter(|l| l.starts_with("option"))
            .map(|l| line(l))
            .collect();
        let rules: Vec<CheckLine> = lines
            .iter()
            .filter_map(|l| {
                let (kw, rest) = l.split_once(' ')?;
                let words = rest.split(' ').map(String::from).collect();
                match kw {
                    "tcp-check" => Some((false, words)),
                    "http-check" => Some((true, words)),
                    _ => None,
                }
            })
            .collect();
        health_check(&options, &rules)
    }

    #[test]
    fn tcp_check_rules_in_order_after_an_implicit_connect() {
        let hc = check_of(&[
            "option tcp-check",
            "tcp-check send PING\\r\\n",
            "tcp-check expect string +PONG min-recv 5 error-status L7STS",
        ]);
        assert_eq!(hc.kind, CheckKind::TcpCheck);
        assert!(matches!(&hc.rules[0], CheckRule::Connect(c) if c.implicit));
        let CheckRule::Expect(e) = &hc.rules[2] else {
            panic!("expect rule")
        };
        assert_eq!(e.matcher, Matcher::String("+PONG".into()));
        assert_eq!(
            (e.min_recv, e.error_status.as_deref()),
            (Some(5), Some("L7STS"))
        );
    }

    #[test]
    fn explicit_connects_are_kept() {
        let hc = check_of(&[
            "option tcp-check",
            "tcp-check connect port 1 linger",
            "tcp-check connect port 20000",
        ]);
        assert_eq!(hc.rules.len(), 2);
        assert!(matches!(&hc.rules[0], CheckRule::Connect(c) if c.port == Some(1) && c.linger));
    }

    #[test]
    fn httpchk_defaults_and_send_merge() {
        let hc = check_of(&[
            "option httpchk GET /health HTTP/1.1",
            "http-check send hdr Host www",
            "http-check expect ! status 500-599",
        ]);
        let CheckRule::HttpSend(s) = &hc.rules[1] else {
            panic!("send")
        };
        assert_eq!(
            (s.method.as_str(), s.uri.as_str(), s.version.as_str()),
            ("GET", "/health", "HTTP/1.1")
        );
        assert_eq!(s.headers, vec![("Host".to_string(), "www".to_string())]);
        let CheckRule::Expect(e) = &hc.rules[2] else {
            panic!("expect")
        };
        assert!(e.negate);
        assert_eq!(e.matcher, Matcher::Status(vec![(500, 599)]));
    }

    #[test]
    fn protocol_packets() {
        let hc = check_of(&["option mysql-check user user pre-41"]);
        let CheckRule::Send(SendRule::Bytes(b)) = &hc.rules[1] else {
            panic!("send")
        };
        // HAProxy's reg-test expects exactly these bytes.
        assert_eq!(b, &hex("0B00000100800000017573657200000100000001").unwrap());
        let hc = check_of(&["option mysql-check user user"]);
        let CheckRule::Send(SendRule::Bytes(b)) = &hc.rules[1] else {
            panic!("send")
        };
        assert_eq!(
            b,
            &hex("2600000100820000008000012100000000000000000000000000000000000000000000007573657200000100000001").unwrap()
        );
        let hc = check_of(&["option smtpchk EHLO domain.tld"]);
        assert!(hc.rules.contains(&CheckRule::Send(SendRule::Bytes(
            b"EHLO domain.tld\r\n".to_vec()
        ))));
    }
}
