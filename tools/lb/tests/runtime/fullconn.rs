//! A backend without `fullconn` gets HAProxy's: a tenth, rounded up, of the `maxconn` of the
//! frontends that can reach it (`default_backend`, `use_backend`, a `listen` section's own),
//! as `show stat` shows it (`slim`). Side by side with Debian's haproxy.

use crate::api::ask;
use crate::harness::*;

/// The folder of one side's stats socket, held as its fixture (so dropped after its proxy).
fn fresh_dir() -> Scratch {
    Scratch::dir(&format!(
        "hapee-fullconn-{}-{}",
        std::process::id(),
        free_port()
    ))
}

fn config(port: u16, dir: &Scratch) -> String {
    format!(
        "global
    maxconn 100
    stats socket {}/admin.sock level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend one
    bind 127.0.0.1:{port}
    maxconn 50
    default_backend b
frontend two
    bind 127.0.0.1:{}
    use_backend b if {{ path /b }}
    use_backend b if {{ path /bb }}
    default_backend c
listen l
    bind 127.0.0.1:{}
    maxconn 33
    server s 127.0.0.1:1
backend b
    server s 127.0.0.1:1
backend c
    server s 127.0.0.1:1
backend set
    fullconn 7
    server s 127.0.0.1:1
backend unreached
    server s 127.0.0.1:1
",
        dir.display(),
        port + 1,
        port + 2
    )
}

/// `pxname slim` of each BACKEND row of `show stat`.
fn backend_limits(dir: &Scratch) -> Vec<String> {
    ask(&dir.join("admin.sock"), "show stat\n")
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("BACKEND"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{} {}", f[0], f[6])
        })
        .collect()
}

#[test]
fn fullconn_is_derived_from_the_frontends_that_reach_a_backend() {
    let (mine, theirs) = both_sides(3, fresh_dir, config, |_, dir, _| backend_limits(dir));
    assert_eq!(
        mine,
        ["l 4", "b 15", "c 10", "set 7", "unreached 1"],
        "{mine:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
