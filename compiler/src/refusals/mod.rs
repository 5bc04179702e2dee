//! What `hapee-lb run` refuses, as `U001` diagnostics: keywords and options outside the
//! registry's support lists, and expressions the runtime's own compilers reject, so that
//! whatever `run` refuses `check` reports at its line, and the other way round.
//!
//! The walk over the configuration is here, where the language server reaches it too; the
//! runtime's compilers come in through [`RuntimeCompilers`] (the compiler never depends on the
//! runtime). Without them ([`registry_diagnostics`]) only what the support lists decide is
//! reported (keywords, options, actions, filters, sections), with the TLS names rustls does
//! not offer ([`tls_names`]).

pub mod tls_names;

use crate::check::Compilation;
use crate::diagnostic::Diagnostic;
use crate::plan;
use crate::registry::support::{self, OptionLine};
use crate::Span;

/// The runtime's own compilers, each answering whether it accepts one piece of the
/// configuration (its refusal as a message). `hapee-runtime` implements this with the code
/// that runs at start, so `check` and `run` never disagree.
pub trait RuntimeCompilers {
    /// A proxy's ACLs, compiled once for its rules and conditions.
    type Acls: Default;
    /// A `source` line's words (address, `usesrc`, `interface` pairs).
    fn source(&self, words: &[String]) -> Result<(), String>;
    /// Opening one log target (not a ring: rings are looked up by name here).
    fn log_target(&self, target: &plan::LogTarget) -> Result<(), String>;
    /// The rings that exist without a section (`buf0`).
    fn builtin_rings(&self) -> &'static [&'static str];
    /// Loading a server's TLS settings (certificates, CAs).
    fn server_tls(&self, tls: &plan::tls::ServerTls) -> Result<(), String>;
    /// A `fcgi-app` section as the runtime compiles it.
    fn fcgi_app(&self, app: &plan::fcgi::FcgiAppPlan) -> Result<(), String>;
    /// A proxy's ACLs, as one set.
    fn acls(&self, acls: &[plan::Acl]) -> Result<Self::Acls, String>;
    /// One rule, with its proxy's ACLs.
    fn rule(&self, rule: &plan::Rule, acls: &Self::Acls) -> Result<(), String>;
    /// A `use_backend` condition, with its proxy's ACLs.
    fn condition(&self, words: &[String], acls: &Self::Acls) -> Result<(), String>;
    /// A log-format string (also `unique-id-format`, dynamic backend names).
    fn log_format(&self, text: &str) -> Result<(), String>;
    /// A sample expression (`req.hdr(host),lower`).
    fn sample(&self, text: &str) -> Result<(), String>;
}

/// No runtime at hand (the language server): only the support lists decide.
pub enum NoRuntime {}

impl RuntimeCompilers for NoRuntime {
    type Acls = ();
    fn source(&self, _: &[String]) -> Result<(), String> {
        match *self {}
    }
    fn log_target(&self, _: &plan::LogTarget) -> Result<(), String> {
        match *self {}
    }
    fn builtin_rings(&self) -> &'static [&'static str] {
        match *self {}
    }
    fn server_tls(&self, _: &plan::tls::ServerTls) -> Result<(), String> {
        match *self {}
    }
    fn fcgi_app(&self, _: &plan::fcgi::FcgiAppPlan) -> Result<(), String> {
        match *self {}
    }
    fn acls(&self, _: &[plan::Acl]) -> Result<(), String> {
        match *self {}
    }
    fn rule(&self, _: &plan::Rule, _: &()) -> Result<(), String> {
        match *self {}
    }
    fn condition(&self, _: &[String], _: &()) -> Result<(), String> {
        match *self {}
    }
    fn log_format(&self, _: &str) -> Result<(), String> {
        match *self {}
    }
    fn sample(&self, _: &str) -> Result<(), String> {
        match *self {}
    }
}

/// What the compiler alone can say `hapee-lb run` refuses or does differently: the support
/// lists' refusals (U001) and the TLS names rustls does not offer (U002, U003). An editor shows
/// these without the runtime.
pub fn registry_diagnostics(c: &Compilation) -> Vec<Diagnostic> {
    let mut out = diagnostics::<NoRuntime>(c, None);
    out.extend(tls_names::diagnostics(c));
    out
}

/// Every use of something the runtime lacks, as `U001` diagnostics.
pub fn diagnostics<R: RuntimeCompilers>(c: &Compilation, runtime: Option<&R>) -> Vec<Diagnostic> {
    refused(c, runtime)
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
fn unsupported_statement<R: RuntimeCompilers>(
    kw: &str,
    args: &[&str],
    section: &str,
    runtime: Option<&R>,
) -> Vec<String> {
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
            } else if what == "http-request"
                && crate::plan::StatsRule::parse(args.get(1..).unwrap_or(&[])).is_none()
            {
                let action = args.get(1).copied().unwrap_or("");
                out.push(format!("'stats http-request {action}'"));
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
                    .is_none_or(|a| crate::registry::server_option(a).is_some());
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
                if let Some(Err(e)) = runtime.map(|r| r.source(&words)) {
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
            if let Some(Err(e)) = runtime.map(|r| r.source(&words)) {
                out.push(e);
            }
        }
        "tcp-check" | "http-check" => {
            out.extend(plan::checks::unsupported_rule(kw, args));
        }
        // A script's filter (`lua.<name>`) runs; `check` finds whether a script registers it.
        "filter"
            if !support::FILTERS.contains(&args.first().copied().unwrap_or(""))
                && !args.first().is_some_and(|a| a.starts_with("lua.")) =>
        {
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
/// configuration (a defaults section's lines are reported there, once). Without `runtime`,
/// only what the support lists decide.
pub fn refused<R: RuntimeCompilers>(c: &Compilation, runtime: Option<&R>) -> Vec<(Span, String)> {
    use crate::registry::SectionKind;
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
            for what in unsupported_statement(kw, &words[at + 1..], name, runtime) {
                out.push((span, what));
            }
        }
    }
    if let Some(runtime) = runtime {
        expressions(c, runtime, &mut out);
    }
    out
}

/// The expressions the runtime would refuse at start (fetches, converters, ACL criteria and
/// patterns, log formats), found by the runtime's own compilers so that `check` and `run`
/// never disagree. Rules whose action is already reported are not compiled again.
fn expressions<R: RuntimeCompilers>(c: &Compilation, runtime: &R, out: &mut Vec<(Span, String)>) {
    use crate::ir::ProxyKind;
    let words = |w: &[crate::ir::Spanned<crate::ir::Text>]| -> Vec<String> {
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
        .chain(runtime.builtin_rings().iter().map(|r| r.to_string()))
        .collect();
    for line in used_lines {
        for target in plan::log_line_targets(&c.config, line) {
            if let plan::LogDest::Ring(name) = &target.dest {
                if !rings.contains(name) {
                    out.push((line.span, format!("log target: no ring named '{name}'")));
                }
                continue;
            }
            if let Err(e) = runtime.log_target(&target) {
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
                let Err(e) = runtime.server_tls(t) else {
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
        .filter(|s| s.kind == crate::registry::SectionKind::FcgiApp);
    for (section, app) in fcgi_sections.zip(plan::fcgi::lower(&c.config)) {
        if let Err(e) = runtime.fcgi_app(&app) {
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
            match runtime.acls(std::slice::from_ref(&acl)) {
                Ok(_) => acls.push(acl),
                Err(e) => out.push((a.span, e)),
            }
        }
        let acls = runtime.acls(&acls).unwrap_or_default();
        let http = proxy.effective_mode() == crate::ir::Mode::Http;
        let redirects = proxy.redirects.iter().map(|r| (r, true));
        for (r, plain_redirect) in proxy.rules.iter().map(|r| (r, false)).chain(redirects) {
            if !support::action_supported(&r.action.value) {
                continue;
            }
            // In HTTP mode the content rules run with the request's, which cannot wait for an
            // SPOE agent there (runtime/src/http/routing.rs); TCP-mode streams can.
            if http
                && r.set == crate::registry::RuleSet::TcpRequestContent
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
            if http && r.set == crate::registry::RuleSet::TcpResponseContent {
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
            // A file the rule reads (`return … errorfile <f>`) is the environment's too: one
            // that does not open is what HAProxy reports, not something the runtime lacks.
            let unreadable = c.config.files.iter().any(|f| {
                let at = f.path.span;
                at.file == r.span.file
                    && r.span.start <= at.start
                    && at.end <= r.span.end
                    && std::fs::File::open(f.path.value.as_str()).is_err()
            });
            if unreadable {
                continue;
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
            if let Err(e) = runtime.rule(&rule, &acls) {
                out.push((r.span, e));
            }
        }
        for u in &proxy.use_backends {
            if let Err(e) = runtime.condition(&words(&u.condition), &acls) {
                out.push((u.span, e));
            }
            if u.dynamic {
                if let Err(e) = runtime.log_format(&u.target.value) {
                    out.push((u.target.span, e));
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
                if let Err(e) = runtime.sample(key.as_str()) {
                    out.push((d.span, e));
                }
            }
        }
        if let Some(f) = &proxy.log_format {
            if let Err(e) = runtime.log_format(&f.value) {
                out.push((f.span, e));
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
            if let Err(e) = runtime.log_format(&text.join(" ")) {
                if !out.iter().any(|(span, what)| *span == d.span && *what == e) {
                    out.push((d.span, e));
                }
            }
        }
    }
}

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
