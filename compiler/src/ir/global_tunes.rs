//! Values of the compression, soft-stop and poller settings of the global section, refused in
//! HAProxy 2.7's words (E291): `maxcompcpuusage`, `tune.zlib.memlevel`,
//! `tune.zlib.windowsize`, `close-spread-time`, the paths of `chroot`, `pidfile` and
//! `server-state-base|file`, the on/off switches (`tune.fd.edge-triggered`, `tune.ssl.keylog`,
//! `tune.idle-pool.shared`, `tune.listener.multi-queue`, `tune.sched.low-latency`), the sizes of
//! `tune.vars.*-max-size`, the `h1-case-adjust <from> <to>` pairs, and the options of
//! `ssl-default-bind-options` / `ssl-default-server-options`.

use super::build::{Builder, Stmt};
use super::values::{atol, parse_time, TimeError, TimeUnit};
use crate::diagnostic::{Diagnostic, HaproxyForm};

/// Checks one global statement whose keyword is at `at` (nothing for other keywords).
pub(super) fn statement(b: &mut Builder, stmt: &Stmt, at: usize) {
    let keyword = stmt.word(at);
    let value = stmt.word(at + 1);
    let message = match keyword {
        // HAProxy keeps 100 minus the value in an unsigned number: below 0 or above 100
        // wraps past 100. A value that is not a number reads as 0.
        "maxcompcpuusage" if !value.is_empty() => {
            let usage = atol(value);
            (!(0..=100).contains(&usage))
                .then(|| format!("'{keyword}' expects an integer argument between 0 and 100."))
        }
        "tune.zlib.memlevel" => (value.is_empty() || !(1..=9).contains(&atol(value)))
            .then(|| format!("'{keyword}' expects a numeric value between 1 and 9.")),
        "tune.zlib.windowsize" => (value.is_empty() || !(8..=15).contains(&atol(value)))
            .then(|| format!("'{keyword}' expects a numeric value between 8 and 15.")),
        "close-spread-time" => close_spread_time(keyword, value),
        "tune.fd.edge-triggered"
        | "tune.ssl.keylog"
        | "tune.idle-pool.shared"
        | "tune.listener.multi-queue"
        | "tune.sched.low-latency" => (!matches!(value, "on" | "off"))
            .then(|| format!("'{keyword}' expects either 'on' or 'off' but got '{value}'.")),
        "tune.vars.global-max-size"
        | "tune.vars.proc-max-size"
        | "tune.vars.sess-max-size"
        | "tune.vars.txn-max-size"
        | "tune.vars.reqres-max-size"
        | "tune.vars.check-max-size" => (crate::cnum::strtol(value, 10).end != value.len())
            .then(|| format!("{keyword}: '{value}' is an invalid size")),
        // Paths the process needs a word for.
        "chroot" | "pidfile" | "server-state-base" | "server-state-file" if value.is_empty() => {
            Some(match keyword {
                "chroot" => format!("'{keyword}' expects a directory as an argument."),
                "pidfile" => format!("'{keyword}' expects a file name as an argument."),
                "server-state-base" => {
                    format!("'{keyword}' expects one argument: a directory path.")
                }
                _ => format!("'{keyword}' expect one argument: a file path."),
            })
        }
        "h1-case-adjust" => h1_case_adjust(b, keyword, value, stmt.word(at + 2)),
        "h1-case-adjust-file" => value
            .is_empty()
            .then(|| format!("'{keyword}' expects <file> as argument.")),
        "ssl-default-bind-options" | "ssl-default-server-options" => {
            if let Some((i, message)) = default_tls_options(keyword, |i| stmt.word(at + i)) {
                b.push(
                    Diagnostic::new("E291", message)
                        .at(stmt.span(at + i))
                        .label("not an option of this statement")
                        .form(HaproxyForm::Parsing),
                );
            }
            return;
        }
        _ => return,
    };
    if let Some(message) = message {
        let span = if value.is_empty() {
            stmt.span(at)
        } else {
            stmt.span(at + 1)
        };
        b.push(
            Diagnostic::new("E291", message)
                .at(span)
                .label("invalid value")
                .form(HaproxyForm::Parsing),
        );
    }
}

/// `h1-case-adjust <from> <to>`: both names, then [`case_adjust_pair`] against the pairs
/// before it (the statement itself is already among the global directives).
fn h1_case_adjust(b: &Builder, keyword: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() || to.is_empty() {
        return Some(format!("'{keyword}' expects <from> and <to> as argument."));
    }
    let earlier = case_adjust_froms(&b.config.global.directives);
    let count = earlier.iter().filter(|f| **f == from).count();
    // The statement's own pair is counted once when it is valid.
    case_adjust_pair(from, to, |f| f == from && count > 1)
}

/// The `<from>` names of the valid `h1-case-adjust` lines among `directives`, in order.
pub(crate) fn case_adjust_froms(directives: &[super::DirectiveLine]) -> Vec<&str> {
    directives
        .iter()
        .filter(|d| d.prefix.is_none() && d.keyword == "h1-case-adjust")
        .filter_map(|d| match d.args.as_slice() {
            [f, t, ..] if f.eq_ignore_ascii_case(t.as_str()) => Some(f.as_str()),
            _ => None,
        })
        .collect()
}

/// One header-case pair as HAProxy adds it, from a configuration line or a line of the
/// `h1-case-adjust-file`: `<to>` present, the same name as `<from>` but for case, and `<from>`
/// not already known (case-sensitive). HAProxy's words, spelling included.
pub(crate) fn case_adjust_pair(
    from: &str,
    to: &str,
    known: impl Fn(&str) -> bool,
) -> Option<String> {
    if to.is_empty() {
        return Some("expect <to>".into());
    }
    if !from.eq_ignore_ascii_case(to) {
        return Some("<from> and <to> must not differ execpt the case".into());
    }
    known(from).then(|| format!("duplicate entry '{from}'"))
}

/// The first option HAProxy refuses on `ssl-default-bind-options` or
/// `ssl-default-server-options` (`word(i)` is the statement's i-th word, the keyword at 0,
/// empty past the end): its index and HAProxy's words. Both take `no-tls-tickets`,
/// `ssl-min-ver`/`ssl-max-ver <version>` and the `no-`/`force-` protocol flags;
/// `prefer-client-ciphers` only concerns listeners. Nothing else (`prefer-server-ciphers`,
/// `no-ssl-reuse`, …) is an option there.
fn default_tls_options<'a>(
    keyword: &str,
    word: impl Fn(usize) -> &'a str,
) -> Option<(usize, String)> {
    if word(1).is_empty() {
        return Some((
            0,
            format!("global statement '{keyword}' expects an option as an argument."),
        ));
    }
    let bind = keyword == "ssl-default-bind-options";
    let mut i = 1;
    while !word(i).is_empty() {
        let option = word(i);
        match option {
            "no-tls-tickets" => {}
            "prefer-client-ciphers" if bind => {}
            "ssl-min-ver" | "ssl-max-ver" => {
                let version = word(i + 1);
                let error = if version.is_empty() {
                    Some(format!("'{option}' : missing the ssl/tls version"))
                } else {
                    crate::plan::tls::tls_version(version).err()
                };
                if let Some(error) = error {
                    return Some((i, format!("{error} on global statement '{keyword}'.")));
                }
                i += 1;
            }
            _ if is_protocol_flag(option) => {}
            _ => {
                return Some((
                    i,
                    format!("unknown option '{option}' on global statement '{keyword}'."),
                ))
            }
        }
        i += 1;
    }
    None
}

/// `no-<protocol>` or `force-<protocol>`, the protocol one of sslv3, tlsv10 … tlsv13.
fn is_protocol_flag(option: &str) -> bool {
    let protocol = option
        .strip_prefix("no-")
        .or_else(|| option.strip_prefix("force-"));
    matches!(
        protocol,
        Some("sslv3" | "tlsv10" | "tlsv11" | "tlsv12" | "tlsv13")
    )
}

/// `close-spread-time <time>|infinite`.
fn close_spread_time(keyword: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return Some(format!("'{keyword}' expects <time> as argument."));
    }
    if value == "infinite" {
        return None;
    }
    match parse_time(value, TimeUnit::Ms) {
        Ok(_) => None,
        Err(TimeError::Overflow) => Some(format!(
            "timer overflow in argument '{value}' to '{keyword}' (maximum value is 2147483647 ms or ~24.8 days)"
        )),
        Err(TimeError::Underflow) => Some(format!(
            "timer underflow in argument '{value}' to '{keyword}' (minimum non-null value is 1 ms)"
        )),
        Err(TimeError::Char(i)) => Some(format!(
            "unexpected character '{}' in argument to <{keyword}>.",
            value[i..].chars().next().unwrap_or(' ')
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::default_tls_options;

    fn first_refused(line: &str) -> Option<(usize, String)> {
        let words: Vec<&str> = line.split_whitespace().collect();
        default_tls_options(words[0], |i| words.get(i).copied().unwrap_or(""))
    }

    #[test]
    fn default_tls_options_are_read_as_haproxy_2_7_reads_them() {
        for ok in [
            "ssl-default-bind-options no-sslv3 no-tlsv10 force-tlsv12 no-tls-tickets",
            "ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3",
            "ssl-default-server-options ssl-min-ver TLSv1.2 no-tls-tickets no-tlsv13",
        ] {
            assert_eq!(first_refused(ok), None, "{ok}");
        }
        let refused = [
            (
                "ssl-default-bind-options no-sslv3 prefer-server-ciphers",
                2,
                "unknown option 'prefer-server-ciphers' on global statement 'ssl-default-bind-options'.",
            ),
            (
                "ssl-default-server-options prefer-client-ciphers",
                1,
                "unknown option 'prefer-client-ciphers' on global statement 'ssl-default-server-options'.",
            ),
            (
                "ssl-default-server-options no-tlsv12 no-ssl-reuse",
                2,
                "unknown option 'no-ssl-reuse' on global statement 'ssl-default-server-options'.",
            ),
            (
                "ssl-default-bind-options ssl-min-ver TLSv1.4",
                1,
                "'TLSv1.4' : unknown ssl/tls version on global statement 'ssl-default-bind-options'.",
            ),
            (
                "ssl-default-bind-options ssl-max-ver",
                1,
                "'ssl-max-ver' : missing the ssl/tls version on global statement 'ssl-default-bind-options'.",
            ),
            (
                "ssl-default-server-options",
                0,
                "global statement 'ssl-default-server-options' expects an option as an argument.",
            ),
        ];
        for (line, at, message) in refused {
            assert_eq!(
                first_refused(line),
                Some((at, message.to_string())),
                "{line}"
            );
        }
    }
}
