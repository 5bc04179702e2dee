//! TLS with rustls (aws-lc-rs): the certificate store and SNI selection (`store`), the
//! rustls configuration of a `bind … ssl` line (`config`), client certificate verification
//! with HAProxy's ignore lists (`verify`), certificate facts (`x509`), and what a finished
//! handshake tells the fetches (`TlsInfo`). The configs are plain `rustls::ServerConfig`s so
//! that QUIC listeners can use them too.

pub mod backend;
pub mod ckch;
pub mod client;
pub mod config;
pub mod crl;
pub mod errors;
pub mod fetch;
pub mod gencert;
pub mod hello;
pub mod issuers;
pub mod keys;
pub mod kx;
pub mod limits;
pub mod live;
pub mod store;
pub mod tap;
pub mod tickets;
pub mod v1cert;
pub mod verify;
pub mod x509;

use crate::http::EmbryonicError;
use hapee_compiler::registry::ciphers;
use rustls::crypto::CryptoProvider;
use rustls::ServerConnection;
use rustls_pki_types::CertificateDer;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tap::Tapped;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// Applies the process-wide TLS settings, before any TLS configuration is built: the
/// connection limits, key logging and the issuer chains (whose warnings are printed).
pub fn configure(t: &hapee_compiler::plan::tls_process::TlsProcess) -> Result<(), Vec<String>> {
    limits::configure(t);
    keys::MasterKeys::binds().keep_everything(t.keylog);
    if let Some(dir) = &t.issuers_chain_path {
        for warning in issuers::load(dir).map_err(|e| vec![e])? {
            eprintln!("[WARNING]  ({}) : {warning}", std::process::id());
        }
    }
    Ok(())
}

/// The one crypto provider: aws-lc-rs.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

/// What a client connection's handshake settled, as the `ssl_fc_*`/`ssl_c_*`/`ssl_s_*`
/// fetches and the `%sslv`/`%sslc` log fields give it.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub sni: Option<String>,
    /// `TLSv1.3`, as OpenSSL names versions.
    pub version: &'static str,
    /// The suite under its OpenSSL name (`TLS_AES_256_GCM_SHA384`, `ECDHE-RSA-AES128-GCM-SHA256`).
    pub cipher: &'static str,
    /// The suite's symmetric key size in bits.
    pub cipher_bits: i64,
    pub alpn: Option<String>,
    pub resumed: bool,
    /// The client's certificate chain, its own first (empty: none sent).
    pub client_chain: Vec<CertificateDer<'static>>,
    pub verify: verify::VerifyOutcome,
    /// The certificate the proxy presented (on a server connection, the server's own).
    pub server_cert: Option<CertificateDer<'static>>,
    /// On a server connection, every certificate the server sent, its own first
    /// (`ssl_s_chain_der`).
    pub server_chain: Vec<CertificateDer<'static>>,
    /// What `tune.ssl.capture-buffer-size` kept of the ClientHello (`None`: no capture).
    pub hello: Option<hello::CapturedHello>,
    /// The session's ID as OpenSSL gives it (`ssl_fc_session_id`, `ssl_bc_session_id`);
    /// empty when there is none.
    pub session_id: bytes::Bytes,
    /// The TLS 1.2 master secret (`ssl_fc_session_key`, `ssl_bc_session_key`); empty in
    /// TLS 1.3, where rustls keeps the secret OpenSSL gives (a resumption key) to itself.
    pub session_key: bytes::Bytes,
    /// The hellos' randoms (`ssl_fc_client_random`, `ssl_fc_server_random`, `ssl_bc_*`).
    pub randoms: Option<Randoms>,
    /// With `tune.ssl.keylog on`, a client connection's secrets (`ssl_fc_*_secret`).
    pub keylog: Option<Arc<keys::Secrets>>,
}

/// The ClientHello's and the ServerHello's randoms, as the clear handshake carried them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Randoms {
    pub client: Option<[u8; 32]>,
    pub server: Option<[u8; 32]>,
}

impl Randoms {
    pub(crate) fn of(seen: Option<&tap::Seen>) -> Option<Randoms> {
        seen.map(|s| Randoms {
            client: s.client_random,
            server: s.server_random,
        })
    }
}

/// OpenSSL's name of a suite rustls negotiated, and its key size.
fn openssl_suite(suite: rustls::SupportedCipherSuite) -> (&'static str, i64) {
    let iana = suite.suite().as_str().unwrap_or("");
    let bits = if iana.contains("128") { 128 } else { 256 };
    let name = ciphers::TLS13_SUITES
        .iter()
        .find(|s| s.1 == iana)
        .map(|s| s.0)
        .or_else(|| {
            ciphers::TLS12_SUITES
                .iter()
                .find(|s| s.1 == iana)
                .map(|s| s.0)
        })
        .unwrap_or(iana);
    (name, bits)
}

fn version_name(v: Option<rustls::ProtocolVersion>) -> &'static str {
    match v {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "",
    }
}

impl TlsInfo {
    /// What every finished handshake settles, client side or server side: version, suite,
    /// ALPN and whether the session was resumed.
    fn negotiated(conn: &rustls::CommonState) -> TlsInfo {
        let (cipher, cipher_bits) = conn
            .negotiated_cipher_suite()
            .map_or(("", 0), openssl_suite);
        TlsInfo {
            version: version_name(conn.protocol_version()),
            cipher,
            cipher_bits,
            alpn: conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            resumed: conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            ..TlsInfo::default()
        }
    }

    /// What a finished handshake settled; `side` is the settings it ran with, `sigs` the
    /// client's signature schemes when they were read.
    fn of(
        stream: &mut TlsStream<Tapped>,
        tls: &config::BindTlsConfig,
        side: &config::Side,
        sigs: Option<&[rustls::SignatureScheme]>,
    ) -> TlsInfo {
        let (tcp, conn) = stream.get_mut();
        let session_key = tls12_master_key(tcp, conn);
        let keylog = keys::MasterKeys::binds()
            .keeps_everything()
            .then(|| Arc::new(tcp.secrets().clone()));
        let mut seen = tcp.seen();
        let randoms = Randoms::of(Some(&seen));
        let hello = seen
            .client_hello
            .take()
            .and_then(|m| hello::CapturedHello::parse(&m, tls.capture_size));
        let conn: &ServerConnection = conn;
        let client_chain: Vec<CertificateDer<'static>> = conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default();
        let mut verify = match &side.verifier {
            Some(v) if !client_chain.is_empty() => v.outcome(&client_chain),
            _ => verify::VerifyOutcome::default(),
        };
        let mut client_chain = client_chain;
        if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
            // OpenSSL's stored session keeps the client's own certificate and the chain's
            // result (`ssl_c_verify`), not the certificates above it (`ssl_c_chain_der`) nor
            // the errors met on the way (`ssl_c_err`, `ssl_c_ca_err`), which only a full
            // handshake's verification sets.
            client_chain.truncate(1);
            verify = verify::VerifyOutcome {
                verify: verify.verify,
                ..Default::default()
            };
        }
        let sni = conn.server_name().map(str::to_string);
        TlsInfo {
            server_cert: tls
                .store
                .served(sni.as_deref(), sigs)
                .and_then(|k| k.cert.first().cloned()),
            sni,
            client_chain,
            verify,
            hello,
            session_id: server_session_id(conn, &side.config, seen),
            session_key,
            randoms,
            keylog,
            ..TlsInfo::negotiated(conn)
        }
    }
}

impl TlsInfo {
    /// `ssl_fc_session_id`/`ssl_bc_session_id`: no sample when the session has no ID.
    fn session_id_sample(&self) -> Option<crate::sample::Value> {
        (!self.session_id.is_empty()).then(|| crate::sample::Value::Bin(self.session_id.clone()))
    }

    /// `ssl_fc_client_random`, `ssl_fc_server_random` and their `ssl_bc_` twins: the hello's
    /// 32 random bytes.
    fn random_sample(&self, client: bool) -> Option<crate::sample::Value> {
        let r = self.randoms?;
        let bytes = if client { r.client } else { r.server }?;
        Some(crate::sample::Value::Bin(bytes::Bytes::copy_from_slice(
            &bytes,
        )))
    }

    /// `ssl_fc_client_traffic_secret_0` and the other key log fetches: the secret logged
    /// under the fetch's name in capitals, in lower-case hex as in an SSLKEYLOGFILE; no
    /// sample without `tune.ssl.keylog on` or when the session had no such secret.
    fn keylog_sample(&self, fetch: &str) -> Option<crate::sample::Value> {
        let label = fetch.strip_prefix("ssl_fc_")?.to_ascii_uppercase();
        let secret = self.keylog.as_ref()?.get(&label)?;
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        Some(crate::sample::Value::Str(hex))
    }

    /// `ssl_fc_session_key`/`ssl_bc_session_key`: no sample without a master secret.
    fn session_key_sample(&self) -> Option<crate::sample::Value> {
        (!self.session_key.is_empty()).then(|| crate::sample::Value::Bin(self.session_key.clone()))
    }
}

/// A TLS 1.2 session's master secret, from the key log (TLS 1.3 logs none).
pub(crate) fn tls12_master_key(tcp: &Tapped, conn: &rustls::CommonState) -> bytes::Bytes {
    if conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2) {
        tcp.secrets().master()
    } else {
        bytes::Bytes::new()
    }
}

/// A bind's session ID as OpenSSL has it. In TLS 1.2, the one of the ServerHello (none when
/// the session cannot be cached), except that a new session given a ticket has none (OpenSSL
/// sends an empty ID then; rustls sends one anyway). In TLS 1.3, where the ServerHello only
/// echoes the client's compatibility ID, OpenSSL makes a random one with each ticket it
/// sends, and so does this, when a ticket goes out.
fn server_session_id(
    conn: &ServerConnection,
    config: &rustls::ServerConfig,
    seen: tap::Seen,
) -> bytes::Bytes {
    if conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        if !resumed && !seen.ticket.is_empty() {
            return bytes::Bytes::new();
        }
        return seen.session_id.into();
    }
    let tickets = config.send_tls13_tickets > 0
        && (config.ticketer.enabled() || config.session_storage.can_cache());
    let mut id = [0u8; 32];
    if !tickets || aws_lc_rs::rand::fill(&mut id).is_err() {
        return bytes::Bytes::new();
    }
    bytes::Bytes::copy_from_slice(&id)
}

/// A client's TLS session once its handshake is over, whose reads give first what came in
/// early data.
pub type ServerTls = crate::client_stream::Replay<TlsStream<Tapped>>;

/// What the client sent in TLS 1.3 early data (`allow-0rtt` on a resumed session). rustls
/// keeps it apart from the data that follows the handshake, and tokio-rustls never reads it:
/// it is taken here, to be read before the rest. The handshake is over by then, so the
/// requests it carries are served as HAProxy serves those it reads after the handshake: with
/// no `Early-Data` header, and `ssl_fc_has_early` false.
fn with_early_data(mut stream: TlsStream<Tapped>) -> ServerTls {
    let mut early = Vec::new();
    if let Some(mut data) = stream.get_mut().1.early_data() {
        // Reading a memory buffer cannot fail.
        let _ = std::io::Read::read_to_end(&mut data, &mut early);
    }
    crate::client_stream::Replay::new(early.into(), stream)
}

/// Runs a client's handshake, within `limit`; a failure says why, in HAProxy's terms.
pub async fn accept(
    tls: &config::BindTlsConfig,
    stream: TcpStream,
    limit: Duration,
) -> Result<(ServerTls, TlsInfo), EmbryonicError> {
    // The first bytes tell a plain-text HTTP client from other garbage when the handshake
    // fails (OpenSSL's "http request"); peeking costs no wait the handshake would not make.
    // Eleven bytes reach the ClientHello's version (`hello::below_tls12`).
    let mut first = [0u8; 11];
    let seen = tokio::time::timeout(limit, stream.peek(&mut first))
        .await
        .map_err(|_| EmbryonicError::TlsTimeout)?
        .unwrap_or(0);
    let first = &first[..seen];
    let counted = limits::open_one().ok_or(EmbryonicError::TlsTooMany)?;
    let stream = Tapped::server(stream)
        .keeping_hello(tls.capture_size > 0)
        .counted(counted);
    if tls.capture_size == 0 && !tls.needs_hello {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
        let mut stream = tokio::time::timeout(limit, acceptor.accept(stream))
            .await
            .map_err(|_| EmbryonicError::TlsTimeout)?
            .map_err(|e| handshake_error(&e, first))?;
        let side = tls.side_for(None, None);
        let info = TlsInfo::of(&mut stream, tls, &side, None);
        return Ok((with_early_data(stream), info));
    }
    // The ClientHello is read first: its name and signature schemes choose the settings
    // (a `crt-list` line's own), and a capture keeps its cipher list.
    let handshake = async {
        let start =
            tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream)
                .await
                .map_err(|e| handshake_error(&e, first))?;
        let hello = start.client_hello();
        let sigs = store::usable_sigs(&hello);
        let side = tls
            .side_for(hello.server_name(), Some(&sigs))
            .for_alpn(hello.alpn());
        let stream = start
            .into_stream(side.config.clone())
            .await
            .map_err(|e| handshake_error(&e, first))?;
        Ok((stream, side, sigs))
    };
    let (mut stream, side, sigs) = tokio::time::timeout(limit, handshake)
        .await
        .map_err(|_| EmbryonicError::TlsTimeout)??;
    let info = TlsInfo::of(&mut stream, tls, &side, Some(&sigs));
    Ok((with_early_data(stream), info))
}

/// What a failed handshake's error means: rustls reports protocol failures as invalid data,
/// the end of the client's stream as an unexpected EOF, and the rest are socket errors.
/// `first` holds the client's first bytes.
fn handshake_error(e: &std::io::Error, first: &[u8]) -> EmbryonicError {
    match e.kind() {
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
            let reason = errors::SslReason::of_io(e).map(|r| r.refine(first));
            let refused_cert = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
            match verify::take_refusal().filter(|_| refused_cert) {
                Some(ca) => EmbryonicError::TlsCertRefused { ca, reason },
                None => EmbryonicError::TlsFailure(reason),
            }
        }
        std::io::ErrorKind::UnexpectedEof => EmbryonicError::TlsClosed,
        _ => EmbryonicError::TlsAborted,
    }
}

/// Hands rustls' pending records to the socket without waiting.
struct WriteNow<'a>(&'a TcpStream);

impl std::io::Write for WriteNow<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl crate::http::idle::ClientStream for TlsStream<Tapped> {
    fn write_now(&mut self, data: &[u8]) -> std::io::Result<usize> {
        use std::io::Write;
        let (tcp, conn) = self.get_mut();
        conn.writer().write_all(data)?;
        while conn.wants_write() {
            if conn.write_tls(&mut WriteNow(tcp))? == 0 {
                break;
            }
        }
        Ok(data.len())
    }

    fn poll_read_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let (tcp, conn) = self.get_ref();
        // rustls may hold decrypted bytes (or the peer's close) that no socket event will
        // announce again.
        if !conn.wants_read() {
            return std::task::Poll::Ready(Ok(()));
        }
        tcp.poll_read_ready(cx)
    }
}
