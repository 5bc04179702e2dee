//! The build's entry points and its walk over the sections: global and named sections are
//! built as they come, proxy headers open their proxies, and the bodies are built after (on
//! all cores when there are many lines).

use super::{proxy_body, Body, BodyWords, Builder, Stmt};
use crate::diagnostic::Diagnostic;
use crate::ir::model::*;
use crate::ir::{global, proxy, CheckOptions};
use crate::registry::SectionKind;
use crate::source::SourceDb;
use crate::syntax::{Environment, SyntaxTree};

/// Proxy bodies (frontends, backends, listens) hold most lines of large configurations and
/// read nothing of one another, so from this many lines they are built on all cores. A second
/// thread costs about 0.2 ms of CPU time (its start, its allocator pages) and 0.1 MiB of peak
/// RSS. On `bench/gen-config.py`'s shapes (`check -q`, 2 cores, `perf record` samples per
/// thread) it took the main thread's CPU time, the run's critical path, from 3.13 to 2.92 ms
/// at 4,400 body lines (`host` 5k: not worth it), 5.58 to 4.36 at 9,700 (`host` 11k), 8.8 to
/// 6.9 at 17,500 (`acl` 20k) and 9.7 to 7.2 at 19,500 (`host` 22k).
pub(in crate::ir) const PARALLEL_BODY_LINES: usize = 8_192;

/// Builds the model from the syntax tree.
pub fn build(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
) -> (Config, Vec<Diagnostic>) {
    build_from(
        db,
        tree,
        env,
        options,
        workers_for(tree),
        None,
        Vec::new(),
        true,
        true,
    )
}

/// [`build`] for a caller that has no further use for the words of the proxy bodies (`check
/// -q`): each body's words are taken out of `tree` and freed as soon as the body is built, so
/// they and the model built from them are not held together. Unless `plan_lines` (a plan is
/// built from the model), proxies keep in their directives only the statements the checks
/// read ([`super::read_by_checks`]), not those only the plan lowers. The diagnostics are those of
/// [`build`], and so is the model but for those statements; `tree` keeps every line (span,
/// kind, comment), those bodies' without words. Unless `warnings`, the checks that can only
/// warn are skipped: the diagnostics are then [`build`]'s errors and some of its warnings.
pub fn build_consuming(
    db: &SourceDb,
    tree: &mut SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    plan_lines: bool,
    warnings: bool,
) -> (Config, Vec<Diagnostic>) {
    let workers = workers_for(tree);
    build_consuming_with(db, tree, env, options, workers, plan_lines, warnings)
}

/// [`build_consuming`] with proxy bodies shared among `workers` threads.
pub(crate) fn build_consuming_with(
    db: &SourceDb,
    tree: &mut SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    workers: usize,
    plan_lines: bool,
    warnings: bool,
) -> (Config, Vec<Diagnostic>) {
    let taken = take_body_words(tree);
    build_from(
        db, tree, env, options, workers, None, taken, plan_lines, warnings,
    )
}

/// Threads for the proxy bodies: all cores on large configurations, else one.
fn workers_for(tree: &SyntaxTree) -> usize {
    let body_lines: usize = tree
        .sections
        .iter()
        .filter(|s| s.kind.is_proxy() && s.kind != SectionKind::Defaults)
        .map(|s| s.body.len())
        .sum();
    if body_lines >= PARALLEL_BODY_LINES {
        crate::cores()
    } else {
        1
    }
}

/// The words of each body line of every frontend, backend and listen section (by section
/// index; `None` for other sections), moved out of `tree`. Only the words move: the lines stay
/// in the tree, where the build reads their spans.
fn take_body_words(tree: &mut SyntaxTree) -> Vec<Option<BodyWords>> {
    let SyntaxTree {
        files, sections, ..
    } = tree;
    sections
        .iter()
        .map(|s| {
            if !s.kind.is_proxy() || s.kind == SectionKind::Defaults {
                return None;
            }
            let lines = &mut files[s.file.0 as usize].lines;
            // A body whose lines all wait to be lexed (see `proxy_body_taking`) has nothing to
            // take: no list of empty entries for it.
            if s.body.iter().all(|&i| lines[i].words.is_empty()) {
                return Some(Vec::new());
            }
            let taken = s.body.iter().map(|&i| std::mem::take(&mut lines[i].words));
            Some(taken.collect())
        })
        .collect()
}

/// [`build`] reusing the proxy bodies of a previous build that still hold (see
/// [`crate::ir::reuse`]); the model and diagnostics are those of [`build`].
pub fn build_reusing(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    reuse: &mut crate::ir::reuse::BodyReuse,
) -> (Config, Vec<Diagnostic>) {
    build_from(
        db,
        tree,
        env,
        options,
        crate::cores(),
        Some(reuse),
        Vec::new(),
        true,
        true,
    )
}

/// [`build`] with proxy bodies shared among `workers` threads (tests choose the number).
#[cfg(test)]
pub(crate) fn build_with(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    workers: usize,
) -> (Config, Vec<Diagnostic>) {
    build_from(
        db,
        tree,
        env,
        options,
        workers,
        None,
        Vec::new(),
        true,
        true,
    )
}

/// [`build_with`], reusing bodies, or with the bodies' lines in `taken` (by section index)
/// rather than in `tree`; proxies keep the statements only the plan reads if `plan_lines`.
#[allow(clippy::too_many_arguments)]
fn build_from(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    workers: usize,
    reuse: Option<&mut crate::ir::reuse::BodyReuse>,
    mut taken: Vec<Option<BodyWords>>,
    plan_lines: bool,
    warnings: bool,
) -> (Config, Vec<Diagnostic>) {
    // Addresses expand `$NAME` with the environment the global section left.
    let changed = crate::env_changes::Changed {
        base: env,
        changes: &tree.environment,
    };
    let mut b = Builder::new(db, &changed);
    b.plan_lines = plan_lines;
    b.warnings = warnings;
    b.files_checked = !options.no_env;
    // Sized once: on configs with tens of thousands of proxies, growing these vectors by
    // doubling copied megabytes and left a quarter of them unused.
    let proxy_sections = tree.sections.iter().filter(|s| s.kind.is_proxy()).count();
    b.config.proxies.reserve_exact(proxy_sections);
    b.defaults_use.reserve_exact(proxy_sections);
    // Each name map for the sections that enter it: one frontend before 2,500 backends had
    // a 135 kB table of its own, held through the build's peak.
    let (frontends, backends) = tree.sections.iter().fold((0, 0), |(f, b), s| match s.kind {
        SectionKind::Frontend => (f + 1, b),
        SectionKind::Backend => (f, b + 1),
        SectionKind::Listen => (f + 1, b + 1),
        _ => (f, b),
    });
    b.frontend_names.reserve(frontends);
    b.backend_names.reserve(backends);
    let mut bodies = Vec::with_capacity(proxy_sections);
    // The globals the last body saw, shared with the next bodies while they stay the same.
    let mut seen: Option<std::sync::Arc<super::GlobalsSeen>> = None;
    let mut spans = crate::timing::Spans::new("build");
    for (at, section) in tree.sections.iter().enumerate() {
        let header = tree.header(section);
        let head = Stmt::new(header);
        match section.kind {
            SectionKind::Global => {
                global::header(&mut b, &head);
                for line in tree.body(section) {
                    global::statement(&mut b, &Stmt::new(line));
                }
            }
            kind if kind.is_proxy() => {
                b.seen_non_global = true;
                let Some(index) = proxy::open(&mut b, kind, &head) else {
                    if kind != SectionKind::Defaults && proxy::headless(&head) {
                        for line in tree.body(section) {
                            proxy::orphan_line(&mut b, &head, line);
                        }
                    }
                    continue;
                };
                let now = b.globals();
                let globals = match &seen {
                    Some(last) if **last == now => last.clone(),
                    _ => seen.insert(std::sync::Arc::new(now)).clone(),
                };
                let body = Body {
                    index,
                    section,
                    globals,
                    lines: taken.get_mut(at).and_then(Option::take),
                };
                // Later proxies inherit from a defaults section: its body is built in place.
                if kind == SectionKind::Defaults {
                    proxy_body(&mut b, tree.body(section), &body, index);
                } else {
                    bodies.push(body);
                }
            }
            kind => {
                b.seen_non_global = true;
                let created = crate::ir::section_names::check(&mut b, kind, &head);
                let mut named = NamedSection {
                    kind,
                    name: (head.len() > 1).then(|| head.spanned(1)),
                    header: head.whole(),
                    members: Vec::new(),
                    has_bind: false,
                    lines: Vec::new(),
                };
                for line in tree.body(section) {
                    let stmt = Stmt::new(line);
                    if !created
                        && kind == SectionKind::Ring
                        && crate::ir::ring::orphan_line(&mut b, &stmt)
                    {
                        continue;
                    }
                    global::other_section_statement(&mut b, &mut named, &stmt);
                    // The plan lowers resolvers, program, cache, ring, log-forward, fcgi-app and
                    // mailers sections from their statements.
                    if matches!(
                        kind,
                        SectionKind::Resolvers
                            | SectionKind::Program
                            | SectionKind::Cache
                            | SectionKind::Ring
                            | SectionKind::LogForward
                            | SectionKind::FcgiApp
                            | SectionKind::Mailers
                    ) {
                        let at = usize::from(matches!(stmt.word(0), "no" | "default"));
                        if !stmt.word(at).is_empty() {
                            named.lines.push(stmt.as_directive(at));
                        }
                    }
                }
                if created {
                    let end = tree
                        .body(section)
                        .last()
                        .map_or(head.whole(), |l| Stmt::new(l).whole());
                    crate::ir::section_names::section_end(&mut b, &named, end);
                } else {
                    b.refused_sections.push(named.header);
                }
                b.config.sections.push(named);
            }
        }
    }
    spans.mark("sections and headers");
    crate::ir::bodies::build_bodies(&mut b, tree, bodies, workers, reuse);
    crate::ir::ids::proxies(&mut b);
    spans.mark("bodies");
    b.config.env_changes = tree.environment.clone();
    b.config.reindex();
    spans.mark("reindex");
    spans.done();
    (b.config, b.diags)
}
