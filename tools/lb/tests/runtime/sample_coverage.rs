//! The sample fetches and converters `run` used to refuse (issue 19), each read where a user
//! reads it (a response header, a reply, a log line), side by side with Debian's haproxy
//! where it runs: the server connection's ends and HTTP version, the capture and queue
//! converters, `unset-var`, the `fcgi-app` settings, compression, the HTX blocks, the TLS
//! records and distcc tokens of held bytes, and the ClientHello capture.

use crate::harness::*;
use crate::tls::{curl_tls, have, Pki};
use std::io::{Read, Write};
use std::time::Duration;

/// The lines of curl's `-i` output (headers, then the origin's echo) that start with one of
/// `prefixes`, in the order of `prefixes`.
fn picked(out: &str, prefixes: &[&str]) -> Vec<String> {
    prefixes
        .iter()
        .map(|p| {
            out.lines()
                .find(|l| l.to_ascii_lowercase().starts_with(p))
                .unwrap_or("")
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn server_connection_fetches_and_converters() {
    let (ours, theirs) = both_with(
        || Origin::start("o"),
        |port, o| {
            format!(
                "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    declare capture request len 4
    declare capture response len 3
    http-request set-var(txn.a) str(x)
    http-request set-var(txn.b) str(y),unset-var(txn.a)
    http-request set-header x-cap %[req.hdr(x-a),capture-req(0)]
    http-request set-header x-got \"%[capture.req.hdr(0)] a=%[var(txn.a)] b=%[var(txn.b)] none=%[str(q),capture-req(5)]\"
    http-response set-header x-bc \"%[bc_src] %[bc_dst] %[bc_http_major] %[str(app/s1),srv_queue]\"
    http-response set-header x-port \"%[bc_src_port] %[bc_dst_port]\"
    http-response set-header x-capres \"%[res.hdr(x-origin),capture-res(0)] %[capture.res.hdr(0)]\"
    http-response set-header x-tls \"<%[ssl_bc_npn]><%[ssl_s_chain_der,length]>\"
    default_backend app
backend app
    http-response set-header x-bq %[str(s1),srv_queue]
    server s1 {}
",
                o.addr
            )
        },
        |port, o| {
            let (_, out) = curl(&[
                "-i",
                "-H",
                "x-a: abcdefgh",
                &format!("http://127.0.0.1:{port}/"),
            ]);
            let mut lines = picked(
                &out,
                &[
                    "x-bc:",
                    "x-capres:",
                    "x-tls:",
                    "hdr:x-got=",
                    "hdr:x-cap=",
                    "x-bq:",
                ],
            );
            lines.push(picked(&out, &["x-port:"])[0].replace(&o.addr.port().to_string(), "ORIGIN"));
            lines
        },
    );
    assert_eq!(
        ours[..6],
        [
            "x-bc: 127.0.0.1 127.0.0.1 1 0",
            "x-capres: o o",
            "x-tls: <><>",
            "hdr:x-got=abcd a= b=y none=",
            "hdr:x-cap=abcdefgh",
            "x-bq: 0",
        ],
        "{ours:?}"
    );
    let port = ours[6]
        .strip_prefix("x-port: ")
        .and_then(|p| p.strip_suffix(" ORIGIN"));
    assert!(
        port.and_then(|p| p.parse::<u16>().ok()).is_some(),
        "{ours:?}"
    );
    let Some(theirs) = theirs else { return };
    assert_eq!(ours[..6], theirs[..6]);
}

#[test]
fn fcgi_app_settings_and_htx_blocks() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}fcgi-app php
    docroot /var/www/html
    index index.php
fcgi-app bare
    docroot /srv
listen fe
    bind 127.0.0.1:{port}
    use-fcgi-app php
    option http-buffer-request
    http-request return status 200 content-type text/plain lf-string \"root=%[fcgi.docroot] index=%[fcgi.index] t0=%[internal.htx_blk.type(0)] sl=%[internal.htx_blk.start_line(head)] s0=%[internal.htx_blk.size(0)] h2=%[internal.htx_blk.hdrname(2)]:%[internal.htx_blk.hdrval(2)]/%[internal.htx_blk.size(2)] t1=%[internal.htx_blk.type(1)] first=%[internal.htx_blk.type(first)] tail=%[internal.htx_blk.type(tail)] d=%[internal.htx_blk.data(tail)] ds=%[internal.htx_blk.size(tail)] t4=%[internal.htx_blk.type(4)] eoh=%[internal.htx_blk.type(6)]/%[internal.htx_blk.size(6)] far=%[internal.htx_blk.type(99)]/%[internal.htx_blk.size(99)]/<%[internal.htx_blk.hdrname(99)]> notsl=<%[internal.htx_blk.start_line(1)]>\"
    server s 127.0.0.1:9 proto fcgi
listen bare
    bind 127.0.0.1:{}
    use-fcgi-app bare
    http-request return status 200 content-type text/plain lf-string \"root=%[fcgi.docroot] index=<%[fcgi.index]>\"
    server s 127.0.0.1:9 proto fcgi
",
            port + 1
        )
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| {
        let url = format!("http://127.0.0.1:{port}/a?b=c");
        let post = curl(&[
            "-s",
            "-H",
            "user-agent: ua",
            "-H",
            "accept: x",
            "--data",
            "hello",
            &url,
        ])
        .1;
        let bare = curl(&["-s", &format!("http://127.0.0.1:{}/", port + 1)]).1;
        (post, bare)
    });
    assert!(
        ours.0.starts_with(
            "root=/var/www/html index=index.php t0=HTX_BLK_REQ_SL sl=POST /a?b=c HTTP/1.1 "
        ),
        "{ours:?}"
    );
    assert!(ours.0.contains(" h2=user-agent:ua/12 t1=HTX_BLK_HDR first=HTX_BLK_REQ_SL tail=HTX_BLK_DATA d=hello ds=5 "), "{ours:?}");
    assert!(
        ours.0.contains(" t4=HTX_BLK_HDR eoh=HTX_BLK_EOH/1 "),
        "{ours:?}"
    );
    assert!(
        ours.0.contains(" far=HTX_BLK_UNUSED/0/<> notsl=<>"),
        "{ours:?}"
    );
    assert_eq!(ours.1, "root=/srv index=<>");
    let Some(theirs) = theirs else { return };
    assert_eq!(ours, theirs);
}

#[test]
fn compression_is_seen_in_the_log() {
    let o = Origin::start("o");
    let (ours, theirs) = logged_side_by_side(
        |port| {
            format!(
                "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"comp=%[res.comp] algo=%[res.comp_algo] path=%HP\"
    compression algo gzip deflate
    default_backend app
backend app
    server s1 {}
",
                o.addr
            )
        },
        |port| {
            let url = format!("http://127.0.0.1:{port}/");
            let zipped = curl(&["-s", "-H", "accept-encoding: deflate", &format!("{url}z")]);
            let plain = curl(&["-s", &format!("{url}p")]);
            (zipped.0, plain.0)
        },
        |l| l.starts_with("comp=") && l.contains("path=/"),
        2,
    );
    assert_eq!(
        ours.1,
        ["comp=1 algo=deflate path=/z", "comp=0 algo=- path=/p"],
        "{ours:?}"
    );
    let Some(theirs) = theirs else { return };
    assert_eq!(ours, theirs);
}

/// What a server sends first: a ServerHello-type handshake record (its contents do not
/// matter to the fetches).
const SERVER_HELLO: &[u8] = &[0x16, 3, 3, 0, 8, 2, 0, 0, 4, 1, 2, 3, 4];

#[test]
fn held_bytes_read_as_tls_records_and_distcc_tokens() {
    let server = raw_server(SERVER_HELLO, Duration::ZERO, Duration::from_millis(200));
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    mode tcp
    bind 127.0.0.1:{port}
    log-format \"st=%[var(sess.st)] ec=%[var(sess.ec)] ht=%[var(sess.ht)] rt=%[var(sess.rt)] rt2=%[var(sess.rt2)] dp=%[var(sess.dp)] db=%[var(sess.db)] dn=%[var(sess.dn)]\"
    tcp-request inspect-delay 2s
    tcp-request content set-var(sess.ht) req.ssl_hello_type if {{ req.len gt 0 }}
    tcp-request content set-var(sess.st) req.ssl_st_ext
    tcp-request content set-var(sess.ec) req.ssl_ec_ext
    tcp-request content set-var(sess.dp) distcc_param(ARGV,2)
    tcp-request content set-var(sess.db) distcc_body(ARGV,1)
    tcp-request content set-var(sess.dn) distcc_param(ARGC)
    default_backend be
backend be
    mode tcp
    tcp-response inspect-delay 2s
    tcp-response content set-var(sess.rt) res.ssl_hello_type if {{ res.len gt 0 }}
    tcp-response content set-var(sess.rt2) rep_ssl_hello_type
    server s {server}
"
        )
    };
    let send = |port: u16, bytes: Vec<u8>| {
        let mut s = connect(("127.0.0.1", port));
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.write_all(&bytes).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got.len()
    };
    let ticket: &[u8] = b"tkt";
    let hellos = [
        client_hello(&[(35, ticket), (10, &[0, 2, 0, 0x1d])]),
        client_hello(&[(35, b""), (11, &[1, 0])]),
        client_hello(&[(11, &[1, 0])]),
        b"DIST00000001ARGC00000002ARGV00000003gccARGV00000002-c".to_vec(),
    ];
    let (ours, theirs) = logged_side_by_side(
        cfg,
        |port| {
            hellos
                .iter()
                .map(|h| send(port, h.clone()))
                .collect::<Vec<_>>()
        },
        // Not the line of the proxy's readiness probe, which sent nothing.
        |l| l.starts_with("st=") && !(l.starts_with("st=- ") && l.contains(" dp=- ")),
        4,
    );
    // The format needs nothing of the stream's end, so the line is written once the server
    // is connected, before the `tcp-response` rules run: their variables are not set yet,
    // as in HAProxy (2.6 and 2.7.0).
    assert_eq!(
        ours.1,
        [
            "st=2 ec=1 ht=1 rt=- rt2=- dp=- db=- dn=-",
            "st=1 ec=- ht=1 rt=- rt2=- dp=- db=- dn=-",
            "st=0 ec=- ht=1 rt=- rt2=- dp=- db=- dn=-",
            "st=- ec=- ht=- rt=- rt2=- dp=2 db=gcc dn=2",
        ],
        "{ours:?}"
    );
    let Some(theirs) = theirs else { return };
    assert_eq!(ours.1, theirs.1);
}

#[test]
fn client_hello_capture_and_tls_fetches() {
    if !have("curl", &["--version"]) || !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("coverage");
    pki.ca("Client CA", "client-ca.pem");
    let hidden = pki.ca("Hidden CA", "hidden.pem");
    // A client chain topped by a self-signed CA the proxy does not trust.
    let (leaf, key) = hidden.issue(&["carol"], true, false);
    let chain = pki.write("carol-chain.pem", &(leaf + &hidden.cert.pem()));
    let key = pki.write("carol.key", &key);
    // The server's certificate with its CA above it.
    let read = |name: &str| std::fs::read_to_string(pki.path(name)).unwrap();
    let full = pki.write("full.pem", &(read("default.pem") + &read("ca.pem")));
    let cfg = |port: u16| {
        format!(
            "global
    tune.ssl.capture-buffer-size 256
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {default} ca-file {client_ca} verify optional ca-ignore-err all crt-ignore-err all
    http-request return status 200 content-type text/plain lf-string \"v=%[ssl_fc_protocol_hello_id] ext=%[ssl_fc_extlist_bin,hex] ext1=%[ssl_fc_extlist_bin(1),hex] ec=%[ssl_fc_eclist_bin(1),hex] ecf=%[ssl_fc_ecformats_bin,hex] npn=<%[ssl_fc_npn]> ca=%[ssl_c_ca_err] depth=%[ssl_c_ca_err_depth] crt=%[ssl_c_err]\" if {{ path /hello }}
    default_backend app
backend app
    http-response set-header x-s \"%[ssl_s_chain_der,hex,length] %[ssl_s_der,hex,length] %[ssl_s_der,length] %[ssl_s_chain_der,sha2,hex] npn=<%[ssl_bc_npn]>\"
    server s 127.0.0.1:{back} ssl verify none
listen back
    bind 127.0.0.1:{back} ssl crt {full}
    http-request return status 200 content-type text/plain string back
",
            default = pki.path("default.pem"),
            client_ca = pki.path("client-ca.pem"),
            back = port + 1,
        )
    };
    let drive = |port: u16, _: &Side| -> Vec<String> {
        let url = format!("https://127.0.0.1:{port}/");
        let hello = format!("{url}hello");
        let plain = curl_tls(&["-k", "--tlsv1.2", "--tls-max", "1.2", &hello]).0;
        let with_chain = curl_tls(&["-k", "--cert", &chain, "--key", &key, &hello]).0;
        let through = curl_tls(&["-k", "-i", &url]).0;
        let x_s = through
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("x-s:"))
            .unwrap_or("")
            .trim_end()
            .to_string();
        vec![plain, with_chain, x_s]
    };
    let (ours, theirs) = both_reading(2, cfg, drive);
    assert!(ours[0].starts_with("v=771 ext="), "{ours:?}");
    // Supported groups (0x000a) and point formats (0x000b) are offered by OpenSSL's curl.
    assert!(ours[0].contains("000A"), "{ours:?}");
    assert!(ours[0].contains(" ecf=00"), "{ours:?}");
    assert!(ours[0].contains(" npn=<> ca=0 depth=0 crt=0"), "{ours:?}");
    assert!(ours[1].contains(" ca=19 depth=1 crt=0"), "{ours:?}");
    // The chain is the server's certificate and its CA's.
    let sizes: Vec<usize> = ours[2]
        .trim_start_matches("x-s: ")
        .split(' ')
        .take(2)
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(sizes.len() == 2 && sizes[0] > sizes[1], "{ours:?}");
    assert!(ours[2].ends_with(" npn=<>"), "{ours:?}");
    let Some(theirs) = theirs else { return };
    assert_eq!(ours, theirs);
}

/// `srv_queue` given a bare server name looks it up in the proxy whose rule runs: a
/// backend's rules find their server, a frontend's (which has none) find nothing, in a
/// condition as in `set-var`; a log-format string reads it in the stream's backend, even in a
/// frontend's rule.
#[test]
fn srv_queue_reads_a_bare_name_in_the_proxy_of_the_rule() {
    let (ours, theirs) = both_with(
        || Origin::start("o"),
        |port, o| {
            format!(
                "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-response set-var(txn.fq) str(s1),srv_queue
    http-response set-header x-fe \"q=%[var(txn.fq)]\"
    http-response set-header x-fe-lf \"q=%[str(s1),srv_queue]\"
    http-response set-header x-fe-acl yes if {{ str(s1),srv_queue ge 0 }}
    default_backend app
backend app
    http-response set-var(txn.bq) str(s1),srv_queue
    http-response set-header x-be \"q=%[var(txn.bq)]\"
    http-response set-header x-be-acl yes if {{ str(s1),srv_queue ge 0 }}
    server s1 {}
",
                o.addr
            )
        },
        |port, _| {
            let (_, out) = curl(&["-i", &format!("http://127.0.0.1:{port}/")]);
            picked(
                &out,
                &["x-fe:", "x-fe-lf:", "x-fe-acl:", "x-be:", "x-be-acl:"],
            )
        },
    );
    assert_eq!(
        ours,
        ["x-fe: q=", "x-fe-lf: q=0", "", "x-be: q=0", "x-be-acl: yes"],
        "{ours:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
