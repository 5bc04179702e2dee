//! Everything the keyword checks ask about the first word of a statement, gathered in one map:
//! every statement of a configuration looks its first word up here once or twice instead of once
//! per table (directives, two-word heads, removed keywords, sides, argument counts).

use super::arity::{self, Arity};
use super::{built_in, DirectiveDef, DIRECTIVES, REMOVED_MESSAGES, SIDE_OF};
use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// What the registry knows of one word written first in a statement.
#[derive(Default)]
pub struct FirstWord {
    /// The directive of that exact name, when the checked HAProxy build has it.
    pub directive: Option<&'static DirectiveDef>,
    /// Whether some directive is written as two words starting with this one (`timeout client`).
    pub heads_pair: bool,
    /// HAProxy's message for a removed keyword (`%s` stands for the keyword).
    pub removed: Option<&'static str>,
    /// For proxy keywords acting on one side: `Some(true)` needs a frontend, `Some(false)` a backend.
    pub side: Option<bool>,
    /// The argument counts of the keyword in the global section ([`arity::GLOBAL`] rows).
    pub global_arity: &'static [Arity],
    /// The argument counts of the keyword in proxy sections ([`arity::PROXY`] rows).
    pub proxy_arity: &'static [Arity],
}

struct Tables {
    words: FxHashMap<&'static str, FirstWord>,
    /// Two-word directives by their two words (built into the checked build only).
    pairs: FxHashMap<(&'static str, &'static str), &'static DirectiveDef>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut words: FxHashMap<&'static str, FirstWord> = FxHashMap::default();
        let mut pairs = FxHashMap::default();
        // The first row of a name decides it, as a name → row map filled in order would.
        let mut seen = rustc_hash::FxHashSet::default();
        for def in DIRECTIVES {
            if !seen.insert(def.name) {
                continue;
            }
            if let Some((head, tail)) = def.name.split_once(' ') {
                words.entry(head).or_default().heads_pair = true;
                if built_in(def.name) {
                    pairs.insert((head, tail), def);
                }
            }
            if built_in(def.name) {
                words.entry(def.name).or_default().directive = Some(def);
            }
        }
        for &(name, message) in REMOVED_MESSAGES {
            words.entry(name).or_default().removed = Some(message);
        }
        for &(name, needs_frontend) in SIDE_OF {
            let entry = words.entry(name).or_default();
            entry.side = entry.side.or(Some(needs_frontend));
        }
        // The count tables are sorted by keyword: each keyword's rows are one run.
        for (table, global) in [(arity::GLOBAL, true), (arity::PROXY, false)] {
            let mut start = 0;
            while start < table.len() {
                let keyword = table[start].keyword;
                let end = start
                    + table[start..]
                        .iter()
                        .take_while(|a| a.keyword == keyword)
                        .count();
                let entry = words.entry(keyword).or_default();
                if global {
                    entry.global_arity = &table[start..end];
                } else {
                    entry.proxy_arity = &table[start..end];
                }
                start = end;
            }
        }
        Tables { words, pairs }
    })
}

std::thread_local! {
    /// The last word found in the map, as its key, with its entry: a statement asks about its
    /// first word from several checks, and a body's lines often begin alike (`server`, …), so
    /// most questions are answered by one comparison instead of hashing the word again.
    static LAST: std::cell::Cell<Option<(&'static str, &'static FirstWord)>> =
        const { std::cell::Cell::new(None) };
}

/// What the registry knows of `word` written first in a statement; `None` for a word no table has.
pub fn first_word(word: &str) -> Option<&'static FirstWord> {
    if let Some((key, known)) = LAST.get() {
        if key == word {
            return Some(known);
        }
    }
    let (key, known) = tables().words.get_key_value(word)?;
    LAST.set(Some((key, known)));
    Some(known)
}

/// The two-word directive `first second` (`timeout client`), when the checked build has it.
pub fn pair_directive(first: &str, second: &str) -> Option<&'static DirectiveDef> {
    // The map is covariant in its keys: a borrowed pair of shorter lifetimes looks it up.
    let pairs: &FxHashMap<(&str, &str), &'static DirectiveDef> = &tables().pairs;
    pairs.get(&(first, second)).copied()
}
