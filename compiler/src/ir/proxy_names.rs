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

/// HAProxy refuses two frontends (or two backends) with the same name; listen counts as both.
fn duplicate_name_check(b: &mut Builder, kind: ProxyKind, name: &Spanned<Text>) {
    let fe = kind
        .has_frontend()
        .then(|| b.frontend_names.get(name.value.as_str()).copied())
        .flatten();
    let be = kind
        .has_backend()
        .then(|| b.backend_names.get(name.value.as_str()).copied())
        .flatten();
    if let Some(other) = fe.or(be).map(|i| &b.config.proxies[i]) {
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
}
