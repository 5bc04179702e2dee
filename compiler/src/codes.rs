//! The code table: every diagnostic code, its rule name, default severity, origin and explanation.
//!
//! This is the single place codes are declared (ruff's model). `hapee-lb explain CODE` and
//! `docs/diagnostics.md` are generated from it. Ranges:
//! - `E0xx`/`W0xx` lexer and preprocessor (`.if`, `.alert`, …)
//! - `E1xx`/`W1xx` keywords, sections and arguments
//! - `E2xx`/`W2xx` semantic checks on the typed model (names, inheritance, modes)
//! - `E3xx`/`W3xx` threads, thread groups and the 2.7 removals
//! - `E4xx`/`W4xx` environment checks (files, certificates, Lua)
//! - `E5xx`/`W5xx` expressions: ACLs, sample expressions, log formats
//! - `L…` lints HAProxy itself does not make
//! - `U…` keywords the runtime does not support yet

use crate::diagnostic::Severity;

/// Where a rule comes from: a check HAProxy makes too, or one of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// HAProxy 2.7 makes the same check with the same verdict.
    Haproxy,
    /// A lint of hapee's own.
    Lint,
    /// Reported because hapee's runtime does not implement something yet.
    Runtime,
}

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub code: &'static str,
    /// kebab-case name, usable in place of the code in `--allow`/`--deny`.
    pub name: &'static str,
    pub severity: Severity,
    pub origin: Origin,
    /// One line, in our own words.
    pub summary: &'static str,
    /// Longer explanation for `hapee-lb explain`: why it matters and how to fix it.
    pub explanation: &'static str,
}

macro_rules! rules {
    ($($code:literal $name:literal $sev:ident $origin:ident $summary:literal $expl:literal;)*) => {
        /// Every rule, sorted by code.
        pub static RULES: &[Rule] = &[
            $(Rule { code: $code, name: $name, severity: Severity::$sev, origin: Origin::$origin, summary: $summary, explanation: $expl },)*
        ];
    };
}

rules! {
    // ---- E0xx / W0xx: lexer and preprocessor ----
    "E001" "unmatched-quote" Error Haproxy "A quote is opened and never closed on the line."
        "Quotes do not span lines in HAProxy configurations. Close the quote on the same line, or escape the quote character with a backslash if it is meant literally.";
    "E002" "too-many-words" Error Haproxy "A line has more than 64 words."
        "HAProxy reads at most 64 words per line; a separator after the 64th word (even trailing blanks or a comment) already counts as a 65th. Split long lists over several lines, for example several 'acl' lines with the same name.";
    "E003" "unmatched-brace" Error Haproxy "A '${' variable reference is not closed by '}'."
        "Write '${NAME}', '${NAME-default}' or '${NAME[*]}' inside double quotes.";
    "E004" "invalid-variable-name" Error Haproxy "A '$' inside double quotes is not followed by a valid variable name."
        "Variable names start with a letter or '_' (or are one of .LINE, .FILE, .SECTION). Write '\\$' to keep a literal dollar sign inside double quotes.";
    "E005" "invalid-hex-escape" Error Haproxy "A '\\x' escape is not followed by two hexadecimal digits."
        "Write '\\xHH' with exactly two hexadecimal digits.";
    "E006" "invalid-word-expansion" Error Haproxy "A '${NAME[...]}' expansion is not '[*]'."
        "The only word expansion is '${NAME[*]}', which splits the value on spaces into several words.";
    "E007" "too-many-errors" Error Haproxy "Parsing of the file stopped after 50 fatal errors."
        "Fix the first errors; HAProxy does not read further than 50 fatal errors in one file.";
    "E008" "stray-nul" Error Haproxy "A NUL byte appears inside a line."
        "Configuration files are text. A NUL byte usually means a binary or corrupted file; HAProxy stops reading the file there.";
    "E009" "missing-final-newline" Error Haproxy "The last line does not end with a line feed."
        "HAProxy 2.7 treats a missing final line feed as a sign of truncation and rejects the file. Add a newline at the end.";
    "E010" "keyword-out-of-section" Error Haproxy "A keyword appears before any section."
        "Every directive belongs to a section: start with 'global', 'defaults', 'frontend', 'backend', 'listen' or another section keyword.";
    "E011" "unterminated-if" Error Haproxy "A '.if' block is not closed by '.endif'."
        "Close each '.if' with '.endif' in the same file.";
    "E012" "invalid-condition" Error Haproxy "A '.if' or '.elif' condition does not parse."
        "Conditions combine integers, predicates such as defined(VAR), feature(NAME), streq(a,b), version_atleast(v) and parentheses with '!', '&&' and '||'. HAProxy stops reading the file after this error.";
    "E013" "too-many-nested-ifs" Error Haproxy "More than 100 nested '.if' blocks."
        "Flatten the conditions.";
    "E014" "misplaced-conditional" Error Haproxy "A '.elif', '.else' or '.endif' has no matching '.if', or follows '.else'."
        "Each block is '.if', any number of '.elif', at most one '.else', then '.endif'.";
    "E015" "unexpected-directive-argument" Error Haproxy "A preprocessor directive has too many arguments."
        "'.else' and '.endif' take none; '.alert', '.warning', '.notice' and '.diag' take one message: quote it if it contains spaces.";
    "E016" "alert-directive" Error Haproxy "An '.alert' directive was reached."
        "'.alert' stops the configuration on purpose, usually inside a '.if' that detects an unsupported setup.";
    "W017" "message-directive" Warning Haproxy "A '.warning', '.notice' or '.diag' directive was reached."
        "These directives print their message; '.warning' also counts as a warning for '-dW'.";
    "E018" "unknown-directive" Error Haproxy "A line starts with an unknown '.' directive."
        "Known directives are .if, .elif, .else, .endif, .alert, .warning, .notice and .diag. HAProxy stops reading the file here.";

    // ---- E1xx / W1xx: keywords, sections, arguments ----
    "E101" "unknown-keyword" Error Haproxy "The keyword is not known in this section."
        "HAProxy rejects any directive it does not know. Check the spelling (a suggestion is given when one is close), and check that the directive belongs to this kind of section.";
    "E103" "removed-keyword" Error Haproxy "The keyword was removed from HAProxy before 2.7."
        "Old regex-based header rewrites (reqrep, rspadd, ...), 'block', 'redispatch' as a keyword, 'monitor-net' and similar were removed in 2.1. The message names the replacement: http-request/http-response rules, 'option redispatch', 'http-request return'.";
    "W104" "deprecated-keyword" Warning Haproxy "The keyword is deprecated."
        "It still works in 2.7 but is scheduled for removal; switch to the replacement named in the message.";
    "E105" "not-allowed-in-defaults" Error Haproxy "The keyword cannot be used in a defaults section."
        "Binds, servers, switching rules, stick tables, identifiers and a few others only make sense in a real proxy. Move the line into the frontend, backend or listen section that needs it.";
    "W106" "keyword-wrong-side" Warning Haproxy "The keyword acts on a side this proxy does not have, so HAProxy ignores it."
        "Frontend keywords (bind, use_backend, default_backend, capture, maxconn...) have no effect in a backend, and backend keywords (balance, server, retries, http-reuse, http-check...) none in a frontend; the same holds for options of one side (dontlognull, logasap... in a backend; redispatch, httpchk, checkcache... in a frontend). Move the line, or use a listen section.";
    "E107" "unknown-option" Error Haproxy "The name after 'option' is not a known option."
        "Check the spelling; a suggestion is given when one is close.";
    "E108" "unknown-action" Error Haproxy "A rule uses an action that does not exist for its rule set."
        "Each rule set (http-request, http-response, tcp-request content, ...) has its own actions; the message lists them and suggests the closest. Lua actions are written 'lua.<name>'.";
    "E109" "integer-argument-missing" Error Haproxy "A global setting that takes a number is written without one (or, for 'maxconn', with more than digits), or a TLS setting with a negative one, or the ClientHello capture size is set twice."
        "Give the value on the same line, for example 'maxconn 20000'. 'tune.ssl.capture-buffer-size' and its older name 'tune.ssl.capture-cipherlist-size' size one memory pool that HAProxy makes once: keep a single line. When it comes from an environment variable ('maxconn \"${MAXCONN}\"'), make sure the variable is set where HAProxy starts.";
    "E110" "stats-socket-address-missing" Error Haproxy "A global 'stats socket' line has no address."
        "Give a UNIX socket path or an address: 'stats socket /run/haproxy/admin.sock mode 660 level admin' or 'stats socket ipv4@127.0.0.1:9999'. An address from an unset environment variable is empty.";
    "E111" "invalid-external-check" Error Haproxy "An 'external-check' line in a proxy lacks 'command <cmd>' or 'path <path>'."
        "Write 'external-check command /usr/local/bin/check.sh' (and optionally 'external-check path \"/usr/bin:/bin\"'), together with 'option external-check' and the global 'external-check'.";
    "E112" "unexpected-argument" Error Haproxy "A keyword that takes a fixed number of arguments has a word too many."
        "HAProxy counts the arguments of these keywords and refuses the line when a word follows the last one, for example a condition after 'default_backend' (only 'use_backend' takes one) or a value after an option that takes none. Remove the extra words, or use the keyword that does what they meant.";

    "E116" "server-without-backend-side" Error Haproxy "A 'server', 'default-server' or 'server-template' line is in a frontend, which has no backend side."
        "HAProxy refuses servers in a proxy that cannot send traffic to them. Put them in a backend or a listen section and route the frontend to it.";

    "E117" "ring-size-refused" Error Haproxy "A ring's 'size' is not a number above zero, follows its 'backing-file', or is smaller than the ring's size so far (16384 bytes to begin with)."
        "HAProxy reads a ring's size as a plain number of bytes: a unit such as '1M' stops the number ('1M' is 1 byte). A size below the ring's current one is refused with a warning that still fails the configuration. Write the size in bytes ('size 1048576'), at least 16384, before any 'backing-file' line.";

    // ---- E2xx / W2xx: semantic checks ----
    "E113" "ssl-load-extra-files-invalid" Error Haproxy "An 'ssl-load-extra-files' line is empty, names an unknown kind of file, or puts 'none' or 'all' with other words."
        "Name the files to look for beside each certificate among bundle, sctl, ocsp, issuer and key, or write 'none' or 'all' alone.";
    "E115" "http-action-arguments" Error Haproxy "An HTTP header or request-line action ('set-header', 'replace-header', 'set-path', 'replace-uri', 'del-header', …) lacks an argument, has one too many before its condition, or gives 'del-header' a '-m' it does not take."
        "HAProxy counts these actions' words when it reads the rule: 'set-header', 'add-header' and 'early-hint' take a name and a value, 'replace-header' and 'replace-value' a name, a regular expression and a replacement, 'set-method', 'set-path', 'set-pathq', 'set-query' and 'set-uri' one format (quote it if it holds spaces), 'replace-path', 'replace-pathq' and 'replace-uri' a regular expression and a format, and 'del-header' a name with an optional '-m str|beg|end|sub|reg'.";
    "W114" "global-setting-repeated" Warning Haproxy "A global setting HAProxy takes once ('maxconn', 'user', 'chroot', 'pidfile', 'ulimit-n', …) is given again after it got a value."
        "HAProxy keeps the first value and ignores the later line, reporting it at the alert level without failing the check. Remove the repeated line, or change the first one if the later value is the one meant (a second 'global' section does not start over).";
    "W115" "id-not-a-number" Warning Haproxy "A global 'uid' or 'gid' is not a number, so it is ignored."
        "'uid' and 'gid' take numeric ids; HAProxy ignores any other word and keeps the ids it starts with. Write the number, or name the account with 'user' or 'group'.";
    "W116" "reply-part-ignored" Warning Haproxy "A part of an HTTP reply ('return', 'deny', 'http-error'…) has no effect: a content type without a payload, with an error page or with an empty file, a header the reply sets itself, or headers with an error page."
        "HAProxy drops the part and builds the reply without it. Remove it, or give the reply the payload ('string', 'file', 'lf-string', 'lf-file') it was meant for; an error page ('errorfile', 'errorfiles') is sent as it is written.";
    "E200" "prefix-not-allowed" Error Haproxy "The 'no' or 'default' prefix is used on a keyword that does not support it."
        "Only 'option', 'log', 'busy-polling', 'set-dumpable', 'strict-limits', 'insecure-fork-wanted' and 'numa-cpu-mapping' can be negated or reset with 'no' or 'default'. Remove the prefix, or remove the line to get the default behaviour.";
    "E201" "proxy-name-missing" Error Haproxy "A frontend, backend or listen section has no name."
        "Every proxy section except 'defaults' needs a name right after the section keyword, for example 'backend app'. HAProxy stops reading the file at this point.";
    "E202" "proxy-header-extra-words" Error Haproxy "The section line has words after the name that are not 'from <defaults>'."
        "A proxy header takes a name and optionally 'from <defaults-name>'. Listening addresses belong on 'bind' lines inside the section.";
    "E203" "invalid-name-character" Error Haproxy "A proxy or server name contains a character HAProxy does not allow, or is empty."
        "Names may contain letters, digits, '.', '-', '_' and ':' only (a 'server-template' prefix not ':'), and a server needs one: HAProxy reports an empty server name as 'character '' and no more. Rename the section or server and every reference to it.";
    "E204" "defaults-not-found" Error Haproxy "'from' names a defaults section that does not exist (yet)."
        "A section can only inherit from a named defaults section declared before it. Check the spelling, or move the defaults section up.";
    "E205" "ambiguous-defaults" Error Haproxy "Several defaults sections share the name used in 'from'."
        "Give each named defaults section a distinct name so that 'from' designates exactly one of them.";
    "E206" "duplicate-proxy-name" Error Haproxy "Two frontends (or two backends) have the same name."
        "Frontend names must be unique among frontends and listen sections, backend names among backends and listen sections. A frontend and a backend may share a name.";
    "E207" "defaults-rules-inheritance" Error Haproxy "A section inherits from a defaults section whose TCP/HTTP rules it cannot use."
        "A defaults section that defines rules may only be used by sections of one kind: not by another defaults section, not by a listen section, not by both frontends and backends, and its connection/session rules not by backends nor its response rules by frontends. Split the defaults section, or move the rules into the sections that need them.";
    "E208" "unknown-mode" Error Haproxy "'mode' has a value other than http or tcp."
        "A proxy runs 'mode http' (HTTP proxying) or 'mode tcp' (plain TCP). 'mode health' no longer exists: answer health probes with 'http-request return status 200' (or 'monitor-uri') in an HTTP proxy instead. 'mode log' is not a proxy mode in 2.7: syslog is relayed by a 'log-forward' section.";
    "W208" "defaults-used-both-ways" Warning Haproxy "A defaults section is used by name ('from') by one proxy and implicitly by another."
        "HAProxy reports this at the alert level without failing: a proxy without 'from' takes the last defaults section, which another proxy also names explicitly. Name it in every proxy, or add a last defaults section that no proxy names.";
    "E209" "unknown-timeout" Error Haproxy "The timeout name is not one HAProxy knows, or is a removed pre-2.1 form."
        "Valid names are client, server, connect, check, queue, http-keep-alive, http-request, tunnel, tarpit, client-fin and server-fin. The old clitimeout/srvtimeout/contimeout directives were removed in 2.1.";
    "E210" "invalid-duration" Error Haproxy "A duration is missing, malformed, or out of range."
        "Durations are a number with an optional unit: us, ms, s, m, h or d (milliseconds by default). The largest value is 2147483647 ms (about 24.8 days); a non-zero value must not round down to zero.";
    "E211" "timeout-extra-argument" Error Haproxy "A timeout line has more than one value."
        "Write one value per 'timeout' line.";
    "W209" "log-format-overridden" Warning Haproxy "A defaults section sets a log format after it already had one."
        "Only the last log format of a defaults section ('log-format', 'option httplog', 'option httpslog', 'option tcplog') is passed on; HAProxy warns that the earlier one is replaced. Keep one of them, or put the two in separate defaults sections that different proxies use.";
    "W212" "timeout-wrong-side" Warning Haproxy "A timeout is set on a section that does not have the side it applies to."
        "'timeout client' only matters where connections are accepted (frontend, listen, defaults); server-side timeouts only where servers are used (backend, listen, defaults). The line has no effect here.";
    "W213" "duration-trailing-characters" Warning Haproxy "A duration is followed by characters after its unit."
        "HAProxy reads the number and the first unit letter and ignores the rest, which will become an error in later versions. Write the unit alone, such as '5s' instead of '5sec'.";
    "E212" "invalid-server-state-source" Error Haproxy "'load-server-state-from-file' names a source other than 'global', 'local' or 'none'."
        "'global' reads the file the global 'server-state-file' names, 'local' the backend's own 'server-state-file-name', and 'none' reads nothing.";
    "E213" "filter-order" Error Haproxy "A cache filter comes after compression, or a filter a proxy gets without a 'filter' line (a cache for 'cache-use'/'cache-store', compression for 'compression' lines) stands beside other filters."
        "HAProxy runs a proxy's filters in the order they are declared, and the cache must see responses before they are compressed. Without a 'filter' line for them, the cache and compression filters only go with each other and with FastCGI's; beside any other filter (trace, SPOE, bandwidth limits, Lua), declare them with 'filter cache <name>' and 'filter compression' where they belong in the chain.";
    "E214" "invalid-balance" Error Haproxy "'balance' names an unknown algorithm or gives it wrong arguments."
        "Algorithms are roundrobin, static-rr, leastconn, first, source, uri, url_param, hdr(<name>), random[(<draws>)], rdp-cookie[(<name>)] and hash <expression>, each with its own optional arguments.";
    "E215" "invalid-hash-type" Error Haproxy "'hash-type' has an unknown method, function or modifier."
        "Write 'hash-type consistent|map-based [sdbm|djb2|wt6|crc32|none] [avalanche]'.";
    "E216" "invalid-http-reuse" Error Haproxy "'http-reuse' has an unknown mode."
        "Modes are never, safe (the default), aggressive and always.";
    "E217" "invalid-retry-on" Error Haproxy "'retry-on' is empty, misplaced or names an unknown event."
        "Events are conn-failure, empty-response, junk-response, response-timeout, 0rtt-rejected, the status codes 401 403 404 408 425 500 501 502 503 504, all-retryable-errors, or 'none' alone. Retries only happen on a backend side.";
    "E218" "invalid-log-target" Error Haproxy "A 'log' line is malformed."
        "Write 'log global', or 'log <address> [len <n>] [format <fmt>] [sample <ranges>:<size>] <facility> [<level> [<minlevel>]]'. Facilities are kern to local7, levels emerg to debug, formats local, rfc3164, rfc5424, priority, short, timed, iso and raw.";
    "E219" "invalid-compression" Error Haproxy "A 'compression' line has an unknown subcommand or algorithm."
        "HAProxy 2.7 knows 'compression algo <names...>' (identity, gzip, deflate, raw-deflate), 'compression type <mime types...>' and 'compression offload'. The request-side forms (algo-req, type-req, minsize-req…) came in later versions.";
    "E220" "bind-address-missing" Error Haproxy "A 'bind' line has no address."
        "Give an address and port (':80', '10.0.0.1:443', 'ipv6@:::443'), a UNIX socket path, or an 'fd@' / 'quic4@' form.";
    "E221" "unknown-bind-option" Error Haproxy "A word on a 'bind' line is not a known bind option."
        "Check the spelling; a suggestion is given when one is close. Options that need a value take it as the next word.";
    "E222" "bind-option-value-missing" Error Haproxy "A bind option that needs a value has none."
        "Write the value right after the option name.";
    "E223" "server-arguments-missing" Error Haproxy "A 'server' line lacks its name or address, or a 'server-template' line's number of servers is not one."
        "Write 'server <name> <address>[:<port>] [options]', or 'server-template <prefix> <count | low-high> <address>[:<port>] [options]' with a count of at least 1, or a range whose first number is not negative and not above its last.";
    "E224" "unknown-server-option" Error Haproxy "A word on a 'server' line is not a known server option."
        "Check the spelling; a suggestion is given when one is close.";
    "E225" "server-option-value-missing" Error Haproxy "A server option that needs a value has none."
        "Write the value right after the option name.";
    "E226" "duplicate-server-name" Error Haproxy "Two servers of one backend have the same name."
        "Server names identify servers in logs, stats and the runtime API: they must be unique within a backend. HAProxy checks this once the whole configuration is read, for enabled proxies only, and a server given an explicit 'id' is told apart by it.";
    "E227" "invalid-address" Error Haproxy "An address on a 'bind', 'server', 'mailer' or 'stats socket' line, or one a proxy connects from or through ('source', 'usesrc', 'socks4', 'tcp-check connect addr'), is malformed or has a port of a kind it does not take."
        "Addresses are '[prefix@]host:port'. 'bind' needs a port (or a range low-high); 'server' takes an optional port or a +/- offset, and a host name HAProxy can turn into DNS labels (no leading dot, no two dots in a row: 'Can't create DNS resolution'); a 'stats socket' is read as a 'bind' address, so a UNIX socket path must start with '/' (or 'unix@'). A 'source' address takes an optional port (a server's own also a range low-high), 'usesrc' and 'tcp-check connect addr' an optional port, 'socks4' a port it needs; none of them takes a +/- offset. IPv6 literals may be written in brackets. Host names are resolved when the proxy starts.";
    "W228" "compression-offload-in-defaults" Warning Haproxy "'compression offload' is written in a defaults section, where HAProxy ignores it."
        "Move 'compression offload' to the frontend, backend or listen section that compresses.";
    "E229" "unknown-resolve-opts" Error Haproxy "A server's 'resolve-opts' names an option that does not exist."
        "'resolve-opts' takes a comma-separated list of allow-dup-ip, prevent-dup-ip (the default) and ignore-weight.";
    "E230" "rule-not-allowed-here" Error Haproxy "A rule or an ACL is placed in a section that cannot hold it."
        "HTTP and TCP rules and 'acl' lines cannot go in an anonymous defaults section: name it and use 'from <name>'. 'tcp-response' rules need a backend side.";
    "E231" "inspect-delay-invalid" Error Haproxy "An inspect-delay has no value or an invalid one."
        "Give a duration such as '5s'.";
    "E232" "unknown-service" Error Haproxy "'use-service' names a service that does not exist."
        "Services are provided by Lua scripts ('lua.<name>', registered with core.register_service). HAProxy's built-in Prometheus exporter is an optional build module that the reference build does not include.";
    "E233" "invalid-spoe-filter" Error Haproxy "A 'filter spoe' line lacks its configuration file or has an unknown option."
        "Write 'filter spoe [engine <name>] config <file>'; the file describes the SPOE agents and messages.";
    "E234" "unknown-filter" Error Haproxy "A 'filter' line names a filter HAProxy 2.7 does not have."
        "The filters are trace, compression, cache, spoe, fcgi-app, bwlim-in and bwlim-out (opentracing only in builds with it). The request/response compression filters (comp-req, comp-res) came in later versions.";
    "E235" "sticky-counter-out-of-range" Error Haproxy "A rule names a sticky counter the session does not have, or 'tune.stick-counters' is not a number."
        "Sessions have sticky counters sc0 to sc2 unless 'tune.stick-counters' (a setting from HAProxy 2.8, accepted here) gives another number. Use a counter below that number, or raise it in the global section before the rules that use it.";
    "E236" "fcgi-app-without-docroot" Error Haproxy "An 'fcgi-app' section has no 'docroot'."
        "The application's scripts are found under the docroot: SCRIPT_FILENAME is the docroot followed by the script name. Add 'docroot <path>' to the section.";
    "W237" "fcgi-max-reqs-ignored" Warning Haproxy "'option max-reqs' above 1 in an 'fcgi-app' section that neither multiplexes nor asks the application's limits."
        "Several requests may share a FastCGI connection only with 'option mpxs-conns' or 'option get-values'; without either, one request at a time goes on a connection and 'max-reqs' is ignored.";
    "E238" "fcgi-backend-mismatch" Error Haproxy "A proxy has FastCGI servers ('proto fcgi') without a FastCGI application ('use-fcgi-app', 'filter fcgi-app'), or an application without FastCGI servers or in TCP mode."
        "A 'proto fcgi' server speaks to the application its proxy's own 'use-fcgi-app' or 'filter fcgi-app' names ('use-fcgi-app' in a defaults section reaches no backend); an application needs at least one 'proto fcgi' server (a frontend has none) and an HTTP proxy. HAProxy checks this once every section is read, disabled proxies included, and reports only the first such proxy.";
    "E275" "invalid-bandwidth-limit" Error Haproxy "A bandwidth limitation filter or a 'set-bandwidth-limit' rule is written in a way HAProxy refuses."
        "A per-stream filter takes 'default-limit <size>' and 'default-period <time>'; a shared one takes 'limit <size>' and 'key <expression>' with an optional 'table <name>' whose stick-table stores bytes_in_rate (bwlim-in) or bytes_out_rate (bwlim-out); both may take 'min-size <size>'. A 'set-bandwidth-limit <name>' rule names a filter of its own proxy, and may give 'limit' and 'period' expressions for a per-stream filter only.";
    "E276" "hash-balance-factor-invalid" Error Haproxy "A 'hash-balance-factor' is missing its number or gives one from 1 to 100."
        "The factor is the percentage of the average load a server may carry before consistent hashing passes it by: 0 turns the bound off, and any other value must be above 100 (150 lets a server take half as much again as the average).";
    "W272" "resolvers-without-nameservers" Warning Haproxy "A resolvers section has neither a 'nameserver' line nor 'parse-resolv-conf'."
        "Once the proxies are checked HAProxy warns about a resolvers section it cannot send a query from. Add 'nameserver <name> <ip>:<port>' lines, or 'parse-resolv-conf' to take the system's nameservers.";
    "W273" "email-alert-incomplete" Warning Haproxy "A proxy has 'email-alert' settings without all of 'from', 'mailers' and 'to', so HAProxy ignores them."
        "Mail alerts need a sender ('email-alert from'), a recipient ('email-alert to') and the mailers section to send through ('email-alert mailers'); any one of them missing, HAProxy warns and drops every 'email-alert' setting of the proxy, its defaults' included.";
    "E274" "mailers-not-found" Error Haproxy "'email-alert mailers' names a mailers section that does not exist."
        "The name must match a 'mailers <name>' section.";
    "E286" "ssl-bind-without-certificate" Error Haproxy "A bind with 'ssl' (or a QUIC address) names no certificate: neither 'crt' nor 'crt-list'."
        "HAProxy needs a certificate to answer TLS on a bind and refuses the configuration without one, unless 'strict-sni' is set (then it only warns, and connections without a matching certificate fail). Add 'crt <file or directory>' or 'crt-list <file>' to the bind line.";
    "W286" "bind-certificate-ssl-mismatch" Warning Haproxy "A bind names a certificate without 'ssl', or a 'strict-sni' TLS bind names none: HAProxy warns, and the certificate is unused or every TLS connection fails."
        "A bind's 'crt' or 'crt-list' only serves TLS, which the 'ssl' word turns on; and a TLS bind with 'strict-sni' and no certificate can match no client. Add 'ssl' to a bind whose certificate is meant to be used, or a certificate to the TLS bind.";
    "W287" "mailers-unused" Warning Haproxy "No proxy sends its mail alerts through this mailers section, so HAProxy drops it."
        "A mailers section is kept only when a proxy has complete 'email-alert' settings ('from', 'to', 'mailers') naming it. Name it from a proxy or remove it.";
    "E288" "program-without-command" Error Haproxy "A 'program' section has no 'command' line."
        "A program section starts the command its 'command' line gives; without one HAProxy refuses the configuration.";
    "W289" "tls-versions-ambiguous" Warning Haproxy "A TLS bind's protocol versions are set in a way HAProxy has to settle itself: 'no-…' words beside 'ssl-min-ver'/'ssl-max-ver' (ignored), an 'ssl-max-ver' under the default lowest version TLSv1.2 without 'ssl-min-ver', or a range with a hole in it."
        "HAProxy works out the versions a bind accepts from its 'ssl-min-ver', 'ssl-max-ver', 'no-sslv3'/'no-tlsv1x' and 'force-…' words and the global 'ssl-default-bind-options'. Write the range with 'ssl-min-ver' and 'ssl-max-ver' only.";
    "E289" "tls-versions-none" Error Haproxy "Every TLS protocol version is disabled on a bind."
        "An 'ssl-min-ver' above 'ssl-max-ver', or 'no-…' words covering every version from the lowest allowed one (TLSv1.2 by default), leaves no version to accept. Set a range with 'ssl-min-ver' and 'ssl-max-ver'.";
    "E291" "global-tune-value" Error Haproxy "A compression, soft-stop, poller, variable-size, HTTP/1 header-case or default TLS options setting of the global section has a value HAProxy refuses."
        "'maxcompcpuusage' takes a percentage from 0 to 100, 'tune.zlib.memlevel' a number from 1 to 9, 'tune.zlib.windowsize' a number from 8 to 15, 'close-spread-time' a time or 'infinite', 'tune.fd.edge-triggered' 'on' or 'off', each 'tune.vars.*-max-size' a whole number of bytes (no unit), and 'h1-case-adjust' two spellings of one header name that differ only in case ('h1-case-adjust content-type Content-Type'), each name once.";
    "E292" "invalid-error-page" Error Haproxy "An 'errorfile' or 'errorloc' line lacks its status or its page, or names a status HAProxy keeps no page for."
        "'errorfile <status> <file>' and 'errorloc <status> <url>' (and 'errorloc302', 'errorloc303') replace one of HAProxy's own answers, so the status must be one it can send itself: 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503 or 504. For another status, answer with 'http-request return status <code>' or an 'http-error' rule.";
    "E297" "proxy-value-missing" Error Haproxy "A proxy keyword that needs a value ('retries', 'fullconn', 'dynamic-cookie-key', 'log-tag', 'unique-id-header', 'http-send-name-header', 'monitor-uri', 'persist', 'stats uri', 'stats realm', 'stats auth', 'stats scope') has none."
        "HAProxy refuses these keywords written alone: 'retries <n>', 'fullconn <n>', 'dynamic-cookie-key <secret>', 'log-tag <tag>', 'unique-id-header <name>', 'http-send-name-header <name>'. A quoted \"${VAR}\" that is not set expands to an empty value, which counts as none (unquoted, HAProxy keeps reading the line as if the word were not there).";
    "E298" "invalid-cookie" Error Haproxy "A 'cookie' line has no name, an option HAProxy does not know or a malformed value, or mixes modes that exclude each other."
        "The line is 'cookie <name>' followed by options: one mode at most among 'rewrite', 'insert' and 'prefix'; 'indirect' not with 'rewrite'; 'preserve' only with 'insert' or 'indirect'; 'domain' a name of letters, digits, '.', '_' and '-'; 'maxidle' and 'maxlife' times in seconds by default; 'attr' a value without control characters or ';'.";
    "E299" "invalid-http-check-send" Error Haproxy "An 'http-check send' rule has a word HAProxy does not know, a word without its value, or a second Host header."
        "The rule takes 'meth <method>', 'uri <path>' or 'uri-lf <format>', 'ver <version>', 'hdr <name> <value>' (any number, one Host at most), 'body <text>' or 'body-lf <format>', and 'comment <text>'; each value must be non-empty (a quoted \"${VAR}\" that is not set expands to an empty one).";
    "E250" "fcgi-filter" Error Haproxy "A 'use-fcgi-app' or 'filter fcgi-app' names no fcgi-app section or none at all, a backend names two applications, another filter (not a cache or compression) stands beside the application's, or the line is written where or as HAProxy refuses it."
        "A backend speaks to one FastCGI application, declared in an 'fcgi-app' section of that name. HAProxy runs the application as a filter of the backend, declared by 'use-fcgi-app <name>' or explicitly, in its place among the other filters, by 'filter fcgi-app <name>' (nothing after the name); the filter only goes with the cache and compression filters. 'use-fcgi-app' is read in backend, listen and defaults sections only (a defaults section's reaches no backend), and refused beside another application's filter.";
    "E256" "invalid-check-rule" Error Haproxy "A 'tcp-check' or 'http-check' rule (connect, send, expect, comment, disable-on-404, send-state) has a word HAProxy does not know, a word without its value, a value it refuses, or a pattern it cannot compile."
        "'connect' takes 'default', 'addr <address>', 'port <port|expression>' (1 to 65535), 'proto <mux>' of the check's kind (h1, h2 or fcgi for http-check, none for tcp-check), 'comment', 'sni', 'alpn', 'ssl', 'send-proxy', 'via-socks4' and 'linger', and may only follow comments and variable actions. 'send', 'send-lf', 'send-binary' (pairs of hex digits) and 'send-binary-lf' take their data, then 'comment <text>'. 'expect' takes one pattern ('string', 'rstring', 'string-lf', and 'binary', 'rbinary', 'binary-lf' for tcp-check; 'status' (codes and low-high ranges separated by commas), 'rstatus', 'hdr'/'fhdr name <name> [value <value>]' for http-check; '!' before it negates it), and 'min-recv' (-1 up to 2147483647), 'ok-status' (L4OK, L6OK, L7OK, L7OKC), 'error-status' (L4CON, L6RSP, L7RSP, L7STS, L7OKC), 'tout-status' (L4TOUT, L6TOUT, L7TOUT), 'on-success'/'on-error' log-format strings, 'status-code <expression>' and 'comment', none of which takes a '!'. Regular expressions must compile (PCRE2's message and offset are given). HAProxy stops reading a rule at an empty word.";
    "E277" "max-keep-alive-queue-invalid" Error Haproxy "A 'max-keep-alive-queue' is missing its number or is not a whole number."
        "The limit is an integer (read as C reads one: '0x' hexadecimal, a leading '0' octal), or -1 for no limit.";
    "E278" "usesrc-without-source" Error Haproxy "'usesrc' stands on its own line instead of following a 'source' statement."
        "'usesrc' only continues a 'source' line (the address the proxy connects from, then 'usesrc client|clientip|<address>|hdr_ip(<header>)' for transparent proxying); HAProxy refuses it alone. Write both on one line: 'source 0.0.0.0 usesrc clientip'.";
    "E237" "invalid-stick-rule" Error Haproxy "A 'stick' line names no kind of rule HAProxy knows, or no fetch."
        "Write 'stick on <fetch>' (match and store), 'stick match <fetch>', 'stick store-request <fetch>' or 'stick store-response <fetch>', optionally followed by 'table <name>' and a condition.";
    "E239" "word-after-action" Error Haproxy "A word follows a rule's action and its arguments where only 'if', 'unless' or the end of the line may."
        "Each action takes a known number of words ('set-header <name> <value>', 'deny [status <code>] …', 'track-sc0 <key> [table <name>]'); HAProxy then reads 'if <condition>' or 'unless <condition>', and refuses any other word rather than ignoring it. Often a condition lost its 'if', a value lost its quotes ('set-header X-A a b' needs \"a b\"), or a word was mistyped ('iff'). Quote the value, add the 'if', or remove the word.";
    "E228" "unknown-capture-id" Error Haproxy "An 'http-request capture … id <n>' or 'http-response capture … id <n>' rule names a capture slot its frontend does not have."
        "A frontend's capture slots are numbered from 0 in the order they are made: 'capture request|response header' lines, 'declare capture request|response len <size>' lines and, for requests, each 'capture <sample> len <size>' rule. A rule naming a slot by id must name one of them; declare the slot, or capture with 'len' to make one.";
    "E240" "program-without-master-worker" Error Haproxy "A 'program' section is used without master-worker mode."
        "Programs are started by the master process. Add 'master-worker' to the global section or start with -W.";
    "E241" "backend-not-found" Error Haproxy "A 'use_backend' or 'default_backend' names a backend that does not exist."
        "Declare the backend, or fix the name. Dynamic names written with '%[...]' are resolved per request and not checked.";
    "E242" "backend-loop" Error Haproxy "A listen section uses itself as its backend."
        "A proxy cannot switch to itself. Point the rule at another backend.";
    "E243" "backend-mode-mismatch" Error Haproxy "A frontend switches to a backend running another mode."
        "An HTTP frontend cannot hand its traffic to a TCP backend and the reverse. Align the 'mode' of both sections.";
    "E244" "use-server-not-found" Error Haproxy "A 'use-server' rule names a server that the backend does not have."
        "Declare the server in this backend, or fix the name.";
    "E245" "table-not-found" Error Haproxy "A tracking rule refers to a stick table that does not exist."
        "Without 'table <name>' a 'track-sc' rule uses the proxy's own table: declare a 'stick-table' there, or name a backend (or peers table) that has one.";
    "E246" "resolvers-not-found" Error Haproxy "A server names a resolvers section that does not exist."
        "'resolvers <name>' on a server line must match a 'resolvers <name>' section.";
    "E247" "http-errors-not-found" Error Haproxy "'errorfiles' names an http-errors section that does not exist."
        "Declare the section with 'http-errors <name>' and its 'errorfile' lines, or fix the name.";
    "E279" "check-without-port" Error Haproxy "A server with 'check' has no port to check: none in its address (or a '+N'/'-N' port mapping), no 'port' or 'addr' with a port, and no health-check rule that connects with a port."
        "A server written without a port (or with a port relative to the client's) is reached on the port the client connected to, which a health check cannot know. Give the check its port with 'port N' on the server line, or make the first rule of the backend's 'tcp-check'/'http-check' list a 'connect port N' (and give every 'connect' rule a port).";
    "E248" "cache-not-found" Error Haproxy "A cache filter, 'cache-use' or 'cache-store' names a cache section that does not exist."
        "Declare the cache with a 'cache <name>' section (with its 'total-max-size'), or fix the name.";
    "E249" "httpchk-headers-in-version" Error Haproxy "'option httpchk' hides request headers or a body after the HTTP version."
        "HAProxy 2.7 no longer accepts '\\r\\n' followed by headers in the version word of 'option httpchk'. Keep 'option httpchk <method> <uri> <version>' and add the headers with 'http-check send hdr <name> <value>' (and a body with 'body <text>').";
    "W250" "frontend-without-bind" Warning Haproxy "A frontend has no 'bind' line and will never receive traffic."
        "Add a 'bind' line, or declare the section as a backend if it is only a target.";
    "E260" "quic-retry-without-secret" Error Haproxy "A QUIC bind line forces Retry, but no 'cluster-secret' keys the Retry tokens."
        "Retry tokens are encrypted with a key derived from the global 'cluster-secret'; without one, HAProxy 2.7 refuses 'quic-force-retry'. Set 'cluster-secret' in the global section (the same value on every node that may see the client's retried Initial).";
    "E261" "mux-not-usable" Error Haproxy "A bind or server line asks for a multiplexer ('proto', or QUIC's) that does not serve its proxy's mode."
        "'proto h1', 'proto h2', 'proto fcgi' and QUIC binds (quic4@, quic6@, which carry HTTP/3) speak HTTP and need 'mode http'; 'proto none' passes bytes through and needs 'mode tcp'. HAProxy checks this once the configuration is read, for every enabled proxy. Set the proxy's mode, or remove 'proto'.";
    "E262" "quic-cc-algo" Error Haproxy "'quic-cc-algo' names no congestion control algorithm HAProxy knows."
        "HAProxy 2.7 offers 'cubic' (the default) and 'newreno'. hapee's runtime also runs 'bbr', which HAProxy rejects, so a configuration meant for both should stay with the two.";
    "E263" "quic-tune-value" Error Haproxy "A 'tune.quic.*' setting has a value HAProxy rejects."
        "The idle timeouts take a time ('30s', '500ms'); the buffer, stream, loss and retry limits take an integer of at least 1; 'tune.quic.socket-owner' takes 'listener' or 'connection'.";
    "W251" "missing-timeouts" Warning Haproxy "A proxy lacks client, connect or server timeouts."
        "Without timeouts, stalled connections are kept forever and can exhaust resources. Set 'timeout client', 'timeout connect' and 'timeout server', usually once in the defaults section.";
    "W252" "rule-order" Warning Haproxy "A rule is written after a rule that HAProxy evaluates later."
        "Rules run by kind in a fixed order (tcp-request connection, session, content, monitor fail, http-request, redirect, use_backend, use-server), wherever they are written. Move the line above the rules that really run after it.";
    "W253" "rule-after-final" Warning Haproxy "An HTTP rule follows an unconditional final action of its rule set, so it never runs."
        "'allow', 'deny', 'tarpit', 'auth', 'return' and 'redirect' end the rule set; without a condition the rules after them are dead. Add a condition to the final rule or remove the rules after it.";
    "W254" "acl-never-matches" Warning Haproxy "A condition uses a fetch that does not exist where its rule runs."
        "Request samples such as 'path' or 'req.hdr' are gone by the time response rules run, and response samples do not exist yet in request rules; HAProxy evaluates such an ACL as never matching. Keep what is needed in a variable ('http-request set-var(txn.path) path') and test the variable instead.";
    "W255" "log-format-in-backend" Warning Haproxy "A log format is set in a backend, where HAProxy ignores it."
        "Log lines are written by the frontend that received the connection, with that frontend's 'log-format', 'log-format-sd' and 'error-log-format'. The line in a backend has no effect: move it to the frontend or listen section, or to the defaults section the frontends use.";
    "W256" "http-log-fields-in-tcp-proxy" Warning Haproxy "A rule of a proxy that is not in 'mode http' writes a string with a field of the HTTP transaction ('%ST', '%rt', or a sample that reads HTTP)."
        "HAProxy collects what each proxy's strings need before it knows that the proxy is not an HTTP one; finding HTTP request or response fields there, it warns and drops them from what the log line waits for. The location HAProxy gives is the last line that set the proxy's log format or a header, variable or reply string. Remove the field, or set 'mode http'.";
    "W257" "http-log-option-in-tcp-proxy" Warning Haproxy "'option httplog' or 'option httpslog' is the log format of a proxy that is not in 'mode http'; the TCP log format is used instead."
        "The HTTP log formats read the HTTP transaction, which a TCP proxy does not have. HAProxy warns and logs with 'option tcplog' instead. Write 'option tcplog' (often in the defaults section that TCP proxies use), or set 'mode http'.";
    "W258" "log-format-without-log" Warning Haproxy "A proxy has a log format but no log address, so it never logs."
        "A log format ('log-format', 'log-format-sd', 'option httplog', 'option tcplog'…) only shapes the lines sent to the proxy's log addresses. With no 'log' line in the proxy or its defaults section, or only 'log global' while the global section has no 'log' line, HAProxy warns and ignores the format. Add 'log global' with a global 'log' line, or a 'log <address> <facility>' line.";
    "W259" "http-setting-outside-http-mode" Warning Haproxy "An HTTP-only setting ('http-request' rules, 'redirect', 'stats', 'capture cookie', 'option forwardfor', 'cookie', 'monitor-uri', a 'balance' that hashes an HTTP field, a server's 'cookie'…) sits in a proxy that is not in 'mode http'."
        "A TCP proxy never parses HTTP, so HAProxy warns and ignores its HTTP rules, its stats page, its cookie capture and the options that act on HTTP messages; a 'tcp-request content switch-mode http' rule keeps those. Its persistence cookie (the proxy's and the servers' values) and its monitor URI are dropped whatever the rules, and a 'balance uri', 'url_param' or 'hdr()' falls back to round robin. Set 'mode http' (often in the defaults section), or remove the settings.";
    "W260" "quic-implies-ssl" Warning Haproxy "A QUIC bind line lacks 'ssl'; QUIC is always TLS, so it is turned on."
        "QUIC carries TLS 1.3 in its handshake, so a 'quic4@'/'quic6@' bind line is a TLS listener whether or not it says so; HAProxy warns and enables 'ssl'. Write 'ssl' (with 'crt') on the line to make it explicit.";
    "W261" "peers-without-local-peer" Warning Haproxy "No 'peer' or 'server' line of a peers section names this process, so HAProxy drops the section."
        "A peers section is kept only by the process that finds itself in it: its name is the global 'localpeer', '-L <name>' on the command line, or else the host name. Without it the section's tables are not shared. Name this machine in the section, or start HAProxy with '-L' naming the peer it is.";

    // ---- E3xx / W3xx: threads and 2.7 removals ----
    "E301" "bind-process-removed" Error Haproxy "'bind-process' (or 'stats bind-process') was removed in HAProxy 2.7."
        "HAProxy runs threads, not processes, since 2.5, and 2.7 rejects 'bind-process'. Remove the line; to pin a listener to threads, use 'thread' on its 'bind' line.";
    "E302" "bind-process-argument-removed" Error Haproxy "The 'process' bind option was removed in HAProxy 2.7."
        "Replace 'process <set>' with 'thread <set>' on the 'bind' (or 'stats socket') line.";
    "E303" "invalid-bind-thread" Error Haproxy "A 'thread' bind option is malformed."
        "Write 'thread [<group>/]<set>', where the set is all, odd, even, a number from 1 to 64 or a range; every 'thread' of one line must use the same group.";
    "E304" "invalid-ignore-err" Error Haproxy "A 'ca-ignore-err' or 'crt-ignore-err' list is invalid."
        "Give 'all', or a comma-separated list of numeric ids from 1 to 94 or exact X509_V_ERR_* names.";
    "E305" "invalid-bind-option-value" Error Haproxy "A bind option's value is out of the range HAProxy takes."
        "'shards' takes a number from 1 to the most threads HAProxy 2.7 has, or 'by-thread' ('by-group' came with 2.8); 'accept-netscaler-cip' takes the magic number the NetScaler sends, which is not 0.";
    "E310" "thread-setting-too-late" Error Haproxy "A thread setting appears after a non-global section."
        "'nbthread', 'thread-groups' and 'thread-group' must be in the first global section, before any proxy.";
    "E311" "nbproc-removed" Error Haproxy "'nbproc' is not supported since HAProxy 2.5."
        "Remove 'nbproc'; HAProxy uses threads, set with 'nbthread'.";
    "E312" "invalid-thread-setting" Error Haproxy "'nbthread', 'thread-groups' or 'thread-group' has an invalid value."
        "In 2.7, 'nbthread' goes from 1 to 256, 'thread-groups' from 1 to 16, and thread numbers in 'thread-group' from 1 to 256.";
    "W313" "thread-group-redefined" Warning Haproxy "A thread or thread group is assigned more than once."
        "The later assignment wins. Keep one assignment per thread to make the layout obvious.";
    "E314" "thread-group-shape" Error Haproxy "A thread group is sparse or has more than 64 threads."
        "Threads of one group must be contiguous, and a group holds at most 64 threads in 2.7.";
    "E315" "thread-mapping-failed" Error Haproxy "Threads cannot be spread over the thread groups."
        "After explicit 'thread-group' lines, the remaining threads are spread over the remaining groups. There must be at least one thread per group and at most 64 per group.";
    "E316" "bind-thread-group-mismatch" Error Haproxy "A bind line's thread set does not fit the thread groups."
        "In 2.7 a listener belongs to exactly one thread group. With several groups, every 'bind' line needs a 'thread' option whose threads all sit in one existing group.";
    "E317" "invalid-cpu-map" Error Haproxy "A 'cpu-map' line is malformed."
        "Write 'cpu-map [auto:]<group>[/<threads>] <cpus>...': the group and the threads as all, odd, even, a number from 1 to 64 or a range, the CPUs as numbers or ranges from 0 to 1023. With 'auto:', the groups or the threads must be as many as the CPUs, which they take one each.";
    "E320" "experimental-not-enabled" Error Haproxy "An experimental directive is used without 'expose-experimental-directives'."
        "Experimental features ('trace', 'tune.fd.edge-triggered', 'http-request normalize-uri') must be allowed first with 'expose-experimental-directives' in the global section, before their use.";
    "W321" "trace-notice" Warning Haproxy "A 'trace' line only lists help or stops all traces."
        "A 'trace' line with no source or command prints the list of choices instead of configuring anything.";
    "E322" "invalid-trace" Error Haproxy "A 'trace' line names an unknown source, level, lock criterion or command."
        "Sources in 2.7 are check, fcgi, h1, h2, h3, peers, pt, qmux, quic and stream; commands are event, level, lock, pause, sink, start, stop and verbosity.";

    "E265" "cipher-list-rejected" Error Haproxy "OpenSSL rejects a TLS listener's or server's 'ciphers' or 'ciphersuites' list (it selects no cipher), or a listener's 'curves' or 'ecdhe' list (it names a group OpenSSL does not know)."
        "HAProxy hands each TLS listener's and TLS server's cipher lists (their own 'ciphers'/'ciphersuites', else 'ssl-default-bind-*' or 'ssl-default-server-*') to OpenSSL once the configuration is read, and does not start when OpenSSL rejects one. OpenSSL skips the names it does not know, and rejects a 'ciphers' list that leaves no TLS 1.2-or-below cipher (only unknown names, TLS 1.3 suite names, everything removed with '!'), a 'ciphersuites' list with no known suite, and characters outside its syntax. 'openssl ciphers -v LIST' shows what a list selects.";
    "E264" "nameserver-arguments-missing" Error Haproxy "A 'nameserver' line of a resolvers section lacks its name or address."
        "Write 'nameserver <name> <address>:<port>'; the address is an IP address (or a name the system resolves while HAProxy reads the line), and HAProxy 2.7 wants the port written (53 for DNS).";
    "E271" "server-tls-unverifiable" Error Haproxy "A TLS server's certificate is to be verified (the default, or 'verify required') but no 'ca-file' says what with."
        "HAProxy verifies servers' certificates unless told otherwise and refuses to start a TLS server it has no CA file for. Add 'ca-file <file>' (on the server or its 'default-server' line), or 'verify none' on a network you trust, or 'ssl-server-verify none' in the global section.";
    "E267" "http-service-in-tcp-rules" Error Haproxy "A 'tcp-request content use-service' names an HTTP service a Lua script registered."
        "HAProxy starts an HTTP service (one a script registered with 'core.register_service(name, \"http\", …)') only from 'http-request use-service': a TCP rule runs before the request is parsed as HTTP. Move the rule to 'http-request', or register a \"tcp\" service for TCP rules.";
    "E266" "nameserver-address-invalid" Error Haproxy "A 'nameserver' address is not one HAProxy can query: no port, a port out of range, or not an address."
        "HAProxy 2.7 reads a nameserver's address as '<ip>:<port>' (optionally 'udp@', 'tcp@' or an IPv6 address in brackets) and rejects the line when the port is missing or outside 1-65535, or when the address is neither an IP address nor a name the system resolves. Add the port: 'nameserver dns1 10.0.0.2:53'.";

    "E268" "nameserver-unix-datagram" Error Haproxy "A 'nameserver' is a UNIX socket address read as a datagram socket, which HAProxy cannot open."
        "HAProxy reads a nameserver address as a datagram address unless it names a stream ('tcp@', 'uxst@', 'stream+'), and once the configuration is read it opens each datagram nameserver's socket as UDP. A UNIX socket ('unix@', 'uxdg@', 'abns@' or a path starting with '/') cannot be UDP, so it stops with \"can't create socket for nameserver\". Query the server at '<ip>:<port>', or over a UNIX stream socket with 'uxst@<path>' (DNS over TCP).";

    "W270" "nameserver-unreachable" Warning Haproxy "A nameserver's address cannot be reached from this machine: HAProxy's UDP socket for it does not connect."
        "Once the configuration is read, HAProxy opens a UDP socket for each datagram nameserver and connects it to the nameserver's address. When the system refuses (no route to that network, a broadcast address, an address family the machine does not have), HAProxy warns and the resolvers section goes without that nameserver. Give an address this machine can reach.";
    "E280" "external-check-incomplete" Error Haproxy "A proxy's health check is 'option external-check' but the global 'external-check' or the proxy's 'external-check command' is missing."
        "HAProxy runs no program as a check unless the global section says 'external-check', and it needs the program: 'external-check command <path>' in the proxy or its defaults section. Both are checked once the whole configuration is read, for every enabled proxy whose last check option is 'option external-check'.";
    "E282" "stats-auth-with-http-request" Error Haproxy "A proxy's statistics page has both 'stats auth' or 'stats realm' and 'stats http-request' rules."
        "Once a proxy is read, HAProxy turns its 'stats auth' users and 'stats realm' into one 'stats http-request auth' rule, and refuses to do so when the proxy already has 'stats http-request' rules of its own. Keep one way: rules only ('stats http-request auth realm <realm> unless <acl>' with an ACL on 'http_auth(<userlist>)'), or 'stats auth' and 'stats realm' only.";
    "W285" "external-check-setting-ignored" Warning Haproxy "An 'external-check command' or 'external-check path' line sits in a proxy whose health check is not 'option external-check'."
        "The program and its search path only serve the external health check. In a proxy that checks otherwise (or not at all, a frontend for instance), HAProxy drops them with a warning; a defaults section's lines reach every proxy after it. Add 'option external-check' where the program should run, or move the lines to the backends that use it.";
    "W283" "http-check-rules-unused" Warning Haproxy "A proxy has 'http-check' rules, or 'http-check disable-on-404' or 'send-state', that its health check never uses because it is not 'option httpchk'."
        "HAProxy keeps a proxy's 'http-check' rules aside while the proxy's check is something else and hands them to an 'option httpchk' read after them; a check option other than 'option httpchk' read after them leaves them aside for good, and so does none at all. 'disable-on-404' and 'send-state' only mean something to HTTP checks. Add 'option httpchk' to the proxy (or its defaults section) to run them, or remove them.";
    "W414" "tcp-content-rule-timing" Warning Haproxy "A frontend's 'tcp-request content' tracking or capture rule reads the request without 'tcp-request inspect-delay', or (HTTP mode) tracks without reading the request at all."
        "Content rules run as soon as the connection has data: without 'tcp-request inspect-delay' a key or capture that reads the request's bytes or HTTP message sees whatever part of it has arrived, so the result changes from one connection to the next. Set an inspect delay (e.g. 'tcp-request inspect-delay 5s'). In an HTTP frontend, a tracking rule whose key and condition read nothing of the request belongs to 'tcp-request session': requests that fail or time out before the content rules run would not be counted otherwise.";
    "W284" "layer6-fetch-in-http-proxy" Warning Haproxy "A rule of an HTTP proxy has a condition that reads the connection's raw bytes (req.len, req.payload, res.len, req.ssl_sni…), which HAProxy ignores in HTTP mode."
        "An HTTP proxy hands its rules the parsed HTTP message, not the bytes received: a condition on a layer 6 fetch does not see what it would see in a TCP proxy. HAProxy warns once for each such 'use_backend', 'tcp-request', 'tcp-response' or HTTP rule. Read the message with HTTP fetches (req.body, req.hdr(), req.body_len…) or move the rule to a 'mode tcp' proxy.";
    "W281" "external-check-without-fork" Warning Haproxy "A proxy runs 'option external-check' while the global section lacks 'insecure-fork-wanted'."
        "Starting a program from HAProxy means forking, which HAProxy forbids unless 'insecure-fork-wanted' is in the global section; without it the check will likely fail at run time. Add 'insecure-fork-wanted' to the global section.";
    "E269" "invalid-http-reply" Error Haproxy "A 'return', 'deny' or 'tarpit' rule's reply has a status, payload or content type HAProxy refuses."
        "HAProxy reads a reply's words when it reads the rule and stops on: a status outside 200-599; two payloads ('string', 'file', 'lf-string', 'lf-file', 'errorfile', 'errorfiles', 'default-errorfiles'); a non-empty payload without 'content-type'; a payload on a 204 or 304; and, when the page comes from error files ('deny_status <code>' alone, 'errorfiles', 'default-errorfiles'), a status it has no page for (only 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504). Give such a status its own payload: 'deny deny_status 451 content-type text/plain string \"unavailable\"'.";

    // ---- E4xx / W4xx: environment ----
    "E410" "invalid-spoe-config" Error Haproxy "The SPOE configuration file a 'filter spoe' line names cannot be read, holds an error, or does not fit the proxy."
        "HAProxy reads the file while it reads the 'filter spoe' line: one 'spoe-agent' section (its 'use-backend', 'messages', 'groups', 'timeout', 'option' lines), 'spoe-message' sections ('args', 'acl', 'event') and 'spoe-group' sections ('messages'); '[name]' lines keep the lines after them for the filter whose 'engine' is that name. The agent's backend must exist and be in TCP mode, and each 'send-spoe-group <engine> <group>' rule must name an engine of its proxy and a group of that engine's agent. A message's arguments must be available where it is sent: at its event (a request header is not there on 'on-client-session' or 'on-tcp-response'), or at the rule that sends its group.";
    "E412" "invalid-crt-list-line" Error Haproxy "A line of a 'crt-list' file is malformed (brackets, its first word), has an option a crt-list line does not take or a bad option value, or the file's last line lacks its line feed."
        "HAProxy reads each crt-list line while it reads the bind line: the certificate path first (a line whose first character is '#' is a comment, a '#' later is a word), then its options between '[' and ']' (allow-0rtt, alpn, ca-file, ca-verify-file, ciphers, ciphersuites, crl-file, curves, ecdhe, no-ca-names, npn, ssl-min-ver, ssl-max-ver, verify, each with its value inside the brackets), then the server names it is served for ('!name' excludes one, '*.domain' covers one label). Every line, the last one too, must end with a line feed.";
    "W411" "spoe-missing-timeouts" Warning Haproxy "An SPOE agent lacks one of 'timeout hello', 'timeout idle' and 'timeout processing'."
        "Without them a stream may wait for an agent forever (no 'timeout processing'), and connections to the agent are never closed while idle. Set all three in the 'spoe-agent' section, e.g. 'timeout hello 2s', 'timeout idle 2m', 'timeout processing 500ms'.";
    "W412" "spoe-agent-without-messages" Warning Haproxy "An SPOE agent lists no message and no group: it never sends anything."
        "HAProxy warns when the 'spoe-agent' section has neither a 'messages' nor a 'groups' line, and the filter then does nothing. List the 'spoe-message' sections it sends on events ('messages m1 m2') or the 'spoe-group' sections that 'send-spoe-group' rules send ('groups g1').";
    "W413" "spoe-message-ignored" Warning Haproxy "An SPOE message the agent lists is left out: it has no 'event', or its event is a frontend one and the filter is in a backend."
        "HAProxy sends the messages an agent lists on their 'event'. A listed message without 'event' is never sent (send it from a 'spoe-group' instead), and one on 'on-client-session', 'on-frontend-tcp-request' or 'on-frontend-http-request' cannot be sent by a filter in a backend section (use the 'on-backend-…' events there).";
    "E401" "lua-load-file-missing" Error Haproxy "'lua-load' or 'lua-load-per-thread' has no file name."
        "Write 'lua-load <file> [arguments...]'; the arguments reach the script through 'table.pack(...)'.";
    "E402" "file-problem" Error Haproxy "A file named by the configuration is missing or does not hold what it should."
        "Certificates must be PEM files with their private key (in the file or in '<file>.key'), CA and CRL files PEM blocks, error files complete HTTP/1 responses, an 'h1-case-adjust-file' '<from> <to>' pairs that differ only in case, pattern and Lua files must exist. Paths are relative to crt-base/ca-base, else to the working directory. Use --no-env to check a configuration away from its machine.";
    "E403" "unresolvable-server-address" Error Haproxy "A server's host name does not resolve and its 'init-addr' methods allow no fallback."
        "HAProxy resolves server names with the system resolver when it starts, and '-c' does too. Fix the name, make it resolvable on this machine, or let the server start without an address: 'init-addr last,libc,none' (it starts in maintenance) or 'resolvers <section>' for run-time DNS.";
    "W404" "server-address-fallback" Warning Haproxy "A server's host name does not resolve; it starts disabled or on its fallback address."
        "The 'init-addr' list ends in 'none' (or the server has 'resolvers'), so HAProxy starts with the server in maintenance, or with the fixed address given in 'init-addr'. Check that the name is right on the production machine.";
    "W405" "server-state-file-unreadable" Warning Haproxy "The global 'server-state-file' cannot be opened, or its first line is not a version HAProxy reads."
        "HAProxy loads the file at start-up to give servers the state they had before a reload; without it they start from the configuration alone, which the check only warns about. The file is written from the stats socket ('show servers state'); create it, or remove the setting where no state is kept.";
    "E405" "unresolvable-address" Error Haproxy "A 'log' target, a 'bind' address or a resolvers 'nameserver' is a host name that does not resolve."
        "HAProxy resolves these names while it reads the line, with the system resolver. Use an IP address, a name this machine resolves, or a local target such as 'stdout' or a unix socket.";
    "E406" "unknown-account" Error Haproxy "The global 'user' or 'group', or a 'stats socket' 'user'/'group', names an account this machine does not have."
        "HAProxy looks the names up (getpwnam/getgrnam) while it reads the line and drops privileges to them at start-up. Create the account, fix the name, or use 'uid'/'gid' with numbers.";
    "E407" "chroot-not-a-directory" Error Haproxy "The global 'chroot' names no directory on this machine."
        "HAProxy changes its root to this directory when it starts and stops with 'Cannot chroot(...)' when it cannot. 'haproxy -c' does not look, so this is reported by 'hapee-lb check' only (not by the HAProxy-compatible '-c'). Create the directory, fix the path, or use --no-env to check the configuration away from its machine.";

    "E408" "fd-limit-unreachable" Error Haproxy "The open-file limit the configuration asks for ('ulimit-n') or needs (its global 'maxconn') cannot be had on this machine."
        "HAProxy reserves two files per connection of the global 'maxconn', one per listener, check and pipe, and a few per thread, and raises its open-file limit (RLIMIT_NOFILE) to that sum, or to 'ulimit-n' when set. Under 'strict-limits' (the default) it stops with 'Cannot raise FD limit to N' when the system refuses, or with 'FD limit (N) too low for maxconn=...' when the limit it has stays below the sum. 'haproxy -c' does not look, so this is reported by 'hapee-lb check' only. Lower 'maxconn', raise the hard limit (ulimit -Hn, LimitNOFILE= in a systemd unit), or use --no-env to check the configuration away from its machine.";

    "E409" "unix-socket-folder-missing" Error Haproxy "A 'stats socket' or 'bind' UNIX socket path is in a folder this machine does not have."
        "HAProxy makes the socket file when it binds, at start-up, and stops with 'cannot bind UNIX socket (No such file or directory)' when its folder is missing. 'haproxy -c' does not look, so this is reported by 'hapee-lb check' only. Create the folder (often /run/haproxy, made by the service), fix the path, or use --no-env to check the configuration away from its machine.";

    "E413" "program-not-executable" Error Haproxy "In master-worker mode, the 'command' of a 'program' section names nothing this machine can execute."
        "HAProxy's master forks each program at start-up and the child executes its command as execvp does (a name without '/' is looked up in PATH). When that fails the child says 'Cannot execute <command>: <reason>' and exits with 1, and the master stops every process (exit-on-failure; 'master-worker no-exit-on-failure' does not prevent it in 2.7). 'haproxy -c' does not look, so this is reported by 'hapee-lb check' only. Install the program, fix its path, or use --no-env to check the configuration away from its machine.";

    // ---- E5xx / W5xx: expressions ----
    "E501" "invalid-acl-declaration" Error Haproxy "An 'acl' line has no name, an invalid name, or no criterion."
        "Write 'acl <name> <criterion> [flags] [patterns]'. Names use letters, digits, '-', '_', '.' and ':'.";
    "E502" "invalid-acl-criterion" Error Haproxy "The criterion of an ACL is not a valid sample expression."
        "The criterion is an ACL keyword (path_beg, hdr_sub(host), src...) or a sample fetch with optional converters. The message says which fetch, converter or argument is wrong.";
    "E503" "invalid-condition-syntax" Error Haproxy "An 'if'/'unless' condition does not parse."
        "Conditions are ACL names, '!' to negate, '||' or 'or' between alternatives, and '{ ... }' for inline ACLs; terms written side by side must all match.";
    "E504" "undefined-acl" Error Haproxy "A condition uses an ACL that is not declared (yet) in this section."
        "ACLs must be declared in the same section before the rules that use them; built-in ACLs such as TRUE, HTTP or METH_GET need no declaration.";
    "E505" "invalid-log-format" Error Haproxy "A log-format string has an unknown alias, an unterminated '%[' or a bad expression."
        "Aliases are written %ci, %{+Q}r and so on; expressions %[fetch,converter]. Write '%%' for a literal percent sign.";
    "E506" "invalid-sample-expression" Error Haproxy "A sample expression argument does not parse."
        "Check the fetch and converter names, their arguments, and that each converter accepts the previous output type.";
    "E507" "unresolved-expression-reference" Error Haproxy "An expression names a server, backend, table or userlist that does not exist."
        "Arguments naming objects are resolved after the whole file is read. In a defaults section a server must be written 'backend/server'.";
    "E508" "invalid-acl-option" Error Haproxy "A word starting with '-' before an ACL's patterns is not a valid option, or an option is misused."
        "The options are -i (ignore case), -n (no DNS), -u <id>, -f <file>, -m <method> (before any -f), -M (file is a map) and -- (end of options). A pattern that starts with '-' must come after '--'.";
    "E509" "fetch-not-available-here" Error Haproxy "A sample fetch (in a log-format string, a rule's expression or a global set-var) needs information that does not exist where it is evaluated."
        "Each fetch reads something (request headers, the request buffer, response headers...) that exists only at some points of a transaction. A log line is written when the transaction ends, when request headers and buffers are gone: log a captured header ('capture.req.hdr(<n>)') or a 'txn' variable set while the request was there. A string of an 'http-request' rule cannot read the response, and one of an 'http-response' rule cannot read request headers.";
    "E510" "acl-match-method-required" Error Haproxy "An ACL's expression gives a sample whose type has no default match method, and no '-m' names one."
        "Without '-m', an ACL matches strings as strings, integers as integers and addresses as addresses. A variable ('var(...)'), binary data (req.payload, req.body, ssl_c_serial...) or a converter whose output type is only known at run time (json_query) has no such default: write the method, for example 'acl a var(txn.x) -m str foo' or '-m found' to test that the sample exists.";
    "E511" "http-alias-outside-http-mode" Error Haproxy "A log-format string of a proxy that is not in 'mode http' uses an alias that only exists in HTTP mode."
        "Aliases such as %r, %HM, %HP, %HU, %HQ, %HV, %CC, %CS, %Ta, %Ti, %Tq, %Tr, %TR and %tr read the HTTP transaction, which a TCP proxy does not have. HAProxy compiles the strings with the proxy's final mode (a defaults section's strings with the mode of each proxy that inherits them). Remove the alias, or set 'mode http'.";
    "E512" "variable-name-refused" Error Haproxy "A 'set-var', 'set-var-fmt' or 'unset-var' action names a variable without its scope, with a character HAProxy refuses, or with a condition it does not know."
        "A variable name is its scope ('proc', 'sess', 'txn', 'req', 'res' or 'check'), a dot, then letters, digits, '_' or '.': 'http-request set-var(txn.user) req.hdr(x-user)'. 'set-var' and 'set-var-fmt' may list conditions after the name (ifexists, ifnotexists, ifempty, ifnotempty, ifset, ifnotset, ifgt, iflt); 'unset-var' takes none. HAProxy reads the name when it reads the rule and refuses the configuration otherwise; the 'var' fetch and the converters that take a variable check theirs the same way (reported as E506).";
    "E513" "global-set-var-refused" Error Haproxy "A global 'set-var' or 'set-var-fmt' line lacks its variable name or its value, or names a variable outside the 'proc' scope."
        "The global section sets process-wide variables once, before any connection exists: 'set-var proc.<name> <expression>' or 'set-var-fmt proc.<name> <format>'. There is no session, transaction or check then, so only the 'proc' scope can be set. The value is one word (quote it when it holds spaces); HAProxy refuses the configuration otherwise.";
    "E515" "gpt-expression-in-connection-rule" Error Haproxy "A 'tcp-request connection sc-set-gpt0' or 'sc-set-gpt' rule sets the tag from a sample expression, which HAProxy 2.7 refuses there."
        "HAProxy 2.7 accepts these actions in connection rules with an integer value only: given an expression, it reads it and then refuses the line with an internal error, as it has no place for the expression to run that early. Write an integer, or set the tag in a 'tcp-request session' or 'tcp-request content' rule, where the expression is evaluated.";
    "E516" "stick-table-counter-overlap" Error Haproxy "A stick-table stores an array counter ('gpt', 'gpc', 'gpc_rate') and a numbered one it replaces ('gpt0', 'gpc0'/'gpc1', 'gpc0_rate'/'gpc1_rate')."
        "Since 2.5 the array counters hold what the numbered ones held: 'gpt0' is 'gpt' at index 0, 'gpc0' and 'gpc1' are 'gpc' at 0 and 1. HAProxy refuses a table that stores both forms. Keep the array form and name the index in the actions and fetches ('sc-set-gpt(0,0)', 'sc_get_gpt(0,0)'), or keep the numbered counters alone.";
    "E517" "stick-table-store-refused" Error Haproxy "A stick-table's 'store' list names a data type HAProxy does not know, leaves a parenthesis open, or gives a type arguments it does not take: an array ('gpt', 'gpc', 'gpc_rate') needs its size from 1 to 100, a rate ('*_rate') its period, the others none."
        "Each entry of a 'store' list is a data type, with its arguments in parentheses: 'store gpc(3),gpc_rate(3,10s),http_req_rate(10s),conn_cnt'. HAProxy reads the list when it reads the line and refuses the configuration at the first entry it cannot take.";
    "E518" "stick-table-invalid" Error Haproxy "A 'stick-table' line (or a peers section's 'table' line) has a word HAProxy does not know, a setting without its value or with one it refuses, or no size or type."
        "The line takes 'type ip|ipv6|integer' or 'type string|binary [len <n>]' (n at least 1), 'size <n>[k|m|g]' (required, not 0), 'expire <time>' (milliseconds by default, below 2^31 ms, about 24.8 days), 'nopurge', 'peers <section>' (not on a peers section's own 'table' line), 'store <list>' and 'srvkey name|addr'. HAProxy refuses the configuration at the first word it cannot take.";
    "E519" "stick-table-peers-not-found" Error Haproxy "A stick-table's 'peers' names a peers section that does not exist."
        "Declare a 'peers' section with this name (its local peer named after this host or -L), or remove 'peers <name>' to keep the table local.";
    "E520" "invalid-redirect" Error Haproxy "A redirect rule ('redirect', 'http-request redirect', 'http-response redirect') has a word HAProxy does not know, a word without its value, a code HAProxy does not redirect with, or no type."
        "A redirect needs its type and target: 'location <url>', 'prefix <path>' or 'scheme <scheme>' ('http-response redirect' takes 'location' only), then optionally 'code 301|302|303|307|308', 'set-cookie <name>[=<value>]', 'clear-cookie <name>[=]', 'drop-query', 'append-slash', 'ignore-empty' and a condition.";
    "E521" "invalid-source-words" Error Haproxy "A proxy's 'source' line has no address, a 'usesrc' or 'interface' without its value, or a word HAProxy does not know."
        "Write 'source <address>[:<port>]', optionally followed by 'usesrc <address>|client|clientip|hdr_ip(<header>[,<occurrence>])' and 'interface <name>'.";
    "E522" "invalid-rate-limit" Error Haproxy "A 'rate-limit' line names a limit other than 'sessions' or gives no number, or one with other characters."
        "The only limit is 'rate-limit sessions <n>', new sessions per second accepted by a frontend (a number in decimal, or hexadecimal after 0x).";
    "W522" "rate-limit-without-frontend" Warning Haproxy "'rate-limit sessions' is set in a backend, which accepts no sessions: HAProxy ignores it."
        "Set the limit in the frontend or listen section that accepts the connections.";
    "E523" "invalid-proxy-id" Error Haproxy "A proxy's 'id' is missing or not above 0."
        "Proxy ids (shown in the stats as 'iid') must be unique positive numbers; leave 'id' out to let HAProxy number the proxy itself.";
    "E524" "invalid-section-header" Error Haproxy "The header of a peers, mailers, resolvers, log-forward, ring, cache, http-errors, userlist, program or fcgi-app section has no name, a character HAProxy refuses in it, or words after it."
        "These sections take one name, written with letters, digits, '.', '-', '_' and ':' (a cache or program section takes any characters), and nothing after it (mailers, resolvers, ring and http-errors sections ignore further words). Several of these errors stop HAProxy from reading further; the lines of a ring whose header was refused are refused too.";
    "E525" "duplicate-section-name" Error Haproxy "A peers, mailers, resolvers, log-forward, ring, cache, http-errors, program or fcgi-app section takes a name an earlier section of its kind has (a log-forward section also a proxy's)."
        "Give each section of a kind its own name. A ring may not take the name of one of HAProxy's own sinks either ('stdout', 'stderr', 'buf0'), a cache name is compared on its first 32 characters with the caches that had a size, and log-forward sections share their names with frontends, backends and listen sections.";
    "W525" "duplicate-userlist" Warning Haproxy "A userlist section takes the name of an earlier one; HAProxy ignores its header."
        "The lines after the second header are added to the userlist read last. Rename the section or merge the two.";
    "W526" "cache-name-truncated" Warning Haproxy "A cache section's name is longer than 32 bytes; HAProxy keeps its first 32."
        "Filters and 'http-request cache-use' lines name the cache by the shortened name, and two caches whose names start with the same 32 bytes clash. Use a shorter name.";
    "E526" "duplicate-id" Error Haproxy "An 'id' already given to another proxy, to another server of the proxy, or to another listener of the proxy; or a bind 'id' on a line that makes several listeners."
        "Proxy ids are unique among all proxies, server ids among a proxy's servers, listener ids among a proxy's bind lines; each is compared with the ids set on the lines before it. A bind line with several addresses or a port range makes one listener per socket, and one id cannot number them all.";
    "E527" "track-target-not-found" Error Haproxy "A server's 'track' names a proxy or a server that does not exist."
        "'track [<proxy>/]<server>' names the server whose health this one follows: without a proxy, a server of the same backend; with one, a server of that backend or listen section (the text after the last '/' is the server's name). A server-template's servers are named by its prefix and their number.";
    "E528" "track-target-unchecked" Error Haproxy "A server tracks one that has no health check, no agent check and no 'track' of its own: there is no state to follow."
        "Give the tracked server 'check' (or 'agent-check'), on its line or on a 'default-server' line before it, or track a server that is checked.";
    "E529" "track-loop" Error Haproxy "A server's 'track' closes a chain of tracking servers back onto itself."
        "Links are made server after server in the order the proxies and their lines are written; the one that would close the loop is refused. One server of every chain must run a check of its own.";
    "E530" "track-disable-on-404-mismatch" Error Haproxy "A server tracks a server of another proxy, and only one of the two proxies has 'http-check disable-on-404'."
        "A tracking server shares the tracked one's state, stopping included: both proxies must agree on whether a 404 answer to the check stops the server. Set 'http-check disable-on-404' in both or in neither (a proxy whose check is 'option tcp-check' or another non-HTTP check drops the setting).";
    "E531" "check-and-track" Error Haproxy "A server both runs health checks ('check') and tracks another server ('track')."
        "A tracking server takes its state from the server it tracks and runs no check of its own. Remove 'check' (or write 'no-check' after a 'default-server check'), or remove 'track'.";
    "E532" "agent-without-port" Error Haproxy "A server has 'agent-check' but no agent port."
        "The agent is reached on 'agent-port', given on the server's line or on a 'default-server' line before it; port 0 is no port. 'agent-addr' sets only the address.";
    "E533" "server-redirect-outside-http-mode" Error Haproxy "A server of a proxy that is not in 'mode http' has a redirect prefix ('redir')."
        "A redirect answers an HTTP request, which a TCP proxy never reads. Remove 'redir' from the server, or set 'mode http'.";
    "E535" "transparent-with-balance" Error Haproxy "A backend both balances between its servers ('balance', its own or its defaults section's) and sends each connection where it was going ('option transparent')."
        "With 'option transparent' the destination is the address the client connected to, so there is nothing to balance. Remove the 'balance' line (or the defaults section's), or 'option transparent'.";
    "W535" "dispatch-with-balance" Warning Haproxy "A backend has a 'dispatch' address and balances between servers; the dispatch address is never used."
        "'dispatch' is for backends without balancing. Remove it, or the 'balance' line.";
    "W536" "tcp-check-rules-unused" Warning Haproxy "A proxy has 'tcp-check' rules that its health check never uses because it is not 'option tcp-check'."
        "HAProxy keeps a proxy's 'tcp-check' rules aside while its check is something else and hands them to an 'option tcp-check' read after them; any other check option read after them drops them, and so does none at all. Add 'option tcp-check' to the proxy (or its defaults section) to run them, or remove them.";
    "E534" "invalid-persist" Error Haproxy "'persist' names a method other than 'rdp-cookie', or 'rdp-cookie(' without a cookie name."
        "The only persistence method is 'persist rdp-cookie' (the cookie 'msts') or 'persist rdp-cookie(<name>)'.";
    "E536" "invalid-mailers-timeout" Error Haproxy "A mailers section's 'timeout' is not 'timeout mail <time>'."
        "Mailers sections have one timeout, the time a mail may take to be sent: 'timeout mail 10s'. Its time is read as other times are (E210).";
    "E537" "peers-peer-and-bind" Error Haproxy "A peers section mixes 'peer' lines with 'bind' lines."
        "A peers section lists every peer, the local one included, with 'peer <name> <address>' lines; or it binds the local peer with a 'bind' line and lists the others (and the local one's settings) with 'server' lines. The two ways cannot be mixed in one section.";
    "W537" "cookie-domain-without-dot" Warning Haproxy "A 'cookie … domain' value has no dot; browsers may refuse such a domain (RFC 6265, 5.2.3)."
        "Write the domain with its dots ('.example.com', 'example.com'); a single label such as 'localhost' may not be accepted by clients.";
    "W538" "duplicate-userlist-entry" Warning Haproxy "A userlist declares a user or a group a second time; HAProxy keeps the first and ignores the line."
        "Each user and each group of a userlist has one line. Merge the two lines, or rename one.";
    "E538" "invalid-proxy-arguments" Error Haproxy "The words after a proxy keyword are not the ones it takes: 'option forwardfor'/'originalto' ('except <network>', 'header <name>', 'if-none'), 'option http-restrict-req-hdr-names' ('preserve', 'reject' or 'delete'), 'capture' ('cookie <name> len <n>', 'request|response header <name> len <n>'), 'email-alert' (from, mailers, myhostname, to, level <syslog level>)."
        "HAProxy refuses the line and names what it expected. An 'except' network is an IPv4 address with an optional '/bits' or dotted mask, an IPv6 address with an optional '/bits', or a host name it resolves.";
    "E539" "invalid-global-value" Error Haproxy "A global setting's value is out of its range or not one HAProxy takes: 'tune.idletimer' (0 to 65535 ms), 'tune.comp.maxlevel' (1 to 9), 'tune.http.maxhdr' (1 to 32767), 'spread-checks' (0 to 50), 'ssl-server-verify' (none or required), a 'node' name, 'unix-bind' options, or a 'description', 'log-tag', 'setenv', 'presetenv', 'unsetenv' or 'localpeer' without what it needs."
        "HAProxy refuses the line with its own message for each. A node name is made of letters, digits, '.', '-' and '_'; 'setenv' and 'presetenv' take a name and a value; 'unix-bind' takes 'prefix <path>', 'mode', 'uid', 'gid', 'user' and 'group'.";
    "W539" "localpeer-after-peers" Warning Haproxy "'localpeer' is written after a peers section was read; HAProxy ignores it."
        "The local peer name decides which peer of each peers section is this process, so it must be known before the first peers section: move 'localpeer' to a global section written before them (or start with '-L <name>').";
    "W540" "default-server-option-refused" Warning Haproxy "A 'default-server' line has an option only a server line takes ('id', and the deprecated 'no-sslv3', 'no-tlsv10', 'no-tlsv11', 'no-tlsv12', 'no-tlsv13'); HAProxy says so at the alert level and ignores the option."
        "A server's 'id' names one server and cannot be a default for all; the old TLS version switches are refused there too ('ssl-min-ver'/'ssl-max-ver' are accepted on 'default-server'). Write the option on the server lines that need it. The configuration stays valid: HAProxy only skips the option and its value.";
    "W541" "server-state-file-unset" Warning Haproxy "A backend loads its servers' state from the global 'server-state-file', which the global section does not set."
        "'load-server-state-from-file global' reads the file named by the global 'server-state-file' (under 'server-state-base'); without it nothing is loaded at start. Set it, or use 'local' with 'server-state-file-name', or 'none'.";
    "E540" "invalid-server-option-value" Error Haproxy "A server option's value is one HAProxy refuses: a check interval of 0 or with a stray character, 'rise'/'fall'/'error-limit' below 1, a 'weight' outside 0–256, an unknown 'observe', 'on-error', 'resolve-prefer', 'init-addr', 'ws', 'log-proto', 'verify', TLS version or PROXY v2 option."
        "HAProxy stops reading the server line at the refused value. Intervals are times in milliseconds by default ('2s', '500ms'); 'observe' takes none, layer4 or layer7; 'on-error' fastinter, fail-check, sudden-death or mark-down; 'init-addr' a comma list of libc, last, none and addresses; TLS versions are SSLv3 and TLSv1.0 to TLSv1.3.";
    "W517" "stick-table-store-repeated" Warning Haproxy "A stick-table's 'store' lists name the same data type twice; HAProxy keeps the first and ignores the repeat."
        "Name each data type once on the line; a repeat's arguments (another period, another array size) are not used.";
    "W514" "acl-without-patterns" Warning Haproxy "An ACL names a criterion that does not give a boolean and no pattern after it, so it never matches."
        "An ACL compares its sample with the patterns written after the criterion; with none, an integer, string or address never matches ('acl half rand(50)' is always false). Write the patterns, '-m found' to test only that the sample exists, '-m bool' to read an integer as true when it is not zero, or '--' after the criterion to say that never matching is meant. The warning is given for named and for anonymous '{ }' ACLs.";

    // ---- L: lints ----
    "L001" "unused-backend" Warning Lint "A backend is never used by any frontend or listen section."
        "No use_backend or default_backend points at it (and nothing tracks it), so it receives no traffic. Either it is left over and can go, or a switching rule misspells its name.";
    "L002" "unused-acl" Warning Lint "An ACL is declared but no condition of its section uses it."
        "Unused ACLs cost nothing at run time but usually reveal a rule that was meant to use them, or a typo in a condition.";
    "L003" "unreachable-rule" Warning Lint "A rule comes after an unconditional rule that always stops evaluation."
        "An http-request/http-response/tcp rule list stops at the first final action (deny, return, redirect, tarpit, reject, allow...). Once one of them has no condition, nothing after it in the same list ever runs.";
    "L004" "shadowed-use-backend" Warning Lint "A use_backend rule can never be taken."
        "use_backend rules are tried in order and the first match wins: a rule after an unconditional one, or after one with the very same condition, is dead.";
    "L005" "duplicate-bind" Warning Lint "Two listeners bind the same address and port."
        "With SO_REUSEPORT both sockets accept connections and the kernel spreads them, so traffic silently reaches two different frontends. Usually one of them is a copy-paste leftover.";
    "L006" "duplicate-server-address" Warning Lint "Two servers of one backend have the same address."
        "The same server listed twice gets twice its share of traffic and its failures count twice; often one line should point elsewhere.";
    "L007" "httpchk-without-check" Warning Lint "The backend configures HTTP health checks but a server is not checked."
        "'option httpchk' only applies to servers with 'check'. Without it, a dead server keeps receiving traffic.";
    "L008" "host-case-sensitive" Warning Lint "The Host header is matched case-sensitively."
        "Host names are case-insensitive and clients may send 'Example.COM'. Add '-i' to the ACL so the match ignores case.";
    "L009" "host-with-port" Warning Lint "The Host header is matched exactly although it may carry a port."
        "Clients send 'Host: example.com:8080' on non-default ports. HAProxy 2.7's 'host_only' converter strips the port: match 'req.hdr(host),host_only' instead.";
    "L010" "http-option-in-tcp-mode" Warning Lint "An HTTP-only option is set on a proxy running in TCP mode."
        "Options such as http-server-close, httpclose or http-keep-alive need 'mode http'; in TCP mode they are ignored. The HTTP-only options HAProxy itself warns about (forwardfor, originalto, a frontend's httplog…) are left to its warnings (W257, W259).";
    "L011" "stats-without-auth" Warning Lint "The statistics page has no authentication."
        "Anyone reaching the page sees server names, addresses and traffic, and with 'stats admin' can change server states. Add 'stats auth', an 'http-request auth' rule, or 'stats http-request auth' or 'deny' rules: 'stats http-request allow' rules alone let every other client in too.";
    "L012" "retry-on-without-retries" Warning Lint "'retry-on' is set while retries are disabled."
        "With 'retries 0' no request is ever retried, whatever 'retry-on' says.";
    "L013" "reuse-without-retry-on" Warning Lint "Idle-connection reuse for first requests without the retries that make it safe."
        "With 'http-reuse aggressive' or 'always', HAProxy 2.7 may send a client's first request over an idle server connection that the server is closing at that very moment. 'retry-on conn-failure empty-response response-timeout' makes HAProxy retry such requests instead of returning an error.";
    "L014" "nbthread-above-cpus" Warning Lint "More threads than CPUs."
        "Extra threads compete for the same CPUs and add latency; leave 'nbthread' unset to use one thread per CPU.";
    "L015" "no-global-maxconn" Warning Lint "The global section sets no 'maxconn'."
        "Without it the limit derives from the file descriptor limit, which is often far higher than what the machine can serve; set it explicitly.";
    "L016" "ring-not-found" Warning Lint "A 'log ring@<name>' target names no ring."
        "HAProxy resolves ring names only when it starts, after the checks that '-c' runs: 'haproxy -c' calls such a configuration valid, and then HAProxy refuses to start. Declare the ring with a 'ring <name>' section, or use the built-in 'buf0'; 'stdout' and 'stderr' are not rings (write 'log stdout' instead).";
    "L018" "duplicate-rule" Warning Lint "A rule repeats an earlier identical rule of the same list."
        "The second copy either never runs or does the same work twice; remove it.";
    "L020" "quic-alpn-without-h3" Warning Lint "A QUIC bind line's ALPN list lacks 'h3', so HTTP/3 clients fail the handshake."
        "Clients offer 'h3' during the QUIC handshake and give up when the server selects nothing. Write 'alpn h3' on QUIC bind lines (or leave 'alpn' out).";
    "L021" "quic-random-secret" Warning Lint "QUIC listeners without 'cluster-secret' key their Retry tokens and stateless resets at random at each start."
        "After a reload or on another node of the cluster, tokens and resets made with the old key are not recognised: clients that were sent a Retry fail their handshake, and stateless resets are ignored. Set the same 'cluster-secret' everywhere.";
    "L022" "skipped-after-carriage-return" Warning Lint "A line holds text after a carriage return that ends no line, which HAProxy skips."
        "HAProxy ends its lines at line feeds and reads each one only up to its first carriage return: in a file with old Mac line endings (a carriage return alone), all but the start of each run of such lines is skipped without a word, while editors show every part as a line of its own. End the lines with '\\n' or '\\r\\n'.";
    "L023" "unknown-lint-code" Warning Lint "A '# hapee: allow(…)' comment or '.hapee.toml' names a code no rule has, or an error no setting can silence."
        "A lint setting that names no rule silences nothing, so the warning it was written for stays. Each code or rule name of an allow comment and of the allow, warn and deny lists of '.hapee.toml' is looked up; a mistyped one is reported with the code or name it most likely meant (a code written without its zeros, 'L2' for 'L002', or one letter off). An error HAProxy also makes (most E codes) cannot be allowed either: the configuration would still fail to start. Only 'allow(…)' is read in a 'hapee:' comment. 'hapee-lb explain --list' lists every code and name.";

    // ---- U: runtime support ----
    "U001" "runtime-unsupported" Warning Runtime "The configuration uses something hapee's runtime does not implement yet."
        "The configuration is valid HAProxy, and 'hapee-lb check' accepts it, but 'hapee-lb run' refuses to start rather than silently ignore a directive, option, action, fetch or converter it cannot honour. Each use is listed with its location. Remove or replace it, or run this configuration with HAProxy until the runtime supports it.";
    "U002" "tls-name-unavailable" Warning Runtime "A cipher, TLS 1.3 suite or curve name is one that rustls does not offer."
        "hapee's TLS is rustls, which offers only modern AEAD suites (AES-GCM and ChaCha20-Poly1305 with ECDHE) and the X25519, P-256, P-384 and X25519MLKEM768 groups (and P-521 where a list names it). A name outside those (CBC or RSA key-exchange suites, DHE, CCM, other curves) is left out of the list when 'hapee-lb run' builds the listener, and named here so that the change is visible. Remove it from the list to silence this.";
    "U003" "tls-setting-without-effect" Notice Runtime "A TLS setting has nothing to act on in rustls."
        "rustls has no finite-field Diffie-Hellman key exchange, so 'tune.ssl.default-dh-param' has no effect under 'hapee-lb run'; the setting is accepted and ignored.";
}

/// Looks a rule up by code (`E101`) or name (`unknown-keyword`).
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    // Every diagnostic looks its rule up: an index keeps that O(1) when a lint fires thousands
    // of times; lower-case codes typed by users take the slow path.
    static INDEX: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, &'static Rule>> =
        std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut m = rustc_hash::FxHashMap::default();
        for r in RULES.iter().rev() {
            m.insert(r.name, r);
            m.insert(r.code, r);
        }
        m
    });
    index.get(code_or_name).copied().or_else(|| {
        RULES
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(code_or_name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted_within_each_prefix() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "duplicate code {}", r.code);
            assert!(seen.insert(r.name), "duplicate name {}", r.name);
            assert!(
                !r.summary.is_empty() && !r.explanation.is_empty(),
                "{} lacks docs",
                r.code
            );
        }
    }
}
