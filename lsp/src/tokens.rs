//! Semantic tokens sent as the change since the client's last copy (`semanticTokens/full/delta`).
//!
//! A recent Neovim asks for a document's tokens again after each pause in typing; on a 20,000-line
//! configuration they are some 380 kB of JSON to send and decode, of which an edit changes a few
//! tokens. Each open document keeps the tokens it last sent, under a result id: a client that
//! names that id gets only the run of tokens that differs (one edit, or none).

use lsp_types as lsp;

/// The tokens last sent for one document, and the id they were sent under.
#[derive(Default)]
pub struct Sent {
    id: u64,
    tokens: Vec<lsp::SemanticToken>,
}

impl Sent {
    /// The whole of `tokens`, under a new result id remembered with them.
    pub fn full(&mut self, tokens: lsp::SemanticTokens) -> lsp::SemanticTokens {
        self.id += 1;
        self.tokens = tokens.data;
        lsp::SemanticTokens {
            result_id: Some(self.id.to_string()),
            data: self.tokens.clone(),
        }
    }

    /// `tokens` as the change from those sent under `previous`, or whole when those are not the
    /// ones kept (the client missed an answer, or the server never sent them).
    pub fn delta(
        &mut self,
        previous: &str,
        tokens: lsp::SemanticTokens,
    ) -> lsp::SemanticTokensFullDeltaResult {
        if self.id == 0 || previous != self.id.to_string() {
            return self.full(tokens).into();
        }
        let edit = difference(&self.tokens, &tokens.data);
        self.id += 1;
        self.tokens = tokens.data;
        lsp::SemanticTokensDelta {
            result_id: Some(self.id.to_string()),
            edits: edit.into_iter().collect(),
        }
        .into()
    }
}

/// The one edit that turns `old` into `new` (none when they are equal): the tokens between
/// their common start and common end, counted, as the protocol counts, in integers (five a
/// token).
fn difference(
    old: &[lsp::SemanticToken],
    new: &[lsp::SemanticToken],
) -> Option<lsp::SemanticTokensEdit> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (deleted, inserted) = (&old[head..old.len() - tail], &new[head..new.len() - tail]);
    if deleted.is_empty() && inserted.is_empty() {
        return None;
    }
    let ints = |n: usize| u32::try_from(n * 5).unwrap_or(u32::MAX);
    Some(lsp::SemanticTokensEdit {
        start: ints(head),
        delete_count: ints(deleted.len()),
        data: Some(inserted.to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(delta_line: u32, token_type: u32) -> lsp::SemanticToken {
        lsp::SemanticToken {
            delta_line,
            delta_start: 0,
            length: 3,
            token_type,
            token_modifiers_bitset: 0,
        }
    }

    /// Applies an edit as the protocol says a client does, on the flat list of integers.
    fn apply(old: &[lsp::SemanticToken], e: &lsp::SemanticTokensEdit) -> Vec<u32> {
        let flat = |t: &[lsp::SemanticToken]| -> Vec<u32> {
            t.iter()
                .flat_map(|t| {
                    [
                        t.delta_line,
                        t.delta_start,
                        t.length,
                        t.token_type,
                        t.token_modifiers_bitset,
                    ]
                })
                .collect()
        };
        let mut ints = flat(old);
        let at = e.start as usize;
        ints.splice(
            at..at + e.delete_count as usize,
            flat(e.data.as_deref().unwrap_or(&[])),
        );
        ints
    }

    #[test]
    fn the_edit_turns_the_old_tokens_into_the_new() {
        let old: Vec<_> = (0..6).map(|i| token(1, i)).collect();
        let cases: Vec<Vec<lsp::SemanticToken>> = vec![
            old.clone(),
            vec![],
            [&old[..2], &[token(1, 9)], &old[2..]].concat(),
            [&old[..2], &old[3..]].concat(),
            [&old[..5], &[token(2, 5)]].concat(),
            [&[token(1, 7)], &old[1..]].concat(),
            // The same token twice around the change: the common end does not overlap the start.
            vec![token(1, 0), token(1, 0)],
        ];
        for new in cases {
            match difference(&old, &new) {
                None => assert_eq!(old, new),
                Some(e) => {
                    let want: Vec<u32> = apply(
                        &new,
                        &lsp::SemanticTokensEdit {
                            start: 0,
                            delete_count: 0,
                            data: None,
                        },
                    );
                    assert_eq!(apply(&old, &e), want, "{new:?}");
                }
            }
        }
    }
}
