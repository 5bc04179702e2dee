//! `show table` as HAProxy 2.7 prints it on the Runtime API: a header line per table and, for
//! one table, a line per entry with its key, trackers, remaining time and every stored value.

use super::data::{Slot, StdType};
use super::{key, tick, Entry, Table, Tables};
use std::fmt::Write;

/// `# table: NAME, type: TYPE, size:SIZE, used:USED`.
pub fn header(t: &Table, out: &mut String) {
    let _ = writeln!(
        out,
        "# table: {}, type: {}, size:{}, used:{}",
        t.name,
        t.key_type.as_str(),
        t.size,
        t.used()
    );
}

/// `show table` without a name: one header per table.
pub fn show_tables(tables: &Tables) -> String {
    let mut out = String::new();
    for t in tables.iter() {
        header(t, &mut out);
    }
    out
}

/// One entry's line.
pub fn entry_line(t: &Table, e: &Entry, now: u64, out: &mut String) {
    let _ = write!(out, "{:p}: key=", e as *const Entry);
    key::render(&e.key, t.key_type, out);
    let remain = t.remaining(e, now);
    let _ = write!(
        out,
        " use={} exp={remain} shard={}",
        e.refs(),
        t.peer_shard(&e.key)
    );
    let slots = e.read();
    let tick = tick(now);
    for c in &t.layout.columns {
        let name = c.data_type.name();
        for i in 0..c.elements {
            // Arrays show their index after the first word: gpc0, gpc_rate → gpc0_rate.
            let shown = if c.data_type.is_array() {
                match name.split_once('_') {
                    Some((a, b)) => format!("{a}{i}_{b}"),
                    None => format!("{name}{i}"),
                }
            } else {
                name.to_string()
            };
            if c.data_type.std_type() == StdType::Freq {
                let _ = write!(out, " {shown}({})=", c.period);
            } else {
                let _ = write!(out, " {shown}=");
            }
            match &slots[c.offset + i] {
                Slot::Ull(v) => {
                    let _ = write!(out, "{v}");
                }
                Slot::Dict(d) => out.push_str(d.as_deref().unwrap_or("-")),
                other => {
                    let _ = write!(out, "{}", other.number(c.period, tick).unwrap_or(0));
                }
            }
        }
    }
    out.push('\n');
}

/// `show table NAME [key KEY]`: the header, then the entries (only `KEY`'s when given).
/// Answers `None` when the key does not parse as the table's type.
pub fn show_table(t: &Table, only: Option<&str>, now: u64) -> Option<String> {
    let mut out = String::new();
    header(t, &mut out);
    match only {
        Some(k) => {
            let k = key::parse(k, t.key_type, t.key_size)?;
            if let Some(e) = t.lookup(&k, now) {
                entry_line(t, &e, now, &mut out);
            }
        }
        None => {
            for e in t.entries() {
                entry_line(t, &e, now, &mut out);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hapee_compiler::plan::tables::KeyType;

    #[test]
    fn entries_print_as_haproxy_prints_them() {
        let stores = [
            ("gpc", 2, 0),
            ("http_req_rate", 1, 10_000),
            ("server_key", 1, 0),
            ("conn_cur", 1, 0),
        ];
        let t = Table::new(&crate::tables::test_plan(
            "fe",
            KeyType::Ip,
            100,
            Some(30_000),
            &stores,
        ))
        .unwrap();
        let now = 5_000_000;
        let e = t.get_or_create(&[10, 0, 0, 1], now).unwrap();
        {
            use crate::tables::data::DataType;
            let mut d = e.write();
            d[t.layout.slot(DataType::Gpc, 0).unwrap()] = Slot::Uint(2);
            if let Slot::Freq(f) = &mut d[t.layout.slot(DataType::HttpReqRate, 0).unwrap()] {
                f.update(10_000, 3, tick(now));
            }
        }
        e.hold();
        let text = show_table(&t, Some("10.0.0.1"), now + 1000).unwrap();
        let line = text.lines().nth(1).unwrap();
        let tail = line.split_once(": ").unwrap().1;
        assert_eq!(
            text.lines().next().unwrap(),
            "# table: fe, type: ip, size:100, used:1"
        );
        assert_eq!(
            tail,
            "key=10.0.0.1 use=1 exp=29000 shard=0 conn_cur=0 http_req_rate(10000)=3 server_key=- gpc0=2 gpc1=0"
        );
        assert!(show_table(&t, Some("nope"), now).is_none());
    }
}
