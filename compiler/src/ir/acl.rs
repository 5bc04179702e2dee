//! ACL declarations (`acl <name> <criterion> [flags] [patterns]`): the criterion, the option
//! words before the patterns, the match method, and the integer patterns, checked as HAProxy's ACL
//! parser does. Anonymous ACLs in conditions reuse the criterion and option checks.

use super::build::{Builder, Stmt};
use super::exprs::{inner_span, map_file_ref, map_files, raw_len};
use super::model::*;
use crate::diagnostic::Diagnostic;
use crate::expr::sample;
use crate::source::Span;

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

/// An `acl <name> <criterion> …` line.
pub(super) fn acl_decl(b: &mut Builder, index: usize, stmt: &Stmt) {
    let proxy = &b.config.proxies[index];
    if proxy.kind == ProxyKind::Defaults && proxy.name.is_none() {
        // Only proxies and named defaults sections (which rules can name with `from`) hold ACLs.
        b.push(
            Diagnostic::new("E230", "'acl' not allowed in anonymous 'defaults' section.")
                .at(stmt.span_from(0))
                .label("ACLs need a named defaults section")
                .help("give the defaults section a name and refer to it with 'from <name>'"),
        );
        return;
    }
    let errors_before = b.diags.len();
    let mut missing_file = false;
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
            Diagnostic::new(
                "E501",
                format!(
                    "character '{c}' is not permitted in acl name '{}'.",
                    name.value
                ),
            )
            .at(name.span),
        );
        return;
    }
    if name.value.eq_ignore_ascii_case("or") {
        b.push(
            Diagnostic::new(
                "E501",
                format!(
                    "acl name '{}' will never match. 'or' is used to express a logical disjunction within a condition.",
                    name.value
                ),
            )
            .at(name.span)
            .label("a condition reads this word as the 'or' operator")
            .help("give the ACL another name"),
        );
        return;
    }
    // The criterion and the words after it, made once: the declaration keeps them, and the
    // checks below read those after the criterion.
    let words = stmt.spanned_from(2);
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
    } else if let Some(output) = check_acl_expr(
        b,
        index,
        |_| {
            (
                format!("error detected while parsing ACL '{}' : ", name.value),
                ".",
            )
        },
        &criterion,
        RefContext::Acl,
    ) {
        let rest = words.get(1..).unwrap_or_default();
        if let Some(w) =
            no_pattern_warning(&criterion, output, rest.first().map(|w| w.value.as_str()))
        {
            b.push(w);
        }
        let option_words: Vec<(Span, &str)> =
            rest.iter().map(|w| (w.span, w.value.as_str())).collect();
        let options = acl_options(&option_words);
        // HAProxy reads each `-f` file as it meets the option, before any later error (and
        // refuses the first one of an expression without a match method).
        let files = if method_required(&criterion.value, output, &options).is_some() {
            &[][..]
        } else {
            &options.files[..]
        };
        for &(span, file) in files {
            let prefix = format!("error detected while parsing ACL '{}' : ", name.value);
            b.pattern_file_ref(Spanned::new(file.into(), span), prefix, ".");
            // Its error is the file checks' to report, but it leaves the ACL unknown. HAProxy
            // opens a pattern file the first time it is named only.
            missing_file |= b.files_checked
                && b.file_len(file).is_none()
                && !pattern_file_named_before(b.db, file, span);
        }
        let unmatched = options
            .error
            .is_none()
            .then(|| method_required(&criterion.value, output, &options))
            .flatten();
        match options.error {
            None if unmatched.is_some() => b.push(
                Diagnostic::new(
                    "E510",
                    format!(
                        "error detected while parsing ACL '{}' : {}.",
                        name.value,
                        unmatched.unwrap_or_default()
                    ),
                )
                .at(criterion.span)
                .label("no default match method for this sample type")
                .help("name the match method with '-m' (str, bin, int, found...)"),
            ),
            Some((at, message)) => b.push(
                Diagnostic::new(
                    "E508",
                    format!(
                        "error detected while parsing ACL '{}' : {message}.",
                        name.value
                    ),
                )
                .at(at)
                .label("invalid ACL option"),
            ),
            None => check_acl_patterns(b, &name.value, &criterion.value, output, &options, rest),
        }
    }
    let decl = AclDecl {
        name,
        span: stmt.whole(),
        words,
    };
    // So does a map converter's file that does not open: HAProxy fails the expression.
    missing_file |= b.files_checked
        && b.acl_criteria
            .get(stmt.word(2))
            .and_then(|parsed| parsed.as_ref().ok())
            .is_some_and(|(_, _, maps)| maps.iter().any(|(_, file)| b.file_len(file).is_none()));
    // As in HAProxy, an ACL whose line is in error does not exist for the conditions after it.
    let known = !missing_file && !b.diags[errors_before..].iter().any(Diagnostic::is_error);
    let at = b.config.proxies[index].acls.len();
    b.in_proxy
        .acl_decls
        .entry(decl.name.value.clone())
        .and_modify(|places| places.add(at, known))
        .or_insert_with(|| super::build::AclPlaces::new(at, known));
    push_short(&mut b.config.proxies[index].acls, decl);
}

/// Whether an `acl` line before `at` (in the files read before, or above in its own) names
/// the pattern file `path` with `-f`: HAProxy then reuses what it read of it, or that it
/// could not, without opening it again.
fn pattern_file_named_before(db: &crate::source::SourceDb, path: &str, at: Span) -> bool {
    db.files()
        .take_while(|(id, _)| id.0 <= at.file.0)
        .any(|(id, f)| {
            let end = if id == at.file {
                at.start as usize
            } else {
                f.text.len()
            };
            f.text.get(..end).unwrap_or_default().lines().any(|line| {
                let mut words = line.split_whitespace();
                words.next() == Some("acl") && {
                    let rest: Vec<&str> = words.collect();
                    rest.windows(2).any(|w| w[0] == "-f" && w[1] == path)
                }
            })
        })
}

/// Checks an ACL criterion; returns its output type when it parses.
/// `wording` gives the words HAProxy puts before and after the error (which differ between
/// `acl` lines and anonymous ACLs in conditions); it is only called on an error.
pub(super) fn check_acl_expr(
    b: &mut Builder,
    index: usize,
    wording: impl FnOnce(&Builder) -> (String, &'static str),
    criterion: &Spanned<Text>,
    context: RefContext,
) -> Option<crate::registry::SampleType> {
    // Large configurations repeat the same criteria (`hdr(host)`…): parse each text once.
    let parsed = match b.acl_criteria.get(criterion.value.as_str()) {
        Some(cached) => cached.clone(),
        None => {
            let result = sample::parse(&acl_criterion(&criterion.value), true).map(|(expr, _)| {
                let maps = map_files(&expr);
                (expr.refs, expr.output, maps)
            });
            b.acl_criteria
                .insert(criterion.value.to_string(), result.clone());
            result
        }
    };
    match parsed {
        Ok((refs, output, maps)) => {
            for r in refs {
                b.config.proxies[index].sample_refs.push(SampleRef {
                    reference: r,
                    span: criterion.span,
                    context,
                });
            }
            if !maps.is_empty() {
                // An ACL expression's error names the expression, an ACL keyword's the keyword.
                let (prefix, suffix) = wording(b);
                let value = criterion.value.as_str();
                let (prefix, suffix) = match acl_keyword_of(value) {
                    Some(name) => (
                        format!("{prefix}ACL keyword '{name}' : "),
                        format!(".{suffix}"),
                    ),
                    None => (prefix, format!(" in ACL expression '{value}'{suffix}")),
                };
                for (converter, file) in maps {
                    map_file_ref(b, &converter, &file, criterion.span, (&prefix, &suffix));
                }
            }
            Some(output)
        }
        Err(e) => {
            let span = inner_span(
                criterion,
                raw_len(b, criterion),
                e.at.min(criterion.value.len()),
                criterion.value.len(),
            );
            let (prefix, suffix) = wording(b);
            let message = acl_expr_message(&criterion.value, &e.message);
            b.push(
                Diagnostic::new("E502", format!("{prefix}{message}{suffix}"))
                    .at(span)
                    .label("invalid ACL criterion"),
            );
            None
        }
    }
}

/// HAProxy's text for a criterion that does not parse. An ACL keyword (`hdr_beg`, `path_end`…)
/// names itself before the sample parser's message, converter messages then ending with their
/// own period; any other sample expression is quoted whole after the message.
/// The fetch an ACL criterion starts with, when it is one of HAProxy's ACL keywords (whose
/// errors name the keyword rather than the expression).
fn acl_keyword_of(criterion: &str) -> Option<&str> {
    let name = &criterion[..criterion.find(['(', ',']).unwrap_or(criterion.len())];
    crate::registry::acl_keyword(name).map(|_| name)
}

fn acl_expr_message(criterion: &str, message: &str) -> String {
    let Some(name) = acl_keyword_of(criterion) else {
        return format!("{message} in ACL expression '{criterion}'");
    };
    // The checks run once the keyword's arguments are read name the ACL keyword.
    if let Some((_, detail)) = message
        .strip_prefix("invalid args in fetch method '")
        .and_then(|rest| rest.split_once("' : "))
    {
        return format!("in argument to '{name}', {detail}");
    }
    if let Some((_, detail)) = message
        .strip_prefix("fetch method '")
        .and_then(|rest| rest.split_once("' : "))
    {
        return format!("ACL keyword '{name}' : {detail}");
    }
    if message.contains("converter '") {
        return format!("ACL keyword '{name}' : {message}.");
    }
    message.to_string()
}

/// What HAProxy's ACL option loop reads before the patterns: every word starting with '-' must
/// be an option (`-i -n -u <id> -f <file> -m <method> -M --`).
pub(super) struct AclOptions<'a> {
    /// The `-f` files met before the first error, in order.
    pub(super) files: Vec<(Span, &'a str)>,
    /// The last `-m` method.
    pub(super) method: Option<&'a str>,
    /// Index of the first pattern.
    pub(super) patterns_at: usize,
    /// The word in error and HAProxy's message.
    pub(super) error: Option<(Span, String)>,
}

pub(super) fn acl_options<'a>(words: &[(Span, &'a str)]) -> AclOptions<'a> {
    let mut o = AclOptions {
        files: Vec::new(),
        method: None,
        patterns_at: 0,
        error: None,
    };
    let value = |i: usize| words.get(i).copied();
    let mut i = 0;
    while let Some(&(span, w)) = words.get(i).filter(|(_, w)| w.starts_with('-')) {
        i += 1;
        let error = match w {
            "-i" | "-n" | "-M" => None,
            "-u" => {
                let id = value(i).map_or("", |(_, v)| v);
                i += 1;
                let digits = id.strip_prefix(['-', '+']).unwrap_or(id);
                (digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()))
                    .then(|| (span, "the argument of -u must be an integer".to_string()))
            }
            "-f" => {
                o.files.extend(value(i));
                i += 1;
                None
            }
            "-m" if !o.files.is_empty() => Some((
                span,
                "'-m' must only be specified before patterns and files in parsing ACL expression"
                    .to_string(),
            )),
            "-m" => {
                let (at, method) = value(i).unwrap_or((span, ""));
                i += 1;
                o.method = Some(method);
                (!crate::registry::MATCH_METHODS.iter().any(|m| m.name == method)).then(|| {
                    (at, format!("unknown matching method '{method}' when parsing ACL expression"))
                })
            }
            "--" => break,
            _ => Some((
                span,
                format!("'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"),
            )),
        };
        if error.is_some() {
            o.error = error;
            return o;
        }
    }
    o.patterns_at = i.min(words.len());
    o
}

/// HAProxy's refusal of an ACL whose expression has no default match method: no `-m`, no ACL
/// keyword bringing its own (or converters after it), and an output type (variables, binary
/// data, run-time typed converters) that HAProxy maps to no method. Script fetches and
/// converters give strings.
pub(super) fn method_required(
    criterion: &str,
    output: crate::registry::SampleType,
    options: &AclOptions,
) -> Option<String> {
    if options.method.is_some() || has_default_method(criterion, output) {
        return None;
    }
    let fetch = criterion.split(['(', ',']).next().unwrap_or(criterion);
    Some(format!(
        "matching method must be specified first (using '-m') when using a sample fetch of this type ('{fetch}')"
    ))
}

/// Whether HAProxy finds a match method for the criterion without `-m`: an ACL keyword written
/// alone brings its own, script fetches and converters give strings, and otherwise the output
/// type must be one with a default method (boolean, integer, address or string).
fn has_default_method(criterion: &str, output: crate::registry::SampleType) -> bool {
    use crate::registry::SampleType::{Any, Bin, Meth};
    if !matches!(output, Any | Bin | Meth) {
        return true;
    }
    let fetch = criterion.split(['(', ',']).next().unwrap_or(criterion);
    // The steps of the expression: the fetch, then its converters (commas inside argument
    // parentheses do not separate steps).
    let mut depth = 0i32;
    let steps: Vec<&str> = criterion
        .split(|c: char| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            c == ',' && depth == 0
        })
        .collect();
    (steps.len() == 1 && crate::registry::acl_keyword(fetch).is_some())
        || steps
            .last()
            .is_some_and(|s| s.trim_start().starts_with("lua."))
}

/// HAProxy's warning for an ACL that will never match because nothing follows its criterion
/// (`acl half rand(50)`): the criterion has a match method and does not give a boolean, so
/// with no pattern there is nothing to compare its sample with. `next` is the word after the
/// criterion (an empty word ends the patterns as the end of the line does). HAProxy prints it
/// without a place, as soon as the criterion is read.
pub(super) fn no_pattern_warning(
    criterion: &Spanned<Text>,
    output: crate::registry::SampleType,
    next: Option<&str>,
) -> Option<Diagnostic> {
    if next.is_some_and(|w| !w.is_empty())
        || output == crate::registry::SampleType::Bool
        || !has_default_method(&criterion.value, output)
    {
        return None;
    }
    Some(
        Diagnostic::new(
            "W514",
            format!("parsing acl keyword '{}' :", criterion.value),
        )
        .form(crate::diagnostic::HaproxyForm::Bare)
        .continuation(
            "  no pattern to match against were provided, so this ACL will never match.\n  \
             If this is what you intended, please add '--' to get rid of this warning.\n  \
             If you intended to match only for existence, please use '-m found'.\n  \
             If you wanted to force an int to match as a bool, please use '-m bool'.\n",
        )
        .at(criterion.span)
        .label("no pattern follows: this ACL never matches")
        .help("add patterns, '-m found' to test that the sample exists, '-m bool' to test an integer as a boolean, or '--' to keep it never matching"),
    )
}

/// HAProxy's `strl2llrc`: an optional '-' then decimal digits, fitting an i64.
fn parse_ll(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// HAProxy's `pat_parse_int`: `N`, `N:M`, `:M`, `N:` (or `-` as the separator).
fn int_pattern_error(text: &str) -> Option<String> {
    let range = || format!("'{text}' is not a valid number range");
    let Some(sep) = text.find([':', '-']) else {
        return parse_ll(text)
            .is_none()
            .then(|| format!("'{text}' is not a number"));
    };
    let (low, high) = (&text[..sep], &text[sep + 1..]);
    let ok = match (low.is_empty(), high.is_empty()) {
        (true, false) => parse_ll(high).is_some(),
        (_, true) => !low.is_empty() && parse_ll(low).is_some(),
        (false, false) => matches!((parse_ll(low), parse_ll(high)), (Some(l), Some(h)) if l <= h),
    };
    (!ok).then(range)
}

/// How HAProxy reads an ACL's patterns when they are numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumberPatterns {
    /// Integers and ranges (`10`, `1:100`).
    Int,
    /// Dotted versions (`req.ssl_ver 3.1`).
    Dotted,
}

/// The match method an ACL keyword written alone (no `-m`, no converters) brings.
fn implied_method(criterion: &str, method: Option<&str>) -> Option<&'static str> {
    let keyword = criterion.split(['(', ',']).next().unwrap_or(criterion);
    (method.is_none() && !criterion.contains(','))
        .then(|| crate::registry::acl_keyword(keyword).map(|k| k.method))
        .flatten()
}

/// Whether the patterns of an ACL on `criterion` (matched with `-m method` when given, giving
/// samples of type `output`) are numbers, and which kind.
/// `implied` is [`implied_method`]'s answer for them, which the caller has (the look-up costs
/// more than the rest).
fn number_patterns(
    criterion: &str,
    method: Option<&str>,
    implied: Option<&str>,
    output: crate::registry::SampleType,
) -> Option<NumberPatterns> {
    // `-m len` compares the sample's length with integer patterns, read as `-m int`'s are.
    let int = match method {
        Some(m) => matches!(m, "int" | "len"),
        None => {
            matches!(implied, Some("int" | "len")) || output == crate::registry::SampleType::Sint
        }
    };
    let keyword = criterion.split(['(', ',']).next().unwrap_or(criterion);
    // Versions such as `req.ssl_ver 3.1` use a dotted-number parser instead.
    int.then_some(if keyword.contains("ssl_ver") {
        NumberPatterns::Dotted
    } else {
        NumberPatterns::Int
    })
}

/// Whether the patterns of an ACL on `criterion` (with `-m method` when written) are numbers,
/// which the operators `eq`, `ge`, `gt`, `le` and `lt` may precede (HAProxy's integer and
/// dotted-version pattern parsers).
pub fn patterns_take_operators(criterion: &str, method: Option<&str>) -> bool {
    sample::parse(&acl_criterion(criterion), true).is_ok_and(|(expr, _)| {
        let implied = implied_method(criterion, method);
        number_patterns(criterion, method, implied, expr.output).is_some()
    })
}

/// Integer patterns of an ACL, checked as HAProxy's ACL parser does (operators `eq ge gt le lt`
/// apply to the numbers after them). Other match methods accept any text, or (IP) host names
/// that only resolution could judge, so they are left alone.
fn check_acl_patterns(
    b: &mut Builder,
    acl: &str,
    criterion: &str,
    output: crate::registry::SampleType,
    options: &AclOptions,
    rest: &[Spanned<Text>],
) {
    use crate::registry::SampleType::{Addr, Ipv4, Ipv6};
    let method = options.method;
    let (option_words, patterns) = rest.split_at(options.patterns_at.min(rest.len()));
    let implied = implied_method(criterion, method);
    let numbers = number_patterns(criterion, method, implied, output);
    let (int, dotted) = (numbers.is_some(), numbers == Some(NumberPatterns::Dotted));
    if rest.iter().any(|w| w.value == "-f") {
        return;
    }
    let ip = match method {
        Some(m) => m == "ip",
        None => implied == Some("ip") || matches!(output, Addr | Ipv4 | Ipv6),
    };
    if ip {
        let dns = !option_words.iter().any(|w| w.value == "-n");
        let read = patterns
            .iter()
            .position(|w| super::values::ip_pattern_invalid(&w.value, dns))
            .unwrap_or(patterns.len());
        // The patterns before the first bad one were read; host names among them are resolved.
        for w in &patterns[..read] {
            if super::values::ip_pattern_is_host(&w.value) {
                let aborts = b.aborting_line;
                b.config.acl_hosts.push(AclHost {
                    acl: acl.into(),
                    pattern: w.clone(),
                    aborts,
                });
            }
        }
        if let Some(w) = patterns.get(read) {
            b.push(
                Diagnostic::new(
                    "E502",
                    format!(
                        "error detected while parsing ACL '{acl}' : '{}' is not a valid IPv4 or IPv6 address.",
                        w.value
                    ),
                )
                .at(w.span)
                .label("invalid address pattern"),
            );
        }
        return;
    }
    if !int || dotted {
        return;
    }
    let mut operator_eq = true;
    for w in patterns {
        let v = w.value.as_str();
        if crate::registry::ACL_INT_OPERATORS
            .iter()
            .any(|o| o.name == v)
        {
            operator_eq = v == "eq";
            continue;
        }
        let error = if !v.contains([':', '-']) && !operator_eq {
            let number = v.split('.').next().unwrap_or(v);
            parse_ll(number)
                .is_none()
                .then(|| format!("'{v}' is neither a number nor a supported operator"))
        } else {
            int_pattern_error(v)
        };
        if let Some(message) = error {
            b.push(
                Diagnostic::new(
                    "E502",
                    format!("error detected while parsing ACL '{acl}' : {message}."),
                )
                .at(w.span)
                .label("invalid integer pattern"),
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::compile_text;

    /// The messages of the diagnostics `keep` selects, for `body` written in a frontend.
    fn messages_in_frontend(
        body: &str,
        keep: impl Fn(&crate::diagnostic::Diagnostic) -> bool,
    ) -> Vec<String> {
        let text = format!(
            "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
             frontend fe\n  bind :8080\n{body}  default_backend b\nbackend b\n  server s 127.0.0.1:1\n"
        );
        compile_text("p.cfg", &text, false)
            .diagnostics
            .iter()
            .filter(|d| keep(d))
            .map(|d| d.message.to_string())
            .collect()
    }

    fn errors_of(acls: &str) -> Vec<String> {
        messages_in_frontend(acls, |d| d.code == "E502")
    }

    #[test]
    fn anonymous_defaults_hold_no_acl() {
        let errors = |text: &str| -> Vec<String> {
            compile_text("p.cfg", text, false)
                .diagnostics
                .iter()
                .filter(|d| d.code == "E230")
                .map(|d| d.message.to_string())
                .collect()
        };
        let tail = "  mode http\n  acl local src 127.0.0.1\nlisten a\n  bind :8000\n";
        assert_eq!(
            errors(&format!("defaults\n{tail}")),
            ["'acl' not allowed in anonymous 'defaults' section."]
        );
        assert!(errors(&format!("defaults named\n{tail}")).is_empty());
    }

    /// Checks run once an ACL keyword's arguments are read name the keyword, not its fetch.
    #[test]
    fn argument_checks_name_the_acl_keyword() {
        assert_eq!(
            errors_of("  http-request deny if { payload_lv(0,0) }\n"),
            ["error detected while parsing an 'http-request deny' condition : in argument to 'payload_lv', payload length must be > 0."]
        );
        assert_eq!(
            errors_of("  acl bad req.payload_lv(1,1,-5) -m found\n"),
            ["error detected while parsing ACL 'bad' : invalid args in fetch method 'req.payload_lv' : payload offset2 too negative in ACL expression 'req.payload_lv(1,1,-5)'."]
        );
    }

    /// The error messages of a whole check of `text` (file checks included), in order.
    fn whole_check_errors(text: &str) -> Vec<String> {
        let mut db = crate::source::SourceDb::new();
        db.add("p.cfg", text);
        let options = crate::ir::CheckOptions::default();
        let c = crate::check::compile(db, &crate::syntax::MapEnv::default(), &options);
        c.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.to_string())
            .collect()
    }

    /// A pattern file that does not open leaves its ACL unknown the first time it is named;
    /// HAProxy does not open it again, so a later ACL naming it is fine, and said nothing of.
    #[test]
    fn a_missing_pattern_file_fails_its_first_acl_only() {
        let text = "frontend fe\n  bind :8080\n  acl a path -f /nonexistent/hapee.lst\n  \
                    http-request deny if a\nfrontend fe2\n  bind :8081\n  \
                    acl b path -f /nonexistent/hapee.lst\n  http-request deny if b\n";
        let errors = whole_check_errors(text);
        assert_eq!(
            errors,
            [
                "error detected while parsing ACL 'a' : failed to open pattern file </nonexistent/hapee.lst>.",
                "error detected while parsing an 'http-request deny' condition : no such ACL : 'a'.",
            ]
        );
    }

    /// An empty map file name (`map()`) is opened, and fails, as HAProxy opens it.
    #[test]
    fn an_empty_map_file_name_fails_to_open() {
        // The file checks run with the whole check, not with the parse alone.
        let text = "frontend fe\n  mode http\n  bind :8080\n  \
                    http-request set-header x %[path,map()]\n";
        let errors = whole_check_errors(text);
        assert_eq!(
            errors,
            ["error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <path,map()]> : invalid args in converter 'map' : failed to open pattern file <>."]
        );
    }

    /// Criterion errors worded as HAProxy words them: ACL keywords name themselves, other
    /// expressions are quoted whole; anonymous ACLs take their condition's wording; an ACL in
    /// error is unknown to the conditions after it.
    #[test]
    fn criterion_errors_follow_haproxy() {
        let messages = |body: &str| messages_in_frontend(body, |d| d.is_error());
        assert_eq!(
            messages("  acl a hdr_beg(host),nosuchconv foo\n"),
            ["error detected while parsing ACL 'a' : ACL keyword 'hdr_beg' : unknown converter 'nosuchconv'.."]
        );
        assert_eq!(
            messages("  acl a src,nosuch foo\n"),
            ["error detected while parsing ACL 'a' : unknown converter 'nosuch' in ACL expression 'src,nosuch'."]
        );
        assert_eq!(
            messages("  http-request deny if { nosuch -m found }\n"),
            ["error detected while parsing an 'http-request deny' condition : unknown fetch method 'nosuch' in ACL expression 'nosuch'."]
        );
        assert_eq!(
            messages("  acl a path -m bad\n  http-request deny if a\n"),
            [
                "error detected while parsing ACL 'a' : unknown matching method 'bad' when parsing ACL expression.",
                "error detected while parsing an 'http-request deny' condition : no such ACL : 'a'.",
            ]
        );
        // `-f` after a pattern is a pattern: no file to read.
        let c = compile_text(
            "f.cfg",
            "frontend fe\n  bind :8080\n  acl a path foo -f /nonexistent\n  acl b path -f /x.lst\n",
            false,
        );
        let files: Vec<&str> = c
            .config
            .files
            .iter()
            .map(|f| f.path.value.as_str())
            .collect();
        assert_eq!(files, ["/x.lst"]);
    }

    #[test]
    fn integer_patterns_follow_haproxy() {
        let ok = "  acl a dst_port 80 443 8000:8100 8000-8100 :100 100:\n  acl b status ge 500\n  \
                  acl c hdr_cnt(host) gt 1 lt 3\n  acl d req.ssl_ver 3.1\n  acl e path -m int 5\n  \
                  acl f path_beg 80x\n  acl g src localhost\n";
        assert!(errors_of(ok).is_empty(), "{:?}", errors_of(ok));
        assert_eq!(
            errors_of("  acl a dst_port http\n"),
            vec!["error detected while parsing ACL 'a' : 'http' is not a number."]
        );
        assert_eq!(
            errors_of("  acl a dst_port 90:80\n"),
            vec!["error detected while parsing ACL 'a' : '90:80' is not a valid number range."]
        );
        assert_eq!(
            errors_of("  acl a status ge x\n"),
            vec!["error detected while parsing ACL 'a' : 'x' is neither a number nor a supported operator."]
        );
        // Lengths are integer patterns too (`-m len`, ACL keywords matching lengths).
        let ok = "  acl a hdr_len(x) 3 ge 4
  acl b path -m len lt 10
";
        assert!(errors_of(ok).is_empty(), "{:?}", errors_of(ok));
        assert_eq!(
            errors_of("  acl a hdr_len(x) abc\n  acl b path -m len 3:x\n"),
            vec![
                "error detected while parsing ACL 'a' : 'abc' is not a number.",
                "error detected while parsing ACL 'b' : '3:x' is not a valid number range."
            ]
        );
    }

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
