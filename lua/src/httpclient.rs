//! `core.httpclient()`: HAProxy's HTTP client for scripts. `get`, `head`, `put`, `post` and
//! `delete` take `{url=, headers={name={values}}, body=, timeout=ms}` and answer `{status=,
//! reason=, headers={name={[0]=value…}}, body=}`; the exchange (HTTP/1.1 through hyper, TLS for
//! `https://`) yields the script to the event loop. A request that cannot be made answers
//! status 0 with an empty body, as HAProxy's client does. The global `httpclient.*` lines set
//! how it resolves host names and checks servers' certificates.

use crate::socket::{open, Tls};
use bytes::Bytes;
use hapee_compiler::plan::tls_process::HttpClientPlan;
use hapee_runtime::state::Shared;
use hapee_runtime::tls::client::ServerTlsConfig;
use http_body_util::{BodyExt, Full};
use mlua::{Lua, Table, UserData, UserDataMethods, Value};
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long connecting may take (HAProxy's client proxy has `timeout connect 5s`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Debian's bundle of the system's CA certificates.
const SYSTEM_CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What HAProxy's client says it is when the script names no `User-Agent`.
const USER_AGENT: &str = "HAProxy";

pub struct HttpClient {
    /// The runtime's state, known once the proxy runs: the `httpclient.*` settings and the
    /// `resolvers` sections.
    shared: Arc<OnceLock<Arc<Shared>>>,
}

/// `core.httpclient()`, for the scripts of `state`.
pub fn constructor(state: &crate::state::State) -> mlua::Result<mlua::Function> {
    let shared = state.shared.clone();
    state.lua.create_function(move |_, ()| {
        Ok(HttpClient {
            shared: shared.clone(),
        })
    })
}

struct Request {
    method: hyper::Method,
    url: hyper::Uri,
    headers: Vec<(String, String)>,
    body: Bytes,
    timeout: Option<Duration>,
    /// Where to connect instead of the URL's host (`dst`).
    dst: Option<Dst>,
}

/// HAProxy's `dst`: the address the request goes to whatever the URL names, written as a
/// `server` line's address (`127.0.0.1:8080`, `ipv4@…`, `[::1]:80`, `unix@/path` or a path).
#[derive(Debug, PartialEq)]
enum Dst {
    Inet(SocketAddr),
    Unix(std::path::PathBuf),
}

fn parse_dst(text: &str) -> Option<Dst> {
    if let Some(path) = text.strip_prefix("unix@") {
        return (!path.is_empty()).then(|| Dst::Unix(path.into()));
    }
    if text.starts_with('/') {
        return Some(Dst::Unix(text.into()));
    }
    let inet = ["ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
        .unwrap_or(text);
    let (host, port) = inet.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some(Dst::Inet(SocketAddr::new(
        host.parse().ok()?,
        port.parse().ok()?,
    )))
}

/// The call's table, checked as HAProxy checks it.
fn request(method: &str, args: &Table) -> mlua::Result<Request> {
    let mut url = None;
    let mut headers = Vec::new();
    let mut body = Bytes::new();
    let mut timeout = None;
    let mut dst = None;
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
            ("dst", value) => {
                let text = match &value {
                    Value::String(s) => s.to_str().ok().map(|s| s.to_string()),
                    Value::Integer(i) => Some(i.to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                dst = Some(
                    text.as_deref()
                        .and_then(parse_dst)
                        .ok_or_else(|| mlua::Error::runtime("Can't use the 'dst' argument"))?,
                );
            }
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
        dst,
    })
}

/// A response as the script gets it.
struct Response {
    status: u16,
    reason: String,
    headers: hyper::HeaderMap,
    body: Bytes,
}

/// The address of `host`: with the `resolvers` section `httpclient.resolvers.id` names
/// (`default` unless set) when there is one, else with the system's resolver; the family
/// `httpclient.resolvers.prefer` names first (IPv6 unless set).
async fn resolve(
    host: &str,
    settings: &HttpClientPlan,
    shared: Option<&Shared>,
) -> Option<std::net::IpAddr> {
    if let Ok(ip) = host.parse() {
        return Some(ip);
    }
    let section = shared.and_then(|s| s.resolvers.iter().find(|r| r.name == settings.resolvers));
    if let Some(section) = section.cloned() {
        // The resolver's queries are tasks of the worker thread (it sends from one socket
        // per nameserver and waits on them together): asked from there too.
        let (name, prefer_ipv4) = (host.to_string(), settings.prefer_ipv4);
        return tokio::task::spawn_local(async move {
            hapee_runtime::discovery::resolver::lookup(&section, &name, prefer_ipv4).await
        })
        .await
        .ok()
        .flatten();
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await.ok()?.collect();
    found
        .iter()
        .find(|a| a.is_ipv4() == settings.prefer_ipv4)
        .or(found.first())
        .map(|a| a.ip())
}

/// Where `url` points, resolved.
async fn address(
    url: &hyper::Uri,
    settings: &HttpClientPlan,
    shared: Option<&Shared>,
) -> Option<SocketAddr> {
    let https = url.scheme_str() == Some("https");
    let host = url.host()?.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    Some(SocketAddr::new(
        resolve(host, settings, shared).await?,
        port,
    ))
}

/// For an `https://` URL, the TLS to speak: by default the certificate is checked against the
/// system's CAs and must name the host (`httpclient.ssl.verify required`,
/// `httpclient.ssl.ca-file @system-ca`). `Some(None)` for plain HTTP; `None` when the TLS
/// configuration cannot be made.
fn tls(url: &hyper::Uri, settings: &HttpClientPlan) -> Option<Option<Tls>> {
    if url.scheme_str() != Some("https") {
        return Some(None);
    }
    let host = url.host()?.trim_start_matches('[').trim_end_matches(']');
    let tls = hapee_compiler::plan::tls::ServerTls {
        verify_none: !settings.verify,
        ca_file: settings.verify.then(|| ca_file(settings)),
        verifyhost: settings.verify.then(|| host.to_string()),
        reuse: true,
        versions: vec!["TLSv1.2".into(), "TLSv1.3".into()],
        ..Default::default()
    };
    let config = ServerTlsConfig::build(&tls, &mut Vec::new()).ok()?.config;
    let name = ServerName::try_from(host.to_string()).ok()?;
    Some(Some((config, name)))
}

/// The connection to the request's destination: `dst` when the script gave one, else the
/// URL's host.
async fn connect(
    req: &Request,
    settings: &HttpClientPlan,
    shared: Option<&Shared>,
) -> Option<Box<dyn crate::socket::Io>> {
    let tls = tls(&req.url, settings)?;
    let to = match &req.dst {
        Some(Dst::Unix(path)) => {
            let unix = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::UnixStream::connect(path))
                .await
                .ok()?
                .ok()?;
            let Some((config, name)) = tls else {
                return Some(Box::new(unix));
            };
            let connector = tokio_rustls::TlsConnector::from(config);
            let s = tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, unix))
                .await
                .ok()?
                .ok()?;
            return Some(Box::new(s));
        }
        Some(Dst::Inet(addr)) => *addr,
        None => address(&req.url, settings, shared).await?,
    };
    open(to, tls, CONNECT_TIMEOUT)
        .await
        .map(|(stream, _)| stream)
}

/// [`connect`], tried again `httpclient.retries` times when it fails, each time after the
/// turn-around HAProxy's stream waits after a failed connection (a second, or the connect
/// timeout when shorter).
async fn connect_retrying(
    req: &Request,
    settings: &HttpClientPlan,
    shared: Option<&Shared>,
) -> Option<Box<dyn crate::socket::Io>> {
    let mut left = settings.retries;
    loop {
        if let Some(stream) = connect(req, settings, shared).await {
            return Some(stream);
        }
        if left == 0 {
            return None;
        }
        left -= 1;
        tokio::time::sleep(CONNECT_TIMEOUT.min(Duration::from_secs(1))).await;
    }
}

/// What the client answers when no connection could be made: HAProxy's built-in 503 page,
/// as its client's proxy produces it.
fn unavailable() -> Response {
    let mut page = hapee_runtime::http::reply::error(503, &[]);
    let body = hapee_runtime::http::reply::made_body(&mut page).unwrap_or_default();
    Response {
        status: 503,
        reason: "Service Unavailable".to_string(),
        headers: page.headers().clone(),
        body,
    }
}

/// The CA file `httpclient.ssl.ca-file` names, `@system-ca` being the system's bundle.
pub fn ca_file(settings: &HttpClientPlan) -> String {
    match settings.ca_file.as_str() {
        "@system-ca" => SYSTEM_CA.to_string(),
        file => file.to_string(),
    }
}

async fn exchange(req: Request, shared: Option<Arc<Shared>>) -> Option<Response> {
    let default = HttpClientPlan::default();
    let settings = shared.as_deref().map_or(&default, |s| &s.httpclient);
    let Some(stream) = connect_retrying(&req, settings, shared.as_deref()).await else {
        // The client's proxy found no server: HAProxy's own 503 page.
        return Some(unavailable());
    };
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
                move |lua, this, args: Value| async move {
                    let Value::Table(args) = args else {
                        return Err(mlua::Error::runtime("'get' needs a table as argument"));
                    };
                    let req = request(method, &args)?;
                    // Each request is a stream of the process, as HAProxy's client's are.
                    hapee_runtime::txn::next_stream_number();
                    let shared = this.shared.get().cloned();
                    let r = exchange(req, shared).await;
                    answer(&lua, r)
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_dst, Dst};

    #[test]
    fn dst_reads_addresses_as_server_lines_write_them() {
        let inet = |s: &str| Some(Dst::Inet(s.parse().unwrap()));
        assert_eq!(parse_dst("127.0.0.1:8080"), inet("127.0.0.1:8080"));
        assert_eq!(parse_dst("ipv4@127.0.0.1:80"), inet("127.0.0.1:80"));
        assert_eq!(parse_dst("[::1]:81"), inet("[::1]:81"));
        assert_eq!(
            parse_dst("unix@/run/a.sock"),
            Some(Dst::Unix("/run/a.sock".into()))
        );
        assert_eq!(
            parse_dst("/run/b.sock"),
            Some(Dst::Unix("/run/b.sock".into()))
        );
        assert_eq!(parse_dst("unix@"), None);
        assert_eq!(parse_dst("nowhere"), None);
        assert_eq!(parse_dst("127.0.0.1:port"), None);
    }
}
