//! `http-check` and `tcp-check` lines that HAProxy keeps but never runs, warned about once every section is
//! read: rules written while the proxy's check is not `option httpchk` and not taken up by a
//! check option after them, and `disable-on-404`/`send-state` under a check other than HTTP.

use super::extcheck::CHECK_OPTIONS;
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::source::Span;

/// What a proxy's health check is while its lines are read, as far as `http-check` rules care.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    None,
    Http,
    Tcp,
    /// Another protocol check (`mysql-check`, `ssl-hello-chk`…), run by tcp-check rules too.
    OtherTcp,
    External,
}

impl Check {
    fn of(option: &str) -> Check {
        match option {
            "httpchk" => Check::Http,
            "tcp-check" => Check::Tcp,
            "external-check" => Check::External,
            _ => Check::OtherTcp,
        }
    }
}

fn before(a: Span, b: Span) -> bool {
    (a.file.0, a.start) < (b.file.0, b.start)
}

pub(super) fn check(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled {
        return;
    }
    let (unused, current) = waiting_rules(p, RuleSet::HttpCheck, Check::Http);
    let warn = |message: String| {
        Diagnostic::new("W283", message)
            .severity(Severity::Warning)
            .form(HaproxyForm::Bare)
    };
    let (kind, name) = (p.kind.type_str(), p.name_str());
    if unused {
        let first = p.rules.iter().find(|r| r.set == RuleSet::HttpCheck);
        out.push(
            warn(format!(
                "{kind} '{name}' uses http-check rules without 'option httpchk', so the rules are ignored."
            ))
            .at(first.map_or(p.header, |r| r.span))
            .label("not run: the proxy's check is not 'option httpchk'")
            .help("add 'option httpchk' to run these rules, or remove them"),
        );
    }
    if matches!(current, Check::Tcp | Check::OtherTcp) {
        // Set by `http-check` lines of the proxy or of its defaults section.
        for setting in ["disable-on-404", "send-state"] {
            let line = p.directives.iter().find(|d| {
                d.keyword == "http-check"
                    && d.prefix.is_none()
                    && d.args.first().is_some_and(|a| a == setting)
            });
            if let Some(line) = line {
                out.push(
                    warn(format!(
                        "'{setting}' will be ignored for {kind} '{name}' (requires 'option httpchk')."
                    ))
                    .at(line.span)
                    .label("ignored under this proxy's check"),
                );
            }
        }
    }
    // `tcp-check` rules wait the same way for `option tcp-check`; any other check option read
    // after them drops them.
    if waiting_rules(p, RuleSet::TcpCheck, Check::Tcp).0 {
        let first = p.rules.iter().find(|r| r.set == RuleSet::TcpCheck);
        out.push(
            Diagnostic::new(
                "W536",
                format!("{kind} '{name}' uses tcp-check rules without 'option tcp-check', so the rules are ignored."),
            )
            .severity(Severity::Warning)
            .form(HaproxyForm::Bare)
            .at(first.map_or(p.header, |r| r.span))
            .label("not run: the proxy's check is not 'option tcp-check'")
            .help("add 'option tcp-check' to run these rules, or remove them"),
        );
    }
}

/// Whether the proxy's `set` rules (`http-check` or `tcp-check`) are left waiting once it is
/// read, and its check then. A rule read while the proxy's check is not `runs` waits for the
/// option that runs it; a check option read after it takes it up or drops it, except
/// `external-check` (not a rule-driven check), and for `http-check` rules `option tcp-check`
/// when the check already is tcp-check, which changes nothing. The defaults section's options
/// come first; its rules are not the proxy's (a proxy takes the defaults' check without their
/// rules waiting to be used).
fn waiting_rules(p: &Proxy, set: RuleSet, runs: Check) -> (bool, Check) {
    let check_options = p
        .options
        .iter()
        .filter(|(name, on)| on.value && CHECK_OPTIONS.contains(&name.as_str()));
    let mut current = Check::None;
    let mut own_options = Vec::new();
    for (name, on) in check_options {
        if before(on.span, p.header) {
            current = Check::of(name);
        } else {
            own_options.push((Check::of(name), on.span));
        }
    }
    let rules = p.rules.iter().filter(|r| {
        r.set == set && !matches!(r.action.value.as_str(), "disable-on-404" | "send-state")
    });
    // Both lists are in line order: walk them together.
    let mut unused = false;
    let mut options = own_options.into_iter().peekable();
    for rule in rules {
        // What the options before the rule did to the waiting rules, the rule decides again.
        while let Some((option, _)) = options.next_if(|(_, at)| before(*at, rule.span)) {
            current = option;
        }
        unused = current != runs;
    }
    for (option, _) in options {
        let keeps_waiting = option == Check::External
            || (runs == Check::Http && option == Check::Tcp && current == Check::Tcp);
        unused &= keeps_waiting;
        current = option;
    }
    (unused, current)
}
