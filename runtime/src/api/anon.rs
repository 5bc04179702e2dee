//! `set anon on [key]`, `set anon off`, `set anon global-key`, `show anon`, and the masking
//! of names and addresses in command output. hapee goes further than HAProxy 2.7.0, which
//! still prints server addresses: names and addresses alike become the tokens `hapee-anon`
//! gives with the same key (`--key <n>` for `set anon on <n>`), so anonymized output matches an
//! anonymized configuration and its logs.

use super::cli::Session;
use crate::state::Shared;
use hapee_anon::keyed::{key_from_text, Anonymizer};
use hapee_compiler::plan::CliLevel;
use std::net::IpAddr;
use std::sync::atomic::Ordering;

/// Masks what a command prints when the session is anonymized; prints as is otherwise.
pub struct Masker(Option<Anonymizer>);

impl Masker {
    pub fn new(s: &Session) -> Masker {
        Masker(
            s.anon_key
                .map(|k| Anonymizer::new(key_from_text(&k.to_string()))),
        )
    }

    pub fn name(&mut self, n: &str) -> String {
        match &mut self.0 {
            Some(a) => a.name(n),
            None => n.to_string(),
        }
    }

    pub fn host(&mut self, h: &str) -> String {
        match &mut self.0 {
            Some(a) => a.hostname(h),
            None => h.to_string(),
        }
    }

    pub fn ip(&mut self, ip: IpAddr) -> String {
        match &mut self.0 {
            Some(a) => a.ip(ip).to_string(),
            None => ip.to_string(),
        }
    }
}

fn random_key() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos ^ std::process::id().rotate_left(16)).max(1)
}

/// `set anon on [key] | off | global-key <key>`.
pub fn set_anon(shared: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    let key = args.get(3);
    match args.get(2).map(String::as_str) {
        Some("on") => {
            let k = match key {
                Some(k) => match k.parse::<u64>() {
                    Ok(v @ 1..=4294967295) => v as u32,
                    _ => return Err("Value out of range (1 to 4294967295 expected).\n".into()),
                },
                None => match shared.process.anon_global_key.load(Ordering::Relaxed) {
                    0 => random_key(),
                    g => g,
                },
            };
            s.anon_key = Some(k);
            Ok(String::new())
        }
        Some("off") => {
            if key.is_some() {
                return Err("Key can't be added while disabling anonymized mode\n".into());
            }
            s.anon_key = None;
            Ok(String::new())
        }
        Some("global-key") => {
            s.need(CliLevel::Admin)?;
            let Some(k) = key else {
                return Err("Expects an integer value.\n".into());
            };
            match k.parse::<u64>() {
                Ok(v @ 0..=4294967295) => {
                    shared
                        .process
                        .anon_global_key
                        .store(v as u32, Ordering::Relaxed);
                    Ok(String::new())
                }
                Ok(_) => Err("Value out of range (0 to 4294967295 expected).\n".into()),
                Err(_) => Err("Expects an integer value.\n".into()),
            }
        }
        _ => Err("'set anon' only supports :\n   - 'on' [key] to enable the anonymized mode\n   - 'off' to disable the anonymized mode\n   - 'global-key' <key> to set the global anonymizing key\n".into()),
    }
}

/// `show anon`: the mode, and the key for operators and admins.
pub fn show_anon(_: &Shared, s: &mut Session, _: &[String]) -> Result<String, String> {
    match s.anon_key {
        Some(k) if s.level >= CliLevel::Operator => {
            Ok(format!("Anonymized mode enabled\nKey : {k}\n"))
        }
        Some(_) => Ok("Anonymized mode enabled\n".into()),
        None => Ok("Anonymized mode disabled\n".into()),
    }
}
