//! Proxy bodies (frontends, backends, listens): built in order on small configurations, in
//! contiguous shares on all cores on large ones, and put back into the model in source order.

use super::build::{proxy_body, proxy_body_taking, Body, BodyWords, Builder, PARALLEL_BODY_LINES};
use super::model::*;
use crate::diagnostic::Diagnostic;
use crate::syntax::SyntaxTree;

/// The smallest share of the proxy bodies is a 1/(threads x this) part of their lines (see
/// [`build_bodies_from`]).
const SHARES_PER_THREAD: usize = 16;

/// Builds the bodies of frontends, backends and listens: in order on small configurations, in
/// contiguous shares on all cores on large ones, and only those whose previous build does not
/// hold when `reuse` has them. Each body is built by a builder without the other proxies; the
/// results are put back in source order, so the model and the diagnostics are the same either
/// way.
pub(super) fn build_bodies(
    b: &mut Builder,
    tree: &SyntaxTree,
    mut bodies: Vec<Body>,
    workers: usize,
    mut reuse: Option<&mut super::reuse::BodyReuse>,
) {
    // Bodies set the globals they saw; the model keeps the final ones.
    let last = b.globals();
    let db = b.db;
    let mut spans = crate::timing::Spans::new("proxy bodies");
    let fingerprints: Vec<u64> = match reuse.as_deref_mut() {
        Some(r) => bodies
            .iter()
            .map(|body| {
                let proxy = &b.config.proxies[body.index];
                r.fingerprint(
                    db,
                    tree,
                    body.section,
                    proxy,
                    &b.config.proxies,
                    &body.globals,
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let mut built: Vec<Option<(Proxy, BodyOutput)>> = match reuse.as_deref_mut() {
        Some(r) => bodies
            .iter()
            .zip(&fingerprints)
            .map(|(body, &f)| r.take(tree, body.section, f, body.index))
            .collect(),
        // Nothing to reuse: no slot per body (on 10,000 backends that is megabytes of `None`).
        None => Vec::new(),
    };
    let missing: Vec<usize> = (0..bodies.len())
        .filter(|&i| built.get(i).is_none_or(Option::is_none))
        .collect();
    // Words taken out of the tree go with their proxies to the threads, which free them.
    let taken: Vec<Option<BodyWords>> = missing.iter().map(|&i| bodies[i].lines.take()).collect();
    let missing: Vec<&Body> = missing.iter().map(|&i| &bodies[i]).collect();
    let plans: Vec<Plan> = match reuse.as_deref_mut() {
        Some(r) => missing
            .iter()
            .map(|body| {
                let proxy = &b.config.proxies[body.index];
                r.plan(
                    db,
                    tree,
                    body.section,
                    proxy,
                    &b.config.proxies,
                    &body.globals,
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let lines: usize = missing
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let resumed = plans.get(i).and_then(|p| p.resume.as_ref());
            d.section.body.len() - resumed.map_or(0, |r| r.1)
        })
        .sum();
    // Reused bodies cost nothing: only the lines to build decide on threads.
    let workers = if reuse.is_some() && lines < PARALLEL_BODY_LINES {
        1
    } else {
        workers.min(missing.len())
    };
    spans.mark("reuse");
    // The fresh proxies are built in their places in the model; each share's outputs are
    // freed as soon as they are merged.
    // Without `reuse`, a body that built no output has no entry (see `build_share`).
    let mut fresh = build_bodies_from(b, tree, &missing, workers, plans, taken, reuse.is_none())
        .into_iter()
        .flatten()
        .peekable();
    spans.mark("build");
    // The outputs taken are thousands of lints on large configurations: room for them at
    // once, rather than growing (and copying) the lists as they come.
    let taken_outputs = built.iter().flatten().map(|(_, output)| output);
    let (diags, files, acl_hosts) = taken_outputs.fold((0, 0, 0), |(d, f, a), o| {
        (d + o.diags.len(), f + o.files.len(), a + o.acl_hosts.len())
    });
    b.diags.reserve(diags);
    b.config.files.reserve(files);
    b.config.acl_hosts.reserve(acl_hosts);
    for (i, body) in bodies.iter().enumerate() {
        let output = match built.get_mut(i).and_then(Option::take) {
            Some((proxy, output)) => {
                b.config.proxies[body.index] = proxy;
                output
            }
            None => match fresh.next_if(|(at, _)| *at == body.index) {
                Some((_, (output, kept))) => {
                    if let (Some(r), Some(kept)) = (reuse.as_deref_mut(), kept) {
                        r.keep(tree, body.section, kept);
                    }
                    output
                }
                None => continue,
            },
        };
        match reuse.as_deref_mut() {
            Some(r) => {
                b.diags.extend(output.diags.iter().cloned());
                b.config.files.extend(output.files.iter().cloned());
                b.config.acl_hosts.extend(output.acl_hosts.iter().cloned());
                r.remember(tree, body.section, fingerprints[i], body.index, output);
            }
            None => {
                b.diags.extend(output.diags);
                b.config.files.extend(output.files);
                b.config.acl_hosts.extend(output.acl_hosts);
            }
        }
    }
    spans.mark("merge");
    // Source order, as `check::compile` sorts them anyway.
    b.diags.sort_by_key(Diagnostic::source_order);
    b.set_globals(&last);
    // Files in the order of their lines, as if every section had been built where it stands
    // (several files of one line keep the order the line gave them).
    b.config.files.sort_by_cached_key(|f| {
        let file = db.file(f.path.span.file);
        (
            f.path.span.file.0,
            file.line_index(f.path.span.start as usize),
        )
    });
    spans.mark("sort");
    spans.done();
}

use super::reuse::{BodyOutput, Kept, Plan};

/// A body's output, and the state it kept for the next build (its proxy is built in place).
type Built = (BodyOutput, Option<Kept>);

/// A [`Built`] with its body's proxy index: outputs may leave out the bodies that built
/// nothing (see [`build_share`]).
type BuiltAt = (usize, Built);

/// A body's proxy in the model (as its header opened it, then as built), how to build it, and
/// its lines' words when they were taken out of the tree.
type Opened<'p> = (&'p mut Proxy, Plan, Option<BodyWords>);

/// Builds `bodies` (their proxies as their headers opened them, in `b`'s model) with `workers`
/// threads, each as its plan says when there is one. Each proxy is built in its place in the
/// model (a share's thread has its proxies' places, and no copy of them is held beside the
/// model); the outputs are returned in order, share by share (not gathered in one list), and
/// only those that hold something when `sparse`.
fn build_bodies_from(
    b: &mut Builder,
    tree: &SyntaxTree,
    bodies: &[&Body],
    workers: usize,
    plans: Vec<Plan>,
    lines: Vec<Option<BodyWords>>,
    sparse: bool,
) -> Vec<Vec<BuiltAt>> {
    let (db, env, plan_lines, warnings) = (b.db, b.env, b.plan_lines, b.warnings);
    let mut plans = plans.into_iter();
    let mut lines = lines.into_iter();
    // The bodies' places in the model, in order (the bodies come in the model's order; the
    // proxies between them are defaults sections, built already).
    let mut places = b
        .config
        .proxies
        .iter_mut()
        .enumerate()
        .filter(|(at, _)| bodies.binary_search_by_key(at, |d| d.index).is_ok())
        .map(|(_, p)| p);
    let mut open = |bodies: &[&Body]| -> Vec<Opened> {
        // Sized once: collected from a `filter_map`, the list grew by doubling.
        let mut opened = Vec::with_capacity(bodies.len());
        opened.extend(bodies.iter().filter_map(|_| {
            let place = places.next()?;
            let plan = plans.next().unwrap_or_default();
            let taken = lines.next().flatten();
            Some((place, plan, taken))
        }));
        opened
    };
    if workers < 2 {
        let mut opened = open(bodies);
        let mut w = Builder::new(db, env);
        w.plan_lines = plan_lines;
        w.warnings = warnings;
        return vec![build_share(&mut w, tree, bodies, &mut opened, sparse)];
    }
    // Contiguous shares, taken by the threads in turn as each is done: lines differ in cost (a
    // condition costs more than a server), so the shares shrink as they go (each a
    // 1/(2 x threads) part of the lines left, down to a floor) and the threads end close
    // together. With eight equal shares on two threads, host 22k's ended 3.7 of 54 million
    // instructions apart, the main thread last.
    // Each share's proxies are opened straight into its own list: opening them all in one list
    // first and then cutting it held every opened proxy twice, at the build's peak.
    let lines_in_bodies: usize = bodies.iter().map(|d| d.section.body.len()).sum();
    let floor = (lines_in_bodies / (workers * SHARES_PER_THREAD)).max(1);
    let mut shares: Vec<(&[&Body], Vec<Opened>)> =
        Vec::with_capacity(workers * SHARES_PER_THREAD + 2 * workers);
    let (mut from, mut left, mut taken) = (0, lines_in_bodies, 0);
    for (i, body) in bodies.iter().enumerate() {
        taken += body.section.body.len();
        if taken >= (left / (2 * workers)).max(floor) && i + 1 < bodies.len() {
            shares.push((&bodies[from..=i], open(&bodies[from..=i])));
            (from, left, taken) = (i + 1, left - taken, 0);
        }
    }
    shares.push((&bodies[from..], open(&bodies[from..])));
    /// A share's opened proxies, then what they built into.
    type Slot<'p> = std::sync::Mutex<(Vec<Opened<'p>>, Vec<BuiltAt>)>;
    let slots: Vec<Slot> = shares
        .into_iter()
        .map(|(_, proxies)| std::sync::Mutex::new((proxies, Vec::new())))
        .collect();
    let mut starts = Vec::with_capacity(slots.len());
    let mut at = 0;
    for slot in &slots {
        let n = slot.lock().map_or(0, |s| s.0.len());
        starts.push(at..at + n);
        at += n;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (Some(slot), Some(range)) = (slots.get(i), starts.get(i)) else {
            break;
        };
        // Each share is taken by one thread only: the lock is never contended.
        let mut slot = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (proxies, out) = &mut *slot;
        let mut w = Builder::new(db, env);
        w.plan_lines = plan_lines;
        w.warnings = warnings;
        *out = build_share(&mut w, tree, &bodies[range.clone()], proxies, sparse);
        // Only the places and spent plans are left: free them now rather than with the other
        // shares.
        *proxies = Vec::new();
    };
    let lua_scope = crate::lua::scope();
    let lua_seen = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 1..workers {
            // A thread the system refuses leaves its shares to the others and to this one.
            let _ = std::thread::Builder::new().spawn_scoped(scope, || {
                let ((), seen) = crate::lua::within(&lua_scope, work);
                if let Ok(mut all) = lua_seen.lock() {
                    all.extend(seen);
                }
            });
        }
        work();
    });
    crate::lua::record_seen(
        lua_seen
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .1
        })
        .collect()
}

/// Builds `bodies` one after the other with `w`, each from its opened proxy and plan, into
/// that proxy's place. When `sparse`, a body whose output is empty and that kept nothing has
/// no entry: most bodies of a large configuration report nothing, and an entry each was a
/// quarter of a megabyte on 2,500 proxies, held at the build's peak.
fn build_share(
    w: &mut Builder,
    tree: &SyntaxTree,
    bodies: &[&Body],
    opened: &mut [Opened],
    sparse: bool,
) -> Vec<BuiltAt> {
    let mut out = Vec::with_capacity(if sparse { 0 } else { bodies.len() });
    for (body, (place, plan, lines)) in bodies.iter().zip(opened.iter_mut()) {
        let placeholder = Proxy::new(place.kind, None, place.header);
        w.config.proxies.clear();
        w.config
            .proxies
            .push(std::mem::replace(*place, placeholder));
        w.positional.set(false);
        let plan = std::mem::take(plan);
        let kept = match lines.take() {
            // Freed line by line as they are built: no use is left for them.
            Some(words) => {
                proxy_body_taking(w, tree.body(body.section), words, body, 0);
                None
            }
            None if plan.resume.is_none() && plan.capture.is_none() => {
                proxy_body(w, tree.body(body.section), body, 0);
                None
            }
            None => super::reuse::build_planned(w, tree, body, plan),
        };
        if let Some(built) = w.config.proxies.pop() {
            **place = built;
        }
        let output = BodyOutput {
            diags: std::mem::take(&mut w.diags),
            files: std::mem::take(&mut w.config.files),
            acl_hosts: std::mem::take(&mut w.config.acl_hosts),
            positional: w.positional.get(),
        };
        let empty = output.diags.is_empty()
            && output.files.is_empty()
            && output.acl_hosts.is_empty()
            && kept.is_none();
        if !(sparse && empty) {
            out.push((body.index, (output, kept)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::build::{build_consuming_with, build_with};
    use crate::ir::CheckOptions;
    use crate::registry::SectionKind;
    use crate::source::SourceDb;
    use crate::syntax::MapEnv;

    fn configs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable").flatten() {
            let p = entry.path();
            if p.is_dir() {
                configs(&p, out);
            } else if p.extension().is_some_and(|e| e == "cfg") {
                out.push(p);
            }
        }
    }

    /// The model and diagnostics of `text` built in order and with `workers` threads.
    fn both_ways(name: &str, text: &str, workers: usize) {
        let mut db = SourceDb::new();
        db.add(name, text);
        let env = MapEnv::default();
        let (tree, parse_diags) = crate::syntax::parse(&db, &env);
        let options = CheckOptions::default();
        let (seq_config, mut seq_diags) = build_with(&db, &tree, &env, &options, 1);
        let (par_config, par_diags) = build_with(&db, &tree, &env, &options, workers);
        // And with the bodies' words freed as they are built (`check -q`): the same model but
        // for the statements only the plan reads.
        let mut checked_config = seq_config.clone();
        for p in &mut checked_config.proxies {
            p.directives.retain(|d| {
                let first = d.args.first().map_or("", |a| a.as_str());
                crate::ir::build::read_by_checks(&d.keyword, first)
            });
        }
        let mut consumed = tree.clone();
        let (own_config, own_diags) =
            build_consuming_with(&db, &mut consumed, &env, &options, workers, false, true);
        assert_eq!(
            format!("{checked_config:?}"),
            format!("{own_config:?}"),
            "{name} (consuming)"
        );
        assert_eq!(par_diags, own_diags, "{name} (consuming)");
        // Nor do the checks made once the model is built look at the statements left out.
        let checked = crate::ir::post_parse_checks(&db, &seq_config, &options);
        assert_eq!(
            checked,
            crate::ir::post_parse_checks(&db, &own_config, &options),
            "{name} (consuming, post-parse checks)"
        );
        // And `check -q`'s checks, which skip those that can only warn, find the same errors.
        let errors = |found: Vec<Diagnostic>| -> Vec<Diagnostic> {
            found.into_iter().filter(Diagnostic::is_error).collect()
        };
        let errors_only =
            crate::ir::post_parse_checks_with(&db, &own_config, &options, Vec::new(), &[], false);
        assert_eq!(
            errors(checked),
            errors(errors_only),
            "{name} (post-parse checks, errors only)"
        );
        // What is left of the tree: every line, the proxy bodies' without their words.
        for (section, kept) in tree.sections.iter().zip(&consumed.sections) {
            let freed = section.kind.is_proxy() && section.kind != SectionKind::Defaults;
            for (line, left) in tree.body(section).zip(consumed.body(kept)) {
                assert_eq!(line.span, left.span, "{name}");
                assert_eq!(
                    left.words.is_empty(),
                    freed || line.words.is_empty(),
                    "{name}"
                );
            }
        }
        // And from a parse that left the bodies' plain lines without their words (`check -q`):
        // the same lines, sections and diagnostics, some body lines without words, built the
        // same.
        let (mut deferred, deferred_diags) = crate::syntax::parse_deferring(&db, &env);
        assert_eq!(parse_diags, deferred_diags, "{name} (deferred)");
        assert_eq!(
            format!("{:?}", tree.sections),
            format!("{:?}", deferred.sections),
            "{name} (deferred)"
        );
        for (file, left) in tree.files.iter().zip(&deferred.files) {
            assert_eq!(file.lines.len(), left.lines.len(), "{name} (deferred)");
            for (line, left) in file.lines.iter().zip(&left.lines) {
                assert_eq!(
                    (line.span, line.kind, line.comment, line.active),
                    (left.span, left.kind, left.comment, left.active),
                    "{name} (deferred)"
                );
                assert!(
                    left.words.is_empty() || line.words == left.words,
                    "{name} (deferred)"
                );
            }
        }
        let (def_config, def_diags) =
            build_consuming_with(&db, &mut deferred, &env, &options, workers, false, true);
        assert_eq!(
            format!("{checked_config:?}"),
            format!("{def_config:?}"),
            "{name} (deferred)"
        );
        assert_eq!(par_diags, def_diags, "{name} (deferred)");
        // Source order, as `check::compile` sorts them.
        seq_diags.sort_by_key(Diagnostic::source_order);
        assert_eq!(
            format!("{seq_config:?}"),
            format!("{par_config:?}"),
            "{name}"
        );
        assert_eq!(seq_diags, par_diags, "{name}");
    }

    #[test]
    fn proxy_bodies_build_the_same_on_any_number_of_threads() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        configs(
            &crate::testkit::corpus_dir().join("regtests-2.7"),
            &mut files,
        );
        configs(&root.join("testdata"), &mut files);
        files.sort();
        assert!(files.len() > 200, "corpus and fixtures found");
        // All of them as one file: thousands of proxies with every kind of error, with global
        // sections (crt-base, expose-experimental-directives) between them.
        let mut all = String::new();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            both_ways(&f.display().to_string(), &text, 2);
            all.push_str(&text);
            all.push('\n');
        }
        for workers in [2, 3, 7] {
            both_ways("all.cfg", &all, workers);
        }
    }
}
