//! What HAProxy requires of a proxy whose health check is `option external-check`, checked once
//! every section is read: the global `external-check` that allows running programs, and an
//! `external-check command`; without `insecure-fork-wanted` it only warns. The command and
//! path settings are ignored, with a warning, by a proxy whose check is another one.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

/// The `option` names that choose a proxy's health check: the last one written (those of the
/// defaults section first) is the check.
pub(super) const CHECK_OPTIONS: [&str; 10] = [
    "external-check",
    "httpchk",
    "tcp-check",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
];

/// The global setting `keyword` as its last line leaves it (`no <keyword>` turns it off).
fn global_flag(config: &Config, keyword: &str) -> bool {
    config
        .global
        .directives
        .iter()
        .rev()
        .find(|d| d.keyword == keyword)
        .is_some_and(|d| d.prefix.is_none())
}

/// The check option the proxy runs (the last one set, its defaults section's first), with the
/// place it is set; `None` for a plain connection check.
pub(super) fn chosen_check(p: &Proxy) -> Option<&(Text, Spanned<bool>)> {
    p.options
        .iter()
        .rev()
        .find(|(name, on)| on.value && CHECK_OPTIONS.contains(&name.as_str()))
}

pub(super) fn check(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled {
        return;
    }
    let chosen = chosen_check(p);
    let external = chosen.filter(|(name, _)| name == "external-check");
    if let Some((_, on)) = external {
        requirements(config, p, on, out);
    }
    settings_without_option(p, external.is_some(), out);
}

/// What `option external-check` (at `on`) needs: the global permission and a command.
fn requirements(config: &Config, p: &Proxy, on: &Spanned<bool>, out: &mut Vec<Diagnostic>) {
    let bare = |code: &'static str, message: String| {
        Diagnostic::new(code, message)
            .form(HaproxyForm::Bare)
            .at(on.span)
    };
    let what = "'option external-check'";
    if !global_flag(config, "external-check") {
        out.push(
            bare(
                "E280",
                format!(
                    "Proxy '{}' : {what} unable to find required 'global.external-check'.",
                    p.name_str()
                ),
            )
            .label("the global section does not allow external checks")
            .help("add 'external-check' (and 'insecure-fork-wanted') to the global section"),
        );
    }
    let has_command = p
        .directives
        .iter()
        .any(|d| d.keyword == "external-check" && d.args.first().is_some_and(|a| a == "command"));
    if !has_command {
        out.push(
            bare(
                "E280",
                format!(
                    "Proxy '{}' : {what} unable to find required 'external-check command'.",
                    p.name_str()
                ),
            )
            .label("no program to run as the check")
            .help("add 'external-check command <path>' to this proxy or its defaults section"),
        );
    }
    if !global_flag(config, "insecure-fork-wanted") {
        out.push(
            bare(
                "W281",
                format!(
                    "Proxy '{}' : 'insecure-fork-wanted' not enabled in the global section, {what} will likely fail.",
                    p.name_str()
                ),
            )
            .severity(Severity::Warning)
            .help("add 'insecure-fork-wanted' to the global section"),
        );
    }
}

/// `external-check command` and `external-check path` (the proxy's own or its defaults'): a
/// command needs a leading '/' or a path, and both are dropped, with a warning, when the
/// proxy's check is not the external one.
fn settings_without_option(p: &Proxy, external: bool, out: &mut Vec<Diagnostic>) {
    let last = |what: &str| {
        p.directives
            .iter()
            .rev()
            .find(|d| d.keyword == "external-check" && d.args.first().is_some_and(|a| a == what))
    };
    let (command, path) = (last("command"), last("path"));
    let ignored = |what: &str, d: &DirectiveLine| {
        Diagnostic::new(
            "W285",
            format!(
                "'{what}' will be ignored for {} '{}' (requires 'option external-check').",
                p.kind.type_str(),
                p.name_str()
            ),
        )
        .form(HaproxyForm::Bare)
        .at(d.span)
        .label("this proxy's health check is not the external one")
        .help("add 'option external-check', or remove the line")
    };
    if let Some(d) = command {
        if !external {
            out.push(ignored("external-check command", d));
        }
        let program = d.args.get(1).map_or("", |a| a.as_str());
        if !program.starts_with('/') && path.is_none() {
            out.push(
                Diagnostic::new(
                    "E280",
                    format!(
                        "Proxy '{}': 'external-check command' does not have a leading '/' and 'external-check path' is not set.",
                        p.name_str()
                    ),
                )
                .form(HaproxyForm::Bare)
                .at(d.span)
                .label("a relative program name with no path to look it up in")
                .help("give the program's absolute path, or set 'external-check path'"),
            );
        }
    }
    if let (Some(d), false) = (path, external) {
        out.push(ignored("external-check path", d));
    }
}
