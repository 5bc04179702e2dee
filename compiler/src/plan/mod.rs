//! The execution plan: a flat, serde-serializable description of what the runtime must run,
//! derived from the checked model. The runtime sees only this, never syntax or IR.

mod lower;
pub mod tables;

pub use lower::{
    Capture, CheckParams, Expect, ForwardFor, HealthCheck, HttpError, HttpErrorBody, LogDest,
    LogHeader, LogTarget, LEVELS,
};

use crate::address::{self, Address};
use crate::ir::{self, Config, Mode, ProxyKind, RuleSet};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub global: GlobalPlan,
    pub listeners: Vec<ListenerPlan>,
    pub frontends: Vec<FrontendPlan>,
    pub backends: Vec<BackendPlan>,
    /// Stick tables of proxies and of peers sections.
    pub tables: Vec<tables::StickTablePlan>,
    pub peers: Vec<tables::PeersPlan>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GlobalPlan {
    pub nbthread: u32,
    pub thread_groups: u32,
    /// Group (1-based) of each thread, in thread order.
    pub thread_group_of: Vec<u32>,
    /// The CPUs each thread is bound to (`cpu-map`), in thread order; empty: not bound.
    pub thread_cpus: Vec<Vec<u32>>,
    pub maxconn: Option<u32>,
    pub lua_loads: Vec<LuaLoad>,
    pub logs: Vec<LogTarget>,
    /// `log-tag`, the program name in syslog headers.
    pub log_tag: String,
    /// `tune.bufsize`: the largest request or response head accepted.
    pub bufsize: u32,
    /// `localpeer`: this process's name in peers sections (`-L` overrides it).
    pub localpeer: Option<String>,
    /// `tune.stick-counters`: how many `sc` slots a session has (3 by default).
    pub stick_counters: u32,
    /// `tune.peers.max-updates-at-once`.
    pub peers_max_updates: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct LuaLoad {
    pub file: String,
    pub args: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ListenerPlan {
    /// Index into `frontends`.
    pub frontend: usize,
    pub address: Address,
    pub tls: bool,
    /// Thread group and thread mask (relative to the group) serving this listener.
    pub thread_group: u32,
    pub thread_mask: u64,
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub set: RuleSet,
    pub action: String,
    pub args: Vec<String>,
    /// `if`/`unless` and the condition words, empty when unconditional.
    pub condition: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Acl {
    pub name: String,
    pub criterion: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Switch {
    /// Backend index, or `None` for a dynamic `%[…]` target.
    pub backend: Option<usize>,
    pub dynamic: Option<String>,
    pub condition: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeouts {
    pub client: Option<u32>,
    pub server: Option<u32>,
    pub connect: Option<u32>,
    pub http_request: Option<u32>,
    pub http_keep_alive: Option<u32>,
    pub queue: Option<u32>,
    pub tunnel: Option<u32>,
    pub check: Option<u32>,
    pub client_fin: Option<u32>,
    pub server_fin: Option<u32>,
    pub tarpit: Option<u32>,
}

impl Timeouts {
    fn of(p: &ir::Proxy) -> Self {
        Timeouts {
            client: p.timeout("client"),
            server: p.timeout("server"),
            connect: p.timeout("connect"),
            http_request: p.timeout("http-request"),
            http_keep_alive: p.timeout("http-keep-alive"),
            queue: p.timeout("queue"),
            tunnel: p.timeout("tunnel"),
            check: p.timeout("check"),
            client_fin: p.timeout("client-fin"),
            server_fin: p.timeout("server-fin"),
            tarpit: p.timeout("tarpit"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct FrontendPlan {
    pub name: String,
    pub mode: Mode,
    pub acls: Vec<Acl>,
    /// Rules in evaluation order, those inherited from a named defaults section first.
    pub rules: Vec<Rule>,
    pub switches: Vec<Switch>,
    pub default_backend: Option<usize>,
    /// For listen sections: the backend index of the same section.
    pub own_backend: Option<usize>,
    pub options: Vec<(String, bool)>,
    pub timeouts: Timeouts,
    /// The effective log format (`None`: HAProxy's legacy connection line).
    pub log_format: Option<String>,
    pub logs: Vec<LogTarget>,
    pub capture_request: Vec<Capture>,
    pub capture_response: Vec<Capture>,
    pub forwardfor: Option<ForwardFor>,
    pub errorfiles: Vec<(u16, String)>,
    pub http_errors: Vec<HttpError>,
    pub maxconn: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServerPlan {
    pub name: String,
    pub address: Option<Address>,
    /// The address as written, when it is a name to resolve.
    pub host: Option<String>,
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    pub check: bool,
    pub maxconn: Option<u32>,
    pub check_params: CheckParams,
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BackendPlan {
    pub name: String,
    pub mode: Mode,
    /// Algorithm and its arguments (`url_param userid`, `hdr(host)`, …).
    pub balance: String,
    pub hash_type: String,
    pub health_check: HealthCheck,
    pub forwardfor: Option<ForwardFor>,
    pub errorfiles: Vec<(u16, String)>,
    pub http_errors: Vec<HttpError>,
    pub servers: Vec<ServerPlan>,
    /// `use-server NAME if|unless …`: the server and the condition words.
    pub use_servers: Vec<(String, Vec<String>)>,
    pub acls: Vec<Acl>,
    pub rules: Vec<Rule>,
    pub options: Vec<(String, bool)>,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub retry_on: Vec<String>,
    pub http_reuse: String,
    pub stick_rules: Vec<tables::StickRulePlan>,
}

fn rules_of(config: &Config, p: &ir::Proxy) -> Vec<Rule> {
    let inherited = p
        .defaults
        .map(|d| &config.proxies[d])
        .filter(|d| d.name.is_some());
    inherited
        .into_iter()
        .flat_map(|d| d.rules.iter())
        .chain(p.rules.iter())
        .map(|r| Rule {
            set: r.set,
            action: r.action.value.to_string(),
            args: r.args.iter().map(|a| a.value.to_string()).collect(),
            condition: r.condition.iter().map(|a| a.value.to_string()).collect(),
        })
        .collect()
}

fn acls_of(p: &ir::Proxy) -> Vec<Acl> {
    p.acls
        .iter()
        .map(|a| Acl {
            name: a.name.value.to_string(),
            criterion: a.words.iter().map(|w| w.value.to_string()).collect(),
        })
        .collect()
}

fn options_of(p: &ir::Proxy) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (name, v) in &p.options {
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), v.value));
    }
    out
}

/// Builds the plan of a configuration that passed the checks.
pub fn build(config: &Config, nbthread: u32) -> Plan {
    let g = &config.global;
    let mut diags = Vec::new();
    let thread_group_of =
        ir::map_threads(g, nbthread, &mut diags).unwrap_or_else(|| vec![1; nbthread as usize]);
    let groups = g.thread_groups.as_ref().map_or(1, |v| v.value);
    let live = |p: &&ir::Proxy| p.kind != ProxyKind::Defaults && !p.disabled;
    let backend_names: Vec<&str> = config
        .proxies
        .iter()
        .filter(live)
        .filter(|p| p.kind.has_backend())
        .map(|p| p.name_str())
        .collect();
    let backend_index = |name: &str| backend_names.iter().position(|n| *n == name);
    let global_logs = lower::global_logs(&g.directives);
    let mut frontends = Vec::new();
    let mut listeners = Vec::new();
    for p in config
        .proxies
        .iter()
        .filter(live)
        .filter(|p| p.kind.has_frontend())
    {
        let index = frontends.len();
        let captures = lower::captures(&p.directives);
        for bind in &p.binds {
            let (thread_group, thread_mask) =
                ir::resolve_bind(bind.thread.as_ref(), groups, &thread_group_of)
                    .unwrap_or((1, u64::MAX));
            for part in bind.address.value.split(',') {
                if let Ok(address) = address::parse(part, address::Rules::BIND) {
                    listeners.push(ListenerPlan {
                        frontend: index,
                        address,
                        tls: bind.ssl,
                        thread_group,
                        thread_mask,
                        options: bind.options.iter().map(|o| o.value.to_string()).collect(),
                    });
                }
            }
        }
        frontends.push(FrontendPlan {
            name: p.name_str().to_string(),
            mode: p.effective_mode(),
            acls: acls_of(p),
            rules: rules_of(config, p)
                .into_iter()
                .filter(|r| !matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck))
                .collect(),
            switches: p
                .use_backends
                .iter()
                .map(|u| Switch {
                    backend: if u.dynamic {
                        None
                    } else {
                        backend_index(&u.target.value)
                    },
                    dynamic: u.dynamic.then(|| u.target.value.to_string()),
                    condition: u.condition.iter().map(|c| c.value.to_string()).collect(),
                })
                .collect(),
            default_backend: p
                .default_backend
                .as_ref()
                .and_then(|d| backend_index(&d.value)),
            own_backend: (p.kind == ProxyKind::Listen)
                .then(|| backend_index(p.name_str()))
                .flatten(),
            options: options_of(p),
            timeouts: Timeouts::of(p),
            log_format: lower::log_format(&p.directives, p.effective_mode() == Mode::Http),
            logs: lower::proxy_logs(&p.directives, &global_logs),
            capture_request: captures.0,
            capture_response: captures.1,
            forwardfor: lower::forwardfor(&p.directives),
            errorfiles: lower::errorfiles(&p.directives),
            http_errors: lower::http_errors(&p.directives),
            maxconn: p.maxconn.as_ref().map(|m| m.value),
        });
    }
    let backends = config
        .proxies
        .iter()
        .filter(live)
        .filter(|p| p.kind.has_backend())
        .map(|p| BackendPlan {
            name: p.name_str().to_string(),
            mode: p.effective_mode(),
            balance: lower::directive_text(&p.directives, "balance")
                .unwrap_or_else(|| "roundrobin".to_string()),
            hash_type: lower::hash_type(&p.directives),
            health_check: lower::health_check(&p.directives),
            forwardfor: lower::forwardfor(&p.directives),
            errorfiles: lower::errorfiles(&p.directives),
            http_errors: lower::http_errors(&p.directives),
            servers: p
                .servers
                .iter()
                .map(|s| {
                    let parsed = s
                        .address
                        .as_ref()
                        .and_then(|a| address::parse(&a.value, address::Rules::SERVER).ok());
                    ServerPlan {
                        name: s.name.value.to_string(),
                        host: parsed
                            .as_ref()
                            .filter(|a| a.is_hostname())
                            .map(|a| a.host.to_string()),
                        address: parsed,
                        weight: s.weight.unwrap_or(1),
                        backup: s.backup,
                        disabled: s.disabled,
                        check: s.check,
                        maxconn: s.maxconn,
                        check_params: lower::check_params(&p.directives, &s.options),
                        options: s.options.iter().map(|o| o.value.to_string()).collect(),
                    }
                })
                .collect(),
            use_servers: lower::use_servers(&p.directives),
            acls: acls_of(p),
            rules: rules_of(config, p),
            options: options_of(p),
            timeouts: Timeouts::of(p),
            retries: p.retries.as_ref().map_or(3, |r| r.value),
            retry_on: p.retry_on.as_ref().map_or_else(
                || vec!["conn-failure".to_string()],
                |r| r.value.split(' ').map(String::from).collect(),
            ),
            http_reuse: p
                .http_reuse
                .as_ref()
                .map_or("safe".to_string(), |r| r.value.to_string()),
            stick_rules: tables::stick_rules(&p.directives),
        })
        .collect();
    let mut stick_tables: Vec<tables::StickTablePlan> = config
        .proxies
        .iter()
        .filter(live)
        .filter_map(|p| tables::proxy_table(p.name_str(), &p.directives))
        .collect();
    let mut peers = Vec::new();
    for s in config
        .sections
        .iter()
        .filter(|s| s.kind == crate::registry::SectionKind::Peers)
    {
        let (section, section_tables) = tables::peers_section(s);
        for t in stick_tables
            .iter_mut()
            .filter(|t| t.peers.as_deref() == Some(section.name.as_str()))
        {
            t.shards = section.shards;
        }
        peers.push(section);
        stick_tables.extend(section_tables);
    }
    Plan {
        global: GlobalPlan {
            nbthread,
            thread_groups: groups,
            thread_cpus: ir::thread_cpus(g, &thread_group_of),
            thread_group_of,
            maxconn: g.maxconn.as_ref().map(|m| m.value),
            lua_loads: g
                .lua_loads
                .iter()
                .map(|(f, a)| LuaLoad {
                    file: f.value.to_string(),
                    args: a.clone(),
                })
                .collect(),
            logs: global_logs,
            log_tag: lower::last_arg(&g.directives, "log-tag").unwrap_or_else(|| "haproxy".into()),
            bufsize: g.bufsize.unwrap_or(16384),
            localpeer: lower::last_arg(&g.directives, "localpeer"),
            stick_counters: lower::last_arg(&g.directives, "tune.stick-counters")
                .map_or(3, |v| v.parse().unwrap_or(3)),
            peers_max_updates: lower::last_arg(&g.directives, "tune.peers.max-updates-at-once")
                .map_or(200, |v| v.parse().unwrap_or(200)),
        },
        listeners,
        frontends,
        backends,
        tables: stick_tables,
        peers,
    }
}
