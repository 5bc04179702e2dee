//! `$VAR`/`${VAR}` in listening and server addresses are expanded from the environment when
//! the proxy starts, as HAProxy does whether or not the word is quoted; an unset variable
//! becomes empty, so `bind ${UNSET}:port` listens on every address (what `check` accepts).

use super::harness::{curl, free_port, Origin, Proxy};

#[test]
fn unset_variables_in_bind_and_server_addresses_read_as_empty() {
    let origin = Origin::start("env");
    let port = free_port();
    let config = format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind ${{HAPEE_TEST_UNSET_BIND}}:{port}
    default_backend app
backend app
    server s1 ${{HAPEE_TEST_UNSET_HOST}}{}
",
        origin.addr
    );
    let _proxy = Proxy::start(&config, port);
    let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 200, "{body}");
    assert!(origin.hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}
