//! Log-format strings (`%ci:%cp [%tr] …`, `%[expr]`) rendered over a transaction, with
//! HAProxy's rules: runs of separators collapse to one space, an empty field takes its
//! separator with it, absent values print `-`, `+Q` quotes.

use crate::http::target::written;
use crate::sample::{self, Expr, Unsupported};
use crate::txn::Txn;
use chrono::{DateTime, Local};
use hapee_compiler::expr::logformat::{self, Item};
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

/// What HAProxy logs for the parts of a request that never came.
const BADREQ: &str = "<BADREQ>";

#[derive(Debug)]
enum Piece {
    Text(String),
    Separator,
    Alias { name: String, opts: Opts },
    Expr { expr: Expr, opts: Opts },
}

/// A field's options: its own `%{+Q,-X}` applied over the defaults that the last `%{…}o`
/// set, as HAProxy resolves them while parsing the format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Opts {
    /// `+Q`: quoted.
    quote: bool,
    /// `+X`: addresses, ports and counters in upper-case hexadecimal.
    hex: bool,
}

impl Opts {
    /// Applies a comma-separated flag list. In each item only the name after its last `+`
    /// or `-` counts (HAProxy reads `+Q+X` as `+X`); unknown names change nothing.
    fn with(mut self, flags: Option<&str>) -> Opts {
        for item in flags.unwrap_or("").split(',') {
            let Some(at) = item.rfind(['+', '-']) else {
                continue;
            };
            let on = item.as_bytes()[at] == b'+';
            match &item[at + 1..] {
                "Q" => self.quote = on,
                "X" => self.hex = on,
                _ => {}
            }
        }
        self
    }
}

/// A compiled log format.
#[derive(Debug, Default)]
pub struct Format {
    pieces: Vec<Piece>,
    /// A log line's format: a sample that does not exist is written `-`; elsewhere (headers,
    /// `lf-string` bodies) it is written as nothing, as in HAProxy.
    log: bool,
}

impl Format {
    pub fn parse(text: &str) -> Result<Format, Unsupported> {
        let parsed = logformat::parse(text).map_err(|e| Unsupported(e.message))?;
        crate::log_wait::note(crate::log_wait::bits::of_items(&parsed.items));
        let mut pieces = Vec::new();
        let mut defaults = Opts::default();
        for item in parsed.items {
            match item {
                Item::Text(t) => {
                    for (i, part) in t.split(' ').enumerate() {
                        if i > 0 {
                            pieces.push(Piece::Separator);
                        }
                        if !part.is_empty() {
                            pieces.push(Piece::Text(part.to_string()));
                        }
                    }
                }
                Item::Alias { name, flags } if name == "o" => {
                    defaults = defaults.with(flags.as_deref());
                }
                Item::Alias { name, flags } => pieces.push(Piece::Alias {
                    opts: defaults.with(flags.as_deref()),
                    name,
                }),
                Item::Expr { expr, flags, .. } => pieces.push(Piece::Expr {
                    expr: Expr::compile(&expr)?,
                    opts: defaults.with(flags.as_deref()),
                }),
            }
        }
        Ok(Format { pieces, log: false })
    }

    /// Text used as it is written: no `%` sequences, spaces kept as they are.
    pub fn literal(text: &str) -> Format {
        let pieces = (!text.is_empty())
            .then(|| Piece::Text(text.to_string()))
            .into_iter()
            .collect();
        Format { pieces, log: false }
    }

    /// Parses a log line's format (`log-format`, `option httplog`…).
    pub fn parse_log(text: &str) -> Result<Format, Unsupported> {
        Format::parse(text).map(|f| Format { log: true, ..f })
    }

    /// A format holding only literal text renders without a transaction lookup.
    pub fn render(&self, txn: &Txn) -> String {
        // Its samples are evaluated in the stream's backend, even within a rule.
        let rule_proxy = txn.rule_proxy.set_aside();
        let out = self.render_pieces(txn);
        txn.rule_proxy.restore(rule_proxy);
        out
    }

    fn render_pieces(&self, txn: &Txn) -> String {
        let mut out = String::with_capacity(128);
        let mut last_was_space = true;
        for p in &self.pieces {
            match p {
                Piece::Separator => {
                    if !last_was_space {
                        out.push(' ');
                        last_was_space = true;
                    }
                }
                Piece::Text(t) => {
                    out.push_str(t);
                    last_was_space = false;
                }
                Piece::Alias { name, opts } => {
                    let before = out.len();
                    alias(&mut out, name, txn, *opts);
                    if out.len() > before {
                        last_was_space = false;
                    }
                }
                Piece::Expr { expr, opts } => {
                    // An empty value prints as a missing one: `""` when quoted, else `-` in a
                    // log line and nothing elsewhere, as HAProxy writes both.
                    let value = expr.eval(txn);
                    let value = value.as_ref().map(|v| v.as_text());
                    match value.as_deref().filter(|t| !t.is_empty()) {
                        Some(t) => text(&mut out, t, opts.quote),
                        None if opts.quote => out.push_str("\"\""),
                        None if self.log => out.push('-'),
                        None => {}
                    }
                    last_was_space = false;
                }
            }
        }
        out
    }
}

/// A date as HAProxy's log lines print it: `03/Dec/2026:18:33:36.141`, local time.
pub fn log_date(t: std::time::SystemTime) -> String {
    let mut out = String::new();
    date(&mut out, t, true);
    out
}

fn date(out: &mut String, t: std::time::SystemTime, millis: bool) {
    let d: DateTime<Local> = t.into();
    let _ = if millis {
        write!(out, "{}", d.format("%d/%b/%Y:%H:%M:%S%.3f"))
    } else {
        write!(out, "{}", d.format("%d/%b/%Y:%H:%M:%S %z"))
    };
}

fn text(out: &mut String, s: &str, quote: bool) {
    if quote {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The request line's fields as HAProxy logs them: `"`, `#` and bytes outside printable
/// ASCII as `#` and two hex digits, so that a quoted field stays one field.
fn url_encoded(s: &str) -> std::borrow::Cow<'_, str> {
    let plain = |b: u8| (32..127).contains(&b) && b != b'"' && b != b'#';
    if s.bytes().all(plain) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for &b in hapee_compiler::bytestr::to_bytes(s).iter() {
        if plain(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "#{b:02X}");
        }
    }
    out.into()
}

fn captures(out: &mut String, caps: &[Option<String>], list: bool, quote: bool) {
    if caps.is_empty() {
        return;
    }
    if list {
        for (i, c) in caps.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            text(out, c.as_deref().unwrap_or(""), quote);
        }
        return;
    }
    out.push('{');
    for (i, c) in caps.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(c.as_deref().unwrap_or(""));
    }
    out.push('}');
}

/// An address as a field prints it: dotted or colon form, or with `+X` its bytes in
/// upper-case hexadecimal, most significant first.
/// (`+Q` quotes the usual form, not the hexadecimal one.)
fn ip(out: &mut String, addr: std::net::IpAddr, opts: Opts) {
    let hex = |out: &mut String, bytes: &[u8]| {
        bytes.iter().for_each(|b| {
            let _ = write!(out, "{b:02X}");
        })
    };
    match addr {
        std::net::IpAddr::V4(a) if opts.hex => hex(out, &a.octets()),
        std::net::IpAddr::V6(a) if opts.hex => hex(out, &a.octets()),
        a if opts.quote => {
            let _ = write!(out, "\"{a}\"");
        }
        a => {
            let _ = write!(out, "{a}");
        }
    }
}

/// The address (`…i`) or the port (`…p`) of one end of a connection.
fn endpoint(out: &mut String, name: &str, at: std::net::SocketAddr, opts: Opts) {
    if name.ends_with('i') {
        ip(out, at.ip(), opts);
    } else {
        port(out, at.port(), opts.hex);
    }
}

fn port(out: &mut String, port: u16, hex: bool) {
    let _ = if hex {
        write!(out, "{port:04X}")
    } else {
        write!(out, "{port}")
    };
}

/// A counter or a time in seconds: decimal, or with `+X` hexadecimal of at least `width`
/// digits.
fn number(out: &mut String, n: u64, hex: bool, width: usize) {
    let _ = if hex {
        write!(out, "{n:0width$X}")
    } else {
        write!(out, "{n}")
    };
}

fn alias(out: &mut String, name: &str, txn: &Txn, opts: Opts) {
    let Opts { quote, hex } = opts;
    let t = &txn.timings;
    // From the stream's start, as HAProxy counts `%Tt`: a kept-alive connection's next
    // request starts when the previous one ended, its idle time (`%Ti`) included.
    let total = txn.elapsed_ms() + t.idle.max(0);
    // Where `%Td` starts: the server's response head (HTTP), the server connection (TCP).
    let data_phase = if txn.request.is_some() {
        t.response
    } else {
        t.connect
    };
    let req = txn.request.as_ref().filter(|_| !txn.request_unlogged);
    // The request line as the client sent it, whatever rules rewrote since.
    let line = txn.logged_line().filter(|_| !txn.request_unlogged);
    // The request's target as sent, through `render`; `<BADREQ>` without a request.
    let target = |render: &dyn Fn(&str) -> String| {
        line.map_or_else(
            || BADREQ.to_string(),
            |(_, uri)| render(&written(txn, uri, http_version(req))),
        )
    };
    let _ = match name {
        "ci" | "fi" | "cp" | "fp" if txn.unix_listener.is_none() => {
            let at = if name.starts_with('f') {
                txn.local
            } else {
                txn.client
            };
            endpoint(out, name, at, opts);
            Ok(())
        }
        "ci" | "fi" => write!(out, "{}", txn.shown_addr(name == "fi").0),
        "cp" | "fp" => write!(out, "{}", txn.shown_addr(name == "fp").1),
        // The server connection's own address (`b`) and the server's (`s`); `-` before
        // there is one.
        "bi" | "bp" | "si" | "sp" => {
            match txn.server_addrs {
                Some(a) => {
                    let at = if name.starts_with('b') {
                        a.local
                    } else {
                        a.peer
                    };
                    endpoint(out, name, at, opts);
                }
                None => text(out, "-", quote),
            }
            Ok(())
        }
        "t" | "tr" => {
            date(
                out,
                if name == "t" {
                    txn.accept_date
                } else {
                    txn.request_date
                },
                true,
            );
            Ok(())
        }
        "trg" | "trl" | "T" | "Tl" => {
            date(out, txn.request_date, false);
            Ok(())
        }
        "ms" => {
            let ms = txn
                .accept_date
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_millis());
            if hex {
                write!(out, "{ms:02X}")
            } else {
                write!(out, "{ms:03}")
            }
        }
        "Ts" => {
            let secs = txn
                .accept_date
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            number(out, secs, hex, 4);
            Ok(())
        }
        "rt" => {
            number(out, txn.request_counter(), hex, 4);
            Ok(())
        }
        "ft" => {
            text(
                out,
                &format!(
                    "{}{}",
                    txn.frontend,
                    if txn.tls.is_some() { "~" } else { "" }
                ),
                quote,
            );
            Ok(())
        }
        "f" => {
            text(out, &txn.frontend, quote);
            Ok(())
        }
        "b" => {
            text(out, txn.backend.as_deref().unwrap_or(&txn.frontend), quote);
            Ok(())
        }
        "s" => {
            text(out, txn.server.as_deref().unwrap_or("<NOSRV>"), quote);
            Ok(())
        }
        "TR" => write!(out, "{}", t.request),
        "Ti" => write!(out, "{}", t.idle),
        "Tw" => write!(out, "{}", t.queue),
        "Tc" => write!(out, "{}", t.connect),
        "Tr" => write!(out, "{}", t.response),
        "Th" => write!(out, "0"),
        // Both end at the request's end, and are -1 when it was never stamped.
        "Tq" if t.request < 0 => write!(out, "-1"),
        "Tq" => write!(out, "{}", t.idle + t.request),
        "Ta" => write!(out, "{}{}", early(txn), total - t.idle),
        "Tu" => write!(out, "{}{}", early(txn), total - t.idle.max(0)),
        "Tt" => write!(out, "{}{total}", early(txn)),
        // The time after `data_phase`: -1 when there was none, as in HAProxy.
        "Td" if data_phase < 0 => write!(out, "-1"),
        "Td" => write!(
            out,
            "{}",
            (total - t.idle - t.request - t.queue.max(0) - t.connect.max(0) - t.response.max(0))
                .max(0)
        ),
        "ST" => write!(out, "{}", txn.status.map_or(-1, i64::from)),
        "B" => write!(out, "{}{}", early(txn), txn.bytes_out),
        "U" => write!(out, "{}", txn.received()),
        "CC" | "CS" => {
            let captured = txn
                .rare()
                .and_then(|r| r.captured_cookies[usize::from(name == "CS")].as_deref());
            match captured.filter(|c| !c.is_empty()) {
                Some(cookie) => text(out, cookie, quote),
                // Nothing captured: `-`, or an empty quoted string.
                None => text(out, if quote { "" } else { "-" }, quote),
            }
            Ok(())
        }
        "ts" => write!(out, "{}", std::str::from_utf8(&txn.term).unwrap_or("--")),
        "tsc" => write!(
            out,
            "{}{}",
            std::str::from_utf8(&txn.term).unwrap_or("--"),
            std::str::from_utf8(&txn.persist.letters()).unwrap_or("--")
        ),
        // The connection counters are read as the line is written, as HAProxy reads them:
        // a format without them costs nothing, and one written at a stream's end no longer
        // counts the stream on its server (see `crate::http::body::Tracked`) nor its backend.
        "ac" => write!(out, "{}", txn.shared.active.load(Relaxed)),
        "fc" => write!(
            out,
            "{}",
            sample::frontend(txn, "").map_or(0, |f| f.active.load(Relaxed))
        ),
        "bc" => write!(
            out,
            "{}",
            sample::backend(txn, "").map_or(0, |b| txn.logged_on_backend(b))
        ),
        "sc" => write!(
            out,
            "{}",
            sample::current_server(txn).map_or(0, |s| s.active.load(Relaxed))
        ),
        "rc" => write!(
            out,
            "{}{}",
            if txn.redispatched { "+" } else { "" },
            txn.retries
        ),
        "sq" => write!(out, "{}", txn.queue_pos[0]),
        "bq" => write!(out, "{}", txn.queue_pos[1]),
        "lc" => {
            number(out, 0, hex, 4);
            Ok(())
        }
        "pid" => {
            number(out, u64::from(std::process::id()), hex, 4);
            Ok(())
        }
        "ID" => {
            let id = (!txn.session_log).then(|| crate::http::unique_id::of(txn));
            text(out, id.flatten().unwrap_or("-"), quote);
            Ok(())
        }
        "hr" | "hrl" if txn.session_log => Ok(()),
        "hs" | "hsl" if txn.session_log => Ok(()),
        "hr" | "hrl" => {
            captures(out, &txn.captured_request.borrow(), name == "hrl", quote);
            Ok(())
        }
        "hs" | "hsl" => {
            captures(out, &txn.captured_response.borrow(), name == "hsl", quote);
            Ok(())
        }
        // A request line longer than `tune.http.logurilen` allows is cut, and these fields
        // read the cut line as HAProxy reads it.
        "r" | "HU" | "HP" | "HQ" | "HV" if cut_line(txn, line, req).is_some() => {
            let cut = cut_line(txn, line, req).unwrap_or_default();
            text(
                out,
                &url_encoded(&from_cut_line(name, &cut)),
                quote && name == "r",
            );
            Ok(())
        }
        "r" => {
            let line = match (line, req) {
                (Some((method, uri)), Some(r)) => {
                    let target = written(txn, uri, r.version);
                    format!("{method} {target} {}", version(r.version))
                }
                _ => BADREQ.to_string(),
            };
            text(out, &url_encoded(&line), quote);
            Ok(())
        }
        // Without a request (TCP mode, or none came), HAProxy writes `<BADREQ>` for each.
        "HM" => write!(out, "{}", line.map_or(BADREQ, |(m, _)| m.as_str())),
        "HU" => write!(out, "{}", target(&|t| url_encoded(t).into_owned())),
        // `%HP` is the target as sent up to its query (the scheme and authority of an
        // absolute-form target included); `%HPO` only its path.
        "HP" => write!(
            out,
            "{}",
            target(&|t| url_encoded(t.find('?').map_or(t, |q| &t[..q])).into_owned())
        ),
        // HAProxy's path of the target as sent (none for `*` or an authority), up to its query.
        "HPO" => write!(
            out,
            "{}",
            target(&|t| {
                let path = crate::http::target::path_of(t.as_bytes());
                let path = path.split(|&b| b == b'?').next().unwrap_or_default();
                url_encoded(&hapee_compiler::bytestr::from_bytes(path)).into_owned()
            })
        ),
        "HQ" => write!(
            out,
            "{}",
            line.map_or_else(
                || BADREQ.to_string(),
                |(_, uri)| uri
                    .query()
                    .map(|q| format!("?{}", url_encoded(q)))
                    .unwrap_or_default()
            )
        ),
        "HV" => write!(out, "{}", req.map_or(BADREQ, |r| version(r.version))),
        "H" => write!(out, "{}", crate::log::hostname()),
        "sslc" | "sslv" => {
            let value = txn
                .tls
                .as_ref()
                .map(|t| if name == "sslc" { t.cipher } else { t.version });
            text(out, value.filter(|v| !v.is_empty()).unwrap_or("-"), quote);
            Ok(())
        }
        _ => write!(out, "-"),
    };
}

/// The `+` HAProxy puts before totals when its frontend does not wait for the end to log
/// (`option logasap`): on every line, written early or not.
fn early(txn: &Txn) -> &'static str {
    if txn.frontend_rt().is_some_and(|fe| fe.log_wait.at_response) {
        "+"
    } else {
        ""
    }
}

/// `tune.http.logurilen`: HAProxy keeps the request line for its logs in a buffer of this
/// many bytes (the last one for its terminating zero). Process-wide, set once at start.
static REQUEST_LINE_ROOM: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1024);

/// Keeps the plan's `tune.http.logurilen` for the logs written from now on.
pub fn set_request_line_room(bytes: u32) {
    REQUEST_LINE_ROOM.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// The request line as the logs keep it, when it does not fit the room: cut at the room's
/// size less one byte, as HAProxy copies it. `None` when it fits.
fn cut_line(
    txn: &Txn,
    line: Option<(&hyper::Method, &hyper::Uri)>,
    req: Option<&crate::txn::RequestView>,
) -> Option<String> {
    let ((method, uri), r) = (line?, req?);
    let room = REQUEST_LINE_ROOM.load(std::sync::atomic::Ordering::Relaxed) as usize;
    let room = room.saturating_sub(1);
    let target = written(txn, uri, r.version);
    let version = version(r.version);
    if method.as_str().len() + target.len() + version.len() + 2 <= room {
        return None;
    }
    let mut text = format!("{method} {target} {version}");
    let mut end = room.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    Some(text)
}

/// A request-line field read from the cut line as HAProxy reads its kept line: the target is
/// what follows the first blanks up to the next (`<BADREQ>` without blanks), its path stops
/// at `?`, the query runs from the line's first `?`, the version is what follows the target.
fn from_cut_line(name: &str, cut: &str) -> String {
    let blank = |c: char| c == ' ' || c == '\t';
    if name == "HQ" {
        // From the line's first `?` to the next blank.
        let query = cut.find('?').map_or("", |q| &cut[q..]);
        return query[..query.find(blank).unwrap_or(query.len())].into();
    }
    let Some(at) = cut.find(blank) else {
        return if name == "r" {
            cut.into()
        } else {
            BADREQ.into()
        };
    };
    let rest = cut[at..].trim_start_matches(blank);
    let target_end = rest.find(blank).unwrap_or(rest.len());
    let target = &rest[..target_end];
    match name {
        "r" => cut.into(),
        "HU" => target.into(),
        "HP" => target.split('?').next().unwrap_or("").into(),
        // A line cut before its version reads as HTTP/0.9's.
        _ => match rest[target_end..].trim_start_matches(blank) {
            "" => "HTTP/0.9".into(),
            version => version.into(),
        },
    }
}

/// The version of the logged request (HTTP/1.1 when there is none).
fn http_version(req: Option<&crate::txn::RequestView>) -> hyper::Version {
    req.map_or(hyper::Version::HTTP_11, |r| r.version)
}

/// A version as HAProxy writes it in a start line (`HTTP/1.1`).
pub fn version(v: hyper::Version) -> &'static str {
    match v {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        hyper::Version::HTTP_2 => "HTTP/2.0",
        hyper::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

#[cfg(test)]
mod tests {
    use super::Opts;

    #[test]
    fn request_fields_encode_quotes_hashes_and_other_bytes() {
        assert_eq!(
            super::url_encoded("GET /a{b}|c HTTP/1.1"),
            "GET /a{b}|c HTTP/1.1"
        );
        assert_eq!(super::url_encoded("/a\"b#c"), "/a#22b#23c");
        assert_eq!(super::url_encoded("/caf\u{e9}\u{7f}"), "/caf#C3#A9#7F");
    }

    #[test]
    fn flags_apply_over_the_defaults_as_haproxy_reads_them() {
        let hex = Opts::default().with(Some("+X"));
        assert_eq!(
            hex,
            Opts {
                quote: false,
                hex: true
            }
        );
        assert_eq!(
            hex.with(Some("+Q,-X")),
            Opts {
                quote: true,
                hex: false
            }
        );
        // Only the name after the last sign of an item counts.
        assert_eq!(Opts::default().with(Some("+Q+X")), hex);
        assert_eq!(hex.with(Some("+E")), hex);
        assert_eq!(hex.with(None), hex);
    }
}
