//! The file descriptors the process reserves: HAProxy 2.7's `maxsock`. With a global `maxconn`,
//! HAProxy asks for that many open files (RLIMIT_NOFILE) at start when `ulimit-n` does not set
//! the limit, and refuses to start under `strict-limits` (the default) when it cannot have them:
//! "Cannot raise FD limit to N", or, with a `ulimit-n` below it, "FD limit (N) too low for
//! maxconn=…/maxsock=…". Without a global `maxconn` HAProxy sizes `maxconn` to the limit it
//! finds, so nothing is asked beyond it and nothing is reserved here.
//!
//! The count is HAProxy's: 10 spare, one per listening socket (each address and port of a
//! `bind` line, each `stats socket`, the local peer's), the CLI's and the peers' own connection
//! limits, one per health check and agent check, two per connection and per pipe, three per
//! thread (its poller and its wake-up pipe).

use super::Plan;
use crate::address::Port;
use crate::ir::{Config, Proxy, ProxyKind};
use serde::Serialize;

/// What a configuration with a global `maxconn` needs of the open-file limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FdNeed {
    /// The global `maxconn` the figure comes from (named in HAProxy's message).
    pub maxconn: u32,
    /// HAProxy's `maxsock`: the open files asked for.
    pub maxsock: u64,
}

impl FdNeed {
    /// HAProxy's message when the open-file limit had (`had`) stays below this need.
    pub fn too_low(&self, had: u64) -> String {
        format!(
            "FD limit ({had}) too low for maxconn={}/maxsock={}. Please raise 'ulimit-n' to {} \
             or more to avoid any trouble.",
            self.maxconn, self.maxsock, self.maxsock
        )
    }
}

/// HAProxy's message when the open-file limit cannot be raised to `wanted` (`limit` is what
/// the process has).
pub fn cannot_raise(wanted: u64, limit: u64) -> String {
    format!("Cannot raise FD limit to {wanted}, limit is {limit}.")
}

/// HAProxy's `maxsock` for the plan, when the global `maxconn` fixes it.
pub fn need(config: &Config, plan: &Plan) -> Option<FdNeed> {
    let maxconn = plan.global.maxconn.filter(|&m| m > 0)?;
    let mut maxsock: u64 = 10;
    maxsock += plan
        .listeners
        .iter()
        .map(|l| match l.address.port {
            Port::Range { low, high } => u64::from(high.saturating_sub(low)) + 1,
            _ => 1,
        })
        .sum::<u64>();
    // Each socket listens; the CLI frontend, which any global `stats socket`, `stats timeout`
    // or `stats maxconn` line creates, adds its connection limit.
    let stats = &plan.global.stats;
    maxsock += stats.sockets.len() as u64;
    // In master-worker mode the worker's end of the master's socket pair is one more listener
    // of the CLI frontend, which that mode creates as the `stats` lines do.
    let master_worker = config.global.master_worker;
    maxsock += u64::from(master_worker);
    let cli = master_worker
        || config.global.directives.iter().any(|d| {
            d.keyword == "stats"
                && d.args
                    .first()
                    .is_some_and(|a| matches!(a.as_str(), "socket" | "timeout" | "maxconn"))
        });
    if cli {
        maxsock += u64::from(stats.maxconn);
    }
    for peers in plan
        .peers
        .iter()
        .filter(|p| p.bind.is_some() && !p.disabled)
    {
        // Its listener, and three connections per peer of the section.
        maxsock += 1 + 3 * peers.peers.len() as u64;
    }
    // A check and an agent check each hold a socket.
    for server in plan.backends.iter().flat_map(|b| &b.servers) {
        let agent = server.options.iter().any(|o| o == "agent-check");
        maxsock += u64::from(server.check) + u64::from(agent);
    }
    maxsock += written_ports(config);
    maxsock += 2 * u64::from(maxconn);
    maxsock += 2 * pipes(config, maxconn);
    maxsock += 3 * u64::from(plan.global.nbthread.max(1));
    Some(FdNeed { maxconn, maxsock })
}

/// `port` and `agent-port` count one file more each time a line is read with them, as HAProxy
/// counts them while it reads the line: a `default-server` line once (the servers that take
/// its options do not read it again), each `server` line once.
fn written_ports(config: &Config) -> u64 {
    let count = |words: &mut dyn Iterator<Item = &str>| {
        words
            .filter(|w| matches!(*w, "port" | "agent-port"))
            .count() as u64
    };
    let mut seen = std::collections::HashSet::new();
    let mut n = 0;
    for p in &config.proxies {
        // A proxy lists its defaults section's lines too: the span tells one line from another.
        for d in p
            .directives
            .iter()
            .filter(|d| d.keyword == "default-server")
        {
            if seen.insert((d.span.file, d.span.start)) {
                n += count(&mut d.args.iter().map(|a| a.as_str()));
            }
        }
        for s in p.servers.iter() {
            n += count(&mut s.options.iter().map(|o| o.value.as_str()));
        }
    }
    n
}

/// The pipes HAProxy reserves for splicing: `maxpipes`, else a quarter of the connections the
/// splicing proxies may hold (all of `maxconn` when one of them has no limit).
fn pipes(config: &Config, maxconn: u32) -> u64 {
    let global = config
        .global
        .directives
        .iter()
        .rfind(|d| d.keyword == "maxpipes" && d.prefix.is_none())
        .and_then(|d| d.args.first())
        .map(|v| crate::ir::values::atol(v.as_str()).max(0) as u64);
    if let Some(n) = global.filter(|&n| n > 0) {
        return n;
    }
    let defaults = |p: &Proxy| p.defaults.and_then(|i| config.proxies.get(i));
    let option = |p: &Proxy, name: &str| {
        p.option(name)
            .or_else(|| defaults(p).and_then(|d| d.option(name)))
            .unwrap_or(false)
    };
    let (mut frontends, mut backends, mut unlimited) = (0u64, 0u64, false);
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults && !p.disabled)
        .filter(|p| {
            ["splice-auto", "splice-request", "splice-response"]
                .iter()
                .any(|o| option(p, o))
        })
    {
        if p.kind.has_frontend() {
            let own = p
                .maxconn
                .as_ref()
                .or(defaults(p).and_then(|d| d.maxconn.as_ref()));
            match own.map(|m| m.value) {
                Some(m) if m > 0 => frontends += u64::from(m),
                _ => unlimited = true,
            }
        }
        if p.kind.has_backend() {
            let fullconn = p
                .directives
                .iter()
                .rfind(|d| d.keyword == "fullconn")
                .and_then(|d| d.args.first())
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&n| n > 0);
            backends += fullconn.unwrap_or(u64::from(maxconn));
        }
    }
    let mut pipes = frontends.max(backends);
    if unlimited || pipes > u64::from(maxconn) {
        pipes = u64::from(maxconn);
    }
    if pipes >= 4 {
        pipes / 4
    } else {
        pipes
    }
}

#[cfg(test)]
mod tests {
    fn maxsock(cfg: &str, nbthread: u32) -> Option<u64> {
        let c = crate::testkit::compile_text("t.cfg", cfg, true);
        crate::plan::build(&c.config, nbthread)
            .global
            .process
            .fds
            .map(|f| f.maxsock)
    }

    const PROXIES: &str = "\
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend web
    bind *:80
    default_backend app
backend app
    default-server inter 1s
    server a 10.0.0.1:9000 check
    server b 10.0.0.2:9000 check
    server c 10.0.0.3:9000
listen stats
    bind *:1936
";

    #[test]
    fn without_a_global_maxconn_nothing_is_asked() {
        assert_eq!(maxsock(PROXIES, 2), None);
    }

    /// The figures HAProxy 2.7.0 printed ("Cannot raise FD limit to N") for public
    /// configurations of these shapes.
    #[test]
    fn listeners_checks_connections_and_threads_count_as_in_haproxy() {
        // 10 + 2 listeners + 2 checks + 2 × 30000 + 3 × 2 threads.
        let cfg = format!("global\n    maxconn 30000\n{PROXIES}");
        assert_eq!(maxsock(&cfg, 2), Some(60020));
        // A stats socket: its listener and its 10 connections; four threads.
        let cfg =
            format!("global\n    maxconn 100000\n    stats socket /tmp/hapee-fds.sock\n{PROXIES}");
        assert_eq!(maxsock(&cfg, 4), Some(10 + 2 + 11 + 2 + 200_000 + 12));
        // A port range is one listener per port; `default-server check` checks every server.
        let cfg = format!("global\n    maxconn 1000\n{PROXIES}")
            .replace("bind *:80", "bind *:8000-8009")
            .replace("default-server inter 1s", "default-server check");
        assert_eq!(maxsock(&cfg, 1), Some(10 + 11 + 3 + 2000 + 3));
    }

    /// HAProxy 2.7.0 asked for 200027 and 200019 files with `maxconn 100000` in these shapes.
    #[test]
    fn the_cli_and_written_check_ports_count_as_in_haproxy() {
        // `stats timeout` alone creates the CLI frontend: its 10 connections, no listener.
        let cfg = format!("global\n    maxconn 1000\n    stats timeout 30s\n{PROXIES}");
        assert_eq!(maxsock(&cfg, 1), Some(10 + 2 + 10 + 2 + 2000 + 3));
        // `port` on the `default-server` line is read once, not once per server.
        let cfg = format!("global\n    maxconn 1000\n{PROXIES}")
            .replace("default-server inter 1s", "default-server check port 7777");
        assert_eq!(maxsock(&cfg, 1), Some(10 + 2 + 3 + 1 + 2000 + 3));
        // On each server line, once per line.
        let cfg = format!("global\n    maxconn 1000\n{PROXIES}")
            .replace(":9000 check", ":9000 check port 7777");
        assert_eq!(maxsock(&cfg, 1), Some(10 + 2 + 2 + 2 + 2000 + 3));
    }

    /// HAProxy 2.7.0 asked for 60017 files without master-worker mode, 60028 with it (the
    /// socket pair's listener and the CLI's 10 connections) and 60029 with a stats socket too.
    #[test]
    fn master_worker_mode_adds_the_socket_pair_and_the_cli() {
        let base = "global\n    maxconn 30000\nfrontend f\n    bind 127.0.0.1:18000\n    mode http\n    timeout client 1s\n";
        assert_eq!(maxsock(base, 2), Some(60017));
        let mw = base.replace("maxconn 30000\n", "maxconn 30000\n    master-worker\n");
        assert_eq!(maxsock(&mw, 2), Some(60028));
        let socket = mw.replace(
            "master-worker\n",
            "master-worker\n    stats socket /tmp/hapee-fds-mw.sock level admin\n",
        );
        assert_eq!(maxsock(&socket, 2), Some(60029));
    }

    #[test]
    fn splicing_proxies_reserve_pipes() {
        // Unlimited splicing frontend: a quarter of maxconn, two files each.
        let cfg = format!("global\n    maxconn 1000\n{PROXIES}")
            .replace("mode http\n", "mode http\n    option splice-auto\n");
        assert_eq!(maxsock(&cfg, 1), Some(10 + 2 + 2 + 2000 + 2 * 250 + 3));
        let cfg = format!("global\n    maxconn 1000\n    maxpipes 10\n{PROXIES}");
        assert_eq!(maxsock(&cfg, 1), Some(10 + 2 + 2 + 2000 + 20 + 3));
    }
}
