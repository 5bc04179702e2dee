//! The lines that set a proxy's log format (`log-format`, `option httplog`, `option httpslog`,
//! `option tcplog`): HAProxy warns when a defaults section replaces the format it already had,
//! and when a backend sets one, which only frontends use.

use super::build::{Builder, Stmt};
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

/// How HAProxy names the format a line sets (`option httplog clf` is a format of its own).
fn format_name(d: &DirectiveLine) -> Option<&'static str> {
    if d.prefix.is_some() {
        return None;
    }
    let arg = |i: usize| d.args.get(i).map_or("", |a| a.as_str());
    match (d.keyword.as_str(), arg(0)) {
        ("log-format", _) => Some("log-format"),
        ("option", "httplog") if arg(1) == "clf" => Some("option httplog clf"),
        ("option", "httplog") => Some("option httplog"),
        ("option", "httpslog") => Some("option httpslog"),
        ("option", "tcplog") => Some("option tcplog"),
        _ => None,
    }
}

/// In a defaults section, the warning for a line that replaces an earlier format (its own or
/// the one of the defaults section it comes from). `this` is how HAProxy names the new line:
/// it says 'option httplog' for `option httpslog` too.
pub(super) fn check_override(b: &mut Builder, index: usize, stmt: &Stmt, this: &str) {
    let p = &b.config.proxies[index];
    if p.kind != ProxyKind::Defaults {
        return;
    }
    let line = stmt.whole();
    let earlier = p
        .directives
        .iter()
        .rev()
        .filter(|d| d.span != line)
        .find_map(|d| format_name(d).map(|name| (name, d.span)));
    if let Some((previous, at)) = earlier {
        b.push(
            Diagnostic::new(
                "W209",
                format!("'{this}' overrides previous '{previous}' in 'defaults' section."),
            )
            .at(line)
            .label("replaces the earlier log format")
            .with_secondary(at, "the format replaced")
            .form(HaproxyForm::ParsingTight),
        );
    }
}

/// `option httplog|httpslog|tcplog` (no prefix): the override warning of a defaults section,
/// then the one of a backend, which keeps the format but never logs with it.
pub(super) fn log_option(b: &mut Builder, index: usize, stmt: &Stmt, at: usize) {
    let option = stmt.word(at + 1);
    // A word other than `clf` after `option httplog` is an error: HAProxy stops there.
    if option == "httplog" && !stmt.word(at + 2).is_empty() && stmt.word(at + 2) != "clf" {
        return;
    }
    let this = match option {
        "httplog" if stmt.word(at + 2) == "clf" => "option httplog clf",
        "tcplog" => "option tcplog",
        _ => "option httplog",
    };
    check_override(b, index, stmt, this);
    let p = &b.config.proxies[index];
    if p.kind == ProxyKind::Backend {
        let d = ignored_in_backend(p.name_str(), &format!("option {option}"), stmt.whole());
        b.push(d);
    }
}

/// HAProxy's warning for a log format line (`log-format`, `option httplog`…) in a backend.
pub(super) fn ignored_in_backend(backend: &str, what: &str, span: crate::Span) -> Diagnostic {
    Diagnostic::new(
        "W255",
        format!("backend '{backend}' : '{what}' directive is ignored in backends."),
    )
    .at(span)
    .severity(Severity::Warning)
    .label("ignored here")
    .help("log formats belong to the frontend (or listen) section that receives the traffic")
}
