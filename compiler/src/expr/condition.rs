//! `if`/`unless` conditions over the lexer's words, parsed with a lalrpop grammar.

use crate::syntax::Word;
use serde::Serialize;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused)]
    grammar,
    "/expr/condition.rs"
);

/// Tokens of the condition grammar; every word of the line is one token (a leading `!` is split).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    If,
    Unless,
    Not,
    Or,
    Open,
    Close,
    Word,
}

/// One term: a named ACL or an anonymous one, possibly negated. Indices point into the
/// condition's token list; [`Condition`] turns them back into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    Acl {
        word: usize,
        negated: bool,
    },
    /// `{ criterion flags patterns }`: token range of the inside.
    Anonymous {
        open: usize,
        words: (usize, usize),
        negated: bool,
    },
}

impl Term {
    pub fn negate(self) -> Term {
        match self {
            Term::Acl { word, negated } => Term::Acl {
                word,
                negated: !negated,
            },
            Term::Anonymous {
                open,
                words,
                negated,
            } => Term::Anonymous {
                open,
                words,
                negated: !negated,
            },
        }
    }
}

/// A reference to an ACL by name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AclUse {
    /// Held inline up to 24 bytes, as most names are: no allocation per use.
    pub name: compact_str::CompactString,
    pub negated: bool,
    pub span: crate::source::Span,
}

/// An inline `{ … }` ACL.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnonymousAcl {
    pub words: Vec<Word>,
    pub negated: bool,
    pub span: crate::source::Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum CondTerm {
    Named(AclUse),
    Anonymous(AnonymousAcl),
}

/// `if`/`unless` and the alternatives (OR) of terms (AND).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Condition {
    pub unless: bool,
    pub alternatives: Vec<Vec<CondTerm>>,
}

impl Condition {
    /// Every named ACL the condition uses.
    pub fn acl_uses(&self) -> impl Iterator<Item = &AclUse> {
        self.alternatives.iter().flatten().filter_map(|t| match t {
            CondTerm::Named(u) => Some(u),
            CondTerm::Anonymous(_) => None,
        })
    }

    pub fn anonymous(&self) -> impl Iterator<Item = &AnonymousAcl> {
        self.alternatives.iter().flatten().filter_map(|t| match t {
            CondTerm::Anonymous(a) => Some(a),
            CondTerm::Named(_) => None,
        })
    }

    /// True when the condition is absent-equivalent: always matches (`if TRUE`).
    pub fn is_trivially_true(&self) -> bool {
        !self.unless
            && self.alternatives.iter().any(|a| {
                a.iter()
                    .all(|t| matches!(t, CondTerm::Named(u) if u.name == "TRUE" && !u.negated))
            })
    }
}

/// Splits words into tokens: a word starting with `!` yields `!` then the rest.
fn tokenize<'a>(words: &[(crate::source::Span, &'a str)]) -> Vec<(Tok, Tokw<'a>)> {
    let mut out = Vec::with_capacity(words.len() + 2);
    for &(span, value) in words {
        let mut value = value;
        let mut span = span;
        while let Some(rest) = value.strip_prefix('!').filter(|_| value.len() > 1) {
            let bang = crate::source::Span {
                end: span.start + 1,
                ..span
            };
            out.push((
                Tok::Not,
                Tokw {
                    span: bang,
                    value: "!",
                },
            ));
            value = rest;
            span.start += 1;
        }
        let tok = match value {
            "if" => Tok::If,
            "unless" => Tok::Unless,
            "!" => Tok::Not,
            // HAProxy compares "or" without case.
            v if v == "||" || v.eq_ignore_ascii_case("or") => Tok::Or,
            "{" => Tok::Open,
            "}" => Tok::Close,
            _ => Tok::Word,
        };
        out.push((tok, Tokw { span, value }));
    }
    out
}

/// Drops what HAProxy reads past without a word: a `!` that no ACL follows (its negation
/// ends at an `||` and at the end), and an `||` that starts or ends the condition or follows
/// another one.
fn lenient(toks: Vec<(Tok, Tokw<'_>)>) -> Vec<(Tok, Tokw<'_>)> {
    // Most conditions have neither (`if host_0`): kept as they are, with no second list.
    if !toks.iter().any(|(t, _)| matches!(t, Tok::Not | Tok::Or)) {
        return toks;
    }
    let term_follows = |i: usize| {
        toks[i + 1..]
            .iter()
            .find(|(t, _)| *t != Tok::Not)
            .is_some_and(|(t, _)| matches!(t, Tok::Word | Tok::Open | Tok::Close))
    };
    let mut out: Vec<(Tok, Tokw)> = Vec::with_capacity(toks.len());
    for (i, &(tok, w)) in toks.iter().enumerate() {
        let keep = match tok {
            Tok::Not => term_follows(i),
            Tok::Or => {
                !matches!(
                    out.last(),
                    None | Some((Tok::If | Tok::Unless | Tok::Or, _))
                ) && term_follows(i)
            }
            _ => true,
        };
        if keep {
            out.push((tok, w));
        }
    }
    out
}

/// A token's text and place, borrowed from the words.
#[derive(Clone, Copy)]
struct Tokw<'a> {
    span: crate::source::Span,
    value: &'a str,
}

/// A condition error and the word it points at.
#[derive(Clone, Debug, PartialEq)]
pub struct CondError {
    pub message: String,
    pub span: crate::source::Span,
}

/// Parses `words` (starting with `if` or `unless`).
pub fn parse(words: &[Word]) -> Result<Condition, CondError> {
    let parts: Vec<(crate::source::Span, &str)> =
        words.iter().map(|w| (w.span, w.value.as_str())).collect();
    parse_parts(&parts)
}

/// [`parse`] over borrowed `(span, text)` pairs, so callers need not build [`Word`]s.
pub fn parse_parts(words: &[(crate::source::Span, &str)]) -> Result<Condition, CondError> {
    // HAProxy's word list ends at the first empty word (`""`, or a quoted variable that is not
    // set): the condition stops there, and a `{` before it is left open.
    let words = &words[..words
        .iter()
        .position(|w| w.1.is_empty())
        .unwrap_or(words.len())];
    let toks = lenient(tokenize(words));
    let last_span = words.last().map(|w| w.0).unwrap_or_default();
    // Valid conditions take the direct way; anything it does not accept (every error among
    // them) goes to the grammar, which words the error. Nothing after the keyword is a
    // condition without terms.
    let parsed = match (parse_direct(&toks), &toks[..]) {
        (Some(parsed), _) => parsed,
        (None, [(Tok::If | Tok::Unless, _)]) => (toks[0].0 == Tok::Unless, Vec::new()),
        (None, _) => parse_grammar(&toks, last_span)?,
    };
    Ok(build(&toks, last_span, parsed))
}

/// The grammar's reading of `toks` (condition.lalrpop), with HAProxy's wording of errors.
fn parse_grammar(
    toks: &[(Tok, Tokw)],
    last_span: crate::source::Span,
) -> Result<(bool, Vec<Vec<Term>>), CondError> {
    let span_at = |i: usize| toks.get(i).map_or(last_span, |(_, w)| w.span);
    let stream = toks
        .iter()
        .enumerate()
        .map(|(i, (t, _))| Ok::<_, String>((i, *t, i + 1)));
    grammar::ConditionParser::new().parse(stream).map_err(|e| {
        use lalrpop_util::ParseError;
        let (message, at) = match e {
            ParseError::UnrecognizedEof { .. } => {
                let open = toks.iter().filter(|(t, _)| *t == Tok::Open).count()
                    > toks.iter().filter(|(t, _)| *t == Tok::Close).count();
                (
                    if open {
                        "missing closing '}' in condition".to_string()
                    } else {
                        "missing ACL name in condition".to_string()
                    },
                    toks.len(),
                )
            }
            ParseError::UnrecognizedToken {
                token: (i, _, _), ..
            }
            | ParseError::ExtraToken { token: (i, _, _) } => {
                let w = toks.get(i).map_or("", |(_, w)| w.value);
                (format!("unexpected '{w}' in condition"), i)
            }
            ParseError::InvalidToken { location } => {
                ("invalid token in condition".to_string(), location)
            }
            ParseError::User { error } => (error, 0),
        };
        CondError {
            message,
            span: span_at(at.min(toks.len().saturating_sub(1))),
        }
    })
}

/// The same reading as the grammar for a condition the grammar accepts, written out by hand
/// (the LALR tables cost several times more per token): `if`/`unless`, then alternatives
/// separated by `||`, each one or more terms, a term being `!` before a term, a word, or
/// `{` words `}`. `None` for anything else, which the grammar then reads and reports.
fn parse_direct(toks: &[(Tok, Tokw)]) -> Option<(bool, Vec<Vec<Term>>)> {
    let unless = match toks.first()?.0 {
        Tok::If => false,
        Tok::Unless => true,
        _ => return None,
    };
    let mut at = 1;
    let mut alternatives = Vec::with_capacity(1);
    loop {
        let mut terms = Vec::with_capacity(1);
        while let Some(term) = direct_term(toks, &mut at) {
            terms.push(term);
        }
        if terms.is_empty() {
            return None;
        }
        alternatives.push(terms);
        match toks.get(at) {
            None => return Some((unless, alternatives)),
            Some((Tok::Or, _)) => at += 1,
            Some(_) => return None,
        }
    }
}

/// One term at `*at` (moved past it), or `None` (and `*at` unchanged) when none starts there.
fn direct_term(toks: &[(Tok, Tokw)], at: &mut usize) -> Option<Term> {
    let start = *at;
    let mut negations = 0;
    let mut i = start;
    while toks.get(i)?.0 == Tok::Not {
        negations += 1;
        i += 1;
    }
    let term = match toks[i].0 {
        Tok::Word => {
            i += 1;
            Term::Acl {
                word: i - 1,
                negated: false,
            }
        }
        Tok::Open => {
            let first = i + 1;
            let mut end = first;
            while toks
                .get(end)
                .is_some_and(|(t, _)| !matches!(t, Tok::Open | Tok::Close))
            {
                end += 1;
            }
            if end == first || toks.get(end)?.0 != Tok::Close {
                return None;
            }
            i = end + 1;
            Term::Anonymous {
                open: first - 1,
                words: (first, end),
                negated: false,
            }
        }
        _ => return None,
    };
    *at = i;
    Some(if negations % 2 == 1 {
        term.negate()
    } else {
        term
    })
}

/// The condition of a parse, its terms' words taken from the tokens.
fn build(
    toks: &[(Tok, Tokw)],
    last_span: crate::source::Span,
    (unless, alts): (bool, Vec<Vec<Term>>),
) -> Condition {
    let alternatives = alts
        .into_iter()
        .map(|terms| {
            terms
                .into_iter()
                .map(|t| match t {
                    Term::Acl { word, negated } => {
                        let w = &toks[word].1;
                        CondTerm::Named(AclUse {
                            name: w.value.into(),
                            negated,
                            span: w.span,
                        })
                    }
                    Term::Anonymous {
                        open,
                        words: (a, b),
                        negated,
                    } => {
                        let inner: Vec<Word> = toks[a..b]
                            .iter()
                            .map(|(_, w)| Word {
                                span: w.span,
                                value: w.value.into(),
                            })
                            .collect();
                        let span = toks[open]
                            .1
                            .span
                            .cover(toks.get(b).map_or(last_span, |(_, w)| w.span));
                        CondTerm::Anonymous(AnonymousAcl {
                            words: inner,
                            negated,
                            span,
                        })
                    }
                })
                .collect()
        })
        .collect();
    Condition {
        unless,
        alternatives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn words(s: &str) -> Vec<Word> {
        let mut at = 0;
        s.split(' ')
            .map(|w| {
                let span = Span::new(FileId(0), at, at + w.len());
                at += w.len() + 1;
                Word {
                    span,
                    value: w.into(),
                }
            })
            .collect()
    }

    #[test]
    fn parses_and_or_not_and_anonymous() {
        let c = parse(&words("if a !b || { path_beg /api } c or d")).unwrap();
        assert!(!c.unless);
        assert_eq!(c.alternatives.len(), 3);
        let names: Vec<(&str, bool)> = c.acl_uses().map(|u| (u.name.as_str(), u.negated)).collect();
        assert_eq!(
            names,
            [("a", false), ("b", true), ("c", false), ("d", false)]
        );
        assert_eq!(c.anonymous().next().unwrap().words.len(), 2);
        assert!(parse(&words("unless ! ! x")).unwrap().unless);
        assert_eq!(
            parse(&words("if a OR b Or c")).unwrap().alternatives.len(),
            3
        );
    }

    /// The direct reading and the grammar's agree on every condition the grammar accepts, and
    /// the direct one leaves every condition the grammar refuses to it.
    #[test]
    fn direct_reading_is_the_grammars() {
        let cases = [
            "if a",
            "unless a",
            "if a b c",
            "if !a",
            "if ! ! a",
            "if !!a",
            "if a || b or c OR d",
            "if { hdr(host) -i x }",
            "if !{ path_beg /api } b || ! { src -f ! } c",
            "if { a || if unless ! }",
            "if",
            "unless",
            "a",
            "if a ||",
            "if || a",
            "if a || || b",
            "if { }",
            "if { a",
            "if a }",
            "if { { a } }",
            "if a !",
            "if a if",
            "if a unless b",
            "if { a } }",
            "if !",
        ];
        for case in cases {
            let w = words(case);
            let parts: Vec<(Span, &str)> = w.iter().map(|w| (w.span, w.value.as_str())).collect();
            let toks = tokenize(&parts);
            let grammar = parse_grammar(&toks, Span::default()).ok();
            assert_eq!(parse_direct(&toks), grammar, "{case}");
        }
    }

    #[test]
    fn reports_errors() {
        assert_eq!(
            parse(&words("if { path_beg /x")).unwrap_err().message,
            "missing closing '}' in condition"
        );
        // An empty word (two spaces here) ends the condition, leaving the brace open.
        assert_eq!(
            parse(&words("if { hdr(x) -m str  }")).unwrap_err().message,
            "missing closing '}' in condition"
        );
    }

    #[test]
    fn reads_past_what_haproxy_reads_past() {
        // No term at all, a `!` without an ACL, `||` at either end or twice.
        for (case, terms) in [
            ("if", vec![]),
            ("unless !", vec![]),
            ("if a ||", vec![1]),
            ("if || a || || b !", vec![1, 1]),
            ("if ! || a", vec![1]),
        ] {
            let c = parse(&words(case)).unwrap_or_else(|e| panic!("{case}: {e:?}"));
            let got: Vec<usize> = c.alternatives.iter().map(Vec::len).collect();
            assert_eq!(got, terms, "{case}");
        }
    }
}
