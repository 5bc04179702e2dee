//! Rule families probed beside HAProxy 2.7.0 (`-c` on small variant files): the words of check
//! rules and of `stick-table` lines, redirect rules, `source`, `rate-limit` and `id`. Each
//! expected list is the alert lines HAProxy 2.7.0 prints for the same text.

use super::sections_and_context::alerts;

/// The words of `http-check` and `tcp-check` rules: missing values, unknown options, status names, `!`
/// before an option, status lists, hex strings, PCRE2 regex errors, log-format strings and
/// expressions, MUX protocols, ports, the http-check step order and the first `connect`.
#[test]
fn check_rule_words_are_read_as_haproxy_reads_them() {
    let text = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend f\n bind :8080\n default_backend b\nbackend b\n option httpchk\n http-check expect\n http-check expect status 300-200\n http-check expect ! min-recv 3 status 200\n http-check expect hdr name -m reg x(\n http-check expect rstring foo(\n http-check expect ok-status FOO status 200\n http-check expect string-lf \"%[bad(\"\n http-check foo\n http-check disable-on-404 x\n http-check connect proto none\n http-check connect port 0\n http-check expect status 200\n http-check send meth GET\n server s 127.0.0.1:80 check\nbackend t\n option tcp-check\n tcp-check send-binary 0a0\n tcp-check expect status 200\n tcp-check expect binary zz\n tcp-check connect port req.hdr(x)\n tcp-check send x comment\n tcp-check send x\n tcp-check connect\n server s 127.0.0.1:80 check\n";
    assert_eq!(
        alerts("check-words.cfg", text),
        [
            "[ALERT] config : parsing [{f}:11] : 'http-check expect' : expects at least a matching pattern as arguments.",
            "[ALERT] config : parsing [{f}:12] : 'http-check expect' : invalid range of status codes '300-200'.",
            "[ALERT] config : parsing [{f}:13] : 'http-check expect' : [!] not supported with 'min-recv'.",
            "[ALERT] config : parsing [{f}:14] : 'http-check expect' : regex 'x(' is invalid (error=missing closing parenthesis, erroffset=2).",
            "[ALERT] config : parsing [{f}:15] : 'http-check expect' : regex 'foo(' is invalid (error=missing closing parenthesis, erroffset=4).",
            "[ALERT] config : parsing [{f}:16] : 'http-check expect' : 'ok-status' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got 'FOO')..",
            "[ALERT] config : parsing [{f}:17] : 'http-check expect' : '%[bad(' invalid log-format string (failed to parse sample expression <bad(> : unknown fetch method 'bad').",
            "[ALERT] config : parsing [{f}:18] : 'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'",
            "[ALERT] config : parsing [{f}:19] : 'http-check' cannot handle unexpected argument 'x'.",
            "[ALERT] config : parsing [{f}:20] : 'http-check connect' : 'proto' : invalid MUX protocol 'none' for http-check.",
            "[ALERT] config : parsing [{f}:21] : 'http-check connect' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got 0..",
            "[ALERT] config : parsing [{f}:23] : 'http-check send' : unable to add http-check send rule at step 2 (missing connect rule)..",
            "[ALERT] config : parsing [{f}:27] : 'tcp-check send-binary' : '0a0' invalid binary string (an even number of hex digit is expected).",
            "[ALERT] config : parsing [{f}:28] : 'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'status' as argument..",
            "[ALERT] config : parsing [{f}:29] : 'tcp-check expect' : invalid binary string (an hex digit is expected (found 'z')).",
            "[ALERT] config : parsing [{f}:30] : 'tcp-check connect' : error detected while parsing port expression :  fetch method 'req.hdr(x)' extracts information from 'HTTP request headers', none of which is available here.",
            "[ALERT] config : parsing [{f}:31] : 'tcp-check send' : 'comment' expects a string as argument..",
            "[ALERT] config : parsing [{f}:33] : 'tcp-check connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// A `stick-table` line: size and type required, `len` at least 1, size suffixes, expire
/// overflow, server key types and unknown words; the first problem stops the line.
#[test]
fn stick_table_words_are_read_as_haproxy_reads_them() {
    let text = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend f\n bind :8080\n default_backend b\nbackend b\n stick-table type ip\n stick-table type string len 0 size 1k\n stick-table type ip size 1x\n stick-table type ip size 1k expire 30d\n stick-table type ip size 1k srvkey foo\n stick-table type ip size 1k recv-only\n stick-table type ip size 1k peers nosuch expire 30sx\n";
    assert_eq!(
        alerts("stick-table-words.cfg", text),
        [
            "[ALERT] config : parsing [{f}:10] : stick-table: missing size.",
            "[ALERT] config : parsing [{f}:11] : stick-table: unknown type '0'.",
            "[ALERT] config : parsing [{f}:12] : stick-table: unexpected character 'x' in argument of 'size'.",
            "[ALERT] config : parsing [{f}:13]: stick-table: timer overflow in argument <30d> to <expire>, maximum value is 2147483647 ms (~24.8 days).",
            "[ALERT] config : parsing [{f}:14] : stick-table : unknown server key type 'foo'.",
            "[ALERT] config : parsing [{f}:15] : stick-table: unknown argument 'recv-only'.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// Redirect rules' words and type, `source` words, `rate-limit sessions` values and a proxy's
/// `id`, each line refused as HAProxy refuses it (an HTTP rule's error ends the reading).
#[test]
fn redirect_source_rate_limit_and_id_words() {
    let text = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend f\n bind :8080\n default_backend b\nbackend b\n redirect foo /x\n redirect code 300 location /\n redirect if TRUE\n source\n source 1.2.3.4 interface\n source 1.2.3.4 usesrc client foo\n rate-limit sessions 10x\n rate-limit foo 10\n id 0\n id\n http-response redirect prefix /x\n";
    assert_eq!(
        alerts("redirect-source-words.cfg", text),
        [
            "[ALERT] config : parsing [{f}:10] : error detected in backend 'b' while parsing redirect rule : expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo').",
            "[ALERT] config : parsing [{f}:11] : error detected in backend 'b' while parsing redirect rule : 'code': unsupported HTTP code '300' (must be one of 301, 302, 303, 307 or 308).",
            "[ALERT] config : parsing [{f}:12] : error detected in backend 'b' while parsing redirect rule : redirection type expected ('prefix', 'location', or 'scheme').",
            "[ALERT] config : parsing [{f}:13] : 'source' expects <addr>[:<port>], and optionally 'usesrc' <addr>, and 'interface' <name>.",
            "[ALERT] config : parsing [{f}:14] : 'source' : missing interface name.",
            "[ALERT] config : parsing [{f}:15] : 'source' only supports optional keywords 'interface' and 'usesrc'.",
            "[ALERT] config : parsing [{f}:16] : 'rate-limit sessions' : unexpected character 'x' in integer value '10x'",
            "[ALERT] config : parsing [{f}:17] : 'rate-limit' only supports 'sessions' (got 'foo')",
            "[ALERT] config : parsing [{f}:18]: custom id has to be > 0.",
            "[ALERT] config : parsing [{f}:19]: 'id' expects an integer argument.",
            "[ALERT] config : parsing [{f}:20] : error detected in backend 'b' while parsing 'http-response redirect' rule : response only supports redirect type 'location'.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
        ]
    );
}
