//! Fetches of live figures (rates, queues, free slots), of the client socket (`fc_rtt` …,
//! `src_is_local`), of the thread, and the hashed request keys (`base32`, `url32`).

use super::internal::{backend, server};
use crate::api::counters::Counter;
use crate::sample::Value;
use crate::state::{BackendRt, ServerRt};
use crate::txn::Txn;
use std::net::IpAddr;
use std::sync::atomic::Ordering;

/// The value of one of these fetches: `None` when `name` is not one, `Some(None)` when it has
/// no value here.
pub fn fetch(name: &str, args: &[String], txn: &Txn) -> Option<Option<Value>> {
    let a0 = args.first().map_or("", String::as_str);
    let int = |n: i64| Some(Value::Int(n));
    if let Some(v) = crate::sockopt::tcp_info_fetch(name, a0, txn.client_fd) {
        return Some(v.map(Value::Int));
    }
    Some(match name {
        "fe_req_rate" | "fe_sess_rate" => {
            let fe_name = if a0.is_empty() { &*txn.frontend } else { a0 };
            let shared = &txn.shared;
            let i = shared.frontends.iter().position(|f| &*f.name == fe_name)?;
            let requests = name == "fe_req_rate";
            let counter = if requests {
                Counter::Requests
            } else {
                Counter::Sessions
            };
            // A request counts once it ends: this one, of its own frontend, is added here (as
            // HAProxy counts a request when it arrives).
            let current = requests && shared.frontends[i].name == txn.frontend;
            let current = u64::from(current && txn.request.is_some());
            let total = shared.frontends[i].counters.get(counter) + current;
            int(shared.process.frontend_rate_now(i, total, requests) as i64)
        }
        // A backend's sessions are those of its servers.
        "be_sess_rate" => backend(txn, a0)
            .map(|b| Value::Int(b.servers.iter().map(|s| i64::from(s.session_rate())).sum())),
        // The backend's count holds its servers' queues (runtime/src/upstream/queue.rs).
        "queue" => backend(txn, a0).map(|b| Value::Int(b.queue.current() as i64)),
        "avg_queue" => backend(txn, a0).map(|b| {
            let waiting = b.queue.current() as i64;
            let usable = b.servers.iter().filter(|s| s.is_usable()).count() as i64;
            Value::Int(if usable > 0 {
                (waiting + usable - 1) / usable
            } else {
                waiting * 2
            })
        }),
        "srv_queue" => server(txn, a0).map(|s| Value::Int(s.queue.current() as i64)),
        "connslots" => backend(txn, a0).map(|b| Value::Int(connslots(b))),
        "be_conn_free" => backend(txn, a0).map(|b| Value::Int(be_conn_free(b))),
        "srv_conn_free" => server(txn, a0).map(|s| Value::Int(srv_conn_free(s))),
        "thread" => int(crate::api::counters::thread_slot().saturating_sub(1) as i64),
        "src_is_local" => is_local(txn, txn.client.ip()),
        "fc_src_is_local" => is_local(txn, txn.conn_client().ip()),
        "dst_is_local" | "fc_dst_is_local" => is_local(txn, txn.local.ip()),
        "base32" | "url32" => hash32(txn, name == "url32").map(|h| Value::Int(i64::from(h))),
        "base32+src" | "url32+src" => {
            if txn.unix_listener.is_some() {
                return Some(None);
            }
            let h = hash32(txn, name == "url32+src")?;
            let mut key = h.to_be_bytes().to_vec();
            match txn.client.ip() {
                IpAddr::V4(a) => key.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => key.extend_from_slice(&a.octets()),
            }
            Some(Value::Bin(key.into()))
        }
        "req.hdrs_bin" => txn
            .request
            .as_ref()
            .map(|r| headers_bin(&r.headers, &r.lines)),
        "res.hdrs_bin" => txn
            .response
            .as_ref()
            .map(|r| headers_bin(&r.headers, &r.lines)),
        _ => return None,
    })
}

/// The header lines in order, each as its name's length (a varint), the name, its value's
/// length and the value; two zero lengths end them (HAProxy's `hdrs_bin` encoding).
fn headers_bin(h: &hyper::HeaderMap, lines: &crate::http::header_order::Lines) -> Value {
    use crate::varint::put_varint;
    let mut out = Vec::new();
    let mut put = |n: &hyper::header::HeaderName, v: &hyper::header::HeaderValue| {
        put_varint(&mut out, n.as_str().len() as u64);
        out.extend_from_slice(n.as_str().as_bytes());
        put_varint(&mut out, v.len() as u64);
        out.extend_from_slice(v.as_bytes());
    };
    match lines.get() {
        Some(order) => crate::http::header_order::in_order(h, order).for_each(|(n, v)| put(n, v)),
        None => h.iter().for_each(|(n, v)| put(n, v)),
    }
    out.extend_from_slice(&[0, 0]);
    Value::Bin(out.into())
}

/// Whether a server takes part in the backend's balancing now (HAProxy skips the stopped
/// ones).
fn running(s: &ServerRt) -> bool {
    s.admin.load(Ordering::Relaxed) & crate::state::ADMIN_MAINT == 0
        && (!s.plan.check || s.up.load(Ordering::Relaxed))
}

/// Connections and queue places left over the running servers; -1 when one has no limit.
fn connslots(b: &BackendRt) -> i64 {
    let mut slots = 0;
    for s in b.servers.iter().filter(|s| running(s)) {
        let (Some(maxconn), Some(maxqueue)) = (s.maxconn, s.maxqueue) else {
            return -1;
        };
        if maxconn == 0 || maxqueue == 0 {
            return -1;
        }
        slots += i64::from(maxconn) - s.active.load(Ordering::Relaxed) as i64;
        slots += maxqueue as i64 - s.queue.current() as i64;
    }
    slots
}

/// Connections left under `maxconn` over the usable servers (backups only when no active one
/// is usable, and then the first only unless `option allbackups`); -1 when one has no limit.
fn be_conn_free(b: &BackendRt) -> i64 {
    let usable: Vec<&ServerRt> = b
        .servers
        .iter()
        .filter(|s| s.is_usable())
        .map(|s| &**s)
        .collect();
    let active = usable.iter().any(|s| !s.backup);
    let mut first_backup = true;
    let mut free = 0;
    for s in usable {
        if s.backup {
            if active || (!first_backup && !b.allbackups) {
                continue;
            }
            first_backup = false;
        }
        match srv_conn_free(s) {
            -1 => return -1,
            n => free += n,
        }
    }
    free
}

/// Connections left under the server's `maxconn`; -1 without one.
fn srv_conn_free(s: &ServerRt) -> i64 {
    match s.maxconn {
        None | Some(0) => -1,
        Some(max) => (i64::from(max) - s.active.load(Ordering::Relaxed) as i64).max(0),
    }
}

/// Whether `ip` is an address of this host: one a socket can be bound to. A UNIX socket's
/// peer counts as local, as in HAProxy.
fn is_local(txn: &Txn, ip: IpAddr) -> Option<Value> {
    if txn.unix_listener.is_some() {
        return Some(Value::Bool(true));
    }
    let local = std::net::UdpSocket::bind((ip, 0))
        .and_then(|s| s.connect((ip, 0)))
        .is_ok();
    Some(Value::Bool(local))
}

/// HAProxy's `base32` (`url32` when `whole_url`): a hash of the Host header's value and the
/// path (the path with its query string for `url32`), run through its avalanche mix.
fn hash32(txn: &Txn, whole_url: bool) -> Option<u32> {
    let req = txn.request.as_ref()?;
    let mut hash: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for &b in bytes {
            hash = u32::from(b)
                .wrapping_add(hash << 6)
                .wrapping_add(hash << 16)
                .wrapping_sub(hash);
        }
    };
    if let Some(host) = req.headers.get(hyper::header::HOST) {
        let host = host.as_bytes();
        // `base32` takes the first value of a comma-separated list, `url32` the whole line.
        let host = if whole_url {
            host
        } else {
            let end = host.iter().position(|&c| c == b',').unwrap_or(host.len());
            host[..end].trim_ascii()
        };
        add(host);
    }
    let path = if whole_url {
        req.uri.path_and_query().map_or("", |p| p.as_str())
    } else {
        req.uri.path()
    };
    if path.starts_with('/') {
        add(path.as_bytes());
    }
    Some(crate::balance::full_hash(hash))
}
