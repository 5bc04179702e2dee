//! The words that follow a keyword with a grammar of its own: a redirect's form, options and
//! code (`redirect prefix https://x code 301 drop-query`, the `redirect` rule action), and an
//! ACL's flags and match method (`acl a path -i -m beg /api`, `if { hdr(host) -i -m end .x }`).
//! Hover and completion read the line through the same scan.

use hapee_compiler::registry::{self, ValueDef};

/// What a word of a redirect or an ACL is, from the words before it.
#[derive(Debug, PartialEq)]
pub(crate) enum Slot<'a> {
    /// A redirect's form or option; `typed` says whether the form is already written.
    RedirectWord { typed: bool },
    /// The value of a redirect word (`code 301`, `location <url>`).
    RedirectValue(&'a str),
    /// An ACL flag (`-i`, `-m`…), before any pattern; a pattern may come here too.
    AclFlag(Acl<'a>),
    /// The value of an ACL flag (`-m beg`, `-f <file>`).
    AclValue(&'a str),
    /// A pattern of an ACL (or an operator before its numbers: `lt 10`).
    AclPattern(Acl<'a>),
}

/// The ACL a word belongs to: its criterion and the method its `-m` gives.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) struct Acl<'a> {
    pub criterion: &'a str,
    pub method: Option<&'a str>,
}

impl Acl<'_> {
    /// Whether its patterns are numbers, which the operators `eq ge gt le lt` may precede.
    fn takes_operators(&self) -> bool {
        hapee_compiler::ir::patterns_take_operators(self.criterion, self.method)
    }
}

/// Where the words of a redirect start: after the `redirect` directive or rule action.
fn redirect_start(words: &[&str]) -> Option<usize> {
    if words.first() == Some(&"redirect") {
        return Some(1);
    }
    let (_, action) = crate::hover::rule_set(words.first()?, words.get(1).unwrap_or(&""))?;
    (words.get(action) == Some(&"redirect")).then_some(action + 1)
}

/// Where the criterion of the ACL holding word `k` is: the third word of an `acl` line, or the
/// first after the `{` that encloses `k` in a condition.
fn acl_criterion(words: &[&str], k: usize) -> Option<usize> {
    if words.first() == Some(&"acl") {
        return Some(2);
    }
    let condition = words
        .iter()
        .take(k)
        .position(|w| matches!(*w, "if" | "unless"))?;
    let open = (condition..k).rev().find(|&j| words[j] == "{")?;
    if words[open..k].contains(&"}") {
        return None;
    }
    Some(open + 1)
}

/// What word `k` of `words` (a line's words; `k` may be one past the last, the word being
/// started) is, when it belongs to a redirect's options or an ACL's flags.
pub(crate) fn slot<'a>(words: &[&'a str], k: usize) -> Option<Slot<'a>> {
    if let Some(start) = redirect_start(words).filter(|&s| s <= k) {
        let mut typed = false;
        let mut j = start;
        while j < k {
            let w = words[j];
            if matches!(w, "if" | "unless") {
                return acl_slot(words, k);
            }
            let form = registry::REDIRECT_TYPES.iter().any(|t| t.name == w);
            typed |= form;
            if form || matches!(w, "code" | "set-cookie" | "clear-cookie") {
                if j + 1 == k {
                    return Some(Slot::RedirectValue(w));
                }
                j += 2;
            } else {
                j += 1;
            }
        }
        if j == k {
            return Some(Slot::RedirectWord { typed });
        }
        return None;
    }
    acl_slot(words, k)
}

fn acl_slot<'a>(words: &[&'a str], k: usize) -> Option<Slot<'a>> {
    let criterion = acl_criterion(words, k)?;
    let mut acl = Acl {
        criterion: words.get(criterion)?,
        method: None,
    };
    let mut j = criterion + 1;
    while j < k {
        let w = words[j];
        if w == "--" || !w.starts_with('-') {
            // Patterns from here on.
            return Some(Slot::AclPattern(acl));
        }
        if registry::ACL_FLAGS_WITH_VALUE.contains(&w) {
            if j + 1 == k {
                return Some(Slot::AclValue(w));
            }
            if w == "-m" {
                acl.method = Some(words[j + 1]);
            }
            j += 2;
        } else {
            j += 1;
        }
    }
    (j == k && k > criterion).then_some(Slot::AclFlag(acl))
}

fn find(table: &'static [ValueDef], name: &str) -> Option<&'static ValueDef> {
    table.iter().find(|v| v.name == name)
}

/// The hover text of word `k` of `words`, when it is a redirect's or an ACL's word.
pub(crate) fn doc(words: &[&str], k: usize) -> Option<String> {
    let w = *words.get(k)?;
    match slot(words, k)? {
        Slot::RedirectWord { .. } => {
            let (v, what) = find(registry::REDIRECT_TYPES, w)
                .map(|v| (v, "redirect form"))
                .or_else(|| find(registry::REDIRECT_OPTIONS, w).map(|v| (v, "redirect option")))?;
            Some(format!("**{}** ({what}) — {}", v.name, v.doc))
        }
        Slot::RedirectValue("code") => find(registry::REDIRECT_CODES, w)
            .map(|v| format!("**code {}** (redirect status) — {}", v.name, v.doc)),
        Slot::RedirectValue(_) => None,
        Slot::AclFlag(acl) => find(registry::ACL_FLAGS, w)
            .map(|v| format!("**{}** (ACL flag) — {}", v.name, v.doc))
            .or_else(|| operator_doc(acl, w)),
        Slot::AclPattern(acl) => operator_doc(acl, w),
        Slot::AclValue("-m") => find(registry::MATCH_METHODS, w)
            .map(|v| format!("**-m {}** (match method) — {}", v.name, v.doc)),
        Slot::AclValue(_) => None,
    }
}

/// The doc of `w` when it is an operator of the numbers of `acl`.
fn operator_doc(acl: Acl, w: &str) -> Option<String> {
    find(operators(acl), w).map(|v| format!("**{}** (integer operator) — {}", v.name, v.doc))
}

/// The operators an ACL's patterns may hold: none unless they are numbers.
fn operators(acl: Acl) -> &'static [ValueDef] {
    if acl.takes_operators() {
        registry::ACL_INT_OPERATORS
    } else {
        &[]
    }
}

/// What may be written as word `k` (one past the words before the cursor, or the word being
/// typed), as (label, doc) pairs; `None` when `k` is not a redirect's or an ACL's word.
pub(crate) fn choices(words: &[&str], k: usize) -> Option<Vec<&'static ValueDef>> {
    Some(match slot(words, k)? {
        Slot::RedirectWord { typed: false } => registry::REDIRECT_TYPES.iter().collect(),
        Slot::RedirectWord { typed: true } => registry::REDIRECT_OPTIONS
            .iter()
            .filter(|o| !words[..k].contains(&o.name))
            .collect(),
        Slot::RedirectValue("code") => registry::REDIRECT_CODES.iter().collect(),
        Slot::AclFlag(acl) => {
            let operators = operators(acl).iter();
            registry::ACL_FLAGS.iter().chain(operators).collect()
        }
        Slot::AclPattern(acl) => operators(acl).iter().collect(),
        Slot::AclValue("-m") => registry::MATCH_METHODS.iter().collect(),
        Slot::RedirectValue(_) | Slot::AclValue(_) => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<&str> {
        line.split_whitespace().collect()
    }

    #[test]
    fn redirect_words() {
        let w = words("redirect prefix https://x code 301 drop-query if { path -i /a }");
        assert_eq!(slot(&w, 1), Some(Slot::RedirectWord { typed: false }));
        assert_eq!(slot(&w, 2), Some(Slot::RedirectValue("prefix")));
        assert_eq!(slot(&w, 3), Some(Slot::RedirectWord { typed: true }));
        assert_eq!(slot(&w, 4), Some(Slot::RedirectValue("code")));
        assert_eq!(slot(&w, 5), Some(Slot::RedirectWord { typed: true }));
        assert!(matches!(slot(&w, 9), Some(Slot::AclFlag(_))));
        assert!(matches!(slot(&w, 11), Some(Slot::AclPattern(_))));
        let w = words("http-request redirect scheme https code 308 if !{ ssl_fc }");
        assert_eq!(slot(&w, 2), Some(Slot::RedirectWord { typed: false }));
        assert!(doc(&w, 5).unwrap().contains("**code 308**"));
        assert_eq!(slot(&words("http-request deny"), 2), None);
    }

    #[test]
    fn acl_flags_until_the_first_pattern() {
        let w = words("acl api path -i -m beg -f /etc/x.lst /api -i");
        assert_eq!(slot(&w, 2), None);
        assert!(matches!(slot(&w, 3), Some(Slot::AclFlag(_))));
        assert_eq!(slot(&w, 5), Some(Slot::AclValue("-m")));
        assert_eq!(slot(&w, 7), Some(Slot::AclValue("-f")));
        assert!(matches!(slot(&w, 9), Some(Slot::AclPattern(_))));
        assert!(matches!(slot(&w, 10), Some(Slot::AclPattern(_))));
        assert!(doc(&w, 5).unwrap().contains("**-m beg**"));
        let w = words("use_backend b if { hdr(host) -m end } { path -- -x }");
        assert!(matches!(slot(&w, 5), Some(Slot::AclFlag(_))));
        assert_eq!(slot(&w, 6), Some(Slot::AclValue("-m")));
        assert_eq!(slot(&w, 8), None);
        assert!(matches!(slot(&w, 10), Some(Slot::AclFlag(_))));
        assert!(matches!(slot(&w, 11), Some(Slot::AclPattern(_))));
    }

    #[test]
    fn integer_operators_only_before_numbers() {
        let w = words("acl small req.len lt 10 ge 2");
        assert!(doc(&w, 3).unwrap().contains("**lt** (integer operator)"));
        assert!(doc(&w, 5).unwrap().contains("**ge** (integer operator)"));
        assert_eq!(doc(&w, 4), None);
        // A string match takes no operator: `lt` is a pattern there.
        assert_eq!(doc(&words("acl a path lt"), 3), None);
        assert_eq!(
            doc(&words("acl a path -m int lt 3"), 5),
            Some(doc(&w, 3).unwrap())
        );
        assert_eq!(doc(&words("acl a req.len -m str lt"), 5), None);
        let w = words("use_backend b if { req.ssl_ver ge 3.1 } { hdr(x) -m len gt 3 }");
        assert!(doc(&w, 5).unwrap().contains("**ge**"));
        assert!(doc(&w, 12).unwrap().contains("**gt**"));
        let labels = |w: &[&str], k| -> Vec<&str> {
            choices(w, k).unwrap().iter().map(|v| v.name).collect()
        };
        let w = words("acl small req.len");
        assert!(labels(&w, 3).contains(&"-m") && labels(&w, 3).contains(&"lt"));
        assert_eq!(
            labels(&words("acl small req.len 10"), 4),
            ["eq", "ge", "gt", "le", "lt"]
        );
        assert!(!labels(&words("acl a path"), 3).contains(&"lt"));
        assert!(labels(&words("acl a path /x"), 4).is_empty());
    }
}
