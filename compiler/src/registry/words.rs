//! The words keywords take after their own (`option forwardfor except <net> if-none`, `filter
//! bwlim-in <name> default-limit <size>`, `http-check send meth GET`), each with its doc, how
//! many value words follow it and, when they are a fixed list, the values themselves; and the
//! fixed values of bind and server options (`level admin`, `resolve-prefer ipv4`). Hover and
//! completion read a line through [`word_slot`]; the check parsers read the same word lists.

use super::values::{BALANCE_ALGORITHMS, COOKIE_OPTIONS, LOG_WORDS, MODES, STICK_TABLE_OPTIONS};
use super::word_lists::*;
use super::{SectionKind, ValueDef};

/// The words that follow a keyword.
#[derive(Clone, Copy, Debug)]
pub struct KeywordWords {
    /// The line's first words (`option forwardfor`, `filter bwlim-in`); a word written with
    /// arguments (`hdr(host)`) is matched by its name.
    pub keyword: &'static str,
    /// The one section the keyword means this in (a userlist's `user`, not the global one).
    pub section: Option<SectionKind>,
    /// Words between the keyword and its words (a name: `cookie <name>`, `capture request
    /// header <name>`).
    pub skip: u8,
    /// Only one word follows (an algorithm, a mode), not a list of options.
    pub single: bool,
    pub words: &'static [ValueDef],
}

const fn kw(keyword: &'static str, skip: u8, words: &'static [ValueDef]) -> KeywordWords {
    KeywordWords {
        keyword,
        section: None,
        skip,
        single: false,
        words,
    }
}

const fn single(keyword: &'static str, words: &'static [ValueDef]) -> KeywordWords {
    KeywordWords {
        single: true,
        ..kw(keyword, 0, words)
    }
}

const fn in_section(
    section: SectionKind,
    keyword: &'static str,
    skip: u8,
    words: &'static [ValueDef],
) -> KeywordWords {
    KeywordWords {
        section: Some(section),
        ..kw(keyword, skip, words)
    }
}

/// Every keyword whose following words come from a fixed list.
pub static KEYWORD_WORDS: &[KeywordWords] = &[
    single("balance", BALANCE_ALGORITHMS),
    kw("balance uri", 0, BALANCE_URI),
    kw("balance url_param", 1, BALANCE_URL_PARAM),
    kw("balance hdr", 0, BALANCE_HDR),
    single("mode", MODES),
    kw("hash-type", 0, HASH_TYPE),
    single("http-reuse", HTTP_REUSE),
    single("load-server-state-from-file", SERVER_STATE_FROM_FILE),
    single("compression", COMPRESSION),
    kw("compression algo", 0, COMPRESSION_ALGOS),
    in_section(SectionKind::Resolvers, "hold", 0, HOLD),
    kw("option mysql-check", 0, MYSQL_CHECK),
    kw("option pgsql-check", 0, PGSQL_CHECK),
    kw("http-request return", 0, RETURN),
    kw("http-response return", 0, RETURN),
    kw("http-error", 0, RETURN),
    kw("http-request deny", 0, DENY),
    kw("http-response deny", 0, DENY),
    kw("http-request tarpit", 0, DENY),
    kw("http-request auth", 0, AUTH),
    kw("retry-on", 0, RETRY_ON),
    kw("log", 0, LOG_WORDS),
    kw("cookie", 1, COOKIE_OPTIONS),
    kw("stick-table", 0, STICK_TABLE_OPTIONS),
    in_section(SectionKind::Peers, "table", 1, STICK_TABLE_OPTIONS),
    kw("option forwardfor", 0, FORWARDFOR),
    kw("option originalto", 0, ORIGINALTO),
    kw("option httplog", 0, HTTPLOG),
    kw("capture request header", 1, CAPTURE),
    kw("capture response header", 1, CAPTURE),
    kw("capture cookie", 1, CAPTURE),
    in_section(SectionKind::Userlist, "user", 1, USERLIST_USER),
    in_section(SectionKind::Userlist, "group", 1, USERLIST_GROUP),
    single("filter", FILTERS),
    kw("filter trace", 0, FILTER_TRACE),
    kw("filter spoe", 0, FILTER_SPOE),
    kw("filter bwlim-in", 1, FILTER_BWLIM),
    kw("filter bwlim-out", 1, FILTER_BWLIM),
    kw("http-check send", 0, HTTP_CHECK_SEND),
    kw("http-check connect", 0, CHECK_CONNECT),
    kw("tcp-check connect", 0, CHECK_CONNECT),
    kw("http-check expect", 0, HTTP_CHECK_EXPECT),
    kw("tcp-check expect", 0, TCP_CHECK_EXPECT),
    kw("tcp-check send", 1, CHECK_COMMENT),
    kw("tcp-check send-lf", 1, CHECK_COMMENT),
    kw("tcp-check send-binary", 1, CHECK_COMMENT),
    kw("tcp-check send-binary-lf", 1, CHECK_COMMENT),
];

/// Where a word of a line stands among its keyword's words.
#[derive(Clone, Copy, Debug)]
pub enum WordSlot {
    /// One of the keyword's words goes here (it may be typed already).
    Word(&'static KeywordWords),
    /// The value of `word`; `first` says whether it is the first of its value words (the one
    /// [`ValueDef::choices`] lists).
    Value {
        word: &'static ValueDef,
        first: bool,
    },
}

/// A word's name without its arguments: `hdr(host)` → `hdr`.
fn bare(word: &str) -> &str {
    word.split('(').next().unwrap_or(word)
}

/// The keywords of [`KEYWORD_WORDS`] that `words` start with, in `section`.
fn keywords_of<'a>(
    section: Option<SectionKind>,
    words: &'a [&'a str],
) -> impl Iterator<Item = &'static KeywordWords> + 'a {
    KEYWORD_WORDS
        .iter()
        .filter(move |k| k.section.is_none() || k.section == section)
        .filter(move |k| {
            let n = k.keyword.split(' ').count();
            n <= words.len()
                && k.keyword
                    .split(' ')
                    .zip(words)
                    .all(|(want, have)| want == bare(have))
        })
}

/// What word `at` of a line of `section` is (it may be one past the last, the word being
/// typed), when it follows a keyword of [`KEYWORD_WORDS`]: the longest keyword it comes after
/// says (`balance uri`'s words after `balance uri`, the algorithms after `balance`).
pub fn word_slot(section: Option<SectionKind>, words: &[&str], at: usize) -> Option<WordSlot> {
    // `no option x` and `default option x` take the words of `option x`.
    let (words, at) = match words {
        ["no" | "default", "option", ..] => (&words[1..], at.checked_sub(1)?),
        _ => (words, at),
    };
    // The condition of a rule (`if …`, `unless …`) is not the keyword's words.
    if words[..at.min(words.len())]
        .iter()
        .chain(words.get(at))
        .any(|w| matches!(*w, "if" | "unless"))
    {
        return None;
    }
    let mut keywords: Vec<_> = keywords_of(section, words).collect();
    keywords.sort_by_key(|k| std::cmp::Reverse(k.keyword.len()));
    let k = keywords
        .into_iter()
        .find(|k| k.keyword.split(' ').count() + k.skip as usize <= at)?;
    let start = k.keyword.split(' ').count() + k.skip as usize;
    list_slot(k.words, words, start, at, k.single).map(|slot| match slot {
        ListSlot::Word => WordSlot::Word(k),
        ListSlot::Value { word, first } => WordSlot::Value { word, first },
    })
}

/// Where a word stands in a list of options (with their values) starting at word `start`.
#[derive(Clone, Copy, Debug)]
pub enum ListSlot {
    Word,
    Value {
        word: &'static ValueDef,
        first: bool,
    },
}

/// What word `at` of `words` is when the words from `start` on are options of `table`, each
/// followed by its value words; with `single`, only one word follows. Words the table does
/// not hold (addresses, names) count as standing alone.
pub fn list_slot(
    table: &'static [ValueDef],
    words: &[&str],
    start: usize,
    at: usize,
    single: bool,
) -> Option<ListSlot> {
    if at < start || (single && at > start) {
        return None;
    }
    let mut j = start;
    while j < at {
        let takes = table
            .iter()
            .find(|w| w.name == bare(words[j]))
            .map_or(0, |w| w.takes as usize);
        if takes > 0 && at <= j + takes {
            let word = table.iter().find(|w| w.name == bare(words[j]))?;
            return Some(ListSlot::Value {
                word,
                first: at == j + 1,
            });
        }
        j += 1 + takes;
    }
    (j == at).then_some(ListSlot::Word)
}

/// The fixed values of a bind or server option (`level`, `verify`, `resolve-prefer`…), when
/// its value is chosen from a list.
pub fn option_choices(option: &str) -> Option<&'static [ValueDef]> {
    OPTION_CHOICES
        .iter()
        .find(|(name, _)| *name == option)
        .map(|&(_, choices)| choices)
}

/// The word `name` of `table`.
pub fn find_word(table: &'static [ValueDef], name: &str) -> Option<&'static ValueDef> {
    table.iter().find(|w| w.name == bare(name))
}

/// Whether `word` is one of the words the keyword `keyword` takes.
pub fn is_word_of(keyword: &str, word: &str) -> bool {
    KEYWORD_WORDS
        .iter()
        .find(|k| k.keyword == keyword)
        .is_some_and(|k| find_word(k.words, word).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<&str> {
        line.split_whitespace().collect()
    }

    fn word_at(line: &str, at: usize) -> Option<WordSlot> {
        word_slot(Some(SectionKind::Backend), &words(line), at)
    }

    #[test]
    fn options_and_values() {
        let l = "option forwardfor except 127.0.0.0/8 header X-Client if-none";
        assert!(
            matches!(word_at(l, 2), Some(WordSlot::Word(k)) if k.keyword == "option forwardfor")
        );
        assert!(
            matches!(word_at(l, 3), Some(WordSlot::Value { word, first: true }) if word.name == "except")
        );
        assert!(matches!(word_at(l, 6), Some(WordSlot::Word(_))));
        assert!(matches!(
            word_at(&format!("no {l}"), 3),
            Some(WordSlot::Word(_))
        ));
        // The longest keyword: `balance uri`'s words, not the algorithms.
        let l = "balance uri depth 3 whole";
        assert!(matches!(word_at(l, 1), Some(WordSlot::Word(k)) if k.keyword == "balance"));
        assert!(matches!(word_at(l, 2), Some(WordSlot::Word(k)) if k.keyword == "balance uri"));
        assert!(word_at("balance roundrobin x", 2).is_none());
        assert!(
            matches!(word_at("balance hdr(host) use_domain_only", 2), Some(WordSlot::Word(k)) if k.keyword == "balance hdr")
        );
        // A rule's condition is not the action's words.
        let l = "http-request return status 200 string x if { path /x }";
        assert!(matches!(word_at(l, 4), Some(WordSlot::Word(_))));
        assert!(word_at(l, 8).is_none() && word_at(l, 10).is_none() && word_at(l, 11).is_none());
        // `http-check send hdr <name> <value>`: both words are the header's.
        let l = "http-check send meth GET hdr Host x ver HTTP/1.1";
        assert!(
            matches!(word_at(l, 3), Some(WordSlot::Value { word, first: true }) if !word.choices.is_empty())
        );
        assert!(matches!(
            word_at(l, 6),
            Some(WordSlot::Value { first: false, .. })
        ));
        assert!(matches!(word_at(l, 7), Some(WordSlot::Word(_))));
        // A userlist's user, not the global one.
        let l = "user alice password x groups admins";
        assert!(word_slot(Some(SectionKind::Global), &words(l), 2).is_none());
        assert!(word_slot(Some(SectionKind::Userlist), &words(l), 2).is_some());
        assert!(is_word_of("http-check send", "uri-lf"));
        assert!(option_choices("level").is_some_and(|c| c.iter().any(|v| v.name == "admin")));
    }
}
