//! FastCGI as HAProxy checks it once every section is read: each proxy's `proto fcgi`
//! servers against its own FastCGI filter (`use-fcgi-app`, `filter fcgi-app`), then the
//! `fcgi-app` sections.

use super::build::{Builder, Stmt};
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;

fn bare(code: &'static str, message: String) -> Diagnostic {
    Diagnostic::new(code, message).form(HaproxyForm::Bare)
}

/// Whether a `use-fcgi-app` or `filter fcgi-app` line declares a FastCGI filter: HAProxy
/// refuses, as it reads them, one without a name, a `filter` line with more words or in a
/// defaults section, and `use-fcgi-app` in a frontend (see [`filter_line`], [`use_line`]).
/// `use-fcgi-app` beside another application's filter is refused by `filter_chain::links`.
pub(super) fn line_declares(kind: ProxyKind, d: &DirectiveLine) -> bool {
    let word = |i: usize| d.args.get(i).map_or("", Text::as_str);
    match d.keyword.as_str() {
        "use-fcgi-app" => kind.has_backend() && !word(0).is_empty(),
        _ => kind != ProxyKind::Defaults && !word(1).is_empty() && word(2).is_empty(),
    }
}

/// A `filter fcgi-app <name>` line as HAProxy reads it: a name and nothing after it.
pub(super) fn filter_line(b: &mut Builder, stmt: &Stmt) {
    let (message, at) = if stmt.word(2).is_empty() {
        (
            "'filter' : 'fcgi-app : expects a <name> argument'".to_string(),
            1,
        )
    } else if !stmt.word(3).is_empty() {
        let extra = stmt.word(3);
        (format!("'filter fcgi-app' : unknown keyword '{extra}'."), 3)
    } else {
        return;
    };
    b.push(
        Diagnostic::new("E250", message)
            .at(stmt.span(at))
            .form(HaproxyForm::Parsing)
            .label("'filter fcgi-app' takes the name of one fcgi-app section"),
    );
}

/// A `use-fcgi-app <name>` line as HAProxy reads it: in a proxy with a backend side (defaults
/// sections included), and naming the application of the proxy's FastCGI filter when it has one
/// already (`filter fcgi-app` or an earlier `use-fcgi-app`).
pub(super) fn use_line(b: &mut Builder, index: usize, stmt: &Stmt) {
    let proxy = &b.config.proxies[index];
    let (message, at, label) = if !proxy.kind.has_backend() {
        (
            "'use-fcgi-app' only available in backend or listen section",
            0,
            "a frontend has no FastCGI server",
        )
    } else if stmt.word(1).is_empty() {
        (
            "'use-fcgi-app' expects <name> as argument",
            1,
            "the name of an fcgi-app section",
        )
    } else {
        // This line already counts among the proxy's: it only declares the filter when no
        // application had one.
        match super::filter_chain::fcgi_app(proxy) {
            Some((app, line)) if app != stmt.word(1) && line != stmt.span_from(0) => (
                "'use-fcgi-app' : only one fcgi-app supported per backend",
                0,
                "another application's filter is declared above",
            ),
            _ => return,
        }
    };
    b.push(
        Diagnostic::new("E250", message)
            .at(stmt.span(at))
            .form(HaproxyForm::Parsing)
            .label(label),
    );
}

/// FastCGI as HAProxy checks it once everything is parsed, stopping at the first error: each
/// proxy's `proto fcgi` servers against its own FastCGI filter (disabled proxies too), then
/// the `fcgi-app` sections.
pub(super) fn check(config: &Config, out: &mut Vec<Diagnostic>) {
    if !fcgi_backends(config, out) {
        fcgi_apps(config, out);
    }
}

/// A proxy whose `proto fcgi` servers have no FastCGI filter of the proxy's own (a defaults
/// section's `use-fcgi-app` reaches no backend), or whose filter has no such server (a
/// frontend has none) or is used in TCP mode. The filter counts even when its application
/// does not exist (E250 said so). Reports the first and tells whether there was one.
fn fcgi_backends(config: &Config, out: &mut Vec<Diagnostic>) -> bool {
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        let app = super::filter_chain::fcgi_app(p);
        let name = p.name_str();
        let found = if app.is_some() && p.effective_mode() == Mode::Tcp {
            Some((
                format!("proxy '{name}': FCGI application cannot be used in non-HTTP mode."),
                p.header,
            ))
        } else {
            let defaults: Vec<&str> = p.default_server_words().collect();
            // Only a line naming `fcgi` can make a FastCGI server: the others are not lowered.
            let defaults_fcgi = defaults.contains(&"fcgi");
            // In an enabled TCP proxy, HAProxy refused the multiplexer (E261) and put its TCP
            // one in its place: the server no longer speaks FastCGI.
            let fcgi_mux = p.disabled || p.effective_mode() == Mode::Http;
            let fcgi_servers = p.servers.iter().filter(|s| {
                if !fcgi_mux || (!defaults_fcgi && !s.words.any(ServerWords::FCGI)) {
                    return false;
                }
                let words: Vec<&str> = defaults
                    .iter()
                    .copied()
                    .chain(s.options.iter().map(|o| o.value.as_str()))
                    .collect();
                crate::plan::mux::ServerMux::of(&words).fcgi
            });
            match (app, fcgi_servers.clone().next()) {
                (None, Some(s)) => {
                    let id = match s.template {
                        Some((first, _)) => format!("{}{first}", s.name.value),
                        None => s.name.value.to_string(),
                    };
                    Some((
                        format!("proxy '{name}': FCGI server '{id}' has no FCGI app configured."),
                        s.span,
                    ))
                }
                (Some((_, line)), None) => Some((
                    format!("proxy '{name}': FCGI app configured but no FCGI server found."),
                    line,
                )),
                _ => None,
            }
        };
        if let Some((message, span)) = found {
            out.push(bare("E238", message).at(span));
            return true;
        }
    }
    false
}

/// `fcgi-app` sections as HAProxy checks them once parsed: a docroot is required, and
/// `max-reqs` above 1 means nothing without multiplexing (`mpxs-conns`) or the application's
/// own limits (`get-values`).
fn fcgi_apps(config: &Config, out: &mut Vec<Diagnostic>) {
    for section in config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::FcgiApp)
    {
        let name = section.name.as_ref().map_or("", |n| n.value.as_str());
        let (mut docroot, mut mpxs, mut get_values) = (false, false, false);
        let mut max_reqs = None;
        for d in &section.lines {
            let arg = |i: usize| d.args.get(i).map(|a| a.to_string()).unwrap_or_default();
            let on = d.prefix.is_none();
            match (d.keyword.as_str(), arg(0).as_str()) {
                ("docroot", v) => docroot = !v.is_empty(),
                ("option", "mpxs-conns") => mpxs = on,
                ("option", "get-values") => get_values = on,
                ("option", "max-reqs") => max_reqs = Some((super::keywords::atol(&arg(1)), d.span)),
                _ => {}
            }
        }
        if !docroot {
            out.push(
                bare("E236", format!("fcgi-app '{name}': no docroot configured."))
                    .at(section.header)
                    .help("add 'docroot <path>' to the section"),
            );
            // HAProxy stops at the first application without one.
            return;
        }
        if let Some((_, span)) = max_reqs.filter(|(n, _)| *n > 1 && !mpxs && !get_values) {
            out.push(
                bare(
                    "W237",
                    format!("fcgi-app '{name}': multiplexing not supported, ignore the option 'max-reqs'."),
                )
                .at(span)
                .severity(Severity::Warning),
            );
        }
    }
}
