//! Servers written without a port, or with a port relative to the client's (`+N`/`-N`):
//! HAProxy connects to the port the client reached, moved by N, side by side with it.

use crate::harness::*;

#[test]
fn a_server_without_a_port_is_reached_on_the_clients_port_and_offsets_move_it() {
    let cfg = |port: u16| {
        format!(
            "defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend f
    bind 127.0.0.1:{port}
    use_backend next if {{ path_beg /next }}
    default_backend same
backend same
    server s1 127.0.0.2
backend next
    server s1 127.0.0.2:+1
"
        )
    };
    let (mine, theirs) = both_reading(2, cfg, |port, _| {
        let same = Origin::start_at("same", "127.0.0.2", port);
        let next = Origin::start_at("next", "127.0.0.2", port + 1);
        let ask = |path: &str| {
            let (code, body) = curl(&["-s", &format!("http://127.0.0.1:{port}{path}")]);
            let origin = body.lines().next().unwrap_or_default().to_string();
            (code, origin)
        };
        let answers = (ask("/"), ask("/next"), ask("/"));
        (
            answers,
            same.hits.load(std::sync::atomic::Ordering::SeqCst),
            next.hits.load(std::sync::atomic::Ordering::SeqCst),
        )
    });
    assert_eq!(mine.1, 2, "{mine:?}");
    assert_eq!(mine.2, 1, "{mine:?}");
    assert_eq!(mine.0 .0 .0, 200, "{mine:?}");
    assert_eq!(mine.0 .1 .0, 200, "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
