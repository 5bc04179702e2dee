//! Proxy sections (`defaults`, `frontend`, `backend`, `listen`): headers, inheritance and statements.

use super::build::{check_prefix, Builder, Stmt};
use super::model::*;
use super::values::atol;
use super::{acl, bind, directives, exprs, keywords, server_line, timeouts};
use crate::diagnostic::{Diagnostic, Edit, HaproxyForm};
use crate::registry::SectionKind;

/// Opens a proxy section; returns its index, or `None` when the header is unusable (HAProxy aborts).
pub(super) fn open(b: &mut Builder, kind: SectionKind, head: &Stmt) -> Option<usize> {
    let kind = ProxyKind::from_section(kind)?;
    let keyword = kind.section_keyword();
    let (name, from_at) = if kind == ProxyKind::Defaults {
        if head.word(1) == "from" && !head.word(2).is_empty() && head.word(3).is_empty() {
            (None, Some(1))
        } else {
            let name = (!head.word(1).is_empty()).then(|| head.spanned(1));
            (name, (head.word(2) == "from").then_some(2))
        }
    } else {
        if head.word(1).is_empty() {
            b.push(
                Diagnostic::new("E201", format!("'{keyword}' expects an <id> argument"))
                    .aborts()
                    .at(head.span(0))
                    .label("name missing"),
            );
            return None;
        }
        if headless(head) {
            // The name is checked first.
            super::proxy_names::check(b, kind, keyword, &head.spanned(1));
            // HAProxy creates no proxy then: every line of the section is refused (see
            // `orphan_line`). Without a `from`, only a frontend's header gets a message; too
            // many words after `from <defaults>` get one first.
            if !head.word(4).is_empty() && head.word(2) == "from" {
                b.push(
                    Diagnostic::new(
                        "E202",
                        format!(
                            "'{keyword}' cannot handle unexpected argument '{}'.",
                            head.word(4)
                        ),
                    )
                    .at(head.span_from(4))
                    .label("unexpected here"),
                );
            }
            if kind.has_frontend() {
                let extra = if head.word(2) == "from" { 4 } else { 2 };
                b.push(
                    Diagnostic::new(
                        "E202",
                        "please use the 'bind' keyword for listening addresses.",
                    )
                    .at(head.span_from(extra))
                    .label("unexpected here")
                    .not_fatal(),
                );
            }
            return None;
        }
        (Some(head.spanned(1)), (head.word(2) == "from").then_some(2))
    };

    if let Some(n) = &name {
        super::proxy_names::check(b, kind, keyword, n);
    }

    // Which defaults section this proxy starts from.
    let mut defaults = if kind == ProxyKind::Defaults {
        None
    } else {
        b.last_defaults
    };
    let mut from = None;
    if let Some(at) = from_at {
        let target = head.spanned(at + 1);
        let found: Vec<usize> = b
            .config
            .proxies
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.kind == ProxyKind::Defaults
                    && p.name_str() == target.value
                    && !target.value.is_empty()
            })
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = found.first() else {
            b.push(
                Diagnostic::new(
                    "E204",
                    format!(
                        "defaults section '{}' not found for {} '{}'.",
                        target.value,
                        kind.type_str(),
                        name.as_ref().map_or("", |n| n.value.as_str())
                    ),
                )
                .aborts()
                .at(target.span)
                .label("no defaults section with this name"),
            );
            return None;
        };
        if found.len() > 1 {
            let (a, c) = (
                b.config.proxies[found[0]].header,
                b.config.proxies[found[1]].header,
            );
            let msg = format!(
                "ambiguous defaults section name '{}' referenced by {} '{}' exists at least at {} and {}.",
                target.value,
                kind.type_str(),
                name.as_ref().map_or("", |n| n.value.as_str()),
                b.location(a),
                b.location(c)
            );
            b.push(
                Diagnostic::new("E205", msg)
                    .at(target.span)
                    .with_secondary(a, "declared here")
                    .with_secondary(c, "and here"),
            );
        }
        defaults = Some(first);
        from = Some(target);
    }

    let header = head.whole();
    if let Some(d) = defaults {
        if from.is_some() {
            b.defaults_explicit.insert(d);
        } else {
            b.defaults_implicit.insert(d);
        }
        if b.defaults_explicit.contains(&d) && b.defaults_implicit.contains(&d) {
            let declared = b.config.proxies[d].header;
            let msg = format!(
                "defaults section '{}' (declared at {}) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.",
                b.config.proxies[d].name_str(),
                b.location(declared)
            );
            let mut w = Diagnostic::new("W208", msg)
                .at(header)
                .with_secondary(declared, "this defaults section");
            // HAProxy prints this warning at the alert level.
            w.haproxy_level = Some(crate::diagnostic::Severity::Error);
            b.push(w);
        }
        check_rule_inheritance(b, kind, d, header);
    }

    let mut proxy = Proxy::new(kind, name, header);
    proxy.defaults = defaults;
    proxy.from = from.map(Box::new);
    if let Some(d) = defaults {
        inherit(&mut proxy, &b.config.proxies[d]);
    }
    let position = b.config.proxies.len();
    if kind != ProxyKind::Defaults {
        let n = Text::from(proxy.name_str());
        if kind.has_frontend() {
            b.frontend_names.entry(n.clone()).or_insert(position);
        }
        if kind.has_backend() {
            b.backend_names.entry(n).or_insert(position);
        }
    }
    b.config.proxies.push(proxy);
    b.defaults_use.push(None);
    let index = b.config.proxies.len() - 1;
    if kind == ProxyKind::Defaults {
        b.last_defaults = Some(index);
    }
    Some(index)
}

/// HAProxy's rules for inheriting from a defaults section that defines TCP/HTTP rules.
fn check_rule_inheritance(
    b: &mut Builder,
    kind: ProxyKind,
    defaults: usize,
    header: crate::source::Span,
) {
    let d = &b.config.proxies[defaults];
    let all = [
        RuleSet::HttpRequest,
        RuleSet::HttpResponse,
        RuleSet::HttpAfterResponse,
        RuleSet::TcpRequestConnection,
        RuleSet::TcpRequestSession,
        RuleSet::TcpRequestContent,
        RuleSet::TcpResponseContent,
    ];
    if !d.has_rules(&all) {
        return;
    }
    let at = b.location(d.header);
    let dspan = d.header;
    let l4l5 = d.has_rules(&[RuleSet::TcpRequestConnection, RuleSet::TcpRequestSession]);
    let tcp_response = d.has_rules(&[RuleSet::TcpResponseContent]);
    let message = match kind {
        ProxyKind::Defaults => {
            Some(format!("a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at {at})."))
        }
        ProxyKind::Listen => Some("a listen section cannot inherit from a defaults section defining TCP/HTTP rules.".to_string()),
        _ => {
            let used_by = b.defaults_use[defaults];
            if used_by.is_some_and(|u| u != kind) {
                Some(format!(
                    "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {at})."
                ))
            } else if kind == ProxyKind::Backend && l4l5 {
                Some(format!("a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules (defaults section at {at})."))
            } else if kind == ProxyKind::Frontend && tcp_response {
                Some(format!("a frontend section cannot inherit from a defaults section defining 'tcp-response content' rules (defaults section at {at})."))
            } else {
                b.defaults_use[defaults] = Some(kind);
                None
            }
        }
    };
    if let Some(message) = message {
        b.push(
            Diagnostic::new("E207", message)
                .aborts()
                .at(header)
                .label("inherits rules it cannot use")
                .with_secondary(dspan, "defaults section with rules")
                .form(HaproxyForm::ParsingTight),
        );
    }
}

/// Whether a `frontend`/`backend`/`listen` header has words after its name other than
/// `from <defaults>`: HAProxy then leaves the section without a proxy.
pub(super) fn headless(head: &Stmt) -> bool {
    !head.word(2).is_empty() && (head.word(3).is_empty() || head.word(2) != "from")
        || !head.word(4).is_empty()
}

/// A line of a section whose header HAProxy refused ([`headless`]): with no proxy to apply it
/// to, it is an error of its own. Only the line's place is read (a consuming build has taken
/// its words): the statement is the line without its indentation and comment.
pub(super) fn orphan_line(b: &mut Builder, head: &Stmt, line: &crate::syntax::Line) {
    let end = line.comment.map_or(line.span.end, |c| c.start);
    let text =
        b.db.text(line.span)
            .get(..(end - line.span.start) as usize)
            .unwrap_or("");
    let lead = text.len() - text.trim_start().len();
    let stmt = text.trim();
    if stmt.is_empty() {
        return;
    }
    let start = line.span.start + lead as u32;
    let span = crate::source::Span {
        file: line.span.file,
        start,
        end: start + stmt.len() as u32,
    };
    b.push(
        Diagnostic::new("E202", "'listen' or 'defaults' expected.")
            .at(span)
            .label("no proxy was created for this section")
            .with_secondary(head.whole(), "this header has words HAProxy cannot use"),
    );
}

/// Copies the settings a new proxy takes from its defaults section (rules stay referenced).
fn inherit(p: &mut Proxy, d: &Proxy) {
    p.mode = d.mode.clone();
    p.timeouts = d.timeouts.clone();
    p.options = d.options.clone();
    p.balance = d.balance.clone();
    p.has_log = d.has_log;
    p.tcp_request_delay = d.tcp_request_delay;
    p.log_format = d.log_format.clone();
    p.maxconn = d.maxconn.clone();
    p.retries = d.retries.clone();
    p.retry_on = d.retry_on.clone();
    p.http_reuse = d.http_reuse.clone();
    p.directives = d.directives.clone();
}

/// One statement of a proxy section.
pub(super) fn statement(b: &mut Builder, index: usize, stmt: &Stmt) {
    // HAProxy gives up on the whole configuration when an HTTP rule does not parse.
    let first = stmt.word(0);
    b.aborting_line = matches!(
        first,
        "http-request" | "http-response" | "http-after-response"
    ) || (first == "stats" && stmt.word(1) == "http-request");
    let before = b.diags.len();
    read_statement(b, index, stmt);
    b.aborting_line = false;
    // HAProxy judges a rule's place once the rule has been read, and only when it read well
    // (a line in error adds no rule).
    if !b.diags[before..]
        .iter()
        .any(|d| d.is_error() && !d.after_parse)
    {
        let at = usize::from(matches!(stmt.word(0), "no" | "default"));
        super::order::check(b, index, stmt, at);
    }
}

fn read_statement(b: &mut Builder, index: usize, stmt: &Stmt) {
    let at = check_prefix(b, stmt);
    let kind = b.config.proxies[index].kind;
    let section = match kind {
        ProxyKind::Defaults => SectionKind::Defaults,
        ProxyKind::Frontend => SectionKind::Frontend,
        ProxyKind::Backend => SectionKind::Backend,
        ProxyKind::Listen => SectionKind::Listen,
    };
    let keyword = stmt.word(at);
    if let Some(line) = stmt.proxy_directive(at, b.plan_lines) {
        push_short(&mut b.config.proxies[index].directives, line);
    }
    if keywords::extra_argument(b, false, stmt, at) {
        return;
    }
    match keyword {
        _ if at == 0 && super::proxy_args::missing_value(b, stmt) => {}
        "bind-process" => {
            bind_process_removed(b, stmt, at);
            return;
        }
        "mode" => mode(b, index, stmt),
        "source" => super::connect_addrs::proxy_source(b, stmt, at),
        "rate-limit" => super::proxy_args::rate_limit(b, index, stmt),
        "id" => super::proxy_args::proxy_id(b, index, stmt),
        "usesrc" => {
            b.push(
                Diagnostic::new(
                    "E278",
                    "'usesrc' only allowed after a 'source' statement.".to_string(),
                )
                .at(stmt.span(at))
                .label("'usesrc' continues a 'source' line")
                .help("write it after the address of a 'source' line: 'source 0.0.0.0 usesrc clientip'")
                .form(HaproxyForm::Parsing),
            );
            return;
        }
        "bind" => bind::bind_line(b, index, stmt),
        "server" | "default-server" | "server-template" => server_line::server_line(b, index, stmt),
        "external-check" => external_check(b, stmt, at),
        "persist" if at == 0 => super::proxy_args::persist(b, stmt),
        "email-alert" if at == 0 => super::proxy_args::email_alert(b, stmt),
        "stats" if at == 0 => super::proxy_args::stats(b, stmt, at),
        "timeout" => timeouts::timeout(b, index, stmt),
        "clitimeout" | "srvtimeout" | "contimeout" => {
            timeouts::legacy_timeout(b, stmt, at);
        }
        "option" if at == 1 && !option_negatable(stmt.word(at + 1)) => {
            b.push(
                Diagnostic::new(
                    "E200",
                    format!(
                        "negation/default is not supported for option '{}'.",
                        stmt.word(at + 1)
                    ),
                )
                .at(stmt.span(0))
                .label("this prefix is not allowed here")
                .form(HaproxyForm::ParsingTight),
            );
            return;
        }
        "option" => {
            let enabled = stmt.word(0) != "no";
            if enabled && stmt.word(at + 1) == "httpchk" {
                httpchk_version(b, stmt, at + 4);
            }
            if enabled {
                super::proxy_args::option_values(b, stmt, at);
            }
            if enabled && matches!(stmt.word(at + 1), "httplog" | "httpslog" | "tcplog") {
                super::log_formats::log_option(b, index, stmt, at);
            }
            let name = Text::from(stmt.word(at + 1));
            let span = stmt.whole();
            let options = &mut b.config.proxies[index].options;
            push_short(options, (name, Spanned::new(enabled, span)));
        }
        "errorfile" | "errorloc" | "errorloc302" | "errorloc303" if at == 0 => {
            super::proxy_args::error_page(b, stmt, false)
        }
        // `http-error status <code> …`: a reply, whose file HAProxy opens as it reads the line
        // (its errors are the plan's to find).
        "http-error" => {
            let args = stmt.spanned_from(at + 1);
            let wording = ("http-error : ".to_string(), "");
            super::replies::record(b, "return", &args, 0, wording);
        }
        "acl" => acl::acl_decl(b, index, stmt),
        "http-request"
        | "http-response"
        | "http-after-response"
        | "tcp-request"
        | "tcp-response"
        | "http-check"
        | "tcp-check" => {
            super::rules::rule_line(b, index, stmt);
        }
        "use_backend" => {
            let target = stmt.spanned(1);
            let dynamic = target.value.contains("%[");
            if dynamic {
                let what = format!("failed to parse use_backend rule '{}' : ", target.value);
                let places = crate::registry::capabilities::at::FE_HRQ_HDR;
                exprs::log_format(b, index, &target, RefContext::UseBackend, &what, places);
            }
            let cond = stmt.spanned_from(2);
            let parsed =
                exprs::condition(b, index, &cond, &exprs::CondSite::phrase("switching rule"));
            let place = super::places::Place::UseBackend;
            super::places::check(b, index, &cond, parsed.as_ref(), place);
            let use_backends = &mut b.config.proxies[index].use_backends;
            push_short(
                use_backends,
                UseBackend {
                    target,
                    dynamic,
                    condition: cond,
                    span: stmt.whole(),
                },
            );
        }
        "default_backend" => {
            b.config.proxies[index].default_backend = Some(Box::new(stmt.spanned(1)));
        }
        // HAProxy reads the kind of rule and its fetch's presence first.
        "stick" if !matches!(b.config.proxies[index].kind, ProxyKind::Defaults) => {
            let kinds = ["on", "match", "store", "store-request", "store-response"];
            let message = if !kinds.contains(&stmt.word(1)) {
                Some(("'stick' expects 'on', 'match', or 'store'.", 1))
            } else if stmt.word(2).is_empty() {
                Some(("'stick' expects a fetch method.", 2))
            } else {
                None
            };
            if let Some((message, at)) = message {
                b.push(Diagnostic::new("E237", message).at(stmt.span(at)).label(
                    "a stick rule is 'stick on|match|store-request|store-response <fetch>'",
                ));
            } else {
                super::rules::stick_rule(b, index, stmt);
            }
        }
        "use-server" => {
            let target = stmt.spanned(1);
            let cond = stmt.spanned_from(2);
            let parsed =
                exprs::condition(b, index, &cond, &exprs::CondSite::phrase("switching rule"));
            let place = super::places::Place::UseServer;
            super::places::check(b, index, &cond, parsed.as_ref(), place);
            b.config.proxies[index]
                .use_servers
                .push((target, stmt.whole()));
        }
        "balance" => {
            directives::balance(b, stmt);
            b.config.proxies[index].balance = Some(stmt.spanned(1));
        }
        "hash-type" => directives::hash_type(b, stmt),
        "cookie" => super::cookie::cookie(b, stmt),
        "stick-table" => {
            let peers = super::stick_table::line(b, stmt, 1);
            let key_type = if stmt.word(1) == "type" {
                stmt.word(2).to_string()
            } else {
                String::new()
            };
            let stores = (1..stmt.len())
                .filter(|&i| stmt.word(i - 1) == "store")
                .map(|i| stmt.word(i).to_string())
                .collect();
            b.config.proxies[index].stick_table = Some(Box::new(StickTableDecl {
                key_type,
                span: stmt.whole(),
                stores,
                peers,
            }));
        }
        "log" => {
            let added = directives::log(b, stmt, false);
            b.config.proxies[index].has_log =
                added || (stmt.word(0) != "no" && b.config.proxies[index].has_log);
        }
        "log-format" | "log-format-sd" | "error-log-format" => log_format(b, index, stmt),
        "errorfiles" => b.config.proxies[index].errorfiles.push(stmt.spanned(1)),
        "unique-id-format" => {
            use crate::registry::capabilities::at::{BE_HRQ_HDR, FE_HRQ_HDR};
            let places = (if kind.has_frontend() { FE_HRQ_HDR } else { 0 })
                | (if kind.has_backend() { BE_HRQ_HDR } else { 0 });
            exprs::log_format(
                b,
                index,
                &stmt.spanned(1),
                RefContext::UniqueId,
                "failed to parse unique-id : ",
                places,
            )
        }
        "redirect" => super::redirect_words::directive(b, index, stmt),
        "max-keep-alive-queue" => {
            // Read with C's `strtol` in base 0: a sign, then `0x` hexadecimal, a leading `0`
            // octal, or decimal; the first character it stops at is refused.
            let value = stmt.word(1);
            let message = if value.is_empty() {
                "'max-keep-alive-queue' expects expects an integer value (or -1 to disable)"
                    .to_string()
            } else {
                match value[crate::cnum::strtol(value, 0).end..].chars().next() {
                    Some(c) => format!(
                        "'max-keep-alive-queue' : unexpected character '{c}' in integer value '{value}'"
                    ),
                    None => return,
                }
            };
            let at = if value.is_empty() { 0 } else { 1 };
            b.push(
                Diagnostic::new("E277", message)
                    .at(stmt.span(at))
                    .form(HaproxyForm::Parsing),
            );
        }
        "hash-balance-factor" => {
            let value = stmt.word(1);
            let message = if value.is_empty() {
                "'hash-balance-factor' expects an integer argument."
            } else if (1..=100).contains(&atol(value)) {
                "'hash-balance-factor' must be 0 or greater than 100."
            } else {
                return;
            };
            let at = if value.is_empty() { 0 } else { 1 };
            b.push(
                Diagnostic::new("E276", message)
                    .at(stmt.span(at))
                    .form(HaproxyForm::Parsing),
            );
        }
        "maxconn" => {
            b.config.proxies[index].maxconn =
                Some(Spanned::new(atol(stmt.word(1)).max(0) as u32, stmt.span(1)))
        }
        "retries" => {
            b.config.proxies[index].retries =
                Some(Spanned::new(atol(stmt.word(1)).max(0) as u32, stmt.span(1)))
        }
        "retry-on" if directives::retry_on(b, stmt, kind.has_backend()) => {
            let words = (1..stmt.len())
                .map(|i| stmt.word(i))
                .collect::<Vec<_>>()
                .join(" ");
            b.config.proxies[index].retry_on =
                Some(Box::new(Spanned::new(words.into(), stmt.span_from(1))));
        }
        "compression" => {
            let in_defaults = b.config.proxies[index].kind == ProxyKind::Defaults;
            directives::compression(b, stmt, in_defaults);
        }
        // A source HAProxy does not know stops the line; a known one is read by the plan.
        "load-server-state-from-file" if !directives::server_state_source(b, stmt) => {}
        "http-reuse" if directives::http_reuse(b, stmt) => {
            b.config.proxies[index].http_reuse = Some(Box::new(stmt.spanned(1)))
        }
        "disabled" => b.config.proxies[index].disabled = true,
        "enabled" => b.config.proxies[index].disabled = false,
        "filter" if kind == ProxyKind::Defaults => {
            // HAProxy puts the place in its message and then before it again.
            let place = b.location(stmt.span(0));
            b.push(
                Diagnostic::new(
                    "E105",
                    format!("parsing [{place}] : filter is not allowed in a 'default' section."),
                )
                .at(stmt.span(0))
                .label("not allowed in defaults")
                .form(HaproxyForm::Parsing),
            )
        }
        // A script's filter (`core.register_filter`) is looked for once the scripts are
        // known (`envcheck`).
        "filter" if !FILTERS.contains(&stmt.word(1)) && !stmt.word(1).starts_with("lua.") => {
            b.push(unknown_filter(stmt.word(1), stmt.span(1)))
        }
        "use-fcgi-app" => super::fcgi::use_line(b, index, stmt),
        "filter" => {
            if stmt.word(1) == "fcgi-app" {
                super::fcgi::filter_line(b, stmt);
            }
            if stmt.word(1) == "spoe" {
                spoe_filter(b, stmt);
            }
            if matches!(stmt.word(1), "bwlim-in" | "bwlim-out") {
                super::bwlim::filter_line(b, index, stmt);
            }
            if stmt.word(1) == "cache" && stmt.len() > 2 {
                b.config.proxies[index].caches.push(stmt.spanned(2));
            }
            b.config.proxies[index].filters.push(stmt.spanned(1));
        }
        _ => {}
    }
    keywords::check_statement(b, section, stmt, at, Some(index));
    // Read after HAProxy warns about a capture outside a frontend (it still reads it then),
    // and not in a defaults section, where it is refused first.
    if keyword == "capture" && at == 0 && kind != ProxyKind::Defaults {
        super::proxy_args::capture(b, stmt);
    }
}

/// HAProxy's error for a `filter` line naming no filter it knows.
pub(crate) fn unknown_filter(name: &str, span: crate::Span) -> Diagnostic {
    Diagnostic::new(
        "E234",
        format!("'filter' : unknown keyword '{name}'. Registered keywords :"),
    )
    .at(span)
    .label("not a filter of HAProxy 2.7, nor one a loaded script registers")
    .help(format!(
        "filters are {}, and lua.<name> for a script's core.register_filter",
        FILTERS.join(", ")
    ))
}

/// `log-format`, `log-format-sd` and `error-log-format`: compiled in sections that log
/// (frontends, listens, and defaults for them) with the fetches usable when a log line is
/// written; a backend ignores them, as HAProxy says.
fn log_format(b: &mut Builder, index: usize, stmt: &Stmt) {
    let keyword = stmt.word(0);
    if keyword == "log-format" {
        super::log_formats::check_override(b, index, stmt, "log-format");
    }
    let proxy = &b.config.proxies[index];
    if !proxy.kind.has_frontend() {
        let d = super::log_formats::ignored_in_backend(proxy.name_str(), keyword, stmt.span(0));
        b.push(d);
        return;
    }
    exprs::log_format(
        b,
        index,
        &stmt.spanned(1),
        RefContext::LogFormat,
        &format!("failed to parse {keyword} : "),
        crate::registry::capabilities::at::FE_LOG_END,
    );
    if keyword == "log-format" {
        b.config.proxies[index].log_format = Some(Box::new(stmt.spanned(1)));
    }
}

/// Whether `no option <name>` and `default option <name>` are accepted: the options of
/// HAProxy's flag tables and the HTTP connection modes and `redispatch`, which it reads before
/// refusing the prefix for every other option (and for names it does not know).
fn option_negatable(name: &str) -> bool {
    crate::registry::arity::FLAG_OPTIONS.contains(&name)
        || matches!(
            name,
            "httpclose"
                | "http-server-close"
                | "http-keep-alive"
                | "redispatch"
                | "forceclose"
                | "http_proxy"
        )
}

/// `bind-process` in any section: removed in 2.7.
pub(super) fn bind_process_removed(b: &mut Builder, stmt: &Stmt, at: usize) {
    removed(
        b,
        stmt,
        at,
        "'bind-process' is not supported anymore.",
        HaproxyForm::ParsingTight,
    );
}

/// A keyword HAProxy 2.7 removed: error with a fix that deletes the line.
pub(super) fn removed(b: &mut Builder, stmt: &Stmt, at: usize, message: &str, form: HaproxyForm) {
    let whole = stmt.line.span;
    b.push(
        Diagnostic::new("E301", message.to_string())
            .at(stmt.span_from(at))
            .label("removed in HAProxy 2.7")
            .help("threads replace processes: remove this line and use 'thread' on 'bind' lines to pin listeners")
            .fix("remove the line", vec![Edit { span: whole, replacement: String::new() }])
            .form(form),
    );
}

fn mode(b: &mut Builder, index: usize, stmt: &Stmt) {
    let m = match stmt.word(1) {
        "http" => Mode::Http,
        "tcp" => Mode::Tcp,
        other => {
            let d = match other {
                // HAProxy names the mode it dropped and what replaces it.
                "health" => Diagnostic::new(
                    "E208",
                    "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.",
                )
                .label("no longer a proxy mode")
                .help("in 'mode http', answer probes with 'http-request return status 200' or 'monitor-uri'"),
                _ => Diagnostic::new("E208", format!("unknown proxy mode '{other}'."))
                    .label("expected http or tcp")
                    .replace_with(
                        stmt.span(1),
                        crate::registry::best_match(other, ["http", "tcp"]),
                    ),
            };
            b.push(d.at(stmt.span(1)));
            return;
        }
    };
    b.config.proxies[index].mode = Some(Spanned::new(m, stmt.span(1)));
}

/// Filters of the reference build (no OpenTracing).
const FILTERS: [&str; 7] = [
    "trace",
    "compression",
    "cache",
    "spoe",
    "fcgi-app",
    "bwlim-in",
    "bwlim-out",
];

/// `external-check command <cmd>` / `external-check path <path>`, with HAProxy's messages.
fn external_check(b: &mut Builder, stmt: &Stmt, at: usize) {
    let what = stmt.word(at + 1);
    let message = match what {
        "" => format!("missing argument after '{}'.", stmt.word(at)),
        "command" | "path" if stmt.word(at + 2).is_empty() => {
            format!("missing argument after '{what}'.")
        }
        "command" | "path" => return,
        _ => format!(
            "'{}' only supports 'command' and 'path'. but got '{what}'.",
            stmt.word(at)
        ),
    };
    b.push(Diagnostic::new("E111", message).at(stmt.span_from(at)));
}

/// `option httpchk <method> <uri> <version>`: 2.7 rejects headers or a body hidden after the
/// version (`HTTP/1.1\r\nHost:\ x`).
fn httpchk_version(b: &mut Builder, stmt: &Stmt, version: usize) {
    if !stmt.word(version).contains("\r\n") {
        return;
    }
    b.push(
        Diagnostic::new(
            "E249",
            "'option httpchk' : hiding headers or body at the end of the version string is unsupported.Use 'http-check send' directive instead..",
        )
        .at(stmt.span(version))
        .label("headers after the version")
        .help("keep the version alone and add each header with 'http-check send hdr <name> <value>'"),
    );
}
/// `filter spoe [engine <name>] config <file>`: HAProxy wraps the filter's error in quotes.
/// The file itself is read once the model is built ([`crate::spoe::load`]).
fn spoe_filter(b: &mut Builder, stmt: &Stmt) {
    let mut config = false;
    let mut i = 2;
    let err = |b: &mut Builder, i: usize, inner: String| {
        b.push(
            Diagnostic::new("E233", format!("'filter' : '{inner}'"))
                .at(stmt.span(i))
                .label("invalid SPOE filter"),
        );
    };
    while i < stmt.len() {
        match stmt.word(i) {
            opt @ ("config" | "engine") => {
                if stmt.word(i + 1).is_empty() {
                    return err(b, i, format!("'spoe' : '{opt}' option without value"));
                }
                config |= opt == "config";
                i += 2;
            }
            other => return err(b, i, format!("unknown keyword '{other}'")),
        }
    }
    if !config {
        return err(b, 1, "'spoe' : missing config file".to_string());
    }
    b.in_proxy.section_name_lost = true;
}
