//! Lowers the directives the runtime needs but the typed model keeps as written (`log`,
//! `http-check`, server check settings, `option forwardfor`, `balance`
//! arguments) into runtime-ready plan structures. Inputs already passed the checker, so
//! anything still malformed here is skipped rather than reported twice.

use crate::ir::values::{atol, parse_time, TimeUnit};
use crate::ir::DirectiveLine;
use serde::Serialize;

/// Where a `log` line sends its messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum LogDest {
    Stdout,
    Stderr,
    /// A UDP syslog server `host:port` (port 514 when omitted).
    Udp(String),
    /// A path: a unix datagram socket, or an existing regular file appended to.
    Path(String),
    /// `ring@<name>`: a `ring` section (or the built-in `buf0`).
    Ring(String),
}

/// The header put in front of each message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogHeader {
    /// No `format` given: this process's own messages get the RFC 3164 header (without a
    /// host name unless `log-send-hostname` gives one), and a message a `log-forward` section
    /// relays gets the header its own fields call for (HAProxy's unspecified format).
    Unspec,
    Rfc3164,
    Rfc5424,
    Raw,
    Short,
    Local,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogTarget {
    pub dest: LogDest,
    pub header: LogHeader,
    /// Syslog facility number (local0 = 16).
    pub facility: u8,
    /// Most verbose level sent (0 emerg … 7 debug).
    pub max_level: u8,
    /// Longest line sent, header included.
    pub len: usize,
}

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// Syslog level names, index = severity.
pub const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

fn log_target(args: &[String], env: &dyn crate::syntax::Environment) -> Option<LogTarget> {
    // HAProxy expands `$VAR`/`${VAR}` in addresses even outside quotes (unset ones become
    // empty), so `log ${LOG_ADDR}:${LOG_PORT} local0` works as written.
    let first = crate::address::env_expand(args.first()?, env);
    let dest = match first.as_ref() {
        "stdout" | "fd@1" => LogDest::Stdout,
        "stderr" | "fd@2" => LogDest::Stderr,
        a if a.starts_with('/') => LogDest::Path(a.to_string()),
        a if a.starts_with("unix@") => LogDest::Path(a["unix@".len()..].to_string()),
        a if a.starts_with("ring@") => LogDest::Ring(a["ring@".len()..].to_string()),
        a => LogDest::Udp(udp_log_address(
            a.strip_prefix("udp@")
                .or_else(|| a.strip_prefix("ipv4@"))
                .or_else(|| a.strip_prefix("udp4@"))
                .or_else(|| a.strip_prefix("ipv6@"))
                .or_else(|| a.strip_prefix("udp6@"))
                .unwrap_or(a),
        )),
    };
    let mut header = LogHeader::Unspec;
    let mut len = 1024;
    let mut i = 1;
    loop {
        match args.get(i).map(String::as_str) {
            Some("len") => {
                len = atol(args.get(i + 1).map_or("", String::as_str)).max(80) as usize;
                i += 2;
            }
            Some("format") => {
                header = match args.get(i + 1).map_or("", String::as_str) {
                    "rfc5424" => LogHeader::Rfc5424,
                    "raw" => LogHeader::Raw,
                    "short" => LogHeader::Short,
                    "local" => LogHeader::Local,
                    _ => LogHeader::Rfc3164,
                };
                i += 2;
            }
            Some("sample") => i += 2,
            _ => break,
        }
    }
    let facility = FACILITIES
        .iter()
        .position(|f| Some(*f) == args.get(i).map(String::as_str))? as u8;
    let max_level = args
        .get(i + 1)
        .and_then(|l| LEVELS.iter().position(|x| x == l))
        .unwrap_or(7) as u8;
    Some(LogTarget {
        dest,
        header,
        facility,
        max_level,
        len,
    })
}

/// The targets of the global section's `log` lines.
pub fn global_logs(
    lines: &[DirectiveLine],
    env: &dyn crate::syntax::Environment,
) -> Vec<LogTarget> {
    let mut out = Vec::new();
    for d in lines.iter().filter(|d| d.keyword == "log") {
        if d.prefix.is_some() {
            out.clear();
        } else if let Some(t) = log_target(&strings(&d.args), env) {
            out.push(t);
        }
    }
    out
}

/// A proxy's log targets: its own and inherited `log` lines, `log global` standing for the
/// global targets (each once: a second `log global`, say in both a `defaults` section and the
/// proxy, adds none HAProxy's list already holds), `no log` dropping everything before it.
pub fn proxy_logs(
    lines: &[DirectiveLine],
    global: &[LogTarget],
    env: &dyn crate::syntax::Environment,
) -> Vec<LogTarget> {
    let mut out = Vec::new();
    let mut global_added = false;
    for d in lines.iter().filter(|d| d.keyword == "log") {
        if d.prefix.is_some() {
            out.clear();
            global_added = false;
        } else if d.args.first().is_some_and(|a| a == "global") {
            if !global_added {
                out.extend(global.iter().cloned());
                global_added = true;
            }
        } else if let Some(t) = log_target(&strings(&d.args), env) {
            out.push(t);
        }
    }
    out
}

fn strings(args: &[crate::ir::Text]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// `host:port` of a UDP syslog server as written on a `log` line: an empty host is the
/// wildcard address and a missing or zero port is syslog's 514, as HAProxy reads them.
fn udp_log_address(text: &str) -> String {
    let (host, port) = match text.rfind(']') {
        Some(close) => (
            &text[..=close],
            text[close + 1..].strip_prefix(':').unwrap_or(""),
        ),
        // A bare IPv6 literal has several colons and no port.
        None if text.matches(':').count() > 1 => return format!("[{text}]:514"),
        None => text.split_once(':').unwrap_or((text, "")),
    };
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let port = match port.parse::<u16>() {
        Ok(p) if p != 0 => p,
        _ => 514,
    };
    format!("{host}:{port}")
}

pub const HTTPLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
pub const CLFLOG: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
pub const TCPLOG: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
pub const HTTPSLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc";

/// The effective log format: the last of `log-format`, `option httplog [clf]`, `option
/// httpslog` and `option tcplog`; `None` for HAProxy's legacy connection-only line. An HTTP
/// format in a TCP proxy falls back to the TCP one, as HAProxy does.
pub fn log_format(lines: &[DirectiveLine], http: bool) -> Option<String> {
    let mut format = None;
    for d in lines {
        let arg = |i: usize| d.args.get(i).map_or("", |a| a.as_str());
        match (d.keyword.as_str(), d.prefix.is_some()) {
            ("log-format", false) => format = Some(arg(0).to_string()),
            ("option", negated) => {
                let chosen = match arg(0) {
                    "httplog" if arg(1) == "clf" => CLFLOG,
                    "httplog" => HTTPLOG,
                    "httpslog" => HTTPSLOG,
                    "tcplog" => TCPLOG,
                    _ => continue,
                };
                format = (!negated).then(|| chosen.to_string());
            }
            _ => {}
        }
    }
    match format {
        Some(f) if !http && (f == HTTPLOG || f == CLFLOG || f == HTTPSLOG) => {
            Some(TCPLOG.to_string())
        }
        f => f,
    }
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForwardFor {
    pub header: String,
    pub except: Option<String>,
    pub if_none: bool,
}

pub fn forwardfor(lines: &[DirectiveLine]) -> Option<ForwardFor> {
    address_header(lines, "forwardfor", "x-forwarded-for")
}

/// `option originalto [except NET] [header NAME]`: the destination address, in the same shape.
pub fn originalto(lines: &[DirectiveLine]) -> Option<ForwardFor> {
    address_header(lines, "originalto", "x-original-to")
}

fn address_header(lines: &[DirectiveLine], option: &str, header: &str) -> Option<ForwardFor> {
    let mut out = None;
    for d in lines.iter().filter(|d| d.keyword == "option") {
        if d.args.first().map(|a| a.as_str()) != Some(option) {
            continue;
        }
        if d.prefix.is_some() {
            out = None;
            continue;
        }
        let mut ff = ForwardFor {
            header: header.into(),
            except: None,
            if_none: false,
        };
        let mut i = 1;
        while let Some(a) = d.args.get(i) {
            match a.as_str() {
                "except" => {
                    ff.except = d.args.get(i + 1).map(|v| v.to_string());
                    i += 1;
                }
                "header" => {
                    if let Some(h) = d.args.get(i + 1) {
                        ff.header = h.to_ascii_lowercase().to_string();
                    }
                    i += 1;
                }
                "if-none" => ff.if_none = true,
                _ => {}
            }
            i += 1;
        }
        out = Some(ff);
    }
    out
}

/// A health check's timings and target, from `default-server` then `server` options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckParams {
    pub inter: u32,
    pub fastinter: Option<u32>,
    pub downinter: Option<u32>,
    pub rise: u32,
    pub fall: u32,
    pub port: Option<u16>,
    pub addr: Option<String>,
    /// `agent-check` and its settings (`agent-port`, `agent-addr`, `agent-send`, `agent-inter`).
    pub agent: bool,
    pub agent_port: Option<u16>,
    pub agent_addr: Option<String>,
    pub agent_send: Option<String>,
    pub agent_inter: Option<u32>,
}

impl Default for CheckParams {
    fn default() -> Self {
        CheckParams {
            inter: 2000,
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            port: None,
            addr: None,
            agent: false,
            agent_port: None,
            agent_addr: None,
            agent_send: None,
            agent_inter: None,
        }
    }
}

/// `tcp-request|tcp-response inspect-delay <time>` (`keyword` says which): the last one given
/// (a defaults section's come first).
pub fn inspect_delay(lines: &[DirectiveLine], keyword: &str) -> Option<u32> {
    lines
        .iter()
        .rev()
        .filter(|d| d.keyword == keyword)
        .filter(|d| {
            d.args
                .first()
                .is_some_and(|a| a.as_str() == "inspect-delay")
        })
        .find_map(|d| d.args.get(1).and_then(|t| ms(t)))
}

/// A time in milliseconds (HAProxy's units; a bare number is milliseconds).
pub fn ms(text: &str) -> Option<u32> {
    parse_time(text, TimeUnit::Ms).ok().map(|d| d.value)
}

/// Applies the check-related options of one `server`/`default-server` word list.
pub fn apply_check_options(params: &mut CheckParams, words: &[&str]) {
    let mut i = 0;
    while i < words.len() {
        let value = words.get(i + 1).copied().unwrap_or("");
        let used = match words[i] {
            "inter" => ms(value).map(|v| params.inter = v.max(1)).is_some(),
            "fastinter" => ms(value)
                .map(|v| params.fastinter = Some(v.max(1)))
                .is_some(),
            "downinter" => ms(value)
                .map(|v| params.downinter = Some(v.max(1)))
                .is_some(),
            "rise" => {
                params.rise = atol(value).max(1) as u32;
                true
            }
            "fall" => {
                params.fall = atol(value).max(1) as u32;
                true
            }
            "port" => {
                params.port = u16::try_from(atol(value)).ok();
                true
            }
            "addr" => {
                params.addr = Some(value.to_string());
                true
            }
            "agent-check" | "no-agent-check" => {
                params.agent = words[i] == "agent-check";
                false
            }
            "agent-port" => {
                params.agent_port = u16::try_from(atol(value)).ok();
                true
            }
            "agent-addr" => {
                params.agent_addr = Some(value.to_string());
                true
            }
            "agent-send" => {
                params.agent_send = Some(value.to_string());
                true
            }
            "agent-inter" => ms(value)
                .map(|v| params.agent_inter = Some(v.max(1)))
                .is_some(),
            _ => false,
        };
        i += if used { 2 } else { 1 };
    }
}

/// A server's check settings: `default-server` lines of the proxy, then the server's own.
pub fn check_params(
    lines: &[DirectiveLine],
    server_options: &[crate::ir::Spanned<crate::ir::Text>],
) -> CheckParams {
    let mut params = CheckParams::default();
    for d in lines.iter().filter(|d| d.keyword == "default-server") {
        let words: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
        apply_check_options(&mut params, &words);
    }
    let words: Vec<&str> = server_options.iter().map(|o| o.value.as_str()).collect();
    apply_check_options(&mut params, &words);
    params
}

/// `use-server NAME if|unless COND` lines.
pub fn use_servers(lines: &[DirectiveLine]) -> Vec<(String, Vec<String>)> {
    lines
        .iter()
        .filter(|d| d.keyword == "use-server" && !d.args.is_empty())
        .map(|d| (d.args[0].to_string(), strings(&d.args[1..])))
        .collect()
}

/// `hash-type`: `map-based` (default) or `consistent`, with the hash function.
pub fn hash_type(lines: &[DirectiveLine]) -> String {
    lines
        .iter()
        .rev()
        .find(|d| d.keyword == "hash-type")
        .and_then(|d| d.args.first())
        .map_or("map-based".to_string(), |a| a.to_string())
}

/// All arguments of the last `keyword` line, joined by spaces.
pub fn directive_text(lines: &[DirectiveLine], keyword: &str) -> Option<String> {
    lines
        .iter()
        .rev()
        .find(|d| d.keyword == keyword && d.prefix.is_none())
        .map(|d| {
            d.args
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
}

/// The last value of a single-valued directive (`keyword ARG`).
/// `max-session-srv-conns <n>` (the last one; 5 without one). HAProxy reads the number as C's
/// `atoi` does: its leading digits, 0 when there are none; a negative one closes every idle
/// connection as 0 does.
pub fn max_session_srv_conns(lines: &[DirectiveLine]) -> u32 {
    let Some(text) = last_arg(lines, "max-session-srv-conns") else {
        return 5;
    };
    u32::try_from(atol(&text).max(0)).unwrap_or(u32::MAX)
}

/// `hash-balance-factor <n>` (the last one; 0 without one), read as C's `atol` reads it.
/// HAProxy refuses a factor from 1 to 100, which would leave no server eligible.
pub fn hash_balance_factor(lines: &[DirectiveLine]) -> u32 {
    last_arg(lines, "hash-balance-factor")
        .map(|v| crate::ir::values::atol(&v))
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 100)
        .unwrap_or(0)
}

/// `max-keep-alive-queue <n>` (the last one): `None` for `-1` (the default) or any other
/// negative number, which HAProxy's unsigned arithmetic turns into no limit. The number is
/// read as C's `strtol` with base 0 reads it (`0x` hexadecimal, a leading `0` octal).
pub fn max_keep_alive_queue(lines: &[DirectiveLine]) -> Option<u32> {
    let text = last_arg(lines, "max-keep-alive-queue")?;
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let value = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    if negative {
        return None;
    }
    Some(u32::try_from(value).unwrap_or(u32::MAX))
}

pub fn last_arg(lines: &[DirectiveLine], keyword: &str) -> Option<String> {
    lines
        .iter()
        .rev()
        .find(|d| d.keyword == keyword && d.prefix.is_none())
        .and_then(|d| d.args.first())
        .map(|a| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    #[test]
    fn hash_balance_factor_and_keep_alive_queue_read_as_haproxy_reads_them() {
        let factor = |v: &str| hash_balance_factor(&[line(&format!("hash-balance-factor {v}"))]);
        assert_eq!(hash_balance_factor(&[]), 0);
        assert_eq!((factor("150"), factor("0"), factor("100")), (150, 0, 0));
        let queue = |v: &str| max_keep_alive_queue(&[line(&format!("max-keep-alive-queue {v}"))]);
        assert_eq!(max_keep_alive_queue(&[]), None);
        assert_eq!(
            (queue("-1"), queue("0"), queue("10")),
            (None, Some(0), Some(10))
        );
        assert_eq!((queue("0x10"), queue("010")), (Some(16), Some(8)));
    }

    #[test]
    fn max_session_srv_conns_reads_as_atoi() {
        assert_eq!(max_session_srv_conns(&[]), 5);
        for (written, read) in [("1", 1), ("0", 0), ("12abc", 12), ("abc", 0), ("-3", 0)] {
            let lines = [
                line("max-session-srv-conns 7"),
                line(&format!("max-session-srv-conns {written}")),
            ];
            assert_eq!(max_session_srv_conns(&lines), read, "{written}");
        }
    }

    #[test]
    fn log_targets_and_formats() {
        let env = crate::syntax::MapEnv::default();
        let g = global_logs(
            &[
                line("log 127.0.0.1 local0"),
                line("log stdout format raw local1 info"),
            ],
            &env,
        );
        assert_eq!(g[0].dest, LogDest::Udp("127.0.0.1:514".into()));
        for (written, read) in [
            ("${HAPEE_TEST_UNSET_A}:${HAPEE_TEST_UNSET_B}", "0.0.0.0:514"),
            ("10.0.0.1:0", "10.0.0.1:514"),
            ("ipv6@::1", "[::1]:514"),
            ("[::1]:1514", "[::1]:1514"),
            ("udp@host.example:1514", "host.example:1514"),
        ] {
            let t = proxy_logs(&[line(&format!("log {written} local0"))], &[], &env);
            assert_eq!(t[0].dest, LogDest::Udp(read.into()), "{written}");
        }
        assert_eq!(g[1].dest, LogDest::Stdout);
        assert_eq!(
            (g[1].header, g[1].facility, g[1].max_level),
            (LogHeader::Raw, 17, 6)
        );
        let p = proxy_logs(
            &[
                line("log global"),
                line("no log"),
                line("log 10.0.0.1:1514 len 2048 local7"),
            ],
            &g,
            &env,
        );
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].len, p[0].facility), (2048, 23));
        assert_eq!(
            log_format(&[line("option httplog")], true).as_deref(),
            Some(HTTPLOG)
        );
        assert_eq!(
            log_format(&[line("option httplog")], false).as_deref(),
            Some(TCPLOG)
        );
        assert_eq!(
            log_format(&[line("option httplog clf")], true).as_deref(),
            Some(CLFLOG)
        );
        assert_eq!(
            log_format(&[line("option tcplog"), line("no option tcplog")], false),
            None
        );
    }

    #[test]
    fn checks_and_forwardfor() {
        let mut p = CheckParams::default();
        apply_check_options(
            &mut p,
            &["check", "inter", "500ms", "fall", "2", "port", "8080"],
        );
        assert_eq!((p.inter, p.fall, p.rise, p.port), (500, 2, 2, Some(8080)));
        let ff = forwardfor(&[line(
            "option forwardfor except 127.0.0.0/8 header X-Client if-none",
        )])
        .unwrap();
        assert_eq!(
            (ff.header.as_str(), ff.except.as_deref(), ff.if_none),
            ("x-client", Some("127.0.0.0/8"), true)
        );
    }
}
