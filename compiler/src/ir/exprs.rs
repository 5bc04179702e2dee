//! Expressions inside directives: ACL declarations, `if`/`unless` conditions, sample expressions
//! and log-format strings, parsed with [`crate::expr`] and checked in the proxy's context.

use super::build::{Builder, Stmt};
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::expr::{condition, logformat, sample};
use crate::source::Span;

/// ACLs every proxy knows without declaring them.
pub const BUILTIN_ACLS: [&str; 22] = [
    "TRUE",
    "FALSE",
    "LOCALHOST",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_2.0",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
    "HTTP_URL_ABS",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "HTTP_CONTENT",
    "RDP_COOKIE",
    "REQ_CONTENT",
    "WAIT_END",
];

/// Span of `[start, end)` inside a word whose cooked value maps 1:1 onto its raw text; the whole
/// word otherwise (quotes or escapes shift offsets).
fn inner_span(word: &Spanned<Text>, raw_len: usize, start: usize, end: usize) -> Span {
    if raw_len == word.value.len() {
        Span {
            file: word.span.file,
            start: word.span.start + start as u32,
            end: word.span.start + end.max(start + 1).min(word.value.len()) as u32,
        }
    } else {
        word.span
    }
}

fn raw_len(b: &Builder, w: &Spanned<Text>) -> usize {
    b.db.text(w.span).len()
}

/// Parses a sample expression from the criterion of an ACL (an ACL keyword such as `path_beg`
/// stands for its fetch).
fn acl_criterion(text: &str) -> String {
    let name_len = text.find(['(', ',']).unwrap_or(text.len());
    match crate::registry::acl_keyword(&text[..name_len]) {
        Some(k) if !matches!(k.fetch, "" | "NULL") && k.fetch != &text[..name_len] => {
            format!("{}{}", k.fetch, &text[name_len..])
        }
        _ => text.to_string(),
    }
}

/// Records object references of an expression for the post-parse resolution.
fn keep_refs(
    b: &mut Builder,
    index: usize,
    expr: &sample::SampleExpr,
    span: Span,
    context: RefContext,
) {
    for r in &expr.refs {
        b.config.proxies[index].sample_refs.push(SampleRef {
            reference: r.clone(),
            span,
            context,
        });
    }
}

/// An `acl <name> <criterion> …` line.
pub(super) fn acl_decl(b: &mut Builder, index: usize, stmt: &Stmt) {
    let name = stmt.spanned(1);
    if name.value.is_empty() {
        b.push(Diagnostic::new("E501", "'acl' expects a name and a criterion.").at(stmt.span(0)));
        return;
    }
    if let Some(c) = name
        .value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        b.push(
            Diagnostic::new("E501", format!("error detected while parsing ACL '{}' : ACL keyword name '{}' contains invalid character '{c}'.", name.value, name.value))
                .at(name.span),
        );
        return;
    }
    let criterion = stmt.spanned(2);
    if criterion.value.is_empty() {
        b.push(
            Diagnostic::new(
                "E501",
                format!(
                    "error detected while parsing ACL '{}' : missing ACL expression.",
                    name.value
                ),
            )
            .at(stmt.span(1)),
        );
    } else {
        check_acl_expr(b, index, &name.value, &criterion, RefContext::Acl);
    }
    let decl = AclDecl {
        name,
        span: stmt.whole(),
        words: stmt.spanned_from(2),
    };
    b.config.proxies[index].acls.push(decl);
}

fn check_acl_expr(
    b: &mut Builder,
    index: usize,
    acl: &str,
    criterion: &Spanned<Text>,
    context: RefContext,
) {
    // Large configurations repeat the same criteria (`hdr(host)`…): parse each text once.
    let parsed = match b.acl_criteria.get(criterion.value.as_str()) {
        Some(cached) => cached.clone(),
        None => {
            let result =
                sample::parse(&acl_criterion(&criterion.value), true).map(|(expr, _)| expr.refs);
            b.acl_criteria
                .insert(criterion.value.to_string(), result.clone());
            result
        }
    };
    match parsed {
        Ok(refs) => {
            for r in refs {
                b.config.proxies[index].sample_refs.push(SampleRef {
                    reference: r,
                    span: criterion.span,
                    context,
                });
            }
        }
        Err(e) => {
            let span = inner_span(
                criterion,
                raw_len(b, criterion),
                e.at.min(criterion.value.len()),
                criterion.value.len(),
            );
            b.push(
                Diagnostic::new(
                    "E502",
                    format!("error detected while parsing ACL '{acl}' : {}.", e.message),
                )
                .at(span)
                .label("invalid ACL criterion"),
            );
        }
    }
}

/// Parses the condition in `cond` (starting at `if`/`unless`) and checks its ACL names.
/// `what` is the context HAProxy names in its message (`an 'http-request deny'`, `switching rule`…).
pub(super) fn condition(b: &mut Builder, index: usize, cond: &[Spanned<Text>], what: &str) {
    if cond.is_empty() {
        return;
    }
    let words: Vec<(Span, &str)> = cond.iter().map(|w| (w.span, w.value.as_str())).collect();
    let parsed = match condition::parse_parts(&words) {
        Ok(c) => c,
        Err(e) => {
            b.push(
                Diagnostic::new(
                    "E503",
                    format!("error detected while parsing {what} : {}.", e.message),
                )
                .at(e.span)
                .label("invalid condition"),
            );
            return;
        }
    };
    for u in parsed.acl_uses() {
        let known = BUILTIN_ACLS.contains(&u.name.as_str())
            || b.config.proxies[index]
                .acls
                .iter()
                .any(|a| a.name.value == u.name);
        if !known {
            let later = b.config.proxies[index].name_str().to_string();
            let mut d = Diagnostic::new(
                "E504",
                format!(
                    "error detected while parsing {what} : no such ACL : '{}'.",
                    u.name
                ),
            )
            .at(u.span)
            .label("no ACL with this name in this section");
            if let Some(best) = crate::registry::best_match(
                &u.name,
                b.config.proxies[index]
                    .acls
                    .iter()
                    .map(|a| a.name.value.as_str()),
            ) {
                d = d.help(format!("did you mean '{best}'?"));
            }
            let _ = later;
            b.push(d);
        }
    }
    for anon in parsed.anonymous() {
        if let Some(first) = anon.words.first() {
            let criterion = Spanned::from_word(first);
            check_acl_expr(b, index, "anonymous", &criterion, RefContext::Acl);
        }
    }
}

/// Parses a log-format string argument and keeps its references.
pub(super) fn log_format(
    b: &mut Builder,
    index: usize,
    word: &Spanned<Text>,
    context: RefContext,
    what: &str,
) {
    match logformat::parse(&word.value) {
        Ok(lf) => {
            for e in lf.expressions() {
                keep_refs(b, index, e, word.span, context);
            }
        }
        Err(e) => {
            let span = inner_span(word, raw_len(b, word), e.at, word.value.len());
            b.push(
                Diagnostic::new("E505", format!("{what}{}", e.message))
                    .at(span)
                    .label("invalid log-format string"),
            );
        }
    }
}

/// Parses a sample expression argument (e.g. the key of `track-sc0`).
pub(super) fn sample_arg(
    b: &mut Builder,
    index: usize,
    word: &Spanned<Text>,
    context: RefContext,
    what: &str,
) {
    match sample::parse(&word.value, false) {
        Ok((expr, _)) => keep_refs(b, index, &expr, word.span, context),
        Err(e) => {
            let span = inner_span(word, raw_len(b, word), e.at, word.value.len());
            b.push(
                Diagnostic::new("E506", format!("{what}{}", e.message))
                    .at(span)
                    .label("invalid sample expression"),
            );
        }
    }
}

/// The post-parse resolution of object references in expressions (HAProxy's `smp_resolve_args`).
pub(super) fn resolve_refs(
    db: &crate::source::SourceDb,
    config: &Config,
    p: &Proxy,
    out: &mut Vec<Diagnostic>,
) {
    use crate::registry::ArgType;
    for r in &p.sample_refs {
        let o = &r.reference;
        let ctx = if r.context == RefContext::Acl {
            "ACL keyword"
        } else {
            "sample fetch keyword"
        };
        let conv = o
            .converter
            .as_ref()
            .map_or(String::new(), |c| format!("conversion keyword '{c}' for "));
        let ctx = format!("{conv}{ctx} '{}'", o.keyword);
        let where_ = r.context.where_text();
        let tail = format!(
            "in arg {} of {ctx} {where_} proxy '{}'.",
            o.position,
            p.name_str()
        );
        let is_defaults = p.kind == ProxyKind::Defaults;
        let err = match o.kind {
            ArgType::Server => {
                if o.value.is_empty() {
                    Some(format!("missing server name {tail}"))
                } else if let Some((px, srv)) = o.value.rsplit_once('/') {
                    match config.backend(px) {
                        None => Some(format!("unable to find proxy '{px}' referenced {tail}")),
                        Some((_, be)) if !be.servers.iter().any(|s| s.name.value == srv) => {
                            Some(format!(
                                "unable to find server '{srv}' in proxy '{px}', referenced {tail}"
                            ))
                        }
                        _ => None,
                    }
                } else if is_defaults {
                    Some(format!("backend name must be set {tail}"))
                } else if !p.servers.iter().any(|s| s.name.value == o.value) {
                    Some(format!(
                        "unable to find server '{}' in proxy '{}', referenced {tail}",
                        o.value,
                        p.name_str()
                    ))
                } else {
                    None
                }
            }
            ArgType::Backend if !o.value.is_empty() => config
                .backend(&o.value)
                .is_none()
                .then(|| format!("unable to find backend '{}' referenced {tail}", o.value)),
            ArgType::Frontend if !o.value.is_empty() => config
                .frontend(&o.value)
                .is_none()
                .then(|| format!("unable to find frontend '{}' referenced {tail}", o.value)),
            ArgType::Table => {
                let name = if o.value.is_empty() {
                    p.name_str()
                } else {
                    o.value.as_str()
                };
                let own = o.value.is_empty() && p.stick_table.is_some();
                (!own && !config.has_table(name))
                    .then(|| format!("unable to find table '{name}' referenced {tail}"))
            }
            ArgType::Userlist => {
                if o.value.is_empty() {
                    Some(format!("missing userlist name {tail}"))
                } else {
                    config
                        .section(crate::registry::SectionKind::Userlist, &o.value)
                        .is_none()
                        .then(|| format!("unable to find userlist '{}' referenced {tail}", o.value))
                }
            }
            _ => None,
        };
        if let Some(message) = err {
            let _ = db;
            out.push(
                Diagnostic::new("E507", message)
                    .at(r.span)
                    .label("unresolved reference")
                    .form(HaproxyForm::ParsingTight),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::compile_text;

    #[test]
    fn acl_keywords_without_their_own_fetch_use_the_fetch_of_the_same_name() {
        let c = compile_text(
            "m.cfg",
            "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
             frontend fe\n  bind :8080\n  acl meth method POST PUT\n  http-request deny if meth\n\
             default_backend b\nbackend b\n  server s 127.0.0.1:1\n",
            false,
        );
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
    }
}
