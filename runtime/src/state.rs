//! The runtime's view of the plan: compiled frontends and backends, and the state shared by
//! every worker thread (server health and load, counters). Hot-path state is atomics only.

use crate::acl::{AclSet, Condition};
use crate::api::counters::{Counters, Peak};
use crate::balance::{self, Algorithm, Candidate, Hashing, Ring};
use crate::log::Sink;
use crate::logfmt::Format;
use crate::rules::{self, CompiledRule};
use crate::tables::fetch::with_default_table;
use crate::upstream::reuse::{RetryOn, ReuseMode};
use hapee_compiler::ir::Mode;
use hapee_compiler::plan::{self, Plan};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct ServerRt {
    pub name: Arc<str>,
    /// The address connections go to; the Runtime API may change it (`set server … addr`).
    addr: arc_swap::ArcSwapOption<SocketAddr>,
    /// The configured weight; `uweight` is the one in force (`set server … weight`).
    pub weight: u32,
    pub uweight: AtomicU32,
    pub backup: bool,
    pub disabled: bool,
    /// Maintenance and drain flags set by the configuration or the Runtime API.
    pub admin: AtomicU8,
    pub up: AtomicBool,
    /// Numeric id (`puid`, `sid` in stats).
    pub id: u32,
    pub counters: Counters,
    pub peak_active: Peak,
    pub check: crate::api::health::CheckState,
    pub active: AtomicU64,
    pub total: AtomicU64,
    pub maxconn: Option<u32>,
    /// Connection slots when `maxconn` is set: waiting for one is queueing.
    pub slots: Option<Arc<tokio::sync::Semaphore>>,
    /// `server … ssl`.
    pub tls: Option<Arc<crate::tls::client::ServerTlsConfig>>,
    /// The TLS of its health checks.
    pub check_tls: Option<Arc<crate::tls::client::ServerTlsConfig>>,
    pub plan: plan::ServerPlan,
    /// The PROXY protocol header its connections start with, if any.
    pub send_proxy: Option<crate::upstream::send_proxy::SendProxy>,
    /// With `resolvers`: the address and weight DNS answers give it (`addr` is unused).
    pub dynamic: Option<crate::discovery::Dynamic>,
}

/// `ServerRt::admin` bits.
pub const ADMIN_MAINT: u8 = 1;
pub const ADMIN_DRAIN: u8 = 2;

impl ServerRt {
    /// `non-stick`: stick tables never learn this server.
    pub fn non_stick(&self) -> bool {
        self.plan.options.iter().any(|o| o == "non-stick")
    }

    pub fn is_usable(&self) -> bool {
        self.admin.load(Ordering::Relaxed) == 0
            && self.up.load(Ordering::Relaxed)
            && self.addr().is_some()
    }

    /// Where to connect now: what DNS answered last for a server with `resolvers`, else the
    /// configured address (or the one `set server … addr` gave).
    pub fn addr(&self) -> Option<SocketAddr> {
        match &self.dynamic {
            Some(d) => d.addr(),
            None => self.addr.load().as_deref().copied(),
        }
    }

    pub fn set_addr(&self, addr: SocketAddr) {
        self.addr.store(Some(Arc::new(addr)));
    }

    /// The weight the balancer uses now: SRV answers set it for a discovered server, the
    /// Runtime API (`set server … weight`) for the others.
    pub fn current_weight(&self) -> u32 {
        match &self.dynamic {
            Some(d) => d.weight(),
            None => self.uweight.load(Ordering::Relaxed),
        }
    }
}

/// Options that change how HTTP connections are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpConnMode {
    KeepAlive,
    ServerClose,
    Close,
}

fn has_option(options: &[(String, bool)], name: &str) -> bool {
    options.iter().any(|(n, v)| n == name && *v)
}

fn conn_mode(options: &[(String, bool)]) -> Option<HttpConnMode> {
    options
        .iter()
        .filter(|(_, on)| *on)
        .filter_map(|(n, _)| match n.as_str() {
            "http-keep-alive" => Some(HttpConnMode::KeepAlive),
            "http-server-close" => Some(HttpConnMode::ServerClose),
            "httpclose" => Some(HttpConnMode::Close),
            _ => None,
        })
        .next_back()
}

pub use crate::http::replies::ErrorFiles;

/// A proxy's own pages, each missing file reported.
fn load_errorfiles(pages: &[plan::errors::ErrorPage], problems: &mut Vec<String>) -> ErrorFiles {
    crate::http::replies::load_pages(pages).unwrap_or_else(|e| {
        problems.push(e.0);
        ErrorFiles::new()
    })
}

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

pub struct BackendRt {
    pub name: Arc<str>,
    pub mode: Mode,
    pub algorithm: Algorithm,
    pub hashing: Hashing,
    /// Built only for `hash-type consistent`.
    pub ring: Ring,
    pub servers: Vec<Arc<ServerRt>>,
    pub rr: AtomicU64,
    pub rules: Vec<CompiledRule>,
    /// `tcp-response inspect-delay`: how long response content rules may wait for the
    /// server's data.
    pub response_inspect_delay: Option<std::time::Duration>,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub retry_on: RetryOn,
    pub reuse: ReuseMode,
    /// `option http-pretend-keepalive`.
    pub pretend_keepalive: bool,
    pub redispatch: bool,
    pub allbackups: bool,
    pub conn_mode: Option<HttpConnMode>,
    pub forwardfor: Option<plan::ForwardFor>,
    pub originalto: Option<plan::ForwardFor>,
    /// `option http-restrict-req-hdr-names`.
    pub restrict_header_names: plan::http_options::HeaderNames,
    pub errorfiles: ErrorFiles,
    pub health_check: plan::HealthCheck,
    pub active: AtomicU64,
    pub use_servers: Vec<(usize, Condition)>,
    /// `stick on|match|store-request|store-response` rules.
    pub stickiness: crate::tables::stick::Stickiness,
    pub id: u32,
    pub counters: Counters,
    pub peak_active: Peak,
    /// The statistics page this backend serves, if any.
    pub stats_page: Option<crate::api::page::Page>,
    /// Cookie persistence (`cookie`).
    pub persistence: Option<crate::http::persist::Persistence>,
}

impl BackendRt {
    /// Picks a server, skipping those in `avoid` (redispatch after a failure).
    pub fn pick(&self, key: Option<u64>, avoid: Option<usize>) -> Option<usize> {
        // A server of weight 0 (`weight 0`, `set server … weight 0`, an SRV weight of 0) takes
        // no load-balanced traffic, as in HAProxy.
        // The common single-server backend needs no candidate list.
        if let [only] = self.servers.as_slice() {
            return (only.is_usable() && only.current_weight() > 0).then_some(0);
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
        let candidates: Vec<Candidate> = indices
            .iter()
            .map(|&i| {
                let s = &self.servers[i];
                Candidate {
                    weight: s.current_weight(),
                    active_conns: s.active.load(Ordering::Relaxed),
                    maxconn: s.maxconn,
                }
            })
            .collect();
        if let (true, Some(k)) = (self.hashing.consistent && self.algorithm.is_hash(), key) {
            return self.ring.lookup(k as u32, |i| indices.contains(&i));
        }
        balance::pick(&self.algorithm, &candidates, &self.rr, key).map(|i| indices[i])
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
    /// `option log-separate-errors`: lines of failed transactions go out at level `err`.
    pub log_separate_errors: bool,
    /// `option dontlog-normal`: only failed transactions are logged.
    pub dontlog_normal: bool,
    /// `error-log-format`, for connections that fail before carrying a request.
    pub error_log_format: Option<Format>,
    pub capture_request: Vec<plan::Capture>,
    pub capture_response: Vec<plan::Capture>,
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
    /// `option logasap`: log once the response head (TCP: the server connection) is there.
    pub logasap: bool,
    /// `tcp-request inspect-delay`: how long content rules may wait for the client's data.
    pub inspect_delay: Option<std::time::Duration>,
    /// The pages a client connection sends without a request to answer through, ready on the
    /// wire: 408 for a request head that came too late, 400 for one that could not be parsed.
    pub late_head_page: bytes::Bytes,
    pub bad_request_page: bytes::Bytes,
    pub id: u32,
    pub counters: Counters,
    pub peak_active: Peak,
    /// `maxconn` in force (0: none); the Runtime API may change it.
    pub maxconn: AtomicU64,
    /// `disable frontend`: the listeners stop accepting until `enable frontend`.
    pub paused: AtomicBool,
    /// `monitor-uri` and `monitor fail`.
    pub monitor: Option<crate::http::monitor::Monitor>,
}

impl FrontendRt {
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
    pub backend_index: HashMap<String, usize>,
    pub bufsize: usize,
    /// `tune.h2.*`.
    pub h2: hapee_compiler::plan::tls::H2Tune,
    pub active: AtomicU64,
    /// Set by a graceful stop: listeners close, in-flight work finishes.
    pub stopping: AtomicBool,
    pub tables: crate::tables::Tables,
    /// What the Runtime API reports and changes process-wide.
    pub process: crate::api::Process,
    /// The caches and the proxies' HTTP filters.
    pub filters: crate::http::filters::Filters,
    /// The `http-errors` sections' pages (`errorfiles <name>` in replies).
    pub error_sections: crate::http::replies::ErrorSections,
    /// `userlist` sections (`http_auth`).
    pub userlists: crate::http::auth::Userlists,
    /// The process-wide variables (`proc.*`), and the global section's `set-var` lines that
    /// give them their first values.
    pub proc_vars: crate::vars::ProcVars,
}

impl Shared {
    /// No proxies: what a transaction outside any proxy (a health check's) refers to.
    pub fn empty() -> Shared {
        Shared {
            frontends: Vec::new(),
            backends: Vec::new(),
            backend_index: HashMap::new(),
            bufsize: 16384,
            h2: hapee_compiler::plan::tls::H2Tune::of(&[]),
            active: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            tables: Default::default(),
            error_sections: Default::default(),
            userlists: Default::default(),
            proc_vars: Default::default(),
            process: crate::api::Process::new(&hapee_compiler::plan::build(
                &hapee_compiler::ir::Config::default(),
                1,
            )),
            filters: Default::default(),
        }
    }

    pub fn backend_by_name(&self, name: &str) -> Option<&BackendRt> {
        self.backend_index.get(name).map(|&i| &self.backends[i])
    }

    /// Builds the runtime state, collecting everything the runtime cannot run.
    pub fn build(plan: &Plan) -> Result<Shared, Vec<String>> {
        let mut problems = Vec::new();
        let tables = crate::tables::Tables::build(&plan.tables).unwrap_or_else(|e| {
            problems.extend(e);
            Default::default()
        });
        // Expressions that name no table use their proxy's own, when it has one.
        let own_table = |name: &str| tables.get(name).map(|t| t.name.clone());
        let threads = plan.global.nbthread.max(1) as usize;
        let mut tls_errors = Vec::new();
        let sinks_of = |targets: &[plan::LogTarget], problems: &mut Vec<String>| {
            targets
                .iter()
                .filter_map(|t| match Sink::open(t, &plan.global.log_tag) {
                    Ok(s) => Some(Arc::new(s)),
                    Err(e) => {
                        problems.push(format!("log target {:?}: {e}", t.dest));
                        None
                    }
                })
                .collect::<Vec<_>>()
        };
        let mut backends = Vec::new();
        for b in &plan.backends {
            let acls =
                with_default_table(own_table(&b.name).as_deref(), || AclSet::compile(&b.acls));
            let acls = match acls {
                Ok(a) => a,
                Err(e) => {
                    problems.push(format!("backend '{}': {}", b.name, e.0));
                    AclSet::default()
                }
            };
            let compiled = with_default_table(own_table(&b.name).as_deref(), || {
                rules::compile(&b.rules, &acls)
            });
            let rules = match compiled {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("backend '{}': {}", b.name, e.0));
                    Vec::new()
                }
            };
            let algorithm = Algorithm::parse(&b.balance).unwrap_or_else(|| {
                problems.push(format!("backend '{}': balance '{}'", b.name, b.balance));
                Algorithm::RoundRobin
            });
            let servers = b
                .servers
                .iter()
                .zip(server_ids(&b.servers))
                .map(|(s, id)| {
                    let addr = crate::discovery::initial_address(s);
                    let mut tls_of = |t: &Option<plan::tls::ServerTls>| {
                        let mut warnings = Vec::new();
                        let built =
                            crate::tls::client::ServerTlsConfig::build(t.as_ref()?, &mut warnings);
                        for w in warnings {
                            eprintln!(
                                "[WARNING]  ({}) : server '{}/{}': {w}",
                                std::process::id(),
                                b.name,
                                s.name
                            );
                        }
                        built
                            .map_err(|e| {
                                tls_errors.push(format!("server '{}/{}': {e}", b.name, s.name))
                            })
                            .ok()
                            .map(Arc::new)
                    };
                    let tls = tls_of(&s.tls);
                    let check_tls = tls_of(&s.check_tls);
                    Arc::new(ServerRt {
                        tls,
                        check_tls,
                        name: s.name.as_str().into(),
                        addr: arc_swap::ArcSwapOption::from(addr.map(Arc::new)),
                        weight: s.weight,
                        uweight: AtomicU32::new(s.weight),
                        backup: s.backup,
                        disabled: s.disabled,
                        admin: AtomicU8::new(if s.disabled { ADMIN_MAINT } else { 0 }),
                        id,
                        counters: Counters::new(threads),
                        peak_active: Peak::default(),
                        check: crate::api::health::CheckState::new(s),
                        // Servers start up; a check that fails `fall` times takes them down.
                        up: AtomicBool::new(true),
                        active: AtomicU64::new(0),
                        total: AtomicU64::new(0),
                        maxconn: s.maxconn.filter(|m| *m > 0),
                        slots: s
                            .maxconn
                            .filter(|m| *m > 0)
                            .map(|m| Arc::new(tokio::sync::Semaphore::new(m as usize))),
                        plan: s.clone(),
                        send_proxy: crate::upstream::send_proxy::SendProxy::from_options(
                            &s.options,
                        ),
                        dynamic: crate::discovery::resolvers_of(s)
                            .map(|_| crate::discovery::Dynamic::new(addr, s.weight)),
                    })
                })
                .collect::<Vec<_>>();
            let hashing = Hashing::parse(&b.hash_type).unwrap_or_else(|| {
                problems.push(format!("backend '{}': hash-type '{}'", b.name, b.hash_type));
                Hashing::default()
            });
            let ring = if hashing.consistent {
                Ring::new(
                    server_ids(&b.servers)
                        .into_iter()
                        .zip(servers.iter().map(|s| s.weight)),
                )
            } else {
                Ring::default()
            };
            let mut use_servers = Vec::new();
            for (name, cond) in &b.use_servers {
                match servers.iter().position(|s| &*s.name == name.as_str()) {
                    Some(i) => match Condition::compile(cond, &acls) {
                        Ok(c) => use_servers.push((i, c)),
                        Err(e) => {
                            problems.push(format!("backend '{}' use-server: {}", b.name, e.0))
                        }
                    },
                    None => problems.push(format!("backend '{}': unknown server '{name}'", b.name)),
                }
            }
            let ids_names: Vec<(u32, String, String)> = server_ids(&b.servers)
                .into_iter()
                .zip(&servers)
                .map(|(id, s)| {
                    let addr = s.addr().map(|a| a.to_string()).unwrap_or_default();
                    (id, s.name.to_string(), addr)
                })
                .collect();
            let stickiness = with_default_table(own_table(&b.name).as_deref(), || {
                crate::tables::stick::Stickiness::compile(
                    &b.stick_rules,
                    &acls,
                    own_table(&b.name).as_deref(),
                    &tables,
                    &ids_names,
                )
            })
            .unwrap_or_else(|e| {
                problems.push(format!("backend '{}': {}", b.name, e.0));
                Default::default()
            });
            backends.push(BackendRt {
                name: b.name.as_str().into(),
                mode: b.mode,
                algorithm,
                hashing,
                ring,
                servers,
                rr: AtomicU64::new(0),
                rules,
                response_inspect_delay: b
                    .response_inspect_delay
                    .map(|ms| std::time::Duration::from_millis(u64::from(ms))),
                timeouts: Timeouts::of(&b.timeouts),
                retries: b.retries,
                retry_on: RetryOn::parse(&b.retry_on),
                reuse: ReuseMode::parse(&b.http_reuse),
                redispatch: has_option(&b.options, "redispatch"),
                pretend_keepalive: has_option(&b.options, "http-pretend-keepalive"),
                allbackups: has_option(&b.options, "allbackups"),
                conn_mode: conn_mode(&b.options),
                forwardfor: b.forwardfor.clone(),
                originalto: b.http_options.originalto.clone(),
                restrict_header_names: b.http_options.restrict_header_names,
                errorfiles: load_errorfiles(&b.errors, &mut problems),
                health_check: b.health_check.clone(),
                active: AtomicU64::new(0),
                use_servers,
                stickiness,
                persistence: crate::http::persist::Persistence::compile(
                    &b.persistence,
                    &b.options,
                    &acls,
                )
                .unwrap_or_else(|e| {
                    problems.push(format!("backend '{}' persistence: {e}", b.name));
                    None
                }),
                id: b.uuid,
                counters: Counters::new(threads),
                peak_active: Peak::default(),
                stats_page: b.stats_page.as_ref().and_then(|p| {
                    crate::api::page::Page::compile(p, &acls)
                        .map_err(|e| {
                            problems.push(format!("backend '{}' stats admin: {e}", b.name))
                        })
                        .ok()
                }),
            });
        }
        let mut frontends = Vec::new();
        for f in &plan.frontends {
            let acls = match with_default_table(own_table(&f.name).as_deref(), || {
                AclSet::compile(&f.acls)
            }) {
                Ok(a) => a,
                Err(e) => {
                    problems.push(format!("frontend '{}': {}", f.name, e.0));
                    AclSet::default()
                }
            };
            let rules = with_default_table(own_table(&f.name).as_deref(), || {
                rules::compile(&f.rules, &acls)
            });
            let rules = rules.unwrap_or_else(|e| {
                problems.push(format!("frontend '{}': {}", f.name, e.0));
                Vec::new()
            });
            let mut switches = Vec::new();
            for s in &f.switches {
                let condition = Condition::compile(&s.condition, &acls);
                let dynamic = s.dynamic.as_deref().map(Format::parse).transpose();
                match (condition, dynamic) {
                    (Ok(condition), Ok(dynamic)) => switches.push(Switch {
                        backend: s.backend,
                        dynamic,
                        condition,
                    }),
                    (Err(e), _) | (_, Err(e)) => {
                        problems.push(format!("frontend '{}' use_backend: {}", f.name, e.0))
                    }
                }
            }
            let log_format = f.log_format.as_deref().map(Format::parse_log).transpose();
            let log_format = log_format.unwrap_or_else(|e| {
                problems.push(format!("frontend '{}' log-format: {}", f.name, e.0));
                None
            });
            let error_log_format = f.error_log_format.as_deref().map(Format::parse_log);
            let error_log_format = error_log_format.transpose().unwrap_or_else(|e| {
                problems.push(format!("frontend '{}' error-log-format: {}", f.name, e.0));
                None
            });
            let errorfiles = load_errorfiles(&f.errors, &mut problems);
            frontends.push(FrontendRt {
                name: f.name.as_str().into(),
                mode: f.mode,
                rules,
                switches,
                default_backend: f.default_backend,
                own_backend: f.own_backend,
                timeouts: Timeouts::of(&f.timeouts),
                log_format,
                logs: sinks_of(&f.logs, &mut problems),
                dontlognull: has_option(&f.options, "dontlognull"),
                log_separate_errors: has_option(&f.options, "log-separate-errors"),
                dontlog_normal: has_option(&f.options, "dontlog-normal"),
                error_log_format,
                capture_request: f.capture_request.clone(),
                capture_response: f.capture_response.clone(),
                forwardfor: f.forwardfor.clone(),
                originalto: f.http_options.originalto.clone(),
                restrict_header_names: f.http_options.restrict_header_names,
                conn_mode: conn_mode(&f.options),
                active: AtomicU64::new(0),
                http_buffer_request: has_option(&f.options, "http-buffer-request"),
                logasap: has_option(&f.options, "logasap"),
                inspect_delay: f
                    .inspect_delay
                    .map(|ms| std::time::Duration::from_millis(u64::from(ms))),
                late_head_page: crate::http::reply::error_wire(408, &[&errorfiles]),
                bad_request_page: crate::http::reply::error_wire(400, &[&errorfiles]),
                errorfiles,
                unique_id: crate::http::unique_id::UniqueId::compile(
                    f.http_options.unique_id_format.as_deref(),
                    f.http_options.unique_id_header.as_deref(),
                )
                .unwrap_or_else(|e| {
                    problems.push(format!("frontend '{}': {}", f.name, e.0));
                    None
                }),
                id: f.uuid,
                counters: Counters::new(threads),
                peak_active: Peak::default(),
                maxconn: AtomicU64::new(u64::from(f.maxconn.unwrap_or(0))),
                paused: AtomicBool::new(false),
                monitor: crate::http::monitor::Monitor::compile(&f.monitor, &acls).unwrap_or_else(
                    |e| {
                        problems.push(format!("frontend '{}' monitor fail: {e}", f.name));
                        None
                    },
                ),
            });
        }
        problems.extend(tls_errors);
        let error_sections = crate::http::replies::load_sections(&plan.error_sections)
            .unwrap_or_else(|e| {
                problems.push(e.0);
                Default::default()
            });
        if !problems.is_empty() {
            return Err(problems);
        }
        let backend_index = plan
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name.clone(), i))
            .collect();
        let proc_vars =
            crate::vars::ProcVars::compile(&plan.global.set_vars).map_err(|e| vec![e.0])?;
        Ok(Shared {
            frontends,
            backends,
            backend_index,
            bufsize: plan.global.bufsize as usize,
            h2: plan.global.h2.clone(),
            active: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            tables,
            process: crate::api::Process::new(plan),
            filters: crate::http::filters::Filters::build(&plan.filters),
            error_sections,
            userlists: crate::http::auth::load(&plan.userlists),
            proc_vars,
        })
    }
}

/// Each server's numeric id (HAProxy's `puid`): its `id` option, else the lowest number not
/// taken yet, in declaration order.
fn server_ids(servers: &[plan::ServerPlan]) -> Vec<u32> {
    let explicit = |s: &plan::ServerPlan| {
        s.options
            .iter()
            .position(|o| o == "id")
            .and_then(|i| s.options.get(i + 1))
            .and_then(|v| v.parse::<u32>().ok())
    };
    let mut taken: std::collections::HashSet<u32> = servers.iter().filter_map(explicit).collect();
    let mut next = 1;
    servers
        .iter()
        .map(|s| {
            explicit(s).unwrap_or_else(|| {
                while taken.contains(&next) {
                    next += 1;
                }
                taken.insert(next);
                next
            })
        })
        .collect()
}
