//! Rule actions on the client connection and the stream that have no message to change:
//! `silent-drop`, `set-mark`, `set-tos`, `set-priority-class`, `set-priority-offset`,
//! `set-nice`, `disable-l7-retry`, and the pattern file edits `set-map`, `del-map`, `add-acl`, `del-acl`.

use crate::logfmt::Format;
use crate::patref::{Kind, PatRef};
use crate::sample::{Expr, Unsupported};
use crate::txn::Txn;
use std::sync::{Arc, OnceLock};

/// A stream's queueing priority: its class (lower is served first) and its offset (added to
/// its arrival time in the queue), in HAProxy's bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Priority {
    pub class: i64,
    pub offset: i64,
}

/// What one of these actions does.
#[derive(Debug)]
pub enum ConnAction {
    /// `silent-drop [rst-ttl <ttl>]`: the connection closes, the client told nothing.
    SilentDrop(Option<u8>),
    SetMark(u32),
    SetTos(u8),
    SetPriorityClass(Expr),
    SetPriorityOffset(Expr),
    /// `set-nice <n>`: HAProxy weighs a stream's scheduling by it. hapee's streams are tokio
    /// tasks scheduled in turn, with no weight to give: the action is accepted and changes
    /// nothing.
    SetNice,
    /// `disable-l7-retry`: no retry of a request that reached its server (`retry-on`'s
    /// statuses, empty or junk responses, response timeouts).
    DisableL7Retry,
    Pattern(PatternEdit),
}

/// Whether an action word is one of these.
pub fn is_conn_action(name: &str) -> bool {
    let keyword = name.split('(').next().unwrap_or(name);
    matches!(
        keyword,
        "silent-drop"
            | "set-mark"
            | "set-tos"
            | "set-priority-class"
            | "set-priority-offset"
            | "set-nice"
            | "disable-l7-retry"
            | "set-map"
            | "del-map"
            | "add-acl"
            | "del-acl"
    )
}

/// An integer as HAProxy's rule parsers read one (`strtoul(…, 0)`: decimal, `0x` hex or `0`
/// octal).
fn c_integer(word: &str) -> Option<u64> {
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if word.len() > 1 && word.starts_with('0') {
        u64::from_str_radix(&word[1..], 8).ok()
    } else {
        word.parse().ok()
    }
}

impl ConnAction {
    /// Compiles action `name` with its arguments.
    pub fn compile(name: &str, args: &[String]) -> Result<ConnAction, Unsupported> {
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        let bad = |what: &str| Unsupported(format!("{name} '{what}'"));
        Ok(match name.split('(').next().unwrap_or(name) {
            "silent-drop" => match arg(0) {
                "" => ConnAction::SilentDrop(None),
                "rst-ttl" => ConnAction::SilentDrop(Some(arg(1).parse().map_err(|_| bad(arg(1)))?)),
                other => return Err(bad(other)),
            },
            "set-mark" => ConnAction::SetMark(
                c_integer(arg(0))
                    .and_then(|m| u32::try_from(m).ok())
                    .ok_or_else(|| bad(arg(0)))?,
            ),
            "set-tos" => ConnAction::SetTos(
                c_integer(arg(0))
                    .and_then(|t| u8::try_from(t).ok())
                    .ok_or_else(|| bad(arg(0)))?,
            ),
            "set-priority-class" => ConnAction::SetPriorityClass(Expr::parse(arg(0))?),
            "set-priority-offset" => ConnAction::SetPriorityOffset(Expr::parse(arg(0))?),
            "set-nice" => ConnAction::SetNice,
            "disable-l7-retry" => ConnAction::DisableL7Retry,
            _ => ConnAction::Pattern(PatternEdit::compile(name, args)?),
        })
    }

    /// Applies the action. `silent-drop` only prepares the socket: the caller ends the
    /// stream (as `reject`, whose log and counters it shares in HAProxy).
    pub fn run(&self, txn: &mut Txn) {
        match self {
            ConnAction::SilentDrop(ttl) => {
                if let Some(fd) = txn.client_fd {
                    fd.prepare_silent_drop(*ttl);
                }
            }
            ConnAction::SetMark(mark) => {
                if let Some(fd) = txn.client_fd {
                    fd.set_mark(*mark);
                }
            }
            ConnAction::SetTos(tos) => {
                if let Some(fd) = txn.client_fd {
                    fd.set_tos(*tos, txn.client.is_ipv6());
                }
            }
            ConnAction::SetPriorityClass(e) => {
                if let Some(v) = e.eval(txn).and_then(|v| v.as_int()) {
                    txn.priority.class = v.clamp(-0x7ff, 0x7ff);
                }
            }
            ConnAction::SetPriorityOffset(e) => {
                if let Some(v) = e.eval(txn).and_then(|v| v.as_int()) {
                    txn.priority.offset = v.clamp(-0x7ffff, 0x7ffff);
                }
            }
            ConnAction::SetNice => {}
            ConnAction::DisableL7Retry => txn.l7_retry_disabled = true,
            ConnAction::Pattern(p) => p.run(txn),
        }
    }

    /// Whether the action ends the rules (and the stream).
    pub fn ends_stream(&self) -> bool {
        matches!(self, ConnAction::SilentDrop(_))
    }
}

/// `set-map(<file>) <key fmt> <value fmt>`, `del-map(<file>) <key fmt>`,
/// `add-acl(<file>) <key fmt>`, `del-acl(<file>) <key fmt>`: edits of a live pattern file, the
/// one the converters and ACLs naming it read and the Runtime API's `show map` shows.
#[derive(Debug)]
pub struct PatternEdit {
    op: PatternOp,
    file: String,
    key: Format,
    value: Option<Format>,
    /// The file's reference, found at the first use: files are loaded with the configuration,
    /// before any rule runs. When no converter or ACL uses the file, HAProxy has no
    /// reference for it either, and the edit does nothing.
    reference: OnceLock<Option<Arc<PatRef>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternOp {
    SetMap,
    DelMap,
    AddAcl,
    DelAcl,
}

impl PatternEdit {
    fn compile(name: &str, args: &[String]) -> Result<PatternEdit, Unsupported> {
        let (keyword, rest) = name
            .split_once('(')
            .ok_or_else(|| Unsupported(format!("action '{name}' without its file")))?;
        let file = rest.strip_suffix(')').unwrap_or(rest).to_string();
        let op = match keyword {
            "set-map" => PatternOp::SetMap,
            "del-map" => PatternOp::DelMap,
            "add-acl" => PatternOp::AddAcl,
            "del-acl" => PatternOp::DelAcl,
            other => return Err(Unsupported(format!("action '{other}'"))),
        };
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        Ok(PatternEdit {
            op,
            file,
            key: Format::parse(arg(0))?,
            value: match op {
                PatternOp::SetMap => Some(Format::parse(arg(1))?),
                _ => None,
            },
            reference: OnceLock::new(),
        })
    }

    fn reference(&self) -> Option<&Arc<PatRef>> {
        self.reference
            .get_or_init(|| {
                // HAProxy finds a file by its name whatever uses it.
                let (first, second) = match self.op {
                    PatternOp::SetMap | PatternOp::DelMap => (Kind::Map, Kind::Acl),
                    PatternOp::AddAcl | PatternOp::DelAcl => (Kind::Acl, Kind::Map),
                };
                crate::patref::find(&self.file, first)
                    .or_else(|| crate::patref::find(&self.file, second))
            })
            .as_ref()
    }

    fn run(&self, txn: &Txn) {
        let Some(reference) = self.reference() else {
            return;
        };
        let key = self.key.render(txn);
        match self.op {
            PatternOp::SetMap => {
                let value = self.value.as_ref().map_or(String::new(), |v| v.render(txn));
                if !reference.set(&key, &value) {
                    reference.add(&key, &value);
                }
            }
            PatternOp::AddAcl => {
                if !reference.entries().iter().any(|e| e.key == key) {
                    reference.add(&key, "");
                }
            }
            PatternOp::DelMap | PatternOp::DelAcl => {
                reference.delete(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_c_reads_them() {
        assert_eq!(c_integer("0x10"), Some(16));
        assert_eq!(c_integer("010"), Some(8));
        assert_eq!(c_integer("10"), Some(10));
        assert_eq!(c_integer("0"), Some(0));
        assert_eq!(c_integer("x"), None);
    }

    #[test]
    fn arguments_are_checked() {
        assert!(ConnAction::compile("set-tos", &["300".into()]).is_err());
        assert!(ConnAction::compile("silent-drop", &["rst-ttl".into(), "2".into()]).is_ok());
        assert!(ConnAction::compile("silent-drop", &["what".into()]).is_err());
        assert!(ConnAction::compile("set-map", &["a".into(), "b".into()]).is_err());
        assert!(matches!(
            ConnAction::compile("del-acl(/x.acl)", &["%[src]".into()]),
            Ok(ConnAction::Pattern(_))
        ));
    }
}
