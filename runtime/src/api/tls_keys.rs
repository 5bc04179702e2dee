//! `show tls-keys` and `set ssl tls-key`: the session ticket keys of `tls-ticket-keys` files
//! (runtime/src/tls/tickets.rs), listed, shown and rotated, in HAProxy's words.

use super::cli::Session;
use crate::state::Shared;
use crate::tls::tickets;
use hapee_compiler::plan::ticket_keys;
use std::fmt::Write;

/// `show tls-keys [<id>|<file>|*]`: the key files, or the keys in use of one (or of all).
pub fn show(_: &Shared, _: &mut Session, args: &[String]) -> Result<String, String> {
    let which = args.get(2).map(String::as_str).unwrap_or("");
    let refs =
        match which {
            "" => {
                let mut out = "# id (file)\n".to_string();
                for r in tickets::all() {
                    let _ = writeln!(out, "{} ({})", r.id, r.file);
                }
                return Ok(out);
            }
            all if all.starts_with('*') => tickets::all(),
            one => vec![tickets::lookup(one)
                .ok_or("'show tls-keys' unable to locate referenced filename\n")?],
        };
    let mut out = "# id secret\n".to_string();
    for r in refs {
        let _ = writeln!(out, "# {} ({})", r.id, r.file);
        for (n, key) in r.keys().iter().enumerate() {
            let _ = writeln!(out, "{}.{n} {}", r.id, ticket_keys::encode(key));
        }
    }
    Ok(out)
}

/// `set ssl tls-key <id>|<file> <base64 key>`: a newest key, the oldest dropped.
pub fn set(_: &Shared, _: &mut Session, args: &[String]) -> Result<String, String> {
    let (Some(which), Some(key)) = (
        args.get(3).filter(|a| !a.is_empty()),
        args.get(4).filter(|a| !a.is_empty()),
    ) else {
        return Err(
            "'set ssl tls-key' expects a filename and the new TLS key in base64 encoding.\n".into(),
        );
    };
    let r =
        tickets::lookup(which).ok_or("'set ssl tls-key' unable to locate referenced filename\n")?;
    let key = ticket_keys::decode(key)
        .ok_or("'set ssl tls-key' received invalid base64 encoded TLS key.\n")?;
    r.rotate(key)
        .map_err(|_| "'set ssl tls-key' received a key of wrong size.\n".to_string())?;
    Ok("TLS ticket key updated!\n".into())
}
