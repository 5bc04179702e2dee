//! The bridge between the model builder and the keyword registry: unknown keywords, keywords in
//! the wrong section, removed and experimental keywords, options and rule actions.

use super::build::{Builder, Stmt};
use super::model::ProxyKind;
use crate::diagnostic::{Diagnostic, Edit, HaproxyForm, Severity};
use crate::registry::{self, DirectiveLookup, RuleSet, SectionKind, Status};
use crate::source::Span;

/// The section name HAProxy prints in "unknown keyword" messages (a userlist is 'users' there).
fn section_word(section: SectionKind) -> &'static str {
    match section {
        SectionKind::Userlist => "users",
        _ => section.keyword(),
    }
}

/// How HAProxy names the proxy section being read in its messages: by its keyword, or
/// `(null)` once a SPOE filter's file was read in it ([`ProxyNames::section_name_lost`]).
///
/// [`ProxyNames::section_name_lost`]: super::build::ProxyNames::section_name_lost
pub(super) fn proxy_section_word(b: &Builder, kind: ProxyKind) -> &'static str {
    if b.in_proxy.section_name_lost {
        "(null)"
    } else {
        kind.section_keyword()
    }
}

/// HAProxy's argument count for the keywords it counts (`alertif_too_many_args`): true, after
/// reporting the first extra word, when the statement has one; HAProxy then ignores the line.
pub(super) fn extra_argument(b: &mut Builder, global: bool, stmt: &Stmt, at: usize) -> bool {
    let Some((extra, named)) = registry::arity::unexpected(global, |i| stmt.word(at + i)) else {
        return false;
    };
    let word = stmt.word(at + extra);
    let mut d = Diagnostic::new(
        "E112",
        format!("'{named}' cannot handle unexpected argument '{word}'."),
    )
    .at(stmt.span_from(at + extra))
    .label("unexpected argument");
    if named == "default_backend" && matches!(word, "if" | "unless") {
        d = d.help("'default_backend' takes no condition: a conditional switch is 'use_backend <name> if <condition>'");
    }
    b.push(d);
    true
}

/// The second words a proxy's `stats` line takes (`socket`, `timeout`, `maxconn` are global).
const PROXY_STATS: &[&str] = &[
    "admin",
    "auth",
    "enable",
    "hide-version",
    "http-request",
    "realm",
    "refresh",
    "scope",
    "show-desc",
    "show-legends",
    "show-modules",
    "show-node",
    "uri",
];

/// Checks the keyword of a statement (words from `at` on, after any `no`/`default` prefix);
/// `proxy` is the index of the proxy whose section holds it.
pub(super) fn check_statement(
    b: &mut Builder,
    section: SectionKind,
    stmt: &Stmt,
    at: usize,
    proxy: Option<usize>,
) {
    // Only the first two words decide the keyword.
    let words = [stmt.word(at), stmt.word(at + 1)];
    let words: &[&str] = if words[1].is_empty() {
        &words[..1]
    } else {
        &words
    };
    let Some(&first) = words.first().filter(|w| !w.is_empty()) else {
        return;
    };
    // Reported with their own messages where HAProxy knows them (removed since 2.5); any other
    // section takes them for unknown keywords.
    let own_message = match first {
        "bind-process" => {
            section.is_proxy() || matches!(section, SectionKind::Peers | SectionKind::LogForward)
        }
        "stats" => words.get(1) == Some(&"bind-process") && section == SectionKind::Global,
        "nbproc" => section == SectionKind::Global,
        _ => false,
    };
    if own_message {
        return;
    }
    if first == "stats" && section.is_proxy() && !PROXY_STATS.contains(&stmt.word(at + 1)) {
        let second = stmt.word(at + 1);
        let (what, word) = if second.is_empty() {
            ("missing keyword in", first)
        } else {
            ("unknown stats parameter", second)
        };
        b.push(
            Diagnostic::new(
                "E101",
                format!("{what} '{word}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'."),
            )
            .at(stmt.span(if second.is_empty() { at } else { at + 1 }))
            .label("not a stats setting of a proxy")
            .form(HaproxyForm::ParsingTight),
        );
        return;
    }
    // One look-up of the first word answers the removed, directive and side questions.
    let known = registry::first_word(first);
    // The removed keywords were proxy keywords: other sections take them for unknown ones.
    let removed = section
        .is_proxy()
        .then(|| registry::removed_message_of(known, words))
        .flatten();
    if let Some(message) = removed {
        let replacement = match first {
            "block" => Some("http-request deny"),
            "redispatch" | "redisp" => Some("option redispatch"),
            _ => None,
        };
        let mut d = Diagnostic::new("E103", message)
            .at(stmt.span(at))
            .label("removed keyword");
        if let Some(r) = replacement {
            let edit = Edit {
                span: stmt.span(at),
                replacement: r.to_string(),
            };
            d = d.fix(format!("use '{r}'"), vec![edit]);
        }
        b.push(d);
        return;
    }
    match registry::directive_of(section, known, words) {
        DirectiveLookup::Found { def, words: n } => {
            if def.status == Status::Experimental && !b.config.global.expose_experimental {
                b.push(
                    Diagnostic::new(
                        "E320",
                        format!("'{}' directive is experimental, must be allowed via a global 'expose-experimental-directives'", def.name),
                    )
                    .at(stmt.span(at))
                    .help("add 'expose-experimental-directives' to the global section, before this line"),
                );
            }
            if let Status::Deprecated { replacement } = def.status {
                b.push(
                    Diagnostic::new(
                        "W104",
                        format!("'{}' is deprecated and will be removed in version 2.7. Please use '{replacement}' instead.", def.name),
                    )
                    .at(stmt.span(at))
                    .severity(Severity::Warning)
                    .form(crate::diagnostic::HaproxyForm::ParsingTight),
                );
            }
            // Defaults-only restrictions, then frontend/backend side warnings.
            if section == SectionKind::Defaults {
                defaults_placement(b, stmt, at, def.name, n);
            } else if let Some(index) = proxy.filter(|_| section.is_proxy()) {
                side_placement(b, stmt, at, index, known.and_then(|k| k.side));
            }
            if first == "option" && section == SectionKind::FcgiApp {
                check_fcgi_option(b, stmt, at);
            } else if first == "option" && section == SectionKind::Program {
                check_program_option(b, stmt, at);
            } else if first == "option" {
                check_option(b, stmt, at);
                if let Some(index) = proxy.filter(|_| section.is_proxy()) {
                    option_side(b, stmt, at, index);
                }
            }
        }
        DirectiveLookup::WrongSection { def } => unknown(
            b,
            section,
            stmt,
            at,
            registry::suggest_directive(section, first),
            Some(def),
        ),
        DirectiveLookup::Unknown { suggestion } => unknown(b, section, stmt, at, suggestion, None),
    }
}

fn unknown(
    b: &mut Builder,
    section: SectionKind,
    stmt: &Stmt,
    at: usize,
    suggestion: Option<&'static str>,
    elsewhere: Option<&registry::DirectiveDef>,
) {
    let word = stmt.word(at);
    let sect = if section.is_proxy() && b.in_proxy.section_name_lost {
        "(null)"
    } else {
        section_word(section)
    };
    // Only the global and proxy parsers look for a close keyword.
    let suggestion = suggestion.filter(|_| section.is_proxy() || section == SectionKind::Global);
    let message = match suggestion {
        Some(best) => {
            format!("unknown keyword '{word}' in '{sect}' section; did you mean '{best}' maybe ?")
        }
        None => format!("unknown keyword '{word}' in '{sect}' section"),
    };
    let mut d = Diagnostic::new("E101", message)
        .at(stmt.span(at))
        .label("unknown keyword");
    // These two sections' parsers write no space before the colon.
    if matches!(section, SectionKind::Userlist | SectionKind::FcgiApp) {
        d = d.form(HaproxyForm::ParsingTight);
    }
    if let Some(best) = suggestion {
        d = d.fix(
            format!("replace with '{best}'"),
            vec![Edit {
                span: stmt.span(at),
                replacement: best.to_string(),
            }],
        );
    }
    if let Some(def) = elsewhere {
        let places: Vec<&str> = SectionKind::ALL
            .iter()
            .filter(|k| def.sections.contains(**k))
            .map(|k| k.keyword())
            .collect();
        d = d.note(format!("'{}' belongs in: {}", def.name, places.join(", ")));
    }
    b.push(d);
}

/// Keywords HAProxy rejects in defaults sections.
fn defaults_placement(b: &mut Builder, stmt: &Stmt, at: usize, name: &str, n: usize) {
    let pair = format!("{} {}", stmt.word(at), stmt.word(at + 1));
    let key = if n == 2 {
        name.to_string()
    } else {
        stmt.word(at).to_string()
    };
    if registry::NOT_IN_DEFAULTS.contains(&key.as_str())
        || registry::NOT_IN_DEFAULTS.contains(&pair.as_str())
    {
        let shown = if registry::NOT_IN_DEFAULTS.contains(&pair.as_str())
            && !registry::NOT_IN_DEFAULTS.contains(&key.as_str())
        {
            pair
        } else {
            key
        };
        let tight = matches!(
            shown.as_str(),
            "id" | "description" | "stats admin" | "stats http-request"
        );
        let form = if tight {
            HaproxyForm::ParsingTight
        } else {
            HaproxyForm::Parsing
        };
        // HAProxy words the table's refusal its own way.
        let message = if shown == "stick-table" {
            "'stick-table' is not supported in 'defaults' section.".to_string()
        } else {
            format!("'{shown}' not allowed in 'defaults' section.")
        };
        b.push(
            Diagnostic::new("E105", message)
                .at(stmt.span(at))
                .label("not allowed in defaults")
                .form(form),
        );
    }
}

/// Frontend-only keywords in backends and the reverse: HAProxy ignores them with a warning
/// naming the word at `at` (the keyword, or the option of an `option` line). `side` is the
/// word's [`registry::needs_frontend`].
pub(super) fn side_placement(
    b: &mut Builder,
    stmt: &Stmt,
    at: usize,
    index: usize,
    side: Option<bool>,
) {
    let Some(needs_frontend) = side else {
        return;
    };
    let p = &b.config.proxies[index];
    let has = if needs_frontend {
        p.kind.has_frontend()
    } else {
        p.kind.has_backend()
    };
    if !has && p.kind != ProxyKind::Defaults {
        let side = if needs_frontend {
            "no frontend"
        } else {
            "no backend"
        };
        let word = stmt.word(at);
        // Servers are refused outright: HAProxy's server parser fails without a backend side.
        if matches!(word, "server" | "default-server" | "server-template") {
            let place = b.location(stmt.span(at));
            let msg = format!(
                "parsing [{place}] : '{word}' not allowed because {} '{}' has no backend capability.",
                p.kind.type_str(),
                p.name_str()
            );
            b.push(
                Diagnostic::new("E116", msg)
                    .at(stmt.span(at))
                    .label("servers belong to backends")
                    .help("move the server to a backend (or a listen section) and route to it with 'use_backend' or 'default_backend'")
                    .form(HaproxyForm::FileLine),
            );
            return;
        }
        let hint = registry::SIDE_HINTS
            .iter()
            .find(|(k, _)| *k == word)
            .map_or("", |(_, h)| h);
        let msg = format!(
            "'{word}' ignored because {} '{}' has {side} capability.{hint}",
            p.kind.type_str(),
            p.name_str()
        );
        b.push(
            Diagnostic::new("W106", msg)
                .at(stmt.span(at))
                .label("has no effect here")
                .severity(Severity::Warning),
        );
    }
}

/// An `option` line of an `fcgi-app` section: its own four options, not the proxies' ones.
fn check_fcgi_option(b: &mut Builder, stmt: &Stmt, at: usize) {
    let name = stmt.word(at + 1);
    let error = |code: &'static str, message: String, span: Span| {
        Diagnostic::new(code, message)
            .at(span)
            .form(HaproxyForm::ParsingTight)
    };
    match name {
        "" => b.push(error(
            "E107",
            "'option' expects an option name.".into(),
            stmt.span(at),
        )),
        "keep-conn" | "get-values" | "mpxs-conns" => {}
        "max-reqs" if at > 0 => b.push(error(
            "E200",
            "negation/default is not supported for option 'max-reqs'.".into(),
            stmt.span(0),
        )),
        "max-reqs" => {
            let value = stmt.word(at + 2);
            let message = if value.is_empty() {
                "option 'max-reqs' expects an integer argument."
            } else if atol(value) == 0 {
                "option 'max-reqs' expects a strictly positive integer argument."
            } else {
                return;
            };
            b.push(error("E109", message.into(), stmt.span(at + 1)));
        }
        _ => b.push(
            error(
                "E107",
                format!("unknown option '{name}'."),
                stmt.span(at + 1),
            )
            .form(HaproxyForm::Parsing)
            .label("unknown option"),
        ),
    }
}

/// An `option` line of a `program` section: its one option, `start-on-reload`, which takes no
/// argument and may be negated.
fn check_program_option(b: &mut Builder, stmt: &Stmt, at: usize) {
    let name = stmt.word(at + 1);
    let extra = stmt.word(at + 2);
    if name.is_empty() {
        b.push(
            Diagnostic::new("E107", "'option' expects an option name.")
                .at(stmt.span(at))
                .form(HaproxyForm::ParsingTight),
        );
    } else if name != "start-on-reload" {
        b.push(
            Diagnostic::new("E107", format!("unknown option '{name}'."))
                .at(stmt.span(at + 1))
                .label("unknown option")
                .help("the only option of a 'program' section is 'start-on-reload'"),
        );
    } else if !extra.is_empty() {
        b.push(
            Diagnostic::new(
                "E112",
                format!("'option {name}' cannot handle unexpected argument '{extra}'."),
            )
            .at(stmt.span_from(at + 2))
            .label("unexpected argument"),
        );
    }
}

/// C's `atol`: the leading decimal digits (after blanks and a sign), 0 without any.
pub(super) fn atol(text: &str) -> i64 {
    let t = text.trim_start();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    sign * digits[..end].parse::<i64>().unwrap_or(0)
}

fn check_option(b: &mut Builder, stmt: &Stmt, at: usize) {
    let name = stmt.word(at + 1);
    if name.is_empty() {
        b.push(Diagnostic::new("E107", "'option' expects an option name.").at(stmt.span(at)));
        return;
    }
    match registry::option(name) {
        Some(def) => {
            if let Status::Removed { replacement, since } = def.status {
                let d = match removed_option_advice(name) {
                    Some(advice) => Diagnostic::new(
                        "E103",
                        format!("option '{name}' is not supported any more since HAProxy {since}{advice}"),
                    )
                    .form(HaproxyForm::ParsingTight),
                    None => {
                        let extra = if replacement.is_empty() {
                            String::new()
                        } else {
                            format!(" Use '{replacement}'.")
                        };
                        Diagnostic::new("E103", format!("option '{name}' is not supported anymore since HAProxy {since}.{extra}"))
                    }
                };
                b.push(d.at(stmt.span(at + 1)));
            }
        }
        None => {
            let best = registry::suggest_option(name);
            let msg = match best {
                Some(best) => format!("unknown option '{name}'; did you mean '{best}' maybe ?"),
                None => format!("unknown option '{name}'."),
            };
            b.push(
                Diagnostic::new("E107", msg)
                    .at(stmt.span(at + 1))
                    .label("unknown option")
                    .replace_with(stmt.span(at + 1), best),
            );
        }
    }
}

/// An option acting on one side only, in a proxy without that side: ignored with a warning
/// once its words are accepted (the health-check options refuse a negation first, the others
/// but `redispatch` take no argument).
fn option_side(b: &mut Builder, stmt: &Stmt, at: usize, index: usize) {
    let name = stmt.word(at + 1);
    let side = if registry::CHECK_OPTIONS.contains(&name) {
        (at == 0).then_some(false)
    } else if stmt.word(at + 2).is_empty() || name == "redispatch" {
        registry::OPTION_SIDE_OF
            .iter()
            .find(|(o, _)| *o == name)
            .map(|&(_, fe)| fe)
    } else {
        None
    };
    side_placement(b, stmt, at + 1, index, side);
}

/// What HAProxy 2.7 says after "option '<name>' is not supported any more since HAProxy <v>"
/// for the HTTP options it removed.
fn removed_option_advice(name: &str) -> Option<&'static str> {
    Some(match name {
        "forceclose" => ", please just remove it, or use 'option httpclose' if absolutely needed.",
        "http-tunnel" => ", please just remove it, it shouldn't be needed.",
        "http_proxy" => ". This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.",
        _ => return None,
    })
}

/// Checks a rule's action against the registry (`lua.<name>` ones against the scripts, once
/// they are loaded: [`crate::envcheck`]).
pub(super) fn check_action(
    b: &mut Builder,
    index: usize,
    set: RuleSet,
    stmt: &Stmt,
    at: usize,
) -> bool {
    let name = stmt.word(at);
    let p = &b.config.proxies[index];
    let proxy = (p.kind.type_str(), p.name_str());
    if let Some(d) = tcp_request_misplaced(set, stmt, at, proxy) {
        b.push(d);
        return false;
    }
    if name.starts_with("lua.") || registry::action(set, name).is_some() {
        return true;
    }
    let d = unknown_action(set, name, stmt.span(at), &[], proxy);
    b.push(d);
    false
}

/// The `tcp-request` actions HAProxy's own TCP parser knows in every `tcp-request` set but
/// takes only at one step: `expect-proxy layer4` and `expect-netscaler-cip layer4` on
/// connections (any other word than `layer4` refused first), `capture` on content. Its
/// message names the action with its first argument and the set.
fn tcp_request_misplaced(
    set: RuleSet,
    stmt: &Stmt,
    at: usize,
    (kind, proxy): (&str, &str),
) -> Option<Diagnostic> {
    use RuleSet::*;
    if !matches!(
        set,
        TcpRequestConnection | TcpRequestSession | TcpRequestContent
    ) {
        return None;
    }
    let (name, arg) = (stmt.word(at), stmt.word(at + 1));
    let rules = set.keyword();
    let message = match name {
        "expect-proxy" | "expect-netscaler-cip" if arg != "layer4" => {
            format!("'{rules} {name}' only supports 'layer4' in {kind} '{proxy}' (got '{arg}')")
        }
        "expect-proxy" | "expect-netscaler-cip" if set != TcpRequestConnection => {
            format!("'{name} {arg}' is not allowed in '{rules}' rules in {kind} '{proxy}'")
        }
        "capture" if set != TcpRequestContent => {
            format!("'{name} {arg}' is not allowed in '{rules}' rules in {kind} '{proxy}'")
        }
        _ => return None,
    };
    Some(
        Diagnostic::new("E108", message)
            .at(stmt.span(at))
            .label(format!("not taken by '{rules}' rules here")),
    )
}

/// HAProxy 2.7.0's list of a rule set's actions as its error message words it: in its
/// registration order, with `(*)` after the actions that take a name in parentheses. The TCP
/// sets start with the actions their parser knows itself. `None` for the check rule sets.
fn haproxy_action_list(set: RuleSet) -> Option<&'static str> {
    Some(match set {
        RuleSet::HttpRequest => {
            "'wait-for-handshake', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset', 'set-bandwidth-limit'"
        }
        RuleSet::HttpResponse => {
            "'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', 'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', 'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', 'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop', 'set-bandwidth-limit'"
        }
        RuleSet::HttpAfterResponse => {
            "'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'"
        }
        RuleSet::TcpRequestConnection | RuleSet::TcpRequestSession => {
            "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop'"
        }
        RuleSet::TcpRequestContent => {
            "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset', 'set-bandwidth-limit'"
        }
        RuleSet::TcpResponseContent => {
            "'accept', 'close', 'reject', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop', 'set-bandwidth-limit'"
        }
        RuleSet::HttpCheck | RuleSet::TcpCheck => return None,
    })
}

/// HAProxy's error for an action word its parser for `set` does not know; `scripted` are the
/// `lua.*` actions loaded scripts registered (HAProxy lists them last); `proxy` is the type and
/// name of the proxy, which the TCP sets' message names.
pub fn unknown_action(
    set: RuleSet,
    name: &str,
    span: Span,
    scripted: &[String],
    proxy: (&str, &str),
) -> Diagnostic {
    let names = || {
        registry::actions_of(set)
            .map(|a| a.name)
            .chain(scripted.iter().map(String::as_str))
    };
    let mut list = match haproxy_action_list(set) {
        Some(list) => list.to_string(),
        None => {
            let words: Vec<String> = registry::actions_of(set)
                .map(|a| format!("'{}'", a.name))
                .collect();
            words.join(", ")
        }
    };
    for s in scripted {
        list.push_str(&format!(", '{s}'"));
    }
    let best = registry::best_match(name, names());
    let hint = best.map_or(String::new(), |b| format!(" Did you mean '{b}' maybe ?"));
    let tcp = matches!(
        set,
        RuleSet::TcpRequestConnection
            | RuleSet::TcpRequestSession
            | RuleSet::TcpRequestContent
            | RuleSet::TcpResponseContent
    );
    let check = match set {
        RuleSet::TcpCheck => Some("'comment', 'connect', 'send', 'send-binary', 'expect'"),
        RuleSet::HttpCheck => {
            Some("'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect'")
        }
        _ => None,
    };
    if let Some(own) = check {
        // The check parsers list their own words, then the actions registered for checks.
        let message = format!(
            "'{}' only supports {own}, 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{name}'",
            set.keyword()
        );
        return Diagnostic::new("E108", message)
            .at(span)
            .label("unknown action")
            .replace_with(span, best);
    }
    let (msg, form) = if tcp {
        let (kind, proxy) = proxy;
        (
            format!(
                "'{}' expects {list} in {kind} '{proxy}' (got '{name}').{hint}",
                set.keyword()
            ),
            HaproxyForm::Parsing,
        )
    } else {
        let missing = if name.is_empty() {
            " (missing argument)"
        } else {
            ""
        };
        (
            format!(
                "'{}' expects {list}, but got '{name}'{missing}.{hint}",
                set.keyword()
            ),
            HaproxyForm::ParsingTight,
        )
    };
    Diagnostic::new("E108", msg)
        .at(span)
        .label("unknown action")
        .form(form)
        .replace_with(span, best)
}

/// How many value words a bind option takes, or `None` when the option is unknown.
pub(super) fn bind_option_arity(name: &str) -> Option<usize> {
    registry::bind_option(name).map(|o| o.values as usize)
}

pub(super) fn suggest_bind_option(name: &str) -> Option<&'static str> {
    registry::best_match(name, registry::BIND_OPTIONS.iter().map(|o| o.name))
}

/// How many value words a server option takes, or `None` when the option is unknown.
pub(super) fn server_option_arity(name: &str) -> Option<usize> {
    registry::server_option(name).map(|o| o.values as usize)
}

/// What HAProxy 2.7 does with a server option whose value is missing (an empty word or the
/// end of the line): each option's parser words it its own way. `Some(None)`: it reads the
/// empty value and goes on; `None`: not known here.
pub(super) fn server_option_without_value(name: &str) -> Option<Option<&'static str>> {
    Some(Some(match name {
        "weight" | "maxconn" | "minconn" | "init-addr" => return Some(None),
        "cookie" => "'cookie' expects <value> as argument.",
        "inter" => "'inter' expects a delay as argument.",
        "fastinter" => "'fastinter' expects a delay as argument.",
        "downinter" => "'downinter' expects a delay as argument.",
        "sni" => "'sni' : missing sni expression",
        "check-sni" => "'check-sni' : missing SNI",
        "ca-file" => "'ca-file' : missing CAfile path",
        "crt" => "'crt' : missing certificate file path",
        "id" => "'id' : expects an integer argument",
        "observe" => "'observe' expects <mode> as argument.",
        "on-error" => "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got ''.",
        "port" => "'port' expects a port number as argument.",
        "agent-port" => "'agent-port' expects a port number as argument.",
        "addr" => "'addr' expects <ipv4|ipv6> as argument.",
        "source" => "'source' expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name> as argument.",
        "alpn" => "'alpn' : missing the comma-delimited ALPN protocol suite",
        "proto" => "'proto' : missing value",
        "ciphers" => "'ciphers' : missing cipher suite",
        "track" => "'track' expects [<proxy>/]<server> as argument.",
        "verify" => "'verify' : missing verify method",
        "redir" => "'redir' expects <prefix> as argument.",
        "rise" => "'rise' expects an integer argument.",
        "fall" => "'fall' expects an integer argument.",
        _ => return None,
    }))
}

pub(super) fn suggest_server_option(name: &str) -> Option<&'static str> {
    registry::best_match(name, registry::SERVER_OPTIONS.iter().map(|o| o.name))
}

/// Whether `name` is one of OpenSSL's `X509_V_ERR_*` constants known to HAProxy 2.7.
pub(super) fn is_x509_error_name(name: &str) -> bool {
    registry::x509_error_code(name).is_some()
}
