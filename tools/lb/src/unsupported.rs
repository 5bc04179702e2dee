//! What `hapee-lb run` refuses, as `U001` diagnostics that `check` shows too: keywords and
//! options from the registry's support lists, and expressions compiled by the runtime's own
//! compilers, so that whatever `run` refuses `check` reports at its line, and the other way round.

use hapee_compiler::check::Compilation;
use hapee_compiler::diagnostic::Diagnostic;
use hapee_compiler::registry::support::OptionLine;
use hapee_compiler::Span;
use hapee_runtime::support;

/// Every use of something the runtime lacks, as `U001` diagnostics.
pub fn diagnostics(c: &Compilation) -> Vec<Diagnostic> {
    unsupported(c)
        .into_iter()
        .map(|(span, what)| {
            // Keywords refused for good say why instead of "yet".
            let message = match what.split_once(" (") {
                Some((_, why)) if what.starts_with("'ssl-") && why.starts_with("OpenSSL") => {
                    format!("not supported by the hapee runtime: {what}")
                }
                _ => format!("not supported by the hapee runtime yet: {what}"),
            };
            Diagnostic::new("U001", message)
                .at(span)
                .label("'hapee-lb run' refuses to start with this")
        })
        .collect()
}

/// What is wrong with one statement (keyword and arguments), if anything.
fn unsupported_statement(kw: &str, args: &[&str], section: &str) -> Vec<String> {
    let allowed = support::section_keywords(section);
    if !allowed.contains(&kw) {
        let why = if section == "global" {
            openssl_only(kw)
        } else {
            None
        };
        return vec![match why {
            Some(why) => format!("'{kw}' in a {section} section ({why})"),
            None => format!("'{kw}' in a {section} section"),
        }];
    }
    let mut out = Vec::new();
    match kw {
        "stats" => {
            let what = args.first().copied().unwrap_or("");
            let known = if section == "global" {
                support::STATS_GLOBAL
            } else {
                support::STATS_PROXY
            };
            if !known.contains(&what) {
                out.push(format!("'stats {what}'"));
            }
        }
        "option" if section == "fcgi-app" => {
            let what = args.first().copied().unwrap_or("");
            if !support::FCGI_OPTIONS.contains(&what) {
                out.push(format!("'option {what}' in a fcgi-app section"));
            }
        }
        "option" if !args.is_empty() && !support::OPTIONS.contains(&args[0]) => {
            out.push(format!("'option {}'", args[0]))
        }
        "server" | "default-server" | "server-template" | "peer" => {
            // A peers section's local `server` line has no address: options follow the name.
            let local_server = section == "peers"
                && kw == "server"
                && args
                    .get(1)
                    .is_none_or(|a| hapee_compiler::registry::server_option(a).is_some());
            let skip = match kw {
                "server" if local_server => 1,
                "server" | "peer" => 2,
                "server-template" => 3,
                _ => 0,
            };
            let options = args.get(skip..).unwrap_or(&[]);
            for o in
                support::unsupported_option(options, &[support::SERVER_OPTIONS], OptionLine::Server)
            {
                out.push(format!("server option '{o}'{}", why_not(o)));
            }
            // A server's own `source`, with its `usesrc`/`interface` pairs.
            if let Some(at) = options.iter().position(|o| *o == "source") {
                let mut words = vec![];
                let mut rest = options[at + 1..].iter();
                words.extend(rest.next().map(|w| w.to_string()));
                while let Some(kw @ (&"usesrc" | &"interface")) = rest.next() {
                    words.push(kw.to_string());
                    words.extend(rest.next().map(|w| w.to_string()));
                }
                if let Err(e) = hapee_runtime::upstream::dial::source_of(&words) {
                    out.push(e);
                }
            }
            // FastCGI is spoken over clear TCP only.
            let fcgi = options.windows(2).any(|w| w == ["proto", "fcgi"]);
            if fcgi && options.contains(&"ssl") {
                out.push("server option 'ssl' with 'proto fcgi' (FastCGI over TLS)".to_string());
            }
        }
        "http-request"
        | "http-response"
        | "http-after-response"
        | "tcp-request"
        | "tcp-response" => {
            let tcp = kw.starts_with("tcp-");
            let at = usize::from(tcp);
            let action = match (kw, args.first().copied()) {
                (_, Some("inspect-delay")) if tcp => return out,
                ("tcp-request", Some("connection" | "content" | "session")) => args.get(1),
                ("tcp-response", Some("content")) => args.get(1),
                _ if tcp => None,
                _ => args.first(),
            };
            match action {
                // Requests and responses wait for their body (runtime/src/http/wait_body.rs).
                Some(&"wait-for-body") if !matches!(kw, "http-request" | "http-response") => {
                    out.push(format!("action '{kw} wait-for-body'"))
                }
                // The services hapee has: the exporter and the scripts' ones.
                Some(&"use-service")
                    if !args
                        .get(at + 1)
                        .is_some_and(|s| *s == "prometheus-exporter" || s.starts_with("lua.")) =>
                {
                    out.push(format!("'{kw} {}'", args.join(" ")))
                }
                Some(a) if support::action_supported(a) => {}
                // The keyword only, never its values (`set-map`, not `set-map(/tmp/m.map)`).
                Some(a) => out.push(format!(
                    "action '{kw} {}'",
                    a.split('(').next().unwrap_or(a)
                )),
                None => out.push(format!("'{kw} {}'", args.join(" "))),
            }
        }
        // The forms of `source` the runtime refuses (interface binding, port ranges), as it
        // reads them.
        "source" => {
            let words: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            if let Err(e) = hapee_runtime::upstream::dial::source_of(&words) {
                out.push(e);
            }
        }
        "tcp-check" | "http-check" => {
            out.extend(hapee_compiler::plan::checks::unsupported_rule(kw, args));
        }
        "filter" if !support::FILTERS.contains(&args.first().copied().unwrap_or("")) => {
            out.push(format!("'filter {}'", args.first().copied().unwrap_or("")))
        }
        // A log-forward listener is TCP, with TLS options only.
        "bind" if section == "log-forward" => {
            let options = args.get(1..).unwrap_or(&[]);
            for o in support::unsupported_option(
                options,
                support::LOG_FORWARD_BIND_OPTIONS,
                OptionLine::Bind,
            ) {
                out.push(format!("bind option '{o}' in a log-forward section"));
            }
        }
        "bind" | "default-bind" => {
            let skip = usize::from(kw == "bind");
            for o in support::unsupported_option(
                args.get(skip..).unwrap_or(&[]),
                support::FRONTEND_BIND_OPTIONS,
                OptionLine::Bind,
            ) {
                out.push(format!("bind option '{o}'{}", why_not(o)));
            }
        }
        _ => {}
    }
    out
}

/// Why a global keyword of OpenSSL's own machinery can never be honoured: hapee's TLS is
/// rustls, which has no engines, no asynchronous engine mode and no providers.
fn openssl_only(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "ssl-engine" => {
            "OpenSSL-only: hapee's TLS is rustls, which has no OpenSSL engines to load; its cryptography comes from its own provider"
        }
        "ssl-mode-async" => {
            "OpenSSL-only: asynchronous mode hands OpenSSL engine jobs to the event loop; rustls has no engines and no asynchronous jobs"
        }
        "ssl-provider" | "ssl-provider-path" => {
            "OpenSSL-only: OpenSSL 3 providers are loaded by OpenSSL; hapee's TLS is rustls, which cannot load them"
        }
        "ssl-propquery" => {
            "OpenSSL-only: property queries choose among OpenSSL 3 providers' algorithms; hapee's TLS is rustls, which has none"
        }
        _ => return None,
    })
}

/// Why an option is refused, where it is for good rather than not yet.
fn why_not(option: &str) -> &'static str {
    match option {
        "force-sslv3" | "force-tlsv10" | "force-tlsv11" => {
            " (rustls speaks TLS 1.2 and 1.3 only, so a TLS version below 1.2 cannot be forced)"
        }
        "npn" => {
            " (rustls has no Next Protocol Negotiation, the TLS extension that ALPN replaced: use 'alpn')"
        }
        _ => "",
    }
}

/// Every use of something the runtime lacks, as `(span, what)`, from the active lines of the
/// configuration (a defaults section's lines are reported there, once).
pub fn unsupported(c: &Compilation) -> Vec<(Span, String)> {
    use hapee_compiler::registry::SectionKind;
    let mut out = Vec::new();
    // One word list for every line (large configurations have hundreds of thousands).
    let mut words: Vec<&str> = Vec::new();
    for section in &c.tree.sections {
        let name = section.kind.keyword();
        let handled = matches!(
            section.kind,
            SectionKind::Global
                | SectionKind::Defaults
                | SectionKind::Frontend
                | SectionKind::Backend
                | SectionKind::Listen
                | SectionKind::Resolvers
                | SectionKind::Program
                | SectionKind::Peers
                | SectionKind::Cache
                | SectionKind::HttpErrors
                | SectionKind::Userlist
                | SectionKind::Ring
                | SectionKind::LogForward
                | SectionKind::FcgiApp
                | SectionKind::Mailers
        );
        if !handled {
            let header = c.tree.header(section);
            out.push((header.span, format!("'{name}' sections")));
            continue;
        }
        for line in c.tree.body(section) {
            words.clear();
            words.extend(line.words.iter().map(|w| w.value.as_str()));
            let at = usize::from(matches!(words.first(), Some(&"no" | &"default")));
            let Some(kw) = words.get(at) else { continue };
            let span = line.words[at]
                .span
                .cover(line.words.last().map_or(line.words[at].span, |w| w.span));
            for what in unsupported_statement(kw, &words[at + 1..], name) {
                out.push((span, what));
            }
        }
    }
    expressions(c, &mut out);
    out
}

/// The expressions the runtime would refuse at start (fetches, converters, ACL criteria and
/// patterns, log formats), found by the runtime's own compilers so that `check` and `run`
/// never disagree. Rules whose action is already reported are not compiled again.
fn expressions(c: &Compilation, out: &mut Vec<(Span, String)>) {
    use hapee_compiler::ir::ProxyKind;
    use hapee_compiler::plan;
    use hapee_runtime::acl::{AclSet, Condition};
    let words = |w: &[hapee_compiler::ir::Spanned<hapee_compiler::ir::Text>]| -> Vec<String> {
        w.iter().map(|w| w.value.to_string()).collect()
    };
    // The log targets the runtime opens: those of frontends, `log global` standing for the
    // global section's lines (reported there).
    let global_logs: Vec<_> = c
        .config
        .global
        .directives
        .iter()
        .filter(|d| d.keyword == "log")
        .collect();
    let used_lines = c
        .config
        .proxies
        .iter()
        .filter(|p| matches!(p.kind, ProxyKind::Frontend | ProxyKind::Listen))
        .flat_map(|p| p.directives.iter())
        .filter(|d| d.keyword == "log" && d.prefix.is_none())
        .flat_map(|d| {
            if d.args.first().is_some_and(|a| a.as_str() == "global") {
                global_logs.clone()
            } else {
                vec![d]
            }
        });
    // A ring is made at start from its section: here only its name can be looked up.
    let rings: Vec<String> = plan::rings::lower_rings(&c.config)
        .into_iter()
        .map(|r| r.name)
        .chain([hapee_runtime::rings::BUF0.to_string()])
        .collect();
    for line in used_lines {
        for target in plan::log_line_targets(&c.config, line) {
            if let plan::LogDest::Ring(name) = &target.dest {
                if !rings.contains(name) {
                    out.push((line.span, format!("log target: no ring named '{name}'")));
                }
                continue;
            }
            if let Err(e) = hapee_runtime::log::Sink::open(&target, "") {
                out.push((line.span, format!("log target {:?}: {e}", target.dest)));
            }
        }
    }
    // Server TLS settings the runtime's TLS library cannot load (certificates, CAs). The plan
    // is built only for configurations with server TLS: `check` stays fast on large ones.
    let server_tls = c.config.proxies.iter().any(|p| {
        p.servers
            .iter()
            .flat_map(|s| s.options.iter())
            .any(|o| matches!(o.value.as_str(), "ssl" | "check-ssl"))
            || p.directives.iter().any(|d| d.keyword == "default-server")
    });
    let backends = if server_tls {
        plan::build(&c.config, 1).backends
    } else {
        Vec::new()
    };
    for backend in &backends {
        for server in &backend.servers {
            for t in [&server.tls, &server.check_tls].into_iter().flatten() {
                let Err(e) = hapee_runtime::tls::client::ServerTlsConfig::build(t, &mut Vec::new())
                else {
                    continue;
                };
                let span = c
                    .config
                    .proxies
                    .iter()
                    .filter(|p| p.name_str() == backend.name)
                    .flat_map(|p| p.servers.iter())
                    .find(|s| s.name.value == server.name)
                    .map(|s| s.span);
                if let Some(span) = span {
                    out.push((span, format!("server TLS: {e}")));
                }
            }
        }
    }
    // The fcgi-app sections, compiled as the runtime compiles them (formats, conditions,
    // the path-info expression), reported at the section's header.
    let fcgi_sections = c
        .config
        .sections
        .iter()
        .filter(|s| s.kind == hapee_compiler::registry::SectionKind::FcgiApp);
    for (section, app) in fcgi_sections.zip(plan::fcgi::lower(&c.config)) {
        if let Err(e) = hapee_runtime::upstream::fcgi::App::compile(&app) {
            out.push((section.header, format!("fcgi-app '{}': {e}", app.name)));
        }
    }
    // Lines inherited from a defaults section are seen once per proxy that inherits them.
    out.sort_by_key(|(span, what)| (span.file, span.start, what.clone()));
    out.dedup();
    for proxy in &c.config.proxies {
        let mut acls = Vec::new();
        for a in &proxy.acls {
            // Pattern files are the environment's: a missing one is what HAProxy reports
            // (E402, unless `--no-env`), not something the runtime lacks.
            let acl = plan::Acl {
                name: a.name.value.to_string(),
                criterion: without_pattern_files(words(&a.words)),
            };
            match AclSet::compile(std::slice::from_ref(&acl)) {
                Ok(_) => acls.push(acl),
                Err(e) => out.push((a.span, e.0)),
            }
        }
        let acls = AclSet::compile(&acls).unwrap_or_default();
        let http = proxy.effective_mode() == hapee_compiler::ir::Mode::Http;
        let redirects = proxy.redirects.iter().map(|r| (r, true));
        for (r, plain_redirect) in proxy.rules.iter().map(|r| (r, false)).chain(redirects) {
            if !support::action_supported(&r.action.value) {
                continue;
            }
            // In HTTP mode the content rules run with the request's, which cannot wait for an
            // SPOE agent there (runtime/src/http/routing.rs); TCP-mode streams can.
            if http
                && r.set == hapee_compiler::registry::RuleSet::TcpRequestContent
                && r.action.value == "send-spoe-group"
            {
                out.push((
                    r.span,
                    "action 'tcp-request content send-spoe-group' in an HTTP-mode proxy".into(),
                ));
                continue;
            }
            // In HTTP mode the response's raw bytes are not held: HAProxy reads its internal
            // message there, whose bytes hapee does not have (only their count, `res.len`).
            if http && r.set == hapee_compiler::registry::RuleSet::TcpResponseContent {
                let raw = r
                    .args
                    .iter()
                    .chain(r.condition.iter())
                    .find(|w| w.value.as_str().contains("res.payload"));
                if let Some(w) = raw {
                    out.push((
                        w.span,
                        format!("'{}' in an HTTP-mode tcp-response rule", w.value.as_str()),
                    ));
                    continue;
                }
            }
            let rule = plan::Rule {
                set: r.set,
                action: r.action.value.to_string(),
                args: words(&r.args),
                condition: words(&r.condition),
                plain_redirect,
                span: r.span,
                origin: None,
            };
            if let Err(e) = hapee_runtime::rules::compile(std::slice::from_ref(&rule), &acls, None)
            {
                out.push((r.span, e.0));
            }
        }
        for u in &proxy.use_backends {
            if let Err(e) = Condition::compile(&words(&u.condition), &acls) {
                out.push((u.span, e.0));
            }
            if u.dynamic {
                if let Err(e) = hapee_runtime::logfmt::Format::parse(&u.target.value) {
                    out.push((u.target.span, e.0));
                }
            }
        }
        // The shared bandwidth limits' keys, as the runtime compiles them.
        for d in proxy.directives.iter().filter(|d| {
            d.keyword == "filter"
                && d.args
                    .first()
                    .is_some_and(|a| matches!(a.as_str(), "bwlim-in" | "bwlim-out"))
        }) {
            let key = d.args.iter().position(|a| a.as_str() == "key");
            if let Some(key) = key.and_then(|i| d.args.get(i + 1)) {
                if let Err(e) = hapee_runtime::sample::Expr::parse(key.as_str()) {
                    out.push((d.span, e.0));
                }
            }
        }
        if let Some(f) = &proxy.log_format {
            if let Err(e) = hapee_runtime::logfmt::Format::parse(&f.value) {
                out.push((f.span, e.0));
            }
        }
        // `unique-id-format` and `log-format-sd`, as the runtime reads them (a defaults line
        // once).
        for d in proxy
            .directives
            .iter()
            .filter(|d| d.keyword == "unique-id-format" || d.keyword == "log-format-sd")
        {
            let text: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
            if let Err(e) = hapee_runtime::logfmt::Format::parse(&text.join(" ")) {
                if !out
                    .iter()
                    .any(|(span, what)| *span == d.span && *what == e.0)
                {
                    out.push((d.span, e.0));
                }
            }
        }
    }
}

#[cfg(test)]
mod coverage;

/// An ACL's criterion without its `-f <file>` flags (those before `--`, after which every
/// word is a pattern).
fn without_pattern_files(criterion: Vec<String>) -> Vec<String> {
    let mut kept = Vec::with_capacity(criterion.len());
    let mut words = criterion.into_iter();
    while let Some(w) = words.next() {
        match w.as_str() {
            "-f" => {
                words.next();
            }
            "--" => {
                kept.push(w);
                kept.extend(words.by_ref());
            }
            _ => kept.push(w),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::unsupported;
    use hapee_compiler::check::compile;
    use hapee_compiler::ir::CheckOptions;
    use hapee_compiler::source::SourceDb;
    use hapee_compiler::syntax::MapEnv;

    fn refused(config: &str) -> Vec<String> {
        refused_in(config, true)
    }

    /// What is refused, the environment read (files the configuration names) unless `no_env`.
    fn refused_in(config: &str, no_env: bool) -> Vec<String> {
        let mut db = SourceDb::new();
        db.add("t.cfg".to_string(), config.to_string());
        let options = CheckOptions {
            no_env,
            master_worker: false,
            lints: false,
            resolve_dontfail: false,
        };
        let c = compile(db, &MapEnv::default(), &options);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        unsupported(&c).into_iter().map(|(_, what)| what).collect()
    }

    /// A missing ACL pattern file is the environment's problem (reported as HAProxy reports
    /// it when the environment is checked), never something the runtime lacks; nor is the
    /// ACL then unknown to the rules naming it.
    #[test]
    fn a_missing_acl_pattern_file_is_not_reported_as_unsupported() {
        let what = refused(
            "frontend f\n    mode http\n    bind :8080\n    acl x src -f /nonexistent/missing.lst\n\
             acl y path -f /nonexistent/other.lst -i -- /a\n\
             http-request deny if x || y\n",
        );
        assert!(what.is_empty(), "{what:?}");
    }

    #[test]
    fn refused_options_are_named_by_their_keyword_never_by_a_value() {
        let what = refused(
            "frontend f\n    mode http\n    bind :8443 npn spdy/2 force-tlsv10\n    default_backend b\n\
             backend b\n    mode http\n    server s 127.0.0.1:80 force-tlsv11 check\n\
             server t 127.0.0.1:81 ws h1\n    server u 127.0.0.1:82 ws h2\n",
        );
        for name in ["'npn'", "'force-tlsv10'", "'force-tlsv11'"] {
            assert!(
                what.iter().any(|w| w.contains(name)),
                "{name} not in {what:?}"
            );
        }
        // `ws h1` and `ws h2` both run.
        assert!(!what.iter().any(|w| w.contains("'ws'")), "{what:?}");
        for value in ["spdy/2", "10.0.0.0", "5555", "h1", "h2"] {
            assert!(
                !what.iter().any(|w| w.contains(&format!("'{value}'"))),
                "value {value} reported as an option: {what:?}"
            );
        }
    }

    #[test]
    fn fcgi_apps_are_compiled_as_the_runtime_compiles_them() {
        let config = |extra: &str| {
            format!(
                "frontend f\n    mode http\n    bind :8080\n    default_backend b\n\
                 backend b\n    mode http\n    use-fcgi-app php\n    server s 127.0.0.1:9000 proto fcgi{extra}\n\
                 fcgi-app php\n    docroot /var/www\n    set-param X %[ssl_fc_unique_id]\n"
            )
        };
        let what = refused(&config(""));
        assert!(
            what.iter()
                .any(|w| w.contains("fcgi-app 'php'") && w.contains("ssl_fc_unique_id")),
            "{what:?}"
        );
        let what = refused(&config(" ssl verify none"));
        assert!(
            what.iter().any(|w| w.contains("FastCGI over TLS")),
            "{what:?}"
        );
    }

    /// SPOE groups are sent from TCP-mode content rules, not from HTTP-mode request ones.
    #[test]
    fn tcp_send_spoe_group_is_refused_in_http_mode_only() {
        let spoe = std::env::temp_dir().join(format!("hapee-u001-{}.spoe", std::process::id()));
        std::fs::write(
            &spoe,
            "spoe-agent a\n    groups g\n    timeout hello 1s\n    timeout idle 1s\n    timeout processing 1s\n    use-backend agents\n\
             spoe-message m\n    args ip=src\nspoe-group g\n    messages m\n",
        )
        .unwrap();
        let config = |mode: &str| {
            format!(
                "defaults\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n\
                 frontend f\n    mode {mode}\n    bind :8080\n    filter spoe config {}\n    tcp-request inspect-delay 1s\n\
                 tcp-request content send-spoe-group a g\n    default_backend app\n\
                 backend app\n    mode {mode}\n    filter spoe config {0}\n    tcp-response content send-spoe-group a g\n    server s 127.0.0.1:80\n\
                 backend agents\n    mode tcp\n    server a 127.0.0.1:12345\n",
                spoe.display()
            )
        };
        // The SPOE file is read from the environment.
        let tcp = refused_in(&config("tcp"), false);
        assert!(
            !tcp.iter().any(|w| w.contains("send-spoe-group")),
            "{tcp:?}"
        );
        let http = refused_in(&config("http"), false);
        assert_eq!(
            http.iter()
                .filter(|w| w.contains("send-spoe-group"))
                .collect::<Vec<_>>(),
            ["action 'tcp-request content send-spoe-group' in an HTTP-mode proxy"],
            "{http:?}"
        );
        let _ = std::fs::remove_file(&spoe);
    }

    #[test]
    fn an_expression_the_runtime_cannot_run_is_refused_at_its_line() {
        let what = refused(
            "frontend f\n    mode tcp\n    bind :8443\n    tcp-request content accept if { ssl_fc_unique_id -m found }\n    default_backend b\n\
             backend b\n    mode tcp\n    server s 127.0.0.1:80\n",
        );
        assert!(
            what.iter().any(|w| w.contains("ssl_fc_unique_id")),
            "{what:?}"
        );
    }
}
