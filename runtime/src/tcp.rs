//! TCP mode: `tcp-request` rules, backend and server choice with retries, then bytes both ways
//! with idle timeouts; one `tcplog` line at the end.

use crate::rules::{self, Verdict};
use crate::state::FrontendRt;
use crate::txn::Txn;
use crate::upstream::reuse::{should_retry, Attempts, Failure};
use crate::{ClientStream, MaybeTls};
use bytes::{Bytes, BytesMut};
use hapee_compiler::registry::RuleSet;
use hapee_compiler::spoe::SpoeEvent;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod pipe;
pub use pipe::{connect_within, pipe_both, pipe_both_inspected, Limits, Piped};

/// Holds the client's first bytes while a proxy's `tcp-request content` rules (the
/// frontend's, then the backend's) wait for them: until the rules can decide, the buffer is
/// full, the client closes, or that proxy's `tcp-request inspect-delay` passes. Without a delay
/// the rules decide at once on what is there, as in HAProxy. Answers the bytes held, which go
/// to the server first, and when the delay ends (script actions may wait for more bytes until
/// then).
async fn inspect(
    stream: &mut ClientStream,
    rules: &[rules::CompiledRule],
    delay: Option<Duration>,
    bufsize: usize,
    txn: &mut Txn,
    mut buf: BytesMut,
) -> (Bytes, Option<tokio::time::Instant>) {
    txn.payload = Some(buf.clone().freeze());
    txn.payload_final = true;
    let has_rules = rules.iter().any(|r| r.set == RuleSet::TcpRequestContent);
    let Some(delay) = delay.filter(|_| has_rules) else {
        return (buf.freeze(), None);
    };
    let deadline = tokio::time::Instant::now() + delay;
    let mut closed = false;
    loop {
        txn.payload = Some(Bytes::copy_from_slice(&buf));
        txn.payload_closed = closed;
        txn.payload_final = closed || buf.len() >= bufsize;
        if txn.payload_final || !rules::awaits_data(rules, RuleSet::TcpRequestContent, txn) {
            break;
        }
        buf.reserve(bufsize.saturating_sub(buf.len()));
        match tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await {
            Err(_) => {
                txn.payload_final = true;
                break;
            }
            Ok(Ok(0) | Err(_)) => closed = true,
            Ok(Ok(_)) => {}
        }
    }
    (buf.freeze(), Some(deadline))
}

/// How a proxy's `tcp-request content` rules ended.
enum ContentRules<'a> {
    /// They let the stream go on.
    Through,
    /// They ended it (logged).
    Ended,
    /// `use-service`: the service takes the stream.
    Service(&'a rules::Service),
}

/// Runs a proxy's `tcp-request content` rules over the held bytes, pausing at each script
/// action while it runs (it may read the client and answer it until `deadline`).
async fn content_rules<'a>(
    stream: &mut ClientStream,
    rules: &'a [rules::CompiledRule],
    txn: &mut Txn,
    deadline: Option<tokio::time::Instant>,
    proxy: &str,
) -> ContentRules<'a> {
    let mut from = 0;
    loop {
        match rules::run_from(rules, RuleSet::TcpRequestContent, txn, from) {
            Verdict::Reject | Verdict::Deny(_) => {
                // What the client sent past the inspected bytes is read and dropped first,
                // as HAProxy's stream shuts its side (a drain): the close is then a FIN, not
                // a reset for unread bytes.
                crate::http::idle::ClientStream::drain_unread(stream);
                txn.term = *b"PR";
                finish(txn);
                return ContentRules::Ended;
            }
            Verdict::Script(call, next) => {
                use crate::script::{run_action_fed, ActionEnd, Phase};
                let phase = Phase::TcpRequest;
                // Split: the script reads the client and answers it while it runs.
                let (mut rd, mut wr) = tokio::io::split(&mut *stream);
                let fed = run_action_fed(call, phase, txn, Some(&mut rd), Some(&mut wr), deadline);
                match Box::pin(fed).await {
                    ActionEnd::Continue => from = next,
                    // `act.STOP`: the content rules end as after `accept`.
                    ActionEnd::Stop | ActionEnd::RulesDone | ActionEnd::Yield(_) => {
                        from = usize::MAX
                    }
                    ActionEnd::Deny | ActionEnd::Abort | ActionEnd::Invalid => {
                        txn.term = *b"PR";
                        finish(txn);
                        return ContentRules::Ended;
                    }
                    // `txn:done()` (or an action that could not run) closes the connection.
                    ActionEnd::Done(_) | ActionEnd::Failed => {
                        txn.term = *b"LR";
                        finish(txn);
                        return ContentRules::Ended;
                    }
                }
            }
            Verdict::Service(service) => return ContentRules::Service(service),
            Verdict::Spoe(group, next) => {
                // Without an inspection delay left, HAProxy cannot wait for the agent.
                let wait = crate::spoe::Wait::content(deadline);
                group.run(txn, proxy, wait).await;
                from = next;
            }
            _ => return ContentRules::Through,
        }
    }
}

/// `tcp-request content use-service`: the service takes the connection (the bytes the rules
/// held stay in `txn.payload`, for it to read first).
async fn serve_service(
    service: &rules::Service,
    stream: ClientStream,
    mut txn: Txn,
    fe: &FrontendRt,
) {
    match service {
        rules::Service::Script(name) => {
            // HAProxy logs the service in place of the server.
            txn.server = Some(format!("<lua.{name}>").into());
            let mut txn = if txn.filters.scripts.is_empty() {
                Box::pin(crate::script::run_tcp_service(name, Box::new(stream), txn)).await
            } else {
                match Box::pin(filtered_service(name, stream, txn, fe)).await {
                    Some(txn) => txn,
                    None => return,
                }
            };
            finish(&mut txn);
        }
        // An HTTP service on a raw connection: HAProxy refuses it in TCP mode at load time.
        rules::Service::PrometheusExporter => {
            txn.term = *b"PR";
            finish(&mut txn);
        }
    }
}

/// A service taking a stream that script filters are attached to answers in the server's
/// place, as HAProxy's applet does: what the rules held goes through the request's filters
/// before it reads it, the filters start the response's analysis as it takes the stream, its
/// answer goes through their `tcp_payload` (and the client's further bytes too), and both
/// channels end with it, the response's first. The service keeps the transaction in the
/// filters' slot while it runs ([`crate::http::script_tcp::TcpFilters::lend_to`]), where they
/// reach it between its steps, as HAProxy's applet and filters share the stream.
/// `None` when a filter failed (the stream ended).
async fn filtered_service(
    name: &str,
    stream: ClientStream,
    mut txn: Txn,
    fe: &FrontendRt,
) -> Option<Txn> {
    use crate::http::script_filters::{tcp_held, tcp_response_start, Wake};
    let held = txn.payload.clone().unwrap_or_default();
    match tcp_held(&mut txn, held) {
        Ok(data) => txn.payload = Some(data),
        Err(at) => {
            script_filter_failed(&mut txn, at);
            return None;
        }
    }
    // Its answer comes at once: a filter waiting on the start is called again then.
    if let Err(at) = tcp_response_start(&mut txn, Wake::never().after_now()).await {
        script_filter_failed(&mut txn, at);
        return None;
    }
    let Some(scripts) = crate::http::script_tcp::TcpFilters::take(&mut txn, true) else {
        return Some(Box::pin(crate::script::run_tcp_service(name, Box::new(stream), txn)).await);
    };
    let (slot, back) = (scripts.slot(), scripts.back());
    txn.rare_mut().lend_to = Some(scripts.lend_to());
    let (ours, theirs) = tokio::io::duplex(txn.shared.bufsize.max(1024));
    let limits = Limits {
        a_idle: fe.timeouts.client,
        b_idle: fe.timeouts.client,
        a_fin: fe.timeouts.client_fin,
        b_fin: None,
    };
    let served = async {
        let mut txn = crate::script::run_tcp_service(name, Box::new(theirs), txn).await;
        // The service returned: the filters find the transaction in their slot until the
        // tunnel's end.
        txn.rare_mut().lend_to = None;
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(txn));
        back.notify_waiters();
    };
    let piped = pipe_both_inspected(
        stream,
        ours,
        limits,
        None,
        Default::default(),
        None,
        std::future::pending(),
        Some(&scripts),
    );
    let ((), (piped, _)) = tokio::join!(Box::pin(served), piped);
    let mut txn = slot
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .expect("put back when the service returned");
    scripts.end(&mut txn, piped.client_first);
    Some(*txn)
}

/// The stream ends without a server (`SC`). What the client sent is dropped before the close,
/// which would be a reset over unread bytes, and counts as received, as HAProxy has read it by
/// then (`option dontlognull` logs such a stream). HAProxy starts a stream later after the
/// accept than hapee, so a client's first bytes are mostly there already; hapee may end one
/// before they come, so after its FIN it drops what still comes until the client closes, and
/// the end is a FIN, not a reset. That wait is bounded by `timeout client` and by a second, as
/// the connection's slot is held meanwhile. Over TLS the stream ends right after the
/// handshake, before the client's first bytes could come: HAProxy sends its close_notify and
/// closes then, reading nothing, and what the client sends after meets a closed socket (a
/// reset), so hapee does not wait for them either.
async fn end_without_server(
    stream: &mut ClientStream,
    txn: &mut Txn,
    client_timeout: Option<Duration>,
) {
    txn.bytes_in += crate::http::idle::ClientStream::drain_unread(stream);
    txn.term = *b"SC";
    finish(txn);
    let bound = client_timeout.map_or(LINGER, |t| t.min(LINGER));
    let drain = matches!(stream, crate::MaybeTls::Plain(_));
    let _ = tokio::time::timeout(bound, async {
        stream.shutdown().await?;
        let mut buf = [0u8; 4096];
        while drain && stream.read(&mut buf).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// The longest a stream that ended without a server waits for its client's close.
const LINGER: Duration = Duration::from_secs(1);

/// Serves one TCP-mode connection, opened (`crate::accept`) as `txn`.
pub async fn serve(
    mut stream: ClientStream,
    fe_index: usize,
    mut txn: Txn,
    session: &crate::api::sessions::Handle,
) -> Option<crate::upgrade::Upgrade> {
    let shared = txn.shared.clone();
    let fe = &shared.frontends[fe_index];
    let client = txn.client;
    // The stream's first SPOE events come before its content is inspected, as in HAProxy
    // (whose filter runs them ahead of the inspection's first pass).
    let fe_events = [SpoeEvent::OnClientSession, SpoeEvent::OnFrontendTcpRequest];
    crate::spoe::on_events(&mut txn, &[&fe.name], &fe_events).await;
    let scripted = shared.filters.has_scripts();
    let bufsize = shared.bufsize.max(1024);
    // What the client sent while a filter waited on the start: the content rules see it first.
    let mut ahead = BytesMut::new();
    if scripted {
        let name = fe.name.clone();
        let source = Source::of(&mut stream, &mut ahead, bufsize);
        let attached = attach_tcp(&mut txn, &name, false, source, fe.timeouts.client).await;
        if let Some(end) = attached {
            return end(&mut txn);
        }
    }
    let delay = fe.inspect_delay;
    let (held, deadline) = inspect(&mut stream, &fe.rules, delay, bufsize, &mut txn, ahead).await;
    // What the client sent counts even if the stream ends here (`option dontlognull`, `%U`).
    txn.bytes_in = held.len() as u64;
    match content_rules(&mut stream, &fe.rules, &mut txn, deadline, &fe.name).await {
        ContentRules::Through => {}
        ContentRules::Ended => return None,
        ContentRules::Service(service) => {
            serve_service(service, stream, txn, fe).await;
            return None;
        }
    }
    // What a script action left in the held bytes (`txn.req:set()` …) is what goes on.
    let held = txn.payload.clone().unwrap_or(held);
    let upgrade = |stream, txn: Txn, proto| {
        Some(crate::upgrade::Upgrade {
            stream,
            held: held.clone(),
            txn,
            proto,
        })
    };
    if let Some(proto) = txn.rare.as_mut().and_then(|r| r.switch_mode.take()) {
        return upgrade(stream, txn, proto);
    }
    let Some(be_index) = crate::route::choose_backend(&shared, fe, &txn) else {
        end_without_server(&mut stream, &mut txn, fe.timeouts.client).await;
        return None;
    };
    // A backend in HTTP mode makes the stream an HTTP one (HAProxy's implicit upgrade).
    if shared.backends[be_index].mode == hapee_compiler::ir::Mode::Http {
        return upgrade(stream, txn, None);
    }
    let be = &shared.backends[be_index];
    txn.backend = Some(be.name.clone());
    txn.count_on_backend(be_index);
    // The backend's script filters attach, then the request's first bytes go through them
    // all, before the server is connected (as HAProxy forwards them).
    let mut held = held;
    if scripted && be.name != fe.name {
        let name = be.name.clone();
        let mut ahead = BytesMut::from(&held[..]);
        let source = Source::of(&mut stream, &mut ahead, bufsize);
        let attached = attach_tcp(&mut txn, &name, true, source, fe.timeouts.client).await;
        if let Some(end) = attached {
            return end(&mut txn);
        }
        held = ahead.freeze();
        txn.bytes_in = held.len() as u64;
    }
    // The backend's own `tcp-request content` rules, with its own inspection delay, once the
    // stream has entered it (HAProxy's backend inspection, after the frontend's).
    if be.name != fe.name && be.rules.iter().any(|r| r.set == RuleSet::TcpRequestContent) {
        let buf = BytesMut::from(&held[..]);
        let delay = be.inspect_delay;
        let (more, deadline) = inspect(&mut stream, &be.rules, delay, bufsize, &mut txn, buf).await;
        txn.bytes_in = more.len() as u64;
        match content_rules(&mut stream, &be.rules, &mut txn, deadline, &be.name).await {
            ContentRules::Through => {}
            ContentRules::Ended => return None,
            ContentRules::Service(service) => {
                serve_service(service, stream, txn, fe).await;
                return None;
            }
        }
        held = txn.payload.clone().unwrap_or(more);
    }
    let mut sent = held.clone();
    if scripted {
        match crate::http::script_filters::tcp_held(&mut txn, held.clone()) {
            Ok(data) => sent = data,
            Err(at) => return script_filter_failed(&mut txn, at),
        }
    }
    session.route(be_index);
    let proxies = [&*fe.name, &*be.name];
    crate::spoe::on_events(&mut txn, &proxies, &[SpoeEvent::OnBackendTcpRequest]).await;
    let key = match &be.algorithm {
        crate::balance::Algorithm::RdpCookie(name) => match crate::rdp::rdp_cookie(&held, name) {
            crate::rdp::RdpCookie::Found(v) if !v.is_empty() => Some(be.hashing.key(v.as_bytes())),
            _ => None,
        },
        _ => Some(be.hashing.source_key(client.ip())),
    };
    // `persist rdp-cookie`: the server the client's cookie names, when it is up (or
    // `option persist`).
    let persisted = be.rdp_persist.as_ref().and_then(|(name, down_too)| {
        let target = crate::rdp::persisted_server(&held, name)?;
        be.servers.iter().position(|s| {
            s.addr() == Some(std::net::SocketAddr::V4(target)) && (*down_too || s.in_service())
        })
    });
    // `use-server` rules, then the RDP cookie, then stickiness, as HAProxy's analysers go.
    let (by_rule, stuck, _, to_store) = crate::http::forward::server_choice(be, &txn);
    let forced = by_rule
        .filter(|&i| be.servers[i].in_service())
        .or(persisted)
        .or(stuck);
    let mut tries = Attempts::default();
    let start = crate::clock::now();
    // HAProxy's `%Tw` in TCP mode: from the accept (so the content inspection counts) to
    // the queue's exit, plus one (it subtracts a request time of -1, TCP having none).
    let before_queue = (start - txn.start).as_millis() as i64 + 1;
    let server_stream = loop {
        let (si, server, addr) = if let Some(direct) = &be.direct {
            let Some(addr) = direct.addr(txn.local) else {
                end_without_server(&mut stream, &mut txn, fe.timeouts.client).await;
                return None;
            };
            (crate::upstream::direct::INDEX, &direct.server, addr)
        } else {
            let picked = tries.kept().or_else(|| {
                forced
                    .filter(|&i| tries.avoid != Some(i))
                    .or_else(|| be.pick(key.filter(|_| be.algorithm.is_hash()), tries.avoid))
            });
            let Some(si) = picked else {
                end_without_server(&mut stream, &mut txn, fe.timeouts.client).await;
                return None;
            };
            let server = &be.servers[si];
            txn.server = Some(server.name.clone());
            session.server(server.name.clone());
            let Some(addr) = server.addr_toward(txn.local) else {
                // DNS took the address away since the pick: pick again, avoiding it.
                if tries.count < be.retries.max(1) {
                    tries.failed(si, true);
                    continue;
                }
                finish(&mut txn);
                return None;
            };
            (si, server, addr)
        };
        // A slot of a server at its `maxconn`, held until the tunnel closes.
        let queued = crate::clock::now();
        let limit = crate::upstream::queue::limit(be);
        let unassigned = crate::upstream::queue::unassigned(be, forced, key.is_some());
        let entry = crate::upstream::queue::QueueEntry::new(server, be, unassigned);
        let taken = crate::upstream::queue::take(server, be, limit, txn.priority, entry).await;
        let slot = match taken {
            Ok(slot) => slot,
            Err(slot) => {
                txn.queue_pos = slot.position;
                txn.timings.queue =
                    before_queue + (crate::clock::now() - queued).as_millis() as i64;
                txn.term = *b"sQ";
                finish(&mut txn);
                return None;
            }
        };
        txn.queue_pos = slot.position;
        txn.timings.queue = (crate::clock::now() - queued).as_millis() as i64;
        let connect_start = crate::clock::now();
        // The stream counts on its server from the connect on (HAProxy's `cur_sess`), a failed
        // attempt giving its place back.
        server.take_conn();
        let opened = crate::upstream::dial::open(
            addr,
            server.dial_for(txn.client, None),
            be.timeouts.connect,
        )
        .await;
        let at_once = opened.as_ref().is_err_and(|e| e.at_once);
        let connected = opened.ok();
        server.observed(if connected.is_some() {
            crate::checks::observe::Seen::ConnectOk
        } else {
            crate::checks::observe::Seen::ConnectFailed
        });
        match connected {
            Some(s) => {
                if !to_store.is_empty() && !server.non_stick() {
                    be.stickiness.store(&to_store, si);
                }
                server.count_session();
                break (s, server.clone(), addr, slot.permit);
            }
            None if should_retry(
                &be.retry_on,
                Failure::Connect,
                tries.count,
                be.retries,
                true,
            ) =>
            {
                server.release_conn();
                tries.failed(si, be.redispatch);
                tries.report(&mut txn);
                drop(slot);
                if let Some(pause) = crate::upstream::reuse::Attempts::turnaround(
                    be,
                    crate::clock::now() - connect_start,
                    at_once,
                ) {
                    tokio::time::sleep(pause).await;
                }
            }
            None => {
                server.release_conn();
                // The server was assigned: `%Tw` counts as for a connected one.
                txn.timings.queue = before_queue + txn.timings.queue.max(0);
                end_without_server(&mut stream, &mut txn, fe.timeouts.client).await;
                return None;
            }
        }
    };
    let queue = txn.timings.queue.max(0);
    txn.timings.queue = before_queue + queue;
    let (mut sstream, server, addr, _slot) = server_stream;
    let _ = sstream.set_nodelay(true);
    crate::upstream::tune_socket(&sstream, be);
    txn.server_addrs = crate::upstream::ConnAddrs::of(&sstream);
    // The PROXY header first (in clear), then the TLS handshake on `server … ssl`, then
    // what the content rules held, then the tunnel.
    let header = server.send_proxy.as_ref().map(|p| p.header(&txn));
    let opened = match header.filter(|h| !h.is_empty()) {
        Some(h) => sstream.write_all(&h).await.is_ok(),
        None => true,
    };
    let tls_now = server.tls.as_ref().map(|t| t.current());
    let sstream = match (opened, tls_now.as_deref()) {
        (false, _) => None,
        (true, None) => Some(MaybeTls::Plain(sstream)),
        (true, Some(tls)) => {
            let limit = be.timeouts.connect.unwrap_or(Duration::from_secs(10));
            tls.handshake(tls.server_name(&txn, addr), sstream, limit)
                .await
                .map(|s| MaybeTls::Tls(Box::new(s)))
        }
    };
    let Some(mut sstream) = sstream else {
        server.release_conn();
        end_without_server(&mut stream, &mut txn, fe.timeouts.client).await;
        return None;
    };
    // What the content rules held goes at once, as HAProxy forwards it whatever the
    // response's analysis waits for.
    if !sent.is_empty() && sstream.write_all(&sent).await.is_err() {
        server.release_conn();
        txn.term = *b"SD";
        finish(&mut txn);
        return None;
    }
    txn.timings.connect = (crate::clock::now() - start).as_millis() as i64 - queue;
    // The response side starts with the server connection.
    let res_events = [SpoeEvent::OnServerSession, SpoeEvent::OnTcpResponse];
    crate::spoe::on_events(&mut txn, &proxies, &res_events).await;
    let limits = Limits::of_tunnel(&txn, fe, be);
    if fe.log_wait.at_response {
        // Logged once the server is connected, with the totals marked as unfinished.
        txn.logged_early = true;
        crate::http::write_line(&txn);
    }
    // The upload limits the request rules enabled; the download ones too when no response
    // rule runs (else they are taken once the response rules are done).
    let inspects = crate::tcp_response::wanted(be);
    let paced = crate::bwlim::TxnLimits {
        upload: std::mem::take(&mut txn.filters.limits.upload),
        download: if inspects {
            Default::default()
        } else {
            std::mem::take(&mut txn.filters.limits.download)
        },
    };
    // `option contstats`: the bytes held for the rules are the first counted.
    let live = crate::api::LiveBytes::of(&txn).map(std::sync::Arc::new);
    if let Some(live) = &live {
        live.add(held.len() as u64, 0);
    }
    txn.live = live.clone();
    // Their analysis of the response starts with the tunnel, where it waits on its own.
    let scripts = crate::http::script_tcp::TcpFilters::take(&mut txn, false);
    let slot = scripts.as_ref().map(|s| s.slot());
    let pipe = |gate| {
        pipe_both_inspected(
            stream,
            sstream,
            limits,
            gate,
            paced,
            live.as_deref(),
            session.killed(),
            scripts.as_ref(),
        )
    };
    // The response's rules and the script filters act on the stream's own transaction,
    // lent through one slot while the tunnel runs.
    let (piped, refused) = match slot {
        _ if inspects => {
            let slot = slot.unwrap_or_default();
            let back = scripts.as_ref().map_or_else(Default::default, |s| s.back());
            let gate = crate::tcp_response::Gate {
                backend: be,
                bufsize: shared.bufsize.max(1024),
                txn: &slot,
                back: &back,
                lend: scripts.as_ref().map(|s| s.lend_to()),
            };
            crate::script::lend_during(&mut txn, &slot, pipe(Some(gate))).await
        }
        Some(slot) => crate::script::lend_during(&mut txn, &slot, pipe(None)).await,
        None => pipe(None).await,
    };
    let Piped {
        up,
        down,
        timed_out,
        client_first,
    } = piped;
    match (scripts, refused) {
        (Some(scripts), Some(crate::tcp_response::Refusal::FilterFailed(at))) => {
            scripts.end_failed(&mut txn, at);
        }
        (Some(scripts), _) => scripts.end(&mut txn, client_first),
        (None, _) => {}
    }
    server.release_conn();
    if let Some(refusal) = refused {
        txn.term = refusal.term();
        if matches!(refusal, crate::tcp_response::Refusal::Killed) {
            txn.term[0] = session.kill_cause();
        }
    } else if let Some(term) = timed_out {
        txn.term = term;
    }
    txn.bytes_in = up + held.len() as u64;
    txn.bytes_out = down;
    if txn.logged_early {
        // Written at the connection; the stream's totals still count now.
        crate::api::count_txn(&txn);
    } else {
        finish(&mut txn);
    }
    None
}

use crate::http::script_filters::Source;

impl<'a> Source<'a> {
    /// The source `from`, read into `ahead` up to `limit` bytes while a filter waits.
    fn of(
        from: &'a mut (dyn tokio::io::AsyncRead + Unpin + Send),
        ahead: &'a mut BytesMut,
        limit: usize,
    ) -> Source<'a> {
        Source {
            from,
            ahead,
            limit,
            ended: false,
        }
    }
}

/// How a TCP stream ends when its filters could not start.
type Ending = fn(&mut Txn) -> Option<crate::upgrade::Upgrade>;

/// Attaches the script filters of `proxy` to a TCP stream and starts their analysis of the
/// request, a filter that waits called again as the client's bytes arrive; how the stream
/// ends when one failed, or when nothing woke it within `timeout client`.
async fn attach_tcp(
    txn: &mut Txn,
    proxy: &str,
    backend: bool,
    source: Source<'_>,
    limit: Option<Duration>,
) -> Option<Ending> {
    let attach = crate::http::script_filters::attach_tcp(txn, proxy, backend, source);
    let attached = match limit {
        Some(t) => tokio::time::timeout(t, attach).await,
        None => Ok(attach.await),
    };
    match attached {
        Ok(Ok(())) => None,
        Ok(Err(at)) => {
            let at = at.min(txn.filters.scripts.len());
            crate::http::script_filters::end_after_error(txn, at, 0);
            Some(|txn: &mut Txn| {
                txn.term = *b"PR";
                finish(txn);
                None
            })
        }
        Err(_) => Some(|txn: &mut Txn| {
            txn.term = *b"cR";
            finish(txn);
            None
        }),
    }
}

/// A script filter failed on a TCP stream: the filters end their analysis and the stream is
/// closed, ending `PR` as HAProxy's filters end a stream they fail on.
fn script_filter_failed(txn: &mut Txn, at: usize) -> Option<crate::upgrade::Upgrade> {
    crate::http::script_filters::end_after_error(txn, at, 0);
    txn.term = *b"PR";
    finish(txn);
    None
}

fn finish(txn: &mut Txn) {
    crate::http::script_filters::end_early(txn);
    crate::http::log_txn(txn);
}
