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
    use crate::testkit::directive_line as line;

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

/// The statistics page of a backend or listen section (`stats enable`, `stats uri`, …).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StatsPage {
    /// The URI prefix that asks for the page (`stats uri`, default `/haproxy?stats`).
    pub uri: String,
    pub realm: Option<String>,
    /// `stats auth user:password` pairs; empty: no authentication.
    pub auth: Vec<(String, String)>,
    /// `stats refresh`, in seconds.
    pub refresh: Option<u32>,
    /// `stats admin if|unless …`: the condition words (empty: no admin form).
    pub admin: Vec<String>,
    pub hide_version: bool,
    pub show_legends: bool,
    /// `stats show-modules`: the columns of the statistics modules (`ssl`, `h2`, `h1`).
    pub show_modules: bool,
    /// `stats show-node [name]`: `Some("")` for the process's node name.
    pub show_node: Option<String>,
    pub show_desc: Option<String>,
    /// `stats scope`: the proxies shown (empty: all).
    pub scopes: Vec<String>,
    /// `stats http-request` rules, in order: they replace `stats auth` (HAProxy refuses both).
    pub rules: Vec<StatsRule>,
}

/// What a `stats http-request` rule does when its condition holds.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub enum StatsAction {
    /// Shows the page without asking further.
    Allow,
    /// Answers 403.
    Deny,
    /// Asks for credentials (401), in this realm or the page's default one.
    Auth { realm: Option<String> },
}

/// One `stats http-request <allow|deny|auth [realm <r>]> [if|unless <cond>]` line.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StatsRule {
    pub action: StatsAction,
    /// The condition's words, `if`/`unless` first (empty: always).
    pub cond: Vec<String>,
}

impl StatsRule {
    /// The rule `args` (the words after `http-request`) spell, if the runtime knows its
    /// action: `allow`, `deny` and `auth [realm <realm>]`, each with an optional condition.
    pub fn parse(args: &[&str]) -> Option<StatsRule> {
        let cond_at = args
            .iter()
            .position(|a| *a == "if" || *a == "unless")
            .unwrap_or(args.len());
        let action = match args[..cond_at] {
            ["allow"] => StatsAction::Allow,
            ["deny"] => StatsAction::Deny,
            ["auth"] => StatsAction::Auth { realm: None },
            ["auth", "realm", realm] => StatsAction::Auth {
                realm: Some(realm.to_string()),
            },
            _ => return None,
        };
        Some(StatsRule {
            action,
            cond: args[cond_at..].iter().map(|a| a.to_string()).collect(),
        })
    }
}

/// The page a section's `stats` lines ask for, if any (`stats enable` or any setting of it).
pub fn stats_page(lines: &[DirectiveLine]) -> Option<StatsPage> {
    let mut page = StatsPage {
        uri: "/haproxy?stats".into(),
        realm: None,
        auth: Vec::new(),
        refresh: None,
        admin: Vec::new(),
        hide_version: false,
        show_legends: false,
        show_modules: false,
        show_node: None,
        show_desc: None,
        scopes: Vec::new(),
        rules: Vec::new(),
    };
    let mut enabled = false;
    for d in lines
        .iter()
        .filter(|d| d.keyword == "stats" && d.prefix.is_none())
    {
        let args: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
        let value = args.get(1).map(|v| v.to_string());
        match args.first().copied() {
            Some("enable") => {}
            Some("uri") => page.uri = value.unwrap_or(page.uri),
            Some("realm") => page.realm = Some(args[1..].join(" ")),
            Some("auth") => {
                if let Some((u, p)) = value.as_deref().and_then(|v| v.split_once(':')) {
                    page.auth.push((u.to_string(), p.to_string()));
                }
            }
            Some("refresh") => {
                page.refresh = value
                    .and_then(|v| parse_time(&v, TimeUnit::S).ok())
                    .map(|t| t.value)
            }
            Some("admin") => page.admin = args[1..].iter().map(|a| a.to_string()).collect(),
            Some("hide-version") => page.hide_version = true,
            Some("show-legends") => page.show_legends = true,
            Some("show-modules") => page.show_modules = true,
            Some("show-node") => page.show_node = Some(value.unwrap_or_default()),
            Some("show-desc") => page.show_desc = Some(args[1..].join(" ")),
            Some("scope") => page.scopes.extend(value),
            // Rules the runtime lacks are refused (U001) before a page is built.
            Some("http-request") => page.rules.extend(StatsRule::parse(&args[1..])),
            // Global-only forms (`socket`, `timeout`, …) and anything else enable nothing.
            _ => continue,
        }
        enabled = true;
    }
    enabled.then_some(page)
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn stats_rules_the_runtime_knows() {
        let rule = StatsRule::parse(&["auth", "realm", "Ops", "unless", "is_admin"]).unwrap();
        assert_eq!(
            rule.action,
            StatsAction::Auth {
                realm: Some("Ops".into())
            }
        );
        assert_eq!(rule.cond, ["unless", "is_admin"]);
        assert_eq!(
            StatsRule::parse(&["deny"]).unwrap().cond,
            Vec::<String>::new()
        );
        assert_eq!(
            StatsRule::parse(&["allow", "if", "lan"]).unwrap().action,
            StatsAction::Allow
        );
        // Other actions (and a deny with a reply) are refused by `run` (U001).
        assert!(StatsRule::parse(&["redirect", "location", "/"]).is_none());
        assert!(StatsRule::parse(&["deny", "deny_status", "429"]).is_none());
        assert!(StatsRule::parse(&[]).is_none());
    }
}
