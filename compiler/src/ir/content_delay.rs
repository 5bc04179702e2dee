//! Warnings on a frontend's `tcp-request content` rules that HAProxy gives once the
//! configuration is read: a tracking key or a capture reading the request's contents while no
//! `tcp-request inspect-delay` waits for them, and (HTTP mode) a tracking rule that reads
//! nothing of the request, which belongs to `tcp-request session`.

use super::layer6::{http_predefined, AclNames, LAYER6_PREDEFINED};
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::capabilities::{self, at};

pub(super) fn check(p: &Proxy, acls: &AclNames, out: &mut Vec<Diagnostic>) {
    if p.disabled || !p.kind.has_frontend() {
        return;
    }
    let warn = |out: &mut Vec<Diagnostic>, rule: &RuleDecl, message: String, help: &str| {
        out.push(
            Diagnostic::new(
                "W414",
                format!("{} '{}' : {message}", p.kind.type_str(), p.name_str()),
            )
            .severity(Severity::Warning)
            .form(HaproxyForm::Bare)
            .at(rule.span)
            .help(help.to_string()),
        );
    };
    let no_delay = |what: &str| {
        format!("a '{what}' rule explicitly depending on request contents without any 'tcp-request inspect-delay' setting. This means that this rule will randomly find its contents. This can be fixed by setting the tcp-request inspect-delay.")
    };
    let delay_help = "set 'tcp-request inspect-delay' (e.g. 5s) so that the rule waits for the request's contents";
    for rule in p
        .rules
        .iter()
        .filter(|r| r.set == RuleSet::TcpRequestContent)
    {
        let name = rule.action.value.as_str();
        let tracking = name.starts_with("track-sc");
        if !tracking && name != "capture" {
            continue;
        }
        let Some(Ok((expr, _))) = rule
            .args
            .first()
            .map(|w| crate::expr::sample::parse(&w.value, false))
        else {
            continue;
        };
        let fetch = expr.fetch.name.as_str();
        let waits = p.tcp_request_delay
            || capabilities::fetch_places(fetch).is_none_or(|places| places & at::FE_SES_ACC != 0);
        if !waits {
            let what = if tracking {
                "tcp-request content track-sc*"
            } else {
                "tcp-request capture"
            };
            warn(out, rule, no_delay(what), delay_help);
        }
        if tracking
            && p.effective_mode() == Mode::Http
            && !capabilities::reads_request_contents(fetch)
        {
            let predefined =
                |name: &str| http_predefined(name) || LAYER6_PREDEFINED.contains(&name);
            let what = capabilities::REQUEST_CONTENTS;
            if !acls.condition_reads(&rule.condition, what, &predefined) {
                warn(out, rule, "a 'tcp-request content track-sc*' rule not depending on request contents for an HTTP frontend should be executed at the session level, using a 'tcp-request session' rule (mandatory to track invalid HTTP requests).".into(), "HTTP errors and timeouts end a connection before its content rules run: track with 'tcp-request session track-sc<n>' so that they are counted");
            }
        }
    }
}
