//! QUIC listeners (`quic4@`, `quic6@`): one UDP socket and one quinn endpoint per serving
//! thread, datagrams steered to the thread owning their connection (`steer`), connections
//! admitted here (Retry when forced or past `tune.quic.retry-threshold`) and handed to the
//! HTTP/3 driver in `crate::proto::h3`.

pub mod config;
pub mod steer;

use crate::state::Shared;
use crate::stop::Stopping;
use crate::upstream::pool::Pool;
use config::{BindQuic, Keys};
use hapee_compiler::plan::{ListenerPlan, Plan};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One thread's share of a QUIC listener.
pub struct Bound {
    pub frontend: usize,
    /// The bind line's rank among its frontend's (its entry in `FrontendRt::listeners`).
    listener: usize,
    socket: std::net::UdpSocket,
    endpoint: quinn::EndpointConfig,
    server: quinn::ServerConfig,
    bind: Arc<BindQuic>,
    admission: Arc<Admission>,
    tls: Arc<ServerConfigSource>,
}

/// Where a listener's QUIC server configuration comes from: the listener's TLS in force
/// (which `commit ssl …` replaces) and the QUIC settings layered on it.
pub struct ServerConfigSource {
    live: Arc<crate::tls::live::LiveBind>,
    make: Box<MakeServerConfig>,
}

/// Layers the QUIC settings of a listener on a TLS configuration.
type MakeServerConfig =
    dyn Fn(&rustls::ServerConfig) -> Result<quinn::ServerConfig, String> + Send + Sync;

impl ServerConfigSource {
    /// The configuration for the TLS in force now.
    fn current(&self) -> Result<quinn::ServerConfig, String> {
        (self.make)(&self.live.current().config)
    }
}

/// When a client must prove its address with a Retry first.
pub struct Admission {
    /// Connections between their first datagram and the end of their handshake, all threads.
    half_open: AtomicUsize,
    retry_threshold: usize,
}

/// Binds `l` once per thread that serves it: `(thread, socket)` pairs, in thread order.
pub fn bind_listener(
    plan: &Plan,
    l: &ListenerPlan,
    keys: &Keys,
    threads: usize,
) -> Result<Vec<(usize, Bound)>, String> {
    let bind = Arc::new(BindQuic::from_options(&l.options)?);
    // The listener's certificate store, SNI selection and TLS settings, as for TCP listeners.
    let live = crate::listener::Serving::of(l)?
        .tls
        .ok_or("a QUIC bind line needs a certificate ('ssl crt …')")?;
    let tunes = &plan.global.quic;
    if tunes.socket_owner == "connection" {
        // quinn multiplexes every connection over the listener's socket; the per-thread
        // sockets and the steering give the spread that per-connection sockets give HAProxy.
        eprintln!(
            "[NOTICE] tune.quic.socket-owner connection: QUIC connections share their thread's \
             listener socket in hapee."
        );
    }
    if tunes.max_frame_loss != 10 {
        // quinn retransmits lost frames internally and counts lost packets, not how often
        // one frame was lost; a connection that cannot get its data through ends by quinn's
        // own loss detection and the idle timeout instead.
        eprintln!(
            "[NOTICE] tune.quic.max-frame-loss {}: quinn keeps no per-frame loss count;              failing QUIC connections end on the idle timeout in hapee.",
            tunes.max_frame_loss
        );
    }
    let source = {
        let (tunes, bind, keys) = (tunes.clone(), bind.clone(), keys.clone());
        let bufsize = plan.global.bufsize;
        Arc::new(ServerConfigSource {
            live,
            make: Box::new(move |tls| {
                config::server(tls, &bind, config::transport(&tunes, &bind, bufsize), &keys)
            }),
        })
    };
    let admission = Arc::new(Admission {
        half_open: AtomicUsize::new(0),
        retry_threshold: tunes.retry_threshold as usize,
    });
    let serving: Vec<usize> = (0..threads)
        .filter(|&t| crate::listener::served_by(l, t, &plan.global.thread_group_of))
        .collect();
    let rank = crate::listener::rank_in_frontend(plan, l);
    let mut out = Vec::new();
    for addr in crate::listener::socket_addresses(l)? {
        let mut group = Vec::new();
        for (index, &t) in serving.iter().enumerate() {
            let socket =
                steer::bind(addr).map_err(|e| format!("cannot bind socket ({e}) [{addr}]"))?;
            let server = source.current()?;
            group.push((
                t,
                Bound {
                    frontend: l.frontend,
                    listener: rank,
                    socket,
                    endpoint: keys.endpoint(index as u8),
                    server,
                    bind: bind.clone(),
                    admission: admission.clone(),
                    tls: source.clone(),
                },
            ));
        }
        if let Some((_, first)) = group.first() {
            if let Err(e) = steer::attach_steering(&first.socket, group.len() as u32) {
                eprintln!(
                    "[WARNING] QUIC listener [{addr}]: connection-ID steering unavailable ({e}); \
                     datagrams are spread by address, and a client whose address changes may \
                     lose its connection."
                );
            }
        }
        out.extend(group);
    }
    Ok(out)
}

/// Accepts the listener's connections on this thread until the proxy stops, then lets them
/// finish (`proto::h3` sends GOAWAY) and waits for their CONNECTION_CLOSE to be sent.
pub async fn serve(bound: Bound, shared: Arc<Shared>, pool: Pool, stopping: Stopping) {
    let Bound {
        frontend,
        listener,
        socket,
        endpoint,
        server,
        bind,
        admission,
        tls,
    } = bound;
    let local = socket.local_addr().ok();
    let endpoint = match quinn::Endpoint::new(
        endpoint,
        Some(server),
        socket,
        Arc::new(quinn::TokioRuntime),
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("[ALERT] QUIC listener {local:?}: {e}");
            return;
        }
    };
    let mut stopped = std::pin::pin!(stopping.wait());
    let mut swaps = tls.live.swaps();
    // This listener's connections still served, from their first datagram (a connection
    // counts as open in the proxy only once its handshake is done, see `proto::h3`).
    let handshakes = Arc::new(AtomicUsize::new(0));
    loop {
        let incoming = tokio::select! {
            biased;
            _ = &mut stopped => break,
            Ok(()) = swaps.changed() => {
                // A committed certificate or CA: new connections handshake with it.
                match tls.current() {
                    Ok(server) => endpoint.set_server_config(Some(server)),
                    Err(e) => eprintln!("[WARNING] QUIC listener {local:?}: {e}"),
                }
                continue;
            }
            i = endpoint.accept() => i,
        };
        let Some(incoming) = incoming else { break };
        let half_open = admission.half_open.load(Ordering::Relaxed);
        if (bind.force_retry || half_open >= admission.retry_threshold)
            && !incoming.remote_address_validated()
            && incoming.may_retry()
        {
            let _ = incoming.retry();
            continue;
        }
        let Ok(local) = endpoint.local_addr() else {
            incoming.refuse();
            continue;
        };
        let local = incoming
            .local_ip()
            .map_or(local, |ip| std::net::SocketAddr::new(ip, local.port()));
        admission.half_open.fetch_add(1, Ordering::Relaxed);
        let handshake = HalfOpen(admission.clone());
        let conn = crate::proto::h3::Accepted {
            incoming,
            local,
            listener,
            allow_0rtt: bind.allow_0rtt,
            handshake,
        };
        let (shared, pool, stopping) = (shared.clone(), pool.clone(), stopping.clone());
        handshakes.fetch_add(1, Ordering::Relaxed);
        let handshakes = handshakes.clone();
        tokio::task::spawn_local(async move {
            crate::proto::h3::serve(conn, shared, frontend, pool, stopping).await;
            handshakes.fetch_sub(1, Ordering::Relaxed);
        });
    }
    // New connections are refused from now on; those open end by themselves.
    endpoint.set_server_config(None);
    while handshakes.load(Ordering::Relaxed) > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The CONNECTION_CLOSE frames go out (and are repeated) while the endpoint drains.
    let _ = tokio::time::timeout(Duration::from_secs(2), endpoint.wait_idle()).await;
}

/// A connection still in its handshake, counted for `tune.quic.retry-threshold`.
pub struct HalfOpen(Arc<Admission>);

impl Drop for HalfOpen {
    fn drop(&mut self) {
        self.0.half_open.fetch_sub(1, Ordering::Relaxed);
    }
}
