//! Typed statistics fields and their three renderings: HAProxy's CSV, `typed`
//! (`F.2.0.4.scur.1:MGP:u32:0`) and `json`, shared by `show info` and `show stat`.

use std::fmt::Write as _;

/// A field's value; `Empty` fields are left blank in CSV and skipped by `typed` and `json`.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Empty,
    Str(String),
    U32(u64),
    U64(u64),
    S32(i64),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) | Val::Empty => "str",
            Val::U32(_) => "u32",
            Val::U64(_) => "u64",
            Val::S32(_) => "s32",
        }
    }

    pub fn text(&self) -> String {
        match self {
            Val::Empty => String::new(),
            Val::Str(s) => s.clone(),
            Val::U32(v) | Val::U64(v) => v.to_string(),
            Val::S32(v) => v.to_string(),
        }
    }

    fn json(&self) -> String {
        match self {
            Val::Empty => "null".into(),
            Val::Str(s) => json_string(s),
            Val::U32(v) | Val::U64(v) => v.to_string(),
            Val::S32(v) => v.to_string(),
        }
    }
}

/// A field's name and its three tags: origin, nature, scope (HAProxy's letters).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub tags: &'static str,
}

/// The long names of the tag letters, for `json`.
fn tag_names(tags: &str) -> (&'static str, &'static str, &'static str) {
    let b = tags.as_bytes();
    let origin = match b.first() {
        Some(b'M') => "Metric",
        Some(b'S') => "Status",
        Some(b'K') => "Key",
        Some(b'C') => "Config",
        Some(b'P') => "Product",
        _ => "Unknown",
    };
    let nature = match b.get(1) {
        Some(b'G') => "Gauge",
        Some(b'L') => "Limit",
        Some(b'M') => "Max",
        Some(b'R') => "Rate",
        Some(b'C') => "Counter",
        Some(b'D') => "Duration",
        Some(b'a') => "Avg",
        Some(b'A') => "Age",
        Some(b'T') => "Time",
        Some(b'N') => "Name",
        Some(b'O') => "Output",
        _ => "Unknown",
    };
    let scope = match b.get(2) {
        Some(b'P') => "Process",
        Some(b'S') => "Service",
        Some(b'C') => "System",
        _ => "Unknown",
    };
    (origin, nature, scope)
}

/// CSV quoting: a value holding a comma or a double quote is quoted, quotes doubled.
pub fn csv_value(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One `typed` line: `<prefix><pos>.<name>.1:<tags>:<type>:<value>`.
pub fn typed_line(out: &mut String, prefix: &str, pos: usize, spec: &Spec, v: &Val) {
    let _ = writeln!(
        out,
        "{prefix}{pos}.{}.1:{}:{}:{}",
        spec.name,
        spec.tags,
        v.type_name(),
        v.text()
    );
}

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// One `json` field object, keys in HAProxy's order; `object` adds `objType`, `proxyId` and
/// `id` for `show stat`.
pub fn json_field(object: Option<(&str, u32, u32)>, pos: usize, spec: &Spec, v: &Val) -> String {
    let mut out = String::from("{");
    if let Some((kind, proxy, id)) = object {
        let _ = write!(out, r#""objType":"{kind}","proxyId":{proxy},"id":{id},"#);
    }
    json_field_body(&mut out, pos, Some(1), spec, v);
    out
}

/// A `json` field object without a process number, as the resolvers domain of `show stat`
/// writes its fields.
pub fn json_field_unnumbered(pos: usize, spec: &Spec, v: &Val) -> String {
    let mut out = String::from("{");
    json_field_body(&mut out, pos, None, spec, v);
    out
}

/// The keys from `field` on, and the closing brace.
fn json_field_body(out: &mut String, pos: usize, process: Option<u32>, spec: &Spec, v: &Val) {
    let (origin, nature, scope) = tag_names(spec.tags);
    let _ = write!(
        out,
        r#""field":{{"pos":{pos},"name":{}}},"#,
        json_string(spec.name)
    );
    if let Some(process) = process {
        let _ = write!(out, r#""processNum":{process},"#);
    }
    let _ = write!(
        out,
        r#""tags":{{"origin":"{origin}","nature":"{nature}","scope":"{scope}"}},"value":{{"type":"{}","value":{}}}}}"#,
        v.type_name(),
        v.json()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renderings() {
        let spec = Spec {
            name: "scur",
            tags: "MGP",
        };
        let mut out = String::new();
        typed_line(&mut out, "F.2.0.", 4, &spec, &Val::U32(7));
        assert_eq!(out, "F.2.0.4.scur.1:MGP:u32:7\n");
        let j = json_field(Some(("Frontend", 2, 0)), 4, &spec, &Val::U32(7));
        assert_eq!(
            j,
            r#"{"objType":"Frontend","proxyId":2,"id":0,"field":{"pos":4,"name":"scur"},"processNum":1,"tags":{"origin":"Metric","nature":"Gauge","scope":"Process"},"value":{"type":"u32","value":7}}"#
        );
        assert_eq!(csv_value("a,b\"c"), "\"a,b\"\"c\"");
    }
}
