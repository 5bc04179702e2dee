//! Quick fixes: each diagnostic's own fix, and "allow this code on this line" for every warning
//! (lints, HAProxy's warnings, the runtime's refusals), as `hapee-lb check` honours it.

use crate::analysis::Analysis;
use crate::position::Encoding;
use hapee_compiler::source::SourceFile;
use hapee_compiler::Span;
use lsp_types as lsp;

/// The marker `hapee-lb check` reads in a line's comment.
const ALLOW: &str = "# hapee: allow(";

/// An edit as the editor applies it (a whole line deleted, see
/// [`hapee_compiler::diagnostic::applied_range`]).
fn text_edit(enc: Encoding, f: &SourceFile, span: Span, replacement: &str) -> lsp::TextEdit {
    let range = hapee_compiler::diagnostic::applied_range(f, span, replacement);
    if range != span.range() {
        return lsp::TextEdit {
            range: lsp::Range {
                start: enc.position(f, range.start),
                end: enc.position(f, range.end),
            },
            new_text: String::new(),
        };
    }
    // A line feed a fix adds ends its line as the file's lines end.
    let new_text = match crate::analysis::line_ending(f) {
        "\n" => replacement.to_string(),
        ending => replacement.replace("\r\n", "\n").replace('\n', ending),
    };
    lsp::TextEdit {
        range: enc.range(f, span),
        new_text,
    }
}

/// The edit that allows `code` on the line holding `at`: the code joins an existing
/// `# hapee: allow(…)` list, or a new comment ends the line.
fn allow_edit(enc: Encoding, f: &SourceFile, at: usize, code: &str) -> lsp::TextEdit {
    let bounds = f.line_range(f.line_index(at));
    // What HAProxy reads of the line (and `check` looks in): up to a lone `\r`.
    let text = hapee_compiler::lexer::line_content(&f.text[bounds.clone()]);
    if let Some(close) = hapee_compiler::lint::allow_lists(text)
        .next()
        .map(|(start, list)| start + list.len())
        .filter(|&close| text[close..].starts_with(')'))
    {
        let at = enc.position(f, bounds.start + close);
        return lsp::TextEdit {
            range: lsp::Range { start: at, end: at },
            new_text: format!(", {code}"),
        };
    }
    let end = enc.position(f, bounds.start + text.trim_end().len());
    lsp::TextEdit {
        range: lsp::Range { start: end, end },
        new_text: format!(" {ALLOW}{code})"),
    }
}

impl Analysis {
    /// Quick fixes for the diagnostics that touch `range_req`.
    pub fn code_actions(&self, range_req: lsp::Range) -> Vec<lsp::CodeActionOrCommand> {
        let f = self.file();
        let mut out = Vec::new();
        for d in &self.c.diagnostics {
            let Some(span) = d.span.filter(|s| s.file == self.focus) else {
                continue;
            };
            let r = self.enc.range(f, span);
            if r.start.line > range_req.end.line || r.end.line < range_req.start.line {
                continue;
            }
            if let Some(fix) = &d.fix {
                let edits = fix
                    .edits
                    .iter()
                    .filter(|e| e.span.file == self.focus)
                    .map(|e| text_edit(self.enc, f, e.span, &e.replacement))
                    .collect();
                out.push(action(
                    &self.uri,
                    format!("{} ({})", fix.title, d.code),
                    edits,
                    true,
                ));
            }
            // `check` honours the comment for any code; an error is not silenced from here,
            // as HAProxy would still refuse the file.
            if d.severity != hapee_compiler::diagnostic::Severity::Error {
                out.push(action(
                    &self.uri,
                    format!("allow {} on this line", d.code),
                    vec![allow_edit(self.enc, f, span.start as usize, d.code)],
                    false,
                ));
            }
        }
        out
    }
}

fn action(
    uri: &lsp::Url,
    title: String,
    edits: Vec<lsp::TextEdit>,
    preferred: bool,
) -> lsp::CodeActionOrCommand {
    let mut changes = std::collections::HashMap::new();
    changes.insert(uri.clone(), edits);
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }),
        is_preferred: preferred.then_some(true),
        ..Default::default()
    })
}
