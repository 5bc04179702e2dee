//! Variables: `set-var`, `set-var-fmt` (with their conditions), `unset-var` and the
//! `set-var` converter, as HAProxy sets them. A variable is kept with its transaction under
//! its full name (`txn.x`), except the process-wide ones (`proc.x`), which every stream shares
//! and which the global section's `set-var`/`set-var-fmt` lines set at start.

use crate::logfmt::Format;
use crate::sample::{Expr, Unsupported, Value};
use crate::txn::Txn;
use crate::var_limits::{
    make_room, ProcessCount, Room, Scope, Share, Slot, StreamSizes, VarLimits,
};
use std::collections::HashMap;
use std::sync::RwLock;

/// The process-wide variables (`proc.*`), and the global section's lines that set them first.
#[derive(Default)]
pub struct ProcVars {
    values: RwLock<HashMap<String, Value>>,
    initial: Vec<SetVar>,
    /// `tune.vars.*-max-size`, and the process count they are checked against.
    limits: VarLimits,
    count: ProcessCount,
    /// What the process-wide variables themselves add to the count.
    own: Share,
    /// The names whose entries stay when they lose their value (those the configuration
    /// names, see [`ProcVars::name_all_in`]).
    permanent: RwLock<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for ProcVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcVars")
            .field("initial", &self.initial)
            .finish()
    }
}

impl ProcVars {
    /// From the global section's `(keyword, name, rest)` lines.
    pub fn compile(
        lines: &[(String, String, String)],
        limits: VarLimits,
    ) -> Result<ProcVars, Unsupported> {
        let initial = lines
            .iter()
            .map(|(keyword, name, rest)| {
                let action = format!("{keyword}({name})");
                SetVar::compile(&action, std::slice::from_ref(rest))
                    .map_err(|e| Unsupported(format!("global '{keyword} {name} {rest}': {}", e.0)))
            })
            .collect::<Result<_, _>>()?;
        let count = ProcessCount::new(&limits);
        Ok(ProcVars {
            values: RwLock::default(),
            initial,
            limits,
            own: count.share(),
            count,
            permanent: RwLock::default(),
        })
    }

    /// Makes the process-wide variables the configuration names (in `text`, its plan in any
    /// form that keeps expressions' text) before anything sets them, as HAProxy does while it
    /// reads them: their entries count against the process limits from the start.
    pub fn name_all_in(&self, text: &str) {
        for name in names_in(text, &["proc."]) {
            self.name(name);
        }
    }

    /// Makes one process-wide variable exist before anything sets it (see
    /// [`ProcVars::name_all_in`]).
    pub fn name(&self, name: &str) {
        let Ok(mut permanent) = self.permanent.write() else {
            return;
        };
        let counted = self.limits.any();
        if permanent.insert(name.to_string()) && counted && !self.own.grow(crate::var_limits::ENTRY)
        {
            permanent.remove(name);
        }
    }

    /// Whether the process-wide variable exists: it has a value, or the configuration names it.
    pub fn exists(&self, name: &str) -> bool {
        self.values.read().is_ok_and(|v| v.contains_key(name))
            || self.permanent.read().is_ok_and(|p| p.contains(name))
    }

    /// Runs the global section's lines once, in order, outside any stream.
    pub fn initialize(shared: &std::sync::Arc<crate::state::Shared>) {
        let local = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        let mut txn = Txn::new(shared.clone(), local, local, "".into());
        for line in &shared.proc_vars.initial {
            // HAProxy gives a `set-var-fmt` line a session of its own, a `set-var` line none.
            txn.var_context = match line.source {
                Source::Expr(_) => VarContext::Global,
                Source::Format(_) => VarContext::GlobalFormat,
            };
            line.run(&mut txn);
        }
    }

    fn get(&self, name: &str) -> Option<Value> {
        self.values.read().ok()?.get(name).cloned()
    }

    /// The share of the process count a new stream or session starts with.
    pub fn share(&self) -> Share {
        self.count.share()
    }

    pub fn limits(&self) -> &VarLimits {
        &self.limits
    }

    /// Bytes of variables counted against the process and global limits (0 without them).
    pub fn counted(&self) -> u64 {
        self.count.bytes()
    }

    fn set(&self, name: &str, value: Value) -> bool {
        let Ok(mut v) = self.values.write() else {
            return false;
        };
        if self.limits.any() {
            let slot = Slot {
                value: v.get(name),
                permanent: self.permanent.read().is_ok_and(|p| p.contains(name)),
            };
            let sizes = StreamSizes::default();
            match make_room(&self.limits, &self.own, sizes, Scope::Proc, slot, &value) {
                Room::Stored => {}
                Room::Refused => return false,
                Room::Emptied => {
                    v.remove(name);
                    return false;
                }
            }
        }
        v.insert(name.to_string(), value);
        true
    }

    fn remove(&self, name: &str) -> bool {
        let Ok(mut v) = self.values.write() else {
            return false;
        };
        let Some(old) = v.remove(name) else {
            return false;
        };
        let permanent = self.permanent.read().is_ok_and(|p| p.contains(name));
        self.own.shrink(
            Slot {
                value: Some(&old),
                permanent,
            }
            .freed(),
        );
        true
    }
}

/// A session's variables (`sess.*`): each request of the session starts with them, and
/// what its rules left in them is kept for the next one.
#[derive(Default)]
pub struct SessionVars(
    std::cell::RefCell<HashMap<String, Value>>,
    /// What the TCP rules of a connection switched to HTTP set, for its first request.
    std::cell::RefCell<HashMap<String, Value>>,
    /// What the variables kept between requests add to the process count: a request takes it
    /// over while it runs, and gives back what its `sess.` variables take when it ends.
    std::cell::RefCell<Share>,
);

impl SessionVars {
    /// Keeps what a TCP stream's rules set for the first request of the HTTP stream it
    /// becomes (`crate::upgrade`).
    pub fn carry(&self, txn: &Txn) {
        let mut first = self.1.borrow_mut();
        first.extend(txn.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        txn.var_share
            .hand_over(&mut self.2.borrow_mut(), txn.var_share.held());
    }

    /// Gives a new request the session's variables.
    pub fn enter(&self, txn: &mut Txn) {
        {
            let kept = self.2.borrow();
            kept.hand_over(&mut txn.var_share, kept.held());
        }
        // Only a connection switched from TCP carries any (taking the empty map would make
        // a new one, with its hasher's keys, for every request).
        if !self.1.borrow().is_empty() || !self.0.borrow().is_empty() {
            self.enter_with_vars(txn);
        }
    }

    /// [`Self::enter`] where the session has variables: a call, as most sessions have none.
    #[inline(never)]
    fn enter_with_vars(&self, txn: &mut Txn) {
        if !self.1.borrow().is_empty() {
            let carried = std::mem::take(&mut *self.1.borrow_mut());
            txn.vars.extend(carried);
        }
        let vars = self.0.borrow();
        if !vars.is_empty() {
            txn.vars
                .extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }

    /// Keeps the session's variables as a request's rules left them.
    pub fn keep(&self, txn: &Txn) {
        if self.0.borrow().is_empty() && !txn.vars.keys().any(|k| k.starts_with("sess.")) {
            return;
        }
        self.keep_vars(txn);
    }

    /// [`Self::keep`] where there are session variables to keep or to forget.
    #[inline(never)]
    fn keep_vars(&self, txn: &Txn) {
        let mut vars = self.0.borrow_mut();
        vars.clear();
        vars.extend(
            txn.vars
                .iter()
                .filter(|(k, _)| k.starts_with("sess."))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let kept = StreamSizes::of(vars.iter()).sess;
        txn.var_share.hand_over(&mut self.2.borrow_mut(), kept);
    }
}

/// The variable names of the given scopes (`"txn."`…) written in `text`, the configuration
/// in any form that keeps its expressions' text.
pub fn names_in<'a>(text: &'a str, scopes: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    let bytes = text.as_bytes();
    scopes.iter().flat_map(move |scope| {
        text.match_indices(scope).filter_map(move |(start, _)| {
            // A scope starts a name only after a character that cannot be part of a word.
            let before = start.checked_sub(1).map(|i| bytes[i]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
                return None;
            }
            let from = start + scope.len();
            let end = text[from..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .map_or(text.len(), |i| from + i);
            (end > from).then(|| text[start..end].trim_end_matches('.'))
        })
    })
}

fn process_wide(name: &str) -> bool {
    name.starts_with("proc.")
}

/// Where expressions run, for the variable scopes that exist there (HAProxy finds no
/// variables at all, not even a `var` fetch's default, in a scope its context lacks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarContext {
    /// A stream: every scope but `check`.
    Stream,
    /// A health check: its own `check` scope and its session's.
    Check,
    /// The global section's `set-var`: the process scope alone.
    Global,
    /// The global section's `set-var-fmt`, which has a session.
    GlobalFormat,
}

impl VarContext {
    /// Whether variable `name`'s scope exists here.
    pub fn has_scope_of(self, name: &str) -> bool {
        let scope = name.split_once('.').map_or(name, |(scope, _)| scope);
        match scope {
            "proc" => true,
            "sess" => self != VarContext::Global,
            "check" => self == VarContext::Check,
            _ => self == VarContext::Stream,
        }
    }
}

impl Txn {
    /// The value of variable `name` as this stream sees it.
    pub fn var(&self, name: &str) -> Option<Value> {
        if process_wide(name) {
            return self.shared.proc_vars.get(name);
        }
        if let Some(v) = self.converter_vars.borrow().get(name) {
            return v.clone();
        }
        self.vars.get(name).cloned()
    }

    /// Stores variable `name`; whether the limits let it (see [`crate::var_limits`]).
    pub fn store_var(&mut self, name: &str, value: Value) -> bool {
        if process_wide(name) {
            return self.shared.proc_vars.set(name, value);
        }
        match self.room_for(name, &value) {
            Room::Stored => {
                self.converter_vars.get_mut().remove(name);
                self.vars.insert(name.to_string(), value);
                true
            }
            Room::Refused => false,
            Room::Emptied => {
                self.converter_vars.get_mut().remove(name);
                self.vars.remove(name);
                false
            }
        }
    }

    /// Whether the limits leave room for `value` in stream variable `name`, taking it from the
    /// process count when they do.
    fn room_for(&self, name: &str, value: &Value) -> Room {
        let limits = self.shared.proc_vars.limits();
        if !limits.any() {
            return Room::Stored;
        }
        let pending = self.converter_vars.borrow();
        let held = self
            .vars
            .iter()
            .filter(|(k, _)| !pending.contains_key(*k))
            .chain(pending.iter().filter_map(|(k, v)| Some((k, v.as_ref()?))));
        let old = match pending.get(name) {
            Some(v) => v.as_ref(),
            None => self.vars.get(name),
        };
        make_room(
            limits,
            &self.var_share,
            StreamSizes::of(held),
            Scope::of(name),
            Slot::of(old),
            value,
        )
    }

    /// Removes variable `name`; whether it existed.
    pub fn remove_var(&mut self, name: &str) -> bool {
        if process_wide(name) {
            return self.shared.proc_vars.remove(name);
        }
        let pending = self.converter_vars.get_mut().remove(name);
        let settled = self.vars.remove(name);
        // A converter's unset already gave the settled value's bytes back.
        let unset = matches!(pending, Some(None));
        let counted = pending
            .flatten()
            .into_iter()
            .chain(settled.filter(|_| !unset));
        let mut existed = false;
        for old in counted {
            self.var_share.shrink(Slot::of(Some(&old)).freed());
            existed = true;
        }
        existed
    }

    /// What `set-var` converters stored while an expression ran (they see the stream only
    /// for reading) becomes ordinary variables.
    pub fn settle_converter_vars(&mut self) {
        let pending = std::mem::take(self.converter_vars.get_mut());
        for (name, value) in pending {
            match value {
                Some(v) => {
                    self.vars.insert(name, v);
                }
                // Its bytes were given back when the converter ran.
                None => {
                    self.vars.remove(&name);
                }
            }
        }
    }
}

/// The `set-var(<name>[,<cond>…])` converter: stores its input in a variable when the
/// conditions allow it, and passes it on unchanged.
pub fn converter(args: &[String]) -> Result<crate::sample::convert::Run, Unsupported> {
    let name = args
        .first()
        .map(|a| a.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Unsupported("converter 'set-var' needs a variable name".into()))?;
    let words: Vec<&str> = args[1..].iter().map(|a| a.trim()).collect();
    let conditions = Conditions::parse(&words)?;
    Ok(crate::sample::convert::with_txn(move |v, txn| {
        if conditions.allow(&name, txn.var(&name).as_ref(), &v) {
            if process_wide(&name) {
                txn.shared.proc_vars.set(&name, v.clone());
            } else {
                match txn.room_for(&name, &v) {
                    Room::Stored => {
                        txn.converter_vars
                            .borrow_mut()
                            .insert(name.clone(), Some(v.clone()));
                    }
                    Room::Refused => {}
                    // A converter reads the stream only: what the variable held stays, and
                    // its bytes are counted again.
                    Room::Emptied => {
                        let old = txn.var(&name);
                        txn.var_share.force_grow(Slot::of(old.as_ref()).freed());
                    }
                }
            }
        }
        Some(v)
    }))
}

/// The `unset-var(<name>)` converter: removes the variable and passes its input on
/// unchanged.
pub fn unset_converter(name: &str) -> Result<crate::sample::convert::Run, Unsupported> {
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(Unsupported(
            "converter 'unset-var' needs a variable name".into(),
        ));
    }
    Ok(crate::sample::convert::with_txn(move |v, txn| {
        if process_wide(&name) {
            txn.shared.proc_vars.remove(&name);
        } else if let Some(old) = txn.var(&name) {
            txn.var_share.shrink(Slot::of(Some(&old)).freed());
            txn.converter_vars.borrow_mut().insert(name.clone(), None);
        }
        Some(v)
    }))
}

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

    /// Whether `new` may replace `old` in variable `name` (`old` `None`: it holds nothing). A
    /// process-wide variable exists from the start whatever it holds, since HAProxy makes
    /// each one a rule names while it reads the configuration (`ifexists` always holds for
    /// it, `ifnotexists` never; `ifset` asks for a value); a variable of another scope exists
    /// only while it holds a value.
    fn allow(&self, name: &str, old: Option<&Value>, new: &Value) -> bool {
        let set = old.is_some();
        let exists = set || process_wide(name);
        if self.if_exists && !exists
            || self.if_not_exists && exists
            || self.if_set && !set
            || self.if_not_set && set
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
        if self
            .conditions
            .allow(&self.name, txn.var(&self.name).as_ref(), &value)
        {
            txn.store_var(&self.name, value);
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
        Conditions::parse(conds)
            .unwrap()
            .allow("txn.x", old.as_ref(), &new)
    }

    #[test]
    fn process_wide_variables_always_exist() {
        let c = |w: &str| Conditions::parse(&[w]).unwrap();
        let new = Value::Int(12);
        assert!(c("ifexists").allow("proc.x", None, &new));
        assert!(!c("ifnotexists").allow("proc.x", None, &new));
        assert!(!c("ifset").allow("proc.x", None, &new));
        assert!(c("ifnotset").allow("proc.x", None, &new));
        assert!(!c("ifnotset").allow("proc.x", Some(&Value::Int(1)), &new));
        assert!(!c("ifexists").allow("sess.x", None, &new));
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
