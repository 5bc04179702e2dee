//! Per-proxy and per-server connection settings outside the rules: the keep-alive probes'
//! timing (`clitcpka-*`, `srvtcpka-*`), a frontend's accept-queue length (`backlog`) and
//! session rate (`rate-limit sessions`), the server-name header (`http-send-name-header`) and
//! a server's own socket option (`tcp-ut`) and redirection prefix (`redir`).

use super::option_value_of;
use crate::ir::values::{parse_time, TimeUnit};
use crate::ir::DirectiveLine;
use serde::Serialize;

/// When the kernel's keep-alive probes start and how many it sends: unset fields keep the
/// system's values (TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeepAliveTiming {
    /// Probes sent without answer before the connection is dropped.
    pub count: Option<u32>,
    /// Seconds of silence before the first probe.
    pub idle_secs: Option<u32>,
    /// Seconds between probes.
    pub interval_secs: Option<u32>,
}

impl KeepAliveTiming {
    pub fn is_unset(&self) -> bool {
        *self == KeepAliveTiming::default()
    }

    /// The `<side>tcpka-cnt`, `-idle` and `-intvl` lines (`side` is `cli` or `srv`); a zero
    /// leaves the system's value, as in HAProxy.
    pub fn of(lines: &[DirectiveLine], side: &str) -> KeepAliveTiming {
        let last = |name: &str| super::lower::last_arg(lines, &format!("{side}tcpka-{name}"));
        let seconds = |name: &str| {
            last(name)
                .and_then(|v| parse_time(&v, TimeUnit::S).ok())
                .map(|d| d.value)
                .filter(|s| *s > 0)
        };
        KeepAliveTiming {
            count: last("cnt").and_then(|v| v.parse().ok()).filter(|n| *n > 0),
            idle_secs: seconds("idle"),
            interval_secs: seconds("intvl"),
        }
    }
}

/// A positive number given by the last `keyword` line.
pub fn positive(lines: &[DirectiveLine], keyword: &str) -> Option<u32> {
    super::lower::last_arg(lines, keyword)
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
}

/// `rate-limit sessions <n>`: the most new sessions a frontend accepts per second.
pub fn session_rate_limit(lines: &[DirectiveLine]) -> Option<u32> {
    lines
        .iter()
        .rev()
        .find(|d| {
            d.keyword == "rate-limit"
                && d.prefix.is_none()
                && d.args.first().map(|a| a.as_str()) == Some("sessions")
        })
        .and_then(|d| d.args.get(1))
        .and_then(|n| n.as_str().parse().ok())
        .filter(|n| *n > 0)
}

/// A server's socket options and redirection, from its `default-server` and own words.
/// (`tfo` sets nothing: see the support table.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerTuning {
    /// `tcp-ut <time>`: milliseconds sent data may stay unacknowledged (TCP_USER_TIMEOUT).
    pub user_timeout_ms: Option<u32>,
    /// Its backend's `option tcp-smart-connect`: the handshake's last acknowledgement waits
    /// to leave with the request (TCP_QUICKACK off).
    pub delayed_ack: bool,
    /// `check-send-proxy` (undone by `no-check-send-proxy`): its health checks start with a
    /// PROXY protocol header even without `send-proxy`.
    pub check_send_proxy: bool,
    /// `redir <prefix>`: GET and HEAD requests are answered with a 302 to this prefix
    /// followed by the request's URI, instead of being sent.
    pub redirect_prefix: Option<String>,
}

impl ServerTuning {
    pub fn is_unset(&self) -> bool {
        *self == ServerTuning::default()
    }

    pub fn of(words: &[&str], smart_connect: bool) -> ServerTuning {
        ServerTuning {
            delayed_ack: smart_connect,
            check_send_proxy: super::last_switch(words, "check-send-proxy", "no-check-send-proxy")
                .unwrap_or(false),
            user_timeout_ms: option_value_of(words, "tcp-ut")
                .and_then(|v| parse_time(v, TimeUnit::Ms).ok())
                .map(|d| d.value)
                .filter(|ms| *ms > 0),
            redirect_prefix: option_value_of(words, "redir").map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    #[test]
    fn keep_alive_timing_reads_seconds_and_skips_zeroes() {
        let lines = [
            line("clitcpka-cnt 4"),
            line("clitcpka-idle 2m"),
            line("clitcpka-intvl 0"),
            line("srvtcpka-idle 30"),
        ];
        let cli = KeepAliveTiming::of(&lines, "cli");
        assert_eq!(cli.count, Some(4));
        assert_eq!(cli.idle_secs, Some(120));
        assert_eq!(cli.interval_secs, None);
        assert_eq!(KeepAliveTiming::of(&lines, "srv").idle_secs, Some(30));
    }

    #[test]
    fn session_rate_and_server_words() {
        assert_eq!(
            session_rate_limit(&[line("rate-limit sessions 25")]),
            Some(25)
        );
        let t = ServerTuning::of(
            &["check", "tcp-ut", "2s", "tfo", "redir", "http://a.example"],
            false,
        );
        assert_eq!(t.user_timeout_ms, Some(2000));
        assert_eq!(t.redirect_prefix.as_deref(), Some("http://a.example"));
    }
}
