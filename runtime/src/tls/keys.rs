//! The secrets rustls logs for a session: TLS 1.2 master secrets for `ssl_fc_session_key`
//! and `ssl_bc_session_key`, and with `tune.ssl.keylog on` the TLS 1.3 secrets of client
//! connections for the `ssl_fc_*_secret` fetches. rustls hands them only to a
//! [`rustls::KeyLog`], on the configuration shared by all its connections, under the
//! connection's client random; the connection reads its own ClientHello random off the wire
//! (`tap`) and takes its secrets from here once the handshake is over.
//!
//! A table is bounded: the secrets of a connection that never takes them (a handshake that
//! failed after the key exchange) are dropped once [`CAPACITY`] newer ones came in, so no
//! secret stays in memory for long.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// How many sessions' secrets may wait for their connection at once.
pub const CAPACITY: usize = 4096;

/// The labels of an SSLKEYLOGFILE line that rustls logs, the TLS 1.2 one first.
pub const LABELS: [&str; 8] = [
    "CLIENT_RANDOM",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
    "EARLY_EXPORTER_SECRET",
];

/// One session's secrets, by label (an index in [`LABELS`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Secrets {
    by_label: [Option<Box<[u8]>>; LABELS.len()],
}

impl Secrets {
    /// The secret logged under `label`, if any.
    pub fn get(&self, label: &str) -> Option<&[u8]> {
        let i = LABELS.iter().position(|l| *l == label)?;
        self.by_label[i].as_deref()
    }

    /// The TLS 1.2 master secret (empty: none).
    pub fn master(&self) -> bytes::Bytes {
        self.get("CLIENT_RANDOM")
            .map(bytes::Bytes::copy_from_slice)
            .unwrap_or_default()
    }
}

/// The secrets logged and not yet taken, by client random.
#[derive(Debug, Default)]
pub struct MasterKeys {
    inner: Mutex<Waiting>,
    /// Whether every label is kept (`tune.ssl.keylog on`), not only TLS 1.2's master secret.
    everything: AtomicBool,
}

#[derive(Debug, Default)]
struct Waiting {
    by_random: HashMap<[u8; 32], Secrets>,
    /// Arrival order, oldest first, for the bound (an entry already taken is skipped).
    order: VecDeque<[u8; 32]>,
}

impl MasterKeys {
    /// The table of connections to servers, logged into by every client configuration: only
    /// their TLS 1.2 master secrets are kept.
    pub fn shared() -> Arc<MasterKeys> {
        static KEYS: OnceLock<Arc<MasterKeys>> = OnceLock::new();
        KEYS.get_or_init(Arc::default).clone()
    }

    /// The table of client connections, logged into by every bind configuration.
    pub fn binds() -> Arc<MasterKeys> {
        static KEYS: OnceLock<Arc<MasterKeys>> = OnceLock::new();
        KEYS.get_or_init(Arc::default).clone()
    }

    /// `tune.ssl.keylog on`: client connections keep all their secrets.
    pub fn keep_everything(&self, on: bool) {
        self.everything.store(on, Ordering::Relaxed);
    }

    pub fn keeps_everything(&self) -> bool {
        self.everything.load(Ordering::Relaxed)
    }

    /// The secrets of the session whose ClientHello had `client_random`, removed from the
    /// table (`None`: none logged, or dropped by the bound).
    pub fn take(&self, client_random: &[u8; 32]) -> Option<Secrets> {
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        w.by_random.remove(client_random)
    }

    fn put(&self, client_random: [u8; 32], label: usize, secret: &[u8]) {
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = w.by_random.get_mut(&client_random) {
            known.by_label[label] = Some(secret.into());
            return;
        }
        while w.order.len() >= CAPACITY {
            if let Some(old) = w.order.pop_front() {
                w.by_random.remove(&old);
            }
        }
        w.order.push_back(client_random);
        let mut secrets = Secrets::default();
        secrets.by_label[label] = Some(secret.into());
        w.by_random.insert(client_random, secrets);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().by_random.len()
    }
}

impl rustls::KeyLog for MasterKeys {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let Some(i) = LABELS.iter().position(|l| *l == label) else {
            return;
        };
        if !self.will_log(label) {
            return;
        }
        if let Ok(random) = <[u8; 32]>::try_from(client_random) {
            self.put(random, i, secret);
        }
    }

    /// TLS 1.2's master secret always; the others with `tune.ssl.keylog on` only.
    fn will_log(&self, label: &str) -> bool {
        label == "CLIENT_RANDOM" || self.keeps_everything()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::KeyLog;

    #[test]
    fn a_secret_is_taken_once_and_the_table_stays_bounded() {
        let keys = MasterKeys::default();
        keys.log("CLIENT_RANDOM", &[1; 32], b"secret");
        keys.log("CLIENT_TRAFFIC_SECRET_0", &[2; 32], b"other");
        keys.log("CLIENT_RANDOM", &[3; 5], b"bad random");
        assert_eq!(
            keys.take(&[1; 32]).map(|s| s.master()),
            Some("secret".into())
        );
        assert_eq!(keys.take(&[1; 32]), None);
        assert_eq!(keys.take(&[2; 32]), None);
        for i in 0..CAPACITY + 10 {
            let mut random = [0u8; 32];
            random[..8].copy_from_slice(&(i as u64).to_be_bytes());
            keys.log("CLIENT_RANDOM", &random, b"k");
        }
        assert_eq!(keys.len(), CAPACITY);
        // The oldest went first.
        assert_eq!(keys.take(&[0; 32]), None);
    }

    #[test]
    fn keylog_keeps_every_label_of_a_session_together() {
        let keys = MasterKeys::default();
        keys.keep_everything(true);
        keys.log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &[4; 32], b"chts");
        keys.log("SERVER_TRAFFIC_SECRET_0", &[4; 32], b"sts0");
        keys.log("NOT_A_LABEL", &[4; 32], b"x");
        let s = keys.take(&[4; 32]).unwrap();
        assert_eq!(s.get("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), Some(&b"chts"[..]));
        assert_eq!(s.get("SERVER_TRAFFIC_SECRET_0"), Some(&b"sts0"[..]));
        assert_eq!(s.get("EXPORTER_SECRET"), None);
        assert!(s.master().is_empty());
    }
}
