//! The language server benchmark's configuration shape (`bench/gen-config.py … acl`), shared by
//! the compiler's and the language server's incremental tests: one frontend routing by a named
//! ACL per backend, and backends with `option httpchk`, `http-check expect status 200` and two
//! checked servers (backend `i` has servers at `10.{i / 250}.{i % 250}.1` and `.2`, port 8080).

/// The configuration text, `backends` backends long.
pub fn routing_config(backends: usize) -> String {
    let mut text = String::from(
        "global\n    maxconn 10000\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\nfrontend www\n    bind 127.0.0.1:18080\n",
    );
    for i in 0..backends {
        text.push_str(&format!(
            "    acl host_{i} hdr(host) -i app{i}.example.com\n    use_backend be_{i} if host_{i}\n"
        ));
    }
    text.push_str("    default_backend be_0\n\n");
    for i in 0..backends {
        text.push_str(&format!(
            "backend be_{i}\n    option httpchk GET /health\n    http-check expect status 200\n    server s0 10.{}.{}.1:8080 check\n    server s1 10.{}.{}.2:8080 check\n\n",
            i / 250,
            i % 250,
            i / 250,
            i % 250
        ));
    }
    text
}
