//! A proxy's `email-alert` lines as HAProxy checks them with the proxy: they all go unless
//! `from`, `mailers` and `to` are each set, and `mailers` must name a mailers section. Once the
//! proxies are checked, a mailers section no proxy kept its alerts for is dropped with a
//! warning.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;

/// The last value of `email-alert <what>` the proxy has (its defaults' included).
fn setting<'a>(p: &'a Proxy, what: &str) -> Option<&'a DirectiveLine> {
    p.directives
        .iter()
        .rev()
        .filter(|d| d.keyword == "email-alert")
        .find(|d| d.args.first().is_some_and(|a| a == what) && d.args.len() > 1)
}

/// The mailers section a proxy's alerts use, once they are complete; `None` when it has no
/// alerts or HAProxy drops them.
fn mailers_used(p: &Proxy) -> Option<&DirectiveLine> {
    let mailers = setting(p, "mailers")?;
    (setting(p, "from").is_some() && setting(p, "to").is_some()).then_some(mailers)
}

/// Alerts missing one of their three settings: HAProxy warns and forgets them all.
pub(super) fn incomplete(p: &Proxy, out: &mut Vec<Diagnostic>) {
    let Some(first) = p.directives.iter().find(|d| d.keyword == "email-alert") else {
        return;
    };
    if mailers_used(p).is_some() {
        return;
    }
    out.push(
        Diagnostic::new(
            "W273",
            format!(
                "'email-alert' will be ignored for {} '{}' (the presence any of 'email-alert from', 'email-alert level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of 'email-alert from', 'email-alert mailers' and 'email-alert to' to be present).",
                p.kind.type_str(),
                p.name_str()
            ),
        )
        .form(HaproxyForm::Bare)
        .severity(Severity::Warning)
        .at(first.span)
        .label("these alerts are never sent")
        .help("set 'email-alert from', 'email-alert to' and 'email-alert mailers' together"),
    );
}

/// Complete alerts naming a mailers section that does not exist.
pub(super) fn unknown_mailers(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    let Some(line) = mailers_used(p) else { return };
    let name = line.args[1].as_str();
    if config.section(SectionKind::Mailers, name).is_none() {
        out.push(
            Diagnostic::new(
                "E274",
                format!("Proxy '{}': unable to find mailers '{name}'.", p.name_str()),
            )
            .form(HaproxyForm::Bare)
            .at(line.span)
            .label("no mailers section with this name"),
        );
    }
}

/// Mailers sections whose alerts no enabled proxy keeps, in their order.
pub(super) fn unused_sections(config: &Config, out: &mut Vec<Diagnostic>) {
    let used: Vec<&str> = config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults && !p.disabled)
        .filter_map(mailers_used)
        .map(|d| d.args[1].as_str())
        .collect();
    for s in config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Mailers)
    {
        let name = s.name.as_ref().map_or("", |n| n.value.as_str());
        if used.contains(&name) {
            continue;
        }
        out.push(
            Diagnostic::new("W287", format!("Removing incomplete section 'mailers {name}'."))
                .form(HaproxyForm::Bare)
                .severity(Severity::Warning)
                .at(s.header)
                .label("no proxy sends its alerts through these mailers")
                .help("name it in a proxy's 'email-alert mailers', with 'email-alert from' and 'email-alert to', or remove it"),
        );
    }
}
