//! Listeners and servers on UNIX stream sockets, as HAProxy's own reg-tests chain two proxies
//! (`bind "/tmp/…/ssl.sock" ssl crt …` behind `server s1 "/tmp/…/ssl.sock" ssl verify
//! none`): a path with its `mode`, an abstract name (`abns@`), TLS over a path, each
//! through a TCP front listener, side by side with Debian's haproxy.

use crate::harness::{both_reading, curl, free_port, Haproxy, Proxy, DEFAULTS, LOGGED_DEFAULTS};
use crate::tls::{Ca, Pki};
use std::os::unix::fs::PermissionsExt;

fn config(front: u16, dir: &str, site: &str, tag: &str) -> String {
    format!(
        "global
    nbthread 2
{DEFAULTS}
frontend front
    bind 127.0.0.1:{front}
    use_backend via_abns if {{ path_beg /abns }}
    use_backend via_tls if {{ path_beg /tls }}
    default_backend via_path

backend via_path
    server s1 {dir}/{tag}-plain.sock
backend via_abns
    server s1 abns@{tag}-abstract
backend via_tls
    server s1 \"{dir}/{tag}-ssl.sock\" ssl verify none sni str(unix.example)

frontend plain
    bind {dir}/{tag}-plain.sock mode 600
    http-request return status 200 content-type text/plain lf-string \"plain %[ssl_fc]\"
frontend abstract
    bind abns@{tag}-abstract
    http-request return status 200 content-type text/plain string abstract
frontend tls
    bind \"{dir}/{tag}-ssl.sock\" ssl crt {site}
    http-request return status 200 content-type text/plain lf-string \"tls %[ssl_fc] %[ssl_fc_sni]\"
"
    )
}

fn answers(front: u16) -> Vec<(u16, String)> {
    ["/", "/abns", "/tls"]
        .iter()
        .map(|p| curl(&[&format!("http://127.0.0.1:{front}{p}")]))
        .collect()
}

#[test]
fn unix_socket_listeners_and_servers_chain_two_proxies() {
    let pki = Pki::new("unix-sockets");
    let ca = Ca::new("Unix Socket CA");
    let (c, k) = ca.issue(&["unix.example"], false, false);
    let site = pki.write("site.pem", &(c + &k));
    let dir = std::path::Path::new(&site)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let tag = format!("hapee{}", std::process::id());
    let front = free_port();
    let proxy = Proxy::start(&config(front, &dir, &site, &tag), front);
    let ours = answers(front);
    assert_eq!(
        ours,
        [
            (200, "plain 0".to_string()),
            (200, "abstract".to_string()),
            (200, "tls 1 unix.example".to_string()),
        ],
        "{}",
        proxy.stderr()
    );
    let mode = std::fs::metadata(format!("{dir}/{tag}-plain.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    drop(proxy);
    if Haproxy::installed() {
        let tag = format!("haproxy{}", std::process::id());
        let front = free_port();
        let _haproxy = Haproxy::start_with(&config(front, &dir, &site, &tag), front, &["-db"]);
        assert_eq!(answers(front), ours, "haproxy answered otherwise");
    }
}

/// Clients of UNIX socket listeners have no address or port: HAProxy logs `unix` for the
/// address and the listener's id for the port (`%ci:%cp`, `%fi:%fp`), and `src`, `src_port`
/// and `dst` give no sample. Compared with Debian's haproxy on the same configuration.
#[test]
fn unix_socket_clients_are_logged_as_unix_with_the_listener_id() {
    // Socket paths are short: a UNIX socket's path must fit in 108 bytes. The folder lasts
    // as long as `pki`.
    let pki = Pki::new("unix-clients");
    let dir = pki.path("certs");
    let cfg = |front: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend front
    bind 127.0.0.1:{front}
    use_backend second if {{ path_beg /second }}
    default_backend first
backend first
    server s1 {dir}/u{front}-a.sock
backend second
    server s1 {dir}/u{front}-b.sock
frontend inner
    bind {dir}/u{front}-a.sock
    bind {dir}/u{front}-b.sock id 7
    log-format \"unix %ci:%cp %fi:%fp [%[src]] [%[src_port]] [%[dst]] %{{+Q}}r\"
    http-request return status 200 content-type text/plain lf-string \"src=%[src] port=%[src_port]\"
"
        )
    };
    let drive = |front: u16| -> Vec<(u16, String)> {
        ["/", "/second"]
            .iter()
            .map(|p| curl(&[&format!("http://127.0.0.1:{front}{p}")]))
            .collect()
    };
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.starts_with("unix "))
            .map(String::from)
            .collect()
    };
    let ((ours, mine, errors), theirs) = both_reading(1, cfg, |front, side| {
        let answers = drive(front);
        let logged = side.selected(lines, 2);
        (answers, logged, side.stderr())
    });
    assert_eq!(
        mine,
        [
            "unix unix:1 unix:1 [-] [-] [-] \"GET / HTTP/1.1\"",
            "unix unix:7 unix:7 [-] [-] [-] \"GET /second HTTP/1.1\"",
        ],
        "{errors}"
    );
    assert_eq!(ours[0], (200, "src= port=".to_string()));
    if let Some((theirs, their_lines, _)) = theirs {
        assert_eq!(theirs, ours);
        assert_eq!(their_lines, mine);
    }
}
