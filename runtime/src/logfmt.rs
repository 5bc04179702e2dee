//! Log-format strings (`%ci:%cp [%tr] …`, `%[expr]`) rendered over a transaction, with
//! HAProxy's rules: runs of separators collapse to one space, an empty field takes its
//! separator with it, absent values print `-`, `+Q` quotes.

use crate::sample::{Expr, Unsupported};
use crate::txn::Txn;
use chrono::{DateTime, Local};
use hapee_compiler::expr::logformat::{self, Item};
use std::fmt::Write;

/// What HAProxy logs for the parts of a request that never came.
const BADREQ: &str = "<BADREQ>";

#[derive(Debug)]
enum Piece {
    Text(String),
    Separator,
    Alias {
        name: String,
        quote: Option<bool>,
    },
    Expr {
        expr: Expr,
        quote: Option<bool>,
    },
    /// `%o`: flags for every following field.
    Global(Option<bool>),
}

/// A compiled log format.
#[derive(Debug, Default)]
pub struct Format {
    pieces: Vec<Piece>,
    /// A log line's format: a sample that does not exist is written `-`; elsewhere (headers,
    /// `lf-string` bodies) it is written as nothing, as in HAProxy.
    log: bool,
}

fn quote_flag(flags: &Option<String>) -> Option<bool> {
    let f = flags.as_deref()?;
    if f.contains("+Q") {
        Some(true)
    } else if f.contains("-Q") {
        Some(false)
    } else {
        None
    }
}

impl Format {
    pub fn parse(text: &str) -> Result<Format, Unsupported> {
        let parsed = logformat::parse(text).map_err(|e| Unsupported(e.message))?;
        let mut pieces = Vec::new();
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
                    pieces.push(Piece::Global(quote_flag(&flags)))
                }
                Item::Alias { name, flags } => pieces.push(Piece::Alias {
                    quote: quote_flag(&flags),
                    name,
                }),
                Item::Expr { expr, flags, .. } => pieces.push(Piece::Expr {
                    expr: Expr::compile(&expr)?,
                    quote: quote_flag(&flags),
                }),
            }
        }
        Ok(Format { pieces, log: false })
    }

    /// Parses a log line's format (`log-format`, `option httplog`…).
    pub fn parse_log(text: &str) -> Result<Format, Unsupported> {
        Format::parse(text).map(|f| Format { log: true, ..f })
    }

    /// A format holding only literal text renders without a transaction lookup.
    pub fn render(&self, txn: &Txn) -> String {
        let mut out = String::with_capacity(128);
        let mut last_was_space = true;
        let mut global_quote = false;
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
                Piece::Global(q) => global_quote = q.unwrap_or(false),
                Piece::Alias { name, quote } => {
                    let before = out.len();
                    alias(&mut out, name, txn, quote.unwrap_or(global_quote));
                    if out.len() > before {
                        last_was_space = false;
                    }
                }
                Piece::Expr { expr, quote } => {
                    let q = quote.unwrap_or(false);
                    match expr.eval(txn) {
                        Some(v) if q => {
                            let _ = write!(out, "\"{}\"", v.as_text());
                        }
                        Some(v) => out.push_str(&v.as_text()),
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

fn alias(out: &mut String, name: &str, txn: &Txn, quote: bool) {
    let t = &txn.timings;
    let total = txn.elapsed_ms();
    let req = txn.request.as_ref().filter(|_| !txn.request_unlogged);
    let _ = match name {
        "ci" | "fi" => write!(out, "{}", txn.shown_addr(name == "fi").0),
        "cp" | "fp" => write!(out, "{}", txn.shown_addr(name == "fp").1),
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
        "ms" => write!(
            out,
            "{:03}",
            txn.accept_date
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_millis())
        ),
        "Ts" => write!(
            out,
            "{}",
            txn.accept_date
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        ),
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
        "Tq" => write!(out, "{}", t.idle + t.request),
        "Ta" => write!(out, "{}{}", early(txn), total - t.idle),
        "Tt" => write!(out, "{}{total}", early(txn)),
        "Td" => write!(
            out,
            "{}",
            (total - t.request - t.queue.max(0) - t.connect.max(0) - t.response.max(0)).max(0)
        ),
        "ST" => write!(out, "{}", txn.status.map_or(-1, i64::from)),
        "B" => write!(out, "{}{}", early(txn), txn.bytes_out),
        "U" => write!(out, "{}", txn.bytes_in),
        "CC" | "CS" => {
            text(out, "-", quote);
            Ok(())
        }
        "ts" => write!(out, "{}", std::str::from_utf8(&txn.term).unwrap_or("--")),
        "tsc" => write!(
            out,
            "{}{}",
            std::str::from_utf8(&txn.term).unwrap_or("--"),
            std::str::from_utf8(&txn.persist.letters()).unwrap_or("--")
        ),
        "ac" => write!(out, "{}", txn.counters[0]),
        "fc" => write!(out, "{}", txn.counters[1]),
        "bc" => write!(out, "{}", txn.counters[2]),
        "sc" => write!(out, "{}", txn.counters[3]),
        "rc" => write!(out, "{}", txn.retries),
        "sq" => write!(out, "{}", txn.queued_ahead[0]),
        "bq" => write!(out, "{}", txn.queued_ahead[1]),
        "lc" => write!(out, "0"),
        "pid" => write!(out, "{}", std::process::id()),
        "ID" => {
            text(out, crate::http::unique_id::of(txn).unwrap_or("-"), quote);
            Ok(())
        }
        "hr" | "hrl" => {
            captures(out, &txn.captured_request, name == "hrl", quote);
            Ok(())
        }
        "hs" | "hsl" => {
            captures(out, &txn.captured_response, name == "hsl", quote);
            Ok(())
        }
        "r" => {
            let line = req.map_or_else(
                || BADREQ.to_string(),
                |r| format!("{} {} {}", r.method, r.uri, version(r.version)),
            );
            text(out, &line, quote);
            Ok(())
        }
        // Without a request (TCP mode, or none came), HAProxy writes `<BADREQ>` for each.
        "HM" => write!(out, "{}", req.map_or(BADREQ, |r| r.method.as_str())),
        "HU" => write!(
            out,
            "{}",
            req.map_or_else(|| BADREQ.to_string(), |r| r.uri.to_string())
        ),
        "HP" => write!(out, "{}", req.map_or(BADREQ, |r| r.uri.path())),
        "HQ" => write!(
            out,
            "{}",
            req.map_or_else(
                || BADREQ.to_string(),
                |r| r.uri.query().map(|q| format!("?{q}")).unwrap_or_default()
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

/// The `+` HAProxy puts before totals that were not final when the line was logged.
fn early(txn: &Txn) -> &'static str {
    if txn.logged_early {
        "+"
    } else {
        ""
    }
}

fn version(v: hyper::Version) -> &'static str {
    match v {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        hyper::Version::HTTP_2 => "HTTP/2.0",
        hyper::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}
