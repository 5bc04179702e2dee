//! Renderers for diagnostics: human (codespan-reporting), JSON, and HAProxy's own line format.
//!
//! The language server has its own conversion in the `lsp` crate; everything else prints through here.

mod sarif;
pub use sarif::sarif;

use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::source::{FileId, SourceDb, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term;
use serde::Serialize;
use std::ops::Range;

/// Adapter letting codespan-reporting read our [`SourceDb`] without copying it.
struct DbFiles<'a>(&'a SourceDb);

impl<'a> Files<'a> for DbFiles<'a> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.get(id).map(|f| f.name.as_str())
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.get(id).map(|f| f.text.as_str())
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self.get(id)?.line_index(byte_index))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        let f = self.get(id)?;
        let starts = f.line_starts();
        let start = *starts.get(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: starts.len().saturating_sub(1),
        })? as usize;
        let end = starts
            .get(line_index + 1)
            .map_or(f.text.len(), |&e| e as usize);
        Ok(start..end)
    }
}

impl DbFiles<'_> {
    fn get(&self, id: FileId) -> Result<&crate::source::SourceFile, FilesError> {
        if (id.0 as usize) < self.0.len() {
            Ok(self.0.file(id))
        } else {
            Err(FilesError::FileMissing)
        }
    }
}

fn to_codespan(d: &Diagnostic) -> cs::Diagnostic<FileId> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Notice => cs::Severity::Note,
        Severity::Hint => cs::Severity::Help,
    };
    let mut labels = Vec::new();
    if let Some(span) = d.span {
        labels.push(cs::Label::primary(span.file, span.range()).with_message(d.label.clone()));
    }
    for l in &d.secondary {
        labels.push(
            cs::Label::secondary(l.span.file, l.span.range()).with_message(l.message.clone()),
        );
    }
    let mut notes = d.notes.to_vec();
    if let Some(help) = &d.help {
        notes.push(format!("help: {help}"));
    }
    if let Some(fix) = &d.fix {
        notes.push(format!("fix: {}", fix.title));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code)
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

/// Human output with source excerpts and carets; `color` enables ANSI colours.
pub fn human(db: &SourceDb, diags: &[Diagnostic], color: bool) -> String {
    let mut buf = if color {
        term::termcolor::Buffer::ansi()
    } else {
        term::termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    let files = DbFiles(db);
    for d in diags {
        // Rendering only fails on a span outside its file; fall back to the plain line then.
        if term::emit(&mut buf, &config, &files, &to_codespan(d)).is_err() {
            let _ = std::io::Write::write_all(
                &mut buf,
                format!(
                    "{}[{}]: {}\n",
                    d.severity.haproxy_label(),
                    d.code,
                    d.message
                )
                .as_bytes(),
            );
        }
    }
    String::from_utf8_lossy(buf.as_slice()).into_owned()
}

#[derive(Serialize)]
struct JsonPosition {
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: Option<&'a str>,
    start: Option<JsonPosition>,
    end: Option<JsonPosition>,
    label: &'a str,
    /// The secondary places, which may be in another file (a crt-list's line, an SPOE file).
    related: Vec<JsonRelated<'a>>,
    notes: &'a [String],
    help: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: &'a str,
    start: JsonPosition,
    end: JsonPosition,
    label: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    file: &'a str,
    start: JsonPosition,
    end: JsonPosition,
    replacement: &'a str,
}

fn position(db: &SourceDb, file: FileId, offset: u32) -> JsonPosition {
    let lc = db.file(file).line_col(offset as usize);
    JsonPosition {
        line: lc.line,
        column: lc.col,
    }
}

/// One JSON array of diagnostics with 1-based line/column positions.
pub fn json(db: &SourceDb, diags: &[Diagnostic]) -> String {
    let items: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| JsonDiagnostic {
            code: d.code,
            severity: d.severity,
            message: &d.message,
            file: d.span.map(|s| db.file(s.file).name.as_str()),
            start: d.span.map(|s| position(db, s.file, s.start)),
            end: d.span.map(|s| position(db, s.file, s.end)),
            label: &d.label,
            related: d
                .secondary
                .iter()
                .map(|l| JsonRelated {
                    file: db.file(l.span.file).name.as_str(),
                    start: position(db, l.span.file, l.span.start),
                    end: position(db, l.span.file, l.span.end),
                    label: &l.message,
                })
                .collect(),
            notes: &d.notes,
            help: d.help.as_deref(),
            fix: d.fix.as_ref().map(|f| JsonFix {
                title: &f.title,
                edits: f
                    .edits
                    .iter()
                    .map(|e| JsonEdit {
                        file: db.file(e.span.file).name.as_str(),
                        start: position(db, e.span.file, e.span.start),
                        end: position(db, e.span.file, e.span.end),
                        replacement: &e.replacement,
                    })
                    .collect(),
            }),
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

/// The message as HAProxy prints it after `config : ` (location prefix included).
pub fn haproxy_message(db: &SourceDb, d: &Diagnostic) -> String {
    let location = d.span.map(|s| {
        let f = db.file(s.file);
        (f.name.as_str(), f.line_col(s.start as usize).line)
    });
    let mut text = match (d.haproxy_form, location) {
        (HaproxyForm::Parsing, Some((f, l))) => format!("parsing [{f}:{l}] : {}", d.message),
        (HaproxyForm::ParsingTight, Some((f, l))) => format!("parsing [{f}:{l}]: {}", d.message),
        (HaproxyForm::FileLine, Some((f, l))) => format!("[{f}:{l}] : {}", d.message),
        (HaproxyForm::PostParse, Some((f, l))) => format!("Parsing [{f}:{l}]: {}", d.message),
        _ => d.message.to_string(),
    };
    if let Some(more) = &d.haproxy_continuation {
        text.push('\n');
        text.push_str(more);
    }
    text
}

/// One `[LABEL]    (pid) : config : …` line per diagnostic, like `haproxy -c` writes on stderr.
pub fn haproxy_line(db: &SourceDb, d: &Diagnostic, pid: u32) -> String {
    let label = format!(
        "[{}]",
        d.haproxy_level.unwrap_or(d.severity).haproxy_label()
    );
    format!("{label:<10} ({pid}) : config : {}", haproxy_message(db, d))
}

/// The first words of the line a diagnostic points at (empty without a place).
fn line_words<'a>(db: &'a SourceDb, d: &Diagnostic) -> std::str::SplitWhitespace<'a> {
    let text = d.span.map_or("", |span| {
        let file = db.file(span.file);
        let line = file.line_index(span.start as usize);
        file.text.get(file.line_range(line)).unwrap_or("")
    });
    text.split_whitespace()
}

/// Whether HAProxy stops reading the configuration at this error (its `ERR_ABORT`): a proxy
/// header without a name or with an unknown `from`, inherited rules it cannot use, and any
/// error in an HTTP rule line, as marked where each was found
/// ([`Diagnostic::haproxy_aborts`]). It then prints the error, names the file, and exits at
/// once: nothing after it, and no "Fatal errors found in configuration." line.
pub fn haproxy_aborts(d: &Diagnostic) -> bool {
    d.haproxy_aborts && d.is_error() && !d.after_parse && d.span.is_some()
}

/// The alert HAProxy ends a failed check with: a server name without an address (E403) fails
/// the start-up once the configuration was read without error; anything else fails the
/// configuration.
pub fn haproxy_failure(shown: &[&Diagnostic]) -> &'static str {
    if shown.iter().any(|d| d.code == "E403") {
        "Failed to initialize server(s) addr."
    } else {
        "Fatal errors found in configuration."
    }
}

/// Of the diagnostics found (in source order), those HAProxy reaches and prints, and whether
/// it stopped at an aborting error ([`haproxy_aborts`]). Besides the abort, HAProxy reads a
/// `bind`, server or `stats socket` line's address, then its options one by one, and leaves the
/// line at the first that fails: that error hides the later alerts of its line (a CA file's
/// own alert included).
pub fn haproxy_reached<'a>(db: &SourceDb, found: &[&'a Diagnostic]) -> (Vec<&'a Diagnostic>, bool) {
    let mut out = Vec::with_capacity(found.len());
    let mut failed_line: Option<(crate::source::FileId, usize)> = None;
    for &d in found {
        let mut words = line_words(db, d);
        let alert = d.is_error() || d.haproxy_level == Some(crate::diagnostic::Severity::Error);
        // The missing final line feed is the file's, not its last line's.
        let option_alert = alert
            && !d.after_parse
            && d.code != "E009"
            && match words.next() {
                Some("bind" | "server" | "default-server" | "server-template") => true,
                Some("stats") => words.next() == Some("socket"),
                _ => false,
            };
        if let Some(span) = d.span.filter(|_| option_alert) {
            let line = (
                span.file,
                db.file(span.file).line_index(span.start as usize),
            );
            // The failing option's own bare follow-up ("error encountered while processing
            // '<option>'.") still belongs to it.
            let follow_up = d.haproxy_form == HaproxyForm::Bare
                && out.last().is_some_and(|p: &&Diagnostic| p.span == d.span);
            if failed_line == Some(line) && !follow_up {
                continue;
            }
            if d.is_error() {
                failed_line = Some(line);
            }
        }
        out.push(d);
        if haproxy_aborts(d) {
            return (out, true);
        }
    }
    (out, false)
}

/// Where HAProxy 2.7's message context outlives its line: a `peer` or remote `server` line of a
/// peers section without an address returns before clearing the `[file:line]` it set, so the
/// next message HAProxy prints starts with that place, unless another server line is read
/// first (each clears it), or, once the file is read, the checks of the proxies' servers.
/// Each such line, with the next server line after it, if any.
pub fn stale_contexts(config: &crate::ir::Config) -> Vec<(Span, Option<Span>)> {
    let key = |s: &Span| (s.file, s.start);
    let mut servers: Vec<Span> = config.peer_lines.iter().map(|(s, _)| *s).collect();
    for p in &config.proxies {
        servers.extend(p.servers.iter().map(|s| s.span));
        servers.extend(p.default_server_lines().map(|d| d.span));
    }
    servers.sort_unstable_by_key(key);
    // The checks run once the file is read set and clear the place of each proxy server.
    let proxy_servers = config.proxies.iter().any(|p| !p.servers.is_empty());
    config
        .peer_lines
        .iter()
        .filter(|(_, stale)| *stale)
        .map(|(line, _)| {
            let next = servers.iter().find(|s| key(s) > key(line)).copied();
            // No later server line: cleared after the file is read if a proxy has servers,
            // which the line itself then stands for.
            let next = next.or_else(|| {
                proxy_servers.then(|| Span::new(line.file, u32::MAX as usize, u32::MAX as usize))
            });
            (*line, next)
        })
        .collect()
}

/// The diagnostics of `shown` (in the order HAProxy prints them) that carry a stale context's
/// place first, with that place: for each context, the first one printed after its line was
/// read and before the next server line is.
pub fn stale_context_places(
    db: &SourceDb,
    contexts: &[(Span, Option<Span>)],
    shown: &[&Diagnostic],
) -> Vec<(usize, String)> {
    let key = |s: &Span| (s.file, s.start);
    let mut out = Vec::new();
    for (line, next) in contexts {
        let consumer = shown.iter().position(|d| match d.span {
            Some(s) if !d.after_parse => {
                key(&s) >= key(line) && next.is_none_or(|n| key(&s) < key(&n))
            }
            // Messages of the checks run once the file is read.
            _ => next.is_none(),
        });
        if let Some(i) = consumer {
            if !out.iter().any(|(j, _)| *j == i) {
                let f = db.file(line.file);
                let place = format!("[{}:{}] : ", f.name, f.line_col(line.start as usize).line);
                out.push((i, place));
            }
        }
    }
    out
}

/// Where HAProxy gives up reading a file (its "too many fatal errors" alert, E007): it counts
/// the lines whose parsing failed, and on reading the line after the 50th stops with that
/// alert, reading nothing more of the file. The syntax pass counts only the lines it refuses
/// itself; this counts every line of `reached` (in source order) with an error found while
/// reading, and returns one E007 per file that gets that far, at the line where HAProxy stops.
pub fn haproxy_fatal_stops(db: &SourceDb, reached: &[&Diagnostic]) -> Vec<Diagnostic> {
    let mut stops = Vec::new();
    let mut last: Option<(FileId, usize)> = None;
    let mut count = 0;
    for d in reached {
        let fails_line = d.is_error() && !d.after_parse && !d.haproxy_not_fatal;
        let Some(span) = d.span.filter(|_| fails_line) else {
            continue;
        };
        if matches!(d.code, "E007" | "E009") {
            continue;
        }
        let file = db.file(span.file);
        let line = file.line_index(span.start as usize);
        if last.is_some_and(|(f, _)| f != span.file) {
            count = 0;
        }
        if last == Some((span.file, line))
            || stops
                .iter()
                .any(|s: &Diagnostic| s.span.is_some_and(|s| s.file == span.file))
        {
            continue;
        }
        last = Some((span.file, line));
        count += 1;
        // The alert needs a line to be read after the last failing one.
        if count == crate::syntax::MAX_FATAL_ERRORS && line + 1 < file.line_count() {
            let range = file.line_range(line + 1);
            stops.push(
                Diagnostic::new(
                    "E007",
                    format!("too many fatal errors ({count}), stopping now."),
                )
                .at(crate::source::Span::new(span.file, range.start, range.end))
                .form(HaproxyForm::ParsingTight),
            );
        }
    }
    stops
}

/// `reached` cut where HAProxy stops reading each file (`stops`, from
/// [`haproxy_fatal_stops`]): the alerts of a file's lines from its stop on are left out, the
/// stop's own alert put in their place.
pub fn haproxy_stopped<'a>(
    reached: Vec<&'a Diagnostic>,
    stops: &'a [Diagnostic],
) -> Vec<&'a Diagnostic> {
    if stops.is_empty() {
        return reached;
    }
    let place = |d: &Diagnostic| d.span.map(|s| (s.file, s.start));
    let mut pending: Vec<&Diagnostic> = stops.iter().collect();
    let mut out = Vec::with_capacity(reached.len() + stops.len());
    for d in reached {
        let Some(at) = place(d) else {
            out.push(d);
            continue;
        };
        while let Some(i) = pending.iter().position(|s| place(s) <= Some(at)) {
            out.push(pending.remove(i));
        }
        let cut = stops
            .iter()
            .any(|s| !d.after_parse && s.span.is_some_and(|s| s.file == at.0 && s.start <= at.1));
        if !cut {
            out.push(d);
        }
    }
    out.extend(pending);
    out
}
