//! The QUIC settings of one listener, from its `bind` options and the global `tune.quic.*`,
//! turned into quinn's configurations.

use super::steer::ThreadCids;
use hapee_compiler::plan::option_value;
use hapee_compiler::plan::quic::QuicTunes;
use quinn::crypto::rustls::QuicServerConfig;
use quinn::{EndpointConfig, IdleTimeout, ServerConfig, TransportConfig, VarInt};
use std::sync::Arc;
use std::time::Duration;

/// `quic-cc-algo`: HAProxy's two, and quinn's BBR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CongestionControl {
    Cubic,
    NewReno,
    Bbr,
}

/// What a QUIC `bind` line asks for beyond its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindQuic {
    /// `alpn` protocols, in order.
    pub alpn: Vec<Vec<u8>>,
    pub congestion: CongestionControl,
    /// `quic-force-retry`: every client proves its address first.
    pub force_retry: bool,
    /// `allow-0rtt`: requests are accepted in the client's early data.
    pub allow_0rtt: bool,
}

impl BindQuic {
    /// Reads the options of a `bind` line (the words after the address).
    pub fn from_options(options: &[String]) -> Result<BindQuic, String> {
        let has = |flag: &str| options.iter().any(|o| o == flag);
        let mut alpn: Vec<Vec<u8>> = option_value(options, "alpn")
            .map(|l| l.split(',').map(|p| p.as_bytes().to_vec()).collect())
            .unwrap_or_default();
        if alpn.is_empty() {
            // Without `alpn`, HAProxy's QUIC listeners still speak HTTP/3.
            alpn.push(b"h3".to_vec());
        }
        let congestion = match option_value(options, "quic-cc-algo") {
            None if !has("quic-cc-algo") => CongestionControl::Cubic,
            Some("cubic") => CongestionControl::Cubic,
            Some("newreno") => CongestionControl::NewReno,
            Some("bbr") => CongestionControl::Bbr,
            other => {
                return Err(format!(
                    "'quic-cc-algo' : unknown control congestion algorithm '{}'",
                    other.unwrap_or("")
                ))
            }
        };
        Ok(BindQuic {
            alpn,
            congestion,
            force_retry: has("quic-force-retry"),
            allow_0rtt: has("allow-0rtt"),
        })
    }
}

/// The transport limits: concurrent requests, idle timeout, congestion control, and the flow
/// control windows that bound what a client can make the proxy buffer (per stream, per
/// connection) and what the proxy buffers for sending (`conn-tx-buffers.limit` buffers).
pub fn transport(tunes: &QuicTunes, bind: &BindQuic, bufsize: u32) -> TransportConfig {
    let mut t = TransportConfig::default();
    let bufsize = u64::from(bufsize.max(8192));
    t.max_concurrent_bidi_streams(VarInt::from_u32(tunes.max_streams_bidi));
    // HTTP/3's control and QPACK streams, and room for a client's reserved (grease) streams.
    t.max_concurrent_uni_streams(VarInt::from_u32(8));
    let idle = Duration::from_millis(u64::from(tunes.max_idle_timeout_ms));
    t.max_idle_timeout(IdleTimeout::try_from(idle).ok());
    let stream_window = (bufsize * 16).min(1 << 20);
    t.stream_receive_window(VarInt::from_u64(stream_window).unwrap_or(VarInt::MAX));
    let connection_window =
        (stream_window * u64::from(tunes.max_streams_bidi.min(64))).clamp(stream_window, 16 << 20);
    t.receive_window(VarInt::from_u64(connection_window).unwrap_or(VarInt::MAX));
    t.send_window(bufsize * u64::from(tunes.conn_tx_buffers) * 16);
    let cc: Arc<dyn quinn::congestion::ControllerFactory + Send + Sync> = match bind.congestion {
        CongestionControl::Cubic => Arc::new(quinn::congestion::CubicConfig::default()),
        CongestionControl::NewReno => Arc::new(quinn::congestion::NewRenoConfig::default()),
        CongestionControl::Bbr => Arc::new(quinn::congestion::BbrConfig::default()),
    };
    t.congestion_controller_factory(cc);
    t
}

/// The keys of the Retry tokens and of the stateless resets: derived from `cluster-secret`
/// when there is one, so that every process of the cluster accepts them; random otherwise.
#[derive(Clone)]
pub struct Keys {
    token: Arc<aws_lc_rs::hkdf::Prk>,
    reset: Arc<aws_lc_rs::hmac::Key>,
}

impl Keys {
    pub fn new(cluster_secret: Option<&str>) -> Keys {
        use aws_lc_rs::{hkdf, hmac};
        let mut random = [0u8; 32];
        let secret: &[u8] = match cluster_secret {
            Some(s) => s.as_bytes(),
            None => {
                let _ = aws_lc_rs::rand::fill(&mut random);
                &random
            }
        };
        let token = hkdf::Salt::new(hkdf::HKDF_SHA256, b"hapee quic retry tokens").extract(secret);
        let reset_salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"hapee quic stateless reset");
        let mut reset_key = [0u8; 32];
        let filled = reset_salt
            .extract(secret)
            .expand(&[b"reset"], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut reset_key));
        if filled.is_err() {
            let _ = aws_lc_rs::rand::fill(&mut reset_key);
        }
        Keys {
            token: Arc::new(token),
            reset: Arc::new(hmac::Key::new(hmac::HMAC_SHA256, &reset_key)),
        }
    }

    /// The endpoint configuration of the socket at `index` in its reuseport group.
    pub fn endpoint(&self, index: u8) -> EndpointConfig {
        let mut c = EndpointConfig::new(self.reset.clone());
        c.cid_generator(move || Box::new(ThreadCids { index }));
        c
    }
}

/// A ticketer that issues no tickets: resumption goes through the session cache.
#[derive(Debug)]
struct NoTickets;

impl rustls::server::ProducesTickets for NoTickets {
    fn enabled(&self) -> bool {
        false
    }
    fn lifetime(&self) -> u32 {
        0
    }
    fn encrypt(&self, _plain: &[u8]) -> Option<Vec<u8>> {
        None
    }
    fn decrypt(&self, _cipher: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// The server configuration of a listener: its TLS configuration (TLS 1.3, ALPN of the bind
/// line, early data as `allow-0rtt` says) and its transport limits.
pub fn server(
    tls: &rustls::ServerConfig,
    bind: &BindQuic,
    transport: TransportConfig,
    keys: &Keys,
) -> Result<ServerConfig, String> {
    let mut tls = tls.clone();
    tls.alpn_protocols = bind.alpn.clone();
    // QUIC allows only "no early data" or "any amount" (RFC 9001 §4.6.1).
    tls.max_early_data_size = if bind.allow_0rtt { u32::MAX } else { 0 };
    if bind.allow_0rtt {
        // rustls grants early data only to sessions resumed from its server-side cache (a
        // stateless ticket could be replayed at will), so 0-RTT listeners resume that way.
        tls.ticketer = Arc::new(NoTickets);
    }
    let crypto = QuicServerConfig::try_from(Arc::new(tls))
        .map_err(|e| format!("the TLS configuration cannot serve QUIC ({e})"))?;
    let mut c = ServerConfig::new(Arc::new(crypto), keys.token.clone());
    c.transport_config(Arc::new(transport));
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn bind_options_are_read() {
        let b = BindQuic::from_options(&words(
            "ssl crt /a.pem alpn h3,h3-29 quic-cc-algo newreno quic-force-retry allow-0rtt",
        ))
        .unwrap();
        assert_eq!(b.alpn, vec![b"h3".to_vec(), b"h3-29".to_vec()]);
        assert_eq!(b.congestion, CongestionControl::NewReno);
        assert!(b.force_retry && b.allow_0rtt);
        let d = BindQuic::from_options(&words("ssl crt /a.pem")).unwrap();
        assert_eq!(d.alpn, vec![b"h3".to_vec()]);
        assert_eq!(d.congestion, CongestionControl::Cubic);
        assert!(BindQuic::from_options(&words("quic-cc-algo vegas")).is_err());
    }

    #[test]
    fn the_same_cluster_secret_gives_the_same_keys() {
        use quinn::crypto::HmacKey;
        let sign = |k: &Keys| {
            let mut sig = vec![0u8; k.reset.signature_len()];
            k.reset.sign(b"connection id", &mut sig);
            sig
        };
        let a = Keys::new(Some("s3cret"));
        let b = Keys::new(Some("s3cret"));
        let c = Keys::new(Some("other"));
        assert_eq!(sign(&a), sign(&b));
        assert_ne!(sign(&a), sign(&c));
        assert_ne!(sign(&Keys::new(None)), sign(&Keys::new(None)));
    }
}
