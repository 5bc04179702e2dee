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

const MAIL_CFG: &str = "\
mailers acme-mail
    mailer smtp1 192.0.2.25:25
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
backend be
    email-alert mailers acme-mail
    email-alert from ops@acme.example
    email-alert to oncall@acme.example
    email-alert myhostname lb01.acme.example
    email-alert level alert
    server s1 127.0.0.1:9000 check
";

/// `email-alert` lines: the mailers section keeps its link to the section (so the output still
/// passes `check`), the addresses and the host name are replaced.
#[test]
fn email_alert_names_addresses_and_host_are_replaced() {
    let c = hapee_compiler::testkit::compile_text("mail.cfg", MAIL_CFG, false);
    let mut anon = Anonymizer::new(0x5eed);
    let out = anonymize(&c, &mut anon);
    let text = &out[0].1;
    for secret in ["acme", "ops@", "oncall", "lb01"] {
        assert!(!text.contains(secret), "{secret} left in:\n{text}");
    }
    let line = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::to_string))
            .unwrap_or_else(|| panic!("no {prefix}:\n{text}"))
    };
    assert_eq!(line("email-alert mailers "), line("mailers "));
    assert!(line("email-alert from ").contains('@'), "{text}");
    assert!(text.contains("email-alert level alert"), "{text}");
    let again = hapee_compiler::testkit::compile_text("mail.cfg", text, false);
    let errors: Vec<_> = again
        .diagnostics
        .iter()
        .filter(|d| d.code.starts_with('E'))
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
}
