//! Health checks as rule lists, the way HAProxy runs every check kind: `option tcp-check` and
//! `option httpchk` take the user's `tcp-check`/`http-check` lines, and each protocol check
//! (`redis-check`, `mysql-check`, `pgsql-check`, `smtpchk`, `ldap-check`, `ssl-hello-chk`,
//! `spop-check`) is a fixed rule list built here from its options.

use crate::ir::DirectiveLine;
use serde::Serialize;

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

fn linger_connect() -> CheckRule {
    CheckRule::Connect(ConnectRule {
        default: true,
        linger: true,
        ..ConnectRule::default()
    })
}

/// `%[res.payload(offset,0)]`-style info, as the protocol checks describe replies.
fn payload(offset: usize, ltrim: bool, cut_crlf: bool) -> Option<Info> {
    Some(Info::Payload {
        offset,
        len: 0,
        ltrim,
        cut_crlf,
    })
}

fn redis() -> Vec<CheckRule> {
    let mut e = ExpectRule::new(Matcher::String("+PONG\r\n".into()));
    e.error_status = Some("L7STS".into());
    e.on_error = payload(0, false, true);
    e.on_success = Some(Info::Text("Redis server is ok".into()));
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::Bytes(b"*1\r\n$4\r\nPING\r\n".to_vec())),
        CheckRule::Expect(e),
    ]
}

fn smtp(args: &[&str]) -> Vec<CheckRule> {
    let command = match args {
        [verb @ ("EHLO" | "HELO"), domain, ..] => format!("{verb} {domain}"),
        _ => "HELO localhost".to_string(),
    };
    let reply_line = |re: &str, min: Option<usize>, status: &str| {
        let mut e = ExpectRule::new(Matcher::Rstring(re.into()));
        e.min_recv = min;
        e.error_status = Some(status.into());
        e
    };
    let mut banner = reply_line("^[0-9]{3}[ \r]", Some(4), "L7RSP");
    banner.on_error = payload(0, false, true);
    let mut banner_ok = reply_line("^2[0-9]{2}[ \r]", Some(4), "L7STS");
    banner_ok.on_error = payload(4, true, true);
    banner_ok.status_code = Some(Info::Payload {
        offset: 0,
        len: 3,
        ltrim: false,
        cut_crlf: false,
    });
    let mut hello_ok = reply_line("^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]", None, "L7STS");
    hello_ok.on_error = payload(4, true, true);
    hello_ok.on_success = payload(4, true, true);
    hello_ok.status_code = banner_ok.status_code.clone();
    let mut quit_ok = reply_line("^2[0-9]{2}[- \r]", Some(4), "L7STS");
    quit_ok.on_error = payload(4, true, true);
    quit_ok.on_success = payload(4, true, true);
    quit_ok.status_code = banner_ok.status_code.clone();
    vec![
        linger_connect(),
        CheckRule::Expect(banner),
        CheckRule::Expect(banner_ok),
        CheckRule::Send(SendRule::Bytes(format!("{command}\r\n").into_bytes())),
        CheckRule::Expect(hello_ok),
        CheckRule::Send(SendRule::Bytes(b"QUIT\r\n".to_vec())),
        CheckRule::Expect(quit_ok),
    ]
}

fn pgsql(args: &[&str]) -> Vec<CheckRule> {
    let mut rules = vec![linger_connect()];
    if let ["user", user, ..] = args {
        // StartupMessage: length, protocol 3.0, "user" <name>, terminator.
        let len = (4 + 4 + 5 + user.len() + 1 + 1) as u32;
        let mut packet = len.to_be_bytes().to_vec();
        packet.extend_from_slice(&[0, 3, 0, 0]);
        packet.extend_from_slice(b"user\0");
        packet.extend_from_slice(user.as_bytes());
        packet.extend_from_slice(&[0, 0]);
        rules.push(CheckRule::Send(SendRule::Bytes(packet)));
    }
    let mut not_error = ExpectRule::new(Matcher::Rstring("^E".into()));
    not_error.negate = true;
    not_error.min_recv = Some(5);
    not_error.error_status = Some("L7RSP".into());
    not_error.on_error = payload(6, false, false);
    let mut auth = ExpectRule::new(Matcher::Rbinary(
        "^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)".into(),
    ));
    auth.min_recv = Some(9);
    auth.error_status = Some("L7STS".into());
    auth.on_success = Some(Info::Text("PostgreSQL server is ok".into()));
    auth.on_error = Some(Info::Text("PostgreSQL unknown error".into()));
    rules.push(CheckRule::Expect(not_error));
    rules.push(CheckRule::Expect(auth));
    rules
}

fn mysql(args: &[&str]) -> Vec<CheckRule> {
    let mut rules = vec![linger_connect()];
    let login = match args {
        ["user", user, rest @ ..] => Some((*user, rest.first() != Some(&"pre-41"))),
        _ => None,
    };
    if let Some((user, post41)) = login {
        let len = user.len() + if post41 { 7 + 27 } else { 7 };
        let mut packet = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, 1];
        if post41 {
            packet.extend_from_slice(&[0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21]);
            packet.extend_from_slice(&[0; 23]);
        } else {
            packet.extend_from_slice(&[0x00, 0x80, 0x00, 0x00, 0x01]);
        }
        packet.extend_from_slice(user.as_bytes());
        // Name terminator, filler, then a COM_QUIT packet.
        packet.extend_from_slice(&[0, 0, 1, 0, 0, 0, 1]);
        rules.push(CheckRule::Send(SendRule::Bytes(packet)));
    }
    rules.push(CheckRule::Expect(ExpectRule::new(Matcher::Custom(
        Custom::MysqlHandshake,
    ))));
    if login.is_some() {
        rules.push(CheckRule::Expect(ExpectRule::new(Matcher::Custom(
            Custom::MysqlOk,
        ))));
    }
    rules
}

fn ldap() -> Vec<CheckRule> {
    let mut is_ldap = ExpectRule::new(Matcher::Rbinary("^30".into()));
    is_ldap.min_recv = Some(14);
    is_ldap.on_error = Some(Info::Text("Not LDAPv3 protocol".into()));
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::Bytes(vec![
            0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
        ])),
        CheckRule::Expect(is_ldap),
        CheckRule::Expect(ExpectRule::new(Matcher::Custom(Custom::LdapBindResponse))),
    ]
}

fn ssl_hello() -> Vec<CheckRule> {
    let mut e = ExpectRule::new(Matcher::Rbinary("^1[56]".into()));
    e.min_recv = Some(5);
    e.ok_status = Some("L6OK".into());
    e.error_status = Some("L6RSP".into());
    e.tout_status = Some("L6TOUT".into());
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::SslHello),
        CheckRule::Expect(e),
    ]
}

/// The SPOP HAPROXY-HELLO frame with `healthcheck` set (SPOP 2.0).
pub fn spop_hello_frame() -> Vec<u8> {
    fn kv_str(out: &mut Vec<u8>, k: &str, v: &str) {
        out.push(k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        out.push(8); // string
        out.push(v.len() as u8);
        out.extend_from_slice(v.as_bytes());
    }
    let mut body = vec![1, 0, 0, 0, 1, 0, 0];
    kv_str(&mut body, "supported-versions", "2.0");
    body.push(b"max-frame-size".len() as u8);
    body.extend_from_slice(b"max-frame-size");
    body.extend_from_slice(&[3, 0xfc, 0xf0, 0x06]); // uint32 16380, varint-encoded
    kv_str(&mut body, "capabilities", "");
    body.push(b"healthcheck".len() as u8);
    body.extend_from_slice(b"healthcheck");
    body.push(0x11); // boolean true
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend(body);
    frame
}

fn spop() -> Vec<CheckRule> {
    let mut e = ExpectRule::new(Matcher::Custom(Custom::SpopHello));
    e.min_recv = Some(4);
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::Bytes(spop_hello_frame())),
        CheckRule::Expect(e),
    ]
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
        "send"
            if rest.iter().any(|w| {
                matches!(
                    *w,
                    "meth" | "uri" | "uri-lf" | "ver" | "hdr" | "body" | "body-lf"
                )
            }) || rest.is_empty() =>
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn line(text: &str) -> DirectiveLine {
        let mut w = text.split(' ');
        DirectiveLine {
            prefix: None,
            keyword: w.next().unwrap().into(),
            args: w.map(Into::into).collect(),
            span: crate::Span::default(),
        }
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
