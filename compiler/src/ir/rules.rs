//! Rule lines: `http-request`, `http-response`, `http-after-response`, `tcp-request`, `tcp-response`,
//! `http-check`, `tcp-check`, with HAProxy's placement rules for defaults sections.

use super::build::{Builder, Stmt};
use super::model::*;
use super::rule_args::{capture_arguments, http_action_arguments, reply, unknown_service};
use crate::diagnostic::Diagnostic;

/// Splits `words[from..]` at the first `if`/`unless`.
pub(super) fn split_condition(
    stmt: &Stmt,
    from: usize,
) -> (ThinVec<Spanned<Text>>, ThinVec<Spanned<Text>>) {
    let mut all = stmt.spanned_from(from);
    match all
        .iter()
        .position(|w| w.value == "if" || w.value == "unless")
    {
        Some(at) => {
            let cond = all.split_off(at);
            (all, cond)
        }
        None => (all, ThinVec::new()),
    }
}

pub(super) fn rule_line(b: &mut Builder, index: usize, stmt: &Stmt) {
    let keyword = stmt.word(0);
    let proxy = &b.config.proxies[index];
    let anonymous_defaults = proxy.kind == ProxyKind::Defaults && proxy.name.is_none();
    let (set, action_at) = match (keyword, stmt.word(1)) {
        ("http-request", _) => (RuleSet::HttpRequest, 1),
        ("http-response", _) => (RuleSet::HttpResponse, 1),
        ("http-after-response", _) => (RuleSet::HttpAfterResponse, 1),
        ("http-check", _) => (RuleSet::HttpCheck, 1),
        ("tcp-check", _) => (RuleSet::TcpCheck, 1),
        ("tcp-request", "connection") => (RuleSet::TcpRequestConnection, 2),
        ("tcp-request", "session") => (RuleSet::TcpRequestSession, 2),
        ("tcp-request", "content") => (RuleSet::TcpRequestContent, 2),
        ("tcp-response", "content") => (RuleSet::TcpResponseContent, 2),
        ("tcp-request", "inspect-delay") | ("tcp-response", "inspect-delay") => {
            inspect_delay(b, index, stmt);
            return;
        }
        (kw, other) => {
            let (kind, name) = (proxy.kind.type_str(), proxy.name_str().to_string());
            let expected = if kw == "tcp-request" {
                "'inspect-delay', 'connection', 'session' or 'content'"
            } else {
                "'inspect-delay' or 'content'"
            };
            b.push(
                Diagnostic::new(
                    "E108",
                    format!("'{kw}' expects {expected} in {kind} '{name}' (got '{other}')"),
                )
                .at(stmt.span(1))
                .label("unknown rule type"),
            );
            return;
        }
    };
    if anonymous_defaults {
        let msg = match set {
            RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse => {
                Some(format!("'{keyword}' not allowed in anonymous 'defaults' section."))
            }
            RuleSet::TcpRequestConnection | RuleSet::TcpRequestSession | RuleSet::TcpRequestContent => {
                Some(format!("{keyword} {} is not allowed in anonymous 'defaults' sections", stmt.word(1)))
            }
            RuleSet::TcpResponseContent => {
                Some(format!("{keyword} {} is only allowed in 'backend' sections or 'defaults' section with a name", stmt.word(1)))
            }
            RuleSet::HttpCheck | RuleSet::TcpCheck => None,
        };
        if let Some(msg) = msg {
            b.push(
                Diagnostic::new("E230", msg)
                    .at(stmt.span_from(0))
                    .label("rules need a named defaults section")
                    .help("give the defaults section a name and refer to it with 'from <name>'"),
            );
            return;
        }
    }
    if set == RuleSet::TcpResponseContent && !proxy.kind.has_backend() {
        b.push(Diagnostic::new(
            "E230",
            format!("{keyword} {} is only allowed in 'backend' sections or 'defaults' section with a name", stmt.word(1)),
        )
        .at(stmt.span_from(0)));
        return;
    }
    if set == RuleSet::HttpCheck
        || set == RuleSet::TcpCheck
        || !stmt.word(action_at).is_empty()
        || set != RuleSet::HttpRequest
    {
        let known = super::keywords::check_action(b, index, set, stmt, action_at);
        if !known && matches!(set, RuleSet::HttpCheck | RuleSet::TcpCheck) {
            return;
        }
    }
    if set == RuleSet::HttpCheck && stmt.word(action_at) == "send" {
        let before = b.diags.len();
        super::http_check_send::words(b, stmt, action_at);
        if b.diags.len() > before {
            return;
        }
    }
    if matches!(set, RuleSet::HttpCheck | RuleSet::TcpCheck)
        && !super::check_words::words(b, index, set, stmt, action_at)
    {
        return;
    }
    let (args, condition) = split_condition(stmt, action_at + 1);
    let action = stmt.spanned(action_at);
    let context = match set {
        RuleSet::HttpRequest => RefContext::HttpRequest,
        RuleSet::HttpResponse | RuleSet::HttpAfterResponse => RefContext::HttpResponse,
        RuleSet::TcpRequestConnection => RefContext::TcpRequestConnection,
        RuleSet::TcpRequestSession => RefContext::TcpRequestSession,
        RuleSet::TcpRequestContent => RefContext::TcpRequestContent,
        RuleSet::TcpResponseContent => RefContext::TcpResponseContent,
        RuleSet::HttpCheck | RuleSet::TcpCheck => RefContext::HttpRequest,
    };
    // Made for redirects only: formatted for every rule, it was some 400 instructions a line.
    let redirect_rule;
    let site = match set {
        RuleSet::HttpRequest | RuleSet::HttpResponse if action.value == "redirect" => {
            redirect_rule = format!("'{keyword} redirect' rule");
            super::exprs::CondSite::Redirect(&redirect_rule)
        }
        RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse => {
            super::exprs::CondSite::HttpRule {
                keyword,
                action: &action.value,
            }
        }
        _ => super::exprs::CondSite::Tcp {
            set: set.keyword(),
            action: &action.value,
        },
    };
    if !matches!(set, RuleSet::HttpCheck | RuleSet::TcpCheck) {
        // HAProxy reads the action's words before its condition, and stops at the first error.
        if let Some(message) = crate::expr::vars::action_error(&action.value) {
            let message = match set {
                RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse => {
                    format!(
                        "error detected in {} '{}' while parsing '{keyword} {}' rule : {message}.",
                        proxy_kind_str(b, index),
                        b.config.proxies[index].name_str(),
                        action.value
                    )
                }
                _ => message,
            };
            b.push(
                Diagnostic::new("E512", message)
                    .at(action.span)
                    .label("not a variable name HAProxy takes"),
            );
            return;
        }
        let redirect = matches!(set, RuleSet::HttpRequest | RuleSet::HttpResponse)
            && action.value == "redirect";
        let what = format!(
            "error detected in {} '{}' while parsing '{keyword} redirect' rule",
            proxy_kind_str(b, index),
            b.config.proxies[index].name_str()
        );
        if redirect && !super::redirect_words::words(b, stmt, action_at + 1, &what) {
            return;
        }
        // A word the action does not take: HAProxy reads the action's own words first (their
        // errors come first), then refuses the word, and never reads the condition.
        if let Some(at) = super::action_tail::leftover(&action.value, &args) {
            let before = b.diags.len();
            rule_expressions(b, index, set, &action, &args[..at], &[], context);
            reply(b, index, set, &action, &args[..at]);
            if !b.diags[before..].iter().any(Diagnostic::is_error) {
                let proxy = &b.config.proxies[index];
                let message = super::action_tail::message(
                    set,
                    &action.value,
                    &args[at].value,
                    proxy.kind.type_str(),
                    proxy.name_str(),
                );
                let d = Diagnostic::new("E239", message)
                    .at(args[at].span)
                    .label("expected 'if', 'unless' or the end of the line");
                let http = matches!(
                    set,
                    RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse
                );
                b.push(if http { super::build::tight(d) } else { d });
            }
            return;
        }
        let before = b.diags.len();
        let parsed = super::exprs::condition(b, index, &condition, &site);
        if redirect && !b.diags[before..].iter().any(Diagnostic::is_error) {
            let response = set == RuleSet::HttpResponse;
            super::redirect_words::kind(b, stmt, action_at + 1, &what, response);
        }
        let place = match set {
            RuleSet::HttpRequest => Some(super::places::Place::HttpRequest),
            RuleSet::HttpResponse | RuleSet::HttpAfterResponse => {
                Some(super::places::Place::HttpResponse)
            }
            _ => None,
        };
        if let Some(place) = place {
            super::places::check(b, index, &condition, parsed.as_ref(), place);
        }
        rule_expressions(b, index, set, &action, &args, &condition, context);
        reply(b, index, set, &action, &args);
        super::stkctr::rule_action(b, index, set, &action.value, action.span);
    } else {
        check_variables(b, index, set, &action, &args);
    }
    // `track-sc<n> <key> [table <name>]` refers to a stick table, the proxy's own by default.
    if let Some(n) = action.value.strip_prefix("track-sc") {
        if n.parse::<u8>().is_ok() {
            let table = args
                .windows(2)
                .find(|w| w[0].value == "table")
                .map(|w| w[1].clone());
            b.config.proxies[index].table_refs.push(TableRef {
                table,
                by: action.value.to_string(),
                span: stmt.whole(),
            });
        }
    }
    let (kind, name) = (
        proxy_kind_str(b, index),
        b.config.proxies[index].name_str().to_string(),
    );
    if action.value == "normalize-uri"
        && set == RuleSet::HttpRequest
        && !b.config.global.expose_experimental
    {
        b.push(
            Diagnostic::new("E320", "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'")
                .at(action.span)
                .help("add 'expose-experimental-directives' in the global section"),
        );
        return;
    }
    if action.value == "use-service" {
        let service = args
            .first()
            .cloned()
            .unwrap_or_else(|| Spanned::new(Text::default(), action.span));
        // Services come from Lua (`lua.<name>`), and the Prometheus exporter is built in (in
        // HAProxy it is an optional build module, which Debian's package includes).
        if !service.value.starts_with("lua.") && service.value != "prometheus-exporter" {
            b.push(unknown_service(kind, &name, keyword, &service));
            return;
        }
        // The exporter answers HTTP requests only: a TCP rule cannot start it.
        if service.value == "prometheus-exporter" && set != RuleSet::HttpRequest {
            b.push(
                Diagnostic::new(
                    "E108",
                    "Prometheus exporter service only available on 'http-request' rulesets",
                )
                .at(service.span)
                .label("an HTTP service")
                .help("use 'http-request use-service prometheus-exporter' in an HTTP frontend"),
            );
            return;
        }
        b.config.proxies[index].services.push(service);
    }
    if matches!(action.value.as_str(), "cache-use" | "cache-store") {
        if let Some(name) = args.first() {
            b.config.proxies[index].caches.push(name.clone());
        }
    }
    push_short(
        &mut b.config.proxies[index].rules,
        RuleDecl {
            set,
            action,
            args,
            condition,
            span: stmt.whole(),
        },
    );
}

fn proxy_kind_str(b: &Builder, index: usize) -> &'static str {
    b.config.proxies[index].kind.type_str()
}

fn inspect_delay(b: &mut Builder, index: usize, stmt: &Stmt) {
    let proxy = &b.config.proxies[index];
    let keyword = stmt.word(0);
    let anonymous_defaults = proxy.kind == ProxyKind::Defaults && proxy.name.is_none();
    let msg = if keyword == "tcp-request" && anonymous_defaults {
        Some(
            "tcp-request inspect-delay is not allowed in anonymous 'defaults' sections".to_string(),
        )
    } else if keyword == "tcp-response" && (anonymous_defaults || !proxy.kind.has_backend()) {
        Some("tcp-response inspect-delay is only allowed in 'backend' sections or 'defaults' section with a name".to_string())
    } else {
        None
    };
    if let Some(msg) = msg {
        b.push(Diagnostic::new("E230", msg).at(stmt.span_from(0)));
        return;
    }
    let (kind, name) = (proxy.kind.type_str(), proxy.name_str().to_string());
    if stmt.word(2).is_empty() {
        b.push(
            Diagnostic::new(
                "E231",
                format!("missing argument for '{}' in {kind} '{name}'", stmt.word(1)),
            )
            .at(stmt.span(2)),
        );
        return;
    }
    match super::values::parse_time(stmt.word(2), super::values::TimeUnit::Ms) {
        Ok(delay) if keyword == "tcp-request" => {
            b.config.proxies[index].tcp_request_delay = delay.value != 0;
        }
        Ok(_) => {}
        Err(_) => b.push(
            Diagnostic::new(
                "E231",
                format!(
                    "'{keyword} {}' expects a positive delay in milliseconds, in {kind} '{name}'",
                    stmt.word(1)
                ),
            )
            .at(stmt.span(2)),
        ),
    }
}

/// The expressions inside a rule's arguments that HAProxy parses at load time.
fn rule_expressions(
    b: &mut Builder,
    index: usize,
    set: RuleSet,
    action: &Spanned<Text>,
    args: &[Spanned<Text>],
    condition: &[Spanned<Text>],
    context: RefContext,
) {
    let name = action.value.as_str();
    let http = matches!(
        set,
        RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse
    );
    let prefix = format!("'{} {name}' : ", set.keyword());
    let proxy = &b.config.proxies[index];
    let (kind, has_fe, has_be) = (
        proxy.kind,
        proxy.kind.has_frontend(),
        proxy.kind.has_backend(),
    );
    // HAProxy's wording for errors in a rule's strings, and where the rule runs.
    let rule_prefix = format!(
        "error detected in {} '{}' while parsing '{} {name}' rule : ",
        kind.type_str(),
        proxy.name_str(),
        set.keyword()
    );
    let places = rule_places(set, has_fe, has_be);
    if let Some(message) = capture_arguments(set, name, args, places) {
        // HTTP captures count their words before reading the expression; a TCP one reads
        // its length after it.
        let message = if http {
            format!("{rule_prefix}{message}.")
        } else {
            format!("{prefix}{message}")
        };
        b.push(
            Diagnostic::new("E115", message)
                .at(args.first().map_or(action.span, |w| w.span))
                .label("arguments HAProxy refuses"),
        );
        return;
    }
    if http {
        // The proxy's name only matters without a backend side; borrowed, not copied, for
        // every HTTP rule.
        let frontend_only = (!has_be).then(|| b.config.proxies[index].name_str());
        if let Some(message) = http_action_arguments(name, args, condition, frontend_only) {
            b.push(
                Diagnostic::new("E115", format!("{rule_prefix}{message}."))
                    .at(action.span)
                    .label("arguments HAProxy refuses"),
            );
            return;
        }
    }
    // HAProxy words an expression error inside the rule's error for HTTP rules; TCP rules give
    // it bare for `set-var`, after the rule's words for `track-sc`.
    let (wrap_http, wrap_tcp) = ((rule_prefix.as_str(), "."), ("", ""));
    if name.starts_with("track-sc") {
        if let Some(key) = args.first() {
            let wrap = if http {
                wrap_http
            } else {
                (prefix.as_str(), "")
            };
            let at = Some((places, key.value.as_str()));
            super::exprs::sample_arg_at(b, index, key, RefContext::Tracking, wrap, at);
        }
    } else if set == RuleSet::TcpRequestConnection
        && name.starts_with("sc-set-gpt")
        && gpt_value_is_expression(args)
    {
        // HAProxy 2.7 reads the expression, then knows no place for it to run in a connection
        // rule and refuses the line with an internal error (an integer value is fine).
        let word = &args[0];
        if super::exprs::sample_arg_at(b, index, word, context, wrap_tcp, None) {
            b.push(
                Diagnostic::new(
                    "E515",
                    "internal error, unexpected rule->from=0, please report this bug!",
                )
                .at(word.span)
                .label("an expression, which HAProxy 2.7 refuses in a connection rule")
                .help("write an integer value, or move the rule to 'tcp-request session' or 'tcp-request content'"),
            );
        }
    } else if let Some((places, keyword, wrap)) =
        expression_places(set, name, args, has_fe, has_be, (wrap_http, &prefix))
    {
        // A missing expression is refused as an empty one ("missing fetch method").
        let word = args
            .first()
            .cloned()
            .unwrap_or_else(|| Spanned::new(Text::default(), action.span));
        let resolve_error = name.starts_with("do-resolve(").then(|| {
            crate::expr::sample::parse(&word.value, false)
                .err()
                .map(|_| format!("Can't parse '{}'. Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are 'ipv4' and 'ipv6'", word.value))
        });
        if let Some(Some(message)) = resolve_error {
            // `do-resolve` words every expression error its own way.
            b.push(
                Diagnostic::new("E506", format!("{}{message}{}", wrap.0, wrap.1))
                    .at(word.span)
                    .label("invalid sample expression"),
            );
        } else {
            let keyword = keyword.unwrap_or(word.value.as_str());
            let at = Some((places, keyword));
            super::exprs::sample_arg_at(b, index, &word, context, wrap, at);
        }
    } else if matches!(name, "set-mark" | "set-tos") {
        // One integer, in C's notations (decimal, `0x` hexadecimal, `0` octal); a condition's
        // first word is read as the value when there is none.
        let value = args.iter().chain(condition).next();
        let problem = match value.filter(|w| !w.value.is_empty()) {
            None => "expects exactly 1 argument (integer/hex value)".to_string(),
            Some(w) => {
                let end = crate::cnum::strtol(&w.value, 0).end;
                if end == w.value.len() {
                    return;
                }
                format!(
                    "invalid character starting at '{}' (integer/hex value expected)",
                    &w.value[end..]
                )
            }
        };
        let wrap = if http { wrap_http } else { wrap_tcp };
        b.push(
            Diagnostic::new("E115", format!("{}{problem}{}", wrap.0, wrap.1))
                .at(value.map_or(action.span, |w| w.span))
                .label("not an integer"),
        );
    } else if name == "set-bandwidth-limit" {
        let wrap = if http {
            wrap_http
        } else {
            (prefix.as_str(), "")
        };
        super::bwlim::rule_args(b, index, args, context, wrap, action.span);
    } else if name.starts_with("set-var(") {
        if let Some(expr) = args.first() {
            let wrap = if http { wrap_http } else { wrap_tcp };
            super::exprs::sample_arg_at(b, index, expr, context, wrap, Some((places, name)));
        }
    } else if http
        && (name.starts_with("set-var-fmt(")
            || matches!(
                name,
                "set-header"
                    | "add-header"
                    | "set-path"
                    | "set-pathq"
                    | "set-query"
                    | "set-uri"
                    | "set-var-fmt"
            ))
    {
        let value = if matches!(name, "set-header" | "add-header") {
            args.get(1)
        } else {
            args.first()
        };
        if let Some(value) = value {
            super::exprs::log_format(b, index, value, context, &rule_prefix, places);
        }
    } else if name.starts_with("set-var-fmt(") {
        // TCP rules give the string's errors bare.
        if let Some(value) = args.first() {
            super::exprs::log_format(b, index, value, context, "", places);
        }
    } else if http && name == "redirect" {
        // Every destination but the prefix "/" is a log-format string.
        let typed = args.first().map(|w| w.value.as_str());
        if let (Some("location" | "prefix" | "scheme"), Some(dest)) = (typed, args.get(1)) {
            if !(typed == Some("prefix") && dest.value == "/") {
                super::exprs::log_format(b, index, dest, context, &rule_prefix, places);
            }
        }
    }
}

/// The expression of a `stick on|match|store-request|store-response` rule, then what follows
/// it (`table <name>`, a condition), read as HAProxy reads them: the expression must parse,
/// and its fetch must exist where the rule runs (while the server is chosen, or once the
/// response is there for `store-response`).
pub(super) fn stick_rule(b: &mut Builder, index: usize, stmt: &Stmt) {
    use crate::registry::capabilities::{at, missing_sources};
    let word = stmt.spanned(2);
    let expr = match crate::expr::sample::parse(&word.value, false) {
        Ok((expr, _)) => expr,
        Err(e) => {
            b.push(
                Diagnostic::new("E506", format!("'stick': {}", e.message))
                    .at(word.span)
                    .label("invalid sample expression"),
            );
            return;
        }
    };
    let (places, when, place) = if stmt.word(1) == "store-response" {
        let place = super::places::Place::StickStore;
        (at::BE_STO_RUL, "for 'store-response'", place)
    } else {
        let place = super::places::Place::UseServer;
        (at::BE_SET_SRV, "during request", place)
    };
    if let Some(needs) = missing_sources(&expr.fetch.name, places) {
        b.push(
            Diagnostic::new(
                "E509",
                format!(
                    "'stick': fetch method '{}' extracts information from '{needs}', none of which is available {when}.",
                    expr.fetch.name
                ),
            )
            .at(word.span)
            .label(format!("needs {needs}"))
            .help("a stick rule on the request reads what exists while the server is chosen; 'stick store-response' reads the response"),
        );
        return;
    }
    let mut next = 3;
    if stmt.word(next) == "table" {
        next += 2;
    }
    let after = stmt.word(next);
    if after == "if" || after == "unless" {
        let cond = stmt.spanned_from(next);
        let parsed = super::exprs::condition(b, index, &cond, &super::exprs::CondSite::Stick);
        super::places::check(b, index, &cond, parsed.as_ref(), place);
    } else if !after.is_empty() {
        b.push(
            Diagnostic::new("E237", format!("'stick': unknown keyword '{after}'."))
                .at(stmt.span(next))
                .label("expected 'table <name>' or a condition"),
        );
    }
}

/// A `tcp-check` or `http-check` variable action (`set-var`, `set-var-fmt`, `unset-var`): its
/// name, then its expression or string, evaluated while the check runs. Any scope is taken;
/// HAProxy words each error after the rule's and the action's names.
fn check_variables(
    b: &mut Builder,
    index: usize,
    set: RuleSet,
    action: &Spanned<Text>,
    args: &[Spanned<Text>],
) {
    let name = action.value.as_str();
    let Some(kind) = ["set-var-fmt", "set-var", "unset-var"]
        .into_iter()
        .find(|k| name.starts_with(k))
    else {
        return;
    };
    let prefix = format!("'{} {name}' : '{kind}' : ", set.keyword());
    let wrap = (prefix.as_str(), ".");
    if let Some(message) = crate::expr::vars::action_error(name) {
        b.push(
            Diagnostic::new("E512", format!("{prefix}{message}."))
                .at(action.span)
                .label("not a variable name HAProxy takes"),
        );
        return;
    }
    let places = rule_places(set, false, true);
    let value = args
        .first()
        .cloned()
        .unwrap_or_else(|| Spanned::new(Text::default(), action.span));
    let context = RefContext::HttpRequest;
    match kind {
        "set-var" => {
            let at = Some((places, name));
            super::exprs::sample_arg_at(b, index, &value, context, wrap, at);
        }
        "set-var-fmt" => super::exprs::log_format(b, index, &value, context, &prefix, places),
        _ => {}
    }
}

/// The check points where a rule of `set` evaluates its expressions (HAProxy's `SMP_VAL_*`
/// masks for the rule's hook), in a proxy with a frontend side and/or a backend side.
pub(super) fn rule_places(set: RuleSet, has_fe: bool, has_be: bool) -> u32 {
    use crate::registry::capabilities::at::*;
    let (fe, be) = match set {
        RuleSet::HttpRequest => (FE_HRQ_HDR, BE_HRQ_HDR),
        RuleSet::HttpResponse | RuleSet::HttpAfterResponse => (FE_HRS_HDR, BE_HRS_HDR),
        // Connection and session rules exist only on the frontend side.
        RuleSet::TcpRequestConnection => return FE_CON_ACC,
        RuleSet::TcpRequestSession => return FE_SES_ACC,
        RuleSet::TcpRequestContent => (FE_REQ_CNT, BE_REQ_CNT),
        RuleSet::TcpResponseContent => (FE_RES_CNT, BE_RES_CNT),
        RuleSet::HttpCheck | RuleSet::TcpCheck => return BE_CHK_RUL,
    };
    (if has_fe { fe } else { 0 }) | (if has_be { be } else { 0 })
}

/// Whether the value of `sc-set-gpt`/`sc-set-gpt0` is an expression: HAProxy takes it as an
/// integer when `strtol` reads it whole (a missing value reads as 0).
fn gpt_value_is_expression(args: &[Spanned<Text>]) -> bool {
    args.first()
        .is_some_and(|w| crate::cnum::strtol(&w.value, 10).end != w.value.len())
}

/// For the actions taking a sample expression as their first argument (other than
/// `set-var` and `track-sc`): the check points HAProxy tests its fetch against, which are
/// not always the rule's own, the keyword its message names (`None`: the expression's word)
/// and how the message is wrapped.
fn expression_places<'a>(
    set: RuleSet,
    name: &str,
    args: &[Spanned<Text>],
    has_fe: bool,
    has_be: bool,
    (wrap_http, tcp_prefix): ((&'a str, &'a str), &'a str),
) -> Option<(u32, Option<&'static str>, (&'a str, &'a str))> {
    use crate::registry::capabilities::at::*;
    let http = matches!(
        set,
        RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse
    );
    let wrap = if http { wrap_http } else { ("", "") };
    // Several actions test the HTTP request's headers point whatever their rule set.
    let request_headers = rule_places(RuleSet::HttpRequest, has_fe, has_be);
    Some(match name {
        "set-src" | "set-dst" | "set-src-port" | "set-dst-port" => (request_headers, None, wrap),
        _ if name.starts_with("do-resolve(") => (request_headers, None, wrap),
        // The message names the line's first word: the action for HTTP rules.
        "set-priority-class" | "set-priority-offset" => {
            let keyword = if http {
                if name == "set-priority-class" {
                    "set-priority-class"
                } else {
                    "set-priority-offset"
                }
            } else {
                set.keyword().split(' ').next().unwrap_or_default()
            };
            (request_headers, Some(keyword), wrap)
        }
        "capture" => match set {
            RuleSet::HttpRequest => (FE_HRQ_HDR, None, wrap),
            RuleSet::HttpResponse => (FE_HRS_HDR, None, wrap),
            RuleSet::TcpRequestContent => {
                (rule_places(set, has_fe, has_be), None, (tcp_prefix, ""))
            }
            _ => return None,
        },
        // An integer value is not an expression.
        _ if name.starts_with("sc-set-gpt") && gpt_value_is_expression(args) => {
            let places = match set {
                RuleSet::TcpRequestSession => FE_SES_ACC,
                RuleSet::TcpRequestContent => FE_REQ_CNT,
                RuleSet::TcpResponseContent => BE_RES_CNT,
                RuleSet::HttpRequest => FE_HRQ_HDR,
                RuleSet::HttpResponse | RuleSet::HttpAfterResponse => BE_HRS_HDR,
                _ => return None,
            };
            (places, None, wrap)
        }
        _ => return None,
    })
}
