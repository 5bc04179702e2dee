//! Hover on the words real configurations hold that the first hover tests did not: `stats
//! socket` and its bind options in global, three-word keywords (`capture request header`),
//! and frontend and defaults names.

mod common;

use common::Client;

const CFG: &str = "\
global
    stats socket /run/haproxy.sock level admin mode 600 expose-fd listeners
    stats timeout 30s
defaults common
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend web_in from common
    bind 127.0.0.1:8080
    capture request header Host len 64
    default_backend app
backend app
    server s1 127.0.0.1:9000
";

#[test]
fn stats_socket_capture_keywords_and_section_names() {
    let uri = "file:///tmp/hover-more.cfg";
    let mut c = Client::start();
    c.open(uri, CFG);
    let _ = c.diagnostics(uri);
    // `socket` and `timeout` after `stats`: the stats family's doc, named as written.
    let socket = c.hover_text(uri, 1, 11);
    assert!(
        socket.contains("**stats socket**") && socket.contains("runtime API"),
        "{socket}"
    );
    assert!(c.hover_text(uri, 2, 11).contains("**stats timeout**"));
    // The socket's options are bind options.
    let level = c.hover_text(uri, 1, 36);
    assert!(level.contains("**level** (bind option)"), "{level}");
    let expose = c.hover_text(uri, 1, 58);
    assert!(expose.contains("**expose-fd**"), "{expose}");
    // Every word of a three-word keyword.
    for col in [5, 13, 21] {
        let capture = c.hover_text(uri, 10, col);
        assert!(
            capture.contains("**capture request header**"),
            "{col}: {capture}"
        );
    }
    // Section names: a frontend's binds and default backend, a named defaults section.
    let fe = c.hover_text(uri, 8, 12);
    assert!(
        fe.contains("**frontend web_in**")
            && fe.contains("127.0.0.1:8080")
            && fe.contains("default_backend app"),
        "{fe}"
    );
    let defaults = c.hover_text(uri, 8, 25);
    assert!(defaults.contains("**defaults common**"), "{defaults}");
    assert!(c.hover_text(uri, 3, 12).contains("**defaults common**"));
    c.stop();
}
