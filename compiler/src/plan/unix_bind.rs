//! `unix-bind`: what every UNIX socket of a proxy's `bind` lines starts from. Its `prefix`
//! goes before each socket path (abstract names excepted); its `mode`, `user`/`uid` and
//! `group`/`gid` apply where the `bind` line sets none of its own. The stats socket does not
//! take them, as in HAProxy.

use crate::address::{Address, Family};
use crate::ir::values::atol;
use crate::ir::DirectiveLine;

/// The global section's `unix-bind` settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnixBind {
    prefix: Option<String>,
    /// The mode in octal, as the `bind` option `mode` writes it; 0 (no change) is `None`.
    mode: Option<String>,
    /// A user or group by name or number, as the `bind` options `user` and `uid` give them.
    user: Option<String>,
    group: Option<String>,
}

impl UnixBind {
    /// Reads the `unix-bind` lines in order: the first `prefix` holds (HAProxy reports the
    /// others), the last of the other settings does.
    pub fn of(lines: &[DirectiveLine]) -> UnixBind {
        let mut u = UnixBind::default();
        for d in lines.iter().filter(|d| d.keyword == "unix-bind") {
            let words: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
            for pair in words.chunks(2) {
                let [name, value] = pair else { break };
                match *name {
                    "prefix" if u.prefix.is_none() => u.prefix = Some(value.to_string()),
                    "mode" => {
                        let mode = i64::from_str_radix(octal_digits(value), 8).unwrap_or(0);
                        u.mode = (mode != 0).then(|| format!("{mode:o}"));
                    }
                    "uid" => u.user = Some(atol(value).to_string()),
                    "gid" => u.group = Some(atol(value).to_string()),
                    "user" => u.user = Some(value.to_string()),
                    "group" => u.group = Some(value.to_string()),
                    _ => {}
                }
            }
        }
        u
    }

    /// Applies the settings to one listener: its address and its option words.
    pub fn apply(&self, address: &mut Address, options: &mut Vec<String>) {
        if address.family != Family::Unix {
            return;
        }
        if let Some(prefix) = &self.prefix {
            address.host = format!("{prefix}{}", address.host).into();
        }
        let has = |options: &[String], names: &[&str]| {
            options.iter().any(|o| names.contains(&o.as_str()))
        };
        for (value, names) in [
            (&self.mode, ["mode", "mode"]),
            (&self.user, ["user", "uid"]),
            (&self.group, ["group", "gid"]),
        ] {
            if let Some(value) = value {
                if !has(options, &names) {
                    options.extend([names[1].to_string(), value.clone()]);
                }
            }
        }
    }
}

/// The octal digits `strtol(…, 8)` reads at the start of `text`.
fn octal_digits(text: &str) -> &str {
    let t = text.trim_start();
    let end = t
        .find(|c: char| !('0'..='7').contains(&c))
        .unwrap_or(t.len());
    &t[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    #[test]
    fn unix_binds_take_the_global_settings_the_bind_line_leaves() {
        let u = UnixBind::of(&[
            line("unix-bind prefix /run/a/ mode 660 user nobody"),
            line("unix-bind prefix /run/b/ gid 65534"),
        ]);
        let mut address =
            crate::address::parse("unix@h.sock", crate::address::Rules::BIND).expect("an address");
        let mut options = vec!["mode".to_string(), "600".to_string()];
        u.apply(&mut address, &mut options);
        assert_eq!(address.host, "/run/a/h.sock", "the first prefix holds");
        assert_eq!(options, ["mode", "600", "uid", "nobody", "gid", "65534"]);
        let mut tcp =
            crate::address::parse("127.0.0.1:80", crate::address::Rules::BIND).expect("an address");
        let mut none = vec![];
        u.apply(&mut tcp, &mut none);
        assert_eq!(tcp.host, "127.0.0.1");
        assert!(none.is_empty());
        assert_eq!(
            UnixBind::of(&[line("unix-bind mode 0")]),
            UnixBind::default()
        );
    }
}
