//! The order in which a document's edits are applied. The protocol has the client send
//! `didChange` notifications in order, each with the next version of the document; Helix
//! (23.x–25.x) sends them from concurrent tasks and, while keystrokes arrive in a burst,
//! sometimes out of order (version 10 before 3). Applied as received, such edits land at the
//! wrong places and the server's text parts from the editor's for good. So an edit whose
//! version is past the next one is held until the ones before it arrive; what is held goes in
//! version order once the first of them has waited [`HOLD`], for clients that skip version
//! numbers (the protocol allows it, and Neovim does: its versions are the buffer's
//! `changedtick`, which other changes move too). A document whose held edits had to be
//! applied that way is known to skip: its later edits are applied as they come.

use lsp_types as lsp;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long an edit waits for the ones before it before it is applied anyway.
pub const HOLD: Duration = Duration::from_millis(300);

type Changes = Vec<lsp::TextDocumentContentChangeEvent>;

/// One open document's edit order.
#[derive(Debug, Default)]
pub struct EditOrder {
    /// The version of the last edit applied (or of the opened text).
    applied: Option<i32>,
    /// Edits that arrived ahead of their turn, by version.
    held: BTreeMap<i32, Changes>,
    /// When the oldest of them arrived.
    since: Option<Instant>,
    /// Whether this document's client skips versions (a hold ran out once).
    skips: bool,
}

impl EditOrder {
    pub fn opened(version: i32) -> EditOrder {
        EditOrder {
            applied: Some(version),
            ..EditOrder::default()
        }
    }

    /// The edits to apply now, in order, after the edit of `version` arrived.
    pub fn arrived(&mut self, version: i32, changes: Changes) -> Vec<Changes> {
        match self.applied {
            Some(last) if version > last.saturating_add(1) && !self.skips => {
                self.held.insert(version, changes);
                self.since.get_or_insert_with(Instant::now);
                Vec::new()
            }
            // Next in turn, or not comparable (unknown start, or a repeated or older version,
            // which no order can place better than now).
            _ => {
                self.applied = Some(version.max(self.applied.unwrap_or(version)));
                let mut ready = vec![changes];
                ready.extend(self.take_consecutive());
                ready
            }
        }
    }

    /// Everything held, in version order (the missing versions are not coming: from now on
    /// this document's edits are applied as they arrive).
    pub fn flush(&mut self) -> Vec<Changes> {
        self.since = None;
        self.skips = true;
        let held = std::mem::take(&mut self.held);
        if let Some(&last) = held.keys().next_back() {
            self.applied = Some(last);
        }
        held.into_values().collect()
    }

    #[cfg(test)]
    fn holds(&self) -> bool {
        !self.held.is_empty()
    }

    /// Whether edits have been held for [`HOLD`] or longer.
    pub fn overdue(&self, now: Instant) -> bool {
        self.since.is_some_and(|at| now.duration_since(at) >= HOLD)
    }

    /// When the held edits become overdue, if any are held.
    pub fn due(&self) -> Option<Instant> {
        self.since.map(|at| at + HOLD)
    }

    fn take_consecutive(&mut self) -> Vec<Changes> {
        let mut ready = Vec::new();
        while let Some(last) = self.applied {
            match self.held.remove(&last.saturating_add(1)) {
                Some(changes) => {
                    self.applied = Some(last + 1);
                    ready.push(changes);
                }
                None => break,
            }
        }
        if self.held.is_empty() {
            self.since = None;
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(text: &str) -> Changes {
        vec![lsp::TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: text.into(),
        }]
    }

    fn texts(batches: Vec<Changes>) -> Vec<String> {
        batches.into_iter().flatten().map(|c| c.text).collect()
    }

    #[test]
    fn edits_that_arrive_early_wait_for_the_ones_before_them() {
        // The order Helix sent one burst in (captured from its notifications).
        let mut order = EditOrder::opened(0);
        assert_eq!(texts(order.arrived(1, insert("a"))), ["a"]);
        assert!(order.arrived(3, insert("c")).is_empty());
        assert!(order.arrived(4, insert("d")).is_empty());
        assert!(order.holds());
        assert_eq!(texts(order.arrived(2, insert("b"))), ["b", "c", "d"]);
        assert!(!order.holds());
        assert_eq!(texts(order.arrived(5, insert("e"))), ["e"]);
    }

    #[test]
    fn a_gap_that_never_fills_is_flushed_in_version_order() {
        let mut order = EditOrder::opened(1);
        assert!(order.arrived(7, insert("y")).is_empty());
        assert!(order.arrived(5, insert("x")).is_empty());
        assert!(!order.overdue(Instant::now()));
        assert!(order.overdue(Instant::now() + HOLD));
        assert_eq!(texts(order.flush()), ["x", "y"]);
        assert!(!order.holds() && !order.overdue(Instant::now() + HOLD));
        assert_eq!(texts(order.arrived(8, insert("z"))), ["z"]);
    }

    #[test]
    fn a_repeated_or_older_version_is_applied_at_once() {
        let mut order = EditOrder::opened(4);
        assert_eq!(texts(order.arrived(4, insert("r"))), ["r"]);
        assert_eq!(texts(order.arrived(2, insert("o"))), ["o"]);
        assert_eq!(texts(order.arrived(5, insert("n"))), ["n"]);
    }

    /// Neovim's versions skip numbers: once a hold ran out, the document's later edits are
    /// applied as they come, gaps or not.
    #[test]
    fn a_client_that_skips_versions_is_held_once() {
        let mut order = EditOrder::opened(3);
        assert!(order.arrived(5, insert("a")).is_empty());
        assert_eq!(texts(order.flush()), ["a"]);
        assert_eq!(texts(order.arrived(9, insert("b"))), ["b"]);
        assert!(!order.holds() && order.due().is_none());
    }
}
