//! Capture rules that name their slot (`http-request capture <sample> id <n>`,
//! `http-response capture <sample> id <n>`) must name one the frontend has: its slots are its
//! `capture request|response header` and `declare capture request|response` lines, and, for
//! requests, each `capture <sample> len <n>` rule, which makes a slot of its own. Counted over
//! the whole section, as HAProxy checks after reading it. A backend's rules fill the slots of
//! whichever frontend passes it the stream, so only proxies with a frontend side are checked.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};

pub(super) fn check(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if !p.kind.has_frontend() || p.kind == ProxyKind::Defaults {
        return;
    }
    let mut request = 0usize;
    let mut response = 0usize;
    for d in p.directives.iter().filter(|d| d.prefix.is_none()) {
        let arg = |i: usize| d.args.get(i).map_or("", |a| a.as_str());
        let dir = match (d.keyword.as_str(), arg(0), arg(1)) {
            ("capture", dir, "header") => dir,
            ("declare", "capture", dir) => dir,
            _ => continue,
        };
        match dir {
            "request" => request += 1,
            "response" => response += 1,
            _ => {}
        }
    }
    let makes_slot = |r: &RuleDecl| {
        r.action.value == "capture"
            && matches!(r.set, RuleSet::HttpRequest | RuleSet::TcpRequestContent)
            && r.args.get(1).is_some_and(|w| w.value == "len")
    };
    let inherited = p.defaults.and_then(|d| config.proxies.get(d));
    request += inherited
        .into_iter()
        .chain([p])
        .flat_map(|p| p.rules.iter())
        .filter(|r| makes_slot(r))
        .count();
    for r in &p.rules {
        let (slots, what) = match r.set {
            RuleSet::HttpRequest => (request, "http-request"),
            RuleSet::HttpResponse => (response, "http-response"),
            _ => continue,
        };
        if r.action.value != "capture" || r.args.get(1).is_none_or(|w| w.value != "id") {
            continue;
        }
        let Some(id) = r.args.get(2) else {
            continue;
        };
        // A malformed id is the parser's error; a negative one names no slot either.
        let Ok(n) = id.value.parse::<i64>() else {
            continue;
        };
        if n >= 0 && (n as usize) < slots {
            continue;
        }
        out.push(
            Diagnostic::new(
                "E228",
                format!(
                    "Proxy '{}': unable to find capture id '{n}' referenced by {what} capture rule.",
                    p.name_str()
                ),
            )
            .form(HaproxyForm::Bare)
            .at(id.span)
            .label(format!("the frontend has {slots} {} slot(s)", &what[5..]))
            .help(format!(
                "declare the slot with 'declare capture {} len <size>' (ids count from 0 in the order slots are declared)",
                &what[5..]
            )),
        );
    }
}
