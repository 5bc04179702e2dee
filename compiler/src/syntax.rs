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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub span: Span,
    pub value: String,
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
    pub words: Vec<Word>,
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
}

impl SyntaxTree {
    pub fn line(&self, file: FileId, index: usize) -> &Line {
        &self.files[file.0 as usize].lines[index]
    }

    pub fn header(&self, section: &Section) -> &Line {
        self.line(section.file, section.header)
    }

    pub fn body<'a>(&'a self, section: &'a Section) -> impl Iterator<Item = &'a Line> + 'a {
        section.body.iter().map(move |&i| self.line(section.file, i))
    }
}

/// Environment the lexer expands `$VAR` from, and the build facts `.if` predicates test.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
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

/// Placeholder so the crate builds while the lexer and tree builder are written.
pub fn parse(_db: &SourceDb, _env: &dyn Environment) -> (SyntaxTree, Vec<Diagnostic>) {
    unimplemented!("syntax::parse is being written")
}
