//! The whole front end in one call: sources → syntax → model → checks.

use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::{self, CheckOptions, Config};
use crate::source::{SourceDb, Span};
use crate::syntax::{self, Environment, SyntaxTree};

/// Everything one compilation produced.
pub struct Compilation {
    pub db: SourceDb,
    pub tree: SyntaxTree,
    pub config: Config,
    /// Syntax diagnostics first, then per-line semantic ones, then post-parse ones.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Whether HAProxy would print a warning ("Warnings were found.", `-dW`): the few warnings
    /// it prints at the alert level do not count.
    pub fn has_warnings(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning && d.haproxy_level.is_none())
    }
}

/// Compiles already-loaded sources.
pub fn compile(db: SourceDb, env: &dyn Environment, options: &CheckOptions) -> Compilation {
    compile_with(db, env, options, options.lints)
}

/// [`compile`], with the lint rules run only if `run_lints` (a caller that shows only errors
/// skips them; `options.lints` still decides the other checks that come with lints).
pub fn compile_with(
    db: SourceDb,
    env: &dyn Environment,
    options: &CheckOptions,
    run_lints: bool,
) -> Compilation {
    compile_inner(db, env, options, None, run_lints, false)
}

/// [`compile_with`] without lints, for a caller that wants only the errors and builds no plan
/// (`check -q`; checks that can only warn are skipped, so some warnings are missing): the
/// plain lines of the proxy bodies are lexed only when the build reaches
/// them ([`syntax::parse_deferring`]) and every body line's words are freed as soon as its
/// statement is built, so the returned tree has those lines without their words, and the model
/// leaves out the statements only a plan reads (see [`ir::build_consuming`]).
pub fn compile_model_only(
    db: SourceDb,
    env: &dyn Environment,
    options: &CheckOptions,
) -> Compilation {
    compile_inner(db, env, options, None, false, true)
}

/// What an incremental compilation takes from the previous one (see [`crate::incremental`]).
pub(crate) struct Reuse<'r, 'a> {
    /// The tree and its diagnostics, parsed by the caller (from the previous tree).
    pub parsed: (SyntaxTree, Vec<Diagnostic>),
    pub bodies: &'r mut ir::reuse::BodyReuse<'a>,
    /// The previous compilation's lint findings per proxy; left with this one's.
    pub lints: &'r mut crate::lint::LintCache,
}

/// [`compile`], with the unchanged lines and proxy bodies of a previous compilation reused.
pub(crate) fn compile_reusing(
    db: SourceDb,
    env: &dyn Environment,
    options: &CheckOptions,
    reuse: Option<Reuse>,
) -> Compilation {
    compile_inner(db, env, options, reuse, options.lints, false)
}

/// Whether a `global` section loads Lua scripts (`lua-load`, `lua-load-per-thread`), seen
/// before the model is built.
fn loads_lua(tree: &syntax::SyntaxTree) -> bool {
    let global = tree
        .sections
        .iter()
        .filter(|s| s.kind == crate::registry::SectionKind::Global);
    global.flat_map(|s| tree.body(s)).any(|line| {
        line.words
            .iter()
            .take(2)
            .any(|w| w.value.starts_with("lua-load"))
    })
}

/// Whether what HAProxy finds only at start-up is looked for (on this machine, with the
/// lints): the open-file limit it checks is the plan's.
fn start_up_checks(options: &CheckOptions) -> bool {
    !options.no_env && options.lints
}

fn compile_inner(
    mut db: SourceDb,
    env: &dyn Environment,
    options: &CheckOptions,
    reuse: Option<Reuse>,
    run_lints: bool,
    consume_words: bool,
) -> Compilation {
    let mut spans = crate::timing::Spans::new("compile");
    let (mut tree, mut diagnostics);
    let ((mut config, mut per_line), lua_samples);
    // With reuse: the lint findings kept, and the proxies taken from the previous model.
    let mut lint_reuse = None;
    match reuse {
        Some(r) => {
            (tree, diagnostics) = r.parsed;
            // A reused body does not meet its `lua.<name>` samples again: with scripts to
            // check them against, the build is done whole.
            let whole = !options.no_env && loads_lua(&tree);
            ((config, per_line), lua_samples) = crate::lua::collecting(|| {
                if whole {
                    ir::build(&db, &tree, env, options)
                } else {
                    ir::build_reusing(&db, &tree, env, options, r.bodies)
                }
            });
            let taken = if whole {
                Vec::new()
            } else {
                r.bodies.taken().to_vec()
            };
            lint_reuse = Some((r.lints, taken));
            spans.mark("build (reusing)");
        }
        None => {
            (tree, diagnostics) = if consume_words {
                syntax::parse_deferring(&db, env)
            } else {
                syntax::parse(&db, env)
            };
            spans.mark("parse");
            if consume_words {
                // The start-up checks below build a plan from the model.
                let plan_lines = start_up_checks(options);
                ((config, per_line), lua_samples) = crate::lua::collecting(|| {
                    ir::build_consuming(&db, &mut tree, env, options, plan_lines, false)
                });
            } else {
                ((config, per_line), lua_samples) =
                    crate::lua::collecting(|| ir::build(&db, &tree, env, options));
            }
            spans.mark("build");
        }
    }
    let mut deferred_files = Vec::new();
    let mut env_found = Vec::new();
    if !options.no_env {
        // Files and log addresses are read while HAProxy parses their line, except the few it
        // reads after parsing.
        let (found, lua_names) = crate::envcheck::check(&config);
        // The files of strings compiled with their proxy's checks (dynamic `use_backend`
        // rules) are reported among that proxy's findings; the others once all are made.
        let with_proxy: Vec<Span> = config
            .files
            .iter()
            .filter(|r| r.after_parse && r.kind == crate::ir::FileKind::PatternFile)
            .map(|r| r.path.span)
            .collect();
        let (after, during): (Vec<_>, Vec<_>) = found
            .into_iter()
            .partition(|d| d.after_parse && !d.span.is_some_and(|s| with_proxy.contains(&s)));
        env_found = during;
        deferred_files = after;
        // `lua.<name>` fetches and converters were taken on trust; when the scripts did not
        // register one of them, the build runs again knowing what they did, which words
        // HAProxy's error for the unknown keyword where the expression is.
        if !lua_samples.is_empty() {
            let names = lua_names.or_else(|| crate::envcheck::scanned_lua_names(&config));
            if let Some(names) = names.filter(|n| n.lacks_any(&lua_samples)) {
                if consume_words {
                    // The bodies' words are gone: read them again (a rare case, scripts
                    // lacking a sample the configuration names).
                    tree = syntax::parse(&db, env).0;
                }
                (config, per_line) =
                    crate::lua::with_registered(&names, || ir::build(&db, &tree, env, options));
                // A model built whole took nothing from the previous one.
                if let Some((_, taken)) = &mut lint_reuse {
                    taken.clear();
                }
            }
        }
    }
    // crt-list files are read while their bind line is; their text joins the sources so
    // that their diagnostics can point into them.
    if !options.no_env {
        let (after, during): (Vec<_>, Vec<_>) = crate::envcheck::crt_lists(&mut db, &config)
            .into_iter()
            .partition(|d| d.after_parse);
        env_found.extend(during);
        deferred_files.extend(after);
    }
    let spoe = if options.no_env {
        Vec::new()
    } else {
        crate::spoe::load(&mut db, &mut config, env)
    };
    // A rule HAProxy cannot read (a `lua.<name>` action or service no script registered)
    // takes no place among the rules: no warning about where it is written.
    let unread: Vec<Span> = env_found
        .iter()
        .filter(|d| matches!(d.code, "E108" | "E232"))
        .filter_map(|d| d.span)
        .collect();
    if !unread.is_empty() {
        per_line.retain(|d| {
            d.code != "W252"
                || !d.span.is_some_and(|s| {
                    unread
                        .iter()
                        .any(|u| u.file == s.file && s.start <= u.start && u.end <= s.end)
                })
        });
    }
    diagnostics.extend(per_line);
    diagnostics.extend(env_found);
    // HAProxy reports what it finds while reading in file and line order, whatever the stage
    // that found it here (words, keywords, files); the sort is stable within a line.
    diagnostics.sort_by_key(Diagnostic::source_order);
    // What an SPOE file holds is reported where its `filter` line is read (the last first:
    // an insertion leaves the places before it as they were).
    for (line, found) in spoe.into_iter().rev() {
        let at = diagnostics.partition_point(|d| d.source_order() <= (line.file.0, line.start));
        diagnostics.splice(at..at, found);
    }
    // The strings HAProxy compiles once the configuration is read are reported with the
    // findings of the proxy they are written in.
    let (deferred, read): (Vec<_>, Vec<_>) = std::mem::take(&mut diagnostics)
        .into_iter()
        .partition(|d| d.after_parse);
    diagnostics = read;
    let certless = if options.no_env {
        Vec::new()
    } else {
        crate::envcheck::certless(&config)
    };
    // `check -q` (`consume_words`) shows only errors: no check that can only warn is run.
    let mut post_parse =
        ir::post_parse_checks_with(&db, &config, options, deferred, &certless, !consume_words);
    // A string HAProxy stops reading at an HTTP alias (E511) never reaches the field that
    // does not parse after it: that field's error, found as the line was read, goes.
    let stopped_earlier: Vec<Span> = post_parse
        .iter()
        .filter(|d| d.code == "E511")
        .filter_map(|d| d.span)
        .collect();
    let reached = |d: &Diagnostic| {
        d.code != "E505"
            || !d.span.is_some_and(|s| {
                stopped_earlier
                    .iter()
                    .any(|l| l.file == s.file && l.start <= s.start && s.end <= l.end)
            })
    };
    diagnostics.retain(reached);
    post_parse.retain(reached);
    diagnostics.extend(
        post_parse
            .into_iter()
            .chain(deferred_files)
            .chain(crate::spoe::check(&config))
            .map(|mut d| {
                d.after_parse = true;
                d
            }),
    );
    let read_errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
    // HAProxy tries its nameservers once the configuration is read.
    if !options.no_env {
        diagnostics.extend(crate::envcheck::nameservers(&config));
    }
    // HAProxy resolves server names after the checks, and only if they found no error: part of
    // `haproxy -c`, so before anything found only at start-up.
    // It loads the server state file first, once no check failed at all.
    if !options.no_env && !diagnostics.iter().any(|d| d.severity == Severity::Error) {
        diagnostics.extend(
            crate::envcheck::server_state(&config)
                .into_iter()
                .map(|mut d| {
                    d.after_parse = true;
                    d
                }),
        );
    }
    if !options.no_env && !read_errors {
        diagnostics.extend(crate::envcheck::server_names(
            &config,
            options.resolve_dontfail,
        ));
    }
    // What HAProxy finds only at start-up is hapee's own view: the HAProxy-compatible `-c`
    // (no lints) keeps `haproxy -c`'s verdict. HAProxy raises the open-file limit before it
    // binds and changes root, so a limit it cannot have is what it says even when the chroot
    // folder is missing too (the plan the limit needs is only built from a readable model).
    if start_up_checks(options) {
        if !read_errors {
            diagnostics.extend(crate::envcheck::fd_limit(&config));
        }
        diagnostics.extend(crate::envcheck::start_up(&config));
    }
    spans.mark("post-parse checks");
    let mut c = Compilation {
        db,
        tree,
        config,
        diagnostics,
    };
    // Lints only make sense on a configuration HAProxy accepts; errors first.
    if run_lints && !c.has_errors() {
        let lints = match lint_reuse {
            Some((cache, taken)) => {
                let old = std::mem::take(cache);
                let mut reuse = crate::lint::LintReuse::new(old, &taken, c.config.proxies.len());
                let lints = crate::lint::run_reusing(&c, options, &mut reuse);
                *cache = reuse.into_cache();
                lints
            }
            None => crate::lint::run(&c, options),
        };
        c.diagnostics.extend(lints);
    } else if let Some((cache, _)) = lint_reuse {
        // The findings kept are those of this compilation's model, or none.
        *cache = crate::lint::LintCache::default();
    }
    // Allow comments that name no rule (L023) are about the text, whatever the model.
    if run_lints {
        let comments = crate::lint::allow_comment_findings(&c.db);
        c.diagnostics.extend(comments);
    }
    spans.mark("lints");
    spans.done();
    c
}
