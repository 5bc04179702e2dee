//! The log line of a transaction, and of a connection that ended before it carried one.

use crate::txn::Txn;

/// Writes the transaction's log line to the frontend's targets.
pub fn log_txn(txn: &Txn) {
    crate::api::count_txn(txn);
    // HAProxy waits for nothing more once a line is written: after the request's line only a
    // server's response head writes another.
    if txn.logged_at_request && !txn.logged_early {
        return;
    }
    write_line(txn);
}

/// Writes the transaction's line as it stands, counting nothing: a line logged before the
/// end (at the request, when the format needs nothing else).
pub fn write_line(txn: &Txn) {
    let Some(fe) = txn.frontend_rt() else {
        return;
    };
    if fe.logs.is_empty() {
        return;
    }
    // In TCP mode a connection is null when the client sent nothing (HAProxy counts the
    // request channel's bytes), whatever the server answered. A line logged from the session
    // (a request the parser refused, one that never came whole) was judged where it was made:
    // HAProxy logs a refused request under `dontlognull` as soon as the client sent a byte.
    let null = if fe.mode == hapee_compiler::ir::Mode::Tcp {
        txn.bytes_in == 0
    } else {
        txn.request.is_none() && txn.bytes_out == 0 && !txn.session_log
    };
    // A line logged from the session takes the error format first, as HAProxy's does. The
    // legacy line (no format) is written when a stream is made: a request the parser refused
    // never had one, and the session's own line is empty without a format.
    let format = if txn.session_log {
        fe.error_log_format.as_ref().or(fe.log_format.as_ref())
    } else {
        fe.log_format.as_ref()
    };
    if txn.session_log && format.is_none() {
        return;
    }
    // The legacy line is HAProxy's note of the accepted connection, sent at info level
    // whatever then happens: neither `dontlognull` nor `dontlog-normal` nor the error level
    // of `log-separate-errors` applies to it.
    let legacy = format.is_none();
    // HAProxy asks only of the line at the stream's end whether the connection was null.
    let early = txn.logged_early || txn.logged_at_request;
    if fe.dontlognull && null && !early && !legacy {
        return;
    }
    let failed = failed(txn) && !legacy;
    if fe.dontlog_normal && !failed && !legacy {
        return;
    }
    let mode = if fe.mode == hapee_compiler::ir::Mode::Http {
        "HTTP"
    } else {
        "TCP"
    };
    // A line logged without a stream takes a number of the stream count as it is built,
    // as HAProxy's does (a stream has its own already).
    txn.begin_stream();
    let line = match (format, txn.unix_listener) {
        (Some(f), _) => f.render(txn),
        // On a UNIX socket only the listener is known.
        (None, Some(id)) => format!("Connect to unix:{id} ({}/{mode})", txn.frontend),
        (None, None) => format!(
            "Connect from {}:{} to {}:{} ({}/{mode})",
            txn.client.ip(),
            txn.client.port(),
            txn.local.ip(),
            txn.local.port(),
            txn.frontend,
        ),
    };
    let level = txn
        .log_level
        .unwrap_or(if fe.log_separate_errors && failed {
            3
        } else {
            6
        });
    send(fe, txn, level, &line);
}

/// Sends `line` to the frontend's targets, with its `log-format-sd` data.
fn send(fe: &crate::state::FrontendRt, txn: &Txn, level: u8, line: &str) {
    let data = fe.log_format_sd.as_ref().map(|f| f.render(txn));
    for sink in &fe.logs {
        sink.send_structured(level, data.as_deref().unwrap_or(""), line);
    }
}

/// Whether a transaction counts as failed for `option log-separate-errors`, as HAProxy
/// counts it: it ended on an error other than a local one (the first termination
/// character), it needed retries, or it got a 5xx.
fn failed(txn: &Txn) -> bool {
    !matches!(txn.term[0], b'-' | b'L') || txn.retries > 0 || txn.status.unwrap_or(0) >= 500
}

/// Why a client connection ended before it carried a request, in HAProxy's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbryonicError {
    /// The client closed during the TLS handshake (nothing to log under `dontlognull`).
    TlsClosed,
    /// A socket error during the TLS handshake (nothing to log under `dontlognull` either).
    TlsAborted,
    TlsTimeout,
    /// The handshake failed (not TLS, no common version or suite, a refused certificate),
    /// with OpenSSL's reason when known.
    TlsFailure(Option<crate::tls::errors::SslReason>),
    /// The client's certificate was refused: in its CA chain (`ca`) or on itself.
    TlsCertRefused {
        ca: bool,
        reason: Option<crate::tls::errors::SslReason>,
    },
    /// `maxsslconn` TLS connections were open: closed before its handshake.
    TlsTooMany,
}

impl EmbryonicError {
    pub fn message(self) -> &'static str {
        match self {
            EmbryonicError::TlsClosed => "Connection closed during SSL handshake",
            EmbryonicError::TlsAborted => "Connection error during SSL handshake",
            EmbryonicError::TlsTimeout => "Timeout during SSL handshake",
            EmbryonicError::TlsFailure(_) => "SSL handshake failure",
            EmbryonicError::TlsCertRefused { ca: true, .. } => {
                "SSL client CA chain cannot be verified"
            }
            EmbryonicError::TlsCertRefused { ca: false, .. } => {
                "SSL client certificate not trusted"
            }
            EmbryonicError::TlsTooMany => "Too many SSL connections",
        }
    }

    /// The TLS library's reason (`ssl_fc_err`, `ssl_fc_err_str`).
    pub fn ssl_reason(self) -> Option<crate::tls::errors::SslReason> {
        match self {
            EmbryonicError::TlsFailure(r) | EmbryonicError::TlsCertRefused { reason: r, .. } => r,
            EmbryonicError::TlsClosed => Some(crate::tls::errors::SslReason(294)),
            _ => None,
        }
    }

    /// `fc_err`: HAProxy's connection error code.
    pub fn code(self) -> i64 {
        match self {
            EmbryonicError::TlsClosed => 24,
            EmbryonicError::TlsAborted => 25,
            EmbryonicError::TlsTimeout => 26,
            EmbryonicError::TlsFailure(_) => 34,
            EmbryonicError::TlsCertRefused { ca: true, .. } => 30,
            EmbryonicError::TlsCertRefused { ca: false, .. } => 31,
            EmbryonicError::TlsTooMany => 27,
        }
    }
}

/// Logs a connection that failed before it carried a request: with `error-log-format` when
/// the frontend has one, else as HAProxy's legacy line `client:port [date] frontend/listener:
/// reason`. At level `info`, `err` under `option log-separate-errors`.
pub fn log_embryonic(txn: &Txn, listener: &str, error: EmbryonicError) {
    let Some(fe) = txn.frontend_rt() else {
        return;
    };
    // Like HAProxy, only a frontend with a log format (or an error one) logs these: the
    // legacy line of a frontend without one is written at accept time.
    // A connection refused by `maxsslconn` never made a session in HAProxy: nothing to log.
    if fe.logs.is_empty()
        || error == EmbryonicError::TlsTooMany
        || fe.log_format.is_none() && fe.error_log_format.is_none()
        || fe.dontlognull
            && matches!(
                error,
                EmbryonicError::TlsClosed | EmbryonicError::TlsAborted
            )
    {
        return;
    }
    let line = match &fe.error_log_format {
        Some(f) => {
            txn.begin_stream();
            f.render(txn)
        }
        None => format!(
            "{}:{} [{}] {}/{}: {}",
            txn.shown_addr(false).0,
            txn.shown_addr(false).1,
            crate::logfmt::log_date(txn.accept_date),
            txn.frontend,
            listener,
            error.message()
        ),
    };
    let level = if fe.log_separate_errors { 3 } else { 6 };
    send(fe, txn, level, &line);
}
