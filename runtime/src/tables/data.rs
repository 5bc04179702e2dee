//! What a table entry stores: HAProxy 2.7's data types, in its order (their numbers are the
//! bit positions peers announce in table definitions), and a table's layout of them.

use super::freq::FreqCtr;
use hapee_compiler::plan::tables::StorePlan;
use std::sync::Arc;

/// How a data type is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdType {
    Sint,
    Uint,
    Ull,
    Freq,
    /// A server name (or address) shared through the peers' dictionary.
    Dict,
}

/// Declares the data types once: the enum (in HAProxy's order, the discriminant being HAProxy's
/// number for the type), [`ALL`] in that order, and each type's name.
macro_rules! data_types {
    ($($variant:ident = $name:literal,)*) => {
        /// HAProxy 2.7's data types; the discriminant is HAProxy's number for it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum DataType {
            $($variant,)*
        }

        /// Every type in HAProxy's order.
        pub const ALL: [DataType; [$($name),*].len()] = [$(DataType::$variant),*];

        impl DataType {
            pub fn name(self) -> &'static str {
                match self {
                    $(DataType::$variant => $name,)*
                }
            }
        }
    };
}

data_types! {
    ServerId = "server_id",
    Gpt0 = "gpt0",
    Gpc0 = "gpc0",
    Gpc0Rate = "gpc0_rate",
    ConnCnt = "conn_cnt",
    ConnRate = "conn_rate",
    ConnCur = "conn_cur",
    SessCnt = "sess_cnt",
    SessRate = "sess_rate",
    HttpReqCnt = "http_req_cnt",
    HttpReqRate = "http_req_rate",
    HttpErrCnt = "http_err_cnt",
    HttpErrRate = "http_err_rate",
    BytesInCnt = "bytes_in_cnt",
    BytesInRate = "bytes_in_rate",
    BytesOutCnt = "bytes_out_cnt",
    BytesOutRate = "bytes_out_rate",
    Gpc1 = "gpc1",
    Gpc1Rate = "gpc1_rate",
    ServerKey = "server_key",
    HttpFailCnt = "http_fail_cnt",
    HttpFailRate = "http_fail_rate",
    Gpt = "gpt",
    Gpc = "gpc",
    GpcRate = "gpc_rate",
}

use DataType::*;

impl DataType {
    pub fn from_name(name: &str) -> Option<DataType> {
        ALL.iter().copied().find(|t| t.name() == name)
    }

    pub fn from_id(id: u8) -> Option<DataType> {
        ALL.get(usize::from(id)).copied()
    }

    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn std_type(self) -> StdType {
        match self {
            ServerId => StdType::Sint,
            BytesInCnt | BytesOutCnt => StdType::Ull,
            Gpc0Rate | ConnRate | SessRate | HttpReqRate | HttpErrRate | BytesInRate
            | BytesOutRate | Gpc1Rate | HttpFailRate | GpcRate => StdType::Freq,
            ServerKey => StdType::Dict,
            _ => StdType::Uint,
        }
    }

    pub fn is_array(self) -> bool {
        matches!(self, Gpt | Gpc | GpcRate)
    }

    /// Kept by each process for itself, never sent to peers (`conn_cur`).
    pub fn is_local(self) -> bool {
        self == ConnCur
    }
}

/// How a table filter compares a stored value with a number (`show table … data.<type> <op>
/// <value>`, a script's `dump` filter): HAProxy's two-letter operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Compare {
    /// `eq`, `ne`, `lt`, `le`, `gt` or `ge`.
    pub fn parse(word: &[u8]) -> Option<Compare> {
        Some(match word {
            b"eq" => Compare::Eq,
            b"ne" => Compare::Ne,
            b"lt" => Compare::Lt,
            b"le" => Compare::Le,
            b"gt" => Compare::Gt,
            b"ge" => Compare::Ge,
            _ => return None,
        })
    }

    /// Whether `value` compares so with `against`.
    pub fn holds(self, value: i64, against: i64) -> bool {
        match self {
            Compare::Eq => value == against,
            Compare::Ne => value != against,
            Compare::Lt => value < against,
            Compare::Le => value <= against,
            Compare::Gt => value > against,
            Compare::Ge => value >= against,
        }
    }
}

/// One stored value.
#[derive(Clone, Debug, PartialEq)]
pub enum Slot {
    Sint(i32),
    Uint(u32),
    Ull(u64),
    Freq(FreqCtr),
    Dict(Option<Arc<str>>),
}

impl Slot {
    /// The value as a number (a rate as read over `period` ms at `tick`), or `None` for a
    /// dictionary entry.
    pub fn number(&self, period: u32, tick: u32) -> Option<i64> {
        Some(match self {
            Slot::Sint(v) => i64::from(*v),
            Slot::Uint(v) => i64::from(*v),
            Slot::Ull(v) => *v as i64,
            Slot::Freq(f) => i64::from(f.read(period, tick)),
            Slot::Dict(_) => return None,
        })
    }

    fn zero(t: StdType) -> Slot {
        match t {
            StdType::Sint => Slot::Sint(0),
            StdType::Uint => Slot::Uint(0),
            StdType::Ull => Slot::Ull(0),
            StdType::Freq => Slot::Freq(FreqCtr::default()),
            StdType::Dict => Slot::Dict(None),
        }
    }
}

/// Where a stored type sits in an entry's slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub data_type: DataType,
    pub offset: usize,
    pub elements: usize,
    /// Period of a rate, in ms.
    pub period: u32,
}

/// The data types one table stores, in HAProxy's order.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub columns: Vec<Column>,
    by_type: [Option<u8>; ALL.len()],
    slots: usize,
}

impl Layout {
    /// The layout of `store` items; an unknown name is an error naming it.
    pub fn new(stores: &[StorePlan]) -> Result<Layout, String> {
        let mut wanted: Vec<(DataType, &StorePlan)> = Vec::new();
        for s in stores {
            let t = DataType::from_name(&s.name)
                .ok_or_else(|| format!("unknown store option '{}'", s.name))?;
            wanted.push((t, s));
        }
        wanted.sort_by_key(|(t, _)| *t as u8);
        let mut layout = Layout::default();
        for (t, s) in wanted {
            let elements = if t.is_array() { s.elements.max(1) } else { 1 } as usize;
            layout.by_type[t as usize] = Some(layout.columns.len() as u8);
            layout.columns.push(Column {
                data_type: t,
                offset: layout.slots,
                elements,
                period: s.period,
            });
            layout.slots += elements;
        }
        Ok(layout)
    }

    pub fn column(&self, t: DataType) -> Option<&Column> {
        self.by_type[t as usize].map(|i| &self.columns[usize::from(i)])
    }

    /// Slot index of element `idx` of type `t`, if stored.
    pub fn slot(&self, t: DataType, idx: usize) -> Option<usize> {
        let c = self.column(t)?;
        (idx < c.elements).then_some(c.offset + idx)
    }

    /// Fresh slots for a new entry.
    pub fn zeroed(&self) -> Vec<Slot> {
        let mut v = Vec::with_capacity(self.slots);
        for c in &self.columns {
            for _ in 0..c.elements {
                v.push(Slot::zero(c.data_type.std_type()));
            }
        }
        v
    }

    /// The bitfield of stored types peers announce.
    pub fn type_bits(&self) -> u64 {
        self.columns
            .iter()
            .fold(0, |acc, c| acc | 1 << (c.data_type as u8))
    }

    pub fn period(&self, t: DataType) -> u32 {
        self.column(t).map_or(0, |c| c.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(name: &str, elements: u32, period: u32) -> StorePlan {
        StorePlan {
            name: name.into(),
            elements,
            period,
        }
    }

    #[test]
    fn layout_follows_haproxy_order_and_numbers() {
        let l = Layout::new(&[
            store("http_req_rate", 1, 10_000),
            store("gpc", 3, 0),
            store("server_id", 1, 0),
        ])
        .unwrap();
        let order: Vec<&str> = l.columns.iter().map(|c| c.data_type.name()).collect();
        assert_eq!(order, ["server_id", "http_req_rate", "gpc"]);
        assert_eq!(l.type_bits(), 1 | 1 << 10 | 1 << 23);
        assert_eq!(l.slot(Gpc, 2), Some(4));
        assert_eq!(l.slot(Gpc, 3), None);
        assert_eq!(l.zeroed().len(), 5);
        assert!(Layout::new(&[store("nope", 1, 0)]).is_err());
        assert_eq!(DataType::from_id(24), Some(GpcRate));
        assert_eq!(StdType::Freq, ConnRate.std_type());
        for (i, t) in ALL.iter().enumerate() {
            assert_eq!(usize::from(t.id()), i);
            assert_eq!(DataType::from_name(t.name()), Some(*t));
        }
        assert_eq!(ALL.len(), 25);
    }
}
