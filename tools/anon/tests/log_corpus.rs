//! The log anonymizer on a real HAProxy 2.7 log: every line kept, nothing identifying left, and
//! the same tokens for backends and servers as the anonymized configuration.

use hapee_anon::config::anonymize;
use hapee_anon::keyed::Anonymizer;
use hapee_anon::leaks::{contains_token, log_secrets};
use hapee_anon::log::anonymize_stream;
use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use std::path::PathBuf;

fn logs() -> PathBuf {
    hapee_compiler::testkit::corpus_dir().join("logs")
}

#[test]
fn corpus_log_is_fully_anonymized_and_consistent_with_the_config() {
    let input = std::fs::read_to_string(logs().join("haproxy-2.7-http-tcp-clf.log")).expect("log");
    let cfg = std::fs::read_to_string(logs().join("haproxy-2.7-http-tcp-clf.cfg")).expect("cfg");
    let key = 0xfeed_beef;

    let mut out = Vec::new();
    let lines =
        anonymize_stream(&mut Anonymizer::new(key), input.as_bytes(), &mut out).expect("stream");
    let output = String::from_utf8(out).expect("utf-8");
    assert_eq!(lines as usize, input.lines().count());
    assert_eq!(
        output.lines().count(),
        input.lines().count(),
        "lines dropped or merged"
    );

    // Addresses, host names and emails of the input.
    let mut secrets: Vec<String> = input.lines().flat_map(log_secrets).collect();
    // Query-string values (tokens, user names).
    for line in input.lines() {
        if let Some(q) = line.split('?').nth(1) {
            for pair in q.split(' ').next().unwrap_or("").split('&') {
                if let Some((_, v)) = pair.split_once('=') {
                    secrets.push(v.to_string());
                }
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    assert!(
        secrets.len() > 300,
        "expected many distinct secrets, got {}",
        secrets.len()
    );
    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|s| contains_token(&output, s))
        .collect();
    assert!(leaked.is_empty(), "leaked: {leaked:?}");

    // The same key gives the configuration and the log the same backend and server tokens.
    let mut db = SourceDb::new();
    db.add("haproxy.cfg", cfg.clone());
    let c = compile(
        db,
        &MapEnv::default(),
        &CheckOptions {
            no_env: true,
            master_worker: false,
            lints: false,
            resolve_dontfail: false,
        },
    );
    let anon_cfg = anonymize(&c, &mut Anonymizer::new(key)).remove(0).1;
    let mut mapped = 0;
    for p in c.config.proxies.iter().filter(|p| p.name.is_some()) {
        let name = p
            .name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or_default();
        let token = Anonymizer::new(key).name(name);
        assert!(
            anon_cfg.contains(&token),
            "config lacks the token of {name}"
        );
        if input.contains(name) {
            assert!(output.contains(&token), "log lacks the token of {name}");
            mapped += 1;
        }
        for s in &p.servers {
            let token = Anonymizer::new(key).name(&s.name.value);
            if input.contains(&format!("/{}", s.name.value)) {
                assert!(
                    output.contains(&format!("/{token}")),
                    "log lacks the token of server {}",
                    s.name.value
                );
                assert!(anon_cfg.contains(&token));
                mapped += 1;
            }
        }
    }
    assert!(mapped >= 6, "only {mapped} names cross-checked");
}
