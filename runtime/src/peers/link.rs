//! One established peers session (sans-I/O): what we learn from the peer (definitions,
//! updates, acknowledgements, resynchronisation messages) and what we send it (our updates
//! since the last it acknowledged, a full lesson when it asks, acks, confirmations).

use super::codec::*;
use super::entries::{self, RemoteTable, UpdateForm};
use crate::tables::data::Slot;
use crate::tables::key::Key;
use crate::tables::Table;
use std::collections::VecDeque;
use std::sync::Arc;

/// Where a shared table stands on this link.
struct LinkTable {
    table: Arc<Table>,
    /// Our id for it in definitions (from 1).
    local_id: u64,
    /// Ours: the last update sent, and the last the peer acknowledged.
    last_pushed: u32,
    acked: u32,
    /// Theirs: the last update received, and the last we acknowledged.
    last_get: u32,
    last_acked: u32,
}

/// A full lesson the peer asked for.
enum Teaching {
    No,
    /// The entries still to send.
    Lesson(VecDeque<(usize, Key)>),
    /// All sent with "finished" or "partial": nothing else is taught until it confirms.
    AwaitingConfirm,
}

/// What happened that the section must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The peer taught us everything it knows.
    LearnFinished,
    /// The peer taught us what it had, but was not up to date itself.
    LearnPartial,
}

pub struct Link {
    tables: Vec<LinkTable>,
    /// Which of our tables the peer's updates are about now, and its definition.
    remote: Option<(usize, RemoteTable)>,
    /// Definitions the peer sent, by its table id.
    remote_defs: Vec<(usize, RemoteTable)>,
    /// The table our last definition was about.
    last_defined: Option<usize>,
    teaching: Teaching,
    /// We asked the peer for a full lesson and wait for its end.
    pub learning: bool,
    /// Full lessons the peer confirmed it received.
    pub lessons_given: u32,
    resync_request_due: bool,
    confirms: u32,
    dict: Vec<Option<Arc<str>>>,
    max_updates: usize,
    /// The peer's `shard`: only entries of that shard are sent to it (0: all).
    peer_shard: u32,
}

impl Link {
    /// A new session over `tables`, each with the last update the peer acknowledged on an
    /// earlier session.
    pub fn new(tables: Vec<(Arc<Table>, u32)>, max_updates: usize, peer_shard: u32) -> Link {
        Link {
            tables: tables
                .into_iter()
                .enumerate()
                .map(|(i, (table, acked))| LinkTable {
                    table,
                    local_id: i as u64 + 1,
                    last_pushed: acked,
                    acked,
                    last_get: 0,
                    last_acked: 0,
                })
                .collect(),
            remote: None,
            remote_defs: Vec::new(),
            last_defined: None,
            teaching: Teaching::No,
            learning: false,
            lessons_given: 0,
            resync_request_due: false,
            confirms: 0,
            dict: vec![None; 128],
            max_updates: max_updates.max(1),
            peer_shard,
        }
    }

    /// Asks the peer for a full lesson.
    pub fn learn(&mut self) {
        self.learning = true;
        self.resync_request_due = true;
    }

    /// The last update the peer acknowledged, per table, to resume from on the next session.
    pub fn acked(&self) -> Vec<u32> {
        self.tables.iter().map(|t| t.acked).collect()
    }

    /// Handles one message from the peer.
    pub fn receive(&mut self, m: &Message, now: u64) -> Result<Option<Event>, String> {
        match (m.class, m.kind) {
            (CLASS_CONTROL, CTRL_RESYNC_REQUEST) => {
                // A whole lesson: every entry of every table, then "finished".
                let mut lesson = VecDeque::new();
                for (i, t) in self.tables.iter().enumerate() {
                    lesson.extend(t.table.entries().into_iter().map(|e| (i, e.key.clone())));
                }
                for t in &mut self.tables {
                    t.last_pushed = t.acked;
                }
                self.teaching = Teaching::Lesson(lesson);
            }
            (CLASS_CONTROL, CTRL_RESYNC_FINISHED | CTRL_RESYNC_PARTIAL) => {
                self.confirms += 1;
                if std::mem::take(&mut self.learning) {
                    return Ok(Some(if m.kind == CTRL_RESYNC_FINISHED {
                        Event::LearnFinished
                    } else {
                        Event::LearnPartial
                    }));
                }
            }
            (CLASS_CONTROL, CTRL_RESYNC_CONFIRM) => {
                // The lesson is over: go on with what changed since.
                if !matches!(self.teaching, Teaching::No) {
                    self.lessons_given += 1;
                }
                self.teaching = Teaching::No;
            }
            (CLASS_CONTROL, _) => {}
            (CLASS_ERROR, kind) => return Err(format!("the peer reported error {kind}")),
            (CLASS_TABLE, TABLE_DEFINE) => {
                let def = entries::parse_define(&m.payload);
                self.remote = def.and_then(|d| {
                    let i = self.tables.iter().position(|t| d.matches(&t.table))?;
                    self.remote_defs.retain(|(_, r)| r.id != d.id);
                    self.remote_defs.push((i, d.clone()));
                    Some((i, d))
                });
            }
            (CLASS_TABLE, TABLE_SWITCH) => {
                let id = Reader::new(&m.payload).varint().ok_or("malformed switch")?;
                self.remote = self.remote_defs.iter().find(|(_, d)| d.id == id).cloned();
            }
            (CLASS_TABLE, TABLE_ACK) => {
                let mut r = Reader::new(&m.payload);
                let (id, update) = r.varint().zip(r.u32_be()).ok_or("malformed ack")?;
                if matches!(self.teaching, Teaching::No) {
                    if let Some(t) = self.tables.iter_mut().find(|t| t.local_id == id) {
                        t.acked = update;
                    }
                }
            }
            (
                CLASS_TABLE,
                kind @ (TABLE_UPDATE
                | TABLE_INCREMENTAL_UPDATE
                | TABLE_UPDATE_TIMED
                | TABLE_INCREMENTAL_UPDATE_TIMED),
            ) => self.apply_update(m, kind, now)?,
            (CLASS_TABLE, _) => {}
            (CLASS_RESERVED, _) => return Err("reserved message class".into()),
            _ => {}
        }
        Ok(None)
    }

    fn apply_update(&mut self, m: &Message, kind: u8, now: u64) -> Result<(), String> {
        let with_id = matches!(kind, TABLE_UPDATE | TABLE_UPDATE_TIMED);
        let timed = matches!(kind, TABLE_UPDATE_TIMED | TABLE_INCREMENTAL_UPDATE_TIMED);
        let Some((i, remote)) = &self.remote else {
            return Ok(());
        };
        let lt = &mut self.tables[*i];
        let t = lt.table.clone();
        let got =
            entries::parse_update(&m.payload, &t, remote, with_id, timed, &mut self.dict, now)
                .ok_or("malformed update")?;
        lt.last_get = got.id.unwrap_or(lt.last_get.wrapping_add(1));
        let Some(e) = t.get_or_create(&got.key, now) else {
            return Ok(());
        };
        {
            let mut slots = e.write();
            for (dt, idx, v) in got.values {
                if let Some(s) = t.layout.slot(dt, idx) {
                    slots[s] = v;
                }
            }
        }
        // Learnt, not made here: not sent on to other peers.
        t.touch(&e, now, false);
        // The sender's remaining life (lessons), else the table's own.
        if t.expire != 0 {
            t.set_expire(&e, now + u64::from(got.remaining.unwrap_or(t.expire)));
        }
        Ok(())
    }

    /// Appends what is due to the peer: a resync request, acknowledgements, our updates (or
    /// the lesson it asked for), the lesson's end, confirmations. `up_to_date`: whether we
    /// learnt everything ourselves (else the lesson ends as "partial").
    pub fn send(&mut self, out: &mut Vec<u8>, now: u64, up_to_date: bool) {
        if std::mem::take(&mut self.resync_request_due) {
            encode(out, CLASS_CONTROL, CTRL_RESYNC_REQUEST, &[]);
        }
        for (i, t) in self.tables.iter_mut().enumerate() {
            if t.last_get != t.last_acked {
                let mut p = Vec::new();
                let remote_id = self
                    .remote_defs
                    .iter()
                    .find(|(ours, _)| *ours == i)
                    .map_or(0, |(_, d)| d.id);
                put_varint(&mut p, remote_id);
                p.extend_from_slice(&t.last_get.to_be_bytes());
                encode(out, CLASS_TABLE, TABLE_ACK, &p);
                t.last_acked = t.last_get;
            }
        }
        if let Teaching::Lesson(lesson) = &mut self.teaching {
            let n = lesson.len().min(self.max_updates);
            let batch: Vec<(usize, Key)> = lesson.drain(..n).collect();
            let done = lesson.is_empty();
            for (i, key) in batch {
                self.send_entry(out, i, &key, now);
            }
            if done {
                let kind = if up_to_date {
                    CTRL_RESYNC_FINISHED
                } else {
                    CTRL_RESYNC_PARTIAL
                };
                encode(out, CLASS_CONTROL, kind, &[]);
                self.teaching = Teaching::AwaitingConfirm;
            }
        } else if matches!(self.teaching, Teaching::No) && !self.learning {
            for i in 0..self.tables.len() {
                let pending = match &self.tables[i].table.updates {
                    Some(u) => u
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .after(self.tables[i].last_pushed, self.max_updates),
                    None => Vec::new(),
                };
                for (id, key) in pending {
                    self.send_update(out, i, &key, id, now);
                }
            }
        }
        for _ in 0..std::mem::take(&mut self.confirms) {
            encode(out, CLASS_CONTROL, CTRL_RESYNC_CONFIRM, &[]);
        }
    }

    fn define_if_needed(&mut self, out: &mut Vec<u8>, i: usize) -> bool {
        if self.last_defined == Some(i) {
            return false;
        }
        let t = &self.tables[i];
        encode(
            out,
            CLASS_TABLE,
            TABLE_DEFINE,
            &entries::define(&t.table, t.local_id),
        );
        self.last_defined = Some(i);
        true
    }

    /// Whether an entry goes to this peer (a sharded peer gets its shard's only).
    fn for_peer(&self, i: usize, key: &[u8]) -> bool {
        self.peer_shard == 0 || self.tables[i].table.peer_shard(key) == self.peer_shard
    }

    /// An incremental update: without its id when it follows the previous one.
    fn send_update(&mut self, out: &mut Vec<u8>, i: usize, key: &[u8], id: u32, now: u64) {
        if !self.for_peer(i, key) {
            self.tables[i].last_pushed = id;
            return;
        }
        let defined = self.define_if_needed(out, i);
        let t = &mut self.tables[i];
        let Some(e) = t.table.lookup(key, now) else {
            t.last_pushed = id;
            return;
        };
        let implied = !defined && t.last_pushed != 0 && id == t.last_pushed.wrapping_add(1);
        let slots: Vec<Slot> = e.read().clone();
        let form = UpdateForm {
            id: (!implied).then_some(id),
            remaining: None,
        };
        let kind = if implied {
            TABLE_INCREMENTAL_UPDATE
        } else {
            TABLE_UPDATE
        };
        encode(
            out,
            CLASS_TABLE,
            kind,
            &entries::update(&t.table, key, &slots, form, now),
        );
        t.last_pushed = id;
    }

    /// An entry of a lesson, with its remaining life.
    fn send_entry(&mut self, out: &mut Vec<u8>, i: usize, key: &[u8], now: u64) {
        if !self.for_peer(i, key) {
            return;
        }
        self.define_if_needed(out, i);
        let t = &self.tables[i];
        let Some(e) = t.table.lookup(key, now) else {
            return;
        };
        let remaining = if t.table.expire == 0 {
            0
        } else {
            e.expire().saturating_sub(now) as u32
        };
        let id = t
            .table
            .updates
            .as_ref()
            .map_or(0, |u| u.lock().unwrap_or_else(|e| e.into_inner()).last());
        let slots: Vec<Slot> = e.read().clone();
        let form = UpdateForm {
            id: Some(id),
            remaining: Some(remaining),
        };
        encode(
            out,
            CLASS_TABLE,
            TABLE_UPDATE_TIMED,
            &entries::update(&t.table, key, &slots, form, now),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::data::DataType;
    use hapee_compiler::plan::tables::{KeyType, StickTablePlan};

    fn shared_table() -> Arc<Table> {
        Arc::new(
            Table::new(&StickTablePlan {
                peers: Some("p".into()),
                ..crate::tables::test_plan("t", KeyType::Ip, 100, Some(60_000), &[("gpc0", 1, 0)])
            })
            .unwrap(),
        )
    }

    /// Messages of `out`, each as (class, type).
    fn kinds(mut out: Vec<u8>) -> Vec<(u8, u8)> {
        let mut v = Vec::new();
        while let Some(m) = decode(&mut out).unwrap() {
            v.push((m.class, m.kind));
        }
        v
    }

    fn set_gpc0(t: &Table, key: [u8; 4], v: u32, now: u64) {
        let e = t.get_or_create(&key, now).unwrap();
        e.write()[0] = Slot::Uint(v);
        t.touch(&e, now, true);
    }

    #[test]
    fn two_links_share_updates_acks_and_lessons() {
        let now = 9_000_000;
        let (a, b) = (shared_table(), shared_table());
        let mut a_to_b = Link::new(vec![(a.clone(), 0)], 200, 0);
        let mut b_from_a = Link::new(vec![(b.clone(), 0)], 200, 0);
        set_gpc0(&a, [10, 0, 0, 1], 5, now);
        set_gpc0(&a, [10, 0, 0, 2], 6, now);
        let mut wire = Vec::new();
        a_to_b.send(&mut wire, now, true);
        // A definition, an update with its id, then one whose id is implied.
        assert_eq!(
            kinds(wire.clone()),
            [
                (10, TABLE_DEFINE),
                (10, TABLE_UPDATE),
                (10, TABLE_INCREMENTAL_UPDATE)
            ]
        );
        while let Some(m) = decode(&mut wire).unwrap() {
            b_from_a.receive(&m, now).unwrap();
        }
        let e = b.lookup(&[10, 0, 0, 2], now).unwrap();
        assert_eq!(e.read()[0], Slot::Uint(6));
        assert_eq!(b.layout.slot(DataType::Gpc0, 0), Some(0));
        // What B learnt is not queued for B's own peers.
        assert_eq!(b.updates.as_ref().unwrap().lock().unwrap().last(), 0);
        // B acknowledges update 2 with A's table id.
        let mut back = Vec::new();
        b_from_a.send(&mut back, now, true);
        let ack = decode(&mut back).unwrap().unwrap();
        assert_eq!(
            (ack.kind, &ack.payload[..]),
            (TABLE_ACK, &[1, 0, 0, 0, 2][..])
        );
        a_to_b.receive(&ack, now).unwrap();
        assert_eq!(a_to_b.acked(), [2]);
        // B asks for a lesson: A sends every entry with its remaining life, then "finished";
        // B confirms.
        b_from_a.learn();
        let mut req = Vec::new();
        b_from_a.send(&mut req, now, true);
        a_to_b
            .receive(&decode(&mut req).unwrap().unwrap(), now)
            .unwrap();
        let mut lesson = Vec::new();
        a_to_b.send(&mut lesson, now + 1000, true);
        let k = kinds(lesson.clone());
        assert_eq!(k.iter().filter(|m| m.1 == TABLE_UPDATE_TIMED).count(), 2);
        assert_eq!(k.last(), Some(&(0, CTRL_RESYNC_FINISHED)));
        let mut event = None;
        while let Some(m) = decode(&mut lesson).unwrap() {
            event = event.or(b_from_a.receive(&m, now + 1000).unwrap());
        }
        assert_eq!(event, Some(Event::LearnFinished));
        let e = b.lookup(&[10, 0, 0, 1], now + 1000).unwrap();
        assert_eq!(
            e.expire(),
            now + 60_000,
            "the remaining life the lesson carried"
        );
        let mut confirm = Vec::new();
        b_from_a.send(&mut confirm, now, true);
        assert!(kinds(confirm).contains(&(0, CTRL_RESYNC_CONFIRM)));
    }

    #[test]
    fn a_sharded_peer_is_sent_its_shard_only() {
        let now = 9_000_000;
        let t = {
            let mut p = hapee_compiler::plan::tables::stick_table(
                "t",
                "t",
                &["type", "ip", "size", "100", "store", "gpc0"],
                Some("p"),
            );
            p.shards = 3;
            Arc::new(Table::new(&p).unwrap())
        };
        let keys: Vec<[u8; 4]> = (1..=30).map(|n| [10, 0, 0, n]).collect();
        for k in &keys {
            set_gpc0(&t, *k, 1, now);
        }
        let shards: Vec<u32> = keys.iter().map(|k| t.peer_shard(k)).collect();
        assert!(shards.iter().all(|s| (1..=3).contains(s)));
        assert!(
            (1..=3).all(|s| shards.contains(&s)),
            "30 keys fall in every shard"
        );
        let mut link = Link::new(vec![(t.clone(), 0)], 200, 2);
        let mut out = Vec::new();
        link.send(&mut out, now, true);
        let updates = kinds(out)
            .iter()
            .filter(|k| matches!(k.1, TABLE_UPDATE | TABLE_INCREMENTAL_UPDATE))
            .count();
        assert_eq!(updates, shards.iter().filter(|s| **s == 2).count());
    }
}
