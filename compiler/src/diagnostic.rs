//! The one diagnostic model shared by `check`, the linter, the runtime and the language server.

use crate::codes::{self, Rule};
use crate::source::Span;
use serde::Serialize;
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Only shown on request (HAProxy's `-dD` diagnostics, hints).
    Hint,
    /// Informational (HAProxy's `[NOTICE]`).
    Notice,
    /// The config works but something is probably wrong (HAProxy's `[WARNING]`).
    Warning,
    /// The config is rejected (HAProxy's `[ALERT]`).
    Error,
}

impl Severity {
    /// HAProxy's bracketed label for this severity.
    pub fn haproxy_label(self) -> &'static str {
        match self {
            Severity::Error => "ALERT",
            Severity::Warning => "WARNING",
            Severity::Notice => "NOTICE",
            Severity::Hint => "DIAG",
        }
    }
}

/// How HAProxy shapes the location part of the message, so `--format haproxy` is byte-compatible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HaproxyForm {
    /// `parsing [file:line] : message` (most parser messages).
    Parsing,
    /// `parsing [file:line]: message` (a few sites have no space before the colon).
    ParsingTight,
    /// `[file:line] : message`.
    FileLine,
    /// `Parsing [file:line]: message` (strings compiled once the whole file is read).
    PostParse,
    /// The message alone, without location (post-parse checks).
    Bare,
}

/// A secondary location with its own label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: Cow<'static, str>,
}

/// One text replacement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// The bytes of `file` an edit of `span` by `replacement` replaces, as the language server's
/// quick fixes and `check --fix` apply it: an edit that deletes everything a line holds (but
/// for a comment after it, which spoke of what goes) deletes the line itself, its line feed
/// included, so that no blank or comment-only line is left behind.
pub fn applied_range(
    file: &crate::source::SourceFile,
    span: Span,
    replacement: &str,
) -> std::ops::Range<usize> {
    let line = file.line_index(span.start as usize);
    let bounds = file.line_range(line);
    let end = (span.end as usize).min(bounds.end.max(span.start as usize));
    let rest = file.text.get(end..bounds.end).unwrap_or("").trim();
    let whole_line = replacement.trim().is_empty()
        && file.line_index(span.end.saturating_sub(1).max(span.start) as usize) == line
        && file.text[bounds.start..span.start as usize]
            .trim()
            .is_empty()
        && (rest.is_empty() || rest.starts_with('#'));
    if !whole_line {
        return span.range();
    }
    // Up to the start of the next line (the line's end at the end of the file).
    let next = (file.line_starts().get(line + 1)).map_or(file.text.len(), |&s| s as usize);
    bounds.start..next
}

/// A machine-applicable fix: a title and the edits that make it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code from [`codes::RULES`].
    pub code: &'static str,
    pub severity: Severity,
    /// The message, worded as HAProxy words it where HAProxy has the same check.
    pub message: Cow<'static, str>,
    /// Where the problem is; `None` only for problems with no place in a file.
    pub span: Option<Span>,
    /// Short text shown under the caret.
    /// Mostly fixed texts: borrowed, so that thousands of lints allocate little.
    pub label: Cow<'static, str>,
    // The fields below are rare: thin or boxed, so that the thousands of lints a large
    // configuration can get stay small.
    pub secondary: thin_vec::ThinVec<Label>,
    pub notes: thin_vec::ThinVec<String>,
    pub help: Option<Cow<'static, str>>,
    pub fix: Option<Box<Fix>>,
    pub haproxy_form: HaproxyForm,
    /// Found by a check over the whole configuration, which HAProxy only reaches when every line
    /// read well: its own output leaves these out when a line has an error.
    pub after_parse: bool,
    /// The level HAProxy prints when it differs from the severity (a few warnings are printed
    /// as `[ALERT]` without failing the check).
    pub haproxy_level: Option<Severity>,
    /// Extra lines HAProxy prints after the message (its `   | …` continuation lines).
    pub haproxy_continuation: Option<Box<str>>,
    /// HAProxy stops reading the configuration at this error (its `ERR_ABORT`): it names the
    /// file and exits, printing nothing after it. Set where the error is found, which knows
    /// what HAProxy was reading (a proxy header, an HTTP rule line).
    pub haproxy_aborts: bool,
    /// An alert HAProxy prints without failing the line (no `ERR_FATAL`): the line is not
    /// one of the 50 failing ones after which it stops reading the file.
    pub haproxy_not_fatal: bool,
}

impl Diagnostic {
    /// A diagnostic with the rule's default severity.
    pub fn new(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        let severity = codes::rule(code).map_or(Severity::Error, |r: &Rule| r.severity);
        Diagnostic {
            code,
            severity,
            message: message.into(),
            span: None,
            label: Cow::Borrowed(""),
            secondary: thin_vec::ThinVec::new(),
            notes: thin_vec::ThinVec::new(),
            help: None,
            fix: None,
            haproxy_form: HaproxyForm::Parsing,
            after_parse: false,
            haproxy_level: None,
            haproxy_continuation: None,
            haproxy_aborts: false,
            haproxy_not_fatal: false,
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn label(mut self, label: impl Into<Cow<'static, str>>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<Cow<'static, str>>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<Cow<'static, str>>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn fix(mut self, title: impl Into<String>, edits: Vec<Edit>) -> Self {
        self.fix = Some(Box::new(Fix {
            title: title.into(),
            edits,
        }));
        self
    }

    /// A "did you mean" fix replacing the text at `span` with `suggestion`, when there is one.
    pub fn replace_with(self, span: Span, suggestion: Option<&str>) -> Self {
        match suggestion {
            Some(best) => self.fix(
                format!("replace with '{best}'"),
                vec![Edit {
                    span,
                    replacement: best.to_string(),
                }],
            ),
            None => self,
        }
    }

    /// Marks an error at which HAProxy stops reading (see [`Diagnostic::haproxy_aborts`]).
    pub fn aborts(mut self) -> Self {
        self.haproxy_aborts = true;
        self
    }

    /// Marks an alert that does not fail its line (see [`Diagnostic::haproxy_not_fatal`]).
    pub fn not_fatal(mut self) -> Self {
        self.haproxy_not_fatal = true;
        self
    }

    pub fn form(mut self, form: HaproxyForm) -> Self {
        self.haproxy_form = form;
        self
    }

    pub fn continuation(mut self, text: impl Into<String>) -> Self {
        self.haproxy_continuation = Some(text.into().into_boxed_str());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Where the diagnostic stands in the sources (file, then offset), for sorting in the order
    /// HAProxy reports; diagnostics without a place come last.
    pub fn source_order(&self) -> (u32, u32) {
        self.span
            .map_or((u32::MAX, u32::MAX), |s| (s.file.0, s.start))
    }
}

/// A growing list of diagnostics, passed down through every compiler stage.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }
}
