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
    /// An ACL flag (`-i`, `-m`…), before any pattern.
    AclFlag,
    /// The value of an ACL flag (`-m beg`, `-f <file>`).
    AclValue(&'a str),
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
    let mut j = criterion + 1;
    while j < k {
        let w = words[j];
        if w == "--" || !w.starts_with('-') {
            // Patterns from here on.
            return None;
        }
        if registry::ACL_FLAGS_WITH_VALUE.contains(&w) {
            if j + 1 == k {
                return Some(Slot::AclValue(w));
            }
            j += 2;
        } else {
            j += 1;
        }
    }
    (j == k && k > criterion).then_some(Slot::AclFlag)
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
        Slot::AclFlag => {
            find(registry::ACL_FLAGS, w).map(|v| format!("**{}** (ACL flag) — {}", v.name, v.doc))
        }
        Slot::AclValue("-m") => find(registry::MATCH_METHODS, w)
            .map(|v| format!("**-m {}** (match method) — {}", v.name, v.doc)),
        Slot::AclValue(_) => None,
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
        Slot::AclFlag => registry::ACL_FLAGS.iter().collect(),
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
        assert_eq!(slot(&w, 9), Some(Slot::AclFlag));
        assert_eq!(slot(&w, 11), None);
        let w = words("http-request redirect scheme https code 308 if !{ ssl_fc }");
        assert_eq!(slot(&w, 2), Some(Slot::RedirectWord { typed: false }));
        assert!(doc(&w, 5).unwrap().contains("**code 308**"));
        assert_eq!(slot(&words("http-request deny"), 2), None);
    }

    #[test]
    fn acl_flags_until_the_first_pattern() {
        let w = words("acl api path -i -m beg -f /etc/x.lst /api -i");
        assert_eq!(slot(&w, 2), None);
        assert_eq!(slot(&w, 3), Some(Slot::AclFlag));
        assert_eq!(slot(&w, 5), Some(Slot::AclValue("-m")));
        assert_eq!(slot(&w, 7), Some(Slot::AclValue("-f")));
        assert_eq!(slot(&w, 9), None);
        assert_eq!(slot(&w, 10), None);
        assert!(doc(&w, 5).unwrap().contains("**-m beg**"));
        let w = words("use_backend b if { hdr(host) -m end } { path -- -x }");
        assert_eq!(slot(&w, 5), Some(Slot::AclFlag));
        assert_eq!(slot(&w, 6), Some(Slot::AclValue("-m")));
        assert_eq!(slot(&w, 8), None);
        assert_eq!(slot(&w, 10), Some(Slot::AclFlag));
        assert_eq!(slot(&w, 11), None);
    }
}
