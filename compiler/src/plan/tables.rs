//! Stick tables, stickiness rules and peers sections, lowered for the runtime: `stick-table`
//! lines of proxies, `table` lines of peers sections, `stick on|match|store-*` rules, and the
//! peers (local name, members, `bind`, `shards`). The checker already reported malformed
//! lines: what cannot be read here is skipped.

use crate::ir::values::{atol, parse_time, TimeUnit};
use crate::ir::{DirectiveLine, NamedSection};
use serde::Serialize;

/// The key type of a table (`type ip|ipv6|integer|string|binary`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Ip,
    Ipv6,
    Integer,
    String,
    Binary,
}

impl KeyType {
    /// The name `show table` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Ip => "ip",
            KeyType::Ipv6 => "ipv6",
            KeyType::Integer => "integer",
            KeyType::String => "string",
            KeyType::Binary => "binary",
        }
    }
}

/// One `store` item: a data type, its array size and its period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StorePlan {
    /// The data type name as HAProxy spells it (`gpc`, `http_req_rate`, …).
    pub name: String,
    /// Elements of an array type (`gpc(3)`), 1 otherwise.
    pub elements: u32,
    /// The period of a rate, in ms (0 for other types).
    pub period: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct StickTablePlan {
    /// `backend` name, or `peers/table` for a peers section's table.
    pub name: String,
    /// The name sent to peers: the same, or `/table` for a peers section's table.
    pub network_name: String,
    pub key: KeyType,
    /// Key size in bytes (strings count their terminating NUL, as HAProxy does).
    pub key_size: u32,
    pub size: u64,
    /// Entry lifetime in ms; `None`: entries never expire.
    pub expire: Option<u32>,
    pub nopurge: bool,
    /// The peers section the table is shared through.
    pub peers: Option<String>,
    /// `srvkey addr`: stickiness stores the server's address instead of its name.
    pub srvkey_addr: bool,
    /// `write-to <table>`: updates are copied to another table (a later HAProxy addition).
    pub write_to: Option<String>,
    pub stores: Vec<StorePlan>,
    /// `shards` of the peers section it is shared through (0: not sharded).
    pub shards: u32,
}

/// The data types that take an array size as their first store argument.
const ARRAYS: [&str; 3] = ["gpt", "gpc", "gpc_rate"];

/// Parses `store` items (`gpc(2),http_req_rate(10s)`).
fn stores(list: &str, out: &mut Vec<StorePlan>) {
    let mut rest = list;
    while !rest.is_empty() {
        // A comma inside parentheses separates arguments, not items.
        let mut depth = 0;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                c == ',' && depth == 0
            })
            .map_or(rest.len(), |(i, _)| i);
        let item = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        let (name, args) = match item.split_once('(') {
            Some((n, a)) => (n, a.trim_end_matches(')')),
            None => (item, ""),
        };
        let mut args = args.split(',').filter(|a| !a.is_empty());
        let elements = if ARRAYS.contains(&name) {
            args.next().map_or(1, |n| atol(n).clamp(1, 100) as u32)
        } else {
            1
        };
        let period = if name.ends_with("_rate") {
            args.next()
                .and_then(|p| parse_time(p, TimeUnit::Ms).ok())
                .map_or(0, |d| d.value)
        } else {
            0
        };
        if !out.iter().any(|s| s.name == name) {
            out.push(StorePlan {
                name: name.to_string(),
                elements,
                period,
            });
        }
    }
}

/// Reads the words of a `stick-table` line (or of a peers section's `table NAME` line after
/// the name).
pub fn stick_table(
    name: &str,
    network_name: &str,
    args: &[&str],
    peers: Option<&str>,
) -> StickTablePlan {
    let mut t = StickTablePlan {
        name: name.to_string(),
        network_name: network_name.to_string(),
        key: KeyType::Ip,
        key_size: 4,
        size: 0,
        expire: None,
        nopurge: false,
        peers: peers.map(String::from),
        srvkey_addr: false,
        write_to: None,
        stores: Vec::new(),
        shards: 0,
    };
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).copied().unwrap_or("");
        match args[i] {
            "type" => {
                let (key, size) = match value {
                    "ipv6" => (KeyType::Ipv6, 16),
                    "integer" => (KeyType::Integer, 4),
                    "string" => (KeyType::String, 32),
                    "binary" => (KeyType::Binary, 32),
                    _ => (KeyType::Ip, 4),
                };
                t.key = key;
                t.key_size = size;
                i += 2;
                if matches!(key, KeyType::String | KeyType::Binary) && args.get(i) == Some(&"len") {
                    let len = atol(args.get(i + 1).copied().unwrap_or("")).max(1) as u32;
                    t.key_size = if key == KeyType::String { len + 1 } else { len };
                    i += 2;
                }
                continue;
            }
            "size" => t.size = parse_size(value),
            "expire" => t.expire = parse_time(value, TimeUnit::Ms).ok().map(|d| d.value),
            "peers" => t.peers = Some(value.to_string()),
            "srvkey" => t.srvkey_addr = value == "addr",
            "write-to" => t.write_to = Some(value.to_string()),
            "store" => stores(value, &mut t.stores),
            "nopurge" => {
                t.nopurge = true;
                i += 1;
                continue;
            }
            _ => {}
        }
        i += 2;
    }
    t
}

/// `size` takes k, m and g suffixes (powers of 1024).
fn parse_size(text: &str) -> u64 {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n = digits.parse::<u64>().unwrap_or(0);
    n * match text[digits.len()..].to_ascii_lowercase().as_str() {
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => 1,
    }
}

/// The proxy's own table, from its last `stick-table` line.
pub fn proxy_table(proxy: &str, lines: &[DirectiveLine]) -> Option<StickTablePlan> {
    let d = lines.iter().rev().find(|d| d.keyword == "stick-table")?;
    let args: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
    Some(stick_table(proxy, proxy, &args, None))
}

/// What a stickiness rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StickKind {
    /// `stick on`: match, then store the request's key.
    On,
    Match,
    StoreRequest,
    StoreResponse,
}

#[derive(Clone, Debug, Serialize)]
pub struct StickRulePlan {
    pub kind: StickKind,
    /// The sample expression giving the key.
    pub expr: String,
    /// `table <name>`; `None`: the proxy's own table.
    pub table: Option<String>,
    pub condition: Vec<String>,
}

/// `stick on|match|store-request|store-response <expr> [table <t>] [if|unless …]` lines.
pub fn stick_rules(lines: &[DirectiveLine]) -> Vec<StickRulePlan> {
    let mut out = Vec::new();
    for d in lines.iter().filter(|d| d.keyword == "stick") {
        let args: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
        let kind = match args.first() {
            Some(&"on") => StickKind::On,
            Some(&"match") => StickKind::Match,
            Some(&"store-request") => StickKind::StoreRequest,
            Some(&"store-response") => StickKind::StoreResponse,
            _ => continue,
        };
        let Some(expr) = args.get(1) else { continue };
        let mut rule = StickRulePlan {
            kind,
            expr: expr.to_string(),
            table: None,
            condition: Vec::new(),
        };
        let mut i = 2;
        while i < args.len() {
            match args[i] {
                "table" => {
                    rule.table = args.get(i + 1).map(|s| s.to_string());
                    i += 2;
                }
                "if" | "unless" => {
                    rule.condition = args[i..].iter().map(|s| s.to_string()).collect();
                    break;
                }
                _ => i += 1,
            }
        }
        out.push(rule);
    }
    out
}

/// The tables `rules` of proxy `proxy` stick to store the server (its id and its key), as
/// HAProxy adds those to a table's `store` list whether or not it names them.
pub fn store_stickiness(tables: &mut [StickTablePlan], proxy: &str, rules: &[StickRulePlan]) {
    for rule in rules {
        let name = rule.table.as_deref().unwrap_or(proxy);
        let Some(t) = tables.iter_mut().find(|t| t.name == name) else {
            continue;
        };
        for data in ["server_id", "server_key"] {
            if !t.stores.iter().any(|s| s.name == data) {
                t.stores.push(StorePlan {
                    name: data.to_string(),
                    elements: 1,
                    period: 0,
                });
            }
        }
    }
}

/// One `peer` or `server` line of a peers section.
#[derive(Clone, Debug, Serialize)]
pub struct PeerPlan {
    pub name: String,
    /// `host:port`; `None` for a `server` line without address (the local peer).
    pub address: Option<String>,
    /// `shard <n>`: the peer is sent only the entries of that shard (0: all).
    pub shard: u32,
    /// TLS towards this peer (`ssl` on its line or the section's `default-server`); for the
    /// local peer, how a stopping process reaches its successor.
    pub tls: Option<super::tls::ServerTls>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PeersPlan {
    pub name: String,
    pub peers: Vec<PeerPlan>,
    /// The address the local peer listens on: its `peer` line, or the section's `bind`.
    pub bind: Option<String>,
    pub shards: u32,
    pub disabled: bool,
    /// TLS on the local peer's listener: `ssl` on the `bind` line (after `default-bind`), or on
    /// `default-bind` with a `peer` line.
    pub bind_tls: Option<super::tls::BindTls>,
}

/// A peers section and the tables declared in it.
pub fn peers_section(
    section: &NamedSection,
    tls: &super::tls::TlsGlobals,
) -> (PeersPlan, Vec<StickTablePlan>) {
    let name = section.name.as_ref().map_or("", |n| n.value.as_str());
    let mut plan = PeersPlan {
        name: name.to_string(),
        peers: Vec::new(),
        bind: None,
        shards: 0,
        disabled: false,
        bind_tls: None,
    };
    let words = |keyword: &str| -> Vec<&str> {
        section
            .lines
            .iter()
            .filter(|d| d.keyword == keyword)
            .flat_map(|d| d.args.iter().map(|a| a.as_str()))
            .collect()
    };
    let (default_bind, default_server) = (words("default-bind"), words("default-server"));
    let bind_tls = |options: &[&str]| {
        let all: Vec<&str> = default_bind.iter().chain(options).copied().collect();
        all.contains(&"ssl").then(|| tls.bind(&all))
    };
    plan.bind_tls = bind_tls(&[]);
    let mut tables = Vec::new();
    for d in &section.lines {
        let args: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
        match (d.keyword.as_str(), args.as_slice()) {
            ("peer" | "server", [peer, rest @ ..]) => {
                // A `server` line of the local peer has no address: its options follow the name.
                let has_address = rest
                    .first()
                    .is_some_and(|a| crate::registry::server_option(a).is_none());
                let options = if has_address { &rest[1..] } else { rest };
                let all: Vec<&str> = default_server.iter().chain(options).copied().collect();
                plan.peers.push(PeerPlan {
                    name: peer.to_string(),
                    address: has_address.then(|| rest[0].to_string()),
                    shard: options
                        .iter()
                        .position(|w| *w == "shard")
                        .and_then(|i| options.get(i + 1))
                        .map_or(0, |n| atol(n).max(0) as u32),
                    tls: tls.server(&all),
                })
            }
            ("bind", [addr, options @ ..]) => {
                plan.bind = Some(addr.to_string());
                plan.bind_tls = bind_tls(options);
            }
            ("shards", [n, ..]) => plan.shards = atol(n).max(0) as u32,
            ("disabled", _) => plan.disabled = true,
            ("enabled", _) => plan.disabled = false,
            ("table", [table, rest @ ..]) => {
                tables.push(stick_table(
                    &format!("{name}/{table}"),
                    &format!("/{table}"),
                    rest,
                    Some(name),
                ));
            }
            _ => {}
        }
    }
    for t in &mut tables {
        t.shards = plan.shards;
    }
    (plan, tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lines() {
        let t = stick_table(
            "be",
            "be",
            &[
                "type",
                "string",
                "len",
                "64",
                "size",
                "1m",
                "expire",
                "30s",
                "nopurge",
                "peers",
                "mine",
                "store",
                "gpc(3),gpc_rate(3,10s),http_req_rate(10s),conn_cur",
            ],
            None,
        );
        assert_eq!((t.key, t.key_size, t.size), (KeyType::String, 65, 1 << 20));
        assert_eq!((t.expire, t.nopurge), (Some(30_000), true));
        assert_eq!(t.peers.as_deref(), Some("mine"));
        let s: Vec<(&str, u32, u32)> = t
            .stores
            .iter()
            .map(|s| (s.name.as_str(), s.elements, s.period))
            .collect();
        assert_eq!(
            s,
            [
                ("gpc", 3, 0),
                ("gpc_rate", 3, 10_000),
                ("http_req_rate", 1, 10_000),
                ("conn_cur", 1, 0)
            ]
        );
        let b = stick_table("b", "b", &["type", "binary", "size", "10"], None);
        assert_eq!((b.key, b.key_size, b.expire), (KeyType::Binary, 32, None));
    }
}

#[cfg(test)]
mod peers_tests {
    use super::*;
    use crate::ir::Spanned;

    #[test]
    fn peers_sections_name_their_tables_as_haproxy_does() {
        let line = |kw: &str, args: &[&str]| DirectiveLine {
            prefix: None,
            keyword: kw.into(),
            args: args.iter().map(|a| (*a).into()).collect(),
            span: crate::Span::default(),
        };
        let section = NamedSection {
            kind: crate::registry::SectionKind::Peers,
            name: Some(Spanned::new("mesh".into(), crate::Span::default())),
            header: crate::Span::default(),
            members: Vec::new(),
            has_bind: false,
            lines: vec![
                line("peer", &["a", "127.0.0.1:10000"]),
                line("peer", &["b", "127.0.0.1:10001"]),
                line("shards", &["2"]),
                line(
                    "table",
                    &["t", "type", "integer", "size", "100", "store", "gpc0"],
                ),
            ],
        };
        let tls = crate::plan::tls::TlsGlobals::of(&[], false);
        let (plan, tables) = peers_section(&section, &tls);
        assert_eq!(plan.peers.len(), 2);
        assert_eq!(plan.peers[1].address.as_deref(), Some("127.0.0.1:10001"));
        assert!(plan.peers[1].tls.is_none() && plan.bind_tls.is_none());
        assert_eq!(plan.shards, 2);
        let t = &tables[0];
        // HAProxy names it "<peers>/<table>" and sends "/<table>" to its peers.
        assert_eq!((t.name.as_str(), t.network_name.as_str()), ("mesh/t", "/t"));
        assert_eq!(
            (t.key, t.size, t.peers.as_deref()),
            (KeyType::Integer, 100, Some("mesh"))
        );
    }

    #[test]
    fn tls_on_peer_links_from_bind_default_server_and_peer_lines() {
        let line = |kw: &str, args: &[&str]| DirectiveLine {
            prefix: None,
            keyword: kw.into(),
            args: args.iter().map(|a| (*a).into()).collect(),
            span: crate::Span::default(),
        };
        let section = |lines| NamedSection {
            kind: crate::registry::SectionKind::Peers,
            name: Some(Spanned::new("mesh".into(), crate::Span::default())),
            header: crate::Span::default(),
            members: Vec::new(),
            has_bind: true,
            lines,
        };
        let tls = crate::plan::tls::TlsGlobals::of(&[], false);
        let (plan, _) = peers_section(
            &section(vec![
                line("bind", &["127.0.0.1:10000", "ssl", "crt", "a.pem"]),
                line("default-server", &["ssl", "verify", "none"]),
                line("server", &["a"]),
                line("server", &["b", "127.0.0.1:10001", "shard", "1"]),
                line("server", &["c", "127.0.0.1:10002", "no-ssl"]),
            ]),
            &tls,
        );
        assert_eq!(plan.bind_tls.as_ref().unwrap().crts, ["a.pem"]);
        assert_eq!(plan.peers[0].address, None);
        assert!(plan.peers[0].tls.as_ref().is_some_and(|t| t.verify_none));
        assert_eq!(plan.peers[1].shard, 1);
        assert!(plan.peers[1].tls.is_some());
        assert!(plan.peers[2].tls.is_none());
        // `peer` lines: the listener's TLS comes from `default-bind`, the link's from the line.
        let (plan, _) = peers_section(
            &section(vec![
                line("default-bind", &["ssl", "crt", "b.pem"]),
                line("peer", &["a", "127.0.0.1:10000"]),
                line("peer", &["b", "127.0.0.1:10001", "ssl", "verify", "none"]),
            ]),
            &tls,
        );
        assert_eq!(plan.bind_tls.as_ref().unwrap().crts, ["b.pem"]);
        assert!(plan.peers[0].tls.is_none() && plan.peers[1].tls.is_some());
    }
}
