//! What hapee's runtime implements: the registry's runtime-support flag, as lists. `hapee-lb
//! run` refuses a configuration that uses anything else (listing each use with its location,
//! U001), `hapee-lb check` warns about it, and the generated keyword reference shows it.

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
    // QUIC (HTTP/3 listeners).
    "tune.quic.frontend.max-idle-timeout",
    "tune.quic.frontend.max-streams-bidi",
    "tune.quic.frontend.conn-tx-buffers.limit",
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
    "tune.ssl.lifetime",
    // rustls has no finite-field Diffie-Hellman: the setting has nothing to act on.
    "tune.ssl.default-dh-param",
    "tune.h2.header-table-size",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.h2.max-frame-size",
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
    "show-node",
    "show-desc",
    "scope",
];

/// Proxy-section keywords the runtime honours.
pub const PROXY: &[&str] = &[
    "mode",
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
    "use_backend",
    "default_backend",
    "use-server",
    "log",
    "log-format",
    "maxconn",
    "retries",
    "retry-on",
    "http-reuse",
    "capture",
    "errorfile",
    "http-error",
    "http-check",
    "description",
    "disabled",
    "enabled",
    "id",
    "stats",
];

/// `option` names the runtime honours.
pub const OPTIONS: &[&str] = &[
    "httplog",
    "tcplog",
    "dontlognull",
    "forwardfor",
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
    // `program` sections: a reload starts a new instance of the program.
    "start-on-reload",
];

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
    "backup",
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
];

/// Bind-line options the runtime honours.
pub const BIND_OPTIONS: &[&str] = &[
    "thread",
    "name",
    "id",
    "backlog",
    "accept-proxy",
    // QUIC listeners.
    "allow-0rtt",
    "quic-cc-algo",
    "quic-force-retry",
    "ssl",
    "crt",
    "alpn",
    "crt-list",
    "ca-file",
    "crl-file",
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
    "strict-sni",
    "no-tls-tickets",
    "tls-tickets",
    "proto",
];

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
        OptionLine::Bind => super::lookup::bind_option(option).map(|o| o.values),
        OptionLine::Server => super::lookup::server_option(option).map(|o| o.values),
    };
    usize::from(values.unwrap_or(0))
}

/// The options of a `server`/`bind` word list (after the address) that the runtime does not
/// implement, each named by its keyword.
pub fn unsupported_option<'a>(
    words: &[&'a str],
    supported: &[&str],
    line: OptionLine,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if !supported.contains(&w) {
            out.push(w);
        }
        i += 1 + value_words(line, w);
    }
    out
}

/// Rule actions the runtime implements (`set-var(…)`/`unset-var(…)` by prefix).
pub const ACTIONS: &[&str] = &[
    "allow",
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
    "set-query",
    "set-uri",
    "set-method",
    "set-log-level",
    "set-status",
    "accept",
    "reject",
    "set-var",
    "unset-var",
    // `use-service prometheus-exporter` and script services (`use-service lua.<name>`).
    "use-service",
    "expect-proxy",
];

/// Whether the action word of a rule is implemented.
pub fn action_supported(action: &str) -> bool {
    let name = action.split('(').next().unwrap_or(action);
    ACTIONS.contains(&name) || name.starts_with("lua.")
}

/// Fetches the runtime implements.
pub const FETCHES: &[&str] = &[
    "src",
    "src_port",
    "dst",
    "dst_port",
    "fe_name",
    "be_name",
    "method",
    "path",
    "url",
    "query",
    "url_param",
    "urlp",
    "hdr",
    "req.hdr",
    "req.fhdr",
    "hdr_cnt",
    "req.hdr_cnt",
    "cookie",
    "req.cook",
    "base",
    "req.ver",
    "res.hdr",
    "shdr",
    "status",
    "var",
    "always_true",
    "always_false",
    "int",
    "str",
    "ssl_fc",
    "req.len",
    "http_auth",
    "nbsrv",
    "srv_is_up",
    "hdr_ip",
    "req.hdr_ip",
    "capture.req.hdr",
    "fc_err",
    "ssl_fc_err",
    "ssl_c_err",
    "ssl_c_ca_err",
    "ssl_fc_is_resumed",
    "ssl_fc_sni",
    "ssl_fc_has_sni",
    "ssl_fc_protocol",
    "ssl_fc_cipher",
    "ssl_fc_alpn",
    "ssl_fc_use_keysize",
    "ssl_fc_alg_keysize",
    "ssl_fc_has_crt",
    "ssl_c_used",
    "ssl_c_verify",
    "ssl_c_s_dn",
    "ssl_c_i_dn",
    "ssl_c_serial",
    "ssl_c_der",
    "ssl_c_notbefore",
    "ssl_c_notafter",
    "ssl_c_version",
    "ssl_c_sig_alg",
    "ssl_c_key_alg",
    "ssl_f_s_dn",
    "ssl_f_i_dn",
    "ssl_f_serial",
    "ssl_f_der",
    "ssl_f_notbefore",
    "ssl_f_notafter",
    "ssl_f_version",
    "ssl_f_sig_alg",
    "ssl_f_key_alg",
    "req.body",
    "req.body_len",
    // Content inspection (`tcp-request inspect-delay`).
    "req_len",
    "req.payload",
    "req.payload_lv",
    "req.ssl_hello_type",
    "req_ssl_hello_type",
    "req.ssl_sni",
    "req_ssl_sni",
    "req.ssl_ver",
    "req_ssl_ver",
    "wait_end",
    "fc_pp_authority",
    "fc_pp_unique_id",
    "fc_rcvd_proxy",
];

/// Converters the runtime implements.
pub const CONVERTERS: &[&str] = &[
    "lower",
    "upper",
    "host_only",
    "port_only",
    "length",
    "base64",
    "b64dec",
    "hex",
    "hex2i",
    "json",
    "url_dec",
    "ipmask",
    "field",
    "word",
    "regsub",
    "map",
    "map_str",
    "map_beg",
    "map_end",
    "map_sub",
    "map_dom",
    "map_reg",
    "map_ip",
    "map_int",
    "add",
    "sub",
    "mul",
    "div",
    "not",
    "bool",
    "x509_v_err_str",
];
