//! Parsing again only the lines an edit touched, and splicing them into the previous tree.
//!
//! The tree is line-based and the parse reads a file's lines in order with little state between
//! them: the `.if` levels, the fatal errors so far, whether the file stopped, and the section
//! statements go to. Where that state is plain (no `.if` level, no stop), it is known at any line
//! from the previous tree alone: the section is the last header before the line, the fatal
//! errors are the previous parse's diagnostics before it. So the lines before the edit keep
//! their place in the tree, the edited lines are parsed from that state, and the lines after
//! the edit keep their words, kinds and diagnostics, moved by the length the edit added; their
//! statements go to the section the edited lines end in.
//!
//! Only a configuration of one file without directives takes this way, and only when nothing
//! after the edit reads where it stands (`${.LINE}` once lines were added or removed,
//! `${.SECTION}` once a header changed) and the file keeps under HAProxy's fatal error limit;
//! anything else is parsed whole, reusing the words of unchanged lines
//! ([`crate::syntax::parse_reusing`]). The result equals [`crate::syntax::parse`]'s
//! (tested in `tests/incremental.rs`).

use crate::diagnostic::Diagnostic;
use crate::ir::{Shift, Shifter};
use crate::source::{FileId, SourceDb, SourceFile};
use crate::syntax::{Environment, FileContext, Line, LineKind, LineParser, Section, SyntaxTree};

/// How the text of the edited file lines up with its previous text, in bytes: equal for
/// `prefix` bytes at the start and `suffix` at the end (not overlapping).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edit {
    pub prefix: usize,
    pub suffix: usize,
}

/// The edited lines: `first` is the first line that changed; the lines from `old_end` of the old
/// text are the lines from `new_end` of the new one.
#[derive(Clone, Copy, Debug)]
struct Lines {
    first: usize,
    old_end: usize,
    new_end: usize,
}

/// What [`reparse`] made: the tree and parse diagnostics, how many lines it parsed, and where
/// the edit lies when it stayed inside one section's lines.
pub(crate) struct Spliced {
    pub tree: SyntaxTree,
    pub diags: Vec<Diagnostic>,
    pub parsed_lines: usize,
    pub within: Option<WithinSection>,
}

/// An edit that added, changed or removed lines of one section only (no header among them):
/// every other section has the same text and kind as before, its header at the same line when
/// before the edit and `shift` lines further when after it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WithinSection {
    /// The edited section's header line (the same in both trees).
    pub header: usize,
    pub kind: crate::registry::SectionKind,
    /// The first edited line: sections after the edit have their headers at or after it.
    pub first: usize,
    /// How many lines the edit added (negative: removed).
    pub shift: i64,
}

impl WithinSection {
    /// The line of the previous tree's header of the section whose header is at `header` now
    /// (`None` for the edited section itself).
    pub fn old_header(&self, header: usize) -> Option<usize> {
        if header == self.header {
            None
        } else if header < self.first {
            Some(header)
        } else {
            usize::try_from(header as i64 - self.shift).ok()
        }
    }
}

/// The tree and parse diagnostics of `db`, from `tree` and `diags` (the parse of `old`) with
/// only the edited lines parsed again; `tree` is taken. `None` when the edit is not one this
/// way handles: `tree` is then left as it was.
pub(crate) fn reparse(
    old: &SourceDb,
    tree: &mut SyntaxTree,
    diags: &[Diagnostic],
    db: &SourceDb,
    env: &dyn Environment,
    edit: Edit,
) -> Option<Spliced> {
    if old.len() != 1 || db.len() != 1 || tree.files.len() != 1 {
        return None;
    }
    let file = FileId(0);
    let (old_source, source) = (old.file(file), db.file(file));
    if old_source.name != source.name
        || memchr::memchr(0, old_source.text.as_bytes()).is_some()
        || memchr::memchr(0, source.text.as_bytes()).is_some()
    {
        return None;
    }
    // `.if` levels, stops and the messages of directives make state this does not follow.
    let old_lines = &tree.files[0].lines;
    if old_lines.len() != old_source.line_count()
        || old_lines.iter().any(|l| l.kind == LineKind::Directive)
        || diags
            .iter()
            .any(|d| d.span.is_none_or(|s| s.file != file) || matches!(d.code, "E007" | "E008"))
    {
        return None;
    }
    let lines = edited_lines(old_source, source, edit)?;
    let (edit_start, old_after) = (
        line_start(old_source, lines.first),
        line_start(old_source, lines.old_end),
    );
    let bytes = source.text.len() as i64 - old_source.text.len() as i64;
    let shift_lines = lines.new_end as i64 - lines.old_end as i64;

    // The state before the first edited line.
    let sections = &tree.sections;
    let before = sections.partition_point(|s| s.header < lines.first);
    let current = before.checked_sub(1);
    let at_end = sections.partition_point(|s| s.header < lines.old_end);
    let headers_edited = at_end != before;
    let in_line = |d: &Diagnostic| d.code != "E009";
    let prefix_diags = diags
        .iter()
        .filter(|d| in_line(d) && d.span.is_some_and(|s| s.start < edit_start))
        .count();
    let mut section_name = current.map_or(String::new(), |s| {
        let header = &old_lines[sections[s].header];
        header
            .words
            .get(1)
            .or(header.words.first())
            .map_or(String::new(), |w| w.value.to_string())
    });

    // The edited lines, their statements going to a stand-in for the current section (index
    // 0) until a header opens another.
    let context = FileContext {
        file,
        source,
        env,
        build: &crate::cond::BuildInfo::default(),
        defer_proxy_bodies: None,
    };
    let mut parser = LineParser::resume(prefix_diags, current.map(|_| 0));
    let mut opened = vec![Section {
        kind: crate::registry::SectionKind::Global,
        file,
        header: 0,
        body: Vec::new(),
    }];
    let mut edited_diags = Vec::new();
    let mut edited = Vec::with_capacity(lines.new_end - lines.first);
    for index in lines.first..lines.new_end {
        let line = parser.line(
            &context,
            index,
            &mut |_| None,
            &mut opened,
            &mut section_name,
            &mut edited_diags,
        );
        if line.kind == LineKind::Directive {
            return None;
        }
        edited.push(line);
    }
    let headers_edited = headers_edited || opened.len() > 1;
    let within = match current {
        Some(s) if !headers_edited => Some(WithinSection {
            header: sections[s].header,
            kind: sections[s].kind,
            first: lines.first,
            shift: shift_lines,
        }),
        _ => None,
    };
    // The lines after the edit go on as they did: to a section if and only if they went to
    // one, under the same number of fatal errors (below the limit), with the same expansions.
    let after_diags = diags
        .iter()
        .filter(|d| in_line(d) && d.span.is_some_and(|s| s.start >= old_after))
        .count();
    let after_current = at_end.checked_sub(1);
    let expands_after = memchr::memchr(
        b'$',
        &source.text.as_bytes()[line_start(source, lines.new_end) as usize..],
    )
    .is_some();
    if parser.current().is_some() != after_current.is_some()
        || parser.fatal() + after_diags >= crate::syntax::MAX_FATAL_ERRORS
        || (expands_after && (shift_lines != 0 || headers_edited))
        || !parser.is_plain()
    {
        return None;
    }

    // Splice the lines.
    let mut tree = std::mem::take(tree);
    let all = &mut tree.files[0].lines;
    all.splice(lines.first..lines.old_end, edited);
    if bytes != 0 {
        for line in &mut all[lines.new_end..] {
            shift_line(line, bytes);
        }
    }

    // Splice the sections: those before the edit, the current one's statements before it, the
    // edited lines' sections, the statements after the edit (to the section they now follow),
    // the sections after the edit.
    let mut old_sections = std::mem::take(&mut tree.sections);
    let moved = |i: usize| (i as i64 + shift_lines) as usize;
    let tail: Vec<usize> = after_current.map_or(Vec::new(), |s| {
        let body = &old_sections[s].body;
        let from = body.partition_point(|&i| i < lines.old_end);
        body[from..].iter().map(|&i| moved(i)).collect()
    });
    let mut after: Vec<Section> = old_sections.drain(at_end..).collect();
    old_sections.truncate(before);
    let mut opened = opened.into_iter();
    let stand_in = opened.next().map(|s| s.body).unwrap_or_default();
    if let Some(s) = current {
        let body = &mut old_sections[s].body;
        body.truncate(body.partition_point(|&i| i < lines.first));
        body.extend(stand_in);
    }
    // New sections, numbered from 1 in `opened`, follow the current one.
    let last_opened = parser.current().filter(|&i| i > 0);
    old_sections.extend(opened);
    match (last_opened, current) {
        (Some(_), _) => {
            let last = old_sections.len() - 1;
            old_sections[last].body.extend(tail);
        }
        (None, Some(s)) => old_sections[s].body.extend(tail),
        (None, None) => {}
    }
    if shift_lines != 0 {
        for s in &mut after {
            s.header = moved(s.header);
            s.body.iter_mut().for_each(|i| *i = moved(*i));
        }
    }
    old_sections.extend(after);
    tree.sections = old_sections;

    // The diagnostics, in line order, and the file's end.
    let shifter = Shifter {
        file,
        from: old_after,
        to: u32::MAX,
        delta: bytes,
    };
    let mut out: Vec<Diagnostic> = diags
        .iter()
        .filter(|d| in_line(d) && d.span.is_some_and(|s| s.start < edit_start))
        .cloned()
        .collect();
    out.extend(edited_diags);
    out.extend(
        diags
            .iter()
            .filter(|d| in_line(d) && d.span.is_some_and(|s| s.start >= old_after))
            .map(|d| {
                let mut d = d.clone();
                d.shift(&shifter);
                d
            }),
    );
    parser.finish(&context, tree.files[0].lines.last(), &mut out);
    Some(Spliced {
        tree,
        diags: out,
        parsed_lines: lines.new_end - lines.first,
        within,
    })
}

/// The lines an edit touched: after the lines whole in the common start (line feed included),
/// before those that start in the common end at a line start of both texts.
fn edited_lines(old: &SourceFile, new: &SourceFile, edit: Edit) -> Option<Lines> {
    let (old_starts, new_starts) = (old.line_starts(), new.line_starts());
    // Lines before `first` end, line feed included, in the common start.
    let first = new_starts
        .partition_point(|&s| s as usize <= edit.prefix)
        .saturating_sub(1);
    let first = first.min(old.line_count()).min(new.line_count());
    let bytes = new.text.len() as i64 - old.text.len() as i64;
    // The common end may stop where the common start did, inside the first edited line (a
    // line inserted before a line that starts like it): it then goes on back to that line's
    // start, so that the line after an inserted one is not parsed again.
    let (a, b) = (old.text.as_bytes(), new.text.as_bytes());
    let most = a.len().min(b.len()) - line_start(new, first) as usize;
    let mut suffix = edit.suffix;
    while suffix < most && a[a.len() - suffix - 1] == b[b.len() - suffix - 1] {
        suffix += 1;
    }
    let tail_start = new.text.len() - suffix;
    let shift_lines = new_starts.len() as i64 - old_starts.len() as i64;
    let mut new_end = new_starts.partition_point(|&s| (s as usize) < tail_start);
    let new_end = loop {
        if new_end >= new.line_count() {
            break new.line_count();
        }
        let old_end = usize::try_from(new_end as i64 - shift_lines).ok()?;
        let same_start = old_starts
            .get(old_end)
            .is_some_and(|&s| s as i64 + bytes == new_starts[new_end] as i64);
        if same_start && old_end < old.line_count() {
            break new_end;
        }
        new_end += 1;
    };
    let old_end = usize::try_from(new_end as i64 - shift_lines).ok()?;
    // The last line without a line feed ends each file's count the same way.
    let old_end = if new_end == new.line_count() {
        old.line_count()
    } else {
        old_end
    };
    (first <= new_end && first <= old_end && old_end <= old.line_count()).then_some(Lines {
        first,
        old_end,
        new_end,
    })
}

/// Where line `index` starts, or the end of the text after the last line.
fn line_start(source: &SourceFile, index: usize) -> u32 {
    source
        .line_starts()
        .get(index)
        .copied()
        .unwrap_or(source.text.len() as u32)
}

fn shift_line(line: &mut Line, bytes: i64) {
    let by = |at: &mut u32| *at = (i64::from(*at) + bytes) as u32;
    by(&mut line.span.start);
    by(&mut line.span.end);
    for w in line.words.iter_mut() {
        by(&mut w.span.start);
        by(&mut w.span.end);
    }
    if let Some(c) = &mut line.comment {
        by(&mut c.start);
        by(&mut c.end);
    }
}
