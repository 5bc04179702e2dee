//! Compiling a configuration again after an edit, reusing what did not change.
//!
//! A [`Session`] keeps its last [`Compilation`]. The next one takes from it the syntax tree:
//! in a one-file configuration without directives only the edited lines are parsed and spliced
//! in (see [`crate::reparse`]); otherwise every line is parsed again, with the words of the
//! lines outside the edited text taken over (lines after it shifted to where they now stand).
//! It takes the model of every proxy body whose fingerprint still holds, and a body the edit
//! changed is built again from the statement the edit reached when the previous build kept its
//! state there (see [`crate::ir::reuse`]). The lint rules that look at one proxy at a time take
//! the previous findings of the proxies the build took unchanged (see [`crate::lint`]'s
//! `reuse`); everything else — globals, defaults, headers, name resolution, the post-parse
//! checks, the lints across proxies — runs on the whole configuration as in
//! [`crate::check::compile`], whose result it equals.
//!
//! The previous compilation is taken over when the session holds the only reference to it
//! (its parts are moved, not copied), and copied from otherwise. A session assumes one
//! environment (`$VAR` expansion) for all its compilations.

use crate::check::{compile_reusing, Compilation, Reuse};
use crate::diagnostic::Diagnostic;
use crate::ir::reuse::{BodyCache, BodyReuse, Previous};
use crate::ir::CheckOptions;
use crate::lexer::LexedLine;
use crate::reparse::{reparse, Edit};
use crate::source::{FileId, SourceDb, SourceFile};
use crate::syntax::{Environment, LineKind, SyntaxTree};
use std::sync::Arc;

/// Successive compilations of one configuration (the language server keeps one per document).
#[derive(Default)]
pub struct Session {
    previous: Option<Arc<Compilation>>,
    bodies: BodyCache,
    /// Body statements the last compilation did not build again (see [`Session::resumed`]).
    resumed: usize,
    /// The diagnostics of the previous compilation's parse: a splice keeps those of the lines
    /// the edit left.
    parse_diags: Vec<Diagnostic>,
    /// Lines the last compilation parsed, when it spliced them into the previous tree.
    reparsed: Option<usize>,
    /// The lint findings of the previous compilation, per proxy.
    lints: crate::lint::LintCache,
}

impl Session {
    pub fn new() -> Self {
        Session::default()
    }

    /// How many statements of the proxy bodies the last compilation changed took from the
    /// state the compilation before kept, instead of building them again.
    pub fn resumed(&self) -> usize {
        self.resumed
    }

    /// How many proxies the last compilation took the lint findings of from the compilation
    /// before, instead of running the per-proxy lint rules on them again.
    pub fn lints_taken(&self) -> usize {
        self.lints.taken()
    }

    /// How many lines the last compilation parsed when it parsed only the edited lines and
    /// kept the others of the previous tree (`None` when it parsed every line).
    pub fn reparsed(&self) -> Option<usize> {
        self.reparsed
    }

    /// Compiles `db`, reusing the previous compilation of this session. `finish` makes the
    /// caller's last changes (lint levels, say) before the result is shared.
    pub fn compile(
        &mut self,
        db: SourceDb,
        env: &dyn Environment,
        options: &CheckOptions,
        finish: impl FnOnce(&mut Compilation),
    ) -> Arc<Compilation> {
        // Taken out first: a compilation that panics leaves an empty session, not a stale one.
        // The lines after a `setenv` (or its kin) read the environment it changed: a
        // configuration with one is parsed whole rather than from the lines it kept. The
        // previous parse says whether one changed anything; the new text is looked at.
        let previous = self
            .previous
            .take()
            .filter(|old| old.tree.environment.is_empty() && !changes_env(&db));
        let cache = std::mem::take(&mut self.bodies);
        let old_diags = std::mem::take(&mut self.parse_diags);
        self.reparsed = None;
        let (mut c, (cache, resumed)) = match previous.map(Arc::try_unwrap) {
            None => {
                let parsed = crate::syntax::parse(&db, env);
                self.parse_diags = parsed.1.clone();
                let bodies = BodyReuse::new(BodyCache::default(), Previous::None);
                compile_from(db, env, options, bodies, parsed, &mut self.lints)
            }
            Some(Ok(mut old)) => {
                let proxies = std::mem::take(&mut old.config.proxies);
                let proxies = proxies.into_iter().map(Some).collect();
                let mut bodies = BodyReuse::new(cache, Previous::Owned(proxies));
                let tree = OldTree::Owned(&mut old.tree);
                let parsed = self.parse_again(&old.db, tree, &old_diags, &db, env, &mut bodies);
                compile_from(db, env, options, bodies, parsed, &mut self.lints)
            }
            Some(Err(shared)) => {
                let mut bodies = BodyReuse::new(cache, Previous::Shared(&shared.config.proxies));
                let tree = OldTree::Shared(&shared.tree);
                let parsed = self.parse_again(&shared.db, tree, &old_diags, &db, env, &mut bodies);
                compile_from(db, env, options, bodies, parsed, &mut self.lints)
            }
        };
        finish(&mut c);
        let c = Arc::new(c);
        self.previous = Some(c.clone());
        self.bodies = cache;
        self.resumed = resumed;
        c
    }

    /// The parse of `db` from the previous tree (of `old`, with `old_diags`): only the edited
    /// lines when they can be spliced in (see [`crate::reparse`]), else every line, with the
    /// words of unchanged ones reused. Tells `bodies` where each file's edit starts.
    fn parse_again(
        &mut self,
        old: &SourceDb,
        mut tree: OldTree,
        old_diags: &[Diagnostic],
        db: &SourceDb,
        env: &dyn Environment,
        bodies: &mut BodyReuse,
    ) -> (SyntaxTree, Vec<Diagnostic>) {
        let mut spans = crate::timing::Spans::new("parse again");
        let file = FileId(0);
        let aligned =
            (db.len() == 1 && old.len() == 1).then(|| align(old.file(file), db.file(file)));
        let spliced = aligned.and_then(|a| {
            let edit = Edit {
                prefix: a.prefix,
                suffix: a.suffix,
            };
            match &mut tree {
                OldTree::Owned(t) => reparse(old, t, old_diags, db, env, edit),
                OldTree::Shared(t) => reparse(old, &mut (*t).clone(), old_diags, db, env, edit),
            }
        });
        let mut lines = OldLines::new(old, tree);
        // The one file's alignment is known already (a whole-text comparison each).
        if let Some(a) = aligned.filter(|_| old.file(file).name == db.file(file).name) {
            lines.alignments = vec![Some(Some(a))];
        }
        for i in 0..db.len() {
            let file = FileId(i as u32);
            let source = db.file(file);
            let edit = lines.alignment(source, file).map(|a| a.prefix);
            if let Some(at) = edit.filter(|&at| at < source.text.len()) {
                bodies.set_edit(file, at as u32);
            }
        }
        let parsed = match spliced {
            Some(s) => {
                spans.mark("splice");
                self.reparsed = Some(s.parsed_lines);
                if let Some(within) = s.within {
                    bodies.set_within(within);
                }
                (s.tree, s.diags)
            }
            None => {
                let mut take = |source: &SourceFile, file, index| lines.take(source, file, index);
                let parsed = crate::syntax::parse_reusing(db, env, &mut take);
                spans.mark("parse (reusing)");
                parsed
            }
        };
        spans.done();
        self.parse_diags = parsed.1.clone();
        parsed
    }
}

enum OldTree<'a> {
    Owned(&'a mut SyntaxTree),
    Shared(&'a SyntaxTree),
}

/// How a file of the new compilation lines up with the same file of the previous one.
#[derive(Clone, Copy)]
struct Alignment {
    /// Bytes equal at the start, and at the end (not overlapping the start).
    prefix: usize,
    suffix: usize,
    /// How far the text after the edit moved, in bytes and in lines.
    bytes: i64,
    lines: i64,
}

/// One compilation of the tree `parsed`, reusing `bodies` and the lint findings `lints`.
fn compile_from(
    db: SourceDb,
    env: &dyn Environment,
    options: &CheckOptions,
    mut bodies: BodyReuse,
    parsed: (SyntaxTree, Vec<Diagnostic>),
    lints: &mut crate::lint::LintCache,
) -> (Compilation, (BodyCache, usize)) {
    let c = compile_reusing(
        db,
        env,
        options,
        Some(Reuse {
            parsed,
            bodies: &mut bodies,
            lints,
        }),
    );
    let resumed = bodies.resumed();
    (c, (bodies.into_cache(), resumed))
}

/// The lines of the previous compilation, handed out to the new parse.
struct OldLines<'a> {
    db: &'a SourceDb,
    tree: OldTree<'a>,
    /// Per file, computed on its first line: `None` when the file is not the same file.
    alignments: Vec<Option<Option<Alignment>>>,
}

impl<'a> OldLines<'a> {
    fn new(db: &'a SourceDb, tree: OldTree<'a>) -> Self {
        OldLines {
            db,
            tree,
            alignments: Vec::new(),
        }
    }

    fn alignment(&mut self, source: &SourceFile, file: FileId) -> Option<Alignment> {
        let i = file.0 as usize;
        if self.alignments.len() <= i {
            self.alignments.resize(i + 1, None);
        }
        *self.alignments[i].get_or_insert_with(|| {
            let old = (i < self.db.len()).then(|| self.db.file(file))?;
            (old.name == source.name).then(|| align(old, source))
        })
    }

    /// The words of line `index` of `source` if the previous compilation lexed the same line
    /// and its words do not depend on where the line stands.
    fn take(&mut self, source: &SourceFile, file: FileId, index: usize) -> Option<LexedLine> {
        let a = self.alignment(source, file)?;
        let starts = source.line_starts();
        let start = *starts.get(index)? as usize;
        let end = starts
            .get(index + 1)
            .map_or(source.text.len(), |&e| e as usize);
        let (old_index, delta) = if end <= a.prefix {
            (index, 0)
        } else if start >= source.text.len() - a.suffix {
            (usize::try_from(index as i64 - a.lines).ok()?, a.bytes)
        } else {
            return None;
        };
        // The alignment exists: so does the old file.
        let old = self.db.file(file);
        let old_starts = old.line_starts();
        let old_start = *old_starts.get(old_index)? as usize;
        let old_end = old_starts
            .get(old_index + 1)
            .map_or(old.text.len(), |&e| e as usize);
        if old_start as i64 + delta != start as i64 || old_end as i64 + delta != end as i64 {
            return None;
        }
        let text = &source.text.as_bytes()[source.line_range(index)];
        // `$VAR`, `${.LINE}` and friends expand to what the line's place gives them.
        if memchr::memchr(b'$', text).is_some() {
            return None;
        }
        let tree = match &mut self.tree {
            OldTree::Owned(t) => &mut **t,
            OldTree::Shared(t) => {
                let line = t.files.get(file.0 as usize)?.lines.get(old_index)?;
                return reusable(line, text)
                    .then(|| lexed(line.words.clone(), line.comment, delta));
            }
        };
        let line = tree
            .files
            .get_mut(file.0 as usize)?
            .lines
            .get_mut(old_index)?;
        if !reusable(line, text) {
            return None;
        }
        let words = std::mem::take(&mut line.words);
        Some(lexed(words, line.comment, delta))
    }
}

/// Whether a line of the previous tree (of text `text`) holds its lexed words: lines in error
/// and lines after a stop were not lexed; spaces and tabs alone lex to nothing.
fn reusable(line: &crate::syntax::Line, text: &[u8]) -> bool {
    !line.words.is_empty()
        || line.kind == LineKind::Comment
        || text.iter().all(|&c| c == b' ' || c == b'\t')
}

fn lexed(
    mut words: thin_vec::ThinVec<crate::syntax::Word>,
    mut comment: Option<crate::source::Span>,
    delta: i64,
) -> LexedLine {
    if delta != 0 {
        let shift = |at: &mut u32| *at = (i64::from(*at) + delta) as u32;
        for w in &mut words {
            shift(&mut w.span.start);
            shift(&mut w.span.end);
        }
        if let Some(c) = &mut comment {
            shift(&mut c.start);
            shift(&mut c.end);
        }
    }
    LexedLine {
        words,
        comment,
        error: None,
    }
}

/// The common start and end of two texts, and how far the end moved.
fn align(old: &SourceFile, new: &SourceFile) -> Alignment {
    let (a, b) = (old.text.as_bytes(), new.text.as_bytes());
    let prefix = common(a.len().min(b.len()), |n, len| {
        a[n..n + len] == b[n..n + len]
    });
    let suffix = common(a.len().min(b.len()) - prefix, |n, len| {
        a[a.len() - n - len..a.len() - n] == b[b.len() - n - len..b.len() - n]
    });
    Alignment {
        prefix,
        suffix,
        bytes: b.len() as i64 - a.len() as i64,
        lines: new.line_starts().len() as i64 - old.line_starts().len() as i64,
    }
}

/// How many of the first `max` bytes are equal, given `same(n, len)`: whether the `len` bytes
/// after the first `n` are. Whole blocks are compared first (a `memcmp` each), then bytes.
fn common(max: usize, same: impl Fn(usize, usize) -> bool) -> usize {
    const BLOCK: usize = 4096;
    let mut n = 0;
    while n + BLOCK <= max && same(n, BLOCK) {
        n += BLOCK;
    }
    while n < max && same(n, 1) {
        n += 1;
    }
    n
}

/// Whether a file of `db` may hold a `setenv`, `presetenv`, `unsetenv` or `resetenv` line.
fn changes_env(db: &SourceDb) -> bool {
    db.files().any(|(_, f)| f.text.contains("setenv"))
}
