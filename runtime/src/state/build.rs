//! Builds the runtime's state from the plan: each proxy's rules, servers and pages compiled, and
//! everything the runtime cannot run collected as a problem instead of stopping at the first.

use super::*;
use crate::acl::AclSet;
use crate::rules;
use crate::sample::Unsupported;
use crate::tables::fetch::with_default_table;
use crate::tables::Tables;
use crate::upstream::pool::PoolLayout;
use hapee_compiler::plan::Plan;
use std::collections::HashMap;

/// What every proxy's build reads from the whole plan.
struct Context<'a> {
    plan: &'a Plan,
    tables: &'a Tables,
    pools: PoolLayout,
    threads: usize,
    /// `h1-case-adjust` and its file, for the proxies whose option asks for it.
    case_map: Option<Arc<crate::http::case_adjust::CaseMap>>,
}

impl Context<'_> {
    /// The proxy's own table, which expressions naming no table use.
    fn own_table(&self, proxy: &str) -> Option<String> {
        self.tables.get(proxy).map(|t| t.name.clone())
    }

    /// The log sinks of a proxy's `log` lines, with its syslog tag; one that cannot open is
    /// a problem.
    fn sinks(
        &self,
        targets: &[plan::LogTarget],
        tag: &str,
        problems: &mut Vec<String>,
    ) -> Vec<Arc<Sink>> {
        Sink::open_list(targets, tag)
            .filter_map(|(t, sink)| match sink {
                Ok(s) => Some(Arc::new(s)),
                Err(e) => {
                    problems.push(format!("log target {:?}: {e}", t.dest));
                    None
                }
            })
            .collect()
    }
}

impl Shared {
    /// Builds the runtime state, collecting everything the runtime cannot run.
    pub fn build(plan: &Plan) -> Result<Shared, Vec<String>> {
        let mut problems = Vec::new();
        let tables = Tables::build(&plan.tables).unwrap_or_else(|e| {
            problems.extend(e);
            Default::default()
        });
        let threads = plan.global.nbthread.max(1) as usize;
        let cx = Context {
            plan,
            tables: &tables,
            pools: PoolLayout {
                group_of: (0..threads)
                    .map(|t| plan.global.thread_group_of.get(t).copied().unwrap_or(1))
                    .collect(),
                shared: plan.global.idle_pool_shared,
            },
            threads,
            case_map: crate::http::case_adjust::CaseMap::load(
                &plan.global.h1_case_adjust,
                plan.global.h1_case_adjust_file.as_deref(),
            )
            .unwrap_or_else(|e| {
                problems.push(e);
                None
            }),
        };
        let mut tls_errors = Vec::new();
        let backends: Vec<BackendRt> = plan
            .backends
            .iter()
            .enumerate()
            .map(|(bi, b)| build_backend(&cx, bi, b, &mut problems, &mut tls_errors))
            .collect();
        link_trackers(&backends, &mut problems);
        let frontends: Vec<FrontendRt> = plan
            .frontends
            .iter()
            .enumerate()
            .map(|(fi, f)| build_frontend(&cx, fi, f, &mut problems))
            .collect();
        problems.extend(tls_errors);
        problems.extend(crate::bwlim::refusals(&plan.filters));
        problems.extend(httpclient_problem(plan));
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
            crate::vars::ProcVars::compile(&plan.global.set_vars, plan.global.var_limits)
                .map_err(|e| vec![e.0])?;
        // The process-wide variables the configuration names count from the start, and are
        // the ones an SPOE agent may set without `option force-set-var` (the plan's text holds
        // every expression; it is written only when a limit or such an agent needs it).
        let spoe_engines = || {
            plan.filters
                .proxies
                .iter()
                .flat_map(|p| &p.chain)
                .filter_map(|f| match f {
                    hapee_compiler::plan::filters::FilterPlan::Spoe(e) => Some(e),
                    _ => None,
                })
        };
        let checked_agents = spoe_engines().any(|e| !e.force_set_var);
        if plan.global.var_limits.any() || checked_agents {
            if let Ok(text) = serde_json::to_string(plan) {
                proc_vars.name_all_in(&text);
            }
        }
        for e in spoe_engines() {
            for name in &e.register_var_names {
                proc_vars.name(&format!("proc.{}.{name}", e.var_prefix));
            }
        }
        let after_response = |rules: &[crate::rules::CompiledRule]| {
            rules
                .iter()
                .any(|r| r.set == hapee_compiler::registry::RuleSet::HttpAfterResponse)
        };
        let after_response_rules = frontends.iter().any(|f| after_response(&f.rules))
            || backends.iter().any(|b| after_response(&b.rules));
        let early_hints = frontends
            .iter()
            .map(|f| &f.rules[..])
            .chain(backends.iter().map(|b| &b.rules[..]))
            .any(crate::http::early_hint::used);
        Ok(Shared {
            frontends,
            backends,
            backend_index,
            bufsize: plan.global.bufsize as usize,
            http_maxhdr: plan.global.http_maxhdr.map(|n| n as usize),
            early_hints,
            resolvers: crate::discovery::sections(plan, &mut problems),
            room: crate::http::room::Limits {
                bufsize: plan.global.bufsize as usize,
                maxrewrite: plan.global.maxrewrite as usize,
            },
            h2: plan.global.h2.clone(),
            httpclient: plan.global.httpclient.clone(),
            active: AtomicU64::new(0),
            loads: crate::spread::ThreadLoads::new(threads, plan.global.listener_multi_queue),
            stopping: AtomicBool::new(false),
            tables,
            process: crate::api::Process::new(plan),
            filters: crate::http::filters::Filters::build(&plan.filters),
            spoe: crate::spoe::Engines::build(&plan.filters).unwrap_or_else(|e| {
                problems.push(e.0);
                Default::default()
            }),
            error_sections,
            userlists: crate::http::auth::load(&plan.userlists),
            proc_vars,
            busy_polling: plan.global.busy_polling,
            profiling_tasks: plan.global.profiling_tasks,
            after_response_rules,
        })
    }
}

/// What HAProxy refuses of explicit `httpclient.*` settings at start: a `resolvers` section
/// that does not exist (`default` is always made), and a CA file that cannot be read while
/// certificates are checked.
fn httpclient_problem(plan: &Plan) -> Option<String> {
    let h = &plan.global.httpclient;
    if h.resolvers != "default" && !plan.resolvers.iter().any(|r| r.name == h.resolvers) {
        return Some("Couldn't setup the httpclient resolver.".into());
    }
    if h.verify && h.ca_file != "@system-ca" && crate::tls::config::read_certs(&h.ca_file).is_err()
    {
        return Some(format!(
            "httpclient: cannot initialize: cannot initialize SSL verify with 'ca-file \"{}\"'.",
            h.ca_file
        ));
    }
    None
}

fn build_backend(
    cx: &Context,
    bi: usize,
    b: &plan::BackendPlan,
    problems: &mut Vec<String>,
    tls_errors: &mut Vec<String>,
) -> BackendRt {
    let acls = with_default_table(cx.own_table(&b.name).as_deref(), || {
        AclSet::compile(&b.acls)
    });
    let acls = match acls {
        Ok(a) => a,
        Err(e) => {
            problems.push(format!("backend '{}': {}", b.name, e.0));
            AclSet::default()
        }
    };
    let compiled = with_default_table(cx.own_table(&b.name).as_deref(), || {
        rules::compile(&b.rules, &acls, Some(bi))
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
            let mut tls_of = |t: &Option<plan::tls::ServerTls>| {
                let mut warnings = Vec::new();
                let built = crate::tls::live::LiveServer::build(t.as_ref()?, &mut warnings);
                for w in warnings {
                    eprintln!(
                        "[WARNING]  ({}) : server '{}/{}': {w}",
                        std::process::id(),
                        b.name,
                        s.name
                    );
                }
                built
                    .map_err(|e| tls_errors.push(format!("server '{}/{}': {e}", b.name, s.name)))
                    .ok()
            };
            let tls = tls_of(&s.tls);
            let check_tls = tls_of(&s.check_tls);
            let socks4 = s.socks4.as_deref().and_then(|a| {
                crate::upstream::socks4::parse_addr(a)
                    .map_err(|e| tls_errors.push(format!("server '{}/{}': {e}", b.name, s.name)))
                    .ok()
            });
            if let Err(e) = crate::upstream::dial::source_of(&s.source) {
                tls_errors.push(format!("server '{}/{}': {e}", b.name, s.name));
            }
            let mut server = ServerRt::new(s, id, &cx.pools, tls, check_tls, socks4);
            if server.source.bind.is_some() || server.source.use_src.is_some() {
                server.bind_failure = Some(Arc::new(crate::upstream::dial::BindFailure {
                    backend: b.name.as_str().into(),
                    logs: b.health_check.logs.clone(),
                    tag: b.log_tag.as_str().into(),
                }));
            }
            Arc::new(server)
        })
        .collect::<Vec<_>>();
    let hashing = Hashing::parse(&b.hash_type).unwrap_or_else(|| {
        problems.push(format!("backend '{}': hash-type '{}'", b.name, b.hash_type));
        Hashing::default()
    });
    // HAProxy's static algorithms (static-rr, map-based hashing) take no weight ramp.
    let dynamic =
        !matches!(algorithm, Algorithm::StaticRr) && (!algorithm.is_hash() || hashing.consistent);
    servers
        .iter()
        .for_each(|s| s.warmup.set_weight_ramp(dynamic));
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
        // A name holding a `%` sequence is a log format, rendered on each request.
        let target = match servers.iter().position(|s| &*s.name == name.as_str()) {
            Some(i) => Ok(UseServer::Index(i)),
            None if name.contains('%') => Format::parse(name).map(UseServer::Dynamic),
            None => Err(Unsupported(format!("unknown server '{name}'"))),
        };
        match (target, Condition::compile(cond, &acls)) {
            (Ok(target), Ok(c)) => use_servers.push((target, c)),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(format!("backend '{}' use-server: {}", b.name, e.0))
            }
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
    let stickiness = with_default_table(cx.own_table(&b.name).as_deref(), || {
        crate::tables::stick::Stickiness::compile(
            &b.stick_rules,
            &acls,
            cx.own_table(&b.name).as_deref(),
            cx.tables,
            &ids_names,
        )
    })
    .unwrap_or_else(|e| {
        problems.push(format!("backend '{}': {}", b.name, e.0));
        Default::default()
    });
    // HAProxy's hash-kind algorithms (`random` among them) keep their own choice.
    let prefer_last_server = has_option(&b.options, "prefer-last-server")
        && !algorithm.is_hash()
        && !matches!(algorithm, Algorithm::Random);
    BackendRt {
        h1_case_adjust: cx
            .case_map
            .clone()
            .filter(|_| has_option(&b.options, "h1-case-adjust-bogus-server")),
        accept_invalid_response: has_option(&b.options, "accept-invalid-http-response"),
        check_cache: has_option(&b.options, "checkcache"),
        name: b.name.as_str().into(),
        mode: b.mode,
        algorithm,
        hashing,
        ring,
        hash_balance_factor: b.hash_balance_factor,
        max_keep_alive_queue: b.max_keep_alive_queue,
        log_tag: b.log_tag.as_str().into(),
        slots: SlotMap::new(servers.iter().map(|s| s.weight)),
        // Names are unique in a backend (checked by the compiler); the first one wins.
        server_index: servers
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (s.name.clone(), i))
            .collect(),
        servers,
        rr: AtomicU64::new(0),
        fwrr: Default::default(),
        rules,
        response_inspect_delay: b
            .response_inspect_delay
            .map(|ms| std::time::Duration::from_millis(u64::from(ms))),
        inspect_delay: b
            .inspect_delay
            .map(|ms| std::time::Duration::from_millis(u64::from(ms))),
        timeouts: Timeouts::of(&b.timeouts),
        retries: b.retries,
        retry_on: RetryOn::parse(&b.retry_on),
        reuse: ReuseMode::parse(&b.http_reuse),
        redispatch: has_option(&b.options, "redispatch"),
        abort_on_close: has_option(&b.options, "abortonclose"),
        pretend_keepalive: has_option(&b.options, "http-pretend-keepalive"),
        nolinger: has_option(&b.options, "nolinger"),
        tcp_keep_alive: has_option(&b.options, "srvtcpka") || has_option(&b.options, "tcpka"),
        prefer_last_server,
        keep_alive_timing: b.server_keepalive,
        send_name_header: b
            .send_name_header
            .as_deref()
            .and_then(|n| ::http::HeaderName::from_bytes(n.as_bytes()).ok()),
        allbackups: has_option(&b.options, "allbackups"),
        conn_mode: conn_mode(&b.options),
        forwardfor: b.forwardfor.clone(),
        originalto: b.http_options.originalto.clone(),
        restrict_header_names: b.http_options.restrict_header_names,
        errorfiles: load_errorfiles(&b.errors, problems),
        health_check: b.health_check.clone(),
        mail: Default::default(),
        active: AtomicU64::new(0),
        fullconn: Some(b.fullconn.unwrap_or_else(|| {
            let index = cx.plan.backends.iter().position(|o| std::ptr::eq(o, b));
            index.map_or(1, |i| crate::upstream::queue::derived_fullconn(cx.plan, i))
        })),
        use_servers,
        stickiness,
        persistence: crate::http::persist::Persistence::compile(&b.persistence, &b.options, &acls)
            .unwrap_or_else(|e| {
                problems.push(format!("backend '{}' persistence: {e}", b.name));
                None
            }),
        rdp_persist: b
            .persist
            .as_deref()
            .and_then(crate::rdp::persist_cookie_name)
            .map(|name| (name, b.options.iter().any(|(n, on)| n == "persist" && *on))),
        id: b.uuid,
        decl: b.decl,
        direct: b
            .direct
            .as_ref()
            .map(|d| crate::upstream::direct::Direct::new(d, &cx.pools)),
        counters: Counters::new(cx.threads),
        peak_active: Peak::default(),
        queue: Default::default(),
        stats_page: b.stats_page.as_ref().and_then(|p| {
            crate::api::page::Page::compile(p, &acls)
                .map_err(|e| problems.push(format!("backend '{}' stats admin: {e}", b.name)))
                .ok()
        }),
        fcgi: b
            .fcgi_app
            .and_then(|i| cx.plan.fcgi_apps.get(i))
            .and_then(|app| {
                crate::upstream::fcgi::App::compile(app)
                    .map(Arc::new)
                    .map_err(|e| problems.push(format!("fcgi-app '{}': {e}", app.name)))
                    .ok()
            }),
    }
}

/// What a frontend's captures add to what its log line waits for: header captures and the
/// slots capture rules make for themselves (not `declare capture` slots), and a cookie's.
fn capture_waits(f: &plan::FrontendPlan) -> u32 {
    use crate::log_wait::bits;
    let own = |slots: &[plan::Capture]| slots.iter().any(|c| !c.declared);
    let mut waits = 0;
    if own(&f.capture_request) {
        waits |= bits::REQHDR;
    }
    if own(&f.capture_response) {
        waits |= bits::RSPHDR;
    }
    if f.capture_cookie.is_some() {
        waits |= bits::COOKIE;
    }
    waits
}

fn build_frontend(
    cx: &Context,
    fi: usize,
    f: &plan::FrontendPlan,
    problems: &mut Vec<String>,
) -> FrontendRt {
    let acls = match with_default_table(cx.own_table(&f.name).as_deref(), || {
        AclSet::compile(&f.acls)
    }) {
        Ok(a) => a,
        Err(e) => {
            problems.push(format!("frontend '{}': {}", f.name, e.0));
            AclSet::default()
        }
    };
    // The strings of its rules add to what its log line waits for, as its log formats do.
    let (rules, rule_waits) = crate::log_wait::collect(|| {
        with_default_table(cx.own_table(&f.name).as_deref(), || {
            // A listen section's rules look servers up in it; a frontend has none.
            rules::compile(&f.rules, &acls, f.own_backend)
        })
    });
    let rules = rules.unwrap_or_else(|e| {
        problems.push(format!("frontend '{}': {}", f.name, e.0));
        Vec::new()
    });
    let mut switches = Vec::new();
    let mut switch_waits = 0;
    for s in &f.switches {
        let condition = Condition::compile(&s.condition, &acls);
        let (dynamic, waits) =
            crate::log_wait::collect(|| s.dynamic.as_deref().map(Format::parse).transpose());
        switch_waits |= waits;
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
    let log_format_sd = f.log_format_sd.as_deref().map(Format::parse_log);
    let log_format_sd = log_format_sd.transpose().unwrap_or_else(|e| {
        problems.push(format!("frontend '{}' log-format-sd: {}", f.name, e.0));
        None
    });
    let errorfiles = load_errorfiles(&f.errors, problems);
    let log_wait = crate::log_wait::LogWait::of(
        [
            &f.log_format,
            &f.log_format_sd,
            &f.error_log_format,
            &f.http_options.unique_id_format,
        ]
        .into_iter()
        .filter_map(|s| s.as_deref()),
        rule_waits | switch_waits | capture_waits(f),
        log_format.is_some(),
        f.mode == hapee_compiler::ir::Mode::Http,
        has_option(&f.options, "logasap"),
    );
    FrontendRt {
        h1_case_adjust: cx
            .case_map
            .clone()
            .filter(|_| has_option(&f.options, "h1-case-adjust-bogus-client")),
        name: f.name.as_str().into(),
        mode: f.mode,
        rules,
        switches,
        default_backend: f.default_backend,
        own_backend: f.own_backend,
        timeouts: Timeouts::of(&f.timeouts),
        log_format,
        logs: cx.sinks(&f.logs, &f.log_tag, problems),
        dontlognull: has_option(&f.options, "dontlognull"),
        ignore_probes: has_option(&f.options, "http-ignore-probes"),
        idle_close_on_response: has_option(&f.options, "idle-close-on-response"),
        nolinger: has_option(&f.options, "nolinger"),
        tcp_keep_alive: has_option(&f.options, "clitcpka") || has_option(&f.options, "tcpka"),
        keep_alive_timing: f.client_keepalive,
        session_rate_limit: u64::from(f.session_rate_limit.unwrap_or(0)),
        session_slots: Default::default(),
        abort_on_close: f.abort_on_close,
        h2_upgrade: !has_option(&f.options, "disable-h2-upgrade"),
        log_separate_errors: has_option(&f.options, "log-separate-errors"),
        dontlog_normal: has_option(&f.options, "dontlog-normal"),
        error_log_format,
        log_format_sd,
        capture_request: f.capture_request.clone(),
        capture_response: f.capture_response.clone(),
        capture_cookie: f.capture_cookie.clone(),
        forwardfor: f.forwardfor.clone(),
        originalto: f.http_options.originalto.clone(),
        restrict_header_names: f.http_options.restrict_header_names,
        conn_mode: conn_mode(&f.options),
        active: AtomicU64::new(0),
        http_buffer_request: has_option(&f.options, "http-buffer-request"),
        accept_invalid_request: has_option(&f.options, "accept-invalid-http-request"),
        use_proxy_header: has_option(&f.options, "http-use-proxy-header"),
        log_wait,
        contstats: has_option(&f.options, "contstats"),
        socket_stats: has_option(&f.options, "socket-stats"),
        inspect_delay: f
            .inspect_delay
            .map(|ms| std::time::Duration::from_millis(u64::from(ms))),
        max_session_srv_conns: f.max_session_srv_conns as usize,
        late_head_page: crate::http::reply::error_wire(408, &[&errorfiles]),
        bad_request_page: crate::http::reply::error_wire(400, &[&errorfiles]),
        abort_page: crate::http::reply::answer_wire(400, &[&errorfiles]),
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
        decl: f.decl,
        counters: Counters::new(cx.threads),
        peak_active: Peak::default(),
        maxconn: AtomicU64::new(u64::from(f.maxconn.unwrap_or(0))),
        paused: AtomicBool::new(false),
        bind_names: cx
            .plan
            .listeners
            .iter()
            .filter(|l| l.frontend == fi)
            .filter_map(|l| {
                let name = l.option("name")?;
                let ports = match l.address.port {
                    hapee_compiler::address::Port::Range { low, high } => (low, high),
                    _ => (0, u16::MAX),
                };
                Some((l.address.ip, ports, name.to_string()))
            })
            .collect(),
        listeners: crate::listener::ListenerRt::of_frontend(cx.plan, fi, cx.threads),
        monitor: crate::http::monitor::Monitor::compile(&f.monitor, &acls).unwrap_or_else(|e| {
            problems.push(format!("frontend '{}' monitor fail: {e}", f.name));
            None
        }),
        stats_page: f.stats_page.as_ref().and_then(|p| {
            crate::api::page::Page::compile(p, &acls)
                .map_err(|e| problems.push(format!("frontend '{}' stats admin: {e}", f.name)))
                .ok()
        }),
    }
}

/// Gives each tracked server the list of servers that follow it (`track`), in declaration
/// order as HAProxy links them; a link that would close a loop is refused with HAProxy's
/// message (everything that walks a chain relies on there being none).
fn link_trackers(backends: &[BackendRt], problems: &mut Vec<String>) {
    let mut lists: HashMap<*const ServerRt, Vec<Arc<ServerRt>>> = HashMap::new();
    for b in backends {
        for s in &b.servers {
            let Some((bname, sname)) = s.tracked() else {
                continue;
            };
            let owner = match bname {
                Some(n) => backends.iter().find(|x| &*x.name == n),
                None => Some(b),
            };
            match owner.and_then(|o| o.servers.iter().find(|x| &*x.name == sname)) {
                Some(t) if closes_loop(s, t) => problems.push(format!(
                    "unable to track {0}/{1} as it belongs to a tracking chain looping back to {0}/{2}",
                    b.name, t.name, s.name
                )),
                Some(t) => {
                    let _ = s.tracked_server.set(Arc::downgrade(t));
                    lists.entry(Arc::as_ptr(t)).or_default().push(s.clone());
                }
                None => problems.push(format!(
                    "server '{}/{}': unable to find the tracked server",
                    b.name, s.name
                )),
            }
        }
    }
    for s in backends.iter().flat_map(|b| b.servers.iter()) {
        if let Some(list) = lists.remove(&Arc::as_ptr(s)) {
            let _ = s.trackers.set(list);
        }
    }
    // A `disabled` server's trackers start in maintenance too.
    for s in backends.iter().flat_map(|b| b.servers.iter()) {
        s.hand_down_admin();
    }
}

/// Whether `server` tracking `target` would close a loop: `target` is `server`, or the chain
/// linked so far from `target` comes back to it.
fn closes_loop(server: &Arc<ServerRt>, target: &Arc<ServerRt>) -> bool {
    let mut at = Some(target.clone());
    while let Some(current) = at {
        if Arc::ptr_eq(&current, server) {
            return true;
        }
        at = current.tracked_server.get().and_then(|w| w.upgrade());
    }
    false
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

/// A proxy's own pages, each missing file reported.
fn load_errorfiles(pages: &[plan::errors::ErrorPage], problems: &mut Vec<String>) -> ErrorFiles {
    crate::http::replies::load_pages(pages).unwrap_or_else(|e| {
        problems.push(e.0);
        ErrorFiles::new()
    })
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
