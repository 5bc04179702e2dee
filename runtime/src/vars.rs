//! Variables: `set-var`, `set-var-fmt` (with their conditions) and `unset-var`, as HAProxy
//! sets them. A variable is kept with its transaction under its full name (`txn.x`).

use crate::logfmt::Format;
use crate::sample::{Expr, Unsupported, Value};
use crate::txn::Txn;

/// The conditions of `set-var(<name>,<cond>…)`: the value is stored only when they all hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Conditions {
    if_exists: bool,
    if_not_exists: bool,
    if_empty: bool,
    if_not_empty: bool,
    if_set: bool,
    if_not_set: bool,
    if_gt: bool,
    if_lt: bool,
}

impl Conditions {
    fn parse(words: &[&str]) -> Result<Conditions, Unsupported> {
        let mut c = Conditions::default();
        for w in words {
            let flag = match *w {
                "ifexists" => &mut c.if_exists,
                "ifnotexists" => &mut c.if_not_exists,
                "ifempty" => &mut c.if_empty,
                "ifnotempty" => &mut c.if_not_empty,
                "ifset" => &mut c.if_set,
                "ifnotset" => &mut c.if_not_set,
                "ifgt" => &mut c.if_gt,
                "iflt" => &mut c.if_lt,
                other => return Err(Unsupported(format!("set-var condition '{other}'"))),
            };
            *flag = true;
        }
        Ok(c)
    }

    /// Whether `new` may replace `old` (`None`: the variable does not exist). A variable
    /// exists only while it has a value, so "set" and "exists" mean the same here.
    fn allow(&self, old: Option<&Value>, new: &Value) -> bool {
        let exists = old.is_some();
        if (self.if_exists || self.if_set) && !exists
            || (self.if_not_exists || self.if_not_set) && exists
        {
            return false;
        }
        let empty = match new {
            Value::Str(s) => Some(s.is_empty()),
            Value::Bin(b) => Some(b.is_empty()),
            _ => None,
        };
        // A scalar is never empty.
        if self.if_empty && empty != Some(true) || self.if_not_empty && empty == Some(true) {
            return false;
        }
        if let (Some(Value::Int(old)), Value::Int(new)) = (old, new) {
            if self.if_gt && old <= new || self.if_lt && old >= new {
                return false;
            }
        }
        true
    }
}

/// What a `set-var` stores: a sample expression's value, or a log-format string's text.
#[derive(Debug)]
enum Source {
    Expr(Expr),
    Format(Format),
}

/// A compiled `set-var(<name>[,<cond>…]) <expr>` or `set-var-fmt(<name>[,<cond>…]) <fmt>`.
#[derive(Debug)]
pub struct SetVar {
    name: String,
    conditions: Conditions,
    source: Source,
}

/// The name and conditions inside an action's parentheses.
fn inside(action: &str) -> Result<(String, Vec<&str>), Unsupported> {
    let inner = action
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .ok_or_else(|| Unsupported(format!("action '{action}'")))?;
    let mut parts = inner.split(',').map(str::trim);
    let name = parts.next().unwrap_or("").to_string();
    Ok((name, parts.collect()))
}

impl SetVar {
    /// From the action word (`set-var(txn.x,ifnotset)`) and its arguments.
    pub fn compile(action: &str, args: &[String]) -> Result<SetVar, Unsupported> {
        let (name, conditions) = inside(action)?;
        let text = args.join(" ");
        let source = if action.starts_with("set-var-fmt(") {
            Source::Format(Format::parse(&text)?)
        } else {
            Source::Expr(Expr::parse(&text)?)
        };
        Ok(SetVar {
            name,
            conditions: Conditions::parse(&conditions)?,
            source,
        })
    }

    /// Stores the value when there is one and the conditions allow it.
    pub fn run(&self, txn: &mut Txn) {
        let value = match &self.source {
            Source::Expr(e) => e.eval(txn),
            Source::Format(f) => Some(Value::Str(f.render(txn))),
        };
        let Some(value) = value else { return };
        if self.conditions.allow(txn.vars.get(&self.name), &value) {
            txn.vars.insert(self.name.clone(), value);
        }
    }
}

/// The variable name of `unset-var(<name>)`.
pub fn unset_name(action: &str) -> Result<String, Unsupported> {
    Ok(inside(action)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(conds: &[&str], old: Option<Value>, new: Value) -> bool {
        Conditions::parse(conds).unwrap().allow(old.as_ref(), &new)
    }

    #[test]
    fn conditions_follow_haproxy() {
        let s = |t: &str| Value::Str(t.into());
        assert!(allows(&["ifnotexists"], None, s("a")));
        assert!(!allows(&["ifnotexists"], Some(s("x")), s("a")));
        assert!(!allows(&["ifexists"], None, s("a")));
        assert!(allows(&["ifempty"], None, s("")));
        assert!(!allows(&["ifempty"], None, Value::Int(0)));
        assert!(!allows(&["ifnotempty"], None, s("")));
        assert!(allows(&["ifgt"], Some(Value::Int(5)), Value::Int(3)));
        assert!(!allows(&["ifgt"], Some(Value::Int(5)), Value::Int(7)));
        assert!(allows(&["iflt"], Some(Value::Int(5)), Value::Int(7)));
        // Compared only when both are integers.
        assert!(allows(&["iflt"], Some(s("x")), Value::Int(7)));
        assert!(Conditions::parse(&["ifwhatever"]).is_err());
    }
}
