//! Everything the server answers, computed from one compilation of a document.

use crate::position::Encoding;
use hapee_compiler::check::Compilation;
use hapee_compiler::diagnostic::Severity;
use hapee_compiler::incremental::Session;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::lint::LintConfig;
use hapee_compiler::registry::SectionKind;
use hapee_compiler::source::{SourceDb, SourceFile};
use hapee_compiler::syntax::{LineKind, ProcessEnv};
use lsp_types as lsp;

/// The name a document's file goes by in messages: its path, else the last part of its URI.
pub(crate) fn file_name(uri: &lsp::Url) -> String {
    uri.to_file_path()
        .ok()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| {
            uri.path()
                .rsplit('/')
                .next()
                .unwrap_or("haproxy.cfg")
                .to_string()
        })
}

/// How the lines of `f` end: as its first line does (`\r\n` or `\n`). An edit that adds lines
/// ends them the same way.
pub(crate) fn line_ending(f: &SourceFile) -> &'static str {
    match f.text.find('\n') {
        Some(i) if f.text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// A compilation of one document, alone or with the other files of its workspace (`-f`
/// order), seen from that document: `focus` is its file, `uris` name every file.
pub struct Analysis {
    /// Shared by the analyses of every open file of one workspace compiled from the same
    /// texts: an edit compiles the workspace once, not once per open file.
    pub c: std::sync::Arc<Compilation>,
    pub uri: lsp::Url,
    pub focus: hapee_compiler::FileId,
    pub uris: Vec<lsp::Url>,
    /// Every written name (definitions and references), built on first use: diagnostics after
    /// an edit do not need it.
    index: std::sync::OnceLock<Vec<crate::symbols::Occurrence>>,
    /// How the server's client counts columns (chosen at `initialize`).
    pub enc: Encoding,
}

impl Analysis {
    /// Compiles `sources` together, in order, as HAProxy's `-f` list; `focus` is the index of
    /// the document the answers are about. `lints` are the levels `hapee-lb check` would use.
    /// `session` holds this document's previous compilation: what an edit left unchanged is
    /// not compiled again.
    pub fn workspace(
        session: &mut Session,
        sources: &[(lsp::Url, &SourceFile)],
        focus: usize,
        lints: &LintConfig,
        enc: Encoding,
    ) -> Analysis {
        let mut db = SourceDb::new();
        for (uri, file) in sources {
            // A copy with its line index: the text is not searched for line feeds again.
            let mut file = (*file).clone();
            file.name = file_name(uri);
            db.add_file(file);
        }
        // The editor's file may not be on this machine as-is: skip file checks, keep lints.
        let options = CheckOptions {
            no_env: true,
            master_worker: false,
            lints: true,
            resolve_dontfail: false,
        };
        let c = session.compile(db, &ProcessEnv, &options, |c| {
            // An editor shows lints while the file still has errors (the compiler alone stops
            // at errors, as `check` reports them first); a lint that trips on the half-built
            // model only loses its own findings.
            if c.has_errors() {
                let more = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    hapee_compiler::lint::run(c, &options)
                }));
                c.diagnostics.extend(more.unwrap_or_default());
            }
            // What `hapee-lb run` would refuse, as `check` reports it (U001, U002): the part
            // that needs no runtime, and, as there, only for a configuration without errors.
            if !c.has_errors() {
                let mut spans = hapee_compiler::timing::Spans::new("lsp refusals");
                let refused = hapee_compiler::refusals::registry_diagnostics(c);
                spans.mark("walk");
                spans.done();
                c.diagnostics.extend(refused);
            }
            let mut spans = hapee_compiler::timing::Spans::new("lsp levels");
            c.diagnostics = lints.apply(&c.db, std::mem::take(&mut c.diagnostics));
            spans.mark("apply");
            spans.done();
        });
        Analysis {
            c,
            uri: sources[focus].0.clone(),
            focus: hapee_compiler::FileId(focus as u32),
            uris: sources.iter().map(|(u, _)| u.clone()).collect(),
            index: std::sync::OnceLock::new(),
            enc,
        }
    }

    /// Whether this analysis compiled exactly `sources` (the same files, in the same order,
    /// with the same texts).
    pub fn compiled(&self, sources: &[(lsp::Url, &SourceFile)]) -> bool {
        self.uris.len() == sources.len()
            && sources.iter().enumerate().all(|(i, (uri, file))| {
                self.uris[i] == *uri
                    && self.c.db.file(hapee_compiler::FileId(i as u32)).text == file.text
            })
    }

    /// The same compilation seen from its file `focus`.
    pub fn refocus(&self, focus: usize) -> Analysis {
        Analysis {
            c: self.c.clone(),
            uri: self.uris[focus].clone(),
            focus: hapee_compiler::FileId(focus as u32),
            uris: self.uris.clone(),
            index: std::sync::OnceLock::new(),
            enc: self.enc,
        }
    }

    /// The URI of a file of this compilation.
    pub(crate) fn uri_of(&self, file: hapee_compiler::FileId) -> &lsp::Url {
        self.uris.get(file.0 as usize).unwrap_or(&self.uri)
    }

    /// The LSP range of a span, in whichever file it lies.
    pub(crate) fn span_range(&self, span: hapee_compiler::Span) -> lsp::Range {
        self.enc.range(self.c.db.file(span.file), span)
    }

    /// The syntax of the focused file.
    pub(crate) fn syntax(&self) -> &hapee_compiler::syntax::SyntaxFile {
        &self.c.tree.files[self.focus.0 as usize]
    }

    pub(crate) fn index(&self) -> &[crate::symbols::Occurrence] {
        self.index.get_or_init(|| {
            crate::symbols::index(&self.c.tree, &|span| self.c.db.text(span).to_string())
        })
    }

    pub(crate) fn file(&self) -> &hapee_compiler::source::SourceFile {
        self.c.db.file(self.focus)
    }

    /// The compiler's diagnostics the editor shows for the focused file, errors first.
    pub(crate) fn shown(&self) -> Vec<&hapee_compiler::diagnostic::Diagnostic> {
        let focus = self.focus;
        let mut ordered: Vec<&hapee_compiler::diagnostic::Diagnostic> =
            self.c.diagnostics.iter().collect();
        ordered.sort_by_key(|d| d.severity != Severity::Error);
        ordered
            .into_iter()
            .filter(|d| d.severity != Severity::Hint)
            // Each file gets its own diagnostics; those without a place go with the first file.
            .filter(|d| d.span.map_or(focus.0 == 0, |s| s.file == focus))
            .collect()
    }

    /// The range of a diagnostic's place (the file's start when it has none).
    pub(crate) fn diagnostic_range(
        &self,
        d: &hapee_compiler::diagnostic::Diagnostic,
    ) -> lsp::Range {
        self.diagnostic_range_near(d, &mut 0)
    }

    /// [`Analysis::diagnostic_range`] for diagnostics placed in the order of their lines:
    /// `line` is where the previous one started (see [`Encoding::range_near`]).
    pub(crate) fn diagnostic_range_near(
        &self,
        d: &hapee_compiler::diagnostic::Diagnostic,
        line: &mut usize,
    ) -> lsp::Range {
        d.span.map_or_else(lsp::Range::default, |s| {
            self.enc.range_near(self.c.db.file(s.file), s, line)
        })
    }

    /// One compiler diagnostic as the editor gets it.
    pub(crate) fn to_lsp(&self, d: &hapee_compiler::diagnostic::Diagnostic) -> lsp::Diagnostic {
        lsp::Diagnostic {
            range: self.diagnostic_range(d),
            severity: Some(lsp_severity(d.severity)),
            code: Some(lsp::NumberOrString::String(d.code.to_string())),
            source: Some("hapee".into()),
            message: match &d.help {
                Some(h) => format!("{}\nhelp: {h}", d.message),
                None => d.message.to_string(),
            },
            // Left out when empty: thousands of diagnostics are that much less to send.
            related_information: (!d.secondary.is_empty()).then(|| {
                d.secondary
                    .iter()
                    .map(|l| lsp::DiagnosticRelatedInformation {
                        location: lsp::Location {
                            uri: self.uri_of(l.span.file).clone(),
                            range: self.span_range(l.span),
                        },
                        message: l.message.to_string(),
                    })
                    .collect()
            }),
            tags: match d.code {
                "W104" => Some(vec![lsp::DiagnosticTag::DEPRECATED]),
                "L001" | "L002" | "L003" | "L004" => Some(vec![lsp::DiagnosticTag::UNNECESSARY]),
                _ => None,
            },
            ..Default::default()
        }
    }

    /// The line of the syntax tree (HAProxy's line, ended by a line feed) holding `pos` (the
    /// editor's line, which a lone `\r` ends too).
    pub(crate) fn source_line(&self, pos: lsp::Position) -> usize {
        let f = self.file();
        f.line_index(self.enc.offset(f, pos))
    }

    /// The word under the cursor and its index in its line.
    pub(crate) fn word_at(
        &self,
        pos: lsp::Position,
    ) -> Option<(&hapee_compiler::syntax::Line, usize)> {
        let at = self.enc.offset(self.file(), pos);
        let line = self.syntax().lines.get(self.file().line_index(at))?;
        let at = at as u32;
        let i = line
            .words
            .iter()
            .position(|w| w.span.start <= at && at <= w.span.end)?;
        Some((line, i))
    }

    /// Where the name under the cursor is defined (backends, ACLs, servers).
    pub fn definition(&self, pos: lsp::Position) -> Option<lsp::Location> {
        let (line, i) = self.word_at(pos)?;
        let word = line.words[i].value.trim_start_matches('!');
        let span = self
            .c
            .config
            .backend(word)
            .and_then(|(_, p)| p.name.as_ref().map(|n| n.span))
            .or_else(|| {
                self.c
                    .config
                    .proxies
                    .iter()
                    .flat_map(|p| p.acls.iter())
                    .find(|a| a.name.value == word)
                    .map(|a| a.name.span)
            })
            .or_else(|| {
                self.c
                    .config
                    .proxies
                    .iter()
                    .flat_map(|p| p.servers.iter())
                    .find(|s| s.name.value == word)
                    .map(|s| s.name.span)
            })?;
        Some(lsp::Location {
            uri: self.uri_of(span.file).clone(),
            range: self.span_range(span),
        })
    }

    pub fn symbols(&self) -> Vec<lsp::DocumentSymbol> {
        let f = self.file();
        let tree = &self.c.tree;
        let mut out = Vec::new();
        for s in tree.sections.iter().filter(|s| s.file == self.focus) {
            let header = tree.header(s);
            let name = header
                .words
                .get(1)
                .map_or(s.kind.keyword().to_string(), |w| {
                    format!("{} {}", s.kind.keyword(), w.value)
                });
            let mut children = Vec::new();
            for line in tree.body(s) {
                let kind = match line.words.first().map(|w| w.value.as_str()) {
                    Some("acl") => lsp::SymbolKind::BOOLEAN,
                    Some("server") => lsp::SymbolKind::OBJECT,
                    Some("bind") => lsp::SymbolKind::INTERFACE,
                    _ => continue,
                };
                if let Some(w) = line.words.get(1) {
                    #[allow(deprecated)]
                    children.push(lsp::DocumentSymbol {
                        name: format!("{} {}", line.words[0].value, w.value),
                        detail: None,
                        kind,
                        tags: None,
                        deprecated: None,
                        range: self.enc.range(f, line.span),
                        selection_range: self.enc.range(f, w.span),
                        children: None,
                    });
                }
            }
            let last = s
                .body
                .last()
                .map_or(header.span, |&i| tree.line(s.file, i).span);
            #[allow(deprecated)]
            out.push(lsp::DocumentSymbol {
                name,
                detail: None,
                kind: if s.kind.is_proxy() {
                    lsp::SymbolKind::CLASS
                } else {
                    lsp::SymbolKind::NAMESPACE
                },
                tags: None,
                deprecated: None,
                range: self.enc.range(f, header.span.cover(last)),
                selection_range: self.enc.range(f, header.span),
                children: Some(children),
            });
        }
        out
    }

    /// The edits that format the file as `hapee-lb fmt` does, line by line: lines already
    /// formatted are left alone (an editor keeps the cursor and marks there), and so are the
    /// file's line endings.
    pub fn formatting(&self) -> Vec<lsp::TextEdit> {
        self.formatting_lines(0..usize::MAX)
    }

    /// [`Analysis::formatting`] for the lines `range` touches (a range ending at the start of a
    /// line does not touch that line).
    pub fn range_formatting(&self, range: lsp::Range) -> Vec<lsp::TextEdit> {
        let mut end = range.end;
        if end.character == 0 && end.line > range.start.line {
            end = lsp::Position {
                line: end.line - 1,
                character: 0,
            };
        }
        self.formatting_lines(self.source_line(range.start)..self.source_line(end) + 1)
    }

    /// The formatting edits of the lines in `lines`.
    fn formatting_lines(&self, lines: std::ops::Range<usize>) -> Vec<lsp::TextEdit> {
        let f = self.file();
        let formatted = hapee_compiler::fmt::formatted_lines(&self.c.db, self.syntax());
        let starts = f.line_starts();
        let last_kept = formatted.iter().rposition(Option::is_some);
        let mut edits = Vec::new();
        for (i, line) in formatted.iter().enumerate() {
            if !lines.contains(&i) || i >= starts.len() {
                continue;
            }
            let (start, end, new_text) = match line {
                // The whole line goes, its line feed with it.
                None => {
                    let next = starts.get(i + 1).map_or(f.text.len(), |&s| s as usize);
                    (starts[i] as usize, next, String::new())
                }
                Some(text) => {
                    let bounds = f.line_range(i);
                    let mut text = text.clone();
                    // Every line formatted ends with a line feed, the last one too.
                    if Some(i) == last_kept && bounds.end == f.text.len() {
                        text.push_str(line_ending(f));
                    }
                    (bounds.start, bounds.end, text)
                }
            };
            if f.text[start..end] != new_text {
                edits.push(lsp::TextEdit {
                    range: lsp::Range {
                        start: self.enc.position(f, start),
                        end: self.enc.position(f, end),
                    },
                    new_text,
                });
            }
        }
        edits
    }

    pub(crate) fn section_at(&self, line: usize) -> Option<SectionKind> {
        let tree = &self.c.tree;
        tree.sections
            .iter()
            .rev()
            .find(|s| s.file == self.focus && s.header <= line)
            .map(|s| s.kind)
            .or_else(|| {
                self.syntax()
                    .lines
                    .get(line)
                    .filter(|l| l.kind == LineKind::SectionHeader)
                    .and(None)
            })
    }
}

/// The editor's severity for one of hapee's.
pub(crate) fn lsp_severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Notice => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}
