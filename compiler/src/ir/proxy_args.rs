//! Proxy keywords whose values HAProxy requires, refused without them, in HAProxy's words
//! (`description` is not among them: HAProxy stops reading the file there), and the error page
//! lines (`errorfile`, `errorloc*`), whose status must be one HAProxy has a page for.

use super::build::{Builder, Stmt};
use crate::diagnostic::{Diagnostic, HaproxyForm};

/// Each keyword, HAProxy's message when its value is missing, and the message's form.
const NEEDS_VALUE: &[(&str, &str, HaproxyForm)] = &[
    (
        "dynamic-cookie-key",
        "'dynamic-cookie-key' expects <secret_key> as argument.",
        HaproxyForm::Parsing,
    ),
    (
        "fullconn",
        "'fullconn' expects an integer argument.",
        HaproxyForm::Parsing,
    ),
    (
        "retries",
        "'retries' expects an integer argument (dispatch counts for one).",
        HaproxyForm::Parsing,
    ),
    (
        "unique-id-header",
        "unique-id-header expects an argument.",
        HaproxyForm::Parsing,
    ),
    (
        "log-tag",
        "'log-tag' expects a tag for use in syslog.",
        HaproxyForm::Parsing,
    ),
    (
        "monitor-uri",
        "'monitor-uri' expects an URI.",
        HaproxyForm::Parsing,
    ),
    (
        "http-send-name-header",
        "'http-send-name-header' requires a header string.",
        HaproxyForm::Parsing,
    ),
];

/// Refuses the line when its keyword (`stmt.word(0)`) has no value; true if it did.
pub(super) fn missing_value(b: &mut Builder, stmt: &Stmt) -> bool {
    let keyword = stmt.word(0);
    let Some((_, message, form)) = NEEDS_VALUE.iter().find(|(k, _, _)| *k == keyword) else {
        return false;
    };
    if !stmt.word(1).is_empty() {
        return false;
    }
    b.push(
        Diagnostic::new("E297", *message)
            .at(stmt.span(0))
            .label("value missing")
            .form(*form),
    );
    true
}

/// Checks an error page line (`errorfile`, `errorloc`, `errorloc302`, `errorloc303`) of a proxy
/// or, with `in_section`, an `errorfile` of an `http-errors` section: both arguments present and
/// a status HAProxy keeps a page for. HAProxy reads the status as `atol` does and checks it
/// before it opens the file, so an `errorfile`'s file is the environment's to check only once
/// both are right.
pub(super) fn error_page(b: &mut Builder, stmt: &Stmt, in_section: bool) {
    let keyword = stmt.word(0);
    if stmt.word(1).is_empty() || stmt.word(2).is_empty() {
        let what = if keyword == "errorfile" {
            "file"
        } else {
            "url"
        };
        // The section's parser writes no space before its colon.
        let sep = if in_section { ":" } else { " :" };
        let message = format!("{keyword}{sep} expects <status_code> and <{what}> as arguments.");
        b.push(
            Diagnostic::new("E292", message)
                .at(stmt.whole())
                .label("status or page missing"),
        );
        return;
    }
    let status = super::values::atol(stmt.word(1));
    if !crate::plan::errors::STATUSES
        .iter()
        .any(|&s| i64::from(s) == status)
    {
        b.push(
            Diagnostic::new(
                "E292",
                format!("{keyword} : status code '{status}' not handled."),
            )
            .at(stmt.span(1))
            .label("no page for this status"),
        );
        return;
    }
    if keyword == "errorfile" {
        b.file_ref(
            crate::ir::model::FileKind::ErrorFile,
            "errorfile",
            stmt.spanned(2),
        );
    }
}

/// `rate-limit sessions <n>`: the only limit HAProxy has, with a number C's `strtoul` reads whole;
/// without a frontend side it is ignored with a warning.
pub(super) fn rate_limit(b: &mut Builder, index: usize, stmt: &Stmt) {
    let (what, value) = (stmt.word(1), stmt.word(2));
    let refusal = if what != "sessions" {
        Some((
            format!("'rate-limit' only supports 'sessions' (got '{what}')"),
            1,
        ))
    } else if value.is_empty() {
        let message = "'rate-limit sessions' expects expects an integer value (in sessions/second)";
        Some((message.to_string(), 1))
    } else {
        let end = crate::cnum::strtol(value, 0).end;
        value[end..].chars().next().map(|c| {
            let message = format!(
                "'rate-limit sessions' : unexpected character '{c}' in integer value '{value}'"
            );
            (message, 2)
        })
    };
    if let Some((message, at)) = refusal {
        b.push(
            Diagnostic::new("E522", message)
                .at(stmt.span(at))
                .label("not a session rate HAProxy takes"),
        );
        return;
    }
    let p = &b.config.proxies[index];
    if !p.kind.has_frontend() && p.kind != super::model::ProxyKind::Defaults {
        let message = format!(
            "rate-limit sessions will be ignored because {} '{}' has no frontend capability",
            p.kind.type_str(),
            p.name_str()
        );
        b.push(
            Diagnostic::new("W522", message)
                .at(stmt.span(0))
                .severity(crate::diagnostic::Severity::Warning)
                .label("only a frontend limits its sessions"),
        );
    }
}

/// A proxy's `id <n>`: a number above 0 (read as C's `atol`). (Two proxies with one id are not
/// found here: sections may be read apart.)
pub(super) fn proxy_id(b: &mut Builder, index: usize, stmt: &Stmt) {
    let value = stmt.word(1);
    let tight = |b: &mut Builder, message: String| {
        b.push(
            Diagnostic::new("E523", message)
                .at(stmt.span(1.min(stmt.len().saturating_sub(1))))
                .label("not a proxy id HAProxy takes")
                .form(HaproxyForm::ParsingTight),
        );
    };
    if b.config.proxies[index].kind == super::model::ProxyKind::Defaults || stmt.len() > 2 {
        return;
    }
    if value.is_empty() {
        return tight(b, "'id' expects an integer argument.".to_string());
    }
    if crate::cnum::atol(value) <= 0 {
        tight(b, "custom id has to be > 0.".to_string());
    }
}

/// `persist rdp-cookie[(<name>)]`: the only persistence method HAProxy knows.
pub(super) fn persist(b: &mut Builder, stmt: &Stmt) {
    let method = stmt.word(1);
    let (code, message, at) = if method.is_empty() {
        ("E297", "missing persist method.", 0)
    } else if let Some(rest) = method.strip_prefix("rdp-cookie") {
        let named = rest
            .strip_prefix('(')
            .and_then(|r| r.find(')'))
            .is_some_and(|end| end > 0);
        if rest.is_empty() || named {
            return;
        }
        (
            "E534",
            "persist rdp-cookie(name)' requires an rdp cookie name.",
            1,
        )
    } else {
        ("E534", "unknown persist method.", 1)
    };
    b.push(
        Diagnostic::new(code, message)
            .at(stmt.span(at))
            .label("persistence is 'persist rdp-cookie' or 'persist rdp-cookie(<name>)'")
            .form(HaproxyForm::Parsing),
    );
}

/// A proxy's `stats` settings that need a value (`uri`, `realm`, `auth`, `scope`) and the
/// page's `refresh` time; `at` is the `stats` word.
pub(super) fn stats(b: &mut Builder, stmt: &Stmt, at: usize) {
    let setting = stmt.word(at + 1);
    if setting == "refresh" {
        let target = "stats refresh interval";
        super::timeouts::timer(b, stmt, at + 2, super::values::TimeUnit::S, target);
        return;
    }
    let message = match setting {
        "uri" => "'uri' needs an URI prefix.",
        "realm" => "'realm' needs an realm name.",
        "auth" => "'auth' needs a user:password account.",
        "scope" => "'scope' needs a proxy name.",
        _ => return,
    };
    if stmt.word(at + 2).is_empty() {
        b.push(
            Diagnostic::new("E297", message)
                .at(stmt.span(at + 1))
                .label("value missing")
                .form(HaproxyForm::Parsing),
        );
    }
}

/// The values of `option forwardfor`, `option originalto` and
/// `option http-restrict-req-hdr-names`; `at` is the `option` word.
pub(super) fn option_values(b: &mut Builder, stmt: &Stmt, at: usize) {
    let option = stmt.word(at + 1);
    let refuse = |b: &mut Builder, i: usize, message: String| {
        b.push(
            Diagnostic::new("E538", message)
                .at(stmt.span(i))
                .label("refused by HAProxy")
                .form(HaproxyForm::Parsing),
        );
    };
    if option == "http-restrict-req-hdr-names" {
        let value = stmt.word(at + 2);
        let message = match value {
            "preserve" | "reject" | "delete" => return,
            "" => format!("missing parameter. option '{option}' expects 'preserve', 'reject' or 'delete' option."),
            _ => format!("invalid parameter '{value}'. option '{option}' expects 'preserve', 'reject' or 'delete' option."),
        };
        return refuse(b, (at + 2).min(stmt.len().saturating_sub(1)), message);
    }
    let if_none = option == "forwardfor";
    if !if_none && option != "originalto" {
        return;
    }
    let mut i = at + 2;
    while !stmt.word(i).is_empty() {
        let word = stmt.word(i);
        match word {
            "except" if !is_network(stmt.word(i + 1)) => {
                let message =
                    format!("'option {option} except' expects <address>[/mask] as argument.");
                return refuse(b, i, message);
            }
            "header" if stmt.word(i + 1).is_empty() => {
                let message =
                    format!("'option {option} header' expects <header_name> as argument.");
                return refuse(b, i, message);
            }
            "except" | "header" => i += 2,
            "if-none" if if_none => i += 1,
            _ => {
                let values = if if_none {
                    "'except', 'header' and 'if-none'"
                } else {
                    "'except' and 'header'"
                };
                let message = format!("'option {option}' only supports optional values: {values}.");
                return refuse(b, i, message);
            }
        }
    }
}

/// Whether HAProxy reads `word` as a network (`str2net`, then `str62net`): the same rule as
/// an `ip` ACL pattern's, a name being one it resolves.
fn is_network(word: &str) -> bool {
    !word.is_empty() && !super::values::ip_pattern_invalid(word, true)
}

/// `capture cookie <name> len <n>`, `capture request|response header <name> len <n>`.
pub(super) fn capture(b: &mut Builder, stmt: &Stmt) {
    let what = stmt.word(1);
    let header = stmt.word(2) == "header";
    let message = match what {
        "cookie" if stmt.word(4).is_empty() => {
            "'capture' expects 'cookie' <cookie_name> 'len' <len>.".to_string()
        }
        "cookie" => return,
        "request" | "response" if header => {
            if !stmt.word(3).is_empty() && stmt.word(4) == "len" && !stmt.word(5).is_empty() {
                return;
            }
            format!("'capture {what}' expects 'header' <header_name> 'len' <len>.")
        }
        _ => "'capture' expects 'cookie' or 'request header' or 'response header'.".to_string(),
    };
    b.push(
        Diagnostic::new("E538", message)
            .at(stmt.span(0))
            .label("refused by HAProxy")
            .form(HaproxyForm::Parsing),
    );
}

/// `email-alert from|mailers|myhostname|to <value>` and `email-alert level <level>`.
pub(super) fn email_alert(b: &mut Builder, stmt: &Stmt) {
    let (what, value) = (stmt.word(1), stmt.word(2));
    let (message, at) = match what {
        "" => ("missing argument after 'email-alert'.".to_string(), 0),
        "from" | "mailers" | "myhostname" | "to" => return,
        "level" if super::directives::LEVELS.contains(&value) => return,
        // HAProxy names the two words the other way round.
        "level" => (format!("unknown log level '{what}' after '{value}'"), 2),
        _ => (format!("email-alert: unknown argument '{what}'."), 1),
    };
    b.push(
        Diagnostic::new("E538", message)
            .at(stmt.span(at))
            .label("refused by HAProxy")
            .form(HaproxyForm::Parsing),
    );
}
