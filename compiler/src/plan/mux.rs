//! How a server's connections are multiplexed and kept: the protocol forced by `proto`, the
//! limits of stream reuse (`max-reuse`), the idle pool's limits (`pool-max-conn`,
//! `pool-low-conn`), what its health checks speak (`check-proto`, `check-alpn`) and what its
//! WebSocket streams speak (`ws`), lowered from the server's words after its `default-server`
//! ones.

use serde::Serialize;

/// The multiplexing side of one server line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerMux {
    /// `proto h2`: HTTP/2 with prior knowledge, whatever ALPN says (clear or TLS).
    pub h2: bool,
    /// `proto fcgi`: FastCGI, to the application its backend's `use-fcgi-app` names.
    pub fcgi: bool,
    /// `max-reuse N`: how many requests one connection carries at most (`None`: unbounded).
    pub max_reuse: Option<u64>,
    /// The HTTP health checks speak HTTP/2: `check-proto h2`, or the server's own `proto h2`
    /// when the checks have no `check-proto` of their own (as in HAProxy).
    pub check_h2: bool,
    /// `check-alpn`: the protocols the checks offer over TLS.
    pub check_alpn: Vec<String>,
    /// `pool-max-conn N`: how many idle connections to the server are kept at most, over
    /// all threads (`None`: no limit, HAProxy's -1; 0: none are kept).
    pub pool_max_conn: Option<u32>,
    /// `pool-low-conn N`: while the server has fewer idle connections than this, over all
    /// threads, a thread does not take one from another thread's pool.
    pub pool_low_conn: u32,
    /// `pool-purge-delay`: how often the server's idle connections are purged, in
    /// milliseconds (`None`: HAProxy's 5 s).
    pub pool_purge_delay: Option<u32>,
    /// `ws auto|h1|h2`: the protocol of WebSocket streams to the server.
    pub ws: WsMode,
}

/// The protocol WebSocket streams take towards a server (`ws`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WsMode {
    /// The server's own protocol; over TLS with ALPN, `http/1.1` when the ALPN list has it.
    #[default]
    Auto,
    /// HTTP/1.1 (`Upgrade`), and ALPN `http/1.1` only over TLS.
    H1,
    /// HTTP/2 extended CONNECT (RFC 8441), and ALPN `h2` only over TLS.
    H2,
}

impl ServerMux {
    /// Lowers the words of a server line (its `default-server` words first: the last wins).
    pub fn of(words: &[&str]) -> ServerMux {
        let mut mux = ServerMux::default();
        let mut check_proto = None;
        let mut i = 0;
        while i < words.len() {
            let value = words.get(i + 1).copied().unwrap_or("");
            match words[i] {
                "proto" => {
                    mux.h2 = value == "h2";
                    mux.fcgi = value == "fcgi";
                }
                "check-proto" => check_proto = Some(value == "h2"),
                "check-alpn" => mux.check_alpn = value.split(',').map(String::from).collect(),
                "pool-max-conn" => {
                    mux.pool_max_conn = value
                        .parse::<i64>()
                        .ok()
                        .and_then(|n| u32::try_from(n).ok())
                }
                "pool-low-conn" => mux.pool_low_conn = value.parse().unwrap_or(0),
                "pool-purge-delay" => {
                    mux.pool_purge_delay =
                        crate::ir::values::parse_time(value, crate::ir::values::TimeUnit::Ms)
                            .ok()
                            .map(|d| d.value)
                }
                "ws" => {
                    mux.ws = match value {
                        "h1" => WsMode::H1,
                        "h2" => WsMode::H2,
                        _ => WsMode::Auto,
                    }
                }
                // HAProxy: a negative value means no limit, 0 no reuse at all.
                "max-reuse" => {
                    mux.max_reuse = value
                        .parse::<i64>()
                        .ok()
                        .and_then(|n| u64::try_from(n).ok())
                }
                _ => {
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        mux.check_h2 = check_proto.unwrap_or(mux.h2);
        mux
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_words_set_the_protocol_and_limits() {
        let m = ServerMux::of(&["proto", "h1", "ssl", "proto", "h2", "max-reuse", "10"]);
        assert!(m.h2 && m.check_h2 && !m.fcgi);
        assert_eq!(m.max_reuse, Some(10));
        let m = ServerMux::of(&["proto", "fcgi"]);
        assert!(m.fcgi && !m.h2);
        assert!(!ServerMux::of(&["proto", "h2", "check-proto", "h1"]).check_h2);
        let m = ServerMux::of(&[
            "check-proto",
            "h2",
            "check-alpn",
            "h2,http/1.1",
            "max-reuse",
            "-1",
        ]);
        assert!(!m.h2 && m.check_h2);
        assert_eq!(m.check_alpn, ["h2", "http/1.1"]);
        assert_eq!(m.max_reuse, None);
        assert_eq!(m.ws, WsMode::Auto);
        assert_eq!(ServerMux::of(&["ws", "h1", "ws", "h2"]).ws, WsMode::H2);
        assert_eq!(ServerMux::of(&["ws", "h2", "ws", "auto"]).ws, WsMode::Auto);
    }

    #[test]
    fn pool_limits_take_the_last_word_and_minus_one_is_unlimited() {
        let m = ServerMux::of(&[
            "pool-max-conn",
            "5",
            "pool-low-conn",
            "2",
            "pool-max-conn",
            "1",
        ]);
        assert_eq!((m.pool_max_conn, m.pool_low_conn), (Some(1), 2));
        let m = ServerMux::of(&["pool-purge-delay", "1500ms"]);
        assert_eq!(m.pool_purge_delay, Some(1500));
        assert_eq!(ServerMux::of(&["pool-max-conn", "-1"]).pool_max_conn, None);
        assert_eq!(
            ServerMux::of(&["pool-max-conn", "0"]).pool_max_conn,
            Some(0)
        );
    }
}
