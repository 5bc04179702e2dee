//! The Runtime API's table commands, as HAProxy 2.7 answers them: `show table [<name>
//! [key <key> | data.<type> <op> <value>]]`, `clear table <name> [key <key> | data.<type> <op>
//! <value>]` and `set table <name> key <key> [data.<type> <value>]*`. The API socket (another
//! part of the runtime) hands the command's words here and prints the answer.

use super::data::{Compare, DataType, Slot, StdType};
use super::show::{entry_line, header, show_tables};
use super::{key, tick, Entry, Table, Tables};

/// `data.<type> <op> <value>`: entries whose value compares so.
struct Filter {
    data_type: DataType,
    op: Compare,
    value: i64,
}

impl Filter {
    fn parse(t: &Table, words: &[&str]) -> Result<Filter, String> {
        let [field, op, value] = words else {
            return Err("Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n".into());
        };
        let name = field.strip_prefix("data.").unwrap_or(field);
        let data_type = DataType::from_name(name).ok_or("Filter entry #1: Unknown data type\n")?;
        if t.layout.column(data_type).is_none() {
            return Err("Filter entry #1: Data type not stored in this table\n".into());
        }
        let op = Compare::parse(op.as_bytes()).ok_or(
            "Filter entry #1: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n",
        )?;
        let value = value
            .parse()
            .map_err(|_| "Filter entry #1: Require a valid integer value to compare against\n")?;
        Ok(Filter {
            data_type,
            op,
            value,
        })
    }

    fn keeps(&self, t: &Table, e: &Entry, now: u64) -> bool {
        let Some(s) = t.layout.slot(self.data_type, 0) else {
            return false;
        };
        let period = t.layout.period(self.data_type);
        // A dictionary entry compares with nothing.
        e.read()[s]
            .number(period, tick(now))
            .is_some_and(|v| self.op.holds(v, self.value))
    }
}

/// Runs a table command (`words` start with `show`, `clear` or `set`, then `table`); `None`
/// when it is not one. The answer is the text to print, an error as HAProxy words it.
pub fn command(tables: &Tables, words: &[&str], now: u64) -> Option<Result<String, String>> {
    let (verb, rest) = match words {
        [verb, "table", rest @ ..] if ["show", "clear", "set"].contains(verb) => (*verb, rest),
        _ => return None,
    };
    Some(run(tables, verb, rest, now))
}

fn run(tables: &Tables, verb: &str, rest: &[&str], now: u64) -> Result<String, String> {
    let Some(name) = rest.first() else {
        return match verb {
            "show" => Ok(show_tables(tables)),
            "clear" => Err("Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n".into()),
            _ => Err("Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n".into()),
        };
    };
    let t = tables.get(name).ok_or("No such table\n")?;
    match (verb, &rest[1..]) {
        (_, ["key"]) => Err("Key value expected\n".into()),
        (_, ["key", k, more @ ..]) => {
            let k = key::parse(k, t.key_type, t.key_size).ok_or("Invalid key\n")?;
            match verb {
                "show" => {
                    let mut out = String::new();
                    header(t, &mut out);
                    if let Some(e) = t.lookup(&k, now) {
                        entry_line(t, &e, now, &mut out);
                    }
                    Ok(out)
                }
                "clear" => match t.lookup(&k, now) {
                    Some(_) if !t.remove(&k) => {
                        Err("Entry currently in use, cannot remove\n".into())
                    }
                    _ => Ok(String::new()),
                },
                _ => set(t, &k, more, now).map(|_| String::new()),
            }
        }
        ("set", _) => {
            Err("Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n".into())
        }
        ("clear", [first, ..]) if !first.starts_with("data.") => Err("Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n".into()),
        ("show", filter) | ("clear", filter) => {
            let filter = match filter {
                [] => None,
                f => Some(Filter::parse(t, f)?),
            };
            let mut out = String::new();
            if verb == "show" {
                header(t, &mut out);
            }
            for e in t.entries() {
                if filter.as_ref().is_some_and(|f| !f.keeps(t, &e, now)) {
                    continue;
                }
                if verb == "show" {
                    entry_line(t, &e, now, &mut out);
                } else {
                    t.remove(&e.key);
                }
            }
            Ok(out)
        }
        _ => Err("Unknown action\n".into()),
    }
}

/// `set table … key … data.<type> <value>…`: rates get the value as the current period's
/// count, so that they read it until the period ends (as HAProxy does).
fn set(t: &Table, k: &[u8], pairs: &[&str], now: u64) -> Result<(), String> {
    let e = t
        .get_or_create(k, now)
        .ok_or("Unable to allocate a new entry\n")?;
    let result = (|| {
        for pair in pairs.chunks(2) {
            let name = pair[0]
                .strip_prefix("data.")
                .ok_or("\"data.<type>\" followed by a value expected\n")?;
            let dt = DataType::from_name(name).ok_or("Unknown data type\n")?;
            let slot = t
                .layout
                .slot(dt, 0)
                .ok_or("Data type not stored in this table\n")?;
            let value: i64 = pair
                .get(1)
                .and_then(|v| v.parse().ok())
                .ok_or("Require a valid integer value to store\n")?;
            let mut d = e.write();
            d[slot] = match dt.std_type() {
                StdType::Sint => Slot::Sint(value as i32),
                StdType::Uint => Slot::Uint(value as u32),
                StdType::Ull => Slot::Ull(value as u64),
                StdType::Freq => Slot::Freq(super::freq::FreqCtr {
                    curr_tick: tick(now) & !1,
                    curr_ctr: value as u32,
                    prev_ctr: 0,
                }),
                StdType::Dict => continue,
            };
        }
        Ok(())
    })();
    t.touch(&e, now, true);
    result.map_err(|e: &str| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hapee_compiler::plan::tables::KeyType;

    fn tables() -> Tables {
        let stores = [("gpc0", 1, 0), ("http_req_rate", 1, 10_000)];
        Tables::build(&[crate::tables::test_plan(
            "web",
            KeyType::Ip,
            10,
            Some(10_000),
            &stores,
        )])
        .unwrap()
    }

    fn run(t: &Tables, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        command(t, &words, 5_000_000).unwrap()
    }

    #[test]
    fn show_clear_and_set_answer_as_haproxy() {
        let t = tables();
        assert_eq!(
            run(&t, "show table"),
            Ok("# table: web, type: ip, size:10, used:0\n".into())
        );
        assert_eq!(run(&t, "show table nope"), Err("No such table\n".into()));
        assert_eq!(
            run(&t, "set table web key x data.gpc0 1"),
            Err("Invalid key\n".into())
        );
        run(
            &t,
            "set table web key 10.0.0.1 data.gpc0 7 data.http_req_rate 40",
        )
        .unwrap();
        run(&t, "set table web key 10.0.0.2 data.gpc0 1").unwrap();
        assert_eq!(
            run(&t, "set table web key 10.0.0.2 data.conn_cur 1"),
            Err("Data type not stored in this table\n".into())
        );
        let shown = run(&t, "show table web data.gpc0 gt 5").unwrap();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 2, "{shown}");
        assert!(lines[1]
            .ends_with(": key=10.0.0.1 use=0 exp=10000 shard=0 gpc0=7 http_req_rate(10000)=40"));
        run(&t, "clear table web key 10.0.0.1").unwrap();
        assert!(run(&t, "show table web")
            .unwrap()
            .starts_with("# table: web, type: ip, size:10, used:1\n"));
        run(&t, "clear table web").unwrap();
        assert_eq!(
            run(&t, "show table web key 10.0.0.2"),
            Ok("# table: web, type: ip, size:10, used:0\n".into())
        );
        assert!(command(&t, &["show", "info"], 0).is_none());
    }
}
