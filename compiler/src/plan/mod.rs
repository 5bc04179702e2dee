//! The execution plan: a flat, serde-serializable description of what the runtime must run,
//! derived from the checked model. The runtime sees only this, never syntax or IR.

mod build;
pub mod captures;
pub mod checks;
pub mod compression;
pub mod crt_list;
pub mod direct;
pub mod errors;
pub mod fcgi;
pub mod fds;
pub mod filters;
pub mod h2;
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

pub use build::build;
pub use captures::Capture;
pub use checks::HealthCheck;
pub use lower::{CheckParams, ForwardFor, LogDest, LogHeader, LogTarget, LEVELS};

pub use stats::{CliLevel, StatsAction, StatsPage, StatsPlan, StatsRule, StatsSocket};

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
    /// (keyword, name, the expression or format word), in order.
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
    pub h2: h2::H2Tune,
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

/// The value after the last `name` of a word list (a server's own words override its
/// `default-server` words, which come first).
fn option_value_of<'a>(words: &[&'a str], name: &str) -> Option<&'a str> {
    let at = words.iter().rposition(|w| *w == name)?;
    words.get(at + 1).copied()
}

pub use crate::registry::last_switch;

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
    /// The section's rank among all proxy sections of the configuration (frontends,
    /// backends and listens together), for what walks the proxies in the order they were
    /// declared, as HAProxy's proxy list does (Lua's `core.proxies`).
    #[serde(skip)]
    pub decl: usize,
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
    /// The section's rank among all proxy sections (see [`FrontendPlan::decl`]).
    #[serde(skip)]
    pub decl: usize,
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
    /// `tcp-request inspect-delay`, in milliseconds: how long the backend's own request
    /// content rules (their script actions, in HTTP mode) may wait.
    pub inspect_delay: Option<u32>,
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
    /// `use-fcgi-app` or `filter fcgi-app`: the index in `Plan::fcgi_apps` of the application
    /// its `proto fcgi` servers run.
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

/// The log targets one `log` line names (none for `log global` or `no log`), so that a check
/// can report a target at its own line.
pub fn log_line_targets(config: &Config, line: &ir::DirectiveLine) -> Vec<LogTarget> {
    lower::proxy_logs(std::slice::from_ref(line), &[], &config.environment())
}
