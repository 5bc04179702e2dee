//! `filter spoe` beyond the HTTP events: the TCP-side events and `tcp-request`/`tcp-response
//! content send-spoe-group` of a TCP-mode stream, and the agent connection's modes and limits
//! (pipelining, asynchronous answers, AGENT-DISCONNECT, `maxconnrate`, `maxerrrate`), each
//! through real sockets with testdata/spoe/agent.py, side by side with Debian's haproxy where
//! its behaviour is the same.

use super::spoe::{start_agent_with, Agent};
use crate::harness::*;
use std::path::PathBuf;
use std::time::Duration;

/// An SPOE file of the test's own, written beside its other files.
fn spoe_file(tag: &str, text: &str) -> Scratch {
    let path = Scratch::file(&format!(
        "hapee-spoe-{}-{tag}-{}.conf",
        std::process::id(),
        free_port()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// An agent section's usual lines: prefix `t`, the error variable `err`, the agents' backend.
fn agent_lines(processing_ms: u32, extra: &str) -> String {
    format!(
        "    option var-prefix t
    option set-on-error err
    option continue-on-error
    timeout hello 2s
    timeout idle 30s
    timeout processing {processing_ms}ms
    use-backend agents
{extra}"
    )
}

const TCP_SPOE: &str = "[front]
spoe-agent front-agent
    messages echo-cs echo-fe echo-be echo-ss echo-rs
    groups req-grp
AGENT
spoe-message echo-cs
    args cs=src
    event on-client-session
spoe-message echo-fe
    args fe=dst_port
    event on-frontend-tcp-request
spoe-message echo-be
    args be=str(fe-side)
    event on-backend-tcp-request
spoe-message echo-ss
    args ss=str(server)
    event on-server-session
spoe-message echo-rs
    args rs=str(response)
    event on-tcp-response
spoe-message echo-grp
    args grp=str(tcp-req)
spoe-group req-grp
    messages echo-grp

[back]
spoe-agent back-agent
    messages echo-bbe echo-bss
    groups res-grp
AGENT
spoe-message echo-bbe
    args bbe=be_name
    event on-backend-tcp-request
spoe-message echo-bss
    args bss=srv_name
    event on-server-session
spoe-message echo-rgrp
    args rgrp=str(tcp-res)
spoe-group res-grp
    messages echo-rgrp
";

/// A TCP frontend and backend whose engines send on every TCP-side event and from their
/// content rules, which have an inspection delay when `delay` is given.
fn tcp_config(
    port: u16,
    agent: u16,
    spoe: &std::path::Path,
    origin: std::net::SocketAddr,
    delay: &str,
) -> String {
    let (req_delay, res_delay) = if delay.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!("    tcp-request inspect-delay {delay}\n"),
            format!("    tcp-response inspect-delay {delay}\n"),
        )
    };
    format!(
        "global
    nbthread 1
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    filter spoe engine front config {spoe}
{req_delay}    tcp-request content send-spoe-group front req-grp
    log-format \"up=%U cs=%[var(txn.t.cs)] fe=%[var(txn.t.fe)] be=%[var(txn.t.be)] ss=%[var(txn.t.ss)] rs=%[var(txn.t.rs)] grp=%[var(txn.t.grp)] bbe=%[var(txn.t.bbe)] bss=%[var(txn.t.bss)] rgrp=%[var(txn.t.rgrp)] err=%[var(txn.t.err)]\"
    default_backend app
backend app
    filter spoe engine back config {spoe}
{res_delay}    tcp-response content send-spoe-group back res-grp
    server s {origin}
backend agents
    server a 127.0.0.1:{agent}
",
        spoe = spoe.display()
    )
}

/// What a client got back through the proxy, and the line logged for its stream.
type TcpRun = (String, Option<String>);

/// One TCP stream through `tcp_config` (with `delay`), on each side.
fn tcp_run(delay: &'static str) -> (TcpRun, Option<TcpRun>) {
    let origin = raw_server(b"pong\n", Duration::ZERO, Duration::ZERO);
    both_sides(
        1,
        || {
            let text = TCP_SPOE.replace("AGENT\n", &agent_lines(2000, ""));
            (start_agent_with(&[]), spoe_file("tcp", &text))
        },
        |port, (agent, spoe): &(Agent, Scratch)| tcp_config(port, agent.port, spoe, origin, delay),
        |port, _, side| {
            let answer = raw(port, b"ping\n", Duration::from_secs(5));
            // The harness's probe connection logs too: the client's line has its five bytes.
            let line = |out: &str| {
                out.lines()
                    .find(|l| l.starts_with("up=5 "))
                    .map(str::to_string)
            };
            let logged = line(&side.stdout_when(|out| line(out).is_some()));
            (answer, logged)
        },
    )
}

/// A logged line without its frontend port (each side listens on its own).
fn without_port(line: &Option<String>) -> Option<String> {
    line.as_deref().map(|l| {
        l.split(' ')
            .filter(|w| !w.starts_with("fe="))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[test]
fn tcp_events_and_content_rules_send_their_messages_like_haproxy() {
    let (mine, theirs) = tcp_run("2s");
    assert_eq!(mine.0, "pong\n");
    let expected = format!(
        "up=5 cs=127.0.0.1 fe={} be=fe-side ss=server rs=response grp=tcp-req bbe=app bss=s rgrp=tcp-res err=-",
        mine_port(&mine)
    );
    assert_eq!(mine.1.as_deref(), Some(&*expected), "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0, mine.0);
        assert_eq!(without_port(&theirs.1), without_port(&mine.1));
    }
}

#[test]
fn content_rules_without_an_inspect_delay_interrupt_the_group_like_haproxy() {
    // The rules cannot wait for the agent: the processing is interrupted (status 5) before
    // anything is sent, and the events still have their answers.
    let (mine, theirs) = tcp_run("");
    assert_eq!(mine.0, "pong\n");
    let expected = format!(
        "up=5 cs=127.0.0.1 fe={} be=fe-side ss=server rs=response grp=- bbe=app bss=s rgrp=- err=5",
        mine_port(&mine)
    );
    assert_eq!(mine.1.as_deref(), Some(&*expected), "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0, mine.0);
        assert_eq!(without_port(&theirs.1), without_port(&mine.1));
    }
}

/// The frontend port a TCP test's line names (each side listens on its own).
fn mine_port(run: &TcpRun) -> String {
    run.1
        .as_deref()
        .and_then(|l| l.split(' ').find_map(|w| w.strip_prefix("fe=")))
        .unwrap_or("")
        .to_string()
}

/// An HTTP frontend whose `send-spoe-group` sends `echo-client` (the `x-tag` and `x-delay`
/// headers), and answers what the agent said.
fn http_config(port: u16, agent: u16, spoe: &std::path::Path) -> String {
    format!(
        "global
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    filter spoe engine e config {spoe}
    http-request send-spoe-group e grp
    http-request return status 200 content-type text/plain lf-string \"tag=%[var(txn.t.tag)] conn=%[var(txn.t.conn)] inflight=%[var(txn.t.inflight)] replied=%[var(txn.t.replied)] err=%[var(txn.t.err)]\"
backend agents
    mode tcp
    server a 127.0.0.1:{agent}
",
        spoe = spoe.display()
    )
}

fn http_spoe(processing_ms: u32, agent_extra: &str) -> String {
    format!(
        "[e]
spoe-agent e-agent
    groups grp
{}spoe-message echo-client
    args tag=req.hdr(x-tag) delay=req.hdr(x-delay)
spoe-group grp
    messages echo-client
",
        agent_lines(processing_ms, agent_extra)
    )
}

/// The body of the answer to a request tagged `tag`, held back `delay_ms` by the agent.
fn ask(port: u16, tag: &str, delay_ms: u32) -> String {
    let req = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nx-tag: {tag}\r\nx-delay: {delay_ms}\r\nConnection: close\r\n\r\n"
    );
    let out = raw(port, req.as_bytes(), Duration::from_secs(10));
    out.split_once("\r\n\r\n")
        .map_or(out.clone(), |(_, b)| b.to_string())
}

/// A slow request, then a quick one while the first is still with the agent.
fn slow_then_quick(port: u16) -> (String, String) {
    let slow = std::thread::spawn(move || ask(port, "slow", 1500));
    std::thread::sleep(Duration::from_millis(400));
    let quick = ask(port, "quick", 0);
    (slow.join().unwrap(), quick)
}

#[test]
fn a_pipelining_agent_gets_a_frame_while_another_waits() {
    let agent = start_agent_with(&["--caps", "pipelining"]);
    let spoe = spoe_file("pipelining", &http_spoe(5000, ""));
    let port = free_port();
    let proxy = Proxy::start(&http_config(port, agent.port, &spoe), port);
    let (slow, quick) = slow_then_quick(port);
    drop(proxy);
    // One connection carries both frames: the quick one arrives while the slow one waits,
    // and is answered first.
    assert_eq!(slow, "tag=slow conn=1 inflight=1 replied=0 err=", "{slow}");
    assert_eq!(
        quick, "tag=quick conn=1 inflight=2 replied=0 err=",
        "{quick}"
    );
}

#[test]
fn without_pipelining_a_second_connection_takes_the_frame() {
    // The agent takes no capability: one frame at a time on each connection.
    let agent = start_agent_with(&[]);
    let spoe = spoe_file("sync", &http_spoe(5000, ""));
    let port = free_port();
    let proxy = Proxy::start(&http_config(port, agent.port, &spoe), port);
    let (slow, quick) = slow_then_quick(port);
    drop(proxy);
    assert_eq!(slow, "tag=slow conn=1 inflight=1 replied=0 err=", "{slow}");
    assert_eq!(
        quick, "tag=quick conn=2 inflight=1 replied=0 err=",
        "{quick}"
    );
}

#[test]
fn an_asynchronous_agent_answers_on_another_connection() {
    // One frame a connection (`max-waiting-frames 1`): the quick request opens a second
    // connection, and the agent answers each frame on the other one.
    let agent = start_agent_with(&["--caps", "pipelining,async", "--cross"]);
    let spoe = spoe_file("async", &http_spoe(5000, "    max-waiting-frames 1\n"));
    let port = free_port();
    let proxy = Proxy::start(&http_config(port, agent.port, &spoe), port);
    let (slow, quick) = slow_then_quick(port);
    drop(proxy);
    assert_eq!(slow, "tag=slow conn=1 inflight=1 replied=0 err=", "{slow}");
    assert_eq!(
        quick, "tag=quick conn=2 inflight=1 replied=0 err=",
        "{quick}"
    );
}

/// Mine and HAProxy's answers to two requests (`a`, then `b` after `pause`) through an agent
/// that leaves after each frame, with `extra` in the SPOE section.
fn two_asks_to_a_leaving_agent(
    tag: &str,
    extra: &str,
    pause: Duration,
) -> (Vec<String>, Option<Vec<String>>) {
    both_with(
        || {
            (
                start_agent_with(&["--disconnect-after", "1"]),
                spoe_file(tag, &http_spoe(3000, extra)),
            )
        },
        |port, (agent, spoe)| http_config(port, agent.port, spoe),
        |port, _| {
            let first = ask(port, "a", 0);
            std::thread::sleep(pause);
            vec![first, ask(port, "b", 0)]
        },
    )
}

#[test]
fn an_agent_that_leaves_is_not_answered_and_a_new_connection_follows_like_haproxy() {
    // Time for the agent's AGENT-DISCONNECT to be read, and the connection closed.
    let (mine, theirs) = two_asks_to_a_leaving_agent("leave", "", Duration::from_millis(300));
    // HAProxy reads the agent's AGENT-DISCONNECT and closes without a frame of its own
    // (`replied` counts the HAPROXY-DISCONNECT frames the agent got after leaving).
    assert_eq!(
        mine,
        [
            "tag=a conn=1 inflight=1 replied=0 err=",
            "tag=b conn=2 inflight=1 replied=0 err=",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

#[test]
fn maxconnrate_leaves_a_stream_without_a_connection_in_error_like_haproxy() {
    // The agent leaves after each frame, and one connection a second may be opened: the
    // second request finds none and none may be opened (HAProxy's status 2).
    let (mine, theirs) =
        two_asks_to_a_leaving_agent("cps", "    maxconnrate 1\n", Duration::from_millis(200));
    assert_eq!(
        mine,
        [
            "tag=a conn=1 inflight=1 replied=0 err=",
            "tag= conn= inflight= replied= err=2",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

#[test]
fn maxerrrate_skips_processing_once_reached_like_haproxy() {
    // The agent is down: the first processing ends in error at its timeout; within the same
    // second the next one is not even tried, so no error is set.
    let (mine, theirs) = both_with(
        || {
            (
                free_port(),
                spoe_file("eps", &http_spoe(300, "    maxerrrate 1\n")),
            )
        },
        |port, (agent_port, spoe)| http_config(port, *agent_port, spoe),
        |port, _| vec![ask(port, "a", 0), ask(port, "b", 0)],
    );
    assert!(
        mine[0].starts_with("tag= conn= inflight= replied= err="),
        "{mine:?}"
    );
    assert_ne!(mine[0], "tag= conn= inflight= replied= err=", "{mine:?}");
    assert_eq!(mine[1], "tag= conn= inflight= replied= err=", "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The process-wide variables `reg` (in `register-var-names`) and `unreg` (named nowhere) an
/// agent sets, read back by a Lua fetch that names them only at run time; `force` adds
/// `option force-set-var`.
fn proc_vars_run(force: bool) -> (String, Option<String>) {
    let lua = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/spoe/procvar.lua");
    let extra = if force {
        "    register-var-names reg\n    option force-set-var\n"
    } else {
        "    register-var-names reg\n"
    };
    let text = format!(
        "[e]
spoe-agent e-agent
    groups grp
{}spoe-message echo-proc
    args reg=str(r) unreg=str(u)
spoe-group grp
    messages echo-proc
",
        agent_lines(3000, extra)
    );
    both_with(
        || (start_agent_with(&[]), spoe_file("proc", &text)),
        |port, (agent, spoe)| {
            format!(
                "global
    nbthread 1
    lua-load {lua}
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    filter spoe engine e config {spoe}
    http-request send-spoe-group e grp
    http-request return status 200 content-type text/plain lf-string \"reg=%[lua.proc_var(t.reg)] unreg=%[lua.proc_var(t.unreg)] err=%[var(txn.t.err)]\"
backend agents
    mode tcp
    server a 127.0.0.1:{agent}
",
                lua = lua.display(),
                agent = agent.port,
                spoe = spoe.display()
            )
        },
        |port, _| ask(port, "p", 0),
    )
}

#[test]
fn an_agent_sets_only_known_process_variables_unless_forced_like_haproxy() {
    let (mine, theirs) = proc_vars_run(false);
    assert_eq!(mine, "reg=r unreg=none err=");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    let (mine, theirs) = proc_vars_run(true);
    assert_eq!(mine, "reg=r unreg=u err=");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A request with a 600-byte header through an engine whose frames are 256 bytes at most:
/// the agent takes fragments when `caps` says so; `agent_extra` adds agent lines.
fn fragments_run(
    caps: &'static [&'static str],
    agent_extra: &'static str,
) -> (String, Option<String>) {
    let text = format!(
        "[e]
spoe-agent e-agent
    groups grp
    max-frame-size 256
{}spoe-message echo-frag
    args tag=req.hdr(x-tag) big_len=req.hdr(x-big)
spoe-group grp
    messages echo-frag
",
        agent_lines(3000, agent_extra)
    );
    both_with(
        || (start_agent_with(caps), spoe_file("frag", &text)),
        |port, (agent, spoe)| {
            http_config(port, agent.port, spoe).replace(
                "inflight=%[var(txn.t.inflight)] replied=%[var(txn.t.replied)]",
                "big=%[var(txn.t.big_len)] frags=%[var(txn.t.frags)]",
            )
        },
        |port, _| {
            let req = format!(
                "GET / HTTP/1.1\r\nHost: a\r\nx-tag: f\r\nx-big: {}\r\nConnection: close\r\n\r\n",
                "b".repeat(600)
            );
            let out = raw(port, req.as_bytes(), Duration::from_secs(10));
            out.split_once("\r\n\r\n")
                .map_or(out.clone(), |(_, b)| b.to_string())
        },
    )
}

#[test]
fn a_notify_too_big_for_a_frame_is_fragmented_for_an_agent_that_takes_it_like_haproxy() {
    let (mine, theirs) = fragments_run(&["--caps", "fragmentation"], "");
    assert_eq!(mine, "tag=f conn=1 big=600 frags=3 err=");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    // An agent that does not take fragments loses its connection ("fragmentation not
    // supported"), and the NOTIFY waits for one that would until the processing times out
    // (1); without `option send-frag-payload` the messages are too big (3).
    let (mine, theirs) = fragments_run(&[], "");
    assert_eq!(mine, "tag= conn= big= frags= err=1");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    let (mine, theirs) = fragments_run(
        &["--caps", "fragmentation"],
        "    no option send-frag-payload\n",
    );
    assert_eq!(mine, "tag= conn= big= frags= err=3");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
