//! Expressions inside directives: ACL declarations, `if`/`unless` conditions, sample expressions
//! and log-format strings, parsed with [`crate::expr`] and checked in the proxy's context.

use super::acl::{acl_options, check_acl_expr, method_required, no_pattern_warning};
use super::build::Builder;
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
pub(super) fn inner_span(word: &Spanned<Text>, raw_len: usize, start: usize, end: usize) -> Span {
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

pub(super) fn raw_len(b: &Builder, w: &Spanned<Text>) -> usize {
    b.db.text(w.span).len()
}

/// Records object references of an expression for the post-parse resolution.
pub(super) fn keep_refs(
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

/// The files of an expression's map converters (`map_str(/etc/hosts.map)` → its path): HAProxy
/// loads them while it parses the line.
pub(super) fn map_files(expr: &sample::SampleExpr) -> Vec<(String, String)> {
    expr.converters
        .iter()
        .filter(|c| c.name.starts_with("map"))
        .filter_map(|c| {
            // An empty file name is kept: HAProxy fails to open it.
            Some((c.name.clone(), c.args.first()?.clone()))
        })
        .collect()
}

/// A map converter's file, whose error HAProxy words as the converter's between the words
/// `wrap` of where the expression is.
pub(super) fn map_file_ref(
    b: &mut Builder,
    converter: &str,
    file: &str,
    span: Span,
    wrap: (&str, &str),
) {
    b.pattern_file_ref(
        Spanned::new(file.into(), span),
        format!("{}invalid args in converter '{converter}' : ", wrap.0),
        wrap.1,
    );
}

/// Where a condition is written, which decides how HAProxy words its errors. The parts are
/// borrowed and worded only when an error shows up (every rule line builds one).
pub(super) enum CondSite<'a> {
    /// `error detected while parsing <phrase> : <error>.` (`switching rule`…).
    Phrase(&'a str),
    /// An HTTP rule: the phrase is `an '<keyword> <action>' condition`.
    HttpRule { keyword: &'a str, action: &'a str },
    /// TCP rules: `'<set> <action>' : error detected in <proxy type> '<name>' while parsing
    /// '<if|unless>' condition : <error>`.
    Tcp { set: &'a str, action: &'a str },
    /// Redirects, which read their condition themselves: `error detected in <proxy type>
    /// '<name>' while parsing <rule> : error in condition: <error>.` (`redirect rule`,
    /// `'http-request redirect' rule`).
    Redirect(&'a str),
    /// `stick` rules: `'stick': error detected while parsing sticking condition : <error>.`
    Stick,
}

impl<'a> CondSite<'a> {
    pub fn phrase(what: &'a str) -> CondSite<'a> {
        CondSite::Phrase(what)
    }

    /// The words before and after an error of the condition that starts with `keyword`.
    fn wording(&self, proxy: &Proxy, keyword: &str) -> (String, &'static str) {
        match self {
            CondSite::Phrase(what) => (format!("error detected while parsing {what} : "), "."),
            CondSite::Stick => (
                "'stick': error detected while parsing sticking condition : ".to_string(),
                ".",
            ),
            CondSite::HttpRule {
                keyword: rule,
                action,
            } => (
                format!("error detected while parsing an '{rule} {action}' condition : "),
                ".",
            ),
            CondSite::Redirect(rule) => (
                format!(
                    "error detected in {} '{}' while parsing {rule} : error in condition: ",
                    proxy.kind.type_str(),
                    proxy.name_str()
                ),
                ".",
            ),
            CondSite::Tcp { set, action } => (
                format!(
                    "'{set} {action}' : error detected in {} '{}' while parsing '{keyword}' condition : ",
                    proxy.kind.type_str(),
                    proxy.name_str()
                ),
                "",
            ),
        }
    }
}

/// Parses the condition in `cond` (starting at `if`/`unless`) and checks its ACL names.
/// Returns the parsed condition when it parses (for the checks that read it again).
pub(super) fn condition(
    b: &mut Builder,
    index: usize,
    cond: &[Spanned<Text>],
    site: &CondSite<'_>,
) -> Option<condition::Condition> {
    if cond.is_empty() {
        return None;
    }
    // Only errors and pattern files need the wording: made when one shows up.
    let wording = |b: &Builder| site.wording(&b.config.proxies[index], &cond[0].value);
    let words: Vec<(Span, &str)> = cond.iter().map(|w| (w.span, w.value.as_str())).collect();
    let parsed = match condition::parse_parts(&words) {
        Ok(c) => c,
        Err(e) => {
            let (prefix, suffix) = wording(b);
            b.push(
                Diagnostic::new("E503", format!("{prefix}{}{suffix}", e.message))
                    .at(e.span)
                    .label("invalid condition"),
            );
            return None;
        }
    };
    // HAProxy reads the terms left to right and stops at the first error: the anonymous ACLs
    // after it are never read (nor warned about).
    let mut stopped_at = u32::MAX;
    for u in parsed.acl_uses() {
        let known = BUILTIN_ACLS.contains(&u.name.as_str())
            || b.in_proxy
                .acl_decls
                .get(u.name.as_str())
                .is_some_and(|places| places.known);
        if !known {
            stopped_at = stopped_at.min(u.span.start);
            let (prefix, suffix) = wording(b);
            let mut d = Diagnostic::new(
                "E504",
                format!("{prefix}no such ACL : '{}'{suffix}", u.name),
            )
            .at(u.span);
            // Declared, but on a line in error: HAProxy dropped it.
            let failed = b
                .in_proxy
                .acl_decls
                .get(u.name.as_str())
                .and_then(|places| places.iter().next())
                .and_then(|i| b.config.proxies[index].acls.get(i))
                .map(|a| a.name.span);
            if let Some(decl) = failed {
                d = d
                    .label("this ACL's declaration has an error, so it does not exist")
                    .with_secondary(decl, "declared here, on a line in error")
                    .help("fix the error on the ACL's line: HAProxy drops an ACL whose line fails");
            } else if let Some(best) = crate::registry::best_match(
                &u.name,
                b.config.proxies[index]
                    .acls
                    .iter()
                    .map(|a| a.name.value.as_str()),
            ) {
                d = d
                    .label("no ACL with this name in this section")
                    .help(format!("did you mean '{best}'?"));
            } else {
                d = d.label("no ACL with this name in this section");
            }
            b.push(d);
        }
    }
    for anon in parsed.anonymous() {
        if let Some(first) = anon.words.first() {
            let criterion = Spanned::from_word(first);
            let Some(output) = check_acl_expr(b, index, wording, &criterion, RefContext::Acl)
            else {
                stopped_at = stopped_at.min(criterion.span.start);
                continue;
            };
            if criterion.span.start < stopped_at {
                let next = anon.words.get(1).map(|w| w.value.as_str());
                if let Some(w) = no_pattern_warning(&criterion, output, next) {
                    b.push(w);
                }
            }
            let words: Vec<(Span, &str)> = anon.words[1..]
                .iter()
                .map(|w| (w.span, w.value.as_str()))
                .collect();
            let options = acl_options(&words);
            if let Some((at, message)) = options.error {
                stopped_at = stopped_at.min(criterion.span.start);
                let (prefix, suffix) = wording(b);
                b.push(
                    Diagnostic::new("E508", format!("{prefix}{message}{suffix}"))
                        .at(at)
                        .label("invalid ACL option"),
                );
                continue;
            }
            if let Some(message) = method_required(&criterion.value, output, &options) {
                stopped_at = stopped_at.min(criterion.span.start);
                let (prefix, suffix) = wording(b);
                b.push(
                    Diagnostic::new("E510", format!("{prefix}{message}{suffix}"))
                        .at(criterion.span)
                        .label("no default match method for this sample type")
                        .help("name the match method with '-m' (str, bin, int, found...)"),
                );
                continue;
            }
            // Pattern files are read while the rule is parsed.
            for (span, file) in options.files {
                let (prefix, suffix) = wording(b);
                b.pattern_file_ref(Spanned::new(file.into(), span), prefix, suffix);
            }
        }
    }
    Some(parsed)
}

/// Compiles a log-format string as HAProxy does: `what` starts each message (none: the
/// message is given bare, as TCP rules give it), and `places`
/// (check point bits, none to skip the test) are where its expressions are evaluated, so that
/// a fetch whose information does not exist there is refused with HAProxy's message.
pub(super) fn log_format(
    b: &mut Builder,
    index: usize,
    word: &Spanned<Text>,
    context: RefContext,
    what: &str,
    places: u32,
) {
    let end = if what.is_empty() { "" } else { "." };
    log_format_wrapped(b, index, word, context, (what, end), places);
}

/// [`log_format`] with each message put between `wrap`'s prefix and suffix.
pub(super) fn log_format_wrapped(
    b: &mut Builder,
    index: usize,
    word: &Spanned<Text>,
    context: RefContext,
    (what, end): (&str, &str),
    places: u32,
) {
    // Strings compiled once the whole configuration is read (their errors are not printed
    // when a line had one), and rule arguments read with their line.
    let after_parse = matches!(
        context,
        RefContext::LogFormat | RefContext::UniqueId | RefContext::UseBackend
    );
    let help = |fetch: &str, needs: &str| place_help(context, fetch, needs);
    let Some(lf) = compile_format(b, word, (what, end), places, &help, after_parse) else {
        return;
    };
    for item in &lf.items {
        let logformat::Item::Expr { expr: e, start, .. } = item else {
            continue;
        };
        keep_refs(b, index, e, word.span, context);
        for (converter, file) in map_files(e) {
            if context == RefContext::UseBackend {
                // Dynamic switching rules are compiled once the whole file is read.
                let text = word.value.split_once("%[").map_or("", |(_, rest)| rest);
                let prefix = format!(
                    "Parsing [{}]: failed to parse use_backend rule '{}' : failed to parse sample expression <{text}> : invalid args in converter '{converter}' : ",
                    b.location(word.span),
                    word.value
                );
                b.deferred_pattern_file_ref(Spanned::new(file.into(), word.span), prefix);
            } else if context.is_rule() {
                // A rule's string names the expression the file breaks, from its start.
                let prefix = format!(
                    "{what}failed to parse sample expression <{}> : ",
                    &word.value[*start..]
                );
                map_file_ref(b, &converter, &file, word.span, (&prefix, end));
            } else {
                map_file_ref(b, &converter, &file, word.span, ("", "."));
            }
        }
    }
}

/// Compiles log-format string `word` as HAProxy does and refuses it as HAProxy does: first an
/// expression whose fetch does not exist at `places` (check point bits, none to skip the
/// test; `help` says what to do instead, given the fetch and what it needs), then a string
/// that does not parse. Each message is put between `wrap`'s prefix and suffix (HAProxy gives
/// it bare or after the directive's words, then with a full stop); `after_parse` marks strings
/// HAProxy compiles once the whole file is read. The parsed string, or `None` once refused.
pub(super) fn compile_format(
    b: &mut Builder,
    word: &Spanned<Text>,
    (what, end): (&str, &str),
    places: u32,
    help: &dyn Fn(&str, &str) -> String,
    after_parse: bool,
) -> Option<logformat::LogFormat> {
    let form = if after_parse {
        HaproxyForm::PostParse
    } else {
        HaproxyForm::Parsing
    };
    let push = |b: &mut Builder, mut d: Diagnostic| {
        d.after_parse = after_parse;
        b.push(d.form(form));
    };
    if places != 0 {
        if let Some((start, (from, to), needs)) = format_unavailable(&word.value, places) {
            let fetch = &word.value[start + from..start + to];
            let span = inner_span(word, raw_len(b, word), start + from, start + to);
            push(
                b,
                Diagnostic::new(
                    "E509",
                    format!(
                        "{what}sample fetch <{}> may not be reliably used here because it needs '{needs}' which is not available here{end}",
                        &word.value[start..]
                    ),
                )
                .at(span)
                .label(format!("needs {needs}"))
                .help(help(fetch, &needs)),
            );
            return None;
        }
    }
    match logformat::parse(&word.value) {
        Ok(lf) => Some(lf),
        Err(e) => {
            let span = inner_span(word, raw_len(b, word), e.at, word.value.len());
            push(
                b,
                Diagnostic::new("E505", format!("{what}{}{end}", e.message))
                    .at(span)
                    .label("invalid log-format string"),
            );
            None
        }
    }
}

/// The first expression of log-format string `text` whose fetch cannot be used at `places`:
/// its offset in the string, the fetch's offsets in the expression, and what it needs.
/// HAProxy compiles the expressions in order, so such a one is refused before a later one
/// that does not parse.
pub(super) fn format_unavailable(
    text: &str,
    places: u32,
) -> Option<(usize, (usize, usize), String)> {
    let parsed = logformat::parse(text);
    let prefix;
    let before_error = match &parsed {
        Ok(lf) => lf,
        Err(e) => {
            let cut = text[..e.at.min(text.len())].rfind("%[")?;
            prefix = logformat::parse(&text[..cut]).ok()?;
            &prefix
        }
    };
    unavailable_fetch(before_error, places)
        .map(|(start, e, needs)| (start, (e.fetch.start, e.fetch.end), needs))
}

/// The first expression of `lf` whose fetch cannot be used at `places`: its offset in the
/// string, the expression, and what it needs.
fn unavailable_fetch(
    lf: &logformat::LogFormat,
    places: u32,
) -> Option<(usize, &sample::SampleExpr, String)> {
    lf.items.iter().find_map(|item| match item {
        logformat::Item::Expr { expr, start, .. } => {
            crate::registry::capabilities::missing_sources(&expr.fetch.name, places)
                .map(|needs| (*start, expr, needs))
        }
        _ => None,
    })
}

/// What to write instead of a fetch whose information is gone (or not there yet) where a
/// string is evaluated.
fn place_help(context: RefContext, fetch: &str, needs: &str) -> String {
    match context {
        RefContext::LogFormat if !needs.contains("response") => format!(
            "logs are written once the transaction is over: capture the value while the request is there ('http-request capture' or 'capture request header') and log it with 'capture.req.hdr(<n>)', or store it with 'http-request set-var(txn.<name>) {fetch}' and log 'var(txn.<name>)'"
        ),
        RefContext::LogFormat => format!(
            "logs are written once the transaction is over: capture the value while the response is there ('http-response capture' or 'capture response header') and log it with 'capture.res.hdr(<n>)', or store it with 'http-response set-var(txn.<name>) {fetch}' and log 'var(txn.<name>)'"
        ),
        _ => "this information does not exist where the string is evaluated: move the rule to the side (request or response) that has it, or store it in a 'txn' variable there and read the variable here".to_string(),
    }
}

/// Parses a sample expression argument (e.g. the key of `track-sc0`); an error is worded
/// between `wrap`'s prefix and suffix.
pub(super) fn sample_arg(
    b: &mut Builder,
    index: usize,
    word: &Spanned<Text>,
    context: RefContext,
    wrap: (&str, &str),
) {
    sample_arg_at(b, index, word, context, wrap, None);
}

/// A rule's sample expression evaluated at the check points `at.0`: as `sample_arg`, then a
/// fetch whose information does not exist there is refused with HAProxy's message, which
/// names the keyword `at.1` (the action, or the expression's word for a tracking key).
pub(super) fn sample_arg_at(
    b: &mut Builder,
    index: usize,
    word: &Spanned<Text>,
    context: RefContext,
    wrap: (&str, &str),
    at: Option<(u32, &str)>,
) -> bool {
    match sample::parse(&word.value, false) {
        Ok((expr, _)) => {
            if let Some((places, keyword)) = at {
                if let Some(d) = fetch_unavailable(&expr, places, keyword, wrap) {
                    b.push(d.at(word.span));
                    return false;
                }
            }
            keep_refs(b, index, &expr, word.span, context);
            for (converter, file) in map_files(&expr) {
                map_file_ref(b, &converter, &file, word.span, wrap);
            }
            true
        }
        Err(e) => {
            let span = inner_span(word, raw_len(b, word), e.at, word.value.len());
            b.push(
                Diagnostic::new("E506", format!("{}{}{}", wrap.0, e.message, wrap.1))
                    .at(span)
                    .label("invalid sample expression"),
            );
            false
        }
    }
}

/// HAProxy's refusal of an expression whose fetch cannot be used at any of `places`
/// (`fetch method '<keyword>' extracts information from ...`), wrapped in `wrap`.
pub(super) fn fetch_unavailable(
    expr: &sample::SampleExpr,
    places: u32,
    keyword: &str,
    wrap: (&str, &str),
) -> Option<Diagnostic> {
    let needs = crate::registry::capabilities::missing_sources(&expr.fetch.name, places)?;
    Some(
        Diagnostic::new(
            "E509",
            format!(
                "{}fetch method '{keyword}' extracts information from '{needs}', none of which is available here{}",
                wrap.0, wrap.1
            ),
        )
        .label(format!("needs {needs}"))
        .help(format!(
            "'{}' cannot be read here: move the rule to the side (request or response) that has it, or store it in a 'txn' variable there and read the variable here",
            expr.fetch.name
        )),
    )
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
