//! The runtime's view of the plan: compiled frontends and backends, and the state shared by
//! every worker thread (server health and load, counters). Hot-path state is atomics only.

use crate::acl::Condition;
use crate::api::counters::{Counters, Peak};
use crate::balance::fwrr::Reached;
use crate::balance::{self, Algorithm, Candidate, Hashing, Ring, SlotMap};
use crate::log::Sink;
use crate::logfmt::Format;
use crate::rules::CompiledRule;
use crate::upstream::reuse::{RetryOn, ReuseMode};
use hapee_compiler::ir::Mode;
use hapee_compiler::plan;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod build;
mod server;

pub use server::{
    ServerRt, ADMIN_DRAIN, ADMIN_FDRAIN, ADMIN_FMAINT, ADMIN_IDRAIN, ADMIN_IMAINT, ADMIN_MAINT,
};

/// Options that change how HTTP connections are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpConnMode {
    KeepAlive,
    ServerClose,
    Close,
}

pub use crate::http::replies::ErrorFiles;

fn ms(v: Option<u32>) -> Option<Duration> {
    v.map(|v| Duration::from_millis(u64::from(v)))
}

pub struct Timeouts {
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub connect: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    pub queue: Option<Duration>,
    pub tunnel: Option<Duration>,
    pub check: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    pub tarpit: Option<Duration>,
}

impl Timeouts {
    fn of(t: &plan::Timeouts) -> Timeouts {
        Timeouts {
            client: ms(t.client),
            server: ms(t.server),
            connect: ms(t.connect),
            http_request: ms(t.http_request),
            http_keep_alive: ms(t.http_keep_alive),
            queue: ms(t.queue),
            tunnel: ms(t.tunnel),
            check: ms(t.check),
            client_fin: ms(t.client_fin),
            server_fin: ms(t.server_fin),
            tarpit: ms(t.tarpit),
        }
    }
}

/// The server a `use-server` rule names: one of the backend's, or a name rendered from a log
/// format on each request (`use-server %[var(txn.srv)]`).
pub enum UseServer {
    Index(usize),
    Dynamic(Format),
}

pub struct BackendRt {
    pub name: Arc<str>,
    /// The header name case requests to this backend's HTTP/1 servers take
    /// (`option h1-case-adjust-bogus-server`).
    pub h1_case_adjust: Option<Arc<crate::http::case_adjust::CaseMap>>,
    /// `option accept-invalid-http-response`: a response header line that cannot be read is
    /// left out instead of failing the response.
    pub accept_invalid_response: bool,
    /// `option checkcache`: a response a shared cache could keep, with a server cookie in it,
    /// is refused (runtime/src/http/respond.rs).
    pub check_cache: bool,
    pub mode: Mode,
    pub algorithm: Algorithm,
    pub hashing: Hashing,
    /// Built only for `hash-type consistent`.
    pub ring: Ring,
    /// `hash-balance-factor` (0: none): the load cap of consistent hashing, in % of the
    /// average.
    pub hash_balance_factor: u32,
    /// `max-keep-alive-queue` (`None`: no limit): see `prefer_last_server`.
    pub max_keep_alive_queue: Option<u32>,
    /// `option abortonclose`: an HTTP/1 client that shuts its side down while its request
    /// to this backend is under way abandons it when its frontend has the option too (from
    /// `defaults`); else it is answered all the same.
    pub abort_on_close: bool,
    /// The syslog tag of its health check and server state log lines (`log-tag`).
    pub log_tag: Arc<str>,
    /// The table of `hash-type map-based`.
    pub slots: SlotMap,
    pub servers: Vec<Arc<ServerRt>>,
    /// Where each server sits in `servers`, by name ([`BackendRt::server_position`]).
    pub server_index: rustc_hash::FxHashMap<Arc<str>, usize>,
    pub rr: AtomicU64,
    /// `balance roundrobin`'s rotation, in HAProxy's order.
    pub fwrr: crate::balance::fwrr::Fwrr,
    pub rules: Vec<CompiledRule>,
    /// `tcp-response inspect-delay`: how long response content rules may wait for the
    /// server's data.
    pub response_inspect_delay: Option<std::time::Duration>,
    /// `tcp-request inspect-delay`: how long the backend's own request content rules may
    /// wait (their script actions, in HTTP mode).
    pub inspect_delay: Option<std::time::Duration>,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub retry_on: RetryOn,
    pub reuse: ReuseMode,
    /// `option http-pretend-keepalive`.
    pub pretend_keepalive: bool,
    /// `option nolinger`: server connections are reset when closed.
    pub nolinger: bool,
    /// `option srvtcpka` (or `tcpka`): TCP keep-alive probes on server connections.
    pub tcp_keep_alive: bool,
    /// `option prefer-last-server` with an algorithm that is not a hash: a session's next
    /// request goes to the server of its own idle connection.
    pub prefer_last_server: bool,
    /// `srvtcpka-cnt`, `-idle`, `-intvl`.
    pub keep_alive_timing: plan::sockets::KeepAliveTiming,
    /// `http-send-name-header`: the request header set to the server's name.
    pub send_name_header: Option<::http::HeaderName>,
    pub redispatch: bool,
    pub allbackups: bool,
    pub conn_mode: Option<HttpConnMode>,
    pub forwardfor: Option<plan::ForwardFor>,
    pub originalto: Option<plan::ForwardFor>,
    /// `option http-restrict-req-hdr-names`.
    pub restrict_header_names: plan::http_options::HeaderNames,
    pub errorfiles: ErrorFiles,
    pub health_check: plan::HealthCheck,
    /// `email-alert`: the mailers' queues of its reports, started by the first report. One
    /// per backend, whatever reports (checks, the Runtime API), so that the mails leave in
    /// the order of the changes, as from HAProxy's queue.
    pub mail: std::sync::OnceLock<Option<Arc<crate::checks::mail::Alerts>>>,
    pub active: AtomicU64,
    /// `fullconn`, set or derived as HAProxy derives it: the load at which its servers with
    /// `minconn` reach their `maxconn`.
    pub fullconn: Option<u32>,
    pub use_servers: Vec<(UseServer, Condition)>,
    /// `stick on|match|store-request|store-response` rules.
    pub stickiness: crate::tables::stick::Stickiness,
    pub id: u32,
    /// The section's rank among all proxy sections, in declaration order (see
    /// `hapee_compiler::plan::FrontendPlan::decl`).
    pub decl: usize,
    pub counters: Counters,
    pub peak_active: Peak,
    /// Requests waiting for a slot of one of its servers.
    pub queue: crate::upstream::queue::QueueCount,
    /// The statistics page this backend serves, if any.
    pub stats_page: Option<crate::api::page::Page>,
    /// Cookie persistence (`cookie`).
    pub persistence: Option<crate::http::persist::Persistence>,
    /// `persist rdp-cookie`: the RDP cookie naming the server, and whether a down server
    /// named is used all the same (`option persist`).
    pub rdp_persist: Option<(String, bool)>,
    /// `use-fcgi-app`: the FastCGI application its `proto fcgi` servers run.
    pub fcgi: Option<Arc<crate::upstream::fcgi::App>>,
    /// `dispatch` or `option transparent`: the one target, instead of the servers.
    pub direct: Option<crate::upstream::direct::Direct>,
}

impl BackendRt {
    /// Where the server `name` sits in `servers`: looked up in the index (a log line's `%sc`,
    /// a `use-server` format, a Runtime API command find the server without a scan of a
    /// backend of many servers); a backend of a few servers is scanned, which costs less
    /// than hashing the name.
    pub fn server_position(&self, name: &str) -> Option<usize> {
        if self.servers.len() <= 4 {
            return self.servers.iter().position(|s| *s.name == *name);
        }
        self.server_index.get(name).copied()
    }

    /// The server `name`, see [`BackendRt::server_position`].
    pub fn server_named(&self, name: &str) -> Option<&Arc<ServerRt>> {
        self.server_position(name).map(|i| &self.servers[i])
    }

    /// Picks a server, skipping those in `avoid` (redispatch after a failure).
    pub fn pick(&self, key: Option<u64>, avoid: Option<usize>) -> Option<usize> {
        // A server of weight 0 (`weight 0`, `set server … weight 0`, an SRV weight of 0) takes
        // no load-balanced traffic, as in HAProxy.
        // The common single-server backend needs no candidate list.
        if let [only] = self.servers.as_slice() {
            return (only.is_usable() && only.current_weight() > 0).then_some(0);
        }
        if self.algorithm == Algorithm::RoundRobin {
            return self.round_robin(avoid);
        }
        if self.algorithm == Algorithm::LeastConn {
            self.servers.iter().for_each(|s| s.note_in_balance());
        }
        let usable = |s: &&Arc<ServerRt>, backup: bool| {
            s.backup == backup && s.is_usable() && s.current_weight() > 0
        };
        let mut indices: Vec<usize> = (0..self.servers.len())
            .filter(|&i| Some(i) != avoid && usable(&&self.servers[i], false))
            .collect();
        if indices.is_empty() {
            indices = (0..self.servers.len())
                .filter(|&i| Some(i) != avoid && usable(&&self.servers[i], true))
                .collect();
            if !self.allbackups {
                indices.truncate(1);
            }
        }
        if indices.is_empty() && avoid.is_some() {
            return self.pick(key, None);
        }
        // Servers at their `maxconn` are passed over while another has room, as HAProxy's
        // balancing does; a hashed request keeps its server (and waits in its queue).
        let hashed = self.algorithm.is_hash() && key.is_some();
        if !hashed && indices.len() > 1 {
            let full = |&i: &usize| crate::upstream::queue::is_full(&self.servers[i]);
            if indices.iter().any(|i| !full(i)) {
                indices.retain(|i| !full(i));
            }
        }
        let candidates: Vec<Candidate> = indices
            .iter()
            .map(|&i| {
                let s = &self.servers[i];
                Candidate {
                    weight: s.current_weight(),
                    active_conns: s.active.load(Ordering::Relaxed),
                    maxconn: s.maxconn,
                    queued: s.queue.current(),
                    load_since: s.load_since.load(Ordering::Relaxed),
                }
            })
            .collect();
        if let (true, Some(k)) = (self.algorithm.is_hash(), key) {
            if self.hashing.consistent {
                let usable = |i| indices.contains(&i);
                if self.hash_balance_factor == 0 {
                    return self.ring.lookup(k as u32, usable);
                }
                return self.ring.lookup_bounded(k as u32, usable, |i| {
                    self.within_load_bound(&indices, &candidates, i)
                });
            }
            let weighted: Vec<(usize, u32)> = indices
                .iter()
                .zip(&candidates)
                .map(|(&i, c)| (i, c.weight))
                .collect();
            return self.slots.lookup(&weighted, k as u32);
        }
        balance::pick(&self.algorithm, &candidates, &self.rr).map(|i| indices[i])
    }
}

impl BackendRt {
    /// `balance roundrobin`: the active servers in HAProxy's weighted rotation (the backups
    /// when none is usable: all of them under `allbackups`, else the first). A server at its
    /// `maxconn` is passed over while another has room; the one a redispatch leaves is
    /// taken only when nothing else is.
    fn round_robin(&self, avoid: Option<usize>) -> Option<usize> {
        let group_of = |backup: bool| -> Vec<(usize, u32)> {
            let servers = self.servers.iter().enumerate();
            servers
                .filter(|(_, s)| s.backup == backup && s.is_usable())
                .map(|(i, s)| (i, s.current_weight()))
                .filter(|&(_, w)| w > 0)
                .collect()
        };
        let mut group = group_of(false);
        if group.is_empty() {
            group = group_of(true);
            if !self.allbackups {
                group.truncate(1);
            }
        }
        // `skip_full`: pass over servers at their `maxconn`; without it (every server full)
        // the request waits for the one the rotation gives.
        let pick = |skip_full: bool| {
            self.fwrr.pick(&group, |i| {
                if skip_full && crate::upstream::queue::is_full(&self.servers[i]) {
                    Reached::Full
                } else if Some(i) == avoid {
                    Reached::Avoid
                } else {
                    Reached::Take
                }
            })
        };
        pick(true).or_else(|| pick(false))
    }

    /// Whether server `server` (one of `indices`, whose weights `candidates` hold) may take
    /// one more request under `hash-balance-factor`.
    fn within_load_bound(
        &self,
        indices: &[usize],
        candidates: &[Candidate],
        server: usize,
    ) -> bool {
        // Effective weights, as HAProxy counts them (`BE_WEIGHT_SCALE`).
        const SCALE: u64 = 16;
        let served = |i: usize| self.servers[i].active.load(Ordering::Relaxed);
        let backend_served = (0..self.servers.len()).map(served).sum();
        let total_weight: u64 = candidates.iter().map(|c| u64::from(c.weight) * SCALE).sum();
        let Some(at) = indices.iter().position(|&i| i == server) else {
            return true;
        };
        let cumulative: u64 = candidates[..at]
            .iter()
            .map(|c| u64::from(c.weight) * SCALE)
            .sum();
        balance::within_load_bound(
            self.hash_balance_factor,
            backend_served,
            total_weight,
            cumulative,
            u64::from(candidates[at].weight) * SCALE,
            served(server),
        )
    }
}

pub struct Switch {
    pub backend: Option<usize>,
    pub dynamic: Option<Format>,
    pub condition: Condition,
}

pub struct FrontendRt {
    pub name: Arc<str>,
    pub mode: Mode,
    pub rules: Vec<CompiledRule>,
    pub switches: Vec<Switch>,
    pub default_backend: Option<usize>,
    /// A listen section's own backend.
    pub own_backend: Option<usize>,
    pub timeouts: Timeouts,
    pub log_format: Option<Format>,
    pub logs: Vec<Arc<Sink>>,
    pub dontlognull: bool,
    /// `option idle-close-on-response`: a stopping process keeps an idle HTTP/1 connection
    /// for its next request (answered with `Connection: close`) rather than closing it.
    pub idle_close_on_response: bool,
    /// `option http-ignore-probes`: a connection closed, or timed out, before its first
    /// request's first byte is dropped silently (no 408 page, no log line).
    pub ignore_probes: bool,
    /// `option nolinger`: client connections are reset when closed.
    pub nolinger: bool,
    /// `option clitcpka` (or `tcpka`): TCP keep-alive probes on client connections.
    pub tcp_keep_alive: bool,
    /// `clitcpka-cnt`, `-idle`, `-intvl`.
    pub keep_alive_timing: plan::sockets::KeepAliveTiming,
    /// `option abortonclose` on the frontend side (see
    /// `hapee_compiler::plan::FrontendPlan::abort_on_close`).
    pub abort_on_close: bool,
    /// `rate-limit sessions`: the most sessions it opens per second (0: no limit).
    pub session_rate_limit: u64,
    /// The sessions of this second taken under `session_rate_limit` (see
    /// [`crate::api::take_session_slot`]); the once-a-second sampling of the rates empties it.
    pub session_slots: std::sync::atomic::AtomicU64,
    /// A cleartext HTTP/1 connection whose first bytes are HTTP/2's preface is served as
    /// HTTP/2 (prior knowledge), unless `option disable-h2-upgrade` says not to.
    pub h2_upgrade: bool,
    /// `option log-separate-errors`: lines of failed transactions go out at level `err`.
    pub log_separate_errors: bool,
    /// `option dontlog-normal`: only failed transactions are logged.
    pub dontlog_normal: bool,
    /// `error-log-format`, for connections that fail before carrying a request.
    pub error_log_format: Option<Format>,
    /// `log-format-sd`: the structured data of its RFC 5424 log lines.
    pub log_format_sd: Option<Format>,
    pub capture_request: Vec<plan::Capture>,
    pub capture_response: Vec<plan::Capture>,
    /// `capture cookie`: the cookie `%CC` and `%CS` show.
    pub capture_cookie: Option<plan::Capture>,
    pub forwardfor: Option<plan::ForwardFor>,
    pub originalto: Option<plan::ForwardFor>,
    /// `option http-restrict-req-hdr-names`.
    pub restrict_header_names: plan::http_options::HeaderNames,
    pub errorfiles: ErrorFiles,
    /// `unique-id-format` and `unique-id-header`.
    pub unique_id: Option<crate::http::unique_id::UniqueId>,
    pub conn_mode: Option<HttpConnMode>,
    pub active: AtomicU64,
    pub http_buffer_request: bool,
    /// `option accept-invalid-http-request`: what HAProxy's parser only notes in a request
    /// head goes through (see `http::vet::Leniency`).
    pub accept_invalid_request: bool,
    /// `option http-use-proxy-header`: a request to a proxied target (absolute or authority
    /// form) authenticates with `Proxy-Authorization` and is challenged with a 407.
    pub use_proxy_header: bool,
    /// The header name case responses to this frontend's HTTP/1 clients take
    /// (`option h1-case-adjust-bogus-client`).
    pub h1_case_adjust: Option<Arc<crate::http::case_adjust::CaseMap>>,
    /// When the log line is written: at the end, or as soon as its fields are known
    /// (`option logasap`, or a format that needs nothing of the end).
    pub log_wait: crate::log_wait::LogWait,
    /// `option contstats`: byte counters grow while data flows, not only once a transfer
    /// ends (see [`crate::api::LiveBytes`]).
    pub contstats: bool,
    /// `option socket-stats`: each listener counts on its own and has its statistics row.
    pub socket_stats: bool,
    /// `tcp-request inspect-delay`: how long content rules may wait for the client's data.
    pub inspect_delay: Option<std::time::Duration>,
    /// `max-session-srv-conns`: the idle server connections of its own a client session
    /// keeps (see [`crate::upstream::pool::SessionConns`]).
    pub max_session_srv_conns: usize,
    /// The pages a client connection sends without a request to answer through, ready on the
    /// wire: 408 for a request head that came too late, 400 for one that could not be parsed.
    pub late_head_page: bytes::Bytes,
    pub bad_request_page: bytes::Bytes,
    /// The 400 page that answers a request the client's end aborted (`option abortonclose`),
    /// written as a page answering a request is, unlike `bad_request_page`.
    pub abort_page: bytes::Bytes,
    pub id: u32,
    /// The section's rank among all proxy sections, in declaration order (see
    /// `hapee_compiler::plan::FrontendPlan::decl`).
    pub decl: usize,
    pub counters: Counters,
    pub peak_active: Peak,
    /// `maxconn` in force (0: none); the Runtime API may change it.
    pub maxconn: AtomicU64,
    /// `disable frontend`: the listeners stop accepting until `enable frontend`.
    pub paused: AtomicBool,
    /// `monitor-uri` and `monitor fail`.
    pub monitor: Option<crate::http::monitor::Monitor>,
    /// A `frontend` section's statistics page, for requests no backend takes.
    pub stats_page: Option<crate::api::page::Page>,
    /// Its `bind … name` lines: address, port range and name (`so_name`).
    pub bind_names: Vec<(Option<std::net::IpAddr>, (u16, u16), String)>,
    /// Its `bind` lines in order: ids and open connections (`so_id`, `dst_conn`).
    pub listeners: Vec<crate::listener::ListenerRt>,
}

impl FrontendRt {
    /// The `name` of the bind line a connection to `local` came in by: the one whose address
    /// and port match, else the only named line of a frontend with one.
    pub fn bind_name(&self, local: SocketAddr) -> Option<String> {
        let matches = |(ip, (low, high), _): &&(Option<std::net::IpAddr>, (u16, u16), String)| {
            ip.is_none_or(|ip| ip.is_unspecified() || ip == local.ip())
                && (*low..=*high).contains(&local.port())
        };
        match self.bind_names.iter().find(matches) {
            Some(b) => Some(b.2.clone()),
            None if self.bind_names.len() == 1 => Some(self.bind_names[0].2.clone()),
            None => None,
        }
    }

    /// The longest a whole request head may take to arrive: `timeout http-request`, else
    /// `timeout client`.
    pub fn head_timeout(&self) -> Option<std::time::Duration> {
        self.timeouts.http_request.or(self.timeouts.client)
    }
}

/// Everything every thread reads.
pub struct Shared {
    pub frontends: Vec<FrontendRt>,
    pub backends: Vec<BackendRt>,
    /// Backends by name (FxHash: a name is looked up for every request, and the map is made
    /// once from the configuration, so the keys are not an attacker's to choose).
    pub backend_index: rustc_hash::FxHashMap<String, usize>,
    pub bufsize: usize,
    /// `tune.http.maxhdr`, when set.
    pub http_maxhdr: Option<usize>,
    /// Whether a rule uses `early-hint` (client connections then may send 103s).
    pub early_hints: bool,
    /// The `resolvers` sections, for `do-resolve`.
    pub resolvers: Vec<Arc<crate::discovery::resolver::Section>>,
    /// `tune.bufsize` and `tune.maxrewrite`: the room rewrites have.
    pub room: crate::http::room::Limits,
    /// `tune.h2.*`.
    pub h2: hapee_compiler::plan::h2::H2Tune,
    /// `httpclient.*`: what scripts' HTTP client connects with.
    pub httpclient: hapee_compiler::plan::tls_process::HttpClientPlan,
    pub active: AtomicU64,
    /// Connections per worker thread, which accepted connections are spread by.
    pub loads: crate::spread::ThreadLoads,
    /// Set by a graceful stop: listeners close, in-flight work finishes.
    pub stopping: AtomicBool,
    pub tables: crate::tables::Tables,
    /// What the Runtime API reports and changes process-wide.
    pub process: crate::api::Process,
    /// The caches and the proxies' HTTP filters.
    pub filters: crate::http::filters::Filters,
    /// The SPOE engines of `filter spoe` lines.
    pub spoe: crate::spoe::Engines,
    /// The `http-errors` sections' pages (`errorfiles <name>` in replies).
    pub error_sections: crate::http::replies::ErrorSections,
    /// `userlist` sections (`http_auth`).
    pub userlists: crate::http::auth::Userlists,
    /// The process-wide variables (`proc.*`), and the global section's `set-var` lines that
    /// give them their first values.
    pub proc_vars: crate::vars::ProcVars,
    /// `busy-polling`: the workers never sleep waiting for events.
    pub busy_polling: bool,
    /// `profiling.tasks on` (see [`crate::profiling`]).
    pub profiling_tasks: bool,
    /// Whether any proxy has `http-after-response` rules: without any, a response does not
    /// look its backend up to find none.
    pub after_response_rules: bool,
}

impl Shared {
    /// No proxies: what a transaction outside any proxy (a health check's) refers to.
    pub fn empty() -> Shared {
        Shared {
            frontends: Vec::new(),
            backends: Vec::new(),
            backend_index: Default::default(),
            bufsize: 16384,
            http_maxhdr: None,
            early_hints: false,
            resolvers: Vec::new(),
            room: crate::http::room::Limits {
                bufsize: 16384,
                maxrewrite: 1024,
            },
            h2: hapee_compiler::plan::h2::H2Tune::of(&[]),
            httpclient: Default::default(),
            active: AtomicU64::new(0),
            loads: crate::spread::ThreadLoads::new(1, true),
            stopping: AtomicBool::new(false),
            tables: Default::default(),
            error_sections: Default::default(),
            userlists: Default::default(),
            proc_vars: Default::default(),
            busy_polling: false,
            profiling_tasks: false,
            process: crate::api::Process::new(&hapee_compiler::plan::build(
                &hapee_compiler::ir::Config::default(),
                1,
            )),
            filters: Default::default(),
            spoe: Default::default(),
            after_response_rules: false,
        }
    }

    pub fn backend_by_name(&self, name: &str) -> Option<&BackendRt> {
        self.backend_index.get(name).map(|&i| &self.backends[i])
    }

    /// The frontend named `name` (frontends are few: a scan, no index).
    pub fn frontend_by_name(&self, name: &str) -> Option<&FrontendRt> {
        self.frontends.iter().find(|f| *f.name == *name)
    }
}
