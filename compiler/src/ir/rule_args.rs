//! The arguments of rule actions, checked as HAProxy checks them while it reads the line: the
//! replies of `return`/`deny`/`tarpit`, `use-service` names, `capture` arguments, and the word
//! counts of the header and request-line actions.

use super::build::Builder;
use super::model::*;
use super::rules::rule_places;
use crate::diagnostic::Diagnostic;

/// Checks the reply of an HTTP `return`, `deny` or `tarpit` rule as HAProxy does.
pub(super) fn reply(
    b: &mut Builder,
    index: usize,
    set: RuleSet,
    action: &Spanned<Text>,
    args: &[Spanned<Text>],
) {
    let name = action.value.as_str();
    let default_status = match (set, name) {
        (RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse, "return") => {
            200
        }
        (RuleSet::HttpRequest, "deny") => 403,
        (RuleSet::HttpRequest, "tarpit") => 500,
        (RuleSet::HttpResponse, "deny") => 502,
        _ => return,
    };
    let proxy = &b.config.proxies[index];
    let prefix = format!(
        "error detected in {} '{}' while parsing '{} {name}' rule : ",
        proxy.kind.type_str(),
        proxy.name_str(),
        set.keyword()
    );
    // The reply's log-format strings: each header's value as HAProxy reads it, the body
    // (`lf-string`) once the reply's words are all read. They run where the rule runs.
    let has_fe = proxy.kind.has_frontend();
    let has_be = proxy.kind.has_backend();
    let places = rule_places(set, has_fe, has_be);
    let context = if set == RuleSet::HttpRequest {
        RefContext::HttpRequest
    } else {
        RefContext::HttpResponse
    };
    let errors = b.diags.len();
    let mut i = 0;
    let mut body = None;
    while let Some(word) = args.get(i) {
        match word.value.as_str() {
            "hdr" => {
                if let Some(value) = args.get(i + 2) {
                    super::exprs::log_format(b, index, value, context, &prefix, places);
                    if b.diags[errors..].iter().any(Diagnostic::is_error) {
                        return;
                    }
                }
                i += 3;
            }
            "lf-string" => {
                body = body.or(args.get(i + 1));
                i += 2;
            }
            "default-errorfiles" => i += 1,
            _ => i += 2,
        }
    }
    let wording = (prefix.clone(), ".");
    let Some(problem) = super::replies::record(b, name, args, default_status, wording) else {
        if let Some(body) = body {
            super::exprs::log_format(b, index, body, context, &prefix, places);
        }
        return;
    };
    let message = format!("{prefix}{problem}.");
    let span = args.first().map_or(action.span, |w| w.span);
    b.push(
        Diagnostic::new("E269", message)
            .at(span)
            .label("reply HAProxy refuses"),
    );
}

/// HAProxy's error for a `use-service` rule of `keyword` (its rule set's first word) naming no
/// service it knows, or none.
pub(crate) fn unknown_service(
    kind: &str,
    proxy: &str,
    keyword: &str,
    service: &Spanned<Text>,
) -> Diagnostic {
    let d = if service.value.is_empty() {
        Diagnostic::new(
            "E232",
            format!("error detected in {kind} '{proxy}' while parsing '{keyword} use-service' rule : expects a service name.."),
        )
    } else if keyword == "tcp-request" {
        // HAProxy names the line's second word in place of the service, and a TCP rule's
        // error is given bare.
        Diagnostic::new("E232", "'content' unknown service name.")
    } else {
        Diagnostic::new(
            "E232",
            format!("error detected in {kind} '{proxy}' while parsing '{keyword} use-service' rule : '{}' unknown service name..", service.value),
        )
    };
    d.at(service.span).label("unknown service")
}

/// What HAProxy says of a `capture` rule's words, or `None` when it takes them. HTTP rules
/// need three words (the expression, then `len <n>` or `id <n>`); a TCP rule's expression
/// must be followed by `len <n>` with a positive length (its expression is read in between,
/// so only a sound expression, usable at `places`, gets this far).
pub(super) fn capture_arguments(
    set: RuleSet,
    name: &str,
    args: &[Spanned<Text>],
    places: u32,
) -> Option<String> {
    if name != "capture" {
        return None;
    }
    let word = |i: usize| args.get(i).map_or("", |w| w.value.as_str());
    let counted = (0..3).take_while(|&i| !word(i).is_empty()).count();
    match set {
        RuleSet::HttpRequest if counted < 3 => {
            Some("expects <expression> [ 'len' <length> | id <idx> ]".into())
        }
        RuleSet::HttpResponse if counted < 3 => Some("expects <expression> id <idx>".into()),
        RuleSet::TcpRequestContent => {
            let (expr, _) = crate::expr::sample::parse(word(0), false).ok()?;
            if crate::registry::capabilities::missing_sources(&expr.fetch.name, places).is_some() {
                return None;
            }
            // `len` is read even from a condition's first word (as a length of 0).
            if word(1) != "len" {
                Some("a positive 'len' argument is mandatory".into())
            } else if super::values::atol(word(2)) <= 0 {
                Some("length must be > 0".into())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// What HAProxy says of the arguments of an HTTP header or request-line action when their
/// count is wrong, or of `del-header`'s `-m` (`None`: it takes them). The header actions count
/// the words as they come, an `if` too; the request-line ones stop at the condition.
/// `set-timeout` changes the server side's timeouts, so it also needs a proxy with a backend
/// side (`frontend_only`: the proxy's name when it has none).
pub(super) fn http_action_arguments(
    name: &str,
    args: &[Spanned<Text>],
    condition: &[Spanned<Text>],
    frontend_only: Option<&str>,
) -> Option<String> {
    let word = |i: usize| {
        args.iter()
            .chain(condition)
            .nth(i)
            .map_or("", |w| w.value.as_str())
    };
    let condition_or_end = |i: usize| matches!(word(i), "" | "if" | "unless");
    match name {
        "set-header" | "add-header" | "early-hint" if word(0).is_empty() || word(1).is_empty() => {
            Some("expects exactly 2 arguments".into())
        }
        "replace-header" | "replace-value"
            if word(0).is_empty() || word(1).is_empty() || word(2).is_empty() =>
        {
            Some("expects exactly 3 arguments".into())
        }
        "set-method" | "set-path" | "set-pathq" | "set-query" | "set-uri"
            if word(0).is_empty() || !condition_or_end(1) =>
        {
            Some("expects exactly 1 argument <format>".into())
        }
        "replace-path" | "replace-pathq" | "replace-uri"
            if word(0).is_empty() || word(1).is_empty() || !condition_or_end(2) =>
        {
            Some("expects exactly 2 arguments <match-regex> and <replace-format>".into())
        }
        "set-timeout" if word(0).is_empty() || word(1).is_empty() => {
            Some("expects exactly 2 arguments".into())
        }
        "set-timeout" => frontend_only.map(|p| format!("proxy '{p}' has no backend capability")),
        "del-header" if word(0).is_empty() => Some("expects at least 1 argument".into()),
        "del-header" if word(1) == "-m" && word(2).is_empty() => {
            Some("-m flag expects exactly 1 argument".into())
        }
        "del-header"
            if word(1) == "-m" && !matches!(word(2), "str" | "beg" | "end" | "sub" | "reg") =>
        {
            Some(format!("-m with unsupported matching method '{}'", word(2)))
        }
        _ => None,
    }
}
