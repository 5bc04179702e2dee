//! Sample fetches: the connection, the proxies and servers, constants and the process
//! (`internal`), and the HTTP request and response (`http`).

mod http;
mod internal;
mod live;

pub(super) use internal::server;
pub(crate) use internal::{backend, current_server, frontend};

use super::{Fetch, Value};
use crate::txn::Txn;
use hapee_compiler::registry::capabilities::for_response;

/// Whether a fetch reads the stream rather than the session: a line logged without a
/// stream (a request HAProxy's parser refused) finds nothing there, as HAProxy's fetches of
/// the stream's backend, server, timeouts, last rule, CPU figures and captures do.
fn of_the_stream(name: &str) -> bool {
    matches!(
        name,
        "be_id"
            | "be_name"
            | "srv_id"
            | "srv_name"
            | "be_server_timeout"
            | "be_tunnel_timeout"
            | "cur_server_timeout"
            | "cur_tunnel_timeout"
            | "last_rule_file"
            | "last_rule_line"
            | "cpu_calls"
            | "cpu_ns_avg"
            | "cpu_ns_tot"
            | "lat_ns_avg"
            | "lat_ns_tot"
            | "unique-id"
            | "http_first_req"
            | "capture.req.hdr"
            | "capture.res.hdr"
            | "capture.req.method"
            | "capture.req.uri"
            | "capture.req.ver"
            | "capture.res.ver"
    )
}

/// Evaluates one fetch; multi-valued fetches (headers) give every occurrence in order.
pub fn fetch(f: &Fetch, txn: &Txn) -> Vec<Value> {
    if f.places & txn.places.get() == 0 {
        return Vec::new();
    }
    if let Some(t) = &f.table {
        return t.fetch_value(txn).into_iter().collect();
    }
    let mut name = f.name.as_str();
    if for_response(txn.places.get()) {
        use hapee_compiler::registry::capabilities::{for_response_reads, ForResponse};
        match for_response_reads(name) {
            ForResponse::Same => {}
            ForResponse::Nothing => return Vec::new(),
            ForResponse::Response => name = http::response_reading(name),
        }
    }
    if txn.session_log && of_the_stream(name) {
        return Vec::new();
    }
    if let Some(v) = internal::fetch(name, &f.args, txn) {
        return v.into_iter().collect();
    }
    if let Some(v) = live::fetch(name, &f.args, txn) {
        return v.into_iter().collect();
    }
    match name {
        // A failed handshake leaves no TLS facts, only its reason.
        "ssl_fc_err" | "ssl_fc_err_str" if txn.conn_error.is_some() => {
            let reason = txn.conn_error.and_then(|e| e.ssl_reason());
            let value = match name {
                "ssl_fc_err" => reason.map(|r| Value::Int(r.code())),
                _ => reason
                    .and_then(|r| r.text())
                    .map(|t| Value::Str(t.to_string())),
            };
            value.into_iter().collect()
        }
        "ssl_bc_err" | "ssl_bc_err_str" if txn.backend_error.is_some() => {
            let reason = txn.backend_error.and_then(|e| e.reason);
            let value = match name {
                "ssl_bc_err" => reason.map(|r| Value::Int(r.code())),
                _ => reason
                    .and_then(|r| r.text())
                    .map(|t| Value::Str(t.to_string())),
            };
            value.into_iter().collect()
        }
        _ if name.starts_with("ssl_bc") || name.starts_with("ssl_s_") => {
            crate::tls::backend::fetch(name, &f.args, txn.backend_tls.as_deref())
                .unwrap_or_default()
        }
        _ if name.starts_with("ssl_") => {
            crate::tls::fetch::fetch(name, &f.args, txn.tls.as_deref()).unwrap_or_default()
        }
        "capture.req.hdr" | "capture.res.hdr" => {
            let a0 = f.args.first().map_or("", String::as_str);
            crate::http::capture::fetch(txn, name == "capture.res.hdr", a0)
                .map(Value::Str)
                .into_iter()
                .collect()
        }
        "http_auth" | "http_auth_group" => {
            crate::http::auth::fetch(name, f.args.first().map_or("", String::as_str), txn)
        }
        "unique-id" => crate::http::unique_id::of(txn)
            .map(|id| Value::Str(id.to_string()))
            .into_iter()
            .collect(),
        "res.comp" | "res.comp_algo" => crate::http::filters::compression_fetch(name, txn)
            .into_iter()
            .collect(),
        "res.cache_hit" | "res.cache_name" => {
            crate::http::cache::fetch(name, txn).into_iter().collect()
        }
        _ if crate::inspect::provides(name) => crate::inspect::fetch(name, &f.args, txn),
        _ if name.starts_with("internal.htx_blk.") => {
            let pos = f.args.first().map_or("", String::as_str);
            crate::http::htx::block_fetch(name, pos, txn)
                .into_iter()
                .collect()
        }
        _ if crate::http::htx::provides(name) => {
            crate::http::htx::fetch(name, txn).into_iter().collect()
        }
        _ if name.starts_with("lua.") => crate::script::hooks()
            .and_then(|h| h.fetch(&name["lua.".len()..], &f.args, txn))
            .into_iter()
            .collect(),
        _ => http::fetch(name, &f.args, txn),
    }
}
