//! `crt-list` files, read as HAProxy 2.7 reads them while it parses their bind line
//! ([`crate::plan::crt_list`], which the runtime loads its certificates with): each line's CA
//! and CRL files and its certificate are loaded in turn, and the first problem (a file, or a
//! malformed line) is reported on the bind line with the place in the crt-list file. The lists
//! a line sets are handed to OpenSSL once the configuration is read, and reported then.

use super::{ca_store, certificate, read_capped, under_default_path, CaStoreError};
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::ir::{Config, FileKind, FileRef, Spanned, Text};
use crate::plan::crt_list::{parse, CrtListEntry, ListWord};
use crate::plan::tls::with_base;
use crate::source::{io_reason, SourceDb, Span};
use std::path::Path;

/// The diagnostics of every `crt-list` the configuration names; each file read is added to
/// `db`, so that the diagnostics can point into it.
pub fn check(db: &mut SourceDb, config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in &config.files {
        if r.kind != FileKind::CertificateList || r.path.value.is_empty() {
            continue;
        }
        out.extend(one_list(db, config, r));
    }
    out
}

/// The global `ca-base` (HAProxy keeps the last one).
fn ca_base(config: &Config) -> Option<String> {
    config
        .global
        .directives
        .iter()
        .rfind(|d| d.keyword == "ca-base" && d.prefix.is_none())
        .and_then(|d| d.args.first().map(|a| a.to_string()))
}

fn one_list(db: &mut SourceDb, config: &Config, r: &FileRef) -> Vec<Diagnostic> {
    let shown = r.path.value.as_str();
    let context = r.wording.as_ref().map_or("", |w| w.0.as_str());
    let alert_coded = |code: &'static str, message: String| {
        Diagnostic::new(code, format!("{context}'crt-list' : {message}"))
            .at(r.path.span)
            .label("this crt-list")
            .note("checked against this machine; use --no-env to skip file checks")
    };
    let alert = |message: String| alert_coded("E402", message);
    // HAProxy opens the list where it is written: `crt-base` is for the certificates in it.
    let path = under_default_path(Path::new(shown), config.global.default_path.as_deref());
    let text = match read_capped(&path) {
        Ok(text) => text,
        Err(e) => {
            return vec![alert(format!(
                "cannot open file '{shown}' : {}",
                io_reason(&e)
            ))]
        }
    };
    let (entries, error) = parse(shown, &text);
    let file = db.add(shown, text);
    let place = |w: &ListWord| Span::new(file, w.at, w.at + w.text.len());
    let ca_base = ca_base(config);
    for entry in &entries {
        if let Some(found) = entry_files(entry, r, config, ca_base.as_ref(), &alert, place) {
            return found;
        }
    }
    if let Some(e) = error {
        return vec![alert_coded("E412", e.message)
            .with_secondary(Span::new(file, e.at, e.end), "here in the crt-list file")];
    }
    // The lists are set when the listener's TLS is prepared, once everything is read.
    let mut out = Vec::new();
    for entry in &entries {
        let options: Vec<Spanned<Text>> = entry
            .options
            .iter()
            .map(|w| Spanned {
                value: Text::from(w.text.as_str()),
                span: place(w),
            })
            .collect();
        out.extend(
            crate::ir::crt_list_line_lists(db, config, r.path.span, &options)
                .into_iter()
                .map(|mut d| {
                    d.after_parse = true;
                    d
                }),
        );
    }
    out
}

/// The files one line names, in the order HAProxy loads them: the CA and CRL files among its
/// options, then its certificate. The diagnostics of the first that fails, if one does.
fn entry_files(
    entry: &CrtListEntry,
    r: &FileRef,
    config: &Config,
    ca_base: Option<&String>,
    alert: &impl Fn(String) -> Diagnostic,
    place: impl Fn(&ListWord) -> Span,
) -> Option<Vec<Diagnostic>> {
    let default_path = config.global.default_path.as_deref();
    for pair in entry.options.windows(2) {
        let (option, value) = (&pair[0], &pair[1]);
        if !matches!(
            option.text.as_str(),
            "ca-file" | "ca-verify-file" | "crl-file"
        ) {
            continue;
        }
        let named = with_base(&ca_base.cloned(), &value.text);
        let path = under_default_path(Path::new(&named), default_path);
        if let Err(e) = ca_store(&path) {
            let message = format!("'{}' : unable to load {named}", option.text);
            return Some(vec![
                couldnt_open(&named, &e, r.path.span, None),
                alert(message).with_secondary(place(value), "this file, named in the crt-list"),
            ]);
        }
    }
    let named = with_base(&r.base, &entry.crt.text);
    let path = under_default_path(Path::new(&named), default_path);
    if let Err(message) = certificate(&path, config.global.ssl_load_extra_del_ext) {
        return Some(vec![alert(message).with_secondary(
            place(&entry.crt),
            "this certificate, named in the crt-list",
        )]);
    }
    None
}

/// The alert HAProxy prints first when a CA or CRL file does not load, which does not fail the
/// check by itself (the option's error that follows does): `[ALERT]` without a place, or on a
/// server line within the line's message context, its place then `server_context`.
pub(super) fn couldnt_open(
    named: &str,
    e: &CaStoreError,
    at: Span,
    server_context: Option<&str>,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        "E402",
        format!(
            "{}Couldn't open the ca-file '{named}' ({}).",
            server_context.unwrap_or(""),
            e.reason()
        ),
    )
    .at(at)
    .label("this file")
    .form(if server_context.is_some() {
        HaproxyForm::FileLine
    } else {
        HaproxyForm::Bare
    });
    d.severity = Severity::Warning;
    d.haproxy_level = Some(Severity::Error);
    d
}
