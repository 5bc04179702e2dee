//! The words keywords take after their own, and the fixed values of bind and server options,
//! read from the registry's one table of them (`registry::word_slot`, `option_choices`):
//! hover documents the word or value under the cursor, completion offers what may come next.

use hapee_compiler::registry::{self, SectionKind, ValueDef, WordSlot};

/// Where the options of a `bind`, `stats socket`, `server`, `server-template`,
/// `default-server` or default TLS options line start, and whether they are server options.
pub(crate) fn options_start(words: &[&str]) -> Option<(usize, bool)> {
    Some(
        match (words.first()?, words.get(1).copied().unwrap_or("")) {
            (&"bind", _) => (2, false),
            (&"stats", "socket") => (3, false),
            (&"ssl-default-bind-options", _) => (1, false),
            (&"server", _) => (3, true),
            (&"server-template", _) => (4, true),
            (&"default-server" | &"ssl-default-server-options", _) => (1, true),
            _ => return None,
        },
    )
}

/// How many value words option `name` of a bind or server line takes.
fn option_values(name: &str, server: bool) -> Option<u8> {
    if server {
        registry::server_option(name).map(|o| o.values)
    } else {
        registry::bind_option(name).map(|o| o.values)
    }
}

/// What word `k` of `words` (it may be one past the last) is.
#[derive(Debug)]
pub(crate) enum Place {
    /// One of these words goes here; `what` names the keyword they follow, `single` says
    /// the word is the keyword's one value (`balance roundrobin`), not one of its options.
    Word {
        what: &'static str,
        single: bool,
        table: &'static [ValueDef],
    },
    /// A value of `word`: `choices` when they are a fixed list (the first value word only).
    Value {
        word: &'static str,
        choices: &'static [ValueDef],
    },
}

/// The place of word `k` of a line of `section`, when it follows a keyword whose words the
/// registry lists, or is the value of a bind or server option.
pub(crate) fn place(section: Option<SectionKind>, words: &[&str], k: usize) -> Option<Place> {
    if let Some(slot) = registry::word_slot(section, words, k) {
        return Some(match slot {
            WordSlot::Word(kw) => Place::Word {
                what: kw.keyword,
                single: kw.single,
                table: kw.words,
            },
            WordSlot::Value { word, first } => Place::Value {
                word: word.name,
                choices: if first { word.choices } else { &[] },
            },
        });
    }
    let (start, server) = options_start(words)?;
    // The option words from `start` on, each followed by its values.
    let mut j = start;
    while j < k {
        let takes = option_values(words[j], server).unwrap_or(0) as usize;
        if takes > 0 && k <= j + takes {
            let word = if server {
                registry::server_option(words[j]).map(|o| o.name)
            } else {
                registry::bind_option(words[j]).map(|o| o.name)
            }?;
            let choices = registry::option_choices(word).filter(|_| k == j + 1);
            return Some(Place::Value {
                word,
                choices: choices.unwrap_or(&[]),
            });
        }
        j += 1 + takes;
    }
    None
}

/// The doc of word `k` of `words`, `raw` being its text and `at` the cursor's byte in it; and
/// the bytes of the word it covers (one item of a comma list: `init-addr last,libc`).
/// `Some(None)` when the word has a place but no doc: the word is no fetch either.
pub(crate) fn doc(
    section: Option<SectionKind>,
    words: &[&str],
    k: usize,
    at: usize,
) -> Option<Option<(String, std::ops::Range<usize>)>> {
    let w = *words.get(k)?;
    Some(match place(section, words, k)? {
        Place::Word {
            what,
            single,
            table,
        } => registry::find_word(table, w).map(|v| {
            let name = w.split('(').next().unwrap_or(w);
            let text = if single {
                format!("**{what} {}** — {}", v.name, v.doc)
            } else {
                format!("**{}** ({what}) — {}", v.name, v.doc)
            };
            (text, 0..name.len())
        }),
        // A free value may be an expression (`status-code <expr>`, `sni <expr>`): its
        // fetches are documented as anywhere else.
        Place::Value { choices: &[], .. } => return None,
        Place::Value { word, choices } => {
            let start = w[..at.min(w.len())].rfind(',').map_or(0, |c| c + 1);
            let end = w[start..].find(',').map_or(w.len(), |c| start + c);
            let item = &w[start..end];
            choices
                .iter()
                .find(|v| v.name.eq_ignore_ascii_case(item))
                .map(|v| (format!("**{word} {}** — {}", v.name, v.doc), start..end))
        }
    })
}

/// What may be written as word `k` of `words`, when the registry lists it; `None` when the
/// word has no such place or its value is free.
pub(crate) fn choices(
    section: Option<SectionKind>,
    words: &[&str],
    k: usize,
) -> Option<&'static [ValueDef]> {
    match place(section, words, k)? {
        Place::Word { table, .. } => Some(table),
        Place::Value { choices: &[], .. } => None,
        Place::Value { choices, .. } => Some(choices),
    }
}
