//! A large file's lines read in two halves at once, for [`super::parse_deferring`]: the second
//! half, from a section header near the middle, is read on another core as if the file began
//! there, and kept when the first half leaves the state such a start assumes (no `.if` level
//! open, no fatal error, the file not stopped, no change to the environment on either side);
//! otherwise it is read again after the first half, so the lines, sections and diagnostics are
//! always those of a read from the top.

use super::{parse_lines, Environment, FileContext, Line, LineParser, Section};
use crate::diagnostic::Diagnostic;
use std::sync::atomic::{AtomicBool, Ordering};

/// From this many lines a file is read in two halves (when there are two cores): each line of a
/// proxy body costs a few hundred instructions, a thread some tens of microseconds.
const PARALLEL_PARSE_LINES: usize = 8_192;

/// The environment a half is read with: it notes whether a line changed it (a global `setenv`
/// and the like), and the second half's change is not passed on (that half is then read again).
struct Watched<'a> {
    inner: &'a dyn Environment,
    pass_on: bool,
    changed: AtomicBool,
}

impl Environment for Watched<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.inner.var(name)
    }

    fn change(&self, keyword: &str, args: &[&str]) {
        self.changed.store(true, Ordering::Relaxed);
        if self.pass_on {
            self.inner.change(keyword, args);
        }
    }
}

/// What the second half's read made, as if the file began at its first line.
struct Half {
    lines: Vec<Line>,
    parser: LineParser,
    sections: Vec<Section>,
    section_name: String,
    diags: Vec<Diagnostic>,
}

/// Where the second half starts: the first section header from the middle on, on a line whose
/// words depend on nothing but its text (no quote, escape or comment, so neither the
/// environment nor the section's name reaches them). `None` when there is none.
fn split_point(context: &FileContext, special: &crate::source::LineSet) -> Option<usize> {
    let source = context.source;
    let count = source.line_count();
    (count / 2..count).find(|&index| {
        !special.contains(index) && {
            let text = &source.text[source.line_range(index)];
            let first = crate::lexer::first_word_of_plain(text);
            crate::registry::SectionKind::from_keyword(first).is_some()
        }
    })
}

/// The lines of the file of `context` (whose proxy bodies are deferred), read in two halves
/// at once on a large file, else from the top.
pub(super) fn parse_lines_deferring(
    context: &FileContext,
    sections: &mut Vec<Section>,
    section_name: &mut String,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Line> {
    let source = context.source;
    let count = source.line_count();
    let mid = match context.defer_proxy_bodies {
        // A line a NUL byte or a lone `\r` cuts is not looked at here: such files are read
        // from the top.
        Some(special)
            if count >= PARALLEL_PARSE_LINES && crate::cores() > 1 && !source.may_cut_lines() =>
        {
            split_point(context, special)
        }
        _ => None,
    };
    match mid {
        Some(mid) => read_in_halves(context, mid, sections, section_name, diags),
        None => parse_lines(context, &mut |_| None, sections, section_name, diags),
    }
}

/// The lines of the file of `context`, the second half (from line `mid`, a section header)
/// read on another thread.
fn read_in_halves(
    context: &FileContext,
    mid: usize,
    sections: &mut Vec<Section>,
    section_name: &mut String,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Line> {
    let count = context.source.line_count();
    let watch = |pass_on| Watched {
        inner: context.env,
        pass_on,
        changed: AtomicBool::new(false),
    };
    let (first_env, second_env) = (watch(true), watch(false));
    let with_env = |env| FileContext { env, ..*context };
    let (first_context, second_context) = (with_env(&first_env), with_env(&second_env));
    // Made here, the second half's list is on this thread's heap, which takes the memory back
    // once the lines are moved out (a helper thread's heap would keep its pages).
    let second_lines = Vec::with_capacity(count - mid);
    let read_second = move || {
        let mut half = Half {
            lines: second_lines,
            parser: LineParser::default(),
            sections: Vec::new(),
            section_name: String::new(),
            diags: Vec::new(),
        };
        for index in mid..count {
            let line = half.parser.line(
                &second_context,
                index,
                &mut |_| None,
                &mut half.sections,
                &mut half.section_name,
                &mut half.diags,
            );
            half.lines.push(line);
        }
        half
    };
    let mut lines = Vec::with_capacity(count);
    let mut parser = LineParser::default();
    let second = std::thread::scope(|scope| {
        let second = std::thread::Builder::new().spawn_scoped(scope, read_second);
        for index in 0..mid {
            let line = parser.line(
                &first_context,
                index,
                &mut |_| None,
                sections,
                section_name,
                diags,
            );
            lines.push(line);
        }
        // A thread the system refused, or one that failed, leaves its half to this one.
        second.ok().and_then(|h| h.join().ok())
    });
    let holds = parser.is_plain()
        && parser.fatal() == 0
        && !first_env.changed.load(Ordering::Relaxed)
        && !second_env.changed.load(Ordering::Relaxed);
    match second.filter(|_| holds) {
        Some(half) => {
            lines.extend(half.lines);
            sections.extend(half.sections);
            *section_name = half.section_name;
            diags.extend(half.diags);
            parser = half.parser;
        }
        None => {
            for index in mid..count {
                let line =
                    parser.line(context, index, &mut |_| None, sections, section_name, diags);
                lines.push(line);
            }
        }
    }
    parser.finish(context, lines.last(), diags);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceDb;
    use crate::syntax::MapEnv;

    /// What a read leaves: the lines, sections, diagnostics, last section name and changes to
    /// the environment, written out to compare.
    fn read(text: &str, mid: Option<usize>) -> String {
        let mut db = SourceDb::new();
        db.add("big.cfg", text.to_string());
        let (file, source) = db.files().next().expect("one file");
        let base = MapEnv(
            [("HOME".to_string(), "/root".to_string())]
                .into_iter()
                .collect(),
        );
        let reading = crate::env_changes::Reading::new(&base);
        let special = crate::lexer::special_lines(source);
        let build = crate::cond::BuildInfo::default();
        let context = FileContext {
            file,
            source,
            env: &reading,
            build: &build,
            defer_proxy_bodies: Some(&special),
        };
        let (mut sections, mut name, mut diags) = (Vec::new(), String::from("before"), Vec::new());
        let lines = match mid {
            Some(mid) => read_in_halves(&context, mid, &mut sections, &mut name, &mut diags),
            None => parse_lines(
                &context,
                &mut |_| None,
                &mut sections,
                &mut name,
                &mut diags,
            ),
        };
        format!(
            "{lines:?}\n{sections:?}\n{diags:?}\n{name}\n{:?}",
            reading.into_changes()
        )
    }

    /// Read in two halves from any section header, a file gives what a read from the top
    /// gives: with errors on both sides, an `.if` left open across the cut, fatal errors
    /// before it, and environment changes on either side.
    #[test]
    fn halves_read_as_the_whole() {
        let body = |i: usize| {
            format!(
                "backend be_{i}\n    server s0 10.0.0.{i}:80 check\n    bogus-{i} word\n    \
                 http-request set-header X \"${{HOME}} {i}\" # note\n\n"
            )
        };
        let mut cases: Vec<String> = Vec::new();
        let plain: String = (0..6).map(body).collect();
        cases.push(format!("global\n    maxconn 10\n{plain}"));
        cases.push(format!(
            "global\n    setenv HOME /x\n{plain}global\n    setenv HOME /y\n{plain}"
        ));
        cases.push(format!("{}.if 1\n{plain}.endif\n{plain}", body(9)));
        cases.push(format!(".if 0\n{plain}\n.endif\n{plain}.if 1\n"));
        cases.push(format!(
            "global\n    x \"unterminated\n{plain}frontend f\n    bind :80\n{plain}"
        ));
        cases.push(format!("{plain}    stray out\nlisten \"quoted\"\n{plain}"));
        for text in &cases {
            let whole = read(text, None);
            let headers = text.lines().enumerate().filter(|(_, l)| {
                crate::registry::SectionKind::from_keyword(crate::lexer::first_word_of_plain(l))
                    .is_some()
            });
            for (mid, _) in headers.filter(|&(i, _)| i > 0) {
                assert_eq!(
                    read(text, Some(mid)),
                    whole,
                    "cut at line {mid} of:\n{text}"
                );
            }
        }
    }
}
