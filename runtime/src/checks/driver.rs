//! The I/O of a check: runs the engine's steps over real connections (TCP, TLS, the PROXY
//! protocol header, a SOCKS4 proxy) within the check's timeout.

use super::engine::{Environment, Outcome, Phase, Session, Step};
use crate::logfmt::Format;
use crate::sample::{Expr, Value};
use crate::state::{BackendRt, ServerRt};
use crate::txn::{ResponseView, Txn};
use hapee_compiler::plan::checks::{CheckKind, ConnectRule, HealthCheck};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What a check needs from its server to evaluate samples and connect.
pub struct CheckEnv<'a> {
    backend: &'a BackendRt,
    server: &'a ServerRt,
    /// Where the check connects by default (the server's check address and port).
    pub addr: SocketAddr,
    /// `pp2-never-send-local`: a PROXY v2 header names the check's connection (a PROXY
    /// command) instead of saying LOCAL.
    pp2_never_send_local: bool,
}

impl<'a> CheckEnv<'a> {
    pub fn new(
        backend: &'a BackendRt,
        server: &'a Arc<ServerRt>,
        addr: SocketAddr,
    ) -> CheckEnv<'a> {
        CheckEnv {
            backend,
            server,
            addr,
            pp2_never_send_local: false,
        }
    }

    pub fn with_pp2_never_send_local(mut self, never: bool) -> CheckEnv<'a> {
        self.pp2_never_send_local = never;
        self
    }

    fn txn(&self, session: &Session) -> Txn {
        let mut txn = Txn::for_checks(self.addr);
        txn.vars = session.vars.clone();
        txn.backend = Some(self.backend.name.clone());
        txn.server = Some(self.server.name.clone());
        if let Some(headers) = &session.response {
            let mut map = hyper::HeaderMap::new();
            for (n, v) in headers {
                if let (Ok(n), Ok(v)) = (
                    hyper::header::HeaderName::from_bytes(n.as_bytes()),
                    hyper::header::HeaderValue::from_str(v),
                ) {
                    map.append(n, v);
                }
            }
            txn.response = Some(ResponseView {
                status: u16::try_from(session.code).unwrap_or(0),
                version: hyper::Version::HTTP_11,
                headers: map,
                lines: Default::default(),
            });
        }
        txn
    }
}

impl Environment for CheckEnv<'_> {
    fn render(&self, format: &str, session: &Session) -> String {
        match Format::parse(format) {
            Ok(f) => f.render(&self.txn(session)),
            Err(_) => format.to_string(),
        }
    }

    fn eval(&self, expr: &str, session: &Session) -> Option<Value> {
        Expr::parse(expr).ok()?.eval(&self.txn(session))
    }

    fn unix_time(&self) -> u32 {
        crate::api::health::unix_now() as u32
    }

    fn server_state(&self) -> Option<String> {
        if !self.backend.health_check.send_state {
            return None;
        }
        let s = self.server;
        let c = &s.check;
        let health = c.health.load(std::sync::atomic::Ordering::Relaxed);
        let up = s.up.load(std::sync::atomic::Ordering::Relaxed);
        let state = match (up, health) {
            (true, h) if h == c.rise + c.fall - 1 => "UP".to_string(),
            (true, h) => format!("UP {}/{}", h + 1 - c.rise, c.fall),
            (false, 0) => "DOWN".to_string(),
            (false, h) => format!("DOWN {h}/{}", c.rise),
        };
        let total: u32 = self
            .backend
            .servers
            .iter()
            .map(|s| s.current_weight())
            .sum();
        Some(format!(
            "{state}; address={}; port={}; name={}/{}; node={}; weight={}/{}; scur={}/{}; qcur=0",
            self.addr.ip(),
            self.addr.port(),
            self.backend.name,
            s.name,
            crate::log::hostname(),
            s.current_weight(),
            total,
            s.active.load(std::sync::atomic::Ordering::Relaxed),
            self.backend
                .active
                .load(std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Runs the check's rules against the server; always gives an outcome.
pub async fn execute(check: &HealthCheck, env: &CheckEnv<'_>, timeout: Duration) -> Outcome {
    let mut session = Session::new(check, !env.server.stopped());
    let result = tokio::time::timeout(timeout, steps(&mut session, env)).await;
    match result {
        Ok(outcome) => outcome,
        Err(_) => session.timeout(),
    }
}

async fn steps(s: &mut Session<'_>, env: &CheckEnv<'_>) -> Outcome {
    let mut conn: Option<Pin<Box<dyn Stream>>> = None;
    let mut buf = vec![0u8; 4096];
    loop {
        match s.next_step(env) {
            Step::Connect(rule) => {
                // A new connect closes the previous connection.
                drop(conn.take());
                match connect(rule, s, env).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => return s.io_failure(&e),
                }
            }
            Step::Send(data) => {
                let Some(c) = conn.as_mut() else {
                    return Outcome::new(crate::api::health::CheckStatus::SockErr, "");
                };
                if let Err(e) = c.write_all(&data).await {
                    return s.io_failure(&e);
                }
            }
            Step::Recv => {
                let Some(c) = conn.as_mut() else {
                    s.on_close();
                    continue;
                };
                match c.read(&mut buf).await {
                    Ok(0) => s.on_close(),
                    Ok(n) => s.on_data(&buf[..n]),
                    // A reset after the reply still lets the reply be judged.
                    Err(_) if !s.received.is_empty() => s.on_close(),
                    Err(e) => return s.io_failure(&e),
                }
            }
            Step::Done(outcome) => return outcome,
        }
    }
}

/// The address a connect rule goes to: its own `addr`/`port`, else the server's check ones.
fn target(rule: &ConnectRule, default: SocketAddr) -> SocketAddr {
    let mut addr = default;
    if let Some(a) = rule.addr.as_deref() {
        if let Ok(full) = a.parse::<SocketAddr>() {
            addr = full;
        } else if let Ok(ip) = a.parse() {
            addr.set_ip(ip);
        }
    }
    if let Some(p) = rule.port {
        addr.set_port(p);
    }
    addr
}

async fn connect(
    rule: &ConnectRule,
    s: &mut Session<'_>,
    env: &CheckEnv<'_>,
) -> std::io::Result<Pin<Box<dyn Stream>>> {
    s.phase = Phase::Connecting;
    s.tls = false;
    let addr = target(rule, env.addr);
    // Through the server's SOCKS4 proxy with `check-via-socks4` (default connection) or
    // `connect via-socks4`.
    let via_socks4 = rule.via_socks4 || (rule.default && env.server.plan.check_via_socks4);
    let tcp = crate::upstream::dial::connect(addr, env.server.dial(via_socks4), None).await?;
    let _ = tcp.set_nodelay(true);
    if rule.linger {
        // Close with a reset rather than leaving TIME_WAIT sockets behind.
        let _ = socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO));
    }
    let mut tcp = tcp;
    s.phase = Phase::Exchanging;
    let server_proxy = if rule.default {
        env.server.send_proxy.as_ref()
    } else {
        None
    };
    // `check-send-proxy`: a version 1 header of the check's own connection unless the
    // server's `send-proxy-v2` says otherwise, as HAProxy sends it.
    let check_proxy = rule.default && env.server.plan.tuning.check_send_proxy;
    if rule.send_proxy || server_proxy.is_some() || check_proxy {
        let local = tcp.local_addr()?;
        let header = match server_proxy {
            Some(sp) => sp.check_header(local, addr, env.pp2_never_send_local),
            None => crate::proto::proxy_protocol::encode_v1(local, addr),
        };
        tcp.write_all(&header).await?;
    }
    let tls = if rule.ssl {
        env.server
            .check_tls
            .clone()
            .or_else(|| env.server.tls.clone())
    } else if rule.default {
        env.server.check_tls.clone()
    } else {
        None
    };
    // HTTP checks speak HTTP/2 when the server's `proto`/`check-proto` says so on the
    // default connection, or when TLS settles on `h2` by ALPN.
    let http = env.backend.health_check.kind == CheckKind::Http;
    let forced_h2 = http && rule.default && env.server.plan.mux.check_h2;
    let Some(config) = tls.map(|t| t.current()) else {
        if forced_h2 {
            return Ok(Box::pin(super::h2::bridge(tcp, false).await?));
        }
        return Ok(Box::pin(tcp));
    };
    s.phase = Phase::TlsHandshake;
    let txn = Txn::for_checks(addr);
    let name = match rule.sni.as_deref() {
        Some(sni) => rustls::pki_types::ServerName::try_from(sni.to_string())
            .unwrap_or_else(|_| config.server_name(&txn, addr)),
        None => config.server_name(&txn, addr),
    };
    let mut client_config = (*config.config).clone();
    if let Some(alpn) = &rule.alpn {
        client_config.alpn_protocols = alpn.split(',').map(|p| p.as_bytes().to_vec()).collect();
    }
    let stream = tokio_rustls::TlsConnector::from(Arc::new(client_config))
        .connect(name, tcp)
        .await?;
    s.tls = true;
    s.phase = Phase::Exchanging;
    if forced_h2 || (http && stream.get_ref().1.alpn_protocol() == Some(b"h2")) {
        return Ok(Box::pin(super::h2::bridge(stream, true).await?));
    }
    Ok(Box::pin(stream))
}
