//! One proxy body's statements, built in order: its longer lists sized first from the lines'
//! first words, then each line's statement, from lexed words or from a plain line's text.

use super::{Builder, GlobalsSeen, Stmt};
use crate::source::SourceDb;
use crate::syntax::{Line, Word};

/// A proxy whose statements are still to be built.
pub(in crate::ir) struct Body<'a> {
    pub index: usize,
    pub section: &'a crate::syntax::Section,
    /// Shared by the bodies that saw the same globals (most of them): a copy each was 64 bytes
    /// per proxy, held until every body was built.
    pub globals: std::sync::Arc<GlobalsSeen>,
    /// The words of the body's lines when they were taken out of the tree (see
    /// [`super::build_consuming`]).
    pub lines: Option<BodyWords>,
}

/// The words of a proxy body's lines, taken out of the tree, one entry per line (none at all
/// when every line waits to be lexed by the build).
pub(in crate::ir) type BodyWords = Vec<thin_vec::ThinVec<Word>>;

/// Builds proxy `index`'s body from its statement `lines`.
pub(in crate::ir) fn proxy_body<'l>(
    b: &mut Builder,
    lines: impl Iterator<Item = &'l Line> + Clone,
    body: &Body,
    index: usize,
) {
    start_body(
        b,
        statement_counts(
            lines
                .clone()
                .map(|l| l.words.first().map(|w| w.value.as_str())),
        ),
        body,
        index,
    );
    for line in lines {
        crate::ir::proxy::statement(b, index, &Stmt::new(line));
    }
}

/// [`proxy_body`] for a body whose `words` were taken out of the tree's `lines`: each line's
/// words are freed as soon as its statement is built, so a large body's words and what was
/// built from them are not all held together. A line without words (or past the end of
/// `words`, which is empty when no line had any) is a plain line whose words the parse left
/// out ([`crate::syntax::parse_deferring`]): it is lexed here.
pub(in crate::ir) fn proxy_body_taking<'l>(
    b: &mut Builder,
    lines: impl Iterator<Item = &'l Line> + Clone,
    words: BodyWords,
    body: &Body,
    index: usize,
) {
    let db = b.db;
    let taken = words.iter().map(Some).chain(std::iter::repeat(None));
    let counts = statement_counts(lines.clone().zip(taken).map(|(line, words)| {
        match words.and_then(|w| w.first()) {
            Some(first) => Some(first.value.as_str()),
            // Deferred lines are plain: their first word is read without lexing the rest.
            None => Some(crate::lexer::first_word_of_plain(deferred_text(db, line))),
        }
    }));
    start_body(b, counts, body, index);
    let mut words = words.into_iter();
    for line in lines {
        match words.next() {
            Some(words) if !words.is_empty() => {
                let line = Line {
                    span: line.span,
                    kind: line.kind,
                    words,
                    comment: line.comment,
                    active: line.active,
                };
                crate::ir::proxy::statement(b, index, &Stmt::new(&line));
            }
            // A plain line: its words are read where they are, not made.
            _ => {
                let text = deferred_text(db, line);
                let scanned = crate::lexer::PlainBounds::scan_words(text);
                let stmt = match &scanned {
                    Some((bounds, words)) => {
                        let bounds = bounds.bounds();
                        Stmt::plain(line, &words[..bounds.len()], bounds)
                    }
                    None => Stmt::without_words(line),
                };
                crate::ir::proxy::statement(b, index, &stmt);
            }
        }
    }
}

/// The text the lexer reads of a line the parse left without its words.
fn deferred_text<'d>(db: &'d SourceDb, line: &Line) -> &'d str {
    let file = db.file(line.span.file);
    file.content(&file.text[line.span.start as usize..line.span.end as usize])
}

/// How many statements of a body make the entries of its longer lists, counted before the body
/// is built so that each list is sized once (a frontend of thousands of ACLs and switching
/// rules grew each list by doubling: copies, and pages touched for room left unused).
#[derive(Default)]
pub(in crate::ir) struct StatementCounts {
    servers: usize,
    acls: usize,
    use_backends: usize,
}

/// [`StatementCounts`] of the lines of a body, given by their first words.
pub(in crate::ir) fn statement_counts<'w>(
    first_words: impl Iterator<Item = Option<&'w str>>,
) -> StatementCounts {
    let mut counts = StatementCounts::default();
    for first in first_words.flatten() {
        match first {
            "server" => counts.servers += 1,
            "acl" => counts.acls += 1,
            "use_backend" => counts.use_backends += 1,
            _ => {}
        }
    }
    counts
}

/// Readies `b` for the statements of proxy `index`'s body, whose statements are `counts`.
pub(in crate::ir) fn start_body(
    b: &mut Builder,
    counts: StatementCounts,
    body: &Body,
    index: usize,
) {
    b.set_globals(&body.globals);
    b.in_proxy.acl_decls.clear();
    b.in_proxy.section_name_lost = false;
    b.in_proxy.acl_decls.reserve(counts.acls);
    let proxy = &mut b.config.proxies[index];
    proxy.servers.reserve_exact(counts.servers);
    proxy.acls.reserve_exact(counts.acls);
    proxy.use_backends.reserve_exact(counts.use_backends);
}
