//! Settings HAProxy drops once a proxy is fully read: a log format with nowhere to send its
//! lines, and the HTTP-only settings of a proxy that is not in HTTP mode. Both depend on what
//! the defaults section passed on and on the proxy's final mode, so they are post-parse checks,
//! reported in HAProxy's order after the proxy's missing timeouts.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::RuleSet;

/// HTTP-only options HAProxy warns about outside HTTP mode, in the order it checks them, with
/// whether they apply to a frontend and to a backend (an option on the wrong side is already
/// ignored when its line is read).
const HTTP_OPTIONS: &[(&str, bool, bool)] = &[
    ("forwardfor", true, true),
    ("originalto", true, true),
    ("checkcache", false, true),
    ("http-buffer-request", true, true),
    ("http-ignore-probes", true, false),
    ("idle-close-on-response", true, false),
    ("prefer-last-server", false, true),
    ("accept-invalid-http-request", true, false),
    ("accept-invalid-http-response", false, true),
    ("http-use-proxy-header", true, false),
    ("http-pretend-keepalive", false, true),
    ("http-no-delay", true, true),
    ("disable-h2-upgrade", true, false),
];

pub(super) fn check(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled || p.kind == ProxyKind::Defaults {
        return;
    }
    let warn = |code: &'static str, msg: String| {
        Diagnostic::new(code, msg)
            .form(HaproxyForm::Bare)
            .severity(Severity::Warning)
            .at(p.header)
    };
    let (kind, name) = (p.kind.type_str(), p.name_str());
    let mode = p.effective_mode();
    if p.kind.has_frontend()
        && matches!(mode, Mode::Tcp | Mode::Http)
        && has_log_format(p)
        && !has_log_target(config, p)
    {
        out.push(
            warn(
                "W258",
                format!("log format ignored for {kind} '{name}' since it has no log address."),
            )
            .label("no 'log' line gives this proxy a log address")
            .help("add 'log global' (with a 'log' line in the global section) or a 'log <address> <facility>' line"),
        );
    }
    if mode == Mode::Http || upgrades_to_http(p) {
        return;
    }
    let own = |keyword: &'static str| {
        p.directives
            .iter()
            .filter(move |d| d.prefix.is_none() && d.keyword == keyword)
    };
    let ignored = |what: String, verb: &str| {
        warn(
            "W259",
            format!("{what} ignored for {kind} '{name}' as {verb} HTTP mode."),
        )
        .label("this proxy is not in 'mode http'")
    };
    if own("stats").any(|d| !d.args.is_empty()) {
        out.push(ignored("'stats' statement".into(), "it requires"));
    }
    if own("capture").any(|d| d.args.first().is_some_and(|a| a == "cookie")) {
        out.push(ignored("'capture' statement".into(), "it requires"));
    }
    for set in [
        RuleSet::HttpRequest,
        RuleSet::HttpResponse,
        RuleSet::HttpAfterResponse,
    ] {
        if p.has_rules(&[set]) {
            out.push(ignored(
                format!("'{}' rules", set.keyword()),
                "they require",
            ));
        }
    }
    if !p.redirects.is_empty() {
        out.push(ignored("'redirect' rules".into(), "they require"));
    }
    for &(option, _, _) in HTTP_OPTIONS {
        if warned_http_option(p.kind, option) && p.option(option) == Some(true) {
            out.push(ignored(format!("'option {option}'"), "it requires"));
        }
    }
}

/// What HAProxy drops first from a proxy that is not in HTTP mode, before its HTTP log fields
/// ([`super::http_aliases::tcp_fallback`]): its cookie, its monitor URI, and a balance
/// algorithm that hashes an HTTP field (round robin then). A `switch-mode http` rule does not
/// keep them.
pub(super) fn http_settings(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled || p.kind == ProxyKind::Defaults || p.effective_mode() == Mode::Http {
        return;
    }
    let (kind, name) = (p.kind.type_str(), p.name_str());
    let warn = |message: String, at: crate::Span| {
        Diagnostic::new("W259", message)
            .form(HaproxyForm::Bare)
            .severity(Severity::Warning)
            .at(at)
            .label("this proxy is not in 'mode http'")
    };
    if let Some(d) = p.last_line("cookie").filter(|_| p.kind.has_backend()) {
        out.push(warn(
            format!("cookie will be ignored for {kind} '{name}' (needs 'mode http')."),
            d.span,
        ));
    }
    if let Some(d) = p.last_line("monitor-uri").filter(|_| p.kind.has_frontend()) {
        out.push(warn(
            format!("monitor-uri will be ignored for {kind} '{name}' (needs 'mode http')."),
            d.span,
        ));
    }
    let hashes_http = |d: &&DirectiveLine| {
        d.args
            .first()
            .is_some_and(|a| matches!(a.as_str(), "uri" | "url_param") || a.starts_with("hdr("))
    };
    if let Some(d) = p
        .last_line("balance")
        .filter(hashes_http)
        .filter(|_| p.kind.has_backend())
    {
        out.push(warn(
            format!("Layer 7 hash not possible for {kind} '{name}' (needs 'mode http'). Falling back to round robin."),
            d.span,
        ).help("balance with 'source', 'roundrobin' or 'leastconn' in a TCP backend, or set 'mode http'"));
    }
}

/// What HAProxy checks of each server of a proxy that is not in HTTP mode: a redirect prefix
/// (`redir`) is refused, a `cookie` value ignored.
pub(super) fn tcp_servers(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled || p.effective_mode() == Mode::Http || !p.kind.has_backend() {
        return;
    }
    let (kind, name) = (p.kind.type_str(), p.name_str());
    for s in &p.servers {
        let words = p.server_words(s);
        let own = |option: &str| {
            s.options
                .iter()
                .find(|o| o.value == option)
                .map_or(s.name.span, |o| o.span)
        };
        let value = |option: &str| {
            crate::registry::last_server_value(&words, option).filter(|v| !v.is_empty())
        };
        if value("redir").is_some() {
            out.push(
                Diagnostic::new(
                    "E533",
                    format!("{kind} '{name}' : server cannot have cookie or redirect prefix in non-HTTP mode."),
                )
                .form(HaproxyForm::Bare)
                .at(own("redir"))
                .label("a redirect needs an HTTP request to answer")
                .help("remove 'redir', or set 'mode http'"),
            );
        }
        if value("cookie").is_some() {
            out.push(
                Diagnostic::new(
                    "W259",
                    format!("{kind} '{name}' : ignoring cookie for server '{}' as HTTP mode is disabled.", s.name.value),
                )
                .form(HaproxyForm::Bare)
                .severity(Severity::Warning)
                .at(own("cookie"))
                .label("this proxy is not in 'mode http'"),
            );
        }
    }
}

/// Whether HAProxy warns that `option` is ignored in a proxy of `kind` that is not in HTTP
/// mode (W259): an HTTP-only option on a side it applies to.
pub(crate) fn warned_http_option(kind: ProxyKind, option: &str) -> bool {
    HTTP_OPTIONS.iter().any(|&(o, fe, be)| {
        o == option && ((fe && kind.has_frontend()) || (be && kind.has_backend()))
    })
}

/// Whether a log format is set: `log-format`, `log-format-sd` or a log option, here or in
/// the defaults section (an empty `log-format` string compiles to nothing).
fn has_log_format(p: &Proxy) -> bool {
    let mut format = false;
    let mut structured = false;
    for d in p.directives.iter().filter(|d| d.prefix.is_none()) {
        let first = d.args.first().map(|a| a.as_str());
        match (d.keyword.as_str(), first) {
            ("log-format", text) => format = text.is_some_and(|t| !t.is_empty()),
            ("log-format-sd", text) => structured = text.is_some_and(|t| !t.is_empty()),
            ("option", Some("httplog" | "httpslog" | "tcplog")) => format = true,
            _ => {}
        }
    }
    format || structured
}

/// Whether the proxy has somewhere to log: a `log` line with an address, or `log global` when
/// the global section has one; `no log` forgets the lines before it (the defaults' included).
fn has_log_target(config: &Config, p: &Proxy) -> bool {
    let mut logs = false;
    for d in p.directives.iter().filter(|d| d.keyword == "log") {
        match (
            d.prefix.as_ref().map(|x| x.as_str()),
            d.args.first().map(|a| a.as_str()),
        ) {
            (Some("no"), _) => logs = false,
            (Some(_), _) | (None, None) => {}
            (None, Some("global")) => logs |= config.global.has_log,
            (None, Some(_)) => logs = true,
        }
    }
    logs
}

/// `tcp-request content switch-mode http`: the proxy handles HTTP after all, so its HTTP
/// settings are kept.
fn upgrades_to_http(p: &Proxy) -> bool {
    p.rules.iter().any(|r| {
        r.set == RuleSet::TcpRequestContent
            && r.action.value == "switch-mode"
            && r.args.first().is_some_and(|a| a.value == "http")
    })
}
