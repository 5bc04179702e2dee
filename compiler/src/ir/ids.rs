//! The numeric ids written with `id`: a proxy's, a server's and a listener's. HAProxy keeps a
//! tree of the ids in use for each (proxies: all of them; servers and listeners: each proxy's
//! own) and refuses, while it reads the line, an id already in it; ids set by the lines before
//! only, as the numbering of the others is done after the whole file is read.

use super::build::{Builder, Stmt};
use super::model::{Bind, Server};
use crate::diagnostic::{Diagnostic, HaproxyForm};

/// The value of a server's `id` option as HAProxy reads it (C's `atol`), if it has one.
pub(super) fn server_id(s: &Server) -> Option<i64> {
    if !s.words.any(super::model::ServerWords::ID) {
        return None;
    }
    let mut i = 0;
    while let Some(word) = s.options.get(i) {
        if word.value == "id" {
            return Some(crate::cnum::atol(
                s.options.get(i + 1).map_or("", |v| &v.value),
            ));
        }
        i += 1 + super::keywords::server_option_arity(&word.value).unwrap_or(0);
    }
    None
}

/// A server line's `id` value (the word at `at`), with `context` naming the server: above 0,
/// and not the id of a server before it in the proxy. Returns whether HAProxy takes it.
pub(super) fn server_option(
    b: &mut Builder,
    index: usize,
    stmt: &Stmt,
    at: usize,
    context: &str,
) -> bool {
    let value = crate::cnum::atol(stmt.word(at));
    let message = if value <= 0 {
        format!("{context}'id' : custom id has to be > 0.")
    } else {
        let servers = &b.config.proxies[index].servers;
        let Some(first) = servers.iter().find(|s| server_id(s) == Some(value)) else {
            return true;
        };
        // A template's first server is the one that took the id.
        let first_name = match first.template {
            Some((low, _)) => format!("{}{low}", first.name.value),
            None => first.name.value.to_string(),
        };
        format!(
            "{context}'id' : custom id {value} already used at {} ('server {first_name}').",
            b.location(first.span),
        )
    };
    let code = if value <= 0 { "E523" } else { "E526" };
    b.push(
        Diagnostic::new(code, message)
            .at(stmt.span(at))
            .label("not an id this server can take")
            .form(HaproxyForm::FileLine),
    );
    false
}

/// How many listeners a bind address makes: one per address of its list, one per port of a
/// range.
fn listeners(b: &Builder, address: &str) -> usize {
    address
        .split(',')
        .map(
            |part| match crate::address::parse_written(part, b.env, crate::address::Rules::BIND) {
                Ok(a) => match a.port {
                    crate::address::Port::Range { low, high } if high > low => {
                        usize::from(high - low) + 1
                    }
                    _ => 1,
                },
                Err(_) => 1,
            },
        )
        .sum()
}

/// A bind line's `id` option: HAProxy first makes sure the line makes a single listener
/// (before it looks at the value). Returns the words after the line's context (`ctx`) it
/// refuses the line with.
pub(super) fn bind_single_socket(b: &Builder, stmt: &Stmt, ctx: &str) -> Option<String> {
    (listeners(b, stmt.word(1)) > 1)
        .then(|| format!("{ctx}'id' can only be used with a single socket"))
}

/// A bind line's `id` value at `at` (read and found above 0 already): no bind line before it
/// in the proxy (`binds`) may have taken it.
pub(super) fn bind_duplicate(
    b: &Builder,
    binds: &[Bind],
    stmt: &Stmt,
    at: usize,
    ctx: &str,
) -> Option<String> {
    let value = crate::cnum::atol(stmt.word(at));
    let first = binds.iter().find(|bind| bind_id(bind) == Some(value))?;
    Some(format!(
        "{ctx}'id' : custom id {value} already used at {} ('bind {}')",
        b.location(first.span),
        first.address.value
    ))
}

/// The `id` a bind line gave its listener, if any.
fn bind_id(bind: &Bind) -> Option<i64> {
    let mut i = 0;
    while let Some(word) = bind.options.get(i) {
        if word.value == "id" {
            return Some(crate::cnum::atol(
                bind.options.get(i + 1).map_or("", |v| &v.value),
            ));
        }
        i += 1 + super::keywords::bind_option_arity(&word.value).unwrap_or(0);
    }
    None
}

/// Two proxies given one `id`: the later `id` line is refused, naming the proxy that took it
/// (run once every body is built, in the order of the sections).
pub(super) fn proxies(b: &mut Builder) {
    let mut taken: rustc_hash::FxHashMap<i64, usize> = Default::default();
    let mut found = Vec::new();
    for (index, p) in b.config.proxies.iter().enumerate() {
        if p.kind == super::model::ProxyKind::Defaults {
            continue;
        }
        // A defaults section's `id` is refused there, never inherited.
        for line in p.own_directives().filter(|d| d.keyword == "id") {
            let [value] = &line.args[..] else { continue };
            let id = crate::cnum::atol(value);
            if id <= 0 {
                continue;
            }
            match taken.get(&id) {
                Some(&first) => found.push((line.span, index, first)),
                None => {
                    taken.insert(id, index);
                }
            }
        }
    }
    for (span, index, first) in found {
        let (p, other) = (&b.config.proxies[index], &b.config.proxies[first]);
        let message = format!(
            "{} {} reuses same custom id as {} {} (declared at {}).",
            p.kind.type_str(),
            p.name_str(),
            other.kind.type_str(),
            other.name_str(),
            b.location(other.header)
        );
        let header = other.header;
        b.push(
            Diagnostic::new("E526", message)
                .at(span)
                .label("id already taken")
                .with_secondary(header, "proxy that has it")
                .form(HaproxyForm::ParsingTight),
        );
    }
}
