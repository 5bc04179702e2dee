//! The `server` and `bind` line options the runtime honours, and the refusal of the others
//! (each named by its keyword, never by one of its values).

/// Server-line options the runtime honours.
pub const SERVER_OPTIONS: &[&str] = &[
    "check",
    "inter",
    "fastinter",
    "downinter",
    "rise",
    "fall",
    "port",
    "addr",
    "weight",
    "maxconn",
    // The most requests waiting for a slot (runtime/src/upstream/queue.rs).
    "maxqueue",
    "backup",
    // The forms that undo a `default-server` setting: the last of the two words counts
    // (compiler/src/plan/mod.rs, last_switch).
    "no-backup",
    "disabled",
    "enabled",
    "id",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "proxy-v2-options",
    "resolvers",
    "resolve-prefer",
    // The networks whose addresses a server prefers (runtime/src/discovery/records.rs).
    "resolve-net",
    "resolve-opts",
    "init-addr",
    "ssl",
    "no-ssl",
    "verify",
    "ca-file",
    "crt",
    "sni",
    "verifyhost",
    "alpn",
    "ssl-reuse",
    "no-ssl-reuse",
    "ssl-min-ver",
    "ssl-max-ver",
    "check-ssl",
    "no-check-ssl",
    "check-sni",
    "no-check",
    "agent-check",
    "no-agent-check",
    "agent-port",
    "agent-addr",
    "agent-send",
    "agent-inter",
    // HTTP/2 towards servers (runtime/src/upstream/h2.rs).
    "proto",
    "max-reuse",
    "check-proto",
    "check-alpn",
    "ciphers",
    "ciphersuites",
    "curves",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "force-tlsv12",
    "force-tlsv13",
    "cookie",
    "non-stick",
    "stick",
    "crl-file",
    // A server following another's health state (runtime/src/state.rs).
    "track",
    // The protocol of WebSocket streams: HTTP/1.1 upgrades or RFC 8441 extended CONNECT over
    // HTTP/2 (runtime/src/http/websocket.rs).
    "ws",
    // Servers behind a SOCKS4 proxy (runtime/src/upstream/socks4.rs).
    "socks4",
    "check-via-socks4",
    // The idle pool's limits (runtime/src/upstream/pool.rs).
    "pool-max-conn",
    "pool-low-conn",
    "pool-purge-delay",
    // Peers sections: the entries of one shard only (runtime/src/peers).
    "shard",
    // TLS 1.3 early data to servers, with `retry-on 0rtt-rejected` (runtime/src/tls/client.rs).
    "allow-0rtt",
    // Sessions killed on health transitions (runtime/src/checks/mod.rs).
    "on-marked-down",
    "on-marked-up",
    // The weight ramp after a server comes back (runtime/src/upstream/slowstart.rs).
    "slowstart",
    // The dynamic connection limit with the backend's `fullconn` (runtime/src/upstream/queue.rs).
    "minconn",
    // Traffic errors counted toward the server's health (runtime/src/checks/observe.rs).
    "observe",
    "on-error",
    "error-limit",
    // The local address of server connections, and the transparent one that replaces it
    // (`usesrc`, with IP_TRANSPARENT) (runtime/src/upstream/dial.rs).
    "source",
    "usesrc",
    // Set before connecting (runtime/src/upstream/dial.rs), and the 302 of `redir`.
    "tcp-ut",
    "redir",
    // How a ring section's server frames messages (runtime/src/rings/mod.rs).
    "log-proto",
    // A PROXY header on health checks (runtime/src/checks/driver.rs).
    "check-send-proxy",
    "no-check-send-proxy",
    // TLS 1.2 session tickets asked for or not (runtime/src/tls/client.rs).
    "tls-tickets",
    "no-tls-tickets",
    // HAProxy 2.7 asks for Fast Open (TCP_FASTOPEN_CONNECT) only when response data is
    // already buffered as it connects, which never happens, so its server sockets never
    // have it (Debian's haproxy shows so, tools/lb/tests/runtime/proxy_sockets.rs); neither
    // do hapee's.
    "tfo",
    "no-tfo",
    // The network namespace its connections are made in (runtime/src/netns.rs).
    "namespace",
];

/// TLS options of a `bind` line, honoured on frontend listeners and on a `log-forward`
/// section's (syslog over TLS) alike.
pub const TLS_BIND_OPTIONS: &[&str] = &[
    "ssl",
    "crt",
    "alpn",
    "crt-list",
    "ca-file",
    "crl-file",
    "ca-verify-file",
    "verify",
    "ca-ignore-err",
    "crt-ignore-err",
    "ssl-min-ver",
    "ssl-max-ver",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "force-tlsv12",
    "force-tlsv13",
    "ciphers",
    "ciphersuites",
    "curves",
    "ecdhe",
    "strict-sni",
    "no-tls-tickets",
    "tls-tickets",
    // Session tickets sealed with a file's keys (runtime/src/tls/tickets.rs).
    "tls-ticket-keys",
    // rustls's `ignore_client_order`, and a certificate request naming no CA
    // (runtime/src/tls/config.rs).
    "prefer-client-ciphers",
    "no-ca-names",
];

/// Bind-line options the runtime honours on frontend listeners besides [`TLS_BIND_OPTIONS`].
pub const BIND_OPTIONS: &[&str] = &[
    // The file of a UNIX listener (runtime/src/listener.rs).
    "mode",
    "user",
    "uid",
    "group",
    "gid",
    "thread",
    "name",
    "id",
    // Listening-socket settings (runtime/src/bind_tuning.rs).
    "backlog",
    "mss",
    "tcp-ut",
    "interface",
    "defer-accept",
    "tfo",
    // Set before binding (runtime/src/listener.rs): IPv4 on an IPv6 address or not, and
    // foreign addresses. The line's own connection limit (listener::Serving).
    "v4v6",
    "v6only",
    "transparent",
    "maxconn",
    // A connection's priority in HAProxy's own task scheduler: hapee's tasks are tokio's,
    // which has no priorities, so the value is taken and has no effect.
    "nice",
    "accept-proxy",
    // The NetScaler Client IP header (runtime/src/proto/netscaler.rs, accept.rs).
    "accept-netscaler-cip",
    // How many listening sockets share the line's threads (runtime/src/listener.rs).
    "shards",
    // The network namespace its sockets are made in (runtime/src/netns.rs).
    "namespace",
    // TLS 1.3 early data: QUIC listeners, and TCP ones (runtime/src/tls/mod.rs).
    "allow-0rtt",
    "quic-cc-algo",
    "quic-force-retry",
    // Certificates signed on the fly (runtime/src/tls/gencert.rs).
    "generate-certificates",
    "ca-sign-file",
    "ca-sign-pass",
    "proto",
];

/// The option lists a frontend's `bind` line is checked against.
pub const FRONTEND_BIND_OPTIONS: &[&[&str]] = &[TLS_BIND_OPTIONS, BIND_OPTIONS];

/// The option lists a `log-forward` section's `bind` line is checked against: TLS only.
pub const LOG_FORWARD_BIND_OPTIONS: &[&[&str]] = &[TLS_BIND_OPTIONS];

/// Which line an option list belongs to, for the number of value words each option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionLine {
    Bind,
    Server,
}

/// How many value words follow `option` on a line of this kind, from the registry (so that a
/// value such as `none` in `verify none` is never taken for an option of its own).
fn value_words(line: OptionLine, option: &str) -> usize {
    let values = match line {
        OptionLine::Bind => crate::registry::lookup::bind_option(option).map(|o| o.values),
        OptionLine::Server => crate::registry::lookup::server_option(option).map(|o| o.values),
    };
    usize::from(values.unwrap_or(0))
}

/// The options of a `server`/`bind` word list (after the address) that the runtime does not
/// implement, each named by its keyword.
pub fn unsupported_option<'a>(
    words: &[&'a str],
    supported: &[&[&str]],
    line: OptionLine,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if !supported.iter().any(|list| list.contains(&w)) {
            out.push(w);
        }
        i += 1 + value_words(line, w);
    }
    out
}
