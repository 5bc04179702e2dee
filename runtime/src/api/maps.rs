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

/// The words after `<verb> map|acl`, with the `@<ver>` that may lead them taken off (read
/// as HAProxy reads it: the digits that start it, 0 without any).
fn versioned(args: &[String]) -> (Option<u32>, &[String]) {
    let rest = args.get(2..).unwrap_or_default();
    match rest.first().and_then(|w| w.strip_prefix('@')) {
        Some(ver) => {
            let digits = ver.bytes().take_while(u8::is_ascii_digit);
            let n = digits.fold(0u32, |n, d| {
                n.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
            });
            (Some(n), &rest[1..])
        }
        None => (None, rest),
    }
}

/// `show map|acl [[@<ver>] <ref>]`.
pub fn show(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let mut out = String::new();
    if args.get(2).is_none_or(String::is_empty) {
        out.push_str("# id (file) description\n");
        let used_by = if kind == Kind::Map { "map" } else { "acl" };
        for r in patref::all(kind) {
            let (current, next) = r.version_numbers();
            let _ = writeln!(
                out,
                "{} ({}) pattern loaded from file '{}' used by {used_by}. curr_ver={current} next_ver={next} entry_cnt={}",
                r.id,
                r.path,
                r.path,
                r.entry_count()
            );
        }
        return Ok(out);
    }
    let (ver, rest) = versioned(args);
    let r = reference(kind, rest.first())?;
    for e in r.entries_of(ver) {
        if kind == Kind::Map {
            let _ = writeln!(out, "{:#x} {} {}", e.id, e.key, e.value);
        } else {
            let _ = writeln!(out, "{:#x} {}", e.id, e.key);
        }
    }
    Ok(out)
}

/// `add map [@<ver>] <ref> <key> <value>` (or `<ref>` and a payload of `key value` lines)
/// and `add acl [@<ver>] <ref> <pattern>` (a payload's lines replace the pattern). Entries
/// go in one by one: a bad one stops there, those before it stay, as in HAProxy.
pub fn add(_: &Shared, s: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let (ver, rest) = versioned(args);
    let given = |i: usize| rest.get(i).is_some_and(|w| !w.is_empty());
    let payload = s.payload.as_deref();
    match kind {
        Kind::Map if (payload.is_none() && !(given(0) && given(1) && given(2))) => {
            return Err(ADD_MAP_USAGE.into())
        }
        Kind::Map if payload.is_some() && !given(0) => return Err(ADD_MAP_USAGE.into()),
        Kind::Acl if !(given(0) && given(1)) => {
            return Err("'add acl' expects two parameters: ACL identifier and pattern.\n".into())
        }
        _ => {}
    }
    let r = reference(kind, rest.first())?;
    if r.is_future(ver) {
        let what = if kind == Kind::Map { "map" } else { "acl" };
        return Err(format!(
            "Version number in the future, please use 'prepare {what}' before.\n"
        ));
    }
    let add_one = |key: &str, value: &str| match r.refusal(key) {
        Some(why) => Err(format!("{why}\n")),
        None => {
            r.add_to(ver, key, if kind == Kind::Map { value } else { "" });
            Ok(())
        }
    };
    let Some(mut text) = payload else {
        add_one(&rest[1], rest.get(2).map_or("", String::as_str))?;
        return Ok(String::new());
    };
    // HAProxy's reading: the key runs to the first blank (a line without one runs on into
    // the next), the value from the next non-blank to the end of the line.
    while !text.is_empty() {
        let key_end = text.find([' ', '\t']).unwrap_or(text.len());
        let key = &text[..key_end];
        if key_end == text.len() && kind == Kind::Map {
            return Err(format!("Missing value for key '{key}'.\n"));
        }
        let after = text.get(key_end + 1..).unwrap_or("");
        let after = after.trim_start_matches([' ', '\t']);
        let value_end = after.find('\n').unwrap_or(after.len());
        add_one(key, &after[..value_end])?;
        text = after.get(value_end + 1..).unwrap_or("");
    }
    Ok(String::new())
}

const ADD_MAP_USAGE: &str = "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n";

/// `prepare map|acl <ref>`: a new version to fill, then commit.
pub fn prepare(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let r = reference(kind, args.get(2))?;
    Ok(format!("New version created: {}\n", r.prepare()))
}

/// `commit map|acl @<ver> <ref>`: the version replaces the entries in force.
pub fn commit(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let (Some(ver), rest) = versioned(args) else {
        return Err("Missing version number.\n".into());
    };
    if rest.first().is_none_or(String::is_empty) {
        return Err(missing_identifier(kind).into());
    }
    let r = reference(kind, rest.first())?;
    r.commit(ver)
        .map(|_| String::new())
        .map_err(|_| "Version number out of range.\n".to_string())
}

fn missing_identifier(kind: Kind) -> &'static str {
    match kind {
        Kind::Map => "Missing map identifier.\n",
        Kind::Acl => "Missing ACL identifier.\n",
    }
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

/// `clear map|acl [@<ver>] <ref>`.
pub fn clear(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[1]);
    let (ver, rest) = versioned(args);
    if rest.first().is_none_or(String::is_empty) {
        return Err(missing_identifier(kind).into());
    }
    reference(kind, rest.first())?.clear_version(ver);
    Ok(String::new())
}
