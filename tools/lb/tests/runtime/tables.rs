//! Stick tables with real clients: rate limiting on every thread, tracking by header into a
//! named table, counters, `table_*` converters, stickiness, and the Runtime API's table commands.

use crate::harness::*;

fn rate_limit_config(port: u16, origin: &Origin) -> String {
    format!("global
    nbthread 2
{DEFAULTS}
{}", fe_to_app(port, "    stick-table type ip size 100k expire 30s store http_req_rate(10s),http_req_cnt,conn_cur
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }
", origin.addr))
}

#[test]
fn the_first_request_over_the_rate_is_refused_429_on_every_thread() {
    let origin = Origin::start("app");
    let port = free_port();
    let _p = Proxy::start(&rate_limit_config(port, &origin), port);
    let url = format!("http://127.0.0.1:{port}/");
    // One connection per request: the kernel spreads them over both threads.
    for i in 1..=10 {
        let (code, _) = curl(&[&url]);
        assert_eq!(code, 200, "request {i} is within the limit");
    }
    for i in 11..=30 {
        let (code, _) = curl(&[&url]);
        assert_eq!(code, 429, "request {i} is over the limit");
    }
    assert_eq!(origin.hits.load(std::sync::atomic::Ordering::Relaxed), 10);
}

#[test]
fn counters_by_header_in_a_named_table_and_table_converters() {
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    http-request track-sc1 req.hdr(x-user) table users
    http-request sc-inc-gpc0(1)
    http-request sc-inc-gpc(1,1)
    http-request sc-inc-gpc(1,1)
    http-request sc-set-gpt0(1) 7
    http-request return status 200 content-type text/plain lf-string \"gpc0=%[sc_get_gpc0(1)] gpc1=%[sc_get_gpc(1,1)] gpt0=%[sc1_get_gpt0] req=%[sc1_http_req_cnt] conn=%[sc1_conn_cur] tracked=%[sc_tracked(1)]/%[sc_tracked(0)] exp=%[req.hdr(x-user),table_expire(users)] idle=%[req.hdr(x-user),table_idle(users)] other=%[str(nobody),table_expire(users,-1)] cnt=%[table_cnt(users)]\"
backend users
    stick-table type string len 16 size 1k expire 60s store gpc(2),gpt0,http_req_cnt,conn_cur
"
    );
    let _p = Proxy::start(&cfg, port);
    let url = format!("http://127.0.0.1:{port}/");
    let ask = |user: &str| curl(&[&url, "-H", &format!("x-user: {user}")]).1;
    ask("alice");
    let body = ask("alice");
    // `sc-inc-gpc0` uses the `gpc` array's first element when the table has no `gpc0`.
    let re = regex::Regex::new(
        r"^gpc0=2 gpc1=4 gpt0=7 req=2 conn=1 tracked=1/0 exp=(\d+) idle=(\d+) other=-1 cnt=1$",
    )
    .unwrap();
    let c = re.captures(&body).unwrap_or_else(|| panic!("{body}"));
    let (exp, idle): (u64, u64) = (c[1].parse().unwrap(), c[2].parse().unwrap());
    // The entry was touched while the request ran: it has (nearly) the whole minute left.
    assert!(exp <= 60_000 && exp + idle == 60_000, "{body}");
    let body = ask("bob");
    assert!(body.starts_with("gpc0=1 gpc1=2 gpt0=7 req=1 "), "{body}");
    assert!(body.ends_with(" cnt=2"), "{body}");
}

#[test]
fn stick_on_keeps_each_user_on_the_server_it_first_got() {
    let (a, b) = (Origin::start("a"), Origin::start("b"));
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    stick-table type string len 32 size 1k expire 1m store server_id,server_key
    stick on req.hdr(x-user)
    server s1 {}
    server s2 {}
",
        a.addr, b.addr
    );
    let _p = Proxy::start(&cfg, port);
    let url = format!("http://127.0.0.1:{port}/");
    let served_by = |user: &str| {
        let (_, body) = curl(&[&url, "-H", &format!("x-user: {user}")]);
        body.lines().next().unwrap_or("").to_string()
    };
    let first: Vec<String> = (0..4).map(|u| served_by(&format!("user{u}"))).collect();
    // Round robin for new keys: both servers took users.
    assert!(first.contains(&"name=a".to_string()) && first.contains(&"name=b".to_string()));
    for _ in 0..3 {
        for (u, server) in first.iter().enumerate() {
            assert_eq!(&served_by(&format!("user{u}")), server, "user{u} moved");
        }
    }
}

#[test]
fn tcp_request_connection_tracking_limits_connections() {
    let origin = Origin::start("app");
    let port = free_port();
    let cfg = format!(
        "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 30s store conn_cnt,conn_cur,sess_cnt,conn_rate(10s)
    tcp-request connection track-sc0 src
    tcp-request connection reject if {{ sc0_conn_cnt gt 3 }}
    default_backend app
backend app
    mode tcp
    server s1 {}
",
        origin.addr
    );
    let _p = Proxy::start(&cfg, port);
    let url = format!("http://127.0.0.1:{port}/");
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(curl(&[&url]).0);
    }
    assert_eq!(
        codes,
        [200, 200, 200, 0, 0],
        "the 4th connection from this address on is refused"
    );
}

#[test]
fn runtime_api_shows_sets_and_clears_table_entries_by_level() {
    use crate::api::ask;
    let origin = Origin::start("app");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-tables-api-{port}"));
    let d = dir.display();
    let cfg = format!(
        "global
    stats socket {d}/oper.sock level operator
    stats socket {d}/user.sock level user
{DEFAULTS}
{}",
        fe_to_app(
            port,
            "    stick-table type ip size 1k expire 60s store http_req_cnt,gpc0
    http-request track-sc0 src
",
            origin.addr
        )
    );
    let _p = Proxy::start(&cfg, port);
    let (oper, user) = (dir.join("oper.sock"), dir.join("user.sock"));
    assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
    let all = ask(&user, "show table fe\n");
    assert!(all.contains("# table: fe, type: ip"), "{all}");
    assert!(all.contains("key=127.0.0.1"), "the tracked client: {all}");
    assert_eq!(
        ask(&oper, "set table fe key 10.0.0.9 data.gpc0 7\n").trim(),
        ""
    );
    let one = ask(&user, "show table fe key 10.0.0.9\n");
    assert!(
        one.contains("key=10.0.0.9") && one.contains("gpc0=7"),
        "{one}"
    );
    let denied = ask(&user, "clear table fe key 10.0.0.9\n");
    assert!(denied.contains("Permission denied"), "{denied}");
    assert!(ask(&user, "show table fe key 10.0.0.9\n").contains("gpc0=7"));
    assert_eq!(ask(&oper, "clear table fe key 10.0.0.9\n").trim(), "");
    let gone = ask(&user, "show table fe key 10.0.0.9\n");
    assert!(!gone.contains("key=10.0.0.9"), "{gone}");
}

#[test]
fn tune_stick_counters_gives_sessions_more_counters() {
    // Eight counters: sc5 tracks and limits, sc-inc-gpc0 without a number acts on sc0, and a
    // counter nothing tracks (sc6) reads as nothing.
    let port = free_port();
    let cfg = format!(
        "global
    tune.stick-counters 8
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 1m store http_req_rate(10s),gpc(2)
    http-request track-sc5 src
    http-request track-sc0 src table other
    http-request sc-inc-gpc(1,5)
    http-request sc-inc-gpc0
    http-request deny deny_status 429 if {{ sc_http_req_rate(5) gt 3 }}
    http-request return status 200 content-type text/plain lf-string \"rate=%[sc_http_req_rate(5)] gpc1=%[sc_get_gpc(1,5)] other=%[sc_get_gpc0(0)] none=%[sc_http_req_rate(6)]\"
backend other
    stick-table type ip size 1k expire 1m store gpc0
"
    );
    let _p = Proxy::start(&cfg, port);
    let url = format!("http://127.0.0.1:{port}/");
    for i in 1..=3 {
        let (code, body) = curl(&[&url]);
        assert_eq!(code, 200);
        assert_eq!(body, format!("rate={i} gpc1={i} other={i} none="));
    }
    let (code, _) = curl(&[&url]);
    assert_eq!(code, 429, "the fourth request is over sc5's rate");
}
