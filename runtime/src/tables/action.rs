//! The table actions of `tcp-request`/`http-request`/`http-response` rules: `track-sc<n>`
//! (and `track-sc <n>`), `sc-inc-gpc(<idx>,<n>)`, `sc-inc-gpc0|1(<n>)`,
//! `sc-add-gpc(<idx>,<n>) <value>`, `sc-set-gpt(<idx>,<n>) <value>` and
//! `sc-set-gpt0(<n>) <value>`.

use super::fetch::default_table;
use super::track::{add_gpc, count_tracked_request, set_gpt};
use super::{key, now_ms};
use crate::sample::{Expr, Unsupported};
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;

/// A number written in the rule, or an expression evaluated per transaction.
#[derive(Debug)]
pub enum Operand {
    Int(i64),
    Expr(Expr),
}

impl Operand {
    fn parse(text: &str) -> Result<Operand, Unsupported> {
        match text.parse() {
            Ok(n) => Ok(Operand::Int(n)),
            Err(_) => Ok(Operand::Expr(Expr::parse(text)?)),
        }
    }

    fn value(&self, txn: &Txn) -> Option<i64> {
        match self {
            Operand::Int(n) => Some(*n),
            Operand::Expr(e) => e.eval(txn)?.as_int(),
        }
    }
}

#[derive(Debug)]
pub enum TableAction {
    Track {
        counter: usize,
        key: Expr,
        table: Option<String>,
    },
    AddGpc {
        counter: usize,
        idx: usize,
        legacy: bool,
        value: Operand,
    },
    SetGpt {
        counter: usize,
        idx: usize,
        legacy: bool,
        value: Operand,
    },
}

/// The numbers inside `name(…)`.
fn numbers(action: &str) -> Vec<usize> {
    action
        .split_once('(')
        .map(|(_, a)| a.trim_end_matches(')'))
        .unwrap_or("")
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

/// The counter of `sc-inc-gpc0|1[(<n>)]` and `sc-set-gpt0[(<n>)]`: sc0 when not written.
fn legacy_counter(action: &str, n: &[usize]) -> Option<usize> {
    if action.contains('(') {
        n.first().copied()
    } else {
        Some(0)
    }
}

impl TableAction {
    /// The table action `action` with `args`, `None` when it is not a table action.
    pub fn compile(action: &str, args: &[String]) -> Result<Option<TableAction>, Unsupported> {
        let name = action.split('(').next().unwrap_or(action);
        let n = numbers(action);
        let bad = || Unsupported(format!("action '{action}' arguments"));
        let value = || Operand::parse(args.first().map_or("", String::as_str));
        Ok(Some(match name {
            _ if name.starts_with("track-sc") => {
                let (counter, rest) = match name["track-sc".len()..].parse() {
                    Ok(c) => (c, args),
                    Err(_) => (
                        args.first().and_then(|a| a.parse().ok()).ok_or_else(bad)?,
                        args.get(1..).unwrap_or(&[]),
                    ),
                };
                let key = Expr::parse(rest.first().ok_or_else(bad)?)?;
                let table = match rest.iter().position(|a| a == "table") {
                    Some(i) => Some(rest.get(i + 1).ok_or_else(bad)?.clone()),
                    None => default_table(),
                };
                TableAction::Track {
                    counter,
                    key,
                    table,
                }
            }
            // Written without `(<n>)`, these act on sc0.
            "sc-inc-gpc0" | "sc-inc-gpc1" => TableAction::AddGpc {
                counter: legacy_counter(action, &n).ok_or_else(bad)?,
                idx: usize::from(name.ends_with('1')),
                legacy: true,
                value: Operand::Int(1),
            },
            "sc-inc-gpc" | "sc-add-gpc" => TableAction::AddGpc {
                idx: *n.first().ok_or_else(bad)?,
                counter: *n.get(1).ok_or_else(bad)?,
                legacy: false,
                value: if name == "sc-inc-gpc" {
                    Operand::Int(1)
                } else {
                    value()?
                },
            },
            "sc-set-gpt0" => TableAction::SetGpt {
                counter: legacy_counter(action, &n).ok_or_else(bad)?,
                idx: 0,
                legacy: true,
                value: value()?,
            },
            "sc-set-gpt" => TableAction::SetGpt {
                idx: *n.first().ok_or_else(bad)?,
                counter: *n.get(1).ok_or_else(bad)?,
                legacy: false,
                value: value()?,
            },
            _ => return Ok(None),
        }))
    }

    pub fn run(&self, txn: &mut Txn, set: RuleSet) {
        let now = now_ms();
        match self {
            TableAction::Track {
                counter,
                key: expr,
                table,
            } => {
                if txn.stick.is_tracked(*counter) {
                    return;
                }
                let Some(t) = table
                    .as_deref()
                    .and_then(|n| txn.shared.tables.get(n))
                    .cloned()
                else {
                    return;
                };
                let Some(k) = expr
                    .eval(txn)
                    .and_then(|v| key::from_value(&v, t.key_type, t.key_size))
                else {
                    return;
                };
                let Some(e) = t.get_or_create(&k, now) else {
                    return;
                };
                let session = matches!(
                    set,
                    RuleSet::TcpRequestConnection | RuleSet::TcpRequestSession
                );
                txn.stick.track(*counter, t.clone(), e.clone(), session);
                // The request counts when tracking starts in HTTP rules; a response's error
                // status counts on every tracked entry once the response is sent.
                if matches!(set, RuleSet::HttpRequest | RuleSet::HttpResponse) {
                    count_tracked_request(&t, &e);
                }
            }
            TableAction::AddGpc {
                counter,
                idx,
                legacy,
                value,
            } => {
                let Some((t, e)) = txn.stick.get(*counter) else {
                    return;
                };
                // A negative or missing amount adds nothing, as in HAProxy.
                if let Some(v) = value.value(txn).filter(|v| *v > 0) {
                    add_gpc(&t, &e, *idx, *legacy, v as u64, now);
                }
            }
            TableAction::SetGpt {
                counter,
                idx,
                legacy,
                value,
            } => {
                let Some((t, e)) = txn.stick.get(*counter) else {
                    return;
                };
                if let Some(v) = value.value(txn) {
                    set_gpt(&t, &e, *idx, *legacy, v as u32, now);
                }
            }
        }
    }
}
