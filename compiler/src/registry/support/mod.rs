//! What hapee's runtime implements: the registry's runtime-support flag, as lists. `hapee-lb
//! run` refuses a configuration that uses anything else (listing each use with its location,
//! U001), `hapee-lb check` warns about it, and the generated keyword reference shows it. The
//! sample fetches and converters are in samples.rs.

mod line_options;
mod samples;
pub use line_options::{
    unsupported_option, OptionLine, BIND_OPTIONS, FRONTEND_BIND_OPTIONS, LOG_FORWARD_BIND_OPTIONS,
    SERVER_OPTIONS, TLS_BIND_OPTIONS,
};
pub use samples::{CONVERTERS, FETCHES};

/// The keywords the runtime honours in a section, by the keyword that opens it (the proxies'
/// list for `defaults`, `frontend`, `backend` and `listen`): what `run` checks each line
/// against and what the keyword reference shows.
pub fn section_keywords(section: &str) -> &'static [&'static str] {
    match section {
        "global" => GLOBAL,
        "resolvers" => RESOLVERS,
        "program" => PROGRAM,
        "peers" => PEERS,
        "cache" => CACHE,
        "http-errors" => HTTP_ERRORS,
        "userlist" => USERLIST,
        "ring" => RING,
        "log-forward" => LOG_FORWARD,
        "fcgi-app" => FCGI_APP,
        "mailers" => MAILERS,
        _ => PROXY,
    }
}

/// Global-section keywords the runtime honours (or that have no runtime effect).
pub const GLOBAL: &[&str] = &[
    "daemon",
    "maxconn",
    "nbthread",
    "thread-groups",
    "thread-group",
    "cpu-map",
    "log",
    "log-tag",
    "tune.bufsize",
    // The room kept for rewrites (runtime/src/http/room.rs).
    "tune.maxrewrite",
    // Spreading accepted connections over threads (runtime/src/spread.rs).
    "tune.listener.multi-queue",
    // The longest `capture cookie` (compiler/src/plan/captures.rs).
    "tune.http.cookielen",
    "pidfile",
    "expose-experimental-directives",
    "master-worker",
    "description",
    "node",
    "quiet",
    "zero-warning",
    "hard-stop-after",
    "mworker-max-reloads",
    "ulimit-n",
    "user",
    "group",
    "uid",
    "gid",
    "localpeer",
    // Process-wide variables given at start (runtime/src/vars.rs).
    "set-var",
    "set-var-fmt",
    // The bytes variables may take per scope (runtime/src/var_limits.rs).
    "tune.vars.global-max-size",
    "tune.vars.proc-max-size",
    "tune.vars.sess-max-size",
    "tune.vars.txn-max-size",
    "tune.vars.reqres-max-size",
    // A health check's own variables (runtime/src/var_limits.rs, checks/engine.rs).
    "tune.vars.check-max-size",
    "tune.stick-counters",
    "tune.peers.max-updates-at-once",
    "lua-load",
    "lua-load-per-thread",
    "lua-prepend-path",
    "tune.lua.forced-yield",
    "tune.lua.maxmem",
    "tune.lua.session-timeout",
    "tune.lua.task-timeout",
    "tune.lua.service-timeout",
    // Idle server connections are kept per thread, never shared between threads: what `off`
    // asks for, and what `on` (sharing, to save connections) only tunes.
    "tune.idle-pool.shared",
    "stats",
    // The process's own settings (compiler/src/plan/process.rs).
    "chroot",
    "setenv",
    "presetenv",
    "unsetenv",
    "resetenv",
    "tune.maxaccept",
    "maxconnrate",
    "maxsessrate",
    "log-send-hostname",
    "anonkey",
    // Health check intervals moved at random (runtime/src/checks/mod.rs), and the span the
    // first checks are spread over at start (runtime/src/checks/start.rs).
    "spread-checks",
    "max-spread-checks",
    // Socket buffer sizes of client and server connections (runtime/src/sockopt.rs).
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    // The delay between SIGUSR1 and the soft stop (runtime/src/lib.rs), and the window the
    // stop spreads its connection closes over (runtime/src/close_spread.rs).
    "grace",
    "close-spread-time",
    // Workers whose event loop never sleeps (runtime/src/stop.rs).
    "busy-polling",
    // The largest TLS record sent (rustls's fragment size, runtime/src/tls/config.rs).
    "tune.ssl.maxrecord",
    "tune.ssl.hard-maxrecord",
    // Certificate loading (runtime/src/tls/store.rs): the files looked for beside a
    // certificate, and self-issued CAs left out of the chain sent.
    "ssl-load-extra-files",
    "ssl-skip-self-issued-ca",
    // What UNIX binds start from (compiler/src/plan/unix_bind.rs).
    "unix-bind",
    // Header name case towards bogus HTTP/1 peers (runtime/src/http/case_adjust.rs).
    "h1-case-adjust",
    "h1-accept-payload-with-any-method",
    "h1-case-adjust-file",
    // The room of the request line in logs (runtime/src/logfmt.rs).
    "tune.http.logurilen",
    // The compression level (runtime/src/http/compress.rs).
    "tune.comp.maxlevel",
    // The compression rate above which responses go out uncompressed (same file), the
    // compressors' memory cap, the CPU use above which new responses go out uncompressed
    // (runtime/src/thread_idle.rs), and the deflate window and memory level (zlib-rs).
    "maxcomprate",
    "maxzlibmem",
    "maxcompcpuusage",
    "tune.zlib.memlevel",
    "tune.zlib.windowsize",
    // The open-file limit (runtime/src/lifecycle/limits.rs); `ulimit-n` is listed above.
    "fd-hard-limit",
    "strict-limits",
    // The number of header lines a request may have (runtime/src/proto/h1.rs).
    "tune.http.maxhdr",
    // HAProxy's own machinery, which hapee does not have, so the setting has nothing to
    // change: its pollers (hapee polls with epoll), splicing (hapee never splices, so the
    // pipes are never made), its scheduler's batch sizes, its buffer and memory pools, its
    // pattern cache, its resolver library choice and its profiling counters.
    // hapee's poller (mio's epoll) registers every socket edge-triggered: `on` is what it
    // always does, and `off`, HAProxy's level-triggered default, only changes how many
    // system calls its poller makes, not what is served (tools/lb/tests/runtime/edge_triggered.rs).
    "tune.fd.edge-triggered",
    "noepoll",
    "nopoll",
    "nokqueue",
    "noevports",
    "nosplice",
    "maxpipes",
    "tune.pipesize",
    "nogetaddrinfo",
    "tune.maxpollevents",
    "tune.runqueue-depth",
    "tune.recv_enough",
    "tune.idletimer",
    "tune.sched.low-latency",
    "tune.buffers.limit",
    "tune.buffers.reserve",
    "tune.pool-high-fd-ratio",
    "tune.pool-low-fd-ratio",
    "tune.pattern.cache-size",
    "no-memory-trimming",
    "profiling.tasks",
    "profiling.memory",
    "numa-cpu-mapping",
    // Debugging and permission switches with no effect on what is served: a core dump
    // after privileges are dropped, exiting without freeing memory, setuid binaries in
    // external checks.
    "set-dumpable",
    "quick-exit",
    "insecure-setuid-wanted",
    // The trace subsystem (runtime/src/api/trace.rs).
    "trace",
    // QUIC (HTTP/3 listeners).
    "tune.quic.frontend.max-idle-timeout",
    "tune.quic.frontend.max-streams-bidi",
    "tune.quic.frontend.conn-tx-buffers.limit",
    // Accepted, with a notice: quinn has no per-frame loss count (runtime/src/quic/mod.rs).
    "tune.quic.max-frame-loss",
    "tune.quic.retry-threshold",
    "tune.quic.socket-owner",
    "cluster-secret",
    // TLS and HTTP/2 (runtime/src/tls, runtime/src/proto/h2.rs).
    "ssl-default-bind-options",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-curves",
    "ssl-load-extra-del-ext",
    "crt-base",
    "ca-base",
    "tune.ssl.cachesize",
    "tune.ssl.capture-buffer-size",
    "tune.ssl.capture-cipherlist-size",
    "tune.ssl.lifetime",
    // HAProxy 2.7 reads it nowhere since it runs one process: its threads share one session
    // cache, as hapee's do (runtime/src/tls).
    "tune.ssl.force-private-cache",
    // Certificates made on the fly (runtime/src/tls/gencert.rs).
    "tune.ssl.ssl-ctx-cache-size",
    // rustls has no finite-field Diffie-Hellman: the setting has nothing to act on.
    "tune.ssl.default-dh-param",
    "ssl-dh-param-file",
    "ssl-default-server-options",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-curves",
    "ssl-server-verify",
    // TLS connection limits, key logging and chain completion (compiler/src/plan/tls_process.rs).
    "maxsslconn",
    "maxsslrate",
    "tune.ssl.keylog",
    "issuers-chain-path",
    // The HTTP client of scripts (lua/src/httpclient.rs).
    "httpclient.ssl.verify",
    "httpclient.ssl.ca-file",
    "httpclient.resolvers.id",
    "httpclient.resolvers.prefer",
    // Relative paths start from its directory (compiler/src/ir/global.rs, runtime/src/lib.rs).
    "default-path",
    "tune.h2.header-table-size",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.h2.max-frame-size",
    // No extended CONNECT in the HTTP/2 SETTINGS frame (runtime/src/proto/h2.rs).
    "h2-workaround-bogus-websocket-clients",
    // Listening sockets without SO_REUSEPORT (runtime/src/listener.rs).
    "noreuseport",
    // PROXY v2 headers of health checks (runtime/src/checks/driver.rs).
    "pp2-never-send-local",
    // Server states restored at start (runtime/src/lifecycle/server_state.rs).
    "server-state-file",
    "server-state-base",
    // External checks run their command (runtime/src/checks/external.rs); hapee starts it
    // with tokio's process spawning whether or not forking is declared wanted.
    "insecure-fork-wanted",
    "external-check",
];

/// Peers-section keywords the runtime honours.
pub const PEERS: &[&str] = &[
    // Read and checked like a proxy's `log` line. HAProxy 2.7 sends nothing to it in service:
    // peer sessions carry no log function, the section has no log format (so no connection
    // error lines), and the peers proxy's start and stop are not reported (control plane).
    "log",
    "peer",
    "server",
    "bind",
    "table",
    "shards",
    "disabled",
    "enabled",
    "default-bind",
    "default-server",
];

/// `stats <what>` forms of the global section the runtime honours (the Runtime API).
pub const STATS_GLOBAL: &[&str] = &["socket", "timeout", "maxconn"];
/// Keywords of `resolvers` sections the runtime honours (DNS service discovery).
pub const RESOLVERS: &[&str] = &[
    "nameserver",
    "parse-resolv-conf",
    "hold",
    "resolve_retries",
    "timeout",
    "accepted_payload_size",
];

/// Keywords of `cache` sections the runtime honours (runtime/src/http/cache).
pub const CACHE: &[&str] = &[
    "total-max-size",
    "max-object-size",
    "max-age",
    "process-vary",
    "max-secondary-entries",
];

/// Filters (`filter <name>`) the runtime runs (runtime/src/http/filters.rs).
pub const FILTERS: &[&str] = &[
    "cache",
    "compression",
    "trace",
    "bwlim-in",
    "bwlim-out",
    "spoe",
    // The backend's FastCGI application (runtime/src/upstream/fcgi), as `use-fcgi-app`.
    "fcgi-app",
];
/// Keywords of `userlist` sections the runtime honours.
pub const USERLIST: &[&str] = &["user", "group"];

/// Keywords of `http-errors` sections the runtime honours.
pub const HTTP_ERRORS: &[&str] = &["errorfile"];
/// Keywords of `ring` sections the runtime honours (runtime/src/rings).
pub const RING: &[&str] = &[
    "description",
    "format",
    "maxlen",
    "size",
    "timeout",
    "server",
];

/// Keywords of `log-forward` sections the runtime honours (plain TCP and UDP listeners).
pub const LOG_FORWARD: &[&str] = &["bind", "dgram-bind", "log", "maxconn", "timeout", "backlog"];

/// Keywords of `fcgi-app` sections the runtime honours (runtime/src/upstream/fcgi).
pub const FCGI_APP: &[&str] = &[
    "docroot",
    "index",
    "path-info",
    "set-param",
    "pass-header",
    "log-stderr",
    "option",
    "acl",
];

/// `option` names of `fcgi-app` sections. `keep-conn` keeps connections for reuse; hapee
/// sends one request per connection at a time, which every `max-reqs` allows and which needs
/// no multiplexing (`mpxs-conns`) nor the application's limits (`get-values`).
pub const FCGI_OPTIONS: &[&str] = &["keep-conn", "get-values", "mpxs-conns", "max-reqs"];

/// Keywords of `mailers` sections the runtime honours (runtime/src/checks/mail.rs).
pub const MAILERS: &[&str] = &["mailer", "timeout"];

/// Keywords of `program` sections the master honours.
pub const PROGRAM: &[&str] = &["command", "option"];

/// `stats <what>` forms of proxy sections the runtime honours (the statistics page).
pub const STATS_PROXY: &[&str] = &[
    "enable",
    "uri",
    "realm",
    "auth",
    "refresh",
    "admin",
    "hide-version",
    "show-legends",
    "show-modules",
    "show-node",
    "show-desc",
    "scope",
    // Only its allow, deny and auth actions (plan::StatsRule).
    "http-request",
];

/// Proxy-section keywords the runtime honours.
pub const PROXY: &[&str] = &[
    "mode",
    "redirect",
    "bind",
    "server",
    "default-server",
    "server-template",
    "timeout",
    "option",
    "balance",
    "hash-type",
    "acl",
    "http-request",
    "http-response",
    "http-after-response",
    "tcp-request",
    // TCP mode: the server's first bytes held for the rules (runtime/src/tcp_response.rs).
    "tcp-response",
    "use_backend",
    "default_backend",
    "use-server",
    "log",
    "log-format",
    "error-log-format",
    "maxconn",
    "retries",
    "retry-on",
    "http-reuse",
    "capture",
    "errorfile",
    "errorfiles",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "http-error",
    "http-check",
    "description",
    "disabled",
    "enabled",
    "id",
    "stick-table",
    "stick",
    "stats",
    "tcp-check",
    // HTTP compression and the data filters (runtime/src/http/compress, filters.rs).
    "compression",
    "filter",
    "unique-id-format",
    "unique-id-header",
    "declare",
    // Cookie persistence and the monitor URI (runtime/src/http/persist.rs, monitor.rs).
    "cookie",
    "dynamic-cookie-key",
    "force-persist",
    "ignore-persist",
    // `persist rdp-cookie` (runtime/src/rdp.rs, tcp.rs).
    "persist",
    "monitor-uri",
    "monitor",
    "load-server-state-from-file",
    "server-state-file-name",
    // FastCGI applications, mails on server state changes, external checks.
    "use-fcgi-app",
    "email-alert",
    "external-check",
    // Backends without balancing (runtime/src/upstream/direct.rs).
    "dispatch",
    "transparent",
    // The load at which servers with `minconn` reach their `maxconn` (upstream/queue.rs).
    "fullconn",
    // Its servers' connections' local address (runtime/src/upstream/dial.rs).
    "source",
    // Socket and connection settings (compiler/src/plan/sockets.rs): the accept queue, the
    // session rate, the keep-alive probes' timing, the server-name request header.
    "backlog",
    "rate-limit",
    "clitcpka-cnt",
    "clitcpka-idle",
    "clitcpka-intvl",
    "srvtcpka-cnt",
    "srvtcpka-idle",
    "srvtcpka-intvl",
    "http-send-name-header",
    // The structured data of RFC 5424 log lines (runtime/src/log.rs).
    "log-format-sd",
    // The idle server connections of its own a client session keeps (upstream/pool).
    "max-session-srv-conns",
    // Bounded loads of consistent hashing (runtime/src/balance.rs).
    "hash-balance-factor",
    // The queue length that sends a kept-alive client elsewhere (runtime/src/http/forward.rs).
    "max-keep-alive-queue",
    // The syslog tag of the proxy's own log lines (runtime/src/log.rs).
    "log-tag",
];

/// `option` names the runtime honours.
pub const OPTIONS: &[&str] = &[
    // The global `h1-case-adjust` map applied (runtime/src/http/case_adjust.rs).
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "httplog",
    "tcplog",
    "dontlognull",
    // HTTP/2 prior knowledge on HTTP/1 listeners is detected unless this refuses it.
    "disable-h2-upgrade",
    "forwardfor",
    "originalto",
    "http-restrict-req-hdr-names",
    "http-pretend-keepalive",
    "http-server-close",
    "httpclose",
    "http-keep-alive",
    "http-buffer-request",
    "redispatch",
    "allbackups",
    "httpchk",
    "log-health-checks",
    "dontlog-normal",
    "tcpka",
    "clitcpka",
    "srvtcpka",
    "httpslog",
    // What the runtime always does: a request whose client leaves is given up (and logged CH).
    "abortonclose",
    "logasap",
    // Health checks (runtime/src/checks).
    "tcp-check",
    "redis-check",
    "mysql-check",
    "pgsql-check",
    "smtpchk",
    "ldap-check",
    "ssl-hello-chk",
    "spop-check",
    "log-separate-errors",
    "persist",
    // Kernel zero-copy forwarding (splice(2)): the bytes, their order and the logs are the
    // same without it, so hapee honours these by copying through its buffers.
    "splice-request",
    "splice-response",
    "splice-auto",
    // `program` sections: a reload starts a new instance of the program.
    "start-on-reload",
    "external-check",
    // To the client's destination (runtime/src/upstream/direct.rs).
    "transparent",
    // Byte counters that grow while data flows (runtime/src/api/mod.rs, LiveBytes).
    "contstats",
    // Per-listener counters and statistics rows (runtime/src/api/stat.rs, listener_row).
    "socket-stats",
    // Empty first connections closed silently (runtime/src/http/idle.rs, proto/h1.rs).
    "http-ignore-probes",
    // What hapee always does: TCP_NODELAY on both sides, each write sent as it comes.
    "http-no-delay",
    // SO_LINGER 0 on client (frontend) or server (backend) sockets.
    "nolinger",
    // A session's next request to the server of its own idle connection (http/forward.rs).
    "prefer-last-server",
    // Delayed acknowledgements (TCP_QUICKACK off) on listeners and server connections.
    "tcp-smart-accept",
    "tcp-smart-connect",
    // A soft-stopping process keeps an idle HTTP/1 client connection for its next request,
    // answered with `Connection: close` (runtime/src/proto/h1.rs).
    "idle-close-on-response",
    // What hapee always does: each direction of a tunnel is timed by the data coming from
    // its own side only, never refreshed by what is sent to it (runtime/src/tcp.rs).
    "independent-streams",
    // What HAProxy's parser only notes in a request head goes through: a Host naming another
    // authority than the target, a CONNECT target without a port, non-ASCII (UTF-8) bytes in
    // the target (runtime/src/http/vet.rs). Header names hyper cannot represent stay refused.
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    // Proxied targets authenticate with Proxy-Authorization and `auth` answers 407
    // (runtime/src/http/auth.rs); HAProxy 2.7 reads no Proxy-Connection either.
    "http-use-proxy-header",
    // Responses a shared cache could keep with a server cookie refused (runtime/src/http/respond.rs).
    "checkcache",
];

/// Rule actions the runtime implements (`set-var(…)`/`unset-var(…)` by prefix).
pub const ACTIONS: &[&str] = &[
    "allow",
    "send-spoe-group",
    "deny",
    "tarpit",
    "return",
    "redirect",
    "set-header",
    "add-header",
    "del-header",
    "replace-header",
    "replace-value",
    "set-path",
    "set-pathq",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "set-query",
    "set-uri",
    "set-method",
    "set-log-level",
    "set-status",
    "accept",
    "reject",
    // `tcp-response content close`.
    "close",
    "set-var",
    "set-var-fmt",
    "unset-var",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "track-sc",
    "sc-inc-gpc",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-add-gpc",
    "sc-set-gpt",
    "sc-set-gpt0",
    // `use-service prometheus-exporter` and script services (`use-service lua.<name>`).
    "use-service",
    "expect-proxy",
    // A NetScaler Client IP header first (runtime/src/accept.rs).
    "expect-netscaler-cip",
    // The bandwidth limitation filters (runtime/src/bwlim.rs).
    "set-bandwidth-limit",
    // The HTTP cache (runtime/src/http/cache).
    "cache-use",
    "cache-store",
    "capture",
    "auth",
    "set-timeout",
    "set-src",
    "set-src-port",
    "set-dst",
    "set-dst-port",
    "normalize-uri",
    "wait-for-body",
    // Always over when a request is read (runtime/src/rules.rs).
    "wait-for-handshake",
    // Whether a rewrite that does not fit ends the transaction (runtime/src/http/room.rs).
    "strict-mode",
    // A 103 sent ahead of the response (runtime/src/http/early_hint.rs).
    "early-hint",
    // A name resolved with a resolvers section (runtime/src/discovery/do_resolve.rs).
    "do-resolve",
    // TCP to HTTP (runtime/src/tcp.rs, runtime/src/upgrade.rs).
    "switch-mode",
    // Actions on the client connection and the stream, and the pattern file edits
    // (runtime/src/conn_actions.rs). `set-mark` needs CAP_NET_ADMIN, without which it
    // changes nothing, as in HAProxy; `set-nice` is accepted with no effect (tokio schedules
    // tasks with no weights); `set-priority-*` order the server queues as HAProxy's
    // (runtime/src/upstream/queue.rs).
    "silent-drop",
    "set-mark",
    "set-tos",
    "set-priority-class",
    "set-priority-offset",
    "set-nice",
    "disable-l7-retry",
    "set-map",
    "del-map",
    "add-acl",
    "del-acl",
];

/// Whether the action word of a rule is implemented (`track-sc<n>` up to any
/// `tune.stick-counters`).
pub fn action_supported(action: &str) -> bool {
    let name = action.split('(').next().unwrap_or(action);
    ACTIONS.contains(&name)
        || name.starts_with("lua.")
        || name
            .strip_prefix("track-sc")
            .is_some_and(|n| n.parse::<u8>().is_ok())
}
