//! Map and ACL commands: `show map|acl [<ref>]`, `add map <ref> <key> <value>`, `add acl <ref>
//! <pattern>`, `del map|acl <ref> <key>|#<id>`, `set map <ref> <key>|#<id> <value>`, `clear
//! map|acl <ref>`. A reference is a file name or `#<id>`; a change is seen at once by every
//! thread (see `patref`).

use super::cli::Session;
use crate::patref::{self, Kind, PatRef};
use crate::state::Shared;
use std::fmt::Write as _;
use std::sync::Arc;

type Answer = Result<String, String>;

fn kind_of(word: &str) -> Kind {
    if word == "acl" {
        Kind::Acl
    } else {
        Kind::Map
    }
}

fn unknown(kind: Kind) -> String {
    match kind {
        Kind::Map => "Unknown map identifier. Please use #<id> or <file>.\n".into(),
        Kind::Acl => "Unknown ACL identifier. Please use #<id> or <file>.\n".into(),
    }
}

fn reference(kind: Kind, ident: Option<&String>) -> Result<Arc<PatRef>, String> {
    ident
        .and_then(|i| patref::find(i, kind))
        .ok_or_else(|| unknown(kind))
}

/// An entry named as `#<id>` (what `show map <ref>` prints in front of it).
fn entry_id(word: &str) -> Option<u64> {
    let hex = word
        .strip_prefix("#0x")
        .or_else(|| word.strip_prefix("#"))?;
    u64::from_str_radix(hex, 16).ok()
}

/// `show map|acl [<ref>]`.
pub fn show(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let mut out = String::new();
    let Some(ident) = args.get(2) else {
        out.push_str("# id (file) description\n");
        let used_by = if kind == Kind::Map { "map" } else { "acl" };
        for r in patref::all(kind) {
            let _ = writeln!(
                out,
                "{} ({}) pattern loaded from file '{}' used by {used_by}. curr_ver=0 next_ver=0 entry_cnt={}",
                r.id,
                r.path,
                r.path,
                r.entries().len()
            );
        }
        return Ok(out);
    };
    let r = reference(kind, Some(ident))?;
    for e in r.entries().iter() {
        if kind == Kind::Map {
            let _ = writeln!(out, "{:#x} {} {}", e.id, e.key, e.value);
        } else {
            let _ = writeln!(out, "{:#x} {}", e.id, e.key);
        }
    }
    Ok(out)
}

/// `add map <ref> <key> <value>` and `add acl <ref> <pattern>`.
pub fn add(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let (key, value) = match kind {
        Kind::Map => match (args.get(3), args.get(4)) {
            (Some(k), Some(v)) => (k, v.as_str()),
            _ => {
                return Err(
                    "'add map' expects three parameters: map identifier, key and value.\n".into(),
                )
            }
        },
        Kind::Acl => match args.get(3) {
            Some(k) => (k, ""),
            None => {
                return Err(
                    "'add acl' expects two parameters: ACL identifier and pattern.\n".into(),
                )
            }
        },
    };
    let r = reference(kind, args.get(2))?;
    if let Some(why) = r.refusal(key) {
        return Err(format!("{why}\n"));
    }
    r.add(key, value);
    Ok(String::new())
}

/// `del map|acl <ref> <key>|#<id>`.
pub fn del(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let Some(key) = args.get(3) else {
        return Err(match kind {
            Kind::Map => "This command expects two parameters: map identifier and key.\n",
            Kind::Acl => "This command expects two parameters: ACL identifier and key.\n",
        }
        .into());
    };
    let r = reference(kind, args.get(2))?;
    let done = match key.starts_with('#') {
        true => match entry_id(key) {
            Some(id) => r.delete_id(id),
            None => return Err("Malformed identifier. Please use #<id> or <file>.\n".into()),
        },
        false => r.delete(key),
    };
    if done {
        Ok(String::new())
    } else {
        Err("Key not found.\n".into())
    }
}

/// `set map <ref> <key>|#<id> <value>`.
pub fn set(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let (Some(key), Some(value)) = (args.get(3), args.get(4)) else {
        return Err("'set map' expects three parameters: map identifier, key and value.\n".into());
    };
    let r = reference(Kind::Map, args.get(2))?;
    let done = match key.starts_with('#') {
        true => match entry_id(key) {
            Some(id) => r.set_id(id, value),
            None => return Err("Malformed identifier. Please use #<id> or <file>.\n".into()),
        },
        false => r.set(key, value),
    };
    if done {
        Ok(String::new())
    } else {
        Err("entry not found.\n".into())
    }
}

/// `clear map|acl <ref>`.
pub fn clear(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    if args.get(2).is_none() {
        return Err(match kind {
            Kind::Map => "Missing map identifier.\n",
            Kind::Acl => "Missing ACL identifier.\n",
        }
        .into());
    }
    reference(kind, args.get(2))?.clear();
    Ok(String::new())
}
