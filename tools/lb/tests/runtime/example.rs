//! The README's first command: `examples/haproxy.cfg` answers `curl localhost:8080` out of the
//! box, routed by its rules to its (demo) servers, health-checked and logged.

use super::harness::{curl, free_port, Proxy};
use std::time::{Duration, Instant};

#[test]
fn the_example_configuration_serves_real_answers() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/haproxy.cfg"
    ))
    .unwrap();
    // The same configuration on free ports (others may hold 8080 and 9001… on this machine).
    let mut ports = std::collections::BTreeMap::new();
    let mut config = text.clone();
    for (at, _) in text.match_indices("127.0.0.1:") {
        let digits: String = text[at + 10..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let port: u16 = digits.parse().unwrap();
        ports.entry(port).or_insert_with(free_port);
    }
    for (from, to) in &ports {
        config = config.replace(&format!("127.0.0.1:{from}"), &format!("127.0.0.1:{to}"));
    }
    let port = |p: u16| ports[&p];
    let proxy = Proxy::start(&config, port(8080));
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", port(8080));
    // Round robin over the two app servers, once their checks have passed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 2 && Instant::now() < deadline {
        let (status, body) = curl(&[&url("/")]);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("X-Forwarded-Proto: http"), "{body}");
        seen.insert(body);
        std::thread::sleep(Duration::from_millis(50));
    }
    let expected: std::collections::BTreeSet<String> = [9001, 9002]
        .iter()
        .map(|&p| {
            format!(
                "hello from the server on port {}: GET / (X-Forwarded-Proto: http)\n",
                port(p)
            )
        })
        .collect();
    assert_eq!(seen, expected);
    let (_, api) = curl(&[&url("/api/users")]);
    assert!(
        api.contains(&format!("port {}: GET /api/users", port(9101))),
        "{api}"
    );
    let (_, css) = curl(&[&url("/site.css")]);
    assert!(css.contains(&format!("port {}", port(9201))), "{css}");
    // HAProxy's httplog lines name the routing decision; health checks are not logged.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !proxy.stdout().contains("www api/api1") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let logs = proxy.stdout();
    assert!(
        logs.contains("www app/app1") && logs.contains("www static/static1"),
        "{logs}"
    );
    assert!(!logs.contains("/health"), "{logs}");
}
