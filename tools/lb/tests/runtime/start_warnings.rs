//! Warnings and alerts HAProxy prints once it has read the configuration, side by side with
//! Debian's haproxy `-c`: of HTTP log fields in a proxy that is not in HTTP mode (HTTP fields
//! in its rules' strings, an inherited `option httplog`, both at the last line that set the
//! proxy's format location; an HTTP alias before a field that does not parse), and of a
//! nameserver this machine cannot send to.

use crate::harness::{check_reports, Haproxy, Scratch};
use std::path::Path;

/// Those about log formats.
fn reported(program: &Path, cfg: &Path) -> Vec<String> {
    check_reports(program, cfg, |l| {
        (l.contains("format") || l.contains("not usable")) && !l.contains("no log address")
    })
}

const TAIL: &str = "    timeout connect 5s
    timeout client 5s
    timeout server 5s
";

#[test]
fn http_log_fields_in_tcp_proxies_are_reported_as_haproxy_reports_them() {
    let dir = Scratch::dir(&format!("hapee-tcp-log-warn-{}", std::process::id()));
    let cases = [
        // A status in a content rule, then the inherited option: both at the rule's line.
        format!(
            "defaults\n    mode tcp\n    option httplog\n{TAIL}\
             frontend f\n    bind 127.0.0.1:18710\n    tcp-request content set-var-fmt(txn.x) \"%ST\"\n    default_backend b\n\
             backend b\n    tcp-request content set-var-fmt(txn.y) \"%rt %[src]\"\n    server s 127.0.0.1:18719\n"
        ),
        // `option httpslog`, located at the variable rule after it; a sample that reads no
        // HTTP is no HTTP field.
        format!(
            "defaults\n    mode tcp\n{TAIL}\
             listen l\n    bind 127.0.0.1:18711\n    option httpslog\n    tcp-request content set-var-fmt(txn.x) \"%[src]\"\n    server s 127.0.0.1:18719\n"
        ),
        // An HTTP alias before a field that does not parse: the alias is what is reported.
        format!(
            "defaults\n    mode tcp\n{TAIL}\
             frontend f\n    bind 127.0.0.1:18712\n    log-format \"%ci %HP %{{+Q\"\n    unique-id-format \"%HM %[\"\n    default_backend b\n\
             backend b\n    server s 127.0.0.1:18719\n"
        ),
    ];
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hapee-lb"));
    let expected = [
        vec![
            "[WARNING] config : parsing [{cfg}:9] : HTTP log/header format not usable with frontend 'f' (needs 'mode http').",
            "[WARNING] config : parsing [{cfg}:9] : 'option httplog' not usable with frontend 'f' (needs 'mode http'). Falling back to 'option tcplog'.",
            "[WARNING] config : parsing [{cfg}:12] : HTTP log/header format not usable with backend 'b' (needs 'mode http').",
        ],
        vec![
            "[WARNING] config : parsing [{cfg}:9] : 'option httpslog' not usable with proxy 'l' (needs 'mode http'). Falling back to 'option tcplog'.",
        ],
        vec![
            "[ALERT]   config : Parsing [{cfg}:8]: failed to parse log-format : format variable 'HP' is reserved for HTTP mode.",
            "[ALERT]   config : Parsing [{cfg}:9]: failed to parse unique-id : format variable 'HM' is reserved for HTTP mode.",
        ],
    ];
    for (i, (cfg_text, wanted)) in cases.iter().zip(expected).enumerate() {
        let cfg = dir.join(format!("case{i}.cfg"));
        std::fs::write(&cfg, cfg_text).unwrap();
        let shown = cfg.display().to_string();
        let wanted: Vec<String> = wanted.iter().map(|w| w.replace("{cfg}", &shown)).collect();
        assert_eq!(reported(&ours, &cfg), wanted, "case {i}");
        if Haproxy::installed() {
            assert_eq!(
                reported(Path::new("haproxy"), &cfg),
                wanted,
                "case {i}: haproxy"
            );
        }
    }
}

#[test]
fn a_nameserver_this_machine_cannot_send_to_is_reported_as_haproxy_reports_it() {
    let dir = Scratch::dir(&format!("hapee-ns-warn-{}", std::process::id()));
    let cfg = dir.join("ns.cfg");
    // A UDP socket cannot connect to the broadcast address (without SO_BROADCAST).
    std::fs::write(
        &cfg,
        format!(
            "resolvers dns\n    nameserver ns1 255.255.255.255:53\n    nameserver ns2 127.0.0.1:53\n\
             defaults\n    mode http\n{TAIL}\
             frontend f\n    bind 127.0.0.1:18713\n    default_backend b\n\
             backend b\n    server s 127.0.0.1:18719 resolvers dns\n"
        ),
    )
    .unwrap();
    let about = |l: &str| l.contains("nameserver");
    let wanted = ["[WARNING] config : resolvers 'dns': can't connect socket for nameserver 'ns1'."];
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hapee-lb"));
    assert_eq!(check_reports(&ours, &cfg, about), wanted);
    if Haproxy::installed() {
        assert_eq!(check_reports(Path::new("haproxy"), &cfg, about), wanted);
    }
}
