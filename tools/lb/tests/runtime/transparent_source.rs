//! `source … usesrc`: server connections bound, with IP_TRANSPARENT, to the client's address,
//! an address from a request header, or a fixed one, side by side with Debian's haproxy. The
//! addresses are loopback ones (127.0.0.0/8 is local), so no policy routing is needed; the
//! socket option needs CAP_NET_ADMIN (tests run as root). Without it the test skips outside
//! CI. `usesrc client` (the client's port too) cannot be shown on one host: the client's own
//! socket holds that address and port.

use super::harness::*;
use std::process::Command;

fn root() -> bool {
    let uid = Command::new("id").arg("-u").output().map(|o| o.stdout);
    if uid.as_deref().is_ok_and(|u| u.starts_with(b"0\n")) {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "transparent proxying needs root, which CI runs as"
    );
    eprintln!("not root: IP_TRANSPARENT cannot be set, skipping");
    false
}

#[test]
fn usesrc_binds_server_connections_to_the_address_it_names() {
    if !root() {
        return;
    }
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    use_backend b_clientip if {{ path /clientip }}
    use_backend b_hdr if {{ path /hdr }}
    default_backend b_addr
backend b_clientip
    source 0.0.0.0 usesrc clientip
    server s 127.0.0.1:{echo}
backend b_hdr
    server s 127.0.0.1:{echo} source 0.0.0.0 usesrc hdr_ip(x-real-ip)
backend b_addr
    server s 127.0.0.1:{echo} source 0.0.0.0 usesrc 127.0.0.5
frontend echo
    bind 127.0.0.1:{echo}
    http-request return status 200 content-type text/plain lf-string \"%[src]\"
",
            echo = port + 1
        )
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| {
        let get = |path: &str, header: &str| {
            let url = format!("http://127.0.0.1:{port}{path}");
            curl(&["--interface", "127.0.0.7", "-H", header, &url]).1
        };
        vec![
            get("/clientip", "x-a: b"),
            get("/hdr", "X-Real-IP: 127.0.0.9"),
            get("/hdr", "X-Real-IP: 127.0.0.3, 127.0.0.4"),
            get("/", "x-a: b"),
        ]
    });
    assert_eq!(ours, ["127.0.0.7", "127.0.0.9", "127.0.0.4", "127.0.0.5"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
