//! Lossless syntax tree: every line of every file, tokenized into words, grouped into sections.
//!
//! Parsing never fails: [`parse`] returns the tree together with the diagnostics it found.
//! Conditional blocks (`.if`/`.elif`/`.else`/`.endif`) are evaluated here; lines in a false branch
//! are kept (for formatting and `-dC` dumps) but marked inactive.
//!
//! CONTRACT (owned by the lexer/syntax work; other stages rely on these types):
//! - `Word::span` covers the raw text of the word, quotes included; `Word::value` is the cooked
//!   value after quote removal, escapes and `$VAR` expansion. Words produced by `${VAR[*]}` all
//!   carry the span of the expansion.
//! - `Line::span` covers the line without its terminator.

use crate::diagnostic::Diagnostic;
use crate::registry::SectionKind;
use crate::source::{FileId, SourceDb, Span};

/// One word of a line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Word {
    pub span: Span,
    /// Stored inline up to 24 bytes: most words never touch the heap.
    pub value: compact_str::CompactString,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or whitespace only.
    Blank,
    /// Only a comment.
    Comment,
    /// A preprocessor directive (`.if`, `.elif`, `.else`, `.endif`, `.diag`, `.notice`, `.warning`, `.alert`).
    Directive,
    /// A line that opens a section (`frontend www`).
    SectionHeader,
    /// Any other keyword line.
    Statement,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub span: Span,
    pub kind: LineKind,
    /// A thin list (one pointer, its length with the words): every line of a large
    /// configuration has one, most of them empty until the build lexes them.
    pub words: thin_vec::ThinVec<Word>,
    /// The trailing comment, `#` included.
    pub comment: Option<Span>,
    /// False when the line sits in a false `.if` branch.
    pub active: bool,
}

/// All lines of one file.
#[derive(Clone, Debug)]
pub struct SyntaxFile {
    pub file: FileId,
    pub lines: Vec<Line>,
}

/// A section: its header line and the active statement lines that belong to it.
#[derive(Clone, Debug)]
pub struct Section {
    pub kind: SectionKind,
    pub file: FileId,
    /// Index of the header line in `SyntaxFile::lines`.
    pub header: usize,
    /// Indices of the active `Statement` lines of the section, in order.
    pub body: Vec<usize>,
}

/// The whole configuration as written.
#[derive(Clone, Debug, Default)]
pub struct SyntaxTree {
    pub files: Vec<SyntaxFile>,
    /// Sections in load order across all files.
    pub sections: Vec<Section>,
    /// What the global section's `setenv` family did to the environment, all lines read.
    pub environment: crate::env_changes::EnvChanges,
}

impl SyntaxTree {
    pub fn line(&self, file: FileId, index: usize) -> &Line {
        &self.files[file.0 as usize].lines[index]
    }

    pub fn header(&self, section: &Section) -> &Line {
        self.line(section.file, section.header)
    }

    pub fn body<'a>(&'a self, section: &'a Section) -> impl Iterator<Item = &'a Line> + Clone + 'a {
        section
            .body
            .iter()
            .map(move |&i| self.line(section.file, i))
    }
}

/// Environment the lexer expands `$VAR` from, and the build facts `.if` predicates test.
pub trait Environment: Sync {
    fn var(&self, name: &str) -> Option<String>;

    /// A global `setenv`, `presetenv`, `unsetenv` or `resetenv` line was read: the
    /// environment of a parse takes it into account for the lines after it
    /// ([`crate::env_changes`]); a fixed environment ignores it.
    fn change(&self, _keyword: &str, _args: &[&str]) {}
}

/// The process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        // A value that is not UTF-8 is still bytes to HAProxy; carried as crate::bytestr does.
        let value = std::env::var_os(name)?;
        Some(crate::bytestr::from_bytes(value.as_encoded_bytes()).into_owned())
    }
}

/// A fixed environment, for tests and for the language server.
#[derive(Default)]
pub struct MapEnv(pub std::collections::HashMap<String, String>);

impl Environment for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// HAProxy stops a file after this many fatal errors.
pub(crate) const MAX_FATAL_ERRORS: usize = 50;
/// Deepest `.if` nesting (`MAXNESTEDCONDS`).
const MAX_NESTED_CONDS: usize = 100;

/// State of one `.if` level (HAProxy's `nested_cond_state`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    /// A branch was taken and we are in it.
    Take,
    /// Not taken yet: a later `.elif`/`.else` may still take.
    Drop,
    /// A branch was already taken (or the parent is masked): skip the rest.
    Skip,
    ElseTake,
    ElseDrop,
}

impl Cond {
    fn masks(self) -> bool {
        matches!(self, Cond::Drop | Cond::Skip | Cond::ElseDrop)
    }
}

/// Parses every file of `db` into the lossless tree, evaluating conditional blocks.
pub fn parse(db: &SourceDb, env: &dyn Environment) -> (SyntaxTree, Vec<Diagnostic>) {
    parse_with(db, env, &crate::cond::BuildInfo::default())
}

/// [`parse`] with explicit build facts for `.if feature(…)` and version predicates.
pub fn parse_with(
    db: &SourceDb,
    env: &dyn Environment,
    build: &crate::cond::BuildInfo,
) -> (SyntaxTree, Vec<Diagnostic>) {
    parse_from(db, env, build, None, false)
}

/// [`parse`] for a caller that builds the model once and reads no word of a frontend, backend
/// or listen body but through [`crate::ir::build_consuming`] (`check -q`): those bodies' plain
/// lines (no quotes, escapes or comments, the words of which depend on nothing but their text)
/// are left without their words, which the build lexes one line at a time as it reaches them.
/// Every line, section and diagnostic is [`parse`]'s; only those words are missing. A large
/// configuration's words are then never all held at once, and are made on the build's threads.
pub fn parse_deferring(db: &SourceDb, env: &dyn Environment) -> (SyntaxTree, Vec<Diagnostic>) {
    parse_from(db, env, &crate::cond::BuildInfo::default(), None, true)
}

/// Gives the words of a line (the file, its id, the 0-based index) known from an earlier parse, exactly as
/// the lexer would lex them there; `None` means "lex it".
pub(crate) type KnownLines<'r> =
    &'r mut dyn FnMut(&crate::source::SourceFile, FileId, usize) -> Option<crate::lexer::LexedLine>;

/// [`parse`] taking the words of unchanged lines from `known`: the tree and diagnostics are
/// those of [`parse`].
pub(crate) fn parse_reusing(
    db: &SourceDb,
    env: &dyn Environment,
    known: KnownLines,
) -> (SyntaxTree, Vec<Diagnostic>) {
    parse_from(
        db,
        env,
        &crate::cond::BuildInfo::default(),
        Some(known),
        false,
    )
}

fn parse_from(
    db: &SourceDb,
    env: &dyn Environment,
    build: &crate::cond::BuildInfo,
    mut known: Option<KnownLines>,
    defer_proxy_bodies: bool,
) -> (SyntaxTree, Vec<Diagnostic>) {
    let mut tree = SyntaxTree::default();
    let mut diags = Vec::new();
    let reading = crate::env_changes::Reading::new(env);
    let env: &dyn Environment = &reading;
    // The section name for `.SECTION` carries over from file to file, like HAProxy's.
    let mut section_name = String::new();
    for (file, source) in db.files() {
        let special = defer_proxy_bodies.then(|| crate::lexer::special_lines(source));
        let context = FileContext {
            file,
            source,
            env,
            build,
            defer_proxy_bodies: special.as_ref(),
        };
        let lines = match known.as_deref_mut() {
            Some(known) => parse_lines(
                &context,
                &mut |index| known(source, file, index),
                &mut tree.sections,
                &mut section_name,
                &mut diags,
            ),
            None => parse_file(&context, &mut tree.sections, &mut section_name, &mut diags),
        };
        tree.files.push(SyntaxFile { file, lines });
    }
    tree.environment = reading.into_changes();
    (tree, diags)
}

fn tight(code: &'static str, message: String, span: Span) -> Diagnostic {
    Diagnostic::new(code, message)
        .at(span)
        .form(crate::diagnostic::HaproxyForm::ParsingTight)
}

/// One file's lines, with the plain lines of a large file lexed ahead on the other cores.
fn parse_file(
    context: &FileContext,
    sections: &mut Vec<Section>,
    section_name: &mut String,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Line> {
    if context.defer_proxy_bodies.is_some() {
        // The proxy bodies' plain lines are lexed by the build's threads: lexing them ahead
        // here would make the words this parse is asked not to hold.
        return parse_lines(context, &mut |_| None, sections, section_name, diags);
    }
    let ahead = crate::prelex::Shared::new(context.file, context.source);
    std::thread::scope(|scope| {
        let mut plain = ahead.start(scope);
        let mut take = |index| {
            plain.take(index).map(|words| crate::lexer::LexedLine {
                words,
                comment: None,
                error: None,
            })
        };
        let lines = parse_lines(context, &mut take, sections, section_name, diags);
        plain.finish();
        lines
    })
}

/// What every line of a file is read with.
pub(crate) struct FileContext<'a> {
    pub file: FileId,
    pub source: &'a crate::source::SourceFile,
    pub env: &'a dyn Environment,
    pub build: &'a crate::cond::BuildInfo,
    /// Leave the plain lines of frontend, backend and listen bodies without their words (see
    /// [`parse_deferring`]) when set: the file's lines that hold a quote, an escape or a
    /// comment ([`crate::lexer::special_lines`]), the only ones whose plainness needs a look
    /// past their first word (but for their number of words).
    pub defer_proxy_bodies: Option<&'a crate::source::LineSet>,
}

fn parse_lines(
    context: &FileContext,
    ahead: &mut dyn FnMut(usize) -> Option<crate::lexer::LexedLine>,
    sections: &mut Vec<Section>,
    section_name: &mut String,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Line> {
    let count = context.source.line_count();
    let mut lines = Vec::with_capacity(count);
    let mut parser = LineParser::default();
    for index in 0..count {
        let line = parser.line(context, index, ahead, sections, section_name, diags);
        lines.push(line);
    }
    parser.finish(context, lines.last(), diags);
    lines
}

/// The state of a file's parse between two lines: the `.if` levels, the fatal errors so far,
/// whether the file stopped, and the section statements go to.
#[derive(Default)]
pub(crate) struct LineParser {
    conds: Vec<Cond>,
    fatal: usize,
    stopped: bool,
    current: Option<usize>,
}

impl LineParser {
    /// The state before a line of a file that has no `.if` levels open, has not stopped, and
    /// counts `fatal` fatal errors; statements go to section `current` of `sections`.
    pub(crate) fn resume(fatal: usize, current: Option<usize>) -> Self {
        LineParser {
            conds: Vec::new(),
            fatal,
            stopped: false,
            current,
        }
    }

    /// Whether no `.if` level is open and the file did not stop.
    pub(crate) fn is_plain(&self) -> bool {
        self.conds.is_empty() && !self.stopped
    }

    pub(crate) fn fatal(&self) -> usize {
        self.fatal
    }

    pub(crate) fn current(&self) -> Option<usize> {
        self.current
    }

    /// Reads line `index` of the file (`ahead` may know its words), the lines before it read
    /// already: a section header is added to `sections`, a statement to the current section.
    pub(crate) fn line(
        &mut self,
        context: &FileContext,
        index: usize,
        ahead: &mut dyn FnMut(usize) -> Option<crate::lexer::LexedLine>,
        sections: &mut Vec<Section>,
        section_name: &mut String,
        diags: &mut Vec<Diagnostic>,
    ) -> Line {
        use crate::lexer::LineContext;
        let FileContext {
            file,
            source,
            env,
            build,
            defer_proxy_bodies,
        } = *context;
        let range = source.line_range(index);
        let text = &source.text[range.clone()];
        let span = Span::new(file, range.start, range.end);
        let mut line = Line {
            span,
            kind: LineKind::Blank,
            words: thin_vec::ThinVec::new(),
            comment: None,
            active: !self.stopped,
        };
        if self.stopped {
            line.kind = if text.trim().is_empty() {
                LineKind::Blank
            } else {
                LineKind::Statement
            };
            return line;
        }
        if self.fatal >= MAX_FATAL_ERRORS {
            diags.push(tight(
                "E007",
                format!("too many fatal errors ({}), stopping now.", self.fatal),
                span,
            ));
            self.stopped = true;
            line.active = false;
            return line;
        }
        // A NUL byte cuts the line; HAProxy then stops reading the file (or, on the last line,
        // reports it as a missing line feed). A file without one is not searched line by line.
        let nul = source
            .may_cut_lines()
            .then(|| memchr::memchr(0, text.as_bytes()));
        if let Some(nul) = nul.flatten() {
            let at = Span::new(file, range.start + nul, range.start + nul + 1);
            if index + 1 < source.line_count() {
                diags.push(tight(
                    "E008",
                    format!("Stray NUL character at position {}.", nul + 1),
                    at,
                ));
                self.stopped = true;
            }
        }
        // Byte by byte: the blanks are ASCII, and no character needs decoding to find them.
        // The indent's spaces eight at a time.
        let bytes = text.as_bytes();
        let first_byte = bytes[crate::lexer::skip_spaces(bytes, 0)..]
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace());
        if first_byte == Some(b'[') {
            // SPOE scope lines: `[name]`.
            line.kind = LineKind::Directive;
            return line;
        }
        let lexed = match ahead(index) {
            Some(lexed) => lexed,
            None => {
                let content = source.content(text);
                let plain_first_word = |special: &crate::source::LineSet| {
                    if special.contains(index) {
                        crate::lexer::plain_first_word(content)
                    } else {
                        crate::lexer::plain_first_word_unspecial(content)
                    }
                };
                if defer_proxy_bodies.is_some_and(|special| {
                    self.defers_here(sections)
                        && plain_first_word(special).is_some_and(defers_keyword)
                }) {
                    // Read as a statement of the current section, words left out.
                    line.kind = LineKind::Statement;
                    if let Some(s) = self.current {
                        sections[s].body.push(index);
                    }
                    return line;
                }
                match crate::lexer::PlainBounds::scan(content) {
                    Some(bounds) => crate::lexer::LexedLine {
                        words: bounds.words(content, file, range.start),
                        comment: None,
                        error: None,
                    },
                    None => {
                        let ctx = LineContext {
                            file,
                            offset: range.start,
                            file_name: &source.name,
                            line_number: index + 1,
                            section: section_name,
                            env,
                        };
                        crate::lexer::lex_cooked(content, &ctx)
                    }
                }
            }
        };
        line.comment = lexed.comment;
        if let Some(e) = lexed.error {
            diags.push(e);
            self.fatal += 1;
            line.kind = LineKind::Statement;
            line.active = false;
            return line;
        }
        line.words = lexed.words;
        let Some(first) = line.words.first() else {
            line.kind = if line.comment.is_some() {
                LineKind::Comment
            } else {
                LineKind::Blank
            };
            return line;
        };
        let keyword = first.value.clone();
        let masked = self.conds.last().is_some_and(|c| c.masks());
        if keyword.starts_with('.') {
            line.kind = LineKind::Directive;
            line.active = false;
            let outcome = directive(&keyword, &line, &mut self.conds, masked, build, env, diags);
            match outcome {
                Flow::Next => {}
                Flow::Fatal => self.fatal += 1,
                Flow::Stop => self.stopped = true,
            }
            return line;
        }
        if masked {
            line.kind = LineKind::Statement;
            line.active = false;
            return line;
        }
        if let Some(kind) = SectionKind::from_keyword(&keyword) {
            line.kind = LineKind::SectionHeader;
            // Refilled in place: one buffer for every section header.
            section_name.clear();
            section_name.push_str(line.words.get(1).map_or(keyword.as_str(), |w| &w.value));
            sections.push(Section {
                kind,
                file,
                header: index,
                body: Vec::new(),
            });
            self.current = Some(sections.len() - 1);
        } else {
            line.kind = LineKind::Statement;
            match self.current {
                Some(s) => {
                    sections[s].body.push(index);
                    if sections[s].kind == SectionKind::Global
                        && crate::env_changes::is_env_keyword(&keyword)
                    {
                        let args: Vec<&str> =
                            line.words[1..].iter().map(|w| w.value.as_str()).collect();
                        env.change(&keyword, &args);
                    }
                }
                None => {
                    let d = tight(
                        "E010",
                        format!("unknown keyword '{keyword}' out of section."),
                        first.span,
                    )
                    .label("not inside a section");
                    diags.push(d);
                    self.fatal += 1;
                }
            }
        }
        line
    }

    /// Whether a plain statement here can be left without its words (see [`parse_deferring`])
    /// when its first word allows it ([`defers_keyword`]): it would be read as a statement of a
    /// frontend, backend or listen body, where nothing reads its words before the build.
    fn defers_here(&self, sections: &[Section]) -> bool {
        !self.conds.last().is_some_and(|c| c.masks())
            && self.current.is_some_and(|s| {
                let kind = sections[s].kind;
                kind.is_proxy() && kind != SectionKind::Defaults
            })
    }

    /// What the end of the file reports: a missing final line feed, an `.if` left open.
    /// `last` is the file's last line.
    pub(crate) fn finish(
        &self,
        context: &FileContext,
        last: Option<&Line>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let FileContext { file, source, .. } = *context;
        if !self.stopped && !source.text.is_empty() && !source.text.ends_with('\n') {
            let last = source.line_range(source.line_count().saturating_sub(1));
            let len = last.end - last.start;
            let at = Span::new(file, last.end, last.end);
            diags.push(
                tight(
                    "E009",
                    format!(
                        "Missing LF on last line, file might have been truncated at position {}.",
                        len + 1
                    ),
                    at,
                )
                .label("no line feed at the end of the file")
                .fix(
                    "add a final line feed",
                    vec![crate::diagnostic::Edit {
                        span: at,
                        replacement: "\n".into(),
                    }],
                ),
            );
        }
        if !self.conds.is_empty() && !self.stopped {
            let at = last.map_or(Span::new(file, 0, 0), |l: &Line| l.span);
            diags.push(tight("E011", "non-terminated '.if' block.".into(), at));
        }
    }
}

/// Whether a plain line starting with `keyword` is a statement (not a directive, not a section
/// header), which [`LineParser::defers_here`] may leave without its words.
fn defers_keyword(keyword: &str) -> bool {
    !keyword.starts_with('.') && SectionKind::from_keyword(keyword).is_none()
}

enum Flow {
    Next,
    Fatal,
    Stop,
}

/// Handles a `.xxx` line: conditionals always, messages only when not masked.
fn directive(
    keyword: &str,
    line: &Line,
    conds: &mut Vec<Cond>,
    masked: bool,
    build: &crate::cond::BuildInfo,
    env: &dyn Environment,
    diags: &mut Vec<Diagnostic>,
) -> Flow {
    let words = &line.words;
    let arg = |i: usize| words.get(i).map_or("", |w| w.value.as_str());
    let at = words[0].span;
    let whole = words.last().map_or(at, |w| at.cover(w.span));
    let cond_text = || {
        words[1..]
            .iter()
            .map(|w| w.value.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let evaluate = |which: &str, diags: &mut Vec<Diagnostic>| -> Option<bool> {
        let text = cond_text();
        match crate::cond::evaluate(&text, build, env) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = words.get(1).map_or(whole, |w| w.span.cover(whole));
                diags.push(
                    tight(
                        "E012",
                        format!("{} in '{which}' at position {}:", e.message, e.at + 1),
                        span,
                    )
                    .label("invalid condition"),
                );
                None
            }
        }
    };
    match keyword {
        ".if" => {
            if conds.len() + 1 >= MAX_NESTED_CONDS {
                diags.push(tight(
                    "E013",
                    format!("too many nested '.if', max is {MAX_NESTED_CONDS}."),
                    at,
                ));
                return Flow::Stop;
            }
            if masked {
                conds.push(Cond::Skip);
                return Flow::Next;
            }
            match evaluate(".if", diags) {
                Some(true) => conds.push(Cond::Take),
                Some(false) => conds.push(Cond::Drop),
                None => return Flow::Stop,
            }
        }
        ".elif" => {
            let Some(state) = conds.last().copied() else {
                diags.push(tight(
                    "E014",
                    "lone '.elif' with no matching '.if'.".into(),
                    at,
                ));
                return Flow::Stop;
            };
            match state {
                Cond::ElseTake | Cond::ElseDrop => {
                    diags.push(tight(
                        "E014",
                        "'.elif' after '.else' is not permitted.".into(),
                        at,
                    ));
                    return Flow::Stop;
                }
                Cond::Take | Cond::Skip => *conds.last_mut().expect("non-empty") = Cond::Skip,
                Cond::Drop => match evaluate(".elif", diags) {
                    Some(v) => {
                        *conds.last_mut().expect("non-empty") =
                            if v { Cond::Take } else { Cond::Drop }
                    }
                    None => return Flow::Stop,
                },
            }
        }
        ".else" | ".endif" => {
            if !arg(1).is_empty() {
                diags.push(tight(
                    "E015",
                    format!("Unexpected argument '{}' for '{keyword}'.", arg(1)),
                    words[1].span,
                ));
                return Flow::Stop;
            }
            let Some(state) = conds.last().copied() else {
                diags.push(tight(
                    "E014",
                    format!("lone '{keyword}' with no matching '.if'."),
                    at,
                ));
                return Flow::Stop;
            };
            if keyword == ".endif" {
                conds.pop();
            } else {
                *conds.last_mut().expect("non-empty") = match state {
                    Cond::ElseTake | Cond::ElseDrop => {
                        diags.push(tight(
                            "E014",
                            "'.else' after '.else' is not permitted.".into(),
                            at,
                        ));
                        return Flow::Stop;
                    }
                    Cond::Take | Cond::Skip => Cond::ElseDrop,
                    Cond::Drop => Cond::ElseTake,
                };
            }
        }
        _ if masked => {}
        ".alert" | ".warning" | ".notice" | ".diag" => {
            if !arg(2).is_empty() {
                diags.push(tight(
                    "E015",
                    format!("Unexpected argument '{}' for '{keyword}'. Use quotes if the message should contain spaces.", arg(2)),
                    words[2].span,
                ));
                return Flow::Fatal;
            }
            let (code, severity) = match keyword {
                ".alert" => ("E016", crate::diagnostic::Severity::Error),
                ".warning" => ("W017", crate::diagnostic::Severity::Warning),
                ".notice" => ("W017", crate::diagnostic::Severity::Notice),
                _ => ("W017", crate::diagnostic::Severity::Hint),
            };
            diags.push(tight(code, format!("'{}'.", arg(1)), whole).severity(severity));
            if keyword == ".alert" {
                return Flow::Stop;
            }
        }
        _ => {
            diags.push(tight("E018", format!("unknown directive '{keyword}'."), at));
            return Flow::Stop;
        }
    }
    Flow::Next
}

#[cfg(test)]
mod tests;
