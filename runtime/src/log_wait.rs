//! When a frontend's log line can be written: HAProxy's `LW_*` bits, which each field of the
//! proxy's format strings adds, and the points of a stream where the line is complete.
/// What a proxy's log line waits for, as HAProxy's `LW_*` bits: each field of each of the
/// proxy's format strings adds what it needs, and the line is written as soon as nothing it
/// needs is missing (see [`LogWait`]).
pub mod bits {
    pub const INIT: u32 = 1;
    pub const CLIP: u32 = 2;
    pub const SVIP: u32 = 4;
    pub const SVID: u32 = 8;
    pub const REQ: u32 = 16;
    pub const RESP: u32 = 32;
    /// Known only at the end of the stream: bytes, timers, counts, the unique id.
    pub const BYTES: u32 = 256;
    pub const COOKIE: u32 = 512;
    pub const REQHDR: u32 = 1024;
    pub const RSPHDR: u32 = 2048;
    pub const BCKIP: u32 = 4096;
    pub const FRTIP: u32 = 8192;
    pub const XPRT: u32 = 16384;

    /// What alias `%name` waits for (HAProxy 2.7's table).
    pub fn of_alias(name: &str) -> u32 {
        match name {
            "B" | "ID" | "Ta" | "Tc" | "Th" | "Ti" | "Tq" | "Tr" | "TR" | "Td" | "Tt" | "Tu"
            | "Tw" | "U" | "ac" | "bc" | "bq" | "fc" | "rc" | "sc" | "sq" | "ts" => BYTES,
            "CC" | "hr" | "hrl" => REQHDR,
            "CS" | "hs" | "hsl" => RSPHDR,
            "ST" => RESP,
            "HM" | "HP" | "HPO" | "HQ" | "HU" | "HV" | "r" | "rt" => REQ,
            "bi" | "bp" => BCKIP,
            "ci" | "cp" => CLIP | XPRT,
            "fi" | "fp" => FRTIP | XPRT,
            "s" => SVID,
            "si" | "sp" => SVIP,
            "sslc" | "sslv" => XPRT,
            _ => INIT,
        }
    }

    /// What format `text` adds (see [`of_items`]); a string that does not parse adds `INIT`.
    pub fn of_format(text: &str) -> u32 {
        hapee_compiler::expr::logformat::parse(text).map_or(INIT, |f| of_items(&f.items))
    }

    /// What a parsed format adds: each alias's bits, every expression the transport's
    /// (HAProxy sets that bit for any sample), an expression of an HTTP fetch the request's
    /// too (HAProxy marks the proxy as needing HTTP, and then keeps the request line for any
    /// sample: log.c's "temporary workaround"), and `INIT` for the string itself.
    pub fn of_items(items: &[hapee_compiler::expr::logformat::Item]) -> u32 {
        use hapee_compiler::expr::logformat::Item;
        items.iter().fold(INIT, |bits, item| match item {
            Item::Alias { name, .. } if name == "o" => bits,
            Item::Alias { name, .. } => bits | of_alias(name),
            Item::Expr { expr, .. } if http_fetch(&expr.fetch.name) => bits | XPRT | REQ,
            Item::Expr { .. } => bits | XPRT,
            Item::Text(_) => bits,
        })
    }

    /// What one of a proxy's own log formats adds (log-format, its structured data, the
    /// error and unique-id formats): HAProxy reads these once the proxy is known to be an
    /// HTTP one, so in an HTTP proxy any sample there keeps the request line.
    pub fn of_log_format(text: &str, http: bool) -> u32 {
        use hapee_compiler::expr::logformat::Item;
        let Ok(format) = hapee_compiler::expr::logformat::parse(text) else {
            return INIT;
        };
        let sample = format.items.iter().any(|i| matches!(i, Item::Expr { .. }));
        of_items(&format.items) | if http && sample { REQ } else { 0 }
    }

    /// Whether a fetch reads the HTTP request or response; a script's fetch (`lua.<name>`)
    /// counts as one, as HAProxy registers them as using any HTTP source.
    fn http_fetch(name: &str) -> bool {
        use hapee_compiler::registry::FetchScope;
        name.starts_with("lua.")
            || hapee_compiler::registry::fetch(name)
                .is_some_and(|d| matches!(d.scope, FetchScope::L7Request | FetchScope::L7Response))
    }
}

thread_local! {
    /// What the proxy being built waits for so far, while [`collect`] runs.
    static NOTED: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// Runs `build` (the compiling of a proxy's rules) and answers what every format string
/// parsed in it, and every [`note`], adds to what the proxy's log line waits for: HAProxy
/// gathers these bits from the strings of all its rules (`set-header`, `set-var-fmt`,
/// `return` bodies, dynamic `use_backend`…), not only from its log formats.
pub fn collect<T>(build: impl FnOnce() -> T) -> (T, u32) {
    let outer = NOTED.with(|n| n.replace(Some(0)));
    let out = build();
    let bits = NOTED.with(|n| n.replace(outer)).unwrap_or(0);
    (out, bits)
}

/// Adds `bits` to what the proxy being built waits for (nothing outside [`collect`]).
pub fn note(bits: u32) {
    NOTED.with(|n| {
        if let Some(b) = n.get() {
            n.set(Some(b | bits));
        }
    });
}

/// When a frontend's log line can be written, from what its format strings wait for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogWait {
    /// No field needs the end of the stream (or `option logasap` says not to wait for it):
    /// the line is written at a server's response head (TCP: once the server is connected).
    pub at_response: bool,
    /// HTTP: every field is known once the request is (only request and start fields): the
    /// line is written at the request too, and at the end only when no response head was.
    pub at_request: bool,
    /// HTTP: a field of a format string (the log's, or a rule's sample under HAProxy's
    /// workaround) needs the request line, which is then kept for `capture.req.*`, log
    /// targets or not.
    pub request_line: bool,
}

impl LogWait {
    /// `formats`: all the frontend's format strings (log, structured data, errors, unique
    /// id); `others`: what its rules and captures add ([`collect`]); `has_log_format`: it logs
    /// with a format at all.
    pub fn of<'a>(
        formats: impl IntoIterator<Item = &'a str>,
        others: u32,
        has_log_format: bool,
        http: bool,
        logasap: bool,
    ) -> LogWait {
        let mut bits = formats
            .into_iter()
            .fold(others, |b, f| b | bits::of_log_format(f, http));
        if !http {
            // A TCP proxy has no request or response to wait for.
            bits &= !(bits::REQ | bits::RESP);
        }
        if logasap {
            bits &= !bits::BYTES;
        }
        LogWait {
            at_response: has_log_format && bits & bits::BYTES == 0,
            at_request: has_log_format
                && http
                && bits & bits::REQ != 0
                && bits & !(bits::REQ | bits::INIT) == 0,
            request_line: bits & bits::REQ != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LogWait;

    /// When the line is written: (at the response, at the request).
    fn timing(w: LogWait) -> (bool, bool) {
        (w.at_response, w.at_request)
    }

    fn wait(formats: &[&str], http: bool, logasap: bool) -> (bool, bool) {
        timing(LogWait::of(formats.iter().copied(), 0, true, http, logasap))
    }

    #[test]
    fn a_line_waits_for_its_slowest_field() {
        let both = (true, true);
        let response = (true, false);
        let end = (false, false);
        assert_eq!(wait(&["N|%rt|%HP|%t|%b"], true, false), both);
        assert_eq!(wait(&["%HP %ST"], true, false), response);
        assert_eq!(wait(&["%HP %[src]"], true, false), response);
        assert_eq!(wait(&["%HP %ci"], true, false), response);
        assert_eq!(wait(&["%HP %B"], true, false), end);
        // Every string of the proxy counts.
        assert_eq!(wait(&["%HP", "%ID-%rc"], true, false), end);
        // `option logasap` leaves the end out: here, all is known at the request.
        assert_eq!(wait(&["%HP %B"], true, true), both);
        assert_eq!(wait(&["%ci %B"], true, true), response);
        // TCP has no request to wait for.
        assert_eq!(wait(&["%rt %f"], false, false), response);
        assert_eq!(wait(&["%rt %Tt"], false, false), end);
        // No format, no early line.
        assert_eq!(timing(LogWait::of([], 0, false, true, true)), end);
        // What the rules add counts as the formats' own fields.
        let rules = super::bits::of_format("%B");
        assert_eq!(timing(LogWait::of(["%HP"], rules, true, true, false)), end);
        assert_eq!(
            timing(LogWait::of(["%HP"], super::bits::REQHDR, true, true, false)),
            response
        );
    }

    #[test]
    fn the_request_line_is_kept_for_fields_and_http_samples() {
        let line = |formats: &[&str], rules: u32| {
            LogWait::of(formats.iter().copied(), rules, false, true, false).request_line
        };
        assert!(line(&["%r"], 0));
        assert!(!line(&["%ci %B"], 0));
        // Any sample of an HTTP proxy's log format; a rule's only when it reads HTTP.
        assert!(line(&["%[src]"], 0));
        assert!(line(&[], super::bits::of_format("%[res.fhdr(a)]")));
        assert!(!line(&[], super::bits::of_format("%[src]")));
        // TCP keeps none.
        assert!(!LogWait::of(["%r"], 0, true, false, false).request_line);
    }
}
