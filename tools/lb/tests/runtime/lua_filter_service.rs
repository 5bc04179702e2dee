//! Script filters on requests a Lua service answers (`testdata/lua/filters_service.lua`),
//! side by side with Debian's haproxy: the filters see the exchange with the service as one
//! with a server, every callback of both channels in HAProxy's order, the service reading
//! the request body as they left it and the client getting the response as they changed it;
//! the response's analysis ends before the request's after a POST, and after a response
//! whose end is the connection's. The Prometheus exporter's exchange goes through them alike.

use super::harness::{both_sides, Side, DEFAULTS};
use super::lua_filters::exchange as answer;

/// What the filter printed as it ended its exchange's second channel: each exchange's
/// whole trace, once `n` exchanges ended.
fn traces(side: &Side, n: usize) -> Vec<String> {
    let select = |out: &str| -> Vec<String> {
        out.lines()
            .filter_map(|l| l.strip_prefix("traced "))
            .filter(|l| l.matches(" end:").count() == 2)
            .map(str::to_string)
            .collect()
    };
    side.selected(select, n)
}

#[test]
fn a_script_filter_sees_a_lua_services_exchange_as_haproxy_calls_it() {
    let script = super::lua_public::script("filters_service.lua");
    let cfg = |port: u16, _: &()| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.upreq\n    filter lua.trace\n    http-request use-service lua.echo if {{ path /echo }}\n    http-request use-service lua.hello\n"
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || (),
        cfg,
        |port, _, side| {
            let mut answers = Vec::new();
            let mut traced = Vec::new();
            // One exchange at a time: each trace is printed once its stream ended.
            let exchanges: [(&str, &[&str]); 5] = [
                ("/hello", &[]),
                ("/hello", &["-d", "abc"]),
                ("/echo", &["-d", "hello body"]),
                ("/echo", &["-X", "PUT", "-d", "put"]),
                ("/echo", &["--http1.0"]),
            ];
            for (path, args) in exchanges {
                answers.push(answer(port, path, args));
                traced = traces(side, answers.len());
            }
            (answers, traced)
        },
    );
    let (answers, traced) = &ours;
    assert_eq!(
        answers[0],
        "HTTP/1.1 200 OK\ncontent-length: 7\nx-trace: start:req headers:req:GET payload:req:0:true http_end:req start:res headers:res:200\n\nHELLO 0"
    );
    // The service read the body the request's filter upper-cased.
    assert!(
        answers[2].ends_with("\n\nGOT HELLO BODY AND MORE"),
        "{}",
        answers[2]
    );
    assert!(answers[4].starts_with("HTTP/1.0 200"), "{}", answers[4]);
    assert!(answers[4].ends_with("\n\nGOT  AND MORE"), "{}", answers[4]);
    let heads = "http_end:req start:res headers:res:200";
    assert_eq!(
        traced[..],
        [
            format!("start:req headers:req:GET payload:req:0:true {heads} payload:res:7:true http_end:res end:req end:res"),
            format!("start:req headers:req:POST payload:req:3:true {heads} payload:res:7:true http_end:res end:res end:req"),
            format!("start:req headers:req:POST payload:req:10:true {heads} payload:res:23:true http_end:res end:res end:req"),
            format!("start:req headers:req:PUT payload:req:3:true {heads} payload:res:16:true http_end:res end:req end:res"),
            format!("start:req headers:req:GET payload:req:0:true {heads} payload:res:13:true http_end:res end:res end:req"),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// The Prometheus exporter's exchange goes through the filters as a Lua service's does (its
/// body offered in pieces of HAProxy's buffers there, whole here: the payload calls are left
/// out of the comparison).
#[test]
fn a_script_filter_sees_the_prometheus_exporters_exchange_as_haproxy_calls_it() {
    let script = super::lua_public::script("filters_service.lua");
    let cfg = |port: u16, _: &()| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.trace\n    http-request use-service prometheus-exporter\n"
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || (),
        cfg,
        |port, _, side| {
            let mut heads = Vec::new();
            let mut traced = Vec::new();
            for args in [&[][..], &["-d", "abc"][..]] {
                let answer = answer(port, "/metrics", args);
                let head: Vec<String> = answer
                    .lines()
                    .filter(|l| l.starts_with("HTTP/") || l.starts_with("x-trace:"))
                    .map(str::to_string)
                    .collect();
                heads.push(head);
                traced = traces(side, heads.len());
            }
            let traced: Vec<String> = traced
                .iter()
                .map(|t| {
                    t.split(' ')
                        .filter(|w| !w.starts_with("payload:res:"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            (heads, traced)
        },
    );
    let (heads, traced) = &ours;
    assert_eq!(
        heads[1],
        [
            "HTTP/1.1 200 OK",
            "x-trace: start:req headers:req:POST payload:req:3:true http_end:req start:res headers:res:200"
        ]
    );
    assert_eq!(
        traced[..],
        [
            "start:req headers:req:GET payload:req:0:true http_end:req start:res headers:res:200 http_end:res end:req end:res",
            "start:req headers:req:POST payload:req:3:true http_end:req start:res headers:res:200 http_end:res end:res end:req",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
