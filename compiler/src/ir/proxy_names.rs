//! The name on a proxy section's header line, as HAProxy checks it when the section opens:
//! allowed characters, and no two frontends (or two backends) sharing it.

use super::build::{invalid_char, Builder};
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};

/// A proxy's name: the characters HAProxy allows, and no other proxy of the same side with it
/// (a defaults section's name is free).
pub(super) fn check(b: &mut Builder, kind: ProxyKind, keyword: &str, n: &Spanned<Text>) {
    if kind == ProxyKind::Defaults {
        return;
    }
    if let Some(c) = invalid_char(&n.value) {
        b.push(
            Diagnostic::new(
                "E203",
                format!(
                    "character '{c}' is not permitted in '{keyword}' name '{}'.",
                    n.value
                ),
            )
            .at(n.span)
            .label("invalid character"),
        );
    }
    duplicate_name_check(b, kind, n);
}

/// HAProxy refuses two frontends (or two backends) with the same name: a proxy that has a
/// frontend (a frontend or a listen section) is compared with the frontends and listen
/// sections before it, a backend with the backends and listen sections before it (so a listen
/// section after a backend of its name is taken). A log-forward section's name is taken by
/// any proxy.
fn duplicate_name_check(b: &mut Builder, kind: ProxyKind, name: &Spanned<Text>) {
    let names = match kind.has_frontend() {
        true => &b.frontend_names,
        false => &b.backend_names,
    };
    if let Some(other) = names
        .get(name.value.as_str())
        .map(|&i| &b.config.proxies[i])
    {
        let msg = format!(
            "{} '{}' has the same name as {} '{}' declared at {}.",
            kind.type_str(),
            name.value,
            other.kind.type_str(),
            other.name_str(),
            b.location(other.header)
        );
        let at = other.header;
        b.push(
            Diagnostic::new("E206", msg)
                .at(name.span)
                .label("duplicate name")
                .with_secondary(at, "first declared here")
                // HAProxy words this one with a capital 'P'.
                .form(HaproxyForm::PostParse),
        );
    }
    let log_forward = super::section_names::created(b, crate::registry::SectionKind::LogForward)
        .find(|s| s.name.as_ref().is_some_and(|n| n.value == name.value));
    if let Some(header) = log_forward.map(|s| s.header) {
        let msg = format!(
            "{} '{}' has the same name as log forward section '{}' declared at {}.",
            kind.type_str(),
            name.value,
            name.value,
            b.location(header)
        );
        b.push(
            Diagnostic::new("E525", msg)
                .at(name.span)
                .label("name already taken")
                .with_secondary(header, "log-forward section declared here")
                .form(HaproxyForm::PostParse),
        );
    }
}
