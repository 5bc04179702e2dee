//! Lowers the `stats` directives of the global section (the Runtime API sockets) into the
//! plan. Inputs already passed the checker: a malformed value falls back to HAProxy's default.

use crate::ir::values::{parse_time, TimeUnit};
use crate::ir::DirectiveLine;
use serde::Serialize;

/// A Runtime API access level, lowest first (HAProxy's `level` bind option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CliLevel {
    User,
    Operator,
    Admin,
}

impl CliLevel {
    pub fn parse(word: &str) -> Option<CliLevel> {
        match word {
            "user" => Some(CliLevel::User),
            "operator" => Some(CliLevel::Operator),
            "admin" => Some(CliLevel::Admin),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CliLevel::User => "user",
            CliLevel::Operator => "operator",
            CliLevel::Admin => "admin",
        }
    }
}

/// One `stats socket` line.
#[derive(Clone, Debug, Serialize)]
pub struct StatsSocket {
    /// The address as written: a path (`unix@` optional), `ipv4@…`, `ipv6@…`, `host:port`.
    pub address: String,
    pub level: CliLevel,
    /// `mode` in octal, for a unix socket.
    pub mode: Option<u32>,
    /// `user`/`uid` and `group`/`gid`: owner names or numbers for a unix socket.
    pub user: Option<String>,
    pub group: Option<String>,
    /// `expose-fd listeners`: accepted; hapee hands its sockets over by other means.
    pub expose_fd: bool,
    /// `severity-output none|number|string`.
    pub severity_output: Option<String>,
}

/// The Runtime API settings of the global section.
#[derive(Clone, Debug, Serialize)]
pub struct StatsPlan {
    pub sockets: Vec<StatsSocket>,
    /// `stats timeout`: idle time allowed between two commands (HAProxy: 10s).
    pub timeout_ms: u32,
    /// `stats maxconn`: connections served at once per socket (HAProxy: 10).
    pub maxconn: u32,
}

/// Options of a `stats socket` line that take a value.
const VALUED: &[&str] = &[
    "level",
    "mode",
    "user",
    "uid",
    "group",
    "gid",
    "expose-fd",
    "severity-output",
    "maxconn",
    "name",
    "id",
    "backlog",
    "process",
    "thread",
];

pub fn stats_plan(lines: &[DirectiveLine]) -> StatsPlan {
    let mut plan = StatsPlan {
        sockets: Vec::new(),
        timeout_ms: 10_000,
        maxconn: 10,
    };
    for d in lines
        .iter()
        .filter(|d| d.keyword == "stats" && d.prefix.is_none())
    {
        let args: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
        match args.as_slice() {
            ["socket", address, options @ ..] => {
                plan.sockets.push(socket(address, options));
            }
            ["timeout", value, ..] => {
                if let Ok(ms) = parse_time(value, TimeUnit::Ms) {
                    plan.timeout_ms = ms.value;
                }
            }
            ["maxconn", value, ..] => {
                if let Ok(n) = value.parse() {
                    plan.maxconn = n;
                }
            }
            _ => {}
        }
    }
    plan
}

fn socket(address: &str, options: &[&str]) -> StatsSocket {
    let mut s = StatsSocket {
        address: address.to_string(),
        level: CliLevel::Operator,
        mode: None,
        user: None,
        group: None,
        expose_fd: false,
        severity_output: None,
    };
    let mut i = 0;
    while i < options.len() {
        let value = options.get(i + 1).map(|v| v.to_string());
        match options[i] {
            "level" => {
                if let Some(l) = value.as_deref().and_then(CliLevel::parse) {
                    s.level = l;
                }
            }
            "mode" => s.mode = value.and_then(|v| u32::from_str_radix(&v, 8).ok()),
            "user" | "uid" => s.user = value,
            "group" | "gid" => s.group = value,
            "expose-fd" => s.expose_fd = value.as_deref() == Some("listeners"),
            "severity-output" => s.severity_output = value,
            _ => {}
        }
        i += if VALUED.contains(&options[i]) { 2 } else { 1 };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> DirectiveLine {
        let mut words = text.split(' ');
        DirectiveLine {
            prefix: None,
            keyword: words.next().unwrap().into(),
            args: words.map(Into::into).collect(),
            span: Default::default(),
        }
    }

    #[test]
    fn sockets_and_settings() {
        let plan = stats_plan(&[
            line("stats socket /tmp/a.sock level admin mode 600 user nobody expose-fd listeners"),
            line("stats socket ipv4@127.0.0.1:9999"),
            line("stats timeout 2m"),
            line("stats maxconn 3"),
        ]);
        assert_eq!(plan.sockets.len(), 2);
        let a = &plan.sockets[0];
        assert_eq!(a.level, CliLevel::Admin);
        assert_eq!(a.mode, Some(0o600));
        assert_eq!(a.user.as_deref(), Some("nobody"));
        assert!(a.expose_fd);
        assert_eq!(plan.sockets[1].level, CliLevel::Operator);
        assert_eq!(plan.timeout_ms, 120_000);
        assert_eq!(plan.maxconn, 3);
    }
}
