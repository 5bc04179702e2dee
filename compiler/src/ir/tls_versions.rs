//! The protocol versions a TLS bind accepts, as HAProxy works them out when it prepares the
//! bind: `ssl-min-ver`/`ssl-max-ver` and the `no-…`/`force-…` words of the line, completed by
//! the global `ssl-default-bind-options`; TLSv1.2 is the lowest by default. No version left is
//! an error; a range with a hole, an upper bound under the default lower one, or `no-…` words
//! beside explicit bounds are warned about.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

/// The versions in HAProxy's order (1 to 5); a version's flag is `1 << (index - 1)`.
const NAMES: [&str; 5] = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const DEFAULT_MIN: usize = 4;

fn flag(v: usize) -> u32 {
    1 << (v - 1)
}

/// Lower bound, upper bound (0: none) and disabled versions written in `words`.
#[derive(Default)]
struct Methods {
    min: usize,
    max: usize,
    flags: u32,
}

impl Methods {
    fn read<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) {
        let mut words = words.into_iter().peekable();
        while let Some(w) = words.next() {
            let version = |name: Option<&str>| {
                name.and_then(|n| NAMES.iter().position(|v| *v == n))
                    .map_or(0, |i| i + 1)
            };
            let suffix = |w: &str| match w.split_once('-').map(|(_, s)| s) {
                Some("sslv3") => 1,
                Some("tlsv10") => 2,
                Some("tlsv11") => 3,
                Some("tlsv12") => 4,
                Some("tlsv13") => 5,
                _ => 0,
            };
            match w {
                "ssl-min-ver" => self.min = version(words.next()),
                "ssl-max-ver" => self.max = version(words.next()),
                _ if w.starts_with("no-") && suffix(w) > 0 => self.flags |= flag(suffix(w)),
                _ if w.starts_with("force-") && suffix(w) > 0 => {
                    (self.min, self.max) = (suffix(w), suffix(w))
                }
                _ => {}
            }
        }
    }
}

/// `place(what)` words the bind as HAProxy names it (`Proxy 'p': <what> bind 'addr' at [f:l]`).
pub(super) fn check(
    config: &Config,
    b: &Bind,
    place: &dyn Fn(&str) -> String,
    out: &mut Vec<Diagnostic>,
) {
    let mut own = Methods::default();
    own.read(b.options.iter().map(|o| o.value.as_str()));
    let mut global = Methods::default();
    for d in config
        .global
        .directives
        .iter()
        .filter(|d| d.keyword == "ssl-default-bind-options" && d.prefix.is_none())
    {
        global.read(d.args.iter().map(|a| a.as_str()));
    }
    let cfg = Methods {
        min: if own.min > 0 { own.min } else { global.min },
        max: if own.max > 0 { own.max } else { global.max },
        flags: own.flags | global.flags,
    };
    let warn = |code: &'static str, message: String| {
        Diagnostic::new(code, message)
            .form(HaproxyForm::Bare)
            .severity(Severity::Warning)
            .at(b.address.span)
            .label("the TLS versions of this bind")
    };
    let mut flags = cfg.flags;
    if cfg.flags != 0 && (cfg.min > 0 || cfg.max > 0) {
        out.push(warn(
            "W289",
            place("no-sslv3/no-tlsv1x are ignored for")
                + ". Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.",
        ));
        flags = 0;
    }
    let mut min = cfg.min;
    if min == 0 {
        if cfg.max == 0 || cfg.max >= DEFAULT_MIN {
            min = DEFAULT_MIN;
        } else {
            out.push(warn(
                "W289",
                format!(
                    "{}: the ssl-min-ver value is not configured and the ssl-max-ver value is lower than the default ssl-min-ver value ({}). Setting the ssl-min-ver to {}. Use 'ssl-min-ver' to fix this.",
                    place("Ambiguous configuration for"),
                    NAMES[DEFAULT_MIN - 1],
                    NAMES[cfg.max - 1]
                ),
            ));
            min = cfg.max;
        }
    }
    flags |= flag(min) - 1;
    if cfg.max > 0 {
        flags |= !((flag(cfg.max) << 1) - 1);
    }
    let (mut first, mut hole) = (0, 0);
    for v in 1..=NAMES.len() {
        if flags & flag(v) == 0 {
            if first > 0 && hole > 0 {
                out.push(warn(
                    "W289",
                    format!(
                        "{}. Hole find for {}. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.",
                        place("SSL/TLS versions range not contiguous for"),
                        NAMES[hole - 1]
                    ),
                ));
                hole = 0;
            }
            if first == 0 {
                first = v;
            }
        } else if first > 0 {
            hole = v;
        }
    }
    if first == 0 {
        out.push(
            Diagnostic::new("E289", place("all SSL/TLS versions are disabled for") + ".")
                .form(HaproxyForm::Bare)
                .at(b.address.span)
                .label("no TLS version is left for this bind")
                .help("make 'ssl-min-ver' no higher than 'ssl-max-ver', and do not disable every version with 'no-…' words"),
        );
    }
}
