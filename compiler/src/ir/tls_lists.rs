//! Cipher and curve lists OpenSSL rejects: HAProxy hands each TLS listener's and each TLS
//! server's `ciphers` and `ciphersuites` (their own, else the `ssl-default-*` ones), and each
//! listener's `curves` (else `ecdhe`), to OpenSSL once the configuration is read, and refuses
//! to start when OpenSSL rejects one.

use super::build::location;
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::registry::openssl::{accepts_cipher_list, accepts_ciphersuites, accepts_curves};
use crate::source::{SourceDb, Span};

/// A list as written, with where: on the endpoint's line or on a defaults line.
type Written<'a> = Option<(&'a str, Span)>;

/// An option naming a list, OpenSSL's verdict on such lists, and the list it inherits.
type ListCheck<'a> = (&'static str, fn(&str) -> bool, Written<'a>);

/// The value of the last global `keyword` line, with where it was written.
fn global_value<'a>(config: &'a Config, keyword: &str) -> Written<'a> {
    config
        .global
        .directives
        .iter()
        .rfind(|d| d.keyword == keyword && d.prefix.is_none())
        .and_then(|d| d.args.first().map(|a| (a.as_str(), d.span)))
}

/// The value of the last `option value` pair among `words`, with the value's span.
pub(super) fn option_value<'a>(words: &'a [Spanned<Text>], option: &str) -> Written<'a> {
    words
        .windows(2)
        .rfind(|w| w[0].value == option)
        .map(|w| (w[1].value.as_str(), w[1].span))
}

/// One rejected list: what OpenSSL was asked to set, the list, and where it was written.
pub(crate) struct Rejected<'a> {
    pub what: &'static str,
    pub list: &'a str,
    pub span: Span,
}

/// The lists of one TLS endpoint OpenSSL rejects: its own options first, else the defaults.
fn rejected<'a>(
    own: &'a [Spanned<Text>],
    ciphers: Written<'a>,
    suites: Written<'a>,
) -> Vec<Rejected<'a>> {
    let lists: [ListCheck<'a>; 2] = [
        ("ciphers", accepts_cipher_list, ciphers),
        ("ciphersuites", accepts_ciphersuites, suites),
    ];
    let mut out = Vec::new();
    for (option, accepts, default) in lists {
        if let Some((list, span)) = option_value(own, option).or(default) {
            if !accepts(list) {
                out.push(Rejected {
                    what: what(option),
                    list,
                    span,
                });
            }
        }
    }
    out
}

/// What HAProxy says it failed to set for a list option.
fn what(option: &str) -> &'static str {
    match option {
        "ciphersuites" => "TLS 1.3 cipher suites",
        "curves" => "SSL curves list",
        "ecdhe" => "elliptic named curve",
        _ => "SSL cipher list",
    }
}

/// A listener's `curves` list (its own, else the default one) when OpenSSL rejects it, else
/// its `ecdhe` curve when there is no `curves` list and OpenSSL rejects that.
fn rejected_curves<'a>(curves: Written<'a>, ecdhe: Written<'a>) -> Option<Rejected<'a>> {
    let (option, (list, span)) = match curves {
        Some(c) => ("curves", c),
        None => ("ecdhe", ecdhe?),
    };
    (!accepts_curves(list)).then(|| Rejected {
        what: what(option),
        list,
        span,
    })
}

/// The lists a `crt-list` line sets between its brackets (`options`, each word with its place)
/// that OpenSSL rejects, in the order HAProxy sets them: `ciphers`, `ciphersuites`, then
/// `curves`, else `ecdhe` when neither the line nor its listener (`listener_curves`) has
/// `curves`.
fn rejected_line_lists<'a>(
    options: &'a [Spanned<Text>],
    listener_curves: bool,
) -> Vec<Rejected<'a>> {
    let mut out = rejected(options, None, None);
    let curves = option_value(options, "curves");
    let ecdhe = option_value(options, "ecdhe").filter(|_| !listener_curves);
    out.extend(rejected_curves(curves, ecdhe));
    out
}

/// HAProxy's words for a list a listener's TLS library refused.
fn unable_to_set(db: &SourceDb, p: &Proxy, b: &Bind, r: &Rejected) -> String {
    format!(
        "Proxy '{}': unable to set {} to '{}' for bind '{}' at [{}].",
        p.name_str(),
        r.what,
        r.list,
        b.address.value,
        location(db, b.span)
    )
}

fn diagnostic(message: String, r: &Rejected, line: Span) -> Diagnostic {
    let curves = r.what.contains("curve");
    let mut d = Diagnostic::new("E265", message).at(r.span);
    d = if curves {
        d.label("OpenSSL knows no group by one of these names")
            .help("name groups as OpenSSL does, ':'-separated: X25519, P-256 or prime256v1, secp384r1, ffdhe2048…")
    } else {
        d.label("OpenSSL selects no cipher from this list")
            .help("use OpenSSL's cipher names or class words ('openssl ciphers -v LIST' lists what a list selects)")
    };
    let inside = r.span.file == line.file && r.span.start >= line.start && r.span.end <= line.end;
    if !inside {
        d = d.with_secondary(line, "the TLS endpoint it applies to");
    }
    d
}

pub(super) fn check(db: &SourceDb, config: &Config, out: &mut Vec<Diagnostic>) {
    // HAProxy prepares every server's TLS context while it checks the proxies, and the
    // listeners' contexts after that.
    let server_ciphers = global_value(config, "ssl-default-server-ciphers");
    let server_suites = global_value(config, "ssl-default-server-ciphersuites");
    for p in &config.proxies {
        servers(db, config, p, server_ciphers, server_suites, out);
    }
    let bind_ciphers = global_value(config, "ssl-default-bind-ciphers");
    let bind_suites = global_value(config, "ssl-default-bind-ciphersuites");
    let bind_curves = global_value(config, "ssl-default-bind-curves");
    for p in &config.proxies {
        for b in p.binds.iter().filter(|b| b.ssl) {
            let mut found = rejected(&b.options, bind_ciphers, bind_suites);
            let curves = option_value(&b.options, "curves").or(bind_curves);
            found.extend(rejected_curves(curves, option_value(&b.options, "ecdhe")));
            for r in found {
                let message = unable_to_set(db, p, b, &r);
                // HAProxy prepares a listener's initial and default contexts, and says it twice.
                out.push(
                    diagnostic(message.clone(), &r, b.span)
                        .form(HaproxyForm::Bare)
                        .continuation(message),
                );
            }
        }
    }
}

/// The TLS servers of one proxy.
fn servers(
    db: &SourceDb,
    config: &Config,
    p: &Proxy,
    server_ciphers: Written<'_>,
    server_suites: Written<'_>,
    out: &mut Vec<Diagnostic>,
) {
    if p.servers.is_empty() {
        return;
    }
    // `default-server` options come before each server's own.
    let defaults: Vec<&DirectiveLine> = p.default_server_lines().collect();
    // HAProxy prepares a server's TLS context when the server, its checks (`check-ssl`) or its
    // `default-server` line (even if the server then says `no-ssl`) asks for TLS.
    let tls_word = |w: &str| w == "ssl" || w == "check-ssl";
    let tls_by_default = defaults
        .iter()
        .flat_map(|d| d.args.iter())
        .any(|a| tls_word(a));
    let check_tls = check_connects_with_tls(config, p);
    let tls = |s: &Server| {
        tls_by_default || check_tls || s.words.any(ServerWords::SSL | ServerWords::CHECK_SSL)
    };
    // Most proxies have no TLS server: nothing more to look up for them.
    if !p.servers.iter().any(tls) {
        return;
    }
    // A list given on `default-server` counts as the server's own.
    let default_list = |option: &str| {
        defaults.iter().rev().find_map(|d| {
            d.args
                .windows(2)
                .rfind(|w| w[0] == option)
                .map(|w| (w[1].as_str(), d.span))
        })
    };
    let ciphers = default_list("ciphers").or(server_ciphers);
    let suites = default_list("ciphersuites").or(server_suites);
    // Without `ssl-server-verify none`, a TLS server's certificate is verified by default.
    let verify_by_default =
        global_value(config, "ssl-server-verify").map(|(v, _)| v) != Some("none");
    for s in p.servers.iter().filter(|s| tls(s)) {
        if !p.disabled {
            unverifiable(db, p, s, &defaults, verify_by_default, out);
        }
        for r in rejected(&s.options, ciphers, suites) {
            let message = format!(
                "[{}] : 'server {}/{}' : unable to set {} to '{}'.",
                location(db, s.span),
                p.name_str(),
                s.name.value,
                r.what,
                r.list
            );
            out.push(diagnostic(message, &r, s.span).form(HaproxyForm::Bare));
        }
    }
}

/// Whether a `tcp-check connect` or `http-check connect` rule of the proxy (or of its defaults
/// section) says `ssl`: HAProxy then prepares every server's TLS context, as its checks may
/// connect with TLS.
fn check_connects_with_tls(config: &Config, p: &Proxy) -> bool {
    let says_ssl = |p: &Proxy| {
        p.rules.iter().any(|r| {
            matches!(r.set, RuleSet::TcpCheck | RuleSet::HttpCheck)
                && r.action.value == "connect"
                && r.args.iter().any(|a| a.value == "ssl")
        })
    };
    says_ssl(p) || p.defaults.is_some_and(|d| says_ssl(&config.proxies[d]))
}

/// A TLS server whose certificate is to be verified (by default, or `verify required`) needs
/// the CAs to verify it with: HAProxy refuses a server with neither `ca-file` nor `verify none`
/// (on its line or its `default-server` line).
fn unverifiable(
    db: &SourceDb,
    p: &Proxy,
    s: &Server,
    defaults: &[&DirectiveLine],
    verify_by_default: bool,
    out: &mut Vec<Diagnostic>,
) {
    let words: Vec<&str> = defaults
        .iter()
        .flat_map(|d| d.args.iter().map(|a| a.as_str()))
        .chain(s.options.iter().map(|o| o.value.as_str()))
        .collect();
    let verify = match words.windows(2).rfind(|w| w[0] == "verify").map(|w| w[1]) {
        Some("none") => false,
        Some("required") => true,
        _ => verify_by_default,
    };
    if !verify || words.contains(&"ca-file") {
        return;
    }
    let detail = if verify_by_default {
        "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."
    } else {
        "verify is enabled but no CA file specified."
    };
    let message = format!(
        "[{}] : 'server {}/{}' : {detail}",
        location(db, s.span),
        p.name_str(),
        s.name.value
    );
    out.push(
        Diagnostic::new("E271", message)
            .at(s.span)
            .label("no CA file to verify this server's certificate with")
            .help("add 'ca-file <file>' with the CAs that sign the server's certificate, or 'verify none' on a network you trust")
            .form(HaproxyForm::Bare),
    );
}

/// What HAProxy says, once the configuration is read, of the lists a `crt-list` line sets
/// that OpenSSL rejects (`options`: the words between the line's brackets, placed in the
/// crt-list file); `list_word` is the `crt-list` option's file name on its bind line.
pub fn crt_list_line_lists(
    db: &SourceDb,
    config: &Config,
    list_word: Span,
    options: &[Spanned<Text>],
) -> Vec<Diagnostic> {
    let within = |outer: Span| {
        outer.file == list_word.file && outer.start <= list_word.start && list_word.end <= outer.end
    };
    let Some((p, b)) = config
        .proxies
        .iter()
        .find_map(|p| p.binds.iter().find(|b| within(b.span)).map(|b| (p, b)))
    else {
        return Vec::new();
    };
    let listener_curves = option_value(&b.options, "curves")
        .or(global_value(config, "ssl-default-bind-curves"))
        .is_some();
    rejected_line_lists(options, listener_curves)
        .iter()
        .map(|r| {
            let message = unable_to_set(db, p, b, r);
            diagnostic(message, r, b.span).form(HaproxyForm::Bare)
        })
        .collect()
}
