//! What `check` and `run` say about TLS settings rustls handles differently from OpenSSL: the
//! cipher, suite and group names it does not offer (U002, left out of the lists at start-up)
//! and `tune.ssl.default-dh-param`/`ssl-dh-param-file`, which have nothing to act on (U003).

use crate::check::Compilation;
use crate::diagnostic::Diagnostic;
use crate::registry::{ciphers, SectionKind};

/// Evaluates one OpenSSL list.
type ListEvaluator = fn(&str) -> ciphers::Selection;

/// What an option or global keyword names (ciphers, suites or groups), and its evaluator.
fn evaluator(keyword: &str) -> Option<(&'static str, ListEvaluator)> {
    Some(match keyword {
        "ciphers" | "ssl-default-bind-ciphers" | "ssl-default-server-ciphers" => {
            ("cipher", ciphers::tls12)
        }
        "ciphersuites" | "ssl-default-bind-ciphersuites" | "ssl-default-server-ciphersuites" => {
            ("TLS 1.3 suite", ciphers::tls13)
        }
        "curves" | "ecdhe" | "ssl-default-bind-curves" | "ssl-default-server-curves" => {
            ("curve", ciphers::groups)
        }
        _ => return None,
    })
}

/// The TLS names rustls does not offer (U002) and the DH settings it ignores (U003).
pub fn diagnostics(c: &Compilation) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for section in &c.tree.sections {
        let global = section.kind == SectionKind::Global;
        let proxy = matches!(
            section.kind,
            SectionKind::Frontend
                | SectionKind::Listen
                | SectionKind::Defaults
                | SectionKind::Backend
        );
        if !global && !proxy {
            continue;
        }
        for line in c.tree.body(section) {
            let words: Vec<&str> = line.words.iter().map(|w| w.value.as_str()).collect();
            let Some(&kw) = words.first() else { continue };
            if global && matches!(kw, "tune.ssl.default-dh-param" | "ssl-dh-param-file") {
                out.push(
                    Diagnostic::new(
                        "U003",
                        format!("'{kw}' has no effect: rustls has no finite-field DHE key exchange (ECDHE is used)"),
                    )
                    .at(line.words[0].span),
                );
                continue;
            }
            // The value positions to look at: after the keyword (global) or after each
            // option name of a `bind` line.
            let pairs: Vec<usize> = match (global, kw) {
                (true, _) if evaluator(kw).is_some() => vec![0],
                (false, "bind" | "server" | "default-server") => (2..words.len())
                    .filter(|&i| evaluator(words[i]).is_some())
                    .collect(),
                _ => Vec::new(),
            };
            for i in pairs {
                let (Some((what, eval)), Some(value)) =
                    (evaluator(words[i]), line.words.get(i + 1))
                else {
                    continue;
                };
                let selection = eval(&value.value);
                if !selection.stand_ins.is_empty() {
                    out.push(
                        Diagnostic::new("U002", ciphers::KRSA_STAND_IN.to_string())
                            .at(value.span)
                            .label("no RSA key exchange in rustls"),
                    );
                }
                for name in selection.unknown {
                    let message = match ciphers::dhe_stand_in(&name).filter(|_| what == "cipher") {
                        Some((ecdhe, _)) => format!("rustls does not offer the {what} '{name}' (no finite-field DHE): 'hapee-lb run' leaves it out, or serves '{ecdhe}' in its place when the list has nothing else"),
                        None => format!("rustls does not offer the {what} '{name}': 'hapee-lb run' leaves it out"),
                    };
                    out.push(
                        Diagnostic::new("U002", message)
                            .at(value.span)
                            .label("not offered by rustls"),
                    );
                }
            }
        }
    }
    out
}
