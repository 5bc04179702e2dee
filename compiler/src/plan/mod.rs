//! The execution plan: a flat, serde-serializable description of what the runtime must run,
//! derived from the checked model. The runtime sees only this, never syntax or IR.

pub mod captures;
pub mod checks;
pub mod compression;
pub mod crt_list;
pub mod direct;
pub mod errors;
pub mod fcgi;
pub mod fds;
pub mod filters;
pub mod http_options;
mod lower;
pub mod lua;
pub mod mailers;
pub mod mux;
pub mod persist;
pub mod process;
pub mod programs;
pub mod quic;
pub mod resolvers;
pub mod rings;
pub mod server_state;
pub mod sockets;
mod stats;
pub mod tables;
pub mod ticket_keys;
pub mod tls;
pub mod tls_process;
pub mod unix_bind;
pub mod userlists;
pub mod var_limits;

pub use captures::Capture;
pub use checks::HealthCheck;
pub use lower::{CheckParams, ForwardFor, LogDest, LogHeader, LogTarget, LEVELS};

pub use stats::{CliLevel, StatsPage, StatsPlan, StatsSocket};

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
    /// `resolvers` sections (DNS service discovery).
    pub resolvers: Vec<resolvers::ResolversPlan>,
    /// `program` sections (run by the master in master-worker mode).
    pub programs: Vec<programs::ProgramPlan>,
    /// `cache` sections and the proxies' filters (cache, compression, trace, bwlim).
    pub filters: filters::FiltersPlan,
    /// `http-errors` sections (named by `errorfiles` and by rules' replies).
    pub error_sections: Vec<errors::ErrorSection>,
    /// `userlist` sections.
    pub userlists: Vec<userlists::UserlistPlan>,
    /// `ring` and `log-forward` sections.
    pub rings: Vec<rings::RingPlan>,
    pub log_forwards: Vec<rings::LogForwardPlan>,
    /// `fcgi-app` sections (named by backends' `use-fcgi-app`).
    pub fcgi_apps: Vec<fcgi::FcgiAppPlan>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GlobalPlan {
    /// The global section's `set-var <name> <expr>` and `set-var-fmt <name> <format>` lines
    /// (keyword, name, the rest), in order.
    pub set_vars: Vec<(String, String, String)>,
    /// `tune.vars.*-max-size`: the bytes of variables each scope may hold.
    pub var_limits: var_limits::VarLimits,
    /// `maxcomprate`, in bytes per second (the kB/s given times 1024; 0: none): above it, new
    /// responses are not compressed.
    pub comp_rate_limit: u64,
    /// `maxzlibmem`, `maxcompcpuusage`, `tune.zlib.windowsize`, `tune.zlib.memlevel`.
    pub zlib: compression::ZlibPlan,
    /// `busy-polling` (and not `no busy-polling` after it): the workers never sleep waiting
    /// for events.
    pub busy_polling: bool,
    /// `profiling.tasks on`: streams measure their CPU time and wake-up latency (`auto` and
    /// `off` do not).
    #[serde(default)]
    pub profiling_tasks: bool,
    pub nbthread: u32,
    pub thread_groups: u32,
    /// Group (1-based) of each thread, in thread order.
    pub thread_group_of: Vec<u32>,
    /// The CPUs each thread is bound to (`cpu-map`), in thread order; empty: not bound.
    pub thread_cpus: Vec<Vec<u32>>,
    /// `tune.listener.multi-queue` (on by default): a connection accepted on a listener that
    /// several threads serve goes to the least loaded of them; off, the accepting thread
    /// keeps it.
    pub listener_multi_queue: bool,
    /// `tune.idle-pool.shared` (on by default): a thread without an idle connection to a
    /// server may take one another thread keeps.
    pub idle_pool_shared: bool,
    pub maxconn: Option<u32>,
    pub lua: lua::LuaPlan,
    pub logs: Vec<LogTarget>,
    /// `log-tag`, the program name in syslog headers.
    pub log_tag: String,
    /// `tune.bufsize`: the largest request or response head accepted.
    pub bufsize: u32,
    /// `tune.http.maxhdr`: a request head may have one header line fewer than this (HAProxy
    /// counts 101 by default, which is also hyper's 100 lines); `None` when not set.
    pub http_maxhdr: Option<u32>,
    /// `tune.maxrewrite`: the part of a buffer kept for rewrites (1024 by default, at most
    /// half the buffer).
    pub maxrewrite: u32,
    /// `localpeer`: this process's name in peers sections (`-L` overrides it).
    pub localpeer: Option<String>,
    /// `tune.stick-counters`: how many `sc` slots a session has (3 by default).
    pub stick_counters: u32,
    /// `tune.peers.max-updates-at-once`.
    pub peers_max_updates: u32,
    /// `stats socket`, `stats timeout`, `stats maxconn`: the Runtime API.
    pub stats: StatsPlan,
    /// `node` and `description`, reported by `show info` and the stats page.
    pub node: Option<String>,
    pub description: Option<String>,
    /// `hard-stop-after`, in milliseconds: the longest a stopping process lingers.
    pub hard_stop_after: Option<u32>,
    /// `master-worker` in the global section.
    pub master_worker: bool,
    /// `mworker-max-reloads`: reloads an old worker may survive before it is killed.
    pub mworker_max_reloads: Option<u32>,
    /// `tune.quic.*` and `cluster-secret`.
    pub quic: quic::QuicTunes,
    /// `tune.h2.*`: the HTTP/2 settings announced to clients.
    pub h2: tls::H2Tune,
    /// `trace` lines (experimental): the words after `trace`, run at start-up as the CLI's
    /// `trace` command.
    pub traces: Vec<Vec<String>>,
    /// The process's environment, root, accept pacing, rate limits, syslog host name and
    /// anonymizer key.
    pub process: process::ProcessSettings,
    /// `h1-case-adjust <from> <to>` lines, in order, and the last `h1-case-adjust-file`:
    /// the case header names take towards HTTP/1 peers that need it.
    pub h1_case_adjust: Vec<(String, String)>,
    pub h1_case_adjust_file: Option<String>,
    /// `h1-accept-payload-with-any-method`: HTTP/1.0 GET, HEAD and DELETE requests may carry a
    /// body (otherwise they are refused with a 413, as HAProxy does).
    pub h1_accept_payload_with_any_method: bool,
    /// `tune.http.logurilen` plus one (HAProxy's `requri_len`, 1024 by default): the logs
    /// keep the request line cut one byte short of it.
    pub http_logurilen: u32,
    /// `tune.comp.maxlevel`: the level responses are compressed at (1 to 9, 1 by default).
    pub comp_maxlevel: u32,
    /// `maxsslconn`, `maxsslrate`, `tune.ssl.keylog`, `issuers-chain-path`.
    pub tls_process: tls_process::TlsProcess,
    /// `httpclient.*`: what scripts' HTTP client connects with.
    pub httpclient: tls_process::HttpClientPlan,
    /// `default-path`: the directory the runtime loads relatively named files from
    /// (`None`: its working directory).
    pub default_path: Option<String>,
}

pub use lua::LuaLoad;

#[derive(Clone, Debug, Serialize)]
pub struct ListenerPlan {
    /// Index into `frontends`.
    pub frontend: usize,
    pub address: Address,
    pub tls: bool,
    /// The TLS settings, on a `bind … ssl` line.
    pub tls_settings: Option<tls::BindTls>,
    /// `proto` (`h2` for prior-knowledge HTTP/2 on a clear listener).
    pub proto: Option<String>,
    /// Thread group and thread mask (relative to the group) serving this listener.
    pub thread_group: u32,
    pub thread_mask: u64,
    pub options: Vec<String>,
}

impl ListenerPlan {
    /// The value of bind option `name` (`name`, `id`, `mode`, `user`, `alpn`…), when given.
    pub fn option(&self, name: &str) -> Option<&str> {
        option_value(&self.options, name)
    }

    /// Whether the flag `name` is among its options (`quic-force-retry`…).
    pub fn has_option(&self, name: &str) -> bool {
        self.options.iter().any(|o| o == name)
    }
}

/// The word after `name` in a list of bind or server options: the option's value.
/// A server's `source` settings: those of its line (or `default-server`), else the backend's
/// `source` statement.
fn source_words(words: &[&str], directives: &[ir::DirectiveLine]) -> Vec<String> {
    if let Some(at) = words.iter().rposition(|w| *w == "source") {
        // Up to the next server option: `usesrc` and `interface` belong to it.
        let mut out = vec![];
        let mut i = at + 1;
        while let Some(w) = words.get(i) {
            if out.is_empty()
                || matches!(out.last().map(String::as_str), Some("usesrc" | "interface"))
                || matches!(*w, "usesrc" | "interface")
            {
                out.push(w.to_string());
                i += 1;
            } else {
                break;
            }
        }
        return out;
    }
    directives
        .iter()
        .rev()
        .find(|d| d.keyword == "source" && d.prefix.is_none())
        .map(|d| d.args.iter().map(|a| a.as_str().to_string()).collect())
        .unwrap_or_default()
}

/// The value after the last `name` of a word list (a server's own words override its
/// `default-server` words, which come first).
fn option_value_of<'a>(words: &[&'a str], name: &str) -> Option<&'a str> {
    let at = words.iter().rposition(|w| *w == name)?;
    words.get(at + 1).copied()
}

/// Which of two opposite flags (`backup`/`no-backup`, `stick`/`non-stick`…) a server's option
/// words end with: `Some(true)` for `on`, `Some(false)` for `off`, `None` for neither. The
/// words are read keyword by keyword (with the registry's value counts), so a value that looks
/// like a flag (`cookie backup`) is not taken for one.
pub fn last_switch(words: &[&str], on: &str, off: &str) -> Option<bool> {
    let mut last = None;
    let mut i = 0;
    while let Some(w) = words.get(i) {
        if *w == on {
            last = Some(true);
        } else if *w == off {
            last = Some(false);
        }
        let values = crate::registry::server_option(w).map_or(0, |o| usize::from(o.values));
        i += 1 + values;
    }
    last
}

/// The value of the last `name` among a bind or server line's option words.
pub fn option_value<'a>(options: &'a [String], name: &str) -> Option<&'a str> {
    let at = options.iter().rposition(|o| o == name)?;
    options.get(at + 1).map(String::as_str)
}

#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub set: RuleSet,
    pub action: String,
    pub args: Vec<String>,
    /// `if`/`unless` and the condition words, empty when unconditional.
    pub condition: Vec<String>,
    /// Written as the `redirect` directive, not as `http-request redirect`: its destination is
    /// text as written rather than a log-format (it comes after the `http-request` rules).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub plain_redirect: bool,
    /// The rule's line, for [`locate_rules`].
    #[serde(skip)]
    pub span: crate::Span,
    /// The file name and line it was written at (`last_rule_file`, `last_rule_line`), once
    /// [`locate_rules`] has read them from the sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<(String, u32)>,
}

/// Fills each rule's `origin` (file name as given and line number) from the sources.
pub fn locate_rules(plan: &mut Plan, db: &crate::SourceDb) {
    let rules = plan
        .frontends
        .iter_mut()
        .flat_map(|f| f.rules.iter_mut())
        .chain(plan.backends.iter_mut().flat_map(|b| b.rules.iter_mut()));
    for r in rules {
        if (r.span.file.0 as usize) < db.len() {
            let name = db.file(r.span.file).name.clone();
            r.origin = Some((name, db.line_col(r.span).line));
        }
    }
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
            // HAProxy falls back on the proxy's own `timeout connect` (none: no delay).
            tarpit: p.timeout("tarpit").or_else(|| p.timeout("connect")),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct FrontendPlan {
    pub name: String,
    /// The proxy's numeric id (`id`, else numbered in declaration order): `iid` in stats.
    pub uuid: u32,
    pub mode: Mode,
    pub acls: Vec<Acl>,
    /// Rules in evaluation order, those inherited from a named defaults section first.
    pub rules: Vec<Rule>,
    pub switches: Vec<Switch>,
    pub default_backend: Option<usize>,
    /// For listen sections: the backend index of the same section.
    pub own_backend: Option<usize>,
    pub options: Vec<(String, bool)>,
    /// `option abortonclose` as HAProxy sets it on the frontend side: a listen section's
    /// own, but for a frontend only what its defaults section gave (HAProxy ignores the line
    /// in a frontend). With the backend's, a client that ends its side while its request
    /// waits for the server's response abandons it. (Not serialized: derived from `options`.)
    #[serde(skip)]
    pub abort_on_close: bool,
    pub timeouts: Timeouts,
    /// The effective log format (`None`: HAProxy's legacy connection line).
    pub log_format: Option<String>,
    /// `error-log-format`: the line of a connection that fails before it carries a
    /// request (a TLS handshake failure…); `None`: HAProxy's legacy error line.
    pub error_log_format: Option<String>,
    pub logs: Vec<LogTarget>,
    pub capture_request: Vec<Capture>,
    pub capture_response: Vec<Capture>,
    /// `capture cookie <name> len <n>` (the last one), for `%CC` and `%CS`.
    pub capture_cookie: Option<Capture>,
    pub forwardfor: Option<ForwardFor>,
    /// The pages it answers with itself, one per status (`errorfile`, `http-error`, …).
    pub errors: Vec<errors::ErrorPage>,
    pub maxconn: Option<u32>,
    /// `max-session-srv-conns`: how many idle server connections of its own (`http-reuse
    /// never`, `send-proxy` servers…) one client session keeps; past it, one that goes idle
    /// closes. HAProxy's default is 5.
    pub max_session_srv_conns: u32,
    /// `tcp-request inspect-delay`, in milliseconds: how long content rules may wait for data.
    pub inspect_delay: Option<u32>,
    /// `unique-id-format`, `option originalto`, … (what acts on every request).
    pub http_options: http_options::HttpOptions,
    /// `monitor-uri` and `monitor fail`.
    pub monitor: persist::Monitor,
    /// The statistics page of a `frontend` section, served to requests that no backend
    /// takes (a frontend without a backend is its own, as in HAProxy). A `listen` section's
    /// page is its backend's.
    pub stats_page: Option<StatsPage>,
    /// `log-format-sd`: the RFC 5424 structured data of its log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format_sd: Option<String>,
    /// `backlog`: the accept queue's length for its `bind` lines that set none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u32>,
    /// `rate-limit sessions`: the most new sessions it accepts per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_rate_limit: Option<u32>,
    /// `clitcpka-cnt`, `-idle`, `-intvl`: the keep-alive probes of `option clitcpka`.
    #[serde(skip_serializing_if = "sockets::KeepAliveTiming::is_unset")]
    pub client_keepalive: sockets::KeepAliveTiming,
    /// The syslog tag of its traffic log lines: its own `log-tag`, else the global one.
    pub log_tag: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServerPlan {
    pub name: String,
    pub address: Option<Address>,
    /// The address as written, when it is a name to resolve.
    pub host: Option<String>,
    pub weight: u32,
    /// `backup` or `no-backup`, `disabled` or `enabled`: the last of the two, the server's
    /// own words after its `default-server` ones.
    pub backup: bool,
    pub disabled: bool,
    /// `non-stick` (undone by `stick`): stick tables never learn this server.
    pub non_stick: bool,
    pub check: bool,
    pub maxconn: Option<u32>,
    pub check_params: CheckParams,
    /// Its option words: the backend's `default-server` ones, then its own (so the last
    /// value of an option is the one that counts).
    pub options: Vec<String>,
    /// For the servers of one `server-template` line: the template's prefix (its servers
    /// are the slots DNS answers fill).
    pub template: Option<String>,
    /// The server's TLS, on `server … ssl` (or `default-server … ssl`).
    pub tls: Option<tls::ServerTls>,
    /// The TLS of its health checks (`check-ssl`, `check-sni`).
    pub check_tls: Option<tls::ServerTls>,
    /// `proto h2`, `max-reuse`, `check-proto`, `check-alpn`.
    pub mux: mux::ServerMux,
    /// `on-marked-down shutdown-sessions`: its sessions are killed when checks mark it down.
    pub shutdown_sessions_when_down: bool,
    /// `on-marked-up shutdown-backup-sessions`: the backend's backup servers' sessions are
    /// killed when checks mark this server up again.
    pub shutdown_backup_sessions_when_up: bool,
    /// `socks4 <addr:port>`: connections reach the server through this SOCKS4 proxy.
    pub socks4: Option<String>,
    /// `check-via-socks4`: health checks go through the SOCKS4 proxy too.
    pub check_via_socks4: bool,
    /// `slowstart <time>` in milliseconds: the ramp after the server comes back up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slowstart: Option<u32>,
    /// `minconn <n>`: the lowest of its dynamic connection limit (see `fullconn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minconn: Option<u32>,
    /// `observe`, `on-error` and `error-limit`: traffic errors that count as failed checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observe: Option<Observe>,
    /// `source <addr>[:port] …`: the words from the address on, its own or else its backend's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<String>,
    /// `tcp-ut`, `redir` and the backend's `option tcp-smart-connect`.
    #[serde(skip_serializing_if = "sockets::ServerTuning::is_unset")]
    pub tuning: sockets::ServerTuning,
}

/// What a server's traffic tells its health checks (`observe layer4|layer7`).
#[derive(Clone, Debug, Serialize)]
pub struct Observe {
    /// `layer4` or `layer7`.
    pub layer: String,
    /// `on-error`: `fastinter`, `fail-check` (the default), `sudden-death` or `mark-down`.
    pub on_error: String,
    /// `error-limit`: the consecutive errors that trigger it (10 by default).
    pub error_limit: u32,
}

impl Observe {
    fn of(words: &[&str]) -> Option<Observe> {
        let layer = option_value_of(words, "observe").filter(|l| *l != "none")?;
        Some(Observe {
            layer: layer.to_string(),
            on_error: option_value_of(words, "on-error")
                .unwrap_or("fail-check")
                .to_string(),
            error_limit: option_value_of(words, "error-limit")
                .and_then(|n| n.parse().ok())
                .unwrap_or(10),
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct BackendPlan {
    pub name: String,
    pub uuid: u32,
    pub mode: Mode,
    /// Algorithm and its arguments (`url_param userid`, `hdr(host)`, …).
    pub balance: String,
    /// `persist rdp-cookie[(<name>)]`, as written after `persist`.
    pub persist: Option<String>,
    pub hash_type: String,
    pub health_check: HealthCheck,
    pub forwardfor: Option<ForwardFor>,
    /// The pages it answers with itself, one per status (`errorfile`, `http-error`, …).
    pub errors: Vec<errors::ErrorPage>,
    pub servers: Vec<ServerPlan>,
    /// `use-server NAME if|unless …`: the server and the condition words.
    pub use_servers: Vec<(String, Vec<String>)>,
    pub acls: Vec<Acl>,
    pub rules: Vec<Rule>,
    /// `tcp-response inspect-delay`, in milliseconds: how long response content rules may
    /// wait for the server's data.
    pub response_inspect_delay: Option<u32>,
    pub options: Vec<(String, bool)>,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub retry_on: Vec<String>,
    pub http_reuse: String,
    pub stick_rules: Vec<tables::StickRulePlan>,
    /// The statistics page this backend serves (`stats enable`, `stats uri`, …).
    pub stats_page: Option<StatsPage>,
    /// `option originalto`, … (what acts on every request).
    pub http_options: http_options::HttpOptions,
    /// `cookie`, `force-persist`, `ignore-persist`, `dynamic-cookie-key`.
    pub persistence: persist::Persistence,
    /// Where its servers' state is loaded from at start (`load-server-state-from-file`).
    pub server_state: Option<server_state::StateSource>,
    /// `use-fcgi-app`: the index in `Plan::fcgi_apps` of the application its `proto fcgi`
    /// servers run.
    pub fcgi_app: Option<usize>,
    /// `dispatch` or `option transparent` without `balance`: the one target it sends to.
    pub direct: Option<direct::Direct>,
    /// `fullconn <n>`: the backend load at which its servers reach their `maxconn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fullconn: Option<u32>,
    /// `srvtcpka-cnt`, `-idle`, `-intvl`: the keep-alive probes of `option srvtcpka`.
    #[serde(skip_serializing_if = "sockets::KeepAliveTiming::is_unset")]
    pub server_keepalive: sockets::KeepAliveTiming,
    /// `http-send-name-header <name>`: the header naming the server a request is sent to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_name_header: Option<String>,
    /// `hash-balance-factor <n>` (0: none): under consistent hashing, a server already
    /// serving more than n% of the average load is passed over for the next on the ring.
    pub hash_balance_factor: u32,
    /// `max-keep-alive-queue <n>`: with `option prefer-last-server`, a request stays with
    /// the server of its idle connection only while fewer than n wait in that server's
    /// queue (`None`: `-1`, always).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_keep_alive_queue: Option<u32>,
    /// The syslog tag of its health check and server state log lines: its own `log-tag`,
    /// else the global one.
    pub log_tag: String,
}

fn rules_of(config: &Config, p: &ir::Proxy) -> Vec<Rule> {
    let inherited = p
        .defaults
        .map(|d| &config.proxies[d])
        .filter(|d| d.name.is_some());
    let rules = inherited
        .into_iter()
        .flat_map(|d| d.rules.iter())
        .chain(p.rules.iter())
        .map(|r| (r, false));
    // `redirect` directives go last: a rule list runs one set at a time in order, so they run
    // after every `http-request` rule of the proxy, as HAProxy evaluates them.
    let redirects = p.redirects.iter().map(|r| (r, true));
    rules
        .chain(redirects)
        .map(|(r, plain_redirect)| Rule {
            set: r.set,
            action: r.action.value.to_string(),
            args: r.args.iter().map(|a| a.value.to_string()).collect(),
            condition: r.condition.iter().map(|a| a.value.to_string()).collect(),
            plain_redirect,
            span: r.span,
            origin: None,
        })
        .collect()
}

/// The `tcp-check`/`http-check` lines of a proxy; without any of its own, those of its
/// defaults section.
fn check_lines(config: &Config, p: &ir::Proxy) -> Vec<checks::CheckLine> {
    let of = |proxy: &ir::Proxy| -> Vec<checks::CheckLine> {
        proxy
            .rules
            .iter()
            .filter(|r| matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck))
            .map(|r| {
                let words = std::iter::once(&r.action)
                    .chain(r.args.iter())
                    .chain(r.condition.iter())
                    .map(|w| w.value.to_string())
                    .collect();
                (r.set == RuleSet::HttpCheck, words)
            })
            .collect()
    };
    let own = of(p);
    let defaults = p
        .defaults
        .map(|d| of(&config.proxies[d]))
        .unwrap_or_default();
    let pick = |http: bool| {
        let mine: Vec<_> = own.iter().filter(|(h, _)| *h == http).cloned().collect();
        if mine.is_empty() {
            defaults
                .iter()
                .filter(|(h, _)| *h == http)
                .cloned()
                .collect()
        } else {
            mine
        }
    };
    let mut out = pick(false);
    out.extend(pick(true));
    out
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

/// See [`FrontendPlan::abort_on_close`]: a frontend's own lines (after its header) are not
/// counted, those it inherited from its defaults section (before it) are.
fn frontend_abort_on_close(p: &ir::Proxy) -> bool {
    let header = (p.header.file, p.header.start);
    p.options
        .iter()
        .rev()
        .find(|(name, v)| {
            name.as_str() == "abortonclose"
                && (p.kind.has_backend() || (v.span.file, v.span.start) < header)
        })
        .is_some_and(|(_, v)| v.value)
}

fn options_of(p: &ir::Proxy) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (name, v) in &p.options {
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), v.value));
    }
    out
}

/// Each proxy's numeric id, by position in `config.proxies` (0 for defaults): its `id` line,
/// else the lowest number not taken, in declaration order. HAProxy's CLI proxy takes id 1
/// when a `stats socket` exists.
fn proxy_uuids(config: &Config, cli: bool) -> Vec<u32> {
    let explicit =
        |p: &ir::Proxy| lower::last_arg(&p.directives, "id").and_then(|v| v.parse::<u32>().ok());
    let mut taken: std::collections::HashSet<u32> =
        config.proxies.iter().filter_map(explicit).collect();
    if cli {
        taken.insert(1);
    }
    let mut next = 1;
    config
        .proxies
        .iter()
        .map(|p| {
            if p.kind == ProxyKind::Defaults {
                return 0;
            }
            explicit(p).unwrap_or_else(|| {
                while taken.contains(&next) {
                    next += 1;
                }
                taken.insert(next);
                next
            })
        })
        .collect()
}

/// The log targets one `log` line names (none for `log global` or `no log`), so that a check
/// can report a target at its own line.
pub fn log_line_targets(config: &Config, line: &ir::DirectiveLine) -> Vec<LogTarget> {
    lower::proxy_logs(std::slice::from_ref(line), &[], &config.environment())
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
    let env = config.environment();
    let global_logs = lower::global_logs(&g.directives, &env);
    let cookie_capture_max = captures::cookie_capture_max(&g.directives);
    let uuids = proxy_uuids(config, !g.stats_sockets.is_empty());
    // Proxies reach here by reference into `config.proxies`: their index is their offset
    // (a position search per proxy would be quadratic on configurations of 100,000 backends).
    let base = config.proxies.as_ptr() as usize;
    let uuid_of = |p: &ir::Proxy| {
        let offset = (p as *const ir::Proxy as usize).wrapping_sub(base);
        let at = offset / std::mem::size_of::<ir::Proxy>().max(1);
        uuids.get(at).copied().unwrap_or(0)
    };
    let error_sections = errors::sections(config);
    let fcgi_apps = fcgi::lower(config);
    let tls_globals = tls::TlsGlobals::of(&g.directives, g.ssl_load_extra_del_ext);
    // The global `log-tag`, which a proxy's own overrides.
    let log_tag = lower::last_arg(&g.directives, "log-tag").unwrap_or_else(|| "haproxy".into());
    let unix_bind = unix_bind::UnixBind::of(&g.directives);
    let mut frontends = Vec::new();
    let mut listeners = Vec::new();
    for p in config
        .proxies
        .iter()
        .filter(live)
        .filter(|p| p.kind.has_frontend())
    {
        let index = frontends.len();
        let captures = captures::slots(&p.directives);
        for bind in &p.binds {
            let (thread_group, thread_mask) =
                ir::resolve_bind(bind.thread.as_ref(), groups, &thread_group_of)
                    .unwrap_or((1, u64::MAX));
            let options: Vec<&str> = bind.options.iter().map(|o| o.value.as_str()).collect();
            // QUIC is TLS whether or not the line says `ssl` (HAProxy turns it on, W260).
            // `$VAR`/`${VAR}` are expanded before the list is split, as HAProxy does.
            let expanded = address::env_expand(&bind.address.value, &env);
            let quic = expanded.split(',').any(|a| a.starts_with("quic"));
            let tls_settings = (bind.ssl || quic).then(|| tls_globals.bind(&options));
            let proto = options
                .iter()
                .position(|o| *o == "proto")
                .and_then(|i| options.get(i + 1))
                .map(|p| p.to_string());
            for part in expanded.split(',') {
                if let Ok(mut address) = address::parse(part, address::Rules::BIND) {
                    let mut options = options.iter().map(|o| o.to_string()).collect();
                    unix_bind.apply(&mut address, &mut options);
                    listeners.push(ListenerPlan {
                        frontend: index,
                        address,
                        tls: bind.ssl,
                        tls_settings: tls_settings.clone(),
                        proto: proto.clone(),
                        thread_group,
                        thread_mask,
                        options,
                    });
                }
            }
        }
        frontends.push(FrontendPlan {
            abort_on_close: frontend_abort_on_close(p),
            uuid: uuid_of(p),
            name: p.name_str().to_string(),
            mode: p.effective_mode(),
            acls: acls_of(p),
            rules: captures::number_rules(
                rules_of(config, p)
                    .into_iter()
                    .filter(|r| !matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck))
                    .collect(),
                &captures.2,
            ),
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
            stats_page: (p.kind == ProxyKind::Frontend)
                .then(|| stats::stats_page(&p.directives))
                .flatten(),
            options: options_of(p),
            timeouts: Timeouts::of(p),
            log_format: lower::log_format(&p.directives, p.effective_mode() == Mode::Http),
            error_log_format: lower::last_arg(&p.directives, "error-log-format"),
            logs: lower::proxy_logs(&p.directives, &global_logs, &env),
            capture_request: captures.0,
            capture_response: captures.1,
            capture_cookie: captures::cookie(&p.directives, cookie_capture_max),
            forwardfor: lower::forwardfor(&p.directives),
            errors: errors::pages(&p.directives, &error_sections),
            maxconn: p.maxconn.as_ref().map(|m| m.value),
            max_session_srv_conns: lower::max_session_srv_conns(&p.directives),
            inspect_delay: lower::inspect_delay(&p.directives, "tcp-request"),
            http_options: http_options::HttpOptions::of(&p.directives),
            monitor: persist::Monitor::of(&p.directives),
            log_format_sd: lower::directive_text(&p.directives, "log-format-sd")
                .filter(|f| !f.is_empty()),
            backlog: sockets::positive(&p.directives, "backlog"),
            session_rate_limit: sockets::session_rate_limit(&p.directives),
            client_keepalive: sockets::KeepAliveTiming::of(&p.directives, "cli"),
            log_tag: lower::last_arg(&p.directives, "log-tag").unwrap_or_else(|| log_tag.clone()),
        });
    }
    let backends: Vec<BackendPlan> = config
        .proxies
        .iter()
        .filter(live)
        .filter(|p| p.kind.has_backend())
        .map(|p| {
            let smart_connect = p.option("tcp-smart-connect").unwrap_or(false);
            let default_server_words: Vec<String> = p
                .directives
                .iter()
                .filter(|d| d.keyword == "default-server" && d.prefix.is_none())
                .flat_map(|d| d.args.iter().map(|a| a.to_string()))
                .collect();
            BackendPlan {
                uuid: uuid_of(p),
                name: p.name_str().to_string(),
                mode: p.effective_mode(),
                balance: lower::directive_text(&p.directives, "balance")
                    .unwrap_or_else(|| "roundrobin".to_string()),
                persist: lower::directive_text(&p.directives, "persist"),
                hash_type: lower::hash_type(&p.directives),
                health_check: checks::health_check(&p.directives, &check_lines(config, p))
                    .with_logs(lower::proxy_logs(&p.directives, &global_logs, &env))
                    .with_email(mailers::email_alert(config, &p.directives))
                    .with_listener(
                        p.binds
                            .first()
                            .and_then(|b| mailers::listener_of(&b.address.value)),
                    ),
                forwardfor: lower::forwardfor(&p.directives),
                http_options: {
                    let mut o = http_options::HttpOptions::of(&p.directives);
                    // A FastCGI application would read `X_A` and `X-A` as one parameter.
                    if fcgi::used_by(&p.directives, &fcgi_apps).is_some()
                        && !http_options::names_option_set(&p.directives)
                    {
                        o.restrict_header_names = http_options::HeaderNames::Delete;
                    }
                    o
                },
                persistence: persist::Persistence::of(&p.directives),
                errors: errors::pages(&p.directives, &error_sections),
                servers: p
                    .servers
                    .iter()
                    .flat_map(|s| {
                        // A template stands for one server per number of its range.
                        let names: Vec<(String, Option<String>)> = match s.template {
                            Some((lo, hi)) => (lo..=hi.min(lo.saturating_add(4095)))
                                .map(|n| {
                                    (
                                        format!("{}{n}", s.name.value),
                                        Some(s.name.value.to_string()),
                                    )
                                })
                                .collect(),
                            None => vec![(s.name.value.to_string(), None)],
                        };
                        names.into_iter().map(move |name| (s, name))
                    })
                    .map(|(s, (name, template))| {
                        let parsed = s.address.as_ref().and_then(|a| {
                            let a = address::env_expand(&a.value, &env);
                            address::parse(&a, address::Rules::SERVER).ok()
                        });
                        let words: Vec<&str> = default_server_words
                            .iter()
                            .map(String::as_str)
                            .chain(s.options.iter().map(|o| o.value.as_str()))
                            .collect();
                        ServerPlan {
                            name,
                            template,
                            host: parsed
                                .as_ref()
                                .filter(|a| a.is_hostname())
                                .map(|a| a.host.to_string()),
                            address: parsed,
                            weight: option_value_of(&words, "weight")
                                .map_or(1, |w| ir::values::atol(w).max(0) as u32),
                            backup: last_switch(&words, "backup", "no-backup").unwrap_or(false),
                            disabled: last_switch(&words, "disabled", "enabled").unwrap_or(false),
                            non_stick: last_switch(&words, "non-stick", "stick").unwrap_or(false),
                            // `default-server check` and `no-check`: the last word
                            // of the two, the server's own after the defaults.
                            check: default_server_words
                                .iter()
                                .map(String::as_str)
                                .chain(s.options.iter().map(|o| o.value.as_str()))
                                .rfind(|w| matches!(*w, "check" | "no-check"))
                                .map_or(s.check, |w| w == "check"),
                            maxconn: option_value_of(&words, "maxconn")
                                .map(|m| ir::values::atol(m).max(0) as u32),
                            check_params: lower::check_params(&p.directives, &s.options),
                            options: words.iter().map(|w| w.to_string()).collect(),
                            tls: tls_globals.server(&words),
                            check_tls: tls_globals.check(&words),
                            mux: mux::ServerMux::of(&words),
                            socks4: words
                                .iter()
                                .rposition(|w| *w == "socks4")
                                .and_then(|i| words.get(i + 1))
                                .map(|a| a.to_string()),
                            check_via_socks4: words.contains(&"check-via-socks4"),
                            slowstart: option_value_of(&words, "slowstart").and_then(lower::ms),
                            minconn: option_value_of(&words, "minconn")
                                .and_then(|v| v.parse().ok()),
                            observe: Observe::of(&words),
                            source: source_words(&words, &p.directives),
                            tuning: sockets::ServerTuning::of(&words, smart_connect),
                            shutdown_sessions_when_down: words
                                .windows(2)
                                .any(|w| w == ["on-marked-down", "shutdown-sessions"]),
                            shutdown_backup_sessions_when_up: words
                                .windows(2)
                                .any(|w| w == ["on-marked-up", "shutdown-backup-sessions"]),
                        }
                    })
                    .collect(),
                use_servers: lower::use_servers(&p.directives),
                acls: acls_of(p),
                rules: rules_of(config, p),
                response_inspect_delay: lower::inspect_delay(&p.directives, "tcp-response"),
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
                stats_page: stats::stats_page(&p.directives),
                stick_rules: tables::stick_rules(&p.directives),
                server_state: server_state::source(&g.directives, &p.directives, p.name_str()),
                fcgi_app: fcgi::used_by(&p.directives, &fcgi_apps),
                direct: direct::of(p, &env),
                fullconn: lower::directive_text(&p.directives, "fullconn")
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0),
                server_keepalive: sockets::KeepAliveTiming::of(&p.directives, "srv"),
                send_name_header: lower::last_arg(&p.directives, "http-send-name-header"),
                hash_balance_factor: lower::hash_balance_factor(&p.directives),
                max_keep_alive_queue: lower::max_keep_alive_queue(&p.directives),
                log_tag: lower::last_arg(&p.directives, "log-tag")
                    .unwrap_or_else(|| log_tag.clone()),
            }
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
        let (section, section_tables) = tables::peers_section(s, &tls_globals);
        for t in stick_tables
            .iter_mut()
            .filter(|t| t.peers.as_deref() == Some(section.name.as_str()))
        {
            t.shards = section.shards;
        }
        peers.push(section);
        stick_tables.extend(section_tables);
    }
    for b in &backends {
        tables::store_stickiness(&mut stick_tables, &b.name, &b.stick_rules);
    }
    let mut plan = Plan {
        global: GlobalPlan {
            set_vars: g
                .directives
                .iter()
                .filter(|d| matches!(d.keyword.as_str(), "set-var" | "set-var-fmt"))
                .map(|d| {
                    let words: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
                    let name = words.first().copied().unwrap_or("").to_string();
                    let rest = words.get(1..).unwrap_or(&[]).join(" ");
                    (d.keyword.to_string(), name, rest)
                })
                .collect(),
            var_limits: var_limits::VarLimits::of(&g.directives),
            comp_rate_limit: lower::last_arg(&g.directives, "maxcomprate")
                .map_or(0, |v| (ir::values::atol(&v) as i32).max(0) as u64 * 1024),
            zlib: compression::ZlibPlan::of(&g.directives),
            busy_polling: g
                .directives
                .iter()
                .rev()
                .find(|d| d.keyword == "busy-polling")
                .is_some_and(|d| d.prefix.is_none()),
            profiling_tasks: lower::last_arg(&g.directives, "profiling.tasks").as_deref()
                == Some("on"),
            nbthread,
            thread_groups: groups,
            thread_cpus: ir::thread_cpus(g, &thread_group_of),
            thread_group_of,
            listener_multi_queue: lower::last_arg(&g.directives, "tune.listener.multi-queue")
                .is_none_or(|v| v != "off"),
            idle_pool_shared: lower::last_arg(&g.directives, "tune.idle-pool.shared")
                .is_none_or(|v| v != "off"),
            maxconn: g.maxconn.as_ref().map(|m| m.value),
            lua: lua::plan(&g.directives),
            logs: global_logs,
            log_tag,
            bufsize: g.bufsize.unwrap_or(16384),
            http_maxhdr: lower::last_arg(&g.directives, "tune.http.maxhdr")
                .and_then(|v| v.parse().ok()),
            maxrewrite: lower::last_arg(&g.directives, "tune.maxrewrite")
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(1024)
                .min(g.bufsize.unwrap_or(16384) / 2),
            localpeer: lower::last_arg(&g.directives, "localpeer"),
            stick_counters: lower::last_arg(&g.directives, "tune.stick-counters")
                .map_or(3, |v| v.parse().unwrap_or(3)),
            peers_max_updates: lower::last_arg(&g.directives, "tune.peers.max-updates-at-once")
                .map_or(200, |v| v.parse().unwrap_or(200)),
            stats: stats::stats_plan(&g.directives),
            node: lower::last_arg(&g.directives, "node"),
            description: lower::directive_text(&g.directives, "description"),
            hard_stop_after: lower::last_arg(&g.directives, "hard-stop-after")
                .and_then(|t| lower::ms(&t)),
            master_worker: g.master_worker,
            mworker_max_reloads: lower::last_arg(&g.directives, "mworker-max-reloads")
                .and_then(|n| n.parse().ok()),
            quic: quic::tunes(&g.directives),
            h2: tls::H2Tune::of(&g.directives),
            traces: g
                .directives
                .iter()
                .filter(|d| d.keyword == "trace" && g.expose_experimental)
                .map(|d| d.args.iter().map(|a| a.to_string()).collect())
                .collect(),
            process: process::ProcessSettings::of(&g.directives),
            h1_case_adjust: g
                .directives
                .iter()
                .filter(|d| d.keyword == "h1-case-adjust")
                .map(|d| {
                    let arg = |i: usize| d.args.get(i).map(|a| a.to_string()).unwrap_or_default();
                    (arg(0), arg(1))
                })
                .collect(),
            h1_case_adjust_file: lower::last_arg(&g.directives, "h1-case-adjust-file"),
            h1_accept_payload_with_any_method: (g.directives.iter())
                .any(|d| d.keyword == "h1-accept-payload-with-any-method"),
            http_logurilen: lower::last_arg(&g.directives, "tune.http.logurilen")
                .and_then(|v| u32::try_from(ir::values::atol(&v)).ok())
                .map_or(1024, |n| n.saturating_add(1)),
            comp_maxlevel: lower::last_arg(&g.directives, "tune.comp.maxlevel")
                .and_then(|v| u32::try_from(ir::values::atol(&v)).ok())
                .filter(|n| (1..=9).contains(n))
                .unwrap_or(1),
            tls_process: tls_process::TlsProcess::of(&g.directives),
            httpclient: tls_process::HttpClientPlan::of(&g.directives),
            default_path: g.default_path.clone(),
        },
        listeners,
        frontends,
        backends,
        tables: stick_tables,
        peers,
        resolvers: resolvers::lower(config),
        programs: programs::lower(config),
        filters: filters::lower(config),
        error_sections,
        userlists: userlists::lower(config),
        rings: rings::lower_rings(config),
        log_forwards: rings::lower_log_forwards(config),
        fcgi_apps,
    };
    // Counted over the whole plan: listeners, sockets, checks and threads.
    plan.global.process.fds = fds::need(config, &plan);
    plan
}
