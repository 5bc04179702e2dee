//! Variable names as HAProxy 2.7 reads them where it registers one: a scope (`proc`, `sess`,
//! `txn`, `req`, `res`, `check`), a dot, then at least one letter, digit, '_' or '.'. The
//! `set-var`/`set-var-fmt`/`unset-var` actions, the `var` fetch and the converters that take a
//! variable all refuse a name that is not of that form, with the texts below.

const SCOPES: [&str; 6] = ["proc.", "sess.", "txn.", "req.", "res.", "check."];

/// The conditions a `set-var` action or converter may put after the name.
const CONDITIONS: [&str; 8] = [
    "ifexists",
    "ifnotexists",
    "ifempty",
    "ifnotempty",
    "ifset",
    "ifnotset",
    "ifgt",
    "iflt",
];

/// Why `name` is not a variable name, or `None`. `tail` is the text from the name's first
/// character to the end of the word holding it: a syntax error quotes it from the bad
/// character on (for an action, the closing parenthesis and conditions come with it).
pub fn name_error(name: &str, tail: &str) -> Option<String> {
    if name.is_empty() {
        return Some("Empty variable name cannot be accepted".into());
    }
    let Some(rest) = SCOPES
        .iter()
        .find_map(|s| name.strip_prefix(s).filter(|r| !r.is_empty()))
    else {
        return Some(format!(
            "invalid variable name '{name}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        ));
    };
    let bad = rest
        .bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.'))?;
    let at = name.len() - rest.len() + bad;
    let quoted = tail.as_bytes().get(at..).unwrap_or_default();
    Some(format!(
        "invalid syntax at char '{}'",
        String::from_utf8_lossy(quoted)
    ))
}

/// Why `condition` is not one `set-var` knows, or `None`.
pub fn condition_error(condition: &str) -> Option<String> {
    (!CONDITIONS.contains(&condition)).then(|| format!("unknown condition \"{condition}\""))
}

/// What HAProxy says of the name and conditions of a `set-var(…)`, `set-var-fmt(…)` or
/// `unset-var(…)` action word, or `None` when it takes them.
pub fn action_error(word: &str) -> Option<String> {
    let (keyword, after) = ["set-var-fmt", "set-var", "unset-var"]
        .iter()
        .find_map(|k| Some((*k, word.strip_prefix(k)?)))?;
    let expects =
        "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'";
    let Some(inside) = after.strip_prefix('(') else {
        return Some(format!("invalid or incomplete action '{word}'. {expects}"));
    };
    let Some(inner) = inside.strip_suffix(')') else {
        return Some(format!(
            "incomplete argument after action '{word}'. {expects}"
        ));
    };
    let mut parts = inner.split(',');
    let name = parts.next().unwrap_or_default();
    let mut conditions = parts.peekable();
    if keyword == "unset-var" && conditions.peek().is_some_and(|c| !c.is_empty()) {
        return Some("unset-var does not expect parameters after the variable name. Only \"set-var\" and \"set-var-fmt\" manage conditions".into());
    }
    // HAProxy stops reading conditions at an empty one.
    conditions
        .take_while(|c| !c.is_empty())
        .find_map(condition_error)
        .or_else(|| name_error(name, inside))
}

/// The checks HAProxy runs on the arguments of the fetches and converters that take a
/// variable name, once the list is read (`val_args`): the message after
/// `invalid args in fetch method '…' :` or `invalid args in converter '…' :`.
pub fn sample_args_error(keyword: &str, converter: bool, args: &[&str]) -> Option<String> {
    let arg = |i: usize| args.get(i).copied().unwrap_or_default();
    let unregistered = |a: &str| format!("failed to register variable name '{a}'");
    match (converter, keyword) {
        (false, "var") | (true, "unset-var") => name_error(arg(0), arg(0)),
        // Every argument given after the name is a condition, an empty one too.
        (true, "set-var") => name_error(arg(0), arg(0))
            .or_else(|| args.iter().skip(1).find_map(|c| condition_error(c))),
        (true, "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor") => {
            let a = arg(0);
            let digits = a.strip_prefix(['-', '+']).unwrap_or(a);
            let integer = digits.bytes().all(|c| c.is_ascii_digit());
            (name_error(a, a).is_some() && !integer)
                .then(|| "expects an integer or a variable name".to_string())
        }
        (true, "strcmp" | "secure_memcmp") if arg(0).is_empty() => {
            Some("missing variable name".into())
        }
        (true, "strcmp" | "secure_memcmp") => {
            name_error(arg(0), arg(0)).map(|_| unregistered(arg(0)))
        }
        (true, "concat" | "add_item")
            if !arg(1).is_empty() && name_error(arg(1), arg(1)).is_some() =>
        {
            Some(unregistered(arg(1)))
        }
        (true, "add_item") if arg(1).is_empty() && arg(2).is_empty() => {
            Some("one of the optional arguments has to be nonempty".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_as_haproxy_reads_them() {
        assert_eq!(name_error("txn.a.b_c9", "txn.a.b_c9"), None);
        assert!(name_error("txt.a", "txt.a").unwrap().starts_with(
            "invalid variable name 'txt.a'. A variable name must be start by its scope."
        ));
        // A scope alone names nothing.
        assert!(name_error("txn.", "txn.")
            .unwrap()
            .starts_with("invalid variable name 'txn.'"));
        assert_eq!(
            name_error("txn.a-b", "txn.a-b,ifexists)").as_deref(),
            Some("invalid syntax at char '-b,ifexists)'")
        );
        assert_eq!(
            name_error("", "").as_deref(),
            Some("Empty variable name cannot be accepted")
        );
        // Bytes past ASCII are bad characters, quoted whole.
        assert_eq!(
            name_error("txn.é", "txn.é").as_deref(),
            Some("invalid syntax at char 'é'")
        );
    }

    #[test]
    fn action_words() {
        assert_eq!(action_error("set-var(txn.a,ifexists,ifgt)"), None);
        assert_eq!(action_error("unset-var(req.x)"), None);
        assert_eq!(
            action_error("set-var(txn.a,ifbogus)").as_deref(),
            Some("unknown condition \"ifbogus\"")
        );
        assert!(action_error("unset-var(txn.a,ifexists)")
            .unwrap()
            .starts_with("unset-var does not expect parameters"));
        assert!(action_error("set-var(txn.a")
            .unwrap()
            .starts_with("incomplete argument after action 'set-var(txn.a'."));
        assert!(action_error("set-var-fmt(x)")
            .unwrap()
            .starts_with("invalid variable name 'x'"));
    }

    #[test]
    fn sample_arguments() {
        assert_eq!(sample_args_error("add", true, &["-12"]), None);
        assert_eq!(sample_args_error("add", true, &["txn.n"]), None);
        assert_eq!(
            sample_args_error("add", true, &["txt.n"]).as_deref(),
            Some("expects an integer or a variable name")
        );
        assert_eq!(
            sample_args_error("strcmp", true, &["abc"]).as_deref(),
            Some("failed to register variable name 'abc'")
        );
        assert_eq!(sample_args_error("concat", true, &[",", "", ","]), None);
        assert_eq!(
            sample_args_error("set-var", true, &["txn.b", ""]).as_deref(),
            Some("unknown condition \"\"")
        );
        assert!(sample_args_error("var", false, &["sess"]).is_some());
    }
}
