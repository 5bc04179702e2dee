//! `ring` sections (in-memory event buffers, optionally forwarded to syslog servers over TCP)
//! and `log-forward` sections (syslog listeners relaying what they receive to `log` targets),
//! lowered for the runtime.

use super::lower::{global_logs, ms, LogHeader, LogTarget};
use crate::ir::Config;
use crate::registry::SectionKind;
use serde::Serialize;

/// One `ring` section; HAProxy's defaults where unset.
#[derive(Clone, Debug, Serialize)]
pub struct RingPlan {
    pub name: String,
    pub description: Option<String>,
    /// `format`: the header put in front of each message.
    pub format: LogHeader,
    /// `maxlen`: the longest message kept, header included.
    pub maxlen: usize,
    /// `size`: the ring's capacity in bytes.
    pub size: usize,
    /// `timeout connect` and `timeout server`, in milliseconds.
    pub timeout_connect: u32,
    pub timeout_server: u32,
    /// `server <name> <address> [ssl …]`: TCP syslog servers the ring's messages are sent to,
    /// over TLS with `ssl`, each framed by its length with `log-proto octet-count` (the last
    /// field), else ended by a line feed (`legacy`, the default).
    pub servers: Vec<(String, String, Option<super::tls::ServerTls>, bool)>,
}

/// One `log-forward` section.
#[derive(Clone, Debug, Serialize)]
pub struct LogForwardPlan {
    pub name: String,
    /// `bind` (TCP, octet-counted or newline-framed syslog) and `dgram-bind` (UDP) addresses.
    pub binds: Vec<String>,
    pub dgram_binds: Vec<String>,
    /// The `log` targets every received message is sent to.
    pub logs: Vec<LogTarget>,
    pub maxconn: Option<u32>,
    /// `timeout client`, in milliseconds.
    pub timeout_client: Option<u32>,
    /// The TLS settings of each `bind` line (same order as `binds`), for `bind … ssl crt …`
    /// (syslog over TLS).
    pub bind_tls: Vec<Option<super::tls::BindTls>>,
}

fn name_of(s: &crate::ir::NamedSection) -> String {
    s.name
        .as_ref()
        .map_or(String::new(), |n| n.value.to_string())
}

fn tls_globals(config: &Config) -> super::tls::TlsGlobals {
    let g = &config.global;
    super::tls::TlsGlobals::of(&g.directives, g.ssl_load_extra_del_ext)
}

/// The `ring` sections of a configuration.
pub fn lower_rings(config: &Config) -> Vec<RingPlan> {
    let tls = tls_globals(config);
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Ring)
        .map(|s| {
            let mut r = RingPlan {
                name: name_of(s),
                description: None,
                format: LogHeader::Raw,
                maxlen: 1024,
                size: 16384,
                timeout_connect: 5000,
                timeout_server: 5000,
                servers: Vec::new(),
            };
            for d in &s.lines {
                let arg = |i: usize| d.args.get(i).map_or("", |a| a.as_str());
                match d.keyword.as_str() {
                    "description" => {
                        r.description = Some(
                            d.args
                                .iter()
                                .map(|a| a.as_str())
                                .collect::<Vec<_>>()
                                .join(" "),
                        )
                    }
                    "format" => {
                        r.format = match arg(0) {
                            "rfc5424" => LogHeader::Rfc5424,
                            "rfc3164" | "iso" | "timed" => LogHeader::Rfc3164,
                            "local" => LogHeader::Local,
                            "short" => LogHeader::Short,
                            _ => LogHeader::Raw,
                        }
                    }
                    "maxlen" => r.maxlen = arg(0).parse().unwrap_or(r.maxlen),
                    "size" => r.size = arg(0).parse().unwrap_or(r.size),
                    "timeout" => {
                        let v = ms(arg(1));
                        match arg(0) {
                            "connect" => r.timeout_connect = v.unwrap_or(r.timeout_connect),
                            "server" => r.timeout_server = v.unwrap_or(r.timeout_server),
                            _ => {}
                        }
                    }
                    "server" => {
                        let options: Vec<&str> =
                            d.args.iter().skip(2).map(|a| a.as_str()).collect();
                        let octet_count =
                            super::option_value_of(&options, "log-proto") == Some("octet-count");
                        r.servers.push((
                            arg(0).to_string(),
                            arg(1).to_string(),
                            tls.server(&options),
                            octet_count,
                        ))
                    }
                    _ => {}
                }
            }
            r
        })
        .collect()
}

/// The `log-forward` sections of a configuration.
pub fn lower_log_forwards(config: &Config) -> Vec<LogForwardPlan> {
    let tls = tls_globals(config);
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::LogForward)
        .map(|s| {
            let mut f = LogForwardPlan {
                name: name_of(s),
                binds: Vec::new(),
                dgram_binds: Vec::new(),
                logs: global_logs(&s.lines, &config.environment()),
                maxconn: None,
                timeout_client: None,
                bind_tls: Vec::new(),
            };
            for d in &s.lines {
                let arg = |i: usize| d.args.get(i).map_or("", |a| a.as_str());
                match d.keyword.as_str() {
                    "bind" => {
                        f.binds.push(arg(0).to_string());
                        let options: Vec<&str> =
                            d.args.iter().skip(1).map(|a| a.as_str()).collect();
                        f.bind_tls
                            .push(options.contains(&"ssl").then(|| tls.bind(&options)));
                    }
                    "dgram-bind" => f.dgram_binds.push(arg(0).to_string()),
                    "maxconn" => f.maxconn = arg(0).parse().ok(),
                    "timeout" if arg(0) == "client" => f.timeout_client = ms(arg(1)),
                    _ => {}
                }
            }
            f
        })
        .collect()
}
