//! `core.httpclient()`: HAProxy's HTTP client for scripts. `get`, `head`, `put`, `post` and
//! `delete` take `{url=, headers={name={values}}, body=, timeout=ms}` and answer `{status=,
//! reason=, headers={name={[0]=value…}}, body=}`; the exchange (HTTP/1.1 through hyper, TLS for
//! `https://`) yields the script to the event loop. A request that cannot be made answers
//! status 0 with an empty body, as HAProxy's client does.

use crate::socket::{open, Tls};
use bytes::Bytes;
use hapee_runtime::tls::client::ServerTlsConfig;
use http_body_util::{BodyExt, Full};
use mlua::{Lua, Table, UserData, UserDataMethods, Value};
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::time::Duration;

/// How long connecting may take (HAProxy's client proxy has `timeout connect 5s`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Debian's bundle of the system's CA certificates.
const SYSTEM_CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What HAProxy's client says it is when the script names no `User-Agent`.
const USER_AGENT: &str = "HAProxy";

pub struct HttpClient;

/// `core.httpclient()`.
pub fn new_client(_: &Lua, _: ()) -> mlua::Result<HttpClient> {
    Ok(HttpClient)
}

struct Request {
    method: hyper::Method,
    url: hyper::Uri,
    headers: Vec<(String, String)>,
    body: Bytes,
    timeout: Option<Duration>,
}

/// The call's table, checked as HAProxy checks it.
fn request(method: &str, args: &Table) -> mlua::Result<Request> {
    let mut url = None;
    let mut headers = Vec::new();
    let mut body = Bytes::new();
    let mut timeout = None;
    for pair in args.clone().pairs::<String, Value>() {
        let (key, value) = pair?;
        match (key.as_str(), value) {
            ("url", Value::String(s)) => url = Some(s.to_str()?.to_string()),
            ("url", _) => {
                return Err(mlua::Error::runtime(
                    "invalid parameter in 'url', must be a string",
                ))
            }
            ("timeout", Value::Integer(ms)) => timeout = Some(Duration::from_millis(ms as u64)),
            ("timeout", Value::Number(ms)) => timeout = Some(Duration::from_millis(ms as u64)),
            ("timeout", _) => {
                return Err(mlua::Error::runtime(
                    "invalid parameter in 'timeout', must be a number",
                ))
            }
            ("headers", Value::Table(t)) => {
                for h in t.pairs::<String, Value>() {
                    let (name, values) = h?;
                    match values {
                        Value::Table(vs) => {
                            for v in vs.sequence_values::<mlua::String>() {
                                headers.push((name.clone(), v?.to_str()?.to_string()));
                            }
                        }
                        Value::String(v) => headers.push((name, v.to_str()?.to_string())),
                        _ => {}
                    }
                }
            }
            ("headers", _) => {
                return Err(mlua::Error::runtime(
                    "invalid parameter in 'headers', must be a table",
                ))
            }
            ("body", Value::String(s)) => body = Bytes::from(s.as_bytes().to_vec()),
            ("body", _) => {
                return Err(mlua::Error::runtime(
                    "invalid parameter in 'body', must be a string",
                ))
            }
            ("dst", _) => {}
            (other, _) => {
                return Err(mlua::Error::runtime(format!(
                    "'{other}' invalid parameter name"
                )))
            }
        }
    }
    let url = url.ok_or_else(|| mlua::Error::runtime("'get' need a 'url' argument"))?;
    let url: hyper::Uri = url
        .parse()
        .map_err(|_| mlua::Error::runtime("Can't generate the HTTP request"))?;
    Ok(Request {
        method: hyper::Method::from_bytes(method.as_bytes())
            .map_err(|_| mlua::Error::runtime("Can't generate the HTTP request"))?,
        url,
        headers,
        body,
        timeout,
    })
}

/// A response as the script gets it.
struct Response {
    status: u16,
    reason: String,
    headers: hyper::HeaderMap,
    body: Bytes,
}

/// Where `url` points, and for `https://` the TLS to speak: the certificate is checked
/// against the system's CAs and must name the host, as HAProxy's client does by default
/// (`httpclient.ssl.verify required`, `httpclient.ssl.ca-file @system-ca`).
async fn destination(url: &hyper::Uri) -> Option<(SocketAddr, Option<Tls>)> {
    let https = url.scheme_str() == Some("https");
    let host = url.host()?.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let addr = match host.parse() {
        Ok(ip) => SocketAddr::new(ip, port),
        Err(_) => tokio::net::lookup_host((host, port)).await.ok()?.next()?,
    };
    if !https {
        return Some((addr, None));
    }
    let tls = hapee_compiler::plan::tls::ServerTls {
        ca_file: Some(SYSTEM_CA.into()),
        verifyhost: Some(host.to_string()),
        reuse: true,
        versions: vec!["TLSv1.2".into(), "TLSv1.3".into()],
        ..Default::default()
    };
    let config = ServerTlsConfig::build(&tls, &mut Vec::new()).ok()?.config;
    let name = ServerName::try_from(host.to_string()).ok()?;
    Some((addr, Some((config, name))))
}

async fn exchange(req: Request) -> Option<Response> {
    let (to, tls) = destination(&req.url).await?;
    let (stream, _) = open(to, tls, CONNECT_TIMEOUT).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    let target = req
        .url
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut builder = hyper::Request::builder().method(req.method).uri(target);
    let named = |n: &str| req.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
    if !named("host") {
        builder = builder.header("host", req.url.authority()?.as_str());
    }
    if !named("accept") {
        builder = builder.header("accept", "*/*");
    }
    if !named("user-agent") {
        builder = builder.header("user-agent", USER_AGENT);
    }
    for (n, v) in &req.headers {
        builder = builder.header(n.as_str(), v.as_str());
    }
    let request = builder.body(Full::new(req.body)).ok()?;
    // The connection is driven beside the exchange; it ends once the sender is dropped.
    let work = async move {
        let resp = sender.send_request(request).await.ok()?;
        let status = resp.status();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| status.canonical_reason().map(String::from))
            .unwrap_or_default();
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.ok()?.to_bytes();
        Some(Response {
            status: status.as_u16(),
            reason,
            headers: parts.headers,
            body,
        })
    };
    let both = async {
        let (r, _) = tokio::join!(work, conn);
        r
    };
    match req.timeout {
        Some(t) => tokio::time::timeout(t, both).await.ok()?,
        None => both.await,
    }
}

fn answer(lua: &Lua, r: Option<Response>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let r = r.unwrap_or(Response {
        status: 0,
        reason: String::new(),
        headers: hyper::HeaderMap::new(),
        body: Bytes::new(),
    });
    t.set("status", r.status)?;
    t.set("reason", r.reason)?;
    t.set("headers", crate::txn::headers_table(lua, &r.headers)?)?;
    t.set("body", lua.create_string(&r.body)?)?;
    Ok(t)
}

impl UserData for HttpClient {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        for method in ["GET", "HEAD", "PUT", "POST", "DELETE"] {
            m.add_async_method(
                method.to_lowercase(),
                move |lua, _, args: Value| async move {
                    let Value::Table(args) = args else {
                        return Err(mlua::Error::runtime("'get' needs a table as argument"));
                    };
                    let req = request(method, &args)?;
                    let r = exchange(req).await;
                    answer(&lua, r)
                },
            );
        }
    }
}
