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

/// `setenv` in the global section changes the environment for the lines after it, so an
/// address naming the variable listens where the configuration says (HAProxy sets the
/// variable while it reads the line; `check` saw it, `run` once did not).
#[test]
fn addresses_expand_variables_the_global_section_sets() {
    let origin = Origin::start("setenv");
    let port = free_port();
    let config = format!(
        "global
    setenv HAPEE_TEST_SET_PORT {port}
    presetenv HAPEE_TEST_SET_ORIGIN {}
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${{HAPEE_TEST_SET_PORT}}
    default_backend app
backend app
    server s1 ${{HAPEE_TEST_SET_ORIGIN}}
",
        origin.addr
    );
    let _proxy = Proxy::start(&config, port);
    let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 200, "{body}");
    assert!(origin.hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}
