//! Lowering the checked model into the plan: one pass over the global section, the listeners,
//! the frontends and the backends.

// The lowering builds every type its parent declares.
use super::*;

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
    let decl_of = |p: &ir::Proxy| {
        let offset = (p as *const ir::Proxy as usize).wrapping_sub(base);
        offset / std::mem::size_of::<ir::Proxy>().max(1)
    };
    let uuid_of = |p: &ir::Proxy| uuids.get(decl_of(p)).copied().unwrap_or(0);
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
            decl: decl_of(p),
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
            BackendPlan {
                uuid: uuid_of(p),
                decl: decl_of(p),
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
                    if fcgi::used_by(p, &fcgi_apps).is_some()
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
                        let template = s.template.map(|_| s.name.value.to_string());
                        s.names(ir::TEMPLATE_SERVERS_MAX)
                            .into_iter()
                            .map(move |name| (s, (name, template.clone())))
                    })
                    .map(|(s, (name, template))| {
                        let parsed = s.address.as_ref().and_then(|a| {
                            let a = address::env_expand(&a.value, &env);
                            address::parse(&a, address::Rules::SERVER).ok()
                        });
                        // The `default-server` lines before the server, then its own.
                        let words = p.server_words(s);
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
                            check: last_switch(&words, "check", "no-check").unwrap_or(false),
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
                inspect_delay: lower::inspect_delay(&p.directives, "tcp-request"),
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
                fcgi_app: fcgi::used_by(p, &fcgi_apps),
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
                    // HAProxy reads one word; any after it is ignored.
                    let value = words.get(1).copied().unwrap_or("").to_string();
                    (d.keyword.to_string(), name, value)
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
            h2: h2::H2Tune::of(&g.directives),
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
