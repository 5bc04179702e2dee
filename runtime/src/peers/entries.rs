//! Table definitions and entry updates as peers exchange them (sans-I/O): keys in the
//! table's wire form, stored values in data type order (counters as varints, rates as the
//! time since their period began and their two counts, server keys through a dictionary).

use super::codec::{put_varint, Reader};
use crate::tables::data::{DataType, Slot, StdType, ALL};
use crate::tables::freq::FreqCtr;
use crate::tables::{key::Key, tick, Table};
use hapee_compiler::plan::tables::KeyType;
use std::sync::Arc;

/// The key type numbers of the protocol.
fn net_key_type(k: KeyType) -> u64 {
    match k {
        KeyType::Integer => 2,
        KeyType::Ip => 4,
        KeyType::Ipv6 => 5,
        KeyType::String => 6,
        KeyType::Binary => 7,
    }
}

/// A table definition: our id for it, its network name, key type and size, stored types
/// and their parameters, and its expiry.
pub fn define(t: &Table, local_id: u64) -> Vec<u8> {
    let mut p = Vec::new();
    put_varint(&mut p, local_id);
    put_varint(&mut p, t.network_name.len() as u64);
    p.extend_from_slice(t.network_name.as_bytes());
    put_varint(&mut p, net_key_type(t.key_type));
    put_varint(&mut p, t.key_size as u64);
    put_varint(&mut p, t.layout.type_bits());
    put_varint(&mut p, u64::from(t.expire));
    for c in &t.layout.columns {
        let freq = c.data_type.std_type() == StdType::Freq;
        if c.data_type.is_array() {
            put_varint(&mut p, u64::from(c.data_type.id()));
            put_varint(&mut p, c.elements as u64);
            if freq {
                put_varint(&mut p, u64::from(c.period));
            }
        } else if freq {
            put_varint(&mut p, u64::from(c.data_type.id()));
            put_varint(&mut p, u64::from(c.period));
        }
    }
    p
}

/// What a peer's definition says about one of its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTable {
    pub id: u64,
    pub name: Vec<u8>,
    pub key_type: u64,
    pub key_size: u64,
    /// Stored types, bit = type number.
    pub types: u64,
    /// Elements of each array type.
    pub elements: [u32; ALL.len()],
}

/// Reads a definition; `None` when it is malformed or lacks an array's size.
pub fn parse_define(payload: &[u8]) -> Option<RemoteTable> {
    let mut r = Reader::new(payload);
    let id = r.varint()?;
    let len = r.varint()? as usize;
    let name = r.bytes(len)?.to_vec();
    let key_type = r.varint()?;
    let key_size = r.varint()?;
    let types = r.varint()?;
    let mut elements = [1u32; ALL.len()];
    let has_params = r.varint().is_some();
    for t in ALL.iter().filter(|t| types & (1 << t.id()) != 0) {
        let freq = t.std_type() == StdType::Freq;
        if !has_params {
            if t.is_array() {
                return None;
            }
            continue;
        }
        if t.is_array() {
            if r.varint()? != u64::from(t.id()) {
                return None;
            }
            elements[usize::from(t.id())] = r.varint()?.min(100) as u32;
            if freq {
                r.varint()?;
            }
        } else if freq {
            if r.varint()? != u64::from(t.id()) {
                return None;
            }
            r.varint()?;
        }
    }
    Some(RemoteTable {
        id,
        name,
        key_type,
        key_size,
        types,
        elements,
    })
}

impl RemoteTable {
    /// Whether our table `t` is this one (same name, key type and size).
    pub fn matches(&self, t: &Table) -> bool {
        self.name == t.network_name.as_bytes()
            && self.key_type == net_key_type(t.key_type)
            && self.key_size == t.key_size as u64
    }
}

/// How an update carries its id and remaining time.
#[derive(Clone, Copy, Debug)]
pub struct UpdateForm {
    /// The update id, or `None` for "the previous one plus one".
    pub id: Option<u32>,
    /// The entry's remaining life in ms (full resynchronisations only).
    pub remaining: Option<u32>,
}

/// The payload of an update of entry `key` with `slots`.
pub fn update(t: &Table, key: &[u8], slots: &[Slot], form: UpdateForm, now: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(32 + key.len());
    if let Some(id) = form.id {
        p.extend_from_slice(&id.to_be_bytes());
    }
    if let Some(rem) = form.remaining {
        p.extend_from_slice(&rem.to_be_bytes());
    }
    match t.key_type {
        KeyType::String => {
            let len = key.iter().position(|b| *b == 0).unwrap_or(key.len());
            put_varint(&mut p, len as u64);
            p.extend_from_slice(&key[..len]);
        }
        _ => {
            let mut k = key.to_vec();
            k.resize(t.key_size, 0);
            p.extend_from_slice(&k);
        }
    }
    let now = tick(now);
    for s in slots {
        match s {
            // HAProxy widens a signed int to 64 bits before encoding it.
            Slot::Sint(v) => put_varint(&mut p, i64::from(*v) as u64),
            Slot::Uint(v) => put_varint(&mut p, u64::from(*v)),
            Slot::Ull(v) => put_varint(&mut p, *v),
            Slot::Freq(f) => {
                put_varint(&mut p, u64::from(now.wrapping_sub(f.curr_tick)));
                put_varint(&mut p, u64::from(f.curr_ctr));
                put_varint(&mut p, u64::from(f.prev_ctr));
            }
            Slot::Dict(None) => put_varint(&mut p, 0),
            Slot::Dict(Some(name)) => {
                // Always the whole entry (id 1 and its value): valid whatever the peer cached.
                let mut d = Vec::new();
                put_varint(&mut d, 1);
                put_varint(&mut d, name.len() as u64);
                d.extend_from_slice(name.as_bytes());
                put_varint(&mut p, d.len() as u64);
                p.extend_from_slice(&d);
            }
        }
    }
    p
}

/// A received update, decoded for our table.
#[derive(Debug)]
pub struct Received {
    pub id: Option<u32>,
    pub remaining: Option<u32>,
    pub key: Key,
    /// (data type, element, value) for the types we also store.
    pub values: Vec<(DataType, usize, Slot)>,
}

/// Decodes an update for our table `t` as the peer defined it in `remote`. `dict` is the
/// link's received dictionary (ids from 1).
pub fn parse_update(
    payload: &[u8],
    t: &Table,
    remote: &RemoteTable,
    with_id: bool,
    timed: bool,
    dict: &mut [Option<Arc<str>>],
    now: u64,
) -> Option<Received> {
    let mut r = Reader::new(payload);
    let id = if with_id { Some(r.u32_be()?) } else { None };
    let remaining = if timed { Some(r.u32_be()?) } else { None };
    let key: Key = match t.key_type {
        KeyType::String => {
            let len = r.varint()? as usize;
            let bytes = r.bytes(len)?;
            bytes[..len.min(t.key_size.saturating_sub(1))].into()
        }
        _ => r.bytes(t.key_size)?.into(),
    };
    let now = tick(now);
    let mut values = Vec::new();
    for dt in ALL.iter().filter(|d| remote.types & (1 << d.id()) != 0) {
        let n = if dt.is_array() {
            remote.elements[usize::from(dt.id())] as usize
        } else {
            1
        };
        for idx in 0..n {
            let slot = match dt.std_type() {
                StdType::Sint => Slot::Sint(r.varint()? as i32),
                StdType::Uint => Slot::Uint(r.varint()? as u32),
                StdType::Ull => Slot::Ull(r.varint()?),
                StdType::Freq => {
                    let elapsed = r.varint()? as u32;
                    Slot::Freq(FreqCtr {
                        curr_tick: now.wrapping_sub(elapsed) & !1,
                        curr_ctr: r.varint()? as u32,
                        prev_ctr: r.varint()? as u32,
                    })
                }
                StdType::Dict => {
                    let len = r.varint()? as usize;
                    if len == 0 {
                        continue;
                    }
                    let mut d = Reader::new(r.bytes(len)?);
                    let id = d.varint()? as usize;
                    let cell = dict.get_mut(id.checked_sub(1)?)?;
                    if !d.is_empty() {
                        let vlen = d.varint()? as usize;
                        let v = std::str::from_utf8(d.bytes(vlen)?).ok()?;
                        *cell = Some(v.into());
                    }
                    Slot::Dict(cell.clone())
                }
            };
            // Kept locally only (`conn_cur`): read, not applied.
            if !dt.is_local() && t.layout.slot(*dt, idx).is_some() {
                values.push((*dt, idx, slot));
            }
        }
    }
    Some(Received {
        id,
        remaining,
        key,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hapee_compiler::plan::tables::StickTablePlan;

    fn table(key: KeyType, key_size: u32) -> Table {
        let stores = [
            ("server_id", 1, 0),
            ("conn_cur", 1, 0),
            ("http_req_rate", 1, 10_000),
            ("gpc", 2, 0),
            ("server_key", 1, 0),
        ];
        Table::new(&StickTablePlan {
            key_size,
            peers: Some("p".into()),
            ..crate::tables::test_plan("t", key, 10, Some(60_000), &stores)
        })
        .unwrap()
    }

    #[test]
    fn definitions_round_trip() {
        let t = table(KeyType::String, 33);
        let d = define(&t, 3);
        // id 3, name "t", string (6), key size 33, types, expire 60000 (3 bytes), then
        // http_req_rate's period and gpc's size.
        assert_eq!(&d[..6], &[3, 1, b't', 6, 33, 0xF1]);
        let remote = parse_define(&d).unwrap();
        assert!(remote.matches(&t));
        assert_eq!(remote.types, 1 | 1 << 6 | 1 << 10 | 1 << 19 | 1 << 23);
        assert_eq!(remote.elements[23], 2);
        assert!(!remote.matches(&table(KeyType::String, 32)));
    }

    #[test]
    fn updates_round_trip_and_skip_local_types() {
        let t = table(KeyType::String, 33);
        let now = 7_000_000;
        let mut slots = t.layout.zeroed();
        slots[0] = Slot::Sint(-2);
        slots[1] = Slot::Uint(9);
        slots[2] = Slot::Freq(FreqCtr {
            curr_tick: tick(now) - 1500,
            curr_ctr: 4,
            prev_ctr: 11,
        });
        slots[3] = Slot::Dict(Some("s1".into()));
        slots[4] = Slot::Uint(300);
        let form = UpdateForm {
            id: Some(77),
            remaining: Some(1234),
        };
        let p = update(&t, b"alice", &slots, form, now);
        assert_eq!(
            &p[..14],
            &[0, 0, 0, 77, 0, 0, 4, 210, 5, b'a', b'l', b'i', b'c', b'e']
        );
        let remote = parse_define(&define(&t, 1)).unwrap();
        let mut dict = vec![None; 128];
        let got = parse_update(&p, &t, &remote, true, true, &mut dict, now + 500).unwrap();
        assert_eq!(
            (got.id, got.remaining, &*got.key),
            (Some(77), Some(1234), &b"alice"[..])
        );
        let names: Vec<&str> = got.values.iter().map(|v| v.0.name()).collect();
        assert_eq!(
            names,
            ["server_id", "http_req_rate", "server_key", "gpc", "gpc"]
        );
        assert_eq!(got.values[0].2, Slot::Sint(-2));
        // Sent as "started 1500 ms ago": 1500 ms before its arrival, by the receiver's clock.
        assert_eq!(
            got.values[1].2,
            Slot::Freq(FreqCtr {
                curr_tick: tick(now + 500) - 1500,
                curr_ctr: 4,
                prev_ctr: 11
            })
        );
        assert_eq!(got.values[2].2, Slot::Dict(Some("s1".into())));
        assert_eq!(got.values[3].2, Slot::Uint(300));
        assert!(parse_update(&p[..10], &t, &remote, true, true, &mut dict, now).is_none());
    }
}
