//! References, rename, folding ranges and semantic tokens, computed from one analysis.

use crate::analysis::Analysis;
use crate::position::Encoding;
use crate::symbols::{self, Occurrence};
use hapee_compiler::syntax::LineKind;
use lsp_types as lsp;
use std::collections::HashMap;

impl Analysis {
    fn occurrence(&self, pos: lsp::Position) -> Option<&Occurrence> {
        let at = self.enc.offset(self.file(), pos) as u32;
        symbols::at(self.index(), self.focus, at)
    }

    fn location(&self, o: &Occurrence) -> lsp::Location {
        lsp::Location {
            uri: self.uri_of(o.span.file).clone(),
            range: self.span_range(o.span),
        }
    }

    /// Where the object under the cursor is defined.
    pub fn definition_of(&self, pos: lsp::Position) -> Option<lsp::Location> {
        let o = self.occurrence(pos)?;
        symbols::same(self.index(), o)
            .find(|x| x.definition)
            .map(|d| self.location(d))
    }

    /// Every place the object under the cursor is written.
    pub fn references(&self, pos: lsp::Position, include_declaration: bool) -> Vec<lsp::Location> {
        let Some(o) = self.occurrence(pos) else {
            return Vec::new();
        };
        symbols::same(self.index(), o)
            .filter(|x| include_declaration || !x.definition)
            .map(|x| self.location(x))
            .collect()
    }

    /// The range a rename would change, when the cursor is on a renameable name.
    pub fn prepare_rename(&self, pos: lsp::Position) -> Option<lsp::PrepareRenameResponse> {
        let o = self.occurrence(pos)?;
        Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
            range: self.span_range(o.span),
            placeholder: o.name.clone(),
        })
    }

    /// Renames the object under the cursor everywhere it is written.
    pub fn rename(
        &self,
        pos: lsp::Position,
        new_name: &str,
    ) -> Result<Option<lsp::WorkspaceEdit>, String> {
        if !symbols::valid_name(new_name) {
            return Err(format!(
                "'{new_name}' is not a valid name (letters, digits, '-', '_', '.' and ':' only)"
            ));
        }
        let Some(o) = self.occurrence(pos) else {
            return Ok(None);
        };
        // Two objects of one namespace cannot share a name: HAProxy would reject the result.
        let taken = self
            .index()
            .iter()
            .find(|x| x.definition && x.kind == o.kind && x.scope == o.scope && x.name == new_name)
            .map(|x| x.span)
            .or_else(|| self.proxy_name_clash(o, new_name));
        if let Some(span) = taken.filter(|_| new_name != o.name) {
            let f = self.c.db.file(span.file);
            return Err(format!(
                "'{new_name}' already exists here ({}:{})",
                f.name,
                f.line_index(span.start as usize) + 1
            ));
        }
        let mut changes: HashMap<lsp::Url, Vec<lsp::TextEdit>> = HashMap::new();
        for x in symbols::same(self.index(), o) {
            changes
                .entry(self.uri_of(x.span.file).clone())
                .or_default()
                .push(lsp::TextEdit {
                    range: self.span_range(x.span),
                    new_text: new_name.to_string(),
                });
        }
        Ok(Some(lsp::WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }))
    }

    /// The frontend that a listen renamed `new_name` would clash with: a listen's name is both
    /// a frontend's and a backend's (a backend and a frontend may share a name; backends and
    /// listens are one namespace in the index already).
    fn proxy_name_clash(
        &self,
        o: &symbols::Occurrence,
        new_name: &str,
    ) -> Option<hapee_compiler::Span> {
        use hapee_compiler::ir::ProxyKind;
        let proxies = &self.c.config.proxies;
        let is = |p: &&hapee_compiler::ir::Proxy, kind, name: &str| {
            p.kind == kind && p.name_str() == name
        };
        if o.kind != symbols::Kind::Backend
            || !proxies.iter().any(|p| is(&p, ProxyKind::Listen, &o.name))
        {
            return None;
        }
        proxies
            .iter()
            .find(|p| is(p, ProxyKind::Frontend, new_name))
            .and_then(|p| p.name.as_ref().map(|n| n.span))
    }

    /// One fold per section, and one per `.if … .endif` block.
    pub fn folding_ranges(&self) -> Vec<lsp::FoldingRange> {
        let f = self.file();
        let tree = &self.c.tree;
        let line_of = |span: hapee_compiler::Span| self.enc.position(f, span.start as usize).line;
        let mut out = Vec::new();
        for s in tree.sections.iter().filter(|s| s.file == self.focus) {
            let start = line_of(tree.header(s).span);
            if let Some(&last) = s.body.last() {
                let end = line_of(tree.line(s.file, last).span);
                if end > start {
                    out.push(lsp::FoldingRange {
                        start_line: start,
                        end_line: end,
                        kind: Some(lsp::FoldingRangeKind::Region),
                        ..Default::default()
                    });
                }
            }
        }
        let mut open = Vec::new();
        for line in &self.syntax().lines {
            if line.kind != LineKind::Directive {
                continue;
            }
            match line.words.first().map(|w| w.value.as_str()) {
                Some(".if") => open.push(line_of(line.span)),
                Some(".endif") => {
                    if let Some(start) = open.pop() {
                        out.push(lsp::FoldingRange {
                            start_line: start,
                            end_line: line_of(line.span),
                            kind: Some(lsp::FoldingRangeKind::Region),
                            ..Default::default()
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Semantic tokens, delta-encoded as LSP wants them.
    pub fn semantic_tokens(&self) -> lsp::SemanticTokens {
        let f = self.file();
        let mut raw: Vec<(u32, u32, u32, u32)> = Vec::new(); // line, start, length, type
        let names: HashMap<(u32, u32), u32> = self
            .index()
            .iter()
            .filter(|o| o.span.file == self.focus)
            .map(|o| ((o.span.start, o.span.end), TOKEN_NAME))
            .collect();
        for line in &self.syntax().lines {
            let mut in_condition = false;
            for (i, w) in line.words.iter().enumerate() {
                let v = w.value.as_str();
                let kind = if names.contains_key(&(w.span.start, w.span.end)) {
                    TOKEN_NAME
                } else if i == 0 && line.kind == LineKind::SectionHeader {
                    TOKEN_NAMESPACE
                } else if i == 0
                    || (i == 1 && matches!(line.words[0].value.as_str(), "no" | "default"))
                {
                    TOKEN_KEYWORD
                } else if matches!(v, "if" | "unless" | "or" | "||" | "!" | "{" | "}") {
                    in_condition |= v == "if" || v == "unless";
                    TOKEN_OPERATOR
                } else if v.bytes().all(|b| b.is_ascii_digit()) || is_duration(v) {
                    TOKEN_NUMBER
                } else if f
                    .text
                    .get(w.span.start as usize..w.span.start as usize + 1)
                    .is_some_and(|c| c == "\"" || c == "'")
                {
                    TOKEN_STRING
                } else if in_condition {
                    TOKEN_VARIABLE
                } else {
                    continue;
                };
                push_token(self.enc, f, w.span, kind, &mut raw);
            }
            if let Some(c) = line.comment {
                push_token(self.enc, f, c, TOKEN_COMMENT, &mut raw);
            }
            if line.kind == LineKind::Comment {
                push_token(self.enc, f, line.span, TOKEN_COMMENT, &mut raw);
            }
        }
        raw.sort();
        let mut data = Vec::with_capacity(raw.len());
        let (mut prev_line, mut prev_start) = (0, 0);
        for (line, start, length, kind) in raw {
            let delta_line = line - prev_line;
            let delta_start = if delta_line == 0 {
                start - prev_start
            } else {
                start
            };
            data.push(lsp::SemanticToken {
                delta_line,
                delta_start,
                length,
                token_type: kind,
                token_modifiers_bitset: 0,
            });
            prev_line = line;
            prev_start = start;
        }
        lsp::SemanticTokens {
            result_id: None,
            data,
        }
    }
}

fn is_duration(v: &str) -> bool {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&v[digits..], "us" | "ms" | "s" | "m" | "h" | "d")
}

fn push_token(
    enc: Encoding,
    f: &hapee_compiler::source::SourceFile,
    span: hapee_compiler::Span,
    kind: u32,
    out: &mut Vec<(u32, u32, u32, u32)>,
) {
    let r = enc.range(f, span);
    // Tokens may not span lines; a word never does.
    if r.start.line == r.end.line && r.end.character > r.start.character {
        out.push((
            r.start.line,
            r.start.character,
            r.end.character - r.start.character,
            kind,
        ));
    }
}

pub const TOKEN_NAMESPACE: u32 = 0;
pub const TOKEN_KEYWORD: u32 = 1;
pub const TOKEN_NAME: u32 = 2;
pub const TOKEN_NUMBER: u32 = 3;
pub const TOKEN_STRING: u32 = 4;
pub const TOKEN_COMMENT: u32 = 5;
pub const TOKEN_OPERATOR: u32 = 6;
pub const TOKEN_VARIABLE: u32 = 7;

/// The legend, in the order of the constants above.
pub fn legend() -> lsp::SemanticTokensLegend {
    lsp::SemanticTokensLegend {
        token_types: vec![
            lsp::SemanticTokenType::NAMESPACE,
            lsp::SemanticTokenType::KEYWORD,
            lsp::SemanticTokenType::CLASS,
            lsp::SemanticTokenType::NUMBER,
            lsp::SemanticTokenType::STRING,
            lsp::SemanticTokenType::COMMENT,
            lsp::SemanticTokenType::OPERATOR,
            lsp::SemanticTokenType::VARIABLE,
        ],
        token_modifiers: Vec::new(),
    }
}
