//! Process-wide settings of the global section that shape how the process itself runs rather
//! than any proxy: its environment, its root directory, its accept pacing and rate limits, the
//! host name in its syslog headers, the spread of its health checks, the default key of the
//! CLI's anonymizer, its sockets' buffer sizes, its grace before a soft stop and its open-file
//! limit.

use super::lower;
use crate::ir::DirectiveLine;
use serde::Serialize;

/// How many connections a listener takes per wake-up when `tune.maxaccept` is not set
/// (HAProxy's `MAX_ACCEPT`).
pub const DEFAULT_MAXACCEPT: u32 = 4;

#[derive(Clone, Debug, Serialize)]
pub struct ProcessSettings {
    /// `chroot`: the directory the process makes its root once its sockets are bound.
    pub chroot: Option<String>,
    /// `setenv`, `presetenv`, `unsetenv`, `resetenv`, in their order: applied to the
    /// process's environment before anything reads it (Lua scripts, external checks).
    pub environment: Vec<EnvChange>,
    /// `tune.maxaccept`: connections taken from a listening socket per wake-up before the
    /// other tasks (and the other threads on that socket) get their turn; `None` for `-1`,
    /// no limit.
    pub maxaccept: Option<u32>,
    /// `maxconnrate` / `maxsessrate`: new connections (sessions) per second the process
    /// accepts; 0 is no limit. The Runtime API's `set rate-limit` changes them live.
    pub maxconnrate: u32,
    pub maxsessrate: u32,
    /// `log-send-hostname`: the host name written in syslog headers (RFC3164 and RFC5424);
    /// an empty string stands for the machine's own name. `None`: no host name in RFC3164
    /// headers and `-` in RFC5424 ones.
    pub log_send_hostname: Option<String>,
    /// `anonkey`: the key `set anon on` uses when given none (0: none).
    pub anon_key: u32,
    /// `spread-checks`: each health check's next interval moves by up to this share (in %,
    /// at most 50) of itself either way, so that checks of many servers drift apart.
    pub spread_checks: u32,
    /// `max-spread-checks`, in milliseconds: the longest span the first checks are spread
    /// over at start (`None`: the shortest check interval).
    pub max_spread_checks: Option<u32>,
    /// `user`/`uid` and `group`/`gid`: whom the process runs as once its sockets are bound.
    pub user: Option<Identity>,
    pub group: Option<Identity>,
    /// `tune.rcvbuf.*` and `tune.sndbuf.*`: the kernel buffer sizes of each socket.
    pub socket_buffers: SocketBuffers,
    /// `grace`, in milliseconds: after SIGUSR1, how long the process goes on accepting (with
    /// the `stopping` fetch true) before it stops listening.
    pub grace: Option<u32>,
    /// `close-spread-time`: how connections are closed once a soft stop begins.
    pub close_spread: CloseSpread,
    /// `ulimit-n`: the open-file limit (RLIMIT_NOFILE) the process sets itself;
    /// `fd-hard-limit`: the most it may take; `strict-limits` (on unless `no strict-limits`):
    /// a limit that cannot be set stops the start rather than warning.
    pub ulimit_n: Option<u64>,
    pub fd_hard_limit: Option<u64>,
    pub strict_limits: bool,
    /// What the global `maxconn` needs of the open-file limit (HAProxy's `maxsock`), when it
    /// is set: the limit asked for without `ulimit-n`, and the least one to start with.
    pub fds: Option<super::fds::FdNeed>,
    /// `noreuseport`: listening sockets are bound without SO_REUSEPORT.
    pub noreuseport: bool,
    /// `pp2-never-send-local`: a health check's PROXY v2 header is a PROXY command naming
    /// the check's own connection, not a LOCAL one.
    pub pp2_never_send_local: bool,
}

/// `close-spread-time`: when a soft-stopping process ends its client connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum CloseSpread {
    /// Not set (or 0): the default stop: idle connections close at once (HTTP/1 ones kept
    /// for their next request under `option idle-close-on-response`), busy ones close with
    /// their next response.
    #[default]
    AtOnce,
    /// Over this many milliseconds: each idle connection at a random moment of the window,
    /// each response with a chance of closing that grows as the window passes.
    Over(u32),
    /// `infinite`: none is closed by the stop; connections end by their own timeouts.
    Never,
}

/// The receive and send buffer sizes (SO_RCVBUF, SO_SNDBUF) set on each client connection
/// (`tune.rcvbuf.client`, `tune.sndbuf.client`) and on each server connection before it
/// connects (`tune.rcvbuf.server`, `tune.sndbuf.server`); 0 leaves the kernel's own sizing.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SocketBuffers {
    pub client_rcvbuf: u32,
    pub client_sndbuf: u32,
    pub server_rcvbuf: u32,
    pub server_sndbuf: u32,
}

/// A user or a group, by name (looked up where the process runs) or by number.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub enum Identity {
    Name(String),
    Id(u32),
}

/// One change to the process environment.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub enum EnvChange {
    /// `setenv NAME VALUE`: set, replacing any value.
    Set(String, String),
    /// `presetenv NAME VALUE`: set unless already set.
    Preset(String, String),
    /// `unsetenv NAME…`.
    Unset(Vec<String>),
    /// `resetenv [NAME…]`: remove every variable but those named.
    Reset(Vec<String>),
}

impl ProcessSettings {
    /// The open-file limit the process asks for at start: `ulimit-n`, else what the global
    /// `maxconn` needs.
    pub fn open_files_wanted(&self) -> Option<u64> {
        self.ulimit_n.or(self.fds.map(|f| f.maxsock))
    }

    pub fn of(lines: &[DirectiveLine]) -> ProcessSettings {
        // HAProxy keeps the first of these and reports the others ("already specified").
        let first = |keyword: &str| {
            lines
                .iter()
                .find(|d| d.keyword == keyword && d.prefix.is_none())
                .map(|d| d.args.first().map(|a| a.to_string()).unwrap_or_default())
        };
        let rate = |keyword: &str| first(keyword).and_then(|v| v.parse().ok()).unwrap_or(0);
        // Read as HAProxy reads them (`atol`), a second line only reported.
        let size = |keyword: &str| {
            first(keyword).map_or(0, |v| {
                u32::try_from(crate::ir::values::atol(&v).max(0)).unwrap_or(u32::MAX)
            })
        };
        let maxaccept = match lower::last_arg(lines, "tune.maxaccept").map(|v| v.parse::<i64>()) {
            Some(Ok(-1)) => None,
            Some(Ok(n)) if n > 0 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            _ => Some(DEFAULT_MAXACCEPT),
        };
        let words = |d: &DirectiveLine| d.args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let environment = lines
            .iter()
            .filter_map(|d| {
                let mut args = words(d);
                Some(match d.keyword.as_str() {
                    "setenv" | "presetenv" if args.len() >= 2 => {
                        let value = args.swap_remove(1);
                        let name = args.swap_remove(0);
                        if d.keyword == "setenv" {
                            EnvChange::Set(name, value)
                        } else {
                            EnvChange::Preset(name, value)
                        }
                    }
                    "unsetenv" => EnvChange::Unset(args),
                    "resetenv" => EnvChange::Reset(args),
                    _ => return None,
                })
            })
            .collect();
        ProcessSettings {
            chroot: first("chroot").filter(|d| !d.is_empty()),
            environment,
            maxaccept,
            maxconnrate: rate("maxconnrate"),
            maxsessrate: rate("maxsessrate"),
            log_send_hostname: first("log-send-hostname"),
            anon_key: first("anonkey").and_then(|k| k.parse().ok()).unwrap_or(0),
            spread_checks: lower::last_arg(lines, "spread-checks")
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
                .min(50),
            max_spread_checks: lower::last_arg(lines, "max-spread-checks")
                .and_then(|t| lower::ms(&t))
                .filter(|&t| t > 0),
            user: identity(lines, "user", "uid"),
            group: identity(lines, "group", "gid"),
            socket_buffers: SocketBuffers {
                client_rcvbuf: size("tune.rcvbuf.client"),
                client_sndbuf: size("tune.sndbuf.client"),
                server_rcvbuf: size("tune.rcvbuf.server"),
                server_sndbuf: size("tune.sndbuf.server"),
            },
            grace: lower::last_arg(lines, "grace").and_then(|t| lower::ms(&t)),
            close_spread: match lower::last_arg(lines, "close-spread-time").as_deref() {
                Some("infinite") => CloseSpread::Never,
                Some(t) => lower::ms(t)
                    .filter(|&ms| ms > 0)
                    .map_or(CloseSpread::AtOnce, CloseSpread::Over),
                None => CloseSpread::AtOnce,
            },
            ulimit_n: Some(u64::from(size("ulimit-n"))).filter(|&n| n > 0),
            fd_hard_limit: Some(u64::from(size("fd-hard-limit"))).filter(|&n| n > 0),
            strict_limits: lines
                .iter()
                .rev()
                .find(|d| d.keyword == "strict-limits")
                .is_none_or(|d| d.prefix.is_none()),
            // Counted once the whole plan is known.
            fds: None,
            noreuseport: lines.iter().any(|d| d.keyword == "noreuseport"),
            pp2_never_send_local: lines.iter().any(|d| d.keyword == "pp2-never-send-local"),
        }
    }
}

/// The first of `by_name <name>` and `by_id <number>` lines (HAProxy keeps the first).
fn identity(lines: &[DirectiveLine], by_name: &str, by_id: &str) -> Option<Identity> {
    lines.iter().find_map(|d| {
        let arg = d.args.first()?;
        if d.keyword == by_name {
            Some(Identity::Name(arg.to_string()))
        } else if d.keyword == by_id {
            arg.parse().ok().map(Identity::Id)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    #[test]
    fn settings_are_read_as_haproxy_reads_them() {
        let lines = [
            line("maxconnrate 100"),
            line("maxconnrate 5"),
            line("log-send-hostname"),
            line("anonkey 1234"),
            line("setenv A 1"),
            line("presetenv B 2"),
            line("unsetenv C D"),
            line("resetenv E"),
            line("tune.maxaccept -1"),
            line("uid 65534"),
            line("user root"),
            line("group nogroup"),
            line("tune.rcvbuf.client 8192"),
            line("tune.rcvbuf.client 4096"),
            line("tune.sndbuf.server 16k"),
            line("grace 2s"),
            line("max-spread-checks 1s"),
            line("ulimit-n 2048"),
            line("no strict-limits"),
        ];
        let s = ProcessSettings::of(&lines);
        assert_eq!(s.maxconnrate, 100, "the first one holds");
        assert_eq!(s.maxsessrate, 0);
        assert_eq!(s.log_send_hostname.as_deref(), Some(""));
        assert_eq!(s.anon_key, 1234);
        assert_eq!(s.maxaccept, None);
        assert_eq!(s.user, Some(Identity::Id(65534)), "the first one holds");
        assert_eq!(s.group, Some(Identity::Name("nogroup".into())));
        assert_eq!(
            s.socket_buffers,
            SocketBuffers {
                client_rcvbuf: 8192,
                server_sndbuf: 16,
                ..SocketBuffers::default()
            },
            "the first one holds, read as atol reads it"
        );
        assert_eq!(s.grace, Some(2000));
        assert_eq!(s.max_spread_checks, Some(1000));
        assert_eq!(
            (s.ulimit_n, s.fd_hard_limit, s.strict_limits),
            (Some(2048), None, false)
        );
        assert_eq!(
            s.environment,
            vec![
                EnvChange::Set("A".into(), "1".into()),
                EnvChange::Preset("B".into(), "2".into()),
                EnvChange::Unset(vec!["C".into(), "D".into()]),
                EnvChange::Reset(vec!["E".into()]),
            ]
        );
        let none = ProcessSettings::of(&[]);
        assert_eq!(none.maxaccept, Some(DEFAULT_MAXACCEPT));
        assert_eq!(none.log_send_hostname, None);
        assert_eq!(none.chroot, None);
        assert_eq!(none.socket_buffers, SocketBuffers::default());
        assert_eq!(none.grace, None);
        assert!(none.strict_limits, "on by default");
    }
}
