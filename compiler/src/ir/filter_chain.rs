//! A proxy's filters in the order HAProxy chains them, and the checks that order takes: a
//! cache filter must find its cache and come before any compression, and the filters a proxy
//! gets without a `filter` line (a cache for `cache-use`/`cache-store`, compression for
//! `compression` lines) only go with FastCGI's, compression's and caches': beside any other
//! filter HAProxy wants them declared.
//!
//! The chain is built as HAProxy builds it while reading the section: each `filter` line adds
//! its filter where it stands, the first `cache-use`/`cache-store` rule naming a cache with no
//! filter yet adds an implicit one, a later `filter cache <name>` takes that implicit one's
//! place, `use-fcgi-app` adds FastCGI's, and the implicit compression filter goes last.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::registry::SectionKind;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A cache filter; `implicit` when only rules named the cache.
    Cache {
        implicit: bool,
    },
    Compression,
    Fcgi,
    Other,
}

struct Filter<'a> {
    kind: Kind,
    /// The cache a cache filter names.
    cache: Option<&'a Spanned<Text>>,
    /// The application a FastCGI filter names, and its line.
    app: Option<(&'a str, crate::Span)>,
}

/// The filter-making lines of the proxy, by their place in the file: filter lines,
/// `use-fcgi-app` lines and cache rules.
enum Line<'a> {
    Declared(&'a DirectiveLine),
    CacheRule(&'a Spanned<Text>),
}

fn chain(p: &Proxy) -> Vec<Filter<'_>> {
    // The proxy's own lines (a defaults section's `use-fcgi-app` reaches no proxy).
    let mut lines: Vec<(crate::Span, Line)> = p
        .own_directives()
        .filter(|d| d.prefix.is_none() && matches!(d.keyword.as_str(), "filter" | "use-fcgi-app"))
        .map(|d| (d.span, Line::Declared(d)))
        .collect();
    lines.extend(
        p.rules
            .iter()
            .filter(|r| matches!(r.action.value.as_str(), "cache-use" | "cache-store"))
            .filter_map(|r| r.args.first())
            .map(|name| (name.span, Line::CacheRule(name))),
    );
    lines.sort_by_key(|(span, _)| (span.file, span.start));
    // The cache names as written on the filter lines, for the spans of their messages.
    let named = |value: &str| p.caches.iter().find(|c| c.value == value);
    let mut filters: Vec<Filter> = Vec::new();
    for (_, line) in lines {
        match line {
            Line::CacheRule(name) => {
                let exists = filters
                    .iter()
                    .any(|f| f.cache.is_some_and(|c| c.value == name.value));
                if !exists {
                    filters.push(Filter {
                        kind: Kind::Cache { implicit: true },
                        cache: Some(name),
                        app: None,
                    });
                }
            }
            Line::Declared(d) if d.keyword == "use-fcgi-app" => fcgi(
                &mut filters,
                d.args.first().map_or("", Text::as_str),
                d.span,
            ),
            Line::Declared(d) => match d.args.first().map(Text::as_str) {
                Some("fcgi-app") => {
                    fcgi(&mut filters, d.args.get(1).map_or("", Text::as_str), d.span)
                }
                Some("cache") => {
                    let name = d.args.get(1).map_or("", Text::as_str);
                    filters.retain(|f| {
                        f.kind != Kind::Cache { implicit: true }
                            || f.cache.is_none_or(|c| c.value != name)
                    });
                    if let Some(cache) = named(name) {
                        filters.push(Filter {
                            kind: Kind::Cache { implicit: false },
                            cache: Some(cache),
                            app: None,
                        });
                    }
                }
                Some("compression") => filters.push(Filter {
                    kind: Kind::Compression,
                    cache: None,
                    app: None,
                }),
                _ => filters.push(Filter {
                    kind: Kind::Other,
                    cache: None,
                    app: None,
                }),
            },
        }
    }
    filters
}

/// A FastCGI filter for `app`: one per application, a second line naming it takes the first's.
fn fcgi<'a>(filters: &mut Vec<Filter<'a>>, app: &'a str, line: crate::Span) {
    if !filters.iter().any(|f| f.app.is_some_and(|(a, _)| a == app)) {
        filters.push(Filter {
            kind: Kind::Fcgi,
            cache: None,
            app: Some((app, line)),
        });
    }
}

/// The checks, in HAProxy's order: the implicit compression filter's, then each filter's own.
pub(super) fn check(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    let mut filters = chain(p);
    let (kind, name) = (p.kind.type_str(), p.name_str());
    let error = |message: String| Diagnostic::new("E213", message).form(HaproxyForm::Bare);
    // Only `compression` lines (the proxy's or its defaults') ask for compression's
    // settings to be checked; a `filter compression` line alone does not.
    let compression = p
        .directives
        .iter()
        .any(|d| d.keyword == "compression" && d.prefix.is_none());
    if compression {
        let mut explicit_compression = false;
        let mut others = false;
        for f in &filters {
            match f.kind {
                Kind::Compression => explicit_compression = true,
                Kind::Cache { .. } if explicit_compression => {
                    out.push(error(format!(
                        "config: {kind} '{name}': unable to enable the compression filter before any cache filter."
                    )).at(p.header));
                    break;
                }
                Kind::Cache { .. } | Kind::Fcgi => {}
                Kind::Other => others = true,
            }
        }
        if !explicit_compression && others {
            out.push(
                error(format!(
                    "config: {kind} '{name}': require an explicit filter declaration to use HTTP compression"
                ))
                .at(p.header)
                .help("add 'filter compression' where the compression should run among the filters"),
            );
        } else if !explicit_compression {
            filters.push(Filter {
                kind: Kind::Compression,
                cache: None,
                app: None,
            });
        }
    }
    for (at, f) in filters.iter().enumerate() {
        if let Some((app, line)) = f.app {
            if let Some(d) = fcgi_check(config, p, &filters, app, line) {
                out.push(d);
            }
            continue;
        }
        let (Kind::Cache { implicit }, Some(cache)) = (f.kind, f.cache) else {
            continue;
        };
        if config.section(SectionKind::Cache, &cache.value).is_none() {
            out.push(
                Diagnostic::new(
                    "E248",
                    format!(
                        "config: {kind} '{name}': unable to find the cache '{}' referenced by the filter 'cache'.",
                        cache.value
                    ),
                )
                .form(HaproxyForm::Bare)
                .at(cache.span)
                .label("no cache section with this name"),
            );
            continue;
        }
        // Walked in order as HAProxy walks it: the first reason found is the one reported.
        let mut compressed = false;
        let mut message = None;
        for (i, g) in filters.iter().enumerate() {
            if i == at {
                if compressed {
                    message = Some(format!(
                        "config: {kind} '{name}': unable to enable the compression filter before the cache '{}'.",
                        cache.value
                    ));
                    break;
                }
            } else if g.kind == Kind::Compression {
                compressed = true;
            } else if g.kind == Kind::Other && implicit {
                message = Some(format!(
                    "config: {kind} '{name}': require an explicit filter declaration to use the cache '{}'.",
                    cache.value
                ));
                break;
            }
        }
        let Some(message) = message else {
            continue;
        };
        out.push(error(message).at(cache.span).help(format!(
            "declare the cache's place among the filters with 'filter cache {}'",
            cache.value
        )));
    }
}

/// A FastCGI filter's own check: its application exists, is the proxy's only one, and no
/// filter but a cache or compression goes with it.
fn fcgi_check(
    config: &Config,
    p: &Proxy,
    filters: &[Filter],
    app: &str,
    line: crate::Span,
) -> Option<Diagnostic> {
    let name = p.name_str();
    let message = if config.section(SectionKind::FcgiApp, app).is_none() {
        format!("proxy '{name}' : fcgi-app '{app}' not found.")
    } else {
        let other = filters.iter().find_map(|f| match f.kind {
            Kind::Compression | Kind::Cache { .. } => None,
            Kind::Fcgi if f.app.is_some_and(|(a, _)| a != app) => Some(false),
            Kind::Fcgi => None,
            Kind::Other => Some(true),
        })?;
        if other {
            format!("config: proxy '{name}': require an explicit filter declaration to use the fcgi-app '{app}'.")
        } else {
            format!("proxy '{name}' : only one fcgi-app supported per backend.")
        }
    };
    Some(
        Diagnostic::new("E250", message)
            .form(HaproxyForm::Bare)
            .at(line)
            .label("the FastCGI application's filter"),
    )
}
