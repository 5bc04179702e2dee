//! Stick tables seen from scripts (`testdata/lua/stktable.lua`): `core.proxies[name].stktable`
//! with `info()`, `lookup(key)` and `dump([filter])` answering what HAProxy answers (values,
//! Lua types, filters and their error strings), and a rate limit reading the table; side by
//! side with Debian's haproxy and, where it is built, HAProxy 2.7.0.

use super::harness::{both, curl, with_haproxy_27, DEFAULTS};

fn script() -> String {
    super::lua_public::script("stktable.lua")
}

fn config(port: u16) -> String {
    format!(
        "global\n    lua-load {}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request track-sc0 src table ipt\n    http-request track-sc1 hdr(x-s) table strt if {{ hdr(x-s) -m found }}\n    http-request track-sc2 hdr(x-i) table intt if {{ hdr(x-i) -m found }}\n    http-request sc-inc-gpc(1,0) if {{ hdr(x-g) -m found }}\n    http-request sc-set-gpt(0,0) 77 if {{ hdr(x-g) -m found }}\n    http-request use-service lua.tables if {{ path /tables }}\n    http-request lua.limit 5 if {{ path /limited }}\n    http-request deny deny_status 429 if {{ var(txn.limited) -m bool }}\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.rate)]\"\nbackend ipt\n    stick-table type ip size 100 expire 30s store http_req_cnt,http_req_rate(60s),conn_cur,gpc(2),gpt(1),gpc_rate(2,60s),bytes_out_cnt,server_id,server_key\nbackend strt\n    stick-table type string len 8 size 50 store http_req_cnt,gpc0\nbackend intt\n    stick-table type integer size 50 expire 1m nopurge store http_req_cnt\nbackend v6t\n    stick-table type ipv6 size 50 store http_req_cnt\nbackend bint\n    stick-table type binary len 6 size 50 store http_req_cnt\nbackend plain\n    server s 127.0.0.1:1\n",
        script()
    )
}

/// Three tracked requests, the tables' answers, then two rate-limited requests: the statuses
/// and bodies.
fn drive(port: u16) -> Vec<(u16, String)> {
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let mut answers = vec![
        curl(&["-H", "x-s: abc", "-H", "x-i: 42", "-H", "x-g: 1", &url("/")]),
        curl(&["-H", "x-s: abcdefghijk", "-H", "x-i: 300", &url("/")]),
        curl(&["-H", "x-s: abc", "-H", "x-i: 42", &url("/")]),
        curl(&[&url("/tables")]),
    ];
    answers.push(curl(&[&url("/limited")]));
    answers.push(curl(&[&url("/limited")]));
    answers
}

/// Asserts that each of `parts` is in `line`.
fn has_all(line: &str, parts: &[&str]) {
    for part in parts {
        assert!(line.contains(part), "{part} not in {line}");
    }
}

fn line<'a>(answers: &'a [(u16, String)], name: &str) -> &'a str {
    answers[3]
        .1
        .lines()
        .find(|l| l.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("no line for {name} in {}", answers[3].1))
}

#[test]
fn stick_tables_answer_info_lookup_and_dump_as_haproxy() {
    let (ours, theirs) = both(config, drive);
    assert_eq!(ours[3].0, 200, "{}", ours[3].1);
    let ipt = line(&ours, "ipt");
    has_all(
        ipt,
        &[
        "keys=0 class=true",
        "info={data:string={bytes_out_cnt:string=integer(-1),conn_cur:string=integer(-1),gpc:string=integer(-1),gpc_rate:string=integer(60000),gpt:string=integer(-1),http_req_cnt:string=integer(-1),http_req_rate:string=integer(60000),server_id:string=integer(-1),server_key:string=integer(-1)},expire:string=integer(30000),length:string=integer(4),nopurge:string=boolean(false),size:string=integer(100),type:string=string(ip),used:string=integer(1)}",
        // The request asking tracks its own entry: one use, one connection.
        "lookup(127.0.0.1)={bytes_out_cnt:string=integer(",
        "conn_cur:string=integer(1),expire:string=string(live),gpc:string=integer(0),gpc_rate:string=integer(0),gpt:string=integer(77),http_req_cnt:string=integer(4),http_req_rate:string=integer(4),server_id:string=integer(0),server_key:string=string(-),use:string=integer(1)}",
        "lookup(abc)=nil(nil)",
        "dump={127.0.0.1:string={",
        "bad={2:integer=string(Filter table data column not present in stick table (entry #1)),n:string=integer(2)}",
        "bad={2:integer=string(Filter table too large (len > 4)),n:string=integer(2)}",
        "bad={2:integer=string(filter table expected),n:string=integer(2)}",
        ],
    );
    let strt = line(&ours, "strt");
    has_all(
        strt,
        &[
        "length:string=integer(9)",
        "lookup(abc)={expire:string=integer(0),gpc0:string=integer(0),http_req_cnt:string=integer(2),use:string=integer(0)}",
        // The key is cut to the table's length.
        "dump={abc:string={gpc0:string=integer(0),http_req_cnt:string=integer(2)},abcdefgh:string={gpc0:string=integer(0),http_req_cnt:string=integer(1)}}",
        "ge2={1:integer={abc:string={gpc0:string=integer(0),http_req_cnt:string=integer(2)}},n:string=integer(1)}",
        "two={1:integer={abc:string=",
        ],
    );
    let intt = line(&ours, "intt");
    has_all(
        intt,
        &[
        "nopurge:string=boolean(true)",
        "lookup(42)={expire:string=string(live),http_req_cnt:string=integer(2),use:string=integer(0)} lookup(nope)=nil(nil)",
        // HAProxy names an integer key by its low byte: 300 is 44.
        "dump={42:integer={http_req_cnt:string=integer(2)},44:integer={http_req_cnt:string=integer(1)}}",
        ],
    );
    assert!(line(&ours, "bint").contains("type:string=string(binary)"));
    assert_eq!(line(&ours, "fe"), "fe nil");
    assert_eq!(line(&ours, "plain"), "plain nil");
    // The rate limit: the fifth request passes at a rate of 5, the sixth is refused.
    assert_eq!(ours[4], (200, "5".into()));
    assert_eq!(ours[5].0, 429);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
    if let Some((theirs, _)) = with_haproxy_27(config, drive) {
        assert_eq!(ours, theirs, "hapee and haproxy 2.7.0 differ");
    }
}
