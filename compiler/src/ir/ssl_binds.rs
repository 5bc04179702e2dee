//! A bind's certificates against its `ssl` setting, as HAProxy checks them once every section
//! is read: TLS needs a certificate (`crt` or `crt-list`), unless `strict-sni` makes the missing
//! one only a warning; a certificate on a bind without TLS is only warned about. A `crt`
//! directory without certificate files, or an empty `crt-list`, gives the bind none.

use super::build::location;
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::source::{SourceDb, Span};

/// One proxy's binds, in their order; `certless` names the certificate words that loaded none.
/// A TLS bind HAProxy goes on preparing has its protocol versions checked then.
pub(super) fn check(
    db: &SourceDb,
    config: &Config,
    p: &Proxy,
    certless: &[Span],
    out: &mut Vec<Diagnostic>,
) {
    if p.disabled {
        return;
    }
    for b in &p.binds {
        let has = |word: &str| b.options.iter().any(|o| o.value == word);
        // A QUIC address turns TLS on by itself.
        let ssl = b.ssl || b.is_quic();
        let certificate = b.options.iter().enumerate().any(|(i, o)| {
            matches!(o.value.as_str(), "crt" | "crt-list")
                && !b
                    .options
                    .get(i + 1)
                    .is_some_and(|v| certless.contains(&v.span))
        });
        let place = |what: &str| {
            format!(
                "Proxy '{}': {what} bind '{}' at [{}]",
                p.name_str(),
                b.address.value,
                location(db, b.span)
            )
        };
        let missing = "no SSL certificate specified for";
        let d = match (ssl, certificate) {
            (true, false) if has("strict-sni") && !has("generate-certificates") => {
                let message = place(missing) + ", ssl connections will fail (use 'crt').";
                Diagnostic::new("W286", message)
            }
            (true, false) => Diagnostic::new("E286", place(missing) + " (use 'crt')."),
            (false, true) => {
                let unused = "A certificate was specified but SSL was not enabled on";
                Diagnostic::new("W286", place(unused) + " (use 'ssl').")
            }
            _ => Diagnostic::new("", ""),
        };
        let refused = d.code == "E286";
        if !d.code.is_empty() {
            out.push(
                d.form(HaproxyForm::Bare)
                    .at(b.address.span)
                    .label("TLS and certificates go together on a bind")
                    .help("give a TLS bind its certificate with 'crt <file or directory>' or 'crt-list <file>', and a bind with a certificate the 'ssl' word"),
            );
        }
        if b.ssl && !b.is_quic() && !refused {
            super::tls_versions::check(config, b, &place, out);
        }
    }
}
