//! Compiling one set of rules: each plan rule's action words read into an [`Action`], its
//! condition compiled against the proxy's ACLs.

use super::{Action, CompiledRule, HeaderMatch, Redirect, ReplyBody, Service};
use crate::acl::{AclSet, Condition};
use crate::http::rewrite::{Part, UriRewrite};
use crate::logfmt::Format;
use crate::sample::Unsupported;
use hapee_compiler::plan::Rule;
use hapee_compiler::registry::RuleSet;
use hyper::header::HeaderName;

fn header_name(s: &str) -> Result<HeaderName, Unsupported> {
    HeaderName::from_bytes(s.as_bytes()).map_err(|_| Unsupported(format!("header name '{s}'")))
}

fn status_after(args: &[String], key: &str, default: u16) -> u16 {
    args.iter()
        .position(|a| a == key)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn action(rule: &Rule) -> Result<Action, Unsupported> {
    let a = &rule.args;
    let arg = |i: usize| a.get(i).map_or("", String::as_str);
    let name = rule.action.as_str();
    let response = matches!(rule.set, RuleSet::HttpResponse | RuleSet::HttpAfterResponse);
    Ok(match name {
        "allow" => Action::Allow,
        "accept" => Action::Accept,
        "reject" => Action::Reject,
        "close" if rule.set == RuleSet::TcpResponseContent => Action::Close,
        "expect-proxy" if arg(0) == "layer4" => Action::ExpectProxy,
        "expect-netscaler-cip" if arg(0) == "layer4" => Action::ExpectNetscaler,
        "deny" => {
            let r = crate::http::replies::parse_deny(a, if response { 502 } else { 403 })?;
            if matches!(r.body, ReplyBody::ProxyPage) {
                Action::Deny { status: r.status }
            } else {
                Action::Return(r)
            }
        }
        "tarpit" => Action::Tarpit {
            status: status_after(a, "deny_status", 500),
        },
        "auth" => Action::Return(crate::http::auth::challenge(a)?),
        "return" => Action::Return(crate::http::replies::parse(a, 200)?),
        "use-service" => match arg(0) {
            "prometheus-exporter" => Action::UseService(Service::PrometheusExporter),
            lua if lua.starts_with("lua.") => {
                Action::UseService(Service::Script(lua["lua.".len()..].to_string()))
            }
            other => return Err(Unsupported(format!("service '{other}'"))),
        },
        "redirect" if rule.plain_redirect => Action::Redirect(Redirect::compile_plain(a)?),
        "redirect" => Action::Redirect(Redirect::compile(a)?),
        "set-pathq" => Action::RewriteUri(UriRewrite::set(Part::PathQuery, arg(0))?),
        "replace-path" => Action::RewriteUri(UriRewrite::replace(Part::Path, arg(0), arg(1))?),
        "replace-pathq" => {
            Action::RewriteUri(UriRewrite::replace(Part::PathQuery, arg(0), arg(1))?)
        }
        "replace-uri" => Action::RewriteUri(UriRewrite::replace(Part::Uri, arg(0), arg(1))?),
        "set-src" | "set-src-port" | "set-dst" | "set-dst-port" => {
            Action::SetAddr(crate::set_addr::SetAddr::compile(name, a)?)
        }
        "switch-mode" => {
            if arg(0) != "http" {
                return Err(Unsupported(format!("switch-mode '{}'", arg(0))));
            }
            let proto = a
                .iter()
                .position(|w| w == "proto")
                .and_then(|i| a.get(i + 1));
            Action::SwitchMode(proto.cloned())
        }
        "strict-mode" => Action::StrictMode(match arg(0) {
            "on" => true,
            "off" => false,
            other => return Err(Unsupported(format!("strict-mode '{other}'"))),
        }),
        "wait-for-handshake" => Action::WaitForHandshake,
        "wait-for-body" => Action::WaitForBody(crate::http::wait_body::WaitBody::compile(a)?),
        "normalize-uri" => Action::NormalizeUri(crate::http::normalize::Normalizer::compile(a)?),
        "set-timeout" => Action::SetTimeout(crate::http::set_timeout::SetTimeout::compile(a)?),
        "capture" => Action::Capture(crate::http::capture::CaptureRule::compile(a, response)?),
        "set-header" => Action::SetHeader(header_name(arg(0))?, Format::parse(arg(1))?),
        "early-hint" => Action::EarlyHint(header_name(arg(0))?, Format::parse(arg(1))?),
        "add-header" => Action::AddHeader(header_name(arg(0))?, Format::parse(arg(1))?),
        "del-header" => Action::DelHeader(HeaderMatch::compile(a)?),
        // A name no message can carry matches no header: the rule changes nothing.
        "replace-header" | "replace-value" if header_name(arg(0)).is_err() => {
            Action::DelHeader(HeaderMatch::Never)
        }
        "replace-header" | "replace-value" => Action::ReplaceHeader(
            header_name(arg(0))?,
            regex::Regex::new(arg(1)).map_err(|e| Unsupported(e.to_string()))?,
            crate::sample::hap_subst(arg(2)),
            name == "replace-value",
        ),
        "set-path" => Action::SetPath(Format::parse(arg(0))?),
        "set-query" => Action::SetQuery(Format::parse(arg(0))?),
        "set-uri" => Action::SetUri(Format::parse(arg(0))?),
        "set-method" => Action::SetMethod(Format::parse(arg(0))?),
        "set-log-level" => Action::SetLogLevel(
            hapee_compiler::plan::LEVELS
                .iter()
                .position(|l| *l == arg(0))
                .map_or(8, |p| p as u8),
        ),
        "set-status" => Action::SetStatus(
            arg(0)
                .parse()
                .map_err(|_| Unsupported("set-status code".into()))?,
            (arg(1) == "reason").then(|| arg(2).to_string()),
        ),
        n if n.starts_with("set-var(") || n.starts_with("set-var-fmt(") => {
            Action::SetVar(crate::vars::SetVar::compile(n, a)?)
        }
        n if n.starts_with("unset-var(") => Action::UnsetVar(crate::vars::unset_name(n)?),
        "send-spoe-group"
            if matches!(
                rule.set,
                RuleSet::HttpRequest
                    | RuleSet::HttpResponse
                    | RuleSet::TcpRequestContent
                    | RuleSet::TcpResponseContent
            ) =>
        {
            Action::SendSpoeGroup(crate::spoe::SendGroup::compile(a)?)
        }
        n if n.starts_with("do-resolve(") => {
            Action::DoResolve(crate::discovery::do_resolve::DoResolve::compile(n, a)?)
        }
        n if n.starts_with("lua.") => Action::Script(crate::script::ScriptCall {
            name: n["lua.".len()..].into(),
            args: a.as_slice().into(),
        }),
        "cache-use" | "cache-store" | "set-bandwidth-limit" => Action::Filter(
            crate::http::filters::FilterAction::compile(name, a)?
                .ok_or_else(|| Unsupported(format!("action '{name}'")))?,
        ),
        n if crate::conn_actions::is_conn_action(n) => {
            Action::Conn(crate::conn_actions::ConnAction::compile(n, a)?)
        }
        other if crate::support::action_supported(other) => {
            match crate::tables::action::TableAction::compile(other, a)? {
                Some(t) => Action::Table(t),
                None => {
                    return Err(Unsupported(format!(
                        "action '{} {}'",
                        rule.set.keyword(),
                        keyword_of(other)
                    )))
                }
            }
        }
        other => {
            return Err(Unsupported(format!(
                "action '{} {}'",
                rule.set.keyword(),
                keyword_of(other)
            )))
        }
    })
}

/// An action's keyword without the values in its parentheses (`set-map`, not
/// `set-map(/etc/m.map)`): what a refusal names.
fn keyword_of(action: &str) -> &str {
    action.split('(').next().unwrap_or(action)
}

/// Compiles the rules of one set, in order; `servers_of` names their proxy when it has
/// servers (see [`CompiledRule::servers_of`]).
pub fn compile(
    rules: &[Rule],
    acls: &AclSet,
    servers_of: Option<usize>,
) -> Result<Vec<CompiledRule>, Unsupported> {
    rules
        .iter()
        .filter(|r| !matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck))
        .map(|r| {
            Ok(CompiledRule {
                set: r.set,
                action: action(r)?,
                condition: Condition::compile(&r.condition, acls)?,
                origin: r.origin.as_ref().map(|(f, l)| (f.as_str().into(), *l)),
                servers_of,
            })
        })
        .collect()
}
