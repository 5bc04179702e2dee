//! A proxy's filters in the order HAProxy chains them, and the checks that order takes: a
//! cache filter must find its cache and come before any compression, and the filters a proxy
//! gets without a `filter` line (a cache for `cache-use`/`cache-store`, compression for
//! `compression` lines) only go with FastCGI's, compression's and caches': beside any other
//! filter HAProxy wants them declared.
//!
//! The chain is built as HAProxy builds it while reading the section: each `filter` line adds
//! its filter where it stands, the first `cache-use`/`cache-store` rule naming a cache with no
//! filter yet adds an implicit one, a later `filter cache <name>` takes that implicit one's
//! place, `use-fcgi-app` adds FastCGI's unless an application has one, a later `filter
//! fcgi-app <name>` moves its application's filter to its own place, and the implicit
//! compression filter goes last.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::registry::SectionKind;

/// One filter of a proxy's chain as its lines declare it, in HAProxy's order; the implicit
/// compression filter, which goes last, is left to the caller. Shared by the checks below and
/// the runtime plan (`plan::filters`).
pub(crate) enum Link<'a> {
    /// A cache filter: the cache's name and where it is written; `implicit` when only
    /// `cache-use`/`cache-store` rules named it.
    Cache {
        name: &'a str,
        span: crate::Span,
        implicit: bool,
    },
    /// A FastCGI application's filter (`use-fcgi-app`, `filter fcgi-app`), and its line.
    Fcgi { app: &'a str, line: crate::Span },
    /// Any other `filter` line (its first argument says which filter).
    Declared(&'a DirectiveLine),
}

/// A line that places a filter: a directive, or a cache rule (the cache's name).
enum Line<'a> {
    Declared(&'a DirectiveLine),
    CacheRule(&'a Spanned<Text>),
}

/// The proxy's filters in chain order.
pub(crate) fn links(p: &Proxy) -> Vec<Link<'_>> {
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
    let mut links: Vec<Link> = Vec::new();
    let has_cache = |links: &[Link], name: &str| {
        links
            .iter()
            .any(|l| matches!(l, Link::Cache { name: n, .. } if *n == name))
    };
    for (_, line) in lines {
        let d = match line {
            Line::CacheRule(name) => {
                if !has_cache(&links, &name.value) {
                    links.push(Link::Cache {
                        name: &name.value,
                        span: name.span,
                        implicit: true,
                    });
                }
                continue;
            }
            Line::Declared(d) => d,
        };
        let arg = |i: usize| d.args.get(i).map_or("", Text::as_str);
        let app = match (d.keyword.as_str(), arg(0)) {
            ("use-fcgi-app", _) => Some(arg(0)),
            (_, "fcgi-app") => Some(arg(1)),
            _ => None,
        };
        if let Some(app) = app {
            // A line HAProxy refuses as it reads it declares no filter.
            if !super::fcgi::line_declares(p.kind, d) {
                continue;
            }
            if d.keyword == "use-fcgi-app" {
                // It reuses the filter of its application, and HAProxy refuses it (while
                // reading the line) beside another application's.
                if !links.iter().any(|l| matches!(l, Link::Fcgi { .. })) {
                    links.push(Link::Fcgi { app, line: d.span });
                }
                continue;
            }
            // An explicit declaration takes the place of its application's earlier filter.
            links.retain(|l| !matches!(l, Link::Fcgi { app: a, .. } if *a == app));
            links.push(Link::Fcgi { app, line: d.span });
            continue;
        }
        if arg(0) != "cache" {
            links.push(Link::Declared(d));
            continue;
        }
        // The name with its span (`caches` holds it when the line has one).
        let Some(cache) = p.caches.iter().find(|c| c.value == arg(1)) else {
            continue;
        };
        // An explicit declaration takes the place of an implicit one.
        links.retain(
            |l| !matches!(l, Link::Cache { name, implicit: true, .. } if *name == cache.value),
        );
        links.push(Link::Cache {
            name: &cache.value,
            span: cache.span,
            implicit: false,
        });
    }
    links
}

/// The FastCGI application of a proxy (its first FastCGI filter, as HAProxy looks it up), with
/// the line declaring it: `use-fcgi-app` or `filter fcgi-app`. Its `proto fcgi` servers speak
/// to this application.
pub(crate) fn fcgi_app(p: &Proxy) -> Option<(&str, crate::Span)> {
    links(p).into_iter().find_map(|l| match l {
        Link::Fcgi { app, line } => Some((app, line)),
        _ => None,
    })
}

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

impl Kind {
    fn of(link: &Link) -> Kind {
        match link {
            Link::Cache { implicit, .. } => Kind::Cache {
                implicit: *implicit,
            },
            Link::Fcgi { .. } => Kind::Fcgi,
            Link::Declared(d) if d.args.first().is_some_and(|a| a == "compression") => {
                Kind::Compression
            }
            Link::Declared(_) => Kind::Other,
        }
    }
}

/// The checks, in HAProxy's order: the implicit compression filter's, then each filter's own.
pub(super) fn check(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    let links = links(p);
    let mut kinds: Vec<Kind> = links.iter().map(Kind::of).collect();
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
        for k in &kinds {
            match k {
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
            // The implicit compression filter, last.
            kinds.push(Kind::Compression);
        }
    }
    for (at, link) in links.iter().enumerate() {
        let (cache, span, implicit) = match *link {
            Link::Fcgi { app, line } => {
                out.extend(fcgi_check(config, p, &links, app, line));
                continue;
            }
            Link::Cache {
                name,
                span,
                implicit,
            } => (name, span, implicit),
            Link::Declared(_) => continue,
        };
        if config.section(SectionKind::Cache, cache).is_none() {
            out.push(
                Diagnostic::new(
                    "E248",
                    format!(
                        "config: {kind} '{name}': unable to find the cache '{cache}' referenced by the filter 'cache'."
                    ),
                )
                .form(HaproxyForm::Bare)
                .at(span)
                .label("no cache section with this name"),
            );
            continue;
        }
        // Walked in order as HAProxy walks it: the first reason found is the one reported.
        let mut compressed = false;
        let mut message = None;
        for (i, k) in kinds.iter().enumerate() {
            if i == at {
                if compressed {
                    message = Some(format!(
                        "config: {kind} '{name}': unable to enable the compression filter before the cache '{cache}'."
                    ));
                    break;
                }
            } else if *k == Kind::Compression {
                compressed = true;
            } else if *k == Kind::Other && implicit {
                message = Some(format!(
                    "config: {kind} '{name}': require an explicit filter declaration to use the cache '{cache}'."
                ));
                break;
            }
        }
        let Some(message) = message else {
            continue;
        };
        out.push(error(message).at(span).help(format!(
            "declare the cache's place among the filters with 'filter cache {cache}'"
        )));
    }
}

/// A FastCGI filter's own check: its application exists, is the proxy's only one, and no
/// filter but a cache or compression goes with it.
fn fcgi_check(
    config: &Config,
    p: &Proxy,
    links: &[Link],
    app: &str,
    line: crate::Span,
) -> Option<Diagnostic> {
    let name = p.name_str();
    let message = if config.section(SectionKind::FcgiApp, app).is_none() {
        format!("proxy '{name}' : fcgi-app '{app}' not found.")
    } else {
        let other = links.iter().find_map(|l| match (l, Kind::of(l)) {
            (_, Kind::Compression | Kind::Cache { .. }) => None,
            (Link::Fcgi { app: a, .. }, _) => (*a != app).then_some(false),
            _ => Some(true),
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
