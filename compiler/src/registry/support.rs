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
];

/// Proxy-section keywords the runtime honours.
pub const PROXY: &[&str] = &[
    "mode",
    "bind",
    "server",
    "default-server",
    "timeout",
    "option",
    "balance",
    "hash-type",
    "acl",
    "http-request",
    "http-response",
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
    // What the runtime always does: a request whose client leaves is given up (and logged CH).
    "abortonclose",
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
];

/// Bind-line options the runtime honours.
pub const BIND_OPTIONS: &[&str] = &["thread", "name", "id", "backlog"];

/// Options taking a value, so the value is not mistaken for an option.
pub const VALUED: &[&str] = &[
    "inter",
    "fastinter",
    "downinter",
    "rise",
    "fall",
    "port",
    "addr",
    "weight",
    "maxconn",
    "id",
    "thread",
    "name",
    "backlog",
];

/// The first unsupported option of a `server`/`bind` word list (after the address).
pub fn unsupported_option<'a>(words: &[&'a str], supported: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if !supported.contains(&w) {
            out.push(w);
        }
        i += if VALUED.contains(&w) { 2 } else { 1 };
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
    // Script services: `use-service lua.<name>`.
    "use-service",
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
    "req.body",
    "req.body_len",
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
];
