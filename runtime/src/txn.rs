//! One transaction as the rules, ACLs and logs see it: who is talking, the request and
//! response heads, variables, and what happened (timings, bytes, termination state).

use crate::sample::Value;
use crate::state::Shared;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// The request head.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub method: hyper::Method,
    pub uri: hyper::Uri,
    pub version: hyper::Version,
    pub headers: hyper::HeaderMap,
    /// The header lines' order where `headers` cannot show it.
    pub lines: crate::http::header_order::Lines,
}

/// The response head.
#[derive(Debug, Clone)]
pub struct ResponseView {
    pub status: u16,
    /// The version the server answered in (`res.ver`); HTTP/1.1 for the proxy's own.
    pub version: hyper::Version,
    pub headers: hyper::HeaderMap,
    /// The header lines' order where `headers` cannot show it.
    pub lines: crate::http::header_order::Lines,
}

/// Timings of HAProxy's log fields, in milliseconds (`-1`: never reached).
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// Idle time before the request (`%Ti`).
    pub idle: i64,
    /// Time to receive the request head (`%TR`).
    pub request: i64,
    /// Time in queues (`%Tw`).
    pub queue: i64,
    /// Time to connect to the server (`%Tc`).
    pub connect: i64,
    /// Time for the server to send its response head (`%Tr`).
    pub response: i64,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            idle: 0,
            request: 0,
            queue: -1,
            connect: -1,
            response: -1,
        }
    }
}

/// The parts of a transaction that few requests set (bodies read for rules, early hints,
/// scripts' state, tunnels, rewritten targets…), boxed apart: a new transaction writes, and its
/// end drops, one empty pointer for all of them.
#[derive(Default)]
pub struct TxnRare {
    /// The request body, when `option http-buffer-request` read it before the rules.
    pub request_body: Option<bytes::Bytes>,
    /// Where a `103 Early Hints` goes, for a client that may get one (HTTP/1.1 and later,
    /// when a rule uses `early-hint`), and the headers of the one being made.
    pub interim: Option<hyper::ext::Interim>,
    pub early_hints: hyper::HeaderMap,
    /// The response body, as far as `http-response wait-for-body` read it (`res.body`).
    pub response_body: Option<bytes::Bytes>,
    /// `capture cookie`: the client's cookie (`%CC`) and the server's (`%CS`), as
    /// `name=value` cut to the capture's length.
    pub captured_cookies: [Option<String>; 2],
    /// What a script keeps with the transaction (`txn:set_priv`), for its later actions.
    pub script_data: Option<Box<dyn std::any::Any + Send>>,
    /// How a script action waiting for more held bytes gets them (`crate::script::Feed`).
    pub feed: Option<crate::script::Feed>,
    /// Where a script holding the transaction keeps it, for the filters that run beside it.
    pub lend_to: Option<crate::script::LendTo>,
    /// What a `tcp-request content` script sent the client (`txn.res:send()`) while it could
    /// not be written at once: written once the action returns.
    pub to_client: Vec<u8>,
    /// When the inspection delay of the `tcp-request content` rules running now ends in an
    /// HTTP stream: set at their first wait and kept until they end, so that every script
    /// action of one rule set shares one delay, as HAProxy's stream keeps one expiry for them.
    pub rules_exp: Option<tokio::time::Instant>,
    /// A target a rule wrote that `Uri` cannot hold (`set-uri concat(/a/,b)`), sent to the
    /// server as written while the request's `Uri` is still its `parsed` stand-in.
    pub unparsed_target: Option<hyper::ext::RawTarget>,
    /// Set by `switch-mode http [proto <name>]`: the TCP connection goes on in HTTP mode.
    pub switch_mode: Option<Option<String>>,
    /// The file and line of the last final rule that ran (`last_rule_file`, `last_rule_line`).
    pub last_rule: Option<(Arc<str>, u32)>,
    /// The request line as the client sent it, kept when a rule first rewrites the method or
    /// the target: logs print the original (`%r`, `%HM`, `%HU`…), as HAProxy's do.
    pub original_line: Option<(hyper::Method, hyper::Uri)>,
    /// The tunnel its response opened, which the stream goes on in and is logged by.
    pub tunnel: Option<crate::http::websocket::TunnelLog>,
}

pub struct Txn {
    pub shared: Arc<Shared>,
    pub client: SocketAddr,
    pub local: SocketAddr,
    /// The id of the UNIX socket listener the client came in on: such a client has no IP
    /// address or port, and HAProxy logs it as `unix` with this id for a port.
    pub unix_listener: Option<u32>,
    /// The client connection's own addresses (client, local) once a rule past `tcp-request
    /// connection` changed the stream's (`set-src`, `set-dst`…): `fc_src` and `fc_dst` keep
    /// reporting the connection's, as in HAProxy. `None` while they are the same.
    pub conn_addrs: Option<(SocketAddr, SocketAddr)>,
    /// The rank of the listener the client came in on, in its frontend's
    /// [`crate::state::FrontendRt::listeners`] (`so_id`, `dst_conn`).
    pub listener: Option<usize>,
    pub frontend: Arc<str>,
    pub backend: Option<Arc<str>>,
    pub server: Option<Arc<str>>,
    pub request: Option<RequestView>,
    pub response: Option<ResponseView>,
    pub vars: HashMap<String, Value>,
    /// Variables `set-var` converters stored during the current rule (see
    /// [`Txn::settle_converter_vars`]).
    /// `None`: an `unset-var` converter removed the variable.
    pub converter_vars: std::cell::RefCell<HashMap<String, Option<Value>>>,
    /// What this stream's variables add to the process count (`tune.vars.*-max-size`).
    pub var_share: crate::var_limits::Share,
    /// Where the expressions run, which decides the variable scopes that exist here.
    pub var_context: crate::vars::VarContext,
    /// When the connection was accepted (`%t`) and the request started (`%tr`).
    pub accept_date: SystemTime,
    pub request_date: SystemTime,
    pub start: Instant,
    pub timings: Timings,
    pub status: Option<u16>,
    pub bytes_out: u64,
    /// Bytes received from the client: TCP mode's payload, HTTP's request head in internal
    /// form (see [`Txn::received`] for the body).
    pub bytes_in: u64,
    /// The request body's bytes as they arrive, when it has one.
    pub body_in: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// `option contstats`: the bytes counted while they flowed.
    pub live: Option<std::sync::Arc<crate::api::LiveBytes>>,
    /// The calls and times of the future that serves it (`cpu_calls` …, see
    /// [`crate::profiling`]).
    pub profile: Option<std::sync::Arc<crate::profiling::StreamProfile>>,
    pub retries: u32,
    /// A retry went to another server (`option redispatch`).
    pub redispatched: bool,
    /// Termination state: who ended it and in which phase (`%ts`, two characters).
    pub term: [u8; 2],
    /// The capture slots' contents (`%hr`, `%hs`); `capture-req` and `capture-res`
    /// converters fill them while the stream is only read.
    pub captured_request: std::cell::RefCell<Vec<Option<String>>>,
    pub captured_response: std::cell::RefCell<Vec<Option<String>>>,
    pub log_level: Option<u8>,
    /// The backend whose current streams (`be_conn`, `scur`) count this one: from the moment
    /// the stream is assigned to it (queued included, as HAProxy's `beconn`) until it ends.
    counted_on_backend: Option<usize>,
    /// Its positions in its server's and backend's queues as HAProxy logs them (`%sq`,
    /// `%bq`; see `crate::upstream::queue`).
    pub queue_pos: [u64; 2],
    /// While the request waits for a server's slot: since when, whether HAProxy would
    /// have it in the backend's queue with no server assigned yet (its server was picked by
    /// a balancing algorithm that skips full servers, not forced nor hashed), which it logs
    /// as `<NOSRV>` when the wait ends without a slot, and the queue it is logged in.
    pub queue_wait: Option<(std::time::Instant, bool, crate::upstream::queue::QueueEntry)>,
    /// The client connection's TLS, when it came over TLS.
    pub tls: Option<Arc<crate::tls::TlsInfo>>,
    /// The server connection's TLS, once the request has one (`ssl_bc_*`, `ssl_s_*`).
    pub backend_tls: Option<Arc<crate::tls::TlsInfo>>,
    /// Why the client connection failed before carrying a request (`fc_err`).
    pub conn_error: Option<crate::http::EmbryonicError>,
    /// `option logasap`: logged before the end, so the total time and the byte count are
    /// printed with a `+` (lower bounds).
    pub logged_early: bool,
    /// A line was written at the request (a format of request fields only): the end writes
    /// none, unless a response head wrote one too (`logged_early`).
    pub logged_at_request: bool,
    /// Where in the transaction samples are being fetched (HAProxy's check point bits): a
    /// fetch whose information does not exist there gives no sample, as in HAProxy (a request
    /// header in a response rule). All bits outside rules.
    pub places: std::cell::Cell<u32>,
    /// The stick counters tracked by the stream and by its session.
    pub stick: crate::tables::track::Trackers,
    /// The client's first bytes held for `tcp-request content` rules (TCP mode).
    pub payload: Option<bytes::Bytes>,
    /// No more payload will come before the rules decide: the client closed, the buffer is
    /// full, or `tcp-request inspect-delay` passed.
    pub payload_final: bool,
    /// The client closed its side (or failed) while its first bytes were held.
    pub payload_closed: bool,
    /// The server's first bytes held for `tcp-response content` rules (TCP mode).
    pub res_payload: Option<bytes::Bytes>,
    /// No more response payload will come before the rules decide.
    pub res_payload_final: bool,
    /// The server closed its side (or failed) while its first bytes were held.
    pub res_payload_closed: bool,
    /// Set by a fetch whose answer could still change with more data (HAProxy's
    /// `SMP_F_MAY_CHANGE`), so that a condition can wait instead of failing.
    pub may_change: std::cell::Cell<bool>,
    /// The PROXY protocol header the connection started with (`client`/`local` come from it).
    pub proxy: Option<Arc<crate::proto::proxy_protocol::ProxyHeader>>,
    /// Set by `tcp-request connection expect-proxy layer4`.
    pub expect_proxy: bool,
    /// Set by `tcp-request connection expect-netscaler-cip layer4`.
    pub expect_netscaler: bool,
    /// Whether this is the connection's first request (`http_first_req`).
    pub first_request: bool,
    /// `option http-use-proxy-header` with a proxied target (absolute or authority form):
    /// credentials are read from `Proxy-Authorization`, and `auth` asks with a 407.
    pub proxy_auth: bool,
    /// The target as the client wrote it, when it has bytes `Uri` cannot hold (`<`, `>`…),
    /// for the logs and the server while no rule changes it.
    pub raw_target: Option<hyper::ext::RawTarget>,
    /// Strict mode and failed rewrites (`crate::http::room`).
    pub rewrites: crate::http::room::Rewrites,
    /// What the HTTP filters (cache, compression) keep of the transaction.
    pub filters: crate::http::filters::TxnFilters,
    /// The stream's unique id once made (`crate::http::unique_id`).
    pub unique_id: std::cell::OnceCell<String>,
    /// `http-request set-timeout server|tunnel`: this stream's limits instead of the
    /// backend's.
    pub timeout_server: Option<std::time::Duration>,
    pub timeout_tunnel: Option<std::time::Duration>,
    /// Cookie persistence: what the cookies did both ways (`%tsc`).
    pub persist: crate::http::persist::TxnCookie,
    /// While a rule runs: the proxy it belongs to.
    pub rule_proxy: crate::rules::RuleProxy,
    /// Why the last server handshake failed (`bc_err`, `ssl_bc_err`).
    pub backend_error: Option<crate::tls::errors::ServerTlsError>,
    /// The last server connection attempt ran out of `timeout connect` (its TCP connect or
    /// its TLS handshake): a stream that ends there is flagged `sC`, not `SC`.
    pub connect_timed_out: bool,
    /// The last server connection attempt failed before anything went out (making or binding
    /// its socket, no free port): HAProxy retries it without its turn-around.
    pub connect_failed_at_once: bool,
    /// The reason phrase an `http-response set-status` gave the server's response: its own
    /// (`reason`), or `None` for the standard phrase of the new status.
    pub status_reason: Option<Option<String>>,
    /// The `tcp-request content` rules of an HTTP frontend rejected the request: HAProxy
    /// runs them before its HTTP analysis records the request line and the captures, so the
    /// log shows `<BADREQ>` and empty captures.
    pub request_unlogged: bool,
    /// Logged as HAProxy logs a request its HTTP parser refused (or a connection that sent
    /// none): from the session, with no stream, so no captures and no unique id (`-`).
    pub session_log: bool,
    /// The server connection's local and remote addresses, once the request has one (`%bi`,
    /// `%bp`, `%si`, `%sp`).
    pub server_addrs: Option<crate::upstream::ConnAddrs>,
    /// The HTTP major version of the server connection carrying the request (`bc_http_major`):
    /// 2 over HTTP/2, 1 over HTTP/1 and FastCGI; none before one, and for a TCP stream.
    pub server_http_major: Option<u8>,
    /// HAProxy's request counter (`%rt`): drawn when the stream starts ([`Txn::begin_stream`]),
    /// or when a line logged without a stream is built.
    pub request_counter: std::cell::OnceCell<u64>,
    /// The client connection's socket (none for a QUIC stream): what `silent-drop`,
    /// `set-mark`, `set-tos` and the `fc_rtt` family act on.
    pub client_fd: Option<crate::sockopt::ClientFd>,
    /// `set-priority-class` and `set-priority-offset` (`prio_class`, `prio_offset`).
    pub priority: crate::conn_actions::Priority,
    /// `http-request disable-l7-retry`: a request that reached its server is never sent again.
    pub l7_retry_disabled: bool,
    /// The SPOE engines (bit `key % 64`) whose processing failed without `option
    /// continue-on-error`: they send nothing more for this stream.
    pub spoe_stopped: u64,
    /// SPOE frames of this stream answered so far (the next one's id is one more).
    pub spoe_frame_id: u32,
    /// What few transactions carry ([`TxnRare`]): made on the first write.
    pub rare: Option<Box<TxnRare>>,
}

impl Txn {
    /// The request, for a rule about to change its method or target: the line as the client
    /// sent it is kept first (once) for the log.
    pub fn request_line_to_rewrite(&mut self) -> Option<&mut RequestView> {
        let req = self.request.as_mut()?;
        let rare = self.rare.get_or_insert_with(Default::default);
        if rare.original_line.is_none() {
            rare.original_line = Some((req.method.clone(), req.uri.clone()));
        }
        Some(req)
    }

    /// The parts few transactions set, if any is ([`TxnRare`]).
    pub fn rare(&self) -> Option<&TxnRare> {
        self.rare.as_deref()
    }

    /// The parts few transactions set, made on the first call ([`TxnRare`]).
    pub fn rare_mut(&mut self) -> &mut TxnRare {
        self.rare.get_or_insert_with(Default::default)
    }

    /// The `tcp-request content` rules in progress are over: the next rule set's delay starts
    /// afresh (without making the rare parts for it).
    pub fn end_rules_delay(&mut self) {
        if let Some(rare) = self.rare.as_deref_mut() {
            rare.rules_exp = None;
        }
    }

    /// The request body read before the rules (`option http-buffer-request`, `wait-for-body`).
    pub fn request_body(&self) -> Option<&bytes::Bytes> {
        self.rare()?.request_body.as_ref()
    }

    /// The response body read before the rules (`http-response wait-for-body`).
    pub fn response_body(&self) -> Option<&bytes::Bytes> {
        self.rare()?.response_body.as_ref()
    }

    /// The method and target as the client sent them.
    pub fn logged_line(&self) -> Option<(&hyper::Method, &hyper::Uri)> {
        match self.rare().and_then(|r| r.original_line.as_ref()) {
            Some(line) => Some((&line.0, &line.1)),
            None => self.request.as_ref().map(|r| (&r.method, &r.uri)),
        }
    }

    /// Bytes received from the client so far (`%U`): the head, or TCP payload, and the body.
    pub fn received(&self) -> u64 {
        self.bytes_in
            + self
                .body_in
                .as_ref()
                .map_or(0, |b| b.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// HAProxy's request counter (`%rt`, the SPOE's stream id): the stream's number, or for a
    /// transaction that is no stream (a line logged from the session) one drawn now.
    pub fn request_counter(&self) -> u64 {
        *self.request_counter.get_or_init(next_stream_number)
    }

    /// Numbers the transaction as a new stream of the process (see [`next_stream_number`]);
    /// a number it already has stays.
    pub fn begin_stream(&self) {
        self.request_counter();
    }
    /// The client's address and port (`local`: the frontend's) as HAProxy prints them in logs:
    /// `unix` and the listener's id for a connection on a UNIX socket.
    pub fn shown_addr(&self, local: bool) -> (String, String) {
        match self.unix_listener {
            Some(id) => ("unix".to_string(), id.to_string()),
            None => {
                let a = if local { self.local } else { self.client };
                (a.ip().to_string(), a.port().to_string())
            }
        }
    }

    /// The client connection's own client address ([`Txn::conn_addrs`]).
    pub fn conn_client(&self) -> SocketAddr {
        self.conn_addrs.map_or(self.client, |(client, _)| client)
    }

    /// The client connection's own local address ([`Txn::conn_addrs`]).
    pub fn conn_local(&self) -> SocketAddr {
        self.conn_addrs.map_or(self.local, |(_, local)| local)
    }

    /// Fetches samples as at `places` (check point bits) from now on; answers the places
    /// to go back to afterwards.
    pub fn fetch_at(&self, places: u32) -> u32 {
        self.places.replace(places)
    }

    pub fn new(
        shared: Arc<Shared>,
        client: SocketAddr,
        local: SocketAddr,
        frontend: Arc<str>,
    ) -> Txn {
        let mut fresh = Fresh::now();
        fresh.var_share = shared.proc_vars.share();
        fresh.into_txn(shared, client, local, frontend)
    }

    /// [`Txn::new`] written straight into its box: what takes a call (the clock, the maps'
    /// hashers, the defaults) is made first, so that nothing between the allocation and the
    /// write can unwind and the transaction (over a kilobyte) needs no copy from the stack.
    pub fn boxed(
        shared: Arc<Shared>,
        client: SocketAddr,
        local: SocketAddr,
        frontend: Arc<str>,
    ) -> Box<Txn> {
        let mut fresh = Fresh::now();
        fresh.var_share = shared.proc_vars.share();
        crate::http::boxed_in_place(|| fresh.into_txn(shared, client, local, frontend))
    }

    /// The transaction a health check evaluates its expressions in (`check-sni`): no client,
    /// no request.
    pub fn for_checks(server: SocketAddr) -> Txn {
        static EMPTY: std::sync::OnceLock<Arc<Shared>> = std::sync::OnceLock::new();
        let shared = EMPTY.get_or_init(|| Arc::new(Shared::empty())).clone();
        let mut txn = Txn::new(shared, server, server, "".into());
        txn.var_context = crate::vars::VarContext::Check;
        txn
    }

    /// Usable servers of backend `name` (`nbsrv`).
    pub fn nbsrv(&self, name: &str) -> i64 {
        let name = if name.is_empty() {
            self.backend.as_deref().unwrap_or("")
        } else {
            name
        };
        self.shared.backend_by_name(name).map_or(0, |b| {
            b.servers.iter().filter(|s| s.is_usable()).count() as i64
        })
    }

    /// Milliseconds since the transaction started.
    pub fn elapsed_ms(&self) -> i64 {
        (crate::clock::now() - self.start).as_millis() as i64
    }
}

/// The next number of the process's stream count, as HAProxy numbers its streams (`%rt`):
/// every stream takes one as it starts, whatever its mode and
/// whether or not it logs the number (each HTTP request, each TCP stream, each Runtime API
/// connection), and so does each line logged without a stream. One count for all threads,
/// 32 bits wide as HAProxy's, so it wraps as HAProxy's does.
pub fn next_stream_number() -> u64 {
    u64::from(STREAMS.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// How many numbers [`next_stream_number`] has drawn (modulo 2^32): HAProxy's `CumReq`, which
/// reads the same count as `%rt`, so it takes in TCP streams and Runtime API connections too.
pub fn streams_started() -> u64 {
    u64::from(STREAMS.load(std::sync::atomic::Ordering::Relaxed))
}

static STREAMS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The parts of a new [`Txn`] that take a call to make.
struct Fresh {
    date: SystemTime,
    start: Instant,
    vars: HashMap<String, Value>,
    converter_vars: std::cell::RefCell<HashMap<String, Option<Value>>>,
    var_share: crate::var_limits::Share,
    stick: crate::tables::track::Trackers,
    rewrites: crate::http::room::Rewrites,
    filters: crate::http::filters::TxnFilters,
    persist: crate::http::persist::TxnCookie,
}

impl Fresh {
    fn now() -> Fresh {
        Fresh {
            date: crate::clock::date(),
            start: crate::clock::now(),
            vars: HashMap::new(),
            converter_vars: Default::default(),
            var_share: Default::default(),
            stick: Default::default(),
            rewrites: Default::default(),
            filters: Default::default(),
            persist: Default::default(),
        }
    }

    /// The transaction, from moves alone.
    #[inline(always)]
    fn into_txn(
        self,
        shared: Arc<Shared>,
        client: SocketAddr,
        local: SocketAddr,
        frontend: Arc<str>,
    ) -> Txn {
        Txn {
            shared,
            client,
            local,
            unix_listener: None,
            conn_addrs: None,
            listener: None,
            frontend,
            backend: None,
            server: None,
            request: None,
            response: None,
            vars: self.vars,
            converter_vars: self.converter_vars,
            var_share: self.var_share,
            var_context: crate::vars::VarContext::Stream,
            accept_date: self.date,
            request_date: self.date,
            start: self.start,
            timings: Timings::default(),
            status: None,
            bytes_out: 0,
            bytes_in: 0,
            body_in: None,
            live: None,
            profile: None,
            retries: 0,
            redispatched: false,
            term: *b"--",
            captured_request: Default::default(),
            captured_response: Default::default(),
            log_level: None,
            counted_on_backend: None,
            queue_pos: [0; 2],
            queue_wait: None,
            tls: None,
            backend_tls: None,
            conn_error: None,
            logged_early: false,
            logged_at_request: false,
            places: std::cell::Cell::new(u32::MAX),
            stick: self.stick,
            payload: None,
            payload_final: true,
            payload_closed: false,
            res_payload: None,
            res_payload_final: true,
            res_payload_closed: false,
            may_change: std::cell::Cell::new(false),
            proxy: None,
            expect_proxy: false,
            expect_netscaler: false,
            first_request: true,
            proxy_auth: false,
            raw_target: None,
            rewrites: self.rewrites,
            filters: self.filters,
            unique_id: std::cell::OnceCell::new(),
            timeout_server: None,
            timeout_tunnel: None,
            persist: self.persist,
            rule_proxy: Default::default(),
            backend_error: None,
            connect_timed_out: false,
            connect_failed_at_once: false,
            status_reason: None,
            request_unlogged: false,
            session_log: false,
            client_fd: None,
            priority: Default::default(),
            l7_retry_disabled: false,
            spoe_stopped: 0,
            spoe_frame_id: 0,
            server_addrs: None,
            server_http_major: None,
            request_counter: std::cell::OnceCell::new(),
            rare: None,
        }
    }
}

impl Drop for Txn {
    /// The stream's bytes count on what it tracks; its own trackers end with it.
    fn drop(&mut self) {
        self.stick.count_bytes(self.received(), self.bytes_out);
        if let Some(be) = self.counted_on_backend.take() {
            self.shared.backends[be]
                .active
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Txn {
    /// Counts the stream among backend `be`'s current streams (once; a stream moved to
    /// another backend moves its count), with the backend's peak.
    pub fn count_on_backend(&mut self, be: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        if self.counted_on_backend == Some(be) {
            return;
        }
        if let Some(before) = self.counted_on_backend.replace(be) {
            self.shared.backends[before].active.fetch_sub(1, Relaxed);
        }
        let backend = &self.shared.backends[be];
        let now = backend.active.fetch_add(1, Relaxed) + 1;
        backend.peak_active.see(now);
    }

    /// The frontend the stream came in on.
    pub fn frontend_rt(&self) -> Option<&crate::state::FrontendRt> {
        self.shared.frontend_by_name(&self.frontend)
    }

    /// Backend `be`'s current streams as a log line reads them (`%bc`): HAProxy lets go of
    /// the stream's own count before the line it writes at the stream's end, and not before
    /// one written early (`option logasap`).
    pub fn logged_on_backend(&self, be: &crate::state::BackendRt) -> u64 {
        let all = be.active.load(std::sync::atomic::Ordering::Relaxed);
        let own = self
            .counted_on_backend
            .is_some_and(|i| std::ptr::eq(&self.shared.backends[i], be));
        all.saturating_sub(u64::from(own && !self.logged_early))
    }
}
