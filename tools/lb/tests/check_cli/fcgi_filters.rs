//! FastCGI applications declared by `filter fcgi-app <name>` beside `use-fcgi-app`, as HAProxy
//! 2.7.0 checks them: which proxy gets the application, and the first alert of each refused
//! case (the whole `-c` output and exit code are 2.7.0's when its build is there).

use super::section_headers::same_as_haproxy;

/// Two applications, on lines 11 to 14; each case's sections start on line 15.
const APPS: &str = "fcgi-app php
    docroot /var/www
fcgi-app other
    docroot /var/www
";

const VALID: &str = "Configuration file is valid";

fn cases(stem: &str, cases: &[(&str, &str)]) {
    let with_apps: Vec<(String, &str)> = cases
        .iter()
        .map(|(sections, first)| (format!("{APPS}{sections}"), *first))
        .collect();
    let cases: Vec<(&str, &str)> = with_apps.iter().map(|(s, f)| (s.as_str(), *f)).collect();
    same_as_haproxy(stem, &cases);
}

#[test]
fn an_explicit_fcgi_app_filter_gives_its_proxy_the_application() {
    let server = "    server s1 127.0.0.1:9000 proto fcgi\n";
    cases(
        "fcgi-accepted",
        &[
            (&format!("backend be\n    filter fcgi-app php\n{server}"), VALID),
            // The same application twice, or by both lines, is one filter.
            (&format!("backend be\n    filter fcgi-app php\n    use-fcgi-app php\n{server}"), VALID),
            (&format!("backend be\n    use-fcgi-app php\n    filter fcgi-app php\n{server}"), VALID),
            (&format!("backend be\n    filter fcgi-app php\n    filter fcgi-app php\n{server}"), VALID),
            // `proto fcgi` from default-server, a listen section, and beside a cache and
            // compression.
            ("backend be\n    filter fcgi-app php\n    default-server proto fcgi\n    server s1 127.0.0.1:9000\n", VALID),
            (&format!("listen l\n    bind :18081\n    filter fcgi-app php\n{server}"), VALID),
            (
                &format!(
                    "cache c\n    total-max-size 1\nbackend be\n    compression algo gzip\n    filter cache c\n    \
                     filter fcgi-app php\n    filter compression\n    http-request cache-use c\n    \
                     http-response cache-store c\n{server}"
                ),
                VALID,
            ),
        ],
    );
}

#[test]
fn fcgi_app_filters_are_refused_as_haproxy_refuses_them() {
    let server = "    server s1 127.0.0.1:9000 proto fcgi\n";
    cases(
        "fcgi-refused",
        &[
            (
                &format!("backend be\n    filter fcgi-app nope\n{server}"),
                "[ALERT] config : proxy 'be' : fcgi-app 'nope' not found.",
            ),
            (
                &format!("backend be\n    filter fcgi-app php\n    filter fcgi-app other\n{server}"),
                "[ALERT] config : proxy 'be' : only one fcgi-app supported per backend.",
            ),
            (
                &format!("backend be\n    use-fcgi-app php\n    filter fcgi-app other\n{server}"),
                "[ALERT] config : proxy 'be' : only one fcgi-app supported per backend.",
            ),
            // `use-fcgi-app` is refused as it is read beside another application's filter.
            (
                &format!("backend be\n    filter fcgi-app php\n    use-fcgi-app other\n{server}"),
                "[ALERT] config : parsing [{f}:17] : 'use-fcgi-app' : only one fcgi-app supported per backend",
            ),
            (
                &format!("backend be\n    filter fcgi-app php\n    filter trace\n{server}"),
                "[ALERT] config : config: proxy 'be': require an explicit filter declaration to use the fcgi-app 'php'.",
            ),
            // A frontend has no server for it; a TCP one no HTTP.
            (
                "frontend g\n    bind :18081\n    filter fcgi-app php\n    default_backend b\n",
                "[ALERT] config : proxy 'g': FCGI app configured but no FCGI server found.",
            ),
            (
                "frontend g\n    mode tcp\n    bind :18081\n    filter fcgi-app php\n    default_backend t\nbackend t\n    mode tcp\n    server s 127.0.0.1:80\n",
                "[ALERT] config : proxy 'g': FCGI application cannot be used in non-HTTP mode.",
            ),
            (
                "backend be\n    filter fcgi-app php\n    server s1 127.0.0.1:9000\n",
                "[ALERT] config : proxy 'be': FCGI app configured but no FCGI server found.",
            ),
            (
                "backend dis\n    disabled\n    filter fcgi-app php\n    server s1 127.0.0.1:9000\n",
                "[ALERT] config : proxy 'dis': FCGI app configured but no FCGI server found.",
            ),
            // Refused as the lines are read.
            (
                &format!("backend be\n    filter fcgi-app\n{server}"),
                "[ALERT] config : parsing [{f}:16] : 'filter' : 'fcgi-app : expects a <name> argument'",
            ),
            (
                &format!("backend be\n    filter fcgi-app php extra\n{server}"),
                "[ALERT] config : parsing [{f}:16] : 'filter fcgi-app' : unknown keyword 'extra'.",
            ),
            (
                &format!("defaults d\n    mode http\n    filter fcgi-app php\nbackend be\n{server}"),
                "[ALERT] config : parsing [{f}:17] : parsing [{f}:17] : filter is not allowed in a 'default' section.",
            ),
            (
                "frontend g\n    bind :18081\n    use-fcgi-app php\n    default_backend b\n",
                "[ALERT] config : parsing [{f}:17] : 'use-fcgi-app' only available in backend or listen section",
            ),
        ],
    );
}
