//! Fetches of the connection, the proxies and servers, constants and the process.

use crate::sample::{var, Value};
use crate::state::{BackendRt, FrontendRt, ServerRt};
use crate::txn::Txn;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The value of an internal fetch: `None` when `name` is not one, `Some(None)` when it has
/// no value here.
pub fn fetch(name: &str, args: &[String], txn: &Txn) -> Option<Option<Value>> {
    let a0 = args.first().map_or("", String::as_str);
    let int = |n: i64| Some(Value::Int(n));
    let ms = |d: Option<std::time::Duration>| d.map(|d| Value::Int(d.as_millis() as i64));
    Some(match name {
        // The frontend connection's addresses: those of the PROXY header when there was one,
        // or of a `tcp-request connection` rule; `src` and `dst` those of the session or
        // stream, which later rules may change. A UNIX socket has none.
        "src" | "fc_src" | "src_port" | "fc_src_port" | "dst" | "fc_dst" | "dst_port"
        | "fc_dst_port"
            if txn.unix_listener.is_some() =>
        {
            None
        }
        "src" => Some(Value::Ip(txn.client.ip())),
        "src_port" => int(i64::from(txn.client.port())),
        "dst" => Some(Value::Ip(txn.local.ip())),
        "dst_port" => int(i64::from(txn.local.port())),
        // The connection's own, whatever later rules made the stream's.
        "fc_src" => Some(Value::Ip(txn.conn_client().ip())),
        "fc_src_port" => int(i64::from(txn.conn_client().port())),
        "fc_dst" => Some(Value::Ip(txn.conn_local().ip())),
        "fc_dst_port" => int(i64::from(txn.conn_local().port())),
        "fe_name" => Some(Value::Str(txn.frontend.to_string())),
        // The server connection's ends, once one carries the stream.
        "bc_src" => txn.server_addrs.map(|a| Value::Ip(a.local.ip())),
        "bc_src_port" => txn
            .server_addrs
            .map(|a| Value::Int(i64::from(a.local.port()))),
        "bc_dst" => txn.server_addrs.map(|a| Value::Ip(a.peer.ip())),
        "bc_dst_port" => txn
            .server_addrs
            .map(|a| Value::Int(i64::from(a.peer.port()))),
        // A server connection that carries HTTP (none for a TCP stream's).
        "bc_http_major" => txn.server_http_major.map(|m| Value::Int(i64::from(m))),
        "fcgi.docroot" | "fcgi.index" => fcgi_setting(txn, name),
        "fc_rcvd_proxy" => Some(Value::Bool(txn.proxy.is_some())),
        "fc_pp_authority" | "fc_pp_unique_id" => {
            use crate::proto::proxy_protocol::tlv;
            let kind = if name == "fc_pp_authority" {
                tlv::AUTHORITY
            } else {
                tlv::UNIQUE_ID
            };
            let value = txn.proxy.as_ref().and_then(|h| h.tlv(kind));
            value.map(|v| Value::Str(String::from_utf8_lossy(v).into_owned()))
        }
        "last_rule_file" => txn
            .rare()
            .and_then(|r| r.last_rule.as_ref())
            .map(|(f, _)| Value::Str(f.to_string())),
        "last_rule_line" => txn
            .rare()
            .and_then(|r| r.last_rule.as_ref())
            .map(|(_, l)| Value::Int(i64::from(*l))),
        "so_id" => listener(txn).map(|l| Value::Int(i64::from(l.id))),
        // Counting the one being evaluated.
        "dst_conn" => listener(txn).map(|l| Value::Int(l.conns.load(Ordering::Relaxed) as i64)),
        "so_name" => frontend(txn, "")
            .and_then(|f| f.bind_name(txn.local))
            .map(Value::Str),
        // A server connection was tried once a server is chosen.
        "bc_err" => match txn.backend_error {
            Some(e) => int(e.code()),
            None => txn.server.as_ref().and_then(|_| int(0)),
        },
        "bc_err_str" => match txn.backend_error {
            Some(e) => Some(Value::Str(e.message().to_string())),
            None => txn.server.as_ref().map(|_| Value::Str("Success".into())),
        },
        // Whether the stream is an HTTP one: it has a request (HTTP mode, or a TCP connection
        // switched to HTTP).
        "internal.strm.is_htx" => Some(Value::Bool(txn.request.is_some())),
        "fc_err" => int(txn.conn_error.map_or(0, |e| e.code())),
        "fc_err_str" => txn.conn_error.map(|e| Value::Str(e.message().to_string())),
        "prio_class" => int(txn.priority.class),
        "prio_offset" => int(txn.priority.offset),
        // Until a backend is chosen, the stream's backend is its frontend (a `listen`
        // section's own backend).
        "be_name" => match backend(txn, "") {
            Some(b) => Some(Value::Str(b.name.to_string())),
            None => Some(Value::Str(txn.frontend.to_string())),
        },
        "fe_id" => frontend(txn, "").map(|f| Value::Int(i64::from(f.id))),
        "fe_conn" => frontend(txn, a0).map(|f| Value::Int(f.active.load(Ordering::Relaxed) as i64)),
        "fe_defbe" => frontend(txn, "")
            .and_then(|f| f.default_backend)
            .and_then(|i| txn.shared.backends.get(i))
            .map(|b| Value::Str(b.name.to_string())),
        "fe_client_timeout" => frontend(txn, "").and_then(|f| ms(f.timeouts.client)),
        "be_id" => match backend(txn, "") {
            Some(b) => int(i64::from(b.id)),
            None => frontend(txn, "").map(|f| Value::Int(i64::from(f.id))),
        },
        "be_conn" => backend(txn, a0).map(|b| Value::Int(b.active.load(Ordering::Relaxed) as i64)),
        // `http-request set-timeout server` changes this stream's own limit.
        "cur_server_timeout" if txn.timeout_server.is_some() => ms(txn.timeout_server),
        "cur_tunnel_timeout" if txn.timeout_tunnel.is_some() => ms(txn.timeout_tunnel),
        "be_server_timeout" | "cur_server_timeout" => match backend(txn, "") {
            Some(b) => ms(b.timeouts.server),
            None => frontend(txn, "").and_then(|f| ms(f.timeouts.server)),
        },
        "be_tunnel_timeout" | "cur_tunnel_timeout" => match backend(txn, "") {
            Some(b) => ms(b.timeouts.tunnel),
            None => frontend(txn, "").and_then(|f| ms(f.timeouts.tunnel)),
        },
        "srv_id" => current_server(txn).map(|s| Value::Int(i64::from(s.id))),
        "srv_name" => txn.server.as_ref().map(|s| Value::Str(s.to_string())),
        "srv_conn" => server(txn, a0).map(|s| Value::Int(s.active.load(Ordering::Relaxed) as i64)),
        "srv_sess_rate" => server(txn, a0).map(|s| Value::Int(i64::from(s.session_rate()))),
        // As HAProxy answers: a server without a health check of its own is up unless in
        // maintenance (even when a tracked server is down).
        "srv_is_up" => server(txn, a0).map(|s| {
            let maint = s.admin.load(Ordering::Relaxed) & crate::state::ADMIN_MAINT != 0;
            Value::Bool(!maint && (!s.plan.check || s.up.load(Ordering::Relaxed)))
        }),
        "srv_weight" | "srv_uweight" => {
            server(txn, a0).map(|s| Value::Int(i64::from(s.current_weight())))
        }
        "srv_iweight" => server(txn, a0).map(|s| Value::Int(i64::from(s.weight))),
        "nbsrv" => int(txn.nbsrv(a0)),
        "always_true" => Some(Value::Bool(true)),
        "always_false" => Some(Value::Bool(false)),
        "int" => a0.trim().parse().ok().map(Value::Int),
        "str" | "meth" => Some(Value::Str(a0.to_string())),
        "bool" => match a0 {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        "ipv4" => a0
            .parse::<std::net::Ipv4Addr>()
            .ok()
            .map(|a| Value::Ip(a.into())),
        "ipv6" => a0
            .parse::<std::net::Ipv6Addr>()
            .ok()
            .map(|a| Value::Ip(a.into())),
        "bin" => crate::acl::hex_bytes(a0).map(|b| Value::Bin(b.into())),
        // The default (a string) stands for a variable without a value, where its scope
        // exists.
        "var" => var(txn, a0).or_else(|| {
            let default = args.get(1)?;
            txn.var_context
                .has_scope_of(a0)
                .then(|| Value::Str(default.clone()))
        }),
        "env" => std::env::var(a0).ok().map(Value::Str),
        "hostname" => crate::log::machine_name().map(|h| Value::Str(h.to_string())),
        "nbproc" | "proc" => int(1),
        "stopping" => Some(Value::Bool(txn.shared.stopping.load(Ordering::Relaxed))),
        // The stream's task counters (crate::profiling): 0 where nothing was measured.
        "cpu_calls" | "cpu_ns_avg" | "cpu_ns_tot" | "lat_ns_avg" | "lat_ns_tot" => {
            let p = txn.profile.as_deref();
            p.and_then(|p| {
                let calls = p.calls();
                let per_call = |total: u64| total.checked_div(calls).unwrap_or(0);
                let v = match name {
                    "cpu_calls" => calls,
                    "cpu_ns_avg" => per_call(p.cpu_ns()),
                    "cpu_ns_tot" => p.cpu_ns(),
                    "lat_ns_avg" => per_call(p.lat_ns()),
                    _ => p.lat_ns(),
                };
                int(v as i64)
            })
        }
        "date" => date(args),
        "date_us" => {
            let since = crate::clock::date()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            int(i64::from(since.subsec_micros()))
        }
        "rand" => {
            let r = u64::from(random_u32());
            match a0.trim().parse::<u64>() {
                Ok(range) => int(((r * range) >> 32) as i64),
                Err(_) => int(r as i64),
            }
        }
        "uuid" => match a0 {
            "" | "4" => Some(Value::Str(uuid4())),
            _ => None,
        },
        _ => return None,
    })
}

/// `fcgi.docroot`, `fcgi.index`: the settings of the backend's `fcgi-app` (no sample without
/// one, nor for an index it does not set).
fn fcgi_setting(txn: &Txn, name: &str) -> Option<Value> {
    let app = backend(txn, "")?.fcgi.as_ref()?;
    let value = match name {
        "fcgi.docroot" => Some(app.docroot()),
        _ => app.index().filter(|i| !i.is_empty()),
    };
    value.map(|v| Value::Str(v.to_string()))
}

/// `date([offset[,unit]])`: the current date in seconds (or `ms`, `us`) since the epoch,
/// plus an offset in seconds.
fn date(args: &[String]) -> Option<Value> {
    let now = crate::clock::date()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let offset: i64 = args
        .first()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(0);
    let secs = now.as_secs() as i64 + offset;
    Some(Value::Int(match args.get(1).map(String::as_str) {
        Some("ms") => secs * 1000 + i64::from(now.subsec_millis()),
        Some("us") => secs * 1_000_000 + i64::from(now.subsec_micros()),
        _ => secs,
    }))
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = aws_lc_rs::rand::fill(&mut b);
    u32::from_ne_bytes(b)
}

/// A random (version 4) UUID in its usual text form.
fn uuid4() -> String {
    let mut b = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The frontend named `name`, or the transaction's.
pub(crate) fn frontend<'a>(txn: &'a Txn, name: &str) -> Option<&'a FrontendRt> {
    if name.is_empty() {
        txn.frontend_rt()
    } else {
        txn.shared.frontend_by_name(name)
    }
}

/// The listener the client came in on.
fn listener(txn: &Txn) -> Option<&crate::listener::ListenerRt> {
    frontend(txn, "")?.listeners.get(txn.listener?)
}

/// The backend named `name`, or the transaction's (a `listen` section's own one before any
/// switching).
pub(crate) fn backend<'a>(txn: &'a Txn, name: &str) -> Option<&'a BackendRt> {
    if !name.is_empty() {
        return txn.shared.backend_by_name(name);
    }
    match txn.backend.as_deref() {
        Some(b) => txn.shared.backend_by_name(b),
        None => frontend(txn, "")?
            .own_backend
            .and_then(|i| txn.shared.backends.get(i)),
    }
}

/// The server `backend/server`, or for a bare name the server named so of the proxy whose
/// rule runs (none for a frontend's rule, which has no servers), outside rules of the
/// transaction's backend.
pub(in crate::sample) fn server<'a>(txn: &'a Txn, path: &str) -> Option<&'a Arc<ServerRt>> {
    let (b, s) = match (path.split_once('/'), txn.rule_proxy.get()) {
        (Some((b, s)), _) => (backend(txn, b)?, s),
        (None, Some(Some(proxy))) => (txn.shared.backends.get(proxy)?, path),
        (None, Some(None)) => return None,
        (None, None) => (backend(txn, "")?, path),
    };
    b.server_named(s)
}

/// The server the transaction went to (or waits for), in its backend.
pub(crate) fn current_server(txn: &Txn) -> Option<&Arc<ServerRt>> {
    let name = txn.server.as_deref()?;
    backend(txn, "")?.server_named(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants() {
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
