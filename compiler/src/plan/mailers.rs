//! `mailers` sections and a backend's `email-alert` lines: who is told by mail, over SMTP,
//! when one of its servers changes state.

use super::lower::ms;
use crate::ir::{Config, DirectiveLine};
use crate::registry::SectionKind;
use serde::Serialize;

/// What a backend's email alerts need: all of `from`, `to` and `mailers` must be set (HAProxy
/// ignores the lines otherwise, with a warning at start).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmailAlert {
    pub from: String,
    pub to: String,
    /// The most verbose syslog level that sends a mail (0 emerg … 7 debug; `alert` by default).
    pub level: u8,
    /// The name given in `HELO` (`None`: the machine's host name).
    pub myhostname: Option<String>,
    /// `mailer <name> <address>` lines of the named section: each one gets every alert.
    pub mailers: Vec<(String, String)>,
    /// `timeout mail` of the section, in milliseconds (10 s by default).
    pub timeout: u32,
}

/// The syslog level of a name, as `email-alert level` takes it.
pub fn level(name: &str) -> Option<u8> {
    super::LEVELS
        .iter()
        .position(|l| *l == name)
        .and_then(|i| u8::try_from(i).ok())
}

/// A backend's alerts, from its (and its defaults') `email-alert` lines.
pub fn email_alert(config: &Config, lines: &[DirectiveLine]) -> Option<EmailAlert> {
    let setting = |what: &str| {
        lines
            .iter()
            .rev()
            .filter(|d| d.keyword == "email-alert")
            .find(|d| d.args.first().is_some_and(|a| a == what))
            .and_then(|d| d.args.get(1))
            .map(|v| v.to_string())
    };
    let section_name = setting("mailers")?;
    let section = config.sections.iter().find(|s| {
        s.kind == SectionKind::Mailers && s.name.as_ref().is_some_and(|n| n.value == section_name)
    })?;
    let mailers = section
        .lines
        .iter()
        .filter(|d| d.keyword == "mailer" && d.args.len() >= 2)
        .map(|d| (d.args[0].to_string(), d.args[1].to_string()))
        .collect();
    let timeout = section
        .lines
        .iter()
        .rev()
        .find(|d| d.keyword == "timeout" && d.args.first().is_some_and(|a| a == "mail"))
        .and_then(|d| d.args.get(1))
        .and_then(|t| ms(t))
        .unwrap_or(10_000);
    Some(EmailAlert {
        from: setting("from")?,
        to: setting("to")?,
        level: setting("level").and_then(|l| level(&l)).unwrap_or(1),
        myhostname: setting("myhostname"),
        mailers,
        timeout,
    })
}

/// `external-check command` and `external-check path` of a backend, when `option
/// external-check` is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExternalCheck {
    pub command: String,
    /// `PATH` in the command's environment (empty when unset, as in HAProxy).
    pub path: String,
    /// The address and port of the proxy's first `bind` line (`None`: a backend, whose
    /// command is given `NOT_USED` for both).
    pub listener: Option<(String, String)>,
}

/// The external check of a backend, if it has one.
pub fn external_check(lines: &[DirectiveLine]) -> Option<ExternalCheck> {
    let setting = |what: &str| {
        lines
            .iter()
            .rev()
            .filter(|d| d.keyword == "external-check")
            .find(|d| d.args.first().is_some_and(|a| a == what))
            .and_then(|d| d.args.get(1))
            .map(|v| v.to_string())
    };
    Some(ExternalCheck {
        command: setting("command")?,
        path: setting("path").unwrap_or_default(),
        listener: None,
    })
}

/// The address and port of a `bind` address as the external check is given them.
pub fn listener_of(bind: &str) -> Option<(String, String)> {
    let first = bind.split(',').next()?;
    let first = first.strip_prefix("ipv4@").unwrap_or(first);
    let first = first.strip_prefix("ipv6@").unwrap_or(first);
    let (host, port) = first.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = match host {
        "" | "*" => "0.0.0.0",
        "::" => "::",
        h => h,
    };
    Some((host.to_string(), port.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn listeners_are_split_into_address_and_port() {
        let l = |s: &str| super::listener_of(s);
        assert_eq!(l("127.0.0.1:80"), Some(("127.0.0.1".into(), "80".into())));
        assert_eq!(l(":8080"), Some(("0.0.0.0".into(), "8080".into())));
        assert_eq!(l("[::1]:81,1.2.3.4:5"), Some(("::1".into(), "81".into())));
        assert_eq!(l("/run/sock"), None);
    }

    #[test]
    fn levels_are_syslog_numbers() {
        assert_eq!(super::level("emerg"), Some(0));
        assert_eq!(super::level("alert"), Some(1));
        assert_eq!(super::level("info"), Some(6));
        assert_eq!(super::level("loud"), None);
    }
}
