//! Server persistence: `stick match` and `stick on` send a request to the server its key was
//! stored with (when that server can take it), `stick store-request`, `stick on` and `stick
//! store-response` store the chosen server's id (and name, or address with `srvkey addr`)
//! under the key. Only the first store rule per table counts, as in HAProxy.

use super::data::{DataType, Slot};
use super::{key, now_ms, Table, Tables};
use crate::acl::{AclSet, Condition};
use crate::sample::{Expr, Unsupported};
use crate::txn::Txn;
use hapee_compiler::plan::tables::{StickKind, StickRulePlan};
use std::sync::Arc;

#[derive(Debug)]
struct StickRule {
    kind: StickKind,
    key: Expr,
    table: Arc<Table>,
    condition: Condition,
}

/// A backend's stickiness rules and its servers' ids.
#[derive(Debug, Default)]
pub struct Stickiness {
    rules: Vec<StickRule>,
    /// Each server's numeric id (`id`, else its rank), what `server_id` stores.
    server_ids: Vec<u32>,
    /// Each server's stored key: its name, or its address with `srvkey addr`.
    server_keys: Vec<Arc<str>>,
}

/// Keys to store once the server is known.
pub type Pending = Vec<(Arc<Table>, key::Key)>;

impl Stickiness {
    pub fn compile(
        plans: &[StickRulePlan],
        acls: &AclSet,
        own_table: Option<&str>,
        tables: &Tables,
        servers: &[(u32, String, String)],
    ) -> Result<Stickiness, Unsupported> {
        let mut rules = Vec::new();
        for p in plans {
            let name = p.table.as_deref().or(own_table).unwrap_or_default();
            let table = tables
                .get(name)
                .ok_or_else(|| Unsupported(format!("stick: no stick-table '{name}'")))?
                .clone();
            rules.push(StickRule {
                kind: p.kind,
                key: Expr::parse(&p.expr)?,
                condition: Condition::compile(&p.condition, acls)?,
                table,
            });
        }
        let addr_keys = rules.first().is_some_and(|r| r.table.srvkey_addr);
        Ok(Stickiness {
            rules,
            server_ids: servers.iter().map(|s| s.0).collect(),
            server_keys: servers
                .iter()
                .map(|s| {
                    if addr_keys {
                        s.2.as_str()
                    } else {
                        s.1.as_str()
                    }
                    .into()
                })
                .collect(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn key_of(rule: &StickRule, txn: &Txn) -> Option<key::Key> {
        if !rule.condition.holds(txn) {
            return None;
        }
        let v = rule.key.eval(txn)?;
        key::from_value(&v, rule.table.key_type, rule.table.key_size)
    }

    /// The server a request sticks to (`usable` says whether a server may take it), and the
    /// keys to store once its server is chosen.
    pub fn on_request(
        &self,
        txn: &Txn,
        usable: impl Fn(usize) -> bool,
    ) -> (Option<usize>, Pending) {
        let mut chosen = None;
        let mut pending: Pending = Vec::new();
        let now = now_ms();
        for r in &self.rules {
            let matches = chosen.is_none() && matches!(r.kind, StickKind::On | StickKind::Match);
            let stores = matches!(r.kind, StickKind::On | StickKind::StoreRequest);
            if !matches && !stores {
                continue;
            }
            let Some(k) = Self::key_of(r, txn) else {
                continue;
            };
            if matches {
                chosen = self.lookup(&r.table, &k, now).filter(|&i| usable(i));
            }
            if stores && !pending.iter().any(|(t, _)| Arc::ptr_eq(t, &r.table)) {
                pending.push((r.table.clone(), k));
            }
        }
        (chosen, pending)
    }

    /// Keys of `stick store-response` rules, on the response.
    pub fn on_response(&self, txn: &Txn) -> Pending {
        let mut pending: Pending = Vec::new();
        for r in self
            .rules
            .iter()
            .filter(|r| r.kind == StickKind::StoreResponse)
        {
            if pending.iter().any(|(t, _)| Arc::ptr_eq(t, &r.table)) {
                continue;
            }
            if let Some(k) = Self::key_of(r, txn) {
                pending.push((r.table.clone(), k));
            }
        }
        pending
    }

    fn lookup(&self, t: &Table, k: &[u8], now: u64) -> Option<usize> {
        let e = t.lookup(k, now)?;
        let slot = t.layout.slot(DataType::ServerId, 0)?;
        let Slot::Sint(id) = e.read()[slot] else {
            return None;
        };
        self.server_ids
            .iter()
            .position(|s| i64::from(*s) == i64::from(id))
    }

    /// Stores server `server` under the pending keys.
    pub fn store(&self, pending: &Pending, server: usize) {
        let now = now_ms();
        let (Some(id), Some(name)) = (self.server_ids.get(server), self.server_keys.get(server))
        else {
            return;
        };
        for (t, k) in pending {
            let Some(e) = t.get_or_create(k, now) else {
                continue;
            };
            {
                let mut d = e.write();
                if let Some(s) = t.layout.slot(DataType::ServerId, 0) {
                    d[s] = Slot::Sint(*id as i32);
                }
                if let Some(s) = t.layout.slot(DataType::ServerKey, 0) {
                    d[s] = Slot::Dict(Some(name.clone()));
                }
            }
            t.touch(&e, now, true);
        }
    }
}
