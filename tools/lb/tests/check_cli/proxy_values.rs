//! Rules found by the public corpus's fifteenth batch, each checked against the lines HAProxy
//! 2.7.0 prints for the same file: the words of a `cookie` line, those of an `http-check send`
//! rule, a global `maxconn` that is not a whole number, and the port a check to the wildcard
//! address needs.

use super::sections_and_context::alerts;

/// A `cookie` line stops at its first malformed option; once read, its modes are checked, each
/// rule with its own line ("insert" with "prefix" was taken without a word).
#[test]
fn cookie_lines_are_read_as_haproxy_reads_them() {
    let text = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n\
                backend b\n cookie S insert prefix\n cookie S\n cookie S rewrite indirect\n cookie S preserve\n\
                 cookie S bogus\n cookie\n cookie S domain a,b\n cookie S maxidle 1x\n cookie S maxlife 99999999999\n\
                 cookie S attr \"a;b\"\n cookie S domain\n cookie S insert indirect nocache dynamic httponly secure domain .a.example maxidle 30m attr SameSite=Lax\n\
                frontend f\n bind :8080\n default_backend b\n";
    assert_eq!(
        alerts("cookie-words.cfg", text),
        [
            "[ALERT] config : parsing [{f}:7] : cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.",
            "[ALERT] config : parsing [{f}:9] : cookie 'rewrite' and 'indirect' modes are incompatible.",
            "[ALERT] config : parsing [{f}:10] : cookie 'preserve' requires at least 'insert' or 'indirect'.",
            "[ALERT] config : parsing [{f}:11] : 'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.",
            "[ALERT] config : parsing [{f}:12] : 'cookie' expects <cookie_name> as argument.",
            "[ALERT] config : parsing [{f}:13]: character ',' is not permitted in domain name 'a,b'.",
            "[ALERT] config : parsing [{f}:14]: unexpected character 'x' in argument to <maxidle>.",
            "[ALERT] config : parsing [{f}:15]: timer overflow in argument <99999999999> to <maxlife>, maximum value is 2147483647 s (~68 years).",
            "[ALERT] config : parsing [{f}:16]: character '%x3B' is not permitted in attribute value.",
            "[ALERT] config : parsing [{f}:17]: 'domain' expects <domain> as argument.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// `http-check send` takes known words with non-empty values (a quoted, unset `"${VAR}"` is
/// empty) and
/// one Host header; the first problem stops the rule.
#[test]
fn http_check_send_words_are_read_as_haproxy_reads_them() {
    let text = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n\
                backend b\n option httpchk\n http-check send hdr User-Agent \"${HAPEE_TEST_UNSET_UA}\"\n\
                 http-check send meth\n http-check send hdr host a hdr Host b\n http-check send foo\n\
                 http-check send meth GET uri /health ver HTTP/1.1 hdr Host x hdr Accept */* body ok comment c\n\
                 server s 127.0.0.1:80 check\n\
                frontend f\n bind :8080\n default_backend b\n";
    assert_eq!(
        alerts("http-check-send.cfg", text),
        [
            "[ALERT] config : parsing [{f}:8] : 'http-check send' : 'hdr' expects <name> and <value> as arguments.",
            "[ALERT] config : parsing [{f}:9] : 'http-check send' : 'meth' expects a string as argument..",
            "[ALERT] config : parsing [{f}:10] : 'http-check send' : 'Host' header already defined (previous value is 'a').",
            "[ALERT] config : parsing [{f}:11] : 'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got 'foo' as argument..",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// The global `maxconn` is read with `strtol`: anything after the digits (a template's
/// placeholder left in) is refused; a later line is then not "already specified".
#[test]
fn global_maxconn_must_be_a_whole_number() {
    let text = "global\n maxconn __MAXCONN__\n maxconn 100\n maxconn 12k\n\
                defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n\
                frontend f\n bind :8080\n";
    assert_eq!(
        alerts("maxconn-junk.cfg", text),
        [
            "[ALERT] config : parsing [{f}:2] : cannot parse 'maxconn' value '__MAXCONN__', an integer is expected.",
            "[ALERT] config : parsing [{f}:4] : 'maxconn' already specified. Continuing.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// A checked server needs a port only when its check goes to a known, non-zero IP: the
/// wildcard address (`0.0.0.0`, `*`, `::`, an empty host) counts as none, unless a check
/// `addr` names a real one.
#[test]
fn a_check_to_the_wildcard_address_needs_no_port() {
    let text = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n\
                backend b\n option httpchk\n server any 0.0.0.0 check\n server star * check\n\
                 server empty : check\n server any6 :: check\n server viaaddr 0.0.0.0 check addr 10.0.0.1\n\
                 server viaaddrport 0.0.0.0:80 check addr 10.0.0.1\n server lit 127.0.0.1 check\n\
                frontend f\n bind :8080\n default_backend b\n";
    assert_eq!(
        alerts("check-wildcard.cfg", text),
        [
            "[ALERT] config : config: backend 'b': server 'viaaddr' has neither service port nor check port nor tcp_check rule 'connect' with port information.",
            "[ALERT] config : config: backend 'b': server 'lit' has neither service port nor check port nor tcp_check rule 'connect' with port information.",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// Proxy keywords HAProxy refuses without their one value (a quoted, unset `"${VAR}"` is
/// none too); `retries` given later still counts.
#[test]
fn proxy_keywords_without_their_value_are_refused() {
    let text =
        "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n\
                backend b\n dynamic-cookie-key\n fullconn\n retries\n unique-id-header\n log-tag\n\
                 http-send-name-header\n retries 3\n server s 127.0.0.1:80\n\
                frontend f\n bind :8080\n default_backend b\n";
    assert_eq!(
        alerts("proxy-values.cfg", text),
        [
            "[ALERT] config : parsing [{f}:7] : 'dynamic-cookie-key' expects <secret_key> as argument.",
            "[ALERT] config : parsing [{f}:8] : 'fullconn' expects an integer argument.",
            "[ALERT] config : parsing [{f}:9] : 'retries' expects an integer argument (dispatch counts for one).",
            "[ALERT] config : parsing [{f}:10] : unique-id-header expects an argument.",
            "[ALERT] config : parsing [{f}:11] : 'log-tag' expects a tag for use in syslog.",
            "[ALERT] config : parsing [{f}:12] : 'http-send-name-header' requires a header string.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}
