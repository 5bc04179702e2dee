//! Fuzzes the HTTP/1 request path without sockets: request-head parsing, ACLs, sample fetches
//! and converters, rules, routing and log-format rendering over one configuration that uses
//! many of them. Any panic is a bug.
#![no_main]

use hapee_runtime::decide::decide;
use hapee_runtime::state::Shared;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

const CONFIG: &str = r#"
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe
    bind :8080
    log-format "%ci:%cp [%tr] %ft %b/%s %ST %B %tsc %{+Q}r %[req.hdr(host),lower,host_only] %[req.hdr(host),port_only] %[url_param(id),url_dec,json] %[req.cook(sid),base64] %[src,ipmask(16)] %[path,regsub(/+,/,g)] %[query,field(2,&)] %[req.hdr(x-n),add(3),mul(2)]"
    acl api path_beg -i /api
    acl static path_end .css .js .png
    acl admin path_dir admin
    acl dom hdr_dom(host) -i example.com
    acl big hdr_val(content-length) gt 1000
    acl reg path_reg ^/v[0-9]+/
    acl m method POST PUT
    acl ver req.ver 1.0
    acl sub url_sub -i secret
    acl len path_len 1:4
    acl net src 10.0.0.0/8 192.168.0.0/16 ::1
    http-request deny if admin !net
    http-request deny deny_status 413 if big
    http-request return status 200 content-type text/plain string ok if { path /health }
    http-request redirect scheme https code 301 if { hdr(x-forwarded-proto) -m str http }
    http-request redirect prefix /v2 if reg m
    http-request set-header X-Host %[req.hdr(host),lower]
    http-request set-path %[path,regsub(^/old/,/new/)] if { path_beg /old/ }
    http-request set-query id=%[url_param(id)] if { url_param(id) -m found }
    http-request set-var(txn.k) req.hdr(x-key),lower
    http-request del-header X-Secret if sub
    use_backend %[req.hdr(x-backend)] if { req.hdr(x-backend) -m found }
    use_backend api if api || dom
    use_backend static if static len
    default_backend app
backend app
    balance roundrobin
    server a 127.0.0.1:1
    server b 127.0.0.1:2
backend api
    server c 127.0.0.1:3
backend static
    balance uri
    server d 127.0.0.1:4
    server e 127.0.0.1:5 backup
"#;

fn shared() -> &'static Arc<Shared> {
    static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();
    SHARED.get_or_init(|| {
        let c = hapee_compiler::testkit::compile_text("fuzz.cfg", CONFIG, false);
        assert!(!c.has_errors(), "fuzz config must be valid");
        let plan = hapee_compiler::plan::build(&c.config, 1);
        Arc::new(Shared::build(&plan).expect("the runtime supports the fuzz config"))
    })
}

fuzz_target!(|data: &[u8]| {
    let s = shared();
    let (client, local) = if data.first().is_some_and(|b| b & 1 == 1) {
        (
            "[2001:db8::1]:4000".parse().unwrap(),
            "[::1]:8080".parse().unwrap(),
        )
    } else {
        (
            "10.1.2.3:4000".parse().unwrap(),
            "127.0.0.1:8080".parse().unwrap(),
        )
    };
    let _ = decide(s, 0, client, local, data);
});
