//! Bandwidth limitation filters (`filter bwlim-in|bwlim-out`) and the `set-bandwidth-limit`
//! rules that enable them, checked as HAProxy 2.7 checks them: the filter's options when the
//! line is read, its table and the rules' references once every section is known.

use super::build::{Builder, Stmt};
use super::model::*;
use super::values::{parse_size, parse_time, TimeUnit};
use crate::diagnostic::{Diagnostic, HaproxyForm};

const CODE: &str = "E275";

/// The options of one `filter bwlim-in|bwlim-out <name> …` line.
pub(super) fn filter_line(b: &mut Builder, index: usize, stmt: &Stmt) {
    let kind = stmt.word(1);
    let fail = |b: &mut Builder, at: usize, inner: String| {
        b.push(
            Diagnostic::new(CODE, format!("'filter' : '{inner}'"))
                .at(stmt.span(at.min(stmt.len().saturating_sub(1))))
                .label("invalid bandwidth limitation filter"),
        );
    };
    if stmt.word(2).is_empty() {
        return fail(
            b,
            1,
            format!("'{kind}' : a name is expected as first argument "),
        );
    }
    let (mut shared, mut per_stream, mut key, mut limit, mut period) =
        (false, false, false, false, false);
    let mix = format!("'{kind}' : cannot mix per-stream and shared parameter");
    let mut i = 3;
    while i < stmt.len() {
        let option = stmt.word(i);
        let value = stmt.word(i + 1);
        let shared_option = matches!(option, "key" | "table" | "limit");
        match option {
            "key" | "table" | "limit" | "default-limit" | "default-period" | "min-size" => {}
            _ => break,
        }
        if option != "min-size" && (if shared_option { per_stream } else { shared }) {
            return fail(b, i, mix);
        }
        if value.is_empty() {
            let what = match option {
                "key" => format!("the sample expression is missing for '{option}' option"),
                "table" => format!("the table name is missing for '{option}' option"),
                _ => format!("the value is missing for '{option}' option"),
            };
            return fail(b, i, format!("'{kind}' : {what}"));
        }
        match option {
            "key" => {
                key = true;
                let wrap = ("'filter' : '", "'");
                super::exprs::sample_arg(
                    b,
                    index,
                    &stmt.spanned(i + 1),
                    RefContext::Tracking,
                    wrap,
                );
            }
            "default-period" => {
                if let Err(e) = parse_time(value, TimeUnit::Ms) {
                    let at = match e {
                        super::values::TimeError::Char(at) => at,
                        _ => value.len(),
                    };
                    let c = value[at.min(value.len())..].chars().next().unwrap_or('\0');
                    return fail(
                        b,
                        i + 1,
                        format!("'{kind}' : invalid value for option '{option}' (unexpected character '{c}')"),
                    );
                }
                period = value.bytes().any(|c| c != b'0');
            }
            "limit" | "default-limit" | "min-size" => match parse_size(value) {
                Ok(n) => limit |= option != "min-size" && n > 0,
                Err(at) => {
                    let c = value[at.min(value.len())..].chars().next().unwrap_or('\0');
                    return fail(
                        b,
                        i + 1,
                        format!("'{kind}' : invalid value for option '{option}' (unexpected character '{c}')"),
                    );
                }
            },
            _ => {}
        }
        shared |= shared_option;
        per_stream |= matches!(option, "default-limit" | "default-period");
        i += 2;
    }
    let missing = if shared && !key {
        Some("<key>")
    } else if shared && !limit {
        Some("<limit>")
    } else if !shared && !period {
        Some("<default-period>")
    } else if !shared && !limit {
        Some("<default-limit>")
    } else {
        None
    };
    if let Some(what) = missing {
        return fail(b, 1, format!("'{kind}' : {what} option is missing"));
    }
    if i < stmt.len() {
        b.push(
            Diagnostic::new(
                CODE,
                format!("'filter {kind}' : unknown keyword '{}'.", stmt.word(i)),
            )
            .at(stmt.span(i))
            .label("not an option of this filter"),
        );
    }
}

/// One declared filter, as the checks need it.
struct Declared<'a> {
    line: &'a DirectiveLine,
    name: &'a str,
    upload: bool,
    shared: bool,
    table: Option<&'a str>,
}

fn declared(p: &Proxy) -> Vec<Declared<'_>> {
    p.directives
        .iter()
        .filter(|d| d.keyword == "filter")
        .filter_map(|d| {
            let kind = d.args.first()?.as_str();
            if !matches!(kind, "bwlim-in" | "bwlim-out") {
                return None;
            }
            let words: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
            let after = |key: &str| {
                words
                    .iter()
                    .position(|w| *w == key)
                    .and_then(|i| words.get(i + 1).copied())
            };
            Some(Declared {
                line: d,
                name: words.get(1).copied().unwrap_or(""),
                upload: kind == "bwlim-in",
                shared: words
                    .iter()
                    .any(|w| matches!(*w, "key" | "table" | "limit")),
                table: after("table"),
            })
        })
        .collect()
}

fn bare(message: String) -> Diagnostic {
    Diagnostic::new(CODE, message).form(HaproxyForm::Bare)
}

/// What HAProxy checks once every section is read: a name declared once per proxy, the
/// shared form's table and its data type, and what each `set-bandwidth-limit` names.
pub(super) fn check(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    let filters = declared(p);
    let px = p.name_str();
    for (i, f) in filters.iter().enumerate() {
        if filters[..i].iter().any(|g| g.name == f.name) {
            out.push(
                Diagnostic::new(
                    CODE,
                    format!(
                        "'filter' : 'bwlim filter '{}' already declared for proxy '{px}''",
                        f.name
                    ),
                )
                .at(f.line.span)
                .label("a second filter of this name"),
            );
        }
        if !f.shared {
            continue;
        }
        let table = f.table.unwrap_or(px);
        let own = f.table.is_none().then_some(p);
        let decl = own
            .or_else(|| config.proxies.iter().find(|q| q.name_str() == table))
            .and_then(|q| q.stick_table.as_deref());
        if decl.is_none() && !(f.table.is_some() && config.has_table(table)) {
            out.push(
                bare(format!(
                    "Proxy {px} : unable to find table '{table}' referenced by bwlim filter '{}'",
                    f.name
                ))
                .at(f.line.span)
                .label("no stick-table with this name"),
            );
            continue;
        }
        let rate = if f.upload {
            "bytes_in_rate"
        } else {
            "bytes_out_rate"
        };
        if let Some(decl) = decl {
            if !decl.stores.iter().any(|s| s.starts_with(rate)) {
                out.push(
                    bare(format!(
                        "Proxy {px} : stick-table '{table}' uses a data type incompatible with bwlim filter '{}'. It must be '{rate}'",
                        f.name
                    ))
                    .at(f.line.span)
                    .label(format!("the table does not store {rate}"))
                    .help(format!("add '{rate}(<period>)' to the table's 'store' list")),
                );
            }
        }
    }
    for r in p
        .rules
        .iter()
        .filter(|r| r.action.value == "set-bandwidth-limit")
    {
        let name = r.args.first().map_or("", |a| a.value.as_str());
        let Some(f) = filters.iter().find(|f| f.name == name) else {
            out.push(
                bare(format!(
                    "Proxy '{px}': unable to find bwlim filter '{name}' referenced by set-bandwidth-limit rule."
                ))
                .at(r.span)
                .label("no bwlim filter of this name in this proxy"),
            );
            continue;
        };
        if f.shared && r.args.iter().skip(1).any(|a| a.value == "limit") {
            out.push(
                bare(format!(
                    "Proxy '{px}': set-bandwidth-limit rule cannot define a limit for a shared bwlim filter."
                ))
                .at(r.span)
                .label("the filter's limit is shared"),
            );
        }
    }
}

/// The arguments of a `set-bandwidth-limit` rule: the filter's name, then `limit` and
/// `period` expressions.
pub(super) fn rule_args(
    b: &mut Builder,
    index: usize,
    args: &[Spanned<Text>],
    context: RefContext,
    wrap: (&str, &str),
    at: crate::source::Span,
) {
    if args.is_empty() {
        b.push(
            Diagnostic::new(
                CODE,
                format!("{}missing bwlim filter name{}", wrap.0, wrap.1),
            )
            .at(at)
            .label("the filter's name is missing"),
        );
        return;
    }
    let mut i = 1;
    while let Some(word) = args.get(i) {
        let which = word.value.as_str();
        if !matches!(which, "limit" | "period") {
            break;
        }
        let Some(expr) = args.get(i + 1) else {
            b.push(
                Diagnostic::new(
                    CODE,
                    format!("{}missing {which} expression{}", wrap.0, wrap.1),
                )
                .at(word.span)
                .label("the expression is missing"),
            );
            return;
        };
        super::exprs::sample_arg(b, index, expr, context, wrap);
        i += 2;
    }
}

#[cfg(test)]
mod tests {
    fn messages(cfg: &str) -> Vec<String> {
        let c = crate::testkit::compile_text("t.cfg", cfg, false);
        c.diagnostics
            .iter()
            .filter(|d| d.code == super::CODE)
            .map(|d| d.message.to_string())
            .collect()
    }

    const HEAD: &str = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend fe\n    bind :80\n";

    #[test]
    fn filter_options_are_read_as_haproxy_reads_them() {
        for (line, message) in [
            ("filter bwlim-in", "'filter' : ''bwlim-in' : a name is expected as first argument '"),
            ("filter bwlim-out l default-limit 1k key src", "'filter' : ''bwlim-out' : cannot mix per-stream and shared parameter'"),
            ("filter bwlim-out l limit 1k", "'filter' : ''bwlim-out' : <key> option is missing'"),
            ("filter bwlim-out l key src", "'filter' : ''bwlim-out' : <limit> option is missing'"),
            ("filter bwlim-out l default-limit 1k default-period 1x", "'filter' : ''bwlim-out' : invalid value for option 'default-period' (unexpected character 'x')'"),
            ("filter bwlim-out l default-limit 1k default-period 1s min-size", "'filter' : ''bwlim-out' : the value is missing for 'min-size' option'"),
        ] {
            // The checks made once every section is read come after (HAProxy stops before).
            let got = messages(&format!("{HEAD}    {line}\n"));
            assert_eq!(got.first().map(String::as_str), Some(message), "{line}");
        }
        let fine = "filter bwlim-out l default-limit 1k default-period 1s min-size 2896\n    http-response set-bandwidth-limit l limit int(100) period int(10)\n";
        assert!(messages(&format!("{HEAD}    {fine}")).is_empty());
    }

    #[test]
    fn rules_name_a_filter_of_their_proxy_and_shared_ones_take_no_limit() {
        let cfg = format!(
            "{HEAD}    filter bwlim-in s limit 1m key src\n    stick-table type ip size 1k store bytes_in_rate(1s)\n    \
             http-request set-bandwidth-limit s limit int(1)\n    http-request set-bandwidth-limit t\n"
        );
        assert_eq!(
            messages(&cfg),
            [
                "Proxy 'fe': set-bandwidth-limit rule cannot define a limit for a shared bwlim filter.",
                "Proxy 'fe': unable to find bwlim filter 't' referenced by set-bandwidth-limit rule.",
            ]
        );
    }
}
