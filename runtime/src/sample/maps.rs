//! Map converters: `map_<match>[_<output>](file[,default])`, the key matched by string,
//! prefix, suffix, substring, directory, domain, regex (`map_regm` substituting the regex's
//! groups into the value), integer or address (longest prefix), the value given as a string,
//! an integer or an address.

use super::convert::{arg, pure, Run};
use super::{leading_int, Unsupported, Value};
use crate::patref::PatRef;
use hapee_compiler::expr::sample::Call;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapMatch {
    Str,
    Beg,
    End,
    Sub,
    Dir,
    Dom,
    Reg,
    /// A regex whose groups `\1`…`\9` are substituted into the value.
    Regm,
    Ip,
    Int,
}

impl MapMatch {
    pub fn parse(name: &str) -> Option<MapMatch> {
        Some(match name {
            "str" => MapMatch::Str,
            "beg" => MapMatch::Beg,
            "end" => MapMatch::End,
            "sub" => MapMatch::Sub,
            "dir" => MapMatch::Dir,
            "dom" => MapMatch::Dom,
            "reg" => MapMatch::Reg,
            "regm" => MapMatch::Regm,
            "ip" => MapMatch::Ip,
            "int" => MapMatch::Int,
            _ => return None,
        })
    }
}

/// The type of a map's values.
#[derive(Clone, Copy, PartialEq)]
enum Output {
    Str,
    Int,
    Ip,
}

impl Output {
    fn value(self, text: &str) -> Option<Value> {
        match self {
            Output::Str => Some(Value::Str(text.to_string())),
            Output::Int => text.parse().ok().map(Value::Int),
            Output::Ip => text.parse().ok().map(Value::Ip),
        }
    }
}

/// The map converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let name = c.name.as_str();
    let Some(rest) = name.strip_prefix("map") else {
        return Ok(None);
    };
    if !rest.is_empty() && !rest.starts_with('_') {
        return Ok(None);
    }
    let mut parts = rest.split('_').skip(1);
    let (how, output) = match (parts.next(), parts.next(), parts.next()) {
        (None, ..) => (MapMatch::Str, Output::Str),
        (Some(m), out, None) => {
            let output = match out {
                None | Some("str") => Output::Str,
                Some("int") => Output::Int,
                Some("ip") => Output::Ip,
                Some(_) => return Ok(None),
            };
            match MapMatch::parse(m) {
                Some(how) => (how, output),
                None => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    let file = crate::patref::load(arg(c, 0), crate::patref::Kind::Map)
        .map_err(|e| Unsupported(format!("map file '{}': {e}", arg(c, 0))))?;
    // Values of a typed map must all read as that type, as HAProxy checks at load.
    if output != Output::Str {
        if let Some(e) = file
            .entries()
            .iter()
            .find(|e| output.value(&e.value).is_none())
        {
            return Err(Unsupported(format!(
                "{name}: unable to parse '{}' in map '{}'",
                e.value,
                arg(c, 0)
            )));
        }
    }
    let default = match c.args.get(1) {
        Some(d) => Some(output.value(d).ok_or_else(|| {
            Unsupported(format!(
                "{name}: the default value '{d}' is not of the map's type"
            ))
        })?),
        None => None,
    };
    Ok(Some(pure(move |v| {
        let found = if how == MapMatch::Ip {
            // An input that is no address never reaches the map (nor its default).
            ip_lookup(&file, v.as_ip()?)
        } else {
            map_lookup(&file, how, &v.as_text())
        };
        match found {
            Some(text) => output.value(&text),
            None => default.clone(),
        }
    })))
}

/// The value `key` maps to in `file` (the first matching entry; for addresses the longest
/// prefix), with a `regm` entry's groups substituted.
pub fn map_lookup(file: &PatRef, how: MapMatch, key: &str) -> Option<String> {
    if how == MapMatch::Ip {
        return ip_lookup(file, key.parse().ok()?);
    }
    file.entries().iter().find_map(|e| {
        let k = e.key.as_str();
        let hit = match how {
            MapMatch::Str => k == key,
            MapMatch::Int => leading_int(k.as_bytes()) == leading_int(key.as_bytes()),
            MapMatch::Beg => key.starts_with(k),
            MapMatch::End => key.ends_with(k),
            MapMatch::Sub => key.contains(k),
            MapMatch::Dir => crate::acl::dir_match(key, k),
            MapMatch::Dom => crate::acl::dom_match(key, k, false),
            MapMatch::Reg => regex::Regex::new(k).is_ok_and(|r| r.is_match(key)),
            MapMatch::Regm => {
                let re = regex::Regex::new(k).ok()?;
                let groups = re.captures(key)?;
                return Some(substitute(&e.value, &groups));
            }
            MapMatch::Ip => false,
        };
        hit.then(|| e.value.clone())
    })
}

/// The value of the longest network of `file` that holds `ip`.
fn ip_lookup(file: &PatRef, ip: IpAddr) -> Option<String> {
    file.entries()
        .iter()
        .filter_map(|e| {
            let net = crate::acl::Cidr::parse(&e.key)?;
            net.contains(ip).then(|| (net.bits, e.value.clone()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, v)| v)
}

/// A `map_regm` value with `\0`…`\9` replaced by the matching groups.
fn substitute(value: &str, groups: &regex::Captures) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().and_then(|d| d.to_digit(10))) {
            ('\\', Some(n)) => {
                chars.next();
                out.push_str(groups.get(n as usize).map_or("", |m| m.as_str()));
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regm_substitutes_groups() {
        let re = regex::Regex::new("^/foo/(.*)/(.*)$").unwrap();
        let groups = re.captures("/foo/a/b").unwrap();
        assert_eq!(substitute("/\\2/\\1", &groups), "/b/a");
        assert_eq!(substitute("x\\9y", &groups), "xy");
    }
}
