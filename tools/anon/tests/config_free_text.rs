//! `hapee-anon config` on the words `hapee-lb -dC` hides and the first anonymizer kept: the
//! stats page's free text (`stats show-desc`, `stats show-node`), a SPOE filter's
//! configuration file, a trace filter's name, and the FastCGI application a filter names
//! (replaced as its section's name is).

use hapee_anon::config::anonymize;
use hapee_anon::keyed::Anonymizer;

const CFG: &str = "\
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
fcgi-app acme-php
    docroot /var/www
frontend fe
    bind :8080
    filter spoe engine waf config /etc/haproxy/acme-spoe.conf
    filter trace name acme-trace random-forwarding
    stats enable
    stats show-desc ACME production cluster
    stats show-node acme-lb-01
    default_backend be
backend be
    filter fcgi-app acme-php
    use-fcgi-app acme-php
    server s1 127.0.0.1:9000 proto fcgi
";

#[test]
fn stats_text_filter_files_and_names_are_replaced() {
    let c = hapee_compiler::testkit::compile_text("free-text.cfg", CFG, false);
    let mut anon = Anonymizer::new(0x5eed);
    let out = anonymize(&c, &mut anon);
    let text = &out[0].1;
    assert_eq!(text.lines().count(), CFG.lines().count(), "{text}");
    for secret in ["acme", "ACME", "production"] {
        assert!(!text.contains(secret), "{secret} left in:\n{text}");
    }
    // The keywords stay, so the file still reads as the same configuration.
    for kept in [
        "filter spoe engine waf config /",
        "filter trace name ",
        "random-forwarding",
        "stats show-desc ",
    ] {
        assert!(text.contains(kept), "{kept} lost:\n{text}");
    }
    // The filter names the application as the section and use-fcgi-app do.
    let line = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::to_string))
            .unwrap_or_else(|| panic!("no {prefix}:\n{text}"))
    };
    let section = line("fcgi-app ");
    assert_eq!(line("filter fcgi-app "), section);
    assert_eq!(line("use-fcgi-app "), section);
}
