//! FastCGI as HAProxy checks it once every section is read: each backend's `proto fcgi`
//! servers against its own `use-fcgi-app`, then the `fcgi-app` sections.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;

fn bare(code: &'static str, message: String) -> Diagnostic {
    Diagnostic::new(code, message).form(HaproxyForm::Bare)
}

/// FastCGI as HAProxy checks it once everything is parsed, stopping at the first error: each
/// backend's `proto fcgi` servers against its own `use-fcgi-app` (disabled backends too), then
/// the `fcgi-app` sections.
pub(super) fn check(config: &Config, out: &mut Vec<Diagnostic>) {
    if !fcgi_backends(config, out) {
        fcgi_apps(config, out);
    }
}

/// A backend whose `proto fcgi` servers have no `use-fcgi-app` of the backend's own (one in a
/// defaults section reaches no backend), or whose application has no such server or is used in
/// TCP mode. Reports the first and tells whether there was one.
fn fcgi_backends(config: &Config, out: &mut Vec<Diagnostic>) -> bool {
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        let app = p.own_directives().find(|d| d.keyword == "use-fcgi-app");
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
                (Some(d), None) => Some((
                    format!("proxy '{name}': FCGI app configured but no FCGI server found."),
                    d.span,
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
