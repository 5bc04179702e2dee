//! L023: lint settings that silence nothing because they name no rule. A mistyped code in a
//! `# hapee: allow(…)` comment or in `.hapee.toml` would otherwise leave the user wondering why
//! the warning stays; each gets a "did you mean" where one code or name is close.

use super::config::{allow_lists, may_allow, INLINE_MARK};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::registry::best_match;
use crate::source::{FileId, SourceDb, Span};

/// The code of this rule.
pub const CODE: &str = "L023";

/// The rule a mistyped code or rule name most likely meant, among those a setting may silence:
/// a code written without its zeros (`L2` for `L002`), a code one edit away from exactly one
/// code, or the rule name HAProxy's own "did you mean" would pick.
pub fn suggest(word: &str) -> Option<&'static str> {
    suggest_among(word, may_allow)
}

/// [`suggest`] among every rule (`hapee-lb explain` takes any code).
pub fn suggest_any(word: &str) -> Option<&'static str> {
    suggest_among(word, |_| true)
}

fn suggest_among(word: &str, among: fn(&codes::Rule) -> bool) -> Option<&'static str> {
    let allowable = || codes::RULES.iter().filter(move |r| among(r));
    let upper = word.to_ascii_uppercase();
    let mut chars = upper.chars();
    let letter = chars.next()?;
    let digits = chars.as_str();
    if letter.is_ascii_alphabetic()
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        if let Ok(n) = digits.parse::<u32>() {
            let padded = format!("{letter}{n:03}");
            if let Some(r) = codes::rule(&padded).filter(|r| among(r)) {
                return Some(r.code);
            }
        }
        let mut near = allowable().filter(|r| one_edit_apart(&upper, r.code));
        return match (near.next(), near.next()) {
            (Some(r), None) => Some(r.code),
            _ => None,
        };
    }
    best_match(word, allowable().map(|r| r.name))
}

/// Whether `a` becomes `b` by changing, adding or removing one character (ASCII texts).
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        prefix < short.len() && short[prefix + 1..] == long[prefix + 1..]
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// The finding for a setting `word` (at `span`) that names no rule a setting can silence, or
/// `None` when it names one. `place` says where the setting is written.
pub fn finding(word: &str, span: Span, place: &str) -> Option<Diagnostic> {
    match codes::rule(word) {
        Some(r) if may_allow(r) => None,
        Some(r) => Some(
            Diagnostic::new(
                CODE,
                format!("'{word}' is an error HAProxy makes too: {place} cannot silence it"),
            )
            .at(span)
            .label("an error cannot be allowed")
            .help(format!(
                "fix the configuration instead ('hapee-lb explain {}' says how)",
                r.code
            )),
        ),
        None => {
            let best = suggest(word);
            let d = Diagnostic::new(
                CODE,
                format!("unknown lint code '{word}' in {place}: it silences nothing"),
            )
            .at(span)
            .label("no rule has this code or name");
            let d = match best {
                Some(b) => d.help(format!("did you mean '{b}'?")),
                None => d.help(
                    "codes are a letter and three digits (L001, W100…), or a rule name; \
                     'hapee-lb explain --list' lists them",
                ),
            };
            Some(d.replace_with(span, best))
        }
    }
}

/// The findings for the `# hapee: allow(…)` comments of every file of `db`: each code of a list
/// that names no rule, and each `hapee:` directive other than `allow` written as one
/// (`# hapee: alow(L001)`, `# hapee: ignore(L001)`).
pub fn allow_comment_findings(db: &SourceDb) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (id, f) in db.files() {
        let text = f.text.as_str();
        let mut last_line = None;
        for pos in memchr::memmem::find_iter(text.as_bytes(), INLINE_MARK.as_bytes()) {
            let line = f.line_index(pos);
            if last_line == Some(line) {
                continue;
            }
            last_line = Some(line);
            let range = f.line_range(line);
            // What HAProxy skips (after a lone `\r`) allows nothing, and is not read here.
            let content = crate::lexer::line_content(&text[range.clone()]);
            line_findings(id, range.start, content, &mut out);
        }
    }
    out
}

/// The findings of one line whose text `line` starts at byte `at` of file `id`.
fn line_findings(id: FileId, at: usize, line: &str, out: &mut Vec<Diagnostic>) {
    for (start, list) in allow_lists(line) {
        let mut offset = start;
        for entry in list.split(',') {
            let word = entry.trim();
            if !word.is_empty() {
                let lead = entry.len() - entry.trim_start().len();
                let s = at + offset + lead;
                let span = Span::new(id, s, s + word.len());
                out.extend(finding(word, span, "this allow comment"));
            }
            offset += entry.len() + 1;
        }
    }
    // `hapee: WORD(` with a word other than allow: a directive hapee does not read.
    for (pos, mark) in line.match_indices(INLINE_MARK) {
        let after = &line[pos + mark.len()..];
        let rest = after.trim_start();
        let word_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_len);
        if word.is_empty() || word == "allow" || !tail.trim_start().starts_with('(') {
            continue;
        }
        let s = at + line.len() - rest.len();
        let span = Span::new(id, s, s + word.len());
        let best = best_match(word, ["allow"]);
        let d = Diagnostic::new(
            CODE,
            format!("'hapee: {word}(…)' is not a lint setting: only 'allow(…)' is read"),
        )
        .at(span)
        .label("not read")
        .help("write '# hapee: allow(CODE, …)' to silence lints on this line");
        out.push(d.replace_with(span, best));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<(String, String, Option<String>)> {
        let mut db = SourceDb::new();
        db.add("t.cfg", text);
        allow_comment_findings(&db)
            .into_iter()
            .map(|d| {
                let span = d.span.unwrap();
                let fix = d.fix.map(|f| f.edits[0].replacement.clone());
                (db.text(span).to_string(), d.message.to_string(), fix)
            })
            .collect()
    }

    #[test]
    fn mistyped_codes_and_names_get_a_suggestion() {
        assert_eq!(suggest("L02"), Some("L002"));
        assert_eq!(suggest("l1"), Some("L001"));
        assert_eq!(suggest("unused-backnd"), Some("unused-backend"));
        assert_eq!(suggest("unused_acl"), Some("unused-acl"));
        assert_eq!(suggest("L0222"), Some("L022"));
        // Many codes are one edit from W10: none is guessed.
        assert_eq!(suggest("W10"), None);
        // An error no setting silences is never proposed.
        assert!(suggest("E30").is_none_or(|c| !c.starts_with('E')));
        // Any code, for `explain`.
        assert_eq!(suggest_any("e1"), Some("E001"));
        assert_eq!(suggest_any("unmatched-quotes"), Some("unmatched-quote"));
    }

    #[test]
    fn allow_comments_naming_nothing_are_found() {
        let f = findings(
            "backend b # hapee: allow(L001,  L02, unused-acl)\n\
             frontend f #hapee:allow(W10)\n\
             listen l # hapee: allow(E301) # hapee: alow(L001)\n\
             # hapee: this is not a setting\n",
        );
        let words: Vec<(&str, Option<&str>)> = f
            .iter()
            .map(|(w, _, fix)| (w.as_str(), fix.as_deref()))
            .collect();
        assert_eq!(
            words,
            [
                ("L02", Some("L002")),
                ("W10", None),
                ("E301", None),
                ("alow", Some("allow")),
            ]
        );
        assert!(f[2].1.contains("cannot silence"), "{}", f[2].1);
    }

    #[test]
    fn edits() {
        assert!(one_edit_apart("L02", "L002"));
        assert!(one_edit_apart("L003", "L002"));
        assert!(!one_edit_apart("L002", "L002"));
        assert!(!one_edit_apart("L0", "L002"));
    }
}
