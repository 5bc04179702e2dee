//! What `hapee-lb run` refuses, as `U001` diagnostics that `check` shows too: the compiler's
//! refusal walk (`hapee_compiler::refusals`, which the language server runs as well) with the
//! runtime's own compilers, so that whatever `run` refuses `check` reports at its line.

use hapee_compiler::check::Compilation;
use hapee_compiler::diagnostic::Diagnostic;
use hapee_compiler::refusals;
use hapee_compiler::Span;
use hapee_runtime::support::Compilers;

/// Every use of something the runtime lacks, as `U001` diagnostics.
pub fn diagnostics(c: &Compilation) -> Vec<Diagnostic> {
    refusals::diagnostics(c, Some(&Compilers))
}

/// Every use of something the runtime lacks, as `(span, what)`.
pub fn unsupported(c: &Compilation) -> Vec<(Span, String)> {
    refusals::refused(c, Some(&Compilers))
}

#[cfg(test)]
mod coverage;

#[cfg(test)]
mod tests {
    use super::unsupported;
    use hapee_compiler::check::compile;
    use hapee_compiler::ir::CheckOptions;
    use hapee_compiler::source::SourceDb;
    use hapee_compiler::syntax::MapEnv;

    fn refused(config: &str) -> Vec<String> {
        refused_in(config, true)
    }

    /// What is refused, the environment read (files the configuration names) unless `no_env`.
    fn refused_in(config: &str, no_env: bool) -> Vec<String> {
        let mut db = SourceDb::new();
        db.add("t.cfg".to_string(), config.to_string());
        let options = CheckOptions {
            no_env,
            master_worker: false,
            lints: false,
            resolve_dontfail: false,
        };
        let c = compile(db, &MapEnv::default(), &options);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        unsupported(&c).into_iter().map(|(_, what)| what).collect()
    }

    /// A missing ACL pattern file is the environment's problem (reported as HAProxy reports
    /// it when the environment is checked), never something the runtime lacks; nor is the
    /// ACL then unknown to the rules naming it.
    #[test]
    fn a_missing_acl_pattern_file_is_not_reported_as_unsupported() {
        let what = refused(
            "frontend f\n    mode http\n    bind :8080\n    acl x src -f /nonexistent/missing.lst\n\
             acl y path -f /nonexistent/other.lst -i -- /a\n\
             http-request deny if x || y\n",
        );
        assert!(what.is_empty(), "{what:?}");
    }

    /// So is a reply file a rule reads (`return … errorfile`): HAProxy's E402, not U001.
    #[test]
    fn a_missing_reply_file_is_not_reported_as_unsupported() {
        let what = refused(
            "frontend f\n    mode http\n    bind :8080\n\
             http-request return status 404 errorfile /nonexistent/404.http if { path /x }\n\
             http-request deny deny_status 403 content-type text/plain lf-file /nonexistent/403.txt\n",
        );
        assert!(what.is_empty(), "{what:?}");
    }

    #[test]
    fn refused_options_are_named_by_their_keyword_never_by_a_value() {
        let what = refused(
            "frontend f\n    mode http\n    bind :8443 npn spdy/2 force-tlsv10\n    default_backend b\n\
             backend b\n    mode http\n    server s 127.0.0.1:80 force-tlsv11 check\n\
             server t 127.0.0.1:81 ws h1\n    server u 127.0.0.1:82 ws h2\n",
        );
        for name in ["'npn'", "'force-tlsv10'", "'force-tlsv11'"] {
            assert!(
                what.iter().any(|w| w.contains(name)),
                "{name} not in {what:?}"
            );
        }
        // `ws h1` and `ws h2` both run.
        assert!(!what.iter().any(|w| w.contains("'ws'")), "{what:?}");
        for value in ["spdy/2", "10.0.0.0", "5555", "h1", "h2"] {
            assert!(
                !what.iter().any(|w| w.contains(&format!("'{value}'"))),
                "value {value} reported as an option: {what:?}"
            );
        }
    }

    #[test]
    fn fcgi_apps_are_compiled_as_the_runtime_compiles_them() {
        let config = |extra: &str| {
            format!(
                "frontend f\n    mode http\n    bind :8080\n    default_backend b\n\
                 backend b\n    mode http\n    use-fcgi-app php\n    server s 127.0.0.1:9000 proto fcgi{extra}\n\
                 fcgi-app php\n    docroot /var/www\n    set-param X %[ssl_fc_unique_id]\n"
            )
        };
        let what = refused(&config(""));
        assert!(
            what.iter()
                .any(|w| w.contains("fcgi-app 'php'") && w.contains("ssl_fc_unique_id")),
            "{what:?}"
        );
        let what = refused(&config(" ssl verify none"));
        assert!(
            what.iter().any(|w| w.contains("FastCGI over TLS")),
            "{what:?}"
        );
    }

    /// SPOE groups are sent from TCP-mode content rules, not from HTTP-mode request ones.
    #[test]
    fn tcp_send_spoe_group_is_refused_in_http_mode_only() {
        let spoe = std::env::temp_dir().join(format!("hapee-u001-{}.spoe", std::process::id()));
        std::fs::write(
            &spoe,
            "spoe-agent a\n    groups g\n    timeout hello 1s\n    timeout idle 1s\n    timeout processing 1s\n    use-backend agents\n\
             spoe-message m\n    args ip=src\nspoe-group g\n    messages m\n",
        )
        .unwrap();
        let config = |mode: &str| {
            format!(
                "defaults\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n\
                 frontend f\n    mode {mode}\n    bind :8080\n    filter spoe config {}\n    tcp-request inspect-delay 1s\n\
                 tcp-request content send-spoe-group a g\n    default_backend app\n\
                 backend app\n    mode {mode}\n    filter spoe config {0}\n    tcp-response content send-spoe-group a g\n    server s 127.0.0.1:80\n\
                 backend agents\n    mode tcp\n    server a 127.0.0.1:12345\n",
                spoe.display()
            )
        };
        // The SPOE file is read from the environment.
        let tcp = refused_in(&config("tcp"), false);
        assert!(
            !tcp.iter().any(|w| w.contains("send-spoe-group")),
            "{tcp:?}"
        );
        let http = refused_in(&config("http"), false);
        assert_eq!(
            http.iter()
                .filter(|w| w.contains("send-spoe-group"))
                .collect::<Vec<_>>(),
            ["action 'tcp-request content send-spoe-group' in an HTTP-mode proxy"],
            "{http:?}"
        );
        let _ = std::fs::remove_file(&spoe);
    }

    #[test]
    fn an_expression_the_runtime_cannot_run_is_refused_at_its_line() {
        let what = refused(
            "frontend f\n    mode tcp\n    bind :8443\n    tcp-request content accept if { ssl_fc_unique_id -m found }\n    default_backend b\n\
             backend b\n    mode tcp\n    server s 127.0.0.1:80\n",
        );
        assert!(
            what.iter().any(|w| w.contains("ssl_fc_unique_id")),
            "{what:?}"
        );
    }
}
