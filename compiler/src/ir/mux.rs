//! The multiplexer a bind or server line asks for (`proto h1|h2|fcgi|none`, or the QUIC one a
//! `quic4@`/`quic6@` bind implies) against its proxy's mode, as HAProxy checks it once every
//! section is read: the HTTP multiplexers serve `mode http` only, `none` (the raw TCP one)
//! `mode tcp` only.

use super::build::location;
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::source::SourceDb;

/// The mode a multiplexer HAProxy knows works in; `None` for a name it does not know (refused
/// where the line is read).
pub(super) fn mode_of(token: &str) -> Option<Mode> {
    match token {
        "h1" | "h2" | "fcgi" | "quic" => Some(Mode::Http),
        "none" => Some(Mode::Tcp),
        _ => None,
    }
}

/// The value of the last `proto` among `words`.
fn last_proto<'a>(words: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut words = words.peekable();
    let mut found = None;
    while let Some(w) = words.next() {
        if w == "proto" {
            found = words.next();
        }
    }
    found
}

/// One proxy's binds, then its servers (`default-server` words first, the last `proto` wins).
pub(super) fn check(db: &SourceDb, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled {
        return;
    }
    let mode = p.effective_mode();
    if !matches!(mode, Mode::Http | Mode::Tcp) {
        return;
    }
    let unusable = |token: &str| mode_of(token).is_some_and(|m| m != mode);
    let message = |token: &str, what: String, span| {
        format!(
            "{} '{}' : MUX protocol '{token}' is not usable for {what} at [{}].",
            p.kind.type_str(),
            p.name_str(),
            location(db, span)
        )
    };
    let help = match mode {
        Mode::Http => "'proto none' is for 'mode tcp': remove it, or set 'mode tcp'",
        _ => "HTTP protocols need 'mode http': set it, or remove 'proto'",
    };
    for b in &p.binds {
        let quic = b.is_quic();
        let token =
            last_proto(b.options.iter().map(|o| o.value.as_str())).or(quic.then_some("quic"));
        if let Some(token) = token.filter(|t| unusable(t)) {
            out.push(
                Diagnostic::new(
                    "E261",
                    message(token, format!("'bind {}'", b.address.value), b.span),
                )
                .form(HaproxyForm::Bare)
                .at(b.address.span)
                .label(format!("'{token}' does not serve this proxy's mode"))
                .help(if token == "quic" {
                    "QUIC carries HTTP/3 only: set 'mode http', or listen on a TCP address"
                } else {
                    help
                }),
            );
        }
    }
    let defaults: Vec<&str> = p.default_server_words().collect();
    // What a server without a `proto` word of its own takes: the defaults' last `proto`,
    // looked for once (not along every server's words), unless the defaults end with a
    // `proto` whose value is then the server's first word.
    let inherited =
        (defaults.last() != Some(&"proto")).then(|| last_proto(defaults.iter().copied()));
    for s in &p.servers {
        let token = match inherited {
            Some(inherited) if !s.words.any(ServerWords::PROTO) => inherited,
            _ => last_proto(
                defaults
                    .iter()
                    .copied()
                    .chain(s.options.iter().map(|o| o.value.as_str())),
            ),
        };
        let Some(token) = token.filter(|t| unusable(t)) else {
            continue;
        };
        let ids: Vec<String> = match s.template {
            Some((first, last)) => (first..=last.max(first))
                .map(|n| format!("{}{n}", s.name.value))
                .collect(),
            None => vec![s.name.value.to_string()],
        };
        for id in ids {
            out.push(
                Diagnostic::new("E261", message(token, format!("server '{id}'"), s.span))
                    .form(HaproxyForm::Bare)
                    .at(s.name.span)
                    .label(format!("'{token}' does not serve this proxy's mode"))
                    .help(help),
            );
        }
    }
}
